/* test_sdk: the fake SDK's C API (zone_sdk.h) against a wire-level peer on loopback. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "api_names.h"
#include "peer.h"
#include "wire.h"
#include "zone_sdk.h"

static const char SECRET[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
static const char OTHER_SECRET[] = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=";

static void env_for(unsigned short port)
{
    char url[64];

    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    setenv("ZONELAB_URL", url, 1);
    setenv("ZONELAB_SECRET", SECRET, 1);
    setenv("ZONELAB_SECRET_VER", "3", 1);
    setenv("ZONELAB_INSTANCE", "program-0", 1);
    unsetenv("ZONELAB_INVOKE_TIMEOUT_MS");
    unsetenv("ZONELAB_LOG_LEVEL");
    unsetenv("ZONELAB_LOG_REQ_ID");
}

/* ---- inbound requests built the way the emulator builds them ---- */

typedef struct request {
    zone_wire_sealed_headers h;
    char *body;
    zone_header hd[4];
} request;

static void request_make(request *r, const char *plain, const char *secret, uint32_t ver)
{
    zone_wire_keys k;

    assert_int_equal(zone_wire_keys_init(&k, secret, ver), ZONE_WIRE_OK);
    assert_int_equal(zone_wire_seal(&k, NULL, "POST", "/", plain, strlen(plain), &r->h, &r->body),
                     ZONE_WIRE_OK);
    r->hd[0] = (zone_header){"ww-secret-ver", r->h.secret_ver};
    r->hd[1] = (zone_header){"ww-timestamp", r->h.timestamp};
    r->hd[2] = (zone_header){"ww-nonce", r->h.nonce};
    r->hd[3] = (zone_header){"ww-signature", r->h.signature};
}

static char *envelope(const char *req_id)
{
    zone_wire_callback c = {.corpid = "wwcorp",
                            .data = "{\"k\":1}",
                            .job_info = "job-7",
                            .ability_id = "invoke_sync_msg",
                            .notify_id = "n1",
                            .req_id = (char *)(uintptr_t)req_id,
                            .agentid = 1000002,
                            .call_type = 1,
                            .is_async = 1};
    char *j = zone_wire_callback_encode(&c);

    assert_non_null(j);
    return j;
}

static zone_callback *callback_from(const char *plain, const char *secret, uint32_t ver)
{
    request r;
    zone_callback *cb;

    request_make(&r, plain, secret, ver);
    cb = zone_callback_new("POST", r.hd, 4, r.body, strlen(r.body));
    free(r.body);
    assert_non_null(cb);
    return cb;
}

static void test_sdk_callback_verifies_and_reads(void **state)
{
    char *plain = envelope("0123456789abcdef");
    zone_callback *cb;

    (void)state;
    env_for(1);
    cb = callback_from(plain, SECRET, 3);
    assert_true(zone_callback_ok(cb));
    assert_int_equal(zone_callback_status(cb), ZONE_OK);
    assert_string_equal(zone_callback_error(cb), "");
    assert_string_equal(zone_callback_corpid(cb), "wwcorp");
    assert_int_equal(zone_callback_agentid(cb), 1000002);
    assert_int_equal(zone_callback_call_type(cb), 1);
    assert_string_equal(zone_callback_data(cb), "{\"k\":1}");
    assert_true(zone_callback_is_async(cb));
    assert_string_equal(zone_callback_job_info(cb), "job-7");
    assert_string_equal(zone_callback_ability_id(cb), "invoke_sync_msg");
    assert_string_equal(zone_callback_notify_id(cb), "n1");
    assert_string_equal(zone_callback_req_id(cb), "0123456789abcdef");
    zone_callback_free(cb);
    free(plain);
}

static void expect_refused(zone_callback *cb, int code, const char *needle)
{
    assert_false(zone_callback_ok(cb));
    assert_int_equal(zone_callback_status(cb), code);
    if (needle && !strstr(zone_callback_error(cb), needle))
        fail_msg("error '%s' lacks '%s'", zone_callback_error(cb), needle);
    /* accessors are safe and empty on a refused request */
    assert_string_equal(zone_callback_corpid(cb), "");
    assert_string_equal(zone_callback_data(cb), "");
    assert_int_equal(zone_callback_agentid(cb), 0);
    zone_callback_free(cb);
}

