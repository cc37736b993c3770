/* test_scenario_budget: the runner's Lua instruction budget (a loop that never waits is an
 * error at once, not a hang until the scenario's deadline) and its no_programs mode. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario/scenario.h"

/* Runs text as a scenario file with o; returns the result (caller deletes). */
static cJSON *run_text(const char *text, zl_scenario_options *o, char *dir)
{
    char path[512];
    FILE *f;
    cJSON *out;

    snprintf(path, sizeof path, "%s/case.lua", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
    o->work_dir = dir;
    out = zl_scenario_run(path, o);
    assert_non_null(out);
    unlink(path);
    return out;
}

static const char *status_of(const cJSON *out, int i, const char **message)
{
    const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(out, "tests"), i);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(t, "message");

    *message = cJSON_IsString(m) ? m->valuestring : "";
    return cJSON_GetObjectItemCaseSensitive(t, "status")->valuestring;
}

/* Without the budget the loop would run until scenario_timeout_ms (an hour here): the test
 * would time out instead of failing. */
static void test_scenario_budget_stops_loops(void **state)
{
    char dir[] = "/tmp/test_scenario_budget.XXXXXX";
    zl_scenario_options o = {.program = "false",
                             .no_programs = true,
                             .max_steps = 3000000,
                             .scenario_timeout_ms = 3600000};
    const char *msg;
    cJSON *out;

    (void)state;
    assert_non_null(mkdtemp(dir));
    out = run_text("test('loop', function() while true do end end)\n", &o, dir);
    assert_string_equal(status_of(out, 0, &msg), "fail");
    assert_non_null(strstr(msg, "budget of 3000000 Lua instructions"));
    cJSON_Delete(out);
    /* a pcall that catches the error does not let the loop around it go on */
    out = run_text("test('pcall loop', function() while true do pcall(function()\n"
                   "  while true do end end) end end)\n",
                   &o, dir);
    assert_string_equal(status_of(out, 0, &msg), "fail");
    assert_non_null(strstr(msg, "budget"));
    cJSON_Delete(out);
    /* a loop at load time too */
    out = run_text("while true do end\n", &o, dir);
    assert_string_equal(status_of(out, 0, &msg), "error");
    assert_non_null(strstr(msg, "budget"));
    cJSON_Delete(out);
    rmdir(dir);
}

/* no_programs: the tests run although the program never starts. */
static void test_scenario_no_programs(void **state)
{
    char dir[] = "/tmp/test_scenario_budget.XXXXXX";
    zl_scenario_options o = {.program = "false", .no_programs = true, .max_steps = 3000000};
    const char *msg;
    cJSON *out;

    (void)state;
    assert_non_null(mkdtemp(dir));
    out = run_text("test('runs', function() assert(1 + 1 == 2) end)\n", &o, dir);
    assert_string_equal(status_of(out, 0, &msg), "pass");
    cJSON_Delete(out);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_budget_stops_loops),
        cmocka_unit_test(test_scenario_no_programs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
