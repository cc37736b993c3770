/* test_zone_demo: the reference program under `zonelab serve --program`: its HTTP side, each
 * ability, an async call, the event -> notify -> get_callback_data flow, and no event lost
 * when it is killed between storing an event and notifying the app. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

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
    char tok[64];
    cJSON *list, *n, *a;
    int i;

    (void)state;
    archive("flow_a", NULL, 0);
    archive("flow_b", tok, sizeof tok);
    list = inbox(since, 2);
    i = 0;
    cJSON_ArrayForEach(n, list)
    {
        assert_int_equal((int)cJSON_GetObjectItem(n, "notify_scene")->valuedouble, 1);
        a = answer_of(call_ability("get_callback_data", "{}", str_of(n, "notify_id")));
        assert_string_equal(str_of(a, "event_type"), "conversation_new_message");
        if (i++ == 1)
            assert_string_equal(str_of(cJSON_GetObjectItem(a, "conversation_new_message"), "token"),
                                tok);
        cJSON_Delete(a);
    }
    cJSON_Delete(list);
    /* Unknown notify ids get the sample convention's error, not a crash or a path. */
    a = answer_of(call_ability("get_callback_data", "{}", NULL));
    assert_int_equal(errcode_of(a), 710660);
    cJSON_Delete(a);
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

/* Files in data_dir/events ending in suffix. */
static int count_files(const char *suffix)
{
    char dir[300];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(dir, sizeof dir, "%s/events", data_dir);
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)))
        if (strlen(e->d_name) > strlen(suffix) &&
            !strcmp(e->d_name + strlen(e->d_name) - strlen(suffix), suffix))
            n++;
    closedir(d);
    return n;
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
    assert_int_equal(count_files(".pending"), 1); /* stored, never notified */
    assert_int_equal(count_files(".event"), 0);
    sleep_ms(100);
    assert_int_equal(inbox_last(), since); /* the app heard nothing */
    start_demo(NULL);                      /* the restart notifies what the dead run stored */
    list = inbox(since, 1);
    a = answer_of(
        call_ability("get_callback_data", "{}", str_of(cJSON_GetArrayItem(list, 0), "notify_id")));
    assert_string_equal(str_of(a, "event_type"), "conversation_new_message");
    cJSON_Delete(a);
    cJSON_Delete(list);
    assert_int_equal(count_files(".pending"), 0);
    assert_int_equal(count_files(".event"), 1);
    kill(demo, SIGTERM); /* a clean stop */
    assert_int_equal(waitpid(demo, &status, 0), demo);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
    const struct CMUnitTest under_serve[] = {
        cmocka_unit_test(test_http_side),
        cmocka_unit_test(test_invoke_abilities),
        cmocka_unit_test(test_digest_and_async),
        cmocka_unit_test(test_event_notify_get_callback_data),
    };
    const struct CMUnitTest crash[] = {
        cmocka_unit_test(test_sigkill_between_store_and_notify_loses_nothing),
    };
    int failed = cmocka_run_group_tests_name("zone-demo under serve", under_serve, start_two,
                                             stop_and_clean);

    return failed + cmocka_run_group_tests_name("crash", crash, start_bare, stop_and_clean);
}
