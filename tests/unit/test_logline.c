/* test_logline: the vendor's program log line format and the hourly volume cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wecom/logline.h"

static zl_logline parse_ok(const char *s)
{
    zl_logline l;

    assert_int_equal(zl_logline_parse(s, strlen(s), &l), 0);
    return l;
}

static void assert_field(const char *p, size_t n, const char *want)
{
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
}

/* spec/program-side.md §6: the composed example, the vendor's own line (INF0, no custom). */
static void test_logline_parses_the_spec_examples(void **state)
{
    zl_logline l = parse_ok("<41,57>,2025-01-02 03:04:05.678,INFO,0a1b2c3d4e5f6789,main.cpp,120,"
                            "ret=0");

    (void)state;
    assert_int_equal(l.level, ZL_LOG_INFO);
    assert_int_equal(l.pid, 41);
    assert_int_equal(l.tid, 57);
    assert_field(l.time, l.time_len, "2025-01-02 03:04:05.678");
    assert_field(l.req_id, l.req_id_len, "0a1b2c3d4e5f6789");
    assert_field(l.file, l.file_len, "main.cpp");
    assert_int_equal(l.line_no, 120);
    assert_field(l.text, l.text_len, "ret=0");

    l = parse_ok("<94,924>,2024-07-12 18:22:42.795,INF0,c5497e88bce56877,democpp,6");
    assert_int_equal(l.level, ZL_LOG_INFO);
    assert_field(l.file, l.file_len, "democpp");
    assert_int_equal(l.line_no, 6);
    assert_int_equal(l.text_len, 0);

    l = parse_ok("<1,2>,2025-01-02 03:04:05.678,ERR,0000000000000000,a.c,7,x, y,,z");
    assert_int_equal(l.level, ZL_LOG_ERR);
    assert_field(l.text, l.text_len, "x, y,,z"); /* custom keeps its commas */
    l = parse_ok("<1,2>,2025-01-02 03:04:05.678,DBG,0000000000000000,a.c,7,");
    assert_int_equal(l.level, ZL_LOG_DBG);
    assert_int_equal(l.text_len, 0);
    assert_string_equal(zl_logline_level_name(ZL_LOG_DBG), "DBG");
    assert_string_equal(zl_logline_level_name(ZL_LOG_UNKNOWN), "unknown");
}

static void test_logline_refuses_other_lines(void **state)
{
    static const char *const bad[] = {
        "",
        "hello world",
        "Traceback (most recent call last):",
        "<41,57>",
        "<41,57>,2025-01-02 03:04:05.678,WARN,0a1b2c3d4e5f6789,main.cpp,120,x",
        "<41,57>,2025-01-02 03:04:05.678,info,0a1b2c3d4e5f6789,main.cpp,120,x",
        "<41,57>,2025-01-02 03:04:05.678,INFO,0a1b2c3d4e5f6789,main.cpp,12a,x",
        "<41,57>,2025-01-02 03:04:05.678,INFO,0a1b2c3d4e5f6789,main.cpp",
        "<41,57>,2025-01-02 03:04:05.678,INFO,,main.cpp,1,x",
        "<4x,57>,2025-01-02 03:04:05.678,INFO,0a1b2c3d4e5f6789,main.cpp,1,x",
        "<41;57>,2025-01-02 03:04:05.678,INFO,0a1b2c3d4e5f6789,main.cpp,1,x",
        "<41,57> 2025-01-02 03:04:05.678,INFO,0a1b2c3d4e5f6789,main.cpp,1,x",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        zl_logline l;

        if (zl_logline_parse(bad[i], strlen(bad[i]), &l) == 0)
            fail_msg("parsed: '%s'", bad[i]);
        assert_int_equal(l.level, ZL_LOG_UNKNOWN);
        assert_ptr_equal(l.text, bad[i]); /* the whole line is the text */
        assert_int_equal(l.text_len, strlen(bad[i]));
        assert_null(l.req_id);
    }
}

/* "1 GB per program per hour; the excess in that hour is dropped" */
static void test_logcap_drops_the_excess_until_the_hour_ends(void **state)
{
    const int64_t h = 1793808000000LL; /* a whole hour */
    zl_logcap c = {0};

    (void)state;
    assert_int_equal(zl_logcap_hour(h + 3599999), h);
    assert_int_equal(zl_logcap_hour(h + 3600000), h + 3600000);
    assert_int_equal(zl_logcap_take(&c, 100, h + 10, 60), ZL_LOGCAP_KEEP);
    assert_int_equal(zl_logcap_take(&c, 100, h + 20, 40), ZL_LOGCAP_KEEP); /* exactly full */
    assert_int_equal(c.stored_bytes, 100);
    assert_int_equal(zl_logcap_take(&c, 100, h + 30, 1), ZL_LOGCAP_DROP_FIRST);
    assert_int_equal(zl_logcap_take(&c, 100, h + 40, 5), ZL_LOGCAP_DROP);
    assert_int_equal(c.dropped_lines, 2);
    assert_int_equal(c.dropped_bytes, 6);
    /* the next hour starts a new count */
    assert_int_equal(zl_logcap_take(&c, 100, h + 3600000, 90), ZL_LOGCAP_KEEP);
    assert_int_equal(c.hour_ms, h + 3600000);
    assert_int_equal(c.dropped_lines, 0);
    /* a line that does not fit whole is dropped, and the rest of the hour with it */
    assert_int_equal(zl_logcap_take(&c, 100, h + 3600001, 20), ZL_LOGCAP_DROP_FIRST);
    assert_int_equal(zl_logcap_take(&c, 100, h + 3600002, 1), ZL_LOGCAP_DROP);
    assert_int_equal(c.stored_bytes, 90);
    assert_int_equal(c.dropped_total, 4);
    /* a line larger than the cap never fits; cap 0 keeps everything */
    c = (zl_logcap){0};
    assert_int_equal(zl_logcap_take(&c, 10, h, 11), ZL_LOGCAP_DROP_FIRST);
    c = (zl_logcap){0};
    assert_int_equal(zl_logcap_take(&c, 0, h, (size_t)1 << 40), ZL_LOGCAP_KEEP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logline_parses_the_spec_examples),
        cmocka_unit_test(test_logline_refuses_other_lines),
        cmocka_unit_test(test_logcap_drops_the_excess_until_the_hour_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
