/* Unit tests for msgkey: RSA-2048 PKCS#1 v1.5 secret-key wrapping, checked against the openssl CLI.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "wecom/msgkey.h"

#define KEYDIR ZL_SOURCE_DIR "/fixtures/keys/"

/* Reads a whole file into a NUL-terminated heap buffer; fails the test if it cannot. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)n;
    return buf;
}

static void b64_to_bytes(const char *b64, unsigned char **out, size_t *out_len)
{
    size_t len = strlen(b64);
    size_t pad = 0;
    unsigned char *buf = malloc(len / 4 * 3 + 1);
    int n;

    assert_non_null(buf);
    /* Decode with a tiny local decoder so the test does not trust the module's own. */
    {
        static const char tbl[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        unsigned acc = 0;
        int bits = 0;

        n = 0;
        for (size_t i = 0; i < len; i++) {
            const char *p;

            if (b64[i] == '=') {
                pad++;
                continue;
            }
            p = strchr(tbl, b64[i]);
            assert_non_null(p);
            acc = (acc << 6) | (unsigned)(p - tbl);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                buf[n++] = (unsigned char)((acc >> bits) & 0xff);
            }
        }
    }
    assert_true(pad <= 2);
    *out = buf;
    *out_len = (size_t)n;
}

static void test_msgkey_openssl_cli_decrypts(void **state)
{
    char err[512] = "";
    size_t pem_len;
    char *pem = slurp(KEYDIR "test_v1_public.pem", &pem_len);
    char *b64 = NULL;
    unsigned char *ct;
    size_t ct_len;
    char in_path[] = "/tmp/zl_msgkey_ct_XXXXXX";
    char out_path[] = "/tmp/zl_msgkey_pt_XXXXXX";
    char cmd[1024];
    char secret[ZL_MSGKEY_SECRET_LEN + 1];
    int fd_in, fd_out;
    FILE *f;
    char *pt;
    size_t pt_len;

    (void)state;
    assert_int_equal(zl_msgkey_generate_secret(secret, err, sizeof err), 0);
    assert_int_equal(zl_msgkey_encrypt(pem, pem_len, (const unsigned char *)secret,
                                       ZL_MSGKEY_SECRET_LEN, &b64, err, sizeof err),
                     0);
    assert_non_null(b64);
    b64_to_bytes(b64, &ct, &ct_len);
    assert_int_equal(ct_len, 256);

    fd_in = mkstemp(in_path);
    assert_true(fd_in >= 0);
    fd_out = mkstemp(out_path);
    assert_true(fd_out >= 0);
    close(fd_out);
    f = fdopen(fd_in, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(ct, 1, ct_len, f), ct_len);
    fclose(f);

    snprintf(cmd, sizeof cmd,
             "openssl pkeyutl -decrypt -inkey '%s' -pkeyopt rsa_padding_mode:pkcs1 "
             "-in '%s' -out '%s' 2>/dev/null",
             KEYDIR "test_v1_private.pem", in_path, out_path);
    assert_int_equal(system(cmd), 0);
    pt = slurp(out_path, &pt_len);
    assert_int_equal(pt_len, ZL_MSGKEY_SECRET_LEN);
    assert_memory_equal(pt, secret, ZL_MSGKEY_SECRET_LEN);

    unlink(in_path);
    unlink(out_path);
    free(pt);
    free(ct);
    free(b64);
    free(pem);
}

static void test_msgkey_round_trip(void **state)
{
    char err[512] = "";
    size_t pub_len, priv_len;
    char *pub = slurp(KEYDIR "test_v1_public.pem", &pub_len);
    char *priv = slurp(KEYDIR "test_v1_private.pem", &priv_len);
    static const unsigned char secret[] = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    char *b64 = NULL;
    unsigned char *out = NULL;
    size_t out_len = 0;

    (void)state;
    assert_int_equal(zl_msgkey_encrypt(pub, pub_len, secret, 32, &b64, err, sizeof err), 0);
    assert_int_equal(strlen(b64), 344); /* 256 bytes -> 344 base64 chars */
    assert_int_equal(
        zl_msgkey_decrypt(priv, priv_len, b64, strlen(b64), &out, &out_len, err, sizeof err), 0);
    assert_int_equal(out_len, 32);
    assert_memory_equal(out, secret, 32);
    assert_int_equal(out[32], '\0');
    free(out);
    free(b64);
    free(pub);
    free(priv);
}

