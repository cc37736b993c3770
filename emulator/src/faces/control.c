/* control: the /_zonelab/ face the CLI, the inspector and scenarios use (JSON). */
#include "faces/control.h"
#include "core/json.h"
#include "faces/faces.h"
#include "core/grow.h"
#include "core/sbuf.h"
#include "api/chat.h"
#include "api/export.h"
#include "api/kb.h"
#include "api/models.h"
#include "faces/ui.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Control answers: {"ok":true,...} or {"ok":false,"error":"..."} with a 4xx status. */
static void refuse(zl_request *r, unsigned status, const char *why)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddStringToObject(j, "error", why);
    zl_request_respond_json(r, status, j);
}

/* What a family's control function said: status 200 with reply (taken), or why. */
static void answer_family(zl_request *r, unsigned status, cJSON *reply, const char *why)
{
    if (status == 200)
        zl_request_respond_json(r, 200, reply);
    else
        refuse(r, status, why);
}

static cJSON *clock_json(zl_engine *e)
{
    cJSON *j = cJSON_CreateObject();
    zl_clock *k = zl_engine_clock(e);

    cJSON_AddNumberToObject(j, "now_ms", (double)zl_clock_now_ms(k));
    cJSON_AddNumberToObject(j, "now", (double)zl_clock_now(k));
    cJSON_AddNumberToObject(j, "offset_ms", (double)k->offset_ms);
    return j;
}

static const char *kind_name(zl_app_kind k)
{
    return k == ZL_APP_SELF_BUILT ? "self_built" : k == ZL_APP_CUSTOM ? "custom" : "third_party";
}

/* The newest public key version any app of c holds (0: none, nothing is archived). */
static uint32_t corp_key_ver(zl_emu *emu, const zl_corp *c)
{
    uint32_t v = 0;
    size_t i;

    for (i = 0; i < emu->app_count; i++)
        if (emu->apps[i].corp == c && zl_keyring_newest_version(emu->apps[i].keys) > v)
            v = zl_keyring_newest_version(emu->apps[i].keys);
    return v;
}

/* The providers and their suites in the vendor's names, with the newest valid suite_ticket
 * the built-in fake provider holds ("" when none, or when the suite has a URL). */
static void add_providers(zl_emu *emu, cJSON *j)
{
    cJSON *list = cJSON_AddArrayToObject(j, "providers");
    size_t i, k;

    for (i = 0; i < emu->world->provider_count; i++) {
        const zl_provider *p = &emu->world->providers[i];
        cJSON *o = cJSON_CreateObject(), *suites = cJSON_CreateArray();

        cJSON_AddStringToObject(o, "corpid", p->corpid);
        cJSON_AddStringToObject(o, "name", p->name ? p->name : "");
        cJSON_AddStringToObject(o, "provider_secret", p->provider_secret);
        for (k = 0; k < p->suite_count; k++) {
            const zl_suite *su = &p->suites[k];
            const char *ticket = zl_emu_provider_ticket(emu, su, NULL);
            cJSON *so = cJSON_CreateObject();

            cJSON_AddStringToObject(so, "suite_id", su->suite_id);
            cJSON_AddStringToObject(so, "suite_secret", su->suite_secret);
            cJSON_AddStringToObject(so, "kind",
                                    su->kind == ZL_SUITE_CUSTOM ? "custom" : "third_party");
            cJSON_AddStringToObject(so, "callback_url", su->callback_url);
            cJSON_AddStringToObject(so, "token", su->token);
            cJSON_AddStringToObject(so, "encoding_aes_key", su->encoding_aes_key);
            cJSON_AddStringToObject(so, "suite_ticket", ticket ? ticket : "");
            cJSON_AddItemToArray(suites, so);
        }
        cJSON_AddItemToObject(o, "suites", suites);
        cJSON_AddItemToArray(list, o);
    }
}

