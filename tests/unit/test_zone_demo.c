/* test_zone_demo: zone-demo's core (config, store, message keys, dispatch, the digest's
 * sentiment pass) against a scripted fake SDK and a fake clock. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "zd.h"

#define T0         1700000000 /* the fake clock's start */
#define SAMPLE_ERR 710660
#define KEYS       ZL_SOURCE_DIR "/fixtures/keys/"

/* ---- fake clock and sleep ---- */

static atomic_llong fake_now = T0;

static int64_t clock_now(void)
{
    return (int64_t)atomic_load(&fake_now);
}

static void clock_set(int64_t t)
{
    atomic_store(&fake_now, (long long)t);
}

/* The monotonic clock moves only when the code under test sleeps. */
static atomic_llong fake_mono = 0;

static int64_t mono_now(void)
{
    return (int64_t)atomic_load(&fake_mono);
}

static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned sleeps[64];
static size_t n_sleeps;

static void record_sleep(unsigned ms)
{
    pthread_mutex_lock(&sleep_lock);
    if (n_sleeps < sizeof sleeps / sizeof *sleeps)
        sleeps[n_sleeps] = ms;
    n_sleeps++;
    atomic_fetch_add(&fake_mono, (long long)ms);
    pthread_mutex_unlock(&sleep_lock);
}

static void sleeps_reset(void)
{
    pthread_mutex_lock(&sleep_lock);
    n_sleeps = 0;
    atomic_store(&fake_mono, 0);
    pthread_mutex_unlock(&sleep_lock);
}

/* ---- the fake SDK ---- */

#define MAX_CALLS 64
#define MAX_STEPS 32
#define MAX_IDS   8

/* One invoke as the fake saw it. */
typedef struct call_rec {
    char api[64];
    char *request;
    char corpid[130];
    uint32_t agentid;
    char ability_id[130];
    char job_info[130];
    bool event_stored; /* spec_notify_app: the store held <notify_id>, not notified */
} call_rec;

/* One scripted answer: the next invoke of api returns rc and (when rc is 0) response. */
typedef struct step {
    const char *api;
    int rc;
    const char *response;
    bool used;
} step;

typedef struct fake_sdk {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    zd_store **store; /* the fixture's store, to look for the stored event */
    step script[MAX_STEPS];
    size_t n_script;
    call_rec calls[MAX_CALLS];
    size_t n_calls;
    const char *ids[MAX_IDS]; /* notify ids to hand out, then nid<N> */
    size_t n_ids, next_id;
    bool null_id;         /* notify_id answers NULL */
    const char *hold_api; /* invokes of this api wait while hold is true */
    bool hold;
    bool hold_first;  /* only the first invoke of hold_api waits */
    unsigned entered; /* invokes that reached the hold */
} fake_sdk;

static void fake_script(fake_sdk *k, const char *api, int rc, const char *response)
{
    pthread_mutex_lock(&k->lock);
    if (k->n_script < MAX_STEPS)
        k->script[k->n_script++] = (step){.api = api, .rc = rc, .response = response};
    pthread_mutex_unlock(&k->lock);
}

static bool stored_pending(zd_store *store, const char *request)
{
    cJSON *j = cJSON_Parse(request);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "notify_id");
    bool found = cJSON_IsString(id) && zd_store_state(store, id->valuestring) == 1;

    cJSON_Delete(j);
    return found;
}

static int fake_invoke(void *ud, const zd_ctx *ctx, const char *api, const char *request,
                       char **response, char *err, size_t errlen)
{
    fake_sdk *k = ud;
    int rc = 0;
    const char *answer = "{\"errcode\":0,\"errmsg\":\"ok\"}";
    size_t i;

    *response = NULL;
    pthread_mutex_lock(&k->lock);
    if (k->n_calls < MAX_CALLS) {
        call_rec *c = &k->calls[k->n_calls];

        snprintf(c->api, sizeof c->api, "%s", api);
        c->request = strdup(request ? request : "(null)");
        snprintf(c->corpid, sizeof c->corpid, "%s", ctx->corpid ? ctx->corpid : "(null)");
        c->agentid = ctx->agentid;
        snprintf(c->ability_id, sizeof c->ability_id, "%s",
                 ctx->ability_id ? ctx->ability_id : "(null)");
        snprintf(c->job_info, sizeof c->job_info, "%s", ctx->job_info ? ctx->job_info : "(null)");
        if (!strcmp(api, "spec_notify_app"))
            c->event_stored = stored_pending(*k->store, request);
    }
    k->n_calls++;
    pthread_cond_broadcast(&k->cond);
    for (i = 0; i < k->n_script; i++)
        if (!k->script[i].used && !strcmp(k->script[i].api, api)) {
            k->script[i].used = true;
            rc = k->script[i].rc;
            if (k->script[i].response)
                answer = k->script[i].response;
            break;
        }
    if (k->hold_api && !strcmp(k->hold_api, api) && !(k->hold_first && k->entered > 0)) {
        k->entered++;
        pthread_cond_broadcast(&k->cond);
        while (k->hold)
            pthread_cond_wait(&k->cond, &k->lock);
    }
    pthread_mutex_unlock(&k->lock);
    if (rc != 0) {
        snprintf(err, errlen, "fake SDK failure %d", rc);
        return rc;
    }
    *response = strdup(answer);
    return 0;
}

static char *fake_notify_id(void *ud)
{
    fake_sdk *k = ud;
    char buf[32];
    char *id;

    pthread_mutex_lock(&k->lock);
    if (k->null_id) {
        id = NULL;
    } else if (k->next_id < k->n_ids) {
        id = strdup(k->ids[k->next_id++]);
    } else {
        snprintf(buf, sizeof buf, "nid%zu", k->next_id++);
        id = strdup(buf);
    }
    pthread_mutex_unlock(&k->lock);
    return id;
}

/* Waits (10 s at most, real time) until pred(k) holds; the lock is held while it is tested. */
static bool fake_wait(fake_sdk *k, bool (*pred)(const fake_sdk *k, size_t arg), size_t arg)
{
    struct timespec deadline;
    bool ok;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&k->lock);
    while (!(ok = pred(k, arg)))
        if (pthread_cond_timedwait(&k->cond, &k->lock, &deadline) == ETIMEDOUT) {
            ok = pred(k, arg);
            break;
        }
    pthread_mutex_unlock(&k->lock);
    return ok;
}

static bool entered_at_least(const fake_sdk *k, size_t n)
{
    return k->entered >= n;
}

static bool calls_at_least(const fake_sdk *k, size_t n)
{
    return k->n_calls >= n;
}

static void fake_release(fake_sdk *k)
{
    pthread_mutex_lock(&k->lock);
    k->hold = false;
    pthread_cond_broadcast(&k->cond);
    pthread_mutex_unlock(&k->lock);
}

/* ---- the fixture ---- */

typedef struct fx {
    char dir[64];
    zd_config cfg;
    zd_store *store;
    fake_sdk sdk;
    zd_sdk seam;
    zd_app *app;
} fx;

static int remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char sub[1024];

    if (!d)
        return remove(path);
    while ((e = readdir(d))) {
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
    return rmdir(path);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    char err[256] = "";

    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/test_zone_demo.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    f->cfg = (zd_config){.port = 8080,
                         .threads = 4,
                         .queue = 64,
                         .async_workers = 2,
                         .async_queue = 256,
                         .max_body = 1u << 20,
                         .retention_s = 1200,
                         .cleanup_every_s = 30,
                         .notify_scene = 1,
                         .notify_tries = 5,
                         .notify_backoff_ms = 100,
                         .shutdown_grace_s = 10,
                         .model_wait_ms = 3000};
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s", f->dir);
    f->store = zd_store_open(f->dir, err, sizeof err);
    if (!f->store) {
        fprintf(stderr, "zd_store_open: %s\n", err);
        remove_tree(f->dir);
        free(f);
        return -1;
    }
    pthread_mutex_init(&f->sdk.lock, NULL);
    pthread_cond_init(&f->sdk.cond, NULL);
    f->sdk.store = &f->store;
    f->seam = (zd_sdk){.invoke = fake_invoke, .notify_id = fake_notify_id, .ud = &f->sdk};
    clock_set(T0);
    sleeps_reset();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    size_t i;

    fake_release(&f->sdk);
    zd_app_free(f->app);
    zd_store_close(f->store);
    for (i = 0; i < f->sdk.n_calls && i < MAX_CALLS; i++)
        free(f->sdk.calls[i].request);
    pthread_mutex_destroy(&f->sdk.lock);
    pthread_cond_destroy(&f->sdk.cond);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* Starts the app on the fixture's config, store and fake (after the test tuned them). */
static zd_app *app_start(fx *f)
{
    zd_clock clock = {.now = clock_now, .mono_ms = mono_now, .sleep_ms = record_sleep};

    f->app = zd_app_new(&f->cfg, f->store, &f->seam, &clock);
    assert_non_null(f->app);
    return f->app;
}

/* Stops the app, which first waits for its async calls. */
static void app_stop(fx *f)
{
    zd_app_free(f->app);
    f->app = NULL;
}

/* ---- helpers ---- */

static char *handle(fx *f, uint32_t call_type, const char *ability, const char *notify_id,
                    const char *data)
{
    zd_request rq = {.call_type = call_type,
                     .corpid = "wwcorp1",
                     .agentid = 1000002,
                     .ability_id = ability,
                     .notify_id = notify_id,
                     .job_info = "",
                     .data = data};
    char *out = zd_handle(f->app, &rq);

    assert_non_null(out);
    return out;
}

static char *event(fx *f, const char *data)
{
    return handle(f, 2, "", "", data);
}

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);

    if (!j)
        fail_msg("not JSON: %s", text);
    return j;
}

static int json_int(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

    if (!cJSON_IsNumber(v))
        fail_msg("no number '%s'", key);
    return v->valueint;
}

static const char *json_str(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

    if (!cJSON_IsString(v))
        fail_msg("no string '%s'", key);
    return v->valuestring;
}

/* Asserts text is {"errcode":code,"errmsg":<non-empty, containing has if given>}. */
static void assert_error(const char *text, int code, const char *has)
{
    cJSON *j = parse(text);
    const char *msg = json_str(j, "errmsg");

    assert_int_equal(json_int(j, "errcode"), code);
    assert_true(strlen(msg) > 0);
    if (has && !strstr(msg, has))
        fail_msg("errmsg '%s' does not say '%s'", msg, has);
    cJSON_Delete(j);
}

static bool exists(const fx *f, const char *rel)
{
    char path[800];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    return stat(path, &st) == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in f->dir/rel (hidden ones too), sorted and joined with ','. */
static void listing(const fx *f, const char *rel, char *out, size_t n)
{
    char path[800], *names[64];
    size_t count = 0, i, used = 0;
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d)) && count < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[count++] = strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof *names, cmp_names);
    out[0] = '\0';
    for (i = 0; i < count; i++) {
        used +=
            (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s", i ? "," : "", names[i]);
        free(names[i]);
    }
}

typedef struct held {
    char *names[64];
    size_t count;
} held;

static void on_held(const char *id, int state, void *ud)
{
    held *h = ud;
    char name[80];

    snprintf(name, sizeof name, "%s.%s", id, state == 2 ? "event" : "pending");
    if (h->count < 64)
        h->names[h->count++] = strdup(name);
}

/* The events the store holds, "<id>.pending" or "<id>.event", sorted and joined with ','. */
static void events_held(const fx *f, char *out, size_t n)
{
    held h = {.count = 0};
    size_t i, used = 0;

    zd_store_each(f->store, on_held, &h);
    qsort(h.names, h.count, sizeof *h.names, cmp_names);
    out[0] = '\0';
    for (i = 0; i < h.count; i++) {
        used +=
            (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s", i ? "," : "", h.names[i]);
        free(h.names[i]);
    }
}

/* Whether the events folder holds nothing but log segments ("<n>-<n>-<n>.log"), how many. */
static size_t only_segments(const fx *f)
{
    char names[2048], *p, *save = NULL;
    size_t count = 0;

    listing(f, "events", names, sizeof names);
    for (p = strtok_r(names, ",", &save); p; p = strtok_r(NULL, ",", &save), count++)
        if (strlen(p) < 9 || strcmp(p + strlen(p) - 4, ".log") != 0 || p[0] == '.')
            fail_msg("not a log segment in the events folder: %s", p);
    return count;
}

static void write_raw(const fx *f, const char *rel, const char *text)
{
    char path[800];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void put(fx *f, const char *id, const char *corpid, uint32_t agentid, const char *data,
                int64_t at)
{
    char err[256] = "";

    if (zd_store_put(f->store, id, corpid, agentid, data, at, err, sizeof err) != 0)
        fail_msg("put %s: %s", id, err);
}

/* The digest's count for msgtype t, or for sender (type, id); 0 when absent. */
static int count_type(const cJSON *digest, int t)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(digest, "by_msgtype"))
    {
        if (json_int(e, "msgtype") == t)
            return json_int(e, "count");
    }
    return 0;
}

static int count_sender(const cJSON *digest, int type, const char *id)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(digest, "by_sender"))
    {
        if (json_int(e, "type") == type && !strcmp(json_str(e, "id"), id))
            return json_int(e, "count");
    }
    return 0;
}

/* ---- config ---- */

static const char *const ENV_VARS[] = {
    "PORT",
    "ZONELAB_PORT",
    "ZONE_DEMO_THREADS",
    "ZONE_DEMO_QUEUE",
    "ZONE_DEMO_IDLE_TIMEOUT",
    "ZONE_DEMO_ASYNC_WORKERS",
    "ZONE_DEMO_ASYNC_QUEUE",
    "ZONE_DEMO_RETENTION",
    "ZONE_DEMO_CLEANUP_EVERY",
    "ZONE_DEMO_NOTIFY_SCENE",
    "ZONE_DEMO_NOTIFY_TRIES",
    "ZONE_DEMO_NOTIFY_BACKOFF_MS",
    "ZONE_DEMO_SHUTDOWN_GRACE",
    "ZONE_DEMO_DATA_DIR",
    "ZONE_DEMO_MAX_BODY",
    "ZONE_DEMO_PRIVATE_KEY",
    "ZONE_DEMO_MODEL_WAIT_MS",
};

