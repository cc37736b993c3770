/* rules: the keyword rule APIs (sdk-api.md §4): rules per corp and app, create/list/detail/
 * update/delete, the hits recorded on every archive with their hit_keyword events, and
 * get_hit_msg_list. The rules themselves (bodies, matcher) are wecom/keyword.c. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wecom/errcode.h"
#include "core/grow.h"
#include "wecom/keyword.h"
#include "api/sdk_api.h"

#define MAX_RULES          500 /* per corp: 710619 */
#define LIST_LIMIT_DEFAULT 100 /* get_rule_list */
#define HIT_LIMIT_DEFAULT  200 /* get_hit_msg_list, as sync_msg */
#define HIT_LIMIT_MAX      1000
#define HIT_CURSOR_MAX     64                  /* get_hit_msg_list cursor bytes */
#define CURSOR_RULE_LIST   ZL_CURSOR_RULE_LIST /* cursor kinds: one list in msgsync.h */
#define CURSOR_HIT_LIST    ZL_CURSOR_HIT_LIST
#define RULE_ID_PREFIX     "kwr_"
#define RULE_ID_LEN        20 /* "kwr_" and 16 lower-case hex characters */

/* ---- state ---- */

/* A rule of a corp: the compiled rule and what the emulator keeps about it. */
typedef struct rule_rec {
    char id[RULE_ID_LEN + 1];
    uint64_t serial; /* creation order in the corp: get_rule_list cursors point here */
    zl_app_rt *owner;
    int64_t create_time;
    zl_rule *rule;
} rule_rec;

typedef struct hit_rule {
    char rule_id[RULE_ID_LEN + 1];
    bool keyword;
    unsigned semantics;
} hit_rule;

/* One message that hit rules of one app. */
typedef struct hit {
    size_t msg; /* message index */
    zl_app_rt *app;
    hit_rule *rules;
    size_t n;
} hit;

typedef struct corp_rules {
    rule_rec *rules; /* creation order; MAX_RULES slots */
    size_t count;
    uint64_t next_serial;
    hit *hits; /* archive order, so msg ascending */
    size_t hit_count, hit_cap;
    int64_t rl_window; /* get_hit_msg_list without a token: the current minute, and calls */
    int rl_count;
} corp_rules;

struct zl_rules {
    corp_rules *corps; /* parallel to world->corps */
    size_t corp_count;
    zl_strmap *tokens; /* hit_keyword token -> zl_event_token */
};

static void rules_free(void *v)
{
    struct zl_rules *s = v;
    size_t i, k;

    if (!s)
        return;
    for (i = 0; i < s->corp_count; i++) {
        corp_rules *cr = &s->corps[i];

        for (k = 0; k < cr->count; k++)
            zl_rule_free(cr->rules[k].rule);
        free(cr->rules);
        for (k = 0; k < cr->hit_count; k++)
            free(cr->hits[k].rules);
        free(cr->hits);
    }
    free(s->corps);
    zl_strmap_free(s->tokens);
    free(s);
}

static void rules_on_archive(zl_emu *emu, void *state, zl_corp *c, size_t first, size_t end,
                             cJSON *report);

static const zl_emu_part_ops rules_part = {"rules", rules_free, rules_on_archive};

/* The emulator's rule state, made on first use; NULL when memory runs out. */
static struct zl_rules *state(zl_emu *emu)
{
    struct zl_rules *s = zl_emu_part(emu, &rules_part);

    if (s)
        return s;
    if (!(s = calloc(1, sizeof *s)) ||
        !(s->corps = calloc(emu->world->corp_count + 1, sizeof *s->corps)) ||
        !(s->tokens = zl_strmap_new(free)) || zl_emu_part_set(emu, &rules_part, s) != 0) {
        rules_free(s);
        return NULL;
    }
    s->corp_count = emu->world->corp_count;
    return s;
}

