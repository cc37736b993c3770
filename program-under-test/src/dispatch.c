/* dispatch: what zone-demo does with a verified request. Events are stored durably, then the
 * app is notified; app calls are dispatched by ability (the digest, echo_input, invoke_<api>,
 * get_callback_data); async calls run on workers and report through
 * program_async_job_call_back. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "zd.h"
#include "zone_sdk.h"

#define ZD_SAMPLE_ERROR 710660 /* the official samples' own failure code */
#define MAX_PAGES       100000 /* sync_msg calls one digest makes at most */

typedef struct job {
    struct job *next;
    char *corpid, *ability_id, *job_info, *data, *notify_id;
    uint32_t agentid;
} job;

/* The newest conversation_new_message token per corp/app, for sync_msg's rate limit. */
typedef struct token_slot {
    char corpid[129];
    uint32_t agentid;
    char token[129];
    int64_t at;
    int64_t saved_at; /* when a token of this app was last written to the store, 0: never */
} token_slot;

/* A token is written to the store once a minute per app at most: the one saved is then at
 * most a minute older than the newest, and valid 8 minutes more (zone-demo sends a token
 * less than 9 minutes old), while events arriving together do not each pay two fsyncs. */
#define TOKEN_SAVE_EVERY_S 60

#define TOKEN_SLOTS 16

struct zd_app {
    const zd_config *cfg;
    zd_store *store;
    zd_sdk sdk;
    zd_clock clock;       /* every member set */
    zd_msgkey *key;       /* the app's private key, NULL when none loaded */
    char key_error[400];  /* why there is no key, for digests that ask for sentiment */
    pthread_mutex_t lock; /* the queue, the tokens, the stats */
    pthread_cond_t cond;
    job *head, *tail;
    unsigned queued;
    bool stopping;
    pthread_t *workers;
    unsigned n_workers;
    token_slot tokens[TOKEN_SLOTS];
    struct notifying *notifying; /* ids a thread is notifying now: the periodic pass skips them */
    zd_stats stats;
};

typedef struct notifying {
    struct notifying *next;
    char id[ZD_MAX_NOTIFY_ID + 1];
} notifying;

/* Claims id for notifying; false when another thread has it. */
static bool claim(zd_app *a, const char *id, notifying *slot)
{
    notifying *n;

    pthread_mutex_lock(&a->lock);
    for (n = a->notifying; n; n = n->next)
        if (!strcmp(n->id, id)) {
            pthread_mutex_unlock(&a->lock);
            return false;
        }
    snprintf(slot->id, sizeof slot->id, "%s", id);
    slot->next = a->notifying;
    a->notifying = slot;
    pthread_mutex_unlock(&a->lock);
    return true;
}

static void release(zd_app *a, notifying *slot)
{
    notifying **p;

    pthread_mutex_lock(&a->lock);
    for (p = &a->notifying; *p; p = &(*p)->next)
        if (*p == slot) {
            *p = slot->next;
            break;
        }
    pthread_mutex_unlock(&a->lock);
}

static int64_t real_now(void)
{
    return (int64_t)time(NULL);
}

static int64_t real_mono_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void real_sleep(unsigned ms)
{
    struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&d, &d) != 0)
        ;
}

char *zd_error_json(int errcode, const char *errmsg)
{
    cJSON *j = cJSON_CreateObject();
    char *out;

    cJSON_AddNumberToObject(j, "errcode", errcode);
    cJSON_AddStringToObject(j, "errmsg", errmsg);
    out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}

/* ---- events ---- */

/* Slot of corpid/agentid in a->tokens: its own, else the oldest. Under a->lock. */
static size_t token_slot_of(zd_app *a, const char *corpid, uint32_t agentid)
{
    size_t i, slot = 0;

    for (i = 0; i < TOKEN_SLOTS; i++) {
        if (!strcmp(a->tokens[i].corpid, corpid) && a->tokens[i].agentid == agentid)
            return i;
        if (a->tokens[i].at < a->tokens[slot].at)
            slot = i;
    }
    return slot;
}

