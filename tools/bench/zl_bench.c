/* zl_bench: zonelab's benchmark figures (docs/benchmarks.md); it prints them, never asserts. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include <curl/curl.h>

#include "core/engine.h"
#include "emu/emu.h"
#include "faces/server.h"
#include "wecom/msgsync.h"
#include "wecom/world.h"
#include "zone_sdk.h"

#ifndef ZONELAB_BIN
#error "ZONELAB_BIN must name the zonelab binary"
#endif

extern char **environ;

#define CLOCK_START 1793808000LL /* 2026-11-05 00:00 UTC+8, as in the default world */
#define SPAN_S      (4 * 86400)  /* messages spread over 4 days before CLOCK_START */
#define SYNC_LIMIT  1000
#define ITEM_SAMPLE 20000 /* messages whose sync_msg item is built alone, to price it */

/* The default world's corp, app, program (one ability), members and key, without messages. */
#define WORLD_HEAD                                                                                 \
    "{\"clock_start\":1793808000,\"corps\":[{\"corpid\":\"wwzonelab0000001\","                     \
    "\"name\":\"zonelab demo corp\","                                                              \
    "\"apps\":[{\"agentid\":1000002,\"name\":\"zonelab demo app\","                                \
    "\"secret\":\"zonelab-demo-secret-1000002\",\"callback_url\":\"\","                            \
    "\"token\":\"zonelabtoken\","                                                                  \
    "\"encoding_aes_key\":\"zonelabDemoAesKey0123456789abcdefghijKLMNOP\","                        \
    "\"data_permission\":true}],"                                                                  \
    "\"programs\":[{\"program_id\":\"zone-demo\",\"role\":\"program\",\"agentids\":[1000002],"     \
    "\"replicas\":1,\"abilities\":[{\"ability_id\":\"invoke_sync_msg\","                           \
    "\"input_protocol\":{\"cursor\":\"\",\"limit\":0,\"token\":\"\",\"mode\":0,"                   \
    "\"begin_time\":0},"                                                                           \
    "\"output_protocol\":{\"errcode\":0,\"errmsg\":\"\",\"has_more\":0,\"next_cursor\":\"\"}}]}]," \
    "\"members\":[{\"userid\":\"zhangsan\",\"name\":\"Zhang San\"},"                               \
    "{\"userid\":\"lisi\",\"name\":\"Li Si\"},{\"userid\":\"wangwu\",\"name\":\"Wang Wu\"}],"      \
    "\"public_keys\":[{\"version\":1,\"pem\":\"-----BEGIN PUBLIC KEY-----\\n"                      \
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnbIzjdQIJp04rI9Z+cdz\\n"                          \
    "1mVnm5bK1+CY4Z5zfcO4OPSDW98SCosWEDxUX55k3O5qeSlTgBVbufeM8cMk23DN\\n"                          \
    "6Pz7/4NkwhFIoYPTWdnim20RMgRVg2tedijMGp2xKgKX4PGaxtBgdWddqdQQS21b\\n"                          \
    "/cfIS8gNj8MZ3gUBHmga9HG7t1H7uckOtJ63ewmrHamV4J9rYDMyw+Ol9pvoD1Ml\\n"                          \
    "V9B76PGwV3yGTygFh+CGEeHGIX6hjj7eM/jd2oGqgfpPDIoW84ClmnwRxeBXK3E5\\n"                          \
    "76Qfgq3eszcd2pPoU6pijkIChnGo9dnwT5pCgvpnr7V573Fa/4Qv9Vj4xN4Rhe1x\\n"                          \
    "MwIDAQAB\\n-----END PUBLIC KEY-----\\n\"}]"

