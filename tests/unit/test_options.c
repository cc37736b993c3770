/* test_options: the options table (emu/options.c): every row names a field of zl_emu_options
 * of its size with a valid example other than its default, and setting options by name from
 * JSON and from NAME=VALUE checks everything first and says what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "emu/options.h"

static void test_options_table_rows(void **state)
{
    const zl_opt *t;
    zl_emu_options def, o;
    size_t n, i, k;

    (void)state;
    t = zl_opt_table(&n);
    assert_true(n > 40);
    zl_emu_options_default(&def);
    for (i = 0; i < n; i++) {
        long long ex = zl_opt_example(&t[i]), v = zl_opt_get(&def, &t[i]);
        char text[64], assignment[200], err[1200];

        assert_true(t[i].offset + t[i].size <= sizeof(zl_emu_options));
        assert_true(t[i].size == 1 || t[i].size == 4 || t[i].size == 8);
        assert_true(*t[i].source && *t[i].meaning);
        assert_ptr_equal(zl_opt_find(t[i].name), &t[i]);
        for (k = 0; k < i; k++) /* one row per field */
            assert_false(t[k].offset == t[i].offset);
        if (ex == v)
            fail_msg("%s: its example is its default", t[i].name);
        /* the example goes in as text and comes out as set */
        zl_opt_to_text(&t[i], ex, text, sizeof text);
        snprintf(assignment, sizeof assignment, "%s=%s", t[i].name, text);
        o = def;
        if (zl_emu_options_set_text(&o, assignment, err, sizeof err) != 0)
            fail_msg("%s: %s", assignment, err);
        assert_true(zl_opt_get(&o, &t[i]) == ex);
        /* only that field changed */
        zl_opt_put(&o, &t[i], v);
        assert_memory_equal(&o, &def, sizeof o);
    }
}

/* Sets json (an object's text) in o: the return value, err filled. */
static int set_json(zl_emu_options *o, const char *json, bool only_live, char *err, size_t len)
{
    cJSON *j = cJSON_Parse(json);
    int rc;

    assert_non_null(j);
    rc = zl_emu_options_set_json(o, j, "options", only_live, err, len);
    cJSON_Delete(j);
    return rc;
}

static void test_options_set_json(void **state)
{
    zl_emu_options def, o;
    char err[1200];

    (void)state;
    zl_emu_options_default(&def);
    o = def;
    assert_int_equal(set_json(&o,
                              "{\"token_ttl_s\":60,\"app_callbacks\":{\"tries\":2},"
                              "\"protocol.distinguish_integers\":true,"
                              "\"notify_routing\":\"any\",\"models\":{\"pending_errcode\":790023}}",
                              false, err, sizeof err),
                     0);
    assert_int_equal(o.token_ttl_s, 60);
    assert_int_equal(o.app_callbacks.tries, 2);
    assert_int_equal(o.protocol.distinguish_integers, 1);
    assert_true(o.notify_any);
    assert_int_equal(o.models.pending_errcode, 790023);

    /* nothing is set when one is wrong */
    o = def;
    assert_int_equal(set_json(&o, "{\"token_ttl_s\":60,\"app_callbacks\":{\"tries\":11}}", false,
                              err, sizeof err),
                     -1);
    assert_string_equal(err, "options.app_callbacks.tries: 11 is not an integer from 1 to 10");
    assert_memory_equal(&o, &def, sizeof o);

    assert_int_equal(set_json(&o, "{\"tokn_ttl_s\":1}", false, err, sizeof err), -1);
    assert_non_null(strstr(err, "options.tokn_ttl_s: no such option; did you mean token_ttl_s? "));
    assert_non_null(strstr(err, "app_callbacks.*"));
    assert_int_equal(set_json(&o, "{\"app_callbacks\":{\"trys\":1}}", false, err, sizeof err), -1);
    assert_non_null(strstr(err, "its group has app_callbacks.timeout_ms,"));
    assert_int_equal(set_json(&o, "{\"notify_routing\":\"anywhere\"}", false, err, sizeof err), -1);
    assert_string_equal(err, "options.notify_routing: \"anywhere\" is not one of \"sticky\" or "
                             "\"any\"");
    assert_int_equal(set_json(&o, "{\"token_fresh_each\":1}", false, err, sizeof err), -1);
    assert_string_equal(err, "options.token_fresh_each: 1 is not true or false");
    assert_int_equal(set_json(&o, "{\"export.bad_code_errcode\":0}", false, err, sizeof err), -1);
    assert_non_null(strstr(err, "not 0"));
    assert_int_equal(
        set_json(&o, "{\"models.duplicate_errcode\":710601.5}", false, err, sizeof err), -1);
    assert_int_equal(set_json(&o, "{\"app_callbacks.tries\":2,\"app_callbacks\":{\"tries\":3}}",
                              false, err, sizeof err),
                     -1);
    assert_string_equal(err, "options.app_callbacks.tries: given twice");

    /* fixed at start: refused only when only_live */
    assert_int_equal(set_json(&o, "{\"journal_replies\":true}", true, err, sizeof err), -2);
    assert_non_null(strstr(err, "journal_replies is fixed at start"));
    assert_int_equal(set_json(&o, "{\"journal_replies\":true}", false, err, sizeof err), 0);
    assert_true(o.journal_replies);
}

static void test_options_set_text_and_flat(void **state)
{
    zl_emu_options o;
    char err[1200];
    cJSON *j, *flat;

    (void)state;
    zl_emu_options_default(&o);
    assert_int_equal(zl_emu_options_set_text(&o, "sync_msg.limit_over_max=clamp", err, sizeof err),
                     0);
    assert_int_equal(o.sync_msg.limit_over_max, 1);
    assert_int_equal(zl_emu_options_set_text(&o, "export.bad_code_errcode=-1", err, sizeof err), 0);
    assert_int_equal(o.export.bad_code_errcode, -1);
    assert_int_equal(zl_emu_options_set_text(&o, "token_ttl_s=12x", err, sizeof err), -1);
    assert_string_equal(err, "token_ttl_s: \"12x\" is not an integer from 1 to 31536000");
    assert_int_equal(zl_emu_options_set_text(&o, "token_ttl_s", err, sizeof err), -1);
    assert_int_equal(zl_emu_options_set_text(&o, "=1", err, sizeof err), -1);
    assert_int_equal(zl_emu_options_set_text(&o, "token_fresh_each=TRUE", err, sizeof err), -1);

    j = cJSON_Parse("{\"a\":{\"b\":1,\"c\":{\"d\":true}},\"e\":\"x\"}");
    flat = zl_emu_options_flat(j);
    assert_non_null(flat);
    assert_int_equal(cJSON_GetObjectItem(flat, "a.b")->valueint, 1);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(flat, "a.c.d")));
    assert_string_equal(cJSON_GetObjectItem(flat, "e")->valuestring, "x");
    cJSON_Delete(flat);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_table_rows),
        cmocka_unit_test(test_options_set_json),
        cmocka_unit_test(test_options_set_text_and_flat),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
