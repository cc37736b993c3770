/* test_export: conversation export jobs (api/export.c) called as the SDK face calls them, over
 * the default world on a frozen clock: jobs made in one virtual millisecond are listed in the
 * order they were made, and a scripted result goes to the job made first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/export.h"
#include "api/sdk_api.h"

#define JOBS 12

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
    zl_engine_config cfg = {.port = 0, .seed = 3, .wall = wall};
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

static zl_app_rt *app(fixture *f)
{
    zl_app_rt *a = zl_emu_app(f->emu, "wwzonelab0000001", 1000002);

    assert_non_null(a);
    return a;
}

/* The control face's answer to verb with body text (NULL: none); 200 or the failure's. */
static unsigned control(fixture *f, const char *verb, const char *body, cJSON **reply)
{
    cJSON *b = body ? cJSON_Parse(body) : NULL;
    char why[300] = "";
    unsigned st = zl_export_control(f->emu, verb, b, reply, why, sizeof why);

    cJSON_Delete(b);
    if (st != 200)
        fail_msg("export control %s: %u %s", verb, st, why);
    return st;
}

/* A template the app uploaded, as upload_media keeps it: its media_id in id. */
static void add_template(fixture *f, char id[32])
{
    static const char text[] = "$chatName=wr_internal_01$";
    zl_media *m = calloc(1, sizeof *m);

    assert_non_null(m);
    m->data = malloc(sizeof text);
    assert_non_null(m->data);
    memcpy(m->data, text, sizeof text);
    m->size = sizeof text - 1;
    m->app = app(f);
    m->expires_ms = f->wall_ms + 3 * 86400 * 1000LL;
    snprintf(id, 32, "md_template");
    assert_int_equal(zl_strmap_put(f->emu->media, id, m), 0);
}

/* create_chatdata_export_job with a fresh code; the jobid into out. */
static void create_job(fixture *f, const char *media_id, char out[64])
{
    zl_sdk_ctx x = {.emu = f->emu};
    const zl_sdk_api *a;
    cJSON *code = NULL, *reply;
    char req[256];

    control(f, "code", "{\"agentid\":1000002}", &code);
    snprintf(req, sizeof req, "{\"code\":\"%s\",\"media_id\":\"%s\"}",
             cJSON_GetObjectItem(code, "code")->valuestring, media_id);
    cJSON_Delete(code);
    for (a = zl_sdk_apis_export; a->name && strcmp(a->name, "create_chatdata_export_job"); a++)
        ;
    assert_non_null(a->name);
    x.req = cJSON_Parse(req);
    x.app = app(f);
    strcpy(x.req_id, "0123456789abcdef");
    reply = a->fn(&x);
    cJSON_Delete(x.req);
    assert_non_null(reply);
    if (cJSON_GetObjectItem(reply, "errcode")->valueint != 0)
        fail_msg("create: %s", cJSON_GetObjectItem(reply, "errmsg")->valuestring);
    snprintf(out, 64, "%s", cJSON_GetObjectItem(reply, "jobid")->valuestring);
    cJSON_Delete(reply);
}

/* The flake of scenarios/export_failure.lua: two jobs in one virtual millisecond came back
 * in the order of their random jobids. Here every job is made in the same millisecond. */
static void test_export_same_millisecond_in_creation_order(void **state)
{
    fixture *f = *state;
    char media[32], jobids[JOBS][64];
    cJSON *r = NULL, *jobs, *j;
    size_t i;
    bool sorted_by_id = true;

    add_template(f, media);
    control(f, "result", "{\"result_errcode\":710652}", &r);
    cJSON_Delete(r);
    for (i = 0; i < JOBS; i++)
        create_job(f, media, jobids[i]);
    for (i = 1; i < JOBS; i++)
        sorted_by_id = sorted_by_id && strcmp(jobids[i - 1], jobids[i]) < 0;
    assert_false(sorted_by_id); /* else the jobids' order would hide the bug */
    control(f, "jobs", NULL, &r);
    jobs = cJSON_GetObjectItem(r, "jobs");
    assert_int_equal(cJSON_GetArraySize(jobs), JOBS);
    i = 0;
    cJSON_ArrayForEach(j, jobs)
    {
        assert_string_equal(cJSON_GetObjectItem(j, "jobid")->valuestring, jobids[i]);
        assert_int_equal((int64_t)cJSON_GetObjectItem(j, "created_ms")->valuedouble, f->wall_ms);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(j, "scripted")), i == 0);
        i++;
    }
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_export_same_millisecond_in_creation_order, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
