// SpecSDK: zonelab's fake of the vendor's Java SDK class that invokes SDK APIs from a zone
// program (SetRequest, Invoke, GetResponse), backed by libWeWorkSpecSDK.so over libzonesdk.
package com.tencent.wework;

import java.lang.ref.Cleaner;

/**
 * Invokes an SDK API as (corpid, agentid, ability_id, job_info), as the vendor's Java SDK 1.4.0
 * does. The member names are the vendor's: the native side reads and writes specSDKptr, request
 * and response by reflection, so they must not be renamed (and the class must stay in
 * com.tencent.wework for its JNI symbols).
 *
 * <p>Invoke returns the Java SDK 1.4.0 codes: 0 (the reply arrived; check its errcode), -10001
 * SDK internal error (configuration, no request set, a handle made from a request that did not
 * verify), -10002 network failure, -10003 illegal HTTP status, -10004 signature mismatch, -10005
 * decryption failure, -10006 unsupported API name, -10007 empty response body, -10008 key
 * version mismatch, -10009 illegal JSON.
 */
public class SpecSDK {
    public static final int OK = 0;
    public static final int ERR_INTERNAL = -10001;
    public static final int ERR_NETWORK = -10002;
    public static final int ERR_HTTP_STATUS = -10003;
    public static final int ERR_SIGNATURE = -10004;
    public static final int ERR_DECRYPT = -10005;
    public static final int ERR_UNSUPPORTED_API = -10006;
    public static final int ERR_EMPTY_RESPONSE = -10007;
    public static final int ERR_SECRET_VER = -10008;
    public static final int ERR_JSON = -10009;

    /* Read by the native side: do not rename. */
    private long specSDKptr = 0;
    /* The request of the next Invoke (JSON text), e.g. "{\"limit\":1}". */
    private String request;
    /* The reply of the last Invoke, set by the native side ("" when it failed). */
    private String response;

    static {
        System.loadLibrary("WeWorkSpecSDK");
    }

    private static final Cleaner CLEANER = Cleaner.create();

    /* Frees the native handle once the object is unreachable (zonelab; the vendor's is not documented). */
    private static final class Free implements Runnable {
        private final long ptr;

        Free(long ptr) { this.ptr = ptr; }

        @Override
        public void run() { DeleteSDK(ptr); }
    }

    private void track() {
        if (specSDKptr != 0)
            CLEANER.register(this, new Free(specSDKptr));
    }

    /** Older constructor: ability_id and job_info empty. */
    public SpecSDK(String corpId, long agentId) {
        specSDKptr = NewSDK1(corpId, agentId);
        track();
    }

    /** Older constructor: job_info empty. */
    public SpecSDK(String corpId, long agentId, String abilityId) {
        specSDKptr = NewSDK2(corpId, agentId, abilityId);
        track();
    }

    /**
     * corpId and agentId are required; abilityId the program's ability; jobInfo is needed only
     * for program_async_job_call_back ("" otherwise).
     */
    public SpecSDK(String corpId, long agentId, String abilityId, String jobInfo) {
        specSDKptr = NewSDK3(corpId, agentId, abilityId, jobInfo);
        track();
    }

    /** In the context of an inbound request (its corpid, agentid, ability_id, job_info); requires callbackSDK.IsOk(). */
    public SpecSDK(SpecCallbackSDK callbackSDK) {
        specSDKptr = NewSDK4(callbackSDK == null ? 0 : callbackSDK.GetPtr());
        track();
    }

    /** Sets the request (JSON text) of the next Invoke. */
    public void SetRequest(String request) { this.request = request; }

    /** The reply (JSON text) of the last Invoke; check its errcode. */
    public String GetResponse() { return response; }

    /**
     * Calls SDK API apiName (e.g. "sync_msg") with the request set by SetRequest. Returns 0 when
     * the reply arrived (GetResponse() holds it), else one of the codes above.
     */
    public int Invoke(String apiName) {
        return Invoke(specSDKptr, apiName, request);
    }

    private native long NewSDK1(String corpId, long agentId);

    private native long NewSDK2(String corpId, long agentId, String abilityId);

    private native long NewSDK3(String corpId, long agentId, String abilityId, String jobInfo);

    private native long NewSDK4(long callbackSDK);

    private native int Invoke(long sdk, String apiName, String request);

    private static native void DeleteSDK(long sdk);
}