static const char *const members[] = {"zhangsan", "lisi", "wangwu"};

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* VmRSS of this process in kB, or -1. */
static long vmrss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* CPU seconds the process has used, all threads (user + system). */
static double cpu_process_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of one thread (its clock from pthread_getcpuclockid), or 0. */
static double cpu_thread_s(clockid_t clock)
{
    struct timespec ts;

    if (clock_gettime(clock, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU used during one walk of sync_msg: the caller's thread (the fake SDK and the client's
 * parse), the engine's loop thread (the emulator answering), and the rest of the process
 * (the workers that make missing encrypted keys). Wall time lies under load; CPU less so. */
typedef struct cpu_split {
    double sdk, loop, total;
} cpu_split;

static void cpu_mark(cpu_split *c, clockid_t loop)
{
    c->sdk = cpu_thread_s(CLOCK_THREAD_CPUTIME_ID);
    c->loop = cpu_thread_s(loop);
    c->total = cpu_process_s();
}

/* Prints the CPU between a and b per page of SYNC_LIMIT messages. */
static void cpu_print(const cpu_split *a, const cpu_split *b, size_t msgs)
{
    double pages = (double)msgs / SYNC_LIMIT, sdk = b->sdk - a->sdk, loop = b->loop - a->loop,
           total = b->total - a->total;

    if (pages <= 0)
        return;
    printf("  CPU per page of %d: %.2f ms (emulator's loop thread %.2f, SDK and client parse "
           "%.2f, key workers %.2f)\n",
           SYNC_LIMIT, total * 1000.0 / pages, loop * 1000.0 / pages, sdk * 1000.0 / pages,
           (total - sdk - loop) * 1000.0 / pages);
}

/* Message i of n: send time, msgid, sender and receiver (all members in scope). */
static int64_t msg_time(size_t i, size_t n)
{
    return CLOCK_START - SPAN_S + (int64_t)((double)i * SPAN_S / (double)n);
}

/* ---- 1. ready time: exec of `zonelab serve --port 0` to a 200 from GET /_zonelab/state ---- */

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

static long get_state(unsigned port)
{
    CURL *c = curl_easy_init();
    char url[64], errbuf[CURL_ERROR_SIZE];
    long status = 0;

    if (!c)
        return 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/_zonelab/state", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

/*
 * Starts zonelab serve (with --world world when not NULL), reads the port from its banner,
 * polls the state route until 200. Fills the milliseconds from exec to the banner line and
 * to the 200. Returns 0, or -1 with a message on stderr.
 */
static int ready_once(const char *world, double *banner_ms, double *ready_ms)
{
    char wpath[512] = "";
    char *argv[] = {ZONELAB_BIN, "serve", "--port", "0", "--world", wpath, NULL};
    posix_spawn_file_actions_t fa;
    int fds[2], status, rc = -1;
    pid_t pid = 0;
    FILE *f = NULL;
    char line[512] = "";
    unsigned port = 0;
    long http = 0;
    double t0, deadline;

    if (world)
        snprintf(wpath, sizeof wpath, "%s", world);
    else
        argv[4] = NULL;
    if (pipe(fds) != 0) {
        perror("zl_bench: pipe");
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    t0 = mono_s();
    errno = posix_spawn(&pid, ZONELAB_BIN, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (errno != 0) {
        perror("zl_bench: posix_spawn " ZONELAB_BIN);
        pid = 0;
        close(fds[0]);
        goto out;
    }
    if (!(f = fdopen(fds[0], "r"))) {
        close(fds[0]);
        goto out;
    }
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "zonelab: listening on http://127.0.0.1:%u", &port) == 1)
            break;
    if (!port) {
        fprintf(stderr, "zl_bench: zonelab serve printed no port; last line: %s", line);
        goto out;
    }
    *banner_ms = (mono_s() - t0) * 1000.0;
    for (deadline = t0 + 60.0; (http = get_state(port)) != 200 && mono_s() < deadline;)
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    if (http != 200) {
        fprintf(stderr, "zl_bench: GET /_zonelab/state on port %u gave %ld\n", port, http);
        goto out;
    }
    *ready_ms = (mono_s() - t0) * 1000.0;
    rc = 0;
out:
    if (pid > 0) {
        kill(pid, SIGTERM);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (f)
        fclose(f);
    return rc;
}

static double median(const double *v, int n)
{
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static int bench_ready(int runs, const char *world, const char *label)
{
    double *banner = calloc((size_t)runs, sizeof *banner);
    double *ready = calloc((size_t)runs, sizeof *ready);
    int i, rc = -1;

    if (!banner || !ready)
        goto out;
    for (i = 0; i < runs; i++)
        if (ready_once(world, &banner[i], &ready[i]) != 0)
            goto out;
    qsort(banner, (size_t)runs, sizeof *banner, cmp_double);
    qsort(ready, (size_t)runs, sizeof *ready, cmp_double);
    printf("ready time, %s, %d runs (ms):\n", label, runs);
    printf("  exec -> banner line   min %8.1f  median %8.1f  max %8.1f\n", banner[0],
           median(banner, runs), banner[runs - 1]);
    printf("  exec -> state 200     min %8.1f  median %8.1f  max %8.1f\n", ready[0],
           median(ready, runs), ready[runs - 1]);
    rc = 0;
out:
    free(banner);
    free(ready);
    return rc;
}

/* A world file: WORLD_HEAD with n messages (as fill_store makes them). Returns 0 or -1. */
static int write_world(FILE *f, size_t n)
{
    size_t i;

    fputs(WORLD_HEAD ",\"messages\":[\n", f);
    for (i = 0; i < n; i++)
        fprintf(f,
                "%s{\"msgid\":\"bench_%07zu\",\"send_time\":%lld,\"msgtype\":1,"
                "\"sender\":{\"type\":1,\"id\":\"%s\"},\"receivers\":[{\"type\":1,\"id\":\"%s\"}],"
                "\"content\":{\"content\":\"benchmark message %zu\"}}\n",
                i ? "," : "", i, (long long)msg_time(i, n), members[i % 3], members[(i + 1) % 3],
                i);
    fputs("]}]}\n", f);
    return ferror(f) ? -1 : 0;
}

static int bench_ready_big(int runs, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    char path[512], label[96];
    FILE *f;
    int fd, rc = -1;
    double t0 = mono_s();

    snprintf(path, sizeof path, "%s/zl_bench_world_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if ((fd = mkstemp(path)) < 0) {
        perror("zl_bench: mkstemp");
        return -1;
    }
    if (!(f = fdopen(fd, "w"))) {
        close(fd);
        goto out;
    }
    rc = write_world(f, n);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "zl_bench: cannot write %s\n", path);
        rc = -1;
        goto out;
    }
    printf("(world file of %zu messages written in %.1f s)\n", n, mono_s() - t0);
    snprintf(label, sizeof label, "--world with %zu messages, first start", n);
    rc = bench_ready(1, path, label);
    snprintf(label, sizeof label, "--world with %zu messages, next starts (its cache)", n);
    if (rc == 0)
        rc = bench_ready(runs, path, label);
out:
    unlink(path);
    if (strlen(path) + sizeof ".zlcache" <= sizeof path) /* docs/world.md, "Big worlds" */
        unlink(strcat(path, ".zlcache"));
    return rc;
}

/* ---- 2. sync_msg throughput and 3. memory per archived message ---- */

/* Appends n messages to c's archive; returns 0 or -1 with a message on stderr. */
static int fill_store(zl_corp *c, size_t n)
{
    char msgid[32], content[64], err[256];
    size_t i;

    for (i = 0; i < n; i++) {
        zl_party to = {.type = ZL_PARTY_EMPLOYEE, .id = members[(i + 1) % 3]};
        zl_message_in m = {.msgid = msgid,
                           .sender = {.type = ZL_PARTY_EMPLOYEE, .id = members[i % 3]},
                           .receivers = &to,
                           .receiver_count = 1,
                           .send_time = msg_time(i, n),
                           .msgtype = 1,
                           .content = content};

        snprintf(msgid, sizeof msgid, "bench_%07zu", i);
        snprintf(content, sizeof content, "{\"content\":\"benchmark message %zu\"}", i);
        if (zl_msgstore_append(c->messages, &m, err, sizeof err) != 0) {
            fprintf(stderr, "zl_bench: append %zu: %s\n", i, err);
            return -1;
        }
    }
    return 0;
}

static void *loop_main(void *ud)
{
    zl_engine_run(ud);
    return NULL;
}

/* Microseconds to build one sync_msg item (RSA encryption included), over a sample. */
static double item_cost_us(zl_corp *c, zl_keyring *ring, size_t n)
{
    size_t i, k = n < ITEM_SAMPLE ? n : ITEM_SAMPLE;
    char err[200];
    double t0 = mono_s();

    for (i = 0; i < k; i++) {
        cJSON *item = zl_sync_item(c, i * (n / k), ring, err, sizeof err);

        if (!item) {
            fprintf(stderr, "zl_bench: zl_sync_item: %s\n", err);
            return -1.0;
        }
        cJSON_Delete(item);
    }
    return k ? (mono_s() - t0) * 1e6 / (double)k : 0.0;
}

/* Pages through sync_msg with the SDK; fills the totals. Returns 0 or -1. */
static int drive_sync(const char *token, size_t n, size_t *msgs, size_t *calls, size_t *bytes,
                      double *t_parse)
{
    zone_sdk *s = zone_sdk_new("wwzonelab0000001", 1000002, "invoke_sync_msg", "");
    char req[256], cursor[ZL_CURSOR_MAX + 1] = "", errbuf[ZONE_ERRBUF_SIZE];
    size_t max_calls = n / SYNC_LIMIT + 10;
    int more = 1, rc = -1;

    if (!s)
        return -1;
    while (more && *calls < max_calls) {
        char *resp = NULL;
        cJSON *r, *ec, *nc;
        double t0;
        int code;

        if (*cursor)
            snprintf(req, sizeof req, "{\"limit\":%d,\"token\":\"%s\",\"cursor\":\"%s\"}",
                     SYNC_LIMIT, token, cursor);
        else
            snprintf(req, sizeof req, "{\"limit\":%d,\"token\":\"%s\"}", SYNC_LIMIT, token);
        code = zone_sdk_invoke(s, "sync_msg", req, &resp, errbuf, sizeof errbuf);
        ++*calls;
        if (code != ZONE_OK) {
            fprintf(stderr, "zl_bench: sync_msg call %zu: %d %s\n", *calls, code, errbuf);
            goto out;
        }
        t0 = mono_s();
        *bytes += strlen(resp);
        r = cJSON_Parse(resp);
        ec = cJSON_GetObjectItemCaseSensitive(r, "errcode");
        nc = cJSON_GetObjectItemCaseSensitive(r, "next_cursor");
        if (!cJSON_IsNumber(ec) || ec->valueint != 0 || !cJSON_IsString(nc) ||
            strlen(nc->valuestring) > ZL_CURSOR_MAX) {
            fprintf(stderr, "zl_bench: sync_msg call %zu answered %.200s\n", *calls, resp);
            cJSON_Delete(r);
            zone_string_free(resp);
            goto out;
        }
        *msgs += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "msg_list"));
        more = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "has_more")) &&
               cJSON_GetObjectItemCaseSensitive(r, "has_more")->valueint != 0;
        strcpy(cursor, nc->valuestring);
        cJSON_Delete(r);
        zone_string_free(resp);
        *t_parse += mono_s() - t0;
    }
    rc = 0;
