/* Unit tests for protocol: §11 subset matching of request/response JSON and the §12 diagnoses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wecom/protocol.h"

/* The Java/C++ sample's invoke_sync_msg input protocol from spec §11. */
static const char SPEC_EXAMPLE[] = "{\"cursor\":\"\",\"limit\":0,\"token\":\"\"}";

static const char PY_EXAMPLE[] = "{\"input\":{\"func\":\"\",\"func_req\":{\"limit\":0}}}";

/* Parses a known-good example; fails the test if it is not accepted. */
static cJSON *example(const char *json)
{
    zl_protocol_diag d;
    cJSON *ex;

    assert_int_equal(zl_protocol_check_example(json, strlen(json), &d), 0);
    ex = cJSON_Parse(json);
    assert_non_null(ex);
    return ex;
}

static int req(const cJSON *ex, const char *text, const zl_protocol_options *opt,
               zl_protocol_diag *d)
{
    return zl_protocol_check_request(ex, text, strlen(text), opt, d);
}

static int resp(const cJSON *ex, const char *text, zl_protocol_diag *d)
{
    return zl_protocol_check_response(ex, text, strlen(text), NULL, d);
}

/* The diagnosis is coherent with its code: strings terminated, sentence filled iff code != 0. */
static void assert_diag_sane(const zl_protocol_diag *d, int rc)
{
    assert_int_equal(d->code, rc);
    assert_true(memchr(d->path, '\0', sizeof d->path) != NULL);
    assert_true(memchr(d->expected, '\0', sizeof d->expected) != NULL);
    assert_true(memchr(d->actual, '\0', sizeof d->actual) != NULL);
    assert_true(memchr(d->sentence, '\0', sizeof d->sentence) != NULL);
    if (rc == 0) {
        assert_string_equal(d->path, "");
        assert_string_equal(d->sentence, "");
    } else {
        assert_true(strlen(d->sentence) > 10);
    }
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("\"%s\" not found in \"%s\"", needle, haystack);
}

static void expect_mismatch(const cJSON *ex, const char *text, const zl_protocol_options *opt,
                            const char *path, const char *expected, const char *actual)
{
    zl_protocol_diag d;

    assert_int_equal(req(ex, text, opt, &d), 790016);
    assert_diag_sane(&d, 790016);
    assert_string_equal(d.path, path);
    assert_string_equal(d.expected, expected);
    assert_string_equal(d.actual, actual);
}

static void expect_ok(const cJSON *ex, const char *text, const zl_protocol_options *opt)
{
    zl_protocol_diag d;
    int rc = req(ex, text, opt, &d);

    if (rc != 0)
        fail_msg("%s: %d %s", text, rc, d.sentence);
    assert_diag_sane(&d, 0);
}

static void test_protocol_spec_example_matches_subset(void **state)
{
    cJSON *ex = example(SPEC_EXAMPLE);

    (void)state;
    expect_ok(ex, "{\"limit\":50}", NULL);
    expect_ok(ex, "{}", NULL);
    expect_ok(ex, " {\"cursor\":\"c1\",\"limit\":1.5,\"token\":\"t\"}\n", NULL);
    expect_ok(ex, "{\"limit\":1,\"limit\":2}", NULL);
    cJSON_Delete(ex);
}

static void test_protocol_spec_example_type_mismatch(void **state)
{
    cJSON *ex = example(SPEC_EXAMPLE);
    zl_protocol_diag d;

    (void)state;
    expect_mismatch(ex, "{\"limit\":\"50\"}", NULL, "$.limit", "number", "string");
    req(ex, "{\"limit\":\"50\"}", NULL, &d);
    assert_contains(d.sentence, "$.limit");
    assert_contains(d.sentence, "a number");
    assert_contains(d.sentence, "a string");
    expect_mismatch(ex, "{\"cursor\":true}", NULL, "$.cursor", "string", "boolean");
    cJSON_Delete(ex);
}

