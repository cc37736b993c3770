/* zone_sdk.h: the zone SDK's C API (zonelab's fake, or the vendor SDK through an adapter). */
#ifndef ZONE_SDK_H
#define ZONE_SDK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ZONE_SDK_BUILD) && defined(__GNUC__)
#define ZONE_API __attribute__((visibility("default")))
#else
#define ZONE_API
#endif

#if defined(__GNUC__)
#define ZONE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ZONE_PRINTF(f, a)
#endif

#define ZONE_SDK_VERSION "0.1.0"

/*
 * Return codes: the vendor SDK's (Java SDK 1.4.0 table for -100xx, the Java
 * SpecCallbackSDK constructor for -2000x). ZONE_OK from an invoke means the
 * reply arrived; its JSON errcode must still be checked.
 */
#define ZONE_RESULTS(X)                                                                            \
    X(ZONE_OK, 0, "ok")                                                                            \
    X(ZONE_ERR_INTERNAL, -10001, "SDK internal error (configuration, allocation, not network)")    \
    X(ZONE_ERR_NETWORK, -10002, "network failure (connect, read or write timeout)")                \
    X(ZONE_ERR_HTTP_STATUS, -10003, "illegal HTTP status")                                         \
    X(ZONE_ERR_SIGNATURE, -10004, "signature mismatch")                                            \
    X(ZONE_ERR_DECRYPT, -10005, "decryption failure")                                              \
    X(ZONE_ERR_UNSUPPORTED_API, -10006, "unsupported API name (check for an old SDK)")             \
    X(ZONE_ERR_EMPTY_RESPONSE, -10007, "empty response body")                                      \
    X(ZONE_ERR_SECRET_VER, -10008, "key version mismatch (in debug mode: expired access_token?)")  \
    X(ZONE_ERR_JSON, -10009, "illegal JSON")                                                       \
    X(ZONE_ERR_NO_METHOD, -20001, "no method")                                                     \
    X(ZONE_ERR_NO_HEADERS, -20002, "no headers")                                                   \
    X(ZONE_ERR_NO_BODY, -20003, "no body")

enum zone_result {
#define ZONE_RESULT_ENUM(name, code, text) name = code,
    ZONE_RESULTS(ZONE_RESULT_ENUM)
#undef ZONE_RESULT_ENUM
};

/* Static text for a return code ("unknown code" for others). */
ZONE_API const char *zone_strerror(int code);

/* Caller storage for a readable message; every call that takes one fills it on failure. */
#define ZONE_ERRBUF_SIZE 256

/* Frees a string the SDK returned as owned. Accepts NULL. */
ZONE_API void zone_string_free(char *s);

/* ---- Inbound: a request WeCom (the emulator) posted to the program ---------------------- */

/* One HTTP header exactly as received: names are never normalised. */
typedef struct zone_header {
    const char *name;
    const char *value;
} zone_header;

typedef struct zone_callback zone_callback;

/*
 * Verifies and decrypts a request. method is "POST" (or "GET"), headers the n headers as
 * received, body the raw body (body_len bytes). Nothing is borrowed past the call.
 * Returns NULL only when memory runs out; otherwise an object whose zone_callback_status()
 * says whether it verified (ZONE_OK) and, if not, why (a -100xx or -2000x code, and a
 * sentence from zone_callback_error()). Reading the configuration (ZONELAB_SECRET,
 * ZONELAB_SECRET_VER) happens here. Sets this thread's log req_id to the request's;
 * zone_callback_free() restores the default. Free with zone_callback_free().
 */
ZONE_API zone_callback *zone_callback_new(const char *method, const zone_header *headers, size_t n,
                                          const char *body, size_t body_len);
ZONE_API void zone_callback_free(zone_callback *cb); /* accepts NULL */

ZONE_API int zone_callback_ok(const zone_callback *cb);            /* 1 when it verified */
ZONE_API int zone_callback_status(const zone_callback *cb);        /* ZONE_OK or the failure code */
ZONE_API const char *zone_callback_error(const zone_callback *cb); /* "" when ok */

/* Accessors; strings are borrowed from cb and are "" (numbers 0) when it did not verify. */
ZONE_API const char *zone_callback_corpid(const zone_callback *cb);
ZONE_API uint32_t zone_callback_agentid(const zone_callback *cb);
ZONE_API uint32_t zone_callback_call_type(const zone_callback *cb); /* 1 app call, 2 event */
ZONE_API const char *zone_callback_data(const zone_callback *cb);
ZONE_API int zone_callback_is_async(const zone_callback *cb);
ZONE_API const char *zone_callback_job_info(const zone_callback *cb);
ZONE_API const char *zone_callback_ability_id(const zone_callback *cb);
ZONE_API const char *zone_callback_notify_id(const zone_callback *cb);
ZONE_API const char *zone_callback_req_id(const zone_callback *cb); /* 16 hex digits */

