/* explore_gen: zonelab explore's generator. A run is drawn from a PRNG seeded by the seed and
 * the run's index only, and written as a scenario file: one line of Lua per action. */
#define _GNU_SOURCE
#include "cli/explore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

const char *const XP_KIND_NAMES[XP_N_KINDS] = {
    "archive", "event", "call",  "callback", "advance", "restart",
    "pause",   "fault", "async", "key",      "kill",    "receive",
};

/* The explore helpers, built into zonelab (explore.lua). */
extern const unsigned char zl_explore_lua[];
extern const size_t zl_explore_lua_len;

/* The vendor's example of each of the nine event types (spec events.md §3). */
static const char *const EVENTS[] = {
    "{\"event_type\":\"conversation_new_message\",\"timestamp\":1700000000,"
    "\"conversation_new_message\":{\"token\":\"tk_9f2c\"}}",
    "{\"event_type\":\"hit_keyword\",\"timestamp\":1700000001,\"hit_keyword\":{\"token\":"
    "\"hk_41aa\"}}",
    "{\"event_type\":\"chat_archive_audit_approved_single\",\"timestamp\":1700000002,"
    "\"chat_archive_audit_approved\":{\"userid\":\"zhangsan\",\"external_userid\":"
    "\"wm_cust_01\"}}",
    "{\"event_type\":\"chat_archive_audit_approved_room\",\"timestamp\":1700000003,"
    "\"chat_archive_audit_approved\":{\"external_userid\":\"wm_cust_02\",\"chatid\":"
    "\"wr_group_01\"}}",
    "{\"event_type\":\"auth_knowledge_base\",\"timestamp\":1700000004,\"auth_knowledge_base\":"
    "{\"knowledge_base_id\":\"kb_01\",\"knowledge_base_name\":\"FAQ\"}}",
    "{\"event_type\":\"unauth_knowledge_base\",\"timestamp\":1700000005,"
    "\"unauth_knowledge_base\":{\"knowledge_base_id\":\"kb_01\",\"knowledge_base_name\":"
    "\"FAQ\"}}",
    "{\"event_type\":\"delete_knowledge_base\",\"timestamp\":1700000006,"
    "\"delete_knowledge_base\":{\"knowledge_base_id\":\"kb_01\",\"knowledge_base_name\":"
    "\"FAQ\"}}",
    "{\"event_type\":\"knowledge_base_learn_done\",\"timestamp\":1700000007,"
    "\"knowledge_base_learn_done\":{\"knowledge_base_id\":\"kb_01\",\"knowledge_base_name\":"
    "\"FAQ\",\"doc_id\":2,\"learn_status\":0}}",
    "{\"event_type\":\"chat_archive_export_finished\",\"timestamp\":1700000008,"
    "\"chat_archive_export_finished\":{\"jobid\":\"job_exp_01\"}}",
};

/* The msgtypes of the default world's messages, text (1) most often. */
static const int MSGTYPES[] = {1, 1, 1, 1, 2, 3, 4, 5, 6, 8, 14, 20, 21, 22, 24, 27, 0};
/* Across the 1 min sync budget, the 10 min notify ids and pages, 2 h tokens, the 5-day
 * window. */
static const int ADVANCES[] = {1, 30, 61, 301, 601, 3601, 7201, 432001};
static const char *const FAULT_APIS[] = {"sync_msg", "spec_notify_app", "get_msg_list_by_page_id",
                                         "get_group_chat"};
static const char *const FAULTS[] = {"\"reset\"", "\"garbage\"", "\"delay\"",
                                     "45009",     "40058",       "42001"};
static const char *const STRINGS[] = {"",           "x",     "zhangsan",    "lisi",
                                      "msg_0010",   "kb_01", "wr_group_01", "\xe4\xb8\xad",
                                      "wm_cust_01", "0"};
static const double NUMBERS[] = {0, 1, 2, 10, 1000, -1};

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct rng {
    uint64_t s;
} rng;

/* splitmix64 */
static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned below(rng *r, unsigned n)
{
    return n ? (unsigned)(rng_next(r) % n) : 0;
}

/* A Lua string literal of s, every byte kept. */
static void lua_quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\%03u", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A value shaped like example: strings and numbers from small pools, booleans mostly as the
 * example has them, arrays of
 * 0..2 elements like the first, objects with each key. */
