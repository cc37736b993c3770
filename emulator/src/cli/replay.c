/* cli_replay: `zonelab replay FILE`: drives a zone program with a recording (`zonelab serve
 * --record`) or a failed scenario's journal, answers its SDK calls from it, and compares
 * its answers and SDK calls with it, stopping at the first difference (docs/replay.md). */
#define _GNU_SOURCE
#include "cli/client.h"
#include "cli/replay.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/crypto.h"
#include "core/sbuf.h"
#include "emu/emu.h"
#include "faces/record.h"
#include "faces/server.h"
#include "wire.h"

#define MAX_IGNORE 64
#define MAX_DEPTH  64
#define SEG_MAX    128
#define SHOW_MAX   400   /* bytes of a value or body shown in a difference */
#define START_MS   15000 /* every replica listens within this */
#define SETTLE_MS  100   /* after the last callback: time for an SDK call the recording lacks */
#define JOURNAL_SLACK_MS                                                                           \
    5 /* a journal's times are whole ms: a call this close to a callback's                         \
         start may have come after it */

/* What a callback of the recording was and how it ended. */
typedef struct rp_callback {
    char *prog;             /* the program it went to */
    uint64_t src;           /* the recording's seq, or the journal entry's seq */
    uint64_t order;         /* start: the recording's id; a journal's t - elapsed_ms */
    size_t replica;         /* from its instance, "<program_id>/<n>" */
    zone_wire_callback env; /* the callback envelope as sent */
    int errcode;            /* 0 answered, else the 7106xx the emulator saw */
    char *response;         /* the program's answer; NULL: not compared */
} rp_callback;

/* An SDK call of the recording and what the emulator answered. */
typedef struct rp_invoke {
    char *prog;
    uint64_t src;
    uint64_t order; /* the recording's id (start); a journal's t (end) + JOURNAL_SLACK_MS + 1 */
    size_t barrier; /* must be matched before callback[barrier] is sent */
    bool waived;    /* a journal's call still missing when its barrier was reached: checked
                       again only at the end */
    char *api, *request;
    int action;  /* ZL_HOOK_REPLY, ZL_HOOK_PASS, ZL_HOOK_RESET or ZL_HOOK_GARBAGE */
    char *reply; /* ZL_HOOK_REPLY: the reply envelope's response text */
    bool used;
} rp_invoke;

/* A notify id the program made in the recording and the one it made in this run. */
typedef struct id_pair {
    char *from, *to;
} id_pair;

typedef struct replay {
    FILE *out, *err;
    const char *file;
    bool journal; /* the file is a scenario journal */
    /* options */
    const char *program_cmd, *program_opt, *world_opt;
    uint64_t seed;
    bool seed_set, keep;
    long timeout_ms;
    const char *ignore[MAX_IGNORE];
    size_t n_ignore;
    /* the plan */
    char *program_id;
    size_t replicas;
    char *world_path; /* the recording's world file; NULL: built-in or unknown */
    char world_sha[65];
    rp_callback *cbs;
    size_t n_cbs, cap_cbs;
    rp_invoke *invs;
    size_t n_invs, cap_invs;
    id_pair *ids;
    size_t n_ids, cap_ids;
    size_t skipped;           /* exchanges of the program that cannot be replayed */
    char reset_nonces[8][72]; /* nonces of dropped invokes (their re-sends are not calls) */
    unsigned reset_next;
    /* running */
    char work_dir[PATH_MAX];
    zl_server *srv;
    zl_world *world; /* these four borrowed from srv */
    zl_engine *engine;
    zl_journal *jr;
    zl_emu *emu;
    zl_prog_rt *prog;
    size_t cur; /* the callback in flight, or the next one to send */
    bool in_flight, answered;
    int got_errcode;
    char *got_response;
    char got_detail[256];
    size_t matched; /* SDK calls matched */
    char *diff;     /* the first difference, as text to print (owned) */
} replay;

