/* engine: the emulator's single loop: HTTP server (libmicrohttpd, external epoll), outbound
 * HTTP (libcurl multi), timers on the virtual clock, a seeded random source. */
#ifndef ZL_ENGINE_H
#define ZL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/clock.h"

typedef struct zl_engine zl_engine;
typedef struct zl_request zl_request;

typedef struct zl_engine_config {
    const char *listen; /* IPv4 address, default "127.0.0.1" */
    unsigned port;      /* 0 = ephemeral (read back with zl_engine_port) */
    uint64_t seed;      /* the random source's seed: same seed, same ids */
    zl_wall_fn wall;    /* clock seam; NULL = real time */
    void *wall_ud;
    size_t max_body;         /* inbound body cap in bytes, default 64 MiB */
    unsigned idle_timeout_s; /* a connection with no byte either way for this long, while it
                                is not waiting on the emulator, is closed; 0 = 10 s */
} zl_engine_config;

/* Starts listening. NULL with err filled when the address cannot be used. */
zl_engine *zl_engine_new(const zl_engine_config *cfg, char *err, size_t errlen);
/* Stops listening, answers suspended requests with 503, cancels outbound calls. */
void zl_engine_free(zl_engine *e); /* accepts NULL */
unsigned short zl_engine_port(const zl_engine *e);
zl_clock *zl_engine_clock(zl_engine *e);
/* The seeded random source (splitmix64): every id the emulator makes comes from here. */
uint64_t zl_engine_random(zl_engine *e);
/* n random bytes as 2n lower-case hex characters into out (2n + 1 bytes). */
void zl_engine_random_hex(zl_engine *e, char *out, size_t n);

/*
 * A route: requests whose path is prefix or lies below it ("/a" takes "/a" and "/a/b", not
 * "/ab"; a prefix ending in '/' takes everything under it) and whose method equals method
 * (any method when NULL) go to fn on the loop thread. fn answers with
 * zl_request_respond*, now or later (the connection is suspended meanwhile). Routes are
 * tried in the order they were added.
 */
typedef void (*zl_route_fn)(zl_engine *e, zl_request *r, void *ud);
int zl_engine_route(zl_engine *e, const char *method, const char *prefix, zl_route_fn fn, void *ud);
/*
 * A gate: every request under prefix (as a route's prefix) goes to fn first, before its route.
 * fn returns 0 to let it through, or answers it (zl_request_respond*) and returns non-zero.
 * Gates are tried in the order they were added.
 */
typedef int (*zl_gate_fn)(zl_engine *e, zl_request *r, void *ud);
int zl_engine_gate(zl_engine *e, const char *prefix, zl_gate_fn fn, void *ud);
/* A route for the requests under prefix whose body was over max_body (its bytes were dropped:
 * zl_request_body is empty); elsewhere such a request is answered 413. */
int zl_engine_route_too_large(zl_engine *e, const char *prefix, zl_route_fn fn, void *ud);

/* Runs one turn: waits up to max_wait_ms for work, then does it. */
void zl_engine_turn(zl_engine *e, int max_wait_ms);
/* The same, and the wait also ends when one of the n descriptors in fds becomes readable (a
 * pidfd, a pipe): what it waits for then needs no polling. Nothing is read from them. */
void zl_engine_turn_fds(zl_engine *e, int max_wait_ms, const int *fds, size_t n);
/* Runs turns until zl_engine_stop. */
void zl_engine_run(zl_engine *e);
/* Whether nothing is under way: no outbound call in flight, every inbound request answered
 * (a streamed answer counts as answered), and no timer due on the virtual clock. A scenario's
 * settle() waits for it (scenario/primitives.c). */
bool zl_engine_idle(const zl_engine *e);
/* Thread-safe: makes zl_engine_run return after the current turn. */
void zl_engine_stop(zl_engine *e);