static void test_protocol_spec_example_unknown_key(void **state)
{
    cJSON *ex = example(SPEC_EXAMPLE);
    zl_protocol_diag d;

    (void)state;
    expect_mismatch(ex, "{\"limit\":50,\"mode\":1}", NULL, "$.mode", "absent", "number");
    req(ex, "{\"limit\":50,\"mode\":1}", NULL, &d);
    assert_contains(d.sentence, "key \"mode\"");
    assert_contains(d.sentence,
                    "is not in the protocol example (allowed keys: cursor, limit, token)");
    /* Keys are case-sensitive. */
    expect_mismatch(ex, "{\"Limit\":50}", NULL, "$.Limit", "absent", "number");
    cJSON_Delete(ex);
}

static void test_protocol_request_not_json(void **state)
{
    cJSON *ex = example(SPEC_EXAMPLE);
    zl_protocol_diag d;

    (void)state;
    assert_int_equal(req(ex, "{\"limit\":}", NULL, &d), 790015);
    assert_diag_sane(&d, 790015);
    assert_string_equal(d.path, "");
    assert_contains(d.sentence, "request_data is not JSON");
    assert_contains(d.sentence, "byte offset 9 ");

    assert_int_equal(req(ex, "{\"limit\":1} x", NULL, &d), 790015);
    assert_contains(d.sentence, "byte offset 12 ");
    assert_contains(d.sentence, "more text after");

    assert_int_equal(req(ex, "", NULL, &d), 790015);
    assert_contains(d.sentence, "empty");
    assert_int_equal(zl_protocol_check_request(ex, NULL, 0, NULL, &d), 790015);
    assert_int_equal(req(ex, "{'limit':1}", NULL, NULL), 790015);
    cJSON_Delete(ex);
}

static void test_protocol_request_length_not_terminated(void **state)
{
    cJSON *ex = example(SPEC_EXAMPLE);
    const char *text = "{\"limit\":1}";
    size_t len = strlen(text);
    char *exact = malloc(len);
    zl_protocol_diag d;

    (void)state;
    assert_non_null(exact);
    memcpy(exact, text, len); /* no NUL: ASan reports any read past len */
    assert_int_equal(zl_protocol_check_request(ex, exact, len, NULL, &d), 0);
    assert_int_equal(zl_protocol_check_request(ex, exact, len - 1, NULL, &d), 790015);
    assert_int_equal(zl_protocol_check_request(ex, "{\"limit\":1}{garbage", len, NULL, &d), 0);
    free(exact);
    cJSON_Delete(ex);
}

static void test_protocol_response_codes(void **state)
{
    cJSON *ex = example("{\"errcode\":0,\"errmsg\":\"\",\"msg_list\":[{\"msgid\":\"\"}]}");
    zl_protocol_options opt = {0};
    zl_protocol_diag d;

    (void)state;
    assert_int_equal(resp(ex, "{\"errcode\":0,\"errmsg\":\"ok\",\"msg_list\":[]}", &d), 0);
    assert_diag_sane(&d, 0);
    assert_int_equal(resp(ex, "{\"errcode\":0,", &d), 790013);
    assert_diag_sane(&d, 790013);
    assert_contains(d.sentence, "response_data is not JSON");
    assert_int_equal(resp(ex, "{\"errcode\":\"0\"}", &d), 790014);
    assert_diag_sane(&d, 790014);
    assert_string_equal(d.path, "$.errcode");
    assert_contains(d.sentence, "reply");
    /* input_mismatch_code applies to requests only. */
    opt.input_mismatch_code = 710647;
    assert_int_equal(zl_protocol_check_response(ex, "{\"x\":1}", 7, &opt, &d), 790014);
    cJSON_Delete(ex);
}