static int64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The string member key of o, or NULL. */
static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number member key of o, or dflt. */
static double jnum(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* s clipped to SHOW_MAX bytes into buf (an ellipsis says it was). */
static const char *clip(const char *s, char *buf, size_t cap)
{
    size_t n = strlen(s);

    if (n < cap && n <= SHOW_MAX)
        return s;
    snprintf(buf, cap, "%.*s... (%zu bytes)", (int)(cap - 40 < SHOW_MAX ? cap - 40 : SHOW_MAX), s,
             n);
    return buf;
}

static char *vfmt(const char *f, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vfmt(const char *f, va_list ap)
{
    char *s = NULL;

    return vasprintf(&s, f, ap) < 0 ? NULL : s;
}

static void sb_fmt(zl_sbuf *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(zl_sbuf *b, const char *f, ...)
{
    va_list ap;
    char *s;

    va_start(ap, f);
    s = vfmt(f, ap);
    va_end(ap);
    if (s)
        zl_sbuf_str(b, s);
    else
        b->oom = true;
    free(s);
}

/* Keeps b as the first difference (the first one wins); frees b's text. */
static void set_diff(replay *rp, zl_sbuf *b)
{
    if (!rp->diff)
        rp->diff = strdup(b->oom ? "a difference (out of memory describing it)" : zl_sbuf_text(b));
    free(b->s);
    *b = (zl_sbuf){0};
}

/* ---- notify ids the program makes ---- */

static bool is_to(const replay *rp, const char *s)
{
    size_t i;

    for (i = 0; i < rp->n_ids; i++)
        if (!strcmp(rp->ids[i].to, s))
            return true;
    return false;
}

static int learn_id(replay *rp, const char *from, const char *to)
{
    if (rp->n_ids == rp->cap_ids) {
        size_t cap = rp->cap_ids ? rp->cap_ids * 2 : 16;
        id_pair *p = realloc(rp->ids, cap * sizeof *p);

        if (!p)
            return -1;
        rp->ids = p;
        rp->cap_ids = cap;
    }
    rp->ids[rp->n_ids].from = strdup(from);
    rp->ids[rp->n_ids].to = strdup(to);
    if (!rp->ids[rp->n_ids].from || !rp->ids[rp->n_ids].to) {
        free(rp->ids[rp->n_ids].from);
        free(rp->ids[rp->n_ids].to);
        return -1;
    }
    rp->n_ids++;
    return 0;
}

/* s with every recorded notify id the program made replaced by this run's (owned). */
static char *map_text(const replay *rp, const char *s)
{
    zl_sbuf b = {0};
    size_t i;

    if (!s)
        return NULL;
    if (!rp->n_ids)
        return strdup(s);
    while (*s) {
        for (i = 0; i < rp->n_ids; i++) {
            size_t n = strlen(rp->ids[i].from);

            if (*s == rp->ids[i].from[0] && !strncmp(s, rp->ids[i].from, n)) {
                zl_sbuf_str(&b, rp->ids[i].to);
                s += n;
                break;
            }
        }
        if (i == rp->n_ids)
            zl_sbuf_add(&b, s++, 1);
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s ? b.s : strdup("");
}

/* ---- comparing JSON ---- */

typedef struct jdiff {
    char path[700];
    char *expected, *actual; /* printed values, "(absent)" when missing */
} jdiff;

static void jdiff_cleanup(jdiff *d)
{
    free(d->expected);
    free(d->actual);
    *d = (jdiff){0};
}

typedef struct cmp_ctx {
    const replay *rp;
    const char *scope; /* "answer", or the SDK API of the request */
    char segs[MAX_DEPTH][SEG_MAX];
    int depth;
    jdiff *d;
} cmp_ctx;

/* Splits "$.a[2][\"b c\"].*[*]" into segments: keys as written, indexes as "[2]", "[*]".
 * Returns the count, or -1 when it is not a path. */
static int split_path(const char *p, char segs[][SEG_MAX], int max)
{
    int n = 0;

    if (*p++ != '$')
        return -1;
    while (*p) {
        size_t k = 0;

        if (n == max)
            return -1;
        if (*p == '.') {
            for (p++; *p && *p != '.' && *p != '['; p++)
                if (k + 1 < SEG_MAX)
                    segs[n][k++] = *p;
        } else if (p[0] == '[' && p[1] == '"') {
            for (p += 2; *p && *p != '"'; p++)
                if (k + 1 < SEG_MAX)
                    segs[n][k++] = *p;
            if (p[0] != '"' || p[1] != ']')
                return -1;
            p += 2;
        } else if (*p == '[') {
            for (; *p && *p != ']'; p++)
                if (k + 1 < SEG_MAX)
                    segs[n][k++] = *p;
            if (*p++ != ']')
                return -1;
            segs[n][k++] = ']';
        } else {
            return -1;
        }
        segs[n++][k] = '\0';
    }
    return n;
}

static bool ident(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static void path_text(const cmp_ctx *c, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "$");
    int i;

    for (i = 0; i < c->depth && n < cap; i++) {
        const char *s = c->segs[i];

        if (s[0] == '[')
            n += (size_t)snprintf(out + n, cap - n, "%s", s);
        else if (ident(s))
            n += (size_t)snprintf(out + n, cap - n, ".%s", s);
        else
            n += (size_t)snprintf(out + n, cap - n, "[\"%s\"]", s);
    }
}

/* Whether an --ignore path names the node at c's path. */
static bool ignored(const cmp_ctx *c)
{
    char segs[MAX_DEPTH][SEG_MAX];
    size_t i;
    int n, k;

    for (i = 0; i < c->rp->n_ignore; i++) {
        const char *pat = c->rp->ignore[i], *colon = strchr(pat, ':');

        if (pat[0] != '$' && colon) { /* "SCOPE:$..." */
            if (strlen(c->scope) != (size_t)(colon - pat) ||
                strncmp(pat, c->scope, (size_t)(colon - pat)) != 0)
                continue;
            pat = colon + 1;
        }
        if ((n = split_path(pat, segs, MAX_DEPTH)) != c->depth)
            continue;
        for (k = 0; k < n; k++) {
            const char *p = segs[k], *s = c->segs[k];

            if (!strcmp(p, s) || (!strcmp(p, "*") && s[0] != '[') ||
                (!strcmp(p, "[*]") && s[0] == '['))
                continue;
            break;
        }
        if (k == n)
            return true;
    }
    return false;
}

static char *show(const cJSON *v)
{
    char *t, buf[SHOW_MAX + 64], *s;

    if (!v)
        return strdup("(absent)");
    if (!(t = cJSON_PrintUnformatted(v)))
        return strdup("(out of memory)");
    s = strdup(clip(t, buf, sizeof buf));
    cJSON_free(t);
    return s;
}

static int differs(cmp_ctx *c, const cJSON *a, const cJSON *b)
{
    path_text(c, c->d->path, sizeof c->d->path);
    c->d->expected = show(a);
    c->d->actual = show(b);
    return 1;
}

static bool push(cmp_ctx *c, const char *seg)
{
    if (c->depth == MAX_DEPTH)
        return false;
    snprintf(c->segs[c->depth++], SEG_MAX, "%s", seg);
    return true;
}

/* 0 when a (expected) and b (actual) are the same JSON, else 1 with c->d filled. Members
 * compare by name (their order does not matter), arrays by position. */
static int cmp_json(cmp_ctx *c, const cJSON *a, const cJSON *b)
{
    const cJSON *m;
    char seg[32];
    int i, n, r;

    if (ignored(c))
        return 0;
    if (!a || !b || (a->type & 0xFF) != (b->type & 0xFF))
        return differs(c, a, b);
    if (c->depth == MAX_DEPTH) { /* too deep to name: compare the texts */
        char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);

        r = !ta || !tb || strcmp(ta, tb) != 0;
        cJSON_free(ta);
        cJSON_free(tb);
        return r ? differs(c, a, b) : 0;
    }
    if (cJSON_IsObject(a)) {
        cJSON_ArrayForEach(m, a)
        {
            push(c, m->string);
            r = cmp_json(c, m, cJSON_GetObjectItemCaseSensitive(b, m->string));
            c->depth--;
            if (r)
                return r;
        }
        cJSON_ArrayForEach(m, b)
        {
            if (cJSON_GetObjectItemCaseSensitive(a, m->string))
                continue;
            push(c, m->string);
            r = ignored(c) ? 0 : differs(c, NULL, m);
            c->depth--;
            if (r)
                return r;
        }
        return 0;
    }
    if (cJSON_IsArray(a)) {
        n = cJSON_GetArraySize(a) > cJSON_GetArraySize(b) ? cJSON_GetArraySize(a)
                                                          : cJSON_GetArraySize(b);
        for (i = 0; i < n; i++) {
            snprintf(seg, sizeof seg, "[%d]", i);
            push(c, seg);
            r = cmp_json(c, cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i));
            c->depth--;
            if (r)
                return r;
        }
        return 0;
    }
    if (cJSON_IsNumber(a))
        return a->valuedouble == b->valuedouble ? 0 : differs(c, a, b);
    if (cJSON_IsString(a) || cJSON_IsRaw(a))
        return strcmp(a->valuestring, b->valuestring) == 0 ? 0 : differs(c, a, b);
    return 0; /* null, true, false: the type said it all */
}

/* Compares two texts: as JSON when both parse, else byte for byte. 0 same, 1 with d. */
static int cmp_texts(const replay *rp, const char *scope, const char *exp, const cJSON *act_json,
                     const char *act, jdiff *d)
{
    cJSON *a = cJSON_Parse(exp), *b = act_json ? NULL : (act ? cJSON_Parse(act) : NULL);
    const cJSON *bb = act_json ? act_json : b;
    cmp_ctx *c;
    char buf[SHOW_MAX + 64];
    int r;

    if (a && bb) {
        if (!(c = calloc(1, sizeof *c))) {
            cJSON_Delete(a);
            cJSON_Delete(b);
            return -1;
        }
        c->rp = rp;
        c->scope = scope;
        c->d = d;
        r = cmp_json(c, a, bb);
        free(c);
    } else if (!a && !bb && act && !strcmp(exp, act)) {
        r = 0;
    } else {
        snprintf(d->path, sizeof d->path, "$");
        d->expected = a ? show(a) : strdup(clip(exp, buf, sizeof buf));
        d->actual = bb ? show(bb) : strdup(act ? clip(act, buf, sizeof buf) : "(not JSON)");
        r = 1;
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    return r;
}

/* ---- describing what happens ---- */

static const char *outcome_text(int errcode)
{
    switch (errcode) {
    case 0:
        return "answered";
    case 710674:
        return "710674, connection refused";
    case 710675:
        return "710675, no answer in time";
    case 710676:
        return "710676, an HTTP status other than 200";
    case 710677:
        return "710677, a reply that does not verify or an exception reply";
    default:
        return "710638, the call failed";
    }
}

/* "callback 2 of 5 (recording seq 14): an event conversation_new_message to zone-demo/0" */
static void describe_cb(const replay *rp, size_t k, zl_sbuf *b)
{
    const rp_callback *c = &rp->cbs[k];
    const char *inst = rp->prog && c->replica < rp->prog->replica_count
                           ? rp->prog->replicas[c->replica].instance
                           : rp->program_id;

    sb_fmt(b, "callback %zu of %zu (%s seq %llu): ", k + 1, rp->n_cbs,
           rp->journal ? "journal" : "recording", (unsigned long long)c->src);
    if (c->env.call_type == 2) {
        cJSON *ev = cJSON_Parse(c->env.data ? c->env.data : "");
        const char *type = jstr(ev, "event_type");

        sb_fmt(b, "an event %s", type ? type : "(no event_type)");
        cJSON_Delete(ev);
    } else {
        sb_fmt(b, "%s call to ability %s", c->env.is_async ? "an async" : "a",
               c->env.ability_id ? c->env.ability_id : "");
    }
    sb_fmt(b, " on %s", inst);
}

/* Where the replay stands, for a difference in an SDK call. */
static void describe_where(const replay *rp, zl_sbuf *b)
{
    if (rp->in_flight) {
        sb_fmt(b, "during ");
        describe_cb(rp, rp->cur, b);
    } else if (rp->cur < rp->n_cbs) {
        sb_fmt(b, "before ");
        describe_cb(rp, rp->cur, b);
    } else {
        sb_fmt(b, "after the last callback");
    }
}

static void add_jdiff(zl_sbuf *b, const char *what, const jdiff *d)
{
    sb_fmt(b, "\n  %s differs at %s\n    expected: %s\n    actual:   %s", what, d->path,
           d->expected ? d->expected : "", d->actual ? d->actual : "");
}

/* ---- the SDK hook: the program's calls, answered from the recording ---- */

/* Whether the program's call (api, req) is v. Fills d when it is not; *from / *to: a notify
 * id pair learnt by this match (owned, NULL when none). */
static int match_invoke(replay *rp, const rp_invoke *v, const char *api, const cJSON *req, jdiff *d,
                        char **from, char **to)
{
    char *exp_text = map_text(rp, v->request);
    cJSON *exp = exp_text ? cJSON_Parse(exp_text) : NULL;
    char *reqtext = NULL;
    int r;

    *from = *to = NULL;
    if (!exp_text)
        return -1;
    if (!strcmp(api, "spec_notify_app") && exp && req) {
        const char *en = jstr(exp, "notify_id"), *an = jstr(req, "notify_id");

        /* a notify id the program made: paired with this run's the first time it is seen */
        if (en && an && *en && *an && strcmp(en, an) != 0 && !is_to(rp, en) && !is_to(rp, an)) {
            *from = strdup(en);
            *to = strdup(an);
            cJSON_ReplaceItemInObjectCaseSensitive(exp, "notify_id", cJSON_CreateString(an));
        }
    }
    if (exp) {
        char *t = cJSON_PrintUnformatted(exp);

        if (t) {
            free(exp_text);
            exp_text = strdup(t);
            cJSON_free(t);
        }
    }
    if (!req)
        reqtext = strdup("(not JSON)");
    /* neither is JSON: the hook sees no text to compare, so they count as the same */
    r = !exp && !req ? 0 : cmp_texts(rp, api, exp_text ? exp_text : "", req, reqtext, d);
    if (r != 0) {
        free(*from);
        free(*to);
        *from = *to = NULL;
    }
    cJSON_Delete(exp);
    free(exp_text);
    free(reqtext);
    return r;
}

static int refuse(cJSON **reply)
{
    *reply = cJSON_CreateObject();
    cJSON_AddNumberToObject(*reply, "errcode", -1);
    cJSON_AddStringToObject(*reply, "errmsg",
                            "zonelab replay: this SDK call is not in the recording");
    return ZL_HOOK_REPLY;
}

static int hook(void *ud, const char *api, const cJSON *request, cJSON **reply, long *delay_ms)
{
    replay *rp = ud;
    size_t i, first_same = SIZE_MAX, first_any = SIZE_MAX;
    jdiff d = {0}, best = {0};
    char *from = NULL, *to = NULL, *text, buf[SHOW_MAX + 64];
    zl_sbuf b = {0};

    (void)delay_ms;
    if (rp->diff)
        return refuse(reply);
    for (i = 0; i < rp->n_invs; i++) {
        rp_invoke *v = &rp->invs[i];
        int r;

        if (v->used)
            continue;
        if (first_any == SIZE_MAX)
            first_any = i;
        if (strcmp(v->api, api) != 0)
            continue;
        r = match_invoke(rp, v, api, request, &d, &from, &to);
        if (r == 0) {
            v->used = true;
            rp->matched++;
            if (from && learn_id(rp, from, to) != 0)
                fprintf(rp->err, "zonelab replay: out of memory pairing notify ids\n");
            free(from);
            free(to);
            jdiff_cleanup(&best);
            if (v->action != ZL_HOOK_REPLY)
                return v->action;
            text = map_text(rp, v->reply);
            *reply = text ? cJSON_Parse(text) : NULL;
            free(text);
            return *reply ? ZL_HOOK_REPLY : ZL_HOOK_PASS;
        }
        if (first_same == SIZE_MAX) {
            first_same = i;
            best = d;
            d = (jdiff){0};
        }
        jdiff_cleanup(&d);
    }
    /* not in the recording (here): the first difference */
    text = request ? cJSON_PrintUnformatted(request) : NULL;
    sb_fmt(&b, "difference in an SDK call ");
    describe_where(rp, &b);
    if (first_same != SIZE_MAX) {
        const rp_invoke *v = &rp->invs[first_same];
        char what[200];

        snprintf(what, sizeof what, "the request of %s (%s seq %llu)", api,
                 rp->journal ? "journal" : "recording", (unsigned long long)v->src);
        add_jdiff(&b, what, &best);
        sb_fmt(&b, "\n  expected request: %s", clip(v->request, buf, sizeof buf));
    } else if (first_any != SIZE_MAX) {
        const rp_invoke *v = &rp->invs[first_any];

        sb_fmt(&b, "\n  the program called %s; the recording's next SDK call is %s (%s seq %llu)",
               api, v->api, rp->journal ? "journal" : "recording", (unsigned long long)v->src);
        sb_fmt(&b, "\n  expected request: %s", clip(v->request, buf, sizeof buf));
    } else {
        sb_fmt(&b, "\n  the program called %s, which the recording does not have here", api);
    }
    sb_fmt(&b, "\n  actual request:   %s", text ? clip(text, buf, sizeof buf) : "(not JSON)");
    cJSON_free(text);
    jdiff_cleanup(&best);
    set_diff(rp, &b);
    return refuse(reply);
}

/* ---- loading a recording ---- */

/* A new zeroed element at the end of *arr (n used of *cap, each size bytes), or NULL. */
static void *append(void **arr, size_t *n, size_t *cap, size_t size)
{
    char *p;

    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;

        if (!(p = realloc(*arr, c * size)))
            return NULL;
        *arr = p;
        *cap = c;
    }
    p = (char *)*arr + (*n)++ * size;
    memset(p, 0, size);
    return p;
}

static rp_callback *new_cb(replay *rp)
{
    void *base = rp->cbs;
    rp_callback *c = append(&base, &rp->n_cbs, &rp->cap_cbs, sizeof *rp->cbs);

    rp->cbs = base;
    return c;
}

static rp_invoke *new_inv(replay *rp)
{
    void *base = rp->invs;
    rp_invoke *v = append(&base, &rp->n_invs, &rp->cap_invs, sizeof *rp->invs);

    rp->invs = base;
    return v;
}

static size_t replica_of(const char *instance)
{
    const char *slash = instance ? strrchr(instance, '/') : NULL;

    return slash && slash[1] ? (size_t)strtoul(slash + 1, NULL, 10) : 0;
}

/* Whether x, a dropped invoke, re-sends one dropped before (the same ww-nonce); else notes
 * its nonce. The SDK face drops such a re-send again without asking the hook. */
static bool reset_again(replay *rp, const cJSON *x)
{
    const cJSON *h, *hs = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(x, "request"), "headers");
    const char *nonce = NULL;
    size_t i;

    cJSON_ArrayForEach(h, hs)
    {
        const cJSON *n = cJSON_GetArrayItem(h, 0), *v = cJSON_GetArrayItem(h, 1);

        if (cJSON_IsString(n) && cJSON_IsString(v) && !strcasecmp(n->valuestring, "ww-nonce"))
            nonce = v->valuestring;
    }
    if (!nonce || !*nonce)
        return false;
    for (i = 0; i < 8; i++)
        if (!strcmp(rp->reset_nonces[i], nonce))
            return true;
    snprintf(rp->reset_nonces[rp->reset_next++ % 8], sizeof rp->reset_nonces[0], "%s", nonce);
    return false;
}

/* The outcome program.c gives a callback that ended like this exchange. */
static int record_outcome(const cJSON *x, const cJSON *reply)
{
    double curl = jnum(x, "curl_code", 0), status = jnum(x, "status", 0);

    if (curl == 7)
        return 710674;
    if (curl == 28)
        return 710675;
    if (curl != 0)
        return 710638;
    if (status != 200)
        return 710676;
    if (cJSON_GetObjectItemCaseSensitive(x, "exception") || !cJSON_IsObject(reply) ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "exception")) ||
        !jstr(reply, "response"))
        return 710677;
    return 0;
}