/* corps, apps and programs with what a developer needs to connect them. */
static void add_world_state(zl_emu *emu, cJSON *j)
{
    cJSON *corps = cJSON_AddArrayToObject(j, "corps"), *apps = cJSON_AddArrayToObject(j, "apps"),
          *progs = cJSON_AddArrayToObject(j, "programs");
    size_t i, k;

    for (i = 0; i < emu->world->corp_count; i++) {
        zl_corp *c = &emu->world->corps[i];
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "corpid", c->corpid);
        cJSON_AddNumberToObject(o, "messages", (double)zl_msgstore_count(c->messages));
        cJSON_AddNumberToObject(o, "public_key_ver", (double)corp_key_ver(emu, c));
        cJSON_AddItemToArray(corps, o);
    }
    for (i = 0; i < emu->app_count; i++) {
        zl_app_rt *a = &emu->apps[i];
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "corpid", a->corp->corpid);
        cJSON_AddNumberToObject(o, "agentid", a->app->agentid);
        cJSON_AddStringToObject(o, "secret", a->app->secret);
        cJSON_AddStringToObject(o, "kind", kind_name(a->app->kind));
        cJSON_AddStringToObject(o, "callback_url", a->app->callback_url);
        cJSON_AddStringToObject(o, "receive_program",
                                a->receiver ? a->receiver->prog->program_id : "");
        cJSON_AddNumberToObject(o, "public_key_ver", zl_keyring_newest_version(a->keys));
        if (a->app->suite) { /* get_corp_token's names (doc 14944) */
            cJSON_AddStringToObject(o, "suite_id", a->app->suite->suite_id);
            cJSON_AddStringToObject(o, "auth_corpid", a->corp->corpid);
            cJSON_AddStringToObject(o, "permanent_code", a->auth.permanent_code);
        }
        cJSON_AddItemToArray(apps, o);
    }
    for (i = 0; i < emu->prog_count; i++) {
        zl_prog_rt *p = &emu->progs[i];
        cJSON *o = cJSON_CreateObject(), *reps;

        cJSON_AddStringToObject(o, "corpid", p->corp->corpid);
        cJSON_AddStringToObject(o, "program_id", p->prog->program_id);
        cJSON_AddStringToObject(o, "secret", p->secret_b64);
        cJSON_AddNumberToObject(o, "secret_ver", p->secret_ver);
        cJSON_AddStringToObject(o, "debug_token", p->debug_token);
        cJSON_AddNumberToObject(o, "debug_token_expires_at",
                                (double)(p->debug_token_expires_ms / 1000));
        cJSON_AddStringToObject(o, "debug_url", p->debug_url);
        cJSON_AddNumberToObject(o, "log_level", p->log_level);
        cJSON_AddItemToObject(o, "logs", zl_proglog_state(emu, p));
        cJSON_AddBoolToObject(o, "debug_mode", p->debug_app_open && p->debug_sdk_open);
        reps = cJSON_AddArrayToObject(o, "replicas");
        for (k = 0; k < p->replica_count; k++) {
            cJSON *rp = cJSON_CreateObject();

            cJSON_AddStringToObject(rp, "instance", p->replicas[k].instance);
            cJSON_AddNumberToObject(rp, "port", p->replicas[k].port);
            cJSON_AddNumberToObject(rp, "pid", p->replicas[k].pid);
            cJSON_AddBoolToObject(rp, "running", p->replicas[k].pid > 0 && !p->replicas[k].exited);
            cJSON_AddBoolToObject(rp, "down", p->replicas[k].down);
            cJSON_AddNumberToObject(rp, "restarts", p->replicas[k].restarts);
            cJSON_AddItemToArray(reps, rp);
        }
        cJSON_AddItemToArray(progs, o);
    }
}

/* ---- what the inspector shows: the live notify ids, tokens and jobs, newest first ---- */

#define STATE_LIST_MAX 100 /* rows per list; live counts them all */

/* Where an entry stands in a newest-first list: its time, then its creation number. */
typedef struct rank {
    int64_t t;
    uint64_t seq;
} rank;

typedef struct listed {
    const char *key;
    const void *value;
    rank order; /* newest first */
} listed;

typedef struct live_list {
    listed *v;
    size_t n, cap;
    rank (*order)(const void *value);
} live_list;

static int list_one(const char *key, void *value, void *ud)
{
    live_list *l = ud;

    if (zl_grow(&l->v, &l->cap, l->n, sizeof *l->v, 64) != 0)
        return 0; /* a shorter list */
    l->v[l->n++] = (listed){.key = key, .value = value, .order = l->order(value)};
    return 0; /* keep it: the sweep is only a walk over keys and values */
}

/* Later first; at the same millisecond the one made later first (never the key's or the
 * map's order). */
static int newest_first(const void *a, const void *b)
{
    const listed *x = a, *y = b;

    if (x->order.t != y->order.t)
        return x->order.t < y->order.t ? 1 : -1;
    return x->order.seq < y->order.seq ? 1 : x->order.seq > y->order.seq ? -1 : 0;
}

/* m's entries sorted newest first into l (l->v freed by the caller). */
static void list_newest(zl_strmap *m, live_list *l)
{
    zl_strmap_sweep(m, list_one, l);
    if (l->n)
        qsort(l->v, l->n, sizeof *l->v, newest_first);
}

static rank notify_order(const void *v)
{
    const zl_notify *n = v;

    return (rank){n->expires_ms, n->seq};
}

static rank token_order(const void *v)
{
    const zl_token *t = v;

    return (rank){t->expires_ms, t->seq};
}

static rank event_token_order(const void *v)
{
    const zl_event_token *t = v;

    return (rank){t->expires_ms, t->seq};
}

