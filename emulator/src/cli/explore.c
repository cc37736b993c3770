/* cli_explore: `zonelab explore`. Generated runs (explore_gen.c), each a scenario file run
 * like `zonelab run` runs one (its own process and emulator, -j at a time); the properties
 * are tests of that file. The first run that breaks one is shrunk (fewer actions, then
 * fewer replicas and the plainer settings) and written under --out as a scenario. */
#define _GNU_SOURCE
#include "cli/explore.h"
#include "cli/explore_int.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/opts.h"
#include "cli/run.h"
#include "scenario/scenario.h"

#define MAX_JOBS 16

/* The built-in properties (explore.lua's X.builtin), in the order they are checked. */
static const char *const BUILTINS[] = {"no_replica_dies",      "calls_answered",
                                       "answers_fit_protocol", "notify_id_answered",
                                       "notify_accepted",      "sdk_used_as_allowed"};
#define N_BUILTINS (sizeof BUILTINS / sizeof BUILTINS[0])

typedef struct xp_opts {
    const char *program, *world, *out_dir, *props_file;
    uint64_t seed;
    unsigned long runs; /* 0: until the budget is spent */
    unsigned long budget_s;
    unsigned jobs;
    bool json;
    long show; /* --show K: print run K's scenario and stop; -1 when not given */
} xp_opts;

/* What one run's file gave: ok, a property broken (its name and message), or an error. */
typedef enum xp_status { XP_OK, XP_BROKEN, XP_ERROR } xp_status;

typedef struct xp_outcome {
    xp_status status;
    char property[80];
    char *message; /* owned */
} xp_outcome;

/* One child running one file. */
typedef struct xp_slot {
    pid_t pid;
    char file[PATH_MAX], result[PATH_MAX], work[PATH_MAX];
} xp_slot;

typedef struct xp_ctx {
    const xp_opts *o;
    xp_gen g;
    zl_world *world;
    char *world_abs; /* --world as an absolute path, NULL for the default */
    char *user;      /* --properties text */
    char root[PATH_MAX - 64];
    unsigned long started;
    cJSON *cov; /* the coverage counts, from the search runs' journals (explore_cov.c) */
    unsigned long cov_runs;
    FILE *tty;             /* the progress line's terminal (stderr), or NULL */
    int64_t deadline_ms;   /* the budget's end, 0 with --runs */
    const xp_run *best;    /* while shrinking: the smallest failing run so far */
    unsigned long shrink0; /* c->started when shrinking began */
} xp_ctx;

/* On a terminal, the line under the report, rewritten before each batch of runs: the runs so
 * far and the budget left, or while shrinking the run's size and the shrink runs. */
static void progress(const xp_ctx *c)
{
    if (!c->tty)
        return;
    fputs("\r\033[K", c->tty);
    if (c->best)
        fprintf(c->tty, "shrinking: %zu action%s, %u replica%s, %lu runs", c->best->n_actions,
                c->best->n_actions == 1 ? "" : "s", c->best->replicas,
                c->best->replicas == 1 ? "" : "s", c->started - c->shrink0);
    else if (c->deadline_ms) {
        int64_t left = c->deadline_ms - zl_cli_now_ms();

        fprintf(c->tty, "exploring: %lu runs, %lld s left", c->started,
                (long long)(left > 0 ? (left + 999) / 1000 : 0));
    } else
        fprintf(c->tty, "exploring: %lu of %lu runs", c->started, c->o->runs);
    fflush(c->tty);
}

/* Clears the progress line before a line of the report. */
static void progress_clear(const xp_ctx *c)
{
    if (c->tty) {
        fputs("\r\033[K", c->tty);
        fflush(c->tty);
    }
}

