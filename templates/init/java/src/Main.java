// @PROGRAM_ID@: a zone program, written the way WeCom's Java demo writes one: it listens on
// 8080 (all addresses), verifies each request with SpecCallbackSDK, answers through
// BuildResponseHeaderBody, and calls WeCom with SpecSDK.Invoke. Its HTTP server (TinyHttp)
// keeps header names as they are: WeCom refuses re-cased ww-* names, and the JDK's server
// re-cases them.
//
// Abilities (world.json declares them, with their input and output protocols):
//   hello              {"name":""} -> {"errcode":0,"errmsg":"","greeting":""}
//   invoke_sync_msg    request_data is sync_msg's request; the reply is sync_msg's reply
//   get_callback_data  the event stored under the call's notify_id
// Events (call_type 2): each is stored durably under a fresh notify_id first (written,
// forced to disk, renamed), then the app is told with spec_notify_app, so the app's
// get_callback_data with that notify_id finds it on this machine even after a crash.
import com.tencent.wework.SpecCallbackSDK;
import com.tencent.wework.SpecSDK;
import com.tencent.wework.SpecUtil;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

public final class Main {
    static final int PROGRAM_ERROR = 710660; // the samples' own failure code
    static final int MAX_BODY = 64 << 20;

    private final Path dataDir;

    Main(Path dataDir) throws IOException {
        this.dataDir = dataDir;
        Files.createDirectories(dataDir);
    }

    static boolean safeId(String id) {
        return id != null && !id.isEmpty() && id.length() <= 64 && id.chars().allMatch(Character::isLetterOrDigit);
    }

    void storeEvent(String notifyId, String data) throws IOException {
        Path tmp = dataDir.resolve(notifyId + ".event.tmp"), path = dataDir.resolve(notifyId + ".event");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                                               StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(data.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel dir = FileChannel.open(dataDir, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    String loadEvent(String notifyId) {
        if (!safeId(notifyId))
            return null;
        try {
            return new String(Files.readAllBytes(dataDir.resolve(notifyId + ".event")), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    // An event: stored first, then the app notified; WeCom only needs to hear that it arrived.
    String onEvent(SpecCallbackSDK cb) {
        String notifyId = SpecUtil.GenerateNotifyId();
        try {
            storeEvent(notifyId, cb.GetData());
        } catch (IOException e) {
            SpecUtil.WWSpecLogError("the event could not be stored: %s", e.getMessage());
            return Json.error(PROGRAM_ERROR, "the event could not be stored");
        }
        SpecSDK sdk = new SpecSDK(cb.GetCorpId(), cb.GetAgentId(), "", "");
        sdk.SetRequest("{\"notify_id\":" + Json.quote(notifyId) + ",\"notify_scene\":1}");
        int rc = sdk.Invoke("spec_notify_app");
        if (rc != 0)
            SpecUtil.WWSpecLogError("spec_notify_app: SDK code %d", rc);
        else
            SpecUtil.WWSpecLogInfo("event stored under %s, app notified", notifyId);
        return Json.error(0, "ok");
    }

    // An app's call to one of the abilities.
    String onCall(SpecCallbackSDK cb) {
        String ability = cb.GetAbilityId();
        if (ability.equals("hello")) {
            Map<String, Object> in = Json.object(cb.GetData());
            String name = in == null ? null : Json.str(in, "name");
            return "{\"errcode\":0,\"errmsg\":\"\",\"greeting\":"
                + Json.quote("hello, " + (name == null || name.isEmpty() ? "world" : name)) + "}";
        }
        if (ability.equals("invoke_sync_msg")) {
            SpecSDK sdk = new SpecSDK(cb);
            sdk.SetRequest(cb.GetData());
            int rc = sdk.Invoke("sync_msg");
            if (rc != 0) {
                SpecUtil.WWSpecLogError("sync_msg: SDK code %d", rc);
                return Json.error(PROGRAM_ERROR, "sync_msg failed");
            }
            return sdk.GetResponse();
        }
        if (ability.equals("get_callback_data")) {
            String event = loadEvent(cb.GetNotifyId());
            return event != null ? event : Json.error(PROGRAM_ERROR, "no event is stored under this notify_id here");
        }
        return Json.error(PROGRAM_ERROR, "unknown ability");
    }

    TinyHttp.Response handle(TinyHttp.Request r) {
        if (!"POST".equals(r.method))
            return new TinyHttp.Response(405);
        Map<String, String> headers = new HashMap<>();
        for (String[] h : r.headers)
            headers.putIfAbsent(h[0], h[1]); // names exactly as received
        SpecCallbackSDK cb = new SpecCallbackSDK(r.method, headers, new String(r.body, StandardCharsets.UTF_8));
        String response = "";
        if (!cb.IsOk())
            SpecUtil.WWSpecLogError("a request did not verify");
        else
            response = cb.GetCallType() == 2 ? onEvent(cb) : onCall(cb);
        cb.BuildResponseHeaderBody(response);
        TinyHttp.Response out = new TinyHttp.Response(200);
        for (Map.Entry<String, String> e : cb.GetResponseHeaders().entrySet())
            out.headers.add(new String[] {e.getKey(), e.getValue()});
        out.body = cb.GetResponseBody().getBytes(StandardCharsets.UTF_8);
        return out;
    }

    public static void main(String[] args) throws IOException {
        String dir = System.getenv("DATA_DIR"), work = System.getenv("ZONELAB_WORK_DIR");
        Path data = Paths.get(dir != null && !dir.isEmpty() ? dir
                              : work != null && !work.isEmpty() ? work + "/data" : "data");
        Main program = new Main(data);
        // 8080 on every address, as WeCom's guide says; under zonelab each replica's bind is
        // moved to its own port.
        TinyHttp server = new TinyHttp("0.0.0.0", 8080, 64, MAX_BODY, program::handle);
        SpecUtil.WWSpecLogInfo("@PROGRAM_ID@ listening on port 8080, data in %s", data);
        server.serve();
    }
}
