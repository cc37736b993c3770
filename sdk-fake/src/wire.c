/* wire: zone wire v1 (HKDF keys, ww-* headers, HMAC-SHA256, AES-256-GCM, the replay cache);
 * the envelopes as JSON are wire_json.c. */
#include "wire.h"

#include "b64.h"

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

/* The HKDF, HMAC and AES-256-GCM implementations, fetched once per process (each implicit
 * fetch costs a look-up in OpenSSL's method store, per message). NULL when the fetch failed. */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_KDF *hkdf_impl;
static EVP_MAC *hmac_impl;
static EVP_CIPHER *gcm_impl;

static void fetch_impls(void)
{
    hkdf_impl = EVP_KDF_fetch(NULL, "HKDF", NULL);
    hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
    gcm_impl = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

void zone_wire_warm(void)
{
    pthread_once(&fetch_once, fetch_impls);
}

static int hkdf(const unsigned char *ikm, size_t ikm_len, const char *info, unsigned char out[32])
{
    static const char salt[] = "zonelab wire v1";
    int ok = 0;
    EVP_KDF_CTX *ctx;

    pthread_once(&fetch_once, fetch_impls);
    ctx = hkdf_impl ? EVP_KDF_CTX_new(hkdf_impl) : NULL;
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
    unsigned char rnd[1008]; /* random bytes drawn ahead: rnd[sizeof rnd - rnd_left..) unused */
    size_t rnd_left;
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

/* In a child of fork(): the forking thread's pool is the parent's too, so it is dropped
 * (the child's other threads, and their pools, do not exist). */
static void rnd_forget(void)
{
    wire_tls *t = tls_ok ? pthread_getspecific(tls_key) : NULL;

    if (t) {
        OPENSSL_cleanse(t->rnd, sizeof t->rnd);
        t->rnd_left = 0;
    }
}

static void tls_init(void)
{
    tls_ok = pthread_key_create(&tls_key, tls_free) == 0;
    if (tls_ok)
        pthread_atfork(NULL, NULL, rnd_forget);
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

/* n random bytes (IVs, nonces and ids, public once sent): from this thread's pool, which one
 * RAND_bytes refills 36 seals at a time. Each RAND_bytes costs the DRBG's lock and its fork and
 * reseed checks, which were a third of sealing a callback. 0, or -1 when the DRBG failed. */
int zone_wire_random(unsigned char *out, size_t n)
{
    wire_tls *t = tls();
    size_t at;

    if (!t || n > sizeof t->rnd)
        return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
    if (t->rnd_left < n) {
        if (RAND_bytes(t->rnd, (int)sizeof t->rnd) != 1)
            return -1;
        t->rnd_left = sizeof t->rnd;
    }
    at = sizeof t->rnd - t->rnd_left;
    memcpy(out, t->rnd + at, n);
    t->rnd_left -= n;
    return 0;
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
    } else { /* one draw for both */
        unsigned char r[28];

        if (zone_wire_random(r, sizeof r) != 0)
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
    /* up to the last entry only: the buckets past it were never touched (calloc's pages) */
    for (size_t i = 0; i < NBUCKETS && r->count > 0; i++)
        for (struct entry *e = r->b[i], *next; e != NULL; e = next) {
            next = e->next;
            free(e);
            r->count--;
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