out:
    zone_sdk_free(s);
    return rc;
}

/* The page walk: sync_msg in mode 1 lists up to 10 pages, which FETCHERS threads fetch at
 * once with get_msg_list_by_page_id (sdk-api.md: "the caller fetches pages concurrently"),
 * each thread with its own SDK object, parsing each reply as drive_sync does. */
#define FETCHERS 2

typedef struct fetcher {
    zone_sdk *sdk;
    char (*ids)[64]; /* the batch's page ids, shared */
    size_t nids;
    size_t *next; /* the next id to fetch, shared under lock */
    pthread_mutex_t *lock;
    size_t msgs, bytes, pages;
    int failed;
    pthread_t thread;
} fetcher;

static void *fetch_run(void *ud)
{
    fetcher *f = ud;
    char req[128], errbuf[ZONE_ERRBUF_SIZE];

    for (;;) {
        char *resp = NULL;
        cJSON *r, *ec;
        size_t k;
        int code;

        pthread_mutex_lock(f->lock);
        k = (*f->next)++;
        pthread_mutex_unlock(f->lock);
        if (k >= f->nids)
            break;
        snprintf(req, sizeof req, "{\"page_id\":\"%s\"}", f->ids[k]);
        code =
            zone_sdk_invoke(f->sdk, "get_msg_list_by_page_id", req, &resp, errbuf, sizeof errbuf);
        if (code != ZONE_OK) {
            fprintf(stderr, "zl_bench: get_msg_list_by_page_id: %d %s\n", code, errbuf);
            f->failed = 1;
            break;
        }
        f->bytes += strlen(resp);
        r = cJSON_Parse(resp);
        ec = cJSON_GetObjectItemCaseSensitive(r, "errcode");
        if (!cJSON_IsNumber(ec) || ec->valueint != 0) {
            fprintf(stderr, "zl_bench: get_msg_list_by_page_id answered %.200s\n", resp);
            f->failed = 1;
        } else {
            f->msgs += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "msg_list"));
            f->pages++;
        }
        cJSON_Delete(r);
        zone_string_free(resp);
        if (f->failed)
            break;
    }
    return NULL;
}

