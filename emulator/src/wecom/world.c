/* world: loads the corp world from JSON, validates it, and keeps each corp's message archive. */
#include "wecom/world.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define PATH_LEN        160 /* JSON paths in error messages */
#define MAX_REPLICAS    64
#define STORE_BLOCK     (256u * 1024u) /* arena block of a message store */
#define WORLD_BLOCK     (16u * 1024u)  /* arena block of the world */
#define CHUNK_SHIFT     10             /* 1024 messages per chunk */
#define CHUNK_LEN       ((size_t)1 << CHUNK_SHIFT)
#define MAX_MESSAGES    ((size_t)UINT32_MAX - 1) /* the msgid index stores index + 1 in 32 bits */
#define RSA_KEY_BITS    2048
#define DEFAULT_CONTENT "{}"

/* ---------------------------------------------------------------- arena */

/* A chunked bump allocator: strings and small arrays, freed all at once. */
typedef struct arena_block {
    struct arena_block *next;
    size_t cap;
    size_t used;
    unsigned char data[];
} arena_block;

struct zl_arena {
    arena_block *head;
    size_t block_size;
    size_t bytes; /* malloc'd, headers included */
};

static void arena_init(struct zl_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size;
    a->bytes = 0;
}

static void arena_cleanup(struct zl_arena *a)
{
    arena_block *b = a->head;

    while (b != NULL) {
        arena_block *next = b->next;

        free(b);
        b = next;
    }
    a->head = NULL;
    a->bytes = 0;
}

/* size bytes aligned to align (a power of two), zeroed; NULL when memory runs out. */
static void *arena_alloc(struct zl_arena *a, size_t size, size_t align)
{
    arena_block *b = a->head;
    size_t cap;

    if (size > SIZE_MAX / 4)
        return NULL;
    if (b != NULL) {
        size_t pad = (align - (size_t)((uintptr_t)(b->data + b->used) & (align - 1))) & (align - 1);

        if (pad + size <= b->cap - b->used) {
            unsigned char *p = b->data + b->used + pad;

            b->used += pad + size;
            memset(p, 0, size);
            return p;
        }
    }
    cap = size + align > a->block_size / 4 ? size + align : a->block_size;
    b = malloc(sizeof *b + cap);
    if (b == NULL)
        return NULL;
    b->cap = cap;
    b->used = 0;
    a->bytes += sizeof *b + cap;
    if (a->head != NULL && cap != a->block_size) {
        /* A large one-off block goes behind the current one, which keeps its free space. */
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    {
        size_t pad = (align - (size_t)((uintptr_t)b->data & (align - 1))) & (align - 1);
        unsigned char *p = b->data + pad;

        b->used = pad + size;
        memset(p, 0, size);
        return p;
    }
}

static char *arena_strndup(struct zl_arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1, 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* A malloc'd copy of s (free()), or NULL when memory runs out. */
static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);

    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

/* ----------------------------------------------------------- hash index */

/* Open addressing over 32-bit values; keys live elsewhere and are read through key_of. */
typedef struct hslot {
    uint32_t hash;
    uint32_t v1; /* value + 1; 0 = empty */
} hslot;

typedef struct hindex {
    hslot *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
} hindex;

typedef const char *(*key_fn)(const void *ctx, uint32_t value);

static uint32_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    h ^= h >> 31;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

static long hindex_find(const hindex *h, const char *key, uint32_t hash, key_fn key_of,
                        const void *ctx)
{
    size_t mask;

    if (h->cap == 0)
        return -1;
    mask = h->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const hslot *s = &h->slots[i];

        if (s->v1 == 0)
            return -1;
        if (s->hash == hash && strcmp(key_of(ctx, s->v1 - 1), key) == 0)
            return (long)(s->v1 - 1);
    }
}

static void hindex_put(hslot *slots, size_t cap, uint32_t hash, uint32_t v1)
{
    size_t mask = cap - 1;
    size_t i = hash & mask;

    while (slots[i].v1 != 0)
        i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].v1 = v1;
}

/* Makes room for n entries in total (load <= 3/4). Returns 0, or -1 when memory runs out. */
static int hindex_reserve(hindex *h, size_t n)
{
    size_t cap = h->cap != 0 ? h->cap : 16;
    hslot *slots;

    while (cap / 4 * 3 < n) {
        if (cap > SIZE_MAX / 2 / sizeof *slots)
            return -1;
        cap *= 2;
    }
    if (cap == h->cap)
        return 0;
    slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < h->cap; i++)
        if (h->slots[i].v1 != 0)
            hindex_put(slots, cap, h->slots[i].hash, h->slots[i].v1);
    free(h->slots);
    h->slots = slots;
    h->cap = cap;
    return 0;
}

/* Adds value under hash; hindex_reserve must have made room. */
static void hindex_insert(hindex *h, uint32_t hash, uint32_t value)
{
    hindex_put(h->slots, h->cap, hash, value + 1);
    h->count++;
}

static void hindex_cleanup(hindex *h)
{
    free(h->slots);
    h->slots = NULL;
    h->cap = 0;
    h->count = 0;
}

/* ------------------------------------------------------------- messages */

struct zl_msgstore {
    char *corpid;
    zl_message **chunks;
    size_t chunk_count;
    size_t chunk_cap;
    size_t count;
    hindex by_msgid;
    /* Sender, receiver and chat ids repeat endlessly: each distinct one is stored once. */
    hindex intern_index;
    const char **interned;
    size_t interned_count;
    size_t interned_cap;
    struct zl_arena arena;
    size_t bytes_string;
    EVP_MD *sha256;
    EVP_MD_CTX *md_ctx;
};

static zl_message *slot_at(const zl_msgstore *s, size_t i)
{
    return &s->chunks[i >> CHUNK_SHIFT][i & (CHUNK_LEN - 1)];
}

static const char *msgid_key(const void *ctx, uint32_t v)
{
    return slot_at(ctx, v)->msgid;
}

static const char *interned_key(const void *ctx, uint32_t v)
{
    const zl_msgstore *s = ctx;

    return s->interned[v];
}

/* Writes a formatted sentence into err (which may be NULL when errlen is 0); returns -1. */
static int set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Whether text (len bytes) is exactly one JSON object, surrounding whitespace allowed. */
static int is_json_object_text(const char *text, size_t len)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    int ok = v != NULL && cJSON_IsObject(v);

    cJSON_Delete(v);
    if (ok)
        for (; end < text + len; end++)
            if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
                return 0;
    return ok;
}

zl_msgstore *zl_msgstore_new(const char *corpid)
{
    zl_msgstore *s;

    if (corpid == NULL)
        return NULL;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    arena_init(&s->arena, STORE_BLOCK);
    s->corpid = dup_str(corpid);
    s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    s->md_ctx = EVP_MD_CTX_new();
    if (s->corpid == NULL || s->sha256 == NULL || s->md_ctx == NULL) {
        ERR_clear_error();
        zl_msgstore_free(s);
        return NULL;
    }
    return s;
}

void zl_msgstore_free(zl_msgstore *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->chunk_count; i++)
        free(s->chunks[i]);
    free(s->chunks);
    hindex_cleanup(&s->by_msgid);
    hindex_cleanup(&s->intern_index);
    free(s->interned);
    arena_cleanup(&s->arena);
    EVP_MD_CTX_free(s->md_ctx);
    EVP_MD_free(s->sha256);
    free(s->corpid);
    free(s);
}

size_t zl_msgstore_count(const zl_msgstore *s)
{
    return s != NULL ? s->count : 0;
}

const zl_message *zl_msgstore_at(const zl_msgstore *s, size_t index)
{
    if (s == NULL || index >= s->count)
        return NULL;
    return slot_at(s, index);
}

