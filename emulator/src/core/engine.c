/* engine: the emulator's single loop: HTTP server (libmicrohttpd, external epoll), outbound
 * HTTP (libcurl multi), timers on the virtual clock, a seeded random source. */
#define _GNU_SOURCE
#include "core/engine_int.h"
#include "core/grow.h"
#include "core/json.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

int zl_engine_buf_append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256; /* under malloc's large sizes (1 KiB), which consolidate */
        char *b;

        while (c < *len + n + 1)
            c *= 2;
        if (!(b = realloc(*buf, c)))
            return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}
/* ---- random (splitmix64: tiny, seeded, reproducible) ---- */

uint64_t zl_engine_random(zl_engine *e)
{
    uint64_t z = (e->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void zl_engine_random_hex(zl_engine *e, char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    uint64_t r = 0;

    for (i = 0; i < n; i++) {
        if (i % 8 == 0)
            r = zl_engine_random(e);
        out[2 * i] = hex[(r >> 4) & 15];
        out[2 * i + 1] = hex[r & 15];
        r >>= 8;
    }
    out[2 * n] = '\0';
}

zl_clock *zl_engine_clock(zl_engine *e)
{
    return &e->clock;
}

unsigned short zl_engine_port(const zl_engine *e)
{
    return e->port;
}

/* ---- inbound ---- */

void zl_engine_request_free(zl_request *r)
{
    size_t i;

    if (!r)
        return;
    if (r->prev)
        r->prev->next = r->next;
    else if (r->e->live == r)
        r->e->live = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (r->stream)
        r->stream->r = NULL;
    if (r->resp)
        MHD_destroy_response(r->resp);
    for (i = 0; i < r->n_extra; i++) {
        free(r->extra_names[i]);
        free(r->extra_values[i]);
    }
    free(r->extra_names);
    free(r->extra_values);
    for (i = 0; i < r->n_own; i++)
        free(r->own[i]);
    free(r->own);
    free(r->names);
    free(r->values);
    free(r->method);
    free(r->path);
    free(r->target);
    free(r->body);
    free(r->qbuf);
    free(r->query);
    free(r);
}

static void plain(zl_request *r, unsigned status, const char *text)
{
    zl_request_respond(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* path is the route's path or below it: "/a" takes "/a" and "/a/b", never "/ab". */
static int path_under(const char *path, const route *rt)
{
    if (strncmp(path, rt->prefix, rt->prefix_len) != 0)
        return 0;
    return rt->prefix_len == 0 || rt->prefix[rt->prefix_len - 1] == '/' ||
           path[rt->prefix_len] == '\0' || path[rt->prefix_len] == '/';
}

void zl_engine_dispatch(zl_engine *e, zl_request *r)
{
    size_t i;

    r->id = ++e->exchanges;
    r->t_start = zl_clock_now_ms(&e->clock);
    r->wall_start = zl_clock_wall_ms(&e->clock);
    if (zl_engine_collect_headers(r) != 0 || (r->target && zl_engine_query_parse(r) != 0)) {
        plain(r, 500, "out of memory\n");
        return;
    }
    for (i = 0; i < e->n_routes; i++) {
        route *rt = &e->routes[i];

        if (rt->gate && path_under(r->path, rt) && rt->gate(e, r, rt->ud))
            return; /* the gate answered */
    }
    for (i = 0; i < e->n_routes; i++) {
        route *rt = &e->routes[i];

        if (rt->gate || rt->too_large != r->too_large)
            continue;
        if (rt->method && strcmp(rt->method, r->method) != 0)
            continue;
        if (!path_under(r->path, rt))
            continue;
        rt->fn(e, r, rt->ud);
        return;
    }
    if (r->too_large)
        plain(r, 413, "body too large\n");
    else
        plain(r, 404, "no such path\n");
}

/* libmicrohttpd's first look at a request: the target exactly as received. The request
 * object is born here (on_access makes it when this did not).
 *
 * libmicrohttpd 0.9.75 would then store each query argument in the connection's memory pool,
 * which it zero-fills whole between two requests of a connection: a pool large enough for
 * thousands of arguments made every request pay for clearing it. The engine reads the query
 * from the target it keeps (zl_request_query), so it hands libmicrohttpd an empty one: the
 * line after '?' is cut where libmicrohttpd would parse it. With a libmicrohttpd that parsed
 * elsewhere the cut would change nothing but the pool's use. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    zl_request *r = calloc(1, sizeof *r);
    char *q;

    if (!r)
        return NULL;
    r->e = cls;
    r->conn = conn;
    if (!(r->target = strdup(uri ? uri : ""))) {
        free(r);
        return NULL;
    }
    if (uri && (q = strchr(uri, '?')) && q[1])
        q[1] = '\0'; /* the read buffer is the connection's own, writable */
    return r;
}

/* libmicrohttpd's memory for one connection's request line and headers (query arguments are
 * not kept there: on_uri). Its default, 32 KiB, is not enough for a target of thousands of
 * query arguments; with 40 KiB one of 3000 (29 KB, test_engine) is answered, and a request
 * line over the pool gets 414. Not more: libmicrohttpd zero-fills the pool between the
 * requests of a connection, so its size is paid by every request (64 KiB made that memset 9%
 * of gettoken's CPU, and gettoken about 9% slower than with 40 KiB; 256 KiB made it take 58 us
 * of CPU a request against 33 us; 1 MiB made it 3.9x slower). */
#define CONN_POOL_BYTES ((size_t)40 << 10)

/* libmicrohttpd's error log, prefixed so a user knows where a line comes from; the line MHD
 * writes for a connection the engine closed on purpose (a scripted reset) is dropped. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    zl_engine *e = cls;
    char line[512];

    vsnprintf(line, sizeof line, fmt, ap);
    if (e->quiet_aborts && strstr(line, "Application reported internal error")) {
        e->quiet_aborts--;
        return;
    }
    fprintf(stderr, "zonelab: libmicrohttpd: %s", line);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    zl_engine *e = cls;
    zl_request *r = *con_cls;

    (void)version;
    if (!r || !r->method) {
        if (!r && !(r = calloc(1, sizeof *r)))
            return MHD_NO;
        r->e = e;
        r->conn = conn;
        r->method = strdup(method);
        r->path = strdup(url);
        if (!r->method || !r->path) {
            *con_cls = NULL; /* on_completed must not free it again */
            zl_engine_request_free(r);
            return MHD_NO;
        }
        r->next = e->live;
        if (e->live)
            e->live->prev = r;
        e->live = r;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;

        *upload_size = 0;
        if (r->too_large || r->len + n > e->max_body) {
            if (!r->too_large) { /* what came so far goes too: no handler reads half a body */
                free(r->body);
                r->body = NULL;
                r->len = r->cap = 0;
            }
            r->too_large = 1;
            return MHD_YES;
        }
        return zl_engine_buf_append(&r->body, &r->len, &r->cap, upload, n) == 0 ? MHD_YES : MHD_NO;
    }
    if (!r->dispatched) {
        r->dispatched = 1;
        zl_engine_dispatch(e, r);
    }
    if (r->abort) {
        e->quiet_aborts++; /* MHD logs this as an application error: it is not one */
        return MHD_NO;     /* closes the connection without an answer */
    }
    if (r->resp) {
        enum MHD_Result ok = MHD_queue_response(conn, r->status, r->resp);

        MHD_destroy_response(r->resp);
        r->resp = NULL;
        return ok;
    }
    if (!r->suspended) {
        r->suspended = 1;
        MHD_suspend_connection(conn);
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)conn, (void)why;
    zl_engine_request_free(*con_cls);
    *con_cls = NULL;
}

