/* test_zone_demo: the reference program under `zonelab serve --program`: its HTTP side, each
 * ability, an async call, the event -> notify -> get_callback_data flow, no event lost when it
 * is killed between storing an event and notifying the app, echo_input byte for byte (also
 * for a request only a raw sealed call can carry), and the digest's sentiment counts against
 * the emulator's lexicon. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"
#include "wire.h"
#include "zd.h"

#define KEYS ZL_SOURCE_DIR "/fixtures/keys/"

static char data_dir[256];
static char program_cmd[1024];

static void rm_rf(const char *path)
{
    char cmd[600];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

/* Two replicas sharing one data folder: either can answer get_callback_data. */
static int start_two(void **state)
{
    const char *args[] = {"--port", "0", "--program", program_cmd, "--replicas", "2", NULL};

    (void)state;
    snprintf(data_dir, sizeof data_dir, "/tmp/zl_zone_demo_XXXXXX");
    assert_non_null(mkdtemp(data_dir));
    snprintf(program_cmd, sizeof program_cmd, "exec '%s' --data-dir '%s' --threads 2", ZONE_DEMO,
             data_dir);
    serve_start(args);
    expect("set_receive_callback", "{\"program_id\":\"zone-demo\"}", 0);
    return 0;
}

static int stop_and_clean(void **state)
{
    (void)state;
    serve_stop();
    rm_rf(data_dir);
    return 0;
}

static unsigned replica_port(int i)
{
    cJSON *p = program_state("zone-demo");
    unsigned out = (unsigned)cJSON_GetObjectItem(
                       cJSON_GetArrayItem(cJSON_GetObjectItem(p, "replicas"), i), "port")
                       ->valuedouble;

    cJSON_Delete(p);
    return out;
}

/* A raw request to a replica; returns the status and, when headers is given, whether the
 * ww-exception header came back. */
static long raw(unsigned to, const char *method, const char *path, const char *body,
                size_t body_len, int *exception)
{
    CURL *c = curl_easy_init();
    char url[128];
    long status = 0;
    struct curl_header *h;

    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", to, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (exception)
        *exception = curl_easy_header(c, "ww-exception", 0, CURLH_HEADER, -1, &h) == CURLHE_OK;
    curl_easy_cleanup(c);
    return status;
}

/* Seals cb as zonelab seals a callback and POSTs it straight to the replica on port to.
 * 0 and its answer, opened (*out, the caller frees); -1 with why. No assert: threads call it. */
static int post_sealed(const zone_wire_keys *keys, unsigned to, const zone_wire_callback *cb,
                       char **out, char *why, size_t whylen)
{
    char *plain, *body = NULL, *opened = NULL, url[64], hv[4][320];
    char names[8][64], values[8][320];
    struct curl_slist *hdrs = NULL;
    zone_wire_sealed_headers h;
    zone_wire_header got[8];
    zone_wire_reply reply = {0};
    struct curl_header *ch, *prev = NULL;
    size_t n = 0, olen = 0;
    long status = 0;
    CURL *c = NULL;
    struct {
        char *data;
        size_t len;
    } b = {0};
    FILE *mem = NULL;
    int rc = -1;

    *out = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", to);
    if (!(plain = zone_wire_callback_encode(cb)) ||
        zone_wire_seal(keys, NULL, "POST", ZONE_WIRE_CALLBACK_PATH, plain, strlen(plain), &h,
                       &body) != ZONE_WIRE_OK) {
        snprintf(why, whylen, "cannot seal the call");
        goto out;
    }
    snprintf(hv[0], sizeof hv[0], "ww-secret-ver: %s", h.secret_ver);
    snprintf(hv[1], sizeof hv[1], "ww-timestamp: %s", h.timestamp);
    snprintf(hv[2], sizeof hv[2], "ww-nonce: %s", h.nonce);
    snprintf(hv[3], sizeof hv[3], "ww-signature: %s", h.signature);
    for (n = 0; n < 4; n++)
        hdrs = curl_slist_append(hdrs, hv[n]);
    hdrs = curl_slist_append(hdrs, "Content-Type: text/plain");
    mem = open_memstream(&b.data, &b.len);
    c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(c) != CURLE_OK) {
        snprintf(why, whylen, "the POST to port %u failed", to);
        goto out;
    }
    fclose(mem);
    mem = NULL;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        snprintf(why, whylen, "HTTP %ld", status);
        goto out;
    }
    n = 0;
    while (n < 8 && (ch = curl_easy_nextheader(c, CURLH_HEADER, -1, prev))) {
        prev = ch;
        if (strncmp(ch->name, "ww-", 3) && strncmp(ch->name, "Ww-", 3))
            continue;
        snprintf(names[n], sizeof names[n], "%s", ch->name);
        snprintf(values[n], sizeof values[n], "%s", ch->value);
        got[n] = (zone_wire_header){.name = names[n], .value = values[n]};
        if (!strcasecmp(names[n], ZONE_WIRE_H_EXCEPTION)) {
            snprintf(why, whylen, "an exception reply: %s", values[n]);
            goto out;
        }
        n++;
    }
    if (zone_wire_open(keys, NULL, NULL, ZONE_WIRE_REPLY_METHOD, ZONE_WIRE_CALLBACK_PATH, got, n,
                       b.data, b.len, &opened, &olen, why, whylen) != ZONE_WIRE_OK ||
        zone_wire_reply_decode(opened, olen, &reply) != ZONE_WIRE_OK || reply.exception) {
        if (!*why)
            snprintf(why, whylen, "the reply does not open");
        goto out;
    }
    *out = strdup(reply.response);
    rc = *out ? 0 : -1;
