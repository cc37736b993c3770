/* test_world_cache: a world file's cache (<file>.zlcache) gives the world the JSON gives, is
 * used when it matches the file's bytes, and never when the file changed or it is damaged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wecom/world.h"

#define KEY43 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
/* Two corps; messages out of send_time order, a group one, a given secret_key, content as an
 * object, as a string and absent, a call. "hello" appears in one message's content only. */
#define WORLD(word, extra)                                                                         \
    "{\"clock_start\":1000,\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\","                         \
    "\"apps\":[{\"agentid\":7,\"name\":\"a\",\"secret\":\"s7\",\"token\":\"t\","                   \
    "\"encoding_aes_key\":\"" KEY43 "\"}],"                                                        \
    "\"members\":[{\"userid\":\"u1\",\"name\":\"U\"},{\"userid\":\"u2\",\"name\":\"V\"}],"         \
    "\"externals\":[{\"external_userid\":\"wm1\",\"name\":\"W\"}],"                                \
    "\"groups\":[{\"chatid\":\"g1\",\"name\":\"G\",\"kind\":\"internal\",\"creator\":\"u1\","      \
    "\"create_time\":1}],"                                                                         \
    "\"messages\":["                                                                               \
    "{\"msgid\":\"m3\",\"sender\":{\"type\":1,\"id\":\"u2\"},\"receivers\":[{\"type\":1,"          \
    "\"id\":\"u1\"},{\"type\":2,\"id\":\"wm1\"}],\"chatid\":\"g1\",\"send_time\":30,"              \
    "\"msgtype\":1,\"content\":{\"content\":\"" word " group\"}},"                                 \
    "{\"msgid\":\"m1\",\"sender\":{\"type\":1,\"id\":\"u1\"},\"receivers\":[{\"type\":2,"          \
    "\"id\":\"wm1\"}],\"send_time\":10,\"msgtype\":1,\"secret_key\":\"given-key\","                \
    "\"content\":\"{\\\"content\\\":\\\"as text\\\"}\"},"                                          \
    "{\"msgid\":\"m2\",\"sender\":{\"type\":2,\"id\":\"wm1\"},\"receivers\":[{\"type\":1,"         \
    "\"id\":\"u1\"}],\"send_time\":20,\"msgtype\":21,\"call_duration\":5},"                        \
    "{\"msgid\":\"m4\",\"sender\":{\"type\":1,\"id\":\"u1\"},\"receivers\":[{\"type\":1,"          \
    "\"id\":\"u2\"}],\"send_time\":30,\"msgtype\":1}" extra "]},"                                  \
    "{\"corpid\":\"ww2\",\"name\":\"d\",\"members\":[{\"userid\":\"x\",\"name\":\"X\"}],"          \
    "\"messages\":[{\"msgid\":\"n1\",\"sender\":{\"type\":1,\"id\":\"x\"},"                        \
    "\"receivers\":[{\"type\":1,\"id\":\"x\"}],\"send_time\":5,\"msgtype\":1}]}]}"

typedef struct fixture {
    char dir[64];
    char path[128];
    char cache[160];
    size_t old_min;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/zl_world_cache_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/world.json", f->dir);
    snprintf(f->cache, sizeof f->cache, "%s.zlcache", f->path);
    f->old_min = zl_world_cache_min_bytes(0); /* every file is big enough here */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    zl_world_cache_min_bytes(f->old_min);
    unlink(f->cache);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n > 0);
    rewind(fp);
    buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static zl_world *load(const fixture *f)
{
    char err[512];
    zl_world *w = zl_world_load_file(f->path, err, sizeof err);

    if (!w)
        fail_msg("%s", err);
    return w;
}

static void assert_same_world(const zl_world *a, const zl_world *b)
{
    assert_int_equal(a->corp_count, b->corp_count);
    for (size_t c = 0; c < a->corp_count; c++) {
        const zl_msgstore *x = a->corps[c].messages, *y = b->corps[c].messages;
        zl_msgstore_stats sx, sy;

        assert_string_equal(a->corps[c].corpid, b->corps[c].corpid);
        assert_int_equal(zl_msgstore_count(x), zl_msgstore_count(y));
        for (size_t i = 0; i < zl_msgstore_count(x); i++) {
            const zl_message *m = zl_msgstore_at(x, i), *n = zl_msgstore_at(y, i);

            assert_int_equal(m->seq, n->seq);
            assert_int_equal(m->send_time, n->send_time);
            assert_string_equal(m->msgid, n->msgid);
            assert_string_equal(m->chatid, n->chatid);
            assert_string_equal(m->content, n->content);
            assert_string_equal(m->secret_key, n->secret_key);
            assert_int_equal(m->sender.type, n->sender.type);
            assert_string_equal(m->sender.id, n->sender.id);
            assert_int_equal(m->receiver_count, n->receiver_count);
            for (uint32_t k = 0; k < m->receiver_count; k++) {
                assert_int_equal(m->receivers[k].type, n->receivers[k].type);
                assert_string_equal(m->receivers[k].id, n->receivers[k].id);
            }
            assert_int_equal(m->msgtype, n->msgtype);
            assert_int_equal(m->call_duration, n->call_duration);
            assert_int_equal(zl_msgstore_find(y, m->msgid), (long)i);
        }
        zl_msgstore_stats_get(x, &sx);
        zl_msgstore_stats_get(y, &sy);
        assert_int_equal(sx.bytes_string, sy.bytes_string);
    }
    assert_int_equal(a->clock_start, b->clock_start);
}

