/* engine_h1: the direct client, the engine's outbound HTTP/1.1 calls to programs on this
 * machine (http://127.0.0.1:PORT/...): its own sockets on the loop's epoll set, connections
 * kept open per port between calls, answers read with http-parser. libcurl carries every
 * other call (engine_http.c); on a delivered event its transfer machinery cost more CPU than
 * the rest of the emulator's work together (docs/benchmarks.md), which a program's callbacks
 * on loopback do not need.
 *
 * A caller sees what libcurl would have told it: the same CURLcode for the same failure
 * (refused 7, timed out 28, nothing answered 52, reset 56, ...), and a kept connection that
 * the program closed before answering is replaced once, as libcurl retries on a new one. */
#include "core/engine_int.h"

#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <http_parser.h>

#define READ_CHUNK     65536
#define MAX_HEADER_LEN 8192 /* of one answer header's name or value kept for the caller */

struct h1conn {
    int fd;
    unsigned short port;
    int connecting; /* connect() has not finished */
    int used;       /* carried a call before */
    int writing;    /* EPOLLOUT is in its epoll mask */
    size_t got;     /* bytes of the current answer received */
    int complete;   /* the current answer was read whole */
    int in_value;   /* the parser's last header piece was a value */
    int skipping;   /* past the headers a call keeps (MAX_CALL_HEADERS): not kept */
    call *c;        /* the call it carries; NULL when kept idle */
    h1conn *idle_next, *idle_prev;
    http_parser parser;
};

int64_t zl_h1_due(const zl_engine *e)
{
    int64_t due = -1;

    for (const call *c = e->calls; c; c = c->next)
        if (c->conn && (due < 0 || c->deadline < due))
            due = c->deadline;
    return due;
}

/* ---- connections ---- */

static int set_events(zl_engine *e, h1conn *k, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.fd = k->fd};

    return epoll_ctl(e->epfd, op, k->fd, &ev);
}

static void idle_unlink(zl_engine *e, h1conn *k)
{
    if (k->idle_prev)
        k->idle_prev->idle_next = k->idle_next;
    else
        e->h1_idle = k->idle_next;
    if (k->idle_next)
        k->idle_next->idle_prev = k->idle_prev;
    k->idle_next = k->idle_prev = NULL;
    e->n_h1_idle--;
}

/* Closes k (its socket leaves the epoll set with it) and frees it; k carries no call. */
static void conn_close(zl_engine *e, h1conn *k)
{
    if ((size_t)k->fd < e->h1_fd_cap)
        e->h1_by_fd[k->fd] = NULL;
    close(k->fd);
    free(k);
}

/* A kept connection to port, most recently used first; NULL when none. */
static h1conn *idle_take(zl_engine *e, unsigned short port)
{
    for (h1conn *k = e->h1_idle; k; k = k->idle_next)
        if (k->port == port) {
            idle_unlink(e, k);
            return k;
        }
    return NULL;
}

/* Keeps k for the next call to its port (it waits readable: a close or stray bytes end it),
 * or closes it when enough are kept. */
static void idle_put(zl_engine *e, h1conn *k)
{
    k->c = NULL;
    k->used = 1;
    if (e->n_h1_idle >= MAX_IDLE_CONNECTIONS) {
        conn_close(e, k);
        return;
    }
    if (k->writing) {
        if (set_events(e, k, EPOLLIN, EPOLL_CTL_MOD) != 0) {
            conn_close(e, k);
            return;
        }
        k->writing = 0;
    }
    k->idle_prev = NULL;
    if ((k->idle_next = e->h1_idle))
        e->h1_idle->idle_prev = k;
    e->h1_idle = k;
    e->n_h1_idle++;
}

