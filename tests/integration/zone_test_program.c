/* zone_test_program: a small zone program in C on libzonesdk, with abilities that make the
 * emulator meet every outcome a real program can produce. Listens on $ZONELAB_PORT (8080).
 *
 *   invoke_<api>        proxies request_data to SDK API <api> and returns its reply
 *   get_callback_data   returns the event stored under the call's notify_id (this replica only)
 *   whoami              {"instance": ZONELAB_INSTANCE}
 *   behave              request {"mode": M}: ok | not_json | mismatch | status500 | garbage | slow
 *   async_score         async: answers at once, reports {"score":N} 300 ms later (after a
 *                       report that is not JSON, and followed by a second report)
 *   events              stored under a fresh notify id, then spec_notify_app (scene 7)
 */
#define _GNU_SOURCE
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "zone_sdk.h"

#define MAX_HEADERS 64
#define MAX_EVENTS  256

typedef struct request {
    char *body;
    size_t len;
    zone_header headers[MAX_HEADERS];
    size_t n_headers;
} request;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *notify_id;
    char *data;
} events[MAX_EVENTS];
static size_t n_events;

static void store_event(const char *notify_id, const char *data)
{
    pthread_mutex_lock(&lock);
    if (n_events == MAX_EVENTS) {
        free(events[0].notify_id);
        free(events[0].data);
        memmove(events, events + 1, sizeof events[0] * (MAX_EVENTS - 1));
        n_events--;
    }
    events[n_events].notify_id = strdup(notify_id);
    events[n_events].data = strdup(data);
    n_events++;
    pthread_mutex_unlock(&lock);
}

static char *find_event(const char *notify_id)
{
    char *out = NULL;
    size_t i;

    pthread_mutex_lock(&lock);
    for (i = 0; i < n_events; i++)
        if (!strcmp(events[i].notify_id, notify_id))
            out = strdup(events[i].data);
    pthread_mutex_unlock(&lock);
    return out;
}

typedef struct job {
    char *corpid, *job_info;
    uint32_t agentid;
    int score;
} job;

static void *report_later(void *arg)
{
    job *j = arg;
    zone_sdk *s;
    char req[128], *rsp = NULL, err[256];
    struct timespec d = {0, 300 * 1000000L};
    int rc;

    nanosleep(&d, NULL);
    s = zone_sdk_new(j->corpid, j->agentid, "async_score", j->job_info);
    /* A result that is not JSON (refused, the job stays pending), the real one, then a
     * second report of a finished job (refused): the journal shows all three. */
    for (int k = 0; k < 3; k++) {
        if (k == 0)
            snprintf(req, sizeof req, "{\"errcode\":0,\"result\":\"{score\"}");
        else
            snprintf(req, sizeof req, "{\"errcode\":0,\"result\":\"{\\\"score\\\":%d}\"}",
                     j->score);
        rc = zone_sdk_invoke(s, "program_async_job_call_back", req, &rsp, err, sizeof err);
        ZONE_LOG_INFO("program_async_job_call_back rc=%d %s", rc, rc ? err : rsp);
        zone_string_free(rsp);
        rsp = NULL;
    }
    zone_sdk_free(s);
    free(j->corpid);
    free(j->job_info);
    free(j);
    return NULL;
}

