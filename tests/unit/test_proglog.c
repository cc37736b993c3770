/* test_proglog: replicas' output read from a pipe, passed on, and stored in the journal as
 * WeCom's log query stores it (level filter, hourly cap). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu/emu.h"

typedef struct fixture {
    int64_t wall_ms;
    zl_world *world;
    zl_engine *engine;
    zl_journal *journal;
    zl_emu *emu;
    zl_prog_rt *p;
} fixture;

static int64_t wall(void *ud)
{
    return ((fixture *)ud)->wall_ms;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    zl_engine_config cfg = {.port = 0, .seed = 7, .wall = wall};
    zl_emu_options opt;
    char err[512] = "";

    assert_non_null(f);
    f->wall_ms = 1793808000000LL; /* the default world's clock_start, a whole hour */
    cfg.wall_ud = f;
    f->world = zl_world_load_file(ZL_SOURCE_DIR "/fixtures/worlds/default.json", err, sizeof err);
    if (!f->world)
        fail_msg("world: %s", err);
    f->engine = zl_engine_new(&cfg, err, sizeof err);
    assert_non_null(f->engine);
    f->journal = zl_journal_new(10000);
    zl_emu_options_default(&opt);
    f->emu = zl_emu_new(f->engine, f->journal, f->world, &opt, err, sizeof err);
    if (!f->emu)
        fail_msg("emu: %s", err);
    f->p = &f->emu->progs[0];
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    zl_emu_shutdown(f->emu);
    zl_engine_free(f->engine);
    zl_emu_free(f->emu);
    zl_journal_free(f->journal);
    zl_world_free(f->world);
    free(f);
    return 0;
}

/* The journal entries of kind (face "program") after seq since, as a new array. */
static cJSON *entries(fixture *f, const char *kind, uint64_t since)
{
    cJSON *all = zl_journal_since(f->journal, since, 10000), *out = cJSON_CreateArray(), *e;

    cJSON_ArrayForEach(e, all)
    {
        if (!strcmp(cJSON_GetObjectItem(e, "face")->valuestring, "program") &&
            !strcmp(cJSON_GetObjectItem(e, "kind")->valuestring, kind))
            cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
    }
    cJSON_Delete(all);
    return out;
}

static const char *str(const cJSON *e, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(e, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool store(fixture *f, const char *line)
{
    return zl_proglog_store(f->emu, f->p, "zone-demo/0", line, strlen(line), strlen(line));
}

#define ERR_LINE  "<7,8>,2026-11-22 03:04:05.678,ERR,0123456789abcdef,dispatch.c,40,bad"
#define INFO_LINE "<7,8>,2026-11-22 03:04:05.678,INFO,0123456789abcdef,dispatch.c,41,a, b"
#define DBG_LINE  "<7,8>,2026-11-22 03:04:05.678,DBG,0123456789abcdef,dispatch.c,42,detail"

/* app-api.md §7: "Only lines whose level number is <= the setting are stored", default 2. */
static void test_proglog_stores_lines_up_to_the_log_level(void **state)
{
    fixture *f = *state;
    cJSON *got, *e;

    assert_int_equal(f->p->log_level, 2);
    assert_true(store(f, ERR_LINE));
    assert_true(store(f, INFO_LINE));
    assert_false(store(f, DBG_LINE));
    assert_true(store(f, "Traceback (most recent call last):"));
    assert_false(store(f, ""));
    got = entries(f, "log", 0);
    assert_int_equal(cJSON_GetArraySize(got), 3);
    e = cJSON_GetArrayItem(got, 1);
    assert_string_equal(str(e, "program_id"), "zone-demo");
    assert_string_equal(str(e, "instance"), "zone-demo/0");
    assert_string_equal(str(e, "level"), "INFO");
    assert_string_equal(str(e, "req_id"), "0123456789abcdef");
    assert_string_equal(str(e, "file"), "dispatch.c");
    assert_int_equal(cJSON_GetObjectItem(e, "line")->valueint, 41);
    assert_int_equal(cJSON_GetObjectItem(e, "pid")->valueint, 7);
    assert_string_equal(str(e, "time"), "2026-11-22 03:04:05.678");
    assert_string_equal(str(e, "text"), "a, b");
    e = cJSON_GetArrayItem(got, 2);
    assert_string_equal(str(e, "level"), "unknown");
    assert_null(str(e, "req_id"));
    assert_string_equal(str(e, "text"), "Traceback (most recent call last):");
    cJSON_Delete(got);

    f->p->log_level = 1;
    assert_true(store(f, ERR_LINE));
    assert_false(store(f, INFO_LINE));
    assert_false(store(f, DBG_LINE));
    f->p->log_level = 3;
    assert_true(store(f, DBG_LINE));
    /* a cut line says so; a CRLF line end is not text; bytes that are not UTF-8 become '?' */
    assert_true(zl_proglog_store(f->emu, f->p, "zone-demo/1", INFO_LINE, strlen(INFO_LINE), 9000));
    assert_true(store(f, INFO_LINE "\r"));
    assert_true(store(f, "caf\xc3\xa9 \xff\xc3 end"));
    got = entries(f, "log", 0);
    assert_int_equal(cJSON_GetArraySize(got), 8);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(got, 5), "truncated")));
    assert_string_equal(str(cJSON_GetArrayItem(got, 5), "instance"), "zone-demo/1");
    assert_string_equal(str(cJSON_GetArrayItem(got, 6), "text"), "a, b");
    assert_string_equal(str(cJSON_GetArrayItem(got, 7), "text"), "caf\xc3\xa9 ?? end");
    cJSON_Delete(got);
}