static void usage(FILE *f)
{
    fputs(
        "usage: zonelab explore [options]\n"
        "\n"
        "Runs generated, reproducible runs (archives, events, app calls with request_data\n"
        "from each ability's input protocol and one step off it, notify ids, clock jumps,\n"
        "replica restarts and pauses, SDK faults) against fresh emulators and checks the\n"
        "built-in properties and yours over each run's journal. The first run that breaks\n"
        "one is shrunk and written as a scenario file under --out (docs/explore.md).\n"
        "\n"
        "  --program CMD        the program, run with /bin/sh -c for each replica\n"
        "                       (default: zone-demo, as zonelab run finds it)\n"
        "  --world FILE         the world (default: the built-in one)\n"
        "  --replicas N         replicas in every run, 1..16 (default: 1 or 2, drawn per run)\n"
        "  --seed N             the seed; run K of seed N is always the same (default 1)\n"
        "  --runs N             stop after N runs\n"
        "  --budget SECONDS     stop starting runs after SECONDS (default 60 without --runs)\n"
        "  -j, --jobs N         runs at once (1..16, default 2)\n"
        "  --out DIR            where the shrunk scenario goes (default zonelab-explore)\n"
        "  --actions N          actions per run (1..200, default 20)\n"
        "  --weight KIND=W      how often a kind is drawn (0..100; repeatable); kinds and\n"
        "                       defaults: archive=4 event=2 call=6 callback=4 advance=2\n"
        "                       restart=1 pause=1 fault=1 async=1 key=1 kill=0 receive=0\n"
        "  --near PERCENT       calls whose request_data is one step off the protocol (50)\n"
        "  --properties FILE    more properties: Lua, property(\"name\", function(trace) ... end)\n"
        "  --json               the report as JSON on stdout\n"
        "\n"
        "Exit 0 when no run broke a property, 1 when one did, 2 on bad options.\n",
        f);
}

/* ---- running files ---- */

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    int rc = 0;

    if (!f)
        return -1;
    if (fputs(text, f) < 0)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

static int start_file(xp_ctx *c, const char *text, size_t id, bool journal, xp_slot *s)
{
    snprintf(s->file, sizeof s->file, "%s/run-%zu.lua", c->root, id);
    snprintf(s->result, sizeof s->result, "%s/run-%zu.json", c->root, id);
    snprintf(s->work, sizeof s->work, "%s/work-%zu", c->root, id);
    if (write_text(s->file, text) != 0 || mkdir(s->work, 0700) != 0)
        return -1;
    fflush(NULL);
    if ((s->pid = fork()) < 0)
        return -1;
    if (s->pid == 0) {
        zl_scenario_options so = {.program = c->o->program,
                                  .seed = c->o->seed,
                                  .step_timeout_ms = 10000,
                                  .scenario_timeout_ms = 120000,
                                  .work_dir = s->work,
                                  .keep_journal = journal};
        cJSON *r;
        char *out;
        int rc = 1;

        signal(SIGPIPE, SIG_IGN);
        r = zl_scenario_run(s->file, &so);
        out = r ? cJSON_PrintUnformatted(r) : NULL;
        if (out && write_text(s->result, out) == 0)
            rc = 0;
        cJSON_free(out);
        cJSON_Delete(r);
        _exit(rc);
    }
    return 0;
}

/* The result of a finished slot (owned), or NULL when its process left none. */
static cJSON *collect_file(xp_slot *s)
{
    size_t len;
    char *text = zl_cli_read_file("explore", s->result, 256u * 1024 * 1024, &len, stderr);
    cJSON *r = text ? cJSON_Parse(text) : NULL;

    free(text);
    unlink(s->file);
    unlink(s->result);
    zl_cli_remove_tree(s->work);
    return r;
}

/* A broken property wins over any other failure: a replica that crashes also fails the
 * test "actions" (the runner reports the crash at the test's end), and no_replica_dies is
 * the property that names it. */
