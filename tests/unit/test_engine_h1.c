/* test_engine_h1: the engine's direct client (calls with .direct, to http://127.0.0.1:PORT/)
 * against a scripted server on loopback, one thread of its own: what it sends, the answers it
 * reads (lengths, chunks, interim, close), connections kept and replaced, and every failure
 * reported with libcurl's code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/engine.h"

/* What the server does with one request: answers text (then closes the connection when
 * close), closes without answering (text NULL), or never answers (text "": it waits for the
 * client to close). */
typedef struct step {
    const char *text;
    int close; /* 2: answers at once, before reading the request, and closes; 3: answers at
                * once, reads the request 200 ms later and goes on with the connection */
} step;

typedef struct server {
    int lfd;
    unsigned short port;
    pthread_t th;
    const step *steps;
    size_t n_steps;
    int accepts;         /* connections accepted */
    char requests[8192]; /* every request as received, one after the other */
    size_t req_len;
} server;

/* Reads one request (headers, then Content-Length bytes), appending to s->requests as much
 * of it as fits (the rest of a large body is read and dropped); 0, or -1 when the client
 * closed first. */
static int read_request(server *s, int fd)
{
    static char buf[65536]; /* this request's first bytes: its headers; one server at a time */
    size_t kept = 0, total = 0, clen = 0, head = 0;

    for (;;) {
        char scratch[65536], *end;
        ssize_t n;

        if (head && total >= head + clen)
            return 0;
        if (kept + 1 < sizeof buf) {
            size_t room = sizeof s->requests - 1 - s->req_len, copy;

            if ((n = read(fd, buf + kept, sizeof buf - 1 - kept)) <= 0)
                return -1;
            copy = (size_t)n < room ? (size_t)n : room;
            memcpy(s->requests + s->req_len, buf + kept, copy);
            s->req_len += copy;
            s->requests[s->req_len] = '\0';
            kept += (size_t)n;
            buf[kept] = '\0';
        } else if ((n = read(fd, scratch, sizeof scratch)) <= 0) {
            return -1;
        }
        total += (size_t)n;
        if (!head && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strstr(buf, "Content-Length: ");

            head = (size_t)(end + 4 - buf);
            if (cl && cl < end)
                clen = strtoul(cl + 16, NULL, 10);
        }
    }
}

static void *serve(void *ud)
{
    server *s = ud;
    size_t i = 0;

    while (i < s->n_steps) {
        int fd = accept(s->lfd, NULL, NULL);

        if (fd < 0)
            break;
        s->accepts++;
        while (i < s->n_steps) {
            const step *st = &s->steps[i];

            if (st->close == 2) { /* the request unread: the close resets the connection */
                i++;
                if (write(fd, st->text, strlen(st->text)) < 0)
                    break;
                break;
            }
            if (st->close == 3) { /* the client meets the answer while its request waits */
                i++;
                if (write(fd, st->text, strlen(st->text)) < 0)
                    break;
                nanosleep(&(struct timespec){.tv_nsec = 200 * 1000 * 1000}, NULL);
                if (read_request(s, fd) != 0)
                    break;
                continue;
            }
            if (read_request(s, fd) != 0)
                break; /* the client closed this one: the step waits for the next */
            i++;
            if (!st->text)
                break;
            if (!*st->text) { /* never answers: until the client gives up */
                char b[256];

                while (read(fd, b, sizeof b) > 0)
                    ;
                break;
            }
            if (write(fd, st->text, strlen(st->text)) < 0 || st->close)
                break;
        }
        close(fd);
    }
    return NULL;
}

