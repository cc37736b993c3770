/* Unit tests for jsoncheck: the same answer as cJSON_ParseWithOpts(text, NULL, 1), always. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsoncheck.h"

static void expect_as_cjson(const char *text)
{
    cJSON *j = cJSON_ParseWithOpts(text, NULL, 1);
    int want = j != NULL;

    cJSON_Delete(j);
    if (zone_json_check(text) != want)
        fail_msg("cJSON says %d, zone_json_check %d, for \"%s\"", want, !want, text);
}

static void test_jsoncheck_corpus(void **state)
{
    static const char *const texts[] = {
        "{}",
        "[]",
        "null",
        "true",
        "false",
        "nul",
        "truex",
        "0",
        "-0",
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "1e5",
        "1E-5",
        "1.5e3",
        "0x10",
        "1-2",
        "--1",
        "1..2",
        "1e5e5",
        "-.5",
        "123456789012345678901234567890123456789012345678901234567890123",
        "1234567890123456789012345678901234567890123456789012345678901234",
        "0.00000000000000000000000000000000000000000000000000000000000001e5",
        "\"\"",
        "\"a",
        "\"a\\\"",
        "\"\\\"\"",
        "\"\\/\\b\\f\\n\\r\\t\\\\\"",
        "\"\\x\"",
        "\"\\u00e9\"",
        "\"\\u00\"",
        "\"\\uZZZZ\"",
        "\"\\u12G4\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud83d\\u0041\"",
        "\"\\ud83d\"x",
        "\"\\ud83d\\ude0\"",
        "\"raw\x01\x1f\tbytes\"",
        "\"\xff\xfe\"",
        "\xEF\xBB\xBF{}",
        "\xEF\xBB\xBF",
        "\xEF\xBB",
        " \t\r\n\v\f\x01{} \x1f",
        "",
        " ",
        "{} {}",
        "{},",
        "[1,]",
        "[,1]",
        "[1 2]",
        "[1,,2]",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{a:1}",
        "{\"a\" : 1 , \"b\" : [ true , null ] }",
        "{\"a\":1\"b\":2}",
        "{1:2}",
        "[\"a\",{\"b\":[{}]}]",
        "[",
        "]",
        "{",
        "}",
        "[[]",
        "[]]",
        "{\"errcode\":0,\"errmsg\":\"ok\",\"has_more\":1,\"msg_list\":[{\"seq\":1,\"t\":-2.5e3}]}",
    };
    char deep[2 * 1002 + 1], longnum[400];

    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        expect_as_cjson(texts[i]);
    for (size_t depth = 998; depth <= 1002; depth++) { /* cJSON's nesting limit is 1000 */
        memset(deep, '[', depth);
        memset(deep + depth, ']', depth);
        deep[2 * depth] = '\0';
        expect_as_cjson(deep);
        memset(deep, '{', depth);
        deep[depth] = '\0';
        expect_as_cjson(deep);
    }
    for (size_t len = 60; len < 300; len += 7) { /* long numbers, whole and not */
        memset(longnum, '7', len);
        longnum[len] = '\0';
        expect_as_cjson(longnum);
        strcpy(longnum + len, ".5e-3");
        expect_as_cjson(longnum);
        strcpy(longnum + len, "e5e5");
        expect_as_cjson(longnum);
        longnum[0] = '-';
        expect_as_cjson(longnum);
    }
    assert_int_equal(zone_json_check(NULL), 0);
}

/* Every byte of a reply replaced by each of the bytes that matter to the grammar, and every
 * cut of it: thousands of near-JSON texts, each answered as cJSON answers it. */
static void test_jsoncheck_mutations(void **state)
{
    static const char base[] =
        "{\"errcode\":0,\"errmsg\":\"ok\",\"has_more\":1,\"next_cursor\":\"c-1\",\"msg_list\":[{"
        "\"msgid\":\"m1\",\"seq\":12,\"send_time\":1793808000,\"content\":\"{\\\"k\\\":"
        "\\\"v\\\\n\\\"}\","
        "\"service_encrypt_info\":{\"encrypted_secret_key\":\"QUJD+/==\",\"public_key_ver\":1},"
        "\"sender\":{\"type\":1,\"id\":\"zhangsan\"},\"receiver_list\":[{\"type\":1,\"id\":"
        "\"lisi\"}],"
        "\"f\":-0.5e-3,\"u\":\"\\ud83d\\ude00\\u00e9\",\"b\":[true,false,null]}]}";
    static const char subst[] = "\"\\{}[]:,u0-e.E+ \x01ntfa";
    char buf[sizeof base];
    size_t n = sizeof base - 1;

    (void)state;
    expect_as_cjson(base);
    assert_int_equal(zone_json_check(base), 1);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof subst - 1; k++) {
            memcpy(buf, base, sizeof base);
            buf[i] = subst[k];
            expect_as_cjson(buf);
        }
        memcpy(buf, base, i); /* cut after i bytes */
        buf[i] = '\0';
        expect_as_cjson(buf);
        memcpy(buf, base, i); /* byte i left out */
        memcpy(buf + i, base + i + 1, n - i);
        expect_as_cjson(buf);
    }
}

/* Strings long enough for the 16-byte scan, with a quote, a backslash and its escape at
 * every offset of the step, each text answered as cJSON answers it. */
static void test_jsoncheck_long_strings(void **state)
{
    static const char *const specials[] = {"\\\"", "\\\\", "\\n",  "\\u00e9", "\\x",
                                           "\"",   "\\",   "\x01", "\xc3\xa9"};
    char buf[128];

    (void)state;
    for (size_t at = 0; at < 40; at++)
        for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++)
            for (size_t tail = 0; tail < 24; tail += 5) {
                size_t n = 0;

                buf[n++] = '[';
                buf[n++] = '"';
                memset(buf + n, 'a', at);
                n += at;
                memcpy(buf + n, specials[k], strlen(specials[k]));
                n += strlen(specials[k]);
                memset(buf + n, 'b', tail);
                n += tail;
                memcpy(buf + n, "\"]", 3);
                expect_as_cjson(buf);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsoncheck_corpus),
        cmocka_unit_test(test_jsoncheck_mutations),
        cmocka_unit_test(test_jsoncheck_long_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