static void env_clear(void)
{
    size_t i;

    for (i = 0; i < sizeof ENV_VARS / sizeof *ENV_VARS; i++)
        unsetenv(ENV_VARS[i]);
}

/* zd_config_load on argv (NULL-terminated); out and err land in the buffers given. */
static int load(zd_config *c, char **argv, char **out, char **err)
{
    size_t on = 0, en = 0;
    FILE *o, *e;
    int argc = 0, rc;

    while (argv[argc])
        argc++;
    *out = *err = NULL;
    o = open_memstream(out, &on);
    e = open_memstream(err, &en);
    assert_non_null(o);
    assert_non_null(e);
    rc = zd_config_load(c, argc, argv, o, e);
    fclose(o);
    fclose(e);
    return rc;
}

static void test_zone_demo_config_defaults(void **state)
{
    char *argv[] = {"zone-demo", NULL}, *out, *err;
    zd_config c;

    (void)state;
    env_clear();
    memset(&c, 0xab, sizeof c);
    assert_int_equal(load(&c, argv, &out, &err), 0);
    assert_string_equal(out, "");
    assert_string_equal(err, "");
    assert_int_equal(c.port, 8080);
    assert_int_equal(c.threads, 4);
    assert_int_equal(c.queue, 512);
    assert_int_equal(c.idle_timeout_s, 10);
    assert_int_equal(c.async_workers, 2);
    assert_int_equal(c.async_queue, 256);
    assert_int_equal(c.max_body, 1u << 20);
    assert_string_equal(c.data_dir, "zone-demo-data");
    assert_int_equal(c.retention_s, 1200);
    assert_int_equal(c.cleanup_every_s, 30);
    assert_int_equal(c.notify_scene, 1);
    assert_int_equal(c.notify_tries, 5);
    assert_int_equal(c.notify_backoff_ms, 100);
    assert_int_equal(c.shutdown_grace_s, 10);
    assert_string_equal(c.private_key, ""); /* no key: the digest's sentiment is refused */
    assert_int_equal(c.model_wait_ms, 3000);
    free(out);
    free(err);
}

static void test_zone_demo_config_flags_override_env(void **state)
{
    char *argv[] = {"zone-demo",
                    "--threads",
                    "3",
                    "--data-dir",
                    "/flag/dir",
                    "--port",
                    "7000",
                    "--queue",
                    "9",
                    "--max-body",
                    "4096",
                    "--notify-scene",
                    "0",
                    "--private-key",
                    "/flag/key.pem",
                    "--model-wait-ms",
                    "0",
                    NULL};
    char *out, *err;
    zd_config c;

    (void)state;
    env_clear();
    setenv("ZONE_DEMO_THREADS", "8", 1);
    setenv("ZONE_DEMO_DATA_DIR", "/env/dir", 1);
    setenv("ZONELAB_PORT", "9000", 1);
    setenv("ZONE_DEMO_MAX_BODY", "2048", 1);
    setenv("ZONE_DEMO_RETENTION", "600", 1);         /* no flag: the environment's value */
    setenv("ZONE_DEMO_NOTIFY_BACKOFF_MS", "250", 1); /* likewise */
    setenv("ZONE_DEMO_NOTIFY_SCENE", "7", 1);
    setenv("ZONE_DEMO_PRIVATE_KEY", "/env/key.pem", 1);
    setenv("ZONE_DEMO_MODEL_WAIT_MS", "1500", 1);
    assert_int_equal(load(&c, argv, &out, &err), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.threads, 3);
    assert_string_equal(c.data_dir, "/flag/dir");
    assert_int_equal(c.port, 7000);
    assert_int_equal(c.queue, 9);
    assert_int_equal(c.max_body, 4096);
    assert_int_equal(c.notify_scene, 0);
    assert_int_equal(c.retention_s, 600);
    assert_int_equal(c.notify_backoff_ms, 250);
    assert_int_equal(c.async_workers, 2); /* neither: the default */
    assert_string_equal(c.private_key, "/flag/key.pem");
    assert_int_equal(c.model_wait_ms, 0); /* 0 is allowed: create the tasks, poll once */
    free(out);
    free(err);

    {
        char *none[] = {"zone-demo", NULL};

        assert_int_equal(load(&c, none, &out, &err), 0); /* the environment alone */
        assert_int_equal(c.threads, 8);
        assert_string_equal(c.data_dir, "/env/dir");
        assert_int_equal(c.port, 9000);
        assert_int_equal(c.max_body, 2048);
        assert_int_equal(c.notify_scene, 7);
        assert_string_equal(c.private_key, "/env/key.pem");
        assert_int_equal(c.model_wait_ms, 1500);
        free(out);
        free(err);
    }
    env_clear();
}

static void test_zone_demo_config_help(void **state)
{
    static const char *const flags[] = {"--port",
                                        "--threads",
                                        "--queue",
                                        "--async-workers",
                                        "--async-queue",
                                        "--retention",
                                        "--cleanup-every",
                                        "--notify-scene",
                                        "--notify-tries",
                                        "--notify-backoff-ms",
                                        "--shutdown-grace",
                                        "--data-dir",
                                        "--max-body",
                                        "ZONELAB_PORT",
                                        "ZONE_DEMO_DATA_DIR",
                                        "--private-key",
                                        "ZONE_DEMO_PRIVATE_KEY",
                                        "--model-wait-ms",
                                        "ZONE_DEMO_MODEL_WAIT_MS",
                                        "echo_input"};
    char *argv[] = {"zone-demo", "--port", "7000", "--help", NULL};
    char *argv_h[] = {"zone-demo", "-h", NULL};
    char *out, *err;
    zd_config c;
    size_t i;

    (void)state;
    env_clear();
    assert_int_equal(load(&c, argv, &out, &err), 1);
    assert_non_null(strstr(out, "usage"));
    for (i = 0; i < sizeof flags / sizeof *flags; i++)
        if (!strstr(out, flags[i]))
            fail_msg("--help does not mention %s", flags[i]);
    assert_string_equal(err, "");
    free(out);
    free(err);
    assert_int_equal(load(&c, argv_h, &out, &err), 1);
    assert_non_null(strstr(out, "--retention"));
    free(out);
    free(err);
}

static void test_zone_demo_config_bad_values(void **state)
{
    static const char *const bad[][3] = {
        {"--port", "0", NULL},
        {"--port", "65536", NULL},
        {"--retention", "5", NULL},
        {"--bogus", "1", NULL},
        {"--port", NULL, NULL},
        {"--threads", "abc", NULL},
        {"--threads", "-1", NULL},
        {"--queue", "12x", NULL},
        {"--data-dir", NULL, NULL},
        {"--max-body", "10", NULL},
        {"--notify-tries", "0", NULL},
        {"--port", "", NULL},
        {"--private-key", NULL, NULL},
        {"--private-key", "", NULL},
        {"--model-wait-ms", "600001", NULL},
        {"--model-wait-ms", "-1", NULL},
    };
    char *out, *err;
    zd_config c;
    size_t i;

    (void)state;
    env_clear();
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *argv[4] = {"zone-demo", NULL, NULL, NULL};
        char flag[32], val[32];

        snprintf(flag, sizeof flag, "%s", bad[i][0]);
        argv[1] = flag;
        if (bad[i][1]) {
            snprintf(val, sizeof val, "%s", bad[i][1]);
            argv[2] = val;
        }
        if (load(&c, argv, &out, &err) != -1)
            fail_msg("%s %s was accepted", bad[i][0], bad[i][1] ? bad[i][1] : "(missing)");
        if (!strstr(err, bad[i][0]))
            fail_msg("the message for %s does not name it: '%s'", bad[i][0], err);
        free(out);
        free(err);
    }
    {
        char *argv[] = {"zone-demo", NULL};

        setenv("ZONE_DEMO_THREADS", "0", 1); /* a bad environment value is refused too */
        assert_int_equal(load(&c, argv, &out, &err), -1);
        assert_non_null(strstr(err, "ZONE_DEMO_THREADS"));
        free(out);
        free(err);
    }
    env_clear();
}

static void test_zone_demo_config_port_precedence(void **state)
{
    char *argv[] = {"zone-demo", NULL}, *flag[] = {"zone-demo", "--port", "7003", NULL};
    char *out, *err;
    zd_config c;

    (void)state;
    env_clear();
    setenv("PORT", "7001", 1);
    assert_int_equal(load(&c, argv, &out, &err), 0);
    assert_int_equal(c.port, 7001);
    free(out);
    free(err);
    setenv("ZONELAB_PORT", "7002", 1);
    assert_int_equal(load(&c, argv, &out, &err), 0);
    assert_int_equal(c.port, 7002);
    free(out);
    free(err);
    assert_int_equal(load(&c, flag, &out, &err), 0);
    assert_int_equal(c.port, 7003);
    free(out);
    free(err);
    env_clear();
    setenv("PORT", "http", 1); /* a bad $PORT is an error, like every other bad setting */
    assert_int_equal(load(&c, argv, &out, &err), -1);
    assert_non_null(strstr(err, "$PORT"));
    free(out);
    free(err);
    env_clear();
}

/* ---- store ---- */

static void test_zone_demo_store_notify_id_ok(void **state)
{
    char id[80];

    (void)state;
    assert_false(zd_notify_id_ok(NULL));
    assert_false(zd_notify_id_ok(""));
    assert_false(zd_notify_id_ok("../x"));
    assert_false(zd_notify_id_ok("a/b"));
    assert_false(zd_notify_id_ok("."));
    assert_false(zd_notify_id_ok(".."));
    assert_false(zd_notify_id_ok("a b"));
    assert_false(zd_notify_id_ok("a.pending"));
    memset(id, 'a', 65);
    id[65] = '\0';
    assert_false(zd_notify_id_ok(id));
    id[64] = '\0';
    assert_true(zd_notify_id_ok(id));
    assert_true(zd_notify_id_ok("x"));
    assert_true(
        zd_notify_id_ok("0123456789_abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
}

/* A reader of an event being marked notified by another thread: stored and not expired, it
 * is found on every read (issue 19: zd_store_get looked for .event, then .pending, and a
 * rename between the two answered "no event"). */
typedef struct mark_race {
    zd_store *store;
    atomic_int current; /* the id the writer works on, -1 before the first */
    atomic_bool done;
    atomic_int reads, missing;
} mark_race;

static void *race_reader(void *ud)
{
    mark_race *r = ud;

    while (!atomic_load(&r->done)) {
        int k = atomic_load(&r->current);
        char id[32], *got = NULL;

        if (k < 0)
            continue;
        snprintf(id, sizeof id, "race%d", k);
        if (zd_store_get(r->store, id, T0, 1200, &got) == 1)
            atomic_fetch_add(&r->missing, 1);
        free(got);
        atomic_fetch_add(&r->reads, 1);
    }
    return NULL;
}

static void test_zone_demo_store_get_while_marked(void **state)
{
    fx *f = *state;
    mark_race r = {.store = f->store};
    pthread_t reader;
    char id[32], err[256];
    int k;

    atomic_init(&r.current, -1);
    assert_int_equal(pthread_create(&reader, NULL, race_reader, &r), 0);
    for (k = 0; k < 300; k++) {
        snprintf(id, sizeof id, "race%d", k);
        assert_int_equal(zd_store_put(f->store, id, "wwcorp1", 1000002, "{}", T0, err, sizeof err),
                         0);
        atomic_store(&r.current, k);
        while (atomic_load(&r.reads) < 3 * (k + 1)) /* the reader is at it before the rename */
            ;
        assert_int_equal(zd_store_mark_notified(f->store, id), 0);
    }
    atomic_store(&r.done, true);
    pthread_join(reader, NULL);
    assert_int_equal(atomic_load(&r.missing), 0);
}

/* Group commit: what is stored while a commit runs waits for the next commit, which takes
 * all of it with one sync of the data and one fsync of the folder. The first commit is held
 * in the store's seam until the others are queued, so no timing decides the batches. */
typedef struct commit_hold {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool hold; /* the first commit waits while true */
    unsigned commits;
    size_t sizes[8];
} commit_hold;

static void hold_first_commit(void *ud, size_t n)
{
    commit_hold *h = ud;

    pthread_mutex_lock(&h->lock);
    if (h->commits < 8)
        h->sizes[h->commits] = n;
    h->commits++;
    pthread_cond_broadcast(&h->cond);
    while (h->hold && h->commits == 1)
        pthread_cond_wait(&h->cond, &h->lock);
    pthread_mutex_unlock(&h->lock);
}

typedef struct store_op {
    zd_store *store;
    char id[16];
    bool mark; /* zd_store_mark_notified, else zd_store_put */
    int rc;
} store_op;

static void *run_store_op(void *ud)
{
    store_op *o = ud;
    char err[256] = "";

    o->rc = o->mark ? zd_store_mark_notified(o->store, o->id)
                    : zd_store_put(o->store, o->id, "wwcorp1", 1000002, "{}", T0, err, sizeof err);
    return NULL;
}

#define QUEUED 8

static void test_zone_demo_store_group_commit(void **state)
{
    fx *f = *state;
    commit_hold h = {
        .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .hold = true};
    store_op ops[QUEUED + 2];
    pthread_t th[QUEUED + 2];
    zd_store_counts before, after;
    char names[512], *got = NULL;
    size_t i;

    put(f, "m0", "wwcorp1", 1000002, "{}", T0); /* committed alone, to be marked below */
    zd_store_counts_get(f->store, &before);
    assert_int_equal(before.batches, 1);
    assert_int_equal(before.data_syncs, 1);
    assert_int_equal(before.segments, 1);
    zd_store_on_commit(f->store, hold_first_commit, &h);
    for (i = 0; i < QUEUED + 2; i++) {
        ops[i] = (store_op){.store = f->store, .mark = i == QUEUED + 1};
        snprintf(ops[i].id, sizeof ops[i].id, "%s", i == QUEUED + 1 ? "m0" : "g");
        if (i <= QUEUED)
            snprintf(ops[i].id, sizeof ops[i].id, "g%zu", i);
    }
    assert_int_equal(pthread_create(&th[0], NULL, run_store_op, &ops[0]), 0);
    pthread_mutex_lock(&h.lock);
    while (h.commits < 1) /* g0 is committing, held */
        pthread_cond_wait(&h.cond, &h.lock);
    pthread_mutex_unlock(&h.lock);
    for (i = 1; i < QUEUED + 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run_store_op, &ops[i]), 0);
    do { /* until the other puts and the mark wait for the next commit */
        sched_yield();
        zd_store_counts_get(f->store, &after);
    } while (after.waiting < QUEUED + 1);
    pthread_mutex_lock(&h.lock);
    h.hold = false;
    pthread_cond_broadcast(&h.cond);
    pthread_mutex_unlock(&h.lock);
    for (i = 0; i < QUEUED + 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ops[i].rc, 0);
    }
    zd_store_on_commit(f->store, NULL, NULL);

    assert_int_equal(h.commits, 2);
    assert_int_equal(h.sizes[0], 1);
    assert_int_equal(h.sizes[1], QUEUED + 1); /* 8 puts and the mark, together */
    zd_store_counts_get(f->store, &after);
    assert_int_equal(after.batches - before.batches, 2);
    assert_int_equal(after.data_syncs - before.data_syncs, 2); /* one segment, one sync each */
    assert_int_equal(after.events - before.events, QUEUED + 1);
    assert_int_equal(after.marks - before.marks, 1);
    assert_int_equal(after.largest_batch, QUEUED + 1);
    assert_int_equal(after.waiting, 0);
    assert_int_equal(after.segments, 1);
    assert_int_equal(only_segments(f), 1); /* one log, no temporary file */
    events_held(f, names, sizeof names);
    assert_string_equal(names, "g0.pending,g1.pending,g2.pending,g3.pending,g4.pending,"
                               "g5.pending,g6.pending,g7.pending,g8.pending,m0.event");
    for (i = 0; i <= QUEUED; i++) {
        assert_int_equal(zd_store_get(f->store, ops[i].id, T0, 1200, &got), 0);
        assert_string_equal(got, "{}");
        free(got);
    }
}