int zl_request_add_header(zl_request *r, const char *name, const char *value)
{
    char **n = realloc(r->extra_names, (r->n_extra + 1) * sizeof *n), **v;

    if (!n)
        return -1;
    r->extra_names = n;
    if (!(v = realloc(r->extra_values, (r->n_extra + 1) * sizeof *v)))
        return -1;
    r->extra_values = v;
    n[r->n_extra] = strdup(name);
    v[r->n_extra] = strdup(value);
    r->n_extra++;
    return n[r->n_extra - 1] && v[r->n_extra - 1] ? 0 : -1;
}

void zl_engine_observe(zl_engine *e, zl_exchange_fn fn, void *ud)
{
    e->observe = fn;
    e->observe_ud = ud;
}

/* Tells the observer about an inbound request now answered (status > 0) or dropped. */
static void observe_request(zl_request *r, unsigned status, const char *content_type,
                            const char *body, size_t len)
{
    zl_engine *e = r->e;
    const char *names[MAX_RESP_HEADERS + 1], *values[MAX_RESP_HEADERS + 1];
    size_t n = 0, i;
    zl_exchange x;

    if (!e->observe)
        return;
    if (content_type && status) {
        names[n] = MHD_HTTP_HEADER_CONTENT_TYPE;
        values[n++] = content_type;
    }
    for (i = 0; status && i < r->n_extra && n < MAX_RESP_HEADERS + 1; i++)
        if (r->extra_names[i] && r->extra_values[i]) {
            names[n] = r->extra_names[i];
            values[n++] = r->extra_values[i];
        }
    x = (zl_exchange){.outbound = false,
                      .id = r->id,
                      .t_start_ms = r->t_start,
                      .t_end_ms = zl_clock_now_ms(&e->clock),
                      .elapsed_ms = zl_clock_wall_ms(&e->clock) - r->wall_start,
                      .method = r->method,
                      .target = r->target ? r->target : r->path,
                      .n_req_headers = r->n_headers,
                      .req_names = r->names,
                      .req_values = r->values,
                      .req_body = r->body ? r->body : "",
                      .req_len = r->len,
                      .status = status,
                      .n_resp_headers = n,
                      .resp_names = names,
                      .resp_values = values,
                      .resp_body = body ? body : "",
                      .resp_len = status ? len : 0,
                      .error = status ? NULL : "the connection was dropped without an answer"};
    e->observe(e->observe_ud, &x);
}

