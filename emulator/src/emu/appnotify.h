/* appnotify: app callbacks (program_notify) encrypted and signed with WXBizMsgCrypt,
 * delivered to the built-in fake app (inside the emulator) or to the app's callback URL. */
#ifndef ZL_APPNOTIFY_H
#define ZL_APPNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/engine.h"
#include "core/journal.h"
#include "wecom/world.h"

#define ZL_APPNOTIFY_MAX_NOTIFY_ID 128   /* bytes (events.md §4) */
#define ZL_APPNOTIFY_INBOX_CAP     10000 /* fake-app inbox entries kept; older ones are dropped */
#define ZL_APPNOTIFY_VERIFY_MS     1000 /* URL verification answer deadline (callback-crypto §5.1) */

typedef struct zl_appnotify_options {
    long timeout_ms;   /* per try, default 5000 (URL verification: at most 1000) */
    int tries;         /* total tries on connect failure/timeout, default 3 */
    bool omit_agentid; /* default false: the outer envelope carries <AgentID> */
    bool scene_zero;   /* default false: absent scene -> element omitted; true -> 0 */
} zl_appnotify_options;

typedef struct zl_appnotify zl_appnotify;

/*
 * Creates a notifier on e that journals to j (NULL: no journal). e and j are borrowed and
 * must outlive the notifier: free it before them. opt NULL = defaults; zero (or negative)
 * members take their default too. NULL when e is NULL or memory runs out.
 */
zl_appnotify *zl_appnotify_new(zl_engine *e, zl_journal *j, const zl_appnotify_options *opt);
/*
 * Cancels deliveries in flight (each is journaled "cancelled"; an HTTP request already on
 * the wire still reaches the app, its answer is ignored) and frees n; accepts NULL.
 */
void zl_appnotify_free(zl_appnotify *n);

/*
 * Sends program_notify for notify_id (1..128 bytes, no control characters) to app of
 * corpid (1..128 bytes, without "]]>"); scene 0..255, or -1 when spec_notify_app had
 * none/out of range. Every argument is borrowed for the call only. Returns 0 when delivery
 * started (the result is journaled, never reported back), -1 on bad arguments (also an app
 * whose EncodingAESKey is not 43 characters of [A-Za-z0-9]) or out of memory.
 *
 * callback_url "" (or NULL): the built-in fake app checks, decrypts and keeps it on a later
 * turn. Otherwise the URL is verified first (once per app configuration while n lives; a
 * failure is retried by the next notification), then the envelope is POSTed.
 */
int zl_appnotify_program_notify(zl_appnotify *n, const char *corpid, const zl_app *app,
                                const char *notify_id, int scene);

/*
 * The built-in fake app's inbox: a new JSON array (caller deletes) of what it received
 * with seq > since, for agentid (0 = every app), oldest first: {seq, t (virtual ms),
 * corpid, agentid, event, notify_id, notify_scene (absent when the XML had none),
 * create_time, xml (the decrypted plaintext)}. NULL when n is NULL or memory runs out.
 */
cJSON *zl_appnotify_inbox(const zl_appnotify *n, uint32_t agentid, uint64_t since);
/* Newest inbox seq, 0 when nothing was received. */
uint64_t zl_appnotify_inbox_last(const zl_appnotify *n);

/*
 * URL verification state of the app agentid of corpid (its newest configuration): 1
 * verified, 0 the last verification failed (*why, when why is not NULL, gets the reason,
 * borrowed until n changes), -1 never tried, in progress, or unknown app.
 */
int zl_appnotify_url_verified(const zl_appnotify *n, const char *corpid, uint32_t agentid,
                              const char **why);

#endif
