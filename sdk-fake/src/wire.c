/* wire: zone wire v1 (HKDF keys, ww-* headers, HMAC-SHA256, AES-256-GCM, envelopes). */
#include "wire.h"

#include "b64.h"

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const struct {
    const char *text;
    int sdk;
} results[] = {
#define ZONE_WIRE_ROW(name, text, sdk) {text, sdk},
    ZONE_WIRE_RESULTS(ZONE_WIRE_ROW)
#undef ZONE_WIRE_ROW
};
#define NRESULTS (sizeof results / sizeof results[0])

const char *zone_wire_strerror(int result)
{
    return result >= 0 && (size_t)result < NRESULTS ? results[result].text : "unknown result";
}

int zone_wire_sdk_code(int result)
{
    return result >= 0 && (size_t)result < NRESULTS ? results[result].sdk : -10001;
}

static int say(char *detail, size_t n, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int say(char *detail, size_t n, int rc, const char *fmt, ...)
{
    if (detail != NULL && n > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int hkdf(const unsigned char *ikm, size_t ikm_len, const char *info, unsigned char out[32])
{
    static const char salt[] = "zonelab wire v1";
    int ok = 0;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (ctx != NULL) {
        OSSL_PARAM p[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t) "SHA256",
                                             0),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)ikm, ikm_len),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)salt,
                                              sizeof salt - 1),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info,
                                              strlen(info)),
            OSSL_PARAM_construct_end()};
        ok = EVP_KDF_derive(ctx, out, 32, p) == 1;
    }
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok;
}

int zone_wire_keys_init(zone_wire_keys *k, const char *secret_b64, uint32_t version)
{
    unsigned char *secret = NULL;
    size_t len = 0;
    memset(k, 0, sizeof *k);
    if (secret_b64 == NULL || strlen(secret_b64) != 44 ||
        zone_b64_decode(secret_b64, 44, &secret, &len) != 0 || len != 32) {
        free(secret);
        return ZONE_WIRE_ERR_BAD_SECRET;
    }
    k->version = version;
    int ok = hkdf(secret, 32, "sign", k->sign) && hkdf(secret, 32, "enc", k->enc);
    OPENSSL_cleanse(secret, len);
    free(secret);
    return ok ? ZONE_WIRE_OK : ZONE_WIRE_ERR_INTERNAL;
}

static time_t env_now(const zone_wire_env *env)
{
    return env != NULL && env->now != NULL ? env->now(env->ud) : time(NULL);
}

/* The HMAC and AES-256-GCM implementations, fetched once per process (each implicit fetch
 * costs a look-up in OpenSSL's method store, per message). NULL when the fetch failed. */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac_impl;
static EVP_CIPHER *gcm_impl;