static corp_rules *corp_state(zl_emu *emu, const zl_corp *c)
{
    struct zl_rules *s = state(emu);

    return s ? &s->corps[c - emu->world->corps] : NULL;
}

static int token_expired(const char *key, void *value, void *ud)
{
    (void)key;
    return ((zl_event_token *)value)->expires_ms <= *(int64_t *)ud;
}

static void sweep_tokens(zl_emu *emu, struct zl_rules *s)
{
    int64_t now = zl_emu_now_ms(emu);

    zl_strmap_sweep(s->tokens, token_expired, &now);
}

/* ---- hits on archive ---- */

static int add_hit(corp_rules *cr, size_t msg, zl_app_rt *a, hit_rule *rules, size_t n)
{
    if (zl_grow(&cr->hits, &cr->hit_cap, cr->hit_count, sizeof *cr->hits, 16) != 0)
        return -1;
    cr->hits[cr->hit_count++] = (hit){.msg = msg, .app = a, .rules = rules, .n = n};
    return 0;
}

/* Journals the hit and pushes hit_keyword to a's receiving program, if any. */
static void fire(zl_emu *emu, struct zl_rules *s, zl_corp *c, zl_app_rt *a, const zl_message *m,
                 const hit *h, cJSON **report_list, cJSON *report)
{
    cJSON *j = cJSON_CreateObject(), *ids = cJSON_CreateArray(), *r = NULL, *o;
    zl_event_token *t;
    zl_prog_rt *to;
    char token[40];
    size_t k;

    for (k = 0; k < h->n; k++)
        cJSON_AddItemToArray(ids, cJSON_CreateString(h->rules[k].rule_id));
    if (report) {
        if (!*report_list)
            *report_list = cJSON_AddArrayToObject(report, "hit_events");
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "msgid", m->msgid);
        cJSON_AddNumberToObject(r, "agentid", a->app->agentid);
        cJSON_AddItemToObject(r, "rule_ids", cJSON_Duplicate(ids, 1));
        cJSON_AddItemToArray(*report_list, r);
    }
    cJSON_AddStringToObject(j, "corpid", c->corpid);
    cJSON_AddStringToObject(j, "msgid", m->msgid);
    cJSON_AddNumberToObject(j, "agentid", a->app->agentid);
    cJSON_AddItemToObject(j, "rule_ids", ids);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", "keyword_hit", j);
    if (!a->receiver || !a->app->data_permission)
        return;
    memcpy(token, "hk_", 3);
    zl_engine_random_hex(emu->engine, token + 3, 16);
    if (!(t = malloc(sizeof *t)))
        return;
    *t = (zl_event_token){.app = a,
                          .expires_ms = zl_emu_now_ms(emu) + emu->opt.event_token_ttl_s * 1000};
    if (zl_strmap_put(s->tokens, token, t) != 0) {
        free(t);
        return;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", token);
    to = zl_emu_app_event(emu, a, "hit_keyword", NULL, o, NULL);
    if (r && to) {
        cJSON_AddStringToObject(r, "program_id", to->prog->program_id);
        cJSON_AddStringToObject(r, "token", token);
    }
}

/* Matches the messages archived at first..end-1 of corp c against the corp's rules: for each
 * message and each app owning a rule it hits, when the app's archive is in effect and holds the
 * message (zl_emu_app_msg_check), records the hit (get_hit_msg_list) and pushes hit_keyword
 * with a fresh token to the app's receiving program. report gets
 * "hit_events": [{msgid, agentid, rule_ids, program_id?, token?}] when anything hit. */
