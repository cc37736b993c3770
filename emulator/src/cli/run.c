/* cli_run: `zonelab run`, the scenario runner. Each scenario file runs in its own process
 * (a fresh emulator, fresh program processes, its own ports), up to -j at a time; results
 * come back as JSON over a pipe and are reported as text, TAP and JUnit XML. */
#define _GNU_SOURCE
#include "cli/run.h"
#include "core/json.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
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
#include "scenario/scenario.h"

#define MAX_FILES 4096

typedef struct run_opts {
    unsigned jobs, shard_k, shard_n;
    const char *filter, *junit, *report_dir, *program;
    const char *vars[64]; /* --var NAME=VALUE */
    size_t n_vars;
    uint64_t seed;
    long step_ms, scenario_ms;
    bool tap, keep;
} run_opts;

typedef struct job {
    const char *file;
    pid_t pid;
    int fd;
    char *out;
    size_t len, cap;
    char work[PATH_MAX];
    cJSON *result;
} job;

static void usage(FILE *f)
{
    fputs("usage: zonelab run [options] [files or folders ...]   (default: scenarios)\n"
          "\n"
          "Runs Lua scenarios (docs/scenarios.md), each file against a fresh emulator and\n"
          "fresh program processes. Exit code 0 only when every test passed.\n"
          "  -j, --jobs N          files run in parallel (default 1)\n"
          "  --shard K/N           run the K-th of N slices of the files (1-based)\n"
          "  --filter TEXT         only tests whose \"file: name\" contains TEXT\n"
          "  --program CMD         the program to start (default: zone-demo next to zonelab)\n"
          "  --seed N              the emulator's seed (default 1)\n"
          "  --var NAME=VALUE      vars.NAME in every scenario (repeatable; a string)\n"
          "  --step-timeout S      default wait timeout in seconds (default 10)\n"
          "  --timeout S           time for one scenario file in seconds (default 120)\n"
          "  --tap                 print TAP instead of text\n"
          "  --junit FILE          also write JUnit XML to FILE\n"
          "  --report-dir DIR      where journals of failed scenarios go (default zonelab-report)\n"
          "  --keep                keep each scenario's work folder (logs, program data)\n",
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
static char *default_program(void)
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

static int start_job(job *j, const run_opts *o)
{
    int fds[2];

    snprintf(j->work, sizeof j->work, "%s/zonelab-run-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(j->work) || pipe(fds) != 0)
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
                                  .n_vars = o->n_vars};
        cJSON *r;
        char *text;
        size_t off = 0, len;

        close(fds[0]);
        signal(SIGPIPE, SIG_IGN);
        r = zl_scenario_run(j->file, &so);
        text = r ? cJSON_PrintUnformatted(r) : NULL;
        len = text ? strlen(text) : 0;
        while (off < len) {
            ssize_t w = write(fds[1], text + off, len - off);

            if (w <= 0 && errno != EINTR)
                break;
            if (w > 0)
                off += (size_t)w;
        }
        cJSON_free(text);
        cJSON_Delete(r);
        close(fds[1]);
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

static void remove_tree(const char *path)
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
                remove_tree(sub);
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

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
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

/* Writes the journal and program log of a failed scenario next to the report. */
static void write_failure(const cJSON *r, const run_opts *o, FILE *err)
{
    const cJSON *jr = cJSON_GetObjectItem(r, "journal");
    const char *log = str(r, "program_log");
    char path[PATH_MAX], name[PATH_MAX / 2];
    char *text;
    FILE *f;

    mkdir(o->report_dir, 0755);
    if (jr) {
        snprintf(path, sizeof path, "%s/%s.journal.json", o->report_dir,
                 flat(str(r, "file"), name, sizeof name));
        text = cJSON_Print(jr);
        if (text && (f = fopen(path, "w"))) {
            fputs(text, f);
            fclose(f);
            fprintf(err, "  journal: %s\n", path);
        }
        cJSON_free(text);
    }
    if (*log) {
        snprintf(path, sizeof path, "%s/%s.program.log", o->report_dir,
                 flat(str(r, "file"), name, sizeof name));
        if ((f = fopen(path, "w"))) {
            fputs(log, f);
            fclose(f);
            fprintf(err, "  program log: %s\n", path);
        }
    }
}

/* "  name: first line" then every further line of msg indented under it. */
static void print_indented(FILE *out, const char *name, const char *msg)
{
    const char *p = msg, *nl;

    fprintf(out, "  %s:\n", name);
    while (*p) {
        nl = strchr(p, '\n');
        fprintf(out, "    %.*s\n", (int)(nl ? nl - p : (ptrdiff_t)strlen(p)), p);
        if (!nl)
            break;
        p = nl + 1;
    }
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '&')
            fputs("&amp;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c < 0x20 && c != '\n' && c != '\t')
            fputc('?', f); /* not allowed in XML 1.0 */
        else
            fputc(c, f);
    }
}

static int write_junit(const char *path, cJSON *const *results, size_t n, double total)
{
    FILE *f = fopen(path, "w");
    size_t i;

    if (!f)
        return -1;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"zonelab\" "
            "time=\"%.3f\">\n",
            total);
    for (i = 0; i < n; i++) {
        const cJSON *t, *tests = cJSON_GetObjectItem(results[i], "tests");
        int count = 0, failures = 0, errors = 0, skipped = 0;

        cJSON_ArrayForEach(t, tests)
        {
            const char *st = str(t, "status");

            count++;
            failures += !strcmp(st, "fail");
            errors += !strcmp(st, "error");
            skipped += !strcmp(st, "skip");
        }
        fputs("  <testsuite name=\"", f);
        xml_text(f, str(results[i], "file"));
        fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
                count, failures, errors, skipped,
                cJSON_GetObjectItem(results[i], "seconds")->valuedouble);
        cJSON_ArrayForEach(t, tests)
        {
            const char *st = str(t, "status");

            fputs("    <testcase classname=\"", f);
            xml_text(f, base(str(results[i], "file")));
            fputs("\" name=\"", f);
            xml_text(f, str(t, "name"));
            fprintf(f, "\" time=\"%.3f\"", cJSON_GetObjectItem(t, "seconds")->valuedouble);
            if (!strcmp(st, "pass")) {
                fputs("/>\n", f);
                continue;
            }
            fputs(">\n", f);
            if (!strcmp(st, "skip")) {
                fputs("      <skipped/>\n", f);
            } else {
                fprintf(f, "      <%s message=\"", !strcmp(st, "fail") ? "failure" : "error");
                {
                    char first[200];
                    const char *m = str(t, "message");
                    size_t k = strcspn(m, "\n");

                    snprintf(first, sizeof first, "%.*s", (int)(k < 199 ? k : 199), m);
                    xml_text(f, first);
                }
                fputs("\">", f);
                xml_text(f, str(t, "message"));
                fprintf(f, "</%s>\n", !strcmp(st, "fail") ? "failure" : "error");
            }
            fputs("    </testcase>\n", f);
        }
        fputs("  </testsuite>\n", f);
    }
    fputs("</testsuites>\n", f);
    return fclose(f);
}