static void fetch_impls(void)
{
    hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
    gcm_impl = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

static EVP_MAC *hmac(void)
{
    pthread_once(&fetch_once, fetch_impls);
    return hmac_impl;
}

static const EVP_CIPHER *gcm(void)
{
    pthread_once(&fetch_once, fetch_impls);
    return gcm_impl;
}

/*
 * Per thread, the contexts of the keys last used: an HMAC context keyed with the sign key, and
 * AES-256-GCM contexts holding the enc key's schedule for sealing and for opening. Most messages
 * on a thread use the keys of the message before, and then skip the key set-up (HMAC's pads,
 * the digest fetched by name, the AES key schedule) and the context allocations. Freed with
 * the thread (the main thread's live until exit, as reachable memory).
 */
typedef struct wire_tls {
    EVP_MAC_CTX *mac;
    EVP_CIPHER_CTX *seal, *open;
    unsigned char mac_key[32], seal_key[32], open_key[32];
    int mac_keyed, seal_keyed, open_keyed; /* whether the context holds the key beside it */
} wire_tls;

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
static int tls_ok;

static void tls_free(void *p)
{
    wire_tls *t = p;

    EVP_MAC_CTX_free(t->mac);
    EVP_CIPHER_CTX_free(t->seal);
    EVP_CIPHER_CTX_free(t->open);
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}

static void tls_init(void)
{
    tls_ok = pthread_key_create(&tls_key, tls_free) == 0;
}

/* This thread's contexts (made on first use), or NULL when memory ran out. */
static wire_tls *tls(void)
{
    wire_tls *t;

    pthread_once(&tls_once, tls_init);
    if (!tls_ok)
        return NULL;
    if ((t = pthread_getspecific(tls_key)) != NULL)
        return t;
    if (!(t = calloc(1, sizeof *t)))
        return NULL;
    if (pthread_setspecific(tls_key, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

/* The thread's HMAC context, initialised with key (32 bytes) for a new message; NULL on
 * failure. */
static EVP_MAC_CTX *mac_ctx(const unsigned char *key)
{
    wire_tls *t = tls();
    EVP_MAC *mac = hmac();
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t) "SHA256", 0),
        OSSL_PARAM_construct_end()};

    if (t == NULL || mac == NULL || (t->mac == NULL && !(t->mac = EVP_MAC_CTX_new(mac))))
        return NULL;
    if (t->mac_keyed && memcmp(t->mac_key, key, 32) == 0 && EVP_MAC_init(t->mac, NULL, 0, NULL))
        return t->mac;
    t->mac_keyed = 0;
    if (!EVP_MAC_init(t->mac, key, 32, p))
        return NULL;
    memcpy(t->mac_key, key, 32);
    t->mac_keyed = 1;
    return t->mac;
}

/* The thread's AES-256-GCM context for sealing (enc 1) or opening (enc 0), initialised with
 * key (32 bytes) and iv (12 bytes); NULL on failure. */
static EVP_CIPHER_CTX *gcm_ctx(int enc, const unsigned char *key, const unsigned char *iv)
{
    wire_tls *t = tls();
    const EVP_CIPHER *cipher = gcm();
    EVP_CIPHER_CTX **ctx;
    unsigned char *held;
    int *keyed;

    if (t == NULL || cipher == NULL)
        return NULL;
    ctx = enc ? &t->seal : &t->open;
    held = enc ? t->seal_key : t->open_key;
    keyed = enc ? &t->seal_keyed : &t->open_keyed;
    if (*ctx == NULL && !(*ctx = EVP_CIPHER_CTX_new()))
        return NULL;
    if (*keyed && memcmp(held, key, 32) == 0 && EVP_CipherInit_ex(*ctx, NULL, NULL, NULL, iv, enc))
        return *ctx;
    *keyed = 0;
    if (!EVP_CipherInit_ex(*ctx, cipher, NULL, key, iv, enc))
        return NULL;
    memcpy(held, key, 32);
    *keyed = 1;
    return *ctx;
}

int zone_wire_sign(const zone_wire_keys *k, const char *method, const char *path, const char *ts,
                   const char *nonce, const char *ver, const char *body, size_t body_len,
                   char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    size_t md_len = 0;
    int ok = 0;
    EVP_MAC_CTX *ctx = mac_ctx(k->sign);

    if (ctx != NULL) {
        const char *parts[] = {"ZW1", method, path, ts, nonce, ver};
        ok = 1;
        for (size_t i = 0; i < 6 && ok; i++)
            ok = EVP_MAC_update(ctx, (const unsigned char *)parts[i], strlen(parts[i])) &&
                 EVP_MAC_update(ctx, (const unsigned char *)"\n", 1);
        ok = ok && EVP_MAC_update(ctx, (const unsigned char *)body, body_len) &&
             EVP_MAC_final(ctx, md, &md_len, sizeof md) && md_len == 32;
    }
    if (!ok)
        return ZONE_WIRE_ERR_INTERNAL;
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return ZONE_WIRE_OK;
}

/*
 * Seals the plaintext that sits at buf + 12 (len bytes; buf has 28 bytes more than len, for
 * the iv before it and the tag after it): encrypts it in place, then writes the base64 of the
 * whole into *body (owned; *body_len bytes, NUL-terminated) and signs it into h.
 */
static int seal_in_place(const zone_wire_keys *k, const zone_wire_env *env, const char *method,
                         const char *path, unsigned char *buf, size_t len,
                         zone_wire_sealed_headers *h, char **body, size_t *body_len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char nonce_raw[16];
    char *b64 = NULL;
    EVP_CIPHER_CTX *ctx;
    int rc = ZONE_WIRE_ERR_INTERNAL, n = 0, fin = 0, blen;

    *body = NULL;
    *body_len = 0;
    if (len > ZONE_WIRE_MAX_BODY / 4 * 3 - 28)
        return ZONE_WIRE_ERR_TOO_LARGE;
    if (env != NULL && env->random != NULL) {
        if (env->random(env->ud, buf, 12) != 0 || env->random(env->ud, nonce_raw, 16) != 0)
            goto out;
    } else { /* one draw for both: each costs the DRBG's locking and reseed check */
        unsigned char r[28];

        if (RAND_bytes(r, (int)sizeof r) != 1)
            goto out;
        memcpy(buf, r, 12);
        memcpy(nonce_raw, r + 12, 16);
    }
    ctx = gcm_ctx(1, k->enc, buf);
    if (ctx == NULL || !EVP_EncryptUpdate(ctx, buf + 12, &n, buf + 12, (int)len) ||
        !EVP_EncryptFinal_ex(ctx, buf + 12 + n, &fin) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, buf + 12 + len))
        goto out;
    if (!(b64 = malloc((len + 28 + 2) / 3 * 4 + 1)))
        goto out;
    blen = (int)zone_b64_encode_to(b64, buf, len + 28);
    snprintf(h->secret_ver, sizeof h->secret_ver, "%u", (unsigned)k->version);
    snprintf(h->timestamp, sizeof h->timestamp, "%lld", (long long)env_now(env));
    for (size_t i = 0; i < 16; i++) {
        h->nonce[2 * i] = hex[nonce_raw[i] >> 4];
        h->nonce[2 * i + 1] = hex[nonce_raw[i] & 15];
    }
    h->nonce[32] = '\0';
    rc = zone_wire_sign(k, method, path, h->timestamp, h->nonce, h->secret_ver, b64, (size_t)blen,
                        h->signature);
    if (rc != ZONE_WIRE_OK)
        goto out;
    *body = b64;
    *body_len = (size_t)blen;
    b64 = NULL;
out:
    free(b64);
    return rc;
}