/* Keeps the event's conversation_new_message token, in memory and in the store (a restart
 * reads it back: without it, the next sync_msg counts against the no-token budget). */
static void remember_token(zd_app *a, const char *corpid, uint32_t agentid, const char *data)
{
    cJSON *ev = cJSON_Parse(data);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "event_type");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ev, "conversation_new_message"), "token");
    int64_t now = a->clock.now();
    size_t slot;
    bool save;

    if (cJSON_IsString(type) && !strcmp(type->valuestring, "conversation_new_message") &&
        cJSON_IsString(tok) && strlen(tok->valuestring) < sizeof a->tokens[0].token &&
        strlen(corpid) < sizeof a->tokens[0].corpid) {
        pthread_mutex_lock(&a->lock);
        slot = token_slot_of(a, corpid, agentid);
        if (strcmp(a->tokens[slot].corpid, corpid) || a->tokens[slot].agentid != agentid)
            a->tokens[slot].saved_at = 0; /* another app's slot, taken over */
        snprintf(a->tokens[slot].corpid, sizeof a->tokens[slot].corpid, "%s", corpid);
        a->tokens[slot].agentid = agentid;
        snprintf(a->tokens[slot].token, sizeof a->tokens[slot].token, "%s", tok->valuestring);
        a->tokens[slot].at = now;
        save = !a->tokens[slot].saved_at || now - a->tokens[slot].saved_at >= TOKEN_SAVE_EVERY_S;
        if (save)
            a->tokens[slot].saved_at = now;
        pthread_mutex_unlock(&a->lock);
        if (save && zd_token_put(a->store, corpid, agentid, tok->valuestring, now) != 0)
            ZONE_LOG_ERROR("the event token could not be saved");
    }
    cJSON_Delete(ev);
}

/* The token if it is younger than its 10 minutes (with a minute to spare), else "". One
 * saved before a restart is read from the store the first time. */
static void recent_token(zd_app *a, const char *corpid, uint32_t agentid, char *out, size_t n)
{
    char saved[129];
    int64_t at = 0;
    size_t i;
    bool known = false;

    out[0] = '\0';
    pthread_mutex_lock(&a->lock);
    for (i = 0; i < TOKEN_SLOTS; i++)
        if (!strcmp(a->tokens[i].corpid, corpid) && a->tokens[i].agentid == agentid) {
            known = true;
            if (a->clock.now() - a->tokens[i].at < 540)
                snprintf(out, n, "%s", a->tokens[i].token);
        }
    pthread_mutex_unlock(&a->lock);
    if (known || strlen(corpid) >= sizeof a->tokens[0].corpid ||
        zd_token_get(a->store, corpid, agentid, saved, sizeof saved, &at) != 0)
        return;
    pthread_mutex_lock(&a->lock);
    for (i = 0; i < TOKEN_SLOTS; i++) /* another thread may have remembered one meanwhile */
        if (!strcmp(a->tokens[i].corpid, corpid) && a->tokens[i].agentid == agentid)
            break;
    if (i == TOKEN_SLOTS) {
        i = token_slot_of(a, corpid, agentid);
        snprintf(a->tokens[i].corpid, sizeof a->tokens[i].corpid, "%s", corpid);
        a->tokens[i].agentid = agentid;
        snprintf(a->tokens[i].token, sizeof a->tokens[i].token, "%s", saved);
        a->tokens[i].at = at;
        a->tokens[i].saved_at = at;
    }
    if (a->clock.now() - a->tokens[i].at < 540)
        snprintf(out, n, "%s", a->tokens[i].token);
    pthread_mutex_unlock(&a->lock);
}

/* spec_notify_app with id, retrying transport failures with a doubling backoff. 0, the
 * failure, or 1 when another thread is notifying id already. */
static int notify_once(zd_app *a, const char *id, const char *corpid, uint32_t agentid);

