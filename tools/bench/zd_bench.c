/* zd_bench: how many events per second zone-demo stores durably and notifies, end to end
 * under zonelab serve, and how fast its store alone writes (fsync) events. Prints figures;
 * asserts nothing. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

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
    char *argv[] = {ZONELAB_BIN, "serve",      "--port", "0", "--program",
                    cmd,         "--replicas", reps,     NULL};
    posix_spawn_file_actions_t fa;
    int fds[2];
    pid_t pid;
    FILE *f;

    snprintf(cmd, sizeof cmd, "exec '%s' --data-dir '%s' --retention 3600 2>/dev/null",
             ZONE_DEMO_BIN, dir);
    snprintf(reps, sizeof reps, "%u", replicas);
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    errno = posix_spawn(&pid, ZONELAB_BIN, &fa, NULL, argv, environ);
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

static int bench_end_to_end(unsigned n, unsigned replicas)
{
    char dir[] = "/tmp/zd_bench_XXXXXX", path[256], body[256], rm[300];
    CURL *c;
    cJSON *j;
    pid_t pid;
    double t0, t1, last = 0;
    unsigned i;
    int status;

    if (!mkdtemp(dir) || (pid = start(dir, replicas)) < 0 || !(c = curl_easy_init())) {
        fprintf(stderr, "zd_bench: cannot start zonelab serve with zone-demo\n");
        return -1;
    }
    j = call(c, "GET",
             "/cgi-bin/gettoken?corpid=wwzonelab0000001&corpsecret=zonelab-demo-secret-1000002",
             NULL);
    snprintf(path, sizeof path, "/cgi-bin/chatdata/set_receive_callback?access_token=%s",
             cJSON_GetObjectItem(j, "access_token")->valuestring);
    cJSON_Delete(j);
    cJSON_Delete(call(c, "POST", path, "{\"program_id\":\"zone-demo\"}"));
    t0 = mono_s();
    for (i = 0; i < n; i++) {
        snprintf(body, sizeof body,
                 "{\"event\":{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                 "\"conversation_new_message\":{\"token\":\"tk_bench_%u\"}}}",
                 i);
        cJSON_Delete(call(c, "POST", "/_zonelab/events", body));
    }
    while (last < n && mono_s() - t0 < 600) {
        j = call(c, "GET", "/_zonelab/app/notifications?since=0", NULL);
        last = number(j, "last");
        cJSON_Delete(j);
        if (last < n)
            usleep(2000);
    }
    t1 = mono_s();
    printf("events stored and notified end to end, %u replica(s): %.0f of %u in %.2f s: "
           "%.0f events/s (%.2f ms each)\n",
           replicas, last, n, t1 - t0, last / (t1 - t0), (t1 - t0) * 1000 / (last > 0 ? last : 1));
    fflush(stdout);
    curl_easy_cleanup(c);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    return system(rm) == 0 && last >= n ? 0 : -1;
}

static int bench_store(unsigned n)
{
    char dir[] = "/tmp/zd_store_XXXXXX", err[256], id[40], rm[300];
    zd_store *s;
    double t0, t1;
    unsigned i;

    if (!mkdtemp(dir) || !(s = zd_store_open(dir, err, sizeof err)))
        return -1;
    t0 = mono_s();
    for (i = 0; i < n; i++) {
        snprintf(id, sizeof id, "bench%08u", i);
        if (zd_store_put(s, id, "wwzonelab0000001", 1000002,
                         "{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                         "\"conversation_new_message\":{\"token\":\"tk_0123456789abcdef\"}}",
                         1, err, sizeof err) != 0 ||
            zd_store_mark_notified(s, id) != 0) {
            fprintf(stderr, "zd_bench: %s\n", err);
            break;
        }
    }
    t1 = mono_s();
    printf("store alone (write, fsync, rename, fsync folder; then the rename to notified): "
           "%u in %.2f s: %.0f events/s\n",
           i, t1 - t0, i / (t1 - t0));
    zd_store_close(s);
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    return system(rm) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    unsigned n = 1000;
    int rc = 0;

    if (argc == 3 && !strcmp(argv[1], "--events"))
        n = (unsigned)strtoul(argv[2], NULL, 10);
    else if (argc != 1) {
        fprintf(stderr, "usage: zd_bench [--events N]   (default 1000)\n");
        return 2;
    }
    if (n == 0 || n > 1000000) {
        fprintf(stderr, "zd_bench: --events must be 1..1000000\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    json_type = curl_slist_append(NULL, "Content-Type: application/json");
    rc |= bench_store(n);
    rc |= bench_end_to_end(n, 1);
    rc |= bench_end_to_end(n, 2);
    curl_slist_free_all(json_type);
    curl_global_cleanup();
    return rc ? 1 : 0;
}