static void test_sdk_callback_refusals(void **state)
{
    char *plain = envelope("");
    request r;

    (void)state;
    env_for(1);
    /* -20001..-20003: what the caller failed to pass */
    request_make(&r, plain, SECRET, 3);
    expect_refused(zone_callback_new(NULL, r.hd, 4, r.body, strlen(r.body)), ZONE_ERR_NO_METHOD,
                   "method");
    expect_refused(zone_callback_new("POST", NULL, 0, r.body, strlen(r.body)), ZONE_ERR_NO_HEADERS,
                   "headers");
    expect_refused(zone_callback_new("POST", r.hd, 4, NULL, 0), ZONE_ERR_NO_BODY, "body");
    /* -10004: a framework re-cased a header name */
    r.hd[0].name = "Ww-Secret-Ver";
    expect_refused(zone_callback_new("POST", r.hd, 4, r.body, strlen(r.body)), ZONE_ERR_SIGNATURE,
                   "re-cased");
    r.hd[0].name = "ww-secret-ver";
    /* accepted once, then the same nonce is a replay: -10004 */
    zone_callback *ok = zone_callback_new("POST", r.hd, 4, r.body, strlen(r.body));
    assert_true(zone_callback_ok(ok));
    zone_callback_free(ok);
    expect_refused(zone_callback_new("POST", r.hd, 4, r.body, strlen(r.body)), ZONE_ERR_SIGNATURE,
                   "already used");
    free(r.body);
    /* -10004: another secret, same version */
    expect_refused(callback_from(plain, OTHER_SECRET, 3), ZONE_ERR_SIGNATURE, "does not match");
    /* -10008: the backend holds another secret version */
    expect_refused(callback_from(plain, SECRET, 4), ZONE_ERR_SECRET_VER, "version");
    /* -10009: decrypts, but is not a callback envelope */
    expect_refused(callback_from("[1,2,3]", SECRET, 3), ZONE_ERR_JSON, "envelope");
    expect_refused(callback_from("{\"call_type\":7}", SECRET, 3), ZONE_ERR_JSON, "call_type");
    /* -10005: the body was replaced by someone holding the signing key but no ciphertext */
    {
        zone_wire_keys k;
        static const char junk[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

        request_make(&r, plain, SECRET, 3);
        assert_int_equal(zone_wire_keys_init(&k, SECRET, 3), ZONE_WIRE_OK);
        assert_int_equal(zone_wire_sign(&k, "POST", "/", r.h.timestamp, r.h.nonce, r.h.secret_ver,
                                        junk, strlen(junk), r.h.signature),
                         ZONE_WIRE_OK);
        expect_refused(zone_callback_new("POST", r.hd, 4, junk, strlen(junk)), ZONE_ERR_DECRYPT,
                       NULL);
        free(r.body);
    }
    /* -10001: no configuration; the message names the variable */
    unsetenv("ZONELAB_SECRET");
    expect_refused(callback_from(plain, SECRET, 3), ZONE_ERR_INTERNAL, "ZONELAB_SECRET");
    setenv("ZONELAB_SECRET", "not base64!", 1);
    expect_refused(callback_from(plain, SECRET, 3), ZONE_ERR_INTERNAL, "ZONELAB_SECRET");
    setenv("ZONELAB_SECRET", SECRET, 1);
    setenv("ZONELAB_SECRET_VER", "3x", 1);
    expect_refused(callback_from(plain, SECRET, 3), ZONE_ERR_INTERNAL, "ZONELAB_SECRET_VER");
    free(plain);
}

/* The keys follow ZONELAB_SECRET and ZONELAB_SECRET_VER from one handle to the next (the SDK
 * keeps the last secret's keys; a change derives again). */
static void test_sdk_callback_keys_follow_env(void **state)
{
    char *plain = envelope("");
    zone_callback *cb;

    (void)state;
    env_for(1);
    cb = callback_from(plain, SECRET, 3);
    assert_true(zone_callback_ok(cb));
    zone_callback_free(cb);
    setenv("ZONELAB_SECRET", OTHER_SECRET, 1);
    cb = callback_from(plain, OTHER_SECRET, 3);
    assert_true(zone_callback_ok(cb));
    zone_callback_free(cb);
    expect_refused(callback_from(plain, SECRET, 3), ZONE_ERR_SIGNATURE, "does not match");
    setenv("ZONELAB_SECRET_VER", "4", 1);
    cb = callback_from(plain, OTHER_SECRET, 4);
    assert_true(zone_callback_ok(cb));
    zone_callback_free(cb);
    expect_refused(callback_from(plain, OTHER_SECRET, 3), ZONE_ERR_SECRET_VER, "version");
    env_for(1);
    cb = callback_from(plain, SECRET, 3);
    assert_true(zone_callback_ok(cb));
    zone_callback_free(cb);
    free(plain);
}

/* Opens a reply the way the emulator does. */
static char *open_reply(const zone_reply *r, int *exception)
{
    zone_wire_keys k;
    zone_wire_header h[8];
    zone_wire_reply rep = {0};
    char *plain = NULL, *out;
    size_t len, i;

    assert_true(r->n_headers <= 8);
    for (i = 0; i < r->n_headers; i++)
        h[i] = (zone_wire_header){r->headers[i].name, r->headers[i].value};
    assert_int_equal(zone_wire_keys_init(&k, SECRET, 3), ZONE_WIRE_OK);
    assert_int_equal(zone_wire_open(&k, NULL, NULL, ZONE_WIRE_REPLY_METHOD, "/", h, r->n_headers,
                                    r->body, r->body_len, &plain, &len, NULL, 0),
                     ZONE_WIRE_OK);
    assert_int_equal(zone_wire_reply_decode(plain, len, &rep), ZONE_WIRE_OK);
    free(plain);
    *exception = rep.exception;
    out = rep.response;
    rep.response = NULL;
    zone_wire_reply_cleanup(&rep);
    return out;
}

static const char *reply_header(const zone_reply *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++)
        if (!strcmp(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

static void test_sdk_reply_normal_and_exception(void **state)
{
    char *plain = envelope(""), *text;
    zone_callback *cb;
    zone_reply *r = NULL;
    int exc = -1;

    (void)state;
    env_for(1);
    cb = callback_from(plain, SECRET, 3);
    assert_int_equal(zone_callback_build_reply(cb, "{\"x\":\"y\"}", 9, &r, NULL, 0), ZONE_OK);
    assert_null(reply_header(r, ZONE_WIRE_H_EXCEPTION));
    text = open_reply(r, &exc);
    assert_string_equal(text, "{\"x\":\"y\"}");
    assert_int_equal(exc, 0);
    free(text);
    zone_reply_free(r);
    zone_callback_free(cb);

    /* a request that failed to verify gets a sealed exception reply saying why */
    cb = callback_from(plain, OTHER_SECRET, 3);
    assert_int_equal(zone_callback_build_reply(cb, "ignored", 7, &r, NULL, 0), ZONE_OK);
    assert_string_equal(reply_header(r, ZONE_WIRE_H_EXCEPTION), "-10004");
    assert_non_null(strstr(reply_header(r, ZONE_WIRE_H_ERROR), "does not match"));
    text = open_reply(r, &exc);
    assert_string_equal(text, "");
    assert_int_equal(exc, 1);
    free(text);
    zone_reply_free(r);
    zone_callback_free(cb);

    /* without keys the exception reply is bare: headers only */
    unsetenv("ZONELAB_SECRET_VER");
    cb = callback_from(plain, SECRET, 3);
    assert_int_equal(zone_callback_build_reply(cb, "", 0, &r, NULL, 0), ZONE_OK);
    assert_string_equal(reply_header(r, ZONE_WIRE_H_EXCEPTION), "-10001");
    assert_non_null(strstr(reply_header(r, ZONE_WIRE_H_ERROR), "ZONELAB_SECRET_VER"));
    assert_null(reply_header(r, "ww-signature"));
    assert_int_equal(r->body_len, 0);
    zone_reply_free(r);
    zone_callback_free(cb);
    free(plain);
}

/* ---- outbound ---- */

static peer *P;

static int peer_setup(void **state)
{
    (void)state;
    P = peer_start(SECRET, 3);
    assert_non_null(P);
    env_for(peer_port(P));
    return 0;
}

static int peer_teardown(void **state)
{
    (void)state;
    peer_stop(P);
    P = NULL;
    return 0;
}

static int invoke(const char *api, const char *req, char **rsp, char *err)
{
    zone_sdk *s = zone_sdk_new("wwcorp", 1000002, "invoke_sync_msg", "");
    int rc;

    assert_non_null(s);
    rc = zone_sdk_invoke(s, api, req, rsp, err, ZONE_ERRBUF_SIZE);
    zone_sdk_free(s);
    return rc;
}

static void test_sdk_invoke_reaches_backend(void **state)
{
    zone_wire_invoke last = {0};
    zone_sdk *s;
    char *rsp = NULL, err[ZONE_ERRBUF_SIZE] = "";

    (void)state;
    peer_set_mode(P, PEER_ANSWER);
    peer_set_response(P, "{\"errcode\":0,\"errmsg\":\"ok\",\"next_cursor\":\"c2\"}");
    s = zone_sdk_new("wwcorp", 1000002, "invoke_sync_msg", "job-9");
    assert_int_equal(
        zone_sdk_invoke(s, "sync_msg", "{\"cursor\":\"c1\",\"limit\":10}", &rsp, err, sizeof err),
        ZONE_OK);
    assert_string_equal(rsp, "{\"errcode\":0,\"errmsg\":\"ok\",\"next_cursor\":\"c2\"}");
    zone_string_free(rsp);
    zone_sdk_free(s);
    assert_int_equal(peer_calls(P), 1);
    assert_int_equal(peer_last_call(P, &last), 0);
    assert_string_equal(last.api, "sync_msg");
    assert_string_equal(last.request, "{\"cursor\":\"c1\",\"limit\":10}");
    assert_string_equal(last.corpid, "wwcorp");
    assert_int_equal(last.agentid, 1000002);
    assert_string_equal(last.ability_id, "invoke_sync_msg");
    assert_string_equal(last.job_info, "job-9");
    assert_string_equal(last.instance, "program-0");
    zone_wire_invoke_cleanup(&last);
}

static void test_sdk_invoke_from_callback(void **state)
{
    char *plain = envelope(""), *rsp = NULL;
    zone_wire_invoke last = {0};
    zone_callback *cb;
    zone_sdk *s;

    (void)state;
    peer_set_mode(P, PEER_ANSWER);
    peer_set_response(P, "{\"errcode\":0}");
    cb = callback_from(plain, SECRET, 3);
    s = zone_sdk_new_from_callback(cb);
    assert_int_equal(zone_sdk_invoke(s, "program_async_job_call_back", "{\"a\":1}", &rsp, NULL, 0),
                     ZONE_OK);
    zone_string_free(rsp);
    assert_int_equal(peer_last_call(P, &last), 0);
    assert_string_equal(last.corpid, "wwcorp");
    assert_int_equal(last.agentid, 1000002);
    assert_string_equal(last.job_info, "job-7");
    assert_string_equal(last.ability_id, "invoke_sync_msg");
    zone_wire_invoke_cleanup(&last);
    zone_sdk_free(s);
    zone_callback_free(cb);

    /* a handle from a refused callback never sends */
    cb = callback_from(plain, OTHER_SECRET, 3);
    s = zone_sdk_new_from_callback(cb);
    {
        char err[ZONE_ERRBUF_SIZE];
        size_t before = peer_calls(P);

        assert_int_equal(zone_sdk_invoke(s, "sync_msg", "{}", &rsp, err, sizeof err),
                         ZONE_ERR_INTERNAL);
        assert_null(rsp);
        assert_non_null(strstr(err, "did not verify"));
        assert_int_equal(peer_calls(P), before);
    }
    zone_sdk_free(s);
    zone_callback_free(cb);
    free(plain);
}

static void expect_code(peer_mode m, int code, const char *needle)
{
    char *rsp = (char *)"untouched", err[ZONE_ERRBUF_SIZE] = "";

    peer_set_mode(P, m);
    assert_int_equal(invoke("sync_msg", "{}", &rsp, err), code);
    assert_null(rsp);
    if (needle && !strstr(err, needle))
        fail_msg("message '%s' lacks '%s'", err, needle);
    peer_set_mode(P, PEER_ANSWER);
}

static void test_sdk_invoke_codes_from_backend(void **state)
{
    (void)state;
    peer_set_response(P, "{\"errcode\":0}");
    expect_code(PEER_HTTP_502, ZONE_ERR_HTTP_STATUS, "HTTP 502");
    expect_code(PEER_WRONG_KEY, ZONE_ERR_SIGNATURE, "does not match");
    expect_code(PEER_BAD_CIPHER, ZONE_ERR_DECRYPT, NULL);
    expect_code(PEER_EMPTY_200, ZONE_ERR_EMPTY_RESPONSE, "empty");
    expect_code(PEER_OTHER_VERSION, ZONE_ERR_SECRET_VER, "version");
    expect_code(PEER_NOT_ENVELOPE, ZONE_ERR_JSON, "envelope");
    expect_code(PEER_RESET, ZONE_ERR_NETWORK, "failed");
    /* the reply verified, but its response is not JSON */
    peer_set_response(P, "<xml/>");
    expect_code(PEER_ANSWER, ZONE_ERR_JSON, "response is not JSON");
    peer_set_response(P, "{\"errcode\":0}");
}

static void test_sdk_invoke_backend_refuses(void **state)
{
    char *rsp = NULL, err[ZONE_ERRBUF_SIZE] = "", detail[ZONE_ERRBUF_SIZE];
    size_t refused = peer_refused(P);

    (void)state;
    /* this side holds another secret: the backend's exception reply says -10004 */
    setenv("ZONELAB_SECRET", OTHER_SECRET, 1);
    assert_int_equal(invoke("sync_msg", "{}", &rsp, err), ZONE_ERR_SIGNATURE);
    assert_non_null(strstr(err, "refused"));
    assert_int_equal(peer_refused(P), refused + 1);
    assert_int_equal(peer_last_refusal(P, detail, sizeof detail), ZONE_WIRE_ERR_SIGNATURE);
    /* another version: -10008 */
    setenv("ZONELAB_SECRET", SECRET, 1);
    setenv("ZONELAB_SECRET_VER", "9", 1);
    assert_int_equal(invoke("sync_msg", "{}", &rsp, err), ZONE_ERR_SECRET_VER);
    assert_null(rsp);
    setenv("ZONELAB_SECRET_VER", "3", 1);
}

static void test_sdk_invoke_codes_local(void **state)
{
    char *rsp = NULL, err[ZONE_ERRBUF_SIZE] = "";
    size_t calls = peer_calls(P);
    int fd;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    char url[64];

    (void)state;
    /* -10006: names match exactly; get_msg_body is not an SDK API */
    assert_int_equal(invoke("get_msg_body", "{}", &rsp, err), ZONE_ERR_UNSUPPORTED_API);
    assert_int_equal(invoke("sync_msg ", "{}", &rsp, err), ZONE_ERR_UNSUPPORTED_API);
    assert_int_equal(invoke("zonelab.open_debug_mode", "{}", &rsp, err), ZONE_ERR_UNSUPPORTED_API);
    assert_non_null(strstr(err, "unsupported API name"));
    /* -10009: the request is not JSON */
    assert_int_equal(invoke("sync_msg", "{cursor:1}", &rsp, err), ZONE_ERR_JSON);
    assert_int_equal(invoke("sync_msg", NULL, &rsp, err), ZONE_ERR_JSON);
    assert_int_equal(peer_calls(P), calls); /* none of these was sent */
    /* -10001: configuration missing, message names the variable */
    unsetenv("ZONELAB_URL");
    assert_int_equal(invoke("sync_msg", "{}", &rsp, err), ZONE_ERR_INTERNAL);
    assert_non_null(strstr(err, "ZONELAB_URL"));
    env_for(peer_port(P));
    unsetenv("ZONELAB_INSTANCE");
    assert_int_equal(invoke("sync_msg", "{}", &rsp, err), ZONE_ERR_INTERNAL);
    assert_non_null(strstr(err, "ZONELAB_INSTANCE"));
    env_for(peer_port(P));
    setenv("ZONELAB_URL", "ftp://127.0.0.1:1", 1);
    assert_int_equal(invoke("sync_msg", "{}", &rsp, err), ZONE_ERR_INTERNAL);
    assert_non_null(strstr(err, "ZONELAB_URL"));
    /* -10002: nothing listens on the port */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    setenv("ZONELAB_URL", url, 1);
    assert_int_equal(invoke("sync_msg", "{}", &rsp, err), ZONE_ERR_NETWORK);
    assert_non_null(strstr(err, url));
    /* -10002: the backend is slower than the timeout */
    env_for(peer_port(P));
    setenv("ZONELAB_INVOKE_TIMEOUT_MS", "150", 1);
    peer_set_delay_ms(P, 1500);
    peer_set_mode(P, PEER_SLOW);
    assert_int_equal(invoke("sync_msg", "{}", &rsp, err), ZONE_ERR_NETWORK);
    peer_set_mode(P, PEER_ANSWER);
    env_for(peer_port(P));
    assert_null(rsp);
}

#define THREADS    8
#define PER_THREAD 40

static void *hammer(void *arg)
{
    const zone_sdk *s = arg;
    long bad = 0;
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        char *rsp = NULL;

        if (zone_sdk_invoke(s, "sync_msg", "{\"limit\":1}", &rsp, NULL, 0) != ZONE_OK ||
            strcmp(rsp, "{\"errcode\":0}") != 0)
            bad++;
        zone_string_free(rsp);
    }
    return (void *)bad;
}

static void test_sdk_invoke_from_many_threads(void **state)
{
    pthread_t t[THREADS];
    zone_sdk *s = zone_sdk_new("wwcorp", 1, "a", "");
    size_t before = peer_calls(P);
    int i;

    (void)state;
    peer_set_mode(P, PEER_ANSWER);
    peer_set_response(P, "{\"errcode\":0}");
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, s), 0);
    for (i = 0; i < THREADS; i++) {
        void *bad;

        pthread_join(t[i], &bad);
        assert_int_equal((long)bad, 0);
    }
    assert_int_equal(peer_calls(P), before + THREADS * PER_THREAD);
    zone_sdk_free(s);
}