static void test_protocol_nested_object_path(void **state)
{
    cJSON *ex = example(PY_EXAMPLE);

    (void)state;
    expect_ok(ex, "{\"input\":{\"func\":\"sync\",\"func_req\":{\"limit\":10}}}", NULL);
    expect_mismatch(ex, "{\"input\":{\"func\":\"sync\",\"func_req\":{\"limit\":\"10\"}}}", NULL,
                    "$.input.func_req.limit", "number", "string");
    expect_mismatch(ex, "{\"input\":{\"func_req\":{\"cursor\":\"\"}}}", NULL,
                    "$.input.func_req.cursor", "absent", "string");
    expect_mismatch(ex, "{\"input\":{\"func_req\":[]}}", NULL, "$.input.func_req", "object",
                    "array");
    cJSON_Delete(ex);
}

static void test_protocol_array_index_path(void **state)
{
    cJSON *ex = example("{\"list\":[{\"id\":\"\",\"n\":0}],\"ids\":[\"\"]}");

    (void)state;
    expect_ok(ex, "{\"list\":[{\"id\":\"a\"},{\"n\":2},{}],\"ids\":[]}", NULL);
    expect_mismatch(ex, "{\"list\":[{\"id\":\"a\"},{\"id\":\"b\"},{\"id\":3}]}", NULL,
                    "$.list[2].id", "string", "number");
    expect_mismatch(ex, "{\"ids\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",1]}",
                    NULL, "$.ids[10]", "string", "number");
    expect_mismatch(ex, "{\"list\":[{\"id\":\"a\",\"x\":null}]}", NULL, "$.list[0].x", "absent",
                    "null");
    cJSON_Delete(ex);
}

static void test_protocol_odd_keys_escaped_in_path(void **state)
{
    cJSON *ex = example("{\"a\":0}");
    zl_protocol_diag d;
    char long_key[400];
    char text[512];

    (void)state;
    expect_mismatch(ex, "{\"my key\":1}", NULL, "$[\"my key\"]", "absent", "number");
    expect_mismatch(ex, "{\"q\\\"\\u0001\":1}", NULL, "$[\"q\\\"\\u0001\"]", "absent", "number");
    expect_mismatch(ex, "{\"\xff\xc3\xa9\":1}", NULL, "$[\"\\xFF\xc3\xa9\"]", "absent", "number");
    expect_mismatch(ex, "{\"\":1}", NULL, "$[\"\"]", "absent", "number");

    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    snprintf(text, sizeof text, "{\"%s\":1}", long_key);
    assert_int_equal(req(ex, text, NULL, &d), 790016);
    assert_true(strlen(d.path) < sizeof d.path);
    assert_int_equal(strncmp(d.path, "$.kkk", 5), 0);
    assert_string_equal(d.path + strlen(d.path) - 3, "...");
    assert_true(strlen(d.sentence) < sizeof d.sentence);
    cJSON_Delete(ex);
}

static void test_protocol_empty_example_array_accepts_anything(void **state)
{
    cJSON *ex = example("{\"tags\":[]}");

    (void)state;
    expect_ok(ex, "{\"tags\":[1,\"a\",{\"x\":[null]},[[]],true,null]}", NULL);
    expect_ok(ex, "{\"tags\":[]}", NULL);
    expect_mismatch(ex, "{\"tags\":{}}", NULL, "$.tags", "array", "object");
    expect_mismatch(ex, "{\"tags\":null}", NULL, "$.tags", "array", "null");
    cJSON_Delete(ex);
}

static void test_protocol_null_matches_only_null(void **state)
{
    cJSON *ex_null = example("{\"a\":null}");
    cJSON *ex_str = example("{\"a\":\"\",\"o\":{\"b\":0}}");
    zl_protocol_options opt = {0};

    (void)state;
    expect_ok(ex_null, "{\"a\":null}", NULL);
    expect_mismatch(ex_null, "{\"a\":1}", NULL, "$.a", "null", "number");
    expect_mismatch(ex_null, "{\"a\":{}}", NULL, "$.a", "null", "object");
    expect_mismatch(ex_str, "{\"a\":null}", NULL, "$.a", "string", "null");
    expect_mismatch(ex_str, "{\"o\":null}", NULL, "$.o", "object", "null");

    opt.null_matches_any = 1;
    expect_ok(ex_str, "{\"a\":null,\"o\":null}", &opt);
    expect_ok(ex_str, "{\"o\":{\"b\":null}}", &opt);
    expect_mismatch(ex_null, "{\"a\":1}", &opt, "$.a", "null", "number");
    cJSON_Delete(ex_null);
    cJSON_Delete(ex_str);
}