static void server_start(server *s, const step *steps, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;

    memset(s, 0, sizeof *s);
    s->steps = steps;
    s->n_steps = n;
    assert_true((s->lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 8), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_join(server *s)
{
    shutdown(s->lfd, SHUT_RDWR); /* an accept still waiting returns */
    pthread_join(s->th, NULL);
    close(s->lfd);
}

typedef struct got {
    int done, curl_code;
    long status;
    char body[512], error[256], header[128];
} got;

static void on_result(zl_engine *e, const zl_http_result *res, void *ud)
{
    got *g = ud;

    (void)e;
    g->done++;
    g->curl_code = res->curl_code;
    g->status = res->status;
    snprintf(g->body, sizeof g->body, "%s", res->body);
    snprintf(g->error, sizeof g->error, "%s", res->error ? res->error : "");
    for (size_t i = 0; i < res->n_headers; i++) {
        assert_non_null(res->header_names[i]); /* whole, however the answer ended */
        assert_non_null(res->header_values[i]);
        if (!strcmp(res->header_names[i], "X-Answer"))
            snprintf(g->header, sizeof g->header, "%s", res->header_values[i]);
    }
}

static zl_engine *engine(void)
{
    zl_engine_config cfg = {.seed = 7};
    char err[256];
    zl_engine *e = zl_engine_new(&cfg, err, sizeof err);

    assert_non_null(e);
    return e;
}

/* One direct call to port, run to its end. */
static void call(zl_engine *e, unsigned short port, const char *method, const char *body,
                 long timeout_ms, got *g)
{
    char url[64];
    const char *hdr[] = {"X-Test: abc", "Content-Type: text/plain", "Accept:"};
    zl_http_request req = {.method = method,
                           .url = url,
                           .headers = hdr,
                           .n_headers = 3,
                           .body = body,
                           .body_len = body ? strlen(body) : 0,
                           .timeout_ms = timeout_ms,
                           .direct = 1};
    int turns = 400;

    snprintf(url, sizeof url, "http://127.0.0.1:%u/cb?x=1", port);
    memset(g, 0, sizeof *g);
    assert_int_equal(zl_engine_http(e, &req, on_result, g), 0);
    assert_int_equal(g->done, 0); /* never from inside zl_engine_http */
    while (!g->done && turns-- > 0)
        zl_engine_turn(e, 50);
    assert_int_equal(g->done, 1);
}

#define OK_ANSWER(body) "HTTP/1.1 200 OK\r\nX-Answer: yes  \r\nContent-Length: " #body "\r\n\r\n"

/* g is an answer (no failure) with status (0: any) and body; a macro, so that a failure names
 * the test's line. */
#define ANSWERED(g, want_status, want_body)                                                        \
    do {                                                                                           \
        assert_int_equal((g).curl_code, 0);                                                        \
        if (want_status)                                                                           \
            assert_int_equal((g).status, want_status);                                             \
        assert_string_equal((g).body, want_body);                                                  \
    } while (0)

static void test_h1_sends_and_keeps_the_connection(void **state)
{
    static const step steps[] = {{OK_ANSWER(5) "first", 0},
                                 {"HTTP/1.1 201 Created\r\nContent-Length: 6\r\n\r\nsecond", 0}};
    server s;
    zl_engine *e = engine();
    got g;

    (void)state;
    server_start(&s, steps, 2);
    call(e, s.port, "POST", "{\"a\":1}", 5000, &g);
    ANSWERED(g, 200, "first");
    assert_string_equal(g.header, "yes"); /* trimmed, as libcurl's header lines are */
    call(e, s.port, "GET", NULL, 5000, &g);
    ANSWERED(g, 201, "second");
    zl_engine_free(e);
    server_join(&s);
    assert_int_equal(s.accepts, 1); /* the second call went on the first's connection */
    /* libcurl's request: Host, the caller's lines ("Accept:" dropped Accept), the length */
    assert_non_null(strstr(s.requests, "POST /cb?x=1 HTTP/1.1\r\nHost: 127.0.0.1:"));
    assert_non_null(strstr(s.requests,
                           "\r\nX-Test: abc\r\nContent-Type: text/plain\r\n"
                           "Content-Length: 7\r\n\r\n{\"a\":1}GET /cb?x=1 HTTP/1.1\r\n"));
    assert_null(strstr(s.requests, "Accept"));
}

static void test_h1_chunked_interim_and_close(void **state)
{
    static const step steps[] = {
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
         0},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", 0},
        {"HTTP/1.0 200 OK\r\n\r\nuntil the end", 1},
        {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew", 0}};
    server s;
    zl_engine *e = engine();
    got g;

    (void)state;
    server_start(&s, steps, 4);
    call(e, s.port, "POST", "x", 5000, &g);
    ANSWERED(g, 200, "abcdefg");
    call(e, s.port, "POST", "x", 5000, &g); /* Connection: close: not kept */
    assert_string_equal(g.body, "hi");
    call(e, s.port, "POST", "x", 5000, &g); /* a body that ends with the connection */
    ANSWERED(g, 0, "until the end");
    call(e, s.port, "POST", "x", 5000, &g);
    assert_string_equal(g.body, "new");
    zl_engine_free(e);
    server_join(&s);
    assert_int_equal(s.accepts, 3);
}

static void test_h1_kept_connection_closed_is_replaced(void **state)
{
    /* the server reads the second request on the kept connection and closes it unanswered:
     * sent again on a new connection, once (libcurl's retry of a reused connection) */
    static const step dies[] = {{OK_ANSWER(3) "one", 0}, {NULL, 0}, {OK_ANSWER(3) "two", 0}};
    /* the server closes the connection it let the client keep, right after answering: the
     * next call goes on a new one, whether the close was seen first or the write hit it */
    static const step closes[] = {{OK_ANSWER(5) "three", 1}, {OK_ANSWER(4) "four", 0}};
    /* the retry is once: a new connection that dies too is the call's failure */
    static const step twice[] = {{OK_ANSWER(4) "five", 0}, {NULL, 0}, {NULL, 0}};
    server s;
    zl_engine *e = engine();
    got g;

    (void)state;
    server_start(&s, dies, 3);
    call(e, s.port, "POST", "x", 5000, &g);
    assert_string_equal(g.body, "one");
    call(e, s.port, "POST", "y", 5000, &g);
    ANSWERED(g, 0, "two");
    server_join(&s);
    assert_int_equal(s.accepts, 2);
    assert_non_null(strstr(s.requests, "\r\n\r\nyPOST")); /* y twice: on each connection */

    server_start(&s, closes, 2);
    call(e, s.port, "POST", "x", 5000, &g);
    assert_string_equal(g.body, "three");
    call(e, s.port, "POST", "x", 5000, &g);
    ANSWERED(g, 0, "four");
    server_join(&s);
    assert_int_equal(s.accepts, 2);

    server_start(&s, twice, 3);
    call(e, s.port, "POST", "x", 5000, &g);
    assert_string_equal(g.body, "five");
    call(e, s.port, "POST", "x", 5000, &g);
    assert_int_equal(g.curl_code, CURLE_GOT_NOTHING);
    zl_engine_free(e);
    server_join(&s);
    assert_int_equal(s.accepts, 2);
}

static void test_h1_failures_are_libcurls(void **state)
{
    /* one answer each, on a new connection: libcurl's code, the status that came, and what
     * its text says or the X-Answer header kept (NULL: not asked) */
    static const struct {
        step answer;
        long timeout_ms;
        int code;
        long status;
        const char *error, *header;
    } cases[] = {
        {{NULL, 0}, 5000, CURLE_GOT_NOTHING, 0, NULL, NULL}, /* closed without an answer */
        {{"", 0}, 100, CURLE_OPERATION_TIMEDOUT, 0, "timed out", NULL},
        {{"SMTP ready\r\n\r\n", 0}, 5000, CURLE_WEIRD_SERVER_REPLY, 0, NULL, NULL},
        {{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1},
         5000,
         CURLE_PARTIAL_FILE,
         200,
         NULL,
         NULL},
        /* a header's name, and then nothing: the headers before it reach the caller */
        {{"HTTP/1.1 200 OK\r\nX-Answer: y\r\nX-Half", 1}, 5000, CURLE_GOT_NOTHING, 0, NULL, "y"},
    };
    server s;
    zl_engine *e = engine();
    got g;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        server_start(&s, &cases[i].answer, 1);
        call(e, s.port, "POST", "x", cases[i].timeout_ms, &g);
        assert_int_equal(g.curl_code, cases[i].code);
        assert_int_equal(g.status, cases[i].status);
        if (cases[i].error)
            assert_non_null(strstr(g.error, cases[i].error));
        if (cases[i].header)
            assert_string_equal(g.header, cases[i].header);
        server_join(&s);
    }
    call(e, s.port, "POST", "x", 5000, &g); /* nobody listens there now */
    assert_int_equal(g.curl_code, CURLE_COULDNT_CONNECT);
    assert_non_null(strstr(g.error, "Failed to connect to 127.0.0.1 port"));
    zl_engine_free(e);
}

static void test_h1_answer_before_the_request_ends(void **state)
{
    /* an early 413: the program answers a request too large for it before reading it and
     * closes; the send fails, and the answer that came is the call's */
    static const step early[] = {
        {"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo much", 2}};
    /* an answer at once, the request read after it: the connection is not kept, since the
     * rest of the request was still to be written when the answer was whole */
    static const step early_open[] = {{OK_ANSWER(5) "early", 3}, {OK_ANSWER(4) "next", 0}};
    size_t big = (size_t)16 << 20;
    char *body = malloc(big + 1);
    server s;
    zl_engine *e = engine();
    got g;

    (void)state;
    assert_non_null(body);
    memset(body, 'a', big);
    body[big] = '\0';
    server_start(&s, early, 1);
    call(e, s.port, "POST", body, 5000, &g);
    ANSWERED(g, 413, "too much");
    server_join(&s);
    server_start(&s, early_open, 2);
    call(e, s.port, "POST", body, 5000, &g);
    ANSWERED(g, 0, "early");
    call(e, s.port, "POST", "x", 5000, &g);
    ANSWERED(g, 0, "next");
    zl_engine_free(e);
    server_join(&s);
    free(body);
}

static void test_h1_cancelled_at_shutdown(void **state)
{
    static const step never[] = {{"", 0}};
    server s;
    zl_engine *e = engine();
    char url[64];
    zl_http_request req = {.method = "GET", .url = url, .timeout_ms = 5000, .direct = 1};
    got g = {0};

    (void)state;
    server_start(&s, never, 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", s.port);
    assert_int_equal(zl_engine_http(e, &req, on_result, &g), 0);
    for (int i = 0; i < 5; i++)
        zl_engine_turn(e, 10);
    assert_int_equal(g.done, 0);
    zl_engine_free(e); /* every callback runs once */
    assert_int_equal(g.done, 1);
    assert_int_equal(g.curl_code, CURLE_ABORTED_BY_CALLBACK);
    server_join(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h1_sends_and_keeps_the_connection),
        cmocka_unit_test(test_h1_chunked_interim_and_close),
        cmocka_unit_test(test_h1_kept_connection_closed_is_replaced),
        cmocka_unit_test(test_h1_failures_are_libcurls),
        cmocka_unit_test(test_h1_answer_before_the_request_ends),
        cmocka_unit_test(test_h1_cancelled_at_shutdown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
