/* zd: zone-demo's core, the parts that do not touch the network: configuration, durable
 * storage of events and cursors, message keys, the dispatch of inbound calls and the
 * digest's sentiment pass. The SDK and the clock sit behind seams (zd_sdk, zd_clock) so the
 * core is tested without a backend and without sleeping. */
#ifndef ZD_H
#define ZD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- configuration (config.c) ---- */

typedef struct zd_config {
    unsigned port;              /* --port, $ZONELAB_PORT, $PORT, 8080 */
    unsigned threads;           /* HTTP worker threads, --threads, 4 */
    unsigned queue;             /* connections accepted at once (the bounded queue), 512 */
    unsigned idle_timeout_s;    /* a connection with no traffic this long is closed, 10 */
    unsigned async_workers;     /* workers for async calls, 2 */
    unsigned async_queue;       /* async calls waiting at most, 256 */
    size_t max_body;            /* request body cap in bytes, 1 MiB */
    char data_dir[512];         /* --data-dir, $ZONE_DEMO_DATA_DIR, ./zone-demo-data */
    unsigned retention_s;       /* stored events kept, 1200 (20 min) */
    unsigned cleanup_every_s;   /* cleanup and re-notify pass, 30 */
    int notify_scene;           /* scene sent with spec_notify_app, 1 */
    unsigned notify_tries;      /* spec_notify_app tries on transport failures, 5 */
    unsigned notify_backoff_ms; /* first backoff, doubled each try, 100 */
    unsigned shutdown_grace_s;  /* wait for requests in flight on SIGTERM, 10 */
    char private_key[512];      /* --private-key, $ZONE_DEMO_PRIVATE_KEY: PEM file, "" = none */
    unsigned model_wait_ms;     /* --model-wait-ms: the digest's wait for model tasks, 3000 */
} zd_config;

/* Fills c from argv and the environment. Returns 0; 1 when --help was printed to out; -1
 * with a sentence on err for a bad flag or value. */
int zd_config_load(zd_config *c, int argc, char **argv, FILE *out, FILE *err);

/* ---- the SDK seam (sdk.c binds it to zone_sdk.h) ---- */

/* The base parameters of an invoke. */
typedef struct zd_ctx {
    const char *corpid;
    uint32_t agentid;
    const char *ability_id;
    const char *job_info;
} zd_ctx;

typedef struct zd_sdk {
    /* Invokes api; 0 and *response (owned, free()) or the SDK's return code with err. */
    int (*invoke)(void *ud, const zd_ctx *ctx, const char *api, const char *request,
                  char **response, char *err, size_t errlen);
    /* A fresh notify id (owned, free()), or NULL. */
    char *(*notify_id)(void *ud);
    /* SpecOpenDebugMode(debug_token, access_token): 1 when debug mode is on, else 0 with err.
     * NULL: the SDK has none. */
    int (*open_debug_mode)(void *ud, const char *debug_token, const char *access_token, char *err,
                           size_t errlen);
    void *ud;
} zd_sdk;

/* The SDK's transport failures that are worth a retry: network and HTTP status. */
#define ZD_SDK_NETWORK     (-10002)
#define ZD_SDK_HTTP_STATUS (-10003)

/* The clock seam. NULL members (or a NULL zd_clock) use the real ones. */
typedef struct zd_clock {
    int64_t (*now)(void);          /* seconds since the epoch (stored events, tokens) */
    int64_t (*mono_ms)(void);      /* a monotonic clock in ms (bounded waits) */
    void (*sleep_ms)(unsigned ms); /* backoff and polling */
} zd_clock;

/* ---- message keys (msgkey.c) ---- */

/* The app's RSA private key, the other half of the public key set with set_public_key. */
typedef struct zd_msgkey zd_msgkey;

/* Reads an unencrypted PEM RSA private key from path. NULL with err saying what to change. */
zd_msgkey *zd_msgkey_load(const char *path, char *err, size_t errlen);
/* The same from PEM text (len bytes, borrowed). */
zd_msgkey *zd_msgkey_from_pem(const char *pem, size_t len, char *err, size_t errlen);
void zd_msgkey_free(zd_msgkey *k); /* accepts NULL */

/* Decrypts a message's service_encrypt_info.encrypted_secret_key (base64 of RSA PKCS#1 v1.5)
 * into its secret_key text (owned, free()). NULL with err when it is not base64, does not
 * decrypt with this key, or does not hold text. Thread-safe: k is only read. */
