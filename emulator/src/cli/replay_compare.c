/* cli_replay: comparing what a replayed program does with the recording: JSON compared by
 * path with --ignore paths, the notify ids the program makes paired across runs, and the text
 * of the first difference. */
#define _GNU_SOURCE
#include "cli/replay_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"

#define MAX_DEPTH 64
#define SEG_MAX   128
#define SHOW_MAX  400 /* bytes of a value or body shown in a difference */

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

int zl_replay_learn_id(replay *rp, const char *from, const char *to)
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
char *zl_replay_map_text(const replay *rp, const char *s)
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

void zl_replay_jdiff_cleanup(jdiff *d)
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

bool zl_replay_path_ok(const char *path)
{
    char segs[MAX_DEPTH][SEG_MAX];

    return split_path(path, segs, MAX_DEPTH) >= 0;
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
        const char *type = zl_json_str(ev, "event_type");

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

/* ---- matching the program's SDK calls ---- */

int zl_replay_match_invoke(replay *rp, const rp_invoke *v, const char *api, const cJSON *req,
                           jdiff *d, char **from, char **to)
{
    char *exp_text = zl_replay_map_text(rp, v->request);
    cJSON *exp = exp_text ? cJSON_Parse(exp_text) : NULL;
    char *reqtext = NULL;
    int r;

    *from = *to = NULL;
    if (!exp_text)
        return -1;
    if (!strcmp(api, "spec_notify_app") && exp && req) {
        const char *en = zl_json_str(exp, "notify_id"), *an = zl_json_str(req, "notify_id");

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

/* ---- the program's answers ---- */

void zl_replay_check_answer(replay *rp, size_t k)
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
    if (!(exp = zl_replay_map_text(rp, c->response)))
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
    zl_replay_jdiff_cleanup(&d);
    free(exp);
}

/* ---- the other differences ---- */

void zl_replay_diff_call(replay *rp, const char *api, const cJSON *request, size_t same,
                         const jdiff *best, size_t any)
{
    char *text = request ? cJSON_PrintUnformatted(request) : NULL, buf[SHOW_MAX + 64];
    zl_sbuf b = {0};

    sb_fmt(&b, "difference in an SDK call ");
    describe_where(rp, &b);
    if (same != SIZE_MAX) {
        const rp_invoke *v = &rp->invs[same];
        char what[200];

        snprintf(what, sizeof what, "the request of %s (%s seq %llu)", api,
                 rp->journal ? "journal" : "recording", (unsigned long long)v->src);
        add_jdiff(&b, what, best);
        sb_fmt(&b, "\n  expected request: %s", clip(v->request, buf, sizeof buf));
    } else if (any != SIZE_MAX) {
        const rp_invoke *v = &rp->invs[any];

        sb_fmt(&b, "\n  the program called %s; the recording's next SDK call is %s (%s seq %llu)",
               api, v->api, rp->journal ? "journal" : "recording", (unsigned long long)v->src);
        sb_fmt(&b, "\n  expected request: %s", clip(v->request, buf, sizeof buf));
    } else {
        sb_fmt(&b, "\n  the program called %s, which the recording does not have here", api);
    }
    sb_fmt(&b, "\n  actual request:   %s", text ? clip(text, buf, sizeof buf) : "(not JSON)");
    cJSON_free(text);
    set_diff(rp, &b);
}

void zl_replay_diff_missing(replay *rp, const rp_invoke *v, long ms)
{
    char buf[SHOW_MAX + 64];
    zl_sbuf b = {0};

    sb_fmt(&b,
           "difference: the program did not make an SDK call the recording has (%ld ms "
           "waited), ",
           ms);
    describe_where(rp, &b);
    sb_fmt(&b, "\n  expected: %s %s (%s seq %llu)", v->api, clip(v->request, buf, sizeof buf),
           rp->journal ? "journal" : "recording", (unsigned long long)v->src);
    set_diff(rp, &b);
}

void zl_replay_diff_exited(replay *rp, const zl_replica *r)
{
    zl_sbuf b = {0};

    sb_fmt(&b, "difference: program %s exited (%s %d) ", r->instance,
           r->exit_code > 128 ? "signal" : "exit code",
           r->exit_code > 128 ? r->exit_code - 128 : r->exit_code);
    describe_where(rp, &b);
    set_diff(rp, &b);
}

void zl_replay_diff_unsent(replay *rp, size_t k)
{
    zl_sbuf b = {0};

    sb_fmt(&b, "zonelab could not send ");
    describe_cb(rp, k, &b);
    set_diff(rp, &b);
}
