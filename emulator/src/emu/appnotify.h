/* appnotify: callbacks encrypted and signed with WXBizMsgCrypt (program_notify to apps, and
 * the suites' command callbacks), delivered to a built-in receiver (inside the emulator) or
 * to a callback URL. */
#ifndef ZL_APPNOTIFY_H
#define ZL_APPNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/engine.h"
#include "core/journal.h"
#include "core/sbuf.h"
#include "wecom/world.h"

#define ZL_APPNOTIFY_MAX_NOTIFY_ID 128   /* bytes (events.md §4) */
#define ZL_APPNOTIFY_INBOX_CAP     10000 /* fake-app inbox entries kept; older ones are dropped */
#define ZL_APPNOTIFY_VERIFY_MS     1000 /* URL verification answer deadline (callback-crypto §5.1) */

typedef struct zl_appnotify_options {
    long timeout_ms;        /* per try, default 5000 (URL verification: at most 1000) */
    long verify_timeout_ms; /* URL verification's cap on timeout_ms, default 1000 */
    int tries;              /* total tries on connect failure/timeout, default 3 */
    bool omit_agentid;      /* default false: the outer envelope carries <AgentID> */
    bool scene_zero;        /* default false: absent scene -> element omitted; true -> 0 */
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
/* Replaces n's options (opt NULL = defaults; zero members take their default): deliveries
 * from now on use them, the tries in flight included. */
void zl_appnotify_set_options(zl_appnotify *n, const zl_appnotify_options *opt);

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
 * What a built-in receiver does with a callback it checked and decrypted: keeps it and
 * returns its seq (> 0), or 0 when it cannot (out of memory). detail is the callback's
 * journal fields, xml the plaintext, fields its elements as {name: text} in order; all are
 * borrowed for the call.
 */
typedef uint64_t (*zl_callback_keep_fn)(void *ud, const cJSON *detail, const char *xml,
                                        const cJSON *fields);

/* One callback for zl_appnotify_send; every pointer is borrowed for the call. */
typedef struct zl_callback_msg {
    const char *kind;             /* its journal entries' kind: "program_notify", "suite" */
    const cJSON *detail;          /* the fields each of those entries starts with (an object) */
    const char *id_name;          /* what receiveid is, in url_verify entries: "corpid" */
    const char *receiveid;        /* WXBizMsgCrypt's receiveid: a corpid, or a suite_id */
    uint32_t agentid;             /* the app's (0 for a suite): with receiveid, names the URL */
    const char *envelope_agentid; /* the outer envelope's <AgentID>; NULL: none */
    const char *url;              /* "" or NULL: the built-in receiver keeps it */
    const char *token;
    const char *encoding_aes_key;
    const char *xml;      /* the plaintext */
    bool want_success;    /* the URL must answer the text "success" (suite command URLs) */
    const char *receiver; /* the journal's target when kept built-in: "fake_app" */
    zl_callback_keep_fn keep;
    void *keep_ud;
} zl_callback_msg;

/*
 * Sends m: the plaintext encrypted with m's token and key (receiveid m->receiveid), in an
 * envelope whose ToUserName is the receiveid, with msg_signature, timestamp (virtual seconds)
 * and nonce. Delivery as for program_notify: the URL verified first (once per configuration),
 * 3 tries on connect failure or timeout; a URL that answers anything but 200 (or, with
 * want_success, anything but "success") has refused it. Returns 0 when delivery started (the
 * result is journaled under m->kind), -1 on bad arguments or out of memory.
 */
int zl_appnotify_send(zl_appnotify *n, const zl_callback_msg *m);

/* A callback POST as a receiver sees it, and the receiver's own token, key and receiveid;
 * every pointer borrowed. */
typedef struct zl_callback_post {
    const char *token, *encoding_aes_key, *receiveid;
    const char *signature, *timestamp, *nonce; /* the query's msg_signature, timestamp, nonce */
    const char *body;                          /* the XML envelope (<Encrypt>), NUL-terminated */
} zl_callback_post;

/*
 * What the built-in receivers (the fake app, the fake provider) do with a POST: check its
 * msg_signature, decrypt <Encrypt>, and read the plaintext's flat XML (<xml><Name>text or
 * CDATA</Name>...</xml>). 0 with *xml (the plaintext) and *fields ({name: text} in order),
 * both owned by the caller; else -1 with one sentence in why and both NULL.
 */
int zl_appnotify_read(const zl_callback_post *p, char **xml, cJSON **fields, char *why,
                      size_t whylen);

/* Appends s to b as CDATA (a "]]>" inside is split across two sections). */
void zl_appnotify_cdata(zl_sbuf *b, const char *s);

/*
 * The built-in fake app's inbox: a new JSON array (caller deletes) of what it received
 * with seq > since, for agentid (0 = every app), oldest first: {seq, t (virtual ms),
 * corpid, agentid, event, notify_id, notify_scene (absent when the XML had none),
 * create_time, xml (the decrypted plaintext)}. NULL when n is NULL or memory runs out.
 */
cJSON *zl_appnotify_inbox(const zl_appnotify *n, uint32_t agentid, uint64_t since);
/* Newest inbox seq, 0 when nothing was received. */
uint64_t zl_appnotify_inbox_last(const zl_appnotify *n);
/* The oldest inbox seq still kept (last + 1 when the inbox is empty): the newest
 * ZL_APPNOTIFY_INBOX_CAP are kept, so first - 1 notifications were dropped. */
uint64_t zl_appnotify_inbox_first(const zl_appnotify *n);

/*
 * URL verification state of the app agentid of corpid (its newest configuration): 1
 * verified, 0 the last verification failed (*why, when why is not NULL, gets the reason,
 * borrowed until n changes), -1 never tried, in progress, or unknown app.
 */
int zl_appnotify_url_verified(const zl_appnotify *n, const char *corpid, uint32_t agentid,
                              const char **why);

#endif