int zone_wire_seal(const zone_wire_keys *k, const zone_wire_env *env, const char *method,
                   const char *path, const char *plaintext, size_t len, zone_wire_sealed_headers *h,
                   char **body)
{
    unsigned char *buf;
    size_t blen;
    int rc;

    *body = NULL;
    if (len > ZONE_WIRE_MAX_BODY / 4 * 3 - 28)
        return ZONE_WIRE_ERR_TOO_LARGE;
    if (!(buf = malloc(len + 28)))
        return ZONE_WIRE_ERR_INTERNAL;
    memcpy(buf + 12, plaintext, len);
    rc = seal_in_place(k, env, method, path, buf, len, h, body, &blen);
    free(buf);
    return rc;
}

/* The escaped form of byte c inside a JSON string, as cJSON prints it: its length, and the
 * text in out (up to 6 bytes) when out is not NULL. 1 means the byte itself. */
static size_t escape_byte(unsigned char c, char *out)
{
    static const char hex[] = "0123456789abcdef";
    char e = c == '"'    ? '"'
             : c == '\\' ? '\\'
             : c == '\b' ? 'b'
             : c == '\f' ? 'f'
             : c == '\n' ? 'n'
             : c == '\r' ? 'r'
             : c == '\t' ? 't'
                         : 0;

    if (c >= 32 && e == 0)
        return 1;
    if (out == NULL)
        return e ? 2 : 6;
    out[0] = '\\';
    if (e) {
        out[1] = e;
        return 2;
    }
    memcpy(out + 1, "u00", 3);
    out[4] = hex[c >> 4];
    out[5] = hex[c & 15];
    return 6;
}

#define REPLY_HEAD      "{\"response\":\""
#define REPLY_TAIL      "\"}"
#define REPLY_TAIL_EXC  "\",\"exception\":true}"
#define CONST_LEN(text) (sizeof text - 1)

/* The bytes a JSON string's escape grows by (escape_byte's length - 1), per byte; filled
 * once. 0 for the bytes that stand for themselves. */
static pthread_once_t grow_once = PTHREAD_ONCE_INIT;
static unsigned char grow_by[256];

static void fill_grow_by(void)
{
    for (int c = 0; c < 256; c++)
        grow_by[c] = (unsigned char)(escape_byte((unsigned char)c, NULL) - 1);
}

/*
 * The length of the run at p (n bytes) of bytes that stand for themselves in a JSON string:
 * up to the first '"', '\\' or byte below 0x20, or n. Sixteen bytes a step where SSE2 is
 * there (a page of sync_msg has a quote every dozen bytes or so, and long runs between).
 */
static size_t plain_run(const unsigned char *p, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1f);

    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v)); /* v <= 0x1f, unsigned */
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);

        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#endif
    while (i < n && !grow_by[p[i]])
        i++;
    return i;
}

size_t zone_wire_reply_size(const char *response, size_t len, int exception)
{
    const unsigned char *p = (const unsigned char *)response;
    size_t n = CONST_LEN(REPLY_HEAD) + len +
               (exception ? CONST_LEN(REPLY_TAIL_EXC) : CONST_LEN(REPLY_TAIL));

    size_t i = 0;

    pthread_once(&grow_once, fill_grow_by);
#ifdef __SSE2__
    /* a quote or backslash grows by 1; a control byte's growth from the table */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1f);

    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned qb = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
        unsigned c = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));

        n += (size_t)__builtin_popcount(qb);
        for (; c; c &= c - 1)
            n += grow_by[p[i + (size_t)__builtin_ctz(c)]];
    }
