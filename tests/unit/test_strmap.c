/* test_strmap: the string map behind tokens, notify ids, jobs and pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"

static int freed;

static void count_free(void *v)
{
    freed++;
    free(v);
}

static int drop_odd(const char *key, void *value, void *ud)
{
    (void)key, (void)ud;
    return *(int *)value % 2;
}

static void test_put_get_replace_delete(void **state)
{
    zl_strmap *m = zl_strmap_new(count_free);
    char key[32];
    int i;

    (void)state;
    freed = 0;
    for (i = 0; i < 5000; i++) { /* grows past its first table many times */
        int *v = malloc(sizeof *v);

        *v = i;
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(zl_strmap_put(m, key, v), 0);
    }
    assert_int_equal(zl_strmap_count(m), 5000);
    for (i = 0; i < 5000; i += 97) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(*(int *)zl_strmap_get(m, key), i);
    }
    assert_null(zl_strmap_get(m, "k5000"));
    assert_null(zl_strmap_get(m, NULL));
    {
        int *v = malloc(sizeof *v);

        *v = -1;
        assert_int_equal(zl_strmap_put(m, "k7", v), 0); /* replace frees the old value */
        assert_int_equal(freed, 1);
        assert_int_equal(*(int *)zl_strmap_get(m, "k7"), -1);
        assert_int_equal(zl_strmap_count(m), 5000);
    }
    assert_int_equal(zl_strmap_del(m, "k8"), 0);
    assert_int_equal(zl_strmap_del(m, "k8"), -1);
    assert_null(zl_strmap_get(m, "k8"));
    assert_int_equal(freed, 2);
    zl_strmap_sweep(m, drop_odd, NULL); /* odd values and the -1 go */
    assert_int_equal(zl_strmap_count(m), 2499);
    assert_null(zl_strmap_get(m, "k7"));
    assert_non_null(zl_strmap_get(m, "k10"));
    zl_strmap_free(m);
    assert_int_equal(freed, 5001); /* 5000 values and the replacement */
    zl_strmap_free(NULL);
}

static int by_int(const void *a, const void *b)
{
    int x = **(int *const *)a, y = **(int *const *)b;

    return (x > y) - (x < y);
}

static void test_values_sorted(void **state)
{
    zl_strmap *m = zl_strmap_new(free);
    char key[16];
    size_t n;
    void **v;
    int i;

    (void)state;
    assert_null(zl_strmap_values(m, by_int, &n));
    assert_int_equal(n, 0);
    for (i = 99; i >= 0; i--) {
        int *x = malloc(sizeof *x);

        *x = i * 7 % 100;
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(zl_strmap_put(m, key, x), 0);
    }
    v = zl_strmap_values(m, by_int, &n);
    assert_int_equal(n, 100);
    for (i = 0; i < 100; i++)
        assert_int_equal(*(int *)v[i], i);
    free(v);
    zl_strmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_replace_delete),
        cmocka_unit_test(test_values_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
