/* test_journal: order, merge of details, the ring's cap and the since query; the JSON printer
 * its entries are written with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/journal.h"
#include "core/json.h"

static void test_journal_entries_in_order(void **state)
{
    zl_journal *j = zl_journal_new(100);
    cJSON *d = cJSON_CreateObject(), *all, *e;

    (void)state;
    cJSON_AddStringToObject(d, "api", "sync_msg");
    cJSON_AddStringToObject(d, "kind", "must not override");
    assert_int_equal(zl_journal_add(j, 1000, "sdk", "invoke", d), 1);
    assert_int_equal(zl_journal_add(j, 2000, "app", "gettoken", NULL), 2);
    assert_int_equal(zl_journal_last(j), 2);
    all = zl_journal_since(j, 0, 10);
    assert_int_equal(cJSON_GetArraySize(all), 2);
    e = cJSON_GetArrayItem(all, 0);
    assert_int_equal(cJSON_GetObjectItem(e, "seq")->valuedouble, 1);
    assert_int_equal(cJSON_GetObjectItem(e, "t")->valuedouble, 1000);
    assert_string_equal(cJSON_GetObjectItem(e, "face")->valuestring, "sdk");
    assert_string_equal(cJSON_GetObjectItem(e, "kind")->valuestring, "invoke");
    assert_string_equal(cJSON_GetObjectItem(e, "api")->valuestring, "sync_msg");
    cJSON_Delete(all);
    all = zl_journal_since(j, 1, 10);
    assert_int_equal(cJSON_GetArraySize(all), 1);
    cJSON_Delete(all);
    all = zl_journal_since(j, 2, 10);
    assert_int_equal(cJSON_GetArraySize(all), 0);
    cJSON_Delete(all);
    zl_journal_free(j);
}

static void test_journal_cap_drops_oldest(void **state)
{
    zl_journal *j = zl_journal_new(3);
    cJSON *all;
    int i;

    (void)state;
    for (i = 0; i < 5; i++)
        zl_journal_add(j, i, "f", "k", NULL);
    assert_int_equal(zl_journal_dropped(j), 2);
    all = zl_journal_since(j, 0, 100);
    assert_int_equal(cJSON_GetArraySize(all), 3);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "seq")->valuedouble, 3);
    cJSON_Delete(all);
    all = zl_journal_since(j, 0, 2); /* limit */
    assert_int_equal(cJSON_GetArraySize(all), 2);
    cJSON_Delete(all);
    zl_journal_free(j);
    assert_null(zl_journal_new(0));
}

/* The ring starts small and grows as entries come (a scenario's emulator holds a few dozen):
 * every entry keeps its seq and text across the growths, and the cap still drops the oldest. */
static void test_journal_ring_grows_to_cap(void **state)
{
    zl_journal *j = zl_journal_new(1000);
    char want[64];
    int i;

    (void)state;
    for (i = 1; i <= 2500; i++) {
        cJSON *d = cJSON_CreateObject();

        cJSON_AddNumberToObject(d, "n", i);
        assert_int_equal(zl_journal_add(j, i, "f", "k", d), i);
        if (i == 700) { /* past two growths: 256, 512, 1000 */
            assert_int_equal(zl_journal_first(j), 1);
            for (int s = 1; s <= 700; s++) {
                snprintf(want, sizeof want, "\"n\":%d}", s);
                assert_non_null(strstr(zl_journal_text(j, (uint64_t)s), want));
            }
        }
    }
    assert_int_equal(zl_journal_first(j), 1501);
    assert_int_equal(zl_journal_dropped(j), 1500);
    assert_null(zl_journal_text(j, 1500));
    for (i = 1501; i <= 2500; i++) {
        snprintf(want, sizeof want, "\"n\":%d}", i);
        assert_non_null(strstr(zl_journal_text(j, (uint64_t)i), want));
    }
    zl_journal_free(j);
}

/* Bodies of any size cost the journal a bounded amount (issue 19: ten 60 MiB app calls took
 * the RSS from 185 MB to 861 MB for good). */
static void test_journal_long_strings_kept_as_prefix_and_digest(void **state)
{
    zl_journal *j = zl_journal_new(10);
    size_t n = 3 * ZL_JOURNAL_VALUE_MAX;
    char *big = malloc(n + 1);
    cJSON *d = cJSON_CreateObject(), *all, *e;
    const char *kept;

    (void)state;
    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    big[ZL_JOURNAL_PREFIX - 1] = (char)0xe4; /* a 3-byte character across the cut */
    big[ZL_JOURNAL_PREFIX] = (char)0xb8;
    big[ZL_JOURNAL_PREFIX + 1] = (char)0xad;
    cJSON_AddStringToObject(d, "body", big);
    cJSON_AddStringToObject(d, "small", "intact");
    zl_journal_add(j, 1, "app", "call", d);
    all = zl_journal_since(j, 0, 10);
    e = cJSON_GetArrayItem(all, 0);
    kept = cJSON_GetObjectItem(e, "body")->valuestring;
    assert_int_equal(strlen(kept), ZL_JOURNAL_PREFIX - 1); /* cut before the character */
    assert_int_equal(cJSON_GetObjectItem(e, "body_bytes")->valuedouble, (double)n);
    assert_int_equal(strlen(cJSON_GetObjectItem(e, "body_sha256")->valuestring), 64);
    assert_string_equal(cJSON_GetObjectItem(e, "small")->valuestring, "intact");
    assert_true(strlen(zl_journal_text(j, 1)) < 2 * ZL_JOURNAL_PREFIX);
    cJSON_Delete(all);
    free(big);
    zl_journal_free(j);
}

