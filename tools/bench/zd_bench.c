/* zd_bench: how many events per second zone-demo stores durably and notifies: end to end
 * under zonelab serve (the emulator delivering), with concurrent clients posting sealed
 * events straight to a replica (zone-demo's own rate), and its store alone, one writer and
 * concurrent writers. Prints figures; asserts nothing. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "wire.h"
#include "zd.h"

#ifndef ZONELAB_BIN
#error "ZONELAB_BIN must name the zonelab binary"
#endif
#ifndef ZONE_DEMO_BIN
#error "ZONE_DEMO_BIN must name the zone-demo binary"
#endif

extern char **environ;

static unsigned port;
static struct curl_slist *json_type; /* the Content-Type of a control face body */
static const char *zonelab_bin = ZONELAB_BIN, *zone_demo_bin = ZONE_DEMO_BIN;
static unsigned clients = 16; /* concurrent senders and store writers */
static unsigned demo_threads; /* zone-demo --threads; 0: its default */
#define MAX_SETS 8
static const char *sets[MAX_SETS]; /* zonelab serve --set NAME=VALUE */
static unsigned n_sets;

static double mono_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

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

/* One request to the emulator; the reply as JSON or NULL. */
static cJSON *call(CURL *c, const char *method, const char *path, const char *body)
{
    char url[512];
    buf b = {0};
    cJSON *j = NULL;

    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, body ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, body ? json_type : NULL);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(c) == CURLE_OK && b.p)
        j = cJSON_Parse(b.p);
    free(b.p);
    return j;
}

static double number(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Starts zonelab serve with zone-demo (replicas) on data dir; returns its pid. */
static pid_t start(const char *dir, unsigned replicas)
{
    char cmd[1024], reps[16], line[512];
    char *argv[10 + 2 * MAX_SETS] = {(char *)(uintptr_t)zonelab_bin,
                                     "serve",
                                     "--port",
                                     "0",
                                     "--program",
                                     cmd,
                                     "--replicas",
                                     reps};
    unsigned a = 8, i;
    char threads[32] = "";
    posix_spawn_file_actions_t fa;
    int fds[2];
    pid_t pid;
    FILE *f;

    if (demo_threads)
        snprintf(threads, sizeof threads, " --threads %u", demo_threads);
    snprintf(cmd, sizeof cmd, "exec '%s' --data-dir '%s' --retention 3600%s 2>/dev/null",
             zone_demo_bin, dir, threads);
    snprintf(reps, sizeof reps, "%u", replicas);
    for (i = 0; i < n_sets; i++) {
        argv[a++] = "--set";
        argv[a++] = (char *)(uintptr_t)sets[i];
    }
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    errno = posix_spawn(&pid, zonelab_bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (errno) {
        close(fds[0]);
        return -1;
    }
    f = fdopen(fds[0], "r");
    port = 0;
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "zonelab: listening on http://127.0.0.1:%u", &port);
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
    return port ? pid : -1;
}

/* As the app: zone-demo receives the app's events (set_receive_callback). */
static void receive_events(CURL *c)
{
    char path[256];
    cJSON *j = call(
        c, "GET",
        "/cgi-bin/gettoken?corpid=wwzonelab0000001&corpsecret=zonelab-demo-secret-1000002", NULL);

    snprintf(path, sizeof path, "/cgi-bin/chatdata/set_receive_callback?access_token=%s",
             cJSON_GetObjectItem(j, "access_token")->valuestring);
    cJSON_Delete(j);
    cJSON_Delete(call(c, "POST", path, "{\"program_id\":\"zone-demo\"}"));
}

/* The fake app's notifications so far (its inbox's last sequence number). */
static double notified(CURL *c)
{
    cJSON *j = call(c, "GET", "/_zonelab/app/notifications?since=0", NULL);
    double last = number(j, "last");

    cJSON_Delete(j);
    return last;
}

static void stop(pid_t pid, const char *dir)
{
    char rm[300];
    int status;

    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system(rm) != 0)
        fprintf(stderr, "zd_bench: cannot remove %s\n", dir);
}