/* Replaces the first "from" in file path with "to" (same length). */
static void patch_file(const char *path, const char *from, const char *to)
{
    size_t len, n = strlen(from);
    char *buf = read_file(path, &len), *p = NULL;

    for (size_t i = 0; i + n <= len && !p; i++)
        if (memcmp(buf + i, from, n) == 0)
            p = buf + i;
    assert_non_null(p);
    memcpy(p, to, n);
    write_file(path, buf, len);
    free(buf);
}

static const char *content_of(zl_world *w, const char *msgid)
{
    zl_msgstore *s = w->corps[0].messages;
    long i = zl_msgstore_find(s, msgid);

    assert_true(i >= 0);
    return zl_msgstore_at(s, (size_t)i)->content;
}

static void test_cache_gives_the_same_world(void **state)
{
    fixture *f = *state;
    static const char text[] = WORLD("hello", "");
    char err[256];
    zl_world *ref = zl_world_load_json(text, sizeof text - 1, f->dir, err, sizeof err), *w;

    assert_non_null(ref);
    write_file(f->path, text, sizeof text - 1);
    assert_int_not_equal(access(f->cache, F_OK), 0);
    w = load(f); /* from the JSON; writes the cache */
    assert_int_equal(access(f->cache, F_OK), 0);
    assert_same_world(ref, w);
    zl_world_free(w);
    w = load(f); /* from the cache */
    assert_same_world(ref, w);
    zl_world_free(w);

    /* the cache is what was read: a change made in it (same file bytes) shows */
    patch_file(f->cache, "hello group", "jello group");
    w = load(f);
    assert_string_equal(content_of(w, "m3"), "{\"content\":\"jello group\"}");
    zl_world_free(w);
    zl_world_free(ref);
}

static void test_changed_file_is_never_served_stale(void **state)
{
    fixture *f = *state;
    static const char a[] = WORLD("hello", ""), b[] = WORLD("howdy", "");
    static const char c[] =
        WORLD("howdy", ",{\"msgid\":\"m5\",\"sender\":{\"type\":1,\"id\":\"u2\"},\"receivers\":"
                       "[{\"type\":1,\"id\":\"u1\"}],\"send_time\":40,\"msgtype\":1}");
    zl_world *w;

    write_file(f->path, a, sizeof a - 1);
    zl_world_free(load(f));
    /* the same size, one word changed */
    write_file(f->path, b, sizeof b - 1);
    w = load(f);
    assert_string_equal(content_of(w, "m3"), "{\"content\":\"howdy group\"}");
    zl_world_free(w);
    w = load(f); /* the cache made anew from b */
    assert_string_equal(content_of(w, "m3"), "{\"content\":\"howdy group\"}");
    assert_int_equal(zl_msgstore_count(w->corps[0].messages), 4);
    zl_world_free(w);
    /* a message more */
    write_file(f->path, c, sizeof c - 1);
    w = load(f);
    assert_int_equal(zl_msgstore_count(w->corps[0].messages), 5);
    zl_world_free(w);
    /* back to a: its old cache is gone, the JSON decides */
    write_file(f->path, a, sizeof a - 1);
    w = load(f);
    assert_int_equal(zl_msgstore_count(w->corps[0].messages), 4);
    assert_string_equal(content_of(w, "m3"), "{\"content\":\"hello group\"}");
    zl_world_free(w);
}

static void test_damaged_cache_falls_back_to_the_json(void **state)
{
    fixture *f = *state;
    static const char text[] = WORLD("hello", "");
    char err[256], *buf;
    size_t len;
    zl_world *ref = zl_world_load_json(text, sizeof text - 1, f->dir, err, sizeof err), *w;

    assert_non_null(ref);
    write_file(f->path, text, sizeof text - 1);
    zl_world_free(load(f));
    buf = read_file(f->cache, &len);
    for (size_t cut = 1; cut < len; cut += 7) { /* cut short anywhere */
        write_file(f->cache, buf, cut);
        w = load(f);
        assert_same_world(ref, w);
        zl_world_free(w);
    }
    /* counts and indexes out of range: refused, never read past the end */
    write_file(f->cache, buf, len);
    for (size_t at = len / 2; at + 8 < len; at += 13) {
        char *bad = malloc(len);

        assert_non_null(bad);
        memcpy(bad, buf, len);
        memset(bad + at, 0xff, 4);
        write_file(f->cache, bad, len);
        zl_world_free(load(f)); /* whatever it gives, ASan watches the reads */
        free(bad);
    }
    free(buf);
    /* an error in the file is reported as ever, whatever the cache holds */
    write_file(f->path, text, sizeof text - 2);
    assert_null(zl_world_load_file(f->path, err, sizeof err));
    assert_non_null(strstr(err, "not valid JSON"));
    zl_world_free(ref);
}

static void test_small_files_get_no_cache(void **state)
{
    fixture *f = *state;
    static const char text[] = WORLD("hello", "");

    zl_world_cache_min_bytes(sizeof text); /* one byte more than the file */
    write_file(f->path, text, sizeof text - 1);
    zl_world_free(load(f));
    assert_int_not_equal(access(f->cache, F_OK), 0);
    zl_world_cache_min_bytes(SIZE_MAX);
    zl_world_free(load(f));
    assert_int_not_equal(access(f->cache, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cache_gives_the_same_world, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_file_is_never_served_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_cache_falls_back_to_the_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_files_get_no_cache, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
