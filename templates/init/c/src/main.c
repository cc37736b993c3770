/* @PROGRAM_ID@: a zone program in C on zone_sdk.h, the C face of the zone SDK. It listens on
 * 8080 (all addresses), verifies each request with zone_callback_new, answers through
 * zone_callback_build_reply, and calls WeCom with zone_sdk_invoke.
 *
 * Abilities (world.json declares them, with their input and output protocols):
 *   hello              {"name":""} -> {"errcode":0,"errmsg":"","greeting":""}
 *   invoke_sync_msg    request_data is sync_msg's request; the reply is sync_msg's reply
 *   get_callback_data  the event stored under the call's notify_id
 * Events (call_type 2): each is stored durably under a fresh notify_id first (written,
 * fsynced, renamed), then the app is told with spec_notify_app, so the app's
 * get_callback_data with that notify_id finds it on this machine even after a crash.
 *
 * Built against zonelab's fake SDK by default; -DZONE_SDK=vendor links the vendor's through
 * zonelab's adapter. */
#define _GNU_SOURCE
#include <zone_sdk.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BODY    (64u << 20)
#define MAX_HEADERS 64

static char data_dir[4096] = "data"; /* DATA_DIR, or ZONELAB_WORK_DIR/data under zonelab */

/* {"errcode":N,"errmsg":msg}; owned. */
static char *error_reply(int errcode, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    char *s;

    cJSON_AddNumberToObject(o, "errcode", errcode);
    cJSON_AddStringToObject(o, "errmsg", msg);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int safe_id(const char *id)
{
    size_t i, n = strlen(id);

    if (n == 0 || n > 64)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]))
            return 0;
    return 1;
}

/* Stores data under notify_id durably: a temporary file, written and fsynced, renamed, and
 * the folder fsynced. Returns 0 when it is on disk. */
