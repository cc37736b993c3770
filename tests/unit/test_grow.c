/* test_grow: room for one more item in a growable array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "core/grow.h"

static void test_grow_doubles_and_keeps_items(void **state)
{
    int *v = NULL;
    size_t cap = 0, n = 0, i;

    (void)state;
    for (i = 0; i < 100; i++) {
        assert_int_equal(zl_grow(&v, &cap, n, sizeof *v, 4), 0);
        assert_true(cap > n);
        v[n++] = (int)i;
    }
    assert_int_equal(cap, 128); /* 4, 8, ..., 128 */
    for (i = 0; i < n; i++)
        assert_int_equal(v[i], (int)i);
    assert_int_equal(zl_grow(&v, &cap, 10, sizeof *v, 4), 0); /* room already: unchanged */
    assert_int_equal(cap, 128);
    free(v);
}

static void test_grow_refuses_an_overflow(void **state)
{
    char *v = NULL;
    size_t cap = SIZE_MAX / 2 + 1;

    (void)state;
    assert_int_equal(zl_grow(&v, &cap, cap, 4, 16), -1);
    assert_null(v);
    assert_int_equal(cap, SIZE_MAX / 2 + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_doubles_and_keeps_items),
        cmocka_unit_test(test_grow_refuses_an_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
