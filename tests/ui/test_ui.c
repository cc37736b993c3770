/* test_ui: the inspector's HTTP side over loopback with raw sockets: the embedded assets, the
 * journal as server-sent events (replay, since, Last-Event-ID, gaps, live entries), the
 * stream limits (too many clients, a client that went away, a client that stopped reading),
 * and a shutdown with streams open. Also the journal's listeners the streams ride on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/journal.h"
#include "faces/ui.h"

extern const unsigned char zl_ui_index_html[], zl_ui_style_css[], zl_ui_app_js[];

typedef struct fixture {
    zl_engine *e;
    zl_journal *j;
} fixture;

static const zl_ui_limits limits = {
    .clients = 3, .backlog_bytes = 4096, .stall_ms = 300, .heartbeat_ms = 100, .tail = 3};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    zl_engine_config cfg = {.seed = 1};
    char err[256];

    assert_non_null(f);
    assert_non_null(f->e = zl_engine_new(&cfg, err, sizeof err));
    assert_non_null(f->j = zl_journal_new(50));
    assert_int_equal(zl_ui_install(f->e, f->j, &limits), 0);
    *state = f;
    return 0;
}

/* The order every caller keeps: the engine (it ends the streams), then the journal. */
static int teardown(void **state)
{
    fixture *f = *state;

    zl_engine_free(f->e);
    zl_journal_free(f->j);
    free(f);
    return 0;
}

static void add(fixture *f, const char *kind, size_t pad)
{
    cJSON *d = cJSON_CreateObject();

    if (pad) {
        char *s = malloc(pad + 1);

        assert_non_null(s);
        memset(s, 'x', pad);
        s[pad] = '\0';
        cJSON_AddStringToObject(d, "pad", s);
        free(s);
    }
    assert_true(zl_journal_add(f->j, 1000, "control", kind, d) > 0);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A non-blocking client that sent request (HTTP/1.0: the body is raw, not chunked). rcvbuf > 0
 * shrinks its receive buffer (a client that reads slowly). */
static int client(fixture *f, const char *request, int rcvbuf)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(zl_engine_port(f->e))};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

typedef struct got {
    char buf[65536];
    size_t len;
    int closed;
} got;

/* Turns the engine and reads fd until the text holds needle (or the peer closed, when needle
 * is NULL), for at most ms. 1 when it did. */
static int read_until(fixture *f, int fd, got *g, const char *needle, int ms)
{
    int64_t end = mono_ms() + ms;

    while (mono_ms() < end) {
        ssize_t n = -1;

        zl_engine_turn(f->e, 5);
        while (!g->closed && g->len + 1 < sizeof g->buf &&
               (n = recv(fd, g->buf + g->len, sizeof g->buf - 1 - g->len, 0)) != 0) {
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                    g->closed = 1;
                break;
            }
            g->len += (size_t)n;
        }
        if (n == 0)
            g->closed = 1;
        g->buf[g->len] = '\0';
        if (needle ? strstr(g->buf, needle) != NULL : g->closed)
            return 1;
    }
    return 0;
}

/* One request whose answer ends; the whole answer into g. */
static void fetch(fixture *f, const char *request, got *g)
{
    int fd = client(f, request, 0);

    memset(g, 0, sizeof *g);
    assert_true(read_until(f, fd, g, NULL, 5000));
    close(fd);
}

/* The status code of the answer in g (HTTP/1.x NNN ...), 0 when none. */
static int status_of(const got *g)
{
    int code = 0;

    return sscanf(g->buf, "HTTP/1.%*d %d", &code) == 1 ? code : 0;
}

/* GET /_zonelab/ui/stats: the number after "key": in its answer. */
static long stat_of(fixture *f, const char *key)
{
    got *g = calloc(1, sizeof *g);
    char k[64];
    const char *p;
    long v;

    assert_non_null(g);
    fetch(f, "GET /_zonelab/ui/stats HTTP/1.0\r\n\r\n", g);
    snprintf(k, sizeof k, "\"%s\":", key);
    assert_non_null(p = strstr(g->buf, k));
    v = strtol(p + strlen(k), NULL, 10);
    free(g);
    return v;
}

