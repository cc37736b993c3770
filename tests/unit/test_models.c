/* test_models: the model task APIs (api_models.c) called as the SDK face calls them, over the
 * default world on a frozen clock: the task's status on the virtual clock, msg_list checks,
 * default answers, scripted answers, tasks still pending when everything is freed, and tasks
 * made in one millisecond listed in the order they were made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/models.h"
#include "api/sdk_api.h"

#define KEY_0010 "zonelabFixedSecretKey00000000010"

typedef struct fixture {
    int64_t wall_ms; /* the frozen wall clock */
    zl_engine *engine;
    zl_journal *journal;
    zl_world *world;
    zl_emu *emu;
} fixture;

static int64_t wall(void *ud)
{
    return ((fixture *)ud)->wall_ms;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    zl_engine_config cfg = {.port = 0, .seed = 7, .wall = wall};
    zl_emu_options opt;
    char err[512] = "";

    assert_non_null(f);
    f->wall_ms = 1793808000000LL; /* the default world's clock_start */
    cfg.wall_ud = f;
    f->world = zl_world_load_file(ZL_SOURCE_DIR "/fixtures/worlds/default.json", err, sizeof err);
    if (!f->world)
        fail_msg("world: %s", err);
    f->engine = zl_engine_new(&cfg, err, sizeof err);
    assert_non_null(f->engine);
    f->journal = zl_journal_new(10000);
    zl_emu_options_default(&opt);
    f->emu = zl_emu_new(f->engine, f->journal, f->world, &opt, err, sizeof err);
    if (!f->emu)
        fail_msg("emu: %s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    zl_emu_shutdown(f->emu);
    zl_engine_free(f->engine);
    zl_emu_free(f->emu);
    zl_journal_free(f->journal);
    zl_world_free(f->world);
    free(f);
    return 0;
}

/* Invokes api with request text as app 1000002; the reply (owned by the caller). */
static cJSON *invoke(fixture *f, const char *api, const char *request)
{
    zl_sdk_ctx x = {.emu = f->emu};
    const zl_sdk_api *a;
    cJSON *reply;

    for (a = zl_sdk_apis_models; a->name && strcmp(a->name, api); a++)
        ;
    if (!a->name)
        fail_msg("no api %s", api);
    x.req = cJSON_Parse(request);
    assert_true(cJSON_IsObject(x.req));
    x.app = zl_emu_app(f->emu, "wwzonelab0000001", 1000002);
    assert_non_null(x.app);
    strcpy(x.req_id, "0123456789abcdef");
    reply = a->fn(&x);
    cJSON_Delete(x.req);
    assert_non_null(reply);
    return reply;
}

static int num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsNumber(v))
        fail_msg("%s is not a number", key);
    return (int)v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsString(v))
        fail_msg("%s is not a string", key);
    return v->valuestring;
}

/* Moves the frozen clock and runs a turn so due timers fire. */
static void advance(fixture *f, int64_t ms)
{
    f->wall_ms += ms;
    zl_engine_turn(f->engine, 0);
}

static void archive(fixture *f, const char *msgid, const char *text)
{
    char err[300], buf[600];
    cJSON *arr;

    snprintf(buf, sizeof buf,
             "[{\"msgid\":\"%s\",\"msgtype\":1,\"sender\":{\"type\":1,\"id\":\"zhangsan\"},"
             "\"receivers\":[{\"type\":1,\"id\":\"lisi\"}],\"content\":{\"content\":\"%s\"},"
             "\"secret_key\":\"k\"}]",
             msgid, text);
    arr = cJSON_Parse(buf);
    assert_non_null(arr);
    if (zl_corp_archive_json(f->world, &f->world->corps[0], arr, f->wall_ms / 1000, err,
                             sizeof err) != 1)
        fail_msg("archive: %s", err);
    cJSON_Delete(arr);
}

/* The jobid of a create reply that must succeed (copied into out). */
static void created(cJSON *reply, char out[64])
{
    if (num(reply, "errcode") != 0)
        fail_msg("create: %s", str(reply, "errmsg"));
    snprintf(out, 64, "%s", str(reply, "jobid"));
    cJSON_Delete(reply);
}

static void get_request(char *buf, size_t n, const char *jobid)
{
    snprintf(buf, n, "{\"jobid\":\"%s\"}", jobid);
}

