/* test_appnotify: program_notify to the built-in fake app and, over loopback, to an app
 * server run by a second engine: URL verification, delivery, retries, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emu/appnotify.h"
#include "wecom/wxcrypt.h"

#define TOKEN  "QDG6eK"
#define AESKEY "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
#define CORPID "wx5823bf96d3bd56c7"

/* events.md §4, composed plaintext */
static const char pn_plain[] =
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[sys]]>"
    "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[program_notify]]></Event><NotifyId><![CDATA[NID0001]]></NotifyId>"
    "<NotifyScene>7</NotifyScene></xml>";

static int64_t fixed_wall(void *ud)
{
    (void)ud;
    return 1700000000000LL;
}

static zl_engine *engine(int fixed)
{
    zl_engine_config cfg = {.seed = 11, .wall = fixed ? fixed_wall : NULL};
    char err[256];
    zl_engine *e = zl_engine_new(&cfg, err, sizeof err);

    assert_non_null(e);
    return e;
}

static zl_app app_of(uint32_t agentid, const char *url)
{
    zl_app a = {.agentid = agentid,
                .data_permission = true,
                .name = "app",
                .secret = "s",
                .callback_url = url,
                .token = TOKEN,
                .encoding_aes_key = AESKEY};
    return a;
}

/* ---- journal helpers ---- */

/* Entries of kind (and outcome, when not NULL), in order, as a new array. */
static cJSON *entries(zl_journal *j, const char *kind, const char *outcome)
{
    cJSON *all = zl_journal_since(j, 0, 1000), *out = cJSON_CreateArray(), *it;

    assert_non_null(all);
    assert_non_null(out);
    cJSON_ArrayForEach(it, all)
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "kind");
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(it, "outcome");

        if (strcmp(cJSON_GetStringValue(k), kind))
            continue;
        if (outcome && (!cJSON_IsString(o) || strcmp(o->valuestring, outcome)))
            continue;
        cJSON_AddItemToArray(out, cJSON_Duplicate(it, 1));
    }
    cJSON_Delete(all);
    return out;
}

static int count(zl_journal *j, const char *kind, const char *outcome)
{
    cJSON *a = entries(j, kind, outcome);
    int n = cJSON_GetArraySize(a);

    cJSON_Delete(a);
    return n;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* Final program_notify outcomes so far. */
static int finals(zl_journal *j)
{
    return count(j, "program_notify", "delivered") + count(j, "program_notify", "rejected") +
           count(j, "program_notify", "failed") + count(j, "program_notify", "not_sent") +
           count(j, "program_notify", "received");
}

/* Turns both engines until the journal holds want final outcomes (a few seconds at most). */
static void pump(zl_engine *a, zl_engine *b, zl_journal *j, int want)
{
    int i;

    for (i = 0; i < 600 && finals(j) < want; i++) {
        zl_engine_turn(a, 5);
        if (b)
            zl_engine_turn(b, 5);
    }
}

/* A few more turns, to let anything that should not happen show up. */
static void settle(zl_engine *a, zl_engine *b)
{
    int i;

    for (i = 0; i < 10; i++) {
        zl_engine_turn(a, 5);
        if (b)
            zl_engine_turn(b, 5);
    }
}

/* ---- the fake app ---- */

static void test_appnotify_fake_app_receives(void **state)
{
    zl_engine *e = engine(1);
    zl_journal *j = zl_journal_new(100);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    zl_app app = app_of(1000002, "");
    cJSON *in, *it, *got;

    (void)state;
    assert_non_null(n);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "NID0001", 7), 0);
    in = zl_appnotify_inbox(n, 0, 0);
    assert_int_equal(cJSON_GetArraySize(in), 0); /* received on a later turn */
    cJSON_Delete(in);
    pump(e, NULL, j, 1);
    assert_int_equal(zl_appnotify_inbox_last(n), 1);
    in = zl_appnotify_inbox(n, 0, 0);
    assert_int_equal(cJSON_GetArraySize(in), 1);
    it = cJSON_GetArrayItem(in, 0);
    assert_int_equal(num(it, "seq"), 1);
    assert_int_equal(num(it, "t"), 1700000000000.0);
    assert_string_equal(str(it, "corpid"), CORPID);
    assert_int_equal(num(it, "agentid"), 1000002);
    assert_string_equal(str(it, "event"), "program_notify");
    assert_string_equal(str(it, "notify_id"), "NID0001");
    assert_int_equal(num(it, "notify_scene"), 7);
    assert_int_equal(num(it, "create_time"), 1700000000);
    assert_string_equal(str(it, "xml"), pn_plain); /* byte for byte as in events.md §4 */
    cJSON_Delete(in);
    got = entries(j, "program_notify", "received");
    assert_int_equal(cJSON_GetArraySize(got), 1);
    it = cJSON_GetArrayItem(got, 0);
    assert_string_equal(str(it, "target"), "fake_app");
    assert_string_equal(str(it, "notify_id"), "NID0001");
    assert_int_equal(num(it, "agentid"), 1000002);
    assert_int_equal(num(it, "inbox_seq"), 1);
    cJSON_Delete(got);
    zl_appnotify_free(n);
    zl_engine_free(e);
    zl_journal_free(j);
}