/* One line of a recording: a callback or an invoke of some program, kept; others ignored. */
static int record_exchange(replay *rp, const cJSON *x, char *msg, size_t cap)
{
    const char *dir = jstr(x, "direction"), *face = jstr(x, "face"), *pid = jstr(x, "program_id");
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(x, "envelope");
    const cJSON *reply = cJSON_GetObjectItemCaseSensitive(x, "reply");
    uint64_t seq = (uint64_t)jnum(x, "seq", 0), order = (uint64_t)jnum(x, "id", (double)seq);

    if (!dir || !face || !pid)
        return 0;
    if (!strcmp(dir, "out") && !strcmp(face, "program")) {
        rp_callback *c;
        char *text;

        if (jnum(x, "curl_code", 0) == 42) /* cancelled when serve stopped: never answered */
            return 0;
        if (!cJSON_IsObject(env)) {
            rp->skipped++;
            return 0;
        }
        if (!(c = new_cb(rp)) || !(text = cJSON_PrintUnformatted(env)))
            goto oom;
        if (zone_wire_callback_decode(text, strlen(text), &c->env) != 0) {
            cJSON_free(text);
            zone_wire_callback_cleanup(&c->env);
            rp->n_cbs--;
            rp->skipped++;
            return 0;
        }
        cJSON_free(text);
        c->prog = strdup(pid);
        c->src = seq;
        c->order = order;
        c->replica = replica_of(jstr(x, "instance"));
        c->errcode = record_outcome(x, reply);
        if (c->errcode == 0)
            c->response = strdup(jstr(reply, "response"));
        if (!c->prog || (c->errcode == 0 && !c->response))
            goto oom;
    } else if (!strcmp(dir, "in") && !strcmp(face, "sdk")) {
        const char *api = jstr(env, "api"), *req = jstr(env, "request");
        rp_invoke *v;

        if (!api) /* it did not verify: refused before any API, as it would be now */
            return 0;
        if (jnum(x, "status", 0) == 0 && reset_again(rp, x))
            return 0; /* libcurl's automatic re-send of a reset call: the emulator resets it */
        if (!(v = new_inv(rp)))
            goto oom;
        v->prog = strdup(pid);
        v->src = seq;
        v->order = order;
        v->api = strdup(api);
        v->request = strdup(req ? req : "");
        if (jnum(x, "status", 0) == 0)
            v->action = ZL_HOOK_RESET;
        else if (cJSON_GetObjectItemCaseSensitive(x, "exception"))
            v->action = ZL_HOOK_PASS;
        else if (jstr(reply, "response") &&
                 !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "exception")))
            v->action = ZL_HOOK_REPLY;
        else if (cJSON_GetObjectItemCaseSensitive(x, "reply_error"))
            v->action = ZL_HOOK_GARBAGE;
        else
            v->action = ZL_HOOK_PASS;
        if (v->action == ZL_HOOK_REPLY && !(v->reply = strdup(jstr(reply, "response"))))
            goto oom;
        if (!v->prog || !v->api || !v->request)
            goto oom;
    }
    return 0;