/* An injected request is answered (status > 0) or dropped: its receiver is told; the request
 * is freed by the next sweep (the route may still hold it until it returns). */
static void injected_answer(zl_request *r, unsigned status, const char *content_type,
                            const char *body, size_t len)
{
    if (r->answered)
        return;
    r->answered = 1;
    r->dispatched = 2;
    r->e->injected_waiting--;
    observe_request(r, status, content_type, body, len);
    if (r->inject_done)
        r->inject_done(r->inject_ud, status, content_type, body ? body : "", status ? len : 0);
}

/* r is answered (or dropped): when its connection waits suspended, it goes on. */
static void resume(zl_request *r)
{
    if (!r->suspended)
        return;
    r->suspended = 0;
    r->dispatched = 2;
    MHD_resume_connection(r->conn);
    r->e->mhd_dirty = 1;
}

void zl_request_respond(zl_request *r, unsigned status, const char *content_type, const char *body,
                        size_t len)
{
    struct MHD_Response *resp;
    size_t i;

    if (r->injected) {
        injected_answer(r, status, content_type, body, len);
        return;
    }
    if (r->resp || (r->dispatched == 2))
        return; /* answered already */
    observe_request(r, status, content_type, body, len);
    resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)(body ? body : ""),
                                           MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return;
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (i = 0; i < r->n_extra; i++)
        if (r->extra_names[i] && r->extra_values[i])
            MHD_add_response_header(resp, r->extra_names[i], r->extra_values[i]);
    r->resp = resp;
    r->status = status;
    resume(r);
}

void zl_request_abort(zl_request *r)
{
    if (r->injected) {
        injected_answer(r, 0, NULL, NULL, 0);
        return;
    }
    if (r->resp || r->dispatched == 2 || r->abort)
        return;
    observe_request(r, 0, NULL, NULL, 0);
    r->abort = 1;
    resume(r);
}

void zl_request_respond_json(zl_request *r, unsigned status, cJSON *j)
{
    size_t len = 0;
    char *text = j ? zl_json_print(j, &len) : NULL;

    cJSON_Delete(j);
    if (!text) {
        plain(r, 500, "out of memory\n");
        return;
    }
    zl_request_respond(r, status, "application/json; charset=utf-8", text, len);
    free(text);
}