/* A new connection to port, connect() started; NULL with errno set when it failed at once. */
static h1conn *conn_open(zl_engine *e, unsigned short port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    h1conn *k;
    int fd, one = 1, err;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return NULL;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if ((size_t)fd >= e->h1_fd_cap) {
        size_t cap = e->h1_fd_cap ? e->h1_fd_cap : 64;
        h1conn **t;

        while (cap <= (size_t)fd)
            cap *= 2;
        if (!(t = realloc(e->h1_by_fd, cap * sizeof *t))) {
            close(fd);
            errno = ENOMEM;
            return NULL;
        }
        memset(t + e->h1_fd_cap, 0, (cap - e->h1_fd_cap) * sizeof *t);
        e->h1_by_fd = t;
        e->h1_fd_cap = cap;
    }
    if (!(k = calloc(1, sizeof *k))) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    k->fd = fd;
    k->port = port;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (errno != EINPROGRESS) {
            err = errno;
            close(fd);
            free(k);
            errno = err;
            return NULL;
        }
        k->connecting = 1;
    }
    /* written to at once when connected; EPOLLOUT tells when connect() ends otherwise */
    k->writing = 1;
    if (set_events(e, k, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD) != 0) {
        err = errno;
        close(fd);
        free(k);
        errno = err;
        return NULL;
    }
    e->h1_by_fd[fd] = k;
    return k;
}

/* ---- a call's end ---- */

static int headers_whole(call *c);

/* Ends c (its code and text set, 0 for an answer); its connection is kept when keep, closed
 * otherwise. c goes to the done list, for zl_engine_finish_calls. */
static void end(zl_engine *e, call *c, int keep)
{
    h1conn *k = c->conn;

    (void)headers_whole(c); /* what the caller reads is whole, whatever ended the answer */
    c->conn = NULL;
    if (k) {
        k->c = NULL;
        if (keep)
            idle_put(e, k);
        else
            conn_close(e, k);
    }
    c->done_next = NULL;
    if (e->done_tail)
        e->done_tail->done_next = c;
    else
        e->done = c;
    e->done_tail = c;
}

/* Ends c with libcurl's code for its failure and a text for it; its connection is closed. */
__attribute__((format(printf, 4, 0))) static void vfail(zl_engine *e, call *c, int code,
                                                        const char *fmt, va_list ap)
{
    vsnprintf(c->errbuf, sizeof c->errbuf, fmt, ap);
    c->code = code;
    end(e, c, 0);
}

__attribute__((format(printf, 4, 5))) static void fail(zl_engine *e, call *c, int code,
                                                       const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(e, c, code, fmt, ap);
    va_end(ap);
}

/* Ends c as a connection to its port that could not be made (err, an errno). */
static void refused(zl_engine *e, call *c, int err)
{
    fail(e, c, CURLE_COULDNT_CONNECT, "Failed to connect to 127.0.0.1 port %u after %lld ms: %s",
         (unsigned)c->port, (long long)(zl_clock_wall_ms(&e->clock) - c->start), strerror(err));
}

/* ---- the answer ---- */

static int append(char **s, const char *p, size_t n)
{
    size_t have = *s ? strlen(*s) : 0;
    char *t;

    if (have + n > MAX_HEADER_LEN)
        n = have < MAX_HEADER_LEN ? MAX_HEADER_LEN - have : 0;
    if (!(t = realloc(*s, have + n + 1)))
        return -1;
    memcpy(t + have, p, n);
    t[have + n] = '\0';
    *s = t;
    return 0;
}

static void headers_clear(h1conn *k)
{
    call *c = k->c;

    for (size_t i = 0; i < c->n_headers; i++) {
        free(c->names[i]);
        free(c->values[i]);
        c->names[i] = c->values[i] = NULL;
    }
    c->n_headers = 0;
    k->in_value = k->skipping = 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    h1conn *k = p->data;
    call *c = k->c;

    if (c->n_headers == 0 || k->in_value) { /* a new header */
        k->in_value = 0;
        if ((k->skipping = c->n_headers == MAX_CALL_HEADERS)) /* the first ones are kept */
            return 0;
        c->n_headers++;
    }
    return k->skipping || !append(&c->names[c->n_headers - 1], at, n) ? 0 : -1;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    h1conn *k = p->data;
    call *c = k->c;

    if (c->n_headers == 0)
        return 0;
    k->in_value = 1;
    return k->skipping || !append(&c->values[c->n_headers - 1], at, n) ? 0 : -1;
}