out:
    zone_wire_reply_cleanup(&reply);
    if (mem)
        fclose(mem);
    free(opened);
    free(b.data);
    free(body);
    free(plain);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return rc;
}

static void test_http_side(void **state)
{
    unsigned p = replica_port(0);
    char *big;
    int exc = 0;

    (void)state;
    assert_int_equal(raw(p, "GET", "/healthz", NULL, 0, NULL), 200);
    assert_int_equal(raw(p, "GET", "/", NULL, 0, NULL), 405);
    assert_int_equal(raw(p, "PUT", "/", "x", 1, NULL), 405);
    /* Not signed: answered 200 with the SDK's exception reply. */
    assert_int_equal(raw(p, "POST", "/", "{}", 2, &exc), 200);
    assert_true(exc);
    big = calloc(1, (2u << 20) + 1); /* over the 1 MiB cap */
    memset(big, 'a', 2u << 20);
    assert_int_equal(raw(p, "POST", "/", big, 2u << 20, NULL), 413);
    free(big);
}

static cJSON *call_ability(const char *ability, const char *request_data, const char *nid)
{
    cJSON *req = cJSON_CreateObject(), *j;
    char *body;

    cJSON_AddStringToObject(req, "program_id", "zone-demo");
    cJSON_AddStringToObject(req, "ability_id", ability);
    cJSON_AddStringToObject(req, "request_data", request_data);
    if (nid)
        cJSON_AddStringToObject(req, "notify_id", nid);
    body = cJSON_PrintUnformatted(req);
    j = app("sync_call_program", body);
    free(body);
    cJSON_Delete(req);
    if (errcode_of(j) != 0)
        fail_msg("%s: %s", ability, cJSON_PrintUnformatted(j));
    return j;
}

/* response_data of a successful call, parsed. */
static cJSON *answer_of(cJSON *reply)
{
    cJSON *a = cJSON_Parse(str_of(reply, "response_data"));

    assert_non_null(a);
    cJSON_Delete(reply);
    return a;
}

