/* cli_run: `zonelab run`, the scenario runner. Each scenario file runs in its own process
 * (a fresh emulator, fresh program processes, its own ports), up to -j at a time; results
 * come back as JSON over a pipe and are reported as text, TAP and JUnit XML. */
#define _GNU_SOURCE
#include "cli/run.h"
#include "core/grow.h"
#include "core/json.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/opts.h"
#include "cli/report.h"
#include "cli/shard.h"
#include "emu/options.h"
#include "scenario/scenario.h"
#include "wecom/world.h"

#define MAX_FILES 4096

#define MAX_REPEAT 1000000

typedef struct run_opts {
    unsigned jobs, shard_k, shard_n;
    unsigned long repeat; /* runs of each file; 0 (--until-fail without --repeat): no cap */
    const char *filter, *junit, *report_dir, *program, *durations;
    const char *vars[64]; /* --var NAME=VALUE */
    const char *sets[64]; /* --set NAME=VALUE */
    size_t n_sets;
    size_t n_vars;
    uint64_t seed;
    long step_ms, scenario_ms;
    bool tap, keep, until_fail, list;
    int verbosity;           /* -1 --quiet, 0, 1 --verbose */
    zl_world *default_world; /* loaded once here: every child gets it with the fork */
} run_opts;

/* One run of one file in its child process. Runs are numbered round by round: run r is
 * file r % n_files in round r / n_files + 1. */
typedef struct job {
    const char *file;
    size_t run;
    unsigned long round; /* 1-based */
    pid_t pid;
    int fd;         /* -1 when the slot is free */
    double started; /* monotonic seconds */
    char *out;
    size_t len, cap;
    char work[PATH_MAX];
} job;

/* The failed runs of one file, for the flakiness summary of repeated runs. */
typedef struct file_tally {
    size_t runs, failed;
    unsigned long rounds[8]; /* the first failed rounds */
} file_tally;

/* Everything the runner's loop and its reports share. */
typedef struct runner {
    const run_opts *o;
    char *const *files;
    size_t n_files;
    size_t total;    /* runs to make; SIZE_MAX: until one fails */
    cJSON **results; /* by run, kept for --tap and --junit only */
    size_t results_cap;
    file_tally *tally; /* by file */
    int passed, failed, errors, skipped;
    bool repeating; /* more than one run of a file: lines and report files name the round */
    bool stop;      /* --until-fail saw a failure: start nothing more */
    FILE *out, *err;
    /* children that sent their result and are still stopping their programs: reaped without
     * waiting (reap_finished), their work folders removed after, once the next runs have
     * started (removing a tree costs milliseconds on some file systems: ext4 mounted with
     * discard, ~6 ms) */
    struct finishing {
        pid_t pid;
        char *work;       /* NULL with --keep */
        const char *file; /* for the message when its teardown fails */
    } finishing[64];
    size_t n_finishing;
} runner;

static void usage(FILE *f)
{
    fputs("usage: zonelab run [options] [files or folders ...]   (default: scenarios)\n"
          "\n"
          "Runs Lua scenarios (docs/scenarios.md), each file against a fresh emulator and\n"
          "fresh program processes. Exit code 0 only when every test passed.\n"
          "  -j, --jobs N          files run in parallel (default 1)\n"
          "  --shard K/N|auto      run the K-th of N slices of the files (1-based); auto takes\n"
          "                        them from CI_NODE_INDEX/CI_NODE_TOTAL (GitLab parallel:) or\n"
          "                        JOB_COMPLETION_INDEX/ZONELAB_SHARD_TOTAL (Kubernetes)\n"
          "  --durations FILE      with --shard: balance the slices by the times of an earlier\n"
          "                        JUnit report (--junit), so the shards finish together\n"
          "  --filter TEXT         only tests whose \"file: name\" contains TEXT\n"
          "  --program CMD         the program to start (default: zone-demo next to zonelab)\n"
          "  --seed N              the emulator's seed (default 1)\n"
          "  --var NAME=VALUE      vars.NAME in every scenario (repeatable; a string)\n"
          "  --set NAME=VALUE      an option of the table (zonelab options) for every file, over\n"
          "                        the scenario defaults, under a file's own (repeatable)\n"
          "  --step-timeout S      default wait timeout in seconds (default 10)\n"
          "  --timeout S           time for one scenario file in seconds (default 120)\n"
          "  --list                print the files this run (this shard) would run, and stop\n"
          "  -q, --quiet           print only the files that failed, and the summary\n"
          "  -v, --verbose         print a line for every test, passed ones too\n"
          "  --tap                 print TAP instead of text\n"
          "  --junit FILE          also write JUnit XML to FILE\n"
          "  --report-dir DIR      where journals of failed scenarios go (default zonelab-report)\n"
          "  --keep                keep each scenario's work folder (logs, program data)\n"
          "  --repeat N            run each file N times (each run is counted and reported)\n"
          "  --until-fail          run the files again and again until a run fails (at most\n"
          "                        --repeat N times each when given, else without end)\n",
          f);
}

