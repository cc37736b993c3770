/* scenario: one Lua scenario file against a fresh in-process emulator. The file declares its
 * world with scenario{} and its tests with test(name, fn); each test runs as a coroutine.
 * Blocking verbs are C primitives that yield with a continuation (primitives.c): the driver
 * here builds the emulator the file asked for (faces/server.c), turns the engine until what
 * a test waits for happens (or the timeout, or a crash), resumes it, and reports. The Lua
 * state is sandbox.c's; the friendly verbs are Lua, in prelude.lua. */
#define _GNU_SOURCE
#include "scenario/scenario.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/sbuf.h"
#include "scenario/scenario_int.h"
#include "emu/options.h"
#include "wecom/wxcrypt.h"

/* ---- waiting ---- */

/* settle(): looks in a row that must find the engine idle, a turn of the loop apart (each
 * waiting at most 1 ms) */
#define SETTLE_TURNS 3

void zl_scenario_wait_reset(sc *s)
{
    free(s->w.body);
    free(s->w.error);
    cJSON_Delete(s->w.filter);
    cJSON_Delete(s->w.found);
    memset(&s->w, 0, sizeof s->w);
}

/* Whether entry matches every field of filter (strings, numbers; "match" is a subtable). */
bool zl_scenario_entry_matches(const cJSON *entry, const cJSON *filter)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, filter)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, f->string);

        if (cJSON_IsObject(f)) {
            if (!cJSON_IsObject(v) || !zl_scenario_entry_matches(v, f))
                return false;
        } else if (!v || !cJSON_Compare(v, f, 1)) {
            return false;
        }
    }
    return true;
}

static bool check(sc *s)
{
    wait *w = &s->w;

    switch (w->kind) {
    case W_HTTP:
        return w->done;
    case W_SLEEP:
        return real_ms() >= w->deadline;
    case W_INBOX: {
        cJSON *list = zl_appnotify_inbox(s->emu->notify_out, w->agentid, s->cursors[w->cursor].seq);
        cJSON *first = cJSON_DetachItemFromArray(list, 0);

        cJSON_Delete(list);
        if (!first)
            return false;
        s->cursors[w->cursor].seq = (uint64_t)cJSON_GetObjectItem(first, "seq")->valuedouble;
        w->found = first;
        return true;
    }
    case W_JOURNAL: {
        cJSON *list = zl_journal_since(s->journal, s->cursors[w->cursor].seq, 100000), *e;

        cJSON_ArrayForEach(e, list)
        {
            s->cursors[w->cursor].seq = (uint64_t)cJSON_GetObjectItem(e, "seq")->valuedouble;
            if (zl_scenario_entry_matches(e, w->filter)) {
                w->found = cJSON_Duplicate(e, 1);
                break;
            }
        }
        cJSON_Delete(list);
        return w->found != NULL;
    }
    case W_READY:
        return zl_emu_replica_listening(s->emu, w->rep);
    case W_SETTLE:
        /* idle SETTLE_TURNS looks in a row: an answer that reached a socket before a turn is
         * read by that turn, and what it starts makes the engine busy again */
        if (!zl_engine_idle(s->engine)) {
            w->quiet = 0;
            return false;
        }
        return ++w->quiet >= SETTLE_TURNS;
    default:
        return true;
    }
}

/* Appends "--- <instance>" and the last lines of r's log to out (cap bytes, *len used). */
static void log_tail(const sc *s, const zl_replica *r, int lines, char *out, size_t cap,
                     size_t *len)
{
    char path[700], *text = NULL, *p;
    size_t n = 0, k;
    FILE *f;
    int seen = 0;

    if (*len >= cap)
        return;
    snprintf(path, sizeof path, "%s/%s.log", s->opt.work_dir, r->instance);
    for (k = strlen(s->opt.work_dir) + 1; path[k]; k++)
        if (path[k] == '/')
            path[k] = '_';
    if (!(f = fopen(path, "r")))
        return;
    if (getdelim(&text, &n, '\0', f) < 0) {
        fclose(f);
        free(text);
        return;
    }
    fclose(f);
    p = text + strlen(text);
    while (p > text && seen <= lines)
        if (*--p == '\n')
            seen++;
    if (p > text)
        p++;
    *len += (size_t)snprintf(out + *len, cap - *len, "--- %s\n%s", r->instance, p);
    free(text);
}