/* A new folder for zone-demo's data under $TMPDIR (/tmp by default; the disk measured). */
static char *scratch(char *dir, size_t n)
{
    const char *t = getenv("TMPDIR");

    snprintf(dir, n, "%s/zd_bench_XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(dir);
}

/* zone-demo's --threads and zonelab's --set options, for the figures' lines. */
static const char *setup_text(void)
{
    static char t[600];
    size_t used;
    unsigned i;

    if (demo_threads)
        used = (size_t)snprintf(t, sizeof t, "--threads %u", demo_threads);
    else
        used = (size_t)snprintf(t, sizeof t, "its default --threads");
    for (i = 0; i < n_sets && used < sizeof t; i++)
        used += (size_t)snprintf(t + used, sizeof t - used, ", --set %s", sets[i]);
    return t;
}

static int bench_end_to_end(unsigned n, unsigned replicas)
{
    char dir[256], body[256];
    CURL *c;
    pid_t pid;
    double t0, t1, last = 0;
    unsigned i;

    if (!scratch(dir, sizeof dir) || (pid = start(dir, replicas)) < 0 || !(c = curl_easy_init())) {
        fprintf(stderr, "zd_bench: cannot start zonelab serve with zone-demo\n");
        return -1;
    }
    receive_events(c);
    t0 = mono_s();
    for (i = 0; i < n; i++) {
        snprintf(body, sizeof body,
                 "{\"event\":{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                 "\"conversation_new_message\":{\"token\":\"tk_bench_%u\"}}}",
                 i);
        cJSON_Delete(call(c, "POST", "/_zonelab/events", body));
    }
    while ((last = notified(c)) < n && mono_s() - t0 < 600)
        usleep(2000);
    t1 = mono_s();
    printf("events stored and notified end to end, %u replica(s), %s: %.0f of %u in %.2f s: "
           "%.0f events/s (%.2f ms each)\n",
           replicas, setup_text(), last, n, t1 - t0, last / (t1 - t0),
           (t1 - t0) * 1000 / (last > 0 ? last : 1));
    fflush(stdout);
    curl_easy_cleanup(c);
    stop(pid, dir);
    return last >= n ? 0 : -1;
}

/* Events sealed as the emulator seals them, posted by `clients` threads at once. */
typedef struct direct {
    unsigned port;
    unsigned n;
    char **bodies;
    zone_wire_sealed_headers *headers;
    atomic_uint next, acked;
} direct;

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
    (void)p, (void)ud;
    return s * n;
}

