/* cli_serve: the `zonelab serve` subcommand (the emulator as a long-running server). */
#include "cli/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cli/opts.h"
#include "emu/options.h"
#include "faces/record.h"
#include "faces/server.h"

static void usage(FILE *f)
{
    fputs("usage: zonelab serve [--world FILE] [--listen ADDR] [--port N] [--seed N]\n"
          "                     [--program CMD] [--program-id ID] [--replicas N]\n"
          "                     [--notify-routing sticky|any] [--program-timeout-ms N]\n"
          "                     [--event-timeout-ms N] [--app-callback-timeout-ms N]\n"
          "                     [--sync-budget N] [--journal-cap N] [--record FILE]\n"
          "                     [--redirect-8080 on|off] [--set NAME=VALUE ...]\n"
          "                     [--allow-remote] [--allow-host NAME ...]\n"
          "\n"
          "Runs the emulator until SIGINT or SIGTERM.\n"
          "  --world FILE              world file (default: the built-in default world)\n"
          "  --listen ADDR             IPv4 address to listen on (default 127.0.0.1); one that\n"
          "                            is not loopback needs --allow-remote\n"
          "  --allow-remote            let clients on other machines reach the control face\n"
          "                            (/_zonelab/) with the control token the banner prints\n"
          "                            (ZONELAB_CONTROL_TOKEN when set, else a random one)\n"
          "  --allow-host NAME         a Host name besides localhost and 127.x that a local\n"
          "                            client may use for /_zonelab/ (a container's name);\n"
          "                            repeatable\n"
          "  --port N                  port (default 8900; 0 picks a free one, printed at start)\n"
          "  --seed N                  seed of every id and token the emulator makes (default 1)\n"
          "  --program CMD             start CMD (via /bin/sh -c) as each replica of the program\n"
          "  --program-id ID           which program --program and --replicas apply to\n"
          "                            (default: the first program of the first corp)\n"
          "  --replicas N              replicas of that program (default: the world's, else 1)\n"
          "  --redirect-8080 on|off    on (default): a replica that listens on port 8080, as\n"
          "                            WeCom's guide says, gets its ZONELAB_PORT instead\n"
          "                            (docs/emulator.md, \"Ports\")\n"
          "  --notify-routing MODE     sticky (default): a call with a notify_id goes to the\n"
          "                            replica that issued it; any: round robin\n"
          "  --program-timeout-ms N    wait for a program's answer to an app call (default 10000)\n"
          "  --event-timeout-ms N      wait for a program's answer to an event (default 5000)\n"
          "  --app-callback-timeout-ms N  wait per try for an app callback URL (default 5000)\n"
          "  --sync-budget N           sync_msg calls per minute per corp without a token (10)\n"
          "  --journal-cap N           journal entries kept in memory (default 200000)\n"
          "  --record FILE             write every exchange with its exact bytes to FILE, one\n"
          "                            JSON line each (holds secrets and tokens; docs/replay.md)\n"
          "  --set NAME=VALUE          set an option of the table (zonelab options lists them),\n"
          "                            over the world file's \"options\"; repeatable. The flags\n"
          "                            --redirect-8080, --notify-routing, --program-timeout-ms,\n"
          "                            --event-timeout-ms, --app-callback-timeout-ms and\n"
          "                            --sync-budget set options\n"
          "                            too; the last word on an option wins\n",
          f);
}

#define MAX_SETS  256
#define MAX_HOSTS 16