static void test_zone_demo_store_put_get(void **state)
{
    fx *f = *state;
    const char *data = "{\"event_type\":\"hit_keyword\",\"hit_keyword\":{\"token\":\"\\\"q\\\"\"}}";
    char *got = NULL, err[256] = "", names[512];

    put(f, "n1", "wwcorp1", 1000002, data, T0);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "n1.pending");
    assert_int_equal(only_segments(f), 1); /* no temporary file left */
    assert_int_equal(zd_store_get(f->store, "n1", T0, 1200, &got), 0);
    assert_string_equal(got, data);
    free(got);
    assert_int_equal(zd_store_get(f->store, "n1", T0 + 1200, 1200, &got), 0); /* not older yet */
    free(got);
    assert_int_equal(zd_store_get(f->store, "n1", T0 + 1201, 1200, &got), 2);
    assert_null(got);
    assert_int_equal(zd_store_get(f->store, "nope", T0, 1200, &got), 1);
    assert_null(got);
    assert_int_equal(zd_store_get(f->store, "../n1", T0, 1200, &got), 1);

    /* an id that is not 1 to 64 of [0-9A-Za-z_-]: refused, nothing written anywhere */
    assert_int_equal(zd_store_put(f->store, "../x", "wwcorp1", 1, "{}", T0, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    assert_int_equal(zd_store_put(f->store, "", "wwcorp1", 1, "{}", T0, err, sizeof err), -1);
    assert_int_equal(zd_store_put(f->store, "a/b", "wwcorp1", 1, "{}", T0, err, sizeof err), -1);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "n1.pending");
    assert_false(exists(f, "x.pending"));
    assert_int_equal(zd_store_state(f->store, "x"), 0);
}

static void test_zone_demo_store_mark_notified(void **state)
{
    fx *f = *state;
    char *got = NULL, names[512];

    put(f, "n1", "wwcorp1", 1, "{\"a\":1}", T0);
    put(f, "n2", "wwcorp1", 1, "{\"a\":2}", T0);
    assert_int_equal(zd_store_mark_notified(f->store, "n1"), 0);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "n1.event,n2.pending");
    assert_int_equal(zd_store_get(f->store, "n1", T0, 1200, &got), 0);
    assert_string_equal(got, "{\"a\":1}");
    free(got);
    assert_int_equal(zd_store_mark_notified(f->store, "n1"), -1); /* already marked */
    assert_int_equal(zd_store_mark_notified(f->store, "unknown"), -1);
    assert_int_equal(zd_store_mark_notified(f->store, "../n2"), -1);
}

typedef struct seen {
    size_t n;
    zd_pending p[8];
} seen;

static void collect(const zd_pending *p, void *ud)
{
    seen *s = ud;

    if (s->n < 8)
        s->p[s->n] = *p;
    s->n++;
}

static const zd_pending *find_pending(const seen *s, const char *id)
{
    size_t i;

    for (i = 0; i < s->n && i < 8; i++)
        if (!strcmp(s->p[i].id, id))
            return &s->p[i];
    return NULL;
}

static void test_zone_demo_store_each_pending(void **state)
{
    fx *f = *state;
    seen s = {0};
    const zd_pending *p;

    put(f, "old", "wwA", 1001, "{}", T0 - 100);
    put(f, "young", "wwB", 1002, "{}", T0 - 10);
    put(f, "done", "wwC", 1003, "{}", T0 - 100);
    assert_int_equal(zd_store_mark_notified(f->store, "done"), 0);

    assert_int_equal(zd_store_each_pending(f->store, T0 - 50, collect, &s), 1);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.p[0].id, "old");
    assert_string_equal(s.p[0].corpid, "wwA");
    assert_int_equal(s.p[0].agentid, 1001);
    assert_int_equal(s.p[0].stored_at, T0 - 100);

    memset(&s, 0, sizeof s);
    assert_int_equal(zd_store_each_pending(f->store, T0 - 10, collect, &s), 2); /* at the bound */
    assert_int_equal(s.n, 2);
    assert_non_null(find_pending(&s, "old"));
    assert_non_null(p = find_pending(&s, "young"));
    assert_string_equal(p->corpid, "wwB");
    assert_int_equal(p->agentid, 1002);
    assert_null(find_pending(&s, "done"));

    memset(&s, 0, sizeof s);
    assert_int_equal(zd_store_each_pending(f->store, T0 - 101, collect, &s), 0);
    assert_int_equal(s.n, 0);
}

static void test_zone_demo_store_cleanup(void **state)
{
    fx *f = *state;
    char names[512];

    put(f, "oldpending", "ww", 1, "{}", T0 - 2000);
    put(f, "oldnotified", "ww", 1, "{}", T0 - 1300);
    assert_int_equal(zd_store_mark_notified(f->store, "oldnotified"), 0);
    put(f, "youngpending", "ww", 1, "{}", T0 - 100);
    put(f, "youngnotified", "ww", 1, "{}", T0 - 1000);
    assert_int_equal(zd_store_mark_notified(f->store, "youngnotified"), 0);
    put(f, "edge", "ww", 1, "{}", T0 - 1200); /* exactly the retention: kept */

    assert_int_equal(zd_store_cleanup(f->store, T0, 1200), 2);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "edge.pending,youngnotified.event,youngpending.pending");
    assert_int_equal(zd_store_cleanup(f->store, T0, 1200), 0);
    assert_int_equal(zd_store_cleanup(f->store, T0 + 1201, 1200), 3);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "");
}

/* The path of the store's one log segment into out. */
static void the_segment(const fx *f, char *out, size_t n)
{
    char names[512];

    assert_int_equal(only_segments(f), 1);
    listing(f, "events", names, sizeof names);
    snprintf(out, n, "%s/events/%s", f->dir, names);
}

/* Overwrites the byte at off (from the end when negative) of path with c, or cuts the file
 * there when c is -1. */
static void damage(const char *path, long off, int c)
{
    int fd = open(path, O_RDWR);
    struct stat st;
    char b = (char)c;

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    if (off < 0)
        off += (long)st.st_size;
    if (c < 0)
        assert_int_equal(ftruncate(fd, off), 0);
    else
        assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

/* A log read by another process (here: the store reopened): each record counts only whole
 * and unchanged; reading stops at the first that is not (a crash mid-write, a bad sector),
 * and what came before it is all there. Files that are not segments are passed over. */
static void test_zone_demo_store_damaged_log(void **state)
{
    fx *f = *state;
    char path[1024], names[512], err[256] = "", *got = NULL;
    seen s = {0};
    struct stat st;

    put(f, "first", "wwA", 7, "{\"ok\":true}", T0 - 100);
    put(f, "second", "wwA", 7, "{\"ok\":2}", T0 - 100);
    assert_int_equal(zd_store_mark_notified(f->store, "second"), 0);
    put(f, "third", "wwA", 7, "{\"ok\":3}", T0 - 100);
    the_segment(f, path, sizeof path);
    zd_store_close(f->store);
    write_raw(f, "events/1-2-3.log", "not a record at all, but named like a segment");
    write_raw(f, "events/stray.tmp", "junk");
    write_raw(f, "events/first.pending", "{\"corpid\":\"wwA\",\"data\":\"old layout\"}");

    /* the last record torn: the first three are read, the fourth is not there */
    damage(path, -3, -1);
    f->store = zd_store_open(f->dir, err, sizeof err);
    assert_non_null(f->store);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "first.pending,second.event");
    assert_int_equal(zd_store_get(f->store, "third", T0, 1200, &got), 1);
    assert_int_equal(zd_store_get(f->store, "first", T0, 1200, &got), 0);
    assert_string_equal(got, "{\"ok\":true}");
    free(got);
    assert_int_equal(zd_store_each_pending(f->store, T0, collect, &s), 1);
    assert_string_equal(s.p[0].id, "first");
    assert_string_equal(s.p[0].corpid, "wwA");
    assert_int_equal(s.p[0].agentid, 7);
    assert_int_equal(s.p[0].stored_at, T0 - 100);
    zd_store_close(f->store);

    /* a byte of the second record's data changed (records: a 32-byte header, the id, the
     * corpid, the data): only the first is read */
    assert_int_equal(stat(path, &st), 0);
    damage(path, (32 + 5 + 3 + 11) + (32 + 6 + 3) + 2, 'X');
    f->store = zd_store_open(f->dir, err, sizeof err);
    assert_non_null(f->store);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "first.pending");
    assert_int_equal(zd_store_mark_notified(f->store, "second"), -1);
}

/* Two stores on one folder, as two replicas sharing a data folder: each appends to its own
 * segment and finds the other's events and marks by reading its segment. */
static void test_zone_demo_store_shared_folder(void **state)
{
    fx *f = *state;
    char err[256] = "", *got = NULL, names[512];
    zd_store *b = zd_store_open(f->dir, err, sizeof err);
    seen s = {0};

    assert_non_null(b);
    put(f, "fromA", "wwA", 1, "{\"by\":\"a\"}", T0);
    assert_int_equal(zd_store_put(b, "fromB", "wwB", 2, "{\"by\":\"b\"}", T0, err, sizeof err), 0);
    assert_int_equal(only_segments(f), 2);

    assert_int_equal(zd_store_get(b, "fromA", T0, 1200, &got), 0); /* B reads A's segment */
    assert_string_equal(got, "{\"by\":\"a\"}");
    free(got);
    assert_int_equal(zd_store_mark_notified(b, "fromA"), 0); /* B notified it */
    assert_int_equal(zd_store_state(f->store, "fromB"), 1);  /* A reads B's segment */
    assert_int_equal(zd_store_state(f->store, "fromA"), 2);  /* and B's mark in it */
    assert_int_equal(zd_store_mark_notified(f->store, "fromA"), -1);
    assert_int_equal(zd_store_each_pending(f->store, T0, collect, &s), 1);
    assert_string_equal(s.p[0].id, "fromB");
    assert_string_equal(s.p[0].corpid, "wwB");
    assert_int_equal(s.p[0].agentid, 2);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "fromA.event,fromB.pending");
    zd_store_close(b);
}

/* Cleanup forgets expired events and deletes a segment that holds only expired ones, unless
 * a live store still appends to it (its lock); the segment appended to is given up once its
 * oldest event is half the retention old. */
static void test_zone_demo_store_cleanup_segments(void **state)
{
    fx *f = *state;
    char err[256] = "", names[512];
    zd_store *b = zd_store_open(f->dir, err, sizeof err);

    assert_non_null(b);
    put(f, "a_old", "ww", 1, "{}", T0 - 2000);
    assert_int_equal(zd_store_put(b, "b_old", "ww", 1, "{}", T0 - 2000, err, sizeof err), 0);
    assert_int_equal(only_segments(f), 2);

    /* both segments hold only expired events, but both are appended to: kept, the events go */
    assert_int_equal(zd_store_cleanup(f->store, T0 - 1900, 1200), 0);
    assert_int_equal(zd_store_cleanup(f->store, T0, 1200), 2);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "");
    assert_int_equal(only_segments(f), 1); /* A gave its own up (2000 s old) and deleted it */
    assert_int_equal(zd_store_state(b, "b_old"), 1); /* B has not cleaned up yet */

    /* B stops: its segment's lock is free, so A's next cleanup deletes it */
    zd_store_close(b);
    assert_int_equal(zd_store_cleanup(f->store, T0, 1200), 0);
    assert_int_equal(only_segments(f), 0);

    /* A appends again: a new segment */
    put(f, "a_new", "ww", 1, "{}", T0);
    assert_int_equal(only_segments(f), 1);
    assert_int_equal(zd_store_cleanup(f->store, T0 + 100, 1200), 0);
    assert_int_equal(zd_store_state(f->store, "a_new"), 1);
    assert_int_equal(only_segments(f), 1);
}