#endif
    for (; i < len; i++)
        n += grow_by[p[i]];
    return n;
}

size_t zone_wire_reply_write(const char *response, size_t len, int exception, char *out)
{
    const unsigned char *p = (const unsigned char *)response;
    char *o = out;

    pthread_once(&grow_once, fill_grow_by);
    memcpy(o, REPLY_HEAD, CONST_LEN(REPLY_HEAD));
    o += CONST_LEN(REPLY_HEAD);
    for (size_t i = 0; i < len;) {
        size_t run = plain_run(p + i, len - i);

        memcpy(o, p + i, run);
        o += run;
        i += run;
        if (i < len)
            o += escape_byte(p[i++], o);
    }
    if (exception) {
        memcpy(o, REPLY_TAIL_EXC, CONST_LEN(REPLY_TAIL_EXC));
        o += CONST_LEN(REPLY_TAIL_EXC);
    } else {
        memcpy(o, REPLY_TAIL, CONST_LEN(REPLY_TAIL));
        o += CONST_LEN(REPLY_TAIL);
    }
    return (size_t)(o - out);
}

int zone_wire_seal_reply(const zone_wire_keys *k, const zone_wire_env *env, const char *path,
                         const char *response, size_t len, int exception,
                         zone_wire_sealed_headers *h, char **body, size_t *body_len)
{
    size_t n = zone_wire_reply_size(response, len, exception);
    unsigned char *buf;
    int rc;

    *body = NULL;
    *body_len = 0;
    if (n > ZONE_WIRE_MAX_BODY / 4 * 3 - 28)
        return ZONE_WIRE_ERR_TOO_LARGE;
    if (!(buf = malloc(n + 28)))
        return ZONE_WIRE_ERR_INTERNAL;
    zone_wire_reply_write(response, len, exception, (char *)buf + 12);
    rc = seal_in_place(k, env, ZONE_WIRE_REPLY_METHOD, path, buf, n, h, body, body_len);
    free(buf);
    return rc;
}

/* Replay cache: a hash set of nonces with their timestamps, pruned as the window moves. The
 * buckets keep chains short up to a full cache (with 1024, a check walked 40 entries after
 * 40000 callbacks, a tenth of a trivial program's CPU, and 200 when full); calloc'ed, so
 * their pages are touched only as nonces land in them.
 *
 * Its memory is bounded: at max entries (200,000: 667 callbacks a second over the whole
 * window) one sweep drops what has left the window, and then the oldest seconds until a tenth
 * is free; those seconds become the floor, and a message signed at or before the floor is
 * refused as a possible replay, since the cache can no longer tell. Messages are signed as
 * they are sent, so the floor stays behind them unless more than max arrive within a second. */
#define NBUCKETS    (1u << 15)
#define MAX_ENTRIES 200000
struct entry {
    struct entry *next;
    time_t ts;
    char nonce[33];
};
struct zone_wire_replay {
    pthread_mutex_t lock;
    struct entry *b[NBUCKETS];
    size_t count, max;
    time_t floor; /* at or before it: refused (0: none yet) */
};

zone_wire_replay *zone_wire_replay_new_max(size_t max)
{
    zone_wire_replay *r = calloc(1, sizeof *r);
    if (r != NULL && pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return NULL;
    }
    if (r != NULL)
        r->max = max > 10 ? max : 10;
    return r;
}

zone_wire_replay *zone_wire_replay_new(void)
{
    return zone_wire_replay_new_max(MAX_ENTRIES);
}

void zone_wire_replay_free(zone_wire_replay *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < NBUCKETS; i++)
        for (struct entry *e = r->b[i], *next; e != NULL; e = next) {
            next = e->next;
            free(e);
        }
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static size_t hash(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % NBUCKETS;
}

/* Drops every entry signed at or before cut; returns how many went. */
static size_t replay_drop(zone_wire_replay *r, time_t cut)
{
    size_t gone = 0;
    for (size_t i = 0; i < NBUCKETS; i++)
        for (struct entry **pp = &r->b[i]; *pp != NULL;) {
            struct entry *e = *pp;
            if (e->ts <= cut) {
                *pp = e->next;
                free(e);
                gone++;
            } else {
                pp = &e->next;
            }
        }
    r->count -= gone;
    return gone;
}

/* The cache is full: what left the window goes, then the oldest seconds, until a tenth of it
 * is free; those seconds are the floor. */
