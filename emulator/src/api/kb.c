/* api_kb: knowledge sets (sdk-api.md §5): the seven SDK APIs (and document_list), documents
 * that learn on the virtual clock (knowledge_base_learn_done), and the console's side
 * (authorise, revoke, delete, grant, learning results) for POST /_zonelab/knowledge. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wecom/errcode.h"
#include "api/kb.h"
#include "api/sdk_api.h"

#define MAX_SETS       1000 /* per corp, deleted ones not counted: 790027 */
#define MAX_DOCS       1000 /* per set, and per request: 790026 */
#define NAME_CHARS     20   /* kb_name: 1..20 characters (UTF-8 code points) */
#define DOC_NAME_MAX   200  /* doc_name bytes: 790032 */
#define MEDIA_ID_MAX   1024 /* file_media_id bytes */
#define WEB_URL_MAX    1024 /* web_url bytes: 790025 */
#define KB_ID_MAX      64   /* longer kb_ids are not looked up: 800000 */
#define KB_ID_PREFIX   "kb_"
#define KB_ID_LEN      19 /* "kb_" and 16 lower-case hex characters */
#define MAX_RULES      256
#define MAX_LATENCY_MS (86400LL * 1000)
#define TYPE_WEB_LINK  101
#define MAX_DOCID      9007199254740991.0 /* 2^53 - 1: docids stay exact as JSON numbers */

/* ------------------------------------------------------------------ state */

typedef struct kb_doc {
    uint64_t docid;
    char *doc_name;
    char *web_url;  /* "" for a file */
    char *media_id; /* "" for a web link */
    int type;
    int status; /* detail status: 0 learned, 1 failed, 2 learning */
    int forced; /* learn_status a scenario chose for this document, -1 none */
} kb_doc;

typedef struct kb_set {
    char kb_id[KB_ID_LEN + 1];
    char *name;
    zl_corp *corp;
    zl_app_rt *creator; /* the app that created it through the API; NULL: the console */
    bool deleted;
    bool *authorised; /* per app (emu->apps index): in its knowledge_base_list */
    kb_doc *docs;
    size_t ndocs, cap;
} kb_set;

/* A scenario's learning result for documents matching it (learn_result). */
typedef struct learn_rule {
    zl_corp *corp;
    char kb_id[KB_ID_MAX + 1]; /* "" = any set */
    char *doc_name, *web_url;  /* NULL = any */
    int learn_status;
} learn_rule;

/* The record behind one learning timer: lives until the timer fires or the state goes. */
typedef struct learn_timer {
    struct learn_timer *next;
    zl_emu *emu;
    char kb_id[KB_ID_LEN + 1];
    uint64_t docid;
} learn_timer;

struct zl_kb {
    kb_set **sets; /* every corp's, creation order; deleted ones stay (790034) */
    size_t count, cap;
    zl_strmap *by_id; /* kb_id -> kb_set (borrowed) */
    bool *no_grant;   /* per app: the knowledge-set grant was withdrawn (710643) */
    size_t app_count;
    uint64_t next_docid;
    int64_t latency_ms;
    learn_rule rules[MAX_RULES];
    size_t nrules;
    learn_timer *timers;
};

static void doc_cleanup(kb_doc *d)
{
    free(d->doc_name);
    free(d->web_url);
    free(d->media_id);
}

static void set_free(kb_set *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->ndocs; i++)
        doc_cleanup(&s->docs[i]);
    free(s->docs);
    free(s->authorised);
    free(s->name);
    free(s);
}

static void kb_free(void *v)
{
    struct zl_kb *s = v;

    learn_timer *t, *n;
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->count; i++)
        set_free(s->sets[i]);
    free(s->sets);
    zl_strmap_free(s->by_id);
    free(s->no_grant);
    for (i = 0; i < s->nrules; i++) {
        free(s->rules[i].doc_name);
        free(s->rules[i].web_url);
    }
    for (t = s->timers; t; t = n) {
        n = t->next;
        free(t);
    }
    free(s);
}

static const zl_emu_part_ops kb_part = {"kb", kb_free, NULL};

/* The emulator's knowledge state, made on first use; NULL when memory runs out. */
static struct zl_kb *state(zl_emu *emu)
{
    struct zl_kb *s = zl_emu_part(emu, &kb_part);

    if (s)
        return s;
    if (!(s = calloc(1, sizeof *s)) || !(s->by_id = zl_strmap_new(NULL)) ||
        !(s->no_grant = calloc(emu->app_count + 1, sizeof *s->no_grant))) {
        kb_free(s);
        return NULL;
    }
    s->app_count = emu->app_count;
    s->next_docid = 1;
    s->latency_ms = ZL_KB_LEARN_LATENCY_MS;
    if (zl_emu_part_set(emu, &kb_part, s) != 0) {
        kb_free(s);
        return NULL;
    }
    return s;
}

static size_t app_index(const zl_emu *emu, const zl_app_rt *a)
{
    return (size_t)(a - emu->apps);
}

static kb_set *find_set(const struct zl_kb *s, const zl_corp *c, const char *kb_id)
{
    kb_set *k;

    if (!s || strlen(kb_id) > KB_ID_MAX || !(k = zl_strmap_get(s->by_id, kb_id)))
        return NULL;
    return k->corp == c ? k : NULL;
}

static size_t live_sets(const struct zl_kb *s, const zl_corp *c)
{
    size_t i, n = 0;

    for (i = 0; i < s->count; i++)
        n += s->sets[i]->corp == c && !s->sets[i]->deleted;
    return n;
}