static void test_msgkey_wrong_private_key_fails(void **state)
{
    char err[512] = "";
    size_t pub_len, priv_len;
    char *pub = slurp(KEYDIR "test_v1_public.pem", &pub_len);
    char *priv2 = slurp(KEYDIR "test_v2_private.pem", &priv_len);
    static const unsigned char secret[] = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    char *b64 = NULL;
    unsigned char *out = NULL;
    size_t out_len = 99;

    (void)state;
    assert_int_equal(zl_msgkey_encrypt(pub, pub_len, secret, 32, &b64, err, sizeof err), 0);
    err[0] = '\0';
    assert_int_equal(
        zl_msgkey_decrypt(priv2, priv_len, b64, strlen(b64), &out, &out_len, err, sizeof err), -1);
    assert_null(out);
    assert_int_equal(out_len, 0);
    assert_non_null(strstr(err, "decryption failed"));
    free(b64);
    free(pub);
    free(priv2);
}

static void expect_rejected(const char *pem, size_t len, const char *fragment)
{
    char err[512] = "";
    char *b64 = (char *)"sentinel";
    static const unsigned char secret[] = "0123456789abcdef0123456789abcdef";

    assert_int_equal(zl_msgkey_check_public_key(pem, len, err, sizeof err), -1);
    if (strstr(err, fragment) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, fragment);
    err[0] = '\0';
    assert_int_equal(zl_msgkey_encrypt(pem, len, secret, 32, &b64, err, sizeof err), -1);
    assert_null(b64);
    if (strstr(err, fragment) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, fragment);
}

static void test_msgkey_rejects_ec_key(void **state)
{
    size_t len;
    char *pem = slurp(KEYDIR "ec_public.pem", &len);

    (void)state;
    expect_rejected(pem, len, "expected RSA");
    free(pem);
}

static void test_msgkey_rejects_rsa1024(void **state)
{
    size_t len;
    char *pem = slurp(KEYDIR "rsa1024_public.pem", &len);

    (void)state;
    expect_rejected(pem, len, "1024 bits, expected 2048");
    free(pem);
}

static void test_msgkey_rejects_garbage(void **state)
{
    static const char not_pem[] = "hello, this is not a key";
    static const char bad_body[] = "-----BEGIN PUBLIC KEY-----\n!!!notbase64!!!\n"
                                   "-----END PUBLIC KEY-----\n";
    static const char with_nul[] = "-----BEGIN PUBLIC KEY-----\0\n";
    static const char rsa_pub[] = "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n"
                                  "-----END RSA PUBLIC KEY-----\n";
    size_t priv_len;
    char *priv = slurp(KEYDIR "test_v1_private.pem", &priv_len);
    char *huge = calloc(ZL_MSGKEY_MAX_PEM + 2, 1);

    (void)state;
    expect_rejected(not_pem, strlen(not_pem), "not PEM");
    expect_rejected(bad_body, strlen(bad_body), "could not be parsed");
    expect_rejected(with_nul, sizeof with_nul - 1, "NUL byte");
    expect_rejected(rsa_pub, strlen(rsa_pub), "BEGIN PUBLIC KEY");
    expect_rejected("", 0, "empty");
    expect_rejected(NULL, 10, "empty");
    expect_rejected(priv, priv_len, "private key");
    assert_non_null(huge);
    memset(huge, 'A', ZL_MSGKEY_MAX_PEM + 1);
    expect_rejected(huge, ZL_MSGKEY_MAX_PEM + 1, "at most");
    free(huge);
    free(priv);
}

