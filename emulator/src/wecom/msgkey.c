/* msgkey: RSA-2048 PKCS#1 v1.5 wrapping of per-message secret keys, base64 on the wire. */
#include "wecom/msgkey.h"

#include "b64.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#define REQUIRED_BITS 2048

static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* Writes a formatted message into err, then appends OpenSSL's error queue (drained). */
static void set_err(int with_ssl, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_err(int with_ssl, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    size_t used;
    unsigned long e;

    if (err == NULL || errlen == 0) {
        ERR_clear_error();
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (!with_ssl) {
        ERR_clear_error();
        return;
    }
    while ((e = ERR_get_error()) != 0) {
        char buf[256];

        used = strlen(err);
        if (used + 3 >= errlen)
            continue; /* keep draining */
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err + used, errlen - used, "; %s", buf);
    }
}

/* Refuses a PEM password prompt: encrypted private keys are not supported. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Finds needle in the first len bytes of hay (hay need not be NUL-terminated). */
static int contains(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return 1;
    return 0;
}

/* Common checks on PEM text before OpenSSL sees it. */
static int check_pem_text(const char *pem, size_t pem_len, const char *what, char *err,
                          size_t errlen)
{
    if (pem == NULL || pem_len == 0) {
        set_err(0, err, errlen, "%s is empty; expected PEM text", what);
        return -1;
    }
    if (pem_len > ZL_MSGKEY_MAX_PEM) {
        set_err(0, err, errlen, "%s is %zu bytes; at most %d accepted", what, pem_len,
                ZL_MSGKEY_MAX_PEM);
        return -1;
    }
    if (memchr(pem, '\0', pem_len) != NULL) {
        set_err(0, err, errlen, "%s contains a NUL byte; expected PEM text", what);
        return -1;
    }
    if (!contains(pem, pem_len, "-----BEGIN ")) {
        set_err(0, err, errlen, "%s is not PEM: no \"-----BEGIN \" line", what);
        return -1;
    }
    return 0;
}

/*
 * Public keys parsed, by their PEM text's SHA-256: a process parses each key once (OpenSSL 3's
 * decoders were a fifth of fuzz_scenario's time), not at every emulator's start. zonelab run
 * loads the default world before its forks, so each scenario's child finds its keys here.
 * The world loader checks its keys through here too. The oldest entry gives way when full.
 * Only good keys are kept: a bad one is parsed again, for its message.
 */
#define MEMO_KEYS 64
static struct {
    unsigned char id[SHA256_DIGEST_LENGTH];
    EVP_PKEY *pkey;
} memo[MEMO_KEYS];
static size_t memo_next;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

/* The memo's key for pem, up-referenced (the caller frees it), or NULL. */
static EVP_PKEY *memo_get(const unsigned char *id)
{
    EVP_PKEY *pkey = NULL;

    pthread_mutex_lock(&memo_lock);
    for (size_t i = 0; i < MEMO_KEYS && !pkey; i++)
        if (memo[i].pkey && !memcmp(memo[i].id, id, sizeof memo[i].id) &&
            EVP_PKEY_up_ref(memo[i].pkey) == 1)
            pkey = memo[i].pkey;
    pthread_mutex_unlock(&memo_lock);
    return pkey;
}

static void memo_put(const unsigned char *id, EVP_PKEY *pkey)
{
    EVP_PKEY *old = NULL;

    if (EVP_PKEY_up_ref(pkey) != 1)
        return;
    pthread_mutex_lock(&memo_lock);
    for (size_t i = 0; i < MEMO_KEYS; i++)
        if (memo[i].pkey && !memcmp(memo[i].id, id, sizeof memo[i].id)) { /* a race: kept */
            pthread_mutex_unlock(&memo_lock);
            EVP_PKEY_free(pkey);
            return;
        }
    old = memo[memo_next].pkey;
    memcpy(memo[memo_next].id, id, sizeof memo[memo_next].id);
    memo[memo_next].pkey = pkey;
    memo_next = (memo_next + 1) % MEMO_KEYS;
    pthread_mutex_unlock(&memo_lock);
    EVP_PKEY_free(old);
}

static EVP_PKEY *parse_public(const char *pem, size_t pem_len, char *err, size_t errlen);

/* Parses and checks an RSA-2048 public key (or finds it parsed). Returns an owned EVP_PKEY or
 * NULL. */
static EVP_PKEY *load_public(const char *pem, size_t pem_len, char *err, size_t errlen)
{
    unsigned char id[SHA256_DIGEST_LENGTH];
    EVP_PKEY *pkey;

    if (!pem || pem_len == 0 || pem_len > ZL_MSGKEY_MAX_PEM) /* refused, with its message */
        return parse_public(pem, pem_len, err, errlen);
    SHA256((const unsigned char *)pem, pem_len, id);
    if ((pkey = memo_get(id)))
        return pkey;
    if ((pkey = parse_public(pem, pem_len, err, errlen)))
        memo_put(id, pkey);
    return pkey;
}

/* Parses and checks an RSA-2048 public key. Returns an owned EVP_PKEY or NULL. */
static EVP_PKEY *parse_public(const char *pem, size_t pem_len, char *err, size_t errlen)
{
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    int bits;

    ERR_clear_error();
    if (check_pem_text(pem, pem_len, "public key", err, errlen) != 0)
        goto out;
    if (contains(pem, pem_len, "PRIVATE KEY-----")) {
        set_err(0, err, errlen,
                "public key: this PEM holds a private key; send the public key "
                "(\"-----BEGIN PUBLIC KEY-----\", e.g. from openssl pkey -pubout)");
        goto out;
    }
    if (!contains(pem, pem_len, "-----BEGIN PUBLIC KEY-----")) {
        set_err(0, err, errlen,
                "public key: expected a \"-----BEGIN PUBLIC KEY-----\" block "
                "(SubjectPublicKeyInfo, e.g. from openssl pkey -pubout)");
        goto out;
    }
    bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (bio == NULL) {
        set_err(1, err, errlen, "public key: out of memory");
        goto out;
    }
    pkey = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
    if (pkey == NULL) {
        set_err(1, err, errlen, "public key: PEM block could not be parsed as a public key");
        goto out;
    }
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        const char *name = OBJ_nid2sn(EVP_PKEY_get_base_id(pkey));

        set_err(0, err, errlen, "public key: key type is %s, expected RSA (2048 bits)",
                name != NULL ? name : "unknown");
        EVP_PKEY_free(pkey);
        pkey = NULL;
        goto out;
    }
    bits = EVP_PKEY_get_bits(pkey);
    if (bits != REQUIRED_BITS) {
        set_err(0, err, errlen, "public key: RSA key has %d bits, expected %d", bits,
                REQUIRED_BITS);
        EVP_PKEY_free(pkey);
        pkey = NULL;
        goto out;
    }
out:
    BIO_free(bio);
    return pkey;
}