static kb_doc *find_doc(kb_set *k, uint64_t docid)
{
    size_t i;

    for (i = 0; i < k->ndocs; i++)
        if (k->docs[i].docid == docid)
            return &k->docs[i];
    return NULL;
}

/* A new set of corp c named name (copied), in the state's list; NULL when memory runs out. */
static kb_set *set_new(zl_emu *emu, struct zl_kb *s, zl_corp *c, const char *name)
{
    kb_set *k = calloc(1, sizeof *k);

    if (!k || !(k->name = strdup(name)) ||
        !(k->authorised = calloc(s->app_count + 1, sizeof *k->authorised)))
        goto fail;
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        kb_set **sets = realloc(s->sets, cap * sizeof *sets);

        if (!sets)
            goto fail;
        s->sets = sets;
        s->cap = cap;
    }
    do {
        memcpy(k->kb_id, KB_ID_PREFIX, strlen(KB_ID_PREFIX));
        zl_engine_random_hex(emu->engine, k->kb_id + strlen(KB_ID_PREFIX), 8);
    } while (zl_strmap_get(s->by_id, k->kb_id));
    if (zl_strmap_put(s->by_id, k->kb_id, k) != 0)
        goto fail;
    k->corp = c;
    s->sets[s->count++] = k;
    return k;
fail:
    set_free(k);
    return NULL;
}

/* ------------------------------------------------------------------ events */

/* Sends a knowledge-set event about k to app a's receiving program (if it has one) and lists
 * it in events (may be NULL). doc NULL: auth/unauth/delete, else knowledge_base_learn_done. */
static void send_event(zl_emu *emu, zl_app_rt *a, const char *type, const kb_set *k,
                       const kb_doc *doc, cJSON *events)
{
    cJSON *o;

    if (!a->receiver || !a->app->data_permission)
        return;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "knowledge_base_id", k->kb_id);
    cJSON_AddStringToObject(o, "knowledge_base_name", k->name);
    if (doc) {
        cJSON_AddNumberToObject(o, "doc_id", (double)doc->docid);
        cJSON_AddNumberToObject(o, "learn_status", doc->status);
    }
    zl_emu_app_event(emu, a, type, NULL, o, events);
}

/* Sends type to every app k is authorised to, except skip (may be NULL). */
static void send_to_authorised(zl_emu *emu, const char *type, const kb_set *k, const kb_doc *doc,
                               const zl_app_rt *skip, cJSON *events)
{
    size_t i;

    for (i = 0; i < emu->app_count; i++)
        if (k->authorised[i] && &emu->apps[i] != skip)
            send_event(emu, &emu->apps[i], type, k, doc, events);
}

/* ------------------------------------------------------------------ learning */

static bool rule_matches(const learn_rule *r, const kb_set *k, const kb_doc *d)
{
    return r->corp == k->corp && (!r->kb_id[0] || !strcmp(r->kb_id, k->kb_id)) &&
           (!r->doc_name || !strcmp(r->doc_name, d->doc_name)) &&
           (!r->web_url || !strcmp(r->web_url, d->web_url));
}

/* The learn_status document d of k ends with: the scenario's choice for d, else the latest
 * matching rule's, else 0 (learned). */
static int outcome(const struct zl_kb *s, const kb_set *k, const kb_doc *d)
{
    size_t i;

    if (d->forced >= 0)
        return d->forced;
    for (i = s->nrules; i-- > 0;)
        if (rule_matches(&s->rules[i], k, d))
            return s->rules[i].learn_status;
    return 0;
}

static void on_learned(zl_engine *e, void *ud)
{
    learn_timer *t = ud, **p;
    zl_emu *emu = t->emu;
    struct zl_kb *s = zl_emu_part(emu, &kb_part);
    kb_set *k;
    kb_doc *d;
    cJSON *j, *events;

    (void)e;
    for (p = &s->timers; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    k = zl_strmap_get(s->by_id, t->kb_id);
    d = k && !k->deleted ? find_doc(k, t->docid) : NULL;
    if (emu->closing || !d || d->status != 2) { /* removed meanwhile: no event */
        free(t);
        return;
    }
    d->status = outcome(s, k, d);
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "corpid", k->corp->corpid);
    cJSON_AddStringToObject(j, "kb_id", k->kb_id);
    cJSON_AddNumberToObject(j, "docid", (double)d->docid);
    cJSON_AddNumberToObject(j, "learn_status", d->status);
    events = cJSON_AddArrayToObject(j, "events");
    send_to_authorised(emu, "knowledge_base_learn_done", k, d, NULL, events);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", "knowledge_learn_done", j);
    free(t);
}

/* Starts learning d (status 2); it ends after the state's latency. -1 when memory runs out. */
static int learn(zl_emu *emu, struct zl_kb *s, const kb_set *k, kb_doc *d)
{
    learn_timer *t = calloc(1, sizeof *t);

    d->status = 2;
    d->forced = -1;
    if (!t)
        return -1;
    t->emu = emu;
    memcpy(t->kb_id, k->kb_id, sizeof t->kb_id);
    t->docid = d->docid;
    if (!zl_engine_timer(emu->engine, zl_emu_now_ms(emu) + s->latency_ms, on_learned, t)) {
        free(t);
        return -1;
    }
    t->next = s->timers;
    s->timers = t;
    return 0;
}

/* ------------------------------------------------------------------ names and documents */

/* The next code point of UTF-8 text at *p (advanced), or -1 for a malformed sequence. */
static long utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    long cp;
    int n, i;

    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 1, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        n = 2, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 3, cp = s[0] & 0x07;
    else
        return -1;
    for (i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *p = s + n + 1;
    return cp;
}