/* A key is parsed once per process: the second load of the same text is the kept key. A text
 * refused before parsing (a private key beside the public one) is never kept: it is refused
 * again. */
static void test_msgkey_parsed_once(void **state)
{
    char err[512] = "";
    size_t len, priv_len;
    char *pem = slurp(KEYDIR "test_v2_public.pem", &len);
    char *priv = slurp(KEYDIR "test_v1_private.pem", &priv_len);
    char *both = malloc(priv_len + len + 1);
    EVP_PKEY *a, *b;

    (void)state;
    assert_null(zl_msgkey_load_public(NULL, 10, err, sizeof err));
    a = zl_msgkey_load_public(pem, len, err, sizeof err);
    assert_non_null(a);
    b = zl_msgkey_load_public(pem, len, err, sizeof err);
    assert_ptr_equal(a, b);
    assert_non_null(both);
    memcpy(both, priv, priv_len);
    memcpy(both + priv_len, pem, len + 1);
    expect_rejected(both, priv_len + len, "private key");
    expect_rejected(both, priv_len + len, "private key");
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    free(both);
    free(priv);
    free(pem);
}

static void test_msgkey_accepts_valid_key(void **state)
{
    char err[512] = "unchanged";
    size_t len;
    char *pem = slurp(KEYDIR "test_v2_public.pem", &len);

    (void)state;
    assert_int_equal(zl_msgkey_check_public_key(pem, len, err, sizeof err), 0);
    free(pem);
}

static void test_msgkey_encryptions_differ(void **state)
{
    char err[512] = "";
    size_t len;
    char *pem = slurp(KEYDIR "test_v1_public.pem", &len);
    static const unsigned char secret[] = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    char *a = NULL, *b = NULL;

    (void)state;
    assert_int_equal(zl_msgkey_encrypt(pem, len, secret, 32, &a, err, sizeof err), 0);
    assert_int_equal(zl_msgkey_encrypt(pem, len, secret, 32, &b, err, sizeof err), 0);
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    free(pem);
}

/* One context kept for many secrets (what the key workers do) wraps each as a fresh one does:
 * each decrypts back, and the same secret twice gives two ciphertexts (fresh padding). */
static void test_msgkey_kept_context(void **state)
{
    char err[512] = "", b64[345];
    size_t pub_len, priv_len, ct_len, out_len;
    char *pub = slurp(KEYDIR "test_v1_public.pem", &pub_len);
    char *priv = slurp(KEYDIR "test_v1_private.pem", &priv_len);
    static const char *const secrets[] = {"AbCdEfGhIjKlMnOpQrStUvWxYz012345", "x",
                                          "AbCdEfGhIjKlMnOpQrStUvWxYz012345"};
    unsigned char ct[3][256], *out = NULL;
    EVP_PKEY *pkey = zl_msgkey_load_public(pub, pub_len, err, sizeof err);
    EVP_PKEY_CTX *ctx = zl_msgkey_encrypt_ctx(pkey);

    (void)state;
    assert_non_null(ctx);
    assert_null(zl_msgkey_encrypt_ctx(NULL));
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(zl_msgkey_encrypt_with(ctx, (const unsigned char *)secrets[i],
                                                strlen(secrets[i]), ct[i], sizeof ct[i], &ct_len,
                                                err, sizeof err),
                         0);
        assert_int_equal(ct_len, 256);
        EVP_EncodeBlock((unsigned char *)b64, ct[i], 256);
        assert_int_equal(
            zl_msgkey_decrypt(priv, priv_len, b64, 344, &out, &out_len, err, sizeof err), 0);
        assert_int_equal(out_len, strlen(secrets[i]));
        assert_memory_equal(out, secrets[i], out_len);
        free(out);
    }
    assert_memory_not_equal(ct[0], ct[2], 256);
    assert_int_equal(zl_msgkey_encrypt_with(ctx, (const unsigned char *)"", 0, ct[0], 256, &ct_len,
                                            err, sizeof err),
                     -1);
    assert_int_equal(zl_msgkey_encrypt_with(ctx, (const unsigned char *)"x", 1, ct[0], 100, &ct_len,
                                            err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "needs 256 bytes"));
    assert_int_equal(zl_msgkey_encrypt_with(NULL, (const unsigned char *)"x", 1, ct[0], 256,
                                            &ct_len, err, sizeof err),
                     -1);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    free(pub);
    free(priv);
}