/* Each thread keeps its easy handle between invokes; a child of fork() makes its own and the
 * parent's goes on working after the child's invokes. */
static void test_sdk_invoke_kept_handle_and_fork(void **state)
{
    size_t before = peer_calls(P);
    char *rsp = NULL;
    pid_t child;
    int status, i;

    (void)state;
    peer_set_mode(P, PEER_ANSWER);
    peer_set_response(P, "{\"errcode\":0}");
    for (i = 0; i < 3; i++) { /* the same handle, reset between calls */
        assert_int_equal(invoke("sync_msg", "{\"limit\":1}", &rsp, NULL), ZONE_OK);
        assert_string_equal(rsp, "{\"errcode\":0}");
        zone_string_free(rsp);
    }
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int bad = 0;

        for (i = 0; i < 3; i++) {
            char *r = NULL;

            bad += invoke("sync_msg", "{\"limit\":2}", &r, NULL) != ZONE_OK || !r ||
                   strcmp(r, "{\"errcode\":0}") != 0;
            zone_string_free(r);
        }
        _exit(bad);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(invoke("sync_msg", "{\"limit\":3}", &rsp, NULL), ZONE_OK);
    zone_string_free(rsp);
    assert_int_equal(peer_calls(P), before + 7);
}

static void test_sdk_debug_mode(void **state)
{
    zone_wire_invoke last = {0};
    char err[ZONE_ERRBUF_SIZE] = "";

    (void)state;
    peer_set_mode(P, PEER_ANSWER);
    peer_set_response(P, "{\"errcode\":0,\"errmsg\":\"ok\"}");
    assert_int_equal(zone_open_debug_mode("dbg-token", "acc-token", err, sizeof err), 1);
    assert_int_equal(peer_last_call(P, &last), 0);
    assert_string_equal(last.api, ZONE_API_OPEN_DEBUG_MODE);
    assert_string_equal(last.request,
                        "{\"debug_token\":\"dbg-token\",\"access_token\":\"acc-token\"}");
    zone_wire_invoke_cleanup(&last);
    peer_set_response(P, "{\"errcode\":42001,\"errmsg\":\"access_token expired\"}");
    assert_int_equal(zone_open_debug_mode("dbg-token", "acc-token", err, sizeof err), 0);
    assert_non_null(strstr(err, "42001"));
    assert_int_equal(zone_open_debug_mode("", "acc-token", err, sizeof err), 0);
    peer_set_response(P, "{\"errcode\":0}");
}