int zl_msgkey_generate_secret(char *out, char *err, size_t errlen)
{
    unsigned char buf[64];
    size_t n = 0;

    /* 248 = 4 * 62: bytes at or above it are discarded so every character is uniform. */
    while (n < ZL_MSGKEY_SECRET_LEN) {
        if (RAND_bytes(buf, (int)sizeof buf) != 1) {
            set_err(1, err, errlen, "secret key: random source failed");
            out[0] = '\0';
            return -1;
        }
        for (size_t i = 0; i < sizeof buf && n < ZL_MSGKEY_SECRET_LEN; i++)
            if (buf[i] < 248)
                out[n++] = ALNUM[buf[i] % 62];
    }
    out[ZL_MSGKEY_SECRET_LEN] = '\0';
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}

int zl_msgkey_check_public_key(const char *pem, size_t pem_len, char *err, size_t errlen)
{
    EVP_PKEY *pkey = load_public(pem, pem_len, err, errlen);

    if (pkey == NULL)
        return -1;
    EVP_PKEY_free(pkey);
    return 0;
}

EVP_PKEY *zl_msgkey_load_public(const char *pem, size_t pem_len, char *err, size_t errlen)
{
    return load_public(pem, pem_len, err, errlen);
}

EVP_PKEY_CTX *zl_msgkey_encrypt_ctx(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new(pkey, NULL) : NULL;

    if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* RSA PKCS#1 v1.5 encryption of a checked secret with ctx into ct (cap bytes); *ct_len. */
static int ctx_encrypt(EVP_PKEY_CTX *ctx, const unsigned char *secret, size_t secret_len,
                       unsigned char *ct, size_t cap, size_t *ct_len, char *err, size_t errlen)
{
    size_t need = 0;

    if (EVP_PKEY_encrypt(ctx, NULL, &need, secret, secret_len) <= 0) {
        set_err(1, err, errlen, "encrypt: RSA size query failed");
        return -1;
    }
    if (need > cap) {
        set_err(0, err, errlen, "encrypt: the ciphertext needs %zu bytes, %zu available", need,
                cap);
        return -1;
    }
    *ct_len = cap;
    if (EVP_PKEY_encrypt(ctx, ct, ct_len, secret, secret_len) <= 0) {
        set_err(1, err, errlen, "encrypt: RSA encryption failed");
        return -1;
    }
    return 0;
}

/* RSA PKCS#1 v1.5 encryption of a checked secret with pkey into ct (cap bytes); *ct_len. */
static int rsa_encrypt(EVP_PKEY *pkey, const unsigned char *secret, size_t secret_len,
                       unsigned char *ct, size_t cap, size_t *ct_len, char *err, size_t errlen)
{
    EVP_PKEY_CTX *ctx = zl_msgkey_encrypt_ctx(pkey);
    int rc;

    if (ctx == NULL) {
        set_err(1, err, errlen, "encrypt: cannot set up RSA PKCS#1 v1.5");
        return -1;
    }
    rc = ctx_encrypt(ctx, secret, secret_len, ct, cap, ct_len, err, errlen);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* RSA PKCS#1 v1.5 encryption of a checked secret with pkey, base64 into *b64_out. */
static int encrypt_with(EVP_PKEY *pkey, const unsigned char *secret, size_t secret_len,
                        char **b64_out, char *err, size_t errlen)
{
    unsigned char ct[ZL_MSGKEY_CT_LEN];
    size_t ct_len = 0;
    char *b64;

    if (rsa_encrypt(pkey, secret, secret_len, ct, sizeof ct, &ct_len, err, errlen) != 0)
        return -1;
    b64 = malloc(4 * ((ct_len + 2) / 3) + 1);
    if (b64 == NULL) {
        set_err(0, err, errlen, "encrypt: out of memory");
        return -1;
    }
    EVP_EncodeBlock((unsigned char *)b64, ct, (int)ct_len);
    *b64_out = b64;
    return 0;
}

/* The argument checks shared by both encrypt entry points. */
static int check_encrypt_args(const unsigned char *secret, size_t secret_len, char **b64_out,
                              char *err, size_t errlen)
{
    if (b64_out == NULL) {
        set_err(0, err, errlen, "encrypt: no output pointer");
        return -1;
    }
    *b64_out = NULL;
    if (secret == NULL || secret_len == 0 || secret_len > ZL_MSGKEY_MAX_SECRET) {
        set_err(0, err, errlen, "secret key is %zu bytes; must be 1..%d", secret_len,
                ZL_MSGKEY_MAX_SECRET);
        return -1;
    }
    return 0;
}

int zl_msgkey_encrypt(const char *public_key_pem, size_t pem_len, const unsigned char *secret,
                      size_t secret_len, char **b64_out, char *err, size_t errlen)
{
    EVP_PKEY *pkey;
    int rc;

    if (check_encrypt_args(secret, secret_len, b64_out, err, errlen) != 0)
        return -1;
    pkey = load_public(public_key_pem, pem_len, err, errlen);
    if (pkey == NULL)
        return -1;
    rc = encrypt_with(pkey, secret, secret_len, b64_out, err, errlen);
    EVP_PKEY_free(pkey);
    return rc;
}

int zl_msgkey_encrypt_pkey(EVP_PKEY *pkey, const unsigned char *secret, size_t secret_len,
                           char **b64_out, char *err, size_t errlen)
{
    if (check_encrypt_args(secret, secret_len, b64_out, err, errlen) != 0)
        return -1;
    ERR_clear_error();
    if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        set_err(0, err, errlen, "encrypt: no RSA public key given");
        return -1;
    }
    return encrypt_with(pkey, secret, secret_len, b64_out, err, errlen);
}

/* The checks zl_msgkey_encrypt_raw and zl_msgkey_encrypt_with share: an output buffer and a
 * secret of 1..ZL_MSGKEY_MAX_SECRET bytes. 0 when they hold; *ct_len is 0 either way. */
static int check_raw_args(const unsigned char *secret, size_t secret_len, unsigned char *ct,
                          size_t *ct_len, char *err, size_t errlen)
{
    ERR_clear_error();
    if (ct == NULL || ct_len == NULL) {
        set_err(0, err, errlen, "encrypt: no output buffer");
        return -1;
    }
    *ct_len = 0;
    if (secret == NULL || secret_len == 0 || secret_len > ZL_MSGKEY_MAX_SECRET) {
        set_err(0, err, errlen, "secret key is %zu bytes; must be 1..%d", secret_len,
                ZL_MSGKEY_MAX_SECRET);
        return -1;
    }
    return 0;
}

int zl_msgkey_encrypt_raw(EVP_PKEY *pkey, const unsigned char *secret, size_t secret_len,
                          unsigned char *ct, size_t cap, size_t *ct_len, char *err, size_t errlen)
{
    if (check_raw_args(secret, secret_len, ct, ct_len, err, errlen) != 0)
        return -1;
    if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        set_err(0, err, errlen, "encrypt: no RSA public key given");
        return -1;
    }
    return rsa_encrypt(pkey, secret, secret_len, ct, cap, ct_len, err, errlen);
}