/* Control characters, format characters and fillers that show nothing. */
static bool invisible(long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xAD || cp == 0x34F || cp == 0x61C ||
           cp == 0x115F || cp == 0x1160 || cp == 0x17B4 || cp == 0x17B5 || cp == 0x180E ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x206F) || cp == 0x3164 || cp == 0xFEFF || cp == 0xFFA0 ||
           (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp >= 0xE0000 && cp <= 0xE007F);
}

/* Code points of s; -1 when s is not UTF-8; *hidden set when an invisible one is in it. */
static long name_chars(const char *s, bool *hidden)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0, cp;

    *hidden = false;
    while (*p) {
        if ((cp = utf8_next(&p)) < 0)
            return -1;
        *hidden |= invisible(cp);
        n++;
    }
    return n;
}

/* Extension a document type's doc_name must end with; NULL for a web link. */
static const char *extension(int type)
{
    switch (type) {
    case 2:
        return ".pdf";
    case 4:
        return ".xlsx";
    case 5:
        return ".doc";
    case 6:
        return ".docx";
    default:
        return NULL;
    }
}

static bool ends_with_ci(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);

    return n > t && !strcasecmp(s + n - t, tail); /* a name, not just the extension */
}

/* An http(s) URL: the scheme, a host, no spaces or control characters. */
static bool web_url_ok(const char *u)
{
    const char *host;
    size_t i;

    if (!strncasecmp(u, "http://", 7))
        host = u + 7;
    else if (!strncasecmp(u, "https://", 8))
        host = u + 8;
    else
        return false;
    if (!*host || strchr("/?#.:@", *host))
        return false;
    for (i = 0; u[i]; i++)
        if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7F)
            return false;
    return true;
}

/* ------------------------------------------------------------------ replies */

static cJSON *ok(void)
{
    return zl_errcode_reply(0, NULL, NULL);
}

/* ------------------------------------------------------------------ request fields */

/* kb_name of a create or rename: 1..20 characters, nothing invisible. NULL when fine. */
static cJSON *kb_name_arg(zl_sdk_ctx *x, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->req, "kb_name");
    bool hidden;
    long n;

    if (!v)
        return zl_sdk_err(x, 40058, "kb_name is required");
    if (!cJSON_IsString(v))
        return zl_sdk_err(x, 40058, "kb_name must be a string");
    n = name_chars(v->valuestring, &hidden);
    if (n < 0)
        return zl_sdk_err(x, 40058, "kb_name is not UTF-8 text");
    if (n < 1 || n > NAME_CHARS)
        return zl_sdk_errf(x, 40058, "kb_name must be 1 to %d characters (got %ld)", NAME_CHARS, n);
    if (hidden)
        return zl_sdk_err(x, 790033, "kb_name contains an invisible character");
    *out = v->valuestring;
    return NULL;
}

/* The app may use knowledge sets at all (710643 otherwise). */
static cJSON *grant_check(zl_sdk_ctx *x, struct zl_kb *s)
{
    if (!s)
        return zl_sdk_err(x, -1, "out of memory");
    if (s->no_grant[app_index(x->emu, x->app)])
        return zl_sdk_err(x, 710643, NULL);
    return NULL;
}

/* The request's kb_id as a set the caller created through the API and still holds: NULL
 * with *e the reply when it is not. */
static kb_set *set_arg(zl_sdk_ctx *x, struct zl_kb *s, cJSON **e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->req, "kb_id");
    kb_set *k = NULL;

    if ((*e = grant_check(x, s)))
        return NULL;
    if (!v)
        *e = zl_sdk_err(x, 40058, "kb_id is required");
    else if (!cJSON_IsString(v) || !v->valuestring[0])
        *e = zl_sdk_err(x, 40058, "kb_id must be a non-empty string");
    else if (!(k = find_set(s, x->app->corp, v->valuestring)))
        *e = zl_sdk_err(x, 800000,
                        "no such knowledge set in the corp; kb_id comes from "
                        "knowledge_base_create or knowledge_base_list");
    else if (k->deleted)
        *e = zl_sdk_err(x, 790034, NULL);
    else if (k->creator != x->app || !k->authorised[app_index(x->emu, x->app)])
        *e = zl_sdk_err(x, 790024,
                        k->creator
                            ? "only the app that created the set, while the corp has not revoked "
                              "it, can use these APIs on it"
                            : "the set was made in the admin console, not by this app");
    else
        return k;
    return NULL;
}

/* doc_list: an array of 1..MAX_DOCS objects; NULL when fine. */
static cJSON *doc_list_arg(zl_sdk_ctx *x, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->req, "doc_list");
    int n;

    if (!v)
        return zl_sdk_err(x, 40058, "doc_list is required");
    if (!cJSON_IsArray(v))
        return zl_sdk_err(x, 40058, "doc_list must be an array of documents");
    n = cJSON_GetArraySize(v);
    if (n < 1)
        return zl_sdk_err(x, 40058, "doc_list must hold at least one document");
    if (n > MAX_DOCS)
        return zl_sdk_errf(x, 790026, "doc_list holds at most %d documents (got %d)", MAX_DOCS, n);
    *out = v;
    return NULL;
}