/* ---- streamed answers ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    zl_stream *s = cls;
    size_t n = s->len - s->off;

    (void)pos;
    if (s->aborted || !s->r)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0) {
        if (s->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        s->parked = 1; /* the pattern microhttpd.h prescribes for "no data yet" */
        MHD_suspend_connection(s->r->conn);
        return 0;
    }
    if (n > max)
        n = max;
    memcpy(out, s->buf + s->off, n);
    s->off += n;
    if (s->off == s->len)
        s->off = s->len = 0;
    return (ssize_t)n;
}

/* The response is gone (the connection closed, or it was never queued). */
static void stream_gone(void *cls)
{
    zl_stream *s = cls;

    if (s->r)
        s->r->stream = NULL;
    if (s->closed)
        s->closed(s, s->ud);
    free(s->buf);
    free(s);
}

static void stream_wake(zl_stream *s)
{
    if (s->parked && s->r) {
        s->parked = 0;
        MHD_resume_connection(s->r->conn);
        s->e->mhd_dirty = 1;
    }
}

zl_stream *zl_request_stream(zl_request *r, unsigned status, const char *content_type,
                             zl_stream_closed_fn closed, void *ud)
{
    zl_stream *s;
    struct MHD_Response *resp;
    size_t i;

    if (r->injected) { /* no connection to stream on */
        zl_request_respond(r, status, content_type, "", 0);
        return NULL;
    }
    if (r->resp || r->dispatched == 2 || r->abort || r->stream)
        return NULL;
    if (!(s = calloc(1, sizeof *s))) {
        plain(r, 500, "out of memory\n");
        return NULL;
    }
    s->e = r->e;
    s->r = r;
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_gone);
    if (!resp) {
        free(s);
        plain(r, 500, "out of memory\n");
        return NULL;
    }
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    for (i = 0; i < r->n_extra; i++)
        if (r->extra_names[i] && r->extra_values[i])
            MHD_add_response_header(resp, r->extra_names[i], r->extra_values[i]);
    observe_request(r, status, content_type, "", 0); /* the observer sees its start, no body */
    /* from here on, stream_gone reports the end */
    s->closed = closed;
    s->ud = ud;
    r->stream = s;
    r->resp = resp;
    r->status = status;
    resume(r);
    return s;
}

int zl_stream_write(zl_stream *s, const char *p, size_t n)
{
    if (s->ended || s->aborted || !s->r)
        return -1;
    if (s->off > 0 && s->len + n + 1 > s->cap) { /* reuse what was sent before growing */
        memmove(s->buf, s->buf + s->off, s->len - s->off);
        s->len -= s->off;
        s->off = 0;
    }
    if (zl_engine_buf_append(&s->buf, &s->len, &s->cap, p, n) != 0)
        return -1;
    stream_wake(s);
    return 0;
}

size_t zl_stream_pending(const zl_stream *s)
{
    return s->len - s->off;
}

void zl_stream_end(zl_stream *s)
{
    s->ended = 1;
    stream_wake(s);
}

