/* msgstore: one corp's message archive: append in seq order, by index, by send time, by msgid. */
#include "wecom/world_int.h"
#include "core/grow.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#define STORE_BLOCK     (256u * 1024u) /* arena block of a message store */
#define CHUNK_SHIFT     10             /* 1024 messages per chunk */
#define CHUNK_LEN       ((size_t)1 << CHUNK_SHIFT)
#define DEFAULT_CONTENT default_content

static const char default_content[] = "{}"; /* one copy: a dump tells it apart */

struct zl_msgstore {
    char *corpid;
    zl_message **chunks;
    size_t chunk_count;
    size_t chunk_cap;
    size_t count;
    zl_hindex by_msgid;
    /* Sender, receiver and chat ids repeat endlessly: each distinct one is stored once. */
    zl_hindex intern_index;
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
    zl_arena_init(&s->arena, STORE_BLOCK);
    s->corpid = strdup(corpid);
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
    zl_hindex_cleanup(&s->by_msgid);
    zl_hindex_cleanup(&s->intern_index);
    free(s->interned);
    zl_arena_cleanup(&s->arena);
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
    return zl_hindex_find(&s->by_msgid, msgid, zl_hash_str(msgid), msgid_key, s);
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
                       s->chunk_cap * sizeof *s->chunks + s->by_msgid.cap * sizeof(zl_hslot) +
                       s->intern_index.cap * sizeof(zl_hslot) + s->interned_cap * sizeof(char *);
}

/* Checks an id field: non-empty, at most ZL_WORLD_MAX_ID bytes. */
static int check_id(const char *v, const char *field, char *err, size_t errlen)
{
    size_t n;

    if (v == NULL || v[0] == '\0')
        return zl_err_set(err, errlen, "%s must not be empty", field);
    n = strlen(v);
    if (n > ZL_WORLD_MAX_ID)
        return zl_err_set(err, errlen, "%s must be at most %d bytes (got %zu)", field,
                          ZL_WORLD_MAX_ID, n);
    return 0;
}