static void test_journal_byte_cap_drops_oldest(void **state)
{
    zl_journal *j = zl_journal_new(1000);
    char text[1001];
    cJSON *all;
    int more = 0, i;

    (void)state;
    zl_journal_set_limits(j, 10000, 0);
    memset(text, 'x', 1000);
    text[1000] = '\0';
    for (i = 0; i < 50; i++) {
        cJSON *d = cJSON_CreateObject();

        cJSON_AddStringToObject(d, "text", text);
        zl_journal_add(j, i, "f", "k", d);
    }
    assert_int_equal(zl_journal_last(j), 50);
    assert_true(zl_journal_first(j) > 40); /* about ten of them fit */
    assert_int_equal(zl_journal_dropped(j), zl_journal_first(j) - 1);
    assert_null(zl_journal_text(j, 1));
    assert_non_null(zl_journal_text(j, 50));
    all = zl_journal_since_max(j, 0, 100, 2500, &more); /* a reader's budget: three entries */
    assert_int_equal(cJSON_GetArraySize(all), 3);
    assert_true(more);
    cJSON_Delete(all);
    all = zl_journal_since_max(j, 49, 100, 2500, &more);
    assert_int_equal(cJSON_GetArraySize(all), 1);
    assert_false(more);
    cJSON_Delete(all);
    zl_journal_free(j);
}

/* Issue 19: a body's bytes that are not UTF-8 (a stray 0xFF, an overlong NUL, a cut
 * character, a surrogate) reach the journal as U+FFFD, so its JSON text is valid UTF-8. */
static void test_journal_text_is_utf8(void **state)
{
    zl_journal *j = zl_journal_new(10);
    cJSON *d = cJSON_CreateObject();
    const char *t;

    (void)state;
    cJSON_AddStringToObject(d, "body",
                            "a\xff"
                            "b\xc0\x80"
                            "c\xed\xa0\x80"
                            "d\xe4\xb8");
    cJSON_AddStringToObject(d, "ok", "\xe4\xb8\xad\xf0\x9f\x98\x80");
    assert_int_equal(zl_journal_add(j, 1, "app", "call", d), 1);
    t = zl_journal_text(j, 1);
    assert_non_null(t);
    assert_true(zl_utf8_valid(t, strlen(t)));
    assert_non_null(strstr(t, "\"a\xef\xbf\xbd"
                              "b\xef\xbf\xbd\xef\xbf\xbd"
                              "c"));
    assert_non_null(strstr(t, "d\xef\xbf\xbd\xef\xbf\xbd\""));
    assert_non_null(strstr(t, "\"ok\":\"\xe4\xb8\xad\xf0\x9f\x98\x80\""));
    assert_false(zl_utf8_valid("\xf4\x90\x80\x80", 4)); /* over U+10FFFF */
    assert_true(zl_utf8_valid("\xf4\x8f\xbf\xbf", 4));
    zl_journal_free(j);
}

/* zl_json_is_int takes a number only when it is an integer in [lo, hi]; a number beyond long
 * long's range is refused, not converted (fuzz_control: an errcode of 74 digits). */
static void test_json_is_int_bounds(void **state)
{
    static const struct {
        const char *json;
        long long lo, hi;
        bool ok;
    } cases[] = {
        {"5", 0, 10, true},
        {"5.5", 0, 10, false},
        {"-1", 0, 10, false},
        {"11", 0, 10, false},
        {"\"5\"", 0, 10, false},
        {"71060444444444444444444444444444444444444444444444444444444444444444444445", 0, LLONG_MAX,
         false},
        {"-9223372036854775809000", LLONG_MIN, LLONG_MAX, false},
        {"9223372036854775807", LLONG_MIN, LLONG_MAX, false}, /* 2^63 as a double */
        {"-9223372036854775808", LLONG_MIN, LLONG_MAX, true},
        {"1e308", LLONG_MIN, LLONG_MAX, false},
        {"9007199254740993", 0, 9007199254740992, true}, /* rounds to 2^53 */
        {"9007199254740994", 0, 9007199254740992, false},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *v = cJSON_Parse(cases[i].json);

        assert_non_null(v);
        if (zl_json_is_int(v, cases[i].lo, cases[i].hi) != cases[i].ok)
            fail_msg("zl_json_is_int(%s, %lld, %lld) is not %d", cases[i].json, cases[i].lo,
                     cases[i].hi, cases[i].ok);
        cJSON_Delete(v);
    }
}

