/* engine_int: internal to the engine (engine.c, the inbound side, the timers and the loop;
 * engine_http.c, the outbound calls): the structures they share. Nothing outside core/engine*.c
 * includes it. */
#ifndef ZL_ENGINE_INT_H
#define ZL_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "core/engine.h"

#define MAX_ROUTES           64
#define MAX_RESP_HEADERS     64  /* headers an observer sees on an answer */
#define MAX_IDLE_CONNECTIONS 512 /* outbound connections kept open for reuse */

typedef struct route {
    char *method, *prefix;
    size_t prefix_len;
    zl_route_fn fn;
    void *ud;
    int too_large;   /* takes only requests whose body was over max_body */
    zl_gate_fn gate; /* a gate, not a route (fn unused) */
} route;

typedef struct timer {
    int64_t at;
    uint64_t id;
    zl_timer_fn fn;
    void *ud;
    int cancelled;
} timer;

struct zl_request {
    zl_engine *e;
    struct MHD_Connection *conn;
    zl_request *prev, *next; /* the engine's live requests */
    char *method, *path;
    char *target; /* the request target as received, for an observer */
    uint64_t id;  /* start order (zl_exchange.id) */
    int64_t t_start, wall_start;
    char *body;
    size_t len, cap;
    int too_large, dispatched, suspended, abort;
    struct MHD_Response *resp;
    unsigned status;
    size_t n_headers;
    const char **names, **values;
    char **extra_names, **extra_values; /* headers for the answer to come */
    size_t n_extra;
    zl_stream *stream; /* a streamed answer, until the connection is gone */
    char *qbuf;        /* the target's query, split and decoded (zl_request_query) */
    struct query_arg *query;
    size_t n_query;
    /* injected (zl_engine_inject; conn is NULL): its answer's receiver, whether it came from
     * loopback, whether it was answered, and the copies of its headers it owns */
    zl_inject_fn inject_done;
    void *inject_ud;
    int injected, loopback, answered;
    char **own;
    size_t n_own;
};

struct query_arg {
    const char *name, *value; /* value NULL: the argument had no '=' */
    size_t name_len;
};

struct zl_stream {
    zl_engine *e;
    zl_request *r; /* NULL once the connection is gone */
    char *buf;     /* queued bytes: buf[off..len) */
    size_t off, len, cap;
    int ended, aborted, parked; /* parked: suspended by the reader for want of bytes */
    zl_stream_closed_fn closed;
    void *ud;
};

#define MAX_CALL_HEADERS 32                 /* headers a call's answer keeps */
#define MAX_CALL_BODY    ((size_t)64 << 20) /* bytes of a call's answer; more fail the call (23) */

typedef struct h1conn h1conn; /* engine_h1.c: a connection to a program on this machine */

/* An outbound call in flight: libcurl's (h) or the engine's own HTTP/1.1 client's (direct). */
typedef struct call {
    struct call *prev, *next; /* the engine's calls in flight */
    CURL *h;                  /* libcurl's; NULL for a direct one */
    zl_http_fn fn;
    void *ud;
    struct curl_slist *headers; /* the caller's header lines, as given */
    char *req_body;
    char *body;
    size_t len, cap;
    size_t n_headers;
    char *names[MAX_CALL_HEADERS], *values[MAX_CALL_HEADERS];
    char errbuf[CURL_ERROR_SIZE];
    int64_t start;
    /* for an observer */
    uint64_t id;
    int64_t t_start;
    char *method, *url;
    size_t req_len;
    /* a direct call (engine_h1.c) */
    int direct;
    unsigned short port;
    h1conn *conn; /* the connection carrying it; NULL before and after */
    char *wbuf;   /* the request as sent: wbuf[woff..wlen) is still to write */
    size_t wlen, woff;
    int64_t deadline;       /* monotonic ms: CURLE_OPERATION_TIMEDOUT after it */
    int retried;            /* sent again once on a new connection (a kept one had died) */
    int code;               /* its result once done: a CURLcode */
    long status;            /* the answer's status, 0 before its headers */
    struct call *done_next; /* in the engine's list of direct calls done */
} call;