/* The last lines of each replica's log, of every program the scenario started, first's first
 * (NULL: in order); owned. */
static char *program_log(const sc *s, int lines_per_replica, const zl_replica *first)
{
    size_t cap = 8192, len = 0, i, q;
    char *out = calloc(1, cap);

    if (s->emu) /* what the replicas wrote reaches their files through the loop */
        zl_proglog_poll(s->emu);
    if (out && first)
        log_tail(s, first, lines_per_replica, out, cap, &len);
    for (q = 0; out && q < s->n_started; q++)
        for (i = 0; i < s->started[q]->replica_count; i++)
            if (&s->started[q]->replicas[i] != first)
                log_tail(s, &s->started[q]->replicas[i], lines_per_replica, out, cap, &len);
    return out;
}

/* A replica that ended on its own is a crash: the scenario says so with its last lines (its
 * own first: the message is cut at the size of an error). Replicas of every program the
 * scenario started count. */
static bool crashed(sc *s)
{
    size_t i, q;

    if (s->crash[0])
        return true;
    zl_emu_reap(s->emu);
    for (q = 0; q < s->n_started; q++)
        for (i = 0; i < s->started[q]->replica_count; i++) {
            zl_replica *r = &s->started[q]->replicas[i];
            char *log;

            if (r->pid <= 0 || !r->exited || r->expected_exit)
                continue;
            log = program_log(s, 8, r);
            snprintf(s->crash, sizeof s->crash, "program %s crashed (%s %d); its last lines:\n%s",
                     r->instance, r->exit_code >= 128 ? "signal" : "exit code",
                     r->exit_code >= 128 ? r->exit_code - 128 : r->exit_code, log ? log : "");
            free(log);
            return true;
        }
    return false;
}

/* Turns the engine until the wait is over: done, timed out, or the program crashed. */
static void drive(sc *s)
{
    while (!check(s)) {
        int64_t now = real_ms();

        if (now >= s->w.deadline || now >= s->scenario_deadline) {
            s->w.timed_out = true;
            return;
        }
        if (crashed(s))
            return;
        /* a replica's listen wakes nothing here: look again soon (it starts every file) */
        if (s->w.kind == W_READY && s->w.rep->ready_armed) /* the preload's byte wakes it */
            zl_engine_turn_fds(s->engine, 5, &s->w.rep->ready_fd, 1);
        else
            zl_engine_turn(s->engine, s->w.kind == W_READY || s->w.kind == W_SETTLE ? 1 : 5);
    }
    s->w.done = true;
}

/*
 * The programs' environment: ZONELAB_WORK_DIR and scenario{}.env are set in this process only
 * while a replica is forked (the child inherits them), then put back. So the emulator in this
 * process never sees them (libcurl reads proxies from the environment), and nothing is left
 * behind for another file run in the same process.
 */
static void env_enter(sc *s)
{
    size_t k;

    for (k = 0; k < s->n_env; k++) {
        const char *old = getenv(s->env[k].name);

        s->env[k].saved = old ? strdup(old) : NULL;
        setenv(s->env[k].name, s->env[k].value, 1);
    }
}

static void env_leave(sc *s)
{
    size_t k;

    for (k = 0; k < s->n_env; k++) {
        if (s->env[k].saved)
            setenv(s->env[k].name, s->env[k].saved, 1);
        else
            unsetenv(s->env[k].name);
        free(s->env[k].saved);
        s->env[k].saved = NULL;
    }
}

/* zl_emu_spawn (cmd) or zl_emu_spawn_one (replica i, cmd NULL) with the programs' environment. */
int zl_scenario_spawn(sc *s, zl_prog_rt *p, const char *cmd, size_t i, char *err, size_t errlen)
{
    int rc;

    if (s->opt.no_programs) {
        snprintf(err, errlen, "programs are not started here (no_programs)");
        return -1;
    }
    env_enter(s);
    rc = cmd ? zl_emu_spawn(s->emu, p, cmd, err, errlen)
             : zl_emu_spawn_one(s->emu, p, i, err, errlen);
    env_leave(s);
    return rc;
}

/* emu->respawn: replica i of p again, with the programs' environment. */
static int respawn(zl_emu *emu, zl_prog_rt *p, size_t i, void *ud)
{
    char err[256];

    (void)emu;
    return zl_scenario_spawn(ud, p, NULL, i, err, sizeof err);
}

