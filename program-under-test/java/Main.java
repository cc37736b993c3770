// Main: a zone program written the way WeCom's Java demo is (com.tencent.wework's SpecSDK,
// SpecCallbackSDK, SpecUtil; invoke_<api> and get_callback_data), on a small HTTP server
// (TinyHttp) that can send lower-case header names, which the JDK's cannot.
import com.tencent.wework.SpecCallbackSDK;
import com.tencent.wework.SpecSDK;
import com.tencent.wework.SpecUtil;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * What it does, as zone-demo does where the Java demo's convention allows:
 * <ul>
 * <li>POST only (405 otherwise); headers starting with "Ww-" are lower-cased on the request and
 * on the reply (the JDK server re-cases ww-secret-ver to Ww-secret-ver); every reply is HTTP 200
 * with the SDK's headers and body, the exception reply when the request did not verify;
 * <li>an event (call_type 2) is stored under a notify id from SpecUtil.GenerateNotifyId() as a
 * file in the data folder (replicas may share it), then the app is told with spec_notify_app;
 * <li>app calls: invoke_&lt;api&gt; invokes that SDK API with request_data and answers its reply
 * verbatim; get_callback_data answers the event stored under the call's notify_id verbatim;
 * also zone-demo's new_messages_digest, echo_input and open_debug_mode;
 * <li>an async call (is_async) is answered "{}" at once, run on a worker, and reported with
 * program_async_job_call_back and the call's job_info.
 * </ul>
 */
public final class Main {
    static final long SAMPLE_ERROR = 710660; /* the official samples' own failure code */
    static final Pattern NOTIFY_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    static final int MAX_BODY = 64 << 20;

    final Path events;
    final Path cursors;
    final Path tokenDir;
    final long retentionS;
    final int notifyScene;
    final ThreadPoolExecutor async;
    /* the newest conversation_new_message token per corp/app: {token, epoch s} */
    final Map<String, String[]> tokens = new ConcurrentHashMap<>();

    Main(Path dataDir, long retentionS, int notifyScene, int asyncWorkers) throws IOException {
        this.events = dataDir.resolve("java-events");
        this.cursors = dataDir.resolve("java-cursors");
        this.tokenDir = dataDir.resolve("java-tokens");
        Files.createDirectories(events);
        Files.createDirectories(cursors);
        Files.createDirectories(tokenDir);
        this.retentionS = retentionS;
        this.notifyScene = notifyScene;
        this.async = new ThreadPoolExecutor(asyncWorkers, asyncWorkers, 0, TimeUnit.SECONDS,
                                            new ArrayBlockingQueue<>(256));
    }

    /** One verified request's fields, kept after the request for async work. */
    static final class Call {
        String corpId, abilityId, notifyId, jobInfo, data;
        long agentId;

        Call(SpecCallbackSDK cb) {
            corpId = cb.GetCorpId();
            agentId = cb.GetAgentId();
            abilityId = cb.GetAbilityId();
            notifyId = cb.GetNotifyId();
            jobInfo = cb.GetJobInfo();
            data = cb.GetData();
        }
    }

    // ---- HTTP ---------------------------------------------------------------------------------

    TinyHttp.Response handle(TinyHttp.Request r) {
        if (!"POST".equals(r.method))
            return new TinyHttp.Response(405);
        Map<String, String> headers = new HashMap<>();
        for (String[] h : r.headers) {
            String name = h[0];
            if (name.startsWith("Ww-")) /* the demo's repair of a re-casing server */
                name = name.toLowerCase(Locale.ROOT);
            headers.putIfAbsent(name, h[1]);
        }
        String body = new String(r.body, StandardCharsets.UTF_8);
        SpecCallbackSDK cb = new SpecCallbackSDK(r.method, headers, body);
        String response = "";
        if (cb.IsOk())
            response = dispatch(cb);
        /* IsOk() false: the exception reply, HTTP 200 all the same */
        cb.BuildResponseHeaderBody(response);
        TinyHttp.Response out = new TinyHttp.Response(200);
        for (Map.Entry<String, String> e : cb.GetResponseHeaders().entrySet()) {
            String name = e.getKey();
            if (name.startsWith("Ww-"))
                name = name.toLowerCase(Locale.ROOT);
            out.headers.add(new String[] {name, e.getValue()});
        }
        out.body = cb.GetResponseBody().getBytes(StandardCharsets.UTF_8);
        return out;
    }