static void test_appnotify_inbox_since_and_agentid(void **state)
{
    zl_engine *e = engine(1);
    zl_journal *j = zl_journal_new(100);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    zl_app a = app_of(1000002, ""), b = app_of(1000003, "");
    cJSON *in;

    (void)state;
    assert_int_equal(zl_appnotify_inbox_last(n), 0);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &a, "n1", 1), 0);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &b, "n2", 2), 0);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &a, "n3", 3), 0);
    pump(e, NULL, j, 3);
    assert_int_equal(zl_appnotify_inbox_last(n), 3);
    in = zl_appnotify_inbox(n, 0, 1); /* since */
    assert_int_equal(cJSON_GetArraySize(in), 2);
    assert_string_equal(str(cJSON_GetArrayItem(in, 0), "notify_id"), "n2");
    assert_string_equal(str(cJSON_GetArrayItem(in, 1), "notify_id"), "n3");
    cJSON_Delete(in);
    in = zl_appnotify_inbox(n, 1000002, 0); /* agentid */
    assert_int_equal(cJSON_GetArraySize(in), 2);
    assert_string_equal(str(cJSON_GetArrayItem(in, 0), "notify_id"), "n1");
    assert_int_equal(num(cJSON_GetArrayItem(in, 1), "seq"), 3);
    cJSON_Delete(in);
    in = zl_appnotify_inbox(n, 1000003, 2);
    assert_int_equal(cJSON_GetArraySize(in), 0);
    cJSON_Delete(in);
    in = zl_appnotify_inbox(n, 0, 3);
    assert_int_equal(cJSON_GetArraySize(in), 0);
    cJSON_Delete(in);
    zl_appnotify_free(n);
    zl_engine_free(e);
    zl_journal_free(j);
}

/* The one inbox entry of a notification with scene, under options opt. */
static cJSON *scene_entry(const zl_appnotify_options *opt, int scene)
{
    zl_engine *e = engine(1);
    zl_journal *j = zl_journal_new(100);
    zl_appnotify *n = zl_appnotify_new(e, j, opt);
    zl_app app = app_of(7, "");
    cJSON *in, *it;

    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "NID", scene), 0);
    pump(e, NULL, j, 1);
    in = zl_appnotify_inbox(n, 7, 0);
    assert_int_equal(cJSON_GetArraySize(in), 1);
    it = cJSON_DetachItemFromArray(in, 0);
    cJSON_Delete(in);
    zl_appnotify_free(n);
    zl_engine_free(e);
    zl_journal_free(j);
    return it;
}