static void test_protocol_empty_example_accepts_only_empty_object(void **state)
{
    cJSON *ex = example("{}");
    zl_protocol_diag d;

    (void)state;
    expect_ok(ex, "{}", NULL);
    expect_ok(ex, " { } ", NULL);
    expect_mismatch(ex, "{\"a\":1}", NULL, "$.a", "absent", "number");
    req(ex, "{\"a\":1}", NULL, &d);
    assert_contains(d.sentence, "allows no keys");
    expect_mismatch(ex, "[]", NULL, "$", "object", "array");
    cJSON_Delete(ex);
}

static void test_protocol_top_level_must_be_object(void **state)
{
    cJSON *ex = example(SPEC_EXAMPLE);
    zl_protocol_diag d;

    (void)state;
    expect_mismatch(ex, "[{\"limit\":1}]", NULL, "$", "object", "array");
    expect_mismatch(ex, "\"{\\\"limit\\\":1}\"", NULL, "$", "object", "string");
    expect_mismatch(ex, "null", NULL, "$", "object", "null");
    expect_mismatch(ex, "50", NULL, "$", "object", "number");
    req(ex, "[1]", NULL, &d);
    assert_contains(d.sentence, "must be a JSON object");
    assert_contains(d.sentence, "an array");
    cJSON_Delete(ex);
}

static void test_protocol_option_distinguish_integers(void **state)
{
    cJSON *ex = example("{\"n\":0,\"f\":0.5}");
    zl_protocol_options opt = {0};

    (void)state;
    expect_ok(ex, "{\"n\":1.5,\"f\":2}", NULL);
    opt.distinguish_integers = 1;
    expect_ok(ex, "{\"n\":2,\"f\":2.25}", &opt);
    expect_ok(ex, "{\"n\":1e2}", &opt);
    expect_mismatch(ex, "{\"n\":1.5}", &opt, "$.n", "integer", "number");
    expect_mismatch(ex, "{\"f\":2}", &opt, "$.f", "number", "integer");
    cJSON_Delete(ex);
}

static void test_protocol_option_skip_array_contents(void **state)
{
    cJSON *ex = example("{\"l\":[0]}");
    zl_protocol_options opt = {0};

    (void)state;
    expect_mismatch(ex, "{\"l\":[1,\"a\"]}", NULL, "$.l[1]", "number", "string");
    opt.skip_array_contents = 1;
    expect_ok(ex, "{\"l\":[1,\"a\",{}]}", &opt);
    expect_mismatch(ex, "{\"l\":{}}", &opt, "$.l", "array", "object");
    cJSON_Delete(ex);
}

static void test_protocol_option_top_level_only(void **state)
{
    cJSON *ex = example("{\"o\":{\"a\":0},\"l\":[0]}");
    zl_protocol_options opt = {0};

    (void)state;
    expect_mismatch(ex, "{\"o\":{\"b\":\"x\"}}", NULL, "$.o.b", "absent", "string");
    opt.top_level_only = 1;
    expect_ok(ex, "{\"o\":{\"b\":\"x\"},\"l\":[\"s\"]}", &opt);
    expect_mismatch(ex, "{\"o\":1}", &opt, "$.o", "object", "number");
    expect_mismatch(ex, "{\"z\":1}", &opt, "$.z", "absent", "number");
    cJSON_Delete(ex);
}

