/* testapp: an app's callback URL served by the emulator itself (/_zonelab/test-app), which a
 * scenario points the world's first app at with test_app{}: it verifies the URL and decrypts
 * program_notify as a real app must, and can leave deliveries unanswered past the timeout. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario_int.h"
#include "wecom/wxcrypt.h"

static void answer_late(zl_engine *e, void *ud)
{
    (void)e;
    zl_request_respond(ud, 200, "text/plain", "too late", 8);
}

/*
 * An app's callback URL served by the emulator itself: it verifies the URL and decrypts
 * program_notify as the app must (with that app's Token and EncodingAESKey), answering the
 * first test_app_fail POSTs only after the emulator's per-try timeout, so they count as
 * timeouts and are tried again.
 */
static void on_test_app(zl_engine *e, zl_request *r, void *ud)
{
    sc *s = ud;
    const char *sig = zl_request_query(r, "msg_signature"), *ts = zl_request_query(r, "timestamp"),
               *nonce = zl_request_query(r, "nonce");
    zl_wxcrypt *c;
    char *msg = NULL;
    size_t len = 0;
    int err = 0, rc;

    if (!s->test_app || !sig || !ts || !nonce ||
        !(c = zl_wxcrypt_new(s->test_app->token, s->test_app->encoding_aes_key,
                             s->world->corps[0].corpid, &err))) {
        zl_request_respond(r, 400, "text/plain", "bad callback\n", 13);
        return;
    }
    if (!strcmp(zl_request_method(r), "GET")) {
        const char *echo = zl_request_query(r, "echostr");

        rc = echo ? zl_wxcrypt_verify_url(c, sig, ts, nonce, echo, &msg, &len) : -1;
        if (rc == 0)
            zl_request_respond(r, 200, "text/plain", msg, len);
        else
            zl_request_respond(r, 403, "text/plain", "verification failed\n", 20);
    } else if (s->test_app_fail > 0) {
        s->test_app_fail--;
        zl_engine_timer(e, zl_emu_now_ms(s->emu) + s->emu->opt.app_callbacks.timeout_ms + 1000,
                        answer_late, r);
    } else {
        rc = zl_wxcrypt_decrypt_msg(c, sig, ts, nonce, zl_request_body(r), zl_request_body_len(r),
                                    &msg, &len);
        if (rc == 0) {
            cJSON *o = cJSON_CreateObject();
            const char *tag = "<NotifyId><![CDATA[", *a = strstr(msg, tag);
            const char *b = a ? strstr(a + strlen(tag), "]]>") : NULL;

            if (b) {
                char *id = strndup(a + strlen(tag), (size_t)(b - a - strlen(tag)));

                cJSON_AddStringToObject(o, "notify_id", id ? id : "");
                free(id);
            }
            cJSON_AddStringToObject(o, "xml", msg);
            cJSON_AddItemToArray(s->test_app_got, o);
            zl_request_respond(r, 200, "text/plain", "success", 7);
        } else {
            zl_request_respond(r, 403, "text/plain", "decryption failed\n", 18);
        }
    }
    free(msg);
    zl_wxcrypt_free(c);
}

/* _zl.test_app(fail_times) -> url: points the first app's callback URL at the test app. */
static int l_test_app(lua_State *L)
{
    sc *s = zl_sandbox_running(L);
    lua_Integer fail = luaL_optinteger(L, 1, 0);

    if (fail < 0 || fail > 100)
        return zl_sandbox_raise(L, "test_app{fail=} takes 0 to 100");
    if (!s->world->corps[0].app_count)
        return zl_sandbox_raise(L, "the world has no app");
    s->test_app = &s->world->corps[0].apps[0];
    s->test_app_fail = (int)fail;
    snprintf(s->test_app_url, sizeof s->test_app_url, "http://127.0.0.1:%u/_zonelab/test-app",
             zl_engine_port(s->engine));
    s->test_app->callback_url = s->test_app_url; /* the console's "change the URL" */
    lua_pushstring(L, s->test_app_url);
    return 1;
}

/* _zl.test_app_received() -> what the test app decrypted: {notify_id, xml}... */
static int l_test_app_received(lua_State *L)
{
    zl_luajson_push(L, zl_sandbox_running(L)->test_app_got);
    return 1;
}

int zl_testapp_install(sc *s)
{
    if (!(s->test_app_got = cJSON_CreateArray()) ||
        zl_engine_route(s->engine, NULL, "/_zonelab/test-app", on_test_app, s) != 0)
        return -1;
    return 0;
}

const luaL_Reg zl_testapp_primitives[] = {
    {"test_app", l_test_app}, {"test_app_received", l_test_app_received}, {NULL, NULL}};