oom:
    snprintf(msg, cap, "out of memory");
    return -1;
}

static int load_record(replay *rp, char *text, size_t len, cJSON **header, char *msg, size_t cap)
{
    char *p = text, *end = text + len;
    size_t lineno = 0;

    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *o;

        lineno++;
        if (n == 0 || (n == 1 && *p == '\r')) {
            p = nl ? nl + 1 : end;
            continue;
        }
        if (!(o = cJSON_ParseWithLength(p, n))) {
            if (!nl || nl + 1 >= end) { /* a crash cut the last line: what came before holds */
                fprintf(rp->err, "zonelab replay: %s: line %zu is incomplete; ignored\n", rp->file,
                        lineno);
                break;
            }
            snprintf(msg, cap, "%s: line %zu is not JSON", rp->file, lineno);
            return -1;
        }
        if (!*header) {
            double v = jnum(o, "zonelab_record", 0);

            if (v < 1) {
                cJSON_Delete(o);
                snprintf(msg, cap,
                         "%s: the first line is not a zonelab recording's header "
                         "(no \"zonelab_record\")",
                         rp->file);
                return -1;
            }
            if (v > ZL_RECORD_FORMAT) {
                cJSON_Delete(o);
                snprintf(msg, cap, "%s: recording format %g is newer than this zonelab's (%d)",
                         rp->file, v, ZL_RECORD_FORMAT);
                return -1;
            }
            *header = o;
        } else {
            int rc = record_exchange(rp, o, msg, cap);

            cJSON_Delete(o);
            if (rc != 0)
                return -1;
        }
        p = nl ? nl + 1 : end;
    }
    if (!*header) {
        snprintf(msg, cap, "%s is empty", rp->file);
        return -1;
    }
    return 0;
}

/* ---- loading a scenario journal ---- */

/* The first entry of face/kind after index from whose key (a string) equals val. */
static const cJSON *find_entry(const cJSON *entries, int from, const char *face, const char *kind,
                               const char *key, const char *val)
{
    int i, n = cJSON_GetArraySize(entries);

    for (i = from < 0 ? 0 : from; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(entries, i);
        const char *f = jstr(e, "face"), *k = jstr(e, "kind"), *v = jstr(e, key);

        if (f && k && v && !strcmp(f, face) && !strcmp(k, kind) && !strcmp(v, val))
            return e;
    }
    return NULL;
}

static const cJSON *entry_by_seq(const cJSON *entries, double seq)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, entries) if (jnum(e, "seq", -1) == seq) return e;
    return NULL;
}

/* A ("program","call") entry as a callback: its inputs come from the app call with the same
 * req_id (sync_call_program, async_program_task) or the task_input of its jobid. */