static cJSON *gen_value(rng *r, const cJSON *ex, int depth)
{
    cJSON *v, *e;

    if (cJSON_IsString(ex))
        return cJSON_CreateString(STRINGS[below(r, N(STRINGS))]);
    if (cJSON_IsNumber(ex))
        return cJSON_CreateNumber(NUMBERS[below(r, N(NUMBERS))]);
    if (cJSON_IsBool(ex)) /* the example's own value three times in four */
        return cJSON_CreateBool(below(r, 4) ? cJSON_IsTrue(ex) : !cJSON_IsTrue(ex));
    if (cJSON_IsArray(ex)) {
        unsigned n = ex->child && depth < 8 ? below(r, 3) : 0, i;

        v = cJSON_CreateArray();
        for (i = 0; v && i < n; i++)
            if ((e = gen_value(r, ex->child, depth + 1)))
                cJSON_AddItemToArray(v, e);
        return v;
    }
    if (cJSON_IsObject(ex)) {
        v = cJSON_CreateObject();
        for (e = ex->child; v && e && depth < 8; e = e->next) {
            cJSON *c = gen_value(r, e, depth + 1);

            if (c)
                cJSON_AddItemToObject(v, e->string, c);
        }
        return v;
    }
    return cJSON_CreateNull();
}

/* Every member of v at any depth, with its parent, for picking one to change. */
static size_t leaves(cJSON *v, cJSON **out, cJSON **parent, size_t n, size_t max)
{
    cJSON *c;

    for (c = v ? v->child : NULL; c; c = c->next) {
        if (n < max) {
            out[n] = c;
            parent[n++] = v;
        }
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            n = leaves(c, out, parent, n, max);
    }
    return n;
}

/* One step off the protocol: a member's type changed, a key left out, an extra key, the
 * Python demo's "input" wrapper. In a run where null passes the protocol check (loose), a
 * changed type is null two times in three: that is what reaches the program. Takes v,
 * returns the changed value. */
static cJSON *near_value(rng *r, cJSON *v, bool loose)
{
    cJSON *all[64], *parent[64], *repl = NULL, *w;
    size_t n = leaves(v, all, parent, 0, N(all));
    unsigned how = below(r, 6);

    if (how <= 2 && n > 0) { /* half the time, a type changed; null most often */
        size_t i = below(r, (unsigned)n);

        switch (loose && below(r, 3) < 2 ? 0 : below(r, 6)) {
        case 0:
        case 1:
            repl = cJSON_CreateNull();
            break;
        case 2:
            repl = cJSON_CreateString("true");
            break;
        case 3:
            repl = cJSON_CreateNumber(1);
            break;
        case 4:
            repl = cJSON_CreateBool(1);
            break;
        default:
            repl = cJSON_CreateObject();
            break;
        }
        if (repl && all[i]->string && !(repl->string = strdup(all[i]->string))) {
            cJSON_Delete(repl);
            return v;
        }
        if (repl && !cJSON_ReplaceItemViaPointer(parent[i], all[i], repl))
            cJSON_Delete(repl);
        return v;
    }
    if (how == 3 && v->child) {
        cJSON_Delete(cJSON_DetachItemViaPointer(v, v->child));
        return v;
    }
    if (how == 4) {
        cJSON_AddNumberToObject(v, "extra", 1);
        return v;
    }
    if (!(w = cJSON_CreateObject()))
        return v;
    cJSON_AddItemToObject(w, "input", v);
    return w;
}

static const zl_ability *pick_ability(rng *r, const zl_program *p)
{
    /* two calls in three go to the program's own abilities, the others to the
     * invoke_<api> ones (which pass request_data to the SDK as it is) */
    const zl_ability *own[64], *inv[128];
    size_t n_own = 0, n_inv = 0, i;

    for (i = 0; i < p->ability_count; i++) {
        const zl_ability *a = &p->abilities[i];

        if (!strcmp(a->ability_id, "get_callback_data"))
            continue;
        if (!strncmp(a->ability_id, "invoke_", 7)) {
            if (n_inv < N(inv))
                inv[n_inv++] = a;
        } else if (n_own < N(own)) {
            own[n_own++] = a;
        }
    }
    if (n_own && (!n_inv || below(r, 3) < 2))
        return own[below(r, (unsigned)n_own)];
    return n_inv ? inv[below(r, (unsigned)n_inv)] : NULL;
}