static void test_ui_assets_from_memory(void **state)
{
    fixture *f = *state;
    got *g = calloc(1, sizeof *g);
    const char *assets[] = {(const char *)zl_ui_index_html, (const char *)zl_ui_style_css,
                            (const char *)zl_ui_app_js};
    size_t i;

    assert_non_null(g);
    fetch(f, "GET /_zonelab/ui HTTP/1.0\r\n\r\n", g);
    assert_int_equal(status_of(g), 200);
    assert_non_null(strstr(g->buf, "Content-Type: text/html; charset=utf-8"));
    assert_non_null(strstr(g->buf, "Content-Security-Policy: default-src 'none'"));
    assert_non_null(strstr(g->buf, "src=\"/_zonelab/ui/app.js\""));
    fetch(f, "GET /_zonelab/ui/app.js HTTP/1.0\r\n\r\n", g);
    assert_non_null(strstr(g->buf, "Content-Type: text/javascript"));
    assert_non_null(strstr(g->buf, "/_zonelab/ui/events"));
    fetch(f, "GET /_zonelab/ui/style.css HTTP/1.0\r\n\r\n", g);
    assert_non_null(strstr(g->buf, "Content-Type: text/css"));
    assert_int_equal(stat_of(f, "clients"), 0);
    fetch(f, "GET /_zonelab/ui/nothing HTTP/1.0\r\n\r\n", g);
    assert_int_equal(status_of(g), 404);
    fetch(f, "POST /_zonelab/ui HTTP/1.0\r\nContent-Length: 0\r\n\r\n", g);
    assert_int_equal(status_of(g), 405);
    assert_non_null(strstr(g->buf, "Allow: GET, HEAD"));
    fetch(f, "HEAD /_zonelab/ui/events HTTP/1.0\r\n\r\n", g);
    assert_int_equal(status_of(g), 405);
    fetch(f, "HEAD /_zonelab/ui/style.css HTTP/1.0\r\n\r\n", g);
    assert_int_equal(status_of(g), 200);
    for (i = 0; i < 3; i++) { /* nothing from a CDN or anywhere else */
        assert_null(strstr(assets[i], "http://"));
        assert_null(strstr(assets[i], "https://"));
        assert_null(strstr(assets[i], "//cdn"));
    }
    free(g);
}

static void test_ui_events_replay_since_and_last_event_id(void **state)
{
    fixture *f = *state;
    got *g = calloc(1, sizeof *g);
    int fd, i;

    assert_non_null(g);
    for (i = 0; i < 5; i++)
        add(f, "k", 0);
    /* neither since nor Last-Event-ID: the newest tail (3) */
    fd = client(f, "GET /_zonelab/ui/events HTTP/1.0\r\n\r\n", 0);
    assert_true(read_until(f, fd, g, "id: 5\ndata: {\"seq\":5,", 3000));
    assert_non_null(strstr(g->buf, "Content-Type: text/event-stream"));
    assert_non_null(strstr(g->buf, "Cache-Control: no-cache"));
    assert_non_null(strstr(g->buf, "event: hello\ndata: {\"first\":1,\"last\":5,"));
    assert_non_null(strstr(g->buf, "\"from\":3"));
    assert_null(strstr(g->buf, "id: 2\n"));
    assert_non_null(strstr(g->buf, "id: 3\ndata: {\"seq\":3,\"t\":1000,\"face\":\"control\""));
    assert_true(strstr(g->buf, "id: 3\n") < strstr(g->buf, "id: 4\n"));
    close(fd);
    /* ?since=N: after N */
    memset(g, 0, sizeof *g);
    fd = client(f, "GET /_zonelab/ui/events?since=4 HTTP/1.0\r\n\r\n", 0);
    assert_true(read_until(f, fd, g, "id: 5\n", 3000));
    assert_null(strstr(g->buf, "id: 4\n"));
    close(fd);
    /* Last-Event-ID (EventSource coming back) wins over the URL's since */
    memset(g, 0, sizeof *g);
    fd = client(f, "GET /_zonelab/ui/events?since=1 HTTP/1.0\r\nLast-Event-ID: 3\r\n\r\n", 0);
    assert_true(read_until(f, fd, g, "id: 5\n", 3000));
    assert_null(strstr(g->buf, "id: 3\n"));
    assert_non_null(strstr(g->buf, "id: 4\n"));
    close(fd);
    fetch(f, "GET /_zonelab/ui/events?since=x HTTP/1.0\r\n\r\n", g);
    assert_int_equal(status_of(g), 400);
    free(g);
}

static void test_ui_events_gap_when_the_ring_dropped(void **state)
{
    fixture *f = *state;
    got *g = calloc(1, sizeof *g);
    int fd, i;

    assert_non_null(g);
    for (i = 0; i < 60; i++) /* the ring keeps 50: 11..60 */
        add(f, "k", 0);
    fd = client(f, "GET /_zonelab/ui/events?since=2 HTTP/1.0\r\n\r\n", 0);
    assert_true(read_until(f, fd, g, "id: 60\n", 3000));
    assert_non_null(strstr(g->buf, "event: gap\ndata: {\"from\":3,\"to\":10}"));
    assert_non_null(strstr(g->buf, "id: 11\n"));
    close(fd);
    free(g);
}

static void test_ui_events_live(void **state)
{
    fixture *f = *state;
    got *g = calloc(1, sizeof *g);
    int fd;

    assert_non_null(g);
    add(f, "before", 0);
    fd = client(f, "GET /_zonelab/ui/events HTTP/1.0\r\n\r\n", 0);
    assert_true(read_until(f, fd, g, "id: 1\n", 3000));
    add(f, "live_one", 0);
    assert_true(read_until(f, fd, g, "\"kind\":\"live_one\"", 3000));
    assert_non_null(strstr(g->buf, "id: 2\n"));
    assert_true(read_until(f, fd, g, ": keepalive\n\n", 3000)); /* heartbeat_ms 100 */
    assert_false(g->closed);
    assert_int_equal(stat_of(f, "clients"), 1);
    close(fd);
    free(g);
}