/* Walks the archive by pages (mode 1), FETCHERS pages in flight; fills the totals. Returns 0
 * or -1. */
static int drive_pages(const char *token, size_t n, size_t *msgs, size_t *pages, size_t *bytes)
{
    zone_sdk *s = zone_sdk_new("wwzonelab0000001", 1000002, "invoke_sync_msg", "");
    char req[256], cursor[ZL_CURSOR_MAX + 1] = "", errbuf[ZONE_ERRBUF_SIZE], ids[10][64];
    fetcher f[FETCHERS] = {0};
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    size_t calls = 0, max_calls = n / SYNC_LIMIT / 10 + 10, next, i;
    int more = 1, rc = -1;

    for (i = 0; i < FETCHERS; i++)
        if (!(f[i].sdk = zone_sdk_new("wwzonelab0000001", 1000002, "invoke_sync_msg", "")))
            goto out;
    if (!s)
        goto out;
    while (more && calls++ < max_calls) {
        char *resp = NULL;
        cJSON *r, *nc, *list, *id;
        size_t nids = 0;
        int code, started = 0;

        if (*cursor)
            snprintf(req, sizeof req,
                     "{\"limit\":%d,\"mode\":1,\"token\":\"%s\",\"cursor\":\"%s\"}", SYNC_LIMIT,
                     token, cursor);
        else
            snprintf(req, sizeof req, "{\"limit\":%d,\"mode\":1,\"token\":\"%s\"}", SYNC_LIMIT,
                     token);
        code = zone_sdk_invoke(s, "sync_msg", req, &resp, errbuf, sizeof errbuf);
        if (code != ZONE_OK) {
            fprintf(stderr, "zl_bench: sync_msg mode 1: %d %s\n", code, errbuf);
            goto out;
        }
        r = cJSON_Parse(resp);
        nc = cJSON_GetObjectItemCaseSensitive(r, "next_cursor");
        list = cJSON_GetObjectItemCaseSensitive(r, "page_id_list");
        if (!cJSON_IsString(nc) || strlen(nc->valuestring) > ZL_CURSOR_MAX ||
            !cJSON_IsArray(list)) {
            fprintf(stderr, "zl_bench: sync_msg mode 1 answered %.200s\n", resp);
            cJSON_Delete(r);
            zone_string_free(resp);
            goto out;
        }
        cJSON_ArrayForEach(id, list) if (cJSON_IsString(id) && nids < 10)
            snprintf(ids[nids++], sizeof ids[0], "%s", id->valuestring);
        more = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "has_more")) &&
               cJSON_GetObjectItemCaseSensitive(r, "has_more")->valueint != 0;
        strcpy(cursor, nc->valuestring);
        cJSON_Delete(r);
        zone_string_free(resp);
        next = 0;
        for (i = 0; i < FETCHERS; i++) {
            f[i].ids = ids;
            f[i].nids = nids;
            f[i].next = &next;
            f[i].lock = &lock;
            if (pthread_create(&f[i].thread, NULL, fetch_run, &f[i]) != 0)
                break;
            started++;
        }
        for (i = 0; i < (size_t)started; i++)
            pthread_join(f[i].thread, NULL);
        for (i = 0; i < FETCHERS; i++)
            if (f[i].failed || started < FETCHERS)
                goto out;
    }
    rc = 0;