static unsigned pick_kind(rng *r, const unsigned *w)
{
    unsigned total = 0, k, x;

    for (k = 0; k < XP_N_MAIN; k++)
        total += w[k];
    x = below(r, total);
    for (k = 0; k < XP_N_MAIN; k++) {
        if (x < w[k])
            return k;
        x -= w[k];
    }
    return XP_ADVANCE;
}

/* One action, one line of Lua (owned), or NULL when memory runs out. */
static char *gen_action(const xp_gen *g, rng *r, size_t k, const xp_run *run, unsigned kind)
{
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    const zl_corp *c = g->corp;

    if (!f)
        return NULL;
    switch (kind) {
    case XP_ARCHIVE: {
        const char *from =
            c->member_count ? c->members[below(r, (unsigned)c->member_count)].userid : "zhangsan";
        const char *to =
            c->member_count ? c->members[below(r, (unsigned)c->member_count)].userid : "lisi";

        fprintf(f, "X.archive(\"ex_%zu\", ", k);
        lua_quote(f, from);
        fputs(", ", f);
        lua_quote(f, to);
        fprintf(f, ", %d, \"explore %zu\")", MSGTYPES[below(r, N(MSGTYPES))], k);
        break;
    }
    case XP_EVENT:
        fputs("X.event(json.decode(", f);
        lua_quote(f, EVENTS[below(r, N(EVENTS))]);
        fputs("))", f);
        break;
    case XP_CALL:
    case XP_ASYNC: {
        const zl_ability *a = pick_ability(r, g->program);
        cJSON *ex = a ? cJSON_Parse(a->input_protocol) : NULL, *v;
        char *text;

        if (!a) {
            fputs("X.advance(1)", f);
            break;
        }
        v = gen_value(r, ex, 0);
        if (v && below(r, 100) < g->near_pct)
            v = near_value(r, v, run->loose);
        text = v ? cJSON_PrintUnformatted(v) : NULL;
        fputs(kind == XP_ASYNC ? "X.async(" : "X.call(", f);
        lua_quote(f, a->ability_id);
        fputs(", ", f);
        lua_quote(f, text ? text : "{}");
        fputc(')', f);
        cJSON_free(text);
        cJSON_Delete(v);
        cJSON_Delete(ex);
        break;
    }
    case XP_CALLBACK:
        fprintf(f, "X.callback(%u)", 1 + below(r, 4));
        break;
    case XP_KEY:
        fputs("X.rotate_key()", f);
        break;
    case XP_KILL:
        fprintf(f, "X.kill(%u)", below(r, run->replicas));
        break;
    case XP_RECEIVE:
        fprintf(f, "X.receive(%u)", below(r, 2));
        break;
    case XP_ADVANCE:
        fprintf(f, "X.advance(%d)", ADVANCES[below(r, N(ADVANCES))]);
        break;
    case XP_RESTART:
        fprintf(f, "X.restart(%u)", below(r, run->replicas));
        break;
    case XP_PAUSE:
        fprintf(f, "X.pause(%u)", below(r, run->replicas));
        break;
    default:
        fprintf(f, "X.sdk_fault(\"%s\", %s)", FAULT_APIS[below(r, N(FAULT_APIS))],
                FAULTS[below(r, N(FAULTS))]);
        break;
    }
    if (fclose(f) != 0) {
        free(line);
        return NULL;
    }
    return line;
}