/* program-side.md §6: "1 GB per program per hour; the excess in that hour is dropped". */
static void test_proglog_cap_drops_the_rest_of_the_hour(void **state)
{
    fixture *f = *state;
    size_t n = strlen(ERR_LINE) + 1; /* a line counts with its newline */
    cJSON *got, *d, *st;

    f->emu->opt.log_cap_bytes_per_hour = 2 * n + n / 2;
    f->wall_ms += 10 * 60 * 1000;
    assert_true(store(f, ERR_LINE));
    assert_true(store(f, ERR_LINE));
    assert_false(store(f, ERR_LINE));
    assert_false(store(f, "short"));
    got = entries(f, "log_dropped", 0);
    assert_int_equal(cJSON_GetArraySize(got), 1); /* once an hour, not once a line */
    d = cJSON_GetArrayItem(got, 0);
    assert_string_equal(str(d, "program_id"), "zone-demo");
    assert_int_equal((int64_t)cJSON_GetObjectItem(d, "hour_start_ms")->valuedouble,
                     1793808000000LL);
    assert_int_equal((int64_t)cJSON_GetObjectItem(d, "stored_bytes")->valuedouble, 2 * n);
    cJSON_Delete(got);
    st = zl_proglog_state(f->emu, f->p);
    assert_int_equal(cJSON_GetObjectItem(st, "dropped_lines")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(st, "stored_bytes")->valueint, (int)(2 * n));
    cJSON_Delete(st);
    assert_int_equal(cJSON_GetArraySize(got = entries(f, "log", 0)), 2);
    cJSON_Delete(got);

    f->wall_ms += 50 * 60 * 1000; /* the next hour */
    st = zl_proglog_state(f->emu, f->p);
    assert_int_equal(cJSON_GetObjectItem(st, "stored_bytes")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(st, "dropped_total")->valueint, 2);
    cJSON_Delete(st);
    assert_true(store(f, ERR_LINE));
    f->p->log_level = 1;
    assert_false(store(f, INFO_LINE)); /* not stored: does not count */
    assert_int_equal(f->p->logcap.stored_bytes, n);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *text = NULL;
    size_t cap = 0;

    assert_non_null(fp);
    if (getdelim(&text, &cap, '\0', fp) < 0) {
        free(text);
        text = strdup("");
    }
    fclose(fp);
    return text;
}

static void put(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Bytes go on to the file exactly; whole lines are stored as they complete; the last partial
 * line at the end of the stream; a line over 4096 bytes is stored cut. */
static void test_proglog_pipe_passes_bytes_on_and_stores_lines(void **state)
{
    fixture *f = *state;
    char dir[] = "/tmp/test_proglog_XXXXXX", path[64], *text, big[6001];
    zl_proglog *l;
    int cfd = -1, w;
    cJSON *got;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/zone-demo_0.log", dir);
    l = zl_proglog_new(f->p, "zone-demo/0", path, &cfd);
    assert_non_null(l);
    w = dup(cfd); /* the child's end, as a forked replica holds it */
    zl_proglog_started(l);
    put(w, INFO_LINE "\n" ERR_LINE "\n<7,8>,2026-11-22 03:04:05");
    zl_proglog_drain(f->emu, l, 1 << 20);
    assert_int_equal(cJSON_GetArraySize(got = entries(f, "log", 0)), 2);
    cJSON_Delete(got);
    put(w, ".678,ERR,00000000000000aa,main.c,9,split\n");
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    put(w, big);
    put(w, "\nno newline at the end");
    zl_proglog_drain(f->emu, l, 1 << 20);
    got = entries(f, "log", 0);
    assert_int_equal(cJSON_GetArraySize(got), 4);
    assert_string_equal(str(cJSON_GetArrayItem(got, 2), "req_id"), "00000000000000aa");
    assert_string_equal(str(cJSON_GetArrayItem(got, 2), "text"), "split");
    assert_int_equal(strlen(str(cJSON_GetArrayItem(got, 3), "text")), 4096);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(got, 3), "truncated")));
    cJSON_Delete(got);
    close(w);
    zl_proglog_drain(f->emu, l, 1 << 20); /* the end of the stream */
    got = entries(f, "log", 0);
    assert_int_equal(cJSON_GetArraySize(got), 5);
    assert_string_equal(str(cJSON_GetArrayItem(got, 4), "text"), "no newline at the end");
    cJSON_Delete(got);
    zl_proglog_free(f->emu, l);
    text = slurp(path);
    assert_int_equal(strlen(text), strlen(INFO_LINE) + strlen(ERR_LINE) + 2 + 25 + 41 + 6000 +
                                       strlen("\nno newline at the end"));
    assert_non_null(strstr(text, INFO_LINE "\n" ERR_LINE "\n<7,8>,2026-11-22 03:04:05.678,ERR,"));
    free(text);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_proglog_stores_lines_up_to_the_log_level, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_proglog_cap_drops_the_rest_of_the_hour, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_proglog_pipe_passes_bytes_on_and_stores_lines, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