out:
    for (i = 0; i < FETCHERS; i++) {
        *msgs += f[i].msgs;
        *pages += f[i].pages;
        *bytes += f[i].bytes;
        zone_sdk_free(f[i].sdk);
    }
    zone_sdk_free(s);
    return rc;
}

static int bench_sync(size_t n)
{
    static const char head[] = WORLD_HEAD "}]}";
    zl_server_config sc;
    zl_server *srv = NULL;
    zl_world *w = NULL;
    zl_engine *e = NULL;
    zl_emu *emu = NULL;
    zl_msgstore_stats st;
    zl_prog_rt *p;
    pthread_t loop;
    clockid_t loop_clock = CLOCK_THREAD_CPUTIME_ID;
    cpu_split c0, c1, c2, c3, c4, c5;
    bool running = false;
    char err[512], token[40], env[64];
    size_t msgs = 0, calls = 0, bytes = 0, msgs2, calls2, bytes2, kept = 0, kept_bytes = 0;
    size_t msgs3 = 0, pages3 = 0, bytes3 = 0;
    long rss0, rss1, rss2, rss3;
    double t0, t_fill, item_us, t_sync, t_parse = 0.0, t_sync2, t_parse2, t_sync3;
    int rc = -1;

    if (!(w = zl_world_load_json(head, sizeof head - 1, NULL, err, sizeof err))) {
        fprintf(stderr, "zl_bench: world: %s\n", err);
        return -1;
    }
    rss0 = vmrss_kb();
    t0 = mono_s();
    if (fill_store(&w->corps[0], n) != 0)
        goto out;
    t_fill = mono_s() - t0;
    rss1 = vmrss_kb();
    zl_msgstore_stats_get(w->corps[0].messages, &st);
    printf("\narchive of %zu messages (zl_msgstore_append, %.2f s, %.0f appends/s):\n", st.count,
           t_fill, (double)n / t_fill);
    printf("  VmRSS growth          %10.1f bytes/message (%ld -> %ld kB)\n",
           (double)(rss1 - rss0) * 1024.0 / (double)n, rss0, rss1);
    printf("  store bytes_total     %10.1f bytes/message (%zu bytes; strings %zu)\n",
           (double)st.bytes_total / (double)n, st.bytes_total, st.bytes_string);

    zl_server_config_default(&sc);
    sc.engine.seed = 1;
    sc.no_control = true;
    sc.opt.event_token_ttl_s = 86400;             /* the token must outlive a slow run */
    srv = zl_server_new(w, &sc, err, sizeof err); /* the default journal cap, as zonelab serve */
    w = NULL;                                     /* taken */
    if (!srv || zl_server_start(srv, err, sizeof err) != 0) {
        fprintf(stderr, "zl_bench: emulator: %s\n", err);
        goto out;
    }
    e = srv->engine;
    emu = srv->emu;
    w = srv->world;
    if (!zl_emu_new_event_token(emu, &emu->apps[0], token))
        goto out;
    if ((item_us = item_cost_us(&w->corps[0], emu->apps[0].keys, n)) < 0)
        goto out;
    p = &emu->progs[0];
    snprintf(env, sizeof env, "http://127.0.0.1:%u", zl_engine_port(e));
    setenv("ZONELAB_URL", env, 1);
    setenv("ZONELAB_SECRET", p->secret_b64, 1);
    snprintf(env, sizeof env, "%u", p->secret_ver);
    setenv("ZONELAB_SECRET_VER", env, 1);
    setenv("ZONELAB_INSTANCE", p->replicas[0].instance, 1);
    rss2 = vmrss_kb();
    /* From here on only the loop thread touches the engine, the emu and the world. */
    if (pthread_create(&loop, NULL, loop_main, e) != 0)
        goto out;
    running = true;
    if (pthread_getcpuclockid(loop, &loop_clock) != 0)
        goto out;
    cpu_mark(&c0, loop_clock);
    t0 = mono_s();
    if (drive_sync(token, n, &msgs, &calls, &bytes, &t_parse) != 0)
        goto out;
    t_sync = mono_s() - t0;
    cpu_mark(&c1, loop_clock);
    rss3 = vmrss_kb();
    printf("\nsync_msg through the fake SDK, limit %d, token, over %zu archived messages:\n",
           SYNC_LIMIT, n);
    printf("  messages %zu in %zu calls, %.2f s: %.0f messages/s (%.1f ms/call, %.1f MB of "
           "replies)\n",
           msgs, calls, t_sync, (double)msgs / t_sync, t_sync * 1000.0 / (double)calls,
           (double)bytes / 1e6);
    printf("  share: building items with RSA %.0f%% (%.1f us/item, measured alone), client JSON "
           "parse %.0f%%, the rest (wire, reply JSON, journal, HTTP) %.0f%%\n",
           item_us * (double)msgs / 1e6 / t_sync * 100.0, item_us, t_parse / t_sync * 100.0,
           100.0 - (item_us * (double)msgs / 1e6 + t_parse) / t_sync * 100.0);
    cpu_print(&c0, &c1, msgs);
    printf("  VmRSS growth during the sync %.0f MB (the journal keeps each exchange)\n",
           (double)(rss3 - rss2) / 1024.0);
    if (msgs != n)
        printf("  NOTE: expected %zu messages\n", n);
    /* The same messages again: each encrypted secret key was made once and kept. */
    msgs2 = calls2 = bytes2 = 0;
    t_parse2 = 0.0;
    cpu_mark(&c2, loop_clock);
    t0 = mono_s();
    if (drive_sync(token, n, &msgs2, &calls2, &bytes2, &t_parse2) != 0)
        goto out;
    t_sync2 = mono_s() - t0;
    cpu_mark(&c3, loop_clock);
    /* Once more by pages, FETCHERS in flight: what a program pulls when it uses both cores. */
    cpu_mark(&c4, loop_clock);
    t0 = mono_s();
    if (drive_pages(token, n, &msgs3, &pages3, &bytes3) != 0)
        goto out;
    t_sync3 = mono_s() - t0;
    cpu_mark(&c5, loop_clock);
    zl_engine_stop(e);
    pthread_join(loop, NULL);
    running = false;
    zl_keyring_kept(emu->apps[0].keys, &kept, &kept_bytes);
    printf("\nsync_msg again over the same messages (encrypted secret keys kept):\n");
    printf("  messages %zu in %zu calls, %.2f s: %.0f messages/s (%.1f ms/call, %.1f B/message "
           "of reply; client JSON parse %.0f%%)\n",
           msgs2, calls2, t_sync2, (double)msgs2 / t_sync2, t_sync2 * 1000.0 / (double)calls2,
           msgs2 ? (double)bytes2 / (double)msgs2 : 0.0, t_parse2 / t_sync2 * 100.0);
    cpu_print(&c2, &c3, msgs2);
    printf("\nsync_msg by pages (mode 1), %d get_msg_list_by_page_id in flight, keys kept:\n",
           FETCHERS);
    printf("  pages %zu, messages %zu, %.2f s: %.0f messages/s (%.1f B/message of reply)\n", pages3,
           msgs3, t_sync3, (double)msgs3 / t_sync3, msgs3 ? (double)bytes3 / (double)msgs3 : 0.0);
    if (msgs3)
        printf("  CPU per page of %d: %.2f ms (emulator's loop thread %.2f, the fetching threads' "
               "SDK and client parse %.2f)\n",
               SYNC_LIMIT, (c5.total - c4.total) * 1000.0 / ((double)msgs3 / SYNC_LIMIT),
               (c5.loop - c4.loop) * 1000.0 / ((double)msgs3 / SYNC_LIMIT),
               (c5.total - c4.total - (c5.loop - c4.loop)) * 1000.0 / ((double)msgs3 / SYNC_LIMIT));
    if (msgs3 != n)
        printf("  NOTE: expected %zu messages\n", n);
    printf("  memory per archived message after the syncs: %.1f bytes (store %.1f + kept "
           "encrypted keys %.1f, %zu kept)\n",
           ((double)st.bytes_total + (double)kept_bytes) / (double)n,
           (double)st.bytes_total / (double)n, (double)kept_bytes / (double)n, kept);
    rc = 0;
out:
    if (running) {
        zl_engine_stop(e);
        pthread_join(loop, NULL);
    }
    if (srv)
        zl_server_free(srv);
    else
        zl_world_free(w);
    return rc;
}