/* The business logic: returns an owned response text, or sets *status / *raw for faults. */
static char *handle(zone_callback *cb, unsigned *status, int *raw)
{
    const char *ability = zone_callback_ability_id(cb), *data = zone_callback_data(cb);
    char *rsp = NULL, err[256], *out;
    cJSON *req;
    int rc;

    if (zone_callback_call_type(cb) == 2) {
        char *nid = zone_generate_notify_id(), body[160];
        zone_sdk *s = zone_sdk_new_from_callback(cb);

        store_event(nid, data);
        snprintf(body, sizeof body, "{\"notify_id\":\"%s\",\"notify_scene\":7}", nid);
        rc = zone_sdk_invoke(s, "spec_notify_app", body, &rsp, err, sizeof err);
        ZONE_LOG_INFO("event stored as %s; spec_notify_app rc=%d", nid, rc);
        zone_string_free(rsp);
        zone_string_free(nid);
        zone_sdk_free(s);
        return strdup("{\"errcode\":0,\"errmsg\":\"ok\"}");
    }
    if (!strncmp(ability, "invoke_", 7)) {
        zone_sdk *s = zone_sdk_new_from_callback(cb);

        rc = zone_sdk_invoke(s, ability + 7, data, &rsp, err, sizeof err);
        zone_sdk_free(s);
        if (rc != ZONE_OK) {
            ZONE_LOG_ERROR("invoke %s rc=%d %s", ability + 7, rc, err);
            return strdup("{\"errcode\":710660,\"errmsg\":\"sample image internal error\"}");
        }
        out = strdup(rsp);
        zone_string_free(rsp);
        return out;
    }
    if (!strcmp(ability, "get_callback_data")) {
        out = find_event(zone_callback_notify_id(cb));
        return out ? out
                   : strdup("{\"errcode\":710660,\"errmsg\":\"no event for this notify_id\"}");
    }
    if (!strcmp(ability, "whoami")) {
        const char *inst = getenv("ZONELAB_INSTANCE");

        if (asprintf(&out, "{\"instance\":\"%s\"}", inst ? inst : "") < 0)
            return NULL;
        return out;
    }
    if (!strcmp(ability, "async_score")) {
        job *j = calloc(1, sizeof *j);
        const cJSON *sc;
        pthread_t t;

        req = cJSON_Parse(data);
        sc = cJSON_GetObjectItemCaseSensitive(req, "score");
        j->score = cJSON_IsNumber(sc) ? sc->valueint : 0;
        cJSON_Delete(req);
        j->corpid = strdup(zone_callback_corpid(cb));
        j->job_info = strdup(zone_callback_job_info(cb));
        j->agentid = zone_callback_agentid(cb);
        if (pthread_create(&t, NULL, report_later, j) == 0)
            pthread_detach(t);
        return strdup("{}");
    }
    if (!strcmp(ability, "behave")) {
        const cJSON *m;
        const char *mode;

        req = cJSON_Parse(data);
        m = cJSON_GetObjectItemCaseSensitive(req, "mode");
        mode = cJSON_IsString(m) ? m->valuestring : "ok";
        out = NULL;
        if (!strcmp(mode, "not_json")) {
            out = strdup("this is not json");
        } else if (!strcmp(mode, "mismatch")) {
            out = strdup("{\"ok\":\"yes\"}");
        } else if (!strcmp(mode, "status500")) {
            *status = 500;
        } else if (!strcmp(mode, "garbage")) {
            *raw = 1;
        } else if (!strcmp(mode, "slow")) {
            struct timespec d = {1, 500 * 1000000L};

            nanosleep(&d, NULL);
            out = strdup("{\"ok\":1}");
        } else {
            out = strdup("{\"ok\":1}");
        }
        cJSON_Delete(req);
        return out ? out : strdup("");
    }
    return strdup("{\"errcode\":710660,\"errmsg\":\"unknown ability\"}");
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    request *rq = *con_cls;
    zone_callback *cb;
    zone_reply *reply = NULL;
    struct MHD_Response *resp;
    unsigned status = 200;
    int raw = 0;
    char *text;
    size_t i;
    enum MHD_Result ret;

    (void)cls, (void)url, (void)version;
    if (!rq) {
        *con_cls = calloc(1, sizeof *rq);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        char *nb = realloc(rq->body, rq->len + *upload_size + 1);

        if (!nb)
            return MHD_NO;
        memcpy(nb + rq->len, upload, *upload_size);
        rq->body = nb;
        rq->len += *upload_size;
        rq->body[rq->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, rq);
    cb = zone_callback_new(method, rq->headers, rq->n_headers, rq->body ? rq->body : "", rq->len);
    text = zone_callback_ok(cb) ? handle(cb, &status, &raw) : strdup("");
    if (raw) {
        static char junk[] = "not a sealed reply";

        resp = MHD_create_response_from_buffer(sizeof junk - 1, junk, MHD_RESPMEM_PERSISTENT);
    } else if (status != 200) {
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    } else {
        zone_callback_build_reply(cb, text ? text : "", text ? strlen(text) : 0, &reply, NULL, 0);
        resp = MHD_create_response_from_buffer(reply ? reply->body_len : 0,
                                               reply ? reply->body : NULL, MHD_RESPMEM_MUST_COPY);
        for (i = 0; reply && i < reply->n_headers; i++)
            MHD_add_response_header(resp, reply->headers[i].name, reply->headers[i].value);
    }
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    zone_reply_free(reply);
    free(text);
    zone_callback_free(cb);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    request *rq = *con_cls;

    (void)cls, (void)c, (void)toe;
    if (rq) {
        free(rq->body);
        free(rq);
    }
    *con_cls = NULL;
}

int main(void)
{
    const char *p = getenv("ZONELAB_PORT");
    unsigned port = p ? (unsigned)atoi(p) : 8080;
    struct MHD_Daemon *d;
    sigset_t set;
    size_t i;
    int sig;

    /* Blocked before any thread starts, so only sigwait below takes them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                         (uint16_t)port, NULL, NULL, on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, NULL, MHD_OPTION_END);
    if (!d) {
        ZONE_LOG_ERROR("cannot listen on port %u", port);
        return 1;
    }
    ZONE_LOG_INFO("listening on port %u", port);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    for (i = 0; i < n_events; i++) {
        free(events[i].notify_id);
        free(events[i].data);
    }
    return 0;
}