static void test_invoke_abilities(void **state)
{
    cJSON *a, *p;
    char req[256];
    int n = 0, i;

    (void)state;
    a = answer_of(call_ability("invoke_sync_msg", "{\"limit\":5}", NULL));
    assert_int_equal(errcode_of(a), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a, "msg_list")), 5);
    cJSON_Delete(a);
    a = answer_of(call_ability("invoke_sync_msg", "{\"limit\":10,\"mode\":1}", NULL));
    p = cJSON_GetObjectItem(a, "page_id_list");
    assert_true(cJSON_GetArraySize(p) >= 3);
    for (i = 0; i < cJSON_GetArraySize(p); i++) {
        cJSON *pg;

        snprintf(req, sizeof req, "{\"page_id\":\"%s\"}", cJSON_GetArrayItem(p, i)->valuestring);
        pg = answer_of(call_ability("invoke_get_msg_list_by_page_id", req, NULL));
        n += cJSON_GetArraySize(cJSON_GetObjectItem(pg, "msg_list"));
        cJSON_Delete(pg);
    }
    assert_int_equal(n, 22); /* the default world's messages */
    cJSON_Delete(a);
    /* An SDK error is the API's answer, passed through verbatim. */
    a = answer_of(call_ability("invoke_sync_msg", "{\"cursor\":\"forged\"}", NULL));
    assert_int_equal(errcode_of(a), 710611);
    cJSON_Delete(a);
}

static int total_of(cJSON *a)
{
    int t;

    assert_int_equal(errcode_of(a), 0);
    t = (int)cJSON_GetObjectItem(a, "total")->valuedouble;
    cJSON_Delete(a);
    return t;
}

static void test_digest_and_async(void **state)
{
    cJSON *a, *e;
    char body[256];
    int i, code = -1, zhangsan = 0;

    (void)state;
    a = answer_of(call_ability("new_messages_digest", "{}", NULL));
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(a, "by_sender"))
    {
        if (!strcmp(str_of(e, "id"), "zhangsan"))
            zhangsan = (int)cJSON_GetObjectItem(e, "count")->valuedouble;
    }
    assert_true(zhangsan > 0);
    assert_true(total_of(a) >= 22);
    /* The cursor was saved: nothing new now, on either replica (they share the folder). */
    assert_int_equal(total_of(answer_of(call_ability("new_messages_digest", "{}", NULL))), 0);
    assert_int_equal(total_of(answer_of(call_ability("new_messages_digest", "{}", NULL))), 0);
    archive("digest_1", NULL, 0);
    archive("digest_2", NULL, 0);
    /* Async: the digest runs on a worker and comes back through async_program_result. */
    a = app("async_program_task",
            "{\"program_id\":\"zone-demo\",\"ability_id\":\"new_messages_digest\","
            "\"request_data\":\"{}\"}");
    assert_int_equal(errcode_of(a), 0);
    snprintf(body, sizeof body, "{\"jobid\":\"%s\"}", str_of(a, "jobid"));
    cJSON_Delete(a);
    for (i = 0; i < 500 && code != 0; i++) {
        a = app("async_program_result", body);
        code = errcode_of(a);
        if (code == 0) {
            cJSON *r = cJSON_Parse(str_of(a, "response_data"));

            assert_int_equal((int)cJSON_GetObjectItem(a, "response_errcode")->valuedouble, 0);
            assert_int_equal(total_of(r), 2);
        } else {
            assert_int_equal(code, 710642);
            sleep_ms(10);
        }
        cJSON_Delete(a);
    }
    assert_int_equal(code, 0);
}

static void test_event_notify_get_callback_data(void **state)
{
    uint64_t since = inbox_last();
    char tok_a[64], tok_b[64];
    bool got_a = false, got_b = false;
    cJSON *list = NULL, *n, *a;
    int want;

    (void)state;
    archive("flow_a", tok_a, sizeof tok_a);
    archive("flow_b", tok_b, sizeof tok_b);
    /* The replicas notify as they finish, and the previous test's events may still be on
     * their way: read the inbox until both events came back through their notify ids. Each
     * notify id must give back the event it was issued for, so the tokens must match. */
    for (want = 2; want <= 8 && !(got_a && got_b); want++) {
        cJSON_Delete(list);
        list = inbox(since, want);
        got_a = got_b = false;
        cJSON_ArrayForEach(n, list)
        {
            const char *tok;

            assert_int_equal((int)cJSON_GetObjectItem(n, "notify_scene")->valuedouble, 1);
            a = answer_of(call_ability("get_callback_data", "{}", str_of(n, "notify_id")));
            assert_string_equal(str_of(a, "event_type"), "conversation_new_message");
            tok = str_of(cJSON_GetObjectItem(a, "conversation_new_message"), "token");
            got_a = got_a || !strcmp(tok, tok_a);
            got_b = got_b || !strcmp(tok, tok_b);
            cJSON_Delete(a);
        }
    }
    cJSON_Delete(list);
    assert_true(got_a && got_b);
    /* Unknown notify ids get the sample convention's error, not a crash or a path. */
    a = answer_of(call_ability("get_callback_data", "{}", NULL));
    assert_int_equal(errcode_of(a), 710660);
    cJSON_Delete(a);
}