static void replay_make_room(zone_wire_replay *r, time_t now)
{
    replay_drop(r, now - ZONE_WIRE_WINDOW - 1);
    while (r->count > r->max - r->max / 10) {
        time_t oldest = 0;
        int any = 0;
        for (size_t i = 0; i < NBUCKETS; i++)
            for (const struct entry *e = r->b[i]; e != NULL; e = e->next)
                if (!any || e->ts < oldest) {
                    oldest = e->ts;
                    any = 1;
                }
        if (!any)
            break;
        replay_drop(r, oldest);
        if (oldest > r->floor)
            r->floor = oldest;
    }
}

/* 0 when fresh (and now remembered), 1 when replayed, 2 when signed at or before the floor,
 * -1 when memory ran out. */
static int replay_check(zone_wire_replay *r, const char *nonce, time_t ts, time_t now)
{
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    if (r->floor && ts <= r->floor) {
        rc = 2;
        goto out;
    }
    struct entry **pp = &r->b[hash(nonce)];
    while (*pp != NULL) {
        struct entry *e = *pp;
        if (e->ts < now - ZONE_WIRE_WINDOW) {
            *pp = e->next;
            free(e);
            r->count--;
            continue;
        }
        if (strcmp(e->nonce, nonce) == 0) {
            rc = 1;
            goto out;
        }
        pp = &e->next;
    }
    if (r->count >= r->max) {
        replay_make_room(r, now);
        if (r->floor && ts <= r->floor) { /* this one's own second went */
            rc = 2;
            goto out;
        }
    }
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL) {
        rc = -1;
        goto out;
    }
    e->ts = ts;
    memcpy(e->nonce, nonce, strlen(nonce) + 1);
    e->next = r->b[hash(nonce)];
    r->b[hash(nonce)] = e;
    r->count++;
out:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static int lower_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        if (x != *b)
            return 0;
    }
    return *a == *b;
}

/* Finds name exactly; *recased set when only a differently-cased match exists. */
static const char *find_header(const zone_wire_header *h, size_t n, const char *name,
                               const char **recased)
{
    *recased = NULL;
    for (size_t i = 0; i < n; i++)
        if (h[i].name != NULL && strcmp(h[i].name, name) == 0)
            return h[i].value;
    for (size_t i = 0; i < n; i++)
        if (h[i].name != NULL && lower_eq(h[i].name, name))
            *recased = h[i].name;
    return NULL;
}

