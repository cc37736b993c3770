/* ev_bench: events per second end to end under zonelab serve, with several pushes in flight,
 * through zone-demo (stored with fsync, then notified) and through zl_ack (answers at once).
 * Prints figures; asserts nothing (docs/benchmarks.md). */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#ifndef ZONELAB_BIN
#error "ZONELAB_BIN must name the zonelab binary"
#endif
#ifndef ZONE_DEMO_BIN
#error "ZONE_DEMO_BIN must name the zone-demo binary"
#endif
#ifndef ZL_ACK_BIN
#error "ZL_ACK_BIN must name the zl_ack binary"
#endif

#define WAIT_S 120 /* at most this long for the deliveries after the last push */

extern char **environ;

typedef struct buf {
    char *p;
    size_t n;
} buf;

typedef struct run {
    unsigned port;
    pid_t pid;
    char dir[64];
} run;

static double mono_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t collect(char *p, size_t s, size_t n, void *ud)
{
    buf *b = ud;
    char *np = realloc(b->p, b->n + s * n + 1);

    if (!np)
        return 0;
    memcpy(np + b->n, p, s * n);
    b->p = np;
    b->n += s * n;
    b->p[b->n] = '\0';
    return s * n;
}

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
    (void)p, (void)ud;
    return s * n;
}

/* One request to the emulator on c; the reply as JSON (owned) or NULL. */
static cJSON *call(CURL *c, unsigned port, const char *path, const char *body)
{
    char url[512];
    buf b = {0};
    cJSON *j = NULL;

    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    else
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(c) == CURLE_OK && b.p)
        j = cJSON_Parse(b.p);
    free(b.p);
    return j;
}

/* Starts zonelab serve with program (a shell command) as zone-demo's; fills r, 0 or -1. */
static int start(run *r, char *program)
{
    char line[512], errlog[128];
    /* The pushes outrun the deliveries: the queue's cap (delivery_queue_max, 1000) lifted, so
     * that none is refused while the events wait their turn. */
    char *argv[] = {ZONELAB_BIN, "serve", "--port", "0", "--set", "delivery_queue_max=10000000",
                    "--program", program, NULL};
    posix_spawn_file_actions_t fa;
    int fds[2];
    FILE *f;

    snprintf(errlog, sizeof errlog, "%s/serve.err", r->dir);
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    errno = posix_spawn(&r->pid, ZONELAB_BIN, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (errno) {
        close(fds[0]);
        return -1;
    }
    f = fdopen(fds[0], "r");
    r->port = 0;
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "zonelab: listening on http://127.0.0.1:%u", &r->port);
        if (!strcmp(line, "zonelab: ready\n"))
            break;
    }
    if (f && fork() == 0) { /* drain the rest of its output */
        while (fgets(line, sizeof line, f))
            ;
        _exit(0);
    }
    if (f)
        fclose(f);
    return r->port ? 0 : -1;
}

/* CPU time (user + system) of process pid so far, in seconds; 0 when it cannot be read. */
static double cpu_s(pid_t pid)
{
    char path[64];
    unsigned long long ut = 0, st = 0;
    FILE *f;
    int ok;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (!(f = fopen(path, "r")))
        return 0;
    /* after "(comm)", which may hold spaces: state and 10 fields, then utime and stime */
    ok = fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                &st) == 2;
    fclose(f);
    return ok ? (double)(ut + st) / (double)sysconf(_SC_CLK_TCK) : 0;
}

/* CPU time of the processes zonelab serve started (its programs), in seconds. */
static double children_cpu_s(pid_t pid)
{
    char path[64];
    double sum = 0;
    int child;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    if (!(f = fopen(path, "r")))
        return 0;
    while (fscanf(f, "%d", &child) == 1)
        sum += cpu_s((pid_t)child);
    fclose(f);
    return sum;
}

#define EVENT_TEXT_MAX 160 /* one event's JSON below, at most */

/* Writes the body of a POST /_zonelab/events with the events from *next on (batch of them,
 * or fewer when n comes first; with batch 1, the single form "event") into body. */
static void events_body(char *body, size_t cap, unsigned *next, unsigned n, unsigned batch)
{
    size_t len = 0;
    unsigned k;

    if (batch == 1) {
        snprintf(body, cap,
                 "{\"event\":{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                 "\"conversation_new_message\":{\"token\":\"tk_bench_%u\"}}}",
                 (*next)++);
        return;
    }
    len += (size_t)snprintf(body + len, cap - len, "{\"events\":[");
    for (k = 0; k < batch && *next < n; k++)
        len += (size_t)snprintf(body + len, cap - len,
                                "%s{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                                "\"conversation_new_message\":{\"token\":\"tk_bench_%u\"}}",
                                k ? "," : "", (*next)++);
    snprintf(body + len, cap - len, "]}");
}