static void test_appnotify_notify_scene(void **state)
{
    zl_appnotify_options zero = {.scene_zero = true};
    cJSON *it;

    (void)state;
    it = scene_entry(NULL, -1);
    assert_null(cJSON_GetObjectItemCaseSensitive(it, "notify_scene"));
    assert_null(strstr(str(it, "xml"), "NotifyScene"));
    assert_non_null(strstr(str(it, "xml"), "</NotifyId></xml>"));
    cJSON_Delete(it);
    it = scene_entry(NULL, 7);
    assert_int_equal(num(it, "notify_scene"), 7);
    assert_non_null(strstr(str(it, "xml"), "<NotifyScene>7</NotifyScene></xml>"));
    cJSON_Delete(it);
    it = scene_entry(NULL, 0);
    assert_non_null(strstr(str(it, "xml"), "<NotifyScene>0</NotifyScene>"));
    cJSON_Delete(it);
    it = scene_entry(&zero, -1);
    assert_int_equal(num(it, "notify_scene"), 0);
    assert_non_null(strstr(str(it, "xml"), "<NotifyScene>0</NotifyScene></xml>"));
    cJSON_Delete(it);
    it = scene_entry(&zero, 255);
    assert_int_equal(num(it, "notify_scene"), 255);
    cJSON_Delete(it);
}

static void test_appnotify_cdata_split(void **state)
{
    static const char id[] = "a]]>b<NotifyScene>9</NotifyScene>";
    zl_engine *e = engine(1);
    zl_journal *j = zl_journal_new(100);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    zl_app app = app_of(5, "");
    cJSON *in, *it;

    (void)state;
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, id, 3), 0);
    pump(e, NULL, j, 1);
    in = zl_appnotify_inbox(n, 0, 0);
    it = cJSON_GetArrayItem(in, 0);
    assert_non_null(it);
    assert_string_equal(str(it, "notify_id"), id);
    assert_int_equal(num(it, "notify_scene"), 3);
    assert_non_null(strstr(str(it, "xml"), "<NotifyId><![CDATA[a]]]]><![CDATA[>b<NotifyScene>9"));
    cJSON_Delete(in);
    zl_appnotify_free(n);
    zl_engine_free(e);
    zl_journal_free(j);
}

static void test_appnotify_bad_arguments(void **state)
{
    zl_engine *e = engine(1);
    zl_journal *j = zl_journal_new(100);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    zl_app app = app_of(5, ""), badkey = app_of(5, ""), notoken = app_of(5, "");
    char id[ZL_APPNOTIFY_MAX_NOTIFY_ID + 2];

    (void)state;
    badkey.encoding_aes_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2"; /* 42 */
    notoken.token = NULL;
    memset(id, 'x', sizeof id - 1);
    id[sizeof id - 1] = '\0'; /* 129 bytes */
    assert_null(zl_appnotify_new(NULL, j, NULL));
    assert_int_equal(zl_appnotify_program_notify(NULL, CORPID, &app, "x", 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, NULL, "x", 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, NULL, &app, "x", 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, "", &app, "x", 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, "wx]]>1", &app, "x", 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, NULL, 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "", 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "a\nb", 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, id, 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "x", 256), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "x", -2), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &badkey, "x", 1), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &notoken, "x", 1), -1);
    id[sizeof id - 2] = '\0'; /* 128 bytes: allowed */
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, id, 255), 0);
    pump(e, NULL, j, 1);
    assert_int_equal(zl_appnotify_inbox_last(n), 1);
    assert_null(zl_appnotify_inbox(NULL, 0, 0));
    assert_int_equal(zl_appnotify_inbox_last(NULL), 0);
    assert_int_equal(zl_appnotify_url_verified(NULL, CORPID, 5, NULL), -1);
    zl_appnotify_free(NULL);
    zl_appnotify_free(n);
    zl_engine_free(e);
    zl_journal_free(j);
}

static void test_appnotify_free_cancels(void **state)
{
    zl_engine *e = engine(1);
    zl_journal *j = zl_journal_new(100);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    zl_app app = app_of(5, "");

    (void)state;
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "x", 1), 0);
    zl_appnotify_free(n); /* before the fake app's turn */
    settle(e, NULL);
    assert_int_equal(count(j, "program_notify", "cancelled"), 1);
    assert_int_equal(count(j, "program_notify", "received"), 0);
    zl_engine_free(e);
    zl_journal_free(j);
}