static void test_zone_demo_store_cursor(void **state)
{
    fx *f = *state;
    char cur[256] = "", small[3], err[256] = "", names[256];

    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 1);
    assert_int_equal(zd_cursor_put(f->store, "wwcorp1", 1000002, "CUR_1"), 0);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 0);
    assert_string_equal(cur, "CUR_1");
    assert_int_equal(zd_cursor_put(f->store, "wwcorp1", 1000002, "CUR_2"), 0);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 0);
    assert_string_equal(cur, "CUR_2");
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000003, cur, sizeof cur), 1);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp2", 1000002, cur, sizeof cur), 1);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, small, sizeof small), -1);
    listing(f, "cursors", names, sizeof names);
    assert_string_equal(names, "wwcorp1-1000002"); /* one file, no temporary left */

    /* a corpid that cannot name a file */
    assert_int_equal(zd_cursor_put(f->store, "../x", 1, "C"), -1);
    assert_int_equal(zd_cursor_put(f->store, "a/b", 1, "C"), -1);
    assert_int_equal(zd_cursor_put(f->store, "", 1, "C"), -1);
    assert_int_equal(zd_cursor_get(f->store, "../x", 1, cur, sizeof cur), -1);
    assert_false(exists(f, "x-1"));

    /* survives closing and reopening */
    zd_store_close(f->store);
    f->store = zd_store_open(f->dir, err, sizeof err);
    assert_non_null(f->store);
    memset(cur, 0, sizeof cur);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 0);
    assert_string_equal(cur, "CUR_2");
}

/* The newest event token of each app, with when it came, kept as a cursor is: a restarted
 * zone-demo reads it back. */
static void test_zone_demo_store_token(void **state)
{
    fx *f = *state;
    char tok[64] = "", small[4], err[256] = "", names[256];
    int64_t at = 0;

    assert_int_equal(zd_token_get(f->store, "wwcorp1", 1000002, tok, sizeof tok, &at), 1);
    assert_int_equal(zd_token_put(f->store, "wwcorp1", 1000002, "TOK_1", T0), 0);
    assert_int_equal(zd_token_get(f->store, "wwcorp1", 1000002, tok, sizeof tok, &at), 0);
    assert_string_equal(tok, "TOK_1");
    assert_int_equal(at, T0);
    assert_int_equal(zd_token_put(f->store, "wwcorp1", 1000002, "TOK_2", T0 + 5), 0);
    assert_int_equal(zd_token_put(f->store, "wwcorp1", 1000003, "TOK_3", T0 + 6), 0);
    assert_int_equal(zd_token_get(f->store, "wwcorp1", 1000002, tok, sizeof tok, &at), 0);
    assert_string_equal(tok, "TOK_2");
    assert_int_equal(at, T0 + 5);
    assert_int_equal(zd_token_get(f->store, "wwcorp1", 1000003, tok, sizeof tok, &at), 0);
    assert_string_equal(tok, "TOK_3");
    assert_int_equal(zd_token_get(f->store, "wwcorp2", 1000002, tok, sizeof tok, &at), 1);
    assert_int_equal(zd_token_get(f->store, "wwcorp1", 1000002, small, sizeof small, &at), -1);
    listing(f, "tokens", names, sizeof names);
    assert_string_equal(names, "wwcorp1-1000002,wwcorp1-1000003"); /* no temporary left */

    /* what cannot name a file or be read back */
    assert_int_equal(zd_token_put(f->store, "../x", 1, "T", T0), -1);
    assert_int_equal(zd_token_put(f->store, "wwcorp1", 1, "two words", T0), -1);
    assert_int_equal(zd_token_put(f->store, "wwcorp1", 1, "line\nbreak", T0), -1);
    assert_int_equal(zd_token_put(f->store, "wwcorp1", 1, "", T0), -1);
    assert_int_equal(zd_token_get(f->store, "../x", 1, tok, sizeof tok, &at), -1);

    /* survives closing and reopening (a restart) */
    zd_store_close(f->store);
    f->store = zd_store_open(f->dir, err, sizeof err);
    assert_non_null(f->store);
    at = 0;
    assert_int_equal(zd_token_get(f->store, "wwcorp1", 1000002, tok, sizeof tok, &at), 0);
    assert_string_equal(tok, "TOK_2");
    assert_int_equal(at, T0 + 5);
}

typedef struct token_writer {
    zd_store *store;
    int n;
    int rc;
} token_writer;

static void *put_tokens(void *arg)
{
    token_writer *w = arg;
    char tok[32];
    int i;

    for (i = 0; i < 20; i++) {
        snprintf(tok, sizeof tok, "T%d_%d", w->n, i);
        w->rc |= zd_token_put(w->store, "wwcorp1", 1000002 + (uint32_t)(w->n % 2), tok, T0 + i);
    }
    return NULL;
}

/* Threads storing tokens at once (events arriving together): each app's file holds one of
 * them, whole, and no temporary file is left. */
static void test_zone_demo_store_token_concurrent(void **state)
{
    fx *f = *state;
    token_writer w[8];
    pthread_t t[8];
    char tok[64], names[256];
    int64_t at;
    int i, k;

    for (i = 0; i < 8; i++) {
        w[i] = (token_writer){.store = f->store, .n = i};
        assert_int_equal(pthread_create(&t[i], NULL, put_tokens, &w[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].rc, 0);
    }
    for (k = 0; k < 2; k++) {
        int n = -1, j = -1;

        assert_int_equal(
            zd_token_get(f->store, "wwcorp1", 1000002 + (uint32_t)k, tok, sizeof tok, &at), 0);
        assert_int_equal(sscanf(tok, "T%d_%d", &n, &j), 2);
        assert_int_equal(n % 2, k);
        assert_int_equal(at, T0 + j);
    }
    listing(f, "tokens", names, sizeof names);
    assert_string_equal(names, "wwcorp1-1000002,wwcorp1-1000003");
}

static void test_zone_demo_store_reopen_keeps_events(void **state)
{
    fx *f = *state;
    char *got = NULL, err[256] = "";
    seen s = {0};

    put(f, "kept", "wwA", 5, "{\"x\":1}", T0);
    zd_store_close(f->store);
    f->store = zd_store_open(f->dir, err, sizeof err);
    assert_non_null(f->store);
    assert_int_equal(zd_store_get(f->store, "kept", T0, 1200, &got), 0);
    assert_string_equal(got, "{\"x\":1}");
    free(got);
    assert_int_equal(zd_store_each_pending(f->store, T0, collect, &s), 1);
}

/* What put accepts, get must give back (or put must refuse it). Event data of 5 MiB: the
 * configuration allows request bodies up to 64 MiB. */
static void test_zone_demo_store_large_event_readable(void **state)
{
    fx *f = *state;
    size_t n = 5u << 20;
    char *data = malloc(n + 16), *got = NULL, err[256] = "";
    int rc, get_rc = 0;
    bool same = true;

    assert_non_null(data);
    memcpy(data, "{\"x\":\"", 6);
    memset(data + 6, 'a', n);
    memcpy(data + 6 + n, "\"}", 3);
    rc = zd_store_put(f->store, "big", "wwA", 1, data, T0, err, sizeof err);
    if (rc == 0) {
        get_rc = zd_store_get(f->store, "big", T0, 1200, &got);
        same = got && strcmp(got, data) == 0;
    }
    free(got);
    free(data);
    if (rc == 0 && (get_rc != 0 || !same))
        fail_msg("put stored a 5 MiB event that get cannot read (get returned %d)", get_rc);
}

/* Likewise for cursors: a cursor put accepted is read back, not reported as absent. */
static void test_zone_demo_store_long_cursor_readable(void **state)
{
    fx *f = *state;
    static char cursor[5000], out[8192];

    memset(cursor, 'c', sizeof cursor - 1);
    cursor[sizeof cursor - 1] = '\0';
    if (zd_cursor_put(f->store, "wwcorp1", 1, cursor) == 0) {
        out[0] = '\0';
        errno = ENOENT; /* left over from an earlier call: must not decide the answer */
        assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1, out, sizeof out), 0);
        assert_string_equal(out, cursor);
    }
}

/* ---- dispatch ---- */

static void test_zone_demo_invoke_passthrough(void **state)
{
    fx *f = *state;
    const char *req = "{\"cursor\":\"\",\"limit\":0,\"token\":\"\"}";
    const char *rsp = "{\"errcode\":0,\"errmsg\":\"ok\",\"next_cursor\":\"X\", \"odd\" : [1,2]}";
    char *out;

    fake_script(&f->sdk, "sync_msg", 0, rsp);
    app_start(f);
    out = handle(f, 1, "invoke_sync_msg", "", req);
    assert_string_equal(out, rsp); /* verbatim, spacing and all */
    free(out);
    assert_int_equal(f->sdk.n_calls, 1);
    assert_string_equal(f->sdk.calls[0].api, "sync_msg");
    assert_string_equal(f->sdk.calls[0].request, req);
    assert_string_equal(f->sdk.calls[0].corpid, "wwcorp1");
    assert_int_equal(f->sdk.calls[0].agentid, 1000002);
    assert_string_equal(f->sdk.calls[0].ability_id, "invoke_sync_msg");

    /* an API answer that is itself an error is still passed on verbatim */
    fake_script(&f->sdk, "get_license_info", 0, "{\"errcode\":40001,\"errmsg\":\"bad\"}");
    out = handle(f, 1, "invoke_get_license_info", "", "{}");
    assert_string_equal(out, "{\"errcode\":40001,\"errmsg\":\"bad\"}");
    free(out);
    assert_int_equal(f->sdk.n_calls, 2);
    assert_string_equal(f->sdk.calls[1].api, "get_license_info");
}

static void test_zone_demo_invoke_sdk_failure(void **state)
{
    fx *f = *state;
    char *out;

    fake_script(&f->sdk, "sync_msg", ZD_SDK_NETWORK, NULL);
    fake_script(&f->sdk, "sync_msg", -10006, NULL);
    app_start(f);
    out = handle(f, 1, "invoke_sync_msg", "", "{}");
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
    out = handle(f, 1, "invoke_sync_msg", "", "{}");
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
}

static void test_zone_demo_unknown_ability(void **state)
{
    fx *f = *state;
    char *out;

    app_start(f);
    out = handle(f, 1, "frobnicate", "", "{}");
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
    out = handle(f, 1, "invoke_", "", "{}"); /* no API name */
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
    out = handle(f, 1, NULL, "", "{}");
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
    assert_int_equal(f->sdk.n_calls, 0);
}

static void test_zone_demo_get_callback_data(void **state)
{
    fx *f = *state;
    const char *data = "{\"event_type\":\"conversation_new_message\","
                       "\"conversation_new_message\":{\"token\":\"T1\"}}";
    char *out, *unknown, *expired;

    put(f, "stored1", "wwcorp1", 1000002, data, T0 - 60);
    put(f, "stale1", "wwcorp1", 1000002, data, T0 - 1300);
    app_start(f);

    out = handle(f, 1, "get_callback_data", "stored1", "{}");
    assert_string_equal(out, data);
    free(out);

    out = handle(f, 1, "get_callback_data", NULL, "{}");
    assert_error(out, SAMPLE_ERR, "notify_id");
    free(out);
    out = handle(f, 1, "get_callback_data", "", "{}");
    assert_error(out, SAMPLE_ERR, "notify_id");
    free(out);
    unknown = handle(f, 1, "get_callback_data", "nosuchid", "{}");
    assert_error(unknown, SAMPLE_ERR, "notify_id");
    expired = handle(f, 1, "get_callback_data", "stale1", "{}");
    assert_error(expired, SAMPLE_ERR, "expired");
    assert_string_not_equal(unknown, expired); /* each failure says what it is */
    free(unknown);
    free(expired);
    out = handle(f, 1, "get_callback_data", "../../etc/passwd", "{}");
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
    assert_int_equal(f->sdk.n_calls, 0);
}

/* ---- events ---- */

static const char *const EVENT =
    "{\"event_type\":\"chat_archive_audit_approved\","
    "\"timestamp\":1700000000,\"chat_archive_audit_approved\":"
    "{\"userid\":\"zhangsan\",\"external_userid\":\"\",\"chatid\":\"\"}}";

static void test_zone_demo_event_stored_then_notified(void **state)
{
    fx *f = *state;
    char *out, *again, names[256];
    cJSON *req;
    zd_stats st;

    f->sdk.ids[0] = "evt_0001";
    f->sdk.n_ids = 1;
    app_start(f);
    out = event(f, EVENT);
    assert_error(out, 0, NULL);
    free(out);

    assert_int_equal(f->sdk.n_calls, 1);
    assert_string_equal(f->sdk.calls[0].api, "spec_notify_app");
    assert_true(f->sdk.calls[0].event_stored); /* the file was there before the notify */
    assert_string_equal(f->sdk.calls[0].corpid, "wwcorp1");
    assert_int_equal(f->sdk.calls[0].agentid, 1000002);
    req = parse(f->sdk.calls[0].request);
    assert_string_equal(json_str(req, "notify_id"), "evt_0001");
    assert_int_equal(json_int(req, "notify_scene"), 1);
    assert_int_equal(cJSON_GetArraySize(req), 2);
    cJSON_Delete(req);

    events_held(f, names, sizeof names);
    assert_string_equal(names, "evt_0001.event");
    assert_int_equal(n_sleeps, 0);

    again = handle(f, 1, "get_callback_data", "evt_0001", "{}");
    assert_string_equal(again, EVENT);
    free(again);
    zd_app_stats(f->app, &st);
    assert_int_equal(st.events_stored, 1);
    assert_int_equal(st.events_notified, 1);
    assert_int_equal(st.notify_failures, 0);
}

/* Many events at once from many threads: each is answered ok, stored, notified after it was
 * on disk, and marked; the store committed them in as many batches as it took (fewer when
 * they overlapped, which timing decides and this does not assert). */
