/* msgsync: sync_msg over one corp's archive: cursors, window, visibility, pages, reply items. */
#include "wecom/msgsync.h"

#include "wecom/msgkey.h"
#include "core/err.h"
#include "b64.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* zl_sync_prepare: threads at most (the calling one included), and the fewest messages
 * worth starting threads for. */
#define ZL_SYNC_MAKERS      8
#define ZL_SYNC_PREPARE_MIN 32

/* Messages per block of kept ciphertexts; a block is allocated on its first use. */
#define KEPT_BLOCK 1024

/* The ciphertexts one key made for the messages of one range of KEPT_BLOCK indexes. */
typedef struct kept_block {
    uint64_t have[KEPT_BLOCK / 64]; /* bit j: ct[j] holds message (block start + j)'s */
    unsigned char ct[KEPT_BLOCK][ZL_MSGKEY_CT_LEN];
} kept_block;

typedef struct ring_key {
    uint32_t version;
    size_t from_index;
    EVP_PKEY *pkey;
    kept_block **kept; /* kept[i / KEPT_BLOCK], NULL until a message of that range is wrapped */
    size_t kept_len;   /* entries of kept */
    size_t kept_count; /* ciphertexts held */
    size_t kept_blocks;
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
    for (size_t i = 0; i < r->count; i++) {
        for (size_t b = 0; b < r->keys[i].kept_len; b++)
            free(r->keys[i].kept[b]);
        free(r->keys[i].kept);
        EVP_PKEY_free(r->keys[i].pkey);
    }
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
    r->keys[r->count] = (ring_key){.version = version, .from_index = from_index, .pkey = pkey};
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

void zl_keyring_kept(const zl_keyring *r, size_t *count, size_t *bytes)
{
    size_t n = 0, b = 0;

    for (size_t i = 0; r != NULL && i < r->count; i++) {
        n += r->keys[i].kept_count;
        b += r->keys[i].kept_blocks * sizeof(kept_block) + r->keys[i].kept_len * sizeof(void *);
    }
    if (count != NULL)
        *count = n;
    if (bytes != NULL)
        *bytes = b;
}

/* The key in effect at index i (see zl_keyring_version_at), or NULL when r is empty. */
static ring_key *key_at(const zl_keyring *r, size_t i)
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

/* ---- encrypted secret keys, made once per (key, message) ---- */

/*
 * The ciphertext of m's (index i) secret key under key: made on the first call and kept in
 * the key's blocks, so every later sync of m answers the same encrypted_secret_key without
 * an RSA operation (docs/emulator.md, choices). Returns it (ZL_MSGKEY_CT_LEN bytes, owned by
 * the key), or NULL with err filled.
 */
static const unsigned char *kept_ct(ring_key *key, size_t i, const zl_message *m, char *err,
                                    size_t errlen)
{
    size_t b = i / KEPT_BLOCK, j = i % KEPT_BLOCK, len = 0;
    uint64_t bit = (uint64_t)1 << (j % 64);
    kept_block *blk;

    if (b >= key->kept_len) {
        size_t n = key->kept_len ? key->kept_len : 16;
        kept_block **kept;

        while (n <= b)
            n *= 2;
        if (!(kept = realloc(key->kept, n * sizeof *kept))) {
            zl_err_set(err, errlen, "message \"%s\": out of memory keeping its key", m->msgid);
            return NULL;
        }
        memset(kept + key->kept_len, 0, (n - key->kept_len) * sizeof *kept);
        key->kept = kept;
        key->kept_len = n;
    }
    if (!(blk = key->kept[b])) {
        if (!(blk = malloc(sizeof *blk))) {
            zl_err_set(err, errlen, "message \"%s\": out of memory keeping its key", m->msgid);
            return NULL;
        }
        memset(blk->have, 0, sizeof blk->have);
        key->kept[b] = blk;
        key->kept_blocks++;
    }
    if (blk->have[j / 64] & bit)
        return blk->ct[j];
    if (zl_msgkey_encrypt_raw(key->pkey, (const unsigned char *)m->secret_key,
                              strlen(m->secret_key), blk->ct[j], ZL_MSGKEY_CT_LEN, &len, err,
                              errlen) != 0)
        return NULL;
    if (len != ZL_MSGKEY_CT_LEN) {
        zl_err_set(err, errlen, "message \"%s\": the key made a %zu-byte ciphertext", m->msgid,
                   len);
        return NULL;
    }
    blk->have[j / 64] |= bit;
    key->kept_count++;
    return blk->ct[j];
}

/* One share of zl_sync_prepare's work: RSA for want[from..to), each into its own slot. */
typedef struct make_share {
    const zl_message **msg;
    EVP_PKEY **pkey;
    unsigned char **slot;
    unsigned char *made; /* 1 when slot holds the ciphertext */
    size_t from, to;
    pthread_t thread;
    bool started;
} make_share;

static void *make_run(void *ud)
{
    make_share *sh = ud;
    EVP_PKEY *cur = NULL;
    EVP_PKEY_CTX *ctx = NULL; /* this thread's, for cur: one set-up per key, not per message */
    size_t len;

    for (size_t k = sh->from; k < sh->to; k++) {
        if (sh->pkey[k] != cur || ctx == NULL) {
            EVP_PKEY_CTX_free(ctx);
            ctx = zl_msgkey_encrypt_ctx(cur = sh->pkey[k]);
        }
        sh->made[k] = zl_msgkey_encrypt_with(ctx, (const unsigned char *)sh->msg[k]->secret_key,
                                             strlen(sh->msg[k]->secret_key), sh->slot[k],
                                             ZL_MSGKEY_CT_LEN, &len, NULL, 0) == 0 &&
                      len == ZL_MSGKEY_CT_LEN;
    }
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

void zl_sync_prepare(zl_corp *c, const size_t *idx, size_t n, zl_keyring *ring)
{
    const zl_message **msg = NULL;
    EVP_PKEY **pkey = NULL;
    unsigned char **slot = NULL, *made = NULL;
    ring_key **key = NULL;
    size_t *at = NULL, want = 0, shares;
    make_share sh[ZL_SYNC_MAKERS];
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char err[8];

    if (n < ZL_SYNC_PREPARE_MIN || ring == NULL || ring->count == 0)
        return;
    msg = malloc(n * sizeof *msg);
    pkey = malloc(n * sizeof *pkey);
    slot = malloc(n * sizeof *slot);
    made = calloc(n, 1);
    key = malloc(n * sizeof *key);
    at = malloc(n * sizeof *at);
    if (!msg || !pkey || !slot || !made || !key || !at)
        goto out;
    /* The slots, made here on the calling thread (blocks allocated, index grown). */
    for (size_t k = 0; k < n; k++) {
        const zl_message *m = c->messages ? zl_msgstore_at(c->messages, idx[k]) : NULL;
        ring_key *rk = key_at(ring, idx[k]);
        size_t b = idx[k] / KEPT_BLOCK, j = idx[k] % KEPT_BLOCK;
        kept_block *blk;

        if (m == NULL || rk == NULL)
            continue;
        if (b < rk->kept_len && (blk = rk->kept[b]) && (blk->have[j / 64] >> (j % 64) & 1))
            continue;
        /* A message whose block is missing, or a key's first, is made here by kept_ct (it
         * allocates the block): every key is used once on this thread before a worker
         * shares it. */
        if (rk->kept_count == 0 || b >= rk->kept_len || !rk->kept[b]) {
            if (!kept_ct(rk, idx[k], m, err, sizeof err))
                goto out;
            continue;
        }
        msg[want] = m;
        pkey[want] = rk->pkey;
        slot[want] = rk->kept[b]->ct[j];
        key[want] = rk;
        at[want] = idx[k];
        want++;
    }
    shares = cpus < 1 ? 1 : cpus > ZL_SYNC_MAKERS ? ZL_SYNC_MAKERS : (size_t)cpus;
    if (want < ZL_SYNC_PREPARE_MIN)
        shares = 1;
    for (size_t t = 0; t < shares; t++) {
        sh[t] = (make_share){.msg = msg,
                             .pkey = pkey,
                             .slot = slot,
                             .made = made,
                             .from = want * t / shares,
                             .to = want * (t + 1) / shares};
        if (t > 0)
            sh[t].started = pthread_create(&sh[t].thread, NULL, make_run, &sh[t]) == 0;
    }
    make_run(&sh[0]);
    for (size_t t = 1; t < shares; t++) {
        if (sh[t].started)
            pthread_join(sh[t].thread, NULL);
        else
            make_run(&sh[t]); /* no thread: this one does the share */
    }
    for (size_t k = 0; k < want; k++) {
        size_t j = at[k] % KEPT_BLOCK;

        if (!made[k])
            continue; /* zl_sync_item_write tries again and reports */
        key[k]->kept[at[k] / KEPT_BLOCK]->have[j / 64] |= (uint64_t)1 << (j % 64);
        key[k]->kept_count++;
    }
out:
    free(msg);
    free(pkey);
    free(slot);
    free(made);
    free(key);
    free(at);
}

/* The message at index i and its key, with its encrypted secret key as base64 in b64
 * (ZL_ITEM_B64 bytes). Returns the message, or NULL with err filled. */
#define ZL_ITEM_B64 (4 * ((ZL_MSGKEY_CT_LEN + 2) / 3) + 1)
static const zl_message *item_parts(zl_corp *c, size_t i, zl_keyring *ring, const ring_key **keyp,
                                    char *b64, char *err, size_t errlen)
{
    const zl_message *m;
    const unsigned char *ct;
    ring_key *key;

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
    if (!(ct = kept_ct(key, i, m, err, errlen)))
        return NULL;
    zone_b64_encode_to(b64, ct, ZL_MSGKEY_CT_LEN);
    *keyp = key;
    return m;
}

/* ---- reply items as a cJSON tree ---- */

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

cJSON *zl_sync_item(zl_corp *c, size_t i, zl_keyring *ring, char *err, size_t errlen)
{
    const zl_message *m;
    const ring_key *key = NULL;
    cJSON *item = NULL;
    cJSON *o;
    cJSON *list;
    char b64[ZL_ITEM_B64];
    bool ok = false;

    if (!(m = item_parts(c, i, ring, &key, b64, err, errlen)))
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
    return item;
}

/* ---- reply items written as text, as cJSON_PrintUnformatted prints the tree ---- */

#define PUT_LIT(b, lit) zl_sbuf_add((b), (lit), sizeof(lit) - 1)

/* s as a JSON string, escaped as cJSON 1.7 escapes it: the two-character escapes for '"',
 * '\\', '\b', '\f', '\n', '\r', '\t', \u00XX (lower hex) for the other bytes below 32, every
 * other byte (0x7f, UTF-8) as is. */
static void put_str(zl_sbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;

    PUT_LIT(b, "\"");
    for (; *p; p++) {
        char esc[8];

        if (*p >= 32 && *p != '"' && *p != '\\')
            continue;
        zl_sbuf_add(b, (const char *)run, (size_t)(p - run));
        run = p + 1;
        switch (*p) {
        case '"':
            PUT_LIT(b, "\\\"");
            break;
        case '\\':
            PUT_LIT(b, "\\\\");
            break;
        case '\b':
            PUT_LIT(b, "\\b");
            break;
        case '\f':
            PUT_LIT(b, "\\f");
            break;
        case '\n':
            PUT_LIT(b, "\\n");
            break;
        case '\r':
            PUT_LIT(b, "\\r");
            break;
        case '\t':
            PUT_LIT(b, "\\t");
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            zl_sbuf_add(b, esc, 6);
        }
    }
    zl_sbuf_add(b, (const char *)run, (size_t)(p - run));
    PUT_LIT(b, "\"");
}

/* d as cJSON 1.7 prints a number: "%d" when d equals its int conversion (saturated at
 * INT_MIN/INT_MAX), else "%1.15g" when that reads back as d, else "%1.17g". */
static void put_num(zl_sbuf *b, double d)
{
    char n[32], *e = n + sizeof n;
    double back = 0;
    int len;

    if (isnan(d) || isinf(d)) {
        PUT_LIT(b, "null");
        return;
    }
    if (d < (double)INT_MAX && d > (double)INT_MIN ? d == (double)(int)d
                                                   : d == (double)INT_MAX || d == (double)INT_MIN) {
        long long v = (long long)d;
        unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

        do
            *--e = (char)('0' + u % 10);
        while ((u /= 10) != 0);
        if (v < 0)
            *--e = '-';
        zl_sbuf_add(b, e, (size_t)(n + sizeof n - e));
        return;
    }
    len = snprintf(n, sizeof n, "%1.15g", d);
    if (sscanf(n, "%lg", &back) != 1 ||
        fabs(back - d) > (fabs(back) > fabs(d) ? fabs(back) : fabs(d)) * DBL_EPSILON)
        len = snprintf(n, sizeof n, "%1.17g", d);
    zl_sbuf_add(b, n, (size_t)len);
}

static void put_party(zl_sbuf *b, const zl_party *p)
{
    PUT_LIT(b, "{\"type\":");
    put_num(b, p->type);
    PUT_LIT(b, ",\"id\":");
    put_str(b, p->id);
    PUT_LIT(b, "}");
}

int zl_sync_item_write(zl_corp *c, size_t i, zl_keyring *ring, zl_sbuf *out, char *err,
                       size_t errlen)
{
    const zl_message *m;
    const ring_key *key = NULL;
    char b64[ZL_ITEM_B64];

    if (!(m = item_parts(c, i, ring, &key, b64, err, errlen)))
        return -1;
    PUT_LIT(out, "{\"msgid\":");
    put_str(out, m->msgid);
    PUT_LIT(out, ",\"sender\":");
    put_party(out, &m->sender);
    PUT_LIT(out, ",\"receiver_list\":[");
    for (uint32_t r = 0; r < m->receiver_count; r++) {
        if (r)
            PUT_LIT(out, ",");
        put_party(out, &m->receivers[r]);
    }
    PUT_LIT(out, "]");
    if (m->chatid[0] != '\0') {
        PUT_LIT(out, ",\"chatid\":");
        put_str(out, m->chatid);
    }
    PUT_LIT(out, ",\"send_time\":");
    put_num(out, (double)m->send_time);
    PUT_LIT(out, ",\"msgtype\":");
    put_num(out, m->msgtype);
    PUT_LIT(out, ",\"service_encrypt_info\":{\"encrypted_secret_key\":\"");
    zl_sbuf_add(out, b64, ZL_ITEM_B64 - 1);
    PUT_LIT(out, "\",\"public_key_ver\":");
    put_num(out, key->version);
    PUT_LIT(out, "}");
    if (m->msgtype == 21 || m->msgtype == 22) {
        PUT_LIT(out, ",\"extra_info\":{\"call_duration\":");
        put_num(out, m->call_duration);
        PUT_LIT(out, "}");
    }
    PUT_LIT(out, "}");
    if (out->oom) {
        zl_err_set(err, errlen, "message \"%s\": out of memory writing the sync_msg item",
                   m->msgid);
        return -1;
    }
    return 0;
}
