/* server: zone-demo's HTTP side. libmicrohttpd with a thread pool; POST / goes through the SDK
 * (headers exactly as received), GET /healthz answers "ok", anything else 405 or 404. */
#define _GNU_SOURCE
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zd_main.h"
#include "zone_sdk.h"

#define MAX_HEADERS 100

struct zd_server {
    struct MHD_Daemon *d;
    const zd_config *cfg;
    zd_app *app;
    pthread_mutex_t lock;
    unsigned in_flight;
};

typedef struct request {
    char *body;
    size_t len;
    bool too_big;
    zone_header headers[MAX_HEADERS];
    size_t n_headers;
} request;

static enum MHD_Result plain(struct MHD_Connection *c, unsigned status, const char *text,
                             const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Content-Type", "text/plain");
    if (allow)
        MHD_add_response_header(r, "Allow", allow);
    ret = MHD_queue_response(c, status, r);
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

/* Verifies through the SDK, handles, answers with the SDK-built reply (an exception reply
 * when it did not verify). */
static enum MHD_Result answer(zd_server *s, struct MHD_Connection *c, request *rq)
{
    zone_callback *cb;
    zone_reply *reply = NULL;
    struct MHD_Response *r;
    char *text = NULL, err[256];
    enum MHD_Result ret;
    size_t i;

    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, rq);
    cb = zone_callback_new("POST", rq->headers, rq->n_headers, rq->body ? rq->body : "", rq->len);
    if (!cb)
        return plain(c, 500, "out of memory\n", NULL);
    if (zone_callback_ok(cb)) {
        zd_request zr = {.call_type = zone_callback_call_type(cb),
                         .corpid = zone_callback_corpid(cb),
                         .agentid = zone_callback_agentid(cb),
                         .ability_id = zone_callback_ability_id(cb),
                         .notify_id = zone_callback_notify_id(cb),
                         .job_info = zone_callback_job_info(cb),
                         .is_async = zone_callback_is_async(cb) != 0,
                         .data = zone_callback_data(cb)};

        text = zd_handle(s->app, &zr);
    } else {
        ZONE_LOG_ERROR("request refused by the SDK: %s", zone_callback_error(cb));
    }
    if (zone_callback_build_reply(cb, text ? text : "", text ? strlen(text) : 0, &reply, err,
                                  sizeof err) != ZONE_OK) {
        ZONE_LOG_ERROR("cannot build the reply: %s", err);
        free(text);
        zone_callback_free(cb);
        return plain(c, 500, "cannot build the reply\n", NULL);
    }
    r = MHD_create_response_from_buffer(reply->body_len, reply->body, MHD_RESPMEM_MUST_COPY);
    for (i = 0; i < reply->n_headers; i++)
        MHD_add_response_header(r, reply->headers[i].name, reply->headers[i].value);
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    zone_reply_free(reply);
    free(text);
    zone_callback_free(cb);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    zd_server *s = cls;
    request *rq = *con_cls;

    (void)version;
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq)))
            return MHD_NO;
        *con_cls = rq;
        pthread_mutex_lock(&s->lock);
        s->in_flight++;
        pthread_mutex_unlock(&s->lock);
        return MHD_YES;
    }
    if (*upload_size) { /* the body arrives in pieces; the answer comes after the last */
        if (strcmp(method, "POST") != 0) {
            *upload_size = 0; /* read and dropped: it gets 405 */
            return MHD_YES;
        }
        if (!rq->too_big && rq->len + *upload_size > s->cfg->max_body) {
            rq->too_big = true;
            free(rq->body);
            rq->body = NULL;
            rq->len = 0;
        }
        if (!rq->too_big) {
            char *nb = realloc(rq->body, rq->len + *upload_size + 1);

            if (!nb)
                return MHD_NO;
            memcpy(nb + rq->len, upload, *upload_size);
            rq->body = nb;
            rq->len += *upload_size;
            rq->body[rq->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0) {
        if (!strcmp(method, "GET") && !strcmp(url, "/healthz"))
            return plain(c, 200, "ok\n", NULL);
        return plain(c, 405, "zone-demo takes POST /\n", "POST");
    }
    if (strcmp(url, "/") != 0)
        return plain(c, 404, "zone-demo serves POST /\n", NULL);
    if (rq->too_big) {
        ZONE_LOG_ERROR("request body over %zu bytes refused", s->cfg->max_body);
        return plain(c, 413, "request body too large\n", NULL);
    }
    return answer(s, c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    zd_server *s = cls;
    request *rq = *con_cls;

    (void)c, (void)toe;
    if (!rq)
        return;
    free(rq->body);
    free(rq);
    *con_cls = NULL;
    pthread_mutex_lock(&s->lock);
    s->in_flight--;
    pthread_mutex_unlock(&s->lock);
}

zd_server *zd_server_start(const zd_config *cfg, zd_app *app, char *err, size_t errlen)
{
    zd_server *s = calloc(1, sizeof *s);

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->app = app;
    pthread_mutex_init(&s->lock, NULL);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC,
                            (uint16_t)cfg->port, NULL, NULL, on_request, s,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->queue,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen, "cannot listen on port %u", cfg->port);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

void zd_server_stop(zd_server *s, unsigned grace_s)
{
    MHD_socket fd;
    unsigned waited = 0, left;

    if (!s)
        return;
    fd = MHD_quiesce_daemon(s->d); /* no new connections; those in flight go on */
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    for (;;) {
        pthread_mutex_lock(&s->lock);
        left = s->in_flight;
        pthread_mutex_unlock(&s->lock);
        if (left == 0 || waited >= grace_s * 100)
            break;
        usleep(10000);
        waited++;
    }
    if (left)
        ZONE_LOG_ERROR("stopping with %u requests still in flight after %u s", left, grace_s);
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