static void outcome_of(const cJSON *r, xp_outcome *out)
{
    const cJSON *t, *other = NULL;

    memset(out, 0, sizeof *out);
    if (!r) {
        out->status = XP_ERROR;
        out->message = strdup("the run's process ended without a result");
        return;
    }
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r, "tests"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "name"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "status"));
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "message"));

        if (!name || !st || !strcmp(st, "pass"))
            continue;
        if (!strncmp(name, "property: ", 10) && !strcmp(st, "fail")) {
            out->status = XP_BROKEN;
            snprintf(out->property, sizeof out->property, "%s", name + 10);
            out->message = strdup(msg ? msg : st);
            return;
        }
        if (!other)
            other = t;
    }
    if (other) {
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(other, "message"));

        out->status = XP_ERROR;
        snprintf(out->property, sizeof out->property, "%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(other, "name")));
        out->message = strdup(msg ? msg : "failed");
    }
}

/*
 * Runs the n texts, -j at a time, and fills outs[i] (each message owned by the caller).
 * journals: the results' journals go into the coverage. Returns 0, or -1 when a run could
 * not be started.
 */
static int run_texts(xp_ctx *c, char *const *texts, size_t n, bool journals, xp_outcome *outs)
{
    xp_slot slots[MAX_JOBS];
    size_t owner[MAX_JOBS], next = 0, running = 0, i;
    int rc = 0;

    for (i = 0; i < MAX_JOBS; i++)
        slots[i].pid = 0;
    for (i = 0; i < n; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        outs[i].status = XP_ERROR;
    }
    progress(c);
    while (next < n || running > 0) {
        int status;
        pid_t pid;

        for (i = 0; i < c->o->jobs && next < n && rc == 0; i++) {
            if (slots[i].pid)
                continue;
            if (start_file(c, texts[next], c->started++, journals, &slots[i]) != 0) {
                rc = -1;
                break;
            }
            owner[i] = next++;
            running++;
        }
        if (running == 0)
            break;
        pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (i = 0; i < c->o->jobs; i++) {
            cJSON *r;

            if (slots[i].pid != pid)
                continue;
            slots[i].pid = 0;
            running--;
            r = collect_file(&slots[i]);
            outcome_of(r, &outs[owner[i]]);
            if (journals && r) {
                xp_cov_add(c->cov, cJSON_GetObjectItemCaseSensitive(r, "journal"), texts[owner[i]]);
                c->cov_runs++;
            }
            cJSON_Delete(r);
        }
    }
    return rc;
}

static char *render(const xp_ctx *c, const xp_run *r, const char *header, const char *only)
{
    const char *one[1] = {only};
    bool builtin = false;
    size_t i;

    for (i = 0; only && i < N_BUILTINS; i++)
        builtin |= !strcmp(only, BUILTINS[i]);
    if (!only)
        return xp_run_render(r, header, c->world_abs, BUILTINS, N_BUILTINS, c->user);
    return xp_run_render(r, header, c->world_abs, builtin ? one : NULL, builtin ? 1 : 0,
                         builtin ? NULL : c->user);
}

/* ---- shrinking ---- */

/* Whether the candidate breaks the same property. */
typedef struct cand {
    xp_run run;
    char *text;
} cand;

/*
 * Tries the candidates in order, -j at a time; returns the index of the first that breaks
 * prop (its message into *msg, replacing the old one), n when none does, -1 on an error.
 */
static long first_breaking(xp_ctx *c, cand *cs, size_t n, const char *prop, char **msg,
                           unsigned long *tries)
{
    size_t at = 0, i;

    while (at < n && !zl_cli_stopped()) { /* Ctrl-C: the smallest run so far is written */
        size_t k = n - at < c->o->jobs ? n - at : c->o->jobs;
        char *texts[MAX_JOBS];
        xp_outcome outs[MAX_JOBS];
        long found = -1;

        for (i = 0; i < k; i++)
            texts[i] = cs[at + i].text;
        if (run_texts(c, texts, k, false, outs) != 0)
            return -1;
        *tries += k;
        for (i = 0; i < k; i++) {
            if (found < 0 && outs[i].status == XP_BROKEN && !strcmp(outs[i].property, prop)) {
                found = (long)(at + i);
                free(*msg);
                *msg = outs[i].message;
                outs[i].message = NULL;
            }
            free(outs[i].message);
        }
        if (found >= 0)
            return found;
        at += k;
    }
    return (long)n;
}