int zl_msgkey_encrypt_with(EVP_PKEY_CTX *ctx, const unsigned char *secret, size_t secret_len,
                           unsigned char *ct, size_t cap, size_t *ct_len, char *err, size_t errlen)
{
    if (check_raw_args(secret, secret_len, ct, ct_len, err, errlen) != 0)
        return -1;
    if (ctx == NULL) {
        set_err(0, err, errlen, "encrypt: no RSA context given");
        return -1;
    }
    return ctx_encrypt(ctx, secret, secret_len, ct, cap, ct_len, err, errlen);
}

/* Decodes strict standard base64 with a message that says what was wrong. */
static int b64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len, char *err,
                      size_t errlen)
{
    if (zone_b64_decode(in, len, out, out_len) != 0) {
        set_err(0, err, errlen,
                "ciphertext: invalid base64 (%zu characters; standard alphabet, length a positive "
                "multiple of 4, '=' only at the end)",
                len);
        return -1;
    }
    return 0;
}

int zl_msgkey_decrypt(const char *private_key_pem, size_t pem_len, const char *b64, size_t b64_len,
                      unsigned char **secret_out, size_t *secret_len, char *err, size_t errlen)
{
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char *ct = NULL;
    unsigned char *pt = NULL;
    size_t ct_len = 0;
    size_t pt_len = 0;
    int rc = -1;

    if (secret_out == NULL || secret_len == NULL) {
        set_err(0, err, errlen, "decrypt: no output pointer");
        return -1;
    }
    *secret_out = NULL;
    *secret_len = 0;
    ERR_clear_error();
    if (b64 == NULL || b64_len > ZL_MSGKEY_MAX_B64) {
        set_err(0, err, errlen, "ciphertext: missing or longer than %d characters",
                ZL_MSGKEY_MAX_B64);
        goto out;
    }
    if (check_pem_text(private_key_pem, pem_len, "private key", err, errlen) != 0)
        goto out;
    if (b64_decode(b64, b64_len, &ct, &ct_len, err, errlen) != 0)
        goto out;
    bio = BIO_new_mem_buf(private_key_pem, (int)pem_len);
    if (bio == NULL) {
        set_err(1, err, errlen, "private key: out of memory");
        goto out;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    if (pkey == NULL) {
        set_err(1, err, errlen,
                "private key: not an unencrypted PEM private key (encrypted keys unsupported)");
        goto out;
    }
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        set_err(0, err, errlen, "private key: not an RSA key");
        goto out;
    }
    ctx = EVP_PKEY_CTX_new(pkey, NULL);
    if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
        set_err(1, err, errlen, "decrypt: cannot set up RSA PKCS#1 v1.5");
        goto out;
    }
    /* OpenSSL >= 3.2 returns random bytes for bad padding unless this is off; 3.0 lacks it. */
    (void)EVP_PKEY_CTX_ctrl_str(ctx, "rsa_pkcs1_implicit_rejection", "0");
    ERR_clear_error();
    if (EVP_PKEY_decrypt(ctx, NULL, &pt_len, ct, ct_len) <= 0) {
        set_err(1, err, errlen, "decrypt: RSA size query failed");
        goto out;
    }
    pt = malloc(pt_len + 1);
    if (pt == NULL) {
        set_err(0, err, errlen, "decrypt: out of memory");
        goto out;
    }
    if (EVP_PKEY_decrypt(ctx, pt, &pt_len, ct, ct_len) <= 0) {
        set_err(1, err, errlen,
                "decrypt: RSA PKCS#1 v1.5 decryption failed (wrong private key or "
                "corrupted ciphertext)");
        goto out;
    }
    pt[pt_len] = '\0';
    *secret_out = pt;
    *secret_len = pt_len;
    pt = NULL;
    rc = 0;
out:
    free(pt);
    free(ct);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return rc;
}