/* ---- notify ids, names, strerror ---- */

static void test_sdk_notify_id(void **state)
{
    char *a = zone_generate_notify_id(), *b = zone_generate_notify_id();
    size_t i;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(strlen(a), 32);
    for (i = 0; i < 32; i++)
        assert_non_null(strchr("0123456789abcdef", a[i]));
    assert_string_not_equal(a, b);
    zone_string_free(a);
    zone_string_free(b);
}

static void test_sdk_api_names_sorted_and_strerror(void **state)
{
    size_t i;

    (void)state;
    for (i = 1; zone_api_name_at(i); i++)
        assert_true(strcmp(zone_api_name_at(i - 1), zone_api_name_at(i)) < 0);
    assert_int_equal(i, 46);
    for (i = 0; zone_api_name_at(i); i++)
        assert_true(zone_api_name_known(zone_api_name_at(i)));
    assert_true(zone_api_name_known("document_list"));
    assert_false(zone_api_name_known("Sync_msg"));
    assert_false(zone_api_name_known(NULL));
    assert_string_equal(zone_strerror(ZONE_ERR_UNSUPPORTED_API),
                        "unsupported API name (check for an old SDK)");
    assert_string_equal(zone_strerror(-20003), "no body");
    assert_string_equal(zone_strerror(12345), "unknown code");
}

