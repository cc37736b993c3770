/* test_suite_api: the provider-side token path (faces/suite_api.c) and the suites' command
 * callbacks (emu/suite.c) in one process, on a frozen clock, with the state the lifecycle verbs
 * set (an auth_code, a cancel, a re-grant's permanent_code) written straight into the apps:
 * get_permanent_code (old and v2) and its single-use, 10-minute auth_code, cancelled and
 * re-granted authorisations, the two switches, create/change/cancel_auth's XML, and delivery
 * to a command URL that must answer "success". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faces/server.h"
#include "wecom/wxcrypt.h"

#define CORP      "wwzonelab0000001"
#define S1        "wwsuitesthird0001"
#define S1_SECRET "suites-third-secret-0001"
#define TMPL      "dksuitestmpl0001"
#define SUITES    ZL_SOURCE_DIR "/scenarios/worlds/suites.json"

typedef struct fixture {
    int64_t wall_ms; /* the frozen wall clock */
    zl_server *srv;
    char base[64];
    char url[128];       /* the command URL of the test's provider, when a test sets it */
    int answer_success;  /* the provider's answer to a POST: "success" or not */
    char got[4][1024];   /* the XML it decrypted */
    int got_n, verified; /* POSTs decrypted, URL verifications answered */
} fixture;

static int64_t wall(void *ud)
{
    return ((fixture *)ud)->wall_ms;
}

/* Starts a server over world_file with opt changed by tweak (may be NULL). */
static fixture *start(const char *world_file, void (*tweak)(zl_emu_options *o))
{
    fixture *f = calloc(1, sizeof *f);
    zl_server_config c;
    zl_world *w;
    char err[512] = "";

    assert_non_null(f);
    f->wall_ms = 1793808000000LL;
    zl_server_config_default(&c);
    c.engine.seed = 5;
    c.engine.wall = wall;
    c.engine.wall_ud = f;
    if (tweak)
        tweak(&c.opt);
    if (!(w = zl_world_load_file(world_file, err, sizeof err)))
        fail_msg("world: %s", err);
    if (!(f->srv = zl_server_new(w, &c, err, sizeof err)))
        fail_msg("server: %s", err);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", zl_engine_port(f->srv->engine));
    return f;
}

static void go(fixture *f)
{
    char err[256];

    assert_int_equal(zl_server_start(f->srv, err, sizeof err), 0);
    zl_server_turn(f->srv, 0); /* the first suite_ticket pushes */
    zl_server_turn(f->srv, 0); /* the fake provider receives them */
}

static void stop(fixture *f)
{
    zl_server_free(f->srv);
    free(f);
}

static void advance(fixture *f, int64_t s)
{
    f->wall_ms += s * 1000;
    zl_server_turn(f->srv, 0);
    zl_server_turn(f->srv, 0);
}

typedef struct result {
    int done;
    long status;
    char *body;
} result;

static void on_result(zl_engine *e, const zl_http_result *res, void *ud)
{
    result *r = ud;

    (void)e;
    r->done = 1;
    r->status = res->status;
    r->body = strdup(res->body ? res->body : "");
}

/* method path (body) to the server itself; the JSON answer (caller deletes). */
static cJSON *request(fixture *f, const char *method, const char *path, const char *body)
{
    char url[512];
    const char *hdr[] = {"Content-Type: application/json"};
    zl_http_request req = {.method = method,
                           .url = url,
                           .headers = hdr,
                           .n_headers = 1,
                           .body = body,
                           .body_len = body ? strlen(body) : 0,
                           .timeout_ms = 5000};
    result r = {0};
    int turns = 500;
    cJSON *j;

    snprintf(url, sizeof url, "%s%s", f->base, path);
    assert_int_equal(zl_engine_http(f->srv->engine, &req, on_result, &r), 0);
    while (!r.done && turns-- > 0)
        zl_server_turn(f->srv, 10);
    assert_true(r.done);
    assert_int_equal(r.status, 200);
    j = cJSON_Parse(r.body);
    if (!j)
        fail_msg("not JSON: %s", r.body);
    free(r.body);
    return j;
}

static int code_of(const cJSON *j)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "errcode");

    return cJSON_IsNumber(v) ? (int)v->valuedouble : -999;
}