static rank job_order(const void *v)
{
    const zl_job *j = v;

    return (rank){j->created_ms, j->seq};
}

static void add_app_ref(cJSON *o, const zl_app_rt *a)
{
    cJSON_AddStringToObject(o, "corpid", a ? a->corp->corpid : "");
    cJSON_AddNumberToObject(o, "agentid", a ? a->app->agentid : 0);
}

static cJSON *notify_row(const char *key, const void *value)
{
    const zl_notify *n = value;
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "notify_id", key);
    cJSON_AddStringToObject(o, "program_id", n->prog->prog->program_id);
    if (n->replica_known && n->replica < n->prog->replica_count) {
        cJSON_AddNumberToObject(o, "replica", (double)n->replica);
        cJSON_AddStringToObject(o, "instance", n->prog->replicas[n->replica].instance);
    } else {
        cJSON_AddNullToObject(o, "replica");
        cJSON_AddNullToObject(o, "instance");
    }
    cJSON_AddNumberToObject(o, "agentid", n->agentid);
    cJSON_AddNumberToObject(o, "expires_ms", (double)n->expires_ms);
    return o;
}

/* An access token or a sync_msg token: the token (under name), its app, when it expires. */
static cJSON *token_row(const char *name, const char *key, const zl_app_rt *app, int64_t expires_ms)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, name, key);
    add_app_ref(o, app);
    cJSON_AddNumberToObject(o, "expires_ms", (double)expires_ms);
    return o;
}

static cJSON *access_token_row(const char *key, const void *value)
{
    const zl_token *t = value;

    return token_row("access_token", key, t->app, t->expires_ms);
}

static cJSON *event_token_row(const char *key, const void *value)
{
    const zl_event_token *t = value;

    return token_row("token", key, t->app, t->expires_ms);
}

static cJSON *job_row(const char *key, const void *value)
{
    const zl_job *b = value;
    cJSON *o = cJSON_CreateObject();

    (void)key;
    cJSON_AddStringToObject(o, "jobid", b->jobid);
    add_app_ref(o, b->app);
    cJSON_AddStringToObject(o, "program_id", b->prog->prog->program_id);
    cJSON_AddStringToObject(o, "ability_id", b->prog->prog->abilities[b->ability].ability_id);
    cJSON_AddStringToObject(o, "state",
                            b->state == 0   ? "pending"
                            : b->state == 1 ? "done"
                                            : "failed");
    if (b->state)
        cJSON_AddNumberToObject(o, "response_errcode", b->response_errcode);
    cJSON_AddBoolToObject(o, "task", b->task);
    cJSON_AddNumberToObject(o, "created_ms", (double)b->created_ms);
    return o;
}

/* j[name]: m's entries newest first, at most STATE_LIST_MAX, each made by row. */
static void add_list(cJSON *j, const char *name, zl_strmap *m, rank (*order)(const void *),
                     cJSON *(*row)(const char *key, const void *value))
{
    live_list l = {.order = order};
    cJSON *arr = cJSON_AddArrayToObject(j, name);
    size_t i;

    list_newest(m, &l);
    for (i = 0; i < l.n && i < STATE_LIST_MAX; i++)
        cJSON_AddItemToArray(arr, row(l.v[i].key, l.v[i].value));
    free(l.v);
}

/* notify_ids, access_tokens, event_tokens and jobs. */
static void add_live_lists(zl_emu *emu, cJSON *j)
{
    add_list(j, "notify_ids", emu->notify_ids, notify_order, notify_row);
    add_list(j, "access_tokens", emu->tokens, token_order, access_token_row);
    add_list(j, "event_tokens", emu->event_tokens, event_token_order, event_token_row);
    add_list(j, "jobs", emu->jobs, job_order, job_row);
}

static void on_state(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    cJSON *j = cJSON_CreateObject(), *jr;

    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddStringToObject(j, "version", c->version ? c->version : "");
    cJSON_AddItemToObject(j, "clock", clock_json(e));
    jr = cJSON_AddObjectToObject(j, "journal");
    cJSON_AddNumberToObject(jr, "last", (double)zl_journal_last(c->journal));
    cJSON_AddNumberToObject(jr, "dropped", (double)zl_journal_dropped(c->journal));
    if (c->emu) {
        cJSON *live = cJSON_AddObjectToObject(j, "live");

        cJSON_AddNumberToObject(live, "access_tokens", (double)zl_strmap_count(c->emu->tokens));
        cJSON_AddNumberToObject(live, "event_tokens",
                                (double)zl_strmap_count(c->emu->event_tokens));
        cJSON_AddNumberToObject(live, "notify_ids", (double)zl_strmap_count(c->emu->notify_ids));
        cJSON_AddNumberToObject(live, "pages", (double)zl_strmap_count(c->emu->pages));
        cJSON_AddNumberToObject(live, "media", (double)zl_strmap_count(c->emu->media));
        cJSON_AddNumberToObject(live, "jobs", (double)zl_strmap_count(c->emu->jobs));
        add_providers(c->emu, j);
        add_world_state(c->emu, j);
        add_live_lists(c->emu, j);
    }
    zl_request_respond_json(r, 200, j);
}

