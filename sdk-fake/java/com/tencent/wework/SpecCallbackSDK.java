// SpecCallbackSDK: zonelab's fake of the vendor's Java class that verifies and decrypts an
// inbound request and builds the signed and encrypted reply, backed by libWeWorkSpecSDK.so.
package com.tencent.wework;

import java.lang.ref.Cleaner;
import java.util.HashMap;
import java.util.Map;

/**
 * One per inbound request. The member names are the vendor's: the native side reads
 * specCallbackSDKptr and fills responseHeaders and responseBody by reflection, so they must not
 * be renamed.
 *
 * <pre>
 * SpecCallbackSDK sdk = new SpecCallbackSDK(method, headers, body);
 * String response = "";
 * if (sdk.IsOk()) { ... response = ...; }
 * sdk.BuildResponseHeaderBody(response);
 * // reply HTTP 200 with sdk.GetResponseHeaders() and sdk.GetResponseBody()
 * </pre>
 *
 * Construction codes (carried by the exception reply's ww-exception header when IsOk() is
 * false): -20001 no method, -20002 no headers, -20003 no body; a request that does not verify
 * gets a -100xx code (-10004 signature mismatch, ...).
 */
public class SpecCallbackSDK {
    public static final int ERR_NO_METHOD = -20001;
    public static final int ERR_NO_HEADERS = -20002;
    public static final int ERR_NO_BODY = -20003;

    /* Read by the native side: do not rename. */
    private long specCallbackSDKptr = 0;
    /* The reply's headers, filled by the native side. */
    private Map<String, String> responseHeaders;
    /* The reply's body (encrypted), set by the native side. */
    private String responseBody;

    static {
        System.loadLibrary("WeWorkSpecSDK");
    }

    private static final Cleaner CLEANER = Cleaner.create();

    private static final class Free implements Runnable {
        private final long ptr;

        Free(long ptr) { this.ptr = ptr; }

        @Override
        public void run() { DeleteCallbackSDK(ptr); }
    }

    /**
     * Verifies and decrypts a request: method "POST" (or "GET"), the headers exactly as received
     * (names are never normalised: lower-case ww-*), the raw body.
     */
    public SpecCallbackSDK(String method, Map<String, String> headers, String body) {
        specCallbackSDKptr = NewCallbackSDK(method, headers, body);
        if (specCallbackSDKptr != 0)
            CLEANER.register(this, new Free(specCallbackSDKptr));
    }

    /** The native handle (for new SpecSDK(callbackSDK)). */
    public long GetPtr() { return specCallbackSDKptr; }

    /** Whether the request verified and decrypted; the accessors are meaningful only then. */
    public boolean IsOk() { return IsOk(specCallbackSDKptr); }

    /** The authorising corp. */
    public String GetCorpId() { return GetCorpId(specCallbackSDKptr); }

    /** The calling app (0 when an async task arrived without one). */
    public long GetAgentId() { return GetAgentId(specCallbackSDKptr); }

    /** 1: an app call (request_data in GetData()); 2: an event pushed by WeCom (its JSON). */
    public long GetCallType() { return GetCallType(specCallbackSDKptr); }

    /** request_data (call_type 1) or the event JSON (call_type 2). */
    public String GetData() { return GetData(specCallbackSDKptr); }

    /** Whether this is an async app call (report it with program_async_job_call_back). */
    public boolean GetIsAsync() { return GetIsAsync(specCallbackSDKptr); }

    /** Opaque; pass it to SpecSDK for program_async_job_call_back. */
    public String GetJobInfo() { return GetJobInfo(specCallbackSDKptr); }

    /** The ability the caller chose. */
    public String GetAbilityId() { return GetAbilityId(specCallbackSDKptr); }

    /** The notify_id the app passed to sync_call_program. */
    public String GetNotifyId() { return GetNotifyId(specCallbackSDKptr); }

    /**
     * Signs and encrypts the reply carrying response ("" when IsOk() is false: the reply is
     * then the exception reply). Read it with GetResponseHeaders() and GetResponseBody().
     */
    public void BuildResponseHeaderBody(String response) {
        responseHeaders = new HashMap<String, String>();
        responseBody = "";
        BuildResponseHeaderBody(specCallbackSDKptr, response == null ? "" : response);
    }

    /** The reply's headers (lower-case names; send them exactly so). */
    public Map<String, String> GetResponseHeaders() { return responseHeaders; }

    /** The reply's body. */
    public String GetResponseBody() { return responseBody; }

    private native long NewCallbackSDK(String method, Map<String, String> headers, String body);

    private native boolean IsOk(long specCallbackSDKptr);

    private native String GetCorpId(long specCallbackSDKptr);

    private native long GetAgentId(long specCallbackSDKptr);

    private native long GetCallType(long specCallbackSDKptr);

    private native String GetData(long specCallbackSDKptr);

    private native boolean GetIsAsync(long specCallbackSDKptr);

    private native String GetJobInfo(long specCallbackSDKptr);

    private native String GetAbilityId(long specCallbackSDKptr);

    private native String GetNotifyId(long specCallbackSDKptr);

    private native void BuildResponseHeaderBody(long specCallbackSDKptr, String response);

    private static native void DeleteCallbackSDK(long specCallbackSDKptr);
}