static int check_party(const zl_party *p, const char *field, char *err, size_t errlen)
{
    char f[64];

    if (p->type < ZL_PARTY_EMPLOYEE || p->type > ZL_PARTY_ROBOT)
        return zl_err_set(
            err, errlen, "%s.type must be 1 (employee), 2 (external contact) or 3 (robot) (got %d)",
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
        return zl_err_set(err, errlen, "receivers must hold at least one receiver");
    if (m->receiver_count > ZL_MSG_MAX_RECEIVERS)
        return zl_err_set(err, errlen, "receivers must hold at most %d receivers (got %zu)",
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
        return zl_err_set(err, errlen, "send_time must be between 0 and %lld (got %lld)",
                          (long long)ZL_WORLD_MAX_TIME, (long long)m->send_time);
    if (s->count > 0 && m->send_time < slot_at(s, s->count - 1)->send_time)
        return zl_err_set(err, errlen,
                          "send_time %lld is older than the newest archived message (seq %zu, "
                          "send_time %lld); the archive only grows forward in time",
                          (long long)m->send_time, s->count,
                          (long long)slot_at(s, s->count - 1)->send_time);
    if (m->msgtype < 0 || m->msgtype > ZL_MSGTYPE_MAX)
        return zl_err_set(err, errlen, "msgtype must be between 0 and %d (got %d)", ZL_MSGTYPE_MAX,
                          m->msgtype);
    if (m->call_duration < 0)
        return zl_err_set(err, errlen, "call_duration must not be negative (got %d)",
                          m->call_duration);
    if (m->call_duration != 0 && m->msgtype != 21 && m->msgtype != 22)
        return zl_err_set(
            err, errlen,
            "call_duration is only for msgtype 21 and 22 (this message has msgtype %d)",
            m->msgtype);
    if (m->content != NULL) {
        n = strlen(m->content);
        if (n > ZL_MSG_MAX_CONTENT)
            return zl_err_set(err, errlen, "content must be at most %u bytes (got %zu)",
                              ZL_MSG_MAX_CONTENT, n);
        if (!is_json_object_text(m->content, n))
            return zl_err_set(err, errlen, "content must be the JSON text of an object");
    }
    if (m->secret_key != NULL) {
        n = strlen(m->secret_key);
        if (n == 0)
            return zl_err_set(err, errlen,
                              "secret_key must not be empty (leave it out to derive one)");
        if (n > ZL_MSG_MAX_SECRET)
            return zl_err_set(
                err, errlen,
                "secret_key must be at most %d bytes, what RSA-2048 can wrap (got %zu)",
                ZL_MSG_MAX_SECRET, n);
    }
    dup = zl_msgstore_find(s, m->msgid);
    if (dup >= 0)
        return zl_err_set(err, errlen, "msgid \"%s\" is already archived (seq %ld)", m->msgid,
                          dup + 1);
    if (s->count >= MAX_MESSAGES)
        return zl_err_set(err, errlen, "msgid \"%s\" cannot be archived: the archive is full (%zu)",
                          m->msgid, s->count);
    return 0;
}

static char *store_str(zl_msgstore *s, const char *v)
{
    size_t n = strlen(v);
    char *p = zl_arena_strndup(&s->arena, v, n);

    if (p != NULL)
        s->bytes_string += n + 1;
    return p;
}

/* The stored copy of id, shared by every message that names it; NULL when memory runs out. */
static const char *intern(zl_msgstore *s, const char *id)
{
    uint32_t h = zl_hash_str(id);
    long found = zl_hindex_find(&s->intern_index, id, h, interned_key, s);
    const char *copy;

    if (found >= 0)
        return s->interned[found];
    if (zl_grow(&s->interned, &s->interned_cap, s->interned_count, sizeof *s->interned, 64) != 0)
        return NULL;
    if (zl_hindex_reserve(&s->intern_index, s->interned_count + 1) != 0)
        return NULL;
    copy = store_str(s, id);
    if (copy == NULL)
        return NULL;
    s->interned[s->interned_count] = copy;
    zl_hindex_insert(&s->intern_index, h, (uint32_t)s->interned_count);
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
    out = zl_arena_alloc(&s->arena, ZL_MSG_SECRET_HEX + 1, 1);
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
        return zl_err_set(err, errlen, "message is missing");
    if (check_message(s, m, err, errlen) != 0)
        return -1;
    /* Everything that can fail happens before the message becomes visible (count++). */
    if (s->count == s->chunk_count * CHUNK_LEN) {
        if (zl_grow(&s->chunks, &s->chunk_cap, s->chunk_count, sizeof *s->chunks, 16) != 0)
            goto oom;
        s->chunks[s->chunk_count] = malloc(CHUNK_LEN * sizeof(zl_message));
        if (s->chunks[s->chunk_count] == NULL)
            goto oom;
        s->chunk_count++;
    }
    if (zl_hindex_reserve(&s->by_msgid, s->count + 1) != 0)
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
    receivers = zl_arena_alloc(&s->arena, m->receiver_count * sizeof *receivers, sizeof(void *));
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
    zl_hindex_insert(&s->by_msgid, zl_hash_str(msg.msgid), (uint32_t)s->count);
    s->count++;
    return 0;
oom:
    return zl_err_set(err, errlen, "msgid \"%s\" was not archived: out of memory", m->msgid);
}

/* ---- snapshot: the store written out and read back without checking each message again ---- */

#define SNAP_DEFAULT UINT32_MAX /* the length that stands for DEFAULT_CONTENT */

static void put_u32(FILE *f, uint32_t v)
{
    fwrite(&v, sizeof v, 1, f);
}

static void put_str(FILE *f, const char *v)
{
    size_t n = strlen(v);

    put_u32(f, (uint32_t)n);
    fwrite(v, 1, n + 1, f);
}

/* The interned index of id, which the store holds. */
static uint32_t interned_at(const zl_msgstore *s, const char *id)
{
    return (uint32_t)zl_hindex_find(&s->intern_index, id, zl_hash_str(id), interned_key, s);
}

int zl_msgstore_dump(const zl_msgstore *s, FILE *f)
{
    uint64_t n = s->count, ni = s->interned_count;

    fwrite(&n, sizeof n, 1, f);
    fwrite(&ni, sizeof ni, 1, f);
    for (size_t i = 0; i < s->interned_count; i++)
        put_str(f, s->interned[i]);
    for (size_t i = 0; i < s->count; i++) {
        const zl_message *m = slot_at(s, i);

        fwrite(&m->send_time, sizeof m->send_time, 1, f);
        put_u32(f, (uint32_t)m->msgtype);
        put_u32(f, (uint32_t)m->call_duration);
        put_u32(f, m->receiver_count);
        put_u32(f, m->chatid[0] ? interned_at(s, m->chatid) + 1 : 0);
        put_u32(f, (uint32_t)m->sender.type);
        put_u32(f, interned_at(s, m->sender.id));
        for (uint32_t k = 0; k < m->receiver_count; k++) {
            put_u32(f, (uint32_t)m->receivers[k].type);
            put_u32(f, interned_at(s, m->receivers[k].id));
        }
        put_str(f, m->msgid);
        if (m->content == DEFAULT_CONTENT)
            put_u32(f, SNAP_DEFAULT);
        else
            put_str(f, m->content);
        put_str(f, m->secret_key);
    }
    return ferror(f) ? -1 : 0;
}

typedef struct reader {
    const char *p, *end;
    int bad;
} reader;

static uint32_t get_u32(reader *r)
{
    uint32_t v = 0;

    if (r->end - r->p < (ptrdiff_t)sizeof v)
        r->bad = 1;
    else
        memcpy(&v, r->p, sizeof v);
    r->p += r->bad ? 0 : sizeof v;
    return v;
}

/* A NUL-terminated string of the snapshot (pointing into it), or NULL (r->bad set). */
static const char *get_str_len(reader *r, uint32_t n)
{
    const char *v = r->p;

    if (r->bad || (size_t)(r->end - r->p) <= n || v[n] != '\0') {
        r->bad = 1;
        return NULL;
    }
    r->p += (size_t)n + 1;
    return v;
}

static const char *get_str(reader *r)
{
    uint32_t n = get_u32(r);

    return r->bad ? NULL : get_str_len(r, n);
}

size_t zl_msgstore_undump(zl_msgstore *s, const char *buf, size_t len)
{
    reader r = {buf, buf + len, 0};
    uint64_t n = 0, ni = 0;
    const char **ids = NULL;

    if (s->count != 0 || len < 2 * sizeof n)
        return 0;
    memcpy(&n, r.p, sizeof n);
    memcpy(&ni, r.p + sizeof n, sizeof ni);
    r.p += 2 * sizeof n;
    if (n > MAX_MESSAGES || ni > len || !(ids = malloc((size_t)(ni ? ni : 1) * sizeof *ids)))
        return 0;
    for (size_t i = 0; i < ni && !r.bad; i++) {
        const char *id = get_str(&r);

        if (id && !(ids[i] = intern(s, id)))
            r.bad = 1;
    }
    for (size_t i = 0; i < n && !r.bad; i++) {
        zl_message msg = {.seq = (uint64_t)s->count + 1};
        zl_party *rs;
        uint32_t chat, sender, clen;

        if (r.end - r.p < (ptrdiff_t)sizeof msg.send_time) {
            r.bad = 1;
            break;
        }
        memcpy(&msg.send_time, r.p, sizeof msg.send_time);
        r.p += sizeof msg.send_time;
        msg.msgtype = (int32_t)get_u32(&r);
        msg.call_duration = (int32_t)get_u32(&r);
        msg.receiver_count = get_u32(&r);
        chat = get_u32(&r);
        msg.sender.type = (int)get_u32(&r);
        sender = get_u32(&r);
        if (r.bad || chat > ni || sender >= ni || msg.receiver_count == 0 ||
            msg.receiver_count > ZL_MSG_MAX_RECEIVERS) {
            r.bad = 1;
            break;
        }
        msg.chatid = chat ? ids[chat - 1] : "";
        msg.sender.id = ids[sender];
        rs = zl_arena_alloc(&s->arena, msg.receiver_count * sizeof *rs, sizeof(void *));
        for (uint32_t k = 0; rs && k < msg.receiver_count && !r.bad; k++) {
            uint32_t idx;

            rs[k].type = (int)get_u32(&r);
            idx = get_u32(&r);
            if (idx >= ni)
                r.bad = 1;
            else
                rs[k].id = ids[idx];
        }
        msg.receivers = rs;
        msg.msgid = get_str(&r);
        clen = get_u32(&r);
        msg.content = clen == SNAP_DEFAULT ? DEFAULT_CONTENT : get_str_len(&r, clen);
        msg.secret_key = get_str(&r);
        if (r.bad || !rs)
            break;
        if (s->count == s->chunk_count * CHUNK_LEN) {
            if (zl_grow(&s->chunks, &s->chunk_cap, s->chunk_count, sizeof *s->chunks, 16) != 0 ||
                !(s->chunks[s->chunk_count] = malloc(CHUNK_LEN * sizeof(zl_message)))) {
                r.bad = 1;
                break;
            }
            s->chunk_count++;
        }
        if (zl_hindex_reserve(&s->by_msgid, s->count + 1) != 0 ||
            !(msg.msgid = store_str(s, msg.msgid)) ||
            (msg.content != DEFAULT_CONTENT && !(msg.content = store_str(s, msg.content))) ||
            !(msg.secret_key = store_str(s, msg.secret_key))) {
            r.bad = 1;
            break;
        }
        *slot_at(s, s->count) = msg;
        zl_hindex_insert(&s->by_msgid, zl_hash_str(msg.msgid), (uint32_t)s->count);
        s->count++;
    }
    free(ids);
    return r.bad ? 0 : (size_t)(r.p - buf);
}
