/* test_journal: order, merge of details, the ring's cap and the since query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/journal.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_entries_in_order),
        cmocka_unit_test(test_journal_cap_drops_oldest),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