static void rules_on_archive(zl_emu *emu, void *state, zl_corp *c, size_t first, size_t end,
                             cJSON *report)
{
    struct zl_rules *s = state;
    corp_rules *cr = &s->corps[c - emu->world->corps];
    cJSON *report_list = NULL;
    size_t i, a, k;

    if (cr->count == 0)
        return;
    sweep_tokens(emu, s);
    for (i = first; i < end; i++) {
        const zl_message *m = zl_msgstore_at(c->messages, i);
        cJSON *content;

        if (!m || !zl_rule_hittable(m->msgtype))
            continue;
        content = cJSON_Parse(m->content);
        for (a = 0; a < emu->app_count; a++) {
            zl_app_rt *ar = &emu->apps[a];
            hit_rule *hr = NULL;
            size_t n = 0;

            if (ar->corp != c || zl_emu_app_archive_check(emu, ar) != 0 ||
                zl_emu_app_msg_check(emu, ar, i) != 0)
                continue; /* not in this app's archive */
            for (k = 0; k < cr->count; k++) {
                const rule_rec *r = &cr->rules[k];
                bool kw;
                unsigned sem;

                if (r->owner != ar ||
                    !zl_rule_match(r->rule, c, zl_emu_app_scope(ar), m, content, &kw, &sem))
                    continue;
                if (!hr && !(hr = calloc(cr->count, sizeof *hr)))
                    break;
                memcpy(hr[n].rule_id, r->id, sizeof hr[n].rule_id);
                hr[n].keyword = kw;
                hr[n].semantics = sem;
                n++;
            }
            if (n == 0 || add_hit(cr, i, ar, hr, n) != 0) {
                free(hr);
                continue;
            }
            fire(emu, s, c, ar, m, &cr->hits[cr->hit_count - 1], &report_list, report);
        }
        cJSON_Delete(content);
    }
}

/* ---- the APIs ---- */

typedef zl_sdk_ctx sdk_ctx;

static bool well_formed_id(const char *s)
{
    size_t i, n = strlen(RULE_ID_PREFIX);

    if (strlen(s) != RULE_ID_LEN || strncmp(s, RULE_ID_PREFIX, n) != 0)
        return false;
    for (i = n; i < RULE_ID_LEN; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return false;
    return true;
}

static rule_rec *find_rule(corp_rules *cr, const char *id)
{
    size_t k;

    for (k = 0; k < cr->count; k++)
        if (!strcmp(cr->rules[k].id, id))
            return &cr->rules[k];
    return NULL;
}

/* The request's rule_id, as the caller's rule: NULL with *e the reply when it is not. */
static rule_rec *rule_arg(sdk_ctx *x, corp_rules *cr, cJSON **e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->req, "rule_id");
    rule_rec *rec;

    *e = NULL;
    if (!v)
        *e = zl_sdk_err(x, 40058, "rule_id is required");
    else if (!cJSON_IsString(v))
        *e = zl_sdk_err(x, 40058, "rule_id must be a string");
    else if (!well_formed_id(v->valuestring))
        *e = zl_sdk_err(x, 710620, "a rule_id is \"kwr_\" and 16 hex characters, from create_rule");
    else if (!(rec = find_rule(cr, v->valuestring)) || rec->owner != x->app)
        *e = zl_sdk_err(x, 710612, NULL);
    else
        return rec;
    return NULL;
}

/* Whether the request sets a keyword flag that needs words (710650). */
static bool flags_sent(const cJSON *req)
{
    const cJSON *kw = zl_json_get(req, "keyword");

    return zl_json_get(kw, "is_case_sensitive") || zl_json_get(kw, "match_rule");
}

/* The request laid over base (NULL on create) and compiled; NULL with *e the reply. */
static zl_rule *build(sdk_ctx *x, const cJSON *base, cJSON **e)
{
    char why[300] = "";
    int code;
    cJSON *body = zl_rule_merge(base, x->req, &code, why, sizeof why);
    zl_rule *r;

    if (!body) {
        *e = zl_sdk_err(x, code, why);
        return NULL;
    }
    r = zl_rule_compile(body, x->app->corp, zl_emu_app_scope(x->app), flags_sent(x->req), &code,
                        why, sizeof why);
    cJSON_Delete(body);
    if (!r)
        *e = zl_sdk_err(x, code, why);
    return r;
}