/* The reply to send back: HTTP 200 with these headers and this body. */
typedef struct zone_reply {
    size_t n_headers;
    zone_header *headers; /* owned by the reply */
    char *body;           /* owned by the reply, NUL-terminated */
    size_t body_len;
} zone_reply;

/*
 * Builds the signed and encrypted reply carrying response (len bytes). When cb did not
 * verify this is the exception reply, whatever response holds. Returns ZONE_OK and
 * *out (free with zone_reply_free()), or a code with errbuf (may be NULL) filled.
 */
ZONE_API int zone_callback_build_reply(const zone_callback *cb, const char *response, size_t len,
                                       zone_reply **out, char *errbuf, size_t errlen);
ZONE_API void zone_reply_free(zone_reply *r); /* accepts NULL */

/* ---- Outbound: invoking SDK APIs ----------------------------------------------------------- */

typedef struct zone_sdk zone_sdk;

/*
 * A handle to invoke SDK APIs as (corpid, agentid, ability_id, job_info); job_info is ""
 * except for program_async_job_call_back. Strings are copied. Reads the configuration
 * (ZONELAB_URL, ZONELAB_SECRET, ZONELAB_SECRET_VER, ZONELAB_INSTANCE); when it is missing
 * or bad the handle is still made and every invoke fails with -10001 and a message naming
 * the variable. Returns NULL only when memory runs out. Free with zone_sdk_free().
 */
ZONE_API zone_sdk *zone_sdk_new(const char *corpid, uint32_t agentid, const char *ability_id,
                                const char *job_info);
/* The same, in the context of an inbound request (its corpid, agentid, ability_id, job_info). */
ZONE_API zone_sdk *zone_sdk_new_from_callback(const zone_callback *cb);
ZONE_API void zone_sdk_free(zone_sdk *s); /* accepts NULL */

/*
 * Calls SDK API `api` with request (JSON text). Returns ZONE_OK and *response (owned, free
 * with zone_string_free(); the reply JSON, whose errcode the caller checks), or a vendor
 * code with *response NULL and errbuf (may be NULL) filled with a sentence saying what
 * happened. Thread-safe: several threads may invoke on one handle at once.
 */
ZONE_API int zone_sdk_invoke(const zone_sdk *s, const char *api, const char *request,
                             char **response, char *errbuf, size_t errlen);

/* ---- Notify ids, debug mode --------------------------------------------------------------- */

/* 32 lower-case hex characters from a secure random source; owned (zone_string_free()). */
ZONE_API char *zone_generate_notify_id(void);

/*
 * Debug mode: asks the backend to accept this program with the debug token the app opened
 * (open_debug_mode) and the app's unexpired access_token. Returns 1 on success, 0 with
 * errbuf filled otherwise.
 */
ZONE_API int zone_open_debug_mode(const char *debug_token, const char *access_token, char *errbuf,
                                  size_t errlen);

/* ---- Logs ----------------------------------------------------------------------------------- */

/* Levels as WeCom numbers them; a line is written when its level <= the configured one. */
enum zone_log_level { ZONE_LOG_LEVEL_ERR = 1, ZONE_LOG_LEVEL_INFO = 2, ZONE_LOG_LEVEL_DBG = 3 };

#define ZONE_LOG_CUSTOM_MAX 128 /* bytes of the caller's text kept per line */

/*
 * Writes `<pid,tid>,YYYY-MM-DD hh:mm:ss.mmm,LEVEL,req_id,file,line,custom` to stdout in one
 * write. custom is the formatted text cut to 128 bytes on a UTF-8 boundary; file is reduced
 * to its base name; req_id is this thread's (see zone_log_set_req_id). The level comes from
 * ZONELAB_LOG_LEVEL (1/ERR, 2/INFO, 3/DBG; default 2).
 */
ZONE_API void zone_log_write(int level, const char *file, int line, const char *fmt, ...)
    ZONE_PRINTF(4, 5);
/* The configured level. */
ZONE_API int zone_log_level(void);
/*
 * Sets this thread's req_id (16 hex digits; NULL restores the default for lines outside a
 * request, ZONELAB_LOG_REQ_ID or 0000000000000000). zone_callback_new sets it; a worker
 * thread handling a request adopts it with zone_log_set_req_id(zone_callback_req_id(cb)).
 */
ZONE_API void zone_log_set_req_id(const char *req_id);

#define ZONE_LOG_ERROR(...) zone_log_write(ZONE_LOG_LEVEL_ERR, __FILE__, __LINE__, __VA_ARGS__)
#define ZONE_LOG_INFO(...)  zone_log_write(ZONE_LOG_LEVEL_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define ZONE_LOG_DEBUG(...) zone_log_write(ZONE_LOG_LEVEL_DBG, __FILE__, __LINE__, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