/* ---- an app server on a second engine ---- */

enum post_mode { ANSWER_200, ANSWER_500, HANG };

typedef struct app_server {
    zl_engine *e;
    zl_wxcrypt *c;
    enum post_mode mode;
    int wrong_echo; /* answer verification with something else */
    int gets, posts, verify_rc, decrypt_rc;
    char query_x[16];
    char echo[64];
    char content_type[64];
    char nonce[32], timestamp[32];
    char body[2048];
    char xml[1024];
} app_server;

static void app_route(zl_engine *e, zl_request *r, void *ud)
{
    app_server *s = ud;
    const char *sig = zl_request_query(r, "msg_signature");
    const char *ts = zl_request_query(r, "timestamp");
    const char *nonce = zl_request_query(r, "nonce");
    const char *x = zl_request_query(r, "x");
    char *msg = NULL;
    size_t len = 0;

    (void)e;
    snprintf(s->query_x, sizeof s->query_x, "%s", x ? x : "");
    snprintf(s->nonce, sizeof s->nonce, "%s", nonce ? nonce : "");
    snprintf(s->timestamp, sizeof s->timestamp, "%s", ts ? ts : "");
    if (!strcmp(zl_request_method(r), "GET")) {
        s->gets++;
        s->verify_rc =
            zl_wxcrypt_verify_url(s->c, sig, ts, nonce, zl_request_query(r, "echostr"), &msg, &len);
        if (s->verify_rc != ZL_WX_OK) {
            zl_request_respond(r, 403, "text/plain", "no", 2);
        } else if (s->wrong_echo) {
            zl_request_respond(r, 200, "text/plain", "\"wrong\"\n", 8);
        } else {
            snprintf(s->echo, sizeof s->echo, "%s", msg);
            zl_request_respond(r, 200, "text/plain", msg, len);
        }
        free(msg);
        return;
    }
    s->posts++;
    snprintf(s->body, sizeof s->body, "%s", zl_request_body(r));
    snprintf(s->content_type, sizeof s->content_type, "%s",
             zl_request_header(r, "content-type") ? zl_request_header(r, "content-type") : "");
    s->decrypt_rc = zl_wxcrypt_decrypt_msg(s->c, sig, ts, nonce, zl_request_body(r),
                                           zl_request_body_len(r), &msg, &len);
    if (s->decrypt_rc == ZL_WX_OK)
        snprintf(s->xml, sizeof s->xml, "%s", msg);
    free(msg);
    if (s->mode == ANSWER_200)
        zl_request_respond(r, 200, "text/plain", "", 0);
    else if (s->mode == ANSWER_500)
        zl_request_respond(r, 500, "text/plain", "busy", 4);
    /* HANG: never answered; the engine answers 503 when it is freed */
}

static void server_start(app_server *s, char *url, size_t len)
{
    int err = 0;

    memset(s, 0, sizeof *s);
    s->e = engine(0);
    s->c = zl_wxcrypt_new(TOKEN, AESKEY, CORPID, &err);
    assert_non_null(s->c);
    assert_int_equal(zl_engine_route(s->e, NULL, "/cb", app_route, s), 0);
    snprintf(url, len, "http://127.0.0.1:%u/cb?x=1", zl_engine_port(s->e));
}

static void server_stop(app_server *s)
{
    zl_engine_free(s->e);
    zl_wxcrypt_free(s->c);
    s->e = NULL;
    s->c = NULL;
}