/* Whether url is a document of k or of the request's items before index i. */
static bool url_taken(const kb_set *k, const cJSON *list, int i, const char *url)
{
    const cJSON *e;
    size_t d;
    int n = 0;

    for (d = 0; k && d < k->ndocs; d++)
        if (k->docs[d].type == TYPE_WEB_LINK && !strcmp(k->docs[d].web_url, url))
            return true;
    cJSON_ArrayForEach(e, list)
    {
        const cJSON *t, *u;

        if (n++ == i)
            break;
        t = cJSON_GetObjectItemCaseSensitive(e, "type");
        u = cJSON_GetObjectItemCaseSensitive(e, "web_url");
        if (zl_json_is_int(t, TYPE_WEB_LINK, TYPE_WEB_LINK) && cJSON_IsString(u) &&
            !strcmp(u->valuestring, url))
            return true;
    }
    return false;
}

/* Checks doc_list[i] (item) for set k (NULL on create): NULL when it can be added. */
static cJSON *check_doc(zl_sdk_ctx *x, const kb_set *k, const cJSON *list, int i, const cJSON *item)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "doc_name"),
                *type = cJSON_GetObjectItemCaseSensitive(item, "type"),
                *media = cJSON_GetObjectItemCaseSensitive(item, "file_media_id"),
                *url = cJSON_GetObjectItemCaseSensitive(item, "web_url");
    const char *ext;
    zl_media *m;
    bool hidden;
    long n;
    int t;

    if (!cJSON_IsObject(item))
        return zl_sdk_errf(x, 40058, "doc_list[%d] must be an object", i);
    if (!cJSON_IsString(name))
        return zl_sdk_errf(x, 40058, "doc_list[%d].doc_name is required: a string", i);
    if (!type || !zl_json_is_int(type, 0, UINT32_MAX))
        return zl_sdk_errf(x, 40058, "doc_list[%d].type is required: an unsigned integer", i);
    t = type->valuedouble > 1000 ? 1000 : (int)type->valuedouble;
    if (t == 8 || t == 9 || (t >= 10 && t <= 16))
        return zl_sdk_errf(
            x, 40058,
            "doc_list[%d].type %d: online documents, sheets and WeDrive files cannot be "
            "added",
            i, t);
    if (t != 2 && t != 4 && t != 5 && t != 6 && t != TYPE_WEB_LINK)
        return zl_sdk_errf(x, 40058,
                           "doc_list[%d].type must be 2 (pdf), 4 (xlsx), 5 (doc), 6 (docx) or 101 "
                           "(web link)",
                           i);
    n = name_chars(name->valuestring, &hidden);
    if (n < 1 || strlen(name->valuestring) > DOC_NAME_MAX)
        return zl_sdk_errf(x, 790032, "doc_list[%d].doc_name must be UTF-8 text of 1 to %d bytes",
                           i, DOC_NAME_MAX);
    if (hidden)
        return zl_sdk_errf(x, 790033, "doc_list[%d].doc_name contains an invisible character", i);
    if ((ext = extension(t)) && !ends_with_ci(name->valuestring, ext))
        return zl_sdk_errf(x, 790032, "doc_list[%d].doc_name of type %d must end with %s", i, t,
                           ext);
    if (t == TYPE_WEB_LINK) {
        if (!cJSON_IsString(url) || !url->valuestring[0])
            return zl_sdk_errf(x, 40058, "doc_list[%d].web_url is required for type 101", i);
        if (strlen(url->valuestring) > WEB_URL_MAX || !web_url_ok(url->valuestring))
            return zl_sdk_errf(
                x, 790025, "doc_list[%d].web_url must be an http or https URL of at most %d bytes",
                i, WEB_URL_MAX);
        if (url_taken(k, list, i, url->valuestring))
            return zl_sdk_errf(x, 790029, "doc_list[%d].web_url is already a document of the set",
                               i);
        return NULL;
    }
    if (!cJSON_IsString(media) || !media->valuestring[0])
        return zl_sdk_errf(x, 40058, "doc_list[%d].file_media_id is required for type %d", i, t);
    if (strlen(media->valuestring) > MEDIA_ID_MAX)
        return zl_sdk_errf(x, 40058, "doc_list[%d].file_media_id is longer than %d bytes", i,
                           MEDIA_ID_MAX);
    m = zl_strmap_get(x->emu->media, media->valuestring);
    if (!m || m->expires_ms <= zl_emu_now_ms(x->emu) || m->app != x->app)
        return zl_sdk_errf(
            x, 40007,
            "doc_list[%d].file_media_id: upload_media ids are valid 3 days, for the app "
            "that uploaded them",
            i);
    return NULL;
}

static cJSON *check_docs(zl_sdk_ctx *x, const kb_set *k, const cJSON *list)
{
    const cJSON *item;
    cJSON *e;
    int i = 0;

    cJSON_ArrayForEach(item, list)
    {
        if ((e = check_doc(x, k, list, i++, item)))
            return e;
    }
    return NULL;
}

