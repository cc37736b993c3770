/* journal: every exchange on every face, in order, for assertions, the inspector and reports. */
#include "core/journal.h"
#include "core/json.h"
#include "core/grow.h"
#include "core/sbuf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

typedef struct listener {
    uint64_t id; /* 0: removed, its slot compacted away after the call in progress */
    zl_journal_listener_fn fn;
    void (*free_fn)(void *);
    void *ud;
} listener;

/* A ring of serialised entries: entry seq s lives at ring[(s - 1) % slots]. The ring starts
 * small and doubles as entries come, up to cap (a short session never pays for a full one). */
#define JOURNAL_FIRST_SLOTS 256

struct zl_journal {
    char **ring;
    size_t slots;     /* the ring's length */
    size_t cap;       /* the most entries held */
    uint64_t last;    /* newest seq */
    uint64_t first;   /* oldest seq still held (last + 1 when empty) */
    uint64_t dropped; /* overwritten or lost */
    size_t bytes;     /* text held */
    size_t byte_cap, value_max;
    listener *listeners;
    size_t n_listeners, cap_listeners;
    uint64_t next_listener;
    int notifying; /* inside listener calls: removals only mark their slot */
};

zl_journal *zl_journal_new(size_t cap)
{
    zl_journal *j = calloc(1, sizeof *j);

    if (!j || cap == 0)
        goto fail;
    j->slots = cap < JOURNAL_FIRST_SLOTS ? cap : JOURNAL_FIRST_SLOTS;
    if (!(j->ring = calloc(j->slots, sizeof *j->ring)))
        goto fail;
    j->cap = cap;
    j->first = 1;
    j->byte_cap = ZL_JOURNAL_BYTES;
    j->value_max = ZL_JOURNAL_VALUE_MAX;
    return j;
fail:
    free(j);
    return NULL;
}

/* A ring twice as long (at most cap), every entry held moved to its slot there; -1 out of
 * memory (the ring is unchanged, and full: the oldest entry gives way as before). */
static int grow_ring(zl_journal *j)
{
    size_t slots = j->slots > j->cap / 2 ? j->cap : j->slots * 2;
    char **ring = calloc(slots, sizeof *ring);

    if (!ring)
        return -1;
    for (uint64_t seq = j->first; seq <= j->last; seq++)
        ring[(seq - 1) % slots] = j->ring[(seq - 1) % j->slots];
    free(j->ring);
    j->ring = ring;
    j->slots = slots;
    return 0;
}

void zl_journal_set_limits(zl_journal *j, size_t bytes, size_t value_max)
{
    j->byte_cap = bytes;
    j->value_max = value_max;
}

/* Drops the oldest entry held. */
static void drop_oldest(zl_journal *j)
{
    char **slot = &j->ring[(j->first - 1) % j->slots];

    if (*slot) {
        j->bytes -= strlen(*slot);
        free(*slot);
        *slot = NULL;
    }
    j->first++;
    j->dropped++;
}

/* The cut of a string longer than n: its first n bytes, never inside a UTF-8 character. */
static size_t prefix_len(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Every string of o longer than max becomes its prefix; an object member also gains
 * <key>_bytes and <key>_sha256. */
static void shorten(cJSON *o, size_t max)
{
    cJSON *it, *next;

    for (it = o ? o->child : NULL; it; it = next) {
        next = it->next;
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            shorten(it, max);
        } else if (cJSON_IsString(it) && strlen(it->valuestring) > max) {
            size_t len = strlen(it->valuestring), k,
                   cut = prefix_len(it->valuestring,
                                    max < ZL_JOURNAL_PREFIX ? max : ZL_JOURNAL_PREFIX);
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned int mdlen = 0;
            char hex[2 * EVP_MAX_MD_SIZE + 1], key[300];

            EVP_Digest(it->valuestring, len, md, &mdlen, EVP_sha256(), NULL);
            for (k = 0; k < mdlen; k++)
                snprintf(hex + 2 * k, 3, "%02x", md[k]);
            hex[2 * mdlen] = '\0';
            it->valuestring[cut] = '\0';
            if (it->string && cJSON_IsObject(o) && strlen(it->string) < 200) {
                snprintf(key, sizeof key, "%s_bytes", it->string);
                cJSON_AddNumberToObject(o, key, (double)len);
                snprintf(key, sizeof key, "%s_sha256", it->string);
                cJSON_AddStringToObject(o, key, hex);
            }
        }
    }
}