/* The easy handles kept for reuse (curl_easy_init and _cleanup cost as much as a small
 * exchange on a kept-alive connection); more than this in flight at once are freed when done. */
#define ZL_ENGINE_IDLE_HANDLES 64

struct zl_engine {
    struct MHD_Daemon *mhd;
    CURLM *multi;
    unsigned short port;
    zl_clock clock;
    uint64_t rng;
    size_t max_body;
    route routes[MAX_ROUTES];
    size_t n_routes;
    timer *timers; /* min-heap on (at, id) */
    size_t n_timers, cap_timers;
    uint64_t next_timer_id;
    zl_request *live;
    struct call *calls;
    struct call *done, *done_tail; /* direct calls ended, for zl_engine_finish_calls */
    h1conn **h1_by_fd;             /* the direct client's connections, by socket */
    size_t h1_fd_cap;
    h1conn *h1_idle; /* its connections kept open between calls, most recent first */
    size_t n_h1_idle;
    CURL *idle[ZL_ENGINE_IDLE_HANDLES]; /* finished calls' handles, reset, for the next calls */
    size_t n_idle;
    int epfd;         /* what the loop waits on: mhd_fd, wakefd and libcurl's sockets */
    int mhd_fd;       /* libmicrohttpd's epoll set */
    int wakefd;       /* an eventfd zl_engine_stop writes */
    int64_t curl_due; /* when libcurl wants its timeout handled (monotonic ms), -1 none */
    volatile int stopping;
    int mhd_dirty;
    zl_exchange_fn observe; /* NULL = none */
    void *observe_ud;
    uint64_t exchanges;      /* exchanges started, inbound and outbound */
    unsigned quiet_aborts;   /* connections closed on purpose whose MHD log line is expected */
    size_t injected_waiting; /* injected requests not answered yet */
};

/* Appends n bytes to a growable NUL-terminated buffer; 0, or -1 when memory runs out. */
int zl_engine_buf_append(char **buf, size_t *len, size_t *cap, const char *p, size_t n);
/* engine_h1.c, the direct client (http://127.0.0.1:PORT/...): starts c (its call fields set
 * by zl_engine_http) over a kept connection to port or a new one; 0, or -1 when memory ran out
 * (a failure to connect ends the call as libcurl's would, through the done list). */
int zl_h1_start(zl_engine *e, call *c, unsigned short port, const char *path,
                const zl_http_request *req);
/* Handles an epoll event on fd when fd is one of the direct client's: true; false otherwise. */
bool zl_h1_event(zl_engine *e, int fd, uint32_t events);
/* The earliest deadline of a direct call in flight (monotonic ms), -1 when none; and ends
 * those whose deadline is past at now. */
int64_t zl_h1_due(const zl_engine *e);
void zl_h1_expire(zl_engine *e, int64_t now);
/* Ends c's transport (its connection closed) when it is cancelled; and closes the kept
 * connections and frees the socket table (at shutdown). */
void zl_h1_cancel(zl_engine *e, call *c);
void zl_h1_free(zl_engine *e);

/* Hands every finished outbound call to its callback (each turn). */
void zl_engine_finish_calls(zl_engine *e);
/* Ends every call still in flight, each callback run once as cancelled, and frees the kept
 * handles (at shutdown). */
void zl_engine_cancel_calls(zl_engine *e);

/* engine.c: routes r (gates first) and has it answered; frees a request and unlinks it. */
void zl_engine_dispatch(zl_engine *e, zl_request *r);
void zl_engine_request_free(zl_request *r);
/* engine_request.c: r's headers from libmicrohttpd (nothing for an injected one), and its
 * target's query split; each 0, or -1 when memory runs out. */
int zl_engine_collect_headers(zl_request *r);
int zl_engine_query_parse(zl_request *r);
/* Decodes %XX in place (and '+' as a space when plus), as libmicrohttpd does; a '%' without
 * two hex digits is itself. Returns the decoded length. */
size_t zl_engine_unescape(char *p, int plus);
/* Frees the injected requests that were answered (their routes have returned since). */
void zl_engine_injected_sweep(zl_engine *e);

#endif