static void test_ui_streams_limited_and_cleaned_up(void **state)
{
    fixture *f = *state;
    got *g = calloc(1, sizeof *g);
    int fds[3], i;

    assert_non_null(g);
    for (i = 0; i < 3; i++) {
        memset(g, 0, sizeof *g);
        fds[i] = client(f, "GET /_zonelab/ui/events HTTP/1.0\r\n\r\n", 0);
        assert_true(read_until(f, fds[i], g, "event: hello", 3000));
    }
    assert_int_equal(stat_of(f, "clients"), 3);
    fetch(f, "GET /_zonelab/ui/events HTTP/1.0\r\n\r\n", g); /* clients: 3 */
    assert_int_equal(status_of(g), 503);
    for (i = 0; i < 3; i++)
        close(fds[i]); /* gone without a word: the next heartbeats notice */
    for (i = 0; i < 100 && stat_of(f, "clients") > 0; i++)
        zl_engine_turn(f->e, 10);
    assert_int_equal(stat_of(f, "clients"), 0);
    assert_int_equal(stat_of(f, "dropped"), 0);
    free(g);
}

static void test_ui_stalled_client_dropped(void **state)
{
    fixture *f = *state;
    got *g = calloc(1, sizeof *g);
    int fd, i;

    assert_non_null(g);
    fd = client(f, "GET /_zonelab/ui/events HTTP/1.0\r\n\r\n", 2048);
    assert_true(read_until(f, fd, g, "event: hello", 3000));
    /* it never reads again: far more than the socket buffers and the backlog hold */
    for (i = 0; i < 400; i++) {
        add(f, "big", 32 * 1024);
        zl_engine_turn(f->e, 0);
    }
    for (i = 0; i < 300 && stat_of(f, "dropped") == 0; i++)
        zl_engine_turn(f->e, 10);
    assert_int_equal(stat_of(f, "dropped"), 1);
    assert_int_equal(stat_of(f, "clients"), 0);
    close(fd);
    free(g);
}

/* zl_engine_free with streams open ends them; the journal (and the inspector) go after. */
static void test_ui_shutdown_with_streams_open(void **state)
{
    fixture *f = *state;
    got *g = calloc(1, sizeof *g);
    int fd;

    assert_non_null(g);
    add(f, "k", 0);
    fd = client(f, "GET /_zonelab/ui/events HTTP/1.0\r\n\r\n", 0);
    assert_true(read_until(f, fd, g, "id: 1\n", 3000));
    zl_engine_free(f->e);
    f->e = NULL;
    add(f, "after the engine", 0); /* the listener has no stream left to write to */
    close(fd);
    free(g);
}

typedef struct heard {
    uint64_t seqs[8];
    size_t n;
    int freed;
    uint64_t unlisten; /* removes itself on this seq */
    zl_journal *j;
    uint64_t id;
} heard;

static void on_heard(void *ud, uint64_t seq, const char *json)
{
    heard *h = ud;

    assert_non_null(strstr(json, "\"seq\":"));
    h->seqs[h->n++] = seq;
    if (seq == h->unlisten)
        zl_journal_unlisten(h->j, h->id);
}

static void heard_free(void *ud)
{
    ((heard *)ud)->freed++;
}

static void test_ui_journal_listeners(void **state)
{
    zl_journal *j = zl_journal_new(2);
    heard a = {.j = j}, b = {.j = j, .unlisten = 2};

    (void)state;
    assert_non_null(j);
    assert_true((a.id = zl_journal_listen(j, on_heard, heard_free, &a)) > 0);
    assert_true((b.id = zl_journal_listen(j, on_heard, heard_free, &b)) > 0);
    zl_journal_add(j, 1, "f", "one", NULL);
    zl_journal_add(j, 2, "f", "two", NULL); /* b leaves from inside its call */
    zl_journal_add(j, 3, "f", "three", NULL);
    assert_int_equal(a.n, 3);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.freed, 1);
    assert_int_equal(zl_journal_first(j), 2);
    assert_null(zl_journal_text(j, 1)); /* dropped by the ring of 2 */
    assert_non_null(strstr(zl_journal_text(j, 3), "\"kind\":\"three\""));
    assert_null(zl_journal_text(j, 4));
    zl_journal_unlisten(j, b.id); /* gone already: ignored */
    zl_journal_free(j);
    assert_int_equal(a.freed, 1);
    assert_int_equal(b.freed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ui_assets_from_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui_events_replay_since_and_last_event_id, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ui_events_gap_when_the_ring_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui_events_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui_streams_limited_and_cleaned_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui_stalled_client_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ui_shutdown_with_streams_open, setup, teardown),
        cmocka_unit_test(test_ui_journal_listeners),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
