/* test_ports: a replica's port taken by another process before the replica listens (another
 * emulator or program of a parallel run took it, as happened under `zonelab run -j 4`): the
 * replica is not taken as listening because something answers on its port, it is moved to a
 * new port and started again; a replica that fails on its own is not. And the commands
 * zonelab starts without a shell (`exec` and words), split as sh would. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emu/emu.h"

typedef struct fixture {
    zl_engine *engine;
    zl_journal *journal;
    zl_world *world;
    zl_emu *emu;
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    zl_engine_config cfg = {.port = 0, .seed = 1};
    zl_emu_options opt;
    char err[512] = "";

    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/zl-test-ports-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
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
    f->emu->log_dir = f->dir;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];

    zl_emu_shutdown(f->emu);
    zl_engine_free(f->engine);
    zl_emu_free(f->emu);
    zl_journal_free(f->journal);
    zl_world_free(f->world);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* A socket listening on 127.0.0.1:port, as another emulator would hold it. */
static int squat(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    a.sin_port = htons((uint16_t)port);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    return fd;
}

static size_t journal_count(fixture *f, const char *kind)
{
    cJSON *list = zl_journal_since(f->journal, 0, 100000), *e;
    size_t n = 0;

    cJSON_ArrayForEach(e, list)
    {
        n += !strcmp(cJSON_GetObjectItem(e, "face")->valuestring, "program") &&
             !strcmp(cJSON_GetObjectItem(e, "kind")->valuestring, kind);
    }
    cJSON_Delete(list);
    return n;
}

static void test_ports_taken_port_moves(void **state)
{
    fixture *f = *state;
    zl_prog_rt *p = &f->emu->progs[0];
    unsigned taken = p->replicas[0].port;
    int fd = squat(taken);
    char cmd[512], err[512] = "";

    /* something answers on the port: that is not the replica listening */
    assert_true(zl_emu_port_open(taken));
    assert_true(zl_emu_port_taken(taken));
    snprintf(cmd, sizeof cmd, "exec '%s' --data-dir '%s/data'", ZONE_DEMO, f->dir);
    assert_int_equal(zl_emu_spawn(f->emu, p, cmd, err, sizeof err), 0);
    assert_int_equal(zl_emu_listener_owned(p->replicas[0].pid, taken), 0); /* ours: another's */
    if (zl_emu_wait_ready(f->emu, p, 30000, err, sizeof err) != 0)
        fail_msg("not ready: %s", err);
    assert_int_not_equal(p->replicas[0].port, taken);
    assert_int_equal(p->replicas[0].port_moves, 1);
    assert_int_equal(zl_emu_listener_owned(p->replicas[0].pid, p->replicas[0].port), 1);
    assert_int_equal(journal_count(f, "port_taken"), 1);
    assert_int_equal(journal_count(f, "spawn"), 2);
    close(fd);
}

static void test_ports_own_failure_is_not_moved(void **state)
{
    fixture *f = *state;
    zl_prog_rt *p = &f->emu->progs[0];
    unsigned port = p->replicas[0].port;
    char err[512] = "";

    assert_int_equal(zl_emu_spawn(f->emu, p, "exit 3", err, sizeof err), 0);
    assert_int_equal(zl_emu_wait_ready(f->emu, p, 30000, err, sizeof err), -1);
    assert_non_null(strstr(err, "before it listened on 127.0.0.1:"));
    assert_int_equal(p->replicas[0].port, port);
    assert_int_equal(p->replicas[0].port_moves, 0);
    assert_int_equal(journal_count(f, "port_taken"), 0);
}

static void test_command_words_as_sh(void **state)
{
    char *argv[8], buf[256];

    (void)state;
    setenv("ZL_T_DIR", "/tmp/w d", 1);
    unsetenv("ZL_T_UNSET");
    assert_int_equal(zl_emu_command_words("exec '/a b/zone-demo' --data-dir \"$ZL_T_DIR/data\"",
                                          argv, 8, buf, sizeof buf),
                     3);
    assert_string_equal(argv[0], "/a b/zone-demo");
    assert_string_equal(argv[1], "--data-dir");
    assert_string_equal(argv[2], "/tmp/w d/data");
    assert_null(argv[3]);
    assert_int_equal(zl_emu_command_words("  exec  p '' \"${ZL_T_DIR}x${ZL_T_UNSET}\" a'b'\"c\"",
                                          argv, 8, buf, sizeof buf),
                     4);
    assert_string_equal(argv[0], "p");
    assert_string_equal(argv[1], "");
    assert_string_equal(argv[2], "/tmp/w dx");
    assert_string_equal(argv[3], "abc");
}

static void test_command_words_leave_the_rest_to_sh(void **state)
{
    static const char *const shell[] = {"zone-demo",
                                        "exec",
                                        "exec ",
                                        "exec a; b",
                                        "exec a $ZL_T_DIR",
                                        "exec a 2>&1",
                                        "exec \"$1\"",
                                        "exec 'open",
                                        "exec \"open",
                                        "exec a *",
                                        "exec \"${ZL_T_DIR:-y}\"",
                                        "exec a\\ b",
                                        "exec a\nb",
                                        "exec -a x p",
                                        "exec X=1 p",
                                        "exec ~/p",
                                        "exec \"`p`\"",
                                        "exec a b c d e f g h",
                                        NULL};
    char *argv[8], buf[64];
    size_t i;

    (void)state;
    for (i = 0; shell[i]; i++)
        if (zl_emu_command_words(shell[i], argv, 8, buf, sizeof buf) != -1)
            fail_msg("split without the shell: %s", shell[i]);
    assert_int_equal(
        zl_emu_command_words("exec 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                             "aaaaaaaaaaaaaaaaaaaa'",
                             argv, 8, buf, sizeof buf),
        -1); /* longer than buf */
}

/* A command run without the shell that cannot start ends as sh's would: exit code 127. */
static void test_ports_direct_exec_failure(void **state)
{
    fixture *f = *state;
    zl_prog_rt *p = &f->emu->progs[0];
    char err[512] = "";

    assert_int_equal(zl_emu_spawn(f->emu, p, "exec /nonexistent/zl-program --x", err, sizeof err),
                     0);
    assert_int_equal(zl_emu_wait_ready(f->emu, p, 30000, err, sizeof err), -1);
    assert_non_null(strstr(err, "exit code 127"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_words_as_sh),
        cmocka_unit_test(test_command_words_leave_the_rest_to_sh),
        cmocka_unit_test_setup_teardown(test_ports_direct_exec_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ports_taken_port_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ports_own_failure_is_not_moved, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