static int all_digits(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int zone_wire_open(const zone_wire_keys *k, zone_wire_replay *replay, const zone_wire_env *env,
                   const char *method, const char *path, const zone_wire_header *headers, size_t n,
                   const char *body, size_t body_len, char **plaintext, size_t *len, char *detail,
                   size_t dn)
{
    static const char *const names[] = {"ww-secret-ver", "ww-timestamp", "ww-nonce",
                                        "ww-signature"};
    const char *v[4];
    unsigned char *raw = NULL;
    EVP_CIPHER_CTX *ctx;
    int rc;
    *plaintext = NULL;
    *len = 0;
    for (int i = 0; i < 4; i++) {
        const char *recased;
        v[i] = find_header(headers, n, names[i], &recased);
        if (v[i] == NULL && recased != NULL)
            return say(detail, dn, ZONE_WIRE_ERR_HEADER_CASE,
                       "header '%s' was re-cased to '%s'; pass header names to the SDK exactly "
                       "as received (lower-case)",
                       names[i], recased);
        if (v[i] == NULL)
            return say(detail, dn, ZONE_WIRE_ERR_MISSING_HEADER, "header '%s' is missing",
                       names[i]);
        if (strlen(v[i]) > ZONE_WIRE_MAX_HEADER)
            return say(detail, dn, ZONE_WIRE_ERR_TOO_LARGE, "header '%s' is over %d bytes",
                       names[i], ZONE_WIRE_MAX_HEADER);
    }
    char ver[16];
    snprintf(ver, sizeof ver, "%u", (unsigned)k->version);
    if (!all_digits(v[0], 10) || strcmp(v[0], ver) != 0)
        return say(detail, dn, ZONE_WIRE_ERR_SECRET_VER,
                   "ww-secret-ver is '%s', this side holds secret version %s", v[0], ver);
    if (!all_digits(v[1], 12))
        return say(detail, dn, ZONE_WIRE_ERR_TIMESTAMP, "ww-timestamp '%s' is not decimal seconds",
                   v[1]);
    time_t ts = (time_t)strtoll(v[1], NULL, 10), now = env_now(env);
    if (ts > now + ZONE_WIRE_WINDOW || ts < now - ZONE_WIRE_WINDOW)
        return say(detail, dn, ZONE_WIRE_ERR_STALE,
                   "ww-timestamp %lld is %lld s from now; the window is %d s", (long long)ts,
                   (long long)(ts - now), ZONE_WIRE_WINDOW);
    size_t nl = strlen(v[2]);
    if (nl < 16 || nl > 32 || strspn(v[2], "0123456789abcdef") != nl)
        return say(detail, dn, ZONE_WIRE_ERR_NONCE, "ww-nonce must be 16..32 lower-case hex");
    if (body == NULL)
        body_len = 0;
    if (body_len > ZONE_WIRE_MAX_BODY)
        return say(detail, dn, ZONE_WIRE_ERR_TOO_LARGE, "body of %zu bytes is over the cap",
                   body_len);
    char want[65];
    rc =
        zone_wire_sign(k, method, path, v[1], v[2], v[0], body != NULL ? body : "", body_len, want);
    if (rc != ZONE_WIRE_OK)
        return say(detail, dn, rc, "could not compute HMAC");
    if (strlen(v[3]) != 64 || CRYPTO_memcmp(want, v[3], 64) != 0)
        return say(detail, dn, ZONE_WIRE_ERR_SIGNATURE,
                   "ww-signature does not match (method %s, path %s, %zu body bytes)", method, path,
                   body_len);
    if (replay != NULL) {
        int r = replay_check(replay, v[2], ts, now);
        if (r == 1)
            return say(detail, dn, ZONE_WIRE_ERR_REPLAY, "ww-nonce %s was already used", v[2]);
        if (r == 2)
            return say(detail, dn, ZONE_WIRE_ERR_REPLAY,
                       "ww-timestamp %lld is not after the seconds the full replay cache "
                       "forgot, so its nonce cannot be told fresh",
                       (long long)ts);
        if (r < 0)
            return say(detail, dn, ZONE_WIRE_ERR_INTERNAL, "out of memory for the replay cache");
    }
    size_t rl = 0;
    if (zone_b64_decode(body, body_len, &raw, &rl) != 0 || rl < 28) {
        rc = say(detail, dn, ZONE_WIRE_ERR_CIPHERTEXT,
                 raw == NULL ? "body is not standard base64" : "body is shorter than iv + tag");
        goto out;
    }
    size_t cl = rl - 28;
    ctx = gcm_ctx(0, k->enc, raw);
    int outl = 0, fin = 0;
    /* decrypted in place, then moved over the iv: the plaintext is raw's buffer */
    if (ctx == NULL || !EVP_DecryptUpdate(ctx, raw + 12, &outl, raw + 12, (int)cl) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, raw + 12 + cl) ||
        EVP_DecryptFinal_ex(ctx, raw + 12 + outl, &fin) != 1) {
        rc = say(detail, dn, ZONE_WIRE_ERR_CIPHERTEXT,
                 "AES-256-GCM authentication failed (iv, ciphertext or tag altered, or keys "
                 "differ)");
        goto out;
    }
    memmove(raw, raw + 12, cl);
    raw[cl] = '\0';
    *plaintext = (char *)raw;
    *len = cl;
    raw = NULL;
    rc = ZONE_WIRE_OK;
out:
    free(raw);
    return rc;
}

/* Envelope helpers: a missing key gives the default, a wrong type is an error. */
/* Whether JSON text holds the escape \u0000 (backslashes appear only inside strings). */
static int has_nul_escape(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i++)
        if (s[i] == '\\') {
            if (s[i + 1] == 'u' && i + 5 < len && !memcmp(s + i + 2, "0000", 4))
                return 1;
            i++; /* the escaped character */
        }
    return 0;
}

cJSON *zone_wire_json_parse(const char *text, size_t len)
{
    const char *end = NULL, *stop = text + len;
    cJSON *o;

    if (!text || has_nul_escape(text, len) || !(o = cJSON_ParseWithLengthOpts(text, len, &end, 0)))
        return NULL;
    while (end < stop && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end != stop) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int get_str(const cJSON *o, const char *k, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (v != NULL && !cJSON_IsString(v))
        return -1;
    *out = strdup(v != NULL ? v->valuestring : "");
    return *out == NULL ? -1 : 0;
}

static int get_u32(const cJSON *o, const char *k, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *out = 0;
    if (v == NULL)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4294967295.0 ||
        v->valuedouble != (double)(uint32_t)v->valuedouble)
        return -1;
    *out = (uint32_t)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *o, const char *k, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *out = 0;
    if (v == NULL)
        return 0;
    if (!cJSON_IsBool(v))
        return -1;
    *out = cJSON_IsTrue(v);
    return 0;
}

static const char *s(const char *v)
{
    return v != NULL ? v : "";
}

static char *finish(cJSON *o, int ok)
{
    char *out = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return out;
}

/* The length of v as a JSON string, quotes included, escaped as cJSON escapes. */
static size_t str_size(const char *v)
{
    size_t n = 2;

    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        n += 1 + grow_by[*p];
    return n;
}