/* Many events at once, sealed as the emulator seals them and posted straight to a replica
 * by several threads: each is answered {"errcode":0} (stored on disk and the app notified
 * before the answer), and each notify id gives back its own event. */
#define CONC_THREADS 8
#define CONC_EACH    6

typedef struct conc_sender {
    const zone_wire_keys *keys;
    unsigned to, first;
    int ok;
    char why[200];
} conc_sender;

static void *send_concurrent(void *ud)
{
    conc_sender *s = ud;
    unsigned i;

    for (i = s->first; i < s->first + CONC_EACH; i++) {
        char data[160], req_id[17], *out = NULL;
        zone_wire_callback cb = {.corpid = CORP1,
                                 .data = data,
                                 .job_info = "",
                                 .ability_id = "",
                                 .notify_id = "",
                                 .req_id = req_id,
                                 .agentid = 1000002,
                                 .call_type = 2};
        cJSON *a;

        snprintf(data, sizeof data,
                 "{\"event_type\":\"conversation_new_message\",\"timestamp\":1,"
                 "\"conversation_new_message\":{\"token\":\"tk_conc_%u\"}}",
                 i);
        snprintf(req_id, sizeof req_id, "%016x", 0xc0000u + i);
        if (post_sealed(s->keys, s->to, &cb, &out, s->why, sizeof s->why) != 0)
            return NULL;
        a = cJSON_Parse(out);
        if (errcode_of(a) == 0)
            s->ok++;
        else
            snprintf(s->why, sizeof s->why, "answered %s", out);
        cJSON_Delete(a);
        free(out);
    }
    return NULL;
}

static void test_concurrent_events_all_stored(void **state)
{
    const unsigned n = CONC_THREADS * CONC_EACH;
    uint64_t since = inbox_last();
    cJSON *p = program_state("zone-demo"), *list, *e;
    conc_sender senders[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    bool seen[CONC_THREADS * CONC_EACH] = {false};
    zone_wire_keys keys;
    unsigned i, to, found = 0;

    (void)state;
    assert_int_equal(
        zone_wire_keys_init(&keys, str_of(p, "secret"),
                            (uint32_t)cJSON_GetObjectItem(p, "secret_ver")->valuedouble),
        ZONE_WIRE_OK);
    to = (unsigned)cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "replicas"), 0),
                                       "port")
             ->valuedouble;
    cJSON_Delete(p);
    for (i = 0; i < CONC_THREADS; i++) {
        senders[i] = (conc_sender){.keys = &keys, .to = to, .first = i * CONC_EACH};
        assert_int_equal(pthread_create(&th[i], NULL, send_concurrent, &senders[i]), 0);
    }
    for (i = 0; i < CONC_THREADS; i++) {
        pthread_join(th[i], NULL);
        if (senders[i].ok != CONC_EACH)
            fail_msg("sender %u: %d of %d answered ok: %s", i, senders[i].ok, CONC_EACH,
                     senders[i].why);
    }
    /* Every answer came after its notify: the inbox has them all (and maybe earlier ones). */
    list = inbox(since, (int)n);
    cJSON_ArrayForEach(e, list)
    {
        cJSON *a = answer_of(call_ability("get_callback_data", "{}", str_of(e, "notify_id")));
        const char *tok = str_of(cJSON_GetObjectItem(a, "conversation_new_message"), "token");
        unsigned k;

        if (sscanf(tok, "tk_conc_%u", &k) == 1 && k < n && !seen[k]) {
            seen[k] = true;
            found++;
        }
        cJSON_Delete(a);
    }
    cJSON_Delete(list);
    assert_int_equal(found, n);
}

/* ---- killed between storing an event and notifying ---- */

static pid_t demo;