/* Reads an integer member (a JSON number with no fraction, at most 2^53 either way, where
 * JSON numbers are still exact); 1 found, 0 absent, -1 wrong. */
static int int_member(const cJSON *o, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= -9007199254740992.0) ||
        !(v->valuedouble <= 9007199254740992.0) ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return -1;
    *out = (int64_t)v->valuedouble;
    return 1;
}

/*
 * POST /_zonelab/clock {"advance_ms":N} | {"advance":S} | {"set_ms":T} | {"set":T}: moves
 * virtual time forward (never back); due timers fire on the next turn.
 */
static void on_clock(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    cJSON *body = zone_wire_json_parse(zl_request_body(r), zl_request_body_len(r)), *d;
    zl_clock *k = zl_engine_clock(e);
    int64_t v = 0, before = zl_clock_now_ms(k);
    int rc = -4, got; /* -4: no step given; -3: not an integer; else zl_clock_*'s answer */

    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        refuse(r, 400, "the body must be a JSON object such as {\"advance\":3600}");
        return;
    }
    /* seconds are at most 2^53 (int_member): times 1000 stays inside int64_t */
    if ((got = int_member(body, "advance_ms", &v)) != 0)
        rc = got < 0 ? -3 : zl_clock_advance_ms(k, v);
    else if ((got = int_member(body, "advance", &v)) != 0)
        rc = got < 0 ? -3 : zl_clock_advance_ms(k, v * 1000);
    else if ((got = int_member(body, "set_ms", &v)) != 0)
        rc = got < 0 ? -3 : zl_clock_set_ms(k, v);
    else if ((got = int_member(body, "set", &v)) != 0)
        rc = got < 0 ? -3 : zl_clock_set_ms(k, v * 1000);
    cJSON_Delete(body);
    if (rc == -4) {
        refuse(r, 400, "give one of advance, advance_ms, set, set_ms");
        return;
    }
    if (rc == -3) {
        refuse(r, 400, "the value must be an integer from -2^53 to 2^53");
        return;
    }
    if (rc == -2) {
        refuse(r, 400, "the virtual clock ends at 9999-12-31T23:59:59.999Z");
        return;
    }
    if (rc != 0) {
        refuse(r, 409, "the virtual clock never goes backwards");
        return;
    }
    d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "from_ms", (double)before);
    cJSON_AddNumberToObject(d, "to_ms", (double)zl_clock_now_ms(k));
    zl_journal_add(c->journal, zl_clock_now_ms(k), "control", "clock", d);
    if (c->emu)
        zl_emu_sweep(c->emu); /* what the jump expired goes now */
    d = clock_json(e);
    cJSON_AddBoolToObject(d, "ok", 1);
    zl_request_respond_json(r, 200, d);
}

/*
 * Query parameter name as a decimal in min..max into *out (left alone when absent). 0, or -1
 * after answering 400 with why.
 */
static int query_number(zl_request *r, const char *name, unsigned long long min,
                        unsigned long long max, unsigned long long *out, const char *why)
{
    const char *v = zl_request_query(r, name);
    unsigned long long n;
    char *end;

    if (!v)
        return 0;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end || *v < '0' || *v > '9' || n < min || n > max) {
        refuse(r, 400, why);
        return -1;
    }
    *out = n;
    return 0;
}

/* GET /_zonelab/journal?since=N&limit=M: entries after N (default 0), at most M (1000). */
/* A journal page holds at most this much entry text (one entry at least); "more" says the
 * rest waits for the next GET (issue 19: one GET of big entries answered 772 MB). */
#define JOURNAL_PAGE_BYTES (16u << 20)

