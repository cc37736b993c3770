/* test_placeholder: WeCom's placeholder expansion and escape_type (sdk-api.md §6.4), byte for
 * byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "wecom/placeholder.h"

static char *escaped(const char *value, int escape_type)
{
    zl_sbuf b = {0};

    zl_placeholder_escape(value, escape_type, &b);
    assert_false(b.oom);
    return b.s ? b.s : strdup("");
}

static char *expanded(const char *tpl, const zl_placeholder *ph, size_t n, int escape_type)
{
    zl_sbuf b = {0};

    zl_placeholder_expand(tpl, ph, n, escape_type, &b);
    assert_false(b.oom);
    return b.s ? b.s : strdup("");
}

/* The eight characters of the spec, one by one, then all together. */
static void test_escape_type_0_spaces(void **state)
{
    static const char *const in[] = {"\"", "\\", "/", "\b", "\f", "\n", "\r", "\t"};
    size_t i;
    char *s;

    (void)state;
    for (i = 0; i < sizeof in / sizeof *in; i++) {
        s = escaped(in[i], ZL_ESCAPE_SPACE);
        assert_string_equal(s, " ");
        free(s);
    }
    s = escaped("a\"b\\c/d\be\ff\ng\rh\ti", ZL_ESCAPE_SPACE);
    assert_string_equal(s, "a b c d e f g h i");
    free(s);
    s = escaped("", ZL_ESCAPE_SPACE);
    assert_string_equal(s, "");
    free(s);
}

static void test_escape_type_1_backslash(void **state)
{
    static const char *const in[] = {"\"", "\\", "/", "\b", "\f", "\n", "\r", "\t"};
    static const char *const out[] = {"\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"};
    size_t i;
    char *s;

    (void)state;
    for (i = 0; i < sizeof in / sizeof *in; i++) {
        s = escaped(in[i], ZL_ESCAPE_BACKSLASH);
        assert_string_equal(s, out[i]);
        free(s);
    }
    s = escaped("a\"b\\c/d\be\ff\ng\rh\ti", ZL_ESCAPE_BACKSLASH);
    assert_string_equal(s, "a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti");
    assert_int_equal(strlen(s), 9 + 2 * 8);
    free(s);
}

/* Other control characters are zonelab's choice (placeholder.h); UTF-8 passes untouched. */
static void test_other_characters(void **state)
{
    char *s;

    (void)state;
    s = escaped("x\x01y\x1fz", ZL_ESCAPE_SPACE);
    assert_string_equal(s, "x y z");
    free(s);
    s = escaped("x\x01y\x1fz", ZL_ESCAPE_BACKSLASH);
    assert_string_equal(s, "x\\u0001y\\u001fz");
    free(s);
    s = escaped("张三说：你好 {chat} 'q' \x7f", ZL_ESCAPE_BACKSLASH);
    assert_string_equal(s, "张三说：你好 {chat} 'q' \x7f");
    free(s);
    s = escaped("a\"b\n", ZL_ESCAPE_NONE);
    assert_string_equal(s, "a\"b\n");
    free(s);
}

/* The spec's example of a program task: the input protocol with {chat}. */
static void test_doc_example(void **state)
{
    const char *tpl = "{\"ability_id\":\"1\", \"task_type\":\"service_statistics\", \"msg\": "
                      "\"{chat}\"}";
    const char *chat = "A说：你好\nB说：\"在吗\"/ok";
    zl_placeholder ph[] = {{"{chat}", chat}};
    cJSON *j;
    char *s;

    (void)state;
    s = expanded(tpl, ph, 1, ZL_ESCAPE_SPACE);
    assert_string_equal(s, "{\"ability_id\":\"1\", \"task_type\":\"service_statistics\", \"msg\": "
                           "\"A说：你好 B说： 在吗  ok\"}");
    free(s);
    s = expanded(tpl, ph, 1, ZL_ESCAPE_BACKSLASH);
    assert_string_equal(s, "{\"ability_id\":\"1\", \"task_type\":\"service_statistics\", \"msg\": "
                           "\"A说：你好\\nB说：\\\"在吗\\\"\\/ok\"}");
    j = cJSON_Parse(s); /* escape_type 1 keeps the value exactly, as JSON */
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "msg")->valuestring, chat);
    cJSON_Delete(j);
    free(s);
}

static void test_expand_rules(void **state)
{
    zl_placeholder ph[] = {
        {"{chat}", "C{chatcontent}"}, {"{chatcontent}", "T"}, {"{$city$}", "深圳"}, {"{x}", NULL}};
    char *s;

    (void)state;
    /* one pass: a value's text is not expanded again; unknown names stay */
    s = expanded("{chat}|{chatcontent}|{knowledge}|{$city$}|{x}", ph, 4, ZL_ESCAPE_SPACE);
    assert_string_equal(s, "C{chatcontent}|T|{knowledge}|深圳|");
    free(s);
    /* every occurrence, braces around, unterminated and empty names */
    s = expanded("{{chat}}{chat}{chat{}{", ph, 2, ZL_ESCAPE_SPACE);
    assert_string_equal(s, "{C{chatcontent}}C{chatcontent}{chat{}{");
    free(s);
    s = expanded("", ph, 2, ZL_ESCAPE_SPACE);
    assert_string_equal(s, "");
    free(s);
    s = expanded("no placeholder", NULL, 0, ZL_ESCAPE_BACKSLASH);
    assert_string_equal(s, "no placeholder");
    free(s);
}

static void test_labels(void **state)
{
    static const struct {
        size_t n;
        const char *label;
    } cases[] = {{0, "A"}, {1, "B"}, {25, "Z"}, {26, "AA"}, {27, "AB"}, {701, "ZZ"}, {702, "AAA"}};
    char l[8];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        zl_placeholder_label(cases[i].n, l);
        assert_string_equal(l, cases[i].label);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_type_0_spaces), cmocka_unit_test(test_escape_type_1_backslash),
        cmocka_unit_test(test_other_characters),     cmocka_unit_test(test_doc_example),
        cmocka_unit_test(test_expand_rules),         cmocka_unit_test(test_labels),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
