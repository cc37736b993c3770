/* Unit tests for the `zonelab crypto` subcommand, run in-process with tmpfile() streams. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/crypto.h"

#define TOKEN     "QDG6eK"
#define AES_KEY   "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
#define RECEIVEID "wx5823bf96d3bd56c7"
#define V2_BODY   ZL_SOURCE_DIR "/fixtures/captured/v2_callback.xml"
#define V3_BODY   ZL_SOURCE_DIR "/fixtures/captured/v3_callback.json"
#define V1_QUERY                                                                                   \
    "msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce="           \
    "263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8T"  \
    "gAE7OaBO%2BFZXvnaqQ%3D%3D"

static const char V2_PLAIN[] = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n"
                               "<FromUserName><![CDATA[mycreate]]></FromUserName>\n"
                               "<CreateTime>1409659813</CreateTime>\n"
                               "<MsgType><![CDATA[text]]></MsgType>\n"
                               "<Content><![CDATA[hello]]></Content>\n"
                               "<MsgId>4561255354251345929</MsgId>\n"
                               "<AgentID>218</AgentID>\n"
                               "</xml>";

static const char V3_PLAIN[] =
    "{\"ToUserName\":\"wx5823bf96d3bd56c7\",\"FromUserName\":\"mycreate\",\"CreateTime\": "
    "1409659813,\"MsgType\":\"text\",\"Content\":\"hello\",\"MsgId\":4561255354251345929,"
    "\"AgentID\": 218}";

struct run {
    int rc;
    char *out;
    char *err;
};

static char *drain(FILE *f)
{
    long n;
    char *buf;

    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Runs zl_cli_crypto on a NULL-terminated argument list (argv[0] = "crypto"). */