/* Pushes n events through POST /_zonelab/events, batch to a request, in_flight requests at a
 * time on kept-alive connections. The number of events pushed with a 200. */
static unsigned push(unsigned port, unsigned n, unsigned in_flight, unsigned batch)
{
    CURLM *m = curl_multi_init();
    CURL **h = calloc(in_flight, sizeof *h);
    size_t cap = (size_t)batch * EVENT_TEXT_MAX + 64;
    char *bodies = calloc(in_flight, cap), url[128];
    unsigned *count = calloc(in_flight, sizeof *count); /* events in each handle's request */
    unsigned sent = 0, ok = 0, running_n = 0, i, before;
    int running = 0, left;
    CURLMsg *msg;
    struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");

    if (!m || !h || !bodies || !count || !json)
        goto out;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/_zonelab/events", port);
    for (i = 0; i < in_flight && sent < n; i++) {
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, json); /* the control face takes JSON */
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h[i], CURLOPT_PRIVATE, (char *)(uintptr_t)i);
        before = sent;
        events_body(bodies + i * cap, cap, &sent, n, batch);
        count[i] = sent - before;
        curl_easy_setopt(h[i], CURLOPT_POSTFIELDS, bodies + i * cap);
        curl_multi_add_handle(m, h[i]);
        running_n++;
    }
    while (running_n) {
        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left))) {
            CURL *e = msg->easy_handle;
            char *slot;
            long code = 0;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &slot);
            i = (unsigned)(uintptr_t)slot;
            if (msg->data.result == CURLE_OK && code == 200)
                ok += count[i];
            curl_multi_remove_handle(m, e);
            running_n--;
            if (sent < n) {
                before = sent;
                events_body(bodies + i * cap, cap, &sent, n, batch);
                count[i] = sent - before;
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, bodies + i * cap);
                curl_multi_add_handle(m, e);
                running_n++;
            }
        }
        if (running_n)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
out:
    for (i = 0; h && i < in_flight; i++)
        if (h[i])
            curl_easy_cleanup(h[i]);
    free(h);
    free(bodies);
    free(count);
    curl_slist_free_all(json);
    if (m)
        curl_multi_cleanup(m);
    return ok;
}

/* Reads the journal after *since, adding its event_result entries to *done and those with
 * an errcode to *failed. 0, or -1 when it cannot, or when the journal dropped entries before
 * they were read (its cap, 200000 entries: fewer events a run). */
static int count_results(CURL *c, unsigned port, double *since, unsigned *done, unsigned *failed)
{
    char path[128];
    cJSON *j, *e;
    const cJSON *seq;

    snprintf(path, sizeof path, "/_zonelab/journal?since=%.0f&limit=100000", *since);
    if (!(j = call(c, port, path, NULL)))
        return -1;
    e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "entries"), 0);
    seq = cJSON_GetObjectItemCaseSensitive(e, "seq");
    if (*since > 0 && cJSON_IsNumber(seq) && seq->valuedouble > *since + 1) {
        fprintf(stderr,
                "ev_bench: the journal dropped entries %.0f to %.0f before they were read (its "
                "cap): run fewer events\n",
                *since + 1, seq->valuedouble - 1);
        cJSON_Delete(j);
        return -1;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "entries"))
    {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(e, "kind");
        const cJSON *errcode = cJSON_GetObjectItemCaseSensitive(e, "errcode");

        if (cJSON_IsNumber(seq = cJSON_GetObjectItemCaseSensitive(e, "seq")))
            *since = seq->valuedouble; /* a page may end before "last" ("more") */
        if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "event_result") != 0)
            continue;
        (*done)++;
        if (!cJSON_IsNumber(errcode) || errcode->valuedouble != 0) {
            if (!*failed) { /* the first says why */
                char *text = cJSON_PrintUnformatted(e);

                fprintf(stderr, "ev_bench: the first event_result with an errcode: %.600s\n",
                        text ? text : "?");
                cJSON_free(text);
            }
            (*failed)++;
        }
    }
    cJSON_Delete(j);
    return 0;
}