static int journal_call(replay *rp, const cJSON *entries, int i, const cJSON *e, char *msg,
                        size_t cap)
{
    const char *req_id = jstr(e, "req_id"), *jobid = jstr(e, "jobid"), *pid = jstr(e, "program_id");
    const cJSON *app = req_id ? find_entry(entries, i + 1, "app", "call", "req_id", req_id) : NULL;
    const cJSON *task =
        !app && jobid ? find_entry(entries, 0, "sdk", "task_input", "jobid", jobid) : NULL;
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(app, "request");
    const char *data = app ? jstr(req, "request_data") : jstr(task, "input");
    const char *nid = jstr(req, "notify_id"), *resp = jstr(e, "response");
    bool is_async = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "is_async"));
    const char *job_info = jstr(e, "job_info");
    rp_callback *c;
    char ji[64];

    if (!data) {
        rp->skipped++;
        return 0;
    }
    if (!(c = new_cb(rp)))
        goto oom;
    c->prog = strdup(pid);
    c->src = (uint64_t)jnum(e, "seq", 0);
    c->order = (uint64_t)(jnum(e, "t", 0) - jnum(e, "elapsed_ms", 0));
    c->replica = replica_of(jstr(e, "instance"));
    c->errcode = (int)jnum(e, "errcode", 0);
    if (c->errcode == 0 && resp && !(c->response = strdup(resp)))
        goto oom;
    if (!job_info && is_async) { /* the journal does not keep it: any fresh one will do */
        snprintf(ji, sizeof ji, "ji_replay_%llu", (unsigned long long)c->src);
        job_info = ji;
    }
    c->env.corpid = dup_or_null(jstr(app ? app : task, "corpid"));
    c->env.agentid = (uint32_t)jnum(app ? app : task, "agentid", 0);
    c->env.call_type = 1;
    c->env.is_async = is_async;
    c->env.data = strdup(data);
    c->env.job_info = strdup(job_info ? job_info : "");
    c->env.ability_id = strdup(jstr(e, "ability_id") ? jstr(e, "ability_id") : "");
    c->env.notify_id = strdup(!is_async && nid ? nid : "");
    c->env.req_id = strdup(req_id ? req_id : "");
    if (!c->prog || !c->env.data || !c->env.job_info || !c->env.ability_id || !c->env.notify_id ||
        !c->env.req_id)
        goto oom;
    return 0;
oom:
    snprintf(msg, cap, "out of memory");
    return -1;
}

/* A ("program","event_result") entry as a callback: the event of its event_seq. */
static int journal_event(replay *rp, const cJSON *entries, const cJSON *e, char *msg, size_t cap)
{
    const cJSON *ev = entry_by_seq(entries, jnum(e, "event_seq", -1));
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(ev, "event");
    const char *resp = jstr(e, "response");
    rp_callback *c;
    char *data;

    if (!cJSON_IsObject(body)) {
        rp->skipped++;
        return 0;
    }
    if (!(c = new_cb(rp)) || !(data = cJSON_PrintUnformatted(body)))
        goto oom;
    c->prog = strdup(jstr(e, "program_id"));
    c->src = (uint64_t)jnum(e, "seq", 0);
    c->order = (uint64_t)(jnum(e, "t", 0) - jnum(e, "elapsed_ms", 0));
    c->replica = replica_of(jstr(e, "instance"));
    c->errcode = (int)jnum(e, "errcode", 0);
    if (c->errcode == 0 && resp && !(c->response = strdup(resp)))
        goto oom;
    c->env.corpid = dup_or_null(jstr(ev, "corpid")); /* else the program's corp, at setup */
    c->env.agentid = (uint32_t)jnum(ev, "agentid", 0);
    c->env.call_type = 2;
    c->env.data = strdup(data);
    cJSON_free(data);
    c->env.job_info = strdup("");
    c->env.ability_id = strdup("");
    c->env.notify_id = strdup("");
    c->env.req_id = strdup("");
    if (!c->prog || !c->env.data || !c->env.job_info || !c->env.ability_id || !c->env.notify_id ||
        !c->env.req_id)
        goto oom;
    return 0;
oom:
    snprintf(msg, cap, "out of memory");
    return -1;
}

/* An ("sdk","invoke") entry as a recorded SDK call. */
static int journal_invoke(replay *rp, const cJSON *e, char *msg, size_t cap)
{
    const char *outcome = jstr(e, "outcome"), *api = jstr(e, "api"), *req = jstr(e, "request");
    const char *why = jstr(e, "error"), *reply_text = jstr(e, "reply");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(e, "response");
    int action;
    rp_invoke *v;

    if (!outcome || !api)
        return 0;
    if (!strcmp(outcome, "answered") || !strcmp(outcome, "scripted")) {
        action = ZL_HOOK_REPLY;
        if (!reply_text && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "msg_list_abridged"))) {
            snprintf(msg, cap,
                     "%s: journal seq %.0f: the journal keeps only the msgids of %s's msg_list, "
                     "not the items the program got; replaying it needs the invoke entry's "
                     "\"reply\" field (docs/replay.md, \"Journals\"), or a recording made with "
                     "zonelab serve --record",
                     rp->file, jnum(e, "seq", 0), api);
            return -1;
        }
    } else if (!strcmp(outcome, "refused") && jnum(e, "sdk_code", 0) == -10006) {
        action = ZL_HOOK_PASS; /* an API zonelab does not serve: refused again */
    } else if (!strcmp(outcome, "reset") && !(why && !strncmp(why, "re-sent", 7))) {
        action = ZL_HOOK_RESET;
    } else if (!strcmp(outcome, "garbage")) {
        action = ZL_HOOK_GARBAGE;
    } else {
        return 0; /* delayed (answered later), a re-send, or refused before the hook */
    }
    if (!(v = new_inv(rp)))
        goto oom;
    v->prog = strdup(jstr(e, "program_id"));
    v->src = (uint64_t)jnum(e, "seq", 0);
    v->order = (uint64_t)jnum(e, "t", 0) + JOURNAL_SLACK_MS + 1;
    v->api = strdup(api);
    v->request = strdup(req ? req : "");
    v->action = action;
    if (action == ZL_HOOK_REPLY) {
        char *t = reply_text ? NULL : cJSON_PrintUnformatted(resp);

        v->reply = strdup(reply_text ? reply_text : t ? t : "{}");
        cJSON_free(t);
        if (!v->reply)
            goto oom;
    }
    if (!v->prog || !v->api || !v->request)
        goto oom;
    return 0;
oom:
    snprintf(msg, cap, "out of memory");
    return -1;
}

static int load_journal(replay *rp, const cJSON *entries, char *msg, size_t cap)
{
    const cJSON *e;
    int i = 0;

    cJSON_ArrayForEach(e, entries)
    {
        const char *face = jstr(e, "face"), *kind = jstr(e, "kind");
        int rc = 0;

        if (face && kind && jstr(e, "program_id")) {
            if (!strcmp(face, "program") && !strcmp(kind, "call"))
                rc = journal_call(rp, entries, i, e, msg, cap);
            else if (!strcmp(face, "program") && !strcmp(kind, "event_result"))
                rc = journal_event(rp, entries, e, msg, cap);
            else if (!strcmp(face, "sdk") && !strcmp(kind, "invoke"))
                rc = journal_invoke(rp, e, msg, cap);
        }
        if (rc != 0)
            return -1;
        i++;
    }
    return 0;
}

/* ---- the plan ---- */

static int by_order_cb(const void *a, const void *b)
{
    const rp_callback *x = a, *y = b;

    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->src < y->src ? -1 : x->src > y->src;
}

static int by_order_inv(const void *a, const void *b)
{
    const rp_invoke *x = a, *y = b;

    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->src < y->src ? -1 : x->src > y->src;
}

static void free_cb(rp_callback *c)
{
    free(c->prog);
    free(c->response);
    zone_wire_callback_cleanup(&c->env);
}

static void free_inv(rp_invoke *v)
{
    free(v->prog);
    free(v->api);
    free(v->request);
    free(v->reply);
}

/*
 * Keeps the target program's callbacks and calls in start order and gives each call its
 * barrier, the first callback that started after it (a recording) or after it ended (a
 * journal, whose entries are journaled when things end: a callback started at t -
 * elapsed_ms; a call, answered at once, at t): the call must be matched before that
 * callback is sent.
 */