/* A detail for test_journal_text_as_tree: escapes, nesting, numbers of every kind, strings
 * over the value cap (40) at the top and inside. */
static cJSON *tree_detail(void)
{
    char long_text[101];
    cJSON *d = cJSON_CreateObject(), *a;

    memset(long_text, 'y', 100);
    long_text[100] = '\0';
    cJSON_AddStringToObject(d, "api", "sync_msg");
    cJSON_AddStringToObject(d, "esc", "q\"b\\\n\x01 \xe4\xb8\xad");
    cJSON_AddStringToObject(d, "body", long_text);
    cJSON_AddNumberToObject(d, "frac", 1.5);
    cJSON_AddNumberToObject(d, "big", 1e16);
    cJSON_AddNumberToObject(d, "minus_zero", -0.0);
    a = cJSON_AddArrayToObject(d, "items");
    cJSON_AddItemToArray(a, cJSON_CreateString(long_text));
    cJSON_AddItemToArray(a, cJSON_Parse("{\"k\":{\"deep\":[null,true,\"\"]}}"));
    cJSON_AddStringToObject(d, "last", long_text);
    return d;
}

/* An entry is written straight from its detail when it can be; its text is what the entry's
 * tree gives (the tree is still built when a member must be dropped: here "kind"). */
static void test_journal_text_as_tree(void **state)
{
    zl_journal *direct = zl_journal_new(10), *tree = zl_journal_new(10);
    cJSON *d;
    uint64_t i;

    (void)state;
    zl_journal_set_limits(direct, 0, 40);
    zl_journal_set_limits(tree, 0, 40);
    zl_journal_add(direct, -5, NULL, "k", NULL);
    d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "seq", 99);
    zl_journal_add(tree, -5, NULL, "k", d);
    zl_journal_add(direct, 1793000000123, "app", "call", cJSON_CreateObject());
    d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "t", 1);
    zl_journal_add(tree, 1793000000123, "app", "call", d);
    zl_journal_add(direct, 7, "sdk", "invoke", tree_detail());
    d = tree_detail();
    cJSON_AddNumberToObject(d, "kind", 1);
    zl_journal_add(tree, 7, "sdk", "invoke", d);
    for (i = 1; i <= 3; i++)
        assert_string_equal(zl_journal_text(direct, i), zl_journal_text(tree, i));
    assert_non_null(strstr(zl_journal_text(direct, 3), "\"body_bytes\":100,\"body_sha256\":"));
    zl_journal_free(direct);
    zl_journal_free(tree);
}

/* zl_json_print writes what cJSON_PrintUnformatted writes, numbers and escapes included. */
static void test_json_print_as_cjson(void **state)
{
    static const double numbers[] = {0,
                                     1,
                                     -1,
                                     7200,
                                     2147483647,
                                     2147483648.0,
                                     -2147483649.0,
                                     1793000000000.0,
                                     999999999999999.0,
                                     1e15,
                                     -1e15,
                                     1e16,
                                     9007199254740993.0,
                                     1.5,
                                     0.1,
                                     -0.25,
                                     1e-7,
                                     1e300,
                                     3.141592653589793,
                                     1.0 / 3};
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "numbers"), *n;
    char *want, *got, key[32];
    size_t i, len = 0;
    uint64_t x = 88172645463325252ULL;

    (void)state;
    for (i = 0; i < sizeof numbers / sizeof *numbers; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(numbers[i]));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(-0.0));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(INFINITY));
    for (i = 0; i < 200; i++) { /* integers of every size, and fractions */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)(int64_t)(x >> (i % 64))));
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)(x >> 11) / 1024.0));
    }
    cJSON_AddStringToObject(o, "escapes", "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f \xe4\xb8\xad");
    cJSON_AddStringToObject(o, "", "empty name");
    cJSON_AddItemToObject(o, "nested",
                          cJSON_Parse("{\"a\":[],\"b\":{},\"c\":[null,true,false,\"\"]}"));
    cJSON_AddItemToObject(o, "raw", cJSON_CreateRaw("{\"kept\": 1}"));
    n = cJSON_CreateString("x");
    free(n->valuestring);
    n->valuestring = NULL; /* cJSON writes "" */
    cJSON_AddItemToObject(o, "null string", n);
    for (i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "k%zu\n", i);
        cJSON_AddNumberToObject(o, key, (double)i);
    }
    want = cJSON_PrintUnformatted(o);
    got = zl_json_print(o, &len);
    assert_non_null(want);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    cJSON_free(want);
    free(got);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_entries_in_order),
        cmocka_unit_test(test_journal_cap_drops_oldest),
        cmocka_unit_test(test_journal_ring_grows_to_cap),
        cmocka_unit_test(test_journal_long_strings_kept_as_prefix_and_digest),
        cmocka_unit_test(test_journal_byte_cap_drops_oldest),
        cmocka_unit_test(test_journal_text_is_utf8),
        cmocka_unit_test(test_json_print_as_cjson),
        cmocka_unit_test(test_json_is_int_bounds),
        cmocka_unit_test(test_journal_text_as_tree),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