static void test_protocol_option_input_mismatch_code(void **state)
{
    cJSON *ex = example(SPEC_EXAMPLE);
    zl_protocol_options opt = {0};
    zl_protocol_diag d;

    (void)state;
    opt.input_mismatch_code = 710647;
    assert_int_equal(req(ex, "{\"mode\":1}", &opt, &d), 710647);
    assert_diag_sane(&d, 710647);
    assert_int_equal(req(ex, "{\"limit\":1}", &opt, &d), 0);
    assert_int_equal(req(ex, "{", &opt, &d), 790015);
    opt.input_mismatch_code = 790016;
    assert_int_equal(req(ex, "{\"mode\":1}", &opt, &d), 790016);
    cJSON_Delete(ex);
}

static void test_protocol_wrapper_sent_to_bare_protocol(void **state)
{
    cJSON *ex = example(SPEC_EXAMPLE);
    zl_protocol_diag d;

    (void)state;
    assert_int_equal(
        req(ex, "{\"input\":{\"func\":\"invoke_sync_msg\",\"func_req\":{\"limit\":10}}}", NULL, &d),
        790016);
    assert_diag_sane(&d, 790016);
    assert_string_equal(d.path, "$.input");
    assert_string_equal(d.expected, "absent");
    assert_string_equal(d.actual, "object");
    assert_contains(d.sentence, "request_data is the Python sample's");
    assert_contains(d.sentence, "wrapper");
    assert_contains(d.sentence, "bare key/value pairs (cursor, limit, token)");
    assert_contains(d.sentence, "send the func_req contents as request_data");

    /* An "input" key without "func" is not the sample's wrapper. */
    assert_int_equal(req(ex, "{\"input\":{\"limit\":10}}", NULL, &d), 790016);
    assert_true(strstr(d.sentence, "Python") == NULL);
    assert_contains(d.sentence, "key \"input\"");
    cJSON_Delete(ex);
}

static void test_protocol_wrapper_lists_at_most_eight_keys(void **state)
{
    cJSON *ex = example("{\"k1\":0,\"k2\":0,\"k3\":0,\"k4\":0,\"k5\":0,\"k6\":0,\"k7\":0,\"k8\":0,"
                        "\"k9\":0,\"k10\":0}");
    zl_protocol_diag d;

    (void)state;
    assert_int_equal(req(ex, "{\"input\":{\"func\":\"f\"}}", NULL, &d), 790016);
    assert_contains(d.sentence, "(k1, k2, k3, k4, k5, k6, k7, k8, ...)");
    assert_true(strstr(d.sentence, "k9") == NULL);
    cJSON_Delete(ex);
}

static void test_protocol_bare_pairs_sent_to_wrapper_protocol(void **state)
{
    cJSON *ex = example(PY_EXAMPLE);
    zl_protocol_diag d;

    (void)state;
    assert_int_equal(req(ex, "{\"limit\":10}", NULL, &d), 790016);
    assert_diag_sane(&d, 790016);
    assert_string_equal(d.path, "$.limit");
    assert_contains(d.sentence, "request_data has bare key/value pairs (limit)");
    assert_contains(d.sentence, "expects the Python sample's");
    assert_contains(d.sentence, "{\"input\":{\"func\":");
    cJSON_Delete(ex);
}

static void test_protocol_output_wrapper_both_directions(void **state)
{
    cJSON *bare = example("{\"errcode\":0,\"errmsg\":\"\"}");
    cJSON *wrapped = example("{\"output\":\"\"}");
    zl_protocol_diag d;

    (void)state;
    assert_int_equal(resp(bare, "{\"output\":\"xxx\"}", &d), 790014);
    assert_contains(d.sentence, "{\"output\":...} wrapper");
    assert_contains(d.sentence, "bare key/value pairs (errcode, errmsg)");
    assert_int_equal(resp(wrapped, "{\"errcode\":0}", &d), 790014);
    assert_contains(d.sentence, "response_data has bare key/value pairs (errcode)");
    assert_int_equal(resp(wrapped, "{\"output\":\"xxx\"}", &d), 0);
    cJSON_Delete(bare);
    cJSON_Delete(wrapped);
}