/* ---- main ---- */

static int parse_arg(const char *s, unsigned long long min, unsigned long long max,
                     unsigned long long *out)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno || *end || *out < min || *out > max ? -1 : 0;
}

static void usage(FILE *f)
{
    fputs(
        "usage: zl_bench [--messages N] [--ready-runs N] [--world-ready-runs N]\n"
        "  --messages N          archived messages for sync_msg and memory (default 1000000)\n"
        "  --ready-runs N        starts of `zonelab serve` with the built-in world (default 20)\n"
        "  --world-ready-runs N  starts with a world file of --messages messages after a first\n"
        "                        one, which caches a file of 16 MiB or more (default 3; 0 skips)\n",
        f);
}

int main(int argc, char **argv)
{
    unsigned long long n = 1000000, ready_runs = 20, big_runs = 3;
    int i, rc = 0;

    for (i = 1; i < argc; i += 2) { /* every option but --help takes a value */
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long *dst = !strcmp(a, "--messages")           ? &n
                                  : !strcmp(a, "--ready-runs")       ? &ready_runs
                                  : !strcmp(a, "--world-ready-runs") ? &big_runs
                                                                     : NULL;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!dst || parse_arg(val, dst == &n ? 1 : 0, dst == &n ? 100000000 : 1000, dst) != 0) {
            fprintf(stderr, "zl_bench: bad or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    printf("zl_bench: %s\n", ZONELAB_BIN);
    if (ready_runs && bench_ready((int)ready_runs, NULL, "built-in world") != 0)
        rc = 1;
    fflush(stdout);
    if (bench_sync((size_t)n) != 0)
        rc = 1;
    fflush(stdout);
    if (big_runs) {
        printf("\n");
        if (bench_ready_big((int)big_runs, (size_t)n) != 0)
            rc = 1;
    }
    curl_global_cleanup();
    return rc;
}