void zl_stream_abort(zl_stream *s)
{
    s->aborted = 1;
    s->off = s->len = 0;
    if (s->r) /* a client that does not read never lets the reader run: time it out */
        MHD_set_connection_option(s->r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
    stream_wake(s);
}

/* Adds a route (too_large: one for requests whose body was over max_body). */
static int add_route(zl_engine *e, const char *method, const char *prefix, zl_route_fn fn, void *ud,
                     int too_large)
{
    route *rt;

    if (e->n_routes == MAX_ROUTES)
        return -1;
    rt = &e->routes[e->n_routes];
    rt->method = method ? strdup(method) : NULL;
    rt->prefix = strdup(prefix);
    if ((method && !rt->method) || !rt->prefix) {
        free(rt->method);
        free(rt->prefix);
        return -1;
    }
    rt->prefix_len = strlen(prefix);
    rt->fn = fn;
    rt->ud = ud;
    rt->too_large = too_large;
    e->n_routes++;
    return 0;
}

int zl_engine_route(zl_engine *e, const char *method, const char *prefix, zl_route_fn fn, void *ud)
{
    return add_route(e, method, prefix, fn, ud, 0);
}

int zl_engine_route_too_large(zl_engine *e, const char *prefix, zl_route_fn fn, void *ud)
{
    return add_route(e, NULL, prefix, fn, ud, 1);
}

int zl_engine_gate(zl_engine *e, const char *prefix, zl_gate_fn fn, void *ud)
{
    if (add_route(e, NULL, prefix, NULL, ud, 0) != 0)
        return -1;
    e->routes[e->n_routes - 1].gate = fn;
    return 0;
}

/* ---- timers ---- */

static int before(const timer *a, const timer *b)
{
    return a->at < b->at || (a->at == b->at && a->id < b->id);
}

static void heap_swap(timer *a, timer *b)
{
    timer t = *a;

    *a = *b;
    *b = t;
}

uint64_t zl_engine_timer(zl_engine *e, int64_t at_ms, zl_timer_fn fn, void *ud)
{
    size_t i;

    if (zl_grow(&e->timers, &e->cap_timers, e->n_timers, sizeof *e->timers, 64) != 0)
        return 0;
    i = e->n_timers++;
    e->timers[i] = (timer){.at = at_ms, .id = ++e->next_timer_id, .fn = fn, .ud = ud};
    while (i > 0 && before(&e->timers[i], &e->timers[(i - 1) / 2])) {
        heap_swap(&e->timers[i], &e->timers[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return e->next_timer_id;
}

void zl_engine_timer_cancel(zl_engine *e, uint64_t id)
{
    size_t i;

    for (i = 0; i < e->n_timers; i++)
        if (e->timers[i].id == id)
            e->timers[i].cancelled = 1;
}

static timer heap_pop(zl_engine *e)
{
    timer top = e->timers[0];
    size_t i = 0;

    e->timers[0] = e->timers[--e->n_timers];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < e->n_timers && before(&e->timers[l], &e->timers[m]))
            m = l;
        if (r < e->n_timers && before(&e->timers[r], &e->timers[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(&e->timers[i], &e->timers[m]);
        i = m;
    }
    return top;
}

static void fire_timers(zl_engine *e)
{
    int64_t now = zl_clock_now_ms(&e->clock);

    while (e->n_timers > 0 && e->timers[0].at <= now) {
        timer t = heap_pop(e);

        if (!t.cancelled)
            t.fn(e, t.ud);
    }
}

/* ---- the loop ---- */

/*
 * How many connections the server holds at once: the descriptors the process may open (the
 * soft limit raised to the hard one, at most 65536) less 256 for outbound calls, replicas'
 * pipes and files. Past it, new clients wait in the listen queue instead of the process
 * running out of descriptors; the idle timeout frees the slots of slow clients.
 */
static unsigned connection_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 768;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max < 65536 ? rl.rlim_max : 65536;

        if (want > rl.rlim_cur) {
            struct rlimit raised = {.rlim_cur = want, .rlim_max = rl.rlim_max};

            if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
                rl.rlim_cur = want;
        }
    }
    return rl.rlim_cur > 1024 ? (unsigned)(rl.rlim_cur - 256) : 768;
}

/*
 * The loop waits on one epoll set: libmicrohttpd's own epoll set, the stop signal, and each
 * socket libcurl asks it to watch, so that a turn hands libcurl only the sockets that are
 * ready (curl_multi_socket_action). With curl_multi_perform, libcurl polled every transfer in
 * flight on every turn: 39 poll calls per event through zone-demo, whose answers take the
 * time of an fsync while other traffic keeps the loop turning.
 */
/* Watches fd for events (a new fd, or one watched already); 0, or -1. */
static int watch(zl_engine *e, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};

    if (epoll_ctl(e->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    return epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* libcurl: watch socket s for what (or stop watching it). */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *ud, void *socketp)
{
    zl_engine *e = ud;
    struct epoll_event ev = {.data.fd = s};

    (void)easy;
    if (what == CURL_POLL_REMOVE) {                 /* libcurl forgets the socket's mark itself */
        epoll_ctl(e->epfd, EPOLL_CTL_DEL, s, NULL); /* gone already when libcurl closed it */
        return 0;
    }
    if (what & CURL_POLL_IN)
        ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev.events |= EPOLLOUT;
    if (socketp) /* marked below: in the set already */
        return epoll_ctl(e->epfd, EPOLL_CTL_MOD, s, &ev) == 0 ? 0 : -1;
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, s, &ev) != 0)
        return -1;
    curl_multi_assign(e->multi, s, e);
    return 0;
}

/* libcurl: call back in timeout_ms (-1: no timer). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *ud)
{
    zl_engine *e = ud;

    (void)multi;
    e->curl_due = timeout_ms < 0 ? -1 : zl_clock_mono_ms() + timeout_ms;
    return 0;
}

zl_engine *zl_engine_new(const zl_engine_config *cfg, char *err, size_t errlen)
{
    zl_engine *e = calloc(1, sizeof *e);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    const union MHD_DaemonInfo *info;
    const char *listen = cfg && cfg->listen ? cfg->listen : "127.0.0.1";

    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->epfd = e->wakefd = -1;
    e->curl_due = -1;
    zl_clock_init(&e->clock, cfg ? cfg->wall : NULL, cfg ? cfg->wall_ud : NULL);
    e->rng = cfg ? cfg->seed : 0;
    e->max_body = cfg && cfg->max_body ? cfg->max_body : (64u << 20);
    if (inet_pton(AF_INET, listen, &addr.sin_addr) != 1) {
        snprintf(err, errlen, "--listen %s is not an IPv4 address", listen);
        goto fail;
    }
    if (cfg && cfg->port > 65535) {
        snprintf(err, errlen, "port %u is out of range", cfg->port);
        goto fail;
    }
    addr.sin_port = htons((uint16_t)(cfg ? cfg->port : 0));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(e->multi = curl_multi_init())) {
        snprintf(err, errlen, "libcurl did not initialise");
        goto fail;
    }
    /* Connections stay open between calls (HTTP/1.1 keep-alive, the multi's cache). libcurl's
     * default cache holds 4 per call in flight, so after a burst of callbacks to one replica
     * all but 4 would close and the next burst connect again: keep one per slot instead. */
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)MAX_IDLE_CONNECTIONS);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    if ((e->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (e->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0 ||
        watch(e, e->wakefd, EPOLLIN) != 0) {
        snprintf(err, errlen, "cannot make the loop's epoll set");
        goto fail;
    }
    e->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_access, e,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, e, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, e, MHD_OPTION_URI_LOG_CALLBACK, on_uri, e,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg && cfg->idle_timeout_s ? cfg->idle_timeout_s : 10u,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit(), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        CONN_POOL_BYTES, MHD_OPTION_END);
    if (!e->mhd) {
        snprintf(err, errlen, "cannot listen on %s:%u (in use, or not an address of this machine)",
                 listen, cfg ? cfg->port : 0);
        goto fail;
    }
    info = MHD_get_daemon_info(e->mhd, MHD_DAEMON_INFO_BIND_PORT);
    e->port = info ? info->port : 0;
    info = MHD_get_daemon_info(e->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || (e->mhd_fd = info->epoll_fd) < 0 || watch(e, e->mhd_fd, EPOLLIN) != 0) {
        snprintf(err, errlen, "cannot watch libmicrohttpd's epoll set");
        goto fail;
    }
    return e;
fail:
    zl_engine_free(e);
    return NULL;
}

