/* zl_ack: the trivial zone program of ev_bench (docs/benchmarks.md): verifies each callback with
 * the SDK and answers it at once with an empty reply; no store, no fsync, no SDK call. */
#define _GNU_SOURCE
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone_sdk.h"

#define MAX_HEADERS 64
#define MAX_BODY    (1u << 20)

typedef struct request {
    char *body;
    size_t len;
    zone_header headers[MAX_HEADERS];
    size_t n_headers;
} request;

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *s)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(s), (void *)(uintptr_t)s, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, status, r);

    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    request *rq = cls;

    (void)kind;
    if (rq->n_headers < MAX_HEADERS) {
        rq->headers[rq->n_headers].name = key;
        rq->headers[rq->n_headers].value = value ? value : "";
        rq->n_headers++;
    }
    return MHD_YES;
}

/* The SDK's reply to the callback in rq: empty when it verified, an exception reply if not. */
static enum MHD_Result answer(struct MHD_Connection *c, request *rq)
{
    zone_callback *cb;
    zone_reply *reply = NULL;
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t i;

    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, rq);
    cb = zone_callback_new("POST", rq->headers, rq->n_headers, rq->body ? rq->body : "", rq->len);
    if (!cb || zone_callback_build_reply(cb, "", 0, &reply, NULL, 0) != ZONE_OK) {
        zone_callback_free(cb);
        return text(c, 500, "cannot build the reply\n");
    }
    r = MHD_create_response_from_buffer(reply->body_len, reply->body, MHD_RESPMEM_MUST_COPY);
    for (i = 0; i < reply->n_headers; i++)
        MHD_add_response_header(r, reply->headers[i].name, reply->headers[i].value);
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    zone_reply_free(reply);
    zone_callback_free(cb);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    request *rq = *con_cls;

    (void)cls, (void)url, (void)version;
    if (!rq) {
        *con_cls = rq = calloc(1, sizeof *rq);
        return rq ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        char *nb;

        if (rq->len + *upload_size > MAX_BODY || !(nb = realloc(rq->body, rq->len + *upload_size)))
            return MHD_NO;
        memcpy(nb + rq->len, upload, *upload_size);
        rq->body = nb;
        rq->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0)
        return text(c, 200, "ok\n");
    return answer(c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    request *rq = *con_cls;

    (void)cls, (void)c, (void)toe;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

int main(void)
{
    const char *p = getenv("ZONELAB_PORT");
    unsigned port = p && *p ? (unsigned)strtoul(p, NULL, 10) : 8080;
    struct MHD_Daemon *d;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC,
                         (uint16_t)port, NULL, NULL, on_request, NULL, MHD_OPTION_THREAD_POOL_SIZE,
                         2u, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "zl_ack: cannot listen on port %u\n", port);
        return 1;
    }
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