/* Drops the slots of removed listeners (never during listener calls). */
static void compact_listeners(zl_journal *j)
{
    size_t i, k = 0;

    for (i = 0; i < j->n_listeners; i++)
        if (j->listeners[i].id)
            j->listeners[k++] = j->listeners[i];
    j->n_listeners = k;
}

void zl_journal_free(zl_journal *j)
{
    size_t i;

    if (!j)
        return;
    for (i = 0; i < j->n_listeners; i++)
        if (j->listeners[i].id && j->listeners[i].free_fn)
            j->listeners[i].free_fn(j->listeners[i].ud);
    free(j->listeners);
    for (uint64_t seq = j->first; seq <= j->last; seq++) /* the entries held, not the whole ring */
        free(j->ring[(seq - 1) % j->slots]);
    free(j->ring);
    free(j);
}

/*
 * Whether the entry's text can be written from detail as it stands (entry_text) rather than
 * from a tree of the entry: detail is NULL, or an object whose members all have names, none
 * of them seq, t, face or kind nor the same as a member before it (the tree drops those), and
 * face and kind are within value_max (the tree's shortening would cut them).
 */
static bool direct_ok(const zl_journal *j, const char *face, const char *kind, const cJSON *detail)
{
    const cJSON *a, *b;
    size_t n = 0;

    if (j->value_max && (strlen(face) > j->value_max || strlen(kind) > j->value_max))
        return false;
    if (!detail)
        return true;
    if (!cJSON_IsObject(detail))
        return false;
    for (a = detail->child; a; a = a->next) {
        if (!a->string || ++n > 64 || !strcmp(a->string, "seq") || !strcmp(a->string, "t") ||
            !strcmp(a->string, "face") || !strcmp(a->string, "kind"))
            return false;
        for (b = detail->child; b != a; b = b->next)
            if (!strcmp(a->string, b->string))
                return false;
    }
    return true;
}

/* The entry {seq, t, face, kind, ...detail's members} as JSON text, byte for byte what
 * zl_json_print writes of the entry's tree (detail already shortened; direct_ok holds). NULL
 * out of memory. */
static char *entry_text(uint64_t seq, int64_t t_ms, const char *face, const char *kind,
                        const cJSON *detail, size_t *len)
{
    cJSON num = {.type = cJSON_Number}, str = {.type = cJSON_String};
    const cJSON *it;
    zl_sbuf b = {.s = malloc(512)}; /* most entries fit: no growing */

    b.cap = b.s ? 512 : 0;
    zl_sbuf_add(&b, "{\"seq\":", 7);
    num.valuedouble = (double)seq;
    zl_json_print_to(&b, &num);
    zl_sbuf_add(&b, ",\"t\":", 5);
    num.valuedouble = (double)t_ms;
    zl_json_print_to(&b, &num);
    zl_sbuf_add(&b, ",\"face\":", 8);
    str.valuestring = (char *)(uintptr_t)face;
    zl_json_print_to(&b, &str);
    zl_sbuf_add(&b, ",\"kind\":", 8);
    str.valuestring = (char *)(uintptr_t)kind;
    zl_json_print_to(&b, &str);
    for (it = detail ? detail->child : NULL; it; it = it->next) {
        zl_sbuf_add(&b, ",", 1);
        str.valuestring = it->string;
        zl_json_print_to(&b, &str);
        zl_sbuf_add(&b, ":", 1);
        if (zl_json_print_to(&b, it) != 0) {
            free(b.s);
            return NULL;
        }
    }
    zl_sbuf_add(&b, "}", 1);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}