static void on_journal(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    unsigned long long since = 0, limit = 1000;
    uint64_t last = zl_journal_last(c->journal), seq = zl_journal_first(c->journal);
    size_t bytes = 0;
    zl_sbuf b = {0};
    char head[80];

    (void)e;
    if (query_number(r, "since", 0, ULLONG_MAX, &since,
                     "since must be a journal sequence number") != 0 ||
        query_number(r, "limit", 1, 100000, &limit, "limit must be 1..100000") != 0)
        return;
    /* The entries are JSON text already: they are copied, not parsed and printed again. */
    snprintf(head, sizeof head, "{\"ok\":true,\"last\":%llu,\"entries\":[",
             (unsigned long long)last);
    zl_sbuf_str(&b, head);
    if (since + 1 > seq)
        seq = since + 1;
    for (; seq <= last && limit > 0 && (bytes == 0 || bytes < JOURNAL_PAGE_BYTES); seq++, limit--) {
        const char *text = zl_journal_text(c->journal, seq);
        size_t n = strlen(text);

        if (bytes)
            zl_sbuf_add(&b, ",", 1);
        zl_sbuf_add(&b, text, n);
        bytes += n ? n : 1;
    }
    zl_sbuf_str(&b, seq <= last ? "],\"more\":true}" : "],\"more\":false}");
    if (b.oom)
        zl_request_respond(r, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
    else
        zl_request_respond(r, 200, "application/json; charset=utf-8", b.s, b.len);
    free(b.s);
}

/* The body as a JSON object, or NULL after answering 400. */
static cJSON *object_body(zl_request *r, const char *example)
{
    cJSON *body = zone_wire_json_parse(zl_request_body(r), zl_request_body_len(r));
    char why[200];

    if (cJSON_IsObject(body))
        return body;
    cJSON_Delete(body);
    snprintf(why, sizeof why, "the body must be a JSON object such as %s", example);
    refuse(r, 400, why);
    return NULL;
}

/* The corp named by "corpid", or the world's first corp when absent; NULL after a 4xx. */
static zl_corp *corp_of(zl_emu *emu, zl_request *r, const cJSON *body)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "corpid");
    zl_corp *c;

    if (!v)
        return &emu->world->corps[0];
    if (!cJSON_IsString(v) || !(c = zl_world_corp(emu->world, v->valuestring))) {
        refuse(r, 404, "corpid is not a corp of the world");
        return NULL;
    }
    return c;
}

/* POST /_zonelab/messages {"corpid"?, "messages":[...]}: archives and fires events. */
static void on_messages(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    cJSON *body = object_body(r, "{\"messages\":[{...}]}"), *reply = NULL;
    zl_corp *corp;
    char why[600];
    long n;

    (void)e;
    if (!body || !(corp = corp_of(c->emu, r, body)))
        goto out;
    reply = cJSON_CreateObject();
    n = zl_emu_archive(c->emu, corp, cJSON_GetObjectItemCaseSensitive(body, "messages"), reply, why,
                       sizeof why);
    if (n < 0) {
        refuse(r, strstr(why, "no public key") ? 409 : 400, why);
        goto out;
    }
    cJSON_AddBoolToObject(reply, "ok", 1);
    cJSON_AddNumberToObject(reply, "archived", (double)n);
    zl_request_respond_json(r, 200, reply);
    reply = NULL; /* taken */
out:
    cJSON_Delete(reply);
    cJSON_Delete(body);
}

/* Events one POST /_zonelab/events may carry in "events" (a load test's batch). */
#define MAX_EVENTS_PER_POST 1000

/* POST /_zonelab/events {"event":{...} | "events":[{...}, ...], "program_id"?, "agentid"?,
 * "corpid"?, "replica"?} */