static void test_appnotify_url_delivery(void **state)
{
    zl_engine *e = engine(0);
    zl_journal *j = zl_journal_new(200);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    app_server s;
    char url[128], expect[1024], ts[32];
    zl_app app;
    cJSON *got, *it;
    size_t i;

    (void)state;
    server_start(&s, url, sizeof url);
    app = app_of(1000002, url);
    assert_int_equal(zl_appnotify_url_verified(n, CORPID, 1000002, NULL), -1);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "NID0001", 7), 0);
    snprintf(ts, sizeof ts, "%lld", (long long)zl_clock_now(zl_engine_clock(e)));
    pump(e, s.e, j, 1);
    assert_int_equal(s.gets, 1);
    assert_int_equal(s.verify_rc, ZL_WX_OK);
    assert_true(strlen(s.echo) > 0);
    assert_int_equal(s.posts, 1);
    assert_int_equal(s.decrypt_rc, ZL_WX_OK);
    assert_string_equal(s.query_x, "1"); /* the URL's own query is kept */
    assert_string_equal(s.content_type, "text/xml");
    assert_non_null(strstr(s.body, "<ToUserName><![CDATA[" CORPID "]]></ToUserName>"));
    assert_non_null(strstr(s.body, "<AgentID><![CDATA[1000002]]></AgentID>"));
    assert_int_equal(strlen(s.nonce), 10);
    for (i = 0; i < 10; i++)
        assert_true(s.nonce[i] >= '0' && s.nonce[i] <= '9');
    assert_string_equal(s.timestamp, ts);
    snprintf(expect, sizeof expect,
             "<xml><ToUserName><![CDATA[" CORPID "]]></ToUserName><FromUserName><![CDATA[sys]]>"
             "</FromUserName><CreateTime>%s</CreateTime><MsgType><![CDATA[event]]></MsgType>"
             "<Event><![CDATA[program_notify]]></Event><NotifyId><![CDATA[NID0001]]></NotifyId>"
             "<NotifyScene>7</NotifyScene></xml>",
             ts);
    assert_string_equal(s.xml, expect);
    assert_int_equal(zl_appnotify_url_verified(n, CORPID, 1000002, NULL), 1);
    got = entries(j, "url_verify", "ok");
    assert_int_equal(cJSON_GetArraySize(got), 1);
    it = cJSON_GetArrayItem(got, 0);
    assert_int_equal(num(it, "try"), 1);
    assert_int_equal(num(it, "status"), 200);
    assert_string_equal(str(it, "target"), url);
    cJSON_Delete(got);
    got = entries(j, "program_notify", "delivered");
    assert_int_equal(cJSON_GetArraySize(got), 1);
    it = cJSON_GetArrayItem(got, 0);
    assert_int_equal(num(it, "try"), 1);
    assert_int_equal(num(it, "status"), 200);
    assert_string_equal(str(it, "target"), url);
    assert_string_equal(str(it, "corpid"), CORPID);
    assert_string_equal(str(it, "notify_id"), "NID0001");
    assert_int_equal(num(it, "notify_scene"), 7);
    assert_true(num(it, "elapsed_ms") >= 0);
    cJSON_Delete(got);
    /* verified once: the next notification goes straight to the POST */
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "NID0002", -1), 0);
    pump(e, s.e, j, 2);
    assert_int_equal(s.gets, 1);
    assert_int_equal(s.posts, 2);
    assert_non_null(strstr(s.xml, "<NotifyId><![CDATA[NID0002]]></NotifyId></xml>"));
    assert_int_equal(count(j, "url_verify", NULL), 1);
    assert_int_equal(count(j, "program_notify", "delivered"), 2);
    assert_int_equal(cJSON_GetArraySize(got = zl_appnotify_inbox(n, 0, 0)), 0); /* not fake */
    cJSON_Delete(got);
    zl_appnotify_free(n);
    server_stop(&s);
    zl_engine_free(e);
    zl_journal_free(j);
}