#define EVENT_THREADS 8
#define EVENTS_EACH   12

typedef struct event_sender {
    fx *f;
    int ok; /* answers {"errcode":0} */
} event_sender;

static void *send_events(void *ud)
{
    event_sender *e = ud;
    zd_request rq = {.call_type = 2,
                     .corpid = "wwcorp1",
                     .agentid = 1000002,
                     .ability_id = "",
                     .notify_id = "",
                     .job_info = "",
                     .data = EVENT};
    int i;

    for (i = 0; i < EVENTS_EACH; i++) {
        char *out = zd_handle(e->f->app, &rq);
        cJSON *j = cJSON_Parse(out);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "errcode");

        e->ok += cJSON_IsNumber(code) && code->valueint == 0;
        cJSON_Delete(j);
        free(out);
    }
    return NULL;
}

static void count_state(const char *id, int state, void *ud)
{
    (void)id;
    ((int *)ud)[state]++;
}

static void test_zone_demo_events_concurrent_all_stored(void **state)
{
    fx *f = *state;
    event_sender senders[EVENT_THREADS];
    pthread_t th[EVENT_THREADS];
    const unsigned n = EVENT_THREADS * EVENTS_EACH;
    unsigned i;
    int states[3] = {0};
    zd_store_counts c;
    zd_stats st;

    app_start(f);
    for (i = 0; i < EVENT_THREADS; i++) {
        senders[i] = (event_sender){.f = f};
        assert_int_equal(pthread_create(&th[i], NULL, send_events, &senders[i]), 0);
    }
    for (i = 0; i < EVENT_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(senders[i].ok, EVENTS_EACH);
    }
    zd_app_stats(f->app, &st);
    assert_int_equal(st.events_stored, n);
    assert_int_equal(st.events_notified, n);
    assert_int_equal(st.notify_failures, 0);
    assert_int_equal(f->sdk.n_calls, n);
    for (i = 0; i < MAX_CALLS; i++) /* the ones the fake recorded */
        assert_true(f->sdk.calls[i].event_stored);
    zd_store_each(f->store, count_state, states);
    assert_int_equal(states[2], n);
    assert_int_equal(states[1], 0);        /* nothing pending */
    assert_int_equal(only_segments(f), 1); /* one log, no temporary file */
    zd_store_counts_get(f->store, &c);
    assert_int_equal(c.events, n);
    assert_int_equal(c.marks, n);
    assert_true(c.batches <= 2 * n);
    assert_int_equal(c.data_syncs, c.batches); /* one segment: one sync a commit */
}

static void test_zone_demo_event_notify_scene_from_config(void **state)
{
    fx *f = *state;
    char *out;
    cJSON *req;

    f->cfg.notify_scene = 3;
    app_start(f);
    out = event(f, EVENT);
    free(out);
    assert_int_equal(f->sdk.n_calls, 1);
    req = parse(f->sdk.calls[0].request);
    assert_int_equal(json_int(req, "notify_scene"), 3);
    cJSON_Delete(req);
}

static void test_zone_demo_event_retry_backoff(void **state)
{
    fx *f = *state;
    char *out;
    size_t i;

    fake_script(&f->sdk, "spec_notify_app", ZD_SDK_NETWORK, NULL);
    fake_script(&f->sdk, "spec_notify_app", ZD_SDK_HTTP_STATUS, NULL);
    fake_script(&f->sdk, "spec_notify_app", ZD_SDK_NETWORK, NULL);
    fake_script(&f->sdk, "spec_notify_app", 0, "{\"errcode\":0,\"errmsg\":\"ok\"}");
    app_start(f);
    out = event(f, EVENT);
    assert_error(out, 0, NULL);
    free(out);
    assert_int_equal(f->sdk.n_calls, 4);
    for (i = 1; i < 4; i++) /* every try names the same event */
        assert_string_equal(f->sdk.calls[i].request, f->sdk.calls[0].request);
    assert_int_equal(n_sleeps, 3);
    assert_int_equal(sleeps[0], 100);
    assert_int_equal(sleeps[1], 200);
    assert_int_equal(sleeps[2], 400);
    assert_int_equal(zd_store_state(f->store, "nid0"), 2);
}

static void test_zone_demo_event_retries_exhausted(void **state)
{
    fx *f = *state;
    char *out;
    zd_stats st;
    cJSON *req;

    f->cfg.notify_tries = 4;
    f->cfg.notify_backoff_ms = 50;
    for (int i = 0; i < 4; i++)
        fake_script(&f->sdk, "spec_notify_app", i % 2 ? ZD_SDK_HTTP_STATUS : ZD_SDK_NETWORK, NULL);
    app_start(f);
    out = event(f, EVENT);
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
    assert_int_equal(f->sdk.n_calls, 4); /* notify_tries, no more */
    assert_int_equal(n_sleeps, 3);
    assert_int_equal(sleeps[0], 50);
    assert_int_equal(sleeps[1], 100);
    assert_int_equal(sleeps[2], 200);
    assert_int_equal(zd_store_state(f->store, "nid0"), 1);
    zd_app_stats(f->app, &st);
    assert_int_equal(st.events_stored, 1);
    assert_int_equal(st.events_notified, 0);
    assert_int_equal(st.notify_failures, 1);

    /* the app can already read it; a later pass notifies it (the fake now answers ok) */
    out = handle(f, 1, "get_callback_data", "nid0", "{}");
    assert_string_equal(out, EVENT);
    free(out);
    assert_int_equal(zd_renotify(f->app, T0), 1);
    assert_int_equal(f->sdk.n_calls, 5);
    assert_string_equal(f->sdk.calls[4].api, "spec_notify_app");
    assert_string_equal(f->sdk.calls[4].corpid, "wwcorp1");
    assert_int_equal(f->sdk.calls[4].agentid, 1000002);
    req = parse(f->sdk.calls[4].request);
    assert_string_equal(json_str(req, "notify_id"), "nid0");
    cJSON_Delete(req);
    assert_int_equal(zd_store_state(f->store, "nid0"), 2);
    assert_int_equal(zd_renotify(f->app, T0), 0); /* nothing pending any more */
    assert_int_equal(f->sdk.n_calls, 5);
}

static void test_zone_demo_event_other_failures_not_retried(void **state)
{
    fx *f = *state;
    char *out;

    fake_script(&f->sdk, "spec_notify_app", -10004, NULL);
    fake_script(&f->sdk, "spec_notify_app", 0, "{\"errcode\":40001,\"errmsg\":\"bad\"}");
    app_start(f);
    out = event(f, EVENT);
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
    assert_int_equal(f->sdk.n_calls, 1);
    assert_int_equal(n_sleeps, 0);
    assert_int_equal(zd_store_state(f->store, "nid0"), 1);

    out = event(f, EVENT); /* the SDK worked but the API said no: not retried either */
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
    assert_int_equal(f->sdk.n_calls, 2);
    assert_int_equal(n_sleeps, 0);
    assert_int_equal(zd_store_state(f->store, "nid1"), 1);
}

static void test_zone_demo_maintain_renotifies_and_cleans(void **state)
{
    fx *f = *state;
    char *out, names[256];
    cJSON *req;

    fake_script(&f->sdk, "spec_notify_app", -10004, NULL);
    app_start(f);
    out = event(f, EVENT);
    free(out);
    assert_int_equal(f->sdk.n_calls, 1);

    clock_set(T0 + 10); /* still within a handler's own retries: left alone */
    zd_maintain(f->app);
    assert_int_equal(f->sdk.n_calls, 1);
    assert_int_equal(zd_store_state(f->store, "nid0"), 1);

    clock_set(T0 + 31);
    zd_maintain(f->app);
    assert_int_equal(f->sdk.n_calls, 2);
    assert_string_equal(f->sdk.calls[1].api, "spec_notify_app");
    assert_string_equal(f->sdk.calls[1].corpid, "wwcorp1");
    assert_int_equal(f->sdk.calls[1].agentid, 1000002);
    req = parse(f->sdk.calls[1].request);
    assert_string_equal(json_str(req, "notify_id"), "nid0");
    assert_int_equal(json_int(req, "notify_scene"), 1);
    cJSON_Delete(req);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "nid0.event");

    clock_set(T0 + 60);
    zd_maintain(f->app); /* notified: not again */
    assert_int_equal(f->sdk.n_calls, 2);

    clock_set(T0 + 1201); /* past the retention: deleted */
    zd_maintain(f->app);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "");
    assert_int_equal(f->sdk.n_calls, 2);
}

static void test_zone_demo_event_without_notify_id(void **state)
{
    fx *f = *state;
    char *out, names[256];
    zd_stats st;

    f->sdk.null_id = true;
    app_start(f);
    out = event(f, EVENT);
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);

    pthread_mutex_lock(&f->sdk.lock);
    f->sdk.null_id = false;
    f->sdk.ids[0] = "../evil";
    f->sdk.n_ids = 1;
    pthread_mutex_unlock(&f->sdk.lock);
    out = event(f, EVENT);
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);

    assert_int_equal(f->sdk.n_calls, 0);
    events_held(f, names, sizeof names);
    assert_string_equal(names, "");
    assert_false(exists(f, "evil.pending"));
    zd_app_stats(f->app, &st);
    assert_int_equal(st.events_stored, 0);
}

typedef struct renotify_run {
    zd_app *app;
    int64_t older_than;
    size_t result;
} renotify_run;

static void *run_renotify(void *arg)
{
    renotify_run *r = arg;

    r->result = zd_renotify(r->app, r->older_than);
    return NULL;
}

/* zd_renotify counts what it notified itself, not events another thread notified meanwhile
 * (the maintenance thread runs beside the HTTP threads). */
static void test_zone_demo_renotify_counts_its_own(void **state)
{
    fx *f = *state;
    renotify_run r;
    pthread_t t;
    char *out;

    put(f, "pend1", "wwA", 11, "{}", T0 - 100);
    f->sdk.hold_api = "spec_notify_app";
    f->sdk.hold = true;
    f->sdk.hold_first = true;
    r = (renotify_run){.app = app_start(f), .older_than = T0 - 50};
    assert_int_equal(pthread_create(&t, NULL, run_renotify, &r), 0);
    if (!fake_wait(&f->sdk, entered_at_least, 1)) {
        fake_release(&f->sdk);
        pthread_join(t, NULL);
        fail_msg("zd_renotify did not notify pend1");
    }
    out = event(f, EVENT); /* notified at once while the pass is held */
    fake_release(&f->sdk);
    pthread_join(t, NULL);
    assert_error(out, 0, NULL);
    free(out);
    assert_int_equal(zd_store_state(f->store, "pend1"), 2);
    assert_int_equal(zd_store_state(f->store, "nid0"), 2);
    assert_int_equal(r.result, 1);
}

/* ---- new_messages_digest ---- */

#define MSG(type, from_type, from)                                                                 \
    "{\"msgid\":\"m\",\"send_time\":1700000000,\"msgtype\":" #type                                 \
    ",\"sender\":{\"type\":" #from_type ",\"id\":\"" from "\"}}"

static const char *const PAGE1 =
    "{\"errcode\":0,\"errmsg\":\"ok\",\"next_cursor\":\"cur1\",\"has_more\":1,\"msg_list\":[" MSG(
        1, 1, "zhangsan") "," MSG(1, 1, "zhangsan") "," MSG(2, 2, "wmEXT") "]}";
static const char *const PAGE2 =
    "{\"errcode\":0,\"errmsg\":\"ok\",\"next_cursor\":\"cur2\",\"has_more\":0,\"msg_list\":[" MSG(
        1, 1, "zhangsan") "," MSG(3, 1, "lisi") "]}";
static const char *const PAGE3 =
    "{\"errcode\":0,\"errmsg\":\"ok\",\"next_cursor\":\"cur3\",\"has_more\":0,\"msg_list\":[" MSG(
        2, 1, "lisi") "]}";

/* The periodic pass leaves an event alone while another thread is notifying it. */
static void test_zone_demo_renotify_skips_ids_in_flight(void **state)
{
    fx *f = *state;
    renotify_run r;
    pthread_t t;
    size_t calls;

    put(f, "busy1", "wwA", 11, "{}", T0 - 100);
    f->sdk.hold_api = "spec_notify_app";
    f->sdk.hold = true;
    f->sdk.hold_first = true;
    r = (renotify_run){.app = app_start(f), .older_than = T0 - 50};
    assert_int_equal(pthread_create(&t, NULL, run_renotify, &r), 0);
    if (!fake_wait(&f->sdk, entered_at_least, 1)) {
        fake_release(&f->sdk);
        pthread_join(t, NULL);
        fail_msg("zd_renotify did not notify busy1");
    }
    /* a second pass while the first one is inside spec_notify_app for busy1 */
    assert_int_equal(zd_renotify(r.app, T0 - 50), 0);
    pthread_mutex_lock(&f->sdk.lock);
    calls = f->sdk.n_calls;
    pthread_mutex_unlock(&f->sdk.lock);
    fake_release(&f->sdk);
    pthread_join(t, NULL);
    assert_int_equal(r.result, 1);
    assert_int_equal(calls, 1); /* one spec_notify_app for busy1, not two */
    assert_int_equal(zd_store_state(f->store, "busy1"), 2);
}