static char *dup_or_empty(const cJSON *v)
{
    return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

/*
 * Adds the checked documents of list to k, each learning from now, and fills out (the reply's
 * doc_list) with each item's known fields and its docid. -1 when memory runs out (the
 * documents added so far stay).
 */
static int add_docs(zl_emu *emu, struct zl_kb *s, kb_set *k, const cJSON *list, cJSON *out)
{
    static const char *const keys[] = {"doc_name", "type", "file_media_id", "web_url", NULL};
    size_t need = k->ndocs + (size_t)cJSON_GetArraySize(list), i;
    const cJSON *item;

    if (need > k->cap) {
        kb_doc *docs = realloc(k->docs, need * sizeof *docs);

        if (!docs)
            return -1;
        k->docs = docs;
        k->cap = need;
    }
    cJSON_ArrayForEach(item, list)
    {
        int type = (int)cJSON_GetObjectItemCaseSensitive(item, "type")->valuedouble;
        bool link = type == TYPE_WEB_LINK;
        kb_doc *d = &k->docs[k->ndocs];
        cJSON *echo = cJSON_CreateObject();

        memset(d, 0, sizeof *d);
        d->docid = s->next_docid++;
        d->type = type;
        d->doc_name = dup_or_empty(cJSON_GetObjectItemCaseSensitive(item, "doc_name"));
        d->web_url =
            link ? dup_or_empty(cJSON_GetObjectItemCaseSensitive(item, "web_url")) : strdup("");
        d->media_id = link ? strdup("")
                           : dup_or_empty(cJSON_GetObjectItemCaseSensitive(item, "file_media_id"));
        if (!d->doc_name || !d->web_url || !d->media_id) {
            doc_cleanup(d);
            cJSON_Delete(echo);
            return -1;
        }
        k->ndocs++;
        for (i = 0; keys[i]; i++) {
            const cJSON *f = cJSON_GetObjectItemCaseSensitive(item, keys[i]);

            if (f)
                cJSON_AddItemToObject(echo, keys[i], cJSON_Duplicate(f, 1));
        }
        cJSON_AddNumberToObject(echo, "docid", (double)d->docid);
        cJSON_AddItemToArray(out, echo);
        if (learn(emu, s, k, d) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ the APIs */

static cJSON *api_knowledge_base_list(zl_sdk_ctx *x)
{
    struct zl_kb *s = state(x->emu);
    size_t me = app_index(x->emu, x->app), i;
    cJSON *e, *reply, *list;

    if ((e = grant_check(x, s)))
        return e;
    reply = ok();
    list = cJSON_AddArrayToObject(reply, "kb_info_list");
    for (i = 0; i < s->count; i++) {
        const kb_set *k = s->sets[i];
        cJSON *item;

        if (k->corp != x->app->corp || k->deleted || !k->authorised[me])
            continue;
        item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "kb_id", k->kb_id);
        cJSON_AddStringToObject(item, "kb_name", k->name);
        cJSON_AddItemToArray(list, item);
    }
    return reply;
}

static cJSON *api_knowledge_base_create(zl_sdk_ctx *x)
{
    struct zl_kb *s = state(x->emu);
    const cJSON *list;
    const char *name;
    kb_set *k;
    cJSON *e, *reply;

    if ((e = grant_check(x, s)) || (e = kb_name_arg(x, &name)) || (e = doc_list_arg(x, &list)) ||
        (e = check_docs(x, NULL, list)))
        return e;
    if (live_sets(s, x->app->corp) >= MAX_SETS)
        return zl_sdk_errf(x, 790027, "a corp holds at most %d knowledge sets; delete one first",
                           MAX_SETS);
    if (!(k = set_new(x->emu, s, x->app->corp, name)))
        return zl_sdk_err(x, -1, "out of memory");
    k->creator = x->app;
    k->authorised[app_index(x->emu, x->app)] = true; /* listed at once, no event */
    reply = ok();
    cJSON_AddStringToObject(reply, "kb_id", k->kb_id);
    if (add_docs(x->emu, s, k, list, cJSON_AddArrayToObject(reply, "doc_list")) != 0) {
        cJSON_Delete(reply);
        return zl_sdk_err(x, -1, "out of memory");
    }
    return reply;
}

static cJSON *api_knowledge_base_detail(zl_sdk_ctx *x)
{
    struct zl_kb *s = state(x->emu);
    kb_set *k;
    cJSON *e, *reply, *list;
    size_t i;

    if (!(k = set_arg(x, s, &e)))
        return e;
    reply = ok();
    cJSON_AddStringToObject(reply, "kb_id", k->kb_id);
    cJSON_AddStringToObject(reply, "kb_name", k->name);
    list = cJSON_AddArrayToObject(reply, "doc_list");
    for (i = 0; i < k->ndocs; i++) {
        const kb_doc *d = &k->docs[i];
        cJSON *item = cJSON_CreateObject();

        cJSON_AddNumberToObject(item, "docid", (double)d->docid);
        cJSON_AddStringToObject(item, "doc_name", d->doc_name);
        cJSON_AddNumberToObject(item, "type", d->type);
        cJSON_AddStringToObject(item, "web_url", d->web_url);
        cJSON_AddNumberToObject(item, "status", d->status);
        cJSON_AddItemToArray(list, item);
    }
    return reply;
}

static cJSON *api_knowledge_base_add_doc(zl_sdk_ctx *x)
{
    struct zl_kb *s = state(x->emu);
    const cJSON *list;
    kb_set *k;
    cJSON *e, *reply;

    if (!(k = set_arg(x, s, &e)))
        return e;
    if ((e = doc_list_arg(x, &list)))
        return e;
    if (k->ndocs + (size_t)cJSON_GetArraySize(list) > MAX_DOCS)
        return zl_sdk_errf(x, 790026, "the set holds %zu documents; at most %d", k->ndocs,
                           MAX_DOCS);
    if ((e = check_docs(x, k, list)))
        return e;
    reply = ok();
    if (add_docs(x->emu, s, k, list, cJSON_AddArrayToObject(reply, "doc_list")) != 0) {
        cJSON_Delete(reply);
        return zl_sdk_err(x, -1, "out of memory");
    }
    return reply;
}

static cJSON *api_knowledge_base_remove_doc(zl_sdk_ctx *x)
{
    struct zl_kb *s = state(x->emu);
    const cJSON *list, *v;
    kb_set *k;
    cJSON *e;
    bool *drop;
    size_t i, n = 0, kept;
    int at = 0;

    if (!(k = set_arg(x, s, &e)))
        return e;
    list = cJSON_GetObjectItemCaseSensitive(x->req, "docid_list");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 || cJSON_GetArraySize(list) > MAX_DOCS)
        return zl_sdk_errf(x, 40058, "docid_list is required: 1 to %d docids", MAX_DOCS);
    if (!(drop = calloc(k->ndocs + 1, sizeof *drop)))
        return zl_sdk_err(x, -1, "out of memory");
    cJSON_ArrayForEach(v, list)
    {
        if (!zl_json_is_int(v, 1, MAX_DOCID)) {
            free(drop);
            return zl_sdk_errf(x, 40058, "docid_list[%d] must be a docid (an unsigned integer)",
                               at);
        }
        for (i = 0; i < k->ndocs && k->docs[i].docid != (uint64_t)v->valuedouble; i++)
            ;
        if (i == k->ndocs) {
            free(drop);
            return zl_sdk_errf(x, 40058, "docid_list[%d] %.0f is not a document of the set", at,
                               v->valuedouble);
        }
        n += !drop[i];
        drop[i] = true;
        at++;
    }
    if (n == k->ndocs) {
        free(drop);
        return zl_sdk_err(x, 790028, "a set keeps at least one document; delete the set instead");
    }
    for (i = kept = 0; i < k->ndocs; i++) {
        if (drop[i])
            doc_cleanup(&k->docs[i]);
        else
            k->docs[kept++] = k->docs[i];
    }
    k->ndocs = kept;
    free(drop);
    return ok();
}

static cJSON *api_knowledge_base_modify_name(zl_sdk_ctx *x)
{
    struct zl_kb *s = state(x->emu);
    const char *name;
    char *copy;
    kb_set *k;
    cJSON *e;

    if (!(k = set_arg(x, s, &e)))
        return e;
    if ((e = kb_name_arg(x, &name)))
        return e;
    if (!(copy = strdup(name)))
        return zl_sdk_err(x, -1, "out of memory");
    free(k->name);
    k->name = copy;
    return ok();
}

/* Marks k deleted (its documents go; its id stays for 790034) and tells every app it was
 * authorised to, except skip. */
static void delete_set(zl_emu *emu, kb_set *k, const zl_app_rt *skip, cJSON *events)
{
    size_t i;

    send_to_authorised(emu, "delete_knowledge_base", k, NULL, skip, events);
    for (i = 0; i < k->ndocs; i++)
        doc_cleanup(&k->docs[i]);
    free(k->docs);
    k->docs = NULL;
    k->ndocs = k->cap = 0;
    k->deleted = true;
    memset(k->authorised, 0, emu->app_count * sizeof *k->authorised);
}

static cJSON *api_knowledge_base_delete(zl_sdk_ctx *x)
{
    struct zl_kb *s = state(x->emu);
    kb_set *k;
    cJSON *e;

    if (!(k = set_arg(x, s, &e)))
        return e;
    delete_set(x->emu, k, x->app, NULL);
    return ok();
}

int zl_kb_usable(zl_emu *emu, const zl_app_rt *a, const char *kb_id)
{
    struct zl_kb *s = zl_emu_part(emu, &kb_part);
    kb_set *k;
    size_t me = app_index(emu, a);

    if (s && s->no_grant[me])
        return 710643;
    if (!kb_id || !(k = find_set(s, a->corp, kb_id)))
        return 800000;
    if (k->deleted)
        return 790034;
    return k->authorised[me] ? 0 : 790024;
}

const zl_sdk_api zl_sdk_apis_kb[] = {
    {"knowledge_base_list", api_knowledge_base_list, 0},
    {"document_list", api_knowledge_base_list, 0}, /* the name before 2024-09-20 */
    {"knowledge_base_create", api_knowledge_base_create, 0},
    {"knowledge_base_detail", api_knowledge_base_detail, 0},
    {"knowledge_base_add_doc", api_knowledge_base_add_doc, 0},
    {"knowledge_base_remove_doc", api_knowledge_base_remove_doc, 0},
    {"knowledge_base_modify_name", api_knowledge_base_modify_name, 0},
    {"knowledge_base_delete", api_knowledge_base_delete, 0},
    {NULL, NULL, 0},
};

/* ------------------------------------------------------------------ the console's side */

typedef struct ctl {
    zl_emu *emu;
    struct zl_kb *s;
    zl_corp *c;
    const cJSON *body;
    char *why;
    size_t whylen;
} ctl;

__attribute__((format(printf, 3, 4))) static unsigned refuse(ctl *t, unsigned status,
                                                             const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->why, t->whylen, fmt, ap);
    va_end(ap);
    return status;
}

static const char *ctl_str(const ctl *t, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->body, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "agentid": an app of the corp (absent: the corp's first app). 0 or a 4xx status. */
static unsigned ctl_app(ctl *t, zl_app_rt **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->body, "agentid");
    size_t i;

    for (i = 0; i < t->emu->app_count; i++) {
        zl_app_rt *a = &t->emu->apps[i];

        if (a->corp != t->c)
            continue;
        if (!v || (cJSON_IsNumber(v) && v->valuedouble == (double)a->app->agentid)) {
            *out = a;
            return 0;
        }
    }
    if (v && !zl_json_is_int(v, 0, UINT32_MAX))
        return refuse(t, 400, "agentid must be an app's agentid");
    return refuse(t, 404, "agentid is not an app of the corp");
}

/* "kb_id": a set of the corp (deleted ones too). 0 or a 4xx status. */
static unsigned ctl_set(ctl *t, kb_set **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->body, "kb_id");

    if (!cJSON_IsString(v))
        return refuse(t, 400, "kb_id is required: a string");
    if (!(*out = find_set(t->s, t->c, v->valuestring)))
        return refuse(t, 404, "kb_id is not a knowledge set of the corp");
    return 0;
}

static void journal_ctl(ctl *t, const char *action, const kb_set *k, const zl_app_rt *a,
                        const cJSON *events)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "corpid", t->c->corpid);
    cJSON_AddStringToObject(j, "action", action);
    if (k)
        cJSON_AddStringToObject(j, "kb_id", k->kb_id);
    if (a)
        cJSON_AddNumberToObject(j, "agentid", a->app->agentid);
    if (events)
        cJSON_AddItemToObject(j, "events", cJSON_Duplicate(events, 1));
    zl_journal_add(t->emu->journal, zl_emu_now_ms(t->emu), "control", "knowledge", j);
}