static void on_events(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    zl_emu *emu = c->emu;
    cJSON *body = object_body(r, "{\"event\":{\"event_type\":\"...\"}}"), *reply;
    const cJSON *ev, *evs, *pid, *ag, *rep, *x;
    zl_corp *corp;
    zl_prog_rt *p = NULL;
    uint32_t agentid = 0;
    long replica = -1;
    size_t i, n = 0, pushed = 0;

    (void)e;
    if (!body)
        return;
    if (!(corp = corp_of(emu, r, body)))
        goto out;
    ev = cJSON_GetObjectItemCaseSensitive(body, "event");
    evs = cJSON_GetObjectItemCaseSensitive(body, "events");
    pid = cJSON_GetObjectItemCaseSensitive(body, "program_id");
    ag = cJSON_GetObjectItemCaseSensitive(body, "agentid");
    rep = cJSON_GetObjectItemCaseSensitive(body, "replica");
    if (ev && evs) {
        refuse(r, 400, "give event or events, not both");
        goto out;
    }
    if (evs) {
        if (!cJSON_IsArray(evs) || (n = (size_t)cJSON_GetArraySize(evs)) == 0 ||
            n > MAX_EVENTS_PER_POST) {
            refuse(r, 400, "events must be an array of 1 to 1000 JSON objects");
            goto out;
        }
        i = 0;
        cJSON_ArrayForEach(x, evs)
        {
            if (!cJSON_IsObject(x)) {
                char why[120];

                snprintf(why, sizeof why, "events[%zu] must be a JSON object", i);
                refuse(r, 400, why);
                goto out;
            }
            i++;
        }
    } else if (!cJSON_IsObject(ev)) {
        refuse(r, 400, "event must be a JSON object (any content: unknown types are allowed)");
        goto out;
    }
    if (ag && (!cJSON_IsNumber(ag) || ag->valuedouble < 0 || ag->valuedouble > UINT32_MAX)) {
        refuse(r, 400, "agentid must be an app's agentid");
        goto out;
    }
    agentid = ag ? (uint32_t)ag->valuedouble : 0;
    if (pid) {
        if (!cJSON_IsString(pid) || !(p = zl_emu_prog(emu, corp->corpid, pid->valuestring))) {
            refuse(r, 404, "program_id is not a program of the corp");
            goto out;
        }
    } else {
        for (i = 0; i < emu->app_count && !p; i++)
            if (emu->apps[i].corp == corp && emu->apps[i].receiver &&
                (!agentid || emu->apps[i].app->agentid == agentid)) {
                p = emu->apps[i].receiver;
                agentid = emu->apps[i].app->agentid;
            }
        if (!p) {
            refuse(r, 409,
                   "no program receives events: the app must call set_receive_callback, "
                   "or name program_id");
            goto out;
        }
    }
    if (rep) {
        if (!cJSON_IsNumber(rep) || rep->valuedouble < 0 ||
            rep->valuedouble >= (double)p->replica_count) {
            refuse(r, 400, "replica must be an index of the program's replicas");
            goto out;
        }
        replica = (long)rep->valuedouble;
    }
    if (!evs && zl_emu_push_event(emu, p, agentid, ev, replica) != 0) {
        refuse(r, 503, "out of memory");
        goto out;
    }
    cJSON_ArrayForEach(x, evs) /* in order; each one delivered and journaled on its own */
    {
        if (zl_emu_push_event(emu, p, agentid, x, replica) != 0) {
            char why[120];

            snprintf(why, sizeof why, "out of memory after %zu of the %zu events", pushed, n);
            refuse(r, 503, why);
            goto out;
        }
        pushed++;
    }
    reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(reply, "ok", 1);
    cJSON_AddStringToObject(reply, "program_id", p->prog->program_id);
    cJSON_AddNumberToObject(reply, "agentid", agentid);
    if (evs)
        cJSON_AddNumberToObject(reply, "count", (double)pushed);
    zl_request_respond_json(r, 200, reply);
out:
    cJSON_Delete(body);
}

/* GET /_zonelab/app/notifications?agentid=N&since=S: what the built-in fake app received. */
static void on_notifications(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    unsigned long long agentid = 0, since = 0;
    cJSON *j;

    (void)e;
    if (query_number(r, "agentid", 0, UINT32_MAX, &agentid, "agentid must be an app's agentid") !=
            0 ||
        query_number(r, "since", 0, ULLONG_MAX, &since, "since must be a notification seq") != 0)
        return;
    if (!c->emu->notify_out) {
        refuse(r, 503, "the emulator is shutting down");
        return;
    }
    j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddNumberToObject(j, "last", (double)zl_appnotify_inbox_last(c->emu->notify_out));
    /* the newest 10 000 are kept: a reader whose since + 1 < first missed some */
    cJSON_AddNumberToObject(j, "first", (double)zl_appnotify_inbox_first(c->emu->notify_out));
    cJSON_AddItemToObject(j, "notifications",
                          zl_appnotify_inbox(c->emu->notify_out, (uint32_t)agentid, since));
    zl_request_respond_json(r, 200, j);
}

/*
 * POST /_zonelab/public_key {"corpid"?, "agentid"?, "public_key_ver":N, "public_key":PEM}: the
 * admin console's way (a self-built app cannot call set_public_key). With agentid the key is
 * that app's; without, every app of the corp gets it (as the world's corp-level public_keys
 * do). Refused, with nothing changed, when an app already holds that version or a newer one.
 */