static void test_zone_demo_digest_pages_and_cursor(void **state)
{
    fx *f = *state;
    char *out, cur[256] = "";
    cJSON *d, *req;

    fake_script(&f->sdk, "sync_msg", 0, PAGE1);
    fake_script(&f->sdk, "sync_msg", 0, PAGE2);
    app_start(f);
    out = handle(f, 1, "new_messages_digest", "", "{}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), 0);
    assert_int_equal(json_int(d, "total"), 5);
    assert_int_equal(count_type(d, 1), 3);
    assert_int_equal(count_type(d, 2), 1);
    assert_int_equal(count_type(d, 3), 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "by_msgtype")), 3);
    assert_int_equal(count_sender(d, 1, "zhangsan"), 3);
    assert_int_equal(count_sender(d, 2, "wmEXT"), 1);
    assert_int_equal(count_sender(d, 1, "lisi"), 1);
    assert_int_equal(count_sender(d, 1, "wmEXT"), 0); /* the sender type is part of the key */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "by_sender")), 3);
    cJSON_Delete(d);

    assert_int_equal(f->sdk.n_calls, 2);
    assert_string_equal(f->sdk.calls[0].api, "sync_msg");
    assert_string_equal(f->sdk.calls[0].corpid, "wwcorp1");
    assert_int_equal(f->sdk.calls[0].agentid, 1000002);
    req = parse(f->sdk.calls[0].request);
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "cursor");

        assert_true(!c || (cJSON_IsString(c) && !*c->valuestring)); /* no cursor yet */
    }
    assert_null(cJSON_GetObjectItemCaseSensitive(req, "token"));
    cJSON_Delete(req);
    req = parse(f->sdk.calls[1].request);
    assert_string_equal(json_str(req, "cursor"), "cur1");
    cJSON_Delete(req);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 0);
    assert_string_equal(cur, "cur2");

    /* the second digest starts from the saved cursor and counts only what is new */
    fake_script(&f->sdk, "sync_msg", 0, PAGE3);
    out = handle(f, 1, "new_messages_digest", "", "{}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), 0);
    assert_int_equal(json_int(d, "total"), 1);
    assert_int_equal(count_type(d, 2), 1);
    assert_int_equal(count_type(d, 1), 0);
    assert_int_equal(count_sender(d, 1, "lisi"), 1);
    assert_int_equal(count_sender(d, 1, "zhangsan"), 0);
    cJSON_Delete(d);
    assert_int_equal(f->sdk.n_calls, 3);
    req = parse(f->sdk.calls[2].request);
    assert_string_equal(json_str(req, "cursor"), "cur2");
    cJSON_Delete(req);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 0);
    assert_string_equal(cur, "cur3");
}

static void test_zone_demo_digest_sends_event_token(void **state)
{
    fx *f = *state;
    char *out;
    cJSON *req;
    zd_request other = {.call_type = 1,
                        .corpid = "wwcorp1",
                        .agentid = 1000099,
                        .ability_id = "new_messages_digest",
                        .data = "{}"};

    app_start(f);
    out = event(f, "{\"event_type\":\"conversation_new_message\",\"timestamp\":1700000000,"
                   "\"conversation_new_message\":{\"token\":\"TOKEN_42\"}}");
    free(out);
    assert_int_equal(f->sdk.n_calls, 1); /* the notify */

    clock_set(T0 + 60);
    out = handle(f, 1, "new_messages_digest", "", "{}");
    free(out);
    assert_int_equal(f->sdk.n_calls, 2);
    assert_string_equal(f->sdk.calls[1].api, "sync_msg");
    req = parse(f->sdk.calls[1].request);
    assert_string_equal(json_str(req, "token"), "TOKEN_42");
    cJSON_Delete(req);

    out = zd_handle(f->app, &other); /* another app of the corp has no token */
    assert_non_null(out);
    free(out);
    assert_int_equal(f->sdk.n_calls, 3);
    req = parse(f->sdk.calls[2].request);
    assert_null(cJSON_GetObjectItemCaseSensitive(req, "token"));
    cJSON_Delete(req);

    clock_set(T0 + 601); /* a token lives 10 minutes: no longer sent */
    out = handle(f, 1, "new_messages_digest", "", "{}");
    free(out);
    assert_int_equal(f->sdk.n_calls, 4);
    req = parse(f->sdk.calls[3].request);
    assert_null(cJSON_GetObjectItemCaseSensitive(req, "token"));
    cJSON_Delete(req);
}

/* A restarted zone-demo sends the token it received before the restart, while it is young
 * enough: without it the digest counts against the no-token budget (45009). */
static void test_zone_demo_digest_token_after_restart(void **state)
{
    fx *f = *state;
    char *out, err[256] = "";
    cJSON *req;

    app_start(f);
    out = event(f, "{\"event_type\":\"conversation_new_message\",\"timestamp\":1700000000,"
                   "\"conversation_new_message\":{\"token\":\"TOKEN_KEPT\"}}");
    free(out);
    assert_int_equal(f->sdk.n_calls, 1); /* the notify */
    app_stop(f);
    zd_store_close(f->store);
    f->store = zd_store_open(f->dir, err, sizeof err);
    assert_non_null(f->store);
    app_start(f);

    clock_set(T0 + 60);
    out = handle(f, 1, "new_messages_digest", "", "{}");
    free(out);
    assert_int_equal(f->sdk.n_calls, 2);
    assert_string_equal(f->sdk.calls[1].api, "sync_msg");
    req = parse(f->sdk.calls[1].request);
    assert_string_equal(json_str(req, "token"), "TOKEN_KEPT");
    cJSON_Delete(req);

    app_stop(f); /* restarted after its 10 minutes: the saved token is too old to send */
    app_start(f);
    clock_set(T0 + 601);
    out = handle(f, 1, "new_messages_digest", "", "{}");
    free(out);
    assert_int_equal(f->sdk.n_calls, 3);
    req = parse(f->sdk.calls[2].request);
    assert_null(cJSON_GetObjectItemCaseSensitive(req, "token"));
    cJSON_Delete(req);
}

/* Events arriving together do not each write their token: one a minute per app at most. */
static void test_zone_demo_token_saved_once_a_minute(void **state)
{
    fx *f = *state;
    char *out, tok[64];
    int64_t at;

    app_start(f);
    out = event(f, "{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                   "\"conversation_new_message\":{\"token\":\"TOK_A\"}}");
    free(out);
    assert_int_equal(zd_token_get(f->store, "wwcorp1", 1000002, tok, sizeof tok, &at), 0);
    assert_string_equal(tok, "TOK_A");
    clock_set(T0 + 59);
    out = event(f, "{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                   "\"conversation_new_message\":{\"token\":\"TOK_B\"}}");
    free(out);
    assert_int_equal(zd_token_get(f->store, "wwcorp1", 1000002, tok, sizeof tok, &at), 0);
    assert_string_equal(tok, "TOK_A"); /* the saved one stays, valid 8 minutes more */
    assert_int_equal(at, T0);
    clock_set(T0 + 60);
    out = event(f, "{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                   "\"conversation_new_message\":{\"token\":\"TOK_C\"}}");
    free(out);
    assert_int_equal(zd_token_get(f->store, "wwcorp1", 1000002, tok, sizeof tok, &at), 0);
    assert_string_equal(tok, "TOK_C");
    assert_int_equal(at, T0 + 60);
}