static int plan(replay *rp, char *msg, size_t cap)
{
    size_t i, n, k;

    if (!rp->program_id) {
        for (i = 0; i < rp->n_cbs && !rp->program_id; i++)
            rp->program_id = strdup(rp->cbs[i].prog);
        if (!rp->program_id) {
            snprintf(msg, cap, "%s: no callback to a program to replay", rp->file);
            return -1;
        }
    }
    for (i = n = 0; i < rp->n_cbs; i++) {
        if (strcmp(rp->cbs[i].prog, rp->program_id) != 0) {
            free_cb(&rp->cbs[i]);
            continue;
        }
        rp->cbs[n++] = rp->cbs[i];
    }
    rp->n_cbs = n;
    for (i = n = 0; i < rp->n_invs; i++) {
        if (strcmp(rp->invs[i].prog, rp->program_id) != 0) {
            free_inv(&rp->invs[i]);
            continue;
        }
        rp->invs[n++] = rp->invs[i];
    }
    rp->n_invs = n;
    if (!rp->n_cbs) {
        snprintf(msg, cap, "%s: no callback to program %s to replay", rp->file, rp->program_id);
        return -1;
    }
    qsort(rp->cbs, rp->n_cbs, sizeof *rp->cbs, by_order_cb);
    qsort(rp->invs, rp->n_invs, sizeof *rp->invs, by_order_inv);
    for (i = 0, k = 0; i < rp->n_invs; i++) {
        while (k < rp->n_cbs && rp->cbs[k].order < rp->invs[i].order)
            k++;
        rp->invs[i].barrier = k;
    }
    for (i = 0; i < rp->n_cbs; i++)
        if (rp->cbs[i].replica + 1 > rp->replicas && !rp->journal)
            rp->replicas = rp->cbs[i].replica + 1;
    return 0;
}

/* ---- running ---- */

static void on_answer(zl_emu *emu, const zl_call_result *res, void *ud)
{
    replay *rp = ud;

    (void)emu;
    rp->answered = true;
    rp->got_errcode = res->errcode;
    free(rp->got_response);
    rp->got_response = res->response ? strdup(res->response) : NULL;
    snprintf(rp->got_detail, sizeof rp->got_detail, "%s", res->detail);
}

/* A replica that exited is a difference (the recorded program did not). */
static void check_alive(replay *rp)
{
    size_t i;

    zl_emu_reap(rp->emu);
    for (i = 0; i < rp->prog->replica_count && !rp->diff; i++) {
        const zl_replica *r = &rp->prog->replicas[i];
        zl_sbuf b = {0};

        if (!r->exited)
            continue;
        sb_fmt(&b, "difference: program %s exited (%s %d) ", r->instance,
               r->exit_code > 128 ? "signal" : "exit code",
               r->exit_code > 128 ? r->exit_code - 128 : r->exit_code);
        describe_where(rp, &b);
        set_diff(rp, &b);
    }
}

/* Whether every call due before callback[barrier] was made (waived ones only at the end). */
static bool all_matched(const replay *rp, size_t barrier)
{
    size_t i;

    for (i = 0; i < rp->n_invs; i++)
        if (!rp->invs[i].used && rp->invs[i].barrier <= barrier &&
            (!rp->invs[i].waived || barrier == rp->n_cbs))
            return false;
    return true;
}

/* Turns the engine until the calls due before callback[barrier] are matched (or ms pass);
 * what is still missing then is the difference. */
static void await_calls(replay *rp, size_t barrier, long ms)
{
    int64_t deadline = real_ms() + ms;
    char buf[SHOW_MAX + 64];
    zl_sbuf b = {0};
    size_t i;

    while (!rp->diff && !all_matched(rp, barrier) && real_ms() < deadline) {
        zl_engine_turn(rp->engine, 10);
        check_alive(rp);
    }
    if (rp->diff)
        return;
    for (i = 0; i < rp->n_invs; i++) {
        rp_invoke *v = &rp->invs[i];

        if (v->used || v->barrier > barrier || (v->waived && barrier < rp->n_cbs))
            continue;
        if (rp->journal && barrier < rp->n_cbs) {
            /* a journal's times are estimates: the call may belong to a later callback */
            v->waived = true;
            continue;
        }
        sb_fmt(&b,
               "difference: the program did not make an SDK call the recording has (%ld ms "
               "waited), ",
               ms);
        describe_where(rp, &b);
        sb_fmt(&b, "\n  expected: %s %s (%s seq %llu)", v->api, clip(v->request, buf, sizeof buf),
               rp->journal ? "journal" : "recording", (unsigned long long)v->src);
        set_diff(rp, &b);
        return;
    }
}

static void settle(replay *rp, long ms)
{
    int64_t deadline = real_ms() + ms;

    while (!rp->diff && real_ms() < deadline) {
        zl_engine_turn(rp->engine, 10);
        check_alive(rp);
    }
}

/* Compares the answer to callback k with the recording's. */
static void check_answer(replay *rp, size_t k)
{
    const rp_callback *c = &rp->cbs[k];
    char buf[SHOW_MAX + 64], *exp;
    zl_sbuf b = {0};
    jdiff d = {0};

    if (c->errcode != rp->got_errcode) {
        sb_fmt(&b, "difference in ");
        describe_cb(rp, k, &b);
        sb_fmt(&b, "\n  expected: %s%s%s", outcome_text(c->errcode), c->response ? ": " : "",
               c->response ? clip(c->response, buf, sizeof buf) : "");
        sb_fmt(&b, "\n  actual:   %s", outcome_text(rp->got_errcode));
        if (rp->got_errcode)
            sb_fmt(&b, " (%s)", rp->got_detail);
        else if (rp->got_response)
            sb_fmt(&b, ": %s", clip(rp->got_response, buf, sizeof buf));
        set_diff(rp, &b);
        return;
    }
    if (c->errcode != 0 || !c->response)
        return;
    if (!(exp = map_text(rp, c->response)))
        return;
    if (cmp_texts(rp, "answer", exp, NULL, rp->got_response ? rp->got_response : "", &d) != 0) {
        sb_fmt(&b, "difference in ");
        describe_cb(rp, k, &b);
        add_jdiff(&b, "the answer", &d);
        sb_fmt(&b, "\n  expected answer: %s", clip(exp, buf, sizeof buf));
        sb_fmt(&b, "\n  actual answer:   %s",
               clip(rp->got_response ? rp->got_response : "", buf, sizeof buf));
        set_diff(rp, &b);
    }
    jdiff_cleanup(&d);
    free(exp);
}

static void send_callback(replay *rp, size_t k)
{
    const rp_callback *c = &rp->cbs[k];
    char *data = map_text(rp, c->env.data), *nid = map_text(rp, c->env.notify_id);
    zl_callback_args a = {.corpid = c->env.corpid,
                          .data = data,
                          .job_info = c->env.job_info,
                          .ability_id = c->env.ability_id,
                          .notify_id = nid,
                          .req_id = c->env.req_id,
                          .agentid = c->env.agentid,
                          .call_type = c->env.call_type,
                          .is_async = c->env.is_async != 0};
    size_t replica = c->replica < rp->prog->replica_count ? c->replica : 0;
    zl_sbuf b = {0};

    rp->answered = false;
    rp->in_flight = true;
    if (!data || !nid ||
        zl_emu_call_program(rp->emu, rp->prog, replica, &a, rp->timeout_ms, on_answer, rp) != 0) {
        sb_fmt(&b, "zonelab could not send ");
        describe_cb(rp, k, &b);
        set_diff(rp, &b);
    } else {
        while (!rp->answered) { /* the call's own timeout ends it */
            zl_engine_turn(rp->engine, 10);
            zl_emu_reap(rp->emu);
        }
    }
    rp->in_flight = false;
    free(data);
    free(nid);
}