    String dispatch(SpecCallbackSDK cb) {
        Call c = new Call(cb);
        if (cb.GetCallType() == 2)
            return onEvent(c);
        if (cb.GetIsAsync())
            return enqueue(c);
        if (c.abilityId.startsWith("invoke_") && c.abilityId.length() > 7) {
            /* the demo's way: the SDK in the request's context */
            SpecSDK sdk = new SpecSDK(cb);
            return invokeAnswer(sdk, c.abilityId.substring(7), c.data);
        }
        return appCall(c);
    }

    // ---- events -------------------------------------------------------------------------------

    String onEvent(Call c) {
        String id = SpecUtil.GenerateNotifyId();
        if (id == null || !NOTIFY_ID.matcher(id).matches()) {
            SpecUtil.WWSpecLogError("no usable notify id from the SDK; event not stored");
            return Json.error(SAMPLE_ERROR, "no notify id");
        }
        try {
            Path tmp = events.resolve(id + ".tmp");
            Files.write(tmp, c.data.getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, events.resolve(id + ".json"), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            SpecUtil.WWSpecLogError("event %s not stored: %s", id, e);
            return Json.error(SAMPLE_ERROR, "the event could not be stored");
        }
        rememberToken(c);
        SpecUtil.WWSpecLogInfo("event stored as %s (%d bytes)", id, c.data.length());
        int rc = notifyApp(c, id);
        return rc == 0 ? Json.error(0, "ok") : Json.error(SAMPLE_ERROR, "notify failed");
    }

    /** spec_notify_app with id, retrying transport failures. 0, the SDK code, or the errcode. */
    int notifyApp(Call c, String id) {
        SpecSDK sdk = new SpecSDK(c.corpId, c.agentId, "", "");
        sdk.SetRequest("{\"notify_id\":" + Json.quote(id) + ",\"notify_scene\":" + notifyScene + "}");
        long delay = 200;
        int rc = -1;
        for (int t = 0; t < 5; t++) {
            if (t > 0) {
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                delay *= 2;
            }
            rc = sdk.Invoke("spec_notify_app");
            if (rc == SpecSDK.ERR_NETWORK || rc == SpecSDK.ERR_HTTP_STATUS) {
                SpecUtil.WWSpecLogError("spec_notify_app %s: try %d failed (%d)", id, t + 1, rc);
                continue;
            }
            if (rc != 0) {
                SpecUtil.WWSpecLogError("spec_notify_app %s: SDK code %d", id, rc);
                return rc;
            }
            rc = (int) Json.num(Json.object(sdk.GetResponse()), "errcode", -1);
            if (rc != 0)
                SpecUtil.WWSpecLogError("spec_notify_app %s: errcode %d", id, rc);
            return rc;
        }
        return rc;
    }

    @SuppressWarnings("unchecked")
    void rememberToken(Call c) {
        Map<String, Object> ev = Json.object(c.data);
        if (ev == null || !"conversation_new_message".equals(Json.str(ev, "event_type")))
            return;
        Object m = ev.get("conversation_new_message");
        String token = m instanceof Map ? Json.str((Map<String, Object>) m, "token") : null;
        if (token == null || token.contains(" ") || token.contains("\n"))
            return;
        String[] t = {token, Long.toString(System.currentTimeMillis() / 1000)};
        tokens.put(c.corpId + "/" + c.agentId, t);
        /* kept in the data folder as the cursor is: a restarted demo sends it again */
        Path file = tokenFile(c);
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp" + Thread.currentThread().getId());
            Files.write(tmp, (t[1] + " " + t[0]).getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            SpecUtil.WWSpecLogError("the event token could not be saved: %s", e);
        }
    }

    Path tokenFile(Call c) {
        return tokenDir.resolve(Integer.toHexString((c.corpId + "/" + c.agentId).hashCode()));
    }

    /** The token if younger than its 10 minutes (a minute to spare), else null; one saved
     *  before a restart is read from the data folder. */
    String recentToken(Call c) {
        String[] t = tokens.get(c.corpId + "/" + c.agentId);
        if (t == null) {
            try {
                String[] saved = new String(Files.readAllBytes(tokenFile(c)), StandardCharsets.UTF_8)
                                     .trim()
                                     .split(" ", 2);
                if (saved.length == 2) {
                    Long.parseLong(saved[0]);
                    t = new String[] {saved[1], saved[0]};
                    tokens.putIfAbsent(c.corpId + "/" + c.agentId, t);
                }
            } catch (IOException | NumberFormatException e) {
                /* none saved */
            }
        }
        if (t == null || System.currentTimeMillis() / 1000 - Long.parseLong(t[1]) >= 540)
            return null;
        return t[0];
    }

    /** Removes stored events older than the retention (the demo's polling thread). */
    void cleanup() {
        long cutoff = System.currentTimeMillis() - retentionS * 1000;
        int removed = 0;
        try (DirectoryStream<Path> d = Files.newDirectoryStream(events)) {
            for (Path p : d) {
                try {
                    if (Files.getLastModifiedTime(p).toMillis() < cutoff && Files.deleteIfExists(p))
                        removed++;
                } catch (IOException e) {
                    /* removed by another replica meanwhile */
                }
            }
        } catch (IOException e) {
            SpecUtil.WWSpecLogError("cleanup: %s", e);
        }
        if (removed > 0)
            SpecUtil.WWSpecLogInfo("cleanup removed %d expired events", removed);
    }

    // ---- app calls ----------------------------------------------------------------------------

    String appCall(Call c) {
        String ab = c.abilityId;
        if (ab.equals("get_callback_data"))
            return getCallbackData(c);
        if (ab.startsWith("invoke_") && ab.length() > 7)
            return invokeAnswer(new SpecSDK(c.corpId, c.agentId, c.abilityId, ""), ab.substring(7),
                                c.data);
        if (ab.equals("new_messages_digest"))
            return digest(c);
        if (ab.equals("echo_input")) {
            SpecUtil.WWSpecLogInfo("echo_input: %d bytes", c.data.length());
            return "{\"input\":" + Json.quote(c.data) + "}";
        }
        if (ab.equals("open_debug_mode"))
            return openDebugMode(c);
        SpecUtil.WWSpecLogError("unknown ability '%.64s'", ab);
        return Json.error(SAMPLE_ERROR, "this program has no such ability");
    }

    String getCallbackData(Call c) {
        if (c.notifyId.isEmpty())
            return Json.error(SAMPLE_ERROR, "get_callback_data needs the call's notify_id");
        if (!NOTIFY_ID.matcher(c.notifyId).matches())
            return Json.error(SAMPLE_ERROR, "no event is stored under this notify_id here");
        Path p = events.resolve(c.notifyId + ".json");
        try {
            if (Files.getLastModifiedTime(p).toMillis() < System.currentTimeMillis() - retentionS * 1000)
                return Json.error(SAMPLE_ERROR, "the event of this notify_id has expired");
            return new String(Files.readAllBytes(p), StandardCharsets.UTF_8); /* verbatim */
        } catch (NoSuchFileException e) {
            return Json.error(SAMPLE_ERROR, "no event is stored under this notify_id here");
        } catch (IOException e) {
            SpecUtil.WWSpecLogError("get_callback_data %s: %s", c.notifyId, e);
            return Json.error(SAMPLE_ERROR, "the event could not be read");
        }
    }

    /** The API's reply verbatim, or the sample's error naming the SDK code. */
    static String invokeAnswer(SpecSDK sdk, String api, String request) {
        sdk.SetRequest(request);
        int rc = sdk.Invoke(api);
        if (rc != 0) {
            SpecUtil.WWSpecLogError("invoke %s: SDK code %d", api, rc);
            return Json.error(SAMPLE_ERROR, "SDK code " + rc + " invoking " + api);
        }
        return sdk.GetResponse();
    }

    String openDebugMode(Call c) {
        Map<String, Object> r = Json.object(c.data);
        String dt = Json.str(r, "debug_token"), at = Json.str(r, "access_token");
        if (dt == null || at == null)
            return Json.error(SAMPLE_ERROR, "give debug_token and access_token (strings)");
        if (!SpecUtil.OpenDebugMode(dt, at))
            return Json.error(SAMPLE_ERROR, "debug mode refused");
        SpecUtil.WWSpecLogInfo("debug mode on");
        return Json.error(0, "ok");
    }

    /**
     * new_messages_digest: every message after the saved cursor (following has_more), counted by
     * msgtype and by sender; the cursor is saved after each page. (zone-demo's sentiment option
     * is not offered here.)
     */
    @SuppressWarnings("unchecked")
    String digest(Call c) {
        Path cursorFile = cursors.resolve(Integer.toHexString((c.corpId + "/" + c.agentId).hashCode()));
        String cursor = "";
        try {
            cursor = new String(Files.readAllBytes(cursorFile), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            /* no cursor yet */
        }
        String token = recentToken(c);
        Map<Long, Long> byType = new LinkedHashMap<>();
        Map<String, Long> bySender = new LinkedHashMap<>();
        long total = 0, code = 0;
        String msg = "ok";
        SpecSDK sdk = new SpecSDK(c.corpId, c.agentId, c.abilityId, "");
        boolean more = true;
        for (int pages = 0; more && pages < 100000; pages++) {
            StringBuilder req = new StringBuilder("{\"limit\":1000");
            if (!cursor.isEmpty())
                req.append(",\"cursor\":").append(Json.quote(cursor));
            if (token != null)
                req.append(",\"token\":").append(Json.quote(token));
            sdk.SetRequest(req.append('}').toString());
            int rc = sdk.Invoke("sync_msg");
            if (rc != 0) {
                code = SAMPLE_ERROR;
                msg = "SDK code " + rc + " invoking sync_msg";
                break;
            }
            Map<String, Object> rsp = Json.object(sdk.GetResponse());
            long ec = Json.num(rsp, "errcode", SAMPLE_ERROR);
            if (ec != 0) {
                code = ec;
                String em = Json.str(rsp, "errmsg");
                msg = "sync_msg: " + (em == null ? "unreadable reply" : em);
                break;
            }
            Object list = rsp.get("msg_list");
            for (Object o : list instanceof List ? (List<Object>) list : new ArrayList<Object>()) {
                if (!(o instanceof Map))
                    continue;
                Map<String, Object> m = (Map<String, Object>) o;
                Object t = m.get("msgtype");
                if (t instanceof Double)
                    byType.merge((long) (double) (Double) t, 1L, Long::sum);
                Object s = m.get("sender");
                if (s instanceof Map) {
                    Map<String, Object> sm = (Map<String, Object>) s;
                    if (sm.get("type") instanceof Double && Json.str(sm, "id") != null)
                        bySender.merge(Json.num(sm, "type", 0) + "\u0000" + Json.str(sm, "id"), 1L,
                                       Long::sum);
                }
                total++;
            }
            String next = Json.str(rsp, "next_cursor");
            Object hm = rsp.get("has_more");
            more = hm instanceof Double ? (Double) hm != 0 : Boolean.TRUE.equals(hm);
            if (more && next != null && next.equals(cursor)) {
                code = SAMPLE_ERROR;
                msg = "sync_msg reported more without moving its cursor";
                break;
            }
            if (next != null && !next.isEmpty()) {
                cursor = next;
                try {
                    Path tmp = cursorFile.resolveSibling(cursorFile.getFileName() + ".tmp" + Thread.currentThread().getId());
                    Files.write(tmp, cursor.getBytes(StandardCharsets.UTF_8));
                    Files.move(tmp, cursorFile, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    SpecUtil.WWSpecLogError("digest: the cursor could not be saved: %s", e);
                }
            }
        }
        SpecUtil.WWSpecLogInfo("digest: %d messages, errcode %d", total, code);
        StringBuilder out = new StringBuilder();
        out.append("{\"errcode\":").append(code).append(",\"errmsg\":").append(Json.quote(msg));
        out.append(",\"total\":").append(total).append(",\"by_msgtype\":[");
        String sep = "";
        for (Map.Entry<Long, Long> e : byType.entrySet()) {
            out.append(sep).append("{\"msgtype\":").append(e.getKey()).append(",\"count\":")
                .append(e.getValue()).append('}');
            sep = ",";
        }
        out.append("],\"by_sender\":[");
        sep = "";
        for (Map.Entry<String, Long> e : bySender.entrySet()) {
            String[] k = e.getKey().split("\u0000", 2);
            out.append(sep).append("{\"type\":").append(k[0]).append(",\"id\":")
                .append(Json.quote(k[1])).append(",\"count\":").append(e.getValue()).append('}');
            sep = ",";
        }
        return out.append("]}").toString();
    }

    // ---- async calls --------------------------------------------------------------------------

    String enqueue(Call c) {
        try {
            async.execute(() -> runJob(c));
        } catch (RejectedExecutionException e) {
            SpecUtil.WWSpecLogError("async queue full: %s refused", c.abilityId);
            return Json.error(SAMPLE_ERROR, "busy: too many async calls waiting");
        }
        return "{}";
    }

    void runJob(Call c) {
        String result = appCall(c);
        /* the program's own failure travels as the job's errcode; the result stays the answer */
        long ec = Json.num(Json.object(result), "errcode", 0);
        SpecSDK sdk = new SpecSDK(c.corpId, c.agentId, c.abilityId, c.jobInfo);
        sdk.SetRequest("{\"errcode\":" + ec + ",\"result\":" + Json.quote(result) + "}");
        int rc = sdk.Invoke("program_async_job_call_back");
        if (rc != 0)
            SpecUtil.WWSpecLogError("program_async_job_call_back: SDK code %d", rc);
        else
            SpecUtil.WWSpecLogInfo("async %s reported: %.120s", c.abilityId, sdk.GetResponse());
    }

    // ---- start --------------------------------------------------------------------------------

    static void usage() {
        System.out.println("usage: java -Djava.library.path=DIR -jar zone-demo-java.jar [options]\n"
            + "  --data-dir DIR   $ZONE_DEMO_DATA_DIR   where events are stored (./data); replicas may share it\n"
            + "  --port N         $ZONELAB_PORT, $PORT  port to listen on (8080)\n"
            + "  -b N             connections served at once (64)\n"
            + "  -h               this text\n"
            + "  $ZONE_DEMO_RETENTION  seconds stored events are kept (1200)\n"
            + "  $ZONE_DEMO_NOTIFY_SCENE  notify_scene sent with spec_notify_app (1)\n"
            + "  $ZONE_DEMO_ASYNC_WORKERS  threads running async calls (2)");
    }

    static long envNum(String name, long dflt, long min, long max) {
        String v = System.getenv(name);
        if (v == null || v.isEmpty())
            return dflt;
        try {
            long n = Long.parseLong(v);
            if (n >= min && n <= max)
                return n;
        } catch (NumberFormatException e) {
            /* below */
        }
        System.err.println("$" + name + "=" + v + " is not a number from " + min + " to " + max);
        System.exit(2);
        return dflt;
    }

    public static void main(String[] args) throws IOException {
        String dataDir = System.getenv("ZONE_DEMO_DATA_DIR");
        long port = envNum("ZONELAB_PORT", -1, 1, 65535);
        if (port < 0)
            port = envNum("PORT", 8080, 1, 65535);
        int threads = 64;
        for (int k = 0; k < args.length; k++) {
            String a = args[k];
            String v = k + 1 < args.length ? args[k + 1] : null;
            if (a.equals("-h") || a.equals("--help")) {
                usage();
                return;
            } else if (a.equals("--data-dir") && v != null) {
                dataDir = v;
                k++;
            } else if (a.equals("--port") && v != null) {
                port = Long.parseLong(v);
                k++;
            } else if (a.equals("-b") && v != null) {
                threads = Math.max(1, Integer.parseInt(v));
                k++;
            } else {
                System.err.println("unknown option " + a + " (-h lists them)");
                System.exit(2);
            }
        }
        if (dataDir == null || dataDir.isEmpty())
            dataDir = "data";
        Main app = new Main(Paths.get(dataDir), envNum("ZONE_DEMO_RETENTION", 1200, 60, 30 * 86400),
                            (int) envNum("ZONE_DEMO_NOTIFY_SCENE", 1, 0, 255),
                            (int) envNum("ZONE_DEMO_ASYNC_WORKERS", 2, 1, 64));
        TinyHttp server = new TinyHttp("0.0.0.0", (int) port, threads, MAX_BODY, app::handle);
        Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cleanup");
            t.setDaemon(true);
            return t;
        }).scheduleAtFixedRate(app::cleanup, 60, 60, TimeUnit.SECONDS);
        SpecUtil.WWSpecLogInfo("listening on 0.0.0.0:%d, data in %s", port, dataDir);
        server.serve();
    }
}