static void test_protocol_bad_example_790012(void **state)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[1]",
        "\"{}\"",
        "{\"a\":1",
        "{} x",
        "{\"a\":1,\"a\":\"s\"}",
        "{\"o\":{\"b\":[{\"c\":0,\"c\":1}]}}",
    };
    zl_protocol_diag d;
    cJSON *arr = cJSON_Parse("[1]");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(zl_protocol_check_example(bad[i], strlen(bad[i]), &d), 790012);
        assert_diag_sane(&d, 790012);
    }
    assert_int_equal(zl_protocol_check_example("[1]", 3, &d), 790012);
    assert_contains(d.sentence, "must be a JSON object");
    assert_int_equal(zl_protocol_check_example("x", 1, &d), 790012);
    assert_contains(d.sentence, "not JSON");
    assert_int_equal(zl_protocol_check_example(bad[7], strlen(bad[7]), &d), 790012);
    assert_contains(d.sentence, "key \"c\" more than once");
    assert_string_equal(d.path, "$.o.b[0]");
    assert_int_equal(zl_protocol_check_example(NULL, 0, NULL), 790012);
    assert_int_equal(zl_protocol_check_example("{}", 2, &d), 0);
    assert_diag_sane(&d, 0);

    /* The request check refuses an unusable example instead of crashing. */
    assert_int_equal(req(NULL, "{}", NULL, &d), 790012);
    assert_contains(d.sentence, "missing");
    assert_int_equal(req(arr, "{}", NULL, &d), 790012);
    assert_contains(d.sentence, "not a JSON object");
    cJSON_Delete(arr);
}

static void test_protocol_errmsg_texts(void **state)
{
    (void)state;
    assert_string_equal(zl_protocol_errmsg(790012), "illegal json template");
    assert_string_equal(zl_protocol_errmsg(790013), "illegal json result");
    assert_string_equal(zl_protocol_errmsg(790014), "json result does not match the template");
    assert_string_equal(zl_protocol_errmsg(790015), "illegal json request");
    assert_string_equal(zl_protocol_errmsg(790016), "json request does not match the template");
    assert_string_equal(zl_protocol_errmsg(710647), "input protocol mismatch");
    assert_null(zl_protocol_errmsg(0));
    assert_null(zl_protocol_errmsg(40058));
}

/* {"a": followed by n levels of arrays, then closed: n + 1 levels in all. */
static char *nested(size_t n)
{
    char *s = malloc(2 * n + 8);
    size_t i, o = 0;

    assert_non_null(s);
    memcpy(s, "{\"a\":", 5);
    o = 5;
    for (i = 0; i < n; i++)
        s[o++] = '[';
    for (i = 0; i < n; i++)
        s[o++] = ']';
    s[o++] = '}';
    s[o] = '\0';
    return s;
}

static void test_protocol_deep_nesting_refused(void **state)
{
    cJSON *ex = example("{\"a\":[]}");
    zl_protocol_diag d;
    char *s;

    (void)state;
    s = nested(ZL_PROTOCOL_MAX_DEPTH - 1);
    expect_ok(ex, s, NULL);
    free(s);

    s = nested(ZL_PROTOCOL_MAX_DEPTH);
    assert_int_equal(req(ex, s, NULL, &d), 790016);
    assert_diag_sane(&d, 790016);
    assert_string_equal(d.actual, "array");
    assert_contains(d.sentence, "more than 64 levels");
    assert_int_equal(strncmp(d.path, "$.a[0][0]", 9), 0);
    free(s);

    s = nested(800); /* cJSON parses it; the emulator refuses it */
    assert_int_equal(req(ex, s, NULL, &d), 790016);
    assert_contains(d.sentence, "more than 64 levels");
    free(s);

    s = nested(200000); /* beyond cJSON's nesting limit */
    assert_int_equal(req(ex, s, NULL, &d), 790015);
    assert_diag_sane(&d, 790015);
    assert_contains(d.sentence, "more than 1000 levels");
    free(s);

    s = nested(ZL_PROTOCOL_MAX_DEPTH);
    assert_int_equal(zl_protocol_check_example(s, strlen(s), &d), 790012);
    assert_contains(d.sentence, "more than 64 levels");
    free(s);
    cJSON_Delete(ex);
}