/* Writes v as a JSON string at o (str_size(v) bytes); returns the end. */
static char *str_write(char *o, const char *v)
{
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (grow_by[*p])
            o += escape_byte(*p, o);
        else
            *o++ = (char)*p;
    }
    *o++ = '"';
    return o;
}

/* The callback envelope written straight, byte for byte what cJSON_PrintUnformatted writes of
 * its tree (integers below 2^32 as plain digits). */
char *zone_wire_callback_encode(const zone_wire_callback *c)
{
    const char *str[] = {s(c->corpid),     s(c->data),      s(c->job_info),
                         s(c->ability_id), s(c->notify_id), s(c->req_id)};
    char nums[2][16], *out, *o;
    size_t nl[2],
        n = sizeof "{\"corpid\":,\"agentid\":,\"call_type\":,\"data\":,\"is_async\":false,"
                   "\"job_info\":,\"ability_id\":,\"notify_id\":,\"req_id\":}";

    pthread_once(&grow_once, fill_grow_by);
    nl[0] = (size_t)snprintf(nums[0], sizeof nums[0], "%u", (unsigned)c->agentid);
    nl[1] = (size_t)snprintf(nums[1], sizeof nums[1], "%u", (unsigned)c->call_type);
    n += nl[0] + nl[1];
    for (size_t i = 0; i < sizeof str / sizeof *str; i++)
        n += str_size(str[i]);
    if (!(out = malloc(n)))
        return NULL;
    o = out;
#define PUT(text) (memcpy(o, text, CONST_LEN(text)), o += CONST_LEN(text))
    PUT("{\"corpid\":");
    o = str_write(o, str[0]);
    PUT(",\"agentid\":");
    memcpy(o, nums[0], nl[0]);
    o += nl[0];
    PUT(",\"call_type\":");
    memcpy(o, nums[1], nl[1]);
    o += nl[1];
    PUT(",\"data\":");
    o = str_write(o, str[1]);
    if (c->is_async)
        PUT(",\"is_async\":true");
    else
        PUT(",\"is_async\":false");
    PUT(",\"job_info\":");
    o = str_write(o, str[2]);
    PUT(",\"ability_id\":");
    o = str_write(o, str[3]);
    PUT(",\"notify_id\":");
    o = str_write(o, str[4]);
    PUT(",\"req_id\":");
    o = str_write(o, str[5]);
    PUT("}");
#undef PUT
    *o = '\0';
    return out;
}

void zone_wire_callback_cleanup(zone_wire_callback *c)
{
    free(c->corpid);
    free(c->data);
    free(c->job_info);
    free(c->ability_id);
    free(c->notify_id);
    free(c->req_id);
    memset(c, 0, sizeof *c);
}

int zone_wire_callback_decode(const char *json, size_t len, zone_wire_callback *c)
{
    memset(c, 0, sizeof *c);
    cJSON *o = zone_wire_json_parse(json, len);
    int bad = !cJSON_IsObject(o) || get_str(o, "corpid", &c->corpid) ||
              get_u32(o, "agentid", &c->agentid) || get_u32(o, "call_type", &c->call_type) ||
              get_str(o, "data", &c->data) || get_bool(o, "is_async", &c->is_async) ||
              get_str(o, "job_info", &c->job_info) || get_str(o, "ability_id", &c->ability_id) ||
              get_str(o, "notify_id", &c->notify_id) || get_str(o, "req_id", &c->req_id);
    cJSON_Delete(o);
    if (bad)
        zone_wire_callback_cleanup(c);
    return bad ? ZONE_WIRE_ERR_JSON : ZONE_WIRE_OK;
}

char *zone_wire_invoke_encode(const zone_wire_invoke *v)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && cJSON_AddStringToObject(o, "api", s(v->api)) &&
             cJSON_AddStringToObject(o, "request", s(v->request)) &&
             cJSON_AddStringToObject(o, "corpid", s(v->corpid)) &&
             cJSON_AddNumberToObject(o, "agentid", v->agentid) &&
             cJSON_AddStringToObject(o, "ability_id", s(v->ability_id)) &&
             cJSON_AddStringToObject(o, "job_info", s(v->job_info)) &&
             cJSON_AddStringToObject(o, "instance", s(v->instance));
    return finish(o, ok);
}

void zone_wire_invoke_cleanup(zone_wire_invoke *v)
{
    free(v->api);
    free(v->request);
    free(v->corpid);
    free(v->ability_id);
    free(v->job_info);
    free(v->instance);
    memset(v, 0, sizeof *v);
}

