/* test_models_options: the options models.daily_budget.<model> (emu/options.c) name the
 * models of api/models_int.h, each at its model_kind's place in zl_emu_options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "api/models_int.h"
#include "emu/options.h"

static void test_models_options_daily_budgets(void **state)
{
    char name[80];
    size_t k;

    (void)state;
    for (k = 0; k < M_COUNT; k++) {
        const zl_opt *d;

        snprintf(name, sizeof name, "models.daily_budget.%s", zl_models_info[k].name);
        if (!(d = zl_opt_find(name)))
            fail_msg("no option %s", name);
        assert_int_equal(d->offset, offsetof(zl_emu_options, models.daily_budget[k]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models_options_daily_budgets),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