static void cands_free(cand *cs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        xp_run_cleanup(&cs[i].run);
        free(cs[i].text);
    }
}

/* Takes candidate *cs (moved into *best on success). */
static int try_one(xp_ctx *c, xp_run *best, cand *cs, const char *prop, char **msg,
                   unsigned long *tries)
{
    long f;

    if (!(cs->text = render(c, &cs->run, NULL, prop))) {
        cands_free(cs, 1);
        return -1;
    }
    f = first_breaking(c, cs, 1, prop, msg, tries);
    if (f == 0) {
        xp_run_cleanup(best);
        *best = cs->run;
        cs->run.actions = NULL;
        cs->run.n_actions = 0;
    }
    cands_free(cs, 1);
    return f < 0 ? -1 : 0;
}

/* The action a property's message names ("action N" counts X.setup() as action 1). */
static size_t named_action(const char *msg)
{
    const char *p = msg;
    size_t best = 0;

    while (p && (p = strstr(p, "action "))) {
        char *end;
        unsigned long n = strtoul(p + 7, &end, 10);

        if (end != p + 7 && n > best)
            best = n;
        p = end;
    }
    return best;
}

/* Tries one replica, sticky routing and the strict protocol, each kept when the run still
 * breaks prop. */
static int shrink_setup(xp_ctx *c, xp_run *best, const char *prop, char **msg, unsigned long *tries)
{
    int step;

    for (step = 0; step < 3; step++) {
        cand one;

        if ((step == 0 && best->replicas == 1) || (step == 1 && !best->any_routing) ||
            (step == 2 && !best->loose))
            continue;
        if (xp_run_copy(best, NULL, &one.run) != 0)
            return -1;
        if (step == 0)
            one.run.replicas = 1;
        else if (step == 1)
            one.run.any_routing = false;
        else
            one.run.loose = false;
        if (try_one(c, best, &one, prop, msg, tries) != 0)
            return -1;
    }
    return 0;
}

/* A call's line with request_data "{}", or NULL when it is not a call or already that. */
static char *plainer(const char *line)
{
    const char *sep;
    char *out;

    if (strncmp(line, "X.call(\"", 8) != 0 && strncmp(line, "X.async(\"", 9) != 0)
        return NULL;
    if (!(sep = strstr(line, "\", ")) || !strcmp(sep, "\", \"{}\")"))
        return NULL;
    if (asprintf(&out, "%.*s\", \"{}\")", (int)(sep - line), line) < 0)
        return NULL;
    return out;
}

/* Simpler values: each call's request_data "{}" in turn, kept when the run still breaks
 * prop. Returns 0, or -1 on an error. */
static int shrink_values(xp_ctx *c, xp_run *best, const char *prop, char **msg,
                         unsigned long *tries)
{
    size_t i;

    for (i = 0; i < best->n_actions; i++) {
        char *line = plainer(best->actions[i]);
        cand one;

        if (!line)
            continue;
        if (xp_run_copy(best, NULL, &one.run) != 0) {
            free(line);
            return -1;
        }
        free(one.run.actions[i]);
        one.run.actions[i] = line;
        if (try_one(c, best, &one, prop, msg, tries) != 0)
            return -1;
    }
    return 0;
}

/*
 * Shrinks *best, which breaks prop, in place: the plainer setup, everything after the
 * action the message names, then chunks of actions (halves, quarters, ... single ones)
 * while one can go, then simpler request_data, then the setup again. Returns 0, or -1 on
 * an error.
 */