static int notify(zd_app *a, const char *id, const char *corpid, uint32_t agentid)
{
    notifying slot;
    int rc;

    if (!claim(a, id, &slot))
        return 1;
    rc = notify_once(a, id, corpid, agentid);
    release(a, &slot);
    return rc;
}

static int notify_once(zd_app *a, const char *id, const char *corpid, uint32_t agentid)
{
    zd_ctx ctx = {.corpid = corpid, .agentid = agentid, .ability_id = "", .job_info = ""};
    char req[160], err[256] = "";
    unsigned t, delay = a->cfg->notify_backoff_ms;
    int rc = -1;

    snprintf(req, sizeof req, "{\"notify_id\":\"%s\",\"notify_scene\":%d}", id,
             a->cfg->notify_scene);
    for (t = 0; t < a->cfg->notify_tries; t++) {
        char *rsp = NULL;
        cJSON *j;
        const cJSON *code;

        if (t > 0) {
            a->clock.sleep_ms(delay);
            delay = delay > 30000 ? 60000 : delay * 2;
        }
        rc = a->sdk.invoke(a->sdk.ud, &ctx, "spec_notify_app", req, &rsp, err, sizeof err);
        if (rc == ZD_SDK_NETWORK || rc == ZD_SDK_HTTP_STATUS) {
            ZONE_LOG_ERROR("spec_notify_app %s: try %u failed (%d), retrying", id, t + 1, rc);
            continue;
        }
        if (rc != 0) {
            ZONE_LOG_ERROR("spec_notify_app %s: SDK code %d: %s", id, rc, err);
            break;
        }
        j = cJSON_Parse(rsp);
        code = cJSON_GetObjectItemCaseSensitive(j, "errcode");
        rc = cJSON_IsNumber(code) ? code->valueint : -1;
        if (rc != 0)
            ZONE_LOG_ERROR("spec_notify_app %s: errcode %d", id, rc);
        cJSON_Delete(j);
        free(rsp);
        break;
    }
    pthread_mutex_lock(&a->lock);
    if (rc == 0)
        a->stats.events_notified++;
    else
        a->stats.notify_failures++;
    pthread_mutex_unlock(&a->lock);
    if (rc == 0 && zd_store_mark_notified(a->store, id) != 0)
        ZONE_LOG_ERROR("event %s notified but not marked; it may be notified again", id);
    return rc;
}

static char *on_event(zd_app *a, const zd_request *rq)
{
    char *id = a->sdk.notify_id(a->sdk.ud), err[200];
    int rc;

    if (!id || !zd_notify_id_ok(id)) {
        free(id);
        ZONE_LOG_ERROR("no usable notify id from the SDK; event not stored");
        return zd_error_json(ZD_SAMPLE_ERROR, "no notify id");
    }
    if (zd_store_put(a->store, id, rq->corpid, rq->agentid, rq->data, a->clock.now(), err,
                     sizeof err) != 0) {
        ZONE_LOG_ERROR("event %s not stored: %s", id, err);
        free(id);
        return zd_error_json(ZD_SAMPLE_ERROR, "the event could not be stored");
    }
    pthread_mutex_lock(&a->lock);
    a->stats.events_stored++;
    pthread_mutex_unlock(&a->lock);
    remember_token(a, rq->corpid, rq->agentid, rq->data);
    ZONE_LOG_INFO("event stored as %s (%zu bytes)", id, strlen(rq->data));
    if (getenv("ZONE_DEMO_FAULT") && !strcmp(getenv("ZONE_DEMO_FAULT"), "kill_after_store"))
        raise(SIGKILL); /* fault injection for the recovery test: die between store and notify */
    rc = notify(a, id, rq->corpid, rq->agentid);
    free(id);
    /* WeCom ignores this answer; the event is stored either way and re-notified later. */
    return rc == 0 ? zd_error_json(0, "ok") : zd_error_json(ZD_SAMPLE_ERROR, "notify pending");
}

