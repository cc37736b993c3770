/* test_options_serve: options of the table that only an SDK call can show (emu/options.h), under
 * `zonelab serve --set` and changed live with POST /_zonelab/options: caller notify ids that
 * are still valid (notify_id_reuse) and program_notify's NotifyScene (app_callbacks.scene_zero),
 * acting as zone-demo's replica 0 through libzonesdk. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "itest.h"

static int start(void **state)
{
    const char *args[] = {"--port", "0", "--set", "app_callbacks.scene_zero=true", NULL};

    (void)state;
    serve_start(args);
    become("zone-demo");
    return 0;
}

static int stop(void **state)
{
    (void)state;
    serve_stop();
    return 0;
}

/* POST /_zonelab/options with body; asserts the status. */
static void set_options(const char *body, long want)
{
    long status;
    cJSON *j = http("POST", "/_zonelab/options", body, &status);

    if (status != want)
        fail_msg("POST /_zonelab/options %s: HTTP %ld, %s", body, status,
                 cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
}

static void test_options_notify_id_reuse(void **state)
{
    (void)state;
    /* "Re-using a caller id that is still valid re-arms it for another 10 min [unknown:
     * emulator default as stated, configurable to 40058]" (spec sdk-api.md §8) */
    expect_sdk("spec_notify_app", "{\"notify_id\":\"reuse-1\"}", 0);
    expect_sdk("spec_notify_app", "{\"notify_id\":\"reuse-1\"}", 0);
    set_options("{\"notify_id_reuse\":\"refuse\"}", 200);
    expect_sdk("spec_notify_app", "{\"notify_id\":\"reuse-1\"}", 40058);
    expect_sdk("spec_notify_app", "{\"notify_id\":\"reuse-2\"}", 0);
    expect_sdk("spec_notify_app", "{}", 0); /* a generated id is new */
    set_options("{\"notify_id_reuse\":\"sometimes\"}", 400);
    set_options("{\"notify_id_reuse\":\"rearm\"}", 200);
    expect_sdk("spec_notify_app", "{\"notify_id\":\"reuse-2\"}", 0);
}

/* The NotifyScene of the fake app's next notification for notify_id: -1 when it has none. */
static int scene_of(const char *notify_id)
{
    uint64_t since = inbox_last();
    char req[128];
    cJSON *list, *n, *scene;
    int out;

    snprintf(req, sizeof req, "{\"notify_id\":\"%s\"}", notify_id);
    expect_sdk("spec_notify_app", req, 0);
    list = inbox(since, 1);
    n = cJSON_GetArrayItem(list, 0);
    assert_string_equal(str_of(n, "notify_id"), notify_id);
    scene = cJSON_GetObjectItem(n, "notify_scene");
    out = scene ? (int)scene->valuedouble : -1;
    cJSON_Delete(list);
    return out;
}

static void test_options_scene_zero(void **state)
{
    (void)state;
    /* "NotifyScene when notify_scene was absent or out of range: [unknown: emulator default
     * element omitted, configurable to 0]" (spec events.md §4); serve --set made it 0 */
    assert_int_equal(scene_of("scene-1"), 0);
    set_options("{\"app_callbacks\":{\"scene_zero\":false}}", 200);
    assert_int_equal(scene_of("scene-2"), -1);
    set_options("{\"journal_replies\":true}", 409);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_notify_id_reuse),
        cmocka_unit_test(test_options_scene_zero),
    };

    return cmocka_run_group_tests_name("options under serve", tests, start, stop);
}