static int store_event(const char *notify_id, const char *data)
{
    char path[4200], tmp[4300];
    size_t len = strlen(data);
    int fd, dir, rc = -1;

    snprintf(path, sizeof path, "%s/%s.event", data_dir, notify_id);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
        return -1;
    if (write(fd, data, len) == (ssize_t)len && fsync(fd) == 0)
        rc = 0;
    if (close(fd) != 0 || rc != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    if ((dir = open(data_dir, O_RDONLY | O_DIRECTORY)) < 0)
        return -1;
    rc = fsync(dir);
    close(dir);
    return rc;
}

/* The event stored under notify_id, owned; NULL when none is. */
static char *load_event(const char *notify_id)
{
    char path[4200], *buf = NULL;
    size_t len = 0;
    FILE *f, *mem;
    int c;

    if (!safe_id(notify_id))
        return NULL;
    snprintf(path, sizeof path, "%s/%s.event", data_dir, notify_id);
    if (!(f = fopen(path, "rb")))
        return NULL;
    if ((mem = open_memstream(&buf, &len))) {
        while ((c = fgetc(f)) != EOF)
            fputc(c, mem);
        fclose(mem);
    }
    fclose(f);
    return buf;
}

/* An event: stored first, then the app notified; WeCom only needs to hear that it arrived. */
static char *on_event(const zone_callback *cb)
{
    char *notify_id = zone_generate_notify_id(), req[128], *rsp = NULL, err[256];
    zone_sdk *sdk;
    int rc;

    if (!notify_id || store_event(notify_id, zone_callback_data(cb)) != 0) {
        ZONE_LOG_ERROR("cannot store the event: %s", strerror(errno));
        zone_string_free(notify_id);
        return error_reply(710660, "the event could not be stored");
    }
    snprintf(req, sizeof req, "{\"notify_id\":\"%s\",\"notify_scene\":1}", notify_id);
    sdk = zone_sdk_new(zone_callback_corpid(cb), zone_callback_agentid(cb), "", "");
    rc = zone_sdk_invoke(sdk, "spec_notify_app", req, &rsp, err, sizeof err);
    if (rc != ZONE_OK)
        ZONE_LOG_ERROR("spec_notify_app failed (%d): %s", rc, err);
    else
        ZONE_LOG_INFO("event stored under %s, app notified", notify_id);
    zone_string_free(rsp);
    zone_sdk_free(sdk);
    zone_string_free(notify_id);
    return error_reply(0, "ok");
}

/* An app's call to one of the abilities. */
static char *on_call(const zone_callback *cb)
{
    const char *ability = zone_callback_ability_id(cb);
    char *rsp = NULL, err[256];

    if (!strcmp(ability, "hello")) {
        cJSON *in = cJSON_Parse(zone_callback_data(cb)), *out = cJSON_CreateObject();
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
        char greeting[600];

        snprintf(greeting, sizeof greeting, "hello, %.500s",
                 cJSON_IsString(name) && *name->valuestring ? name->valuestring : "world");
        cJSON_AddNumberToObject(out, "errcode", 0);
        cJSON_AddStringToObject(out, "errmsg", "");
        cJSON_AddStringToObject(out, "greeting", greeting);
        rsp = cJSON_PrintUnformatted(out);
        cJSON_Delete(in);
        cJSON_Delete(out);
        return rsp;
    }
    if (!strcmp(ability, "invoke_sync_msg")) {
        zone_sdk *sdk = zone_sdk_new_from_callback(cb);
        int rc = zone_sdk_invoke(sdk, "sync_msg", zone_callback_data(cb), &rsp, err, sizeof err);

        zone_sdk_free(sdk);
        if (rc != ZONE_OK) {
            ZONE_LOG_ERROR("sync_msg failed (%d): %s", rc, err);
            return error_reply(710660, "sync_msg failed");
        }
        {
            char *copy = strdup(rsp); /* the SDK's string goes back to the SDK */

            zone_string_free(rsp);
            return copy;
        }
    }
    if (!strcmp(ability, "get_callback_data")) {
        char *event = load_event(zone_callback_notify_id(cb));

        return event ? event : error_reply(710660, "no event is stored under this notify_id here");
    }
    return error_reply(710660, "unknown ability");
}

typedef struct request {
    char *body;
    size_t len;
} request;

typedef struct headers {
    zone_header h[MAX_HEADERS];
    size_t n;
} headers;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    headers *hs = cls;

    (void)kind;
    if (hs->n < MAX_HEADERS)
        hs->h[hs->n++] = (zone_header){key, value ? value : ""};
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    request *rq = *con_cls;
    struct MHD_Response *response;
    enum MHD_Result ret;
    headers hs = {.n = 0};
    zone_callback *cb;
    zone_reply *reply = NULL;
    char *rsp, err[256];
    size_t i;

    (void)cls, (void)version;
    if (!rq) {
        *con_cls = calloc(1, sizeof(request));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        char *nb;

        if (rq->len + *upload_size > MAX_BODY ||
            !(nb = realloc(rq->body, rq->len + *upload_size + 1)))
            return MHD_NO;
        memcpy(nb + rq->len, upload_data, *upload_size);
        rq->body = nb;
        rq->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0 || strcmp(url, "/") != 0) {
        response = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, response);
        MHD_destroy_response(response);
        return ret;
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hs); /* names as received */
    cb = zone_callback_new(method, hs.h, hs.n, rq->body ? rq->body : "", rq->len);
    if (!cb)
        return MHD_NO;
    if (!zone_callback_ok(cb)) {
        ZONE_LOG_ERROR("a request did not verify: %s", zone_callback_error(cb));
        rsp = NULL;
    } else {
        rsp = zone_callback_call_type(cb) == 2 ? on_event(cb) : on_call(cb);
    }
    if (zone_callback_build_reply(cb, rsp ? rsp : "", rsp ? strlen(rsp) : 0, &reply, err,
                                  sizeof err) != ZONE_OK) {
        ZONE_LOG_ERROR("cannot build the reply: %s", err);
        free(rsp);
        zone_callback_free(cb);
        return MHD_NO;
    }
    free(rsp);
    response = MHD_create_response_from_buffer(reply->body_len, reply->body, MHD_RESPMEM_MUST_COPY);
    for (i = 0; i < reply->n_headers; i++)
        MHD_add_response_header(response, reply->headers[i].name, reply->headers[i].value);
    ret = MHD_queue_response(c, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    zone_reply_free(reply);
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

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(void)
{
    const char *dir = getenv("DATA_DIR"), *work = getenv("ZONELAB_WORK_DIR");
    struct MHD_Daemon *d;

    if (dir && *dir)
        snprintf(data_dir, sizeof data_dir, "%s", dir);
    else if (work && *work)
        snprintf(data_dir, sizeof data_dir, "%s/data", work);
    mkdir(data_dir, 0700);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    /* 8080 on every address, as WeCom's guide says; under zonelab each replica's bind is
     * moved to its own port. */
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 8080,
                         NULL, NULL, on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                         NULL, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d) {
        ZONE_LOG_ERROR("cannot listen on port 8080");
        return 1;
    }
    ZONE_LOG_INFO("@PROGRAM_ID@ listening on port 8080, data in %s", data_dir);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
