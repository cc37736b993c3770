/* api_kb_api: the SDK APIs of knowledge sets (sdk-api.md §5): knowledge_base_list (and the
 * older document_list), create, detail, add_doc, remove_doc, modify_name and delete, with the
 * checks of their request fields and documents, and the family's registry table. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/kb_int.h"
#include "wecom/errcode.h"

#define MAX_DOCS      1000 /* per set, and per request: 790026 */
#define DOC_NAME_MAX  200  /* doc_name bytes: 790032 */
#define MEDIA_ID_MAX  1024 /* file_media_id bytes */
#define WEB_URL_MAX   1024 /* web_url bytes: 790025 */
#define TYPE_WEB_LINK 101

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

/* ---- replies ---- */

static cJSON *ok(void)
{
    return zl_errcode_reply(0, NULL, NULL);
}

/* ---- request fields ---- */

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
    n = zl_kb_name_chars(v->valuestring, &hidden);
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
    else if (!(k = zl_kb_find_set(s, x->app->corp, v->valuestring)))
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
    n = zl_kb_name_chars(name->valuestring, &hidden);
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
            zl_kb_doc_cleanup(d);
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
        if (zl_kb_learn(emu, s, k, d) != 0)
            return -1;
    }
    return 0;
}

/* ---- the APIs ---- */

static cJSON *api_knowledge_base_list(zl_sdk_ctx *x)
{
    struct zl_kb *s = zl_kb_state(x->emu);
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
    struct zl_kb *s = zl_kb_state(x->emu);
    const cJSON *list;
    const char *name;
    kb_set *k;
    cJSON *e, *reply;

    if ((e = grant_check(x, s)) || (e = kb_name_arg(x, &name)) || (e = doc_list_arg(x, &list)) ||
        (e = check_docs(x, NULL, list)))
        return e;
    if (zl_kb_live_sets(s, x->app->corp) >= MAX_SETS)
        return zl_sdk_errf(x, 790027, "a corp holds at most %d knowledge sets; delete one first",
                           MAX_SETS);
    if (!(k = zl_kb_set_new(x->emu, s, x->app->corp, name)))
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
    struct zl_kb *s = zl_kb_state(x->emu);
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
    struct zl_kb *s = zl_kb_state(x->emu);
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
    struct zl_kb *s = zl_kb_state(x->emu);
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
            zl_kb_doc_cleanup(&k->docs[i]);
        else
            k->docs[kept++] = k->docs[i];
    }
    k->ndocs = kept;
    free(drop);
    return ok();
}

static cJSON *api_knowledge_base_modify_name(zl_sdk_ctx *x)
{
    struct zl_kb *s = zl_kb_state(x->emu);
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

static cJSON *api_knowledge_base_delete(zl_sdk_ctx *x)
{
    struct zl_kb *s = zl_kb_state(x->emu);
    kb_set *k;
    cJSON *e;

    if (!(k = set_arg(x, s, &e)))
        return e;
    zl_kb_delete_set(x->emu, k, x->app, NULL);
    return ok();
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
