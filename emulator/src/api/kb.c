/* api_kb: knowledge sets (sdk-api.md §5, events.md §3): the family's state as a part of the
 * emulator (sets, their documents, who they are authorised to), documents that learn on the
 * virtual clock (knowledge_base_learn_done), the events the sets send, and the check other
 * families make of a kb_id. The SDK APIs are in kb_api.c, the console's side in kb_control.c;
 * kb_int.h is what they share. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/kb.h"
#include "core/grow.h"
#include "api/kb_int.h"

#define KB_ID_PREFIX "kb_"

/* ---- state ---- */

void zl_kb_doc_cleanup(kb_doc *d)
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
        zl_kb_doc_cleanup(&s->docs[i]);
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

struct zl_kb *zl_kb_state(zl_emu *emu)
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
    if (zl_emu_part_set(emu, &kb_part, s) != 0) {
        kb_free(s);
        return NULL;
    }
    return s;
}

kb_set *zl_kb_find_set(const struct zl_kb *s, const zl_corp *c, const char *kb_id)
{
    kb_set *k;

    if (!s || strlen(kb_id) > KB_ID_MAX || !(k = zl_strmap_get(s->by_id, kb_id)))
        return NULL;
    return k->corp == c ? k : NULL;
}

size_t zl_kb_live_sets(const struct zl_kb *s, const zl_corp *c)
{
    size_t i, n = 0;

    for (i = 0; i < s->count; i++)
        n += s->sets[i]->corp == c && !s->sets[i]->deleted;
    return n;
}

kb_doc *zl_kb_find_doc(kb_set *k, uint64_t docid)
{
    size_t i;

    for (i = 0; i < k->ndocs; i++)
        if (k->docs[i].docid == docid)
            return &k->docs[i];
    return NULL;
}

kb_set *zl_kb_set_new(zl_emu *emu, struct zl_kb *s, zl_corp *c, const char *name)
{
    kb_set *k = calloc(1, sizeof *k);

    if (!k || !(k->name = strdup(name)) ||
        !(k->authorised = calloc(s->app_count + 1, sizeof *k->authorised)))
        goto fail;
    if (zl_grow(&s->sets, &s->cap, s->count, sizeof *s->sets, 16) != 0)
        goto fail;
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

/* ---- events ---- */

void zl_kb_send_event(zl_emu *emu, zl_app_rt *a, const char *type, const kb_set *k,
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
            zl_kb_send_event(emu, &emu->apps[i], type, k, doc, events);
}

/* ---- learning ---- */

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
    d = k && !k->deleted ? zl_kb_find_doc(k, t->docid) : NULL;
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

int zl_kb_learn(zl_emu *emu, struct zl_kb *s, const kb_set *k, kb_doc *d)
{
    learn_timer *t = calloc(1, sizeof *t);

    d->status = 2;
    d->forced = -1;
    if (!t)
        return -1;
    t->emu = emu;
    memcpy(t->kb_id, k->kb_id, sizeof t->kb_id);
    t->docid = d->docid;
    if (!zl_engine_timer(emu->engine, zl_emu_now_ms(emu) + emu->opt.kb_learn_latency_ms, on_learned,
                         t)) {
        free(t);
        return -1;
    }
    t->next = s->timers;
    s->timers = t;
    return 0;
}

/* ---- names and documents ---- */

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

long zl_kb_name_chars(const char *s, bool *hidden)
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

void zl_kb_delete_set(zl_emu *emu, kb_set *k, const zl_app_rt *skip, cJSON *events)
{
    size_t i;

    send_to_authorised(emu, "delete_knowledge_base", k, NULL, skip, events);
    for (i = 0; i < k->ndocs; i++)
        zl_kb_doc_cleanup(&k->docs[i]);
    free(k->docs);
    k->docs = NULL;
    k->ndocs = k->cap = 0;
    k->deleted = true;
    memset(k->authorised, 0, emu->app_count * sizeof *k->authorised);
}

int zl_kb_usable(zl_emu *emu, const zl_app_rt *a, const char *kb_id)
{
    struct zl_kb *s = zl_emu_part(emu, &kb_part);
    kb_set *k;
    size_t me = app_index(emu, a);

    if (s && s->no_grant[me])
        return 710643;
    if (!kb_id || !(k = zl_kb_find_set(s, a->corp, kb_id)))
        return 800000;
    if (k->deleted)
        return 790034;
    return k->authorised[me] ? 0 : 790024;
}
