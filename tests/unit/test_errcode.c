/* test_errcode: WeCom errcode replies and their errmsg wording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wecom/errcode.h"

static void test_errcode_reply_wording(void **state)
{
    cJSON *j = zl_errcode_reply(42001, NULL, "0123456789abcdef");

    (void)state;
    assert_int_equal(cJSON_GetObjectItem(j, "errcode")->valueint, 42001);
    assert_string_equal(cJSON_GetObjectItem(j, "errmsg")->valuestring,
                        "access_token expired, hint: [0123456789abcdef]");
    cJSON_Delete(j);
    j = zl_errcode_reply(40058, "limit must be an integer from 0 to 1000", "x");
    assert_string_equal(cJSON_GetObjectItem(j, "errmsg")->valuestring,
                        "invalid parameter: limit must be an integer from 0 to 1000, hint: [x]");
    cJSON_Delete(j);
    j = zl_errcode_reply(0, "ignored", "ignored");
    assert_string_equal(cJSON_GetObjectItem(j, "errmsg")->valuestring, "ok");
    cJSON_Delete(j);
    assert_string_equal(zl_errcode_text(790016), "json request does not match the template");
    assert_string_equal(zl_errcode_text(123), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errcode_reply_wording),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