int zone_wire_invoke_decode(const char *json, size_t len, zone_wire_invoke *v)
{
    memset(v, 0, sizeof *v);
    cJSON *o = zone_wire_json_parse(json, len);
    int bad = !cJSON_IsObject(o) || get_str(o, "api", &v->api) ||
              get_str(o, "request", &v->request) || get_str(o, "corpid", &v->corpid) ||
              get_u32(o, "agentid", &v->agentid) || get_str(o, "ability_id", &v->ability_id) ||
              get_str(o, "job_info", &v->job_info) || get_str(o, "instance", &v->instance);
    cJSON_Delete(o);
    if (bad)
        zone_wire_invoke_cleanup(v);
    return bad ? ZONE_WIRE_ERR_JSON : ZONE_WIRE_OK;
}

char *zone_wire_reply_encode(const zone_wire_reply *r)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && cJSON_AddStringToObject(o, "response", s(r->response)) &&
             (!r->exception || cJSON_AddTrueToObject(o, "exception"));
    return finish(o, ok);
}

void zone_wire_reply_cleanup(zone_wire_reply *r)
{
    free(r->response);
    memset(r, 0, sizeof *r);
}

int zone_wire_reply_decode(const char *json, size_t len, zone_wire_reply *r)
{
    memset(r, 0, sizeof *r);
    cJSON *o = zone_wire_json_parse(json, len);
    int bad = !cJSON_IsObject(o) || get_str(o, "response", &r->response) ||
              get_bool(o, "exception", &r->exception);
    cJSON_Delete(o);
    if (bad)
        zone_wire_reply_cleanup(r);
    return bad ? ZONE_WIRE_ERR_JSON : ZONE_WIRE_OK;
}

static const char unescaped[256] = {['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
                                    ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t'};

/* The bytes that end a run of plain bytes inside the envelope's string. */
static const unsigned char stops_scan[256] = {['"'] = 1, ['\\'] = 1, ['\0'] = 1};

/* The length of the run at p (n bytes) with no '"', '\\' nor NUL: stops_scan's bytes. */
static size_t scan_run(const unsigned char *p, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  nul = _mm_setzero_si128();

    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmpeq_epi8(v, nul)));

        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#endif
    while (i < n && !stops_scan[p[i]])
        i++;
    return i;
}

/*
 * Whether json is the envelope exactly as zone_wire_reply_write writes it, with no \u escape
 * and no NUL in its string: then *end is the string's closing quote and *exception is set.
 */
static int reply_plain_shape(const char *json, size_t len, size_t *end, int *exception)
{
    size_t i = CONST_LEN(REPLY_HEAD);

    if (len < CONST_LEN(REPLY_HEAD) + CONST_LEN(REPLY_TAIL) ||
        memcmp(json, REPLY_HEAD, CONST_LEN(REPLY_HEAD)) != 0)
        return 0;
    for (;; i += 2) {
        i += scan_run((const unsigned char *)json + i, len - i);
        if (i >= len || json[i] == '\0')
            return 0;
        if (json[i] == '"')
            break;
        if (i + 1 >= len || !unescaped[(unsigned char)json[i + 1]])
            return 0; /* \u, or an escape JSON does not have */
    }
    *end = i;
    if (len - i == CONST_LEN(REPLY_TAIL) && !memcmp(json + i, REPLY_TAIL, CONST_LEN(REPLY_TAIL)))
        *exception = 0;
    else if (len - i == CONST_LEN(REPLY_TAIL_EXC) &&
             !memcmp(json + i, REPLY_TAIL_EXC, CONST_LEN(REPLY_TAIL_EXC)))
        *exception = 1;
    else
        return 0;
    return 1;
}

int zone_wire_reply_take(char **json, size_t len, zone_wire_reply *r)
{
    char *t = *json;
    size_t end, i, o = 0;
    int exception;

    memset(r, 0, sizeof *r);
    if (t == NULL || !reply_plain_shape(t, len, &end, &exception))
        return t == NULL ? ZONE_WIRE_ERR_JSON : zone_wire_reply_decode(t, len, r);
    /* unescaped toward the buffer's start, run by run: the writer never passes the reader */
    for (i = CONST_LEN(REPLY_HEAD); i < end;) {
        const char *bs = memchr(t + i, '\\', end - i);
        size_t run = bs ? (size_t)(bs - (t + i)) : end - i;

        memmove(t + o, t + i, run);
        o += run;
        i += run;
        if (i < end) {
            t[o++] = unescaped[(unsigned char)t[i + 1]];
            i += 2;
        }
    }
    t[o] = '\0';
    r->response = t;
    r->exception = exception;
    *json = NULL;
    return ZONE_WIRE_OK;
}
