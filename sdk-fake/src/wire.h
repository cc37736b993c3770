/* wire: zone wire v1, the signed and encrypted channel between the emulator and the SDK. */
#ifndef ZONE_WIRE_H
#define ZONE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

/* Results: name, text, the vendor SDK return code it maps to. */
#define ZONE_WIRE_RESULTS(X)                                                                       \
    X(ZONE_WIRE_OK, "ok", 0)                                                                       \
    X(ZONE_WIRE_ERR_INTERNAL, "internal error (allocation or OpenSSL)", -10001)                    \
    X(ZONE_WIRE_ERR_BAD_SECRET, "secret is not base64 of 32 bytes", -10001)                        \
    X(ZONE_WIRE_ERR_TOO_LARGE, "body or header over the size cap", -10001)                         \
    X(ZONE_WIRE_ERR_MISSING_HEADER, "a ww-* header is missing", -10004)                            \
    X(ZONE_WIRE_ERR_HEADER_CASE, "a ww-* header name was re-cased", -10004)                        \
    X(ZONE_WIRE_ERR_SECRET_VER, "secret version unknown or malformed", -10008)                     \
    X(ZONE_WIRE_ERR_TIMESTAMP, "ww-timestamp is not decimal seconds", -10004)                      \
    X(ZONE_WIRE_ERR_STALE, "ww-timestamp more than 300 s away", -10004)                            \
    X(ZONE_WIRE_ERR_NONCE, "ww-nonce malformed", -10004)                                           \
    X(ZONE_WIRE_ERR_REPLAY, "ww-nonce seen before inside the window", -10004)                      \
    X(ZONE_WIRE_ERR_SIGNATURE, "ww-signature does not match", -10004)                              \
    X(ZONE_WIRE_ERR_CIPHERTEXT, "body does not decrypt (base64, iv, ciphertext or tag)", -10005)   \
    X(ZONE_WIRE_ERR_JSON, "envelope is not the expected JSON", -10009)

enum zone_wire_result {
#define ZONE_WIRE_ENUM(name, text, sdk) name,
    ZONE_WIRE_RESULTS(ZONE_WIRE_ENUM)
#undef ZONE_WIRE_ENUM
};

/* Static text of a result. */
const char *zone_wire_strerror(int result);
/* The vendor SDK return code (0, -10001, -10004, -10005, -10008, -10009) for a result. */
int zone_wire_sdk_code(int result);

#define ZONE_WIRE_WINDOW     300         /* seconds either side of now */
#define ZONE_WIRE_MAX_BODY   (16u << 20) /* bytes of base64 body */
#define ZONE_WIRE_MAX_HEADER 256         /* bytes of a ww-* header value */

/* Paths and the pseudo-method a reply is signed with (replies answer "REPLY" + request path). */
#define ZONE_WIRE_CALLBACK_PATH "/"
#define ZONE_WIRE_INVOKE_PATH   "/zone/v1/invoke"
#define ZONE_WIRE_REPLY_METHOD  "REPLY"
/*
 * Extra headers on an exception reply (the request did not verify): ww-exception holds the
 * vendor SDK code the receiver saw (e.g. "-10004"), ww-error a sentence saying why. An
 * exception reply is sealed when the receiver has keys, and bare (empty body) otherwise.
 */
#define ZONE_WIRE_H_EXCEPTION "ww-exception"
#define ZONE_WIRE_H_ERROR     "ww-error"

/* Keys derived from one program secret (caller storage; no heap). */
typedef struct zone_wire_keys {
    uint32_t version;
    unsigned char sign[32];
    unsigned char enc[32];
} zone_wire_keys;

/* Derives both keys from secret_b64 (base64 of 32 bytes) with HKDF-SHA256. */
int zone_wire_keys_init(zone_wire_keys *k, const char *secret_b64, uint32_t version);
/* Fetches now the implementations the wire uses (HKDF, HMAC, AES-256-GCM), which a process
 * otherwise fetches on its first use: one that forks workers calls it first, so they need
 * not; optional. */
void zone_wire_warm(void);

/* Seams for tests: wall clock and randomness. NULL members (or a NULL env) use the real ones. */
typedef struct zone_wire_env {
    time_t (*now)(void *ud);
    int (*random)(void *ud, unsigned char *buf, size_t n); /* 0 on success */
    void *ud;
} zone_wire_env;

/* n random bytes for what is public once sent (IVs, nonces, request and notify ids), from a
 * per-thread pool RAND_bytes refills (a forked child starts with an empty one): 0, or -1 when
 * the DRBG failed. */
int zone_wire_random(unsigned char *out, size_t n);

/* One header as sent or received; names are never normalised. */
typedef struct zone_wire_header {
    const char *name;
    const char *value;
} zone_wire_header;

/* The four ww-* headers a seal produces (caller storage). */
typedef struct zone_wire_sealed_headers {
    char secret_ver[16];
    char timestamp[24];
    char nonce[33];
    char signature[65];
} zone_wire_sealed_headers;

/*
 * Encrypts plaintext (len bytes) into *body (owned, free(), NUL-terminated base64) and
 * fills the four headers, signed over method, path, timestamp, nonce, version and body.
 */