/* ---- logs ---- */

static int saved_stdout = -1;
static char cap_path[64];

static void capture_begin(void)
{
    int fd;

    fflush(stdout);
    strcpy(cap_path, "/tmp/test_sdk_log_XXXXXX");
    fd = mkstemp(cap_path);
    assert_true(fd >= 0);
    saved_stdout = dup(1);
    assert_true(saved_stdout >= 0);
    assert_true(dup2(fd, 1) >= 0);
    close(fd);
}

static char *capture_end(void)
{
    FILE *f;
    char *buf = calloc(1, 65536);
    size_t n;

    fflush(stdout);
    dup2(saved_stdout, 1);
    close(saved_stdout);
    f = fopen(cap_path, "r");
    assert_non_null(f);
    n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    unlink(cap_path);
    return buf;
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t re;
    int rc;

    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
    rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("'%s' does not match /%s/", text, pattern);
}

static void *log_outside_request(void *arg)
{
    (void)arg;
    ZONE_LOG_INFO("outside");
    return NULL;
}

static void test_sdk_log_line_format(void **state)
{
    char *out, *plain = envelope("0123456789abcdef");
    zone_callback *cb;
    pthread_t t;

    (void)state;
    env_for(1);
    capture_begin();
    ZONE_LOG_INFO("hello %d", 42);
    cb = callback_from(plain, SECRET, 3);
    ZONE_LOG_ERROR("in request");
    pthread_create(&t, NULL, log_outside_request, NULL);
    pthread_join(t, NULL);
    zone_callback_free(cb);
    ZONE_LOG_ERROR("after request");
    out = capture_end();
    assert_matches(out, "^<[0-9]+,[0-9]+>,[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
                        "\\.[0-9]{3},INFO,[0-9a-f]{16},test_sdk\\.c,[0-9]+,hello 42$");
    assert_matches(out, ",ERR,0123456789abcdef,test_sdk\\.c,[0-9]+,in request$");
    assert_matches(out, ",INFO,0000000000000000,test_sdk\\.c,[0-9]+,outside$");
    assert_matches(out, ",ERR,0000000000000000,test_sdk\\.c,[0-9]+,after request$");
    free(out);
    free(plain);
    zone_log_set_req_id(NULL);
}

