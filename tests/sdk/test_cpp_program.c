/* test_cpp_program: the vendor-style C++ program, built against cpp_sdk.h, run as a real
 * process: signed requests in over HTTP, SDK calls out to the wire-level peer. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"
#include "wire.h"

static const char SECRET[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

static peer *P;
static pid_t child;
static unsigned short port;
static char log_path[64];
static zone_wire_keys K;

static unsigned short free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int accepting(void)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static int start(void **state)
{
    char url[64], portbuf[16];
    int i, fd;

    (void)state;
    assert_int_equal(zone_wire_keys_init(&K, SECRET, 3), ZONE_WIRE_OK);
    P = peer_start(SECRET, 3);
    assert_non_null(P);
    port = free_port();
    strcpy(log_path, "/tmp/test_cpp_program_XXXXXX");
    fd = mkstemp(log_path);
    assert_true(fd >= 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u", peer_port(P));
    snprintf(portbuf, sizeof portbuf, "%u", port);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        dup2(fd, 1);
        setenv("PORT", portbuf, 1);
        setenv("ZONELAB_URL", url, 1);
        setenv("ZONELAB_SECRET", SECRET, 1);
        setenv("ZONELAB_SECRET_VER", "3", 1);
        setenv("ZONELAB_INSTANCE", "program-0", 1);
        execl(VENDOR_STYLE_PROGRAM, VENDOR_STYLE_PROGRAM, (char *)NULL);
        _exit(127);
    }
    close(fd);
    for (i = 0; i < 500 && !accepting(); i++) { /* up to 10 s for a sanitizer build to start */
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(accepting());
    return 0;
}

static int stop(void **state)
{
    int status = 0;

    (void)state;
    kill(child, SIGTERM);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    peer_stop(P);
    unlink(log_path);
    return 0;
}

typedef struct answer {
    char body[65536];
    size_t len;
    char headers[8192];
    size_t hlen;
} answer;

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
    answer *a = ud;

    if (a->len + s * n >= sizeof a->body)
        return 0;
    memcpy(a->body + a->len, p, s * n);
    a->len += s * n;
    return s * n;
}

static size_t on_header(char *p, size_t s, size_t n, void *ud)
{
    answer *a = ud;

    if (a->hlen + s * n < sizeof a->headers) {
        memcpy(a->headers + a->hlen, p, s * n);
        a->hlen += s * n;
    }
    return s * n;
}

/* Posts a sealed callback envelope; secret_ver_name lets a test re-case that header. */
static long post(const zone_wire_callback *env, const char *secret_ver_name, answer *a)
{
    zone_wire_sealed_headers h;
    struct curl_slist *hl = NULL;
    char *plain = zone_wire_callback_encode(env), *body = NULL, line[300], url[64];
    long status = 0;
    CURL *c = curl_easy_init();

    assert_non_null(plain);
    assert_int_equal(zone_wire_seal(&K, NULL, "POST", "/", plain, strlen(plain), &h, &body),
                     ZONE_WIRE_OK);
    snprintf(line, sizeof line, "%s: %s", secret_ver_name, h.secret_ver);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "ww-timestamp: %s", h.timestamp);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "ww-nonce: %s", h.nonce);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "ww-signature: %s", h.signature);
    hl = curl_slist_append(hl, line);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
    memset(a, 0, sizeof *a);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    free(body);
    free(plain);
    return status;
}

/* The value of header name in a's raw header block, copied into out. */
static int header_of(const answer *a, const char *name, char *out, size_t n)
{
    char *p = strstr(a->headers, name), *e;
    size_t nl = strlen(name);

    if (!p || p[nl] != ':')
        return -1;
    p += nl + 1;
    while (*p == ' ')
        p++;
    e = strstr(p, "\r\n");
    if (!e || (size_t)(e - p) >= n)
        return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 0;
}

/* Opens the program's reply as the emulator does; returns the response text (free()). */
static char *open_answer(const answer *a)
{
    char v[4][300];
    zone_wire_header h[4] = {{"ww-secret-ver", v[0]},
                             {"ww-timestamp", v[1]},
                             {"ww-nonce", v[2]},
                             {"ww-signature", v[3]}};
    zone_wire_reply rep = {0};
    char *plain = NULL, *out;
    size_t len, i;

    for (i = 0; i < 4; i++)
        assert_int_equal(header_of(a, h[i].name, v[i], sizeof v[i]), 0);
    assert_int_equal(zone_wire_open(&K, NULL, NULL, ZONE_WIRE_REPLY_METHOD, "/", h, 4, a->body,
                                    a->len, &plain, &len, NULL, 0),
                     ZONE_WIRE_OK);
    assert_int_equal(zone_wire_reply_decode(plain, len, &rep), ZONE_WIRE_OK);
    free(plain);
    assert_false(rep.exception);
    out = rep.response;
    rep.response = NULL;
    zone_wire_reply_cleanup(&rep);
    return out;
}