/* NAME=VALUE with NAME an identifier ([A-Za-z_][A-Za-z0-9_]*). */
static bool var_ok(const char *s)
{
    const char *p = s;

    if (!s || !(isalpha((unsigned char)*p) || *p == '_'))
        return false;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    return *p == '=';
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds path (a .lua file, or every .lua below a folder) to files. A folder named lib below
 * path is passed over: it holds the libraries scenarios require(), not scenarios. */
static int collect(const char *path, char **files, size_t *n, FILE *err)
{
    struct stat st;
    DIR *d;
    struct dirent *e;

    if (stat(path, &st) != 0) {
        fprintf(err, "zonelab run: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        if (*n >= MAX_FILES)
            return -1;
        files[(*n)++] = strdup(path);
        return 0;
    }
    if (!(d = opendir(path))) {
        fprintf(err, "zonelab run: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        char sub[PATH_MAX];
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if (stat(sub, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && !strcmp(e->d_name, "lib"))
            continue;
        if (S_ISDIR(st.st_mode) || (len > 4 && !strcmp(e->d_name + len - 4, ".lua")))
            if (collect(sub, files, n, err) != 0) {
                closedir(d);
                return -1;
            }
    }
    closedir(d);
    return 0;
}

/* zone-demo next to this zonelab: the build tree or an install. Owned, or NULL. */
char *zl_cli_run_default_program(void)
{
    char exe[PATH_MAX], cand[PATH_MAX + 64], *slash, *cmd;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    static const char *const rel[] = {"../program-under-test/zone-demo", "zone-demo", NULL};
    size_t i;

    if (getenv("ZONELAB_PROGRAM") && *getenv("ZONELAB_PROGRAM"))
        return strdup(getenv("ZONELAB_PROGRAM"));
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    if (!(slash = strrchr(exe, '/')))
        return NULL;
    *slash = '\0';
    for (i = 0; rel[i]; i++) {
        snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
        if (access(cand, X_OK) == 0 &&
            asprintf(&cmd, "exec '%s' --data-dir \"$ZONELAB_WORK_DIR/data\"", cand) >= 0)
            return cmd;
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- one child per file ---- */

/* Writes the result to the parent's pipe (fd in *ud) and closes it: the parent reports it
 * and starts the next file while this child stops its programs and exits. */
static void send_result(const cJSON *r, void *ud)
{
    int *fd = ud;
    char *text = cJSON_PrintUnformatted(r);
    size_t off = 0, len = text ? strlen(text) : 0;

    while (off < len) {
        ssize_t w = write(*fd, text + off, len - off);

        if (w <= 0 && errno != EINTR)
            break;
        if (w > 0)
            off += (size_t)w;
    }
    cJSON_free(text);
    close(*fd);
    *fd = -1;
}

static int start_job(job *j, const run_opts *o)
{
    int fds[2];

    snprintf(j->work, sizeof j->work, "%s/zonelab-run-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(j->work) || pipe2(fds, O_CLOEXEC) != 0) /* the programs do not hold it */
        return -1;
    fflush(NULL);
    j->pid = fork();
    if (j->pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (j->pid == 0) {
        zl_scenario_options so = {.program = o->program,
                                  .filter = o->filter,
                                  .seed = o->seed,
                                  .step_timeout_ms = o->step_ms,
                                  .scenario_timeout_ms = o->scenario_ms,
                                  .work_dir = j->work,
                                  .vars = o->vars,
                                  .n_vars = o->n_vars,
                                  .sets = o->sets,
                                  .n_sets = o->n_sets};
        zl_world *dw = o->default_world; /* this process's copy; _exit frees what is left */
        cJSON *r;
        int out = fds[1];

        close(fds[0]);
        signal(SIGPIPE, SIG_IGN);
        so.default_world = &dw;
        so.on_result = send_result;
        so.on_result_ud = &out;
        r = zl_scenario_run(j->file, &so);
        if (r && out >= 0) /* on_result was not called */
            send_result(r, &out);
        cJSON_Delete(r);
        _exit(0);
    }
    close(fds[1]);
    j->fd = fds[0];
    return 0;
}

/* A result for a child that died without reporting. */
static cJSON *died(const job *j, int status)
{
    cJSON *r = cJSON_CreateObject(), *tests = cJSON_AddArrayToObject(r, "tests"),
          *t = cJSON_CreateObject();
    char msg[200];

    snprintf(msg, sizeof msg, "the scenario's runner process ended without a result (%s %d)",
             WIFSIGNALED(status) ? "signal" : "exit code",
             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    cJSON_AddStringToObject(r, "file", j->file);
    cJSON_AddStringToObject(t, "name", "(run)");
    cJSON_AddStringToObject(t, "status", "error");
    cJSON_AddStringToObject(t, "message", msg);
    cJSON_AddNumberToObject(t, "seconds", 0);
    cJSON_AddItemToArray(tests, t);
    cJSON_AddNumberToObject(r, "seconds", 0);
    return r;
}

void zl_cli_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;

    if (d) {
        while ((e = readdir(d))) {
            char sub[PATH_MAX];
            struct stat st;

            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                zl_cli_remove_tree(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

/* ---- reporting ---- */

static const char *str(const cJSON *o, const char *k)
{
    const char *s = zl_json_str(o, k);

    return s ? s : "";
}

/* A scenario path as one file name: "scenarios/a/b.lua" -> "scenarios_a_b.lua". */
static const char *flat(const char *path, char *out, size_t n)
{
    size_t i;

    while (path[0] == '.' && path[1] == '/')
        path += 2;
    snprintf(out, n, "%s", path[0] == '/' ? path + 1 : path);
    for (i = 0; out[i]; i++)
        if (out[i] == '/')
            out[i] = '_';
    return out;
}

/* Writes the journal and program log of a failed scenario next to the report; suffix ("" or
 * ".runN") tells repeated runs of one file apart. */
static void write_failure(const cJSON *r, const run_opts *o, const char *suffix, FILE *err)
{
    const cJSON *jr = cJSON_GetObjectItem(r, "journal");
    const char *log = str(r, "program_log");
    char path[PATH_MAX], name[PATH_MAX / 2];
    char *text;
    FILE *f;

    mkdir(o->report_dir, 0755);
    if (jr) {
        snprintf(path, sizeof path, "%s/%s%s.journal.json", o->report_dir,
                 flat(str(r, "file"), name, sizeof name), suffix);
        text = cJSON_Print(jr);
        if (text && (f = fopen(path, "w"))) {
            fputs(text, f);
            fclose(f);
            fprintf(err, "  journal: %s\n", path);
        }
        cJSON_free(text);
    }
    if (*log) {
        snprintf(path, sizeof path, "%s/%s%s.program.log", o->report_dir,
                 flat(str(r, "file"), name, sizeof name), suffix);
        if ((f = fopen(path, "w"))) {
            fputs(log, f);
            fclose(f);
            fprintf(err, "  program log: %s\n", path);
        }
    }
}

/* ---- the runs ---- */

/* Counts, prints and keeps (for --tap and --junit) the result r of job j; takes r. */
static void report_run(runner *R, const job *j, cJSON *r)
{
    const run_opts *o = R->o;
    const cJSON *t, *tests = cJSON_GetObjectItem(r, "tests");
    file_tally *ft = &R->tally[j->run % R->n_files];
    char suffix[32] = "";
    int bad = 0;

    if (R->repeating) {
        snprintf(suffix, sizeof suffix, ".run%lu", j->round);
    }
    cJSON_ArrayForEach(t, tests)
    {
        const char *st = str(t, "status");

        bad += !strcmp(st, "fail") || !strcmp(st, "error");
        R->passed += !strcmp(st, "pass");
        R->failed += !strcmp(st, "fail");
        R->errors += !strcmp(st, "error");
        R->skipped += !strcmp(st, "skip");
    }
    ft->runs++;
    if (bad && ft->failed++ < sizeof ft->rounds / sizeof *ft->rounds)
        ft->rounds[ft->failed - 1] = j->round;
    if (isatty(fileno(R->out)) && !o->tap)
        fputs("\r\033[K", R->out);
    if (R->repeating)
        cJSON_AddNumberToObject(r, "round", (double)j->round);
    if (!o->tap)
        zl_report_print_text(R->out, r, o->verbosity, zl_report_colour(R->out));
    if (bad)
        write_failure(r, o, suffix, o->tap ? R->err : R->out);
    fflush(R->out);
    if (bad && o->until_fail)
        R->stop = true;
    if (o->tap || o->junit)
        R->results[j->run] = r;
    else
        cJSON_Delete(r);
}

/* Starts the next run in the free slot j. Returns 0, or -1 when it was reported failed. */
static int start_run(runner *R, job *j, size_t run)
{
    *j = (job){.file = R->files[run % R->n_files],
               .run = run,
               .round = (unsigned long)(run / R->n_files) + 1,
               .fd = -1};
    if ((R->o->tap || R->o->junit) &&
        zl_grow(&R->results, &R->results_cap, run, sizeof *R->results, 256) == 0)
        R->results[run] = NULL;
    if ((R->o->tap || R->o->junit) && run >= R->results_cap) {
        fprintf(R->err, "zonelab run: out of memory after %zu runs\n", run);
        R->stop = true;
        return -1;
    }
    j->started = now_s();
    if (start_job(j, R->o) != 0) {
        report_run(R, j, died(j, 0));
        j->fd = -1;
        return -1;
    }
    return 0;
}

/* Reads what the child of j wrote; at its end, reports the run and frees the slot. */
static void read_child(runner *R, job *j)
{
    char buf[65536];
    ssize_t r = read(j->fd, buf, sizeof buf);
    int status = 0;
    cJSON *res;

    if (r > 0) {
        if (j->len + (size_t)r + 1 > j->cap) {
            size_t nc = (j->cap ? j->cap * 2 : 65536) + (size_t)r;
            char *nb = realloc(j->out, nc);

            if (!nb)
                return;
            j->out = nb;
            j->cap = nc;
        }
        memcpy(j->out + j->len, buf, (size_t)r);
        j->len += (size_t)r;
        j->out[j->len] = '\0';
        return;
    }
    if (r < 0 && errno == EINTR)
        return;
    close(j->fd);
    j->fd = -1;
    res = j->out ? cJSON_Parse(j->out) : NULL;
    free(j->out);
    j->out = NULL;
    if (res && R->n_finishing < sizeof R->finishing / sizeof *R->finishing) {
        /* it sent its result and is stopping its programs: the next file need not wait */
        R->finishing[R->n_finishing].pid = j->pid;
        R->finishing[R->n_finishing].file = j->file;
        R->finishing[R->n_finishing].work = R->o->keep ? NULL : strdup(j->work);
        if (R->o->keep || R->finishing[R->n_finishing].work) {
            R->n_finishing++;
            report_run(R, j, res);
            return;
        }
    }
    waitpid(j->pid, &status, 0);
    if (!res)
        res = died(j, status);
    report_run(R, j, res);
    if (!R->o->keep)
        zl_cli_remove_tree(j->work);
}

/* Reaps the children that reported and were stopping, and removes their work folders; with
 * block, waits for each. */
static void reap_finished(runner *R, bool block)
{
    size_t i = 0;

    while (i < R->n_finishing) {
        struct finishing *f = &R->finishing[i];
        int status;
        pid_t got = waitpid(f->pid, &status, block ? 0 : WNOHANG);

        if (got == 0) {
            i++;
            continue;
        }
        if (got == f->pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            /* its tests passed or failed as reported, but what stops the programs and frees
             * the emulator went wrong (a sanitizer's report, a crash): not to go unseen */
            fprintf(R->err,
                    "zonelab run: %s: the file's process ended with %s %d after it reported, "
                    "while stopping its programs (its output above says why)\n",
                    f->file, WIFSIGNALED(status) ? "signal" : "exit code",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            R->errors++;
        }
        if (f->work) {
            zl_cli_remove_tree(f->work);
            free(f->work);
        }
        *f = R->finishing[--R->n_finishing];
    }
}

/* After repeated runs: each file that failed, how often and in which rounds. */
static void print_flaky(const runner *R, FILE *f)
{
    size_t i, k, shown;
    bool any = false;

    for (i = 0; i < R->n_files; i++) {
        const file_tally *ft = &R->tally[i];

        if (!ft->failed)
            continue;
        if (!any)
            fputs("failed runs by file:\n", f);
        any = true;
        shown = ft->failed < sizeof ft->rounds / sizeof *ft->rounds
                    ? ft->failed
                    : sizeof ft->rounds / sizeof *ft->rounds;
        fprintf(f, "  %s: %zu of %zu runs failed (#", R->files[i], ft->failed, ft->runs);
        for (k = 0; k < shown; k++)
            fprintf(f, "%s%lu", k ? ", #" : "", ft->rounds[k]);
        fputs(shown < ft->failed ? ", ...)\n" : ")\n", f);
    }
}

/* On a terminal, the line under the report: runs done of all, how many are running and the
 * one running longest, rewritten in place. */
static void print_progress(const runner *R, const job *slots, size_t done, size_t running)
{
    const job *slow = NULL;
    double now = now_s();
    size_t i;

    for (i = 0; i < R->o->jobs; i++)
        if (slots[i].fd >= 0 && (!slow || slots[i].started < slow->started))
            slow = &slots[i];
    fputs("\r\033[K", R->out);
    if (R->total == SIZE_MAX)
        fprintf(R->out, "[%zu] %zu running", done, running);
    else
        fprintf(R->out, "[%zu/%zu] %zu running", done, R->total, running);
    if (slow)
        fprintf(R->out, ", slowest %s (%.0f s)", slow->file, now - slow->started);
    fflush(R->out);
}

int zl_cli_run(int argc, char **argv, FILE *out, FILE *err)
{
    run_opts o = {.jobs = 1,
                  .repeat = 1,
                  .seed = 1,
                  .step_ms = 10000,
                  .scenario_ms = 120000,
                  .report_dir = "zonelab-report"};
    char *files[MAX_FILES] = {0}, *program = NULL;
    size_t n_files = 0, n_paths = 0, i, next = 0, running = 0, done = 0;
    const char *paths[256];
    job slots[64];
    runner R = {.out = out, .err = err};
    int rc;
    unsigned long long v;
    bool tty = isatty(fileno(out)), repeat_set = false;
    double t0 = now_s();
    int a;

    for (a = 1; a < argc; a++) {
        const char *f = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;

        if (!strcmp(f, "--help") || !strcmp(f, "-h")) {
            usage(out);
            return ZL_CLI_OK;
        } else if ((!strcmp(f, "-j") || !strcmp(f, "--jobs")) &&
                   zl_cli_parse_u64(val, 64, &v) == 0 && v > 0) {
            o.jobs = (unsigned)v, a++;
        } else if (!strcmp(f, "--shard") && val) {
            char why[300];

            if (zl_shard_parse(val, &o.shard_k, &o.shard_n, why, sizeof why) != 0) {
                fprintf(err, "zonelab run: %s\n", why);
                return ZL_CLI_USAGE;
            }
            a++;
        } else if (!strcmp(f, "--durations") && val && *val) {
            o.durations = val, a++;
        } else if (!strcmp(f, "--filter") && val) {
            o.filter = val, a++;
        } else if (!strcmp(f, "--program") && val && *val) {
            o.program = val, a++;
        } else if (!strcmp(f, "--var") && var_ok(val) &&
                   o.n_vars < sizeof o.vars / sizeof *o.vars) {
            o.vars[o.n_vars++] = val, a++;
        } else if (!strcmp(f, "--set") && val && o.n_sets < sizeof o.sets / sizeof *o.sets) {
            zl_emu_options scratch;
            char why[600];

            zl_emu_options_default(&scratch);
            if (zl_emu_options_set_text(&scratch, val, why, sizeof why) != 0) {
                fprintf(err, "zonelab run: --set %s\n", why);
                return ZL_CLI_USAGE;
            }
            o.sets[o.n_sets++] = val, a++;
        } else if (!strcmp(f, "--seed") && zl_cli_parse_u64(val, ULONG_MAX, &v) == 0) {
            o.seed = v, a++;
        } else if (!strcmp(f, "--step-timeout") && zl_cli_parse_u64(val, 3600, &v) == 0 && v > 0) {
            o.step_ms = (long)v * 1000, a++;
        } else if (!strcmp(f, "--timeout") && zl_cli_parse_u64(val, 86400, &v) == 0 && v > 0) {
            o.scenario_ms = (long)v * 1000, a++;
        } else if (!strcmp(f, "--repeat") && zl_cli_parse_u64(val, MAX_REPEAT, &v) == 0 && v > 0) {
            o.repeat = (unsigned long)v, repeat_set = true, a++;
        } else if (!strcmp(f, "--until-fail")) {
            o.until_fail = true;
        } else if (!strcmp(f, "--tap")) {
            o.tap = true;
        } else if (!strcmp(f, "--list")) {
            o.list = true;
        } else if (!strcmp(f, "--quiet") || !strcmp(f, "-q")) {
            o.verbosity = -1;
        } else if (!strcmp(f, "--verbose") || !strcmp(f, "-v")) {
            o.verbosity = 1;
        } else if (!strcmp(f, "--keep")) {
            o.keep = true;
        } else if (!strcmp(f, "--junit") && val && *val) {
            o.junit = val, a++;
        } else if (!strcmp(f, "--report-dir") && val && *val) {
            o.report_dir = val, a++;
        } else if (f[0] == '-') {
            fprintf(err, "zonelab run: bad or incomplete option '%s'\n", f);
            usage(err);
            return ZL_CLI_USAGE;
        } else if (n_paths < sizeof paths / sizeof *paths) {
            paths[n_paths++] = f;
        }
    }
    if (o.until_fail && !repeat_set)
        o.repeat = 0;
    if (n_paths == 0)
        paths[n_paths++] = "scenarios";
    for (i = 0; i < n_paths; i++)
        if (collect(paths[i], files, &n_files, err) != 0)
            goto usage_fail;
    qsort(files, n_files, sizeof *files, by_name);
    if (o.durations && !o.shard_n) {
        fprintf(err, "zonelab run: --durations balances shards: give --shard too\n");
        goto usage_fail;
    }
    if (o.shard_n) {
        size_t all = n_files;
        cJSON *durations = NULL;
        char why[600];

        if (o.durations && !(durations = zl_report_durations(o.durations, why, sizeof why)))
            fprintf(err, "zonelab run: --durations %s; shards by name\n", why);
        n_files = zl_shard_select(files, n_files, o.shard_k, o.shard_n, durations);
        cJSON_Delete(durations);
        if (n_files == 0 && o.list)
            return ZL_CLI_OK;
        if (n_files == 0) { /* more shards than files: this one has nothing to do */
            fprintf(out, "shard %u/%u: no scenario files (%zu in all)\n", o.shard_k, o.shard_n,
                    all);
            if (o.junit && zl_report_write_junit(o.junit, NULL, 0, 0) != 0) {
                fprintf(err, "zonelab run: cannot write %s: %s\n", o.junit, strerror(errno));
                return ZL_CLI_FAILED;
            }
            free(program);
            return ZL_CLI_OK;
        }
    }
    if (n_files == 0) {
        fprintf(err, "zonelab run: no scenario files\n");
        goto usage_fail;
    }
    if (o.list) {
        for (i = 0; i < n_files; i++) {
            fprintf(out, "%s\n", files[i]);
            free(files[i]);
        }
        return ZL_CLI_OK;
    }
    if (!o.program) /* NULL is fine when every scenario names its program */
        o.program = program = zl_cli_run_default_program();
    R.o = &o;
    R.files = files;
    R.n_files = n_files;
    R.total = o.repeat ? n_files * o.repeat : SIZE_MAX;
    R.repeating = o.repeat != 1;
    if (!(R.tally = calloc(n_files, sizeof *R.tally))) {
        free(program);
        return ZL_CLI_FAILED;
    }
    for (i = 0; i < sizeof slots / sizeof *slots; i++)
        slots[i].fd = -1;
    signal(SIGPIPE, SIG_IGN);
    {
        char why[256]; /* none: each file then loads it, and says what failed */

        o.default_world = zl_world_load_default(why, sizeof why);
    }
    zl_scenario_prefork();
    {
        /* each child takes a copy of it: the sandbox and prelude made once, here */
        zl_scenario_options po = {.vars = o.vars, .n_vars = o.n_vars};

        zl_scenario_prepare(&po);
    }
    if (o.tap)
        fprintf(out, "TAP version 13\n");
    while (running > 0 || (!R.stop && next < R.total)) {
        struct pollfd pfd[64];
        size_t map[64], np = 0;

        for (i = 0; i < o.jobs && !R.stop && next < R.total; i++) {
            if (slots[i].fd >= 0)
                continue;
            if (start_run(&R, &slots[i], next++) == 0)
                running++;
            else
                done++;
        }
        for (i = 0; i < o.jobs; i++)
            if (slots[i].fd >= 0) {
                pfd[np] = (struct pollfd){.fd = slots[i].fd, .events = POLLIN};
                map[np++] = i;
            }
        if (tty && !o.tap)
            print_progress(&R, slots, done, running);
        reap_finished(&R, false); /* while the runs just started get going */
        if (np == 0 || poll(pfd, np, 1000) <= 0)
            continue;
        for (i = 0; i < np; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            read_child(&R, &slots[map[i]]);
            if (slots[map[i]].fd < 0) {
                running--;
                done++;
            }
        }
    }
    reap_finished(&R, true);
    if (o.tap)
        zl_report_print_tap(out, R.results, next);
    if (R.repeating)
        print_flaky(&R, o.tap ? err : out);
    {
        int all = R.passed + R.failed + R.errors + R.skipped;
        char runs[48] = "";

        if (R.repeating)
            snprintf(runs, sizeof runs, ", %zu run%s", next, next == 1 ? "" : "s");
        fprintf(o.tap ? err : out,
                "%d test%s: %d passed, %d failed, %d error%s, %d skipped (%zu file%s%s, -j %u) in "
                "%.2f s\n",
                all, all == 1 ? "" : "s", R.passed, R.failed, R.errors, R.errors == 1 ? "" : "s",
                R.skipped, n_files, n_files == 1 ? "" : "s", runs, o.jobs, now_s() - t0);
    }
    rc = R.failed || R.errors || R.passed == 0 ? ZL_CLI_FAILED : ZL_CLI_OK;
    if (o.junit && zl_report_write_junit(o.junit, R.results, next, now_s() - t0) != 0) {
        fprintf(err, "zonelab run: cannot write %s: %s\n", o.junit, strerror(errno));
        rc = ZL_CLI_FAILED;
    }
    for (i = 0; i < next && R.results; i++)
        cJSON_Delete(R.results[i]);
    for (i = 0; i < n_files; i++)
        free(files[i]);
    free(R.results);
    free(R.tally);
    free(program);
    zl_world_free(o.default_world);
    zl_scenario_prepared_free();
    return rc;
usage_fail:
    for (i = 0; i < n_files; i++)
        free(files[i]);
    free(program);
    return ZL_CLI_USAGE;
}