static void drive(replay *rp)
{
    size_t k;

    for (k = 0; k < rp->n_cbs && !rp->diff; k++) {
        rp->cur = k;
        await_calls(rp, k, rp->timeout_ms);
        if (rp->diff)
            break;
        send_callback(rp, k);
        if (!rp->diff)
            check_answer(rp, k);
        check_alive(rp);
    }
    if (rp->diff)
        return;
    rp->cur = rp->n_cbs;
    await_calls(rp, rp->n_cbs, rp->timeout_ms);
    settle(rp, SETTLE_MS);
}

/* ---- the emulator and the program ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int wait_listening(replay *rp, char *msg, size_t cap)
{
    int64_t deadline = real_ms() + START_MS;
    size_t i, ready;

    for (;;) {
        zl_emu_reap(rp->emu);
        for (i = ready = 0; i < rp->prog->replica_count; i++) {
            const zl_replica *r = &rp->prog->replicas[i];

            if (r->exited) {
                snprintf(msg, cap,
                         "%s exited (%s %d) before it listened on port %u; its log is in %.512s",
                         r->instance, r->exit_code > 128 ? "signal" : "exit code",
                         r->exit_code > 128 ? r->exit_code - 128 : r->exit_code, r->port,
                         rp->work_dir);
                return -1;
            }
            ready += (size_t)zl_emu_port_open(r->port);
        }
        if (ready == rp->prog->replica_count)
            return 0;
        if (real_ms() > deadline) {
            snprintf(msg, cap, "%zu of %zu replicas of %s listen after %d ms; logs in %.512s",
                     ready, rp->prog->replica_count, rp->program_id, START_MS, rp->work_dir);
            return -1;
        }
        zl_engine_turn(rp->engine, 5);
    }
}

static int setup(replay *rp, char *msg, size_t cap)
{
    const char *wpath = rp->world_opt ? rp->world_opt : rp->world_path, *tmp = getenv("TMPDIR");
    const unsigned char *raw;
    size_t i, raw_len;
    zl_server_config sc;
    zl_world *w = NULL;
    char sha[65];

    raw = zl_world_default_json(&raw_len);
    if (wpath && !(w = zl_world_load_file(wpath, msg, cap)))
        return -1;
    if (rp->world_sha[0] && zl_record_world_digest(wpath, raw, raw_len, sha) == 0 &&
        strcmp(sha, rp->world_sha) != 0)
        fprintf(rp->err,
                "zonelab replay: warning: the world %s is not the recording's (sha256 %.12s..., "
                "recorded %.12s...)\n",
                wpath ? wpath : "(built-in)", sha, rp->world_sha);
    zl_server_config_default(&sc);
    sc.engine.seed = rp->seed;
    sc.journal_cap = 100000;
    sc.no_control = true;
    sc.opt.program_timeout_ms = rp->timeout_ms;
    sc.opt.event_timeout_ms = rp->timeout_ms;
    if (!(rp->srv = zl_server_new(w, &sc, msg, cap)) || zl_server_start(rp->srv, msg, cap) != 0)
        return -1;
    rp->world = rp->srv->world;
    rp->engine = rp->srv->engine;
    rp->jr = rp->srv->journal;
    rp->emu = rp->srv->emu;
    for (i = 0; i < rp->emu->prog_count && !rp->prog; i++)
        if (!strcmp(rp->emu->progs[i].prog->program_id, rp->program_id))
            rp->prog = &rp->emu->progs[i];
    if (!rp->prog) {
        snprintf(msg, cap,
                 "the world %s has no program %s; give the recording's world with --world",
                 wpath ? wpath : "(built-in)", rp->program_id);
        return -1;
    }
    if (rp->replicas && rp->replicas != rp->prog->replica_count &&
        zl_emu_set_replicas(rp->emu, rp->prog, rp->replicas, msg, cap) != 0)
        return -1;
    for (i = 0; i < rp->n_cbs; i++)
        if (!rp->cbs[i].env.corpid && !(rp->cbs[i].env.corpid = strdup(rp->prog->corp->corpid))) {
            snprintf(msg, cap, "out of memory");
            return -1;
        }
    snprintf(rp->work_dir, sizeof rp->work_dir, "%s/zonelab-replay-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(rp->work_dir)) {
        snprintf(msg, cap, "cannot make a work folder %.512s: %s", rp->work_dir, strerror(errno));
        rp->work_dir[0] = '\0';
        return -1;
    }
    rp->emu->log_dir = rp->work_dir;
    rp->emu->sdk_hook = hook;
    rp->emu->sdk_hook_ud = rp;
    setenv("ZONELAB_WORK_DIR", rp->work_dir, 1); /* the program's command may use it */
    if (zl_emu_spawn(rp->emu, rp->prog, rp->program_cmd, msg, cap) != 0)
        return -1;
    return wait_listening(rp, msg, cap);
}