/* ---- inbound requests ---- */
const char *zl_request_method(const zl_request *r);
const char *zl_request_path(const zl_request *r); /* without the query string */
/* A query argument (URL-decoded) or NULL. */
const char *zl_request_query(const zl_request *r, const char *name);
/* A header value, name matched case-insensitively, or NULL. */
const char *zl_request_header(const zl_request *r, const char *name);
/* All headers with names exactly as received; returns the count; names and values are borrowed. */
size_t zl_request_headers(const zl_request *r, const char ***names, const char ***values);
const char *zl_request_body(const zl_request *r); /* NUL-terminated */
size_t zl_request_body_len(const zl_request *r);
/* Whether the client connected from a loopback address (127.0.0.0/8, ::1, ::ffff:127.x). */
int zl_request_from_loopback(const zl_request *r);
/* The body cap when r's body was over it (its bytes were dropped), else 0. */
size_t zl_request_too_large(const zl_request *r);
/* Answers (copies body); resumes the connection if it was waiting. Once per request. */
void zl_request_respond(zl_request *r, unsigned status, const char *content_type, const char *body,
                        size_t len);
/* Drops the connection without an answer (a "connection reset" fault). Once per request,
 * instead of zl_request_respond. */
void zl_request_abort(zl_request *r);
/* Answers with JSON (takes ownership of j). */
void zl_request_respond_json(zl_request *r, unsigned status, cJSON *j);
/* Adds a header to the answer to come (call before zl_request_respond). */
int zl_request_add_header(zl_request *r, const char *name, const char *value);

/*
 * ---- streamed answers (server-sent events) ----
 * A body sent while it is being written: the route answers with zl_request_stream instead of
 * zl_request_respond, then writes whenever it likes, on the loop thread. A stream with nothing
 * queued parks its connection (no busy loop); a write wakes it.
 */
typedef struct zl_stream zl_stream;
/* Called exactly once when a stream is over: its bytes went out after zl_stream_end, the
 * client went away, zl_stream_abort, or zl_engine_free. s is invalid once it returns. */
typedef void (*zl_stream_closed_fn)(zl_stream *s, void *ud);
/* Answers r with status and a body of unknown length (chunked in HTTP/1.1); headers added with
 * zl_request_add_header go with it. Once per request, instead of zl_request_respond. An
 * observer (zl_engine_observe) sees the answer now, with an empty body. closed is called
 * later, never from inside this call nor from the zl_stream_* calls. NULL when r was answered
 * already or memory ran out (r is then answered 500 and closed is never called). */
zl_stream *zl_request_stream(zl_request *r, unsigned status, const char *content_type,
                             zl_stream_closed_fn closed, void *ud);
/* Queues n bytes (copied); they go out on the next turns. 0, or -1 after zl_stream_end or
 * zl_stream_abort, or when memory runs out. */
int zl_stream_write(zl_stream *s, const char *p, size_t n);
/* Bytes queued and not yet taken by the connection: what a client that does not read grows. */
size_t zl_stream_pending(const zl_stream *s);
/* Ends the body once the queued bytes are out. */
void zl_stream_end(zl_stream *s);
/* Drops the queued bytes and closes the connection now (a client that does not read: within
 * a second). */
void zl_stream_abort(zl_stream *s);

/* ---- outbound HTTP (libcurl multi, or the engine's own client for direct calls; the
 * callback runs on the loop thread) ---- */
typedef struct zl_http_result {
    int curl_code;     /* 0 = CURLE_OK */
    const char *error; /* curl's error text when curl_code != 0 */
    long status;       /* HTTP status, 0 when none arrived */
    const char *body;  /* NUL-terminated */
    size_t body_len;
    size_t n_headers; /* response headers, names as received */
    const char *const *header_names;
    const char *const *header_values;
    int64_t elapsed_ms;
} zl_http_result;
typedef void (*zl_http_fn)(zl_engine *e, const zl_http_result *res, void *ud);

typedef struct zl_http_request {
    const char *method; /* "GET" or "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" lines, n_headers of them */
    size_t n_headers;
    const char *body;
    size_t body_len;
    long timeout_ms;
    /* A call to a program on this machine (http://127.0.0.1:PORT/..., GET or POST): the
     * engine's own HTTP/1.1 client carries it, on connections it keeps per port, and reports
     * failures with libcurl's codes; any other URL goes through libcurl still. */
    int direct;
} zl_http_request;