uint64_t zl_journal_add(zl_journal *j, int64_t t_ms, const char *face, const char *kind,
                        cJSON *detail)
{
    cJSON *e = NULL, *it;
    char *text = NULL;
    uint64_t seq = j->last + 1;
    size_t slot, len = 0;

    face = face ? face : "";
    kind = kind ? kind : "";
    if (direct_ok(j, face, kind, detail)) {
        if (j->value_max && detail)
            shorten(detail, j->value_max);
        if (!(text = entry_text(seq, t_ms, face, kind, detail, &len)))
            goto lost;
        goto printed;
    }
    if (!(e = cJSON_CreateObject()) || !cJSON_AddNumberToObject(e, "seq", (double)seq) ||
        !cJSON_AddNumberToObject(e, "t", (double)t_ms) ||
        !cJSON_AddStringToObject(e, "face", face) || !cJSON_AddStringToObject(e, "kind", kind))
        goto lost;
    while (detail && (it = detail->child)) { /* move members over, keeping their order */
        cJSON_DetachItemViaPointer(detail, it);
        if (!cJSON_GetObjectItemCaseSensitive(e, it->string))
            cJSON_AddItemToObject(e, it->string, it);
        else
            cJSON_Delete(it); /* a detail key never overrides seq, t, face or kind */
    }
    if (j->value_max)
        shorten(e, j->value_max);
    if (!(text = zl_json_print(e, &len)))
        goto lost;
printed:
    if (!zl_utf8_valid(text, len)) {
        /* a body's bytes that are not UTF-8: JSON text must be, so each becomes U+FFFD */
        char *fixed = zl_utf8_repair(text, len, &len);

        free(text);
        if (!(text = fixed))
            goto lost;
    }
    cJSON_Delete(e);
    cJSON_Delete(detail);
    if (j->last + 1 - j->first >= j->slots && j->slots < j->cap)
        (void)grow_ring(j); /* out of memory: the ring stays full, the oldest entry goes */
    slot = (size_t)((seq - 1) % j->slots);
    if (j->ring[slot]) /* the ring is full: its oldest entry sits in this slot */
        drop_oldest(j);
    j->ring[slot] = text;
    j->bytes += len;
    j->last = seq;
    while (j->byte_cap && j->bytes > j->byte_cap && j->first < j->last)
        drop_oldest(j);
    if (j->n_listeners) {
        size_t i, n = j->n_listeners; /* listeners added meanwhile wait for the next entry */

        j->notifying++;
        for (i = 0; i < n; i++)
            if (j->listeners[i].id)
                j->listeners[i].fn(j->listeners[i].ud, seq, text);
        if (--j->notifying == 0)
            compact_listeners(j);
    }
    return seq;
lost:
    cJSON_Delete(e);
    cJSON_Delete(detail);
    j->dropped++;
    return 0;
}

cJSON *zl_journal_since_max(const zl_journal *j, uint64_t since, size_t limit, size_t max_bytes,
                            int *more)
{
    cJSON *arr = cJSON_CreateArray();
    uint64_t s = since + 1 > j->first ? since + 1 : j->first;
    size_t bytes = 0;

    for (; arr && s <= j->last && limit > 0 && (bytes == 0 || bytes < max_bytes); s++, limit--) {
        const char *text = j->ring[(s - 1) % j->slots];
        cJSON *e = cJSON_Parse(text);

        bytes += strlen(text);
        if (e)
            cJSON_AddItemToArray(arr, e);
    }
    if (more)
        *more = s <= j->last;
    return arr;
}

cJSON *zl_journal_since(const zl_journal *j, uint64_t since, size_t limit)
{
    return zl_journal_since_max(j, since, limit, SIZE_MAX, NULL);
}

uint64_t zl_journal_last(const zl_journal *j)
{
    return j->last;
}

uint64_t zl_journal_dropped(const zl_journal *j)
{
    return j->dropped;
}

uint64_t zl_journal_first(const zl_journal *j)
{
    return j->first;
}

const char *zl_journal_text(const zl_journal *j, uint64_t seq)
{
    if (seq < j->first || seq > j->last)
        return NULL;
    return j->ring[(seq - 1) % j->slots];
}

uint64_t zl_journal_listen(zl_journal *j, zl_journal_listener_fn fn, void (*free_fn)(void *),
                           void *ud)
{
    if (!fn)
        return 0;
    if (zl_grow(&j->listeners, &j->cap_listeners, j->n_listeners, sizeof *j->listeners, 4) != 0)
        return 0;
    j->listeners[j->n_listeners++] =
        (listener){.id = ++j->next_listener, .fn = fn, .free_fn = free_fn, .ud = ud};
    return j->next_listener;
}

void zl_journal_unlisten(zl_journal *j, uint64_t id)
{
    size_t i;

    for (i = 0; id && i < j->n_listeners; i++) {
        listener l = j->listeners[i];

        if (l.id != id)
            continue;
        j->listeners[i].id = 0;
        if (!j->notifying)
            compact_listeners(j);
        if (l.free_fn)
            l.free_fn(l.ud);
        return;
    }
}