static void test_zone_demo_digest_errors(void **state)
{
    fx *f = *state;
    char *out, cur[256] = "";
    cJSON *d;

    fake_script(&f->sdk, "sync_msg", 0, "{\"errcode\":95018,\"errmsg\":\"token expired\"}");
    app_start(f);
    out = handle(f, 1, "new_messages_digest", "", "{}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), 95018);
    assert_non_null(strstr(json_str(d, "errmsg"), "token expired"));
    assert_int_equal(json_int(d, "total"), 0);
    cJSON_Delete(d);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 1);

    /* a first page, then a failing one: the first page's cursor is kept */
    fake_script(&f->sdk, "sync_msg", 0, PAGE1);
    fake_script(&f->sdk, "sync_msg", 0, "{\"errcode\":45009,\"errmsg\":\"rate limited\"}");
    out = handle(f, 1, "new_messages_digest", "", "{}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), 45009);
    assert_int_equal(json_int(d, "total"), 3);
    cJSON_Delete(d);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 0);
    assert_string_equal(cur, "cur1");

    /* has_more without a new cursor: the digest stops instead of spinning */
    fake_script(&f->sdk, "sync_msg", 0,
                "{\"errcode\":0,\"errmsg\":\"ok\",\"has_more\":1,\"next_cursor\":\"cur1\","
                "\"msg_list\":[]}");
    out = handle(f, 1, "new_messages_digest", "", "{}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), SAMPLE_ERR);
    assert_non_null(strstr(json_str(d, "errmsg"), "without moving"));
    cJSON_Delete(d);

    /* the SDK itself fails */
    fake_script(&f->sdk, "sync_msg", ZD_SDK_NETWORK, NULL);
    out = handle(f, 1, "new_messages_digest", "", "{}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), SAMPLE_ERR);
    assert_int_equal(json_int(d, "total"), 0);
    cJSON_Delete(d);
}

/* ---- message keys ---- */

/* "zonelabFixedSecretKey00000000010" wrapped with test_v1_public.pem (openssl pkeyutl
 * -encrypt -pkeyopt rsa_padding_mode:pkcs1, base64): fixed, so a wrong key fails the same way
 * on every run. */
#define FIXED_SECRET "zonelabFixedSecretKey00000000010"
#define FIXED_WRAPPED                                                                              \
    "KZ4Q0IKYjzeyYKV/XsECn55TAq/W5kW6HFcQDjMDGq2tslbV7pF1zt4ujSOte94/fRa3LJMHB7ArWBoGBZoYgo6aEiRt" \
    "oUrclEodshQI1C3VA0pwQC37XLxdILfu1K2iG6fxa5kL3lySkTD9eNLM9SmJLOYzXx2I6AV2pqHLC6HiXgEWLggFvNI+" \
    "8basAx+x+GWd2NMA/WRxj2AaKuZOiaxUXEMklnaUcyV4kN0EjqODAXN8xX0vsTWi0ZmKiPV+idrwnEbGMJpK6WrRgLFE" \
    "s4eRt4gcCuml/zIENcEygjLS3Vz/sTcCZER4Gd1kVw//6c8KLCjsRI2P++shF6mBHQ=="

/* secret wrapped as sync_msg's encrypted_secret_key is: RSA PKCS#1 v1.5 with the public key
 * in the file, base64. Owned, free(). */
static char *wrap_secret(const char *public_pem, const char *secret)
{
    FILE *fp = fopen(public_pem, "r");
    EVP_PKEY *pk;
    EVP_PKEY_CTX *ctx;
    unsigned char ct[512];
    size_t ct_len = sizeof ct;
    char *b64;

    assert_non_null(fp);
    pk = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
    fclose(fp);
    assert_non_null(pk);
    ctx = EVP_PKEY_CTX_new(pk, NULL);
    assert_non_null(ctx);
    assert_true(EVP_PKEY_encrypt_init(ctx) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0);
    assert_true(EVP_PKEY_encrypt(ctx, ct, &ct_len, (const unsigned char *)secret, strlen(secret)) >
                0);
    b64 = malloc(4 * ((ct_len + 2) / 3) + 1);
    assert_non_null(b64);
    EVP_EncodeBlock((unsigned char *)b64, ct, (int)ct_len);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return b64;
}

static void test_zone_demo_msgkey_decrypt(void **state)
{
    char err[512] = "", *got, *fresh = wrap_secret(KEYS "test_v1_public.pem", "key-éé-1");
    char cut[sizeof FIXED_WRAPPED];
    zd_msgkey *k1 = zd_msgkey_load(KEYS "test_v1_private.pem", err, sizeof err);
    zd_msgkey *k2 = zd_msgkey_load(KEYS "test_v2_private.pem", err, sizeof err);

    (void)state;
    assert_non_null(k1);
    assert_non_null(k2);
    got = zd_msgkey_decrypt(k1, FIXED_WRAPPED, err, sizeof err);
    assert_non_null(got);
    assert_string_equal(got, FIXED_SECRET);
    free(got);
    got = zd_msgkey_decrypt(k1, fresh, err, sizeof err); /* fresh random padding, UTF-8 */
    assert_non_null(got);
    assert_string_equal(got, "key-éé-1");
    free(got);

    /* the other key pair's private half: refused, not random bytes */
    err[0] = '\0';
    assert_null(zd_msgkey_decrypt(k2, FIXED_WRAPPED, err, sizeof err));
    assert_non_null(strstr(err, "does not decrypt"));
    /* not base64, empty, truncated, too short for RSA-2048, NULL */
    assert_null(zd_msgkey_decrypt(k1, "not base64!", err, sizeof err));
    assert_non_null(strstr(err, "base64"));
    assert_null(zd_msgkey_decrypt(k1, "", err, sizeof err));
    snprintf(cut, sizeof cut, "%s", FIXED_WRAPPED);
    cut[strlen(cut) - 8] = '\0';
    assert_null(zd_msgkey_decrypt(k1, cut, err, sizeof err));
    assert_null(zd_msgkey_decrypt(k1, "QUJD", err, sizeof err));
    assert_null(zd_msgkey_decrypt(k1, NULL, err, sizeof err));
    assert_null(zd_msgkey_decrypt(NULL, FIXED_WRAPPED, err, sizeof err));
    zd_msgkey_free(k1);
    zd_msgkey_free(k2);
    zd_msgkey_free(NULL);
    free(fresh);
}

static void test_zone_demo_msgkey_load_errors(void **state)
{
    fx *f = *state;
    char err[512] = "", path[128];

    assert_null(zd_msgkey_load("/nonexistent/zd-key.pem", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/zd-key.pem"));
    /* a public key where the private one belongs */
    assert_null(zd_msgkey_load(KEYS "test_v1_public.pem", err, sizeof err));
    assert_non_null(strstr(err, "private key"));
    assert_non_null(strstr(err, "test_v1_public.pem"));
    write_raw(f, "junk.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    snprintf(path, sizeof path, "%s/junk.pem", f->dir);
    assert_null(zd_msgkey_load(path, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(zd_msgkey_from_pem("", 0, err, sizeof err));
    assert_null(zd_msgkey_from_pem(NULL, 10, err, sizeof err));
}

/* ---- open_debug_mode ---- */

static int fake_open_debug_mode(void *ud, const char *debug_token, const char *access_token,
                                char *err, size_t errlen)
{
    (void)ud;
    if (!strcmp(debug_token, "dbg_ok") && !strcmp(access_token, "at_ok"))
        return 1;
    snprintf(err, errlen, "debug mode refused: errcode 710671 debug token expired");
    return 0;
}

static void test_zone_demo_open_debug_mode(void **state)
{
    fx *f = *state;
    char *out;
    cJSON *j;

    f->seam.open_debug_mode = fake_open_debug_mode;
    app_start(f);
    out = handle(f, 1, "open_debug_mode", "",
                 "{\"debug_token\":\"dbg_ok\",\"access_token\":\"at_ok\"}");
    assert_string_equal(out, "{\"errcode\":0,\"errmsg\":\"ok\"}");
    free(out);
    out = handle(f, 1, "open_debug_mode", "",
                 "{\"debug_token\":\"dbg_old\",\"access_token\":\"at_ok\"}");
    j = parse(out);
    assert_int_equal((int)cJSON_GetObjectItem(j, "errcode")->valuedouble, 710660);
    assert_non_null(strstr(json_str(j, "errmsg"), "710671")); /* the SDK's reason */
    cJSON_Delete(j);
    free(out);
    out = handle(f, 1, "open_debug_mode", "", "{\"debug_token\":1}");
    j = parse(out);
    assert_int_equal((int)cJSON_GetObjectItem(j, "errcode")->valuedouble, 710660);
    assert_non_null(strstr(json_str(j, "errmsg"), "debug_token and access_token"));
    cJSON_Delete(j);
    free(out);
    assert_int_equal(f->sdk.n_calls, 0); /* no invoke: the SDK's own debug-mode call */
}

static void test_zone_demo_open_debug_mode_absent(void **state)
{
    fx *f = *state;
    char *out;
    cJSON *j;

    app_start(f); /* a seam without open_debug_mode */
    out = handle(f, 1, "open_debug_mode", "", "{\"debug_token\":\"a\",\"access_token\":\"b\"}");
    j = parse(out);
    assert_int_equal((int)cJSON_GetObjectItem(j, "errcode")->valuedouble, 710660);
    assert_non_null(strstr(json_str(j, "errmsg"), "no debug mode"));
    cJSON_Delete(j);
    free(out);
}

/* ---- echo_input ---- */

static void test_zone_demo_echo_input(void **state)
{
    fx *f = *state;
    static const char *const inputs[] = {
        "{\"ability_id\":\"1\",\"task_type\":\"service_statistics\",\"msg\":\"A说：你好\\n\"}",
        "{\"chat\":\"A(员工)说：hi\",\"content\":\"hi\",\"knowledge\":\"\",\"tags\":\"{}\"}",
        "not JSON at all: \"quoted\", back\\slash, tab\t, newline\n, slash /, {[",
        "",
        "   {\"a\" :  1 }  ", /* spacing kept, never re-printed */
    };
    zd_request rq = {.call_type = 1,
                     .corpid = "wwcorp1",
                     .agentid = 1000002,
                     .ability_id = "echo_input",
                     .job_info = "JOB_E",
                     .is_async = true,
                     .data = inputs[2]};
    char *out;
    cJSON *j, *body;
    size_t i;

    app_start(f);
    for (i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        out = handle(f, 1, "echo_input", "", inputs[i]);
        j = parse(out);
        assert_string_equal(json_str(j, "input"), inputs[i]);
        assert_int_equal(cJSON_GetArraySize(j), 1); /* {"input":...} and nothing else */
        cJSON_Delete(j);
        free(out);
    }
    assert_int_equal(f->sdk.n_calls, 0); /* echo_input calls nothing */

    /* async (as create_program_task / create_model_task deliver it): reported as the result */
    out = zd_handle(f->app, &rq);
    assert_string_equal(out, "{}");
    free(out);
    app_stop(f);
    assert_int_equal(f->sdk.n_calls, 1);
    assert_string_equal(f->sdk.calls[0].api, "program_async_job_call_back");
    assert_string_equal(f->sdk.calls[0].job_info, "JOB_E");
    body = parse(f->sdk.calls[0].request);
    assert_int_equal(json_int(body, "errcode"), 0);
    j = parse(json_str(body, "result"));
    assert_string_equal(json_str(j, "input"), inputs[2]);
    cJSON_Delete(j);
    cJSON_Delete(body);
}

/* ---- the digest's sentiment ---- */

static void test_zone_demo_digest_options(void **state)
{
    char err[200];
    bool on = true;

    (void)state;
    assert_int_equal(zd_digest_options("{}", &on, err, sizeof err), 0);
    assert_false(on);
    assert_int_equal(zd_digest_options("{\"sentiment\":true}", &on, err, sizeof err), 0);
    assert_true(on);
    assert_int_equal(zd_digest_options("{\"sentiment\":false}", &on, err, sizeof err), 0);
    assert_false(on);
    /* what the digest always took: anything, ignored */
    assert_int_equal(zd_digest_options("not json", &on, err, sizeof err), 0);
    assert_false(on);
    assert_int_equal(zd_digest_options("[true]", &on, err, sizeof err), 0);
    assert_false(on);
    assert_int_equal(zd_digest_options("", &on, err, sizeof err), 0);
    assert_int_equal(zd_digest_options(NULL, &on, err, sizeof err), 0);
    assert_false(on);
    /* a sentiment that is not a bool is a mistake worth saying */
    assert_int_equal(zd_digest_options("{\"sentiment\":\"yes\"}", &on, err, sizeof err), -1);
    assert_non_null(strstr(err, "true or false"));
    assert_false(on);
    assert_int_equal(zd_digest_options("{\"sentiment\":1}", &on, err, sizeof err), -1);

    assert_true(zd_sentiment_msgtype(1));
    assert_true(zd_sentiment_msgtype(6));
    assert_true(zd_sentiment_msgtype(21));
    assert_false(zd_sentiment_msgtype(0));
    assert_false(zd_sentiment_msgtype(2));
    assert_false(zd_sentiment_msgtype(22));
}

/* A sync_msg msg_list item; wrapped is its encrypted_secret_key (NULL: no
 * service_encrypt_info). */
static void add_msg(cJSON *list, const char *msgid, int msgtype, const char *wrapped)
{
    cJSON *m = cJSON_CreateObject(), *s = cJSON_AddObjectToObject(m, "sender");

    cJSON_AddStringToObject(m, "msgid", msgid);
    cJSON_AddNumberToObject(s, "type", 1);
    cJSON_AddStringToObject(s, "id", "zhangsan");
    cJSON_AddNumberToObject(m, "msgtype", msgtype);
    if (wrapped) {
        cJSON *e = cJSON_AddObjectToObject(m, "service_encrypt_info");

        cJSON_AddStringToObject(e, "encrypted_secret_key", wrapped);
        cJSON_AddNumberToObject(e, "public_key_ver", 1);
    }
    cJSON_AddItemToArray(list, m);
}

/* A last sync_msg page (has_more 0) holding list (taken). Owned, free(). */
static char *page_of(cJSON *list, const char *next_cursor)
{
    cJSON *p = cJSON_CreateObject();
    char *text;

    cJSON_AddNumberToObject(p, "errcode", 0);
    cJSON_AddStringToObject(p, "errmsg", "ok");
    cJSON_AddNumberToObject(p, "has_more", 0);
    cJSON_AddStringToObject(p, "next_cursor", next_cursor);
    cJSON_AddItemToObject(p, "msg_list", list);
    text = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    return text;
}

static const cJSON *sentiment_of(const cJSON *digest)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(digest, "sentiment");

    if (!cJSON_IsObject(s))
        fail_msg("the digest has no sentiment object");
    return s;
}

/* Asserts the sentiment counts, and that they add up to the messages handed in. */
static void assert_sentiment(const cJSON *digest, int analysed, int positive, int negative,
                             int none, int failed, int unfinished)
{
    const cJSON *s = sentiment_of(digest);

    assert_int_equal(json_int(s, "analysed"), analysed);
    assert_int_equal(json_int(s, "positive"), positive);
    assert_int_equal(json_int(s, "negative"), negative);
    assert_int_equal(json_int(s, "none"), none);
    assert_int_equal(json_int(s, "failed"), failed);
    assert_int_equal(json_int(s, "unfinished"), unfinished);
    assert_int_equal(analysed, positive + negative + none);
    assert_int_equal(analysed + failed + unfinished,
                     count_type(digest, 1) + count_type(digest, 6) + count_type(digest, 21));
}

static void test_zone_demo_digest_sentiment_counts(void **state)
{
    fx *f = *state;
    cJSON *list = cJSON_CreateArray(), *d, *req;
    char *w1 = wrap_secret(KEYS "test_v1_public.pem", "secret-one");
    char *w2 = wrap_secret(KEYS "test_v1_public.pem", "secret-two");
    char *w5 = wrap_secret(KEYS "test_v2_public.pem", "secret-five"); /* another key version */
    char *page, *out;
    const cJSON *items;

    add_msg(list, "m1", 1, w1);
    add_msg(list, "m2", 6, w2);
    add_msg(list, "m3", 21, FIXED_WRAPPED);
    add_msg(list, "m4", 2, w1); /* an image: not analysed, whatever its key */
    add_msg(list, "m5", 1, w5);
    add_msg(list, "m6", 1, NULL); /* no key at all */
    page = page_of(list, "cur1");
    fake_script(&f->sdk, "sync_msg", 0, page);
    fake_script(&f->sdk, "create_sentiment_task", 0,
                "{\"errcode\":0,\"errmsg\":\"ok\",\"jobid\":\"J1\",\"fail_list\":[]}");
    fake_script(&f->sdk, "get_sentiment_result", 0,
                "{\"errcode\":0,\"errmsg\":\"ok\",\"status\":0,\"fail_list\":[],"
                "\"analyze_result_list\":[{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"m1\"},"
                "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"m2\"},"
                "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"m3\"}]}");
    fake_script(&f->sdk, "get_sentiment_result", 0,
                "{\"errcode\":0,\"errmsg\":\"ok\",\"status\":1,"
                "\"fail_list\":[{\"errcode\":710602,\"errmsg\":\"x\",\"msgid\":\"m3\"}],"
                "\"analyze_result_list\":["
                "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"m1\",\"sentiment_result\":1},"
                "{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"m2\",\"sentiment_result\":2},"
                "{\"errcode\":710602,\"errmsg\":\"x\",\"msgid\":\"m3\"}]}");
    snprintf(f->cfg.private_key, sizeof f->cfg.private_key, "%s", KEYS "test_v1_private.pem");
    app_start(f);
    out = handle(f, 1, "new_messages_digest", "", "{\"sentiment\":true}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), 0);
    assert_int_equal(json_int(d, "total"), 6);
    /* m1 positive, m2 negative; m3 failed in the task, m5 and m6 had no usable key */
    assert_sentiment(d, 2, 1, 1, 0, 3, 0);
    cJSON_Delete(d);

    assert_int_equal(f->sdk.n_calls, 4);
    assert_string_equal(f->sdk.calls[1].api, "create_sentiment_task");
    assert_string_equal(f->sdk.calls[1].ability_id, "new_messages_digest");
    req = parse(f->sdk.calls[1].request);
    items = cJSON_GetObjectItemCaseSensitive(req, "msg_list");
    assert_int_equal(cJSON_GetArraySize(items), 3);
    assert_string_equal(json_str(cJSON_GetArrayItem(items, 0), "msgid"), "m1");
    assert_string_equal(
        json_str(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "encrypt_info"), "secret_key"),
        "secret-one");
    assert_string_equal(json_str(cJSON_GetArrayItem(items, 1), "msgid"), "m2");
    assert_string_equal(
        json_str(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 1), "encrypt_info"), "secret_key"),
        "secret-two");
    assert_string_equal(json_str(cJSON_GetArrayItem(items, 2), "msgid"), "m3");
    assert_string_equal(
        json_str(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 2), "encrypt_info"), "secret_key"),
        FIXED_SECRET);
    cJSON_Delete(req);
    assert_string_equal(f->sdk.calls[2].api, "get_sentiment_result");
    assert_string_equal(f->sdk.calls[2].request, "{\"jobid\":\"J1\"}");
    assert_string_equal(f->sdk.calls[3].api, "get_sentiment_result");
    assert_int_equal(n_sleeps, 1); /* one poll interval between the two results */
    assert_int_equal(sleeps[0], 100);

    /* the same digest without asking: no model call, no sentiment key, as it always was */
    fake_script(&f->sdk, "sync_msg", 0, "{\"errcode\":0,\"errmsg\":\"ok\",\"has_more\":0}");
    out = handle(f, 1, "new_messages_digest", "", "{\"sentiment\":false}");
    d = parse(out);
    free(out);
    assert_null(cJSON_GetObjectItemCaseSensitive(d, "sentiment"));
    cJSON_Delete(d);
    assert_int_equal(f->sdk.n_calls, 5);
    free(page);
    free(w1);
    free(w2);
    free(w5);
}

/* 1001 messages: two tasks of 1000 and 1. The first lists a duplicate and never finishes
 * within --model-wait-ms, the second fails. */
static void test_zone_demo_digest_sentiment_chunks_and_wait(void **state)
{
    fx *f = *state;
    cJSON *list = cJSON_CreateArray(), *d, *req;
    char *page, *out, id[16];
    size_t i, slept = 0;
    int k;

    for (k = 0; k < 1001; k++) {
        snprintf(id, sizeof id, "m%04d", k);
        add_msg(list, id, k % 3 == 0 ? 1 : k % 3 == 1 ? 6 : 21, FIXED_WRAPPED);
    }
    page = page_of(list, "cur1");
    fake_script(&f->sdk, "sync_msg", 0, page);
    fake_script(&f->sdk, "create_sentiment_task", 0,
                "{\"errcode\":0,\"errmsg\":\"ok\",\"jobid\":\"J1\",\"fail_list\":[{\"errcode\":"
                "710613,\"errmsg\":\"dup\",\"msgid\":\"m0007\"}]}");
    fake_script(&f->sdk, "create_sentiment_task", 0,
                "{\"errcode\":0,\"errmsg\":\"ok\",\"jobid\":\"J2\",\"fail_list\":[]}");
    /* first round: J1 still running, J2 failed; later rounds: J1 still running */
    fake_script(&f->sdk, "get_sentiment_result", 0,
                "{\"errcode\":0,\"errmsg\":\"ok\",\"status\":0,\"fail_list\":[]}");
    fake_script(&f->sdk, "get_sentiment_result", 0,
                "{\"errcode\":710633,\"errmsg\":\"failed\",\"status\":2}");
    for (k = 0; k < 8; k++)
        fake_script(&f->sdk, "get_sentiment_result", 0,
                    "{\"errcode\":0,\"errmsg\":\"ok\",\"status\":0,\"fail_list\":[]}");
    snprintf(f->cfg.private_key, sizeof f->cfg.private_key, "%s", KEYS "test_v1_private.pem");
    f->cfg.model_wait_ms = 250;
    app_start(f);
    out = handle(f, 1, "new_messages_digest", "", "{\"sentiment\":true}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), 0);
    assert_int_equal(json_int(d, "total"), 1001);
    /* the duplicate and J2's message failed; J1's other 999 were unfinished at the deadline */
    assert_sentiment(d, 0, 0, 0, 0, 2, 999);
    cJSON_Delete(d);

    assert_string_equal(f->sdk.calls[1].api, "create_sentiment_task");
    req = parse(f->sdk.calls[1].request);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(req, "msg_list")), 1000);
    cJSON_Delete(req);
    assert_string_equal(f->sdk.calls[2].api, "create_sentiment_task");
    req = parse(f->sdk.calls[2].request);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(req, "msg_list")), 1);
    assert_string_equal(
        json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(req, "msg_list"), 0), "msgid"), "m1000");
    cJSON_Delete(req);
    /* the wait: 100 ms rounds, the last one cut to what was left, 250 ms in all */
    for (i = 0; i < n_sleeps; i++) {
        assert_true(sleeps[i] <= 100);
        slept += sleeps[i];
    }
    assert_int_equal(slept, 250);
    assert_int_equal(n_sleeps, 3);
    /* a get per round for J1 (4 rounds: 0, 100, 200, 250 ms), one for J2 */
    assert_int_equal(f->sdk.n_calls, 3 + 4 + 1);
    free(page);
}

