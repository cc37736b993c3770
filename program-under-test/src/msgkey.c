/* msgkey: the app's RSA private key, and the per-message secret keys it unwraps
 * (service_encrypt_info.encrypted_secret_key: base64 of RSA PKCS#1 v1.5, sdk-api.md 3.1). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "zd.h"

#define MAX_PEM 16384 /* bytes of PEM text read at most */
#define MAX_B64 4096  /* characters of an encrypted_secret_key (RSA-2048: 344) */

struct zd_msgkey {
    EVP_PKEY *pkey;
};

/* A sentence into err, then OpenSSL's error queue drained after it. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    unsigned long e;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    while ((e = ERR_get_error()) != 0) {
        size_t used = strlen(err);
        char buf[200];

        if (used + 3 >= errlen)
            continue; /* keep draining */
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err + used, errlen - used, " (%s)", buf);
    }
}

/* Refuses the passphrase prompt: encrypted PEM keys are not supported. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

zd_msgkey *zd_msgkey_from_pem(const char *pem, size_t len, char *err, size_t errlen)
{
    zd_msgkey *k = NULL;
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;

    ERR_clear_error();
    if (!pem || len == 0 || len > MAX_PEM || memchr(pem, '\0', len)) {
        set_err(err, errlen, "the private key is not PEM text of 1 to %d bytes", MAX_PEM);
        goto out;
    }
    if (!(bio = BIO_new_mem_buf(pem, (int)len))) {
        set_err(err, errlen, "out of memory");
        goto out;
    }
    if (!(pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL))) {
        set_err(err, errlen,
                "no unencrypted PEM private key found (\"-----BEGIN PRIVATE KEY-----\" or "
                "\"-----BEGIN RSA PRIVATE KEY-----\"; encrypted keys are not supported)");
        goto out;
    }
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        set_err(err, errlen, "the private key is not an RSA key (WeCom's public keys are RSA)");
        goto out;
    }
    if (!(k = calloc(1, sizeof *k))) {
        set_err(err, errlen, "out of memory");
        goto out;
    }
    k->pkey = pkey;
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return k;
}

zd_msgkey *zd_msgkey_load(const char *path, char *err, size_t errlen)
{
    char *pem = NULL;
    size_t len = 0;
    zd_msgkey *k = NULL;
    FILE *f = fopen(path, "r");

    if (!f) {
        snprintf(err, errlen, "cannot read the private key %s: %s", path, strerror(errno));
        return NULL;
    }
    if (!(pem = malloc(MAX_PEM + 1))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    len = fread(pem, 1, MAX_PEM + 1, f);
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read the private key %s", path);
        goto out;
    }
    if (len > MAX_PEM) {
        snprintf(err, errlen, "the private key %s is over %d bytes: not a PEM key", path, MAX_PEM);
        goto out;
    }
    k = zd_msgkey_from_pem(pem, len, err, errlen);
    if (!k) {
        char why[400];

        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "%s: %s", path, why);
    }
out:
    if (pem)
        OPENSSL_cleanse(pem, MAX_PEM + 1);
    free(pem);
    fclose(f);
    return k;
}

void zd_msgkey_free(zd_msgkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

/* Standard base64 (padding required, no line breaks) into *out (owned). -1 when it is not. */
static int b64_decode(const char *b64, size_t n, unsigned char **out, size_t *out_len)
{
    EVP_ENCODE_CTX *ctx;
    unsigned char *buf;
    int len = 0, fin = 0, ok;
    size_t i;

    *out = NULL;
    if (n == 0 || n % 4 != 0)
        return -1;
    for (i = 0; i < n; i++)
        if (!(b64[i] >= 'A' && b64[i] <= 'Z') && !(b64[i] >= 'a' && b64[i] <= 'z') &&
            !(b64[i] >= '0' && b64[i] <= '9') && b64[i] != '+' && b64[i] != '/' &&
            !(b64[i] == '=' && i >= n - 2))
            return -1;
    if (!(buf = malloc(n / 4 * 3 + 1)))
        return -1;
    if (!(ctx = EVP_ENCODE_CTX_new())) {
        free(buf);
        return -1;
    }
    EVP_DecodeInit(ctx);
    ok = EVP_DecodeUpdate(ctx, buf, &len, (const unsigned char *)b64, (int)n) >= 0 &&
         EVP_DecodeFinal(ctx, buf + len, &fin) == 1;
    EVP_ENCODE_CTX_free(ctx);
    if (!ok) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = (size_t)len + (size_t)fin;
    return 0;
}

char *zd_msgkey_decrypt(const zd_msgkey *k, const char *b64, char *err, size_t errlen)
{
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char *ct = NULL, *pt = NULL;
    size_t ct_len = 0, pt_len = 0, cap = 0, n = b64 ? strlen(b64) : 0;
    char *secret = NULL;

    ERR_clear_error();
    if (!k) {
        set_err(err, errlen, "no private key");
        return NULL;
    }
    if (n == 0 || n > MAX_B64 || b64_decode(b64, n, &ct, &ct_len) != 0) {
        set_err(err, errlen, "encrypted_secret_key is not base64 of 1 to %d characters", MAX_B64);
        return NULL;
    }
    if (!(ctx = EVP_PKEY_CTX_new(k->pkey, NULL)) || EVP_PKEY_decrypt_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
        set_err(err, errlen, "cannot set up RSA PKCS#1 v1.5 decryption");
        goto out;
    }
    /* OpenSSL 3.2 and later answer random bytes for a wrong key unless implicit rejection is
     * off; 3.0 and 3.1 do not know the setting and fail outright, as wanted. */
    (void)EVP_PKEY_CTX_ctrl_str(ctx, "rsa_pkcs1_implicit_rejection", "0");
    ERR_clear_error();
    if (EVP_PKEY_decrypt(ctx, NULL, &pt_len, ct, ct_len) <= 0 || !(pt = malloc(pt_len + 1))) {
        set_err(err, errlen, "encrypted_secret_key does not decrypt with this private key");
        goto out;
    }
    cap = pt_len + 1;
    if (EVP_PKEY_decrypt(ctx, pt, &pt_len, ct, ct_len) <= 0) {
        set_err(err, errlen,
                "encrypted_secret_key does not decrypt with this private key (another key "
                "version, or not the private half of the app's public key)");
        goto out;
    }
    if (pt_len == 0 || memchr(pt, '\0', pt_len)) {
        set_err(err, errlen, "the decrypted secret_key is not text");
        goto out;
    }
    pt[pt_len] = '\0';
    secret = (char *)pt;
    pt = NULL;
out:
    if (pt)
        OPENSSL_cleanse(pt, cap);
    free(pt);
    free(ct);
    EVP_PKEY_CTX_free(ctx);
    return secret;
}