char *zd_msgkey_decrypt(const zd_msgkey *k, const char *b64, char *err, size_t errlen);

/* ---- durable storage (store.c) ---- */

#define ZD_MAX_NOTIFY_ID 64

typedef struct zd_store zd_store;

/* Opens (creating) dir/events, dir/cursors and dir/tokens. NULL with err. Several
 * processes may open the same dir (replicas sharing a data folder): each appends to its own
 * log segment and reads the others'. */
zd_store *zd_store_open(const char *dir, char *err, size_t errlen);
void zd_store_close(zd_store *s); /* accepts NULL */

/* Whether id can name a stored event: 1..64 of [0-9A-Za-z_-]. */
bool zd_notify_id_ok(const char *id);

/* Stores an event under id, not yet notified: a record appended to this process's log
 * segment and synced (fdatasync) before it returns 0; or -1 with err. Thread-safe: the
 * records appended by several threads at once share one sync (group commit). */
int zd_store_put(zd_store *s, const char *id, const char *corpid, uint32_t agentid,
                 const char *data, int64_t now, char *err, size_t errlen);
/* Marks the event notified (the app has its notify id): a record appended and synced as
 * above before it returns 0; or -1 (unknown, or marked already). */
int zd_store_mark_notified(zd_store *s, const char *id);
/* What the store holds of id: 0 nothing, 1 stored and not notified, 2 notified. */
int zd_store_state(zd_store *s, const char *id);
/* Calls fn(id, state, ud) for every event held and not expired (state as above), in no
 * order; returns how many. */
size_t zd_store_each(zd_store *s, void (*fn)(const char *id, int state, void *ud), void *ud);

/* What the store's commits did since it was opened (for logs and tests). */
typedef struct zd_store_counts {
    uint64_t batches;       /* commits */
    uint64_t data_syncs;    /* fdatasyncs: one per segment in a commit */
    uint64_t events;        /* zd_store_put records committed (or failed) */
    uint64_t marks;         /* zd_store_mark_notified records committed (or failed) */
    uint64_t largest_batch; /* records in the largest commit */
    uint64_t waiting;       /* records queued now for the next commit */
    uint64_t segments;      /* log segments this store began */
} zd_store_counts;
void zd_store_counts_get(zd_store *s, zd_store_counts *out);
/* Calls fn(ud, n) in the committing thread before each commit of n records (a seam for
 * tests: the others queue for the next commit while it runs). NULL removes it. */
void zd_store_on_commit(zd_store *s, void (*fn)(void *ud, size_t n), void *ud);

/* The stored event's data (owned, free()). 0 found; 1 unknown; 2 older than the retention. */
int zd_store_get(zd_store *s, const char *id, int64_t now, unsigned retention_s, char **data);

/* An event waiting for its notification. */
typedef struct zd_pending {
    char id[ZD_MAX_NOTIFY_ID + 1];
    char corpid[129];
    uint32_t agentid;
    int64_t stored_at;
} zd_pending;

/* Calls fn for every event stored but not notified and stored at or before older_than.
 * Returns how many there were. */
size_t zd_store_each_pending(zd_store *s, int64_t older_than,
                             void (*fn)(const zd_pending *p, void *ud), void *ud);
/* Forgets events stored before now - retention_s, notified or not, and deletes the segments
 * that hold only such events (once no process appends to them). Returns how many events. */
size_t zd_store_cleanup(zd_store *s, int64_t now, unsigned retention_s);

/* The saved sync_msg cursor of corpid/agentid into out (n bytes); 0 found, 1 none, -1 error. */
int zd_cursor_get(zd_store *s, const char *corpid, uint32_t agentid, char *out, size_t n);
/* Saves it durably (temporary file, fsync, rename, fsync the folder). 0 or -1. */
int zd_cursor_put(zd_store *s, const char *corpid, uint32_t agentid, const char *cursor);
/*
 * Saves the newest conversation_new_message token of corpid/agentid and when it was received
 * (seconds), durably as a cursor is. Thread-safe: while one thread writes, the tokens others
 * give are written by it next, the newest of each app only. 0, or -1 (a token with a space or
 * a newline, a corpid that is not a plain id, a write failed, 16 apps' tokens unwritten).
 */
int zd_token_put(zd_store *s, const char *corpid, uint32_t agentid, const char *token,
                 int64_t received_at);
/* The saved token into out (n bytes) and *received_at; 0 found, 1 none, -1 unreadable. */
int zd_token_get(zd_store *s, const char *corpid, uint32_t agentid, char *out, size_t n,
                 int64_t *received_at);