static void test_zone_demo_digest_sentiment_task_errors(void **state)
{
    fx *f = *state;
    cJSON *list, *d;
    char *pages[3], *out, id[8];
    int i;

    for (i = 0; i < 3; i++) {
        list = cJSON_CreateArray();
        snprintf(id, sizeof id, "m%d", i);
        add_msg(list, id, 1, FIXED_WRAPPED);
        pages[i] = page_of(list, i == 0 ? "c1" : i == 1 ? "c2" : "c3");
        fake_script(&f->sdk, "sync_msg", 0, pages[i]);
    }
    fake_script(&f->sdk, "create_sentiment_task", ZD_SDK_NETWORK, NULL);
    fake_script(&f->sdk, "create_sentiment_task", 0,
                "{\"errcode\":45009,\"errmsg\":\"over the daily quota\"}");
    fake_script(&f->sdk, "create_sentiment_task", 0,
                "{\"errcode\":0,\"errmsg\":\"ok\",\"jobid\":\"J3\",\"fail_list\":[]}");
    fake_script(&f->sdk, "get_sentiment_result", ZD_SDK_NETWORK, NULL); /* tried again */
    fake_script(&f->sdk, "get_sentiment_result", 0,
                "{\"errcode\":0,\"errmsg\":\"ok\",\"status\":1,\"fail_list\":[],"
                "\"analyze_result_list\":[{\"errcode\":0,\"errmsg\":\"ok\",\"msgid\":\"m2\","
                "\"sentiment_result\":0}]}");
    snprintf(f->cfg.private_key, sizeof f->cfg.private_key, "%s", KEYS "test_v1_private.pem");
    app_start(f);
    for (i = 0; i < 3; i++) {
        out = handle(f, 1, "new_messages_digest", "", "{\"sentiment\":true}");
        d = parse(out);
        free(out);
        assert_int_equal(json_int(d, "errcode"), 0); /* the digest itself worked */
        assert_int_equal(json_int(d, "total"), 1);
        if (i < 2)
            assert_sentiment(d, 0, 0, 0, 0, 1, 0); /* the create failed: its message failed */
        else
            assert_sentiment(d, 1, 0, 0, 1, 0, 0);
        cJSON_Delete(d);
        free(pages[i]);
    }
    assert_int_equal(n_sleeps, 1);
}

static void test_zone_demo_digest_sentiment_refused(void **state)
{
    fx *f = *state;
    char *out, cur[64];
    cJSON *d;

    app_start(f); /* no --private-key */
    out = handle(f, 1, "new_messages_digest", "", "{\"sentiment\":true}");
    assert_error(out, SAMPLE_ERR, "--private-key");
    free(out);
    out = handle(f, 1, "new_messages_digest", "", "{\"sentiment\":\"yes\"}");
    assert_error(out, SAMPLE_ERR, "true or false");
    free(out);
    /* refused before anything was synced: no call, the cursor where it was */
    assert_int_equal(f->sdk.n_calls, 0);
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 1);

    /* a key that does not load: the answer says which file and why, and nothing crashes */
    app_stop(f);
    snprintf(f->cfg.private_key, sizeof f->cfg.private_key, "%s", KEYS "test_v1_public.pem");
    app_start(f);
    out = handle(f, 1, "new_messages_digest", "", "{\"sentiment\":true}");
    assert_error(out, SAMPLE_ERR, "test_v1_public.pem");
    free(out);
    assert_int_equal(f->sdk.n_calls, 0);
    /* the plain digest still works */
    fake_script(&f->sdk, "sync_msg", 0, "{\"errcode\":0,\"errmsg\":\"ok\",\"has_more\":0}");
    out = handle(f, 1, "new_messages_digest", "", "{}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(d, "sentiment"));
    cJSON_Delete(d);
}

/* A key that decrypts none of the message keys: an error that says so, with the digest's
 * counts (those messages are past the saved cursor now) and no model task. */
static void test_zone_demo_digest_sentiment_wrong_key(void **state)
{
    fx *f = *state;
    cJSON *list = cJSON_CreateArray(), *d;
    char *page, *out, cur[64];
    size_t i;

    add_msg(list, "m1", 1, FIXED_WRAPPED);
    add_msg(list, "m2", 6, FIXED_WRAPPED);
    add_msg(list, "m3", 2, FIXED_WRAPPED);
    page = page_of(list, "cur9");
    fake_script(&f->sdk, "sync_msg", 0, page);
    snprintf(f->cfg.private_key, sizeof f->cfg.private_key, "%s", KEYS "test_v2_private.pem");
    app_start(f);
    out = handle(f, 1, "new_messages_digest", "", "{\"sentiment\":true}");
    d = parse(out);
    free(out);
    assert_int_equal(json_int(d, "errcode"), SAMPLE_ERR);
    assert_non_null(strstr(json_str(d, "errmsg"), "decrypts none"));
    assert_int_equal(json_int(d, "total"), 3);
    assert_sentiment(d, 0, 0, 0, 0, 2, 0);
    cJSON_Delete(d);
    for (i = 0; i < f->sdk.n_calls; i++)
        assert_string_equal(f->sdk.calls[i].api, "sync_msg");
    assert_int_equal(zd_cursor_get(f->store, "wwcorp1", 1000002, cur, sizeof cur), 0);
    assert_string_equal(cur, "cur9");
    free(page);
}

/* ---- async ---- */

static bool async_done_at_least(zd_app *a, uint64_t n)
{
    struct timespec ms = {0, 1000000L};
    zd_stats st;
    int i;

    for (i = 0; i < 10000; i++) { /* 10 s at most */
        zd_app_stats(a, &st);
        if (st.async_done >= n)
            return true;
        nanosleep(&ms, NULL);
    }
    return false;
}

static void test_zone_demo_async_reports_result(void **state)
{
    fx *f = *state;
    const char *rsp = "{\"errcode\":0,\"errmsg\":\"ok\",\"msg_list\":[]}";
    zd_request rq = {.call_type = 1,
                     .corpid = "wwcorp1",
                     .agentid = 1000002,
                     .ability_id = "invoke_sync_msg",
                     .job_info = "JOB_42",
                     .is_async = true,
                     .data = "{\"limit\":10}"};
    char *out;
    cJSON *body;
    zd_stats st;

    fake_script(&f->sdk, "sync_msg", 0, rsp);
    app_start(f);
    out = zd_handle(f->app, &rq);
    assert_non_null(out);
    assert_string_equal(out, "{}");
    free(out);
    assert_true(fake_wait(&f->sdk, calls_at_least, 2));
    assert_true(async_done_at_least(f->app, 1));
    zd_app_stats(f->app, &st);
    assert_int_equal(st.async_done, 1);
    assert_int_equal(st.async_rejected, 0);
    app_stop(f);

    assert_int_equal(f->sdk.n_calls, 2);
    assert_string_equal(f->sdk.calls[0].api, "sync_msg");
    assert_string_equal(f->sdk.calls[0].request, "{\"limit\":10}");
    assert_string_equal(f->sdk.calls[1].api, "program_async_job_call_back");
    assert_string_equal(f->sdk.calls[1].job_info, "JOB_42");
    assert_string_equal(f->sdk.calls[1].corpid, "wwcorp1");
    assert_int_equal(f->sdk.calls[1].agentid, 1000002);
    assert_string_equal(f->sdk.calls[1].ability_id, "invoke_sync_msg");
    body = parse(f->sdk.calls[1].request);
    assert_int_equal(json_int(body, "errcode"), 0);
    assert_string_equal(json_str(body, "result"), rsp);
    cJSON_Delete(body);
}

static void test_zone_demo_async_failure_reported(void **state)
{
    fx *f = *state;
    zd_request rq = {.call_type = 1,
                     .corpid = "wwcorp1",
                     .agentid = 1000002,
                     .ability_id = "no_such_ability",
                     .job_info = "JOB_7",
                     .is_async = true,
                     .data = "{}"};
    char *out;
    cJSON *body, *result;

    app_start(f);
    out = zd_handle(f->app, &rq);
    assert_string_equal(out, "{}");
    free(out);
    app_stop(f); /* drains the queue */
    assert_int_equal(f->sdk.n_calls, 1);
    assert_string_equal(f->sdk.calls[0].api, "program_async_job_call_back");
    assert_string_equal(f->sdk.calls[0].job_info, "JOB_7");
    body = parse(f->sdk.calls[0].request);
    assert_int_equal(json_int(body, "errcode"), SAMPLE_ERR);
    result = parse(json_str(body, "result"));
    assert_int_equal(json_int(result, "errcode"), SAMPLE_ERR);
    cJSON_Delete(result);
    cJSON_Delete(body);
}

static void test_zone_demo_async_queue_full(void **state)
{
    fx *f = *state;
    zd_request rq = {.call_type = 1,
                     .corpid = "wwcorp1",
                     .agentid = 1000002,
                     .ability_id = "invoke_sync_msg",
                     .job_info = "J",
                     .is_async = true,
                     .data = "{}"};
    char *out;
    zd_stats st;
    size_t i, callbacks = 0;

    f->cfg.async_workers = 1;
    f->cfg.async_queue = 1;
    f->sdk.hold_api = "sync_msg";
    f->sdk.hold = true;
    app_start(f);

    out = zd_handle(f->app, &rq); /* taken by the worker, which then blocks */
    assert_string_equal(out, "{}");
    free(out);
    assert_true(fake_wait(&f->sdk, entered_at_least, 1));
    out = zd_handle(f->app, &rq); /* waits in the queue */
    assert_string_equal(out, "{}");
    free(out);
    out = zd_handle(f->app, &rq); /* one too many */
    assert_error(out, SAMPLE_ERR, NULL);
    free(out);
    zd_app_stats(f->app, &st);
    assert_int_equal(st.async_rejected, 1);
    assert_int_equal(st.async_done, 0);

    fake_release(&f->sdk);
    app_stop(f);
    for (i = 0; i < f->sdk.n_calls; i++)
        callbacks += !strcmp(f->sdk.calls[i].api, "program_async_job_call_back");
    assert_int_equal(callbacks, 2);
    assert_int_equal(f->sdk.n_calls, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone_demo_config_defaults),
        cmocka_unit_test(test_zone_demo_config_flags_override_env),
        cmocka_unit_test(test_zone_demo_config_help),
        cmocka_unit_test(test_zone_demo_config_bad_values),
        cmocka_unit_test(test_zone_demo_config_port_precedence),
        cmocka_unit_test(test_zone_demo_store_notify_id_ok),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_put_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_mark_notified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_each_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_damaged_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_shared_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_cleanup_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_token_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_reopen_keeps_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_large_event_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_long_cursor_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_invoke_passthrough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_invoke_sdk_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_unknown_ability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_get_callback_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_event_stored_then_notified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_events_concurrent_all_stored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_event_notify_scene_from_config, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_event_retry_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_event_retries_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_event_other_failures_not_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_maintain_renotifies_and_cleans, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_event_without_notify_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_renotify_skips_ids_in_flight, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_renotify_counts_its_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_digest_pages_and_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_digest_sends_event_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_digest_token_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_token_saved_once_a_minute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_digest_errors, setup, teardown),
        cmocka_unit_test(test_zone_demo_msgkey_decrypt),
        cmocka_unit_test_setup_teardown(test_zone_demo_msgkey_load_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_echo_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_open_debug_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_open_debug_mode_absent, setup, teardown),
        cmocka_unit_test(test_zone_demo_digest_options),
        cmocka_unit_test_setup_teardown(test_zone_demo_digest_sentiment_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_digest_sentiment_chunks_and_wait, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_digest_sentiment_task_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_digest_sentiment_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_digest_sentiment_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_async_reports_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_async_failure_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_async_queue_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zone_demo_store_get_while_marked, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