typedef struct renotify_pass {
    zd_app *a;
    size_t notified;
} renotify_pass;

static void renotify_one(const zd_pending *p, void *ud)
{
    renotify_pass *r = ud;

    ZONE_LOG_INFO("event %s stored but not notified: notifying", p->id);
    if (notify(r->a, p->id, p->corpid, p->agentid) == 0)
        r->notified++;
}

size_t zd_renotify(zd_app *a, int64_t older_than)
{
    renotify_pass r = {.a = a};

    zd_store_each_pending(a->store, older_than, renotify_one, &r);
    return r.notified;
}

void zd_maintain(zd_app *a)
{
    int64_t now = a->clock.now();
    size_t removed = zd_store_cleanup(a->store, now, a->cfg->retention_s);

    if (removed)
        ZONE_LOG_INFO("cleanup removed %zu expired events", removed);
    /* pending for longer than a handler's own retries take: the notify failed, try again */
    zd_renotify(a, now - 30);
}

/* ---- app calls ---- */

static char *get_callback_data(zd_app *a, const zd_request *rq)
{
    char *data = NULL;
    int rc;

    if (!rq->notify_id || !*rq->notify_id)
        return zd_error_json(ZD_SAMPLE_ERROR, "get_callback_data needs the call's notify_id");
#ifdef ZD_BROKEN_IGNORE_NOTIFY_ID
    /* The deliberately broken build the runner check uses: it looks up the newest event
     * instead of the one the notify_id names, as a program that ignores it would. */
    rc = zd_store_get(a->store, "newest", a->clock.now(), a->cfg->retention_s, &data);
#else
    rc = zd_store_get(a->store, rq->notify_id, a->clock.now(), a->cfg->retention_s, &data);
#endif
    if (rc == 1)
        return zd_error_json(ZD_SAMPLE_ERROR, "no event is stored under this notify_id here");
    if (rc == 2)
        return zd_error_json(ZD_SAMPLE_ERROR, "the event of this notify_id has expired");
    return data; /* the event JSON verbatim */
}

static char *invoke_api(zd_app *a, const zd_request *rq, const char *api)
{
    zd_ctx ctx = {
        .corpid = rq->corpid, .agentid = rq->agentid, .ability_id = rq->ability_id, .job_info = ""};
    char *rsp = NULL, err[256] = "";
    int rc = a->sdk.invoke(a->sdk.ud, &ctx, api, rq->data, &rsp, err, sizeof err);

    if (rc != 0) {
        char msg[320];

        ZONE_LOG_ERROR("invoke %s: SDK code %d: %s", api, rc, err);
        snprintf(msg, sizeof msg, "SDK code %d invoking %s", rc, api);
        return zd_error_json(ZD_SAMPLE_ERROR, msg);
    }
    return rsp; /* the API's answer verbatim */
}

static void count(cJSON *list, const char *kf, const char *vf, int type, const char *id)
{
    cJSON *e;

    cJSON_ArrayForEach(e, list)
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, kf);

        if (id ? cJSON_IsString(k) && !strcmp(k->valuestring, id) &&
                     cJSON_GetObjectItemCaseSensitive(e, "type")->valueint == type
               : k->valueint == type) {
            cJSON *c = cJSON_GetObjectItemCaseSensitive(e, vf);

            cJSON_SetNumberValue(c, c->valuedouble + 1);
            return;
        }
    }
    e = cJSON_CreateObject();
    if (id) {
        cJSON_AddNumberToObject(e, "type", type);
        cJSON_AddStringToObject(e, kf, id);
    } else {
        cJSON_AddNumberToObject(e, kf, type);
    }
    cJSON_AddNumberToObject(e, vf, 1);
    cJSON_AddItemToArray(list, e);
}

