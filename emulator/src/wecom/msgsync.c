/* msgsync: sync_msg over one corp's archive: cursors, window, visibility, pages, reply items. */
#include "wecom/msgsync.h"

#include "wecom/msgkey.h"
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define CURSOR_VERSION 1
#define CURSOR_BODY    22 /* version, kind, scope, pos, extra */
#define CURSOR_MAC     16 /* truncated HMAC-SHA256 */
#define CURSOR_RAW     (CURSOR_BODY + CURSOR_MAC)

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ---- cursors ---- */

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The truncated MAC of the CURSOR_BODY bytes of raw into mac. Returns 0 or -1. */
static int cursor_mac(const zl_cursor_key *k, const unsigned char *raw,
                      unsigned char mac[CURSOR_MAC])
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (HMAC(EVP_sha256(), k->k, (int)sizeof k->k, raw, CURSOR_BODY, full, &len) == NULL ||
        len < CURSOR_MAC) {
        ERR_clear_error();
        return -1;
    }
    memcpy(mac, full, CURSOR_MAC);
    OPENSSL_cleanse(full, sizeof full);
    return 0;
}

int zl_cursor_encode(const zl_cursor_key *k, int kind, uint32_t scope, uint64_t pos, uint64_t extra,
                     char *out)
{
    unsigned char raw[CURSOR_RAW];
    size_t o = 0;

    if (k == NULL || out == NULL || kind < 1 || kind > 255)
        return -1;
    raw[0] = CURSOR_VERSION;
    raw[1] = (unsigned char)kind;
    put_be(raw + 2, scope, 4);
    put_be(raw + 6, pos, 8);
    put_be(raw + 14, extra, 8);
    if (cursor_mac(k, raw, raw + CURSOR_BODY) != 0)
        return -1;
    /* base64url, no padding: 12 full groups of 3 bytes, then a 2-byte tail. */
    for (size_t i = 0; i < CURSOR_RAW; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16;
        size_t n = CURSOR_RAW - i < 3 ? CURSOR_RAW - i : 3;

        if (n > 1)
            v |= (uint32_t)raw[i + 1] << 8;
        if (n > 2)
            v |= raw[i + 2];
        out[o++] = B64URL[(v >> 18) & 63];
        out[o++] = B64URL[(v >> 12) & 63];
        if (n > 1)
            out[o++] = B64URL[(v >> 6) & 63];
        if (n > 2)
            out[o++] = B64URL[v & 63];
    }
    out[o] = '\0';
    return 0;
}

/* Value of a base64url character, or -1. */
static int b64url_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '-')
        return 62;
    if (ch == '_')
        return 63;
    return -1;
}

