/* zd: zone-demo's core, the parts that do not touch the network: configuration, durable
 * storage of events and cursors, and the dispatch of inbound calls. The SDK sits behind a
 * seam (zd_sdk) so the core is tested without a backend. */
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
    unsigned queue;             /* connections accepted at once (the bounded queue), 64 */
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
    void *ud;
} zd_sdk;

/* The SDK's transport failures that are worth a retry: network and HTTP status. */
#define ZD_SDK_NETWORK     (-10002)
#define ZD_SDK_HTTP_STATUS (-10003)

/* ---- durable storage (store.c) ---- */

#define ZD_MAX_NOTIFY_ID 64

typedef struct zd_store zd_store;

/* Opens (creating) dir/events and dir/cursors. NULL with err. */
zd_store *zd_store_open(const char *dir, char *err, size_t errlen);
void zd_store_close(zd_store *s); /* accepts NULL */

/* Whether id can name a stored event: 1..64 of [0-9A-Za-z_-] (never a path). */
bool zd_notify_id_ok(const char *id);

/* Stores an event under id, not yet notified: written to a temporary file, fsynced, renamed
 * into place and the folder fsynced. 0, or -1 with err (nothing is left behind). */
int zd_store_put(zd_store *s, const char *id, const char *corpid, uint32_t agentid,
                 const char *data, int64_t now, char *err, size_t errlen);
/* Marks the event notified (the app has its notify id). 0 or -1. */
int zd_store_mark_notified(zd_store *s, const char *id);

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
/* Deletes events stored before now - retention_s, notified or not. Returns how many. */
size_t zd_store_cleanup(zd_store *s, int64_t now, unsigned retention_s);

/* The saved sync_msg cursor of corpid/agentid into out (n bytes); 0 found, 1 none, -1 error. */
int zd_cursor_get(zd_store *s, const char *corpid, uint32_t agentid, char *out, size_t n);
/* Saves it durably (temporary file, fsync, rename, fsync the folder). 0 or -1. */
int zd_cursor_put(zd_store *s, const char *corpid, uint32_t agentid, const char *cursor);

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

/* now_fn: seconds since the epoch (NULL = time()); sleep_fn: for backoff (NULL = nanosleep). */
zd_app *zd_app_new(const zd_config *cfg, zd_store *store, const zd_sdk *sdk,
                   int64_t (*now_fn)(void), void (*sleep_ms_fn)(unsigned ms));
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

#endif