static void test_appnotify_omit_agentid(void **state)
{
    zl_appnotify_options opt = {.omit_agentid = true};
    zl_engine *e = engine(0);
    zl_journal *j = zl_journal_new(200);
    zl_appnotify *n = zl_appnotify_new(e, j, &opt);
    app_server s;
    char url[128];
    zl_app app;

    (void)state;
    server_start(&s, url, sizeof url);
    app = app_of(1000002, url);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "NID0001", 7), 0);
    pump(e, s.e, j, 1);
    assert_int_equal(s.posts, 1);
    assert_int_equal(s.decrypt_rc, ZL_WX_OK);
    assert_null(strstr(s.body, "AgentID"));
    assert_non_null(strstr(s.body, "<Encrypt><![CDATA["));
    zl_appnotify_free(n);
    server_stop(&s);
    zl_engine_free(e);
    zl_journal_free(j);
}

/* A URL on 127.0.0.1 where nothing listens. */
static void closed_url(char *url, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    snprintf(url, len, "http://127.0.0.1:%u/cb", ntohs(a.sin_port));
}

static void test_appnotify_verify_refused_tries(void **state)
{
    zl_engine *e = engine(0);
    zl_journal *j = zl_journal_new(200);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL); /* 3 tries */
    char url[128];
    zl_app app;
    cJSON *got;
    const char *why = NULL;
    int i;

    (void)state;
    closed_url(url, sizeof url);
    app = app_of(9, url);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "x", 1), 0);
    pump(e, NULL, j, 1);
    settle(e, NULL);
    got = entries(j, "url_verify", NULL);
    assert_int_equal(cJSON_GetArraySize(got), 3);
    for (i = 0; i < 3; i++) {
        cJSON *it = cJSON_GetArrayItem(got, i);

        assert_int_equal(num(it, "try"), i + 1);
        assert_string_equal(str(it, "outcome"), i < 2 ? "retry" : "failed");
        assert_int_equal(num(it, "curl_code"), 7); /* CURLE_COULDNT_CONNECT */
    }
    cJSON_Delete(got);
    got = entries(j, "program_notify", "not_sent");
    assert_int_equal(cJSON_GetArraySize(got), 1);
    assert_non_null(strstr(str(cJSON_GetArrayItem(got, 0), "error"), "URL verification failed"));
    cJSON_Delete(got);
    assert_int_equal(zl_appnotify_url_verified(n, CORPID, 9, &why), 0);
    assert_non_null(why);
    assert_non_null(strstr(why, "no answer"));
    zl_appnotify_free(n);
    zl_engine_free(e);
    zl_journal_free(j);
}

static void test_appnotify_post_refused_tries(void **state)
{
    zl_appnotify_options opt = {.tries = 2};
    zl_engine *e = engine(0);
    zl_journal *j = zl_journal_new(200);
    zl_appnotify *n = zl_appnotify_new(e, j, &opt);
    app_server s;
    char url[128];
    zl_app app;
    cJSON *got;

    (void)state;
    server_start(&s, url, sizeof url);
    app = app_of(1000002, url);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "first", 1), 0);
    pump(e, s.e, j, 1);
    assert_int_equal(count(j, "program_notify", "delivered"), 1);
    server_stop(&s); /* the app goes away after verification */
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "second", 1), 0);
    pump(e, NULL, j, 2);
    settle(e, NULL);
    assert_int_equal(count(j, "url_verify", NULL), 1); /* remembered: not verified again */
    got = entries(j, "program_notify", NULL);
    assert_int_equal(cJSON_GetArraySize(got), 3); /* delivered, retry, failed */
    assert_string_equal(str(cJSON_GetArrayItem(got, 1), "outcome"), "retry");
    assert_int_equal(num(cJSON_GetArrayItem(got, 1), "try"), 1);
    assert_int_equal(num(cJSON_GetArrayItem(got, 1), "curl_code"), 7);
    assert_string_equal(str(cJSON_GetArrayItem(got, 2), "outcome"), "failed");
    assert_int_equal(num(cJSON_GetArrayItem(got, 2), "try"), 2);
    assert_string_equal(str(cJSON_GetArrayItem(got, 2), "notify_id"), "second");
    cJSON_Delete(got);
    zl_appnotify_free(n);
    zl_engine_free(e);
    zl_journal_free(j);
}