static void test_msgkey_secret_length_checked(void **state)
{
    char err[512] = "";
    size_t len;
    char *pem = slurp(KEYDIR "test_v1_public.pem", &len);
    unsigned char big[ZL_MSGKEY_MAX_SECRET + 1];
    char *b64 = NULL;

    (void)state;
    memset(big, 'x', sizeof big);
    assert_int_equal(zl_msgkey_encrypt(pem, len, big, 0, &b64, err, sizeof err), -1);
    assert_non_null(strstr(err, "must be 1..245"));
    assert_int_equal(zl_msgkey_encrypt(pem, len, big, sizeof big, &b64, err, sizeof err), -1);
    assert_null(b64);
    assert_int_equal(zl_msgkey_encrypt(pem, len, big, ZL_MSGKEY_MAX_SECRET, &b64, err, sizeof err),
                     0);
    free(b64);
    free(pem);
}

static void test_msgkey_decrypt_rejects_bad_input(void **state)
{
    char err[512] = "";
    size_t priv_len, pub_len;
    char *priv = slurp(KEYDIR "test_v1_private.pem", &priv_len);
    char *pub = slurp(KEYDIR "test_v1_public.pem", &pub_len);
    unsigned char *out = NULL;
    size_t out_len = 0;

    (void)state;
    assert_int_equal(zl_msgkey_decrypt(priv, priv_len, "abc", 3, &out, &out_len, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "multiple of 4"));
    assert_int_equal(zl_msgkey_decrypt(priv, priv_len, "ab*d", 4, &out, &out_len, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "invalid base64"));
    assert_int_equal(zl_msgkey_decrypt(priv, priv_len, "AAAA", 4, &out, &out_len, err, sizeof err),
                     -1);
    assert_int_equal(zl_msgkey_decrypt(pub, pub_len, "AAAA", 4, &out, &out_len, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "private key"));
    assert_null(out);
    free(priv);
    free(pub);
}

static void test_msgkey_generate_secret_format(void **state)
{
    char a[ZL_MSGKEY_SECRET_LEN + 1];
    char b[ZL_MSGKEY_SECRET_LEN + 1];
    char err[256];

    (void)state;
    assert_int_equal(zl_msgkey_generate_secret(a, err, sizeof err), 0);
    assert_int_equal(zl_msgkey_generate_secret(b, err, sizeof err), 0);
    assert_int_equal(strlen(a), ZL_MSGKEY_SECRET_LEN);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                     ZL_MSGKEY_SECRET_LEN);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msgkey_openssl_cli_decrypts),
        cmocka_unit_test(test_msgkey_round_trip),
        cmocka_unit_test(test_msgkey_parsed_once),
        cmocka_unit_test(test_msgkey_wrong_private_key_fails),
        cmocka_unit_test(test_msgkey_rejects_ec_key),
        cmocka_unit_test(test_msgkey_rejects_rsa1024),
        cmocka_unit_test(test_msgkey_rejects_garbage),
        cmocka_unit_test(test_msgkey_accepts_valid_key),
        cmocka_unit_test(test_msgkey_encryptions_differ),
        cmocka_unit_test(test_msgkey_kept_context),
        cmocka_unit_test(test_msgkey_secret_length_checked),
        cmocka_unit_test(test_msgkey_decrypt_rejects_bad_input),
        cmocka_unit_test(test_msgkey_generate_secret_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