static void teardown(replay *rp, bool remove_work)
{
    size_t i;

    zl_server_free(rp->srv);
    if (remove_work && rp->work_dir[0])
        nftw(rp->work_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    for (i = 0; i < rp->n_cbs; i++)
        free_cb(&rp->cbs[i]);
    for (i = 0; i < rp->n_invs; i++)
        free_inv(&rp->invs[i]);
    for (i = 0; i < rp->n_ids; i++) {
        free(rp->ids[i].from);
        free(rp->ids[i].to);
    }
    free(rp->cbs);
    free(rp->invs);
    free(rp->ids);
    free(rp->program_id);
    free(rp->world_path);
    free(rp->got_response);
    free(rp->diff);
}

/* ---- the command ---- */

static void usage(FILE *f)
{
    fputs("usage: zonelab replay FILE --program CMD [--program-id ID] [--world FILE]\n"
          "                      [--seed N] [--timeout-ms N] [--ignore PATH]... [--keep]\n"
          "\n"
          "Drives a program with a recording and compares what it does with it.\n"
          "FILE is a `zonelab serve --record` file or a failed scenario's\n"
          "<path>.journal.json (zonelab run --report-dir); the format is detected.\n"
          "  --program CMD      start CMD (via /bin/sh -c) as each replica, with the ZONELAB_*\n"
          "                     environment and ZONELAB_WORK_DIR (a fresh folder)\n"
          "  --program-id ID    the program to replay (default: the first one called)\n"
          "  --world FILE       the world (default: the recording's; a journal's: built-in)\n"
          "  --seed N           the emulator's seed (default: the recording's, else 1)\n"
          "  --timeout-ms N     wait for an answer or an SDK call (default 10000)\n"
          "  --ignore PATH      a JSON path not compared, as $.a.b[0], $.list[*].time or\n"
          "                     $.*.id; API:PATH for one SDK API's requests only,\n"
          "                     answer:PATH for the program's answers only (repeatable)\n"
          "  --keep             keep the work folder (program logs, ZONELAB_WORK_DIR)\n"
          "\n"
          "Exit codes: 0 everything matched, 1 a difference (the first one is printed),\n"
          "2 usage, or a file or program that cannot be replayed.\n",
          f);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t cap = 0, n;

    *len = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (*len + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            if (!(nb = realloc(buf, cap)))
                break;
            buf = nb;
        }
        n = fread(buf + *len, 1, cap - *len - 1, f);
        *len += n;
        if (n == 0)
            break;
    }
    if (ferror(f) || !buf || cap <= *len) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* Reads FILE into the plan: a recording (JSON Lines) or a journal (a JSON array). */
static int load(replay *rp, char *msg, size_t cap)
{
    size_t len, i;
    char *text = read_all(rp->file, &len), *p;
    cJSON *header = NULL, *doc = NULL;
    const cJSON *entries = NULL, *w, *progs, *pr;
    int rc = -1;

    if (!text) {
        snprintf(msg, cap, "cannot read %s: %s", rp->file, errno ? strerror(errno) : "failed");
        return -1;
    }
    for (p = text; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
        ;
    if (*p == '[' || (*p == '{' && (doc = cJSON_ParseWithLength(text, len)) &&
                      cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "entries")))) {
        if (!doc && !(doc = cJSON_ParseWithLength(text, len))) {
            snprintf(msg, cap, "%s: a journal must be one JSON array", rp->file);
            goto out;
        }
        entries = cJSON_IsArray(doc) ? doc : cJSON_GetObjectItemCaseSensitive(doc, "entries");
        rp->journal = true;
        if (load_journal(rp, entries, msg, cap) != 0)
            goto out;
        if (plan(rp, msg, cap) != 0)
            goto out;
        for (i = 0; i < rp->n_cbs; i++)
            if (rp->cbs[i].replica + 1 > rp->replicas)
                rp->replicas = rp->cbs[i].replica + 1;
        for (i = 0; i < (size_t)cJSON_GetArraySize(entries); i++) { /* replicas it started */
            const cJSON *e = cJSON_GetArrayItem(entries, (int)i);
            const char *inst = jstr(e, "instance"), *kind = jstr(e, "kind");
            size_t pl = strlen(rp->program_id);

            if (kind && !strcmp(kind, "spawn") && inst && !strncmp(inst, rp->program_id, pl) &&
                inst[pl] == '/' && replica_of(inst) + 1 > rp->replicas)
                rp->replicas = replica_of(inst) + 1;
        }
        rc = 0;
        goto out;
    }
    cJSON_Delete(doc);
    doc = NULL;
    if (*p != '{') {
        snprintf(msg, cap,
                 "%s is neither a zonelab recording (JSON Lines) nor a journal (a JSON "
                 "array)",
                 rp->file);
        goto out;
    }
    if (load_record(rp, text, len, &header, msg, cap) != 0 || plan(rp, msg, cap) != 0)
        goto out;
    w = cJSON_GetObjectItemCaseSensitive(header, "world");
    if (jstr(w, "path") && !(rp->world_path = strdup(jstr(w, "path"))))
        goto oom;
    if (jstr(w, "sha256"))
        snprintf(rp->world_sha, sizeof rp->world_sha, "%s", jstr(w, "sha256"));
    if (!rp->seed_set) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(header, "seed");

        rp->seed = cJSON_IsNumber(s)   ? (uint64_t)s->valuedouble
                   : cJSON_IsString(s) ? strtoull(s->valuestring, NULL, 10)
                                       : 1;
    }
    progs = cJSON_GetObjectItemCaseSensitive(header, "programs");
    cJSON_ArrayForEach(pr, progs)
    {
        const char *id = jstr(pr, "program_id");
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pr, "replicas"));

        if (id && !strcmp(id, rp->program_id) && (size_t)n > rp->replicas)
            rp->replicas = (size_t)n;
    }
    rc = 0;
    goto out;
oom:
    snprintf(msg, cap, "out of memory");
out:
    cJSON_Delete(header);
    cJSON_Delete(doc);
    free(text);
    return rc;
}

int zl_cli_replay(int argc, char **argv, FILE *out, FILE *err)
{
    replay rp = {.out = out, .err = err, .timeout_ms = 10000, .seed = 1};
    unsigned long long v;
    char msg[1200] = "";
    int64_t t0 = real_ms();
    int i, rc = ZL_CLI_USAGE;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(out);
            return ZL_CLI_OK;
        } else if (!strcmp(a, "--keep")) {
            rp.keep = true;
            continue;
        } else if (a[0] != '-' || !a[1]) {
            if (rp.file) {
                fprintf(err, "zonelab replay: one FILE only ('%s' and '%s')\n", rp.file, a);
                usage(err);
                return ZL_CLI_USAGE;
            }
            rp.file = a;
            continue;
        } else if (!strcmp(a, "--program") && val && *val) {
            rp.program_cmd = val;
        } else if (!strcmp(a, "--program-id") && val && *val) {
            rp.program_opt = val;
        } else if (!strcmp(a, "--world") && val && *val) {
            rp.world_opt = val;
        } else if (!strcmp(a, "--seed") && val && zl_cli_parse_u64(val, UINT64_MAX, &v) == 0) {
            rp.seed = v;
            rp.seed_set = true;
        } else if (!strcmp(a, "--timeout-ms") && val && zl_cli_parse_u64(val, 3600000, &v) == 0 &&
                   v > 0) {
            rp.timeout_ms = (long)v;
        } else if (!strcmp(a, "--ignore") && val && rp.n_ignore < MAX_IGNORE &&
                   (val[0] == '$' || strstr(val, ":$"))) {
            char segs[MAX_DEPTH][SEG_MAX];
            const char *path = val[0] == '$' ? val : strstr(val, ":$") + 1;

            if (split_path(path, segs, MAX_DEPTH) < 0) {
                fprintf(err, "zonelab replay: --ignore %s is not a JSON path ($.a.b[0])\n", val);
                return ZL_CLI_USAGE;
            }
            rp.ignore[rp.n_ignore++] = val;
        } else {
            fprintf(err, "zonelab replay: bad or incomplete option '%s'%s%s\n", a, val ? " " : "",
                    val ? val : "");
            usage(err);
            return ZL_CLI_USAGE;
        }
        i++;
    }
    if (!rp.file || !rp.program_cmd) {
        fprintf(err, "zonelab replay: %s\n",
                !rp.file ? "FILE is required" : "--program CMD is required");
        usage(err);
        return ZL_CLI_USAGE;
    }
    if (rp.program_opt && !(rp.program_id = strdup(rp.program_opt))) {
        fprintf(err, "zonelab replay: out of memory\n");
        return ZL_CLI_USAGE;
    }
    signal(SIGPIPE, SIG_IGN); /* a program that closes its socket early is a difference */
    if (load(&rp, msg, sizeof msg) != 0) {
        fprintf(err, "zonelab replay: %s\n", msg);
        teardown(&rp, true);
        return ZL_CLI_USAGE;
    }
    if (rp.skipped)
        fprintf(err,
                "zonelab replay: %zu exchanges of %s cannot be replayed (no plaintext, or "
                "refused before the API) and are left out\n",
                rp.skipped, rp.program_id);
    if (setup(&rp, msg, sizeof msg) != 0) {
        fprintf(err, "zonelab replay: %s\n", msg);
        teardown(&rp, !rp.keep && !rp.prog);
        return ZL_CLI_USAGE;
    }
    drive(&rp);
    if (rp.diff) {
        size_t done = rp.cur;

        fprintf(out, "zonelab replay: %s: %s\n", rp.file, rp.diff);
        fprintf(out,
                "zonelab replay: %zu of %zu callback%s and %zu of %zu SDK call%s matched before "
                "it; the program's log and ZONELAB_WORK_DIR: %s\n",
                done, rp.n_cbs, plural(rp.n_cbs), rp.matched, rp.n_invs, plural(rp.n_invs),
                rp.work_dir);
        rc = ZL_CLI_FAILED;
    } else {
        fprintf(out,
                "zonelab replay: %s: ok: %zu callback%s replayed, %zu SDK call%s matched, "
                "%zu notify id%s paired (%.2f s)\n",
                rp.file, rp.n_cbs, plural(rp.n_cbs), rp.matched, plural(rp.matched), rp.n_ids,
                plural(rp.n_ids), (double)(real_ms() - t0) / 1000);
        rc = ZL_CLI_OK;
    }
    teardown(&rp, rc == ZL_CLI_OK && !rp.keep);
    return rc;
}