int zl_cli_run(int argc, char **argv, FILE *out, FILE *err)
{
    run_opts o = {.jobs = 1,
                  .seed = 1,
                  .step_ms = 10000,
                  .scenario_ms = 120000,
                  .report_dir = "zonelab-report"};
    char *files[MAX_FILES] = {0}, *program = NULL;
    size_t n_files = 0, n_paths = 0, i, next = 0, running = 0, done = 0;
    const char *paths[256];
    cJSON **results;
    job *jobs;
    int passed = 0, failed = 0, errors = 0, skipped = 0, rc;
    unsigned long long v;
    bool tty = isatty(fileno(out));
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
        } else if (!strcmp(f, "--shard") && val &&
                   sscanf(val, "%u/%u", &o.shard_k, &o.shard_n) == 2 && o.shard_n > 0 &&
                   o.shard_k >= 1 && o.shard_k <= o.shard_n) {
            a++;
        } else if (!strcmp(f, "--filter") && val) {
            o.filter = val, a++;
        } else if (!strcmp(f, "--program") && val && *val) {
            o.program = val, a++;
        } else if (!strcmp(f, "--var") && var_ok(val) &&
                   o.n_vars < sizeof o.vars / sizeof *o.vars) {
            o.vars[o.n_vars++] = val, a++;
        } else if (!strcmp(f, "--seed") && zl_cli_parse_u64(val, ULONG_MAX, &v) == 0) {
            o.seed = v, a++;
        } else if (!strcmp(f, "--step-timeout") && zl_cli_parse_u64(val, 3600, &v) == 0 && v > 0) {
            o.step_ms = (long)v * 1000, a++;
        } else if (!strcmp(f, "--timeout") && zl_cli_parse_u64(val, 86400, &v) == 0 && v > 0) {
            o.scenario_ms = (long)v * 1000, a++;
        } else if (!strcmp(f, "--tap")) {
            o.tap = true;
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
    if (n_paths == 0)
        paths[n_paths++] = "scenarios";
    for (i = 0; i < n_paths; i++)
        if (collect(paths[i], files, &n_files, err) != 0)
            goto usage_fail;
    qsort(files, n_files, sizeof *files, by_name);
    if (o.shard_n) { /* keep every shard_n-th file */
        size_t k = 0;

        for (i = 0; i < n_files; i++)
            if (i % o.shard_n == o.shard_k - 1)
                files[k++] = files[i];
            else
                free(files[i]);
        n_files = k;
    }
    if (n_files == 0) {
        fprintf(err, "zonelab run: no scenario files\n");
        goto usage_fail;
    }
    if (!o.program) /* NULL is fine when every scenario names its program */
        o.program = program = default_program();
    results = calloc(n_files, sizeof *results);
    jobs = calloc(n_files, sizeof *jobs);
    if (!results || !jobs)
        return ZL_CLI_FAILED;
    signal(SIGPIPE, SIG_IGN);
    if (o.tap)
        fprintf(out, "TAP version 13\n");
    while (done < n_files) {
        struct pollfd pfd[64];
        size_t map[64], np = 0;

        while (running < o.jobs && next < n_files) {
            jobs[next].file = files[next];
            if (start_job(&jobs[next], &o) != 0) {
                results[next] = died(&jobs[next], 0);
                jobs[next].fd = -1;
                done++;
            } else {
                running++;
            }
            next++;
        }
        for (i = 0; i < next && np < 64; i++)
            if (jobs[i].fd > 0 && !results[i]) {
                pfd[np] = (struct pollfd){.fd = jobs[i].fd, .events = POLLIN};
                map[np++] = i;
            }
        if (tty && !o.tap) {
            fprintf(out, "\r[%zu/%zu] %zu running ", done, n_files, running);
            fflush(out);
        }
        if (np == 0)
            continue;
        if (poll(pfd, np, 1000) <= 0)
            continue;
        for (i = 0; i < np; i++) {
            job *j = &jobs[map[i]];
            char buf[65536];
            ssize_t r;
            int status = 0;

            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            r = read(j->fd, buf, sizeof buf);
            if (r > 0) {
                if (j->len + (size_t)r + 1 > j->cap) {
                    size_t nc = (j->cap ? j->cap * 2 : 65536) + (size_t)r;
                    char *nb = realloc(j->out, nc);

                    if (!nb)
                        continue;
                    j->out = nb;
                    j->cap = nc;
                }
                memcpy(j->out + j->len, buf, (size_t)r);
                j->len += (size_t)r;
                j->out[j->len] = '\0';
                continue;
            }
            if (r < 0 && errno == EINTR)
                continue;
            close(j->fd);
            j->fd = -1;
            waitpid(j->pid, &status, 0);
            results[map[i]] = j->out ? cJSON_Parse(j->out) : NULL;
            if (!results[map[i]])
                results[map[i]] = died(j, status);
            free(j->out);
            j->out = NULL;
            running--;
            done++;
            {
                const cJSON *t, *tests = cJSON_GetObjectItem(results[map[i]], "tests");
                int bad = 0, n = 0;

                cJSON_ArrayForEach(t, tests)
                {
                    const char *st = str(t, "status");

                    n += strcmp(st, "skip") != 0;
                    bad += !strcmp(st, "fail") || !strcmp(st, "error");
                }
                if (tty && !o.tap)
                    fputs("\r\033[K", out);
                if (!o.tap) {
                    fprintf(out, "%s %s (%d test%s, %.2f s)\n", bad ? "FAIL" : "ok  ", j->file, n,
                            n == 1 ? "" : "s",
                            cJSON_GetObjectItem(results[map[i]], "seconds")->valuedouble);
                    cJSON_ArrayForEach(t, tests)
                    {
                        if (!strcmp(str(t, "status"), "fail") || !strcmp(str(t, "status"), "error"))
                            print_indented(out, str(t, "name"), str(t, "message"));
                    }
                }
                if (bad)
                    write_failure(results[map[i]], &o, o.tap ? err : out);
                fflush(out);
            }
            if (!o.keep)
                remove_tree(j->work);
        }
    }
    {
        int num = 0;

        for (i = 0; i < n_files; i++) {
            const cJSON *t;

            cJSON_ArrayForEach(t, cJSON_GetObjectItem(results[i], "tests"))
            {
                const char *st = str(t, "status");

                passed += !strcmp(st, "pass");
                failed += !strcmp(st, "fail");
                errors += !strcmp(st, "error");
                skipped += !strcmp(st, "skip");
                if (!o.tap)
                    continue;
                num++;
                if (!strcmp(st, "skip")) {
                    fprintf(out, "ok %d - %s: %s # SKIP filtered out\n", num, base(files[i]),
                            str(t, "name"));
                } else {
                    fprintf(out, "%s %d - %s: %s\n", !strcmp(st, "pass") ? "ok" : "not ok", num,
                            base(files[i]), str(t, "name"));
                    if (strcmp(st, "pass") != 0) {
                        char *m = strdup(str(t, "message")), *line, *save = NULL;

                        for (line = strtok_r(m, "\n", &save); line;
                             line = strtok_r(NULL, "\n", &save))
                            fprintf(out, "# %s\n", line);
                        free(m);
                    }
                }
            }
        }
        if (o.tap)
            fprintf(out, "1..%d\n", num);
    }
    fprintf(o.tap ? err : out,
            "%d test%s: %d passed, %d failed, %d error%s, %d skipped (%zu file%s, "
            "-j %u) in %.2f s\n",
            passed + failed + errors + skipped, passed + failed + errors + skipped == 1 ? "" : "s",
            passed, failed, errors, errors == 1 ? "" : "s", skipped, n_files,
            n_files == 1 ? "" : "s", o.jobs, now_s() - t0);
    rc = failed || errors || passed == 0 ? ZL_CLI_FAILED : ZL_CLI_OK;
    if (o.junit && write_junit(o.junit, results, n_files, now_s() - t0) != 0) {
        fprintf(err, "zonelab run: cannot write %s: %s\n", o.junit, strerror(errno));
        rc = ZL_CLI_FAILED;
    }
    for (i = 0; i < n_files; i++) {
        cJSON_Delete(results[i]);
        free(files[i]);
    }
    free(results);
    free(jobs);
    free(program);
    return rc;
usage_fail:
    for (i = 0; i < n_files; i++)
        free(files[i]);
    free(program);
    return ZL_CLI_USAGE;
}