/* Starts a call (url, headers and body are copied); fn is called exactly once, later (never
 * from inside this call). 0 or -1. */
int zl_engine_http(zl_engine *e, const zl_http_request *req, zl_http_fn fn, void *ud);

/* ---- injected requests (a seam for fuzzers and tests) ---- */

/* What an injected request was answered: status 0 when it was dropped (zl_request_abort).
 * body is borrowed for the call. */
typedef void (*zl_inject_fn)(void *ud, unsigned status, const char *content_type, const char *body,
                             size_t len);

typedef struct zl_inject {
    const char *method;
    const char *target;       /* path and query as a client sends them ("/a?b=c%20d") */
    const char *const *names; /* request headers, n_headers of them */
    const char *const *values;
    size_t n_headers;
    const char *body;
    size_t len;
    int loopback;      /* what zl_request_from_loopback says */
    zl_inject_fn done; /* called once with the answer, NULL = not told */
    void *ud;
} zl_inject;

/*
 * Hands a request to the gates and routes as if a client had sent it, without a connection:
 * the query string is split and URL-decoded as libmicrohttpd does, the answer goes to
 * in->done (now, or later from a timer or callback, or with 503 from zl_engine_free), and an
 * observer sees the exchange. Everything in *in is copied. A streamed answer is not carried:
 * zl_request_stream answers such a request with its status and an empty body and returns
 * NULL. 0, or -1 when memory runs out.
 */
int zl_engine_inject(zl_engine *e, const zl_inject *in);
/* Requests injected and not answered yet (a fuzzer checks that none hangs). */
size_t zl_engine_injected_waiting(const zl_engine *e);

/* ---- observing exchanges (a recorder) ---- */

/*
 * One exchange as the engine carried it, bytes exactly as received or sent. Everything is
 * borrowed for the observer call only. Inbound response headers are the ones the route set
 * (Content-Type and zl_request_add_header); libmicrohttpd's own transport headers
 * (Content-Length, Date, Connection) are not included.
 */
typedef struct zl_exchange {
    bool outbound;        /* false: a request the engine served; true: a call it made */
    uint64_t id;          /* start order over both directions: 1, 2, ... */
    int64_t t_start_ms;   /* virtual clock when it started (dispatched or sent) */
    int64_t t_end_ms;     /* virtual clock when it completed */
    int64_t elapsed_ms;   /* real time between the two */
    const char *method;   /* "GET", "POST", ... */
    const char *target;   /* inbound: the request target as received (path and query,
                             not decoded); outbound: the URL */
    size_t n_req_headers; /* request headers, names as received or sent */
    const char *const *req_names;
    const char *const *req_values;
    const char *req_body;
    size_t req_len;
    long status; /* the answer's HTTP status; 0 when there was none */
    size_t n_resp_headers;
    const char *const *resp_names;
    const char *const *resp_values;
    const char *resp_body;
    size_t resp_len;
    int curl_code;     /* outbound: libcurl's result, 0 = CURLE_OK */
    const char *error; /* why there is no answer (status 0), else NULL */
} zl_exchange;

typedef void (*zl_exchange_fn)(void *ud, const zl_exchange *x);

/*
 * Calls fn on the loop thread for every exchange as it completes: an inbound request when it
 * is answered or dropped (zl_request_respond, zl_request_abort), an outbound call when its
 * result arrives, before the call's own callback runs (also for calls cancelled by
 * zl_engine_free). One observer at a time; fn NULL stops observing.
 */
void zl_engine_observe(zl_engine *e, zl_exchange_fn fn, void *ud);

/* ---- timers on the virtual clock ---- */
typedef void (*zl_timer_fn)(zl_engine *e, void *ud);
/* Calls fn once when virtual time reaches at_ms. Returns an id (> 0) or 0. */
uint64_t zl_engine_timer(zl_engine *e, int64_t at_ms, zl_timer_fn fn, void *ud);
/* Cancels a pending timer; unknown or fired ids are ignored. */
void zl_engine_timer_cancel(zl_engine *e, uint64_t id);

#endif