static void test_protocol_arbitrary_bytes_never_crash(void **state)
{
    static const char alphabet[] =
        "{}[]\":,0123456789.eE+-truefalsnl \\/u\t\n\x01\x7f\x80\xc3\xa9\xff";
    cJSON *ex = example("{\"a\":[{\"b\":\"\"}],\"c\":{\"d\":0},\"e\":[]}");
    zl_protocol_options opt = {0};
    zl_protocol_diag d;
    uint32_t x = 12345;
    char *buf;
    int i, rc;
    size_t j, len;

    (void)state;
    for (i = 0; i < 3000; i++) {
        len = (size_t)(i % 97) + 1;
        buf = malloc(len);
        assert_non_null(buf);
        for (j = 0; j < len; j++) {
            x = x * 1103515245u + 12345u;
            buf[j] = alphabet[(x >> 16) % (sizeof alphabet - 1)];
        }
        if (i % 3 == 0)
            buf[0] = '{';
        opt.distinguish_integers = i & 1;
        opt.null_matches_any = (i >> 1) & 1;
        rc = zl_protocol_check_request(ex, buf, len, &opt, &d);
        assert_true(rc == 0 || rc == 790015 || rc == 790016);
        assert_diag_sane(&d, rc);
        rc = zl_protocol_check_response(ex, buf, len, NULL, &d);
        assert_true(rc == 0 || rc == 790013 || rc == 790014);
        rc = zl_protocol_check_example(buf, len, &d);
        assert_true(rc == 0 || rc == 790012);
        free(buf);
    }
    cJSON_Delete(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_spec_example_matches_subset),
        cmocka_unit_test(test_protocol_spec_example_type_mismatch),
        cmocka_unit_test(test_protocol_spec_example_unknown_key),
        cmocka_unit_test(test_protocol_request_not_json),
        cmocka_unit_test(test_protocol_request_length_not_terminated),
        cmocka_unit_test(test_protocol_response_codes),
        cmocka_unit_test(test_protocol_nested_object_path),
        cmocka_unit_test(test_protocol_array_index_path),
        cmocka_unit_test(test_protocol_odd_keys_escaped_in_path),
        cmocka_unit_test(test_protocol_empty_example_array_accepts_anything),
        cmocka_unit_test(test_protocol_null_matches_only_null),
        cmocka_unit_test(test_protocol_empty_example_accepts_only_empty_object),
        cmocka_unit_test(test_protocol_top_level_must_be_object),
        cmocka_unit_test(test_protocol_option_distinguish_integers),
        cmocka_unit_test(test_protocol_option_skip_array_contents),
        cmocka_unit_test(test_protocol_option_top_level_only),
        cmocka_unit_test(test_protocol_option_input_mismatch_code),
        cmocka_unit_test(test_protocol_wrapper_sent_to_bare_protocol),
        cmocka_unit_test(test_protocol_wrapper_lists_at_most_eight_keys),
        cmocka_unit_test(test_protocol_bare_pairs_sent_to_wrapper_protocol),
        cmocka_unit_test(test_protocol_output_wrapper_both_directions),
        cmocka_unit_test(test_protocol_bad_example_790012),
        cmocka_unit_test(test_protocol_errmsg_texts),
        cmocka_unit_test(test_protocol_deep_nesting_refused),
        cmocka_unit_test(test_protocol_arbitrary_bytes_never_crash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