int zone_wire_seal(const zone_wire_keys *k, const zone_wire_env *env, const char *method,
                   const char *path, const char *plaintext, size_t len, zone_wire_sealed_headers *h,
                   char **body);

/*
 * Seals the reply envelope {"response":<response as a JSON string>[,"exception":true]} in one
 * buffer: the envelope written with response escaped (zone_wire_reply_write), encrypted in
 * place, base64 into *body (owned, free(), *body_len bytes, NUL-terminated); headers signed
 * as a reply (method REPLY) to path. The bytes equal zone_wire_reply_encode's sealed.
 */
int zone_wire_seal_reply(const zone_wire_keys *k, const zone_wire_env *env, const char *path,
                         const char *response, size_t len, int exception,
                         zone_wire_sealed_headers *h, char **body, size_t *body_len);

/* Bytes of the reply envelope around response (len bytes), with "exception":true when set. */
size_t zone_wire_reply_size(const char *response, size_t len, int exception);
/* Writes that envelope into out (zone_wire_reply_size bytes, no NUL), escaping as cJSON
 * prints a string; returns the bytes written. */
size_t zone_wire_reply_write(const char *response, size_t len, int exception, char *out);

/*
 * out = 64 lower-case hex chars of HMAC-SHA256(sign key, "ZW1\n" METHOD "\n" PATH "\n"
 * TIMESTAMP "\n" NONCE "\n" VERSION "\n" BODY) + NUL; body is the base64 text as sent.
 */
int zone_wire_sign(const zone_wire_keys *k, const char *method, const char *path, const char *ts,
                   const char *nonce, const char *ver, const char *body, size_t body_len,
                   char out[65]);

/* Replay cache of nonces inside the window; thread-safe. At 200,000 nonces it forgets the
 * oldest seconds, and refuses messages signed in them from then on (wire.c). */
typedef struct zone_wire_replay zone_wire_replay;
zone_wire_replay *zone_wire_replay_new(void);
/* The same with room for max nonces (at least 10) instead of 200,000: for tests. */
zone_wire_replay *zone_wire_replay_new_max(size_t max);
void zone_wire_replay_free(zone_wire_replay *r); /* accepts NULL */

/*
 * Verifies and decrypts a request or reply. headers are as received (n of them); the
 * replay cache may be NULL (replies are not replay-checked). On success *plaintext is
 * owned (free(), NUL-terminated). detail (may be NULL) receives a sentence on failure.
 * Checks in order: headers present and lower-case, secret version, timestamp, window,
 * nonce, signature, replay, then the body.
 */
int zone_wire_open(const zone_wire_keys *k, zone_wire_replay *replay, const zone_wire_env *env,
                   const char *method, const char *path, const zone_wire_header *headers, size_t n,
                   const char *body, size_t body_len, char **plaintext, size_t *len, char *detail,
                   size_t detail_len);

/* Callback envelope (emulator -> program). Strings are owned by the struct. */
typedef struct zone_wire_callback {
    char *corpid, *data, *job_info, *ability_id, *notify_id, *req_id;
    uint32_t agentid, call_type;
    int is_async;
} zone_wire_callback;

/* Invoke envelope (program -> emulator). */
typedef struct zone_wire_invoke {
    char *api, *request, *corpid, *ability_id, *job_info, *instance;
    uint32_t agentid;
} zone_wire_invoke;

/* Reply envelope (either direction). */
typedef struct zone_wire_reply {
    char *response;
    int exception;
} zone_wire_reply;

/*
 * Parses text that must be exactly one JSON value (whitespace around it allowed): NULL when it
 * is not JSON, when bytes follow the value, or when a string holds the escape \u0000, which
 * cJSON would decode into a NUL that ends the C string early (an "api" of "sync_msg\u0000x"
 * would run as "sync_msg"). The caller deletes the result.
 */
cJSON *zone_wire_json_parse(const char *text, size_t len);

/* Encoders return owned JSON text (free()) or NULL; decoders fill the struct (cleanup after). */
char *zone_wire_callback_encode(const zone_wire_callback *c);
int zone_wire_callback_decode(const char *json, size_t len, zone_wire_callback *c);
void zone_wire_callback_cleanup(zone_wire_callback *c);
char *zone_wire_invoke_encode(const zone_wire_invoke *v);
int zone_wire_invoke_decode(const char *json, size_t len, zone_wire_invoke *v);
void zone_wire_invoke_cleanup(zone_wire_invoke *v);
char *zone_wire_reply_encode(const zone_wire_reply *r);
int zone_wire_reply_decode(const char *json, size_t len, zone_wire_reply *r);
void zone_wire_reply_cleanup(zone_wire_reply *r);
/*
 * zone_wire_reply_decode for an owned buffer (*json, len bytes, NUL after them): when the
 * text is the envelope exactly as zone_wire_reply_write writes it, its string is unescaped in
 * place and the buffer becomes r->response (*json is set NULL); otherwise the general decoder
 * reads it and *json stays the caller's. Same results as zone_wire_reply_decode.
 */
int zone_wire_reply_take(char **json, size_t len, zone_wire_reply *r);

#endif