static cJSON *sentiment_json(const zd_sentiment_counts *c)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddNumberToObject(j, "analysed", (double)c->analysed);
    cJSON_AddNumberToObject(j, "positive", (double)c->positive);
    cJSON_AddNumberToObject(j, "negative", (double)c->negative);
    cJSON_AddNumberToObject(j, "none", (double)c->none);
    cJSON_AddNumberToObject(j, "failed", (double)c->failed);
    cJSON_AddNumberToObject(j, "unfinished", (double)c->unfinished);
    return j;
}

/*
 * new_messages_digest: every message after the saved cursor (following has_more), counted by
 * msgtype and by sender. The cursor is saved after each page, so a digest that fails half way
 * does not count those pages again. With {"sentiment":true} the text, voice and audio
 * messages it counted then go to WeCom's sentiment model (sentiment.c) within
 * --model-wait-ms; without a usable private key that is refused before anything is synced.
 */
static char *new_messages_digest(zd_app *a, const zd_request *rq)
{
    zd_ctx ctx = {
        .corpid = rq->corpid, .agentid = rq->agentid, .ability_id = rq->ability_id, .job_info = ""};
    char cursor[256] = "", token[129], err[256] = "";
    cJSON *out, *by_type, *by_sender;
    zd_sentiment *senti = NULL;
    long total = 0;
    int more = 1, pages = 0, code = 0;
    bool want_sentiment;
    char *text, msg[600] = "ok";

    if (zd_digest_options(rq->data, &want_sentiment, msg, sizeof msg) != 0)
        return zd_error_json(ZD_SAMPLE_ERROR, msg);
    if (want_sentiment && !a->key) {
        ZONE_LOG_ERROR("digest: sentiment asked for, but there is no private key");
        return zd_error_json(ZD_SAMPLE_ERROR, a->key_error);
    }
    if (want_sentiment && !(senti = zd_sentiment_new()))
        return zd_error_json(ZD_SAMPLE_ERROR, "out of memory");
    out = cJSON_CreateObject();
    by_type = cJSON_CreateArray();
    by_sender = cJSON_CreateArray();
    if (zd_cursor_get(a->store, rq->corpid, rq->agentid, cursor, sizeof cursor) < 0)
        cursor[0] = '\0';
    recent_token(a, rq->corpid, rq->agentid, token, sizeof token);
    while (more && pages++ < MAX_PAGES) {
        cJSON *req = cJSON_CreateObject(), *rsp, *m;
        const cJSON *ec, *next, *hm;
        char *body = NULL, *reply = NULL;
        int rc;

        cJSON_AddNumberToObject(req, "limit", 1000);
#ifdef ZD_PLANT_EMPTY_CURSOR
        /* The planted bug (tests/explore/): the cursor sent even before there is one, as "",
         * which WeCom refuses. */
        cJSON_AddStringToObject(req, "cursor", cursor);
#else
        if (cursor[0])
            cJSON_AddStringToObject(req, "cursor", cursor);
#endif
        if (token[0])
            cJSON_AddStringToObject(req, "token", token);
        body = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        rc = a->sdk.invoke(a->sdk.ud, &ctx, "sync_msg", body, &reply, err, sizeof err);
        cJSON_free(body);
        if (rc != 0) {
            code = ZD_SAMPLE_ERROR;
            snprintf(msg, sizeof msg, "SDK code %d invoking sync_msg", rc);
            ZONE_LOG_ERROR("digest: sync_msg SDK code %d: %s", rc, err);
            break;
        }
        rsp = cJSON_Parse(reply);
        free(reply);
        ec = cJSON_GetObjectItemCaseSensitive(rsp, "errcode");
        if (!cJSON_IsNumber(ec) || ec->valueint != 0) {
            const cJSON *em = cJSON_GetObjectItemCaseSensitive(rsp, "errmsg");

            code = cJSON_IsNumber(ec) ? ec->valueint : ZD_SAMPLE_ERROR;
            snprintf(msg, sizeof msg, "sync_msg: %s",
                     cJSON_IsString(em) ? em->valuestring : "unreadable reply");
            cJSON_Delete(rsp);
            break;
        }
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(rsp, "msg_list"))
        {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "msgtype");
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, "sender");
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(s, "type");
            const cJSON *sid = cJSON_GetObjectItemCaseSensitive(s, "id");

            if (cJSON_IsNumber(t))
                count(by_type, "msgtype", "count", t->valueint, NULL);
            if (cJSON_IsNumber(st) && cJSON_IsString(sid))
                count(by_sender, "id", "count", st->valueint, sid->valuestring);
            if (senti)
                zd_sentiment_add(senti, m);
            total++;
        }
        next = cJSON_GetObjectItemCaseSensitive(rsp, "next_cursor");
        hm = cJSON_GetObjectItemCaseSensitive(rsp, "has_more");
        more = cJSON_IsNumber(hm) ? hm->valueint != 0 : cJSON_IsTrue(hm);
        if (more && cJSON_IsString(next) && !strcmp(next->valuestring, cursor)) {
            code = ZD_SAMPLE_ERROR; /* has_more without progress: stop, do not spin */
            snprintf(msg, sizeof msg, "sync_msg reported more without moving its cursor");
            cJSON_Delete(rsp);
            break;
        }
        if (cJSON_IsString(next) && *next->valuestring &&
            strlen(next->valuestring) < sizeof cursor) {
            snprintf(cursor, sizeof cursor, "%s", next->valuestring);
            if (zd_cursor_put(a->store, rq->corpid, rq->agentid, cursor) != 0)
                ZONE_LOG_ERROR("digest: the cursor could not be saved");
        }
        cJSON_Delete(rsp);
    }
    ZONE_LOG_INFO("digest: %ld messages in %d pages, errcode %d", total, pages, code);
    cJSON_AddNumberToObject(out, "errcode", code);
    cJSON_AddStringToObject(out, "errmsg", msg);
    cJSON_AddNumberToObject(out, "total", (double)total);
    cJSON_AddItemToObject(out, "by_msgtype", by_type);
    cJSON_AddItemToObject(out, "by_sender", by_sender);
    if (senti) {
        /* the messages synced above are past the saved cursor: analyse them whatever happened */
        zd_sentiment_env env = {.sdk = &a->sdk,
                                .ctx = &ctx,
                                .clock = &a->clock,
                                .key = a->key,
                                .wait_ms = a->cfg->model_wait_ms};
        zd_sentiment_counts counts;

        if (zd_sentiment_run(senti, &env, &counts, msg, sizeof msg) != 0 && code == 0) {
            cJSON_ReplaceItemInObjectCaseSensitive(out, "errcode",
                                                   cJSON_CreateNumber(ZD_SAMPLE_ERROR));
            cJSON_ReplaceItemInObjectCaseSensitive(out, "errmsg", cJSON_CreateString(msg));
        }
        cJSON_AddItemToObject(out, "sentiment", sentiment_json(&counts));
        zd_sentiment_free(senti);
    }
    text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    return text;
}