static cJSON *api_create_rule(sdk_ctx *x)
{
    corp_rules *cr = corp_state(x->emu, x->app->corp);
    rule_rec *rec;
    zl_rule *r;
    cJSON *e, *reply;

    if (!cr || (!cr->rules && !(cr->rules = calloc(MAX_RULES, sizeof *cr->rules))))
        return zl_sdk_err(x, -1, "out of memory");
    if (!(r = build(x, NULL, &e)))
        return e;
    if (cr->count >= MAX_RULES) {
        zl_rule_free(r);
        return zl_sdk_err(x, 710619, "a corp holds at most 500 rules; delete_rule first");
    }
    rec = &cr->rules[cr->count];
    memset(rec, 0, sizeof *rec);
    do {
        memcpy(rec->id, RULE_ID_PREFIX, strlen(RULE_ID_PREFIX));
        zl_engine_random_hex(x->emu->engine, rec->id + strlen(RULE_ID_PREFIX), 8);
    } while (find_rule(cr, rec->id));
    rec->serial = cr->next_serial++;
    rec->owner = x->app;
    rec->create_time = zl_emu_now_ms(x->emu) / 1000;
    rec->rule = r;
    cr->count++;
    reply = zl_errcode_reply(0, NULL, NULL);
    cJSON_AddStringToObject(reply, "rule_id", rec->id);
    return reply;
}

static cJSON *api_get_rule_list(sdk_ctx *x)
{
    corp_rules *cr = corp_state(x->emu, x->app->corp);
    const char *cursor;
    long long limit = 0;
    uint64_t pos = 0, next;
    size_t k, n = 0;
    bool more = false;
    cJSON *e, *reply, *list;
    char nc[ZL_CURSOR_MAX + 1];

    if ((e = zl_sdk_opt_str(x, "cursor", ZL_CURSOR_MAX, &cursor)) ||
        (e = zl_sdk_opt_int(x, "limit", 0, x->emu->opt.rule_list_max_limit, &limit)))
        return e;
    if (cursor && !*cursor)
        return zl_sdk_err(x, 40058, "cursor must not be an empty string; leave it out");
    if (!cr)
        return zl_sdk_err(x, -1, "out of memory");
    if (limit == 0)
        limit = LIST_LIMIT_DEFAULT;
    if (cursor &&
        zl_cursor_decode(&x->emu->cursor_key, CURSOR_RULE_LIST, x->app->scope, cursor, &pos, NULL))
        return zl_sdk_err(x, 710611, NULL);
    next = cr->next_serial > pos ? cr->next_serial : pos;
    reply = zl_errcode_reply(0, NULL, NULL);
    list = cJSON_AddArrayToObject(reply, "rule_list");
    for (k = 0; k < cr->count; k++) {
        const rule_rec *r = &cr->rules[k];
        cJSON *item;

        if (r->owner != x->app || r->serial < pos)
            continue;
        if (n == (size_t)limit) {
            more = true;
            break;
        }
        item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "rule_id", r->id);
        cJSON_AddStringToObject(item, "name",
                                zl_json_get(zl_rule_body(r->rule), "name")->valuestring);
        cJSON_AddNumberToObject(item, "create_time", (double)r->create_time);
        cJSON_AddItemToArray(list, item);
        n++;
        next = r->serial + 1;
    }
    cJSON_AddBoolToObject(reply, "has_more", more);
    zl_cursor_encode(&x->emu->cursor_key, CURSOR_RULE_LIST, x->app->scope, next, 0, nc);
    cJSON_AddStringToObject(reply, "next_cursor", nc);
    return reply;
}

