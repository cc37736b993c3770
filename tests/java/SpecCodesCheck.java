// SpecCodesCheck: the fake Java SDK's return codes and helpers, checked in a JVM (CTest runs
// it with ZONELAB_URL pointing at a closed port; "noconfig" without the configuration; "log"
// writes one log line the test matches).
import com.tencent.wework.SpecCallbackSDK;
import com.tencent.wework.SpecSDK;
import com.tencent.wework.SpecUtil;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

public final class SpecCodesCheck {
    private static int checks, failures;

    private static void check(String what, Object got, Object want) {
        checks++;
        if (!Objects.equals(got, want)) {
            failures++;
            System.err.println("FAIL " + what + ": expected " + want + ", got " + got);
        }
    }

    /** The exception code of the reply built for cb (its ww-exception header). */
    private static String exception(SpecCallbackSDK cb) {
        cb.BuildResponseHeaderBody("");
        return cb.GetResponseHeaders().get("ww-exception");
    }

    private static int invoke(SpecSDK sdk, String api, String request) {
        sdk.SetRequest(request);
        return sdk.Invoke(api);
    }

    private static void configured() {
        Map<String, String> h = new HashMap<>();
        h.put("ww-secret-ver", "1");

        SpecCallbackSDK noMethod = new SpecCallbackSDK(null, h, "x");
        check("no method: IsOk", noMethod.IsOk(), false);
        check("no method: ww-exception", exception(noMethod), "-20001");
        check("no method: GetCorpId", noMethod.GetCorpId(), "");
        check("no headers: ww-exception", exception(new SpecCallbackSDK("POST", null, "x")), "-20002");
        check("empty headers: ww-exception",
              exception(new SpecCallbackSDK("POST", new HashMap<>(), "x")), "-20002");
        check("no body: ww-exception", exception(new SpecCallbackSDK("POST", h, null)), "-20003");

        SpecCallbackSDK garbage = new SpecCallbackSDK("POST", h, "garbage");
        check("garbage: IsOk", garbage.IsOk(), false);
        check("garbage: ww-exception", exception(garbage), "-10004");
        check("garbage: reply status header set", garbage.GetResponseHeaders().isEmpty(), false);
        check("garbage: a SpecSDK from it fails with -10001",
              invoke(new SpecSDK(garbage), "sync_msg", "{}"), SpecSDK.ERR_INTERNAL);

        SpecSDK sdk = new SpecSDK("wwzonelab0000001", 1000002L, "invoke_sync_msg", "");
        check("unreachable ZONELAB_URL: network code", invoke(sdk, "sync_msg", "{\"limit\":1}"),
              SpecSDK.ERR_NETWORK);
        check("failed invoke: GetResponse", sdk.GetResponse(), "");
        check("unknown API", invoke(sdk, "get_msg_body", "{}"), SpecSDK.ERR_UNSUPPORTED_API);
        check("request not JSON", invoke(sdk, "sync_msg", "not json"), SpecSDK.ERR_JSON);
        check("no request set", new SpecSDK("wwzonelab0000001", 1000002L).Invoke("sync_msg"),
              SpecSDK.ERR_INTERNAL);
        check("older constructor (corpId, agentId, abilityId)",
              invoke(new SpecSDK("wwzonelab0000001", 1000002L, "a"), "sync_msg", "{}"),
              SpecSDK.ERR_NETWORK);

        String a = SpecUtil.GenerateNotifyId(), b = SpecUtil.GenerateNotifyId();
        check("notify id: 32 lower-case hex", a.matches("[0-9a-f]{32}"), true);
        check("notify ids differ", a.equals(b), false);
        check("OpenDebugMode without an emulator", SpecUtil.OpenDebugMode("dt", "at"), false);
    }

    private static void noConfig() {
        check("no configuration: invoke", invoke(new SpecSDK("wwzonelab0000001", 1L, "", ""),
                                                 "sync_msg", "{}"), SpecSDK.ERR_INTERNAL);
        Map<String, String> h = new HashMap<>();
        h.put("ww-secret-ver", "1");
        SpecCallbackSDK cb = new SpecCallbackSDK("POST", h, "{}");
        check("no configuration: IsOk", cb.IsOk(), false);
        check("no configuration: ww-exception", exception(cb), "-10001");
    }

    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "configured";
        if (mode.equals("log")) {
            SpecUtil.WWSpecLogInfoWithReqId("0123456789abcdef", "hello %d", 42);
            SpecUtil.WWSpecLogError("50% done"); /* no args: the text as is */
            return;
        }
        if (mode.equals("noconfig"))
            noConfig();
        else
            configured();
        System.out.println("java sdk codes (" + mode + "): " + (checks - failures) + "/" + checks
                           + " checks passed");
        System.exit(failures == 0 ? 0 : 1);
    }
}