/* echo_input: request_data exactly as it arrived, as a JSON string (never parsed: a model's
 * input protocol, a program task's expanded placeholders, or any text at all). */
/* The SDK half of debug mode (the vendor's SpecOpenDebugMode), for a developer who opened
 * the console half: request_data {"debug_token":..., "access_token":...}. */
static char *open_debug_mode(zd_app *a, const zd_request *rq)
{
    cJSON *j = cJSON_Parse(rq->data ? rq->data : "");
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "debug_token"),
                *at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    char err[256] = "", *out;

    if (!cJSON_IsString(dt) || !cJSON_IsString(at))
        out = zd_error_json(ZD_SAMPLE_ERROR, "give debug_token and access_token (strings)");
    else if (!a->sdk.open_debug_mode)
        out = zd_error_json(ZD_SAMPLE_ERROR, "this SDK has no debug mode");
    else if (a->sdk.open_debug_mode(a->sdk.ud, dt->valuestring, at->valuestring, err, sizeof err) !=
             1) {
        ZONE_LOG_ERROR("open_debug_mode: %s", err);
        out = zd_error_json(ZD_SAMPLE_ERROR, *err ? err : "debug mode refused");
    } else {
        ZONE_LOG_INFO("debug mode on");
        out = zd_error_json(0, "ok");
    }
    cJSON_Delete(j);
    return out;
}

