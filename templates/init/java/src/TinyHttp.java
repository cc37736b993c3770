// TinyHttp: a small HTTP/1.1 server that keeps header names exactly as they are, on the
// request and on the reply. The JDK's com.sun.net.httpserver cannot send a lower-case header
// name (its Headers re-case ww-secret-ver to Ww-secret-ver), and the emulator, like WeCom's SDK,
// refuses re-cased ww-* names.
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

final class TinyHttp {
    /** One request: the method, the headers as received (name, value), the body. */
    static final class Request {
        String method;
        final List<String[]> headers = new ArrayList<>();
        byte[] body = new byte[0];
    }

    /** One reply: status, headers written exactly as given, body. */
    static final class Response {
        int status = 200;
        final List<String[]> headers = new ArrayList<>();
        byte[] body = new byte[0];

        Response(int status) { this.status = status; }
    }

    interface Handler {
        Response handle(Request r);
    }

    static final int MAX_LINE = 16 << 10;
    static final int MAX_HEADERS = 200;
    static final int IDLE_MS = 30000;

    private final ServerSocket server;
    private final Handler handler;
    private final int maxBody;
    private final Semaphore slots;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "http");
        t.setDaemon(true);
        return t;
    });

    /** Listens on host:port at once; serve() then accepts. At most maxConnections at a time. */
    TinyHttp(String host, int port, int maxConnections, int maxBody, Handler handler) throws IOException {
        this.server = new ServerSocket();
        this.server.setReuseAddress(true);
        this.server.bind(new InetSocketAddress(host, port), 128);
        this.handler = handler;
        this.maxBody = maxBody;
        this.slots = new Semaphore(maxConnections);
    }

    /** Accepts connections for ever, each served by its own thread. */
    void serve() throws IOException {
        for (;;) {
            slots.acquireUninterruptibly();
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                slots.release();
                throw e;
            }
            pool.execute(() -> {
                try (Socket c = s) {
                    connection(c);
                } catch (IOException e) {
                    /* the peer went away */
                } finally {
                    slots.release();
                }
            });
        }
    }

    private void connection(Socket s) throws IOException {
        s.setSoTimeout(IDLE_MS);
        s.setTcpNoDelay(true);
        InputStream in = new BufferedInputStream(s.getInputStream());
        OutputStream out = new BufferedOutputStream(s.getOutputStream());
        for (;;) {
            String line;
            try {
                line = readLine(in);
            } catch (SocketTimeoutException e) {
                return; /* idle keep-alive connection */
            }
            if (line == null)
                return;
            if (line.isEmpty())
                continue; /* tolerated before a request line */
            String[] rl = line.split(" ");
            if (rl.length != 3 || !rl[2].startsWith("HTTP/1.")) {
                write(out, new Response(400), false);
                return;
            }
            Request r = new Request();
            r.method = rl[0];
            boolean http10 = rl[2].equals("HTTP/1.0");
            long length = 0;
            boolean close = http10, expect = false;
            for (;;) {
                String h = readLine(in);
                if (h == null)
                    return;
                if (h.isEmpty())
                    break;
                int colon = h.indexOf(':');
                if (colon <= 0 || r.headers.size() >= MAX_HEADERS) {
                    write(out, new Response(400), false);
                    return;
                }
                String name = h.substring(0, colon), value = h.substring(colon + 1).trim();
                r.headers.add(new String[] {name, value});
                String lower = name.toLowerCase(Locale.ROOT);
                if (lower.equals("content-length")) {
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        length = -1;
                    }
                } else if (lower.equals("transfer-encoding")) {
                    write(out, new Response(411), false); /* a length is required */
                    return;
                } else if (lower.equals("connection")) {
                    String v = value.toLowerCase(Locale.ROOT);
                    close = v.contains("close") || (http10 && !v.contains("keep-alive"));
                } else if (lower.equals("expect") && value.equalsIgnoreCase("100-continue")) {
                    expect = true;
                }
            }
            if (length < 0 || length > maxBody) {
                write(out, new Response(length < 0 ? 400 : 413), false);
                return;
            }
            if (expect) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
            r.body = in.readNBytes((int) length);
            if (r.body.length != length)
                return;
            Response rsp;
            try {
                rsp = handler.handle(r);
            } catch (RuntimeException e) {
                rsp = new Response(500);
            }
            write(out, rsp, !close);
            if (close)
                return;
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] l = b.toByteArray();
                int n = l.length > 0 && l[l.length - 1] == '\r' ? l.length - 1 : l.length;
                return new String(l, 0, n, StandardCharsets.ISO_8859_1);
            }
            if (b.size() >= MAX_LINE)
                throw new IOException("line too long");
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    private static String reason(int status) {
        switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 405: return "Method Not Allowed";
        case 411: return "Length Required";
        case 413: return "Payload Too Large";
        default: return "Internal Server Error";
        }
    }

    private static void write(OutputStream out, Response r, boolean keepAlive) throws IOException {
        StringBuilder h = new StringBuilder();
        h.append("HTTP/1.1 ").append(r.status).append(' ').append(reason(r.status)).append("\r\n");
        for (String[] kv : r.headers) {
            if (kv[0].indexOf('\r') >= 0 || kv[0].indexOf('\n') >= 0 || kv[1].indexOf('\r') >= 0
                || kv[1].indexOf('\n') >= 0)
                continue;
            h.append(kv[0]).append(": ").append(kv[1]).append("\r\n");
        }
        h.append("Content-Length: ").append(r.body.length).append("\r\n");
        h.append("Connection: ").append(keepAlive ? "keep-alive" : "close").append("\r\n\r\n");
        out.write(h.toString().getBytes(StandardCharsets.UTF_8));
        out.write(r.body);
        out.flush();
    }
}