static void test_appnotify_timeout_retried(void **state)
{
    zl_appnotify_options opt = {.timeout_ms = 200, .tries = 2};
    zl_engine *e = engine(0);
    zl_journal *j = zl_journal_new(200);
    zl_appnotify *n = zl_appnotify_new(e, j, &opt);
    app_server s;
    char url[128];
    zl_app app;
    cJSON *got;

    (void)state;
    server_start(&s, url, sizeof url);
    s.mode = HANG;
    app = app_of(1000002, url);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "slow", 1), 0);
    pump(e, s.e, j, 1);
    settle(e, s.e);
    assert_int_equal(s.gets, 1);
    assert_int_equal(s.posts, 2); /* the app saw both tries */
    got = entries(j, "program_notify", NULL);
    assert_int_equal(cJSON_GetArraySize(got), 2);
    assert_string_equal(str(cJSON_GetArrayItem(got, 0), "outcome"), "retry");
    assert_int_equal(num(cJSON_GetArrayItem(got, 0), "curl_code"), 28); /* timed out */
    assert_string_equal(str(cJSON_GetArrayItem(got, 1), "outcome"), "failed");
    assert_int_equal(num(cJSON_GetArrayItem(got, 1), "try"), 2);
    assert_int_equal(num(cJSON_GetArrayItem(got, 1), "curl_code"), 28);
    cJSON_Delete(got);
    zl_appnotify_free(n);
    server_stop(&s);
    zl_engine_free(e);
    zl_journal_free(j);
}

static void test_appnotify_non200_not_retried(void **state)
{
    zl_engine *e = engine(0);
    zl_journal *j = zl_journal_new(200);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    app_server s;
    char url[128];
    zl_app app;
    cJSON *got, *it;

    (void)state;
    server_start(&s, url, sizeof url);
    s.mode = ANSWER_500;
    app = app_of(1000002, url);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "NID", 1), 0);
    pump(e, s.e, j, 1);
    settle(e, s.e);
    assert_int_equal(s.posts, 1);
    got = entries(j, "program_notify", NULL);
    assert_int_equal(cJSON_GetArraySize(got), 1);
    it = cJSON_GetArrayItem(got, 0);
    assert_string_equal(str(it, "outcome"), "rejected");
    assert_int_equal(num(it, "status"), 500);
    assert_int_equal(num(it, "try"), 1);
    assert_string_equal(str(it, "answer"), "busy");
    cJSON_Delete(got);
    zl_appnotify_free(n);
    server_stop(&s);
    zl_engine_free(e);
    zl_journal_free(j);
}

static void test_appnotify_failed_verification_sends_nothing(void **state)
{
    zl_engine *e = engine(0);
    zl_journal *j = zl_journal_new(200);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    app_server s;
    char url[128];
    zl_app app;
    const char *why = NULL;
    cJSON *got;

    (void)state;
    server_start(&s, url, sizeof url);
    s.wrong_echo = 1;
    app = app_of(1000002, url);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "a", 1), 0);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "b", 1), 0); /* waits too */
    pump(e, s.e, j, 2);
    settle(e, s.e);
    assert_int_equal(s.gets, 1); /* one verification for both */
    assert_int_equal(s.posts, 0);
    assert_int_equal(count(j, "url_verify", "failed"), 1);
    got = entries(j, "program_notify", "not_sent");
    assert_int_equal(cJSON_GetArraySize(got), 2);
    assert_string_equal(str(cJSON_GetArrayItem(got, 0), "notify_id"), "a"); /* in order */
    assert_string_equal(str(cJSON_GetArrayItem(got, 1), "notify_id"), "b");
    cJSON_Delete(got);
    assert_int_equal(zl_appnotify_url_verified(n, CORPID, 1000002, &why), 0);
    assert_non_null(strstr(why, "not the echostr plaintext"));
    /* the app is fixed: the next notification verifies again, then delivers */
    s.wrong_echo = 0;
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "c", 1), 0);
    pump(e, s.e, j, 3);
    assert_int_equal(s.gets, 2);
    assert_int_equal(s.posts, 1);
    assert_non_null(strstr(s.xml, "<NotifyId><![CDATA[c]]></NotifyId>"));
    assert_int_equal(zl_appnotify_url_verified(n, CORPID, 1000002, NULL), 1);
    zl_appnotify_free(n);
    server_stop(&s);
    zl_engine_free(e);
    zl_journal_free(j);
}