/* Every header kept has a name and a value (an answer cut or refused in its headers leaves
 * the last one half read), trimmed at the end as libcurl's header lines are; 0, or -1 when
 * memory ran out (the headers then end before the one that could not be made whole). */
static int headers_whole(call *c)
{
    for (size_t i = 0; i < c->n_headers; i++) {
        size_t n;

        if ((!c->names[i] && append(&c->names[i], "", 0)) ||
            (!c->values[i] && append(&c->values[i], "", 0))) {
            for (size_t j = i; j < c->n_headers; j++) {
                free(c->names[j]);
                free(c->values[j]);
                c->names[j] = c->values[j] = NULL;
            }
            c->n_headers = i;
            return -1;
        }
        n = strlen(c->values[i]);
        while (n > 0 && (c->values[i][n - 1] == ' ' || c->values[i][n - 1] == '\t'))
            c->values[i][--n] = '\0';
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    call *c = ((h1conn *)p->data)->c;

    if (headers_whole(c) != 0)
        return -1;
    c->status = (long)p->status_code;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    call *c = ((h1conn *)p->data)->c;

    if (c->len + n > MAX_CALL_BODY)
        return -1;
    return zl_engine_buf_append(&c->body, &c->len, &c->cap, at, n) == 0 ? 0 : -1;
}

static int on_message_complete(http_parser *p)
{
    h1conn *k = p->data;

    if (p->status_code >= 100 && p->status_code < 200) { /* an interim answer: the next one */
        headers_clear(k);
        k->c->status = 0;
        return 0;
    }
    k->complete = 1;
    http_parser_pause(p, 1); /* nothing after it is this call's */
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- sending ---- */

static void start_on(zl_engine *e, call *c, h1conn *k);

/* c's connection died before any byte of its answer: a kept one is replaced once (libcurl's
 * retry of a reused connection); a new one ends c with code and the text fmt makes. */
__attribute__((format(printf, 4, 5))) static void died(zl_engine *e, call *c, int code,
                                                       const char *fmt, ...)
{
    h1conn *k = c->conn, *fresh;

    if (!k->used || c->retried || k->got > 0) {
        va_list ap;

        va_start(ap, fmt);
        vfail(e, c, code, fmt, ap);
        va_end(ap);
        return;
    }
    c->retried = 1;
    c->conn = NULL;
    k->c = NULL;
    conn_close(e, k);
    if (!(fresh = conn_open(e, c->port)))
        refused(e, c, errno);
    else
        start_on(e, c, fresh);
}

/* After a failed send: a program may answer before it has read the whole request (an early
 * 413) and close; an answer that came whole is c's. True when c ended so. */
static bool answered_early(zl_engine *e, call *c)
{
    h1conn *k = c->conn;
    char buf[READ_CHUNK];

    for (;;) {
        ssize_t n = recv(k->fd, buf, sizeof buf, MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            k->got += (size_t)n;
            http_parser_execute(&k->parser, &parser_settings, buf, (size_t)n);
        } else if (k->got > 0) { /* the end: an answer that ends with the connection ends */
            http_parser_execute(&k->parser, &parser_settings, NULL, 0);
        }
        if (k->complete) {
            end(e, c, 0);
            return true;
        }
        if (n <= 0 || HTTP_PARSER_ERRNO(&k->parser) != HPE_OK)
            return false;
    }
}

/* Writes what is left of c's request; waits for EPOLLOUT when the socket is full. */
static void write_some(zl_engine *e, call *c)
{
    h1conn *k = c->conn;

    while (c->woff < c->wlen) {
        ssize_t n = send(k->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);

        if (n > 0) {
            c->woff += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!k->writing) {
                if (set_events(e, k, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD) != 0) {
                    fail(e, c, CURLE_SEND_ERROR, "Send failure: cannot watch the socket");
                    return;
                }
                k->writing = 1;
            }
            return;
        }
        {
            int err = n < 0 ? errno : EPIPE;

            if (!answered_early(e, c))
                died(e, c, CURLE_SEND_ERROR, "Send failure: %s", strerror(err));
        }
        return;
    }
    if (k->writing) { /* all out: the answer is what it waits for */
        if (set_events(e, k, EPOLLIN, EPOLL_CTL_MOD) != 0) {
            fail(e, c, CURLE_RECV_ERROR, "Recv failure: cannot watch the socket");
            return;
        }
        k->writing = 0;
    }
}

/* Puts c on k and starts sending (k connected, or its connect() under way). */
static void start_on(zl_engine *e, call *c, h1conn *k)
{
    c->conn = k;
    k->c = c;
    k->got = 0;
    k->complete = 0;
    c->woff = 0;
    c->status = 0;
    headers_clear(k);
    free(c->body);
    c->body = NULL;
    c->len = c->cap = 0;
    http_parser_init(&k->parser, HTTP_RESPONSE);
    k->parser.data = k;
    if (!k->connecting)
        write_some(e, c);
}

int zl_h1_start(zl_engine *e, call *c, unsigned short port, const char *path,
                const zl_http_request *req)
{
    static const char *const defaults[] = {"Host", "Accept", "Content-Type"};
    int suppressed[3] = {0}, post = c->req_body != NULL;
    const char *default_lines[3] = {NULL, "Accept: */*",
                                    "Content-Type: application/x-www-form-urlencoded"};
    char host[32], clen[48];
    size_t need, i, at = 0;
    h1conn *k;

    c->port = port;
    c->deadline = zl_clock_mono_ms() + (req->timeout_ms > 0 ? req->timeout_ms : 5000L);
    snprintf(host, sizeof host, "Host: 127.0.0.1:%u", (unsigned)port);
    default_lines[0] = host;
    snprintf(clen, sizeof clen, "Content-Length: %zu", c->req_len);
    /* libcurl's request: its Host and Accept, the caller's lines ("Name:" alone drops the
     * header of that name), Content-Length and its default Content-Type for a POST */
    for (i = 0; i < req->n_headers; i++) {
        const char *h = req->headers[i], *colon = strchr(h, ':');

        for (size_t d = 0; d < 3 && colon; d++) {
            size_t n = strlen(defaults[d]);

            if ((size_t)(colon - h) == n && !strncasecmp(h, defaults[d], n))
                suppressed[d] = 1;
        }
    }
    need = strlen(c->method) + 1 + strlen(path) + sizeof " HTTP/1.1\r\n" + 2;
    for (i = 0; i < 3; i++)
        if (!suppressed[i] && (i < 2 || post))
            need += strlen(default_lines[i]) + 2;
    for (i = 0; i < req->n_headers; i++)
        need += strlen(req->headers[i]) + 2;
    if (post)
        need += strlen(clen) + 2 + c->req_len;
    if (!(c->wbuf = malloc(need + 1)))
        return -1;
    at += (size_t)sprintf(c->wbuf + at, "%s %s HTTP/1.1\r\n", c->method, path);
    for (i = 0; i < 2; i++)
        if (!suppressed[i])
            at += (size_t)sprintf(c->wbuf + at, "%s\r\n", default_lines[i]);
    for (i = 0; i < req->n_headers; i++) {
        const char *h = req->headers[i];
        size_t n = strlen(h);

        if (n > 0 && h[n - 1] == ':') /* "Name:": libcurl sends no such header */
            continue;
        memcpy(c->wbuf + at, h, n);
        at += n;
        memcpy(c->wbuf + at, "\r\n", 2);
        at += 2;
    }
    if (post) {
        if (!suppressed[2])
            at += (size_t)sprintf(c->wbuf + at, "%s\r\n", default_lines[2]);
        at += (size_t)sprintf(c->wbuf + at, "%s\r\n", clen);
    }
    memcpy(c->wbuf + at, "\r\n", 2);
    at += 2;
    if (post && c->req_len) {
        memcpy(c->wbuf + at, c->req_body, c->req_len);
        at += c->req_len;
    }
    c->wlen = at;
    if (!(k = idle_take(e, port)) && !(k = conn_open(e, port))) {
        if (errno == ENOMEM)
            return -1;
        refused(e, c, errno);
        return 0;
    }
    start_on(e, c, k);
    return 0;
}

/* ---- events ---- */

/* Reads what k's socket has; ends its call when the answer is whole or the connection died. */
static void read_some(zl_engine *e, h1conn *k)
{
    char buf[READ_CHUNK];
    call *c = k->c;

    for (;;) {
        ssize_t n = recv(k->fd, buf, sizeof buf, 0);
        size_t used;

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            died(e, c, CURLE_RECV_ERROR, "Recv failure: %s", strerror(errno));
            return;
        }
        if (n == 0) { /* the program closed: an answer that ends with the connection ends now */
            if (k->got == 0) {
                died(e, c, CURLE_GOT_NOTHING, "Empty reply from server");
                return;
            }
            http_parser_execute(&k->parser, &parser_settings, NULL, 0);
            if (k->complete) {
                end(e, c, 0);
            } else if (c->status) {
                fail(e, c, CURLE_PARTIAL_FILE,
                     "transfer closed with outstanding read data remaining");
            } else {
                fail(e, c, CURLE_GOT_NOTHING,
                     "Empty reply from server (closed before the answer's headers ended)");
            }
            return;
        }
        k->got += (size_t)n;
        used = http_parser_execute(&k->parser, &parser_settings, buf, (size_t)n);
        if (k->complete) {
            /* kept for the next call unless the program said close, sent more than the one
             * answer (bytes no request asked for), or answered before the request was all
             * written (the rest of it would come before the next request) */
            end(e, c,
                used == (size_t)n && c->woff == c->wlen && http_should_keep_alive(&k->parser));
            return;
        }
        if (HTTP_PARSER_ERRNO(&k->parser) != HPE_OK) {
            enum http_errno err = HTTP_PARSER_ERRNO(&k->parser);

            if (err == HPE_CB_body && c->len > 0)
                fail(e, c, CURLE_WRITE_ERROR, "Failure writing output to destination");
            else if (err == HPE_CB_body || err == HPE_CB_header_field ||
                     err == HPE_CB_header_value || err == HPE_CB_headers_complete)
                fail(e, c, CURLE_OUT_OF_MEMORY, "out of memory reading the answer");
            else
                fail(e, c, CURLE_WEIRD_SERVER_REPLY, "Weird server reply: %s",
                     http_errno_description(err));
            return;
        }
    }
}