static struct run run_cli(char *first, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    char *a;
    FILE *out = tmpfile();
    FILE *err = tmpfile();
    struct run r;

    assert_non_null(out);
    assert_non_null(err);
    argv[argc++] = (char *)"crypto";
    va_start(ap, first);
    for (a = first; a != NULL && argc < 63; a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    r.rc = zl_cli_crypto(argc, argv, out, err);
    r.out = drain(out);
    r.err = drain(err);
    return r;
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static void expect_in(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

static void test_cli_crypto_decrypts_v2_xml(void **state)
{
    struct run r =
        run_cli("decrypt", "--token", TOKEN, "--aes-key", AES_KEY, "--receiveid", RECEIVEID,
                "--signature", "477715d11cdb4164915debcba66cb864d751f3e6", "--timestamp",
                "1409659813", "--nonce", "1372623149", "--body", V2_BODY, NULL);

    (void)state;
    if (r.rc != 0)
        fail_msg("rc %d, stderr:\n%s", r.rc, r.err);
    assert_int_equal(strlen(r.out), sizeof V2_PLAIN); /* plaintext + '\n' */
    assert_memory_equal(r.out, V2_PLAIN, sizeof V2_PLAIN - 1);
    assert_int_equal(r.out[sizeof V2_PLAIN - 1], '\n');
    run_free(&r);
}

static void test_cli_crypto_decrypts_v3_json_from_query(void **state)
{
    struct run r = run_cli("decrypt", "--token=" TOKEN, "--aes-key=" AES_KEY,
                           "--receiveid=" RECEIVEID, "--query",
                           "msg_signature=0623cbc5a8cbee5bcc137c70de99575366fc2af3&timestamp="
                           "1409659813&nonce=1372623149",
                           "--body", V3_BODY, NULL);

    (void)state;
    if (r.rc != 0)
        fail_msg("rc %d, stderr:\n%s", r.rc, r.err);
    assert_memory_equal(r.out, V3_PLAIN, sizeof V3_PLAIN - 1);
    run_free(&r);
}

static void test_cli_crypto_verify_url_v1(void **state)
{
    struct run r = run_cli("verify-url", "--token", TOKEN, "--aes-key", AES_KEY, "--receiveid",
                           RECEIVEID, "--query", V1_QUERY, NULL);

    (void)state;
    if (r.rc != 0)
        fail_msg("rc %d, stderr:\n%s", r.rc, r.err);
    assert_string_equal(r.out, "1616140317555161061\n");
    run_free(&r);
}

static void test_cli_crypto_wrong_signature_explained(void **state)
{
    struct run r =
        run_cli("decrypt", "--token", TOKEN, "--aes-key", AES_KEY, "--receiveid", RECEIVEID,
                "--signature", "477715d11cdb4164915debcba66cb864d751f3e7", "--timestamp",
                "1409659813", "--nonce", "1372623149", "--body", V2_BODY, NULL);

    (void)state;
    assert_int_equal(r.rc, 1);
    assert_string_equal(r.out, "");
    expect_in(r.err, "error -40001");
    expect_in(r.err, "signature");
    /* the sorted string that was signed, and both digests */
    expect_in(r.err, "13726231491409659813QDG6eKRypEvHKD8QQKFhvQ6QleEB4J58tiPdvo");
    expect_in(r.err, "477715d11cdb4164915debcba66cb864d751f3e6");
    expect_in(r.err, "477715d11cdb4164915debcba66cb864d751f3e7");
    run_free(&r);
}

static void test_cli_crypto_wrong_receiveid(void **state)
{
    struct run r = run_cli("verify-url", "--token", TOKEN, "--aes-key", AES_KEY, "--receiveid",
                           "wx0000000000000000", "--query", V1_QUERY, NULL);

    (void)state;
    assert_int_equal(r.rc, 1);
    expect_in(r.err, "error -40005");
    expect_in(r.err, "receiveid");
    run_free(&r);
}

static void test_cli_crypto_encrypt_round_trip(void **state)
{
    struct run e = run_cli("encrypt", "--token", TOKEN, "--aes-key", AES_KEY, "--receiveid",
                           RECEIVEID, "--timestamp", "1409659589", "--nonce", "263014780",
                           "--random", "0123456789abcdef", "--message", "{\"a\":1}", NULL);

    (void)state;
    if (e.rc != 0)
        fail_msg("rc %d, stderr:\n%s", e.rc, e.err);
    /* D1: fixed random gives the known ciphertext and signature */
    expect_in(e.out, "sKqRbbiSUnDhFHOvPjtUMTISiOuYnSeXh06SBsxjEKNxOSLISuOKQ+fEmhLdcSVPYjHquIxJgrU+"
                     "em1Mm3y1Ow==");
    expect_in(e.out, "<xml>");
    expect_in(e.out, "msg_signature: d514acab3fd29a09605fdce8b9eaabf6c6551099");
    run_free(&e);

    e = run_cli("encrypt", "--token", TOKEN, "--aes-key", AES_KEY, "--receiveid", RECEIVEID,
                "--timestamp", "1409659589", "--nonce", "263014780", "--random", "0123456789abcdef",
                "--json", "--message", "{\"a\":1}", NULL);
    if (e.rc != 0)
        fail_msg("rc %d, stderr:\n%s", e.rc, e.err);
    expect_in(e.out, "\"msgsignature\"");
    expect_in(e.out, "d514acab3fd29a09605fdce8b9eaabf6c6551099");
    run_free(&e);
}

static void test_cli_crypto_bad_key(void **state)
{
    struct run r = run_cli("verify-url", "--token", TOKEN, "--aes-key", "short", "--receiveid",
                           RECEIVEID, "--query", V1_QUERY, NULL);

    (void)state;
    assert_int_equal(r.rc, 1);
    expect_in(r.err, "error -40004");
    run_free(&r);
}

static void test_cli_crypto_usage_errors(void **state)
{
    struct run r;

    (void)state;
    r = run_cli("bogus", NULL);
    assert_int_equal(r.rc, 2);
    expect_in(r.err, "unknown mode 'bogus'");
    expect_in(r.err, "usage: zonelab crypto");
    run_free(&r);

    r = run_cli(NULL);
    assert_int_equal(r.rc, 2);
    expect_in(r.err, "usage:");
    run_free(&r);

    r = run_cli("decrypt", "--token", TOKEN, "--aes-key", AES_KEY, "--receiveid", RECEIVEID,
                "--timestamp", "1", "--nonce", "2", NULL);
    assert_int_equal(r.rc, 2);
    expect_in(r.err, "missing --signature");
    run_free(&r);

    r = run_cli("verify-url", "--aes-key", AES_KEY, "--receiveid", "", "--query", V1_QUERY, NULL);
    assert_int_equal(r.rc, 2);
    expect_in(r.err, "missing --token");
    run_free(&r);

    r = run_cli("verify-url", "--token", TOKEN, "--aes-key", AES_KEY, "--query", V1_QUERY, NULL);
    assert_int_equal(r.rc, 2);
    expect_in(r.err, "missing --receiveid");
    run_free(&r);

    r = run_cli("encrypt", "--token", TOKEN, "--bogus", "x", NULL);
    assert_int_equal(r.rc, 2);
    expect_in(r.err, "unknown option '--bogus'");
    run_free(&r);

    r = run_cli("verify-url", "--json", NULL);
    assert_int_equal(r.rc, 2);
    expect_in(r.err, "does not apply");
    run_free(&r);

    r = run_cli("decrypt", "--token", NULL);
    assert_int_equal(r.rc, 2);
    expect_in(r.err, "needs a value");
    run_free(&r);

    r = run_cli("verify-url", "--token", TOKEN, "--aes-key", AES_KEY, "--receiveid", RECEIVEID,
                "--query", "timestamp=1&nonce=2", NULL);
    assert_int_equal(r.rc, 2);
    expect_in(r.err, "msg_signature, timestamp, nonce and echostr");
    run_free(&r);

    r = run_cli("--help", NULL);
    assert_int_equal(r.rc, 0);
    expect_in(r.out, "verify-url");
    run_free(&r);
}

static void test_cli_crypto_missing_body_file(void **state)
{
    struct run r = run_cli("decrypt", "--token", TOKEN, "--aes-key", AES_KEY, "--receiveid",
                           RECEIVEID, "--signature", "x", "--timestamp", "1", "--nonce", "2",
                           "--body", ZL_SOURCE_DIR "/fixtures/captured/no-such-file", NULL);

    (void)state;
    assert_int_equal(r.rc, 1);
    expect_in(r.err, "cannot open");
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_crypto_decrypts_v2_xml),
        cmocka_unit_test(test_cli_crypto_decrypts_v3_json_from_query),
        cmocka_unit_test(test_cli_crypto_verify_url_v1),
        cmocka_unit_test(test_cli_crypto_wrong_signature_explained),
        cmocka_unit_test(test_cli_crypto_wrong_receiveid),
        cmocka_unit_test(test_cli_crypto_encrypt_round_trip),
        cmocka_unit_test(test_cli_crypto_bad_key),
        cmocka_unit_test(test_cli_crypto_usage_errors),
        cmocka_unit_test(test_cli_crypto_missing_body_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