static void start_demo(const char *fault)
{
    cJSON *p = program_state("zone-demo");
    char url[64], ver[16], prt[16];

    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    snprintf(ver, sizeof ver, "%d", (int)cJSON_GetObjectItem(p, "secret_ver")->valuedouble);
    snprintf(
        prt, sizeof prt, "%d",
        (int)cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "replicas"), 0), "port")
            ->valuedouble);
    demo = fork();
    assert_true(demo >= 0);
    if (demo == 0) {
        setenv("ZONELAB_URL", url, 1);
        setenv("ZONELAB_SECRET", str_of(p, "secret"), 1);
        setenv("ZONELAB_SECRET_VER", ver, 1);
        setenv("ZONELAB_INSTANCE", "zone-demo/0", 1);
        setenv("ZONELAB_PORT", prt, 1);
        if (fault)
            setenv("ZONE_DEMO_FAULT", fault, 1);
        execl(ZONE_DEMO, ZONE_DEMO, "--data-dir", data_dir, (char *)NULL);
        _exit(127);
    }
    cJSON_Delete(p);
    for (int i = 0; i < 500; i++) { /* until it listens */
        CURL *c = curl_easy_init();
        char hz[64];
        CURLcode rc;

        snprintf(hz, sizeof hz, "http://127.0.0.1:%s/healthz", prt);
        curl_easy_setopt(c, CURLOPT_URL, hz);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
        rc = curl_easy_perform(c);
        curl_easy_cleanup(c);
        if (rc == CURLE_OK)
            return;
        sleep_ms(10);
    }
    fail_msg("zone-demo did not listen");
}

static void count_one(const char *id, int state, void *ud)
{
    int *n = ud;

    (void)id;
    n[state]++;
}

/* Events zone-demo's store in data_dir holds in state (1 stored, 2 notified), read the way
 * another replica reads them. */
static int count_events(int state)
{
    char err[256] = "";
    zd_store *s = zd_store_open(data_dir, err, sizeof err);
    int n[3] = {0};

    if (!s)
        fail_msg("zd_store_open: %s", err);
    zd_store_each(s, count_one, n);
    zd_store_close(s);
    return n[state];
}

static int start_bare(void **state)
{
    const char *args[] = {"--port", "0", NULL}; /* zone-demo is started by the test */

    (void)state;
    snprintf(data_dir, sizeof data_dir, "/tmp/zl_zone_demo_XXXXXX");
    assert_non_null(mkdtemp(data_dir));
    serve_start(args);
    expect("set_receive_callback", "{\"program_id\":\"zone-demo\"}", 0);
    return 0;
}

static void test_sigkill_between_store_and_notify_loses_nothing(void **state)
{
    uint64_t since = inbox_last();
    int status;
    cJSON *list, *a;

    (void)state;
    start_demo("kill_after_store");
    archive("survivor", NULL, 0);
    assert_int_equal(waitpid(demo, &status, 0), demo);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(count_events(1), 1); /* stored, never notified */
    assert_int_equal(count_events(2), 0);
    sleep_ms(100);
    assert_int_equal(inbox_last(), since); /* the app heard nothing */
    start_demo(NULL);                      /* the restart notifies what the dead run stored */
    list = inbox(since, 1);
    a = answer_of(
        call_ability("get_callback_data", "{}", str_of(cJSON_GetArrayItem(list, 0), "notify_id")));
    assert_string_equal(str_of(a, "event_type"), "conversation_new_message");
    cJSON_Delete(a);
    cJSON_Delete(list);
    assert_int_equal(count_events(1), 0);
    assert_int_equal(count_events(2), 1);
    kill(demo, SIGTERM); /* a clean stop */
    assert_int_equal(waitpid(demo, &status, 0), demo);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- echo_input and the digest's sentiment (its own serve: zone-demo has the app's key) ---- */

static int start_with_key(void **state)
{
    const char *args[] = {"--port", "0", "--program", program_cmd, NULL};

    (void)state;
    snprintf(data_dir, sizeof data_dir, "/tmp/zl_zone_demo_XXXXXX");
    assert_non_null(mkdtemp(data_dir));
    snprintf(program_cmd, sizeof program_cmd,
             "exec '%s' --data-dir '%s' --threads 2 --private-key '%s' --model-wait-ms 400",
             ZONE_DEMO, data_dir, KEYS "test_v1_private.pem");
    serve_start(args);
    expect("set_receive_callback", "{\"program_id\":\"zone-demo\"}", 0);
    return 0;
}