static int shrink(xp_ctx *c, xp_run *best, const char *prop, char **msg, unsigned long *tries)
{
    size_t chunk, n_named, from;
    bool keep[XP_MAX_RUN_ACTIONS];
    cand one;

    c->best = best;
    c->shrink0 = c->started;
    if (shrink_setup(c, best, prop, msg, tries) != 0)
        return -1;
    n_named = named_action(*msg);
    if (n_named >= 2 && n_named - 1 < best->n_actions) {
        size_t i;

        for (i = 0; i < best->n_actions; i++)
            keep[i] = i < n_named - 1;
        if (xp_run_copy(best, keep, &one.run) != 0 || try_one(c, best, &one, prop, msg, tries) != 0)
            return -1;
    }
    /* the chunks are tried from the one after the last removed (wrapping), so a pass of
     * single removals goes once along the run instead of starting over at each success */
    for (chunk = best->n_actions / 2 ? best->n_actions / 2 : 1, from = 0; chunk >= 1;) {
        size_t n = (best->n_actions + chunk - 1) / chunk, i, j;
        cand cs[XP_MAX_RUN_ACTIONS];
        long f;

        if (best->n_actions <= 1)
            break;
        for (i = 0; i < n; i++) {
            size_t at = (from + i) % n;

            for (j = 0; j < best->n_actions; j++)
                keep[j] = j < at * chunk || j >= (at + 1) * chunk;
            cs[i].text = NULL;
            if (xp_run_copy(best, keep, &cs[i].run) != 0 ||
                !(cs[i].text = render(c, &cs[i].run, NULL, prop))) {
                cands_free(cs, i + 1);
                return -1;
            }
        }
        f = first_breaking(c, cs, n, prop, msg, tries);
        if (f >= 0 && (size_t)f < n) {
            from = (from + (size_t)f) % n;
            xp_run_cleanup(best);
            *best = cs[f].run;
            cs[f].run.actions = NULL;
            cs[f].run.n_actions = 0;
            if (chunk > best->n_actions / 2 && chunk > 1) {
                chunk = best->n_actions / 2 ? best->n_actions / 2 : 1;
                from = 0;
            }
        } else if (chunk == 1) {
            cands_free(cs, n);
            if (f < 0)
                return -1;
            break;
        } else {
            chunk /= 2;
            from = 0;
        }
        cands_free(cs, n);
        if (f < 0)
            return -1;
    }
    if (shrink_values(c, best, prop, msg, tries) != 0)
        return -1;
    return shrink_setup(c, best, prop, msg, tries);
}

/* ---- the command ---- */

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t i, n = strlen(path);

    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++)
        if (buf[i] == '/' || buf[i] == '\0') {
            char ch = buf[i];

            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            buf[i] = ch;
        }
    return 0;
}

static int parse_weight(const char *s, unsigned *weights)
{
    const char *eq = s ? strchr(s, '=') : NULL;
    unsigned long long v;
    size_t k;

    if (!eq || zl_cli_parse_u64(eq + 1, 100, &v) != 0)
        return -1;
    for (k = 0; k < XP_N_KINDS; k++)
        if (strlen(XP_KIND_NAMES[k]) == (size_t)(eq - s) &&
            !strncmp(s, XP_KIND_NAMES[k], (size_t)(eq - s))) {
            weights[k] = (unsigned)v;
            return 0;
        }
    return -1;
}

/* The first line of a message (a property's sentence, without the traceback). */
static void first_line(FILE *f, const char *msg)
{
    const char *nl = strchr(msg, '\n');

    fprintf(f, "%.*s", nl ? (int)(nl - msg) : (int)strlen(msg), msg);
}

/* Writes the shrunk run as <out>/<prop>-seed<S>-run<K>.lua; the path into path. */
static int write_counterexample(xp_ctx *c, const xp_run *best, const char *prop, size_t original,
                                const char *msg, char *path, size_t pathlen)
{
    char *header = NULL, *text;
    const char *nl = strchr(msg, '\n');
    int rc = -1;

    if (mkdir_p(c->o->out_dir) != 0)
        return -1;
    snprintf(path, pathlen, "%s/%s-seed%llu-run%zu.lua", c->o->out_dir, prop,
             (unsigned long long)best->seed, best->index);
    if (asprintf(&header,
                 "zonelab explore: property %s does not hold\n"
                 "seed %llu, run %zu: %zu actions, shrunk to %zu\n"
                 "%.*s\n"
                 "program: %s\n"
                 "again: zonelab run --program '<the program>' %s",
                 prop, (unsigned long long)best->seed, best->index, original, best->n_actions,
                 nl ? (int)(nl - msg) : (int)strlen(msg), msg,
                 c->o->program ? c->o->program : "(zonelab run's default)", path) < 0)
        return -1;
    if ((text = render(c, best, header, prop)))
        rc = write_text(path, text);
    free(text);
    free(header);
    return rc;
}