int zl_cursor_decode(const zl_cursor_key *k, int kind, uint32_t scope, const char *text,
                     uint64_t *pos, uint64_t *extra)
{
    unsigned char raw[CURSOR_RAW];
    unsigned char mac[CURSOR_MAC];
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    size_t len = 0;

    if (k == NULL || text == NULL || pos == NULL || kind < 1 || kind > 255)
        return -1;
    while (len <= ZL_CURSOR_TEXT_LEN && text[len] != '\0')
        len++;
    if (len != ZL_CURSOR_TEXT_LEN)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(text[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Canonical text only: the bits left over after the last byte must be zero. */
    if (n != CURSOR_RAW || acc != 0)
        return -1;
    if (cursor_mac(k, raw, mac) != 0 || CRYPTO_memcmp(mac, raw + CURSOR_BODY, CURSOR_MAC) != 0)
        return -1;
    if (raw[0] != CURSOR_VERSION || raw[1] != (unsigned)kind || get_be(raw + 2, 4) != scope)
        return -1;
    *pos = get_be(raw + 6, 8);
    if (extra != NULL)
        *extra = get_be(raw + 14, 8);
    return 0;
}

/* ---- keyring ---- */

typedef struct ring_key {
    uint32_t version;
    size_t from_index;
    EVP_PKEY *pkey;
} ring_key;

struct zl_keyring {
    ring_key *keys; /* increasing versions */
    size_t count;
    size_t cap;
};

zl_keyring *zl_keyring_new(void)
{
    return calloc(1, sizeof(zl_keyring));
}

void zl_keyring_free(zl_keyring *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->count; i++)
        EVP_PKEY_free(r->keys[i].pkey);
    free(r->keys);
    free(r);
}

int zl_keyring_add(zl_keyring *r, uint32_t version, const char *pem, size_t pem_len,
                   size_t from_index, char *err, size_t errlen)
{
    uint32_t newest;
    EVP_PKEY *pkey;

    if (r == NULL) {
        zl_err_set(err, errlen, "keyring: no keyring given");
        return -1;
    }
    newest = zl_keyring_newest_version(r);
    if (version == 0) {
        zl_err_set(err, errlen, "public_key_ver must be at least 1 (got 0)");
        return -1;
    }
    if (version <= newest) {
        zl_err_set(err, errlen, "public_key_ver %u must be greater than the current version %u",
                   (unsigned)version, (unsigned)newest);
        return -2;
    }
    if (r->count >= ZL_WORLD_MAX_ITEMS) {
        zl_err_set(err, errlen, "public_key_ver %u: the corp already has %d keys, the most allowed",
                   (unsigned)version, ZL_WORLD_MAX_ITEMS);
        return -1;
    }
    if (r->count == r->cap) {
        size_t cap = r->cap == 0 ? 4 : r->cap * 2;
        ring_key *keys = realloc(r->keys, cap * sizeof *keys);

        if (keys == NULL) {
            zl_err_set(err, errlen, "public_key_ver %u: out of memory", (unsigned)version);
            return -1;
        }
        r->keys = keys;
        r->cap = cap;
    }
    pkey = zl_msgkey_load_public(pem, pem_len, err, errlen);
    if (pkey == NULL)
        return -1;
    r->keys[r->count].version = version;
    r->keys[r->count].from_index = from_index;
    r->keys[r->count].pkey = pkey;
    r->count++;
    return 0;
}

size_t zl_keyring_count(const zl_keyring *r)
{
    return r == NULL ? 0 : r->count;
}

uint32_t zl_keyring_newest_version(const zl_keyring *r)
{
    return r == NULL || r->count == 0 ? 0 : r->keys[r->count - 1].version;
}

/* The key in effect at index i (see zl_keyring_version_at), or NULL when r is empty. */
static const ring_key *key_at(const zl_keyring *r, size_t i)
{
    if (r == NULL || r->count == 0)
        return NULL;
    for (size_t j = r->count; j-- > 0;)
        if (r->keys[j].from_index <= i)
            return &r->keys[j];
    return &r->keys[0];
}

uint32_t zl_keyring_version_at(const zl_keyring *r, size_t i)
{
    const ring_key *key = key_at(r, i);

    return key == NULL ? 0 : key->version;
}

/* ---- visibility and walks ---- */

/* Whether p is an employee of c inside s with at least edition `need`. */
static bool party_in_scope(zl_corp *c, const zl_scope *s, const zl_party *p, int need)
{
    const zl_member *mb;

    if (p->type != ZL_PARTY_EMPLOYEE)
        return false;
    mb = zl_corp_member(c, p->id);
    return mb != NULL && zl_scope_has(c, s, mb) && mb->edition >= need;
}

bool zl_msg_visible(zl_corp *c, const zl_scope *s, const zl_message *m)
{
    int need = 1;

    if (c == NULL || m == NULL)
        return false;
    if (m->sender.type == ZL_PARTY_EXTERNAL)
        need = 2;
    for (uint32_t i = 0; i < m->receiver_count && need < 2; i++)
        if (m->receivers[i].type == ZL_PARTY_EXTERNAL)
            need = 2;
    if (m->msgtype == 21 || m->msgtype == 22)
        need = 3;
    if (party_in_scope(c, s, &m->sender, need))
        return true;
    for (uint32_t i = 0; i < m->receiver_count; i++)
        if (party_in_scope(c, s, &m->receivers[i], need))
            return true;
    return false;
}

size_t zl_sync_start(const zl_corp *c, int64_t now_s, int64_t window_s, const uint64_t *cursor_pos,
                     int64_t begin_time)
{
    size_t count;
    size_t window;
    int64_t from;

    if (c == NULL || c->messages == NULL)
        return 0;
    count = zl_msgstore_count(c->messages);
    if (window_s < 0)
        window_s = 0;
    from = now_s < INT64_MIN + window_s ? INT64_MIN : now_s - window_s;
    window = zl_msgstore_first_at_or_after(c->messages, from);
    if (cursor_pos != NULL) {
        if (*cursor_pos < window)
            return window;
        return *cursor_pos > count ? count : (size_t)*cursor_pos;
    }
    if (begin_time > 0 && begin_time > from)
        return zl_msgstore_first_at_or_after(c->messages, begin_time);
    return window;
}

size_t zl_sync_collect(zl_corp *c, const zl_scope *s, size_t start, size_t limit, int64_t now_s,
                       size_t max_scan, size_t *idx, size_t *next, int *has_more)
{
    size_t count = c == NULL || c->messages == NULL ? 0 : zl_msgstore_count(c->messages);
    size_t i = start;
    size_t n = 0;
    size_t scanned = 0;
    int more = 0;

    for (;;) {
        const zl_message *m = i < count ? zl_msgstore_at(c->messages, i) : NULL;

        if (m == NULL || m->send_time > now_s)
            break; /* end of the archive, or not archived yet at now_s */
        if (n == limit || scanned == max_scan) {
            more = 1;
            break;
        }
        scanned++;
        if (zl_msg_visible(c, s, m))
            idx[n++] = i;
        i++;
    }
    if (next != NULL)
        *next = i;
    if (has_more != NULL)
        *has_more = more;
    return n;
}

/* ---- reply items ---- */

/* {type, id} of p, or NULL when memory runs out. */
static cJSON *party_json(const zl_party *p)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL || cJSON_AddNumberToObject(o, "type", p->type) == NULL ||
        cJSON_AddStringToObject(o, "id", p->id) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *zl_sync_item(zl_corp *c, size_t i, const zl_keyring *ring, char *err, size_t errlen)
{
    const zl_message *m;
    const ring_key *key;
    cJSON *item = NULL;
    cJSON *o;
    cJSON *list;
    char *b64 = NULL;
    bool ok = false;

    m = c == NULL || c->messages == NULL ? NULL : zl_msgstore_at(c->messages, i);
    if (m == NULL) {
        zl_err_set(err, errlen, "message index %zu is out of range (the archive holds %zu)", i,
                   c == NULL || c->messages == NULL ? (size_t)0 : zl_msgstore_count(c->messages));
        return NULL;
    }
    key = key_at(ring, i);
    if (key == NULL) {
        zl_err_set(err, errlen,
                   "the app has no public key; set one (public_key_ver 1 or later) before "
                   "fetching messages");
        return NULL;
    }
    if (zl_msgkey_encrypt_pkey(key->pkey, (const unsigned char *)m->secret_key,
                               strlen(m->secret_key), &b64, err, errlen) != 0)
        return NULL;

    item = cJSON_CreateObject();
    if (item == NULL || cJSON_AddStringToObject(item, "msgid", m->msgid) == NULL)
        goto out;
    o = party_json(&m->sender);
    if (o == NULL)
        goto out;
    if (!cJSON_AddItemToObject(item, "sender", o)) {
        cJSON_Delete(o);
        goto out;
    }
    list = cJSON_AddArrayToObject(item, "receiver_list");
    if (list == NULL)
        goto out;
    for (uint32_t r = 0; r < m->receiver_count; r++) {
        o = party_json(&m->receivers[r]);
        if (o == NULL)
            goto out;
        if (!cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            goto out;
        }
    }
    if (m->chatid[0] != '\0' && cJSON_AddStringToObject(item, "chatid", m->chatid) == NULL)
        goto out;
    if (cJSON_AddNumberToObject(item, "send_time", (double)m->send_time) == NULL ||
        cJSON_AddNumberToObject(item, "msgtype", m->msgtype) == NULL)
        goto out;
    o = cJSON_AddObjectToObject(item, "service_encrypt_info");
    if (o == NULL || cJSON_AddStringToObject(o, "encrypted_secret_key", b64) == NULL ||
        cJSON_AddNumberToObject(o, "public_key_ver", key->version) == NULL)
        goto out;
    if (m->msgtype == 21 || m->msgtype == 22) {
        o = cJSON_AddObjectToObject(item, "extra_info");
        if (o == NULL || cJSON_AddNumberToObject(o, "call_duration", m->call_duration) == NULL)
            goto out;
    }
    ok = true;
out:
    if (!ok) {
        zl_err_set(err, errlen, "message \"%s\": out of memory building the sync_msg item",
                   m->msgid);
        cJSON_Delete(item);
        item = NULL;
    }
    free(b64);
    return item;
}