static char *echo_input(const zd_request *rq)
{
    cJSON *j = cJSON_CreateObject();
    const char *data = rq->data ? rq->data : "";
    char *out = NULL;

    if (j && cJSON_AddStringToObject(j, "input", data))
        out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ZONE_LOG_INFO("echo_input: %zu bytes", strlen(data));
    return out ? out : zd_error_json(ZD_SAMPLE_ERROR, "out of memory");
}

static char *app_call(zd_app *a, const zd_request *rq)
{
    const char *ab = rq->ability_id ? rq->ability_id : "";

    ZONE_LOG_DEBUG("app call %.64s: %zu bytes of request_data, notify_id '%.40s'", ab,
                   rq->data ? strlen(rq->data) : 0, rq->notify_id ? rq->notify_id : "");
    if (!strcmp(ab, "get_callback_data"))
        return get_callback_data(a, rq);
    if (!strncmp(ab, "invoke_", 7) && ab[7])
        return invoke_api(a, rq, ab + 7);
    if (!strcmp(ab, "new_messages_digest"))
        return new_messages_digest(a, rq);
    if (!strcmp(ab, "echo_input"))
        return echo_input(rq);
    if (!strcmp(ab, "open_debug_mode"))
        return open_debug_mode(a, rq);
    ZONE_LOG_ERROR("unknown ability '%.64s'", ab);
    return zd_error_json(ZD_SAMPLE_ERROR, "zone-demo has no such ability");
}

/* ---- async workers ---- */

static void job_free(job *j)
{
    free(j->corpid);
    free(j->ability_id);
    free(j->job_info);
    free(j->data);
    free(j->notify_id);
    free(j);
}

static void run_job(zd_app *a, job *j)
{
    zd_request rq = {.call_type = 1,
                     .corpid = j->corpid,
                     .agentid = j->agentid,
                     .ability_id = j->ability_id,
                     .notify_id = j->notify_id,
                     .job_info = j->job_info,
                     .data = j->data};
    zd_ctx ctx = {.corpid = j->corpid,
                  .agentid = j->agentid,
                  .ability_id = j->ability_id,
                  .job_info = j->job_info};
    char *result = app_call(a, &rq), *body, *rsp = NULL, err[256] = "";
    cJSON *res = cJSON_Parse(result), *req = cJSON_CreateObject();
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(res, "errcode");
    int rc;

    /* the program's own failure travels as the job's errcode; the result stays the answer */
    cJSON_AddNumberToObject(req, "errcode", cJSON_IsNumber(ec) ? ec->valueint : 0);
    cJSON_AddStringToObject(req, "result", result ? result : "");
    body = cJSON_PrintUnformatted(req);
    rc = a->sdk.invoke(a->sdk.ud, &ctx, "program_async_job_call_back", body, &rsp, err, sizeof err);
    if (rc != 0)
        ZONE_LOG_ERROR("program_async_job_call_back: SDK code %d: %s", rc, err);
    else
        ZONE_LOG_INFO("async %s reported: %.120s", j->ability_id, rsp);
    free(rsp);
    cJSON_free(body);
    cJSON_Delete(req);
    cJSON_Delete(res);
    free(result);
    pthread_mutex_lock(&a->lock);
    a->stats.async_done++;
    pthread_mutex_unlock(&a->lock);
}

static void *worker(void *arg)
{
    zd_app *a = arg;

    for (;;) {
        job *j;

        pthread_mutex_lock(&a->lock);
        while (!a->head && !a->stopping)
            pthread_cond_wait(&a->cond, &a->lock);
        if (!a->head) { /* stopping and drained */
            pthread_mutex_unlock(&a->lock);
            return NULL;
        }
        j = a->head;
        a->head = j->next;
        if (!a->head)
            a->tail = NULL;
        a->queued--;
        pthread_mutex_unlock(&a->lock);
        run_job(a, j);
        job_free(j);
    }
}