/* response_data of an ability call, as text (the caller frees). */
static char *response_text(const char *ability, const char *request_data)
{
    cJSON *r = call_ability(ability, request_data, NULL);
    char *out = strdup(str_of(r, "response_data"));

    cJSON_Delete(r);
    return out;
}

/* Asserts answer is exactly {"input":<data>}. */
static void assert_echo(const char *answer, const char *data)
{
    cJSON *a = cJSON_Parse(answer);

    assert_non_null(a);
    assert_int_equal(cJSON_GetArraySize(a), 1);
    assert_string_equal(str_of(a, "input"), data);
    cJSON_Delete(a);
}

/* One app call sealed as zonelab seals it and POSTed straight to replica 0, so request_data
 * can be what no app call carries (the emulator checks it against the input protocol).
 * Returns the program's answer, opened (the caller frees). */
static char *sealed_call(const char *ability, const char *data)
{
    cJSON *p = program_state("zone-demo");
    zone_wire_keys keys;
    zone_wire_callback cb = {.corpid = CORP1,
                             .data = (char *)(uintptr_t)data,
                             .job_info = "",
                             .ability_id = (char *)(uintptr_t)ability,
                             .notify_id = "",
                             .req_id = "00000000000000aa",
                             .agentid = 1000002,
                             .call_type = 1};
    char *out = NULL, why[200] = "";
    unsigned to;

    assert_int_equal(
        zone_wire_keys_init(&keys, str_of(p, "secret"),
                            (uint32_t)cJSON_GetObjectItem(p, "secret_ver")->valuedouble),
        ZONE_WIRE_OK);
    to = (unsigned)cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "replicas"), 0),
                                       "port")
             ->valuedouble;
    cJSON_Delete(p);
    if (post_sealed(&keys, to, &cb, &out, why, sizeof why) != 0)
        fail_msg("%s", why);
    return out;
}

static void test_echo_input(void **state)
{
    /* the world's input protocol, with what {chat} expands to: quotes, backslashes, CJK */
    const char *data = "{\"ability_id\":\"1\",\"task_type\":\"service_statistics\","
                       "\"msg\":\"A(员工)说：\\\"hi\\\" C:\\\\path /x\\nB(客户)说：你好\"}";
    const char *spaced = "{ \"ability_id\" : \"1\",\n \"task_type\":\"service_statistics\", "
                         "\"msg\":\"\" }";
    const char *odd[] = {"not JSON: {\"chat\": [unclosed, \\ back\\slash, \"quote\"", "",
                         "{\"chat\":\"A说：hi\",\"content\":\"hi\",\"knowledge\":\"\",\"tags\":"
                         "\"{\\\"tag_group\\\":[]}\"}"};
    char *answer, *text, body[1024];
    cJSON *a, *req;
    int i, code = -1;

    (void)state;
    answer = response_text("echo_input", data);
    assert_echo(answer, data); /* byte for byte through the emulator and back */
    free(answer);
    answer = response_text("echo_input", spaced); /* never parsed, so never re-printed */
    assert_echo(answer, spaced);
    free(answer);
    for (i = 0; i < (int)(sizeof odd / sizeof *odd); i++) {
        answer = sealed_call("echo_input", odd[i]);
        assert_echo(answer, odd[i]);
        free(answer);
    }

    /* async, as the model-task machinery calls it: reported through the job's result */
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "program_id", "zone-demo");
    cJSON_AddStringToObject(req, "ability_id", "echo_input");
    cJSON_AddStringToObject(req, "request_data", data);
    text = cJSON_PrintUnformatted(req);
    a = app("async_program_task", text);
    cJSON_free(text);
    cJSON_Delete(req);
    assert_int_equal(errcode_of(a), 0);
    snprintf(body, sizeof body, "{\"jobid\":\"%s\"}", str_of(a, "jobid"));
    cJSON_Delete(a);
    for (i = 0; i < 500 && code != 0; i++) {
        a = app("async_program_result", body);
        code = errcode_of(a);
        if (code == 0) {
            assert_int_equal((int)cJSON_GetObjectItem(a, "response_errcode")->valuedouble, 0);
            assert_echo(str_of(a, "response_data"), data);
        } else {
            sleep_ms(10);
        }
        cJSON_Delete(a);
    }
    assert_int_equal(code, 0);
}