/* create: a set made in the admin console, authorised to agentid when one is given. */
static unsigned ctl_create(ctl *t, cJSON *reply)
{
    const char *name = ctl_str(t, "kb_name");
    zl_app_rt *a = NULL;
    cJSON *events;
    bool hidden = false;
    long n;
    unsigned st;
    kb_set *k;

    n = name ? name_chars(name, &hidden) : -1;
    if (n < 1 || n > NAME_CHARS || hidden)
        return refuse(t, 400, "kb_name is required: 1 to %d visible characters", NAME_CHARS);
    if (cJSON_GetObjectItemCaseSensitive(t->body, "agentid") && (st = ctl_app(t, &a)))
        return st;
    if (live_sets(t->s, t->c) >= MAX_SETS)
        return refuse(t, 409, "the corp holds %d knowledge sets already", MAX_SETS);
    if (!(k = set_new(t->emu, t->s, t->c, name)))
        return refuse(t, 503, "out of memory");
    cJSON_AddStringToObject(reply, "kb_id", k->kb_id);
    events = cJSON_AddArrayToObject(reply, "events");
    if (a) {
        k->authorised[app_index(t->emu, a)] = true;
        send_event(t->emu, a, "auth_knowledge_base", k, NULL, events);
    }
    journal_ctl(t, "create", k, a, events);
    return 200;
}