static cJSON *api_get_rule_detail(sdk_ctx *x)
{
    corp_rules *cr = corp_state(x->emu, x->app->corp);
    const rule_rec *rec;
    cJSON *e, *reply, *f;

    if (!cr)
        return zl_sdk_err(x, -1, "out of memory");
    if (!(rec = rule_arg(x, cr, &e)))
        return e;
    reply = zl_errcode_reply(0, NULL, NULL);
    cJSON_ArrayForEach(f, zl_rule_body(rec->rule))
        cJSON_AddItemToObject(reply, f->string, cJSON_Duplicate(f, 1));
    return reply;
}

static cJSON *api_update_rule(sdk_ctx *x)
{
    corp_rules *cr = corp_state(x->emu, x->app->corp);
    rule_rec *rec;
    zl_rule *r;
    cJSON *e;

    if (!cr)
        return zl_sdk_err(x, -1, "out of memory");
    if (!(rec = rule_arg(x, cr, &e)))
        return e;
    if (!(r = build(x, zl_rule_body(rec->rule), &e)))
        return e;
    zl_rule_free(rec->rule);
    rec->rule = r;
    return zl_errcode_reply(0, NULL, NULL);
}

static cJSON *api_delete_rule(sdk_ctx *x)
{
    corp_rules *cr = corp_state(x->emu, x->app->corp);
    rule_rec *rec;
    cJSON *e;
    size_t k;

    if (!cr)
        return zl_sdk_err(x, -1, "out of memory");
    if (!(rec = rule_arg(x, cr, &e)))
        return e;
    k = (size_t)(rec - cr->rules);
    zl_rule_free(rec->rule);
    memmove(&cr->rules[k], &cr->rules[k + 1], (cr->count - k - 1) * sizeof *cr->rules);
    cr->count--;
    return zl_errcode_reply(0, NULL, NULL);
}