int zl_scenario_spawn_dev(sc *s, zl_prog_rt *p, const char *cmd, char *err, size_t errlen)
{
    int rc;

    if (s->opt.no_programs) {
        snprintf(err, errlen, "programs are not started here (no_programs)");
        return -1;
    }
    env_enter(s);
    rc = zl_emu_spawn_dev(s->emu, p, cmd, err, errlen);
    env_leave(s);
    return rc;
}
/* ---- building the emulator the scenario asked for ---- */

static const char *cfg_str(const sc *s, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->config, key);

    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static long cfg_int(const sc *s, const char *key, long dflt, long min, long max, char *err,
                    size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->config, key);

    if (!v)
        return dflt;
    if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max) {
        snprintf(err, errlen, "scenario{}.%s must be a number from %ld to %ld", key, min, max);
        return LONG_MIN;
    }
    return (long)v->valuedouble;
}

static const char *const config_keys[] = {"world",
                                          "program",
                                          "program_id",
                                          "replicas",
                                          "routing",
                                          "sync_budget",
                                          "program_timeout_ms",
                                          "event_timeout_ms",
                                          "app_callback_timeout_ms",
                                          "options",
                                          "seed",
                                          "programs",
                                          "env",
                                          "redirect_8080",
                                          NULL};

static bool env_name_ok(const char *n)
{
    if (!(*n == '_' || (*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z')))
        return false;
    for (n++; *n; n++)
        if (!(*n == '_' || (*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') ||
              (*n >= '0' && *n <= '9')))
            return false;
    return true;
}

/* value with every "{dir}" replaced by dir (owned; NULL when memory runs out). */
static char *with_dir(const char *value, const char *dir)
{
    zl_sbuf b = {0};
    const char *p = value, *q;

    while ((q = strstr(p, "{dir}"))) {
        zl_sbuf_add(&b, p, (size_t)(q - p));
        zl_sbuf_str(&b, dir);
        p = q + 5;
    }
    zl_sbuf_str(&b, p);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s ? b.s : strdup("");
}

/*
 * s->env from ZONELAB_WORK_DIR and scenario{}.env: NAME = "value" ({dir} is dir, the scenario
 * file's folder made absolute) or NAME = integer. -1 with err for a bad table, name or value.
 */
static int env_parse(sc *s, const char *dir, char *err, size_t errlen)
{
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(s->config, "env"), *e;
    char *abs = NULL;
    int rc = -1;

    if (env && !cJSON_IsObject(env)) {
        snprintf(err, errlen, "scenario{}.env is a table of NAME = \"value\"");
        return -1;
    }
    /* one more, zeroed: the end for zl_scenario_run's free */
    if (!(s->env = calloc(2 + (size_t)cJSON_GetArraySize(env), sizeof *s->env)) ||
        !(s->env[0].name = strdup("ZONELAB_WORK_DIR")) ||
        !(s->env[0].value = strdup(s->opt.work_dir)))
        goto oom;
    s->n_env = 1;
    if (env && env->child && !(abs = realpath(dir, NULL))) {
        snprintf(err, errlen, "scenario{}.env: cannot make the folder %s absolute: %s", dir,
                 strerror(errno));
        return -1;
    }
    cJSON_ArrayForEach(e, env)
    {
        env_var *v = &s->env[s->n_env];
        char num[32];
        double d = e->valuedouble;

        if (!env_name_ok(e->string)) {
            snprintf(err, errlen,
                     "scenario{}.env: \"%s\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
                     e->string);
            goto out;
        }
        if (!strncmp(e->string, "ZONELAB_", 8)) {
            snprintf(err, errlen,
                     "scenario{}.env.%s: names starting with ZONELAB_ are the emulator's own",
                     e->string);
            goto out;
        }
        if (cJSON_IsNumber(e) && d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
            d == (double)(long long)d) {
            snprintf(num, sizeof num, "%lld", (long long)d);
        } else if (!cJSON_IsString(e)) {
            snprintf(err, errlen, "scenario{}.env.%s must be a string (or an integer)", e->string);
            goto out;
        }
        if (!(v->name = strdup(e->string)) ||
            !(v->value = with_dir(cJSON_IsString(e) ? e->valuestring : num, abs)))
            goto oom;
        s->n_env++;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    free(abs);
    return rc;
}

/*
 * s->started: the main program, then every program of scenario{}.programs (program_id =
 * command, or true for the main one's command), in program id order; cmds[k] the command of
 * started[k] (borrowed). -1 with err for a bad table, an unknown id, the main program's id, a bad
 * value.
 */
static int programs_parse(sc *s, const char *main_cmd, const char **cmds, char *err, size_t errlen)
{
    const cJSON *programs = cJSON_GetObjectItemCaseSensitive(s->config, "programs"), *e;
    size_t k;

    s->started[0] = s->prog;
    cmds[0] = main_cmd;
    s->n_started = 1;
    if (programs && !cJSON_IsObject(programs)) {
        snprintf(err, errlen,
                 "scenario{}.programs is a table of [\"<program_id>\"] = \"<command>\" or true");
        return -1;
    }
    cJSON_ArrayForEach(e, programs)
    {
        zl_prog_rt *p = NULL;

        for (k = 0; k < s->emu->prog_count && !p; k++)
            if (!strcmp(s->emu->progs[k].prog->program_id, e->string))
                p = &s->emu->progs[k];
        if (!p) {
            char list[600] = "";
            size_t len = 0;

            for (k = 0; k < s->emu->prog_count && len < sizeof list; k++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "",
                                        s->emu->progs[k].prog->program_id);
            snprintf(err, errlen,
                     "scenario{}.programs[\"%s\"] names no program of the world (its programs: "
                     "%s)",
                     e->string, list);
            return -1;
        }
        if (p == s->prog) {
            snprintf(err, errlen,
                     "scenario{}.programs[\"%s\"] is the main program (program_id); list only "
                     "the other programs to start",
                     e->string);
            return -1;
        }
        if (cJSON_IsTrue(e)) {
            cmds[s->n_started] = main_cmd;
        } else if (cJSON_IsString(e) && e->valuestring[0]) {
            cmds[s->n_started] = e->valuestring;
        } else {
            snprintf(err, errlen,
                     "scenario{}.programs[\"%s\"] is a shell command (a non-empty string) or "
                     "true (the main program's command)",
                     e->string);
            return -1;
        }
        s->started[s->n_started++] = p;
    }
    return 0;
}

/*
 * The options the file sets, flat ({name: value}, owned): scenario{}.options, and the older
 * settings that are options (routing, sync_budget, program_timeout_ms, event_timeout_ms,
 * app_callback_timeout_ms), each checked as before. One option set both ways is an error.
 * NULL with err.
 */
static cJSON *scenario_options(sc *s, const char *routing, char *err, size_t errlen)
{
    static const struct {
        const char *key, *option;
        long min, max;
    } ALIASES[] = {
        {"sync_budget", "sync_budget_per_min", 0, 1000000},
        {"program_timeout_ms", "program_timeout_ms", 1, 600000},
        {"event_timeout_ms", "event_timeout_ms", 1, 600000},
        {"app_callback_timeout_ms", "app_callbacks.timeout_ms", 1, 600000},
    };
    const cJSON *given = cJSON_GetObjectItemCaseSensitive(s->config, "options");
    cJSON *out = NULL, *empty = cJSON_CreateObject();
    size_t i;
    long v;

    if (given && cJSON_IsArray(given) && !cJSON_GetArraySize(given))
        given = empty; /* {} comes from Lua as an empty array */
    if (given && !cJSON_IsObject(given)) {
        snprintf(err, errlen,
                 "scenario{}.options is a table of option names and values, such as { "
                 "token_ttl_s = 3600, [\"app_callbacks.tries\"] = 2 } (zonelab options lists "
                 "them)");
        goto out;
    }
    if (!(out = given ? zl_emu_options_flat(given) : cJSON_CreateObject()))
        goto oom;
    for (i = 0; i <= sizeof ALIASES / sizeof ALIASES[0]; i++) {
        const char *key = i ? ALIASES[i - 1].key : "routing",
                   *option = i ? ALIASES[i - 1].option : "notify_routing";
        cJSON *value;

        if (!cJSON_GetObjectItemCaseSensitive(s->config, key))
            continue;
        if (cJSON_GetObjectItemCaseSensitive(out, option)) {
            snprintf(err, errlen,
                     "scenario{}.%s and scenario{}.options.%s set one option: keep one of them",
                     key, option);
            cJSON_Delete(out);
            out = NULL;
            goto out;
        }
        if (!i) {
            value = cJSON_CreateString(routing);
        } else {
            if ((v = cfg_int(s, key, 0, ALIASES[i - 1].min, ALIASES[i - 1].max, err, errlen)) ==
                LONG_MIN) {
                cJSON_Delete(out);
                out = NULL;
                goto out;
            }
            value = cJSON_CreateNumber((double)v);
        }
        if (!cJSON_AddItemToObject(out, option, value))
            goto oom;
    }
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
    cJSON_Delete(out);
    out = NULL;
out:
    cJSON_Delete(empty);
    return out;
}

/*
 * Why the programs did not start while zonelab waited for rep: a replica that exited (zonelab's
 * diagnosis, then s->crash with its last lines), else what rep listens on instead.
 */
static void not_started(sc *s, const zl_replica *rep, char *err, size_t errlen)
{
    size_t q, i, n;

    if (!s->crash[0]) {
        n = (size_t)snprintf(err, errlen, "program ");
        zl_emu_replica_diagnose(s->emu, rep, 0, err + n, errlen - n);
        n = strlen(err);
        snprintf(err + n, errlen - n, " (zonelab waited %ld ms, option ready_timeout_ms)",
                 s->emu->opt.ready_timeout_ms);
        return;
    }
    for (q = 0; q < s->n_started; q++)
        for (i = 0; i < s->started[q]->replica_count; i++) {
            const zl_replica *r = &s->started[q]->replicas[i];

            if (r->pid > 0 && r->exited && !r->expected_exit) {
                n = (size_t)snprintf(err, errlen, "program ");
                zl_emu_replica_diagnose(s->emu, r, 0, err + n, errlen - n);
                n = strlen(err);
                if ((size_t)snprintf(err + n, errlen - n, "\n%s", s->crash) >= errlen - n &&
                    errlen > 4)
                    memcpy(err + errlen - 4, "...", 4); /* the log's last lines were cut */
                return;
            }
        }
    snprintf(err, errlen, "%s", s->crash);
}

static int build(sc *s, char *err, size_t errlen)
{
    zl_server_config scfg;
    const cJSON *world = cJSON_GetObjectItemCaseSensitive(s->config, "world");
    const char *program_id = cfg_str(s, "program_id", NULL), *cmd, **cmds = NULL;
    const char *routing = cfg_str(s, "routing", "sticky");
    char dir[600], path[1200], *slash;
    long replicas, v;
    size_t i, q;
    int64_t deadline;
    int rc = -1;

    {
        const cJSON *k;

        cJSON_ArrayForEach(k, s->config)
        {
            for (i = 0; config_keys[i] && strcmp(config_keys[i], k->string); i++)
                ;
            if (!config_keys[i]) {
                snprintf(err, errlen,
                         "scenario{} has no setting \"%s\" (settings: world, program, "
                         "program_id, programs, replicas, routing, sync_budget, "
                         "program_timeout_ms, event_timeout_ms, app_callback_timeout_ms, "
                         "options, seed, env, redirect_8080)",
                         k->string);
                return -1;
            }
        }
    }
    snprintf(dir, sizeof dir, "%s", s->path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (!world || (cJSON_IsString(world) && !strcmp(world->valuestring, "default"))) {
        if (s->opt.default_world && *s->opt.default_world) { /* loaded before the fork */
            s->world = *s->opt.default_world;
            *s->opt.default_world = NULL;
        } else {
            s->world = zl_world_load_default(err, errlen);
        }
    } else if (cJSON_IsString(world)) {
        if (world->valuestring[0] == '/')
            snprintf(path, sizeof path, "%s", world->valuestring);
        else
            snprintf(path, sizeof path, "%s/%s", dir, world->valuestring);
        s->world = zl_world_load_file(path, err, errlen);
    } else if (cJSON_IsObject(world)) {
        char *text = cJSON_PrintUnformatted(world);

        s->world = text ? zl_world_load_json(text, strlen(text), dir, err, errlen) : NULL;
        cJSON_free(text);
    } else {
        snprintf(err, errlen, "scenario{}.world is \"default\", a world file or a world table");
        return -1;
    }
    if (!s->world)
        return -1;
    if (strcmp(routing, "sticky") != 0 && strcmp(routing, "any") != 0) {
        snprintf(err, errlen, "scenario{}.routing is \"sticky\" or \"any\"");
        return -1;
    }
    zl_server_config_default(&scfg);
    /* a scenario's own defaults, under the world's options and the file's */
    scfg.opt.journal_replies = true; /* a failing file's journal can be replayed (docs/replay.md) */
    scfg.opt.program_timeout_ms = 5000;
    scfg.opt.event_timeout_ms = 5000;
    scfg.opt.app_callbacks.timeout_ms = 2000;
    scfg.opt.ready_timeout_ms = 15000;
    /* a replica that exits stays dead: a crash fails the file, program.kill is observed;
     * scenario{options={replica_restart=true}} or --set turns supervision on */
    scfg.opt.replica_restart = false;
    if (!(s->options = scenario_options(s, routing, err, errlen)))
        return -1;
    scfg.options = s->options;
    scfg.options_path = "scenario{}.options";
    scfg.sets = s->opt.sets; /* zonelab run --set */
    scfg.set_count = s->opt.n_sets;
    if ((v = cfg_int(s, "seed", (long)(s->opt.seed & 0x7fffffff), 0, 0x7fffffff, err, errlen)) ==
        LONG_MIN)
        return -1;
    scfg.engine.seed = (uint64_t)v;
    {
        const cJSON *r8 = cJSON_GetObjectItemCaseSensitive(s->config, "redirect_8080");

        if (r8 && !cJSON_IsBool(r8)) {
            snprintf(err, errlen, "scenario{}.redirect_8080 is true or false");
            return -1;
        }
        scfg.opt.redirect_8080 = !r8 || cJSON_IsTrue(r8);
    }
    scfg.journal_cap = 1000000;
    scfg.version = "scenario";
    s->srv = zl_server_new(s->world, &scfg, err, errlen);
    s->world = NULL; /* taken, even on failure */
    if (!s->srv)
        return -1;
    s->world = s->srv->world;
    s->engine = s->srv->engine;
    s->journal = s->srv->journal;
    s->emu = s->srv->emu;
    s->emu->respawn = respawn; /* a replica moved off a taken port keeps its environment */
    s->emu->respawn_ud = s;
    s->emu->log_dir = s->opt.work_dir;
    s->emu->sdk_hook = zl_primitives_sdk_hook;
    s->emu->sdk_hook_ud = s;
    if (zl_testapp_install(s) != 0) {
        snprintf(err, errlen, "cannot install the test app");
        return -1;
    }
    if (zl_server_start(s->srv, err, errlen) != 0)
        return -1;
    for (i = 0; i < s->emu->prog_count && !s->prog; i++)
        if (!program_id || !strcmp(s->emu->progs[i].prog->program_id, program_id))
            s->prog = &s->emu->progs[i];
    if (!s->prog) {
        snprintf(err, errlen, "scenario{}.program_id names no program of the world");
        return -1;
    }
    if ((replicas = cfg_int(s, "replicas", (long)s->prog->replica_count, 1, 16, err, errlen)) ==
        LONG_MIN)
        return -1;
    if ((size_t)replicas != s->prog->replica_count &&
        zl_emu_set_replicas(s->emu, s->prog, (size_t)replicas, err, errlen) != 0)
        return -1;
    cmd = cfg_str(s, "program", s->opt.program);
    if (!cmd || !*cmd) {
        snprintf(err, errlen,
                 "no program to run: give scenario{}.program or zonelab run --program");
        return -1;
    }
    if (env_parse(s, dir, err, errlen) != 0)
        return -1;
    if (!(s->started = calloc(s->emu->prog_count, sizeof *s->started)) ||
        !(cmds = calloc(s->emu->prog_count, sizeof *cmds))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (programs_parse(s, cmd, cmds, err, errlen) != 0)
        goto out;
    if (s->opt.no_programs) { /* the tests run; their calls find no replica listening */
        s->n_started = 0;
        rc = 0;
        goto out;
    }
    for (q = 0; q < s->n_started; q++)
        if (zl_scenario_spawn(s, s->started[q], cmds[q], 0, err, errlen) != 0)
            goto out;
    /* every replica of every program listens before the first test (the engine keeps turning
     * meanwhile); ready_timeout_ms (15 s) in all */
    deadline = real_ms() + s->emu->opt.ready_timeout_ms;
    for (q = 0; q < s->n_started; q++)
        for (i = 0; i < s->started[q]->replica_count; i++) {
            zl_scenario_wait_reset(s);
            s->w.kind = W_READY;
            s->w.rep = &s->started[q]->replicas[i];
            s->w.deadline = deadline;
            drive(s);
            if (s->crash[0] || s->w.timed_out) {
                not_started(s, &s->started[q]->replicas[i], err, errlen);
                zl_scenario_wait_reset(s);
                goto out;
            }
        }
    zl_scenario_wait_reset(s);
    rc = 0;
out:
    free(cmds);
    return rc;
}

/* ---- running ---- */

static cJSON *result_test(cJSON *tests, const char *name, const char *status, const char *msg,
                          double seconds)
{
    cJSON *t = cJSON_CreateObject();

    cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(t, "status", status);
    if (msg)
        cJSON_AddStringToObject(t, "message", msg);
    cJSON_AddNumberToObject(t, "seconds", seconds);
    cJSON_AddItemToArray(tests, t);
    return t;
}

/* Runs test i as a coroutine; 0 passed, else *msg (owned) says why. */
static int run_test(sc *s, size_t i, char **msg)
{
    lua_State *L = s->L, *co = lua_newthread(L);
    int nres, status;

    *msg = NULL;
    s->crash[0] = '\0';
    s->pending_error[0] = '\0';
    s->n_cursors = 1;
    snprintf(s->cursors[0].key, sizeof s->cursors[0].key, "(test start)");
    s->cursors[0].seq = zl_journal_last(s->journal);
    s->inbox_start = zl_appnotify_inbox_last(s->emu->notify_out);
    zl_sandbox_set_hook(s, co);
    s->test_thread = co;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->tests[i].ref);
    lua_xmove(L, co, 1);
    status = zl_sandbox_resume(co, L, &nres);
    while (status == LUA_YIELD) {
        lua_pop(co, nres);
        if (s->w.kind == W_NONE) { /* a coroutine.yield() of the script's own */
            status = LUA_ERRRUN;
            zl_sandbox_traceback(L, co,
                                 "a test must not yield by itself (use sleep or a wait verb)");
            break;
        }
        drive(s);
        status = zl_sandbox_resume(co, L, &nres);
    }
    if (status != LUA_OK) { /* the message, with its traceback, is on L */
        *msg = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    zl_scenario_wait_reset(s);
    lua_pop(L, 1); /* the thread */
    if (!*msg && s->crash[0])
        *msg = strdup(s->crash);
    return *msg ? -1 : 0;
}

void zl_scenario_prefork(void)
{
    zl_sandbox_prepare();
    zl_wxcrypt_warm();
    /* done here once, not again in each child: libcurl's global setup (each engine's
     * curl_global_init then only counts), and the search for the SDK fakes */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    zl_emu_fakes_find();
    zone_wire_warm();
}

/* A file's state with its Lua sandbox made, the prelude run (zl_scenario_prepare): the next
 * zl_scenario_run of this process, or of a child forked after, takes it, once. */
static sc *prepared;

static bool same_vars(const zl_scenario_options *a, const zl_scenario_options *b)
{
    size_t i;

    if (a->n_vars != b->n_vars)
        return false;
    for (i = 0; i < a->n_vars; i++)
        if (strcmp(a->vars[i], b->vars[i]) != 0)
            return false;
    return true;
}

void zl_scenario_prepare(const zl_scenario_options *o)
{
    char err[300];

    zl_scenario_prepared_free();
    if (!(prepared = calloc(1, sizeof *prepared)))
        return;
    prepared->opt = *o;
    prepared->path = "";
    prepared->backend_ref = LUA_NOREF;
    prepared->scenario_deadline = INT64_MAX; /* the hook's, while the prelude runs */
    if (!(prepared->L = zl_sandbox_new(prepared, err, sizeof err))) {
        free(prepared); /* each file makes its own, and says why that failed */
        prepared = NULL;
    }
}

void zl_scenario_prepared_free(void)
{
    if (!prepared)
        return;
    lua_close(prepared->L);
    free(prepared);
    prepared = NULL;
}

cJSON *zl_scenario_run(const char *path, const zl_scenario_options *o)
{
    sc *s = prepared && same_vars(&prepared->opt, o) ? prepared : calloc(1, sizeof *s);
    cJSON *out = cJSON_CreateObject(), *tests;
    int64_t t0 = real_ms();
    char err[1200] = "";
    bool failed = false;
    size_t i;

    if (s == prepared)
        prepared = NULL; /* this file's now */
    if (!s || !out) {
        if (s && s->L)
            lua_close(s->L);
        free(s);
        cJSON_Delete(out);
        return NULL;
    }
    cJSON_AddStringToObject(out, "file", path);
    tests = cJSON_AddArrayToObject(out, "tests");
    s->path = path;
    s->opt = *o;
    if (s->opt.step_timeout_ms <= 0)
        s->opt.step_timeout_ms = 10000;
    if (s->opt.scenario_timeout_ms <= 0)
        s->opt.scenario_timeout_ms = 120000;
    s->backend_ref = LUA_NOREF;
    s->scenario_deadline = t0 + s->opt.scenario_timeout_ms;
    s->steps = 0; /* what the prelude ran in a prepared sandbox is not the file's */
    if (s->L)     /* prepared: its hook again, with this file's budget */
        zl_sandbox_set_hook(s, s->L);
    else if (!(s->L = zl_sandbox_new(s, err, sizeof err))) {
        result_test(tests, "(load)", "error", err, 0);
        goto done;
    }
    if (luaL_loadfile(s->L, path) != LUA_OK || zl_sandbox_pcall(s->L, 0, 0) != LUA_OK) {
        result_test(tests, "(load)", "error", lua_tostring(s->L, -1), 0);
        failed = true;
        goto done;
    }
    if (!s->config)
        s->config = cJSON_CreateObject();
    if (s->n_tests == 0) {
        result_test(tests, "(load)", "error", "the file declares no test(name, fn)", 0);
        failed = true;
        goto done;
    }
    if (build(s, err, sizeof err) != 0) {
        result_test(tests, "(setup)", "error", err, (double)(real_ms() - t0) / 1000);
        failed = true;
        goto done;
    }
    for (i = 0; i < s->n_tests; i++) {
        char full[700], *msg = NULL;
        int64_t ts = real_ms();
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

        snprintf(full, sizeof full, "%s: %s", base, s->tests[i].name);
        if (s->opt.filter && !strstr(full, s->opt.filter)) {
            result_test(tests, s->tests[i].name, "skip", NULL, 0);
            continue;
        }
        if (real_ms() >= s->scenario_deadline) {
            result_test(tests, s->tests[i].name, "error", "not run: the scenario ran out of time",
                        0);
            failed = true;
            continue;
        }
        if (run_test(s, i, &msg) == 0) {
            result_test(tests, s->tests[i].name, "pass", NULL, (double)(real_ms() - ts) / 1000);
        } else {
            result_test(tests, s->tests[i].name, "fail", msg, (double)(real_ms() - ts) / 1000);
            failed = true;
        }
        free(msg);
    }
done:
    if ((failed || s->opt.keep_journal) && s->journal)
        cJSON_AddItemToObject(out, "journal", zl_journal_since(s->journal, 0, 1000000));
    if (failed && s->journal) {
        char *log = program_log(s, 20, NULL);

        if (log && *log)
            cJSON_AddStringToObject(out, "program_log", log);
        free(log);
    }
    if (s->opt.on_result) { /* the tests' time: the teardown below is not theirs */
        cJSON_AddNumberToObject(out, "seconds", (double)(real_ms() - t0) / 1000);
        s->opt.on_result(out, s->opt.on_result_ud);
    }
    if (s->srv)
        zl_server_free(s->srv);
    else
        zl_world_free(s->world);
    zl_scenario_wait_reset(s);
    if (s->L)
        lua_close(s->L);
    for (i = 0; i < s->n_tests; i++)
        free(s->tests[i].name);
    cJSON_Delete(s->config);
    cJSON_Delete(s->options);
    cJSON_Delete(s->test_app_got);
    free(s->started);
    free(s->lib_dir);
    for (i = 0; s->env && s->env[i].name; i++) {
        free(s->env[i].name);
        free(s->env[i].value);
    }
    free(s->env);
    if (!s->opt.on_result)
        cJSON_AddNumberToObject(out, "seconds", (double)(real_ms() - t0) / 1000);
    free(s);
    return out;
}