static const char *str(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* POST /cgi-bin/service/<name>?suite_access_token=st (st NULL: none) and its errcode. */
static int service(fixture *f, const char *name, const char *st, const char *body, cJSON **out)
{
    char path[256];
    cJSON *j;
    int code;

    snprintf(path, sizeof path, "/cgi-bin/service/%s%s%s", name, st ? "?suite_access_token=" : "",
             st ? st : "");
    j = request(f, "POST", path, body);
    code = code_of(j);
    if (out)
        *out = j;
    else
        cJSON_Delete(j);
    return code;
}

/* A suite_access_token of suite_id (into out), with the ticket the fake provider holds. */
static void suite_token(fixture *f, const char *suite_id, const char *secret, char out[64])
{
    const char *ticket =
        zl_emu_provider_ticket(f->srv->emu, zl_world_suite(f->srv->world, suite_id), NULL);
    char body[256];
    cJSON *j;
    int code;

    assert_non_null(ticket);
    snprintf(body, sizeof body,
             "{\"suite_id\":\"%s\",\"suite_secret\":\"%s\",\"suite_ticket\":\"%s\"}", suite_id,
             secret, ticket);
    code = service(f, "get_suite_token", NULL, body, &j);
    assert_true(code == 0 || (code == -999 && f->srv->emu->opt.suite_omit_errcode));
    assert_non_null(str(j, "suite_access_token"));
    snprintf(out, 64, "%s", str(j, "suite_access_token"));
    cJSON_Delete(j);
}

static int gettoken(fixture *f, const char *secret, char out[64])
{
    char path[256];
    cJSON *j;
    int code;

    snprintf(path, sizeof path, "/cgi-bin/gettoken?corpid=" CORP "&corpsecret=%s", secret);
    j = request(f, "GET", path, NULL);
    code = code_of(j);
    if (out)
        snprintf(out, 64, "%s", code == 0 ? str(j, "access_token") : "");
    cJSON_Delete(j);
    return code;
}

static zl_app_rt *app(fixture *f, uint32_t agentid)
{
    zl_app_rt *a = zl_emu_app(f->srv->emu, CORP, agentid);

    assert_non_null(a);
    return a;
}

/* What the lifecycle's grant does: a fresh auth_code, valid 10 minutes. */
static void grant(fixture *f, zl_app_rt *a, const char *code)
{
    snprintf(a->auth.auth_code, sizeof a->auth.auth_code, "%s", code);
    a->auth.auth_code_expires_ms = f->wall_ms + 600 * 1000;
}

/* ---- tests ---- */

static void test_suite_permanent_code_v2_single_use(void **state)
{
    fixture *f = start(SUITES, NULL);
    char st[64];
    cJSON *j, *info;

    (void)state;
    go(f);
    suite_token(f, S1, S1_SECRET, st);
    grant(f, app(f, 1000002), "ac-one");
    assert_int_equal(service(f, "v2/get_permanent_code", st, "{\"auth_code\":\"ac-one\"}", &j), 0);
    assert_string_equal(str(j, "errmsg"), "ok");
    assert_string_equal(str(j, "permanent_code"), "pc-third-1000002");
    info = cJSON_GetObjectItemCaseSensitive(j, "auth_corp_info");
    assert_string_equal(str(info, "corpid"), CORP);
    assert_string_equal(str(j, "state"), "");
    /* v2 has no corp token and no agent list */
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "access_token"));
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "auth_info"));
    cJSON_Delete(j);
    /* "临时授权码一次有效" */
    assert_int_equal(service(f, "v2/get_permanent_code", st, "{\"auth_code\":\"ac-one\"}", NULL),
                     40078);
    assert_string_equal(app(f, 1000002)->auth.auth_code, "");
    stop(f);
}

static void test_suite_permanent_code_expires(void **state)
{
    fixture *f = start(SUITES, NULL);
    char st[64];

    (void)state;
    go(f);
    grant(f, app(f, 1000002), "ac-late");
    advance(f, 600); /* "10分钟内有效" */
    suite_token(f, S1, S1_SECRET, st);
    assert_int_equal(service(f, "get_permanent_code", st, "{\"auth_code\":\"ac-late\"}", NULL),
                     40078);
    /* another suite's token does not find it either */
    grant(f, app(f, 1000002), "ac-other");
    suite_token(f, "wwsuitesthird0002", "suites-third-secret-0002", st);
    assert_int_equal(service(f, "get_permanent_code", st, "{\"auth_code\":\"ac-other\"}", NULL),
                     40078);
    stop(f);
}

