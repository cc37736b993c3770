/* test_record: the engine's exchange observer (exact bytes both ways, dropped connections,
 * failed calls) and the recorder's lines (faces, base64 bodies, decrypted invoke envelopes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64.h"
#include "core/engine.h"
#include "emu/emu.h"
#include "faces/record.h"
#include "faces/server.h"
#include "wire.h"

/* ---- the observer ---- */

typedef struct seen {
    int n;
    zl_exchange x[4];
    char *target[4], *req[4], *resp[4], *hdr[4];
    char method[4][8];
    size_t req_len[4], resp_len[4];
} seen;

static char *dup_bytes(const char *p, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Keeps a copy of what the observer is lent; hdr[i] is "name=value;..." of both sides. */
static void observe(void *ud, const zl_exchange *x)
{
    seen *s = ud;
    char h[1024] = "";
    size_t i, n = 0;

    assert_true(s->n < 4);
    s->x[s->n] = *x;
    s->target[s->n] = strdup(x->target);
    snprintf(s->method[s->n], sizeof s->method[0], "%s", x->method);
    s->req[s->n] = dup_bytes(x->req_body, x->req_len);
    s->resp[s->n] = dup_bytes(x->resp_body, x->resp_len);
    s->req_len[s->n] = x->req_len;
    s->resp_len[s->n] = x->resp_len;
    for (i = 0; i < x->n_req_headers; i++)
        n += (size_t)snprintf(h + n, sizeof h - n, ">%s=%s;", x->req_names[i], x->req_values[i]);
    for (i = 0; i < x->n_resp_headers; i++)
        n += (size_t)snprintf(h + n, sizeof h - n, "<%s=%s;", x->resp_names[i], x->resp_values[i]);
    s->hdr[s->n] = strdup(h);
    s->n++;
}

static void seen_cleanup(seen *s)
{
    int i;

    for (i = 0; i < s->n; i++) {
        free(s->target[i]);
        free(s->req[i]);
        free(s->resp[i]);
        free(s->hdr[i]);
    }
}

static void echo(zl_engine *e, zl_request *r, void *ud)
{
    (void)e, (void)ud;
    zl_request_add_header(r, "X-Echo", "yes");
    zl_request_respond(r, 200, "application/octet-stream", zl_request_body(r),
                       zl_request_body_len(r));
}

static void drop(zl_engine *e, zl_request *r, void *ud)
{
    (void)e, (void)ud;
    zl_request_abort(r);
}

static void on_result(zl_engine *e, const zl_http_result *res, void *ud)
{
    (void)e, (void)res;
    ++*(int *)ud;
}

static void run_until(zl_engine *e, const int *flag)
{
    int turns = 200;

    while (!*flag && turns-- > 0)
        zl_engine_turn(e, 20);
}

static zl_engine *start(seen *s)
{
    zl_engine_config cfg = {.seed = 3};
    char err[256];
    zl_engine *e = zl_engine_new(&cfg, err, sizeof err);

    assert_non_null(e);
    assert_int_equal(zl_engine_route(e, "POST", "/echo", echo, NULL), 0);
    assert_int_equal(zl_engine_route(e, NULL, "/drop", drop, NULL), 0);
    if (s)
        zl_engine_observe(e, observe, s);
    return e;
}

static void test_record_observer_sees_exact_bytes(void **state)
{
    seen s = {0};
    zl_engine *e = start(&s);
    static const char body[] = "a\0b\r\n{\"x\": 1}\xff"; /* a NUL, CR LF, a byte over 0x7f */
    const char *hdr[] = {"X-Test: t 1", "Content-Type: text/plain"};
    char url[128];
    zl_http_request req = {.method = "POST",
                           .url = url,
                           .headers = hdr,
                           .n_headers = 2,
                           .body = body,
                           .body_len = sizeof body - 1,
                           .timeout_ms = 5000};
    int done = 0;

    (void)state;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/echo/x?q=a%%20b&y=%%2F", zl_engine_port(e));
    assert_int_equal(zl_engine_http(e, &req, on_result, &done), 0);
    run_until(e, &done);
    assert_int_equal(done, 1);
    assert_int_equal(s.n, 2);
    /* the inbound side is answered first, then the call's result arrives */
    assert_false(s.x[0].outbound);
    assert_true(s.x[1].outbound);
    assert_int_equal(s.x[1].id, 1); /* the call started first */
    assert_int_equal(s.x[0].id, 2);
    assert_string_equal(s.target[0], "/echo/x?q=a%20b&y=%2F"); /* as received, not decoded */
    assert_string_equal(s.target[1], url);
    assert_int_equal(s.req_len[0], sizeof body - 1);
    assert_memory_equal(s.req[0], body, sizeof body - 1);
    assert_int_equal(s.resp_len[0], sizeof body - 1);
    assert_memory_equal(s.resp[0], body, sizeof body - 1);
    assert_int_equal(s.req_len[1], sizeof body - 1);
    assert_memory_equal(s.req[1], body, sizeof body - 1);
    assert_int_equal(s.resp_len[1], sizeof body - 1);
    assert_memory_equal(s.resp[1], body, sizeof body - 1);
    assert_int_equal(s.x[0].status, 200);
    assert_int_equal(s.x[1].status, 200);
    assert_non_null(strstr(s.hdr[0], ">X-Test=t 1;"));
    assert_non_null(strstr(s.hdr[0], "<Content-Type=application/octet-stream;<X-Echo=yes;"));
    assert_non_null(strstr(s.hdr[1], ">X-Test=t 1;>Content-Type=text/plain;<"));
    assert_null(strstr(s.hdr[1], "Expect")); /* the engine's own, not the caller's */
    assert_non_null(strstr(s.hdr[1], "<X-Echo=yes;"));
    assert_string_equal(s.method[0], "POST");
    assert_string_equal(s.method[1], "POST");
    assert_null(s.x[0].error);
    zl_engine_free(e);
    seen_cleanup(&s);
}

static void test_record_observer_sees_drops_and_failures(void **state)
{
    seen s = {0};
    zl_engine *e = start(&s);
    char url[128];
    zl_http_request req = {.method = "GET", .url = url, .timeout_ms = 5000};
    int done = 0;

    (void)state;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/drop", zl_engine_port(e));
    assert_int_equal(zl_engine_http(e, &req, on_result, &done), 0);
    run_until(e, &done);
    assert_int_equal(s.n, 2);
    assert_false(s.x[0].outbound);
    assert_int_equal(s.x[0].status, 0);
    assert_non_null(s.x[0].error);
    assert_true(s.x[1].outbound);
    assert_int_equal(s.x[1].status, 0);
    assert_true(s.x[1].curl_code != 0);
    assert_non_null(s.x[1].error);
    zl_engine_observe(e, NULL, NULL); /* stops observing */
    done = 0;
    assert_int_equal(zl_engine_http(e, &req, on_result, &done), 0);
    run_until(e, &done);
    assert_int_equal(s.n, 2);
    zl_engine_free(e);
    seen_cleanup(&s);
}

/* ---- the recorder ---- */

typedef struct rig {
    zl_server *srv;
    zl_engine *e; /* borrowed from srv */
    zl_emu *emu;
    zl_record *rec;
    char path[64];
} rig;

static void rig_start(rig *g)
{
    zl_server_config sc;
    zl_record_info info = {.version = "test", .seed = 5, .base_url = "http://127.0.0.1:1"};
    char err[300];
    int fd;

    memset(g, 0, sizeof *g);
    info.world_raw = zl_world_default_json(&info.world_len);
    zl_server_config_default(&sc);
    sc.engine.seed = 5;
    sc.journal_cap = 1000;
    sc.no_control = true;
    g->srv = zl_server_new(NULL, &sc, err, sizeof err);
    assert_non_null(g->srv);
    assert_int_equal(zl_server_start(g->srv, err, sizeof err), 0);
    g->e = g->srv->engine;
    g->emu = g->srv->emu;
    snprintf(g->path, sizeof g->path, "/tmp/test_record_XXXXXX");
    fd = mkstemp(g->path);
    assert_true(fd >= 0);
    close(fd);
    g->rec = zl_record_open(g->path, g->emu, &info, err, sizeof err);
    assert_non_null(g->rec);
    zl_engine_observe(g->e, zl_record_exchange, g->rec);
}

static void rig_stop(rig *g)
{
    zl_server_stop(g->srv);
    zl_record_close(g->rec);
    zl_server_free(g->srv);
    unlink(g->path);
}

/* The file's lines, parsed. */
static cJSON *lines_of(const char *path)
{
    FILE *f = fopen(path, "r");
    cJSON *all = cJSON_CreateArray();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    assert_non_null(f);
    while ((n = getline(&line, &cap, f)) > 0) {
        cJSON *o;

        assert_int_equal(line[n - 1], '\n'); /* every line is whole */
        o = cJSON_ParseWithLength(line, (size_t)n);
        assert_non_null(o);
        cJSON_AddItemToArray(all, o);
    }
    free(line);
    fclose(f);
    return all;
}

static void test_record_lines_hold_bytes_and_plaintexts(void **state)
{
    rig g;
    zl_prog_rt *p;
    zone_wire_sealed_headers h;
    char *body = NULL, url[128], hv[4][300];
    const char *req_plain = "{\"api\":\"get_rule_list\",\"request\":\"{}\",\"corpid\":"
                            "\"wwzonelab0000001\",\"agentid\":1000002}";
    const char *headers[4] = {hv[0], hv[1], hv[2], hv[3]};
    zl_http_request req = {
        .method = "POST", .url = url, .headers = headers, .n_headers = 4, .timeout_ms = 5000};
    zl_http_request tok = {.method = "GET", .url = url, .timeout_ms = 5000};
    const cJSON *hd, *x, *env, *reply;
    unsigned char *raw;
    size_t raw_len;
    struct stat st;
    cJSON *all;
    int done = 0;

    (void)state;
    rig_start(&g);
    p = &g.emu->progs[0];
    /* an app call, then an SDK invoke sealed with the program's secret */
    snprintf(url, sizeof url,
             "http://127.0.0.1:%u/cgi-bin/gettoken?corpid=wwzonelab0000001&corpsecret=x",
             zl_engine_port(g.e));
    assert_int_equal(zl_engine_http(g.e, &tok, on_result, &done), 0);
    run_until(g.e, &done);
    assert_int_equal(zone_wire_seal(&p->keys, NULL, "POST", ZONE_WIRE_INVOKE_PATH, req_plain,
                                    strlen(req_plain), &h, &body),
                     ZONE_WIRE_OK);
    snprintf(hv[0], sizeof hv[0], "ww-secret-ver: %s", h.secret_ver);
    snprintf(hv[1], sizeof hv[1], "ww-timestamp: %s", h.timestamp);
    snprintf(hv[2], sizeof hv[2], "ww-nonce: %s", h.nonce);
    snprintf(hv[3], sizeof hv[3], "ww-signature: %s", h.signature);
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", zl_engine_port(g.e), ZONE_WIRE_INVOKE_PATH);
    req.body = body;
    req.body_len = strlen(body);
    done = 0;
    assert_int_equal(zl_engine_http(g.e, &req, on_result, &done), 0);
    run_until(g.e, &done);
    assert_int_equal(zl_record_count(g.rec), 4); /* two calls, each seen from both ends */
    assert_false(zl_record_failed(g.rec));
    assert_int_equal(stat(g.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    all = lines_of(g.path);
    assert_int_equal(cJSON_GetArraySize(all), 5);
    hd = cJSON_GetArrayItem(all, 0);
    assert_int_equal(cJSON_GetObjectItem(hd, "zonelab_record")->valueint, ZL_RECORD_FORMAT);
    assert_string_equal(cJSON_GetObjectItem(hd, "version")->valuestring, "test");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(hd, "world"), "builtin")));
    x = cJSON_GetArrayItem(cJSON_GetObjectItem(hd, "programs"), 0);
    assert_string_equal(cJSON_GetObjectItem(x, "secret")->valuestring, p->secret_b64);
    assert_int_equal(cJSON_GetObjectItem(x, "secret_ver")->valueint, (int)p->secret_ver);

    x = cJSON_GetArrayItem(all, 1); /* gettoken, inbound: answered before the call ends */
    assert_string_equal(cJSON_GetObjectItem(x, "face")->valuestring, "app");
    assert_string_equal(cJSON_GetObjectItem(x, "direction")->valuestring, "in");
    assert_int_equal(cJSON_GetObjectItem(x, "seq")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(x, "url")->valuestring,
                        "/cgi-bin/gettoken?corpid=wwzonelab0000001&corpsecret=x");
    x = cJSON_GetArrayItem(all, 2); /* the same call, outbound: an app callback to the rig */
    assert_string_equal(cJSON_GetObjectItem(x, "direction")->valuestring, "out");
    assert_string_equal(cJSON_GetObjectItem(x, "face")->valuestring, "app_callback");

    x = cJSON_GetArrayItem(all, 3); /* the invoke, inbound */
    assert_string_equal(cJSON_GetObjectItem(x, "face")->valuestring, "sdk");
    assert_string_equal(cJSON_GetObjectItem(x, "api")->valuestring, "get_rule_list");
    assert_string_equal(cJSON_GetObjectItem(x, "program_id")->valuestring, p->prog->program_id);
    env = cJSON_GetObjectItem(x, "envelope");
    assert_string_equal(cJSON_GetObjectItem(env, "request")->valuestring, "{}");
    reply = cJSON_GetObjectItem(x, "reply");
    assert_non_null(strstr(cJSON_GetObjectItem(reply, "response")->valuestring, "\"errcode\""));
    /* the request body is the sealed bytes exactly */
    assert_int_equal(
        zone_b64_decode(
            cJSON_GetObjectItem(cJSON_GetObjectItem(x, "request"), "body")->valuestring,
            strlen(cJSON_GetObjectItem(cJSON_GetObjectItem(x, "request"), "body")->valuestring),
            &raw, &raw_len),
        0);
    assert_int_equal(raw_len, strlen(body));
    assert_memory_equal(raw, body, raw_len);
    free(raw);
    cJSON_Delete(all);
    free(body);
    rig_stop(&g);
}

static void test_record_open_refuses_an_unwritable_path(void **state)
{
    rig g;
    zl_record_info info = {.version = "test"};
    char err[300] = "";

    (void)state;
    rig_start(&g);
    assert_null(zl_record_open("/nonexistent-dir/x.jsonl", g.emu, &info, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x.jsonl"));
    rig_stop(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_observer_sees_exact_bytes),
        cmocka_unit_test(test_record_observer_sees_drops_and_failures),
        cmocka_unit_test(test_record_lines_hold_bytes_and_plaintexts),
        cmocka_unit_test(test_record_open_refuses_an_unwritable_path),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