static void on_public_key(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    zl_emu *emu = c->emu;
    cJSON *body = object_body(r, "{\"public_key_ver\":2,\"public_key\":\"-----BEGIN...\"}"), *reply,
          *apps;
    const cJSON *ver, *pem, *ag;
    zl_corp *corp;
    char why[300];
    size_t i;

    (void)e;
    if (!body)
        return;
    ver = cJSON_GetObjectItemCaseSensitive(body, "public_key_ver");
    pem = cJSON_GetObjectItemCaseSensitive(body, "public_key");
    ag = cJSON_GetObjectItemCaseSensitive(body, "agentid");
    if (!(corp = corp_of(emu, r, body)))
        goto out;
    if (!cJSON_IsNumber(ver) || !cJSON_IsString(pem) || ver->valuedouble < 1 ||
        ver->valuedouble > UINT32_MAX || ver->valuedouble != (double)(uint32_t)ver->valuedouble) {
        refuse(r, 400, "give public_key_ver (integer >= 1) and public_key (PEM text)");
        goto out;
    }
    if (ag && (!zl_json_is_int(ag, 0, UINT32_MAX) ||
               !zl_emu_app(emu, corp->corpid, (uint32_t)ag->valuedouble))) {
        refuse(r, 404, "agentid is not an app of the corp");
        goto out;
    }
    for (i = 0; i < emu->app_count; i++) { /* all or nothing */
        zl_app_rt *a = &emu->apps[i];

        if (a->corp != corp || (ag && a->app->agentid != (uint32_t)ag->valuedouble))
            continue;
        if (zl_keyring_newest_version(a->keys) >= (uint32_t)ver->valuedouble) {
            snprintf(why, sizeof why,
                     "public_key_ver %u must be greater than app %u's current version %u",
                     (unsigned)ver->valuedouble, (unsigned)a->app->agentid,
                     (unsigned)zl_keyring_newest_version(a->keys));
            refuse(r, 400, why);
            goto out;
        }
    }
    reply = cJSON_CreateObject();
    apps = cJSON_CreateArray();
    for (i = 0; i < emu->app_count; i++) {
        zl_app_rt *a = &emu->apps[i];

        if (a->corp != corp || (ag && a->app->agentid != (uint32_t)ag->valuedouble))
            continue;
        if (zl_emu_app_key_add(emu, a, (uint32_t)ver->valuedouble, pem->valuestring,
                               strlen(pem->valuestring), why, sizeof why) != 0) {
            cJSON_Delete(reply);
            cJSON_Delete(apps);
            refuse(r, 400, why); /* a bad PEM fails on the first app: nothing changed */
            goto out;
        }
        cJSON_AddItemToArray(apps, cJSON_CreateNumber(a->app->agentid));
    }
    cJSON_AddBoolToObject(reply, "ok", 1);
    cJSON_AddNumberToObject(reply, "public_key_ver", ver->valuedouble);
    cJSON_AddItemToObject(reply, "agentids", apps);
    zl_request_respond_json(r, 200, reply);
out:
    cJSON_Delete(body);
}

/* An optional string member: 1 found, 0 absent, -1 not a string. */
static int str_member(const cJSON *o, const char *name, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return -1;
    *out = v->valuestring;
    return 1;
}

/*
 * POST /_zonelab/consent {"corpid"?, "userid"? | "chatid"?, "external_userid", "status"}: a
 * customer decides on archiving, in a 1:1 chat with a member or in a group. The decision is
 * recorded (get_agree_status_*) and its events sent by zl_chat_consent (api/chat.c).
 */
static void on_consent(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    zl_emu *emu = c->emu;
    cJSON *body = object_body(r, "{\"userid\":\"zhangsan\",\"external_userid\":\"wm_cust_01\","
                                 "\"status\":\"Agree\"}"),
          *reply;
    const char *status;
    zl_consent d = {0};
    zl_corp *corp;
    char why[400];

    (void)e;
    if (!body)
        return;
    if (!(corp = corp_of(emu, r, body)))
        goto out;
    if (str_member(body, "userid", &d.userid) < 0 || str_member(body, "chatid", &d.chatid) < 0 ||
        str_member(body, "external_userid", &d.external_userid) <= 0 ||
        str_member(body, "status", &status) <= 0) {
        refuse(r, 400,
               "give external_userid, status (\"Agree\" or \"Disagree\") and one of userid and "
               "chatid, as strings");
        goto out;
    }
    if (strcmp(status, "Agree") != 0 && strcmp(status, "Disagree") != 0) {
        refuse(r, 400, "status must be \"Agree\" or \"Disagree\"");
        goto out;
    }
    d.agree = !strcmp(status, "Agree");
    if (!(reply = zl_chat_consent(emu, corp, &d, why, sizeof why))) {
        refuse(r, 400, why);
        goto out;
    }
    zl_request_respond_json(r, 200, reply);
out:
    cJSON_Delete(body);
}

/* POST /_zonelab/knowledge {"action", "corpid"?, ...}: the admin console's side of knowledge
 * sets (create, authorise, revoke, delete, grant, learn_result, list), in api_kb.c. */
static void on_knowledge(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    cJSON *body = object_body(r, "{\"action\":\"revoke\",\"kb_id\":\"kb_...\"}"), *reply;
    zl_corp *corp;
    char why[300];
    unsigned status;

    (void)e;
    if (!body)
        return;
    if ((corp = corp_of(c->emu, r, body))) {
        status = zl_kb_control(c->emu, corp, body, &reply, why, sizeof why);
        answer_family(r, status, reply, why);
    }
    cJSON_Delete(body);
}

typedef unsigned (*family_fn)(zl_emu *emu, const char *verb, const cJSON *body, cJSON **reply,
                              char *why, size_t whylen);

/* /_zonelab/<family>[/<verb>]: GET (no verb, or the listing's alias) lists; POST to a verb
 * with a JSON object body. The family's control function answers. */