static char *dup0(const char *s)
{
    return strdup(s ? s : "");
}

static char *enqueue(zd_app *a, const zd_request *rq)
{
    job *j = calloc(1, sizeof *j);

    if (!j || !(j->corpid = dup0(rq->corpid)) || !(j->ability_id = dup0(rq->ability_id)) ||
        !(j->job_info = dup0(rq->job_info)) || !(j->data = dup0(rq->data)) ||
        !(j->notify_id = dup0(rq->notify_id))) {
        if (j)
            job_free(j);
        return zd_error_json(ZD_SAMPLE_ERROR, "out of memory");
    }
    j->agentid = rq->agentid;
    pthread_mutex_lock(&a->lock);
    if (a->queued >= a->cfg->async_queue || a->stopping) {
        a->stats.async_rejected++;
        pthread_mutex_unlock(&a->lock);
        job_free(j);
        ZONE_LOG_ERROR("async queue full: %s refused", rq->ability_id);
        return zd_error_json(ZD_SAMPLE_ERROR, "busy: too many async calls waiting");
    }
    if (a->tail)
        a->tail->next = j;
    else
        a->head = j;
    a->tail = j;
    a->queued++;
    pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return strdup("{}");
}

/* ---- the app ---- */

char *zd_handle(zd_app *a, const zd_request *rq)
{
    if (rq->call_type == 2)
        return on_event(a, rq);
    if (rq->is_async)
        return enqueue(a, rq);
    return app_call(a, rq);
}

zd_app *zd_app_new(const zd_config *cfg, zd_store *store, const zd_sdk *sdk, const zd_clock *clock)
{
    zd_app *a = calloc(1, sizeof *a);
    unsigned i;

    if (!a)
        return NULL;
    a->cfg = cfg;
    a->store = store;
    a->sdk = *sdk;
    a->clock.now = clock && clock->now ? clock->now : real_now;
    a->clock.mono_ms = clock && clock->mono_ms ? clock->mono_ms : real_mono_ms;
    a->clock.sleep_ms = clock && clock->sleep_ms ? clock->sleep_ms : real_sleep;
    if (cfg->private_key[0]) {
        char err[300];

        if (!(a->key = zd_msgkey_load(cfg->private_key, err, sizeof err))) {
            ZONE_LOG_ERROR("the private key is not usable, sentiment is off: %s", err);
            snprintf(a->key_error, sizeof a->key_error,
                     "sentiment needs the app's private key, and it did not load: %s", err);
        } else {
            ZONE_LOG_INFO("private key %s loaded: the digest can ask for sentiment",
                          cfg->private_key);
        }
    } else {
        snprintf(a->key_error, sizeof a->key_error,
                 "sentiment needs the app's private key: start zone-demo with --private-key FILE "
                 "(or ZONE_DEMO_PRIVATE_KEY=FILE), the PEM private half of the app's public key");
    }
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    a->workers = calloc(cfg->async_workers, sizeof *a->workers);
    for (i = 0; a->workers && i < cfg->async_workers; i++) {
        if (pthread_create(&a->workers[i], NULL, worker, a) != 0)
            break;
        a->n_workers++;
    }
    if (a->n_workers == 0) {
        zd_app_free(a);
        return NULL;
    }
    return a;
}

void zd_app_free(zd_app *a)
{
    unsigned i;

    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    for (i = 0; i < a->n_workers; i++)
        pthread_join(a->workers[i], NULL);
    free(a->workers);
    zd_msgkey_free(a->key);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    free(a);
}

void zd_app_stats(zd_app *a, zd_stats *out)
{
    pthread_mutex_lock(&a->lock);
    *out = a->stats;
    pthread_mutex_unlock(&a->lock);
}