static void models_latency(int ms)
{
    char body[64];
    long status;
    cJSON *j;

    snprintf(body, sizeof body, "{\"latency_ms\":%d}", ms);
    j = http("POST", "/_zonelab/models/config", body, &status);
    assert_int_equal(status, 200);
    cJSON_Delete(j);
}

/* Archives messages (a JSON array text of world messages, zhangsan to wm_cust_01 added). */
static void archive_list(const char *items)
{
    long status;
    cJSON *j, *req = cJSON_CreateObject(), *list = cJSON_Parse(items), *m;
    int n = cJSON_GetArraySize(list);
    char *body;

    assert_non_null(list);
    cJSON_ArrayForEach(m, list)
    {
        cJSON_AddItemToObject(m, "sender", cJSON_Parse("{\"type\":1,\"id\":\"zhangsan\"}"));
        cJSON_AddItemToObject(m, "receivers", cJSON_Parse("[{\"type\":2,\"id\":\"wm_cust_01\"}]"));
    }
    cJSON_AddItemToObject(req, "messages", list);
    body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    j = http("POST", "/_zonelab/messages", body, &status);
    cJSON_free(body);
    if (status != 200)
        fail_msg("archiving failed: %s", cJSON_PrintUnformatted(j));
    assert_int_equal((int)cJSON_GetObjectItem(j, "archived")->valuedouble, n);
    cJSON_Delete(j);
}

static int count_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    assert_true(cJSON_IsNumber(v));
    return (int)v->valuedouble;
}

/* The sentiment digest's answer, with its counts checked. */
static cJSON *digest_sentiment(int code, int total, int analysed, int positive, int negative,
                               int none, int failed, int unfinished)
{
    cJSON *a = answer_of(call_ability("new_messages_digest", "{\"sentiment\":true}", NULL));
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "sentiment");

    if (errcode_of(a) != code || count_of(a, "total") != total || !cJSON_IsObject(s) ||
        count_of(s, "analysed") != analysed || count_of(s, "positive") != positive ||
        count_of(s, "negative") != negative || count_of(s, "none") != none ||
        count_of(s, "failed") != failed || count_of(s, "unfinished") != unfinished)
        fail_msg("unexpected digest: %s", cJSON_PrintUnformatted(a));
    return a;
}

/* The app's public key version 2, as set_public_key's body. */
static void public_key_v2_body(char *out, size_t n)
{
    FILE *f = fopen(KEYS "test_v2_public.pem", "r");
    char pem[4096] = "", *t;
    cJSON *req = cJSON_CreateObject();

    assert_non_null(f);
    assert_true(fread(pem, 1, sizeof pem - 1, f) > 0);
    fclose(f);
    cJSON_AddStringToObject(req, "public_key", pem);
    cJSON_AddNumberToObject(req, "public_key_ver", 2);
    t = cJSON_PrintUnformatted(req);
    snprintf(out, n, "%s", t);
    cJSON_free(t);
    cJSON_Delete(req);
}