static void test_models_status_on_the_clock(void **state)
{
    fixture *f = *state;
    char jobid[64], req[128];
    cJSON *r;

    created(
        invoke(f, "create_summary_task",
               "{\"msg_list\":[{\"msgid\":\"msg_0010\",\"encrypt_info\":{\"secret_key\":\"" KEY_0010
               "\"}}]}"),
        jobid);
    get_request(req, sizeof req, jobid);
    r = invoke(f, "get_summary_result", req);
    assert_int_equal(num(r, "status"), 0);
    assert_null(cJSON_GetObjectItem(r, "response_data"));
    cJSON_Delete(r);

    advance(f, 1999);
    r = invoke(f, "get_summary_result", req);
    assert_int_equal(num(r, "status"), 0);
    cJSON_Delete(r);

    advance(f, 1);
    r = invoke(f, "get_summary_result", req);
    assert_int_equal(num(r, "errcode"), 0);
    assert_int_equal(num(r, "status"), 1);
    assert_string_equal(str(r, "response_data"), "Yes, here is the link");
    cJSON_Delete(r);

    r = invoke(f, "get_sentiment_result", req);
    assert_int_equal(num(r, "errcode"), 710616);
    cJSON_Delete(r);
    r = invoke(f, "get_summary_result", "{\"jobid\":\"mt_none\"}");
    assert_int_equal(num(r, "errcode"), 40058);
    cJSON_Delete(r);
}

static void test_models_msg_list_checks(void **state)
{
    fixture *f = *state;
    size_t n = 1001, i, len = 0;
    char *big = malloc(n * 64 + 32), jobid[64], req[128];
    const cJSON *fl, *ar;
    cJSON *r;

    assert_non_null(big);
    len += (size_t)sprintf(big + len, "{\"msg_list\":[");
    for (i = 0; i < n; i++)
        len += (size_t)sprintf(big + len,
                               "%s{\"msgid\":\"m%zu\",\"encrypt_info\":{\"secret_key\":\"\"}}",
                               i ? "," : "", i);
    sprintf(big + len, "]}");
    r = invoke(f, "create_sentiment_task", big);
    assert_int_equal(num(r, "errcode"), 710623);
    cJSON_Delete(r);
    free(big);

    r = invoke(f, "create_sentiment_task", "{\"msg_list\":[]}");
    assert_int_equal(num(r, "errcode"), 40058);
    cJSON_Delete(r);
    r = invoke(f, "create_sentiment_task", "{\"msg_list\":[{\"msgid\":5}]}");
    assert_int_equal(num(r, "errcode"), 40058);
    cJSON_Delete(r);

    r = invoke(f, "create_sentiment_task",
               "{\"msg_list\":[{\"msgid\":\"msg_0010\",\"encrypt_info\":{\"secret_key\":\"" KEY_0010
               "\"}},{\"msgid\":\"msg_0010\",\"encrypt_info\":{\"secret_key\":\"x\"}},"
               "{\"msgid\":\"nope\",\"encrypt_info\":{\"secret_key\":\"x\"}},"
               "{\"msgid\":\"msg_0001\",\"encrypt_info\":{\"secret_key\":\"wrong\"}}]}");
    fl = cJSON_GetObjectItem(r, "fail_list");
    assert_int_equal(cJSON_GetArraySize(fl), 1);
    assert_int_equal(num(cJSON_GetArrayItem(fl, 0), "errcode"), 710613);
    created(r, jobid);
    advance(f, 2000);
    get_request(req, sizeof req, jobid);
    r = invoke(f, "get_sentiment_result", req);
    fl = cJSON_GetObjectItem(r, "fail_list");
    ar = cJSON_GetObjectItem(r, "analyze_result_list");
    assert_int_equal(num(r, "status"), 1);
    assert_int_equal(cJSON_GetArraySize(fl), 2);
    assert_int_equal(num(cJSON_GetArrayItem(fl, 0), "errcode"), 710601);
    assert_int_equal(num(cJSON_GetArrayItem(fl, 1), "errcode"), 710603);
    assert_int_equal(cJSON_GetArraySize(ar), 3);
    assert_int_equal(num(cJSON_GetArrayItem(ar, 0), "sentiment_result"), 0);
    cJSON_Delete(r);
}