static void test_suite_permanent_code_old(void **state)
{
    fixture *f = start(SUITES, NULL);
    char st[64], at[64];
    cJSON *j, *agents;

    (void)state;
    go(f);
    suite_token(f, S1, S1_SECRET, st);
    grant(f, app(f, 1000002), "ac-old");
    assert_int_equal(service(f, "get_permanent_code", st, "{\"auth_code\":\"ac-old\"}", &j), 0);
    assert_string_equal(str(j, "permanent_code"), "pc-third-1000002");
    /* the old one answers the corp's access_token: gettoken's while it is valid */
    assert_int_equal(gettoken(f, "suites-third-app-secret-1000002", at), 0);
    assert_string_equal(str(j, "access_token"), at);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(j, "expires_in")->valuedouble, 7200);
    agents =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "auth_info"), "agent");
    assert_int_equal(cJSON_GetArraySize(agents), 1);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(agents, 0), "agentid")
                         ->valuedouble,
                     1000002);
    cJSON_Delete(j);
    /* 代开发: "代开发自建应用安装时不返回" the access_token */
    suite_token(f, TMPL, "suites-tmpl-secret-0001", st);
    grant(f, app(f, 1000003), "ac-custom");
    assert_int_equal(service(f, "get_permanent_code", st, "{\"auth_code\":\"ac-custom\"}", &j), 0);
    assert_string_equal(str(j, "permanent_code"), "pc-custom-1000003");
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "access_token"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(j, "auth_info"));
    cJSON_Delete(j);
    stop(f);
}

static void omit_errcode(zl_emu_options *o)
{
    o->suite_omit_errcode = true;
}

static void test_suite_omit_errcode(void **state)
{
    fixture *f = start(SUITES, omit_errcode);
    char st[64], body[128];
    cJSON *j;

    (void)state;
    go(f);
    suite_token(f, S1, S1_SECRET, st); /* no errcode: -999 */
    grant(f, app(f, 1000002), "ac-quiet");
    snprintf(body, sizeof body,
             "{\"auth_corpid\":\"" CORP "\",\"permanent_code\":\"pc-third-1000002\"}");
    assert_int_equal(service(f, "get_corp_token", st, body, &j), -999);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "errmsg"));
    assert_non_null(str(j, "access_token"));
    cJSON_Delete(j);
    assert_int_equal(service(f, "get_permanent_code", st, "{\"auth_code\":\"ac-quiet\"}", NULL),
                     -999);
    assert_int_equal(
        service(
            f, "get_provider_token", NULL,
            "{\"corpid\":\"wwsuitesprovider1\",\"provider_secret\":\"suites-provider-secret-1\"}",
            NULL),
        -999);
    /* the v2 pages do not say it: their successes keep errcode 0 */
    assert_int_equal(service(f, "v2/get_auth_info", st, body, NULL), 0);
    /* and a failure always has it */
    assert_int_equal(service(f, "get_corp_token", st, "{\"auth_corpid\":\"" CORP "\"}", NULL),
                     41025);
    stop(f);
}

static void test_suite_cancelled(void **state)
{
    fixture *f = start(SUITES, NULL);
    char st[64], body[128];

    (void)state;
    go(f);
    suite_token(f, S1, S1_SECRET, st);
    app(f, 1000002)->auth.cancelled = true;
    app(f, 1000003)->auth.cancelled = true;
    snprintf(body, sizeof body,
             "{\"auth_corpid\":\"" CORP "\",\"permanent_code\":\"pc-third-1000002\"}");
    /* 40084: "企业是否已取消授权该套件" */
    assert_int_equal(service(f, "get_corp_token", st, body, NULL), 40084);
    assert_int_equal(service(f, "v2/get_auth_info", st, body, NULL), 40084);
    /* 48004: "授权关系无效: 可能是无授权或授权已被取消" */
    assert_int_equal(gettoken(f, "suites-third-app-secret-1000002", NULL), 48004);
    assert_int_equal(gettoken(f, "pc-custom-1000003", NULL), 48004);
    assert_int_equal(gettoken(f, "suites-third-app-secret-1000004", NULL), 0);
    stop(f);
}