static void family_face(zl_control *c, zl_request *r, const char *prefix, const char *alias,
                        const char *usage, const char *example, family_fn fn)
{
    const char *verb = zl_request_path(r) + strlen(prefix);
    bool get = !strcmp(zl_request_method(r), "GET"), listing;
    cJSON *body = NULL, *reply;
    char why[300];
    unsigned status;

    verb += *verb == '/';
    listing = !*verb || !strcmp(verb, alias);
    if (get != listing) {
        refuse(r, 405, usage);
        return;
    }
    if (!get && !(body = object_body(r, example)))
        return;
    status = fn(c->emu, verb, body, &reply, why, sizeof why);
    answer_family(r, status, reply, why);
    cJSON_Delete(body);
}

/* /_zonelab/models[/<verb>]: WeCom's models as tasks, scripted answers (api_models.c). */
static void on_models(zl_engine *e, zl_request *r, void *ud)
{
    (void)e;
    family_face(ud, r, "/_zonelab/models", "tasks",
                "GET /_zonelab/models lists; POST to models/reply, clear, config, tags, knowledge",
                "{\"model\":\"summary\",\"result\":\"...\"}", zl_models_control);
}

/* /_zonelab/export[/<verb>]: export jobs, the display component's codes, scripted results
 * (api_export.c). */
static void on_export(zl_engine *e, zl_request *r, void *ud)
{
    (void)e;
    family_face(ud, r, "/_zonelab/export", "jobs",
                "GET /_zonelab/export lists; POST to export/code, result, clear, config",
                "{\"agentid\":1000002}", zl_export_control);
}

/* /_zonelab/auth[/<verb>]: an app's authorisation and its lifecycle (emu/auth.c). GET (or
 * GET /_zonelab/auth/info) ?corpid=&agentid= shows it; POST to expire, buy, scope, retention,
 * cancel or grant with a JSON object body. */
static void on_auth(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    const char *verb = zl_request_path(r) + strlen("/_zonelab/auth"), *q;
    bool get = !strcmp(zl_request_method(r), "GET");
    cJSON *body = NULL, *reply;
    char why[300];
    unsigned status;

    (void)e;
    verb += *verb == '/';
    if (get != (!*verb || !strcmp(verb, "info"))) {
        refuse(r, 405,
               "GET /_zonelab/auth?agentid=N shows an app's authorisation; POST to auth/expire, "
               "buy, scope, retention, cancel, grant");
        return;
    }
    if (get) {
        body = cJSON_CreateObject();
        if ((q = zl_request_query(r, "corpid")))
            cJSON_AddStringToObject(body, "corpid", q);
        if ((q = zl_request_query(r, "agentid")))
            cJSON_AddNumberToObject(body, "agentid", strtod(q, NULL));
    } else if (!(body = object_body(r, "{\"agentid\":1000002}")))
        return;
    status = zl_emu_auth_control(c->emu, get ? "info" : verb, body, &reply, why, sizeof why);
    answer_family(r, status, reply, why);
    cJSON_Delete(body);
}

static void on_unknown(zl_engine *e, zl_request *r, void *ud)
{
    (void)e, (void)ud;
    refuse(r, 404, "no such control endpoint; see docs/control-api.md");
}

int zl_control_install(zl_control *c)
{
    if (zl_control_gate_install(c) ||
        zl_engine_route(c->engine, "GET", "/_zonelab/state", on_state, c) ||
        zl_engine_route(c->engine, "POST", "/_zonelab/clock", on_clock, c) ||
        zl_engine_route(c->engine, "GET", "/_zonelab/journal", on_journal, c) ||
        (c->emu &&
         (zl_engine_route(c->engine, "POST", "/_zonelab/messages", on_messages, c) ||
          zl_engine_route(c->engine, "POST", "/_zonelab/events", on_events, c) ||
          zl_engine_route(c->engine, "POST", "/_zonelab/public_key", on_public_key, c) ||
          zl_engine_route(c->engine, "POST", "/_zonelab/consent", on_consent, c) ||
          zl_engine_route(c->engine, "POST", "/_zonelab/knowledge", on_knowledge, c) ||
          zl_control_debug_install(c) || zl_control_options_install(c) ||
          zl_engine_route(c->engine, NULL, "/_zonelab/models", on_models, c) ||
          zl_engine_route(c->engine, NULL, "/_zonelab/export", on_export, c) ||
          zl_engine_route(c->engine, NULL, "/_zonelab/auth", on_auth, c) ||
          zl_engine_route(c->engine, "GET", "/_zonelab/app/notifications", on_notifications, c) ||
          zl_provider_control_install(c->emu))) ||
        zl_ui_install(c->engine, c->journal, NULL) ||
        zl_engine_route(c->engine, NULL, "/_zonelab/", on_unknown, c))
        return -1;
    return 0;
}