void zl_engine_turn(zl_engine *e, int max_wait_ms)
{
    zl_engine_turn_fds(e, max_wait_ms, NULL, 0);
}

void zl_engine_turn_fds(zl_engine *e, int max_wait_ms, const int *fds, size_t n_fds)
{
    struct epoll_event ev[64];
    size_t k;
    MHD_UNSIGNED_LONG_LONG mhd_ms;
    int64_t wait = max_wait_ms, now, mono, h1_due;
    int n, i, running;

    zl_engine_injected_sweep(e);
    if (MHD_get_timeout(e->mhd, &mhd_ms) == MHD_YES && (int64_t)mhd_ms < wait)
        wait = (int64_t)mhd_ms;
    if (e->n_timers > 0) {
        now = zl_clock_now_ms(&e->clock);
        if (e->timers[0].at - now < wait)
            wait = e->timers[0].at - now;
    }
    mono = zl_clock_mono_ms();
    if (e->curl_due >= 0 && e->curl_due - mono < wait)
        wait = e->curl_due - mono;
    if ((h1_due = zl_h1_due(e)) >= 0 && h1_due - mono < wait)
        wait = h1_due - mono;
    if (e->mhd_dirty || e->done || wait < 0)
        wait = 0;
    e->mhd_dirty = 0;
    for (k = 0; k < n_fds; k++) { /* for this wait only: level-triggered, they stay readable */
        struct epoll_event add = {.events = EPOLLIN, .data.fd = fds[k]};

        epoll_ctl(e->epfd, EPOLL_CTL_ADD, fds[k], &add);
    }
    n = epoll_wait(e->epfd, ev, (int)(sizeof ev / sizeof *ev), (int)wait);
    for (k = 0; k < n_fds; k++)
        epoll_ctl(e->epfd, EPOLL_CTL_DEL, fds[k], NULL);
    MHD_run(e->mhd);
    for (i = 0; i < n; i++) {
        int fd = ev[i].data.fd, what = 0;
        uint64_t count;
        bool theirs = false;

        for (k = 0; k < n_fds && !theirs; k++)
            theirs = fd == fds[k];
        if (fd == e->mhd_fd || theirs)
            continue;          /* MHD_run above; the caller's */
        if (fd == e->wakefd) { /* zl_engine_stop: the turn ends, zl_engine_run sees it */
            ssize_t got = read(fd, &count, sizeof count);

            (void)got;
            continue;
        }
        if (zl_h1_event(e, fd, ev[i].events)) /* the direct client's */
            continue;
        if (ev[i].events & (EPOLLIN | EPOLLHUP))
            what |= CURL_CSELECT_IN;
        if (ev[i].events & EPOLLOUT)
            what |= CURL_CSELECT_OUT;
        if (ev[i].events & EPOLLERR)
            what |= CURL_CSELECT_ERR;
        curl_multi_socket_action(e->multi, fd, what, &running);
    }
    mono = zl_clock_mono_ms();
    if (e->curl_due >= 0 && e->curl_due <= mono) {
        e->curl_due = -1;
        curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    if (h1_due >= 0 && h1_due <= mono)
        zl_h1_expire(e, mono);
    zl_engine_finish_calls(e);
    fire_timers(e);
    MHD_run(e->mhd); /* answers made by callbacks and timers go out now */
}

bool zl_engine_idle(const zl_engine *e)
{
    const zl_request *r;
    int64_t now = zl_clock_now_ms(&e->clock);
    size_t i;

    if (e->calls || e->injected_waiting > 0)
        return false;
    /* an inbound one is still being read (not dispatched) or waits suspended for its answer;
     * one answered at once was never suspended, and its connection is only sending */
    for (r = e->live; r; r = r->next)
        if (!r->injected && !r->stream && (!r->dispatched || r->suspended))
            return false;
    for (i = 0; i < e->n_timers; i++)
        if (!e->timers[i].cancelled && e->timers[i].at <= now)
            return false;
    return true;
}

void zl_engine_run(zl_engine *e)
{
    while (!e->stopping)
        zl_engine_turn(e, 1000);
}

void zl_engine_stop(zl_engine *e)
{
    uint64_t one = 1;

    e->stopping = 1;
    if (e->wakefd >= 0 && write(e->wakefd, &one, sizeof one) < 0)
        return; /* the counter is full: the loop wakes anyway */
}

void zl_engine_free(zl_engine *e)
{
    size_t i;

    if (!e)
        return;
    if (e->mhd) {
        zl_request *r;

        for (r = e->live; r; r = r->next) {
            if (r->suspended || (r->injected && !r->answered))
                plain(r, 503, "the emulator is shutting down\n");
            if (r->stream) /* ends cleanly; MHD_stop_daemon closes what is still sending */
                zl_stream_end(r->stream);
        }
        MHD_run(e->mhd);
        MHD_stop_daemon(e->mhd);
    }
    zl_engine_injected_sweep(
        e);                    /* MHD freed its own requests; the injected ones are all answered */
    zl_engine_cancel_calls(e); /* every callback runs once, even at shutdown */
    if (e->multi)
        curl_multi_cleanup(e->multi);
    if (e->wakefd >= 0)
        close(e->wakefd);
    if (e->epfd >= 0)
        close(e->epfd);
    for (i = 0; i < e->n_routes; i++) {
        free(e->routes[i].method);
        free(e->routes[i].prefix);
    }
    free(e->timers);
    free(e);
}