static void test_models_sentiment_lexicon(void **state)
{
    static const struct {
        const char *msgid, *text;
        int want;
    } cases[] = {
        {"lx1", "great work, thanks", 1}, {"lx2", "this is not good", 2},
        {"lx3", "the app is broken", 2},  {"lx4", "服务不好", 2},
        {"lx5", "很好，谢谢", 1},         {"lx6", "Goodbye", 0},
        {"lx7", "no problem at all", 1},  {"lx8", "standup at 10", 0},
    };
    fixture *f = *state;
    char body[2048], jobid[64], req[128];
    size_t i, len = 0;
    const cJSON *ar;
    cJSON *r;

    len += (size_t)snprintf(body, sizeof body, "{\"msg_list\":[");
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        archive(f, cases[i].msgid, cases[i].text);
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "%s{\"msgid\":\"%s\",\"encrypt_info\":{\"secret_key\":\"k\"}}",
                                i ? "," : "", cases[i].msgid);
    }
    snprintf(body + len, sizeof body - len, "]}");
    created(invoke(f, "create_sentiment_task", body), jobid);
    advance(f, 2000);
    get_request(req, sizeof req, jobid);
    r = invoke(f, "get_sentiment_result", req);
    ar = cJSON_GetObjectItem(r, "analyze_result_list");
    for (i = 0; i < sizeof cases / sizeof *cases; i++)
        if (num(cJSON_GetArrayItem(ar, (int)i), "sentiment_result") != cases[i].want)
            fail_msg("%s \"%s\": %d, wanted %d", cases[i].msgid, cases[i].text,
                     num(cJSON_GetArrayItem(ar, (int)i), "sentiment_result"), cases[i].want);
    cJSON_Delete(r);
}

static unsigned control(fixture *f, const char *verb, const char *body, cJSON **reply)
{
    cJSON *b = body ? cJSON_Parse(body) : NULL;
    char why[300] = "";
    unsigned st = zl_models_control(f->emu, verb, b, reply, why, sizeof why);

    cJSON_Delete(b);
    if (st != 200)
        assert_true(why[0] != '\0');
    return st;
}

static void test_models_scripted_and_pending_at_free(void **state)
{
    fixture *f = *state;
    char jobid[64], req[128];
    cJSON *r = NULL;

    assert_int_equal(control(f, "reply", "{\"model\":\"summary\",\"status\":\"pending\"}", &r),
                     200);
    cJSON_Delete(r);
    assert_int_equal(control(f, "reply", "{\"model\":\"nope\"}", &r), 400);
    assert_int_equal(control(f, "reply", "{\"model\":\"spam\",\"result\":\"x\"}", &r), 400);
    assert_int_equal(control(f, "reply", "{\"model\":\"spam\",\"jobid\":\"mt_x\"}", &r), 404);
    assert_int_equal(control(f, "config", "{\"latency\":1}", &r), 400);
    assert_int_equal(control(f, "what", "{}", &r), 404);

    created(
        invoke(f, "create_summary_task",
               "{\"msg_list\":[{\"msgid\":\"msg_0010\",\"encrypt_info\":{\"secret_key\":\"k\"}}]}"),
        jobid);
    advance(f, 3600 * 1000);
    get_request(req, sizeof req, jobid);
    r = invoke(f, "get_summary_result", req);
    assert_int_equal(num(r, "status"), 0); /* held */
    cJSON_Delete(r);

    /* more tasks whose timers are still in the engine when the fixture frees everything */
    created(
        invoke(f, "create_spam_task",
               "{\"msg_list\":[{\"msgid\":\"msg_0010\",\"encrypt_info\":{\"secret_key\":\"k\"}}]}"),
        jobid);
    advance(f, 1);
    created(
        invoke(f, "create_spam_task",
               "{\"msg_list\":[{\"msgid\":\"msg_0010\",\"encrypt_info\":{\"secret_key\":\"k\"}}]}"),
        jobid);
    assert_int_equal(control(f, "tasks", NULL, &r), 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "tasks")), 3);
    cJSON_Delete(r);
}

/* Tasks made in one virtual millisecond are listed in the order they were made, not in the
 * order of their random jobids. */
static void test_models_same_millisecond_in_creation_order(void **state)
{
    fixture *f = *state;
    char jobids[12][64];
    cJSON *r = NULL, *t;
    size_t i, n = sizeof jobids / sizeof *jobids;
    bool sorted_by_id = true;

    for (i = 0; i < n; i++)
        created(invoke(f, "create_spam_task",
                       "{\"msg_list\":[{\"msgid\":\"msg_0010\",\"encrypt_info\":{\"secret_key\":"
                       "\"k\"}}]}"),
                jobids[i]);
    for (i = 1; i < n; i++)
        sorted_by_id = sorted_by_id && strcmp(jobids[i - 1], jobids[i]) < 0;
    assert_false(sorted_by_id); /* else the jobids' order would hide a wrong tie-break */
    assert_int_equal(control(f, "tasks", NULL, &r), 200);
    i = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(r, "tasks"))
    {
        assert_true(i < n);
        assert_string_equal(str(t, "jobid"), jobids[i]);
        i++;
    }
    assert_int_equal(i, n);
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_models_status_on_the_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_models_msg_list_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_models_sentiment_lexicon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_models_scripted_and_pending_at_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_models_same_millisecond_in_creation_order, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