static void test_appnotify_free_with_call_in_flight(void **state)
{
    zl_engine *e = engine(0);
    zl_journal *j = zl_journal_new(200);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    app_server s;
    char url[128];
    zl_app app;
    int i;

    (void)state;
    server_start(&s, url, sizeof url);
    s.mode = HANG;
    app = app_of(1000002, url);
    assert_int_equal(zl_appnotify_program_notify(n, CORPID, &app, "x", 1), 0);
    for (i = 0; i < 400 && s.posts == 0; i++) {
        zl_engine_turn(e, 5);
        zl_engine_turn(s.e, 5);
    }
    assert_int_equal(s.posts, 1);
    zl_appnotify_free(n); /* the POST is still waiting for an answer */
    assert_int_equal(count(j, "program_notify", "cancelled"), 1);
    server_stop(&s); /* answers 503; the orphaned call ends without the notifier */
    settle(e, NULL);
    zl_engine_free(e);
    assert_int_equal(count(j, "program_notify", NULL), 1);
    zl_journal_free(j);
}

/* The fake app keeps the newest ZL_APPNOTIFY_INBOX_CAP notifications and says which is the
 * oldest it still has, so a reader sees a gap instead of losing it silently (issue 19). */
static void test_appnotify_inbox_cap_says_first(void **state)
{
    zl_engine *e = engine(1);
    zl_journal *j = zl_journal_new(4 * ZL_APPNOTIFY_INBOX_CAP);
    zl_appnotify *n = zl_appnotify_new(e, j, NULL);
    zl_app a = app_of(1000002, "");
    const int total = ZL_APPNOTIFY_INBOX_CAP + 5;
    char id[32];
    cJSON *in;
    int i;

    (void)state;
    assert_int_equal(zl_appnotify_inbox_first(n), 1);
    for (i = 1; i <= total; i++) {
        snprintf(id, sizeof id, "n%d", i);
        assert_int_equal(zl_appnotify_program_notify(n, CORPID, &a, id, 1), 0);
    }
    for (i = 0; i < 6000 && zl_appnotify_inbox_last(n) < (uint64_t)total; i++)
        zl_engine_turn(e, 5);
    assert_int_equal(zl_appnotify_inbox_last(n), total);
    assert_int_equal(zl_appnotify_inbox_first(n), 6);
    in = zl_appnotify_inbox(n, 0, 0);
    assert_int_equal(cJSON_GetArraySize(in), ZL_APPNOTIFY_INBOX_CAP);
    assert_string_equal(str(cJSON_GetArrayItem(in, 0), "notify_id"), "n6");
    cJSON_Delete(in);
    zl_appnotify_free(n);
    zl_engine_free(e);
    zl_journal_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appnotify_fake_app_receives),
        cmocka_unit_test(test_appnotify_inbox_since_and_agentid),
        cmocka_unit_test(test_appnotify_inbox_cap_says_first),
        cmocka_unit_test(test_appnotify_notify_scene),
        cmocka_unit_test(test_appnotify_cdata_split),
        cmocka_unit_test(test_appnotify_bad_arguments),
        cmocka_unit_test(test_appnotify_free_cancels),
        cmocka_unit_test(test_appnotify_url_delivery),
        cmocka_unit_test(test_appnotify_omit_agentid),
        cmocka_unit_test(test_appnotify_verify_refused_tries),
        cmocka_unit_test(test_appnotify_post_refused_tries),
        cmocka_unit_test(test_appnotify_timeout_retried),
        cmocka_unit_test(test_appnotify_non200_not_retried),
        cmocka_unit_test(test_appnotify_failed_verification_sends_nothing),
        cmocka_unit_test(test_appnotify_free_with_call_in_flight),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
