// SpecUtil: zonelab's fake of the vendor's Java helpers: SDK logging, notify ids, debug mode.
package com.tencent.wework;

/**
 * Static helpers. Log lines are written by the SDK to stdout as
 * {@code <pid,tid>,YYYY-MM-DD hh:mm:ss.mmm,LEVEL,req_id,file,line,custom}, custom cut to 128
 * bytes; only lines written through these calls are collected in the zone.
 */
public final class SpecUtil {
    public static final int LOG_ERR = 1;
    public static final int LOG_INFO = 2;
    public static final int LOG_DBG = 3;

    static {
        System.loadLibrary("WeWorkSpecSDK");
    }

    private SpecUtil() {}

    /** A fresh notify id (32 lower-case hex characters), to store an event under before spec_notify_app. */
    public static native String GenerateNotifyId();

    /**
     * The SDK half of debug mode: true when WeCom accepted this program with the debug token the
     * app opened (open_debug_mode) and the app's unexpired access_token.
     */
    public static native boolean OpenDebugMode(String debugToken, String accessToken);

    /** An INFO line: format alone is the text; with args it is a String.format format. */
    public static void WWSpecLogInfo(String format, Object... args) { log(LOG_INFO, null, format, args); }

    /** An ERR line. */
    public static void WWSpecLogError(String format, Object... args) { log(LOG_ERR, null, format, args); }

    /** A DBG line (written when the log level is 3). */
    public static void WWSpecLogDebug(String format, Object... args) { log(LOG_DBG, null, format, args); }

    /** Older form: an INFO line carrying reqId instead of the current request's. */
    public static void WWSpecLogInfoWithReqId(String reqId, String format, Object... args) {
        log(LOG_INFO, reqId, format, args);
    }

    /**
     * The one native log call the others wrap (wrap it for other logging front ends; SLF4J is
     * not supported): level 1 ERR, 2 INFO, 3 DBG; reqId null for the current request's;
     * fileName and lineNo name the caller.
     */
    public static native void SpecLogNative(int level, String reqId, String fileName, int lineNo,
                                            String content);

    private static void log(int level, String reqId, String format, Object[] args) {
        String text;
        try {
            text = args == null || args.length == 0 ? String.valueOf(format)
                                                    : String.format(format, args);
        } catch (java.util.IllegalFormatException e) {
            text = String.valueOf(format);
        }
        /* [0] getStackTrace, [1] log, [2] WWSpecLog*, [3] the caller */
        StackTraceElement[] st = Thread.currentThread().getStackTrace();
        String file = "?";
        int line = 0;
        if (st.length > 3) {
            file = st[3].getFileName() == null ? "?" : st[3].getFileName();
            line = st[3].getLineNumber();
        }
        SpecLogNative(level, reqId, file, line, text);
    }
}