size_t zl_msgstore_first_at_or_after(const zl_msgstore *s, int64_t t)
{
    size_t lo = 0, hi;

    if (s == NULL)
        return 0;
    hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (slot_at(s, mid)->send_time < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

long zl_msgstore_find(const zl_msgstore *s, const char *msgid)
{
    if (s == NULL || msgid == NULL)
        return -1;
    return hindex_find(&s->by_msgid, msgid, hash_str(msgid), msgid_key, s);
}

void zl_msgstore_stats_get(const zl_msgstore *s, zl_msgstore_stats *out)
{
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return;
    out->count = s->count;
    out->bytes_string = s->bytes_string;
    out->bytes_total = sizeof *s + strlen(s->corpid) + 1 + s->arena.bytes +
                       s->chunk_count * CHUNK_LEN * sizeof(zl_message) +
                       s->chunk_cap * sizeof *s->chunks + s->by_msgid.cap * sizeof(hslot) +
                       s->intern_index.cap * sizeof(hslot) + s->interned_cap * sizeof(char *);
}

/* Checks an id field: non-empty, at most ZL_WORLD_MAX_ID bytes. */
static int check_id(const char *v, const char *field, char *err, size_t errlen)
{
    size_t n;

    if (v == NULL || v[0] == '\0')
        return set_err(err, errlen, "%s must not be empty", field);
    n = strlen(v);
    if (n > ZL_WORLD_MAX_ID)
        return set_err(err, errlen, "%s must be at most %d bytes (got %zu)", field, ZL_WORLD_MAX_ID,
                       n);
    return 0;
}

static int check_party(const zl_party *p, const char *field, char *err, size_t errlen)
{
    char f[64];

    if (p->type < ZL_PARTY_EMPLOYEE || p->type > ZL_PARTY_ROBOT)
        return set_err(err, errlen,
                       "%s.type must be 1 (employee), 2 (external contact) or 3 (robot) (got %d)",
                       field, p->type);
    snprintf(f, sizeof f, "%s.id", field);
    return check_id(p->id, f, err, errlen);
}

/* Every rule of zl_msgstore_append that does not need to allocate. */
static int check_message(const zl_msgstore *s, const zl_message_in *m, char *err, size_t errlen)
{
    size_t n;
    long dup;

    if (check_id(m->msgid, "msgid", err, errlen) != 0)
        return -1;
    if (check_party(&m->sender, "sender", err, errlen) != 0)
        return -1;
    if (m->receiver_count == 0 || m->receivers == NULL)
        return set_err(err, errlen, "receivers must hold at least one receiver");
    if (m->receiver_count > ZL_MSG_MAX_RECEIVERS)
        return set_err(err, errlen, "receivers must hold at most %d receivers (got %zu)",
                       ZL_MSG_MAX_RECEIVERS, m->receiver_count);
    for (size_t i = 0; i < m->receiver_count; i++) {
        char f[40];

        snprintf(f, sizeof f, "receivers[%zu]", i);
        if (check_party(&m->receivers[i], f, err, errlen) != 0)
            return -1;
    }
    if (m->chatid != NULL && m->chatid[0] != '\0' && check_id(m->chatid, "chatid", err, errlen))
        return -1;
    if (m->send_time < 0 || m->send_time > ZL_WORLD_MAX_TIME)
        return set_err(err, errlen, "send_time must be between 0 and %lld (got %lld)",
                       (long long)ZL_WORLD_MAX_TIME, (long long)m->send_time);
    if (s->count > 0 && m->send_time < slot_at(s, s->count - 1)->send_time)
        return set_err(err, errlen,
                       "send_time %lld is older than the newest archived message (seq %zu, "
                       "send_time %lld); the archive only grows forward in time",
                       (long long)m->send_time, s->count,
                       (long long)slot_at(s, s->count - 1)->send_time);
    if (m->msgtype < 0 || m->msgtype > ZL_MSGTYPE_MAX)
        return set_err(err, errlen, "msgtype must be between 0 and %d (got %d)", ZL_MSGTYPE_MAX,
                       m->msgtype);
    if (m->call_duration < 0)
        return set_err(err, errlen, "call_duration must not be negative (got %d)",
                       m->call_duration);
    if (m->call_duration != 0 && m->msgtype != 21 && m->msgtype != 22)
        return set_err(err, errlen,
                       "call_duration is only for msgtype 21 and 22 (this message has msgtype %d)",
                       m->msgtype);
    if (m->content != NULL) {
        n = strlen(m->content);
        if (n > ZL_MSG_MAX_CONTENT)
            return set_err(err, errlen, "content must be at most %u bytes (got %zu)",
                           ZL_MSG_MAX_CONTENT, n);
        if (!is_json_object_text(m->content, n))
            return set_err(err, errlen, "content must be the JSON text of an object");
    }
    if (m->secret_key != NULL) {
        n = strlen(m->secret_key);
        if (n == 0)
            return set_err(err, errlen,
                           "secret_key must not be empty (leave it out to derive one)");
        if (n > ZL_MSG_MAX_SECRET)
            return set_err(err, errlen,
                           "secret_key must be at most %d bytes, what RSA-2048 can wrap (got %zu)",
                           ZL_MSG_MAX_SECRET, n);
    }
    dup = zl_msgstore_find(s, m->msgid);
    if (dup >= 0)
        return set_err(err, errlen, "msgid \"%s\" is already archived (seq %ld)", m->msgid,
                       dup + 1);
    if (s->count >= MAX_MESSAGES)
        return set_err(err, errlen, "msgid \"%s\" cannot be archived: the archive is full (%zu)",
                       m->msgid, s->count);
    return 0;
}

static char *store_str(zl_msgstore *s, const char *v)
{
    size_t n = strlen(v);
    char *p = arena_strndup(&s->arena, v, n);

    if (p != NULL)
        s->bytes_string += n + 1;
    return p;
}

/* The stored copy of id, shared by every message that names it; NULL when memory runs out. */
static const char *intern(zl_msgstore *s, const char *id)
{
    uint32_t h = hash_str(id);
    long found = hindex_find(&s->intern_index, id, h, interned_key, s);
    const char *copy;

    if (found >= 0)
        return s->interned[found];
    if (s->interned_count == s->interned_cap) {
        size_t cap = s->interned_cap ? s->interned_cap * 2 : 64;
        const char **grown = realloc(s->interned, cap * sizeof *grown);

        if (grown == NULL)
            return NULL;
        s->interned = grown;
        s->interned_cap = cap;
    }
    if (hindex_reserve(&s->intern_index, s->interned_count + 1) != 0)
        return NULL;
    copy = store_str(s, id);
    if (copy == NULL)
        return NULL;
    s->interned[s->interned_count] = copy;
    hindex_insert(&s->intern_index, h, (uint32_t)s->interned_count);
    s->interned_count++;
    return copy;
}

/* The derived secret_key: lower hex of the first 16 bytes of SHA-256(corpid || msgid). */
static char *derive_secret(zl_msgstore *s, const char *msgid)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char *out;

    if (EVP_DigestInit_ex2(s->md_ctx, s->sha256, NULL) != 1 ||
        EVP_DigestUpdate(s->md_ctx, s->corpid, strlen(s->corpid)) != 1 ||
        EVP_DigestUpdate(s->md_ctx, msgid, strlen(msgid)) != 1 ||
        EVP_DigestFinal_ex(s->md_ctx, md, &mdlen) != 1 || mdlen < ZL_MSG_SECRET_HEX / 2) {
        ERR_clear_error();
        return NULL;
    }
    out = arena_alloc(&s->arena, ZL_MSG_SECRET_HEX + 1, 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < ZL_MSG_SECRET_HEX / 2; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[ZL_MSG_SECRET_HEX] = '\0';
    s->bytes_string += ZL_MSG_SECRET_HEX + 1;
    return out;
}

int zl_msgstore_append(zl_msgstore *s, const zl_message_in *m, char *err, size_t errlen)
{
    zl_message msg;
    zl_party *receivers;

    if (s == NULL || m == NULL)
        return set_err(err, errlen, "message is missing");
    if (check_message(s, m, err, errlen) != 0)
        return -1;
    /* Everything that can fail happens before the message becomes visible (count++). */
    if (s->count == s->chunk_count * CHUNK_LEN) {
        if (s->chunk_count == s->chunk_cap) {
            size_t cap = s->chunk_cap ? s->chunk_cap * 2 : 16;
            zl_message **grown = realloc(s->chunks, cap * sizeof *grown);

            if (grown == NULL)
                goto oom;
            s->chunks = grown;
            s->chunk_cap = cap;
        }
        s->chunks[s->chunk_count] = malloc(CHUNK_LEN * sizeof(zl_message));
        if (s->chunks[s->chunk_count] == NULL)
            goto oom;
        s->chunk_count++;
    }
    if (hindex_reserve(&s->by_msgid, s->count + 1) != 0)
        goto oom;
    memset(&msg, 0, sizeof msg);
    msg.seq = (uint64_t)s->count + 1;
    msg.send_time = m->send_time;
    msg.msgtype = m->msgtype;
    msg.call_duration = m->call_duration;
    msg.msgid = store_str(s, m->msgid);
    msg.chatid = m->chatid != NULL && m->chatid[0] != '\0' ? intern(s, m->chatid) : "";
    msg.content = m->content != NULL ? store_str(s, m->content) : DEFAULT_CONTENT;
    msg.secret_key =
        m->secret_key != NULL ? store_str(s, m->secret_key) : derive_secret(s, m->msgid);
    msg.sender.type = m->sender.type;
    msg.sender.id = intern(s, m->sender.id);
    receivers = arena_alloc(&s->arena, m->receiver_count * sizeof *receivers, sizeof(void *));
    if (msg.msgid == NULL || msg.chatid == NULL || msg.content == NULL || msg.secret_key == NULL ||
        msg.sender.id == NULL || receivers == NULL)
        goto oom;
    for (size_t i = 0; i < m->receiver_count; i++) {
        receivers[i].type = m->receivers[i].type;
        receivers[i].id = intern(s, m->receivers[i].id);
        if (receivers[i].id == NULL)
            goto oom;
    }
    msg.receivers = receivers;
    msg.receiver_count = (uint32_t)m->receiver_count;
    *slot_at(s, s->count) = msg;
    hindex_insert(&s->by_msgid, hash_str(msg.msgid), (uint32_t)s->count);
    s->count++;
    return 0;
oom:
    return set_err(err, errlen, "msgid \"%s\" was not archived: out of memory", m->msgid);
}

/* --------------------------------------------------------------- loader */

struct zl_corp_index {
    hindex members;
    hindex externals;
    hindex groups;
    hindex consents;
    const char **consent_keys; /* parallel to corp->consents (arena strings) */
    size_t consent_cap;        /* of corp->consents and consent_keys (malloc'd) */
};

typedef struct loader {
    char *err;
    size_t errlen;
    const char *base_dir;
    zl_world *w;
    struct zl_arena *a;
} loader;

enum { OPTIONAL = 0, REQUIRED = 1, EMPTY_OK = 2 };

static int fail(loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(loader *L, const char *fmt, ...)
{
    va_list ap;

    if (L->err == NULL || L->errlen == 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(L->err, L->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int oom(loader *L)
{
    return fail(L, "out of memory while loading the world");
}

/* "path.key", or "key" at the top level; returns buf. */
static const char *fpath(char *buf, const char *path, const char *key)
{
    if (snprintf(buf, PATH_LEN, "%s%s%s", path, path[0] != '\0' ? "." : "", key) >= PATH_LEN)
        memcpy(buf + PATH_LEN - 4, "...", 4); /* a cut path still points the way */
    return buf;
}

/* "path[i]"; returns buf. */
static const char *ipath(char *buf, const char *path, size_t i)
{
    if (snprintf(buf, PATH_LEN, "%s[%zu]", path, i) >= PATH_LEN)
        memcpy(buf + PATH_LEN - 4, "...", 4);
    return buf;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "an invalid value";
}

/*
 * Checks that v is an object whose keys are all in allowed (NULL-terminated) or start with
 * '_' (comments), none twice.
 */
static int check_object(loader *L, const cJSON *v, const char *path, const char *const *allowed)
{
    const char *where = path[0] != '\0' ? path : "the world";

    if (!cJSON_IsObject(v))
        return fail(L, "%s must be an object (got %s)", where, type_name(v));
    for (const cJSON *c = v->child; c != NULL; c = c->next) {
        const char *k = c->string;
        int known = 0;

        if (k[0] == '_')
            continue;
        for (size_t i = 0; allowed[i] != NULL && !known; i++)
            known = strcmp(allowed[i], k) == 0;
        if (!known) {
            char list[512] = "";

            for (size_t i = 0; allowed[i] != NULL; i++) {
                size_t used = strlen(list);

                snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
            }
            return fail(L,
                        "%s has an unknown key \"%.64s\" (known keys: %s; keys starting with _ "
                        "are comments)",
                        where, k, list);
        }
        for (const cJSON *d = v->child; d != c; d = d->next)
            if (strcmp(d->string, k) == 0) {
                char fp[PATH_LEN];

                return fail(L, "%s appears twice", fpath(fp, path, k));
            }
    }
    return 0;
}

/*
 * Reads the string key of o into *out (borrowed from the JSON tree). When absent, *out keeps
 * the caller's default unless flags has REQUIRED.
 */
static int get_string(loader *L, const cJSON *o, const char *path, const char *key, int flags,
                      size_t maxlen, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char fp[PATH_LEN];
    size_t n;

    if (v == NULL) {
        if (flags & REQUIRED)
            return fail(L, "%s is missing", fpath(fp, path, key));
        return 0;
    }
    if (!cJSON_IsString(v))
        return fail(L, "%s must be a string (got %s)", fpath(fp, path, key), type_name(v));
    n = strlen(v->valuestring);
    if (n == 0 && !(flags & EMPTY_OK))
        return fail(L, "%s must not be empty", fpath(fp, path, key));
    if (n > maxlen)
        return fail(L, "%s must be at most %zu bytes (got %zu)", fpath(fp, path, key), maxlen, n);
    *out = v->valuestring;
    return 0;
}

/* Checks that v is an integer in min..max and stores it in *out; name is v's path. */
static int int_value(loader *L, const cJSON *v, const char *name, long long min, long long max,
                     long long *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return fail(L, "%s must be an integer (got %s)", name, type_name(v));
    d = v->valuedouble;
    if (!(d >= (double)min && d <= (double)max) || (double)(long long)d != d)
        return fail(L, "%s must be an integer from %lld to %lld (got %.15g)", name, min, max, d);
    *out = (long long)d;
    return 0;
}

/* As get_string for an integer in min..max; *out keeps the default when absent. */
static int get_int(loader *L, const cJSON *o, const char *path, const char *key, int flags,
                   long long min, long long max, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char fp[PATH_LEN];

    fpath(fp, path, key);
    if (v == NULL)
        return (flags & REQUIRED) ? fail(L, "%s is missing", fp) : 0;
    return int_value(L, v, fp, min, max, out);
}

static int get_bool(loader *L, const cJSON *o, const char *path, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char fp[PATH_LEN];

    if (v == NULL)
        return 0;
    if (!cJSON_IsBool(v))
        return fail(L, "%s must be true or false (got %s)", fpath(fp, path, key), type_name(v));
    *out = cJSON_IsTrue(v);
    return 0;
}

/* The array key of o in *arr (NULL when absent and optional) with its length in *count. */
static int get_array(loader *L, const cJSON *o, const char *path, const char *key, int flags,
                     size_t maxcount, const cJSON **arr, size_t *count)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char fp[PATH_LEN];
    size_t n = 0;

    *arr = NULL;
    *count = 0;
    fpath(fp, path, key);
    if (v == NULL)
        return (flags & REQUIRED) ? fail(L, "%s is missing", fp) : 0;
    if (!cJSON_IsArray(v))
        return fail(L, "%s must be an array (got %s)", fp, type_name(v));
    for (const cJSON *c = v->child; c != NULL; c = c->next)
        n++;
    if (n > maxcount)
        return fail(L, "%s must hold at most %zu items (got %zu)", fp, maxcount, n);
    *arr = v;
    *count = n;
    return 0;
}

/* Copies s into the world's arena. */
static int keep(loader *L, const char *s, const char **out)
{
    char *p = arena_strndup(L->a, s, strlen(s));

    if (p == NULL)
        return oom(L);
    *out = p;
    return 0;
}

/* count zeroed items of size bytes from the world's arena, in *out. */
static int keep_array(loader *L, size_t count, size_t size, void *out)
{
    void *p = NULL;

    if (count > 0) {
        p = arena_alloc(L->a, count * size, sizeof(long double));
        if (p == NULL)
            return oom(L);
    }
    memcpy(out, &p, sizeof p);
    return 0;
}

static int is_alnum(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static const char *member_key(const void *ctx, uint32_t v)
{
    const zl_corp *c = ctx;

    return c->members[v].userid;
}

static const char *external_key(const void *ctx, uint32_t v)
{
    const zl_corp *c = ctx;

    return c->externals[v].external_userid;
}

static const char *group_key(const void *ctx, uint32_t v)
{
    const zl_corp *c = ctx;

    return c->groups[v].chatid;
}

/* Whether id names an existing party of type (robots are not modelled: any id). */
static int party_exists(zl_corp *c, int type, const char *id)
{
    if (type == ZL_PARTY_EMPLOYEE)
        return zl_corp_member(c, id) != NULL;
    if (type == ZL_PARTY_EXTERNAL)
        return zl_corp_external(c, id) != NULL;
    return 1;
}

static int check_party_ref(loader *L, zl_corp *c, int type, const char *id, const char *name,
                           const char *corp_path)
{
    if (party_exists(c, type, id))
        return 0;
    if (type == ZL_PARTY_EMPLOYEE)
        return fail(L, "%s \"%s\" is not a userid in %s.members", name, id, corp_path);
    return fail(L, "%s \"%s\" is not an external_userid in %s.externals", name, id, corp_path);
}

/* Drains OpenSSL's error queue into buf (the last reason), or "" when empty. */
static void ssl_reason(char *buf, size_t n)
{
    unsigned long e, last = 0;

    while ((e = ERR_get_error()) != 0)
        last = e;
    buf[0] = '\0';
    if (last != 0)
        ERR_error_string_n(last, buf, n);
}

/* Checks that pem (len bytes) is a PEM SubjectPublicKeyInfo holding an RSA-2048 key. */
static int check_rsa_pem(loader *L, const char *pem, size_t len, const char *name)
{
    BIO *bio;
    EVP_PKEY *pkey;
    char why[200];
    int id, bits;

    if (len > ZL_WORLD_MAX_PEM)
        return fail(L, "%s must be at most %d bytes of PEM (got %zu)", name, ZL_WORLD_MAX_PEM, len);
    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return oom(L);
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (pkey == NULL) {
        ssl_reason(why, sizeof why);
        return fail(L,
                    "%s is not a PEM public key (\"-----BEGIN PUBLIC KEY-----\"); OpenSSL says: "
                    "%s",
                    name, why[0] ? why : "no detail");
    }
    id = EVP_PKEY_get_base_id(pkey);
    bits = EVP_PKEY_get_bits(pkey);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    if (id != EVP_PKEY_RSA)
        return fail(L, "%s is not an RSA key; WeCom wants RSA-2048", name);
    if (bits != RSA_KEY_BITS)
        return fail(L, "%s is an RSA-%d key; WeCom wants RSA-2048", name, bits);
    return 0;
}

/* Reads the pem_file of a key into the world's arena. */
static int read_pem_file(loader *L, const char *file, const char *name, const char **out,
                         size_t *len)
{
    char full[4096];
    FILE *f;
    char *buf;
    size_t n;

    if (file[0] == '/')
        snprintf(full, sizeof full, "%s", file);
    else if (L->base_dir == NULL)
        return fail(L, "%s \"%s\" is relative but the world was not loaded from a file", name,
                    file);
    else if ((size_t)snprintf(full, sizeof full, "%s/%s", L->base_dir, file) >= sizeof full)
        return fail(L, "%s \"%s\" makes a path that is too long", name, file);
    f = fopen(full, "rb");
    if (f == NULL)
        return fail(L, "%s \"%s\" cannot be opened (%s): %s", name, file, full, strerror(errno));
    buf = arena_alloc(L->a, ZL_WORLD_MAX_PEM + 2, 1);
    if (buf == NULL) {
        fclose(f);
        return oom(L);
    }
    n = fread(buf, 1, ZL_WORLD_MAX_PEM + 1, f);
    if (ferror(f)) {
        fclose(f);
        return fail(L, "%s \"%s\" cannot be read (%s)", name, file, full);
    }
    fclose(f);
    if (n > ZL_WORLD_MAX_PEM)
        return fail(L, "%s \"%s\" is larger than %d bytes", name, file, ZL_WORLD_MAX_PEM);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* An ability protocol: an object, or a string holding one; stored as compact JSON text. */
static int load_protocol(loader *L, const cJSON *o, const char *path, const char *key,
                         const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cJSON *parsed = NULL;
    char fp[PATH_LEN];
    char *text;
    int rc;

    fpath(fp, path, key);
    if (v == NULL)
        return fail(L, "%s is missing", fp);
    if (cJSON_IsString(v)) {
        parsed = cJSON_ParseWithOpts(v->valuestring, NULL, 1);
        if (parsed == NULL || !cJSON_IsObject(parsed)) {
            cJSON_Delete(parsed);
            return fail(L,
                        "%s must be a JSON object (got a string that is not the JSON text of "
                        "one); WeCom refuses such a protocol example with errcode 790012",
                        fp);
        }
        v = parsed;
    } else if (!cJSON_IsObject(v)) {
        return fail(L,
                    "%s must be a JSON object (got %s); WeCom refuses such a protocol example "
                    "with errcode 790012",
                    fp, type_name(v));
    }
    text = cJSON_PrintUnformatted(v);
    cJSON_Delete(parsed);
    if (text == NULL)
        return oom(L);
    rc = keep(L, text, out);
    cJSON_free(text);
    return rc;
}

static int load_apps(loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"agentid",         "name",
                                       "secret",          "callback_url",
                                       "token",           "encoding_aes_key",
                                       "data_permission", "kind",
                                       "general_model",   NULL};
    const cJSON *arr, *ja;
    char ap[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (get_array(L, jc, cpath, "apps", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        keep_array(L, n, sizeof *c->apps, &c->apps) != 0)
        return -1;
    fpath(fp, cpath, "apps");
    cJSON_ArrayForEach(ja, arr)
    {
        zl_app *app = &c->apps[i];
        const char *name = NULL, *secret = NULL, *url = "", *token = NULL, *key = NULL;
        const char *kind = "third_party";
        long long agentid = 0;
        size_t len;

        ipath(ap, fp, i);
        app->data_permission = true;
        app->general_model = true;
        if (check_object(L, ja, ap, keys) != 0 ||
            get_int(L, ja, ap, "agentid", REQUIRED, 1, UINT32_MAX, &agentid) != 0 ||
            get_string(L, ja, ap, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0 ||
            get_string(L, ja, ap, "secret", REQUIRED, ZL_WORLD_MAX_NAME, &secret) != 0 ||
            get_string(L, ja, ap, "callback_url", EMPTY_OK, ZL_WORLD_MAX_URL, &url) != 0 ||
            get_string(L, ja, ap, "token", REQUIRED, ZL_WORLD_MAX_TOKEN, &token) != 0 ||
            get_string(L, ja, ap, "encoding_aes_key", REQUIRED | EMPTY_OK, SIZE_MAX, &key) != 0 ||
            get_bool(L, ja, ap, "data_permission", &app->data_permission) != 0 ||
            get_bool(L, ja, ap, "general_model", &app->general_model) != 0 ||
            get_string(L, ja, ap, "kind", OPTIONAL, 32, &kind) != 0)
            return -1;
        if (strcmp(kind, "self_built") == 0)
            app->kind = ZL_APP_SELF_BUILT;
        else if (strcmp(kind, "custom") == 0)
            app->kind = ZL_APP_CUSTOM;
        else if (strcmp(kind, "third_party") == 0)
            app->kind = ZL_APP_THIRD_PARTY;
        else
            return fail(L, "%s.kind must be \"third_party\", \"custom\" (代开发) or \"self_built\"",
                        ap);
        for (size_t k = 0; k < i; k++)
            if (c->apps[k].agentid == agentid)
                return fail(L, "%s.agentid %lld is already used by %s[%zu]", ap, agentid, fp, k);
        for (size_t ci = 0; ci < L->w->corp_count; ci++) {
            const zl_corp *other = &L->w->corps[ci];

            for (size_t k = 0; k < other->app_count && (other != c || k < i); k++)
                if (strcmp(other->apps[k].secret, secret) == 0)
                    return fail(L,
                                "%s.secret is already the secret of corps[%zu].apps[%zu]; each "
                                "app needs its own secret",
                                ap, ci, k);
        }
        if (url[0] != '\0' && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
            return fail(L,
                        "%s.callback_url must be \"\" (the built-in fake app) or an http:// or "
                        "https:// URL",
                        ap);
        for (const char *t = token; *t != '\0'; t++)
            if (!is_alnum((unsigned char)*t))
                return fail(L, "%s.token must hold only letters and digits", ap);
        len = strlen(key);
        if (len != ZL_WORLD_AES_KEY_LEN)
            return fail(L, "%s.encoding_aes_key must be %d characters (got %zu)", ap,
                        ZL_WORLD_AES_KEY_LEN, len);
        for (size_t k = 0; k < len; k++)
            if (!is_alnum((unsigned char)key[k]))
                return fail(L,
                            "%s.encoding_aes_key must hold only letters and digits (character "
                            "%zu is '%c')",
                            ap, k + 1, key[k]);
        app->agentid = (uint32_t)agentid;
        if (keep(L, name, &app->name) != 0 || keep(L, secret, &app->secret) != 0 ||
            keep(L, url, &app->callback_url) != 0 || keep(L, token, &app->token) != 0 ||
            keep(L, key, &app->encoding_aes_key) != 0)
            return -1;
        c->app_count = ++i; /* counted once complete: the secret scan above reads it */
    }
    return 0;
}

static int load_abilities(loader *L, const cJSON *jp, const char *pp, zl_program *p)
{
    static const char *const keys[] = {"ability_id", "input_protocol", "output_protocol", NULL};
    const cJSON *arr, *jb;
    char bp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (get_array(L, jp, pp, "abilities", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        keep_array(L, n, sizeof *p->abilities, &p->abilities) != 0)
        return -1;
    fpath(fp, pp, "abilities");
    cJSON_ArrayForEach(jb, arr)
    {
        zl_ability *b = &p->abilities[i];
        const char *id = NULL;

        ipath(bp, fp, i);
        if (check_object(L, jb, bp, keys) != 0 ||
            get_string(L, jb, bp, "ability_id", REQUIRED, ZL_WORLD_MAX_ID, &id) != 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(p->abilities[k].ability_id, id) == 0)
                return fail(L, "%s.ability_id \"%s\" is already used by %s[%zu]", bp, id, fp, k);
        if (keep(L, id, &b->ability_id) != 0 ||
            load_protocol(L, jb, bp, "input_protocol", &b->input_protocol) != 0 ||
            load_protocol(L, jb, bp, "output_protocol", &b->output_protocol) != 0)
            return -1;
        p->ability_count = ++i;
    }
    return 0;
}

static int load_programs(loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"program_id", "role",      "agentids",
                                       "replicas",   "abilities", NULL};
    const cJSON *arr, *jp;
    char pp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (get_array(L, jc, cpath, "programs", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        keep_array(L, n, sizeof *c->programs, &c->programs) != 0)
        return -1;
    fpath(fp, cpath, "programs");
    cJSON_ArrayForEach(jp, arr)
    {
        zl_program *p = &c->programs[i];
        const char *id = NULL, *role = NULL;
        long long replicas = 1;
        const cJSON *agents, *ja;
        size_t na, k = 0;
        uint32_t *agentids = NULL;
        char gp[PATH_LEN], ep[PATH_LEN];

        ipath(pp, fp, i);
        if (check_object(L, jp, pp, keys) != 0 ||
            get_string(L, jp, pp, "program_id", REQUIRED, ZL_WORLD_MAX_ID, &id) != 0 ||
            get_string(L, jp, pp, "role", REQUIRED, ZL_WORLD_MAX_ID, &role) != 0 ||
            get_int(L, jp, pp, "replicas", OPTIONAL, 1, MAX_REPLICAS, &replicas) != 0 ||
            get_array(L, jp, pp, "agentids", OPTIONAL, ZL_WORLD_MAX_ITEMS, &agents, &na) != 0 ||
            keep_array(L, na, sizeof *agentids, &agentids) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->programs[j].program_id, id) == 0)
                return fail(L, "%s.program_id \"%s\" is already used by %s[%zu]", pp, id, fp, j);
        if (strcmp(role, "program") == 0)
            p->role = ZL_ROLE_PROGRAM;
        else if (strcmp(role, "model") == 0)
            p->role = ZL_ROLE_MODEL;
        else
            return fail(L, "%s.role must be \"program\" or \"model\" (got \"%s\")", pp, role);
        fpath(gp, pp, "agentids");
        cJSON_ArrayForEach(ja, agents)
        {
            long long agentid = 0;

            ipath(ep, gp, k);
            if (int_value(L, ja, ep, 1, UINT32_MAX, &agentid) != 0)
                return -1;
            if (zl_corp_app(c, (uint32_t)agentid) == NULL)
                return fail(L, "%s %lld is not an agentid in %s.apps", ep, agentid, cpath);
            for (size_t j = 0; j < k; j++)
                if (agentids[j] == agentid)
                    return fail(L, "%s %lld is listed twice", ep, agentid);
            agentids[k++] = (uint32_t)agentid;
        }
        p->agentids = agentids;
        p->agentid_count = na;
        p->replicas = (uint32_t)replicas;
        if (keep(L, id, &p->program_id) != 0 || load_abilities(L, jp, pp, p) != 0)
            return -1;
        c->program_count = ++i;
    }
    return 0;
}

static int load_members(loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"userid", "name",        "edition", "in_scope",
                                       "alias",  "name_pinyin", NULL};
    const cJSON *arr, *jm;
    char mp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (get_array(L, jc, cpath, "members", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        keep_array(L, n, sizeof *c->members, &c->members) != 0)
        return -1;
    if (hindex_reserve(&c->index->members, n) != 0)
        return oom(L);
    fpath(fp, cpath, "members");
    cJSON_ArrayForEach(jm, arr)
    {
        zl_member *m = &c->members[i];
        const char *userid = NULL, *name = NULL, *alias = "", *pinyin = "";
        long long edition = 3;
        long dup;
        uint32_t h;

        ipath(mp, fp, i);
        m->in_scope = true;
        if (check_object(L, jm, mp, keys) != 0 ||
            get_string(L, jm, mp, "userid", REQUIRED, ZL_WORLD_MAX_ID, &userid) != 0 ||
            get_string(L, jm, mp, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0 ||
            get_int(L, jm, mp, "edition", OPTIONAL, 1, 3, &edition) != 0 ||
            get_bool(L, jm, mp, "in_scope", &m->in_scope) != 0 ||
            get_string(L, jm, mp, "alias", EMPTY_OK, ZL_WORLD_MAX_NAME, &alias) != 0 ||
            get_string(L, jm, mp, "name_pinyin", EMPTY_OK, ZL_WORLD_MAX_NAME, &pinyin) != 0)
            return -1;
        h = hash_str(userid);
        dup = hindex_find(&c->index->members, userid, h, member_key, c);
        if (dup >= 0)
            return fail(L, "%s.userid \"%s\" is already used by %s[%ld]", mp, userid, fp, dup);
        m->edition = (int)edition;
        if (keep(L, userid, &m->userid) != 0 || keep(L, name, &m->name) != 0 ||
            keep(L, alias, &m->alias) != 0 || keep(L, pinyin, &m->name_pinyin) != 0)
            return -1;
        hindex_insert(&c->index->members, h, (uint32_t)i);
        c->member_count = ++i;
    }
    return 0;
}

/* An external's follow_users: userids of members, each listed once. */
static int load_follow_users(loader *L, const cJSON *je, const char *ep, const char *cpath,
                             zl_corp *c, zl_external *x)
{
    const cJSON *arr, *ju;
    const char **users = NULL;
    char fp[PATH_LEN], up[PATH_LEN];
    size_t n, k = 0;

    if (get_array(L, je, ep, "follow_users", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        keep_array(L, n, sizeof *users, &users) != 0)
        return -1;
    fpath(fp, ep, "follow_users");
    cJSON_ArrayForEach(ju, arr)
    {
        const zl_member *m;

        ipath(up, fp, k);
        if (!cJSON_IsString(ju))
            return fail(L, "%s must be a userid string (got %s)", up, type_name(ju));
        if ((m = zl_corp_member(c, ju->valuestring)) == NULL)
            return fail(L, "%s \"%.128s\" is not a userid in %s.members", up, ju->valuestring,
                        cpath);
        for (size_t j = 0; j < k; j++)
            if (users[j] == m->userid)
                return fail(L, "%s \"%s\" is already listed as %s[%zu]", up, m->userid, fp, j);
        users[k++] = m->userid;
    }
    x->follow_users = users;
    x->follow_user_count = n;
    return 0;
}

static int load_externals(loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"external_userid", "name",          "corp_name",    "remark",
                                       "name_pinyin",     "remark_pinyin", "follow_users", NULL};
    const cJSON *arr, *je;
    char ep[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (get_array(L, jc, cpath, "externals", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        keep_array(L, n, sizeof *c->externals, &c->externals) != 0)
        return -1;
    if (hindex_reserve(&c->index->externals, n) != 0)
        return oom(L);
    fpath(fp, cpath, "externals");
    cJSON_ArrayForEach(je, arr)
    {
        zl_external *x = &c->externals[i];
        const char *id = NULL, *name = NULL, *corp_name = "", *remark = "", *pinyin = "",
                   *remark_pinyin = "";
        long dup;
        uint32_t h;

        ipath(ep, fp, i);
        if (check_object(L, je, ep, keys) != 0 ||
            get_string(L, je, ep, "external_userid", REQUIRED, ZL_WORLD_MAX_ID, &id) != 0 ||
            get_string(L, je, ep, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0 ||
            get_string(L, je, ep, "corp_name", EMPTY_OK, ZL_WORLD_MAX_NAME, &corp_name) != 0 ||
            get_string(L, je, ep, "remark", EMPTY_OK, ZL_WORLD_MAX_NAME, &remark) != 0 ||
            get_string(L, je, ep, "name_pinyin", EMPTY_OK, ZL_WORLD_MAX_NAME, &pinyin) != 0 ||
            get_string(L, je, ep, "remark_pinyin", EMPTY_OK, ZL_WORLD_MAX_NAME, &remark_pinyin) !=
                0)
            return -1;
        h = hash_str(id);
        dup = hindex_find(&c->index->externals, id, h, external_key, c);
        if (dup >= 0)
            return fail(L, "%s.external_userid \"%s\" is already used by %s[%ld]", ep, id, fp, dup);
        if (keep(L, id, &x->external_userid) != 0 || keep(L, name, &x->name) != 0 ||
            keep(L, corp_name, &x->corp_name) != 0 || keep(L, remark, &x->remark) != 0 ||
            keep(L, pinyin, &x->name_pinyin) != 0 ||
            keep(L, remark_pinyin, &x->remark_pinyin) != 0 ||
            load_follow_users(L, je, ep, cpath, c, x) != 0)
            return -1;
        hindex_insert(&c->index->externals, h, (uint32_t)i);
        c->external_count = ++i;
    }
    return 0;
}

static int load_group_members(loader *L, const cJSON *jg, const char *gp, const char *cpath,
                              zl_corp *c, zl_group *g)
{
    static const char *const keys[] = {"id", "type", "jointime", NULL};
    const cJSON *arr, *jm;
    char mp[PATH_LEN], fp[PATH_LEN], idp[PATH_LEN];
    size_t n, i = 0;

    if (get_array(L, jg, gp, "members", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        keep_array(L, n, sizeof *g->members, &g->members) != 0)
        return -1;
    fpath(fp, gp, "members");
    cJSON_ArrayForEach(jm, arr)
    {
        zl_group_member *m = &g->members[i];
        const char *id = NULL;
        long long type = 0, jointime = 0;

        ipath(mp, fp, i);
        if (check_object(L, jm, mp, keys) != 0 ||
            get_string(L, jm, mp, "id", REQUIRED, ZL_WORLD_MAX_ID, &id) != 0 ||
            get_int(L, jm, mp, "type", REQUIRED, 1, 3, &type) != 0 ||
            get_int(L, jm, mp, "jointime", REQUIRED, 0, ZL_WORLD_MAX_TIME, &jointime) != 0 ||
            check_party_ref(L, c, (int)type, id, fpath(idp, mp, "id"), cpath) != 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (g->members[k].type == type && strcmp(g->members[k].id, id) == 0)
                return fail(L, "%s.id \"%s\" is already listed as %s[%zu]", mp, id, fp, k);
        m->type = (int)type;
        m->jointime = jointime;
        if (keep(L, id, &m->id) != 0)
            return -1;
        g->member_count = ++i;
    }
    return 0;
}

static int load_groups(loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"chatid",      "name",    "kind", "creator",
                                       "create_time", "members", NULL};
    const cJSON *arr, *jg;
    char gp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (get_array(L, jc, cpath, "groups", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        keep_array(L, n, sizeof *c->groups, &c->groups) != 0)
        return -1;
    if (hindex_reserve(&c->index->groups, n) != 0)
        return oom(L);
    fpath(fp, cpath, "groups");
    cJSON_ArrayForEach(jg, arr)
    {
        zl_group *g = &c->groups[i];
        const char *chatid = NULL, *name = NULL, *kind = NULL, *creator = NULL;
        long long create_time = 0;
        long dup;
        uint32_t h;

        ipath(gp, fp, i);
        if (check_object(L, jg, gp, keys) != 0 ||
            get_string(L, jg, gp, "chatid", REQUIRED, ZL_WORLD_MAX_ID, &chatid) != 0 ||
            get_string(L, jg, gp, "name", REQUIRED | EMPTY_OK, ZL_WORLD_MAX_NAME, &name) != 0 ||
            get_string(L, jg, gp, "kind", REQUIRED, ZL_WORLD_MAX_ID, &kind) != 0 ||
            get_string(L, jg, gp, "creator", REQUIRED, ZL_WORLD_MAX_ID, &creator) != 0 ||
            get_int(L, jg, gp, "create_time", REQUIRED, 0, ZL_WORLD_MAX_TIME, &create_time) != 0)
            return -1;
        h = hash_str(chatid);
        dup = hindex_find(&c->index->groups, chatid, h, group_key, c);
        if (dup >= 0)
            return fail(L, "%s.chatid \"%s\" is already used by %s[%ld]", gp, chatid, fp, dup);
        if (strcmp(kind, "internal") == 0)
            g->kind = ZL_GROUP_INTERNAL;
        else if (strcmp(kind, "customer") == 0)
            g->kind = ZL_GROUP_CUSTOMER;
        else
            return fail(L, "%s.kind must be \"internal\" or \"customer\" (got \"%s\")", gp, kind);
        if (zl_corp_member(c, creator) == NULL)
            return fail(L, "%s.creator \"%s\" is not a userid in %s.members", gp, creator, cpath);
        g->create_time = create_time;
        if (keep(L, chatid, &g->chatid) != 0 || keep(L, name, &g->name) != 0 ||
            keep(L, creator, &g->creator) != 0 || load_group_members(L, jg, gp, cpath, c, g) != 0)
            return -1;
        hindex_insert(&c->index->groups, h, (uint32_t)i);
        c->group_count = ++i;
    }
    return 0;
}

/* ------------------------------------------------------------ consents */

#define CONSENT_KEY_LEN (2 + 2 * ZL_WORLD_MAX_ID + 1)

/* "u<userid>\x1f<external_userid>" or "g<chatid>\x1f<external_userid>"; -1 when an id is
 * longer than any id of a world (so no decision can match). */
static int consent_key(char out[CONSENT_KEY_LEN], const char *userid, const char *chatid,
                       const char *external_userid)
{
    const char *id = userid != NULL ? userid : chatid;

    if (id == NULL || external_userid == NULL || strlen(id) > ZL_WORLD_MAX_ID ||
        strlen(external_userid) > ZL_WORLD_MAX_ID)
        return -1;
    snprintf(out, CONSENT_KEY_LEN, "%c%s\x1f%s", userid != NULL ? 'u' : 'g', id, external_userid);
    return 0;
}

static const char *consent_key_of(const void *ctx, uint32_t v)
{
    const zl_corp *c = ctx;

    return c->index->consent_keys[v];
}

static long consent_find(const zl_corp *c, const char *key)
{
    return hindex_find(&c->index->consents, key, hash_str(key), consent_key_of, c);
}

/* Checks a decision's references; path names it ("" at run time: then fields stand alone). */
static int consent_check(loader *L, zl_corp *c, const char *path, const char *cpath,
                         const zl_consent *in)
{
    char fp[PATH_LEN];
    const zl_group *g;

    if ((in->userid == NULL) == (in->chatid == NULL))
        return fail(L, "%s needs exactly one of userid (a 1:1 chat) and chatid (a group)",
                    path[0] != '\0' ? path : "a consent");
    if (in->userid != NULL && zl_corp_member(c, in->userid) == NULL)
        return fail(L, "%s \"%.128s\" is not a userid in %s.members", fpath(fp, path, "userid"),
                    in->userid, cpath);
    if (zl_corp_external(c, in->external_userid) == NULL)
        return fail(L, "%s \"%.128s\" is not an external_userid in %s.externals",
                    fpath(fp, path, "external_userid"), in->external_userid, cpath);
    if (in->chatid == NULL)
        return 0;
    if ((g = zl_corp_group(c, in->chatid)) == NULL)
        return fail(L, "%s \"%.128s\" is not a chatid in %s.groups", fpath(fp, path, "chatid"),
                    in->chatid, cpath);
    for (size_t k = 0; k < g->member_count; k++)
        if (g->members[k].type == ZL_PARTY_EXTERNAL &&
            strcmp(g->members[k].id, in->external_userid) == 0)
            return 0;
    return fail(L, "%s \"%s\" is not an external member (type 2) of group \"%s\"",
                fpath(fp, path, "external_userid"), in->external_userid, in->chatid);
}

/* Records a checked decision under key, replacing the pair's earlier one. */
static int consent_put(loader *L, zl_corp *c, const zl_consent *in, const char *key)
{
    struct zl_corp_index *x = c->index;
    long at = consent_find(c, key);
    zl_consent *d;

    if (at >= 0) {
        c->consents[at].agree = in->agree;
        c->consents[at].change_time = in->change_time;
        return 0;
    }
    if (c->consent_count >= UINT32_MAX - 1)
        return fail(L, "a corp holds at most %u consents", UINT32_MAX - 1);
    if (c->consent_count == x->consent_cap) {
        size_t cap = x->consent_cap ? x->consent_cap * 2 : 16;
        zl_consent *list = realloc(c->consents, cap * sizeof *list);
        const char **keys;

        if (list == NULL)
            return oom(L);
        c->consents = list;
        keys = realloc(x->consent_keys, cap * sizeof *keys);
        if (keys == NULL)
            return oom(L);
        x->consent_keys = keys;
        x->consent_cap = cap;
    }
    if (hindex_reserve(&x->consents, c->consent_count + 1) != 0)
        return oom(L);
    d = &c->consents[c->consent_count];
    *d = (zl_consent){.agree = in->agree, .change_time = in->change_time};
    if (keep(L, key, &x->consent_keys[c->consent_count]) != 0 ||
        keep(L, in->external_userid, &d->external_userid) != 0 ||
        (in->userid != NULL && keep(L, in->userid, &d->userid) != 0) ||
        (in->chatid != NULL && keep(L, in->chatid, &d->chatid) != 0))
        return -1;
    hindex_insert(&x->consents, hash_str(key), (uint32_t)c->consent_count);
    c->consent_count++;
    return 0;
}

static int load_consents(loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"userid", "chatid",      "external_userid",
                                       "status", "change_time", NULL};
    const cJSON *arr, *jd;
    char dp[PATH_LEN], fp[PATH_LEN], key[CONSENT_KEY_LEN];
    size_t n, i = 0;

    if (get_array(L, jc, cpath, "consents", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0)
        return -1;
    fpath(fp, cpath, "consents");
    cJSON_ArrayForEach(jd, arr)
    {
        zl_consent in = {0};
        const char *status = NULL;
        long long change_time = 0;
        long dup;

        ipath(dp, fp, i);
        if (check_object(L, jd, dp, keys) != 0 ||
            get_string(L, jd, dp, "userid", OPTIONAL, ZL_WORLD_MAX_ID, &in.userid) != 0 ||
            get_string(L, jd, dp, "chatid", OPTIONAL, ZL_WORLD_MAX_ID, &in.chatid) != 0 ||
            get_string(L, jd, dp, "external_userid", REQUIRED, ZL_WORLD_MAX_ID,
                       &in.external_userid) != 0 ||
            get_string(L, jd, dp, "status", REQUIRED, ZL_WORLD_MAX_ID, &status) != 0 ||
            get_int(L, jd, dp, "change_time", REQUIRED, 0, ZL_WORLD_MAX_TIME, &change_time) != 0 ||
            consent_check(L, c, dp, cpath, &in) != 0)
            return -1;
        if (strcmp(status, "Agree") != 0 && strcmp(status, "Disagree") != 0)
            return fail(L, "%s.status must be \"Agree\" or \"Disagree\" (got \"%.64s\")", dp,
                        status);
        in.agree = strcmp(status, "Agree") == 0;
        in.change_time = change_time;
        consent_key(key, in.userid, in.chatid, in.external_userid);
        if ((dup = consent_find(c, key)) >= 0)
            return fail(L, "%s decides the same %s and external_userid as %s[%ld]", dp,
                        in.userid != NULL ? "userid" : "chatid", fp, dup);
        if (consent_put(L, c, &in, key) != 0)
            return -1;
        i++;
    }
    return 0;
}

const zl_consent *zl_corp_consent(const zl_corp *c, const char *userid, const char *chatid,
                                  const char *external_userid)
{
    char key[CONSENT_KEY_LEN];
    long i;

    if (c == NULL || c->index == NULL || (userid == NULL) == (chatid == NULL) ||
        consent_key(key, userid, chatid, external_userid) != 0)
        return NULL;
    i = consent_find(c, key);
    return i >= 0 ? &c->consents[i] : NULL;
}

int zl_corp_consent_set(zl_world *w, zl_corp *c, const zl_consent *in, char *err, size_t errlen)
{
    loader L = {.err = err, .errlen = errlen, .w = w, .a = w != NULL ? w->arena : NULL};
    char key[CONSENT_KEY_LEN];

    if (w == NULL || c == NULL || in == NULL || in->external_userid == NULL)
        return fail(&L, "external_userid is missing");
    if (consent_check(&L, c, "", "the corp", in) != 0)
        return -1;
    consent_key(key, in->userid, in->chatid, in->external_userid); /* ids exist: short enough */
    return consent_put(&L, c, in, key);
}

bool zl_group_in_scope(zl_corp *c, const zl_group *g)
{
    if (c == NULL || g == NULL)
        return false;
    for (size_t k = 0; k < g->member_count; k++) {
        const zl_member *m;

        if (g->members[k].type == ZL_PARTY_EMPLOYEE &&
            (m = zl_corp_member(c, g->members[k].id)) != NULL && m->in_scope)
            return true;
    }
    return false;
}

static int load_keys(loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"version", "pem", "pem_file", NULL};
    const cJSON *arr, *jk;
    char kp[PATH_LEN], fp[PATH_LEN], np[PATH_LEN];
    size_t n, i = 0;

    if (get_array(L, jc, cpath, "public_keys", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        keep_array(L, n, sizeof *c->public_keys, &c->public_keys) != 0)
        return -1;
    fpath(fp, cpath, "public_keys");
    cJSON_ArrayForEach(jk, arr)
    {
        zl_public_key *k = &c->public_keys[i];
        const char *pem = NULL, *file = NULL;
        long long version = 0;

        ipath(kp, fp, i);
        if (check_object(L, jk, kp, keys) != 0 ||
            get_int(L, jk, kp, "version", REQUIRED, 1, UINT32_MAX, &version) != 0 ||
            get_string(L, jk, kp, "pem", OPTIONAL, ZL_WORLD_MAX_PEM, &pem) != 0 ||
            get_string(L, jk, kp, "pem_file", OPTIONAL, 1024, &file) != 0)
            return -1;
        if (i > 0 && version <= c->public_keys[i - 1].version)
            return fail(L, "%s.version must be greater than %u, the version before it (got %lld)",
                        kp, c->public_keys[i - 1].version, version);
        if ((pem == NULL) == (file == NULL))
            return fail(L, "%s needs exactly one of pem and pem_file", kp);
        if (pem != NULL) {
            k->pem_len = strlen(pem);
            if (keep(L, pem, &k->pem) != 0 ||
                check_rsa_pem(L, k->pem, k->pem_len, fpath(np, kp, "pem")) != 0)
                return -1;
        } else {
            char named[PATH_LEN + 1100]; /* the path and the file name, for messages */

            snprintf(named, sizeof named, "%s \"%s\"", fpath(np, kp, "pem_file"), file);
            if (read_pem_file(L, file, np, &k->pem, &k->pem_len) != 0 ||
                check_rsa_pem(L, k->pem, k->pem_len, named) != 0)
                return -1;
        }
        k->version = (uint32_t)version;
        c->public_key_count = ++i;
    }
    return 0;
}

/* A message read from the file, waiting to be sorted by send_time and archived. */
typedef struct pending {
    zl_message_in in;
    size_t file_index;
    const cJSON *content; /* an object to print, or NULL */
    zl_party *receivers;
} pending;

static int pending_cmp(const void *a, const void *b)
{
    const pending *x = a, *y = b;

    if (x->in.send_time != y->in.send_time)
        return x->in.send_time < y->in.send_time ? -1 : 1;
    return x->file_index < y->file_index ? -1 : x->file_index > y->file_index;
}

static int read_party(loader *L, const cJSON *v, const char *name, zl_party *out)
{
    static const char *const keys[] = {"type", "id", NULL};
    long long type = 0;

    if (check_object(L, v, name, keys) != 0 ||
        get_int(L, v, name, "type", REQUIRED, 1, 3, &type) != 0 ||
        get_string(L, v, name, "id", REQUIRED, ZL_WORLD_MAX_ID, &out->id) != 0)
        return -1;
    out->type = (int)type;
    return 0;
}

/* Reads and checks one message of the file into p (strings borrowed from the tree). */
static int read_message(loader *L, const cJSON *jm, const char *mp, const char *cpath, zl_corp *c,
                        pending *p)
{
    static const char *const keys[] = {"msgid",         "sender",  "receivers", "chatid",
                                       "send_time",     "msgtype", "content",   "secret_key",
                                       "call_duration", NULL};
    const cJSON *sender, *arr, *jr, *content;
    char fp[PATH_LEN], rp[PATH_LEN], ip[PATH_LEN];
    long long send_time = 0, msgtype = 0, call_duration = 0;
    size_t n, k = 0;

    p->in.chatid = "";
    if (check_object(L, jm, mp, keys) != 0 ||
        get_string(L, jm, mp, "msgid", REQUIRED, ZL_WORLD_MAX_ID, &p->in.msgid) != 0 ||
        get_string(L, jm, mp, "chatid", EMPTY_OK, ZL_WORLD_MAX_ID, &p->in.chatid) != 0 ||
        get_int(L, jm, mp, "send_time", REQUIRED, 0, ZL_WORLD_MAX_TIME, &send_time) != 0 ||
        get_int(L, jm, mp, "msgtype", REQUIRED, 0, ZL_MSGTYPE_MAX, &msgtype) != 0 ||
        get_int(L, jm, mp, "call_duration", OPTIONAL, 0, INT32_MAX, &call_duration) != 0 ||
        get_string(L, jm, mp, "secret_key", OPTIONAL, ZL_MSG_MAX_SECRET, &p->in.secret_key) != 0)
        return -1;
    sender = cJSON_GetObjectItemCaseSensitive(jm, "sender");
    fpath(fp, mp, "sender");
    if (sender == NULL)
        return fail(L, "%s is missing", fp);
    if (read_party(L, sender, fp, &p->in.sender) != 0 ||
        check_party_ref(L, c, p->in.sender.type, p->in.sender.id, fpath(ip, fp, "id"), cpath))
        return -1;
    if (get_array(L, jm, mp, "receivers", REQUIRED, ZL_MSG_MAX_RECEIVERS, &arr, &n) != 0)
        return -1;
    if (n == 0)
        return fail(L, "%s.receivers must hold at least one receiver", mp);
    p->receivers = calloc(n, sizeof *p->receivers);
    if (p->receivers == NULL)
        return oom(L);
    fpath(fp, mp, "receivers");
    cJSON_ArrayForEach(jr, arr)
    {
        zl_party *r = &p->receivers[k];

        ipath(rp, fp, k);
        if (read_party(L, jr, rp, r) != 0 ||
            check_party_ref(L, c, r->type, r->id, fpath(ip, rp, "id"), cpath) != 0)
            return -1;
        k++;
    }
    if (p->in.chatid[0] != '\0' && zl_corp_group(c, p->in.chatid) == NULL)
        return fail(L, "%s.chatid \"%s\" is not a chatid in %s.groups", mp, p->in.chatid, cpath);
    content = cJSON_GetObjectItemCaseSensitive(jm, "content");
    if (content != NULL && cJSON_IsString(content))
        p->in.content = content->valuestring; /* JSON text, kept byte for byte */
    else if (content != NULL && cJSON_IsObject(content))
        p->content = content;
    else if (content != NULL)
        return fail(L, "%s.content must be a JSON object, or a string holding one (got %s)", mp,
                    type_name(content));
    p->in.receivers = p->receivers;
    p->in.receiver_count = n;
    p->in.send_time = send_time;
    p->in.msgtype = (int)msgtype;
    p->in.call_duration = (int)call_duration;
    return 0;
}

static int load_messages(loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    const cJSON *arr, *jm;
    char mp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;
    pending *ps;
    int rc = -1;

    if (get_array(L, jc, cpath, "messages", OPTIONAL, MAX_MESSAGES, &arr, &n) != 0)
        return -1;
    if (n == 0)
        return 0;
    ps = calloc(n, sizeof *ps);
    if (ps == NULL)
        return oom(L);
    fpath(fp, cpath, "messages");
    cJSON_ArrayForEach(jm, arr)
    {
        ipath(mp, fp, i);
        ps[i].file_index = i;
        if (read_message(L, jm, mp, cpath, c, &ps[i]) != 0)
            goto out;
        i++;
    }
    qsort(ps, n, sizeof *ps, pending_cmp); /* stable: ties keep file order */
    for (i = 0; i < n; i++) {
        char why[512];
        char *printed = NULL;
        int ok;

        if (ps[i].content != NULL) {
            printed = cJSON_PrintUnformatted(ps[i].content);
            if (printed == NULL) {
                oom(L);
                goto out;
            }
            ps[i].in.content = printed;
        }
        ok = zl_msgstore_append(c->messages, &ps[i].in, why, sizeof why);
        cJSON_free(printed);
        if (ok != 0) {
            fail(L, "%s.%s", ipath(mp, fp, ps[i].file_index), why);
            goto out;
        }
    }
    rc = 0;
out:
    for (i = 0; i < n; i++)
        free(ps[i].receivers);
    free(ps);
    return rc;
}

long zl_corp_archive_json(zl_world *w, zl_corp *c, const cJSON *arr, int64_t default_time,
                          char *err, size_t errlen)
{
    loader L = {.err = err, .errlen = errlen, .w = w};
    const cJSON *jm;
    char mp[PATH_LEN];
    long done = 0;

    if (!cJSON_IsArray(arr)) {
        fail(&L, "messages must be an array of message objects");
        return -1;
    }
    cJSON_ArrayForEach(jm, arr)
    {
        pending p = {0};
        cJSON *copy = NULL;
        char why[512], *printed = NULL;
        int ok;

        ipath(mp, "messages", (size_t)done);
        if (cJSON_IsObject(jm) && !cJSON_GetObjectItemCaseSensitive(jm, "send_time")) {
            copy = cJSON_Duplicate(jm, 1);
            if (!copy || !cJSON_AddNumberToObject(copy, "send_time", (double)default_time)) {
                cJSON_Delete(copy);
                oom(&L);
                return -1;
            }
        }
        if (read_message(&L, copy ? copy : jm, mp, "the corp", c, &p) != 0) {
            free(p.receivers);
            cJSON_Delete(copy);
            return -1;
        }
        if (p.content != NULL && !(printed = cJSON_PrintUnformatted(p.content))) {
            free(p.receivers);
            cJSON_Delete(copy);
            oom(&L);
            return -1;
        }
        if (printed)
            p.in.content = printed;
        ok = zl_msgstore_append(c->messages, &p.in, why, sizeof why);
        cJSON_free(printed);
        free(p.receivers);
        cJSON_Delete(copy);
        if (ok != 0) {
            fail(&L, "%s.%s", mp, why);
            return -1;
        }
        done++;
    }
    return done;
}

static int load_corp(loader *L, const cJSON *jc, const char *cpath, zl_corp *c, size_t index)
{
    static const char *const keys[] = {"corpid",      "name",      "apps",   "programs",
                                       "members",     "externals", "groups", "consents",
                                       "public_keys", "messages",  NULL};
    const char *corpid = NULL, *name = NULL;

    if (check_object(L, jc, cpath, keys) != 0 ||
        get_string(L, jc, cpath, "corpid", REQUIRED, ZL_WORLD_MAX_ID, &corpid) != 0 ||
        get_string(L, jc, cpath, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0)
        return -1;
    for (size_t k = 0; k < index; k++)
        if (strcmp(L->w->corps[k].corpid, corpid) == 0)
            return fail(L, "%s.corpid \"%s\" is already used by corps[%zu]", cpath, corpid, k);
    c->index = calloc(1, sizeof *c->index);
    c->messages = zl_msgstore_new(corpid);
    if (c->index == NULL || c->messages == NULL)
        return oom(L);
    if (keep(L, corpid, &c->corpid) != 0 || keep(L, name, &c->name) != 0 ||
        load_apps(L, jc, cpath, c) != 0 || load_programs(L, jc, cpath, c) != 0 ||
        load_members(L, jc, cpath, c) != 0 || load_externals(L, jc, cpath, c) != 0 ||
        load_groups(L, jc, cpath, c) != 0 || load_consents(L, jc, cpath, c) != 0 ||
        load_keys(L, jc, cpath, c) != 0 || load_messages(L, jc, cpath, c) != 0)
        return -1;
    return 0;
}

static int load_world(loader *L, const cJSON *root)
{
    static const char *const keys[] = {"corps", "clock_start", NULL};
    const cJSON *arr, *jc;
    char cp[PATH_LEN];
    size_t n, i = 0;
    long long start = 0;

    if (check_object(L, root, "", keys) != 0 ||
        get_int(L, root, "", "clock_start", OPTIONAL, 0, ZL_WORLD_MAX_TIME, &start) != 0 ||
        get_array(L, root, "", "corps", REQUIRED, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0)
        return -1;
    L->w->clock_start = start;
    if (n == 0)
        return fail(L, "corps must hold at least one corp");
    if (keep_array(L, n, sizeof *L->w->corps, &L->w->corps) != 0)
        return -1;
    cJSON_ArrayForEach(jc, arr)
    {
        /* Counted before loading so zl_world_free sees a half-built corp. */
        L->w->corp_count = i + 1;
        if (load_corp(L, jc, ipath(cp, "corps", i), &L->w->corps[i], i) != 0)
            return -1;
        i++;
    }
    return 0;
}

/* Line and column (from 1) of pos in text. */
static void line_col(const char *text, const char *pos, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < pos; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* fixtures/worlds/default.json, built in by cmake/ZlEmbed.cmake. */
extern const unsigned char zl_default_world[];
extern const size_t zl_default_world_len;

const unsigned char *zl_world_default_json(size_t *len)
{
    *len = zl_default_world_len;
    return zl_default_world;
}

zl_world *zl_world_load_default(char *err, size_t errlen)
{
    return zl_world_load_json((const char *)zl_default_world, zl_default_world_len, NULL, err,
                              errlen);
}

zl_world *zl_world_load_json(const char *text, size_t len, const char *base_dir, char *err,
                             size_t errlen)
{
    loader L = {err, errlen, base_dir, NULL, NULL};
    const char *end = NULL;
    cJSON *root;
    zl_world *w;
    int rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (text == NULL || len == 0) {
        fail(&L, "the world is empty; expected a JSON object with \"corps\"");
        return NULL;
    }
    if (len > ZL_WORLD_MAX_FILE) {
        fail(&L, "the world is larger than %u bytes", ZL_WORLD_MAX_FILE);
        return NULL;
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root != NULL)
        while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
    if (root == NULL || end < text + len) {
        size_t line, col;

        line_col(text, end != NULL && end >= text && end <= text + len ? end : text, &line, &col);
        fail(&L,
             root == NULL ? "the world is not valid JSON near line %zu, column %zu"
                          : "the world has text after its JSON object near line %zu, column %zu",
             line, col);
        cJSON_Delete(root);
        return NULL;
    }
    w = calloc(1, sizeof *w);
    if (w != NULL)
        w->arena = malloc(sizeof *w->arena);
    if (w == NULL || w->arena == NULL) {
        free(w);
        cJSON_Delete(root);
        oom(&L);
        return NULL;
    }
    arena_init(w->arena, WORLD_BLOCK);
    L.w = w;
    L.a = w->arena;
    rc = load_world(&L, root);
    cJSON_Delete(root);
    if (rc != 0) {
        zl_world_free(w);
        return NULL;
    }
    return w;
}

zl_world *zl_world_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f;
    char *text = NULL, *dir = NULL, *slash;
    long size;
    zl_world *w = NULL;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL) {
        set_err(err, errlen, "no world file given");
        return NULL;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        set_err(err, errlen, "cannot open the world file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        set_err(err, errlen, "cannot read the world file %s: %s", path, strerror(errno));
        goto out;
    }
    if ((unsigned long)size > ZL_WORLD_MAX_FILE) {
        set_err(err, errlen, "the world file %s is larger than %u bytes", path, ZL_WORLD_MAX_FILE);
        goto out;
    }
    text = malloc((size_t)size + 1);
    dir = dup_str(path);
    if (text == NULL || dir == NULL) {
        set_err(err, errlen, "out of memory while reading the world file %s", path);
        goto out;
    }
    if (fread(text, 1, (size_t)size, f) != (size_t)size) {
        set_err(err, errlen, "cannot read the world file %s", path);
        goto out;
    }
    slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    w = zl_world_load_json(text, (size_t)size, dir, err, errlen);
out:
    fclose(f);
    free(text);
    free(dir);
    return w;
}

void zl_world_free(zl_world *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->corp_count; i++) {
        zl_corp *c = &w->corps[i];

        if (c->index != NULL) {
            hindex_cleanup(&c->index->members);
            hindex_cleanup(&c->index->externals);
            hindex_cleanup(&c->index->groups);
            hindex_cleanup(&c->index->consents);
            free(c->index->consent_keys);
            free(c->index);
        }
        zl_msgstore_free(c->messages);
        free(c->consents);
    }
    if (w->arena != NULL)
        arena_cleanup(w->arena);
    free(w->arena);
    free(w);
}

/* -------------------------------------------------------------- lookups */

zl_corp *zl_world_corp(zl_world *w, const char *corpid)
{
    if (w == NULL || corpid == NULL)
        return NULL;
    for (size_t i = 0; i < w->corp_count; i++)
        if (w->corps[i].corpid != NULL && strcmp(w->corps[i].corpid, corpid) == 0)
            return &w->corps[i];
    return NULL;
}

zl_app *zl_corp_app(zl_corp *c, uint32_t agentid)
{
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < c->app_count; i++)
        if (c->apps[i].agentid == agentid)
            return &c->apps[i];
    return NULL;
}

zl_program *zl_corp_program(zl_corp *c, const char *program_id)
{
    if (c == NULL || program_id == NULL)
        return NULL;
    for (size_t i = 0; i < c->program_count; i++)
        if (strcmp(c->programs[i].program_id, program_id) == 0)
            return &c->programs[i];
    return NULL;
}

zl_ability *zl_program_ability(zl_program *p, const char *ability_id)
{
    if (p == NULL || ability_id == NULL)
        return NULL;
    for (size_t i = 0; i < p->ability_count; i++)
        if (strcmp(p->abilities[i].ability_id, ability_id) == 0)
            return &p->abilities[i];
    return NULL;
}

bool zl_program_has_agent(const zl_program *p, uint32_t agentid)
{
    if (p == NULL)
        return false;
    for (size_t i = 0; i < p->agentid_count; i++)
        if (p->agentids[i] == agentid)
            return true;
    return false;
}

zl_member *zl_corp_member(zl_corp *c, const char *userid)
{
    long i;

    if (c == NULL || c->index == NULL || userid == NULL)
        return NULL;
    i = hindex_find(&c->index->members, userid, hash_str(userid), member_key, c);
    return i >= 0 ? &c->members[i] : NULL;
}

zl_external *zl_corp_external(zl_corp *c, const char *external_userid)
{
    long i;

    if (c == NULL || c->index == NULL || external_userid == NULL)
        return NULL;
    i = hindex_find(&c->index->externals, external_userid, hash_str(external_userid), external_key,
                    c);
    return i >= 0 ? &c->externals[i] : NULL;
}

zl_group *zl_corp_group(zl_corp *c, const char *chatid)
{
    long i;

    if (c == NULL || c->index == NULL || chatid == NULL)
        return NULL;
    i = hindex_find(&c->index->groups, chatid, hash_str(chatid), group_key, c);
    return i >= 0 ? &c->groups[i] : NULL;
}

const zl_public_key *zl_corp_newest_key(const zl_corp *c)
{
    if (c == NULL || c->public_key_count == 0)
        return NULL;
    return &c->public_keys[c->public_key_count - 1];
}