static void test_cpp_program_app_call_invokes_sdk(void **state)
{
    zone_wire_callback env = {.corpid = "wwcorp",
                              .data = "{\"cursor\":\"c1\",\"limit\":10}",
                              .job_info = "",
                              .ability_id = "invoke_sync_msg",
                              .notify_id = "",
                              .req_id = "00000000000000c1",
                              .agentid = 1000002,
                              .call_type = 1};
    zone_wire_invoke last = {0};
    answer a;
    char *rsp;

    (void)state;
    peer_set_response(P, "{\"errcode\":0,\"errmsg\":\"ok\",\"msg_list\":[],\"has_more\":false}");
    assert_int_equal(post(&env, "ww-secret-ver", &a), 200);
    rsp = open_answer(&a);
    assert_string_equal(rsp,
                        "{\"errcode\":0,\"errmsg\":\"ok\",\"msg_list\":[],\"has_more\":false}");
    free(rsp);
    assert_int_equal(peer_last_call(P, &last), 0);
    assert_string_equal(last.api, "sync_msg");
    assert_string_equal(last.request, "{\"cursor\":\"c1\",\"limit\":10}");
    assert_string_equal(last.corpid, "wwcorp");
    assert_int_equal(last.agentid, 1000002);
    assert_string_equal(last.ability_id, "invoke_sync_msg");
    assert_string_equal(last.instance, "program-0");
    zone_wire_invoke_cleanup(&last);
}

static void test_cpp_program_event_notifies_app(void **state)
{
    zone_wire_callback env = {.corpid = "wwcorp",
                              .data = "{\"event_type\":\"conversation_new_message\"}",
                              .job_info = "",
                              .ability_id = "",
                              .notify_id = "",
                              .req_id = "00000000000000e2",
                              .agentid = 1000002,
                              .call_type = 2};
    zone_wire_invoke last = {0};
    answer a;
    char *rsp, id[33];

    (void)state;
    assert_int_equal(post(&env, "ww-secret-ver", &a), 200);
    rsp = open_answer(&a);
    assert_string_equal(rsp, "{\"errcode\":0,\"errmsg\":\"ok\"}");
    free(rsp);
    assert_int_equal(peer_last_call(P, &last), 0);
    assert_string_equal(last.api, "spec_notify_app");
    assert_int_equal(sscanf(last.request, "{\"notify_id\":\"%32[0-9a-f]\",\"scene\":1}", id), 1);
    assert_int_equal(strlen(id), 32);
    zone_wire_invoke_cleanup(&last);
}

static void test_cpp_program_recased_header_gets_exception(void **state)
{
    zone_wire_callback env = {.corpid = "wwcorp",
                              .data = "{}",
                              .job_info = "",
                              .ability_id = "invoke_sync_msg",
                              .notify_id = "",
                              .req_id = "",
                              .agentid = 1,
                              .call_type = 1};
    size_t calls = peer_calls(P);
    answer a;
    char v[300];

    (void)state;
    assert_int_equal(post(&env, "Ww-Secret-Ver", &a), 200);
    assert_int_equal(header_of(&a, "ww-exception", v, sizeof v), 0);
    assert_string_equal(v, "-10004");
    assert_int_equal(header_of(&a, "ww-error", v, sizeof v), 0);
    assert_non_null(strstr(v, "re-cased"));
    assert_int_equal(peer_calls(P), calls); /* nothing was invoked */
}

static void test_cpp_program_logs_in_vendor_format(void **state)
{
    char buf[65536];
    FILE *f;
    size_t n;

    (void)state;
    f = fopen(log_path, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    /* one req_id per inbound request, the one the backend sent */
    assert_non_null(strstr(buf, ",INFO,00000000000000c1,vendor_style_program.cpp,"));
    assert_non_null(strstr(buf, ",INFO,00000000000000e2,vendor_style_program.cpp,"));
    assert_non_null(strstr(buf, ",ERR,"));
    assert_non_null(strstr(buf, "re-cased"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpp_program_app_call_invokes_sdk),
        cmocka_unit_test(test_cpp_program_event_notifies_app),
        cmocka_unit_test(test_cpp_program_recased_header_gets_exception),
        cmocka_unit_test(test_cpp_program_logs_in_vendor_format),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, start, stop);
}