int xp_run_generate(const xp_gen *g, uint64_t seed, size_t index, xp_run *r)
{
    rng R = {.s = seed * 0x100000001b3ULL ^ (uint64_t)index * 0x9e3779b97f4a7c15ULL};
    rng I = {.s = R.s ^ 0x5bd1e9955bd1e995ULL}; /* async and key's stream */
    rng more[XP_N_KINDS - XP_KILL] = {{.s = R.s ^ 0xc2b2ae3d27d4eb4fULL},
                                      {.s = R.s ^ 0x165667b19e3779f9ULL}};
    unsigned total = 0, main = 0, extra = g->weights[XP_ASYNC] + g->weights[XP_KEY], k;
    size_t i, cap = 4 * (size_t)(g->actions ? g->actions : 1);

    for (k = 0; k < XP_N_KINDS; k++)
        total += g->weights[k];
    for (k = 0; k < XP_N_MAIN; k++)
        main += g->weights[k];
    memset(r, 0, sizeof *r);
    rng_next(&R);
    r->seed = seed;
    r->index = index;
    r->replicas = g->replicas ? g->replicas : 1 + below(&R, 2);
    r->any_routing = below(&R, 2);
    r->loose = below(&R, 2);
    if (!(r->actions = calloc(cap, sizeof *r->actions)))
        return -1;
    for (i = 0; i < g->actions; i++) {
        unsigned kind = XP_N_KINDS;

        if (main > 0) {
            kind = pick_kind(&R, g->weights);
            if (!(r->actions[r->n_actions] = gen_action(g, &R, i + 1, r, kind)))
                goto fail;
            r->n_actions++;
        }
        if (extra && (below(&I, main + extra) < extra || kind == XP_N_KINDS)) {
            kind = below(&I, extra) < g->weights[XP_ASYNC] ? XP_ASYNC : XP_KEY;
            if (!(r->actions[r->n_actions] = gen_action(g, &I, i + 1, r, kind)))
                goto fail;
            r->n_actions++;
        }
        for (kind = XP_KILL; kind < XP_N_KINDS; kind++) {
            rng *own = &more[kind - XP_KILL];

            if (!g->weights[kind] || below(own, total) >= g->weights[kind])
                continue;
            if (!(r->actions[r->n_actions] = gen_action(g, own, i + 1, r, kind)))
                goto fail;
            r->n_actions++;
        }
    }
    return 0;
fail:
    xp_run_cleanup(r);
    return -1;
}

int xp_run_copy(const xp_run *r, const bool *keep, xp_run *out)
{
    size_t i;

    *out = *r;
    out->n_actions = 0;
    if (!(out->actions = calloc(r->n_actions ? r->n_actions : 1, sizeof *out->actions)))
        return -1;
    for (i = 0; i < r->n_actions; i++) {
        if (keep && !keep[i])
            continue;
        if (!(out->actions[out->n_actions] = strdup(r->actions[i]))) {
            xp_run_cleanup(out);
            return -1;
        }
        out->n_actions++;
    }
    return 0;
}

void xp_run_cleanup(xp_run *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->n_actions; i++)
        free(r->actions[i]);
    free(r->actions);
    r->actions = NULL;
    r->n_actions = 0;
}

char *xp_run_render(const xp_run *r, const char *header, const char *world,
                    const char *const *props, size_t n_props, const char *user)
{
    char *text = NULL;
    size_t len = 0, i;
    FILE *f = open_memstream(&text, &len);
    const char *h = header ? header : "", *nl;

    if (!f)
        return NULL;
    while (*h) {
        nl = strchr(h, '\n');
        fprintf(f, "-- %.*s\n", nl ? (int)(nl - h) : (int)strlen(h), h);
        h = nl ? nl + 1 : h + strlen(h);
    }
    /* the emulator's seed too: routing "any" and every id come from it */
    fprintf(f, "scenario { seed = %llu, replicas = %u, routing = \"%s\"",
            (unsigned long long)r->seed, r->replicas, r->any_routing ? "any" : "sticky");
    if (world) {
        fputs(", world = ", f);
        lua_quote(f, world);
    }
    if (r->loose)
        fputs(", options = { protocol = { null_matches_any = true } }", f);
    fputs(" }\n\ntest(\"actions\", function()\n  X.setup()\n", f);
    for (i = 0; i < r->n_actions; i++)
        fprintf(f, "  %s\n", r->actions[i]);
    fputs("end)\n\n", f);
    fwrite(zl_explore_lua, 1, zl_explore_lua_len, f);
    fputc('\n', f);
    for (i = 0; i < n_props; i++)
        fprintf(f, "property(\"%s\", X.builtin.%s)\n", props[i], props[i]);
    if (user) {
        fputs("\n-- the user's properties (--properties)\n", f);
        fputs(user, f);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