int zl_cli_explore(int argc, char **argv, FILE *out, FILE *err)
{
    xp_opts o = {.seed = 1, .jobs = 2, .out_dir = "zonelab-explore", .show = -1};
    xp_ctx c = {.o = &o};
    unsigned long long v;
    unsigned near = 50, actions = 20, replicas = 0;
    bool budget_set = false, stopped = false;
    char *program = NULL, why[600], wpath[PATH_MAX];
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int64_t t0 = zl_cli_now_ms(), deadline;
    size_t index = 0, k;
    int rc = ZL_CLI_USAGE, a;
    xp_run found = {0};
    xp_outcome hit = {0};
    cJSON *cov = NULL, *report = NULL;
    static const unsigned DEFAULT_WEIGHTS[XP_N_KINDS] = {4, 2, 6, 4, 2, 1, 1, 1, 1, 1, 0, 0};

    memcpy(c.g.weights, DEFAULT_WEIGHTS, sizeof DEFAULT_WEIGHTS);
    for (a = 1; a < argc; a++) {
        const char *f = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

        if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
            usage(out);
            return ZL_CLI_OK;
        } else if ((!strcmp(f, "-j") || !strcmp(f, "--jobs")) &&
                   zl_cli_parse_u64(val, MAX_JOBS, &v) == 0 && v > 0) {
            o.jobs = (unsigned)v, a++;
        } else if (!strcmp(f, "--program") && val && *val) {
            o.program = val, a++;
        } else if (!strcmp(f, "--world") && val && *val) {
            o.world = val, a++;
        } else if (!strcmp(f, "--out") && val && *val) {
            o.out_dir = val, a++;
        } else if (!strcmp(f, "--properties") && val && *val) {
            o.props_file = val, a++;
        } else if (!strcmp(f, "--seed") && zl_cli_parse_u64(val, 2147483647, &v) == 0) {
            o.seed = v, a++;
        } else if (!strcmp(f, "--runs") && zl_cli_parse_u64(val, 1000000, &v) == 0 && v > 0) {
            o.runs = (unsigned long)v, a++;
        } else if (!strcmp(f, "--budget") && zl_cli_parse_u64(val, 86400, &v) == 0 && v > 0) {
            o.budget_s = (unsigned long)v, budget_set = true, a++;
        } else if (!strcmp(f, "--replicas") && zl_cli_parse_u64(val, 16, &v) == 0 && v > 0) {
            replicas = (unsigned)v, a++;
        } else if (!strcmp(f, "--actions") && zl_cli_parse_u64(val, XP_MAX_ACTIONS, &v) == 0 &&
                   v > 0) {
            actions = (unsigned)v, a++;
        } else if (!strcmp(f, "--near") && zl_cli_parse_u64(val, 100, &v) == 0) {
            near = (unsigned)v, a++;
        } else if (!strcmp(f, "--weight") && parse_weight(val, c.g.weights) == 0) {
            a++;
        } else if (!strcmp(f, "--json")) {
            o.json = true;
        } else if (!strcmp(f, "--show") && zl_cli_parse_u64(val, 1000000, &v) == 0) {
            o.show = (long)v, a++;
        } else {
            fprintf(err, "zonelab explore: bad or incomplete option '%s'\n", f);
            usage(err);
            return ZL_CLI_USAGE;
        }
    }
    for (k = 0, v = 0; k < XP_N_KINDS; k++)
        v += c.g.weights[k];
    if (v == 0) {
        fputs("zonelab explore: every --weight is 0: no action to draw\n", err);
        return ZL_CLI_USAGE;
    }
    if (o.runs && budget_set) {
        fputs("zonelab explore: give either --runs or --budget, not both\n", err);
        return ZL_CLI_USAGE;
    }
    if (!o.runs && !budget_set)
        o.budget_s = 60;
    if (!o.program && !(o.program = program = zl_cli_run_default_program())) {
        fputs("zonelab explore: no program to run: give --program CMD\n", err);
        return ZL_CLI_USAGE;
    }
    if (o.world) {
        if (!(c.world_abs = realpath(o.world, NULL))) {
            fprintf(err, "zonelab explore: --world %s: %s\n", o.world, strerror(errno));
            goto out;
        }
        c.world = zl_world_load_file(c.world_abs, why, sizeof why);
    } else {
        c.world = zl_world_load_default(why, sizeof why);
    }
    if (!c.world) {
        fprintf(err, "zonelab explore: the world: %s\n", why);
        goto out;
    }
    if (c.world->corp_count == 0 || c.world->corps[0].program_count == 0) {
        fputs("zonelab explore: the world's first corp has no program\n", err);
        goto out;
    }
    c.g.corp = &c.world->corps[0];
    c.g.program = &c.world->corps[0].programs[0];
    c.g.near_pct = near;
    c.g.actions = actions;
    c.g.replicas = replicas;
    if (o.props_file) {
        size_t len;

        if (!(c.user = zl_cli_read_file("explore", o.props_file, 1024 * 1024, &len, err)))
            goto out;
    }
    if (o.show >= 0) {
        xp_run r;
        char *text = NULL;

        if (xp_run_generate(&c.g, o.seed, (size_t)o.show, &r) == 0 &&
            (text = render(&c, &r, NULL, NULL)))
            fputs(text, out);
        free(text);
        xp_run_cleanup(&r);
        rc = text ? ZL_CLI_OK : ZL_CLI_FAILED;
        goto out;
    }
    if ((size_t)snprintf(c.root, sizeof c.root, "%s/zonelab-explore-XXXXXX", tmp) >=
            sizeof c.root ||
        !mkdtemp(c.root)) {
        fprintf(err, "zonelab explore: cannot make a folder in %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    c.cov = cJSON_CreateObject();
    zl_cli_stop_on_signals();
    rc = ZL_CLI_OK;
    deadline = t0 + (int64_t)o.budget_s * 1000;
    c.deadline_ms = o.runs ? 0 : deadline;
    c.tty = isatty(fileno(err)) ? err : NULL;

    /* the search: batches of -j runs in index order; the lowest index that breaks a
     * property wins, so --runs and --seed give the same answer on any machine */
    while (hit.status == XP_OK && !zl_cli_stopped() && (o.runs ? index < o.runs : true) &&
           (o.runs || zl_cli_now_ms() < deadline)) {
        size_t n = o.jobs, i;
        xp_run runs[MAX_JOBS];
        char *texts[MAX_JOBS];
        xp_outcome outs[MAX_JOBS];

        if (o.runs && o.runs - index < n)
            n = o.runs - index;
        for (i = 0; i < n; i++) {
            if (xp_run_generate(&c.g, o.seed, index + i, &runs[i]) != 0 ||
                !(texts[i] = render(&c, &runs[i], NULL, NULL))) {
                fputs("zonelab explore: out of memory\n", err);
                rc = ZL_CLI_FAILED;
                goto out;
            }
        }
        if (run_texts(&c, texts, n, true, outs) != 0) {
            fprintf(err, "zonelab explore: cannot start a run: %s\n", strerror(errno));
            rc = ZL_CLI_USAGE;
        }
        stopped = zl_cli_stopped(); /* Ctrl-C reached the runs too: this batch does not count */
        for (i = 0; i < n; i++) {
            if (rc == ZL_CLI_OK && !stopped && hit.status == XP_OK && outs[i].status != XP_OK) {
                hit = outs[i];
                outs[i].message = NULL;
                found = runs[i];
                runs[i].actions = NULL;
                runs[i].n_actions = 0;
            }
            free(outs[i].message);
            free(texts[i]);
            xp_run_cleanup(&runs[i]);
        }
        if (stopped) { /* the runs that came back whole, as the coverage counts them */
            index = c.cov_runs;
            break;
        }
        index += n;
        if (rc != ZL_CLI_OK)
            goto out;
    }
    progress_clear(&c);
    if (hit.status == XP_ERROR) {
        fprintf(err, "zonelab explore: run %zu of seed %llu did not run: %s: %s\n", found.index,
                (unsigned long long)o.seed, hit.property, hit.message);
        rc = ZL_CLI_USAGE;
        goto out;
    }
    cov = xp_cov_report(c.cov, c.cov_runs, c.g.program);
    report = cJSON_CreateObject();
    cJSON_AddNumberToObject(report, "seed", (double)o.seed);
    cJSON_AddNumberToObject(report, "runs", (double)index);
    if (hit.status == XP_BROKEN) {
        size_t original = found.n_actions;
        unsigned long tries = 0;
        unsigned orig_replicas = found.replicas;
        double found_s = (double)(zl_cli_now_ms() - t0) / 1000;
        cJSON *v1 = cJSON_AddObjectToObject(report, "violation");

        progress_clear(&c);
        if (!o.json) {
            fprintf(out, "run %zu of seed %llu breaks %s after %.1f s (%zu runs): ", found.index,
                    (unsigned long long)o.seed, hit.property, found_s, index);
            first_line(out, hit.message);
            fprintf(out, "\nshrinking %zu actions...\n", original);
            fflush(out);
        }
        if (shrink(&c, &found, hit.property, &hit.message, &tries) != 0 ||
            write_counterexample(&c, &found, hit.property, original, hit.message, wpath,
                                 sizeof wpath) != 0) {
            fprintf(err, "zonelab explore: shrinking or writing under %s failed: %s\n", o.out_dir,
                    strerror(errno));
            rc = ZL_CLI_USAGE;
            goto out;
        }
        progress_clear(&c);
        if (!o.json) {
            fprintf(out, "shrunk to %zu action%s, %u replica%s, in %lu tries: ", found.n_actions,
                    found.n_actions == 1 ? "" : "s", found.replicas, found.replicas == 1 ? "" : "s",
                    tries);
            first_line(out, hit.message);
            fprintf(out, "\nwritten: %s\n", wpath);
        }
        cJSON_AddStringToObject(v1, "property", hit.property);
        cJSON_AddNumberToObject(v1, "run", (double)found.index);
        cJSON_AddNumberToObject(v1, "found_after_s", found_s);
        cJSON_AddNumberToObject(v1, "original_actions", (double)original);
        cJSON_AddNumberToObject(v1, "original_replicas", orig_replicas);
        cJSON_AddNumberToObject(v1, "actions", (double)found.n_actions);
        cJSON_AddNumberToObject(v1, "replicas", found.replicas);
        cJSON_AddNumberToObject(v1, "shrink_runs", (double)tries);
        cJSON_AddStringToObject(v1, "message", hit.message);
        cJSON_AddStringToObject(v1, "file", wpath);
        rc = ZL_CLI_FAILED;
    } else if (!o.json) {
        fprintf(out, "%zu runs of seed %llu, no property broken, in %.1f s%s\n", index,
                (unsigned long long)o.seed, (double)(zl_cli_now_ms() - t0) / 1000,
                stopped ? " (stopped)" : "");
    }
    cJSON_AddItemToObject(report, "coverage", cov);
    if (o.json) {
        char *text = cJSON_PrintUnformatted(report);

        if (text)
            fprintf(out, "%s\n", text);
        cJSON_free(text);
    } else {
        xp_cov_print(out, cov);
    }
out:
    cJSON_Delete(report);
    if (c.root[0])
        zl_cli_remove_tree(c.root);
    xp_run_cleanup(&found);
    free(hit.message);
    cJSON_Delete(c.cov);
    zl_world_free(c.world);
    free(c.world_abs);
    free(c.user);
    free(program);
    return rc;
}