/* The get_hit_msg_list item of hit h. NULL with why when the detail cannot be made. */
static cJSON *hit_item(sdk_ctx *x, const hit *h, bool detail, char *why, size_t whylen)
{
    zl_corp *c = x->app->corp;
    const zl_message *m = zl_msgstore_at(c->messages, h->msg);
    cJSON *item = cJSON_CreateObject(), *list;
    size_t k;
    int v;

    cJSON_AddStringToObject(item, "msgid", m->msgid);
    if (detail) {
        cJSON *d = zl_sync_item(c, h->msg, x->app->keys, why, whylen);

        if (!d) {
            cJSON_Delete(item);
            return NULL;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(d, "msgid");
        cJSON_DeleteItemFromObjectCaseSensitive(d, "extra_info");
        cJSON_AddItemToObject(item, "msg_detail", d);
    }
    list = cJSON_AddArrayToObject(item, "hit_rule_list");
    for (k = 0; k < h->n; k++) {
        cJSON *hr = cJSON_CreateObject(), *sl;

        cJSON_AddStringToObject(hr, "rule_id", h->rules[k].rule_id);
        cJSON_AddBoolToObject(hr, "has_hit_keyword", h->rules[k].keyword);
        sl = cJSON_AddArrayToObject(hr, "semantics_list");
        for (v = 1; v <= 12; v++)
            if (h->rules[k].semantics & (1u << v))
                cJSON_AddItemToArray(sl, cJSON_CreateNumber(v));
        cJSON_AddItemToArray(list, hr);
    }
    return item;
}

static cJSON *api_get_hit_msg_list(sdk_ctx *x)
{
    zl_emu *emu = x->emu;
    zl_corp *c = x->app->corp;
    corp_rules *cr = corp_state(emu, c);
    const char *cursor, *token;
    long long limit = 0, need_detail = 0, begin_time = 0;
    int64_t now_s = zl_emu_now_ms(emu) / 1000;
    zl_event_token *t;
    uint64_t pos;
    size_t start, lo, hi, h, n = 0, next;
    int more = 0;
    cJSON *e, *reply, *list;
    char nc[ZL_CURSOR_MAX + 1], why[200];

    if ((e = zl_sdk_opt_str(x, "cursor", HIT_CURSOR_MAX, &cursor)) ||
        (e = zl_sdk_opt_str(x, "token", ZL_CURSOR_MAX, &token)) ||
        (e = zl_sdk_opt_int(x, "need_detail", 0, 1, &need_detail)) ||
        (e = zl_sdk_opt_int(x, "limit", 0, HIT_LIMIT_MAX, &limit)) ||
        (e = zl_sdk_opt_int(x, "begin_time", 0, ZL_WORLD_MAX_TIME, &begin_time)))
        return e;
    if ((cursor && !*cursor) || (token && !*token))
        return zl_sdk_err(x, 40058, "cursor and token must not be empty strings; leave them out");
    if (!cr)
        return zl_sdk_err(x, -1, "out of memory");
    if (limit == 0)
        limit = HIT_LIMIT_DEFAULT;
    if (zl_keyring_count(x->app->keys) == 0)
        return zl_sdk_err(x, 710659, NULL);
    sweep_tokens(emu, state(emu)); /* cr is set: the state exists */
    t = token ? zl_strmap_get(state(emu)->tokens, token) : NULL;
    if (!t || t->app != x->app || t->expires_ms <= zl_emu_now_ms(emu)) {
        if (now_s / 60 != cr->rl_window) {
            cr->rl_window = now_s / 60;
            cr->rl_count = 0;
        }
        if (++cr->rl_count > emu->opt.sync_budget_per_min)
            return zl_sdk_err(x, 45009,
                              "get_hit_msg_list without a valid hit_keyword token is limited");
    }
    if (cursor &&
        zl_cursor_decode(&emu->cursor_key, CURSOR_HIT_LIST, x->app->scope, cursor, &pos, NULL))
        return zl_sdk_err(x, 710611, NULL);
    start = zl_sync_start(c, now_s, emu->opt.window_s, cursor ? &pos : NULL, begin_time);
    for (lo = 0, hi = cr->hit_count; lo < hi;) { /* the first hit at or after start */
        size_t mid = lo + (hi - lo) / 2;

        if (cr->hits[mid].msg < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    next = zl_msgstore_count(c->messages);
    if (next < start)
        next = start;
    reply = zl_errcode_reply(0, NULL, NULL);
    list = cJSON_CreateArray();
    for (h = lo; h < cr->hit_count; h++) {
        const hit *ht = &cr->hits[h];
        cJSON *item;

        if (zl_msgstore_at(c->messages, ht->msg)->send_time > now_s) {
            next = ht->msg; /* not archived yet on the virtual clock */
            break;
        }
        if (ht->app != x->app)
            continue;
        if (n == (size_t)limit) {
            more = 1;
            break;
        }
        if (!(item = hit_item(x, ht, need_detail == 1, why, sizeof why))) {
            cJSON_Delete(list);
            cJSON_Delete(reply);
            return zl_sdk_err(x, -1, why);
        }
        cJSON_AddItemToArray(list, item);
        n++;
        next = ht->msg + 1;
    }
    cJSON_AddNumberToObject(reply, "has_more", more);
    zl_cursor_encode(&emu->cursor_key, CURSOR_HIT_LIST, x->app->scope, next, 0, nc);
    cJSON_AddStringToObject(reply, "next_cursor", nc);
    cJSON_AddItemToObject(reply, "msg_list", list);
    return reply;
}

const zl_sdk_api zl_sdk_apis_rules[] = {
    {"create_rule", api_create_rule, 0},
    {"get_rule_list", api_get_rule_list, 0},
    {"get_rule_detail", api_get_rule_detail, 0},
    {"update_rule", api_update_rule, 0},
    {"delete_rule", api_delete_rule, 0},
    {"get_hit_msg_list", api_get_hit_msg_list, ZL_SDK_API_ARCHIVE},
    {NULL, NULL, 0},
};