/* Whether addr (an IPv4 address, as --listen takes it) is a loopback one. */
static bool loopback_listen(const char *addr)
{
    struct in_addr a;

    return inet_pton(AF_INET, addr, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* The control token of --allow-remote: ZONELAB_CONTROL_TOKEN, else 32 random hex characters
 * (a secret: OpenSSL's generator, not the seeded one). 0, or -1. */
static int control_token(char *out, size_t cap)
{
    const char *env = getenv("ZONELAB_CONTROL_TOKEN");
    unsigned char b[16];
    size_t i;

    if (env && *env) {
        if (strlen(env) >= cap || strpbrk(env, " \t\r\n"))
            return -1;
        memcpy(out, env, strlen(env) + 1);
        return 0;
    }
    if (cap < 2 * sizeof b + 1 || RAND_bytes(b, sizeof b) != 1)
        return -1;
    for (i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

/* The option a flag of older releases sets (its value is the option's), or NULL. */
static const char *alias_of(const char *flag)
{
    static const char *const ALIASES[][2] = {
        {"--notify-routing", "notify_routing"},
        {"--program-timeout-ms", "program_timeout_ms"},
        {"--event-timeout-ms", "event_timeout_ms"},
        {"--app-callback-timeout-ms", "app_callbacks.timeout_ms"},
        {"--sync-budget", "sync_budget_per_min"},
        {"--redirect-8080", "redirect_8080"},
    };
    size_t i;

    for (i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (!strcmp(flag, ALIASES[i][0]))
            return ALIASES[i][1];
    return NULL;
}

static const char *app_kind_name(zl_app_kind k)
{
    return k == ZL_APP_SELF_BUILT ? "self_built" : k == ZL_APP_CUSTOM ? "custom" : "third_party";
}

/* The providers and their suites, in the vendor's field names: what get_provider_token and
 * get_suite_token take, and what a command URL needs to check and decrypt its callbacks. */
static void print_providers(const zl_world *w, FILE *out)
{
    size_t i, k;

    for (i = 0; i < w->provider_count; i++) {
        const zl_provider *p = &w->providers[i];

        fprintf(out, "zonelab: provider corpid=%s provider_secret=%s\n", p->corpid,
                p->provider_secret);
        for (k = 0; k < p->suite_count; k++) {
            const zl_suite *s = &p->suites[k];

            fprintf(out,
                    "zonelab: suite suite_id=%s suite_secret=%s kind=%s token=%s "
                    "encoding_aes_key=%s callback_url=%s\n",
                    s->suite_id, s->suite_secret,
                    s->kind == ZL_SUITE_CUSTOM ? "custom" : "third_party", s->token,
                    s->encoding_aes_key,
                    *s->callback_url ? s->callback_url : "(the built-in fake provider)");
        }
    }
}

/* What a developer needs: the URL, the providers, the app credentials (with a third-party or
 * 代开发 app's suite and authorisation), each replica's environment. */
static void print_banner(zl_emu *emu, const char *base, FILE *out)
{
    size_t i, k;

    fprintf(out, "zonelab: listening on %s\n", base);
    print_providers(emu->world, out);
    for (i = 0; i < emu->app_count; i++) {
        const zl_app_rt *a = &emu->apps[i];

        fprintf(out, "zonelab: app corpid=%s agentid=%u corpsecret=%s", a->corp->corpid,
                a->app->agentid,
                a->app->kind == ZL_APP_CUSTOM ? a->auth.permanent_code : a->app->secret);
        if (a->app->suite)
            fprintf(out, " kind=%s suite_id=%s auth_corpid=%s permanent_code=%s",
                    app_kind_name(a->app->kind), a->app->suite->suite_id, a->corp->corpid,
                    a->auth.permanent_code);
        fputc('\n', out);
    }
    for (i = 0; i < emu->prog_count; i++)
        for (k = 0; k < emu->progs[i].replica_count; k++) {
            fprintf(out, "zonelab: program %s replica %zu%s, environment:\n",
                    emu->progs[i].prog->program_id, k,
                    emu->progs[i].replicas[k].pid > 0 ? " (started by zonelab)" : "");
            zl_emu_replica_env(emu, &emu->progs[i], k, base, out);
        }
}

/* ---- loading a big world, with progress on a terminal ---- */

#define BIG_WORLD_BYTES (16L << 20) /* the size from which a world gets a binary cache too */

typedef struct load_progress {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    bool done;
    FILE *err;
    const char *path;
    double mb;
} load_progress;

static double mono_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Rewrites the line "loading PATH (N MB): S s" every 250 ms until the load is done. */
static void *progress_main(void *arg)
{
    load_progress *lp = arg;
    double t0 = mono_s();
    struct timespec until;

    pthread_mutex_lock(&lp->lock);
    while (!lp->done) {
        fprintf(lp->err, "\r\033[Kloading %s (%.0f MB): %.1f s", lp->path, lp->mb, mono_s() - t0);
        fflush(lp->err);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&lp->done_cv, &lp->lock, &until);
    }
    pthread_mutex_unlock(&lp->lock);
    return NULL;
}

/* zl_world_load_file, saying on a terminal (err) what it is doing when the file is big: a
 * line of elapsed time while it loads, then how long it took. */
static zl_world *load_world(const char *path, FILE *err, char *msg, size_t msglen)
{
    load_progress lp = {.err = err, .path = path};
    struct stat st;
    pthread_t th;
    bool ticking;
    double t0 = mono_s();
    zl_world *w;

    if (!isatty(fileno(err)) || stat(path, &st) != 0 || st.st_size < BIG_WORLD_BYTES)
        return zl_world_load_file(path, msg, msglen);
    lp.mb = (double)st.st_size / (1 << 20);
    pthread_mutex_init(&lp.lock, NULL);
    pthread_cond_init(&lp.done_cv, NULL);
    ticking = pthread_create(&th, NULL, progress_main, &lp) == 0;
    w = zl_world_load_file(path, msg, msglen);
    pthread_mutex_lock(&lp.lock);
    lp.done = true;
    pthread_cond_signal(&lp.done_cv);
    pthread_mutex_unlock(&lp.lock);
    if (ticking)
        pthread_join(th, NULL);
    fprintf(err, "\r\033[K%s %s (%.0f MB) in %.1f s\n", w ? "loaded" : "could not load", path,
            lp.mb, mono_s() - t0);
    pthread_cond_destroy(&lp.done_cv);
    pthread_mutex_destroy(&lp.lock);
    return w;
}

int zl_cli_serve(int argc, char **argv, FILE *out, FILE *err)
{
    zl_server_config sc;
    zl_engine_config *cfg = &sc.engine;
    zl_emu_options check;
    unsigned long long v, replicas = 0;
    const char *sets[MAX_SETS];
    char alias[MAX_SETS][80]; /* an alias flag as NAME=VALUE */
    size_t nsets = 0;
    const char *world_path = NULL, *program_cmd = NULL, *program_id = NULL, *record_path = NULL;
    zl_server *srv = NULL;
    zl_world *w = NULL;
    zl_emu *emu = NULL;
    zl_prog_rt *target = NULL;
    zl_record *rec = NULL;
    char msg[1200], base[64], token[200] = "";
    const char *hosts[MAX_HOSTS];
    size_t nhosts = 0;
    bool allow_remote = false;
    int i, rc = ZL_CLI_FAILED;

    zl_server_config_default(&sc);
    zl_emu_options_default(&check);
    cfg->port = 8900;
    cfg->seed = 1;
    sc.version = ZL_VERSION;
    for (i = 1; i < argc; i += 2) { /* every option but --allow-remote takes a value */
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL, *name;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(out);
            return ZL_CLI_OK;
        } else if (!strcmp(a, "--listen") && val) {
            cfg->listen = val;
        } else if (!strcmp(a, "--allow-remote")) {
            allow_remote = true;
            i--; /* the one flag without a value */
        } else if (!strcmp(a, "--allow-host") && val && *val && strlen(val) < 256 &&
                   nhosts < MAX_HOSTS) {
            hosts[nhosts++] = val;
        } else if (!strcmp(a, "--world") && val) {
            world_path = val;
        } else if (!strcmp(a, "--program") && val && *val) {
            program_cmd = val;
        } else if (!strcmp(a, "--record") && val && *val) {
            record_path = val;
        } else if (!strcmp(a, "--program-id") && val && *val) {
            program_id = val;
        } else if (!strcmp(a, "--replicas") && val && zl_cli_parse_u64(val, 64, &v) == 0 && v > 0) {
            replicas = v;
        } else if (nsets < MAX_SETS && val && (name = alias_of(a))) {
            /* --redirect-8080 says on and off where the option says true and false */
            snprintf(alias[nsets], sizeof alias[nsets], "%s=%s", name,
                     !strcmp(a, "--redirect-8080") && !strcmp(val, "on")    ? "true"
                     : !strcmp(a, "--redirect-8080") && !strcmp(val, "off") ? "false"
                                                                            : val);
            if (zl_emu_options_set_text(&check, alias[nsets], msg, sizeof msg) != 0)
                goto bad;
            sets[nsets] = alias[nsets];
            nsets++;
        } else if (!strcmp(a, "--set") && val && nsets < MAX_SETS) {
            if (zl_emu_options_set_text(&check, val, msg, sizeof msg) != 0) {
                fprintf(err, "zonelab serve: --set %s\n", msg);
                return ZL_CLI_USAGE;
            }
            sets[nsets++] = val;
        } else if (!strcmp(a, "--port") && val && zl_cli_parse_u64(val, 65535, &v) == 0) {
            cfg->port = (unsigned)v;
        } else if (!strcmp(a, "--seed") && val && zl_cli_parse_u64(val, UINT64_MAX, &v) == 0) {
            cfg->seed = v;
        } else if (!strcmp(a, "--journal-cap") && val &&
                   zl_cli_parse_u64(val, 100000000, &v) == 0 && v > 0) {
            sc.journal_cap = (size_t)v;
        } else {
            goto bad;
        }
        continue;
    bad:
        fprintf(err, "zonelab serve: bad or incomplete option '%s'%s%s\n", a, val ? " " : "",
                val ? val : "");
        usage(err);
        return ZL_CLI_USAGE;
    }
    sc.sets = sets;
    sc.set_count = nsets;
    if (!loopback_listen(cfg->listen) && !allow_remote) {
        fprintf(err,
                "zonelab serve: --listen %s lets other machines reach the control face "
                "(/_zonelab/: every secret and token, the clock, events): add --allow-remote, "
                "and they must send the control token it prints\n",
                cfg->listen);
        return ZL_CLI_USAGE;
    }
    if (allow_remote && control_token(token, sizeof token) != 0) {
        fprintf(err, "zonelab serve: ZONELAB_CONTROL_TOKEN must be one word under 200 bytes\n");
        return ZL_CLI_USAGE;
    }
    sc.control_token = token[0] ? token : NULL;
    sc.allow_hosts = hosts;
    sc.n_allow_hosts = nhosts;
    if (world_path && (!(w = load_world(world_path, err, msg, sizeof msg)) ||
                       zl_emu_options_set_world(&check, w, msg, sizeof msg) != 0)) {
        fprintf(err, "zonelab serve: %s: %s\n", world_path, msg);
        zl_world_free(w);
        return ZL_CLI_FAILED;
    }
    if (!(srv = zl_server_new(w, &sc, msg, sizeof msg)) ||
        zl_server_start(srv, msg, sizeof msg) != 0) {
        fprintf(err, "zonelab serve: %s\n", msg);
        zl_server_free(srv);
        return ZL_CLI_FAILED;
    }
    emu = srv->emu;
    if (program_cmd || replicas || program_id) {
        if (program_id) {
            for (size_t k = 0; k < emu->prog_count && !target; k++)
                if (!strcmp(emu->progs[k].prog->program_id, program_id))
                    target = &emu->progs[k];
        } else if (emu->prog_count) {
            target = &emu->progs[0];
        }
        if (!target) {
            fprintf(err, "zonelab serve: %s\n",
                    program_id ? "--program-id names no program of the world"
                               : "the world has no program for --program/--replicas");
            rc = ZL_CLI_USAGE;
            goto out;
        }
        if (replicas && zl_emu_set_replicas(emu, target, (size_t)replicas, msg, sizeof msg) != 0) {
            fprintf(err, "zonelab serve: %s\n", msg);
            goto out;
        }
    }
    zl_cli_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);
    snprintf(base, sizeof base, "http://%s:%u", cfg->listen, zl_engine_port(srv->engine));
    if (program_cmd) {
        if (zl_emu_spawn(emu, target, program_cmd, msg, sizeof msg) != 0 ||
            zl_emu_wait_ready(emu, target, emu->opt.ready_timeout_ms, msg, sizeof msg) != 0) {
            fprintf(err, "zonelab serve: %s\n", msg);
            goto out;
        }
    }
    if (record_path) {
        zl_record_info info = {
            .version = ZL_VERSION, .seed = cfg->seed, .world_path = world_path, .base_url = base};

        info.world_raw = zl_world_default_json(&info.world_len);

        if (!(rec = zl_record_open(record_path, emu, &info, msg, sizeof msg))) {
            fprintf(err, "zonelab serve: --record: %s\n", msg);
            goto out;
        }
        zl_engine_observe(srv->engine, zl_record_exchange, rec);
    }
    zl_journal_add(srv->journal, zl_emu_now_ms(emu), "control", "start", NULL);
    print_banner(emu, base, out);
    if (token[0])
        fprintf(out,
                "zonelab: control token %s (clients on other machines send Authorization: "
                "Bearer %s to /_zonelab/; zonelab's commands read it from "
                "ZONELAB_CONTROL_TOKEN)\n",
                token, token);
    fprintf(out, "zonelab: ready\n");
    fflush(out);
    while (!zl_cli_stopped())
        zl_server_turn(srv, 200);
    fprintf(err, "zonelab serve: stopping\n");
    rc = ZL_CLI_OK;
out:
    zl_server_stop(srv); /* calls still in flight are recorded as cancelled */
    if (rec) {
        if (zl_record_failed(rec))
            fprintf(err, "zonelab serve: --record: writing %s failed; the file is incomplete\n",
                    record_path);
        else
            fprintf(err, "zonelab serve: recorded %llu exchanges in %s\n",
                    (unsigned long long)zl_record_count(rec), record_path);
        zl_record_close(rec);
    }
    zl_server_free(srv);
    return rc;
}