/* authorise / revoke: set k's authorisation to the app; an event when it changes. */
static unsigned ctl_auth(ctl *t, cJSON *reply, bool on)
{
    zl_app_rt *a;
    kb_set *k;
    cJSON *events;
    unsigned st;
    size_t i;

    if ((st = ctl_set(t, &k)) || (st = ctl_app(t, &a)))
        return st;
    if (k->deleted)
        return refuse(t, 409, "the knowledge set was deleted");
    i = app_index(t->emu, a);
    events = cJSON_AddArrayToObject(reply, "events");
    cJSON_AddBoolToObject(reply, "changed", k->authorised[i] != on);
    if (k->authorised[i] != on) {
        k->authorised[i] = on;
        send_event(t->emu, a, on ? "auth_knowledge_base" : "unauth_knowledge_base", k, NULL,
                   events);
    }
    journal_ctl(t, on ? "authorise" : "revoke", k, a, events);
    return 200;
}

static unsigned ctl_delete(ctl *t, cJSON *reply)
{
    kb_set *k;
    cJSON *events;
    unsigned st;

    if ((st = ctl_set(t, &k)))
        return st;
    if (k->deleted)
        return refuse(t, 409, "the knowledge set is deleted already");
    events = cJSON_AddArrayToObject(reply, "events");
    delete_set(t->emu, k, NULL, events);
    journal_ctl(t, "delete", k, NULL, events);
    return 200;
}

/* grant: the app's knowledge-set grant ("granted", default true); without it 710643. */
static unsigned ctl_grant(ctl *t, cJSON *reply)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(t->body, "granted");
    zl_app_rt *a;
    unsigned st;

    if ((st = ctl_app(t, &a)))
        return st;
    if (g && !cJSON_IsBool(g))
        return refuse(t, 400, "granted must be true or false");
    t->s->no_grant[app_index(t->emu, a)] = g && cJSON_IsFalse(g);
    cJSON_AddBoolToObject(reply, "granted", !(g && cJSON_IsFalse(g)));
    journal_ctl(t, g && cJSON_IsFalse(g) ? "withdraw_grant" : "grant", NULL, a, NULL);
    return 200;
}

/* learn_result: a document's learning outcome, a rule for documents by name or URL, and/or
 * the learning latency. */