static void test_sdk_log_level_and_caps(void **state)
{
    char *out, big[300], utf[140];

    (void)state;
    env_for(1);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memset(utf, 'b', 127);
    strcpy(utf + 127, "\xe4\xb8\xad"); /* a 3-byte character straddling byte 128 */
    capture_begin();
    setenv("ZONELAB_LOG_LEVEL", "1", 1);
    ZONE_LOG_INFO("info-hidden");
    ZONE_LOG_ERROR("err-shown");
    setenv("ZONELAB_LOG_LEVEL", "DBG", 1);
    ZONE_LOG_DEBUG("dbg-shown");
    unsetenv("ZONELAB_LOG_LEVEL");
    ZONE_LOG_DEBUG("dbg-hidden");
    ZONE_LOG_INFO("%s", big);
    ZONE_LOG_INFO("%s", utf);
    ZONE_LOG_INFO("two\nlines");
    setenv("ZONELAB_LOG_REQ_ID", "00000000000000aa", 1);
    ZONE_LOG_INFO("default id");
    unsetenv("ZONELAB_LOG_REQ_ID");
    out = capture_end();
    assert_null(strstr(out, "hidden"));
    assert_matches(out, ",ERR,[0-9a-f]{16},test_sdk\\.c,[0-9]+,err-shown$");
    assert_matches(out, ",DBG,[0-9a-f]{16},test_sdk\\.c,[0-9]+,dbg-shown$");
    assert_matches(out, ",[0-9]+,a{128}$");
    assert_matches(out, ",[0-9]+,b{127}$");
    assert_matches(out, ",[0-9]+,two lines$");
    assert_matches(out, ",INFO,00000000000000aa,.*,default id$");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdk_callback_verifies_and_reads),
        cmocka_unit_test(test_sdk_callback_refusals),
        cmocka_unit_test(test_sdk_callback_keys_follow_env),
        cmocka_unit_test(test_sdk_reply_normal_and_exception),
        cmocka_unit_test_setup_teardown(test_sdk_invoke_reaches_backend, peer_setup, peer_teardown),
        cmocka_unit_test_setup_teardown(test_sdk_invoke_from_callback, peer_setup, peer_teardown),
        cmocka_unit_test_setup_teardown(test_sdk_invoke_codes_from_backend, peer_setup,
                                        peer_teardown),
        cmocka_unit_test_setup_teardown(test_sdk_invoke_backend_refuses, peer_setup, peer_teardown),
        cmocka_unit_test_setup_teardown(test_sdk_invoke_codes_local, peer_setup, peer_teardown),
        cmocka_unit_test_setup_teardown(test_sdk_invoke_kept_handle_and_fork, peer_setup,
                                        peer_teardown),
        cmocka_unit_test_setup_teardown(test_sdk_invoke_from_many_threads, peer_setup,
                                        peer_teardown),
        cmocka_unit_test_setup_teardown(test_sdk_debug_mode, peer_setup, peer_teardown),
        cmocka_unit_test(test_sdk_notify_id),
        cmocka_unit_test(test_sdk_api_names_sorted_and_strerror),
        cmocka_unit_test(test_sdk_log_line_format),
        cmocka_unit_test(test_sdk_log_level_and_caps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