static void *direct_client(void *ud)
{
    direct *d = ud;
    CURL *c = curl_easy_init();
    char url[64];
    unsigned i;

    snprintf(url, sizeof url, "http://127.0.0.1:%u/", d->port);
    while (c && (i = atomic_fetch_add(&d->next, 1)) < d->n) {
        char hv[5][340];
        struct curl_slist *hdrs = NULL;
        struct curl_header *h;
        long status = 0;
        unsigned k;

        snprintf(hv[0], sizeof hv[0], "ww-secret-ver: %s", d->headers[i].secret_ver);
        snprintf(hv[1], sizeof hv[1], "ww-timestamp: %s", d->headers[i].timestamp);
        snprintf(hv[2], sizeof hv[2], "ww-nonce: %s", d->headers[i].nonce);
        snprintf(hv[3], sizeof hv[3], "ww-signature: %s", d->headers[i].signature);
        snprintf(hv[4], sizeof hv[4], "Content-Type: text/plain");
        for (k = 0; k < 5; k++)
            hdrs = curl_slist_append(hdrs, hv[k]);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->bodies[i]);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200 &&
            curl_easy_header(c, ZONE_WIRE_H_EXCEPTION, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
            atomic_fetch_add(&d->acked, 1);
        curl_slist_free_all(hdrs);
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* zone-demo's own rate: `clients` threads post sealed events straight to its replica (each
 * answered once it is stored durably and the app notified), the emulator only answering
 * spec_notify_app. */
static int bench_direct(unsigned n)
{
    char dir[256], req_id[17], event[200];
    direct d = {.n = n};
    zone_wire_keys keys;
    pthread_t *th = NULL;
    CURL *c = NULL;
    cJSON *st = NULL, *p, *prog = NULL;
    pid_t pid;
    double t0, t1, last;
    unsigned i, started = 0;
    int rc = -1;

    if (!scratch(dir, sizeof dir) || (pid = start(dir, 1)) < 0) {
        fprintf(stderr, "zd_bench: cannot start zonelab serve with zone-demo\n");
        return -1;
    }
    if (!(c = curl_easy_init()))
        goto out;
    receive_events(c);
    st = call(c, "GET", "/_zonelab/state", NULL);
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(st, "programs"))
    {
        const cJSON *id = cJSON_GetObjectItem(p, "program_id");

        if (cJSON_IsString(id) && !strcmp(id->valuestring, "zone-demo"))
            prog = p;
    }
    if (!prog || zone_wire_keys_init(&keys, cJSON_GetObjectItem(prog, "secret")->valuestring,
                                     (uint32_t)number(prog, "secret_ver")) != ZONE_WIRE_OK)
        goto out;
    d.port = (unsigned)number(cJSON_GetArrayItem(cJSON_GetObjectItem(prog, "replicas"), 0), "port");
    d.bodies = calloc(n, sizeof *d.bodies);
    d.headers = calloc(n, sizeof *d.headers);
    th = calloc(clients, sizeof *th);
    if (!d.bodies || !d.headers || !th)
        goto out;
    for (i = 0; i < n; i++) { /* sealed before the clock starts */
        zone_wire_callback cb = {.corpid = "wwzonelab0000001",
                                 .data = event,
                                 .job_info = "",
                                 .ability_id = "",
                                 .notify_id = "",
                                 .req_id = req_id,
                                 .agentid = 1000002,
                                 .call_type = 2};
        char *plain;

        snprintf(req_id, sizeof req_id, "%016x", i);
        snprintf(event, sizeof event,
                 "{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                 "\"conversation_new_message\":{\"token\":\"tk_bench_%u\"}}",
                 i);
        if (!(plain = zone_wire_callback_encode(&cb)))
            goto out;
        if (zone_wire_seal(&keys, NULL, "POST", ZONE_WIRE_CALLBACK_PATH, plain, strlen(plain),
                           &d.headers[i], &d.bodies[i]) != ZONE_WIRE_OK) {
            free(plain);
            goto out;
        }
        free(plain);
    }
    t0 = mono_s();
    for (started = 0; started < clients; started++)
        if (pthread_create(&th[started], NULL, direct_client, &d) != 0)
            break;
    for (i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    t1 = mono_s();
    while ((last = notified(c)) < atomic_load(&d.acked) && mono_s() - t1 < 60)
        usleep(2000); /* answered after the notify; the inbox may take a moment more */
    printf("events posted straight to zone-demo by %u clients, %s: %u of %u answered in "
           "%.2f s: %.0f events/s stored and notified (%.0f in the app's inbox)\n",
           started, setup_text(), atomic_load(&d.acked), n, t1 - t0,
           atomic_load(&d.acked) / (t1 - t0), last);
    fflush(stdout);
    rc = atomic_load(&d.acked) == n && last >= n ? 0 : -1;
out:
    if (rc != 0 && !started)
        fprintf(stderr, "zd_bench: cannot seal events for zone-demo\n");
    for (i = 0; d.bodies && i < n; i++)
        free(d.bodies[i]);
    free(d.bodies);
    free(d.headers);
    free(th);
    cJSON_Delete(st);
    curl_easy_cleanup(c);
    stop(pid, dir);
    return rc;
}

typedef struct store_writer {
    zd_store *s;
    unsigned first, n, done;
} store_writer;

static void *store_write(void *ud)
{
    store_writer *w = ud;
    char id[40], err[256] = "";

    for (; w->done < w->n; w->done++) {
        snprintf(id, sizeof id, "bench%08u", w->first + w->done);
        if (zd_store_put(w->s, id, "wwzonelab0000001", 1000002,
                         "{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                         "\"conversation_new_message\":{\"token\":\"tk_0123456789abcdef\"}}",
                         1, err, sizeof err) != 0 ||
            zd_store_mark_notified(w->s, id) != 0) {
            fprintf(stderr, "zd_bench: %s\n", err);
            break;
        }
    }
    return NULL;
}

/* The store alone: n events by `writers` threads, each stored then marked notified. */
static int bench_store(unsigned n, unsigned writers)
{
    char dir[256], err[256], rm[300];
    store_writer *w = calloc(writers, sizeof *w);
    pthread_t *th = calloc(writers, sizeof *th);
    zd_store_counts k;
    zd_store *s = NULL;
    double t0, t1;
    unsigned i, done = 0, started;

    if (!w || !th || !scratch(dir, sizeof dir) || !(s = zd_store_open(dir, err, sizeof err))) {
        free(w);
        free(th);
        return -1;
    }
    t0 = mono_s();
    for (started = 0; started < writers; started++) {
        w[started] =
            (store_writer){.s = s,
                           .first = n / writers * started,
                           .n = started + 1 == writers ? n - n / writers * started : n / writers};
        if (pthread_create(&th[started], NULL, store_write, &w[started]) != 0)
            break;
    }
    for (i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        done += w[i].done;
    }
    t1 = mono_s();
    zd_store_counts_get(s, &k);
    printf("store alone, %u writer(s) (each event appended to the log and synced; then its "
           "mark, appended and synced): %u in %.2f s: %.0f events/s; %llu data syncs in %llu "
           "commits\n",
           started, done, t1 - t0, done / (t1 - t0), (unsigned long long)k.data_syncs,
           (unsigned long long)k.batches);
    zd_store_close(s);
    free(w);
    free(th);
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    return system(rm) == 0 && done == n ? 0 : -1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: zd_bench [--events N] [--clients C] [--threads T] [--only WHAT]\n"
            "                [--set NAME=VALUE]... [--zonelab PATH] [--zone-demo PATH]\n"
            "  --events N        events per figure (default 1000, at most 1000000)\n"
            "  --clients C       concurrent senders and store writers (default 16)\n"
            "  --threads T       zone-demo's --threads (default: its own default)\n"
            "  --only WHAT       store, direct or e2e (default: all three)\n"
            "  --set NAME=VALUE  an option for zonelab serve (up to 8)\n"
            "  --zonelab PATH, --zone-demo PATH   the binaries to measure (another build's)\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned n = 1000;
    const char *only = "";
    int rc = 0, i;

    for (i = 1; i < argc; i += 2) { /* each option and its value */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v)
            return usage();
        if (!strcmp(argv[i], "--events"))
            n = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(argv[i], "--clients"))
            clients = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(argv[i], "--threads"))
            demo_threads = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(argv[i], "--only"))
            only = v;
        else if (!strcmp(argv[i], "--set") && n_sets < MAX_SETS)
            sets[n_sets++] = v;
        else if (!strcmp(argv[i], "--zonelab"))
            zonelab_bin = v;
        else if (!strcmp(argv[i], "--zone-demo"))
            zone_demo_bin = v;
        else
            return usage();
    }
    if (n == 0 || n > 1000000 || clients == 0 || clients > 1024 || demo_threads > 1024 ||
        (*only && strcmp(only, "store") && strcmp(only, "direct") && strcmp(only, "e2e"))) {
        fprintf(stderr, "zd_bench: --events must be 1..1000000, --clients 1..1024, --threads "
                        "at most 1024, --only store, direct or e2e\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    json_type = curl_slist_append(NULL, "Content-Type: application/json");
    if (!*only || !strcmp(only, "store")) {
        rc |= bench_store(n, 1);
        rc |= bench_store(n, clients);
    }
    if (!*only || !strcmp(only, "direct"))
        rc |= bench_direct(n);
    if (!*only || !strcmp(only, "e2e")) {
        rc |= bench_end_to_end(n, 1);
        rc |= bench_end_to_end(n, 2);
    }
    curl_slist_free_all(json_type);
    curl_global_cleanup();
    return rc ? 1 : 0;
}