static void test_digest_sentiment(void **state)
{
    cJSON *a;
    char body[2048];

    (void)state;
    models_latency(0); /* tasks finish at once */
    /* the world's own messages first, as the plain digest always counted them */
    a = answer_of(call_ability("new_messages_digest", "{}", NULL));
    assert_int_equal(errcode_of(a), 0);
    assert_null(cJSON_GetObjectItem(a, "sentiment"));
    cJSON_Delete(a);

    /* the lexicon (emulator/src/api_models.c): English words whole, flipped after "not";
     * Chinese words as substrings; voice and audio by their transcript */
    archive_list("["
                 "{\"msgid\":\"sa1\",\"msgtype\":1,\"content\":{\"content\":\"thanks, this is "
                 "great\"}},"
                 "{\"msgid\":\"sa2\",\"msgtype\":1,\"content\":{\"content\":\"this is terrible, "
                 "I want a refund\"}},"
                 "{\"msgid\":\"sa3\",\"msgtype\":1,\"content\":{\"content\":\"standup in 5 "
                 "minutes\"}},"
                 "{\"msgid\":\"sa4\",\"msgtype\":1,\"content\":{\"content\":\"not good at "
                 "all\"}},"
                 "{\"msgid\":\"sa5\",\"msgtype\":1,\"content\":{\"content\":\"谢谢，很满意\"}},"
                 "{\"msgid\":\"sa6\",\"msgtype\":6,\"content\":{\"voice_size\":100,"
                 "\"play_length\":3,\"sdkfileid\":\"v6\",\"transcript\":\"I am so happy\"}},"
                 "{\"msgid\":\"sa7\",\"msgtype\":21,\"call_duration\":60,\"content\":{"
                 "\"sdkfileid\":\"c7\",\"transcript\":\"this is awful\"}},"
                 "{\"msgid\":\"sa8\",\"msgtype\":6,\"content\":{\"voice_size\":100,"
                 "\"play_length\":3,\"sdkfileid\":\"v8\"}},"
                 "{\"msgid\":\"sa9\",\"msgtype\":2,\"content\":{\"sdkfileid\":\"i9\"}}"
                 "]");
    /* sa1 sa5 sa6 positive, sa2 sa4 sa7 negative, sa3 sa8 neither, sa9 (image) not asked */
    cJSON_Delete(digest_sentiment(0, 9, 8, 3, 3, 2, 0, 0));
    /* nothing new: nothing asked */
    cJSON_Delete(digest_sentiment(0, 0, 0, 0, 0, 0, 0, 0));

    /* a model slower than --model-wait-ms (400 ms here): unfinished, still an answer */
    models_latency(60000);
    archive_list("[{\"msgid\":\"su1\",\"msgtype\":1,\"content\":{\"content\":\"great\"}},"
                 "{\"msgid\":\"su2\",\"msgtype\":1,\"content\":{\"content\":\"bad\"}}]");
    cJSON_Delete(digest_sentiment(0, 2, 0, 0, 0, 0, 0, 2));
    models_latency(0);

    /* the app moves to public key 2: messages archived after it are wrapped with it, and
     * zone-demo's key (version 1) cannot open them */
    archive_list("[{\"msgid\":\"sk1\",\"msgtype\":1,\"content\":{\"content\":\"great\"}}]");
    public_key_v2_body(body, sizeof body);
    expect("set_public_key", body, 0);
    archive_list("[{\"msgid\":\"sk2\",\"msgtype\":1,\"content\":{\"content\":\"great\"}}]");
    /* one opens (positive), one does not (failed) */
    cJSON_Delete(digest_sentiment(0, 2, 1, 1, 0, 0, 1, 0));
    /* none opens: an error that says so, with the counts */
    archive_list("[{\"msgid\":\"sk3\",\"msgtype\":1,\"content\":{\"content\":\"great\"}}]");
    a = digest_sentiment(710660, 1, 0, 0, 0, 0, 1, 0);
    assert_non_null(strstr(str_of(a, "errmsg"), "private key"));
    cJSON_Delete(a);
}

int main(void)
{
    const struct CMUnitTest under_serve[] = {
        cmocka_unit_test(test_http_side),
        cmocka_unit_test(test_invoke_abilities),
        cmocka_unit_test(test_digest_and_async),
        cmocka_unit_test(test_event_notify_get_callback_data),
        cmocka_unit_test(test_concurrent_events_all_stored),
    };
    const struct CMUnitTest crash[] = {
        cmocka_unit_test(test_sigkill_between_store_and_notify_loses_nothing),
    };
    const struct CMUnitTest models[] = {
        cmocka_unit_test(test_echo_input),
        cmocka_unit_test(test_digest_sentiment),
    };
    int failed = cmocka_run_group_tests_name("zone-demo under serve", under_serve, start_two,
                                             stop_and_clean);

    failed += cmocka_run_group_tests_name("crash", crash, start_bare, stop_and_clean);
    return failed + cmocka_run_group_tests_name("echo_input and sentiment", models, start_with_key,
                                                stop_and_clean);
}