static unsigned ctl_learn(ctl *t, cJSON *reply)
{
    const cJSON *docid = cJSON_GetObjectItemCaseSensitive(t->body, "docid"),
                *lat = cJSON_GetObjectItemCaseSensitive(t->body, "latency_ms"),
                *ls = cJSON_GetObjectItemCaseSensitive(t->body, "learn_status");
    const char *name = ctl_str(t, "doc_name"), *url = ctl_str(t, "web_url"),
               *kb_id = ctl_str(t, "kb_id");
    int status = 1;
    size_t i;

    if ((cJSON_GetObjectItemCaseSensitive(t->body, "doc_name") && !name) ||
        (cJSON_GetObjectItemCaseSensitive(t->body, "web_url") && !url) ||
        (cJSON_GetObjectItemCaseSensitive(t->body, "kb_id") && !kb_id))
        return refuse(t, 400, "doc_name, web_url and kb_id are strings");
    if (ls && !zl_json_is_int(ls, 0, 1))
        return refuse(t, 400, "learn_status must be 0 (learned) or 1 (failed)");
    if (ls)
        status = (int)ls->valuedouble;
    if (lat && !zl_json_is_int(lat, 0, (double)MAX_LATENCY_MS))
        return refuse(t, 400, "latency_ms must be an integer from 0 to %lld",
                      (long long)MAX_LATENCY_MS);
    if (!docid && !name && !url && !lat)
        return refuse(t, 400, "give docid, doc_name or web_url (and learn_status), or latency_ms");
    if (kb_id && !find_set(t->s, t->c, kb_id))
        return refuse(t, 404, "kb_id is not a knowledge set of the corp");
    if (docid) {
        kb_doc *d = NULL;

        if (!zl_json_is_int(docid, 1, MAX_DOCID))
            return refuse(t, 400, "docid must be a docid (a positive integer)");
        for (i = 0; i < t->s->count && !d; i++)
            if (t->s->sets[i]->corp == t->c && !t->s->sets[i]->deleted &&
                (!kb_id || !strcmp(kb_id, t->s->sets[i]->kb_id)))
                d = find_doc(t->s->sets[i], (uint64_t)docid->valuedouble);
        if (!d)
            return refuse(t, 404, "docid %.0f is not a document of the corp's knowledge sets",
                          docid->valuedouble);
        if (d->status != 2)
            return refuse(t, 409, "document %.0f finished learning already (learn_status %d)",
                          docid->valuedouble, d->status);
        d->forced = status;
    } else if (name || url) {
        learn_rule *r;

        if (t->s->nrules == MAX_RULES)
            return refuse(t, 409, "at most %d learn_result rules", MAX_RULES);
        r = &t->s->rules[t->s->nrules];
        memset(r, 0, sizeof *r);
        r->corp = t->c;
        snprintf(r->kb_id, sizeof r->kb_id, "%s", kb_id ? kb_id : "");
        r->learn_status = status;
        if ((name && !(r->doc_name = strdup(name))) || (url && !(r->web_url = strdup(url)))) {
            free(r->doc_name);
            return refuse(t, 503, "out of memory");
        }
        t->s->nrules++;
    }
    if (lat)
        t->s->latency_ms = (int64_t)lat->valuedouble;
    cJSON_AddNumberToObject(reply, "latency_ms", (double)t->s->latency_ms);
    if (docid || name || url)
        cJSON_AddNumberToObject(reply, "learn_status", status);
    journal_ctl(t, "learn_result", NULL, NULL, NULL);
    return 200;
}

/* list: the corp's sets as the console sees them. */
static unsigned ctl_list(ctl *t, cJSON *reply)
{
    cJSON *sets = cJSON_AddArrayToObject(reply, "sets");
    size_t i, d, a;

    for (i = 0; i < t->s->count; i++) {
        const kb_set *k = t->s->sets[i];
        cJSON *o, *auth, *docs;

        if (k->corp != t->c)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kb_id", k->kb_id);
        cJSON_AddStringToObject(o, "kb_name", k->name);
        cJSON_AddNumberToObject(o, "creator_agentid", k->creator ? k->creator->app->agentid : 0);
        cJSON_AddBoolToObject(o, "deleted", k->deleted);
        auth = cJSON_AddArrayToObject(o, "authorised");
        for (a = 0; a < t->emu->app_count; a++)
            if (k->authorised[a])
                cJSON_AddItemToArray(auth, cJSON_CreateNumber(t->emu->apps[a].app->agentid));
        docs = cJSON_AddArrayToObject(o, "docs");
        for (d = 0; d < k->ndocs; d++) {
            cJSON *doc = cJSON_CreateObject();

            cJSON_AddNumberToObject(doc, "docid", (double)k->docs[d].docid);
            cJSON_AddStringToObject(doc, "doc_name", k->docs[d].doc_name);
            cJSON_AddNumberToObject(doc, "type", k->docs[d].type);
            cJSON_AddStringToObject(doc, "web_url", k->docs[d].web_url);
            cJSON_AddStringToObject(doc, "file_media_id", k->docs[d].media_id);
            cJSON_AddNumberToObject(doc, "status", k->docs[d].status);
            cJSON_AddItemToArray(docs, doc);
        }
        cJSON_AddItemToArray(sets, o);
    }
    cJSON_AddNumberToObject(reply, "latency_ms", (double)t->s->latency_ms);
    return 200;
}

unsigned zl_kb_control(zl_emu *emu, zl_corp *c, const cJSON *body, cJSON **reply, char *why,
                       size_t whylen)
{
    ctl t = {.emu = emu, .s = state(emu), .c = c, .body = body, .why = why, .whylen = whylen};
    const char *action = ctl_str(&t, "action");
    unsigned st;

    *reply = NULL;
    if (!t.s)
        return refuse(&t, 503, "out of memory");
    if (!action)
        return refuse(&t, 400,
                      "action is required: create, authorise, revoke, delete, grant, "
                      "learn_result or list");
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    if (!strcmp(action, "create"))
        st = ctl_create(&t, *reply);
    else if (!strcmp(action, "authorise"))
        st = ctl_auth(&t, *reply, true);
    else if (!strcmp(action, "revoke"))
        st = ctl_auth(&t, *reply, false);
    else if (!strcmp(action, "delete"))
        st = ctl_delete(&t, *reply);
    else if (!strcmp(action, "grant"))
        st = ctl_grant(&t, *reply);
    else if (!strcmp(action, "learn_result"))
        st = ctl_learn(&t, *reply);
    else if (!strcmp(action, "list"))
        st = ctl_list(&t, *reply);
    else
        st = refuse(&t, 400,
                    "action must be create, authorise, revoke, delete, grant, learn_result or "
                    "list");
    if (st != 200) {
        cJSON_Delete(*reply);
        *reply = NULL;
    }
    return st;
}