static void test_suite_regrant_changes_the_custom_secret(void **state)
{
    fixture *f = start(SUITES, NULL);
    char st[64], at[64];

    (void)state;
    go(f);
    assert_int_equal(gettoken(f, "pc-custom-1000003", at), 0);
    snprintf(app(f, 1000003)->auth.permanent_code, sizeof app(f, 1000003)->auth.permanent_code,
             "pc-custom-regranted");
    assert_int_equal(gettoken(f, "pc-custom-1000003", NULL), 40001);
    assert_int_equal(gettoken(f, "pc-custom-regranted", NULL), 0);
    suite_token(f, TMPL, "suites-tmpl-secret-0001", st);
    assert_int_equal(
        service(f, "v2/get_auth_info", st,
                "{\"auth_corpid\":\"" CORP "\",\"permanent_code\":\"pc-custom-1000003\"}", NULL),
        40084);
    assert_int_equal(
        service(f, "v2/get_auth_info", st,
                "{\"auth_corpid\":\"" CORP "\",\"permanent_code\":\"pc-custom-regranted\"}", NULL),
        0);
    stop(f);
}

static void no_third_party_gettoken(zl_emu_options *o)
{
    o->gettoken_third_party = false;
}

static void test_suite_gettoken_third_party_switch(void **state)
{
    fixture *f = start(SUITES, no_third_party_gettoken);
    char st[64];

    (void)state;
    go(f);
    assert_int_equal(gettoken(f, "suites-third-app-secret-1000002", NULL), 40001);
    assert_int_equal(gettoken(f, "pc-custom-1000003", NULL), 0); /* 代开发: its way */
    suite_token(f, S1, S1_SECRET, st);
    assert_int_equal(
        service(f, "get_corp_token", st,
                "{\"auth_corpid\":\"" CORP "\",\"permanent_code\":\"pc-third-1000002\"}", NULL),
        0);
    stop(f);
}

/* The fake provider's newest item (caller deletes), after the callbacks were received. */
static cJSON *newest_callback(fixture *f)
{
    cJSON *all, *it;

    zl_server_turn(f->srv, 0);
    all = zl_emu_provider_inbox(f->srv->emu, NULL, 0);
    assert_non_null(all);
    it = cJSON_DetachItemFromArray(all, cJSON_GetArraySize(all) - 1);
    cJSON_Delete(all);
    return it;
}

static void test_suite_auth_events_xml(void **state)
{
    fixture *f = start(SUITES, NULL);
    zl_app_rt *a;
    cJSON *it;
    char want[512];

    (void)state;
    go(f);
    a = app(f, 1000002);
    grant(f, a, "ac-event");
    zl_emu_suite_auth_event(f->srv->emu, a, "create_auth");
    it = newest_callback(f);
    snprintf(want, sizeof want,
             "<xml><SuiteId><![CDATA[" S1 "]]></SuiteId><AuthCode><![CDATA[ac-event]]></AuthCode>"
             "<InfoType><![CDATA[create_auth]]></InfoType><TimeStamp>1793808000</TimeStamp>"
             "<State><![CDATA[]]></State><ExtraInfo></ExtraInfo></xml>");
    assert_string_equal(str(it, "xml"), want);
    assert_string_equal(str(it, "info_type"), "create_auth");
    cJSON_Delete(it);
    zl_emu_suite_auth_event(f->srv->emu, a, "change_auth");
    it = newest_callback(f);
    assert_string_equal(str(it, "xml"),
                        "<xml><SuiteId><![CDATA[" S1
                        "]]></SuiteId><InfoType><![CDATA[change_auth]]>"
                        "</InfoType><TimeStamp>1793808000</TimeStamp><AuthCorpId><![CDATA[" CORP
                        "]]></AuthCorpId><State><![CDATA[]]></State><ExtraInfo></ExtraInfo></xml>");
    cJSON_Delete(it);
    zl_emu_suite_auth_event(f->srv->emu, a, "cancel_auth");
    it = newest_callback(f);
    assert_string_equal(str(it, "xml"),
                        "<xml><SuiteId><![CDATA[" S1
                        "]]></SuiteId><InfoType><![CDATA[cancel_auth]]>"
                        "</InfoType><TimeStamp>1793808000</TimeStamp><AuthCorpId><![CDATA[" CORP
                        "]]></AuthCorpId></xml>");
    assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(it, "fields"), "AuthCorpId"), CORP);
    cJSON_Delete(it);
    stop(f);
}

/* ---- a provider's command URL on the same engine ---- */