/* ---- dispatch (dispatch.c) ---- */

typedef struct zd_app zd_app;

/* What the SDK told about an inbound request. */
typedef struct zd_request {
    uint32_t call_type; /* 1 app call, 2 event */
    const char *corpid;
    uint32_t agentid;
    const char *ability_id;
    const char *notify_id;
    const char *job_info;
    bool is_async;
    const char *data;
} zd_request;

/* Starts the async workers; loads cfg->private_key when set (a key that does not load is
 * logged and remembered: digests that ask for sentiment answer why). clock may be NULL (the
 * real clocks). cfg, store and the SDK's ud are borrowed for the app's life. NULL when no
 * worker starts. */
zd_app *zd_app_new(const zd_config *cfg, zd_store *store, const zd_sdk *sdk, const zd_clock *clock);
/* Waits for queued async calls to finish, then frees. */
void zd_app_free(zd_app *a);

/* Handles one verified request; returns the response body (owned, free()). Async calls are
 * queued for a worker and answered "{}" at once (WeCom ignores that answer). */
char *zd_handle(zd_app *a, const zd_request *rq);

/* Notifies every event stored but not notified before older_than (start-up recovery and the
 * periodic pass). Returns how many were notified. */
size_t zd_renotify(zd_app *a, int64_t older_than);
/* One cleanup pass: deletes expired events, re-notifies stale pending ones. */
void zd_maintain(zd_app *a);

/* Counters for logs and tests. */
typedef struct zd_stats {
    uint64_t events_stored, events_notified, notify_failures, async_done, async_rejected;
} zd_stats;
void zd_app_stats(zd_app *a, zd_stats *out);

/* The reply body of a failure in the sample convention: {"errcode":710660,"errmsg":...}. */
char *zd_error_json(int errcode, const char *errmsg);

/* ---- the digest's sentiment pass (sentiment.c) ---- */

struct cJSON;

/* msgtypes the sentiment model analyses: text, voice, audio archive (sdk-api.md 6.1). */
bool zd_sentiment_msgtype(int msgtype);

/* What the digest's request_data asks for: *sentiment is true for {"sentiment":true}. Data
 * that is not a JSON object, or has no "sentiment", asks for nothing (the digest as it
 * always was). 0, or -1 with err when "sentiment" is there but not a bool. */
int zd_digest_options(const char *request_data, bool *sentiment, char *err, size_t errlen);

/* The counts of one sentiment pass. Every message handed to the pass ends in exactly one of
 * analysed (= positive + negative + none), failed, unfinished. */
typedef struct zd_sentiment_counts {
    long analysed, positive, negative, none, failed, unfinished;
} zd_sentiment_counts;

/* The messages of one digest to analyse, collected while it syncs. */
typedef struct zd_sentiment zd_sentiment;

#define ZD_SENTIMENT_MAX_MSGS 100000 /* per digest: the sentiment quota of a corp's day */
#define ZD_SENTIMENT_CHUNK    1000   /* msg_list items per create_sentiment_task */
#define ZD_SENTIMENT_POLL_MS  100    /* between get_sentiment_result rounds */

zd_sentiment *zd_sentiment_new(void);
void zd_sentiment_free(zd_sentiment *s); /* accepts NULL */
/* Adds one sync_msg msg_list item when its msgtype is analysed (others are ignored). An item
 * without msgid or encrypted key counts as failed; past ZD_SENTIMENT_MAX_MSGS as
 * unfinished. 0, or -1 when memory runs out (the item counts as failed). */
int zd_sentiment_add(zd_sentiment *s, const struct cJSON *msg);

/* What the pass needs from the app. */
typedef struct zd_sentiment_env {
    const zd_sdk *sdk;
    const zd_ctx *ctx;
    const zd_clock *clock; /* every member set */
    const zd_msgkey *key;
    unsigned wait_ms;
} zd_sentiment_env;

/* Decrypts the keys, creates tasks of at most ZD_SENTIMENT_CHUNK messages, and polls
 * get_sentiment_result every ZD_SENTIMENT_POLL_MS until every task finished or wait_ms
 * passed since the pass began (no new task is created after that either). Fills *out.
 * Returns 0; -1 when messages were collected but the key decrypted none of them (then err
 * says so, and they count as failed). */
int zd_sentiment_run(zd_sentiment *s, const zd_sentiment_env *env, zd_sentiment_counts *out,
                     char *err, size_t errlen);

#endif