bool zl_h1_event(zl_engine *e, int fd, uint32_t events)
{
    h1conn *k;

    if (fd < 0 || (size_t)fd >= e->h1_fd_cap || !(k = e->h1_by_fd[fd]))
        return false;
    if (!k->c) { /* kept idle: the program closed it, or said something nobody asked */
        idle_unlink(e, k);
        conn_close(e, k);
        return true;
    }
    if (k->connecting) {
        int err = 0;
        socklen_t len = sizeof err;

        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return true;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0) {
            refused(e, k->c, err);
            return true;
        }
        k->connecting = 0;
        write_some(e, k->c);
        return true;
    }
    if ((events & EPOLLOUT) && k->c->woff < k->c->wlen) {
        write_some(e, k->c);
        if (e->h1_by_fd[fd] != k || !k->c)
            return true;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        read_some(e, k);
    return true;
}

void zl_h1_expire(zl_engine *e, int64_t now)
{
    call *c, *next;

    for (c = e->calls; c; c = next) {
        next = c->next;
        if (c->conn && c->deadline <= now)
            fail(e, c, CURLE_OPERATION_TIMEDOUT,
                 "Operation timed out after %lld milliseconds with %zu bytes received",
                 (long long)(zl_clock_wall_ms(&e->clock) - c->start), c->len);
    }
}

void zl_h1_cancel(zl_engine *e, call *c)
{
    h1conn *k = c->conn;

    if (!k)
        return;
    c->conn = NULL;
    k->c = NULL;
    conn_close(e, k);
}

void zl_h1_free(zl_engine *e)
{
    while (e->h1_idle) {
        h1conn *k = e->h1_idle;

        idle_unlink(e, k);
        conn_close(e, k);
    }
    free(e->h1_by_fd);
    e->h1_by_fd = NULL;
    e->h1_fd_cap = 0;
}