static void on_provider(zl_engine *e, zl_request *r, void *ud)
{
    fixture *f = ud;
    const zl_suite *s = zl_world_suite(f->srv->world, S1);
    zl_wxcrypt *c = zl_wxcrypt_new(s->token, s->encoding_aes_key, S1, NULL);
    const char *sig = zl_request_query(r, "msg_signature"), *ts = zl_request_query(r, "timestamp"),
               *nonce = zl_request_query(r, "nonce");
    char *msg = NULL;
    size_t len = 0;

    (void)e;
    assert_non_null(c);
    if (!strcmp(zl_request_method(r), "GET")) {
        assert_int_equal(
            zl_wxcrypt_verify_url(c, sig, ts, nonce, zl_request_query(r, "echostr"), &msg, &len),
            ZL_WX_OK);
        f->verified++;
        zl_request_respond(r, 200, "text/plain", msg, len);
    } else {
        assert_int_equal(zl_wxcrypt_decrypt_msg(c, sig, ts, nonce, zl_request_body(r),
                                                zl_request_body_len(r), &msg, &len),
                         ZL_WX_OK);
        assert_true(f->got_n < 4);
        snprintf(f->got[f->got_n++], sizeof f->got[0], "%s", msg);
        if (f->answer_success)
            zl_request_respond(r, 200, "text/plain", "success", 7);
        else
            zl_request_respond(r, 200, "text/plain", "ok", 2);
    }
    free(msg);
    zl_wxcrypt_free(c);
}

/* The journal's newest {"face":"callback","kind":"suite"} entry with a final outcome. */
static cJSON *last_suite_outcome(fixture *f, const char *want)
{
    int turns = 300;

    while (turns-- > 0) {
        cJSON *all = zl_journal_since(f->srv->journal, 0, 100000), *e, *found = NULL;

        cJSON_ArrayForEach(e, all)
        {
            const char *kind = str(e, "kind"), *outcome = str(e, "outcome");

            if (kind && !strcmp(kind, "suite") && outcome && !strcmp(outcome, want))
                found = e;
        }
        if (found) {
            found = cJSON_Duplicate(found, 1);
            cJSON_Delete(all);
            return found;
        }
        cJSON_Delete(all);
        zl_server_turn(f->srv, 10);
    }
    fail_msg("no suite callback ended %s", want);
    return NULL;
}

static void test_suite_command_url(void **state)
{
    fixture *f = start(SUITES, NULL);
    zl_suite *s = zl_world_suite(f->srv->world, S1);
    cJSON *e;

    (void)state;
    snprintf(f->url, sizeof f->url, "%s/provider", f->base);
    s->callback_url = f->url; /* the world's own string is the arena's: this one outlives it */
    assert_int_equal(zl_engine_route(f->srv->engine, NULL, "/provider", on_provider, f), 0);
    f->answer_success = 1;
    go(f);
    e = last_suite_outcome(f, "delivered");
    assert_string_equal(str(e, "suite_id"), S1);
    assert_string_equal(str(e, "info_type"), "suite_ticket");
    assert_string_equal(str(e, "target"), f->url);
    cJSON_Delete(e);
    assert_int_equal(f->verified, 1);
    assert_int_equal(f->got_n, 1);
    assert_non_null(strstr(f->got[0], "<InfoType><![CDATA[suite_ticket]]></InfoType>"));
    /* the fake provider holds nothing of a suite with a URL */
    assert_null(zl_emu_provider_ticket(f->srv->emu, s, NULL));
    /* an answer other than "success" is a refusal ("企业微信会把返回内容当作错误信息") */
    f->answer_success = 0;
    zl_emu_suite_auth_event(f->srv->emu, app(f, 1000002), "change_auth");
    e = last_suite_outcome(f, "rejected");
    assert_string_equal(str(e, "info_type"), "change_auth");
    assert_string_equal(str(e, "answer"), "ok");
    cJSON_Delete(e);
    assert_int_equal(f->got_n, 2);
    stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_permanent_code_v2_single_use),
        cmocka_unit_test(test_suite_permanent_code_expires),
        cmocka_unit_test(test_suite_permanent_code_old),
        cmocka_unit_test(test_suite_omit_errcode),
        cmocka_unit_test(test_suite_cancelled),
        cmocka_unit_test(test_suite_regrant_changes_the_custom_secret),
        cmocka_unit_test(test_suite_gettoken_third_party_switch),
        cmocka_unit_test(test_suite_auth_events_xml),
        cmocka_unit_test(test_suite_command_url),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