/* One run: n events through zone-demo (demo) or zl_ack; prints the figure. 0 or -1. */
static int bench(const char *label, int demo, unsigned n, unsigned in_flight, unsigned batch)
{
    run r = {0};
    char program[1024], path[256], rm[128];
    CURL *c = NULL;
    cJSON *j;
    const cJSON *tok;
    double t0, t1, since = 0, emu0, prog0, emu1, prog1;
    unsigned pushed, done = 0, failed = 0;
    int status, rc = -1;

    snprintf(r.dir, sizeof r.dir, "/tmp/ev_bench_XXXXXX");
    if (!mkdtemp(r.dir))
        return -1;
    if (demo)
        snprintf(program, sizeof program,
                 "exec '%s' --data-dir '%s/data' --retention 3600 2>/dev/null", ZONE_DEMO_BIN,
                 r.dir);
    else
        snprintf(program, sizeof program, "exec '%s'", ZL_ACK_BIN);
    if (start(&r, program) != 0 || !(c = curl_easy_init())) {
        fprintf(stderr, "ev_bench: cannot start zonelab serve with %s (see below)\n", label);
        snprintf(rm, sizeof rm, "tail -n 20 '%s/serve.err' >&2", r.dir);
        if (system(rm) != 0)
            fprintf(stderr, "ev_bench: no log\n");
        goto out;
    }
    j = call(c, r.port,
             "/cgi-bin/gettoken?corpid=wwzonelab0000001&corpsecret=zonelab-demo-secret-1000002",
             NULL);
    tok = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    if (!cJSON_IsString(tok)) {
        fprintf(stderr, "ev_bench: gettoken failed\n");
        cJSON_Delete(j);
        goto out;
    }
    snprintf(path, sizeof path, "/cgi-bin/chatdata/set_receive_callback?access_token=%s",
             tok->valuestring);
    cJSON_Delete(j);
    cJSON_Delete(call(c, r.port, path, "{\"program_id\":\"zone-demo\"}"));
    count_results(c, r.port, &since, &done, &failed); /* skip what came before */
    done = failed = 0;

    emu0 = cpu_s(r.pid);
    prog0 = children_cpu_s(r.pid);
    t0 = mono_s();
    pushed = push(r.port, n, in_flight, batch);
    t1 = mono_s();
    while (done < pushed && mono_s() - t1 < WAIT_S) {
        if (count_results(c, r.port, &since, &done, &failed) != 0)
            break;
        if (done < pushed)
            usleep(5000);
    }
    t1 = mono_s();
    emu1 = cpu_s(r.pid);
    prog1 = children_cpu_s(r.pid);
    printf("%-34s %6u of %u events in %6.2f s: %8.0f events/s (%.3f ms each)%s\n", label, done, n,
           t1 - t0, done / (t1 - t0), (t1 - t0) * 1000 / (done ? done : 1),
           failed ? " WITH FAILURES" : "");
    /* CPU, far less noisy than the rate on a shared machine; the emulator's includes the
     * journal reads that count the results */
    printf("  CPU per event: emulator %.1f us, program %.1f us\n",
           (emu1 - emu0) * 1e6 / (done ? done : 1), (prog1 - prog0) * 1e6 / (done ? done : 1));
    if (failed)
        printf("  %u event_result entries had an errcode\n", failed);
    fflush(stdout);
    rc = done == n && !failed ? 0 : -1;
out:
    if (c)
        curl_easy_cleanup(c);
    if (r.pid > 0) {
        kill(r.pid, SIGTERM);
        waitpid(r.pid, &status, 0);
    }
    snprintf(rm, sizeof rm, "rm -rf '%s'", r.dir);
    if (system(rm) != 0)
        rc = -1;
    return rc;
}

static int number_arg(const char *s, unsigned *out)
{
    char *end;
    unsigned long v;

    if (!s || *s < '0' || *s > '9')
        return -1;
    v = strtoul(s, &end, 10);
    if (*end || v == 0 || v > 1000000)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned demo_n = 2000, ack_n = 20000, in_flight = 16, batch = 100;
    int i, rc = 0;

    for (i = 1; i < argc; i += 2) {
        unsigned *dst = !strcmp(argv[i], "--events")       ? &demo_n
                        : !strcmp(argv[i], "--ack-events") ? &ack_n
                        : !strcmp(argv[i], "--in-flight")  ? &in_flight
                        : !strcmp(argv[i], "--batch")      ? &batch
                                                           : NULL;

        if (!dst || number_arg(i + 1 < argc ? argv[i + 1] : NULL, dst) != 0) {
            fprintf(stderr, "usage: ev_bench [--events N] [--ack-events N] [--in-flight N] "
                            "[--batch N]\n"
                            "  --events N      through zone-demo (default 2000)\n"
                            "  --ack-events N  through zl_ack, the trivial program (default "
                            "20000)\n"
                            "  --in-flight N   pushes in flight at once (default 16)\n"
                            "  --batch N       events in each push (default 100; 1..1000)\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (batch > 1000) {
        fprintf(stderr, "ev_bench: --batch is 1..1000, what one POST /_zonelab/events takes\n");
        return 2;
    }
    printf("events end to end (POST /_zonelab/events, %u event%s a push, %u pushes in flight, "
           "until the journal holds each event_result):\n",
           batch, batch == 1 ? "" : "s", in_flight);
    rc |= bench("zone-demo (stored, fsync, notified)", 1, demo_n, in_flight, batch);
    rc |= bench("zl_ack (answers at once, no fsync)", 0, ack_n, in_flight, batch);
    curl_global_cleanup();
    return rc ? 1 : 0;
}
