/* cli_serve: the `zonelab serve` subcommand (the emulator as a long-running server). */
#include "cli_serve.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli_crypto.h"
#include "control.h"
#include "engine.h"
#include "journal.h"

#ifndef ZL_VERSION
#define ZL_VERSION "0.1.0"
#endif

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    fputs("usage: zonelab serve [--listen ADDR] [--port N] [--seed N] [--journal-cap N]\n"
          "\n"
          "Runs the emulator until SIGINT or SIGTERM.\n"
          "  --listen ADDR       IPv4 address to listen on (default 127.0.0.1)\n"
          "  --port N            port (default 8900; 0 picks a free one, printed at start)\n"
          "  --seed N            seed of every id and token the emulator makes (default 1)\n"
          "  --journal-cap N     journal entries kept in memory (default 200000)\n",
          f);
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno || *end || *out > max ? -1 : 0;
}

int zl_cli_serve(int argc, char **argv, FILE *out, FILE *err)
{
    zl_engine_config cfg = {.listen = "127.0.0.1", .port = 8900, .seed = 1};
    unsigned long long v, cap = 200000;
    zl_engine *e = NULL;
    zl_journal *j = NULL;
    zl_control control;
    struct sigaction sa;
    char msg[256];
    int i, rc = ZL_CLI_FAILED;

    for (i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(out);
            return ZL_CLI_OK;
        } else if (!strcmp(a, "--listen") && val) {
            cfg.listen = val;
        } else if (!strcmp(a, "--port") && val && parse_u64(val, 65535, &v) == 0) {
            cfg.port = (unsigned)v;
        } else if (!strcmp(a, "--seed") && val && parse_u64(val, UINT64_MAX, &v) == 0) {
            cfg.seed = v;
        } else if (!strcmp(a, "--journal-cap") && val && parse_u64(val, 100000000, &v) == 0 &&
                   v > 0) {
            cap = v;
        } else {
            fprintf(err, "zonelab serve: bad or incomplete option '%s'%s%s\n", a, val ? " " : "",
                    val ? val : "");
            usage(err);
            return ZL_CLI_USAGE;
        }
    }
    if (!(e = zl_engine_new(&cfg, msg, sizeof msg))) {
        fprintf(err, "zonelab serve: %s\n", msg);
        return ZL_CLI_FAILED;
    }
    if (!(j = zl_journal_new((size_t)cap))) {
        fprintf(err, "zonelab serve: out of memory for the journal\n");
        goto out;
    }
    control = (zl_control){.engine = e, .journal = j, .version = ZL_VERSION};
    if (zl_control_install(&control) != 0) {
        fprintf(err, "zonelab serve: cannot install routes\n");
        goto out;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    zl_journal_add(j, zl_clock_now_ms(zl_engine_clock(e)), "control", "start", NULL);
    fprintf(out, "zonelab: listening on http://%s:%u\n", cfg.listen, zl_engine_port(e));
    fflush(out);
    while (!stop_requested)
        zl_engine_turn(e, 200);
    fprintf(err, "zonelab serve: stopping\n");
    rc = ZL_CLI_OK;
out:
    zl_engine_free(e);
    zl_journal_free(j);
    return rc;
}
