/* peer: a wire-level stand-in for the emulator's invoke face, for tests of the fake SDK. */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define DEFAULT_RESPONSE "{\"errcode\":0,\"errmsg\":\"ok\"}"
/* The "different secret" of PEER_WRONG_KEY: 32 bytes of 0x5a (or 0xa5 if the peer holds that). */
#define OTHER_SECRET   "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="
#define OTHER_SECRET_2 "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="
#define BAD_CIPHER_LEN 40
#define DETAIL_SIZE    512

struct peer {
    struct MHD_Daemon *daemon;
    unsigned short port;
    zone_wire_keys keys;       /* the program's secret and version */
    zone_wire_keys wrong_keys; /* another secret, same version */
    zone_wire_keys next_keys;  /* the same secret, version + 1 */
    zone_wire_replay *replay;
    pthread_mutex_t lock; /* guards everything below */
    int lock_ready;
    peer_mode mode;
    unsigned delay_ms;
    char *response;
    size_t calls, refused;
    int have_call;
    zone_wire_invoke last_call;
    int last_result; /* -1: no refusal yet */
    char last_detail[DETAIL_SIZE];
};

/* One request in flight (MHD's con_cls). */
typedef struct request {
    int serve;     /* POST to the invoke path */
    int too_large; /* the body went over ZONE_WIRE_MAX_BODY + 1 bytes */
    char *body;
    size_t len, cap;
} request;

/* Headers as received, for zone_wire_open. */
typedef struct header_list {
    zone_wire_header *h;
    size_t n, cap;
} header_list;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

/* Appends an upload chunk; marks the request too large past the cap and drops the body. */
static int append_body(request *rq, const char *data, size_t n)
{
    const size_t limit = (size_t)ZONE_WIRE_MAX_BODY + 1;
    size_t cap;
    char *grown;

    if (rq->too_large)
        return 0;
    if (n > limit - rq->len) {
        rq->too_large = 1;
        free(rq->body);
        rq->body = NULL;
        rq->len = rq->cap = 0;
        return 0;
    }
    if (rq->len + n + 1 > rq->cap) {
        cap = rq->cap != 0 ? rq->cap : 4096;
        while (cap < rq->len + n + 1)
            cap *= 2;
        if (cap > limit + 1)
            cap = limit + 1;
        grown = realloc(rq->body, cap);
        if (grown == NULL)
            return -1;
        rq->body = grown;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return 0;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    header_list *l = cls;

    (void)kind;
    if (l->n == l->cap)
        return MHD_NO;
    l->h[l->n].name = key != NULL ? key : "";
    l->h[l->n].value = value != NULL ? value : "";
    l->n++;
    return MHD_YES;
}

/* A plain answer: status, a static text body (may be empty) and nothing else of ours. */
static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r;
    enum MHD_Result ret = MHD_NO;

    r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    if (text[0] != '\0' && MHD_add_response_header(r, "Content-Type", "text/plain") != MHD_YES)
        goto out;
    ret = MHD_queue_response(conn, status, r);
out:
    MHD_destroy_response(r);
    return ret;
}

/*
 * HTTP 200 with plain sealed under k (REPLY, invoke path) and the four ww-* headers; with
 * bad_cipher the body is replaced by base64 of random bytes and re-signed; exc and why (may be
 * NULL) add the exception headers.
 */
static enum MHD_Result answer_sealed(struct MHD_Connection *conn, const zone_wire_keys *k,
                                     const char *plain, int bad_cipher, const char *exc,
                                     const char *why)
{
    zone_wire_sealed_headers h;
    unsigned char junk[BAD_CIPHER_LEN];
    struct MHD_Response *r = NULL;
    char *body = NULL, *junk_b64 = NULL;
    enum MHD_Result ret = MHD_NO;

    if (zone_wire_seal(k, NULL, ZONE_WIRE_REPLY_METHOD, ZONE_WIRE_INVOKE_PATH, plain, strlen(plain),
                       &h, &body) != ZONE_WIRE_OK)
        goto out;
    if (bad_cipher) {
        junk_b64 = malloc(4 * ((BAD_CIPHER_LEN + 2) / 3) + 1);
        if (junk_b64 == NULL || RAND_bytes(junk, sizeof junk) != 1)
            goto out;
        EVP_EncodeBlock((unsigned char *)junk_b64, junk, sizeof junk);
        free(body);
        body = junk_b64;
        junk_b64 = NULL;
        if (zone_wire_sign(k, ZONE_WIRE_REPLY_METHOD, ZONE_WIRE_INVOKE_PATH, h.timestamp, h.nonce,
                           h.secret_ver, body, strlen(body), h.signature) != ZONE_WIRE_OK)
            goto out;
    }
    r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        goto out;
    if (MHD_add_response_header(r, "Content-Type", "text/plain") != MHD_YES ||
        MHD_add_response_header(r, "ww-secret-ver", h.secret_ver) != MHD_YES ||
        MHD_add_response_header(r, "ww-timestamp", h.timestamp) != MHD_YES ||
        MHD_add_response_header(r, "ww-nonce", h.nonce) != MHD_YES ||
        MHD_add_response_header(r, "ww-signature", h.signature) != MHD_YES)
        goto out;
    if (exc != NULL && MHD_add_response_header(r, ZONE_WIRE_H_EXCEPTION, exc) != MHD_YES)
        goto out;
    if (why != NULL && MHD_add_response_header(r, ZONE_WIRE_H_ERROR, why) != MHD_YES)
        goto out;
    ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
out:
    if (r != NULL)
        MHD_destroy_response(r);
    free(junk_b64);
    free(body);
    return ret;
}

/* The exception reply for a refused request: {response:"", exception:true} plus ww-exception/error.
 */
static enum MHD_Result answer_exception(const peer *p, struct MHD_Connection *conn, int result,
                                        const char *detail)
{
    zone_wire_reply env = {NULL, 1};
    char code[16], why[DETAIL_SIZE], *plain = NULL;
    size_t i, j = 0;
    enum MHD_Result ret = MHD_NO;

    snprintf(code, sizeof code, "%d", zone_wire_sdk_code(result));
    for (i = 0; detail[i] != '\0' && j + 1 < sizeof why; i++)
        if (detail[i] != '\r' && detail[i] != '\n')
            why[j++] = detail[i];
    why[j] = '\0';
    env.response = dup_or_empty(NULL);
    if (env.response == NULL || (plain = zone_wire_reply_encode(&env)) == NULL)
        goto out;
    ret = answer_sealed(conn, &p->keys, plain, 0, code, why);
out:
    free(plain);
    zone_wire_reply_cleanup(&env);
    return ret;
}

/* The answer to a verified request, sealed the way mode says. */
static enum MHD_Result answer_reply(const peer *p, struct MHD_Connection *conn, peer_mode mode,
                                    char *response)
{
    zone_wire_reply env = {response, 0};
    const zone_wire_keys *k = &p->keys;
    char *plain = NULL;
    enum MHD_Result ret = MHD_NO;

    if (mode == PEER_NOT_ENVELOPE)
        return answer_sealed(conn, k, "[1,2]", 0, NULL, NULL);
    if (mode == PEER_WRONG_KEY)
        k = &p->wrong_keys;
    else if (mode == PEER_OTHER_VERSION)
        k = &p->next_keys;
    plain = zone_wire_reply_encode(&env);
    if (plain == NULL)
        goto out;
    ret = answer_sealed(conn, k, plain, mode == PEER_BAD_CIPHER, NULL, NULL);
out:
    free(plain);
    return ret;
}

/* A complete POST to the invoke path: verify, record, then answer as the mode says. */
static enum MHD_Result serve(peer *p, struct MHD_Connection *conn, const request *rq)
{
    header_list hl = {NULL, 0, 0};
    zone_wire_invoke inv;
    char detail[DETAIL_SIZE] = "", *plain = NULL, *response = NULL;
    size_t plain_len = 0;
    peer_mode mode;
    unsigned delay;
    int n, rc, oom = 0;
    enum MHD_Result ret = MHD_NO;

    memset(&inv, 0, sizeof inv);
    n = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
    hl.cap = n > 0 ? (size_t)n : 0;
    hl.h = calloc(hl.cap != 0 ? hl.cap : 1, sizeof *hl.h);
    if (hl.h == NULL)
        goto out;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &hl);
    rc = zone_wire_open(&p->keys, p->replay, NULL, "POST", ZONE_WIRE_INVOKE_PATH, hl.h, hl.n,
                        rq->body, rq->len, &plain, &plain_len, detail, sizeof detail);
    if (rc == ZONE_WIRE_OK && zone_wire_invoke_decode(plain, plain_len, &inv) != ZONE_WIRE_OK) {
        rc = ZONE_WIRE_ERR_JSON;
        snprintf(detail, sizeof detail, "the request decrypted but is not an invoke envelope");
    }
    if (rc != ZONE_WIRE_OK && detail[0] == '\0')
        snprintf(detail, sizeof detail, "%s", zone_wire_strerror(rc));

    pthread_mutex_lock(&p->lock);
    mode = p->mode;
    delay = p->delay_ms;
    if (rc == ZONE_WIRE_OK) {
        response = dup_or_empty(p->response);
        oom = response == NULL;
        p->calls++;
        zone_wire_invoke_cleanup(&p->last_call);
        p->last_call = inv;
        memset(&inv, 0, sizeof inv);
        p->have_call = 1;
    } else {
        p->refused++;
        p->last_result = rc;
        snprintf(p->last_detail, sizeof p->last_detail, "%s", detail);
    }
    pthread_mutex_unlock(&p->lock);

    if (oom || mode == PEER_RESET)
        goto out; /* MHD_NO: MHD closes the connection without an answer */
    if (mode == PEER_HTTP_502) {
        ret = answer_text(conn, MHD_HTTP_BAD_GATEWAY, "bad gateway: the peer is set to fail\n");
        goto out;
    }
    if (mode == PEER_EMPTY_200) {
        ret = answer_text(conn, MHD_HTTP_OK, "");
        goto out;
    }
    if (mode == PEER_SLOW)
        sleep_ms(delay);
    if (rc != ZONE_WIRE_OK)
        ret = answer_exception(p, conn, rc, detail);
    else
        ret = answer_reply(p, conn, mode, response);
out:
    zone_wire_invoke_cleanup(&inv);
    free(response);
    free(plain);
    free(hl.h);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    peer *p = cls;
    request *rq = *con_cls;

    (void)version;
    if (rq == NULL) {
        rq = calloc(1, sizeof *rq);
        if (rq == NULL)
            return MHD_NO;
        rq->serve =
            strcmp(method, MHD_HTTP_METHOD_POST) == 0 && strcmp(url, ZONE_WIRE_INVOKE_PATH) == 0;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        if (rq->serve && append_body(rq, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!rq->serve)
        return answer_text(conn, MHD_HTTP_NOT_FOUND,
                           "not found: only POST " ZONE_WIRE_INVOKE_PATH " is served\n");
    if (rq->too_large)
        return answer_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over the size cap\n");
    return serve(p, conn, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    request *rq = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (rq != NULL) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

peer *peer_start(const char *secret_b64, uint32_t version)
{
    peer *p = calloc(1, sizeof *p);
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;

    if (p == NULL)
        return NULL;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return NULL;
    }
    p->lock_ready = 1;
    p->mode = PEER_ANSWER;
    p->last_result = -1;
    if (secret_b64 == NULL || zone_wire_keys_init(&p->keys, secret_b64, version) != ZONE_WIRE_OK ||
        zone_wire_keys_init(&p->next_keys, secret_b64, version + 1) != ZONE_WIRE_OK ||
        zone_wire_keys_init(&p->wrong_keys, OTHER_SECRET, version) != ZONE_WIRE_OK)
        goto fail;
    if (memcmp(p->wrong_keys.sign, p->keys.sign, sizeof p->keys.sign) == 0 &&
        zone_wire_keys_init(&p->wrong_keys, OTHER_SECRET_2, version) != ZONE_WIRE_OK)
        goto fail;
    p->replay = zone_wire_replay_new();
    p->response = strdup(DEFAULT_RESPONSE);
    if (p->replay == NULL || p->response == NULL)
        goto fail;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                         NULL, on_request, p, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (p->daemon == NULL)
        goto fail;
    info = MHD_get_daemon_info(p->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0)
        goto fail;
    p->port = info->port;
    return p;
fail:
    peer_stop(p);
    return NULL;
}

unsigned short peer_port(const peer *p)
{
    return p != NULL ? p->port : 0;
}

void peer_set_mode(peer *p, peer_mode m)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->mode = m;
    pthread_mutex_unlock(&p->lock);
}

void peer_set_delay_ms(peer *p, unsigned ms)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->delay_ms = ms;
    pthread_mutex_unlock(&p->lock);
}

void peer_set_response(peer *p, const char *response)
{
    char *copy;

    if (p == NULL)
        return;
    copy = dup_or_empty(response);
    if (copy == NULL)
        return; /* out of memory: the old response stays */
    pthread_mutex_lock(&p->lock);
    free(p->response);
    p->response = copy;
    pthread_mutex_unlock(&p->lock);
}

size_t peer_calls(peer *p)
{
    size_t n;

    if (p == NULL)
        return 0;
    pthread_mutex_lock(&p->lock);
    n = p->calls;
    pthread_mutex_unlock(&p->lock);
    return n;
}

size_t peer_refused(peer *p)
{
    size_t n;

    if (p == NULL)
        return 0;
    pthread_mutex_lock(&p->lock);
    n = p->refused;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static int copy_invoke(zone_wire_invoke *out, const zone_wire_invoke *in)
{
    out->agentid = in->agentid;
    if ((out->api = dup_or_empty(in->api)) == NULL ||
        (out->request = dup_or_empty(in->request)) == NULL ||
        (out->corpid = dup_or_empty(in->corpid)) == NULL ||
        (out->ability_id = dup_or_empty(in->ability_id)) == NULL ||
        (out->job_info = dup_or_empty(in->job_info)) == NULL ||
        (out->instance = dup_or_empty(in->instance)) == NULL) {
        zone_wire_invoke_cleanup(out);
        return -1;
    }
    return 0;
}

int peer_last_call(peer *p, zone_wire_invoke *out)
{
    int rc = -1;

    if (out == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    if (p == NULL)
        return -1;
    pthread_mutex_lock(&p->lock);
    if (p->have_call)
        rc = copy_invoke(out, &p->last_call);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

int peer_last_refusal(peer *p, char *detail, size_t n)
{
    int rc;

    if (detail != NULL && n > 0)
        detail[0] = '\0';
    if (p == NULL)
        return -1;
    pthread_mutex_lock(&p->lock);
    rc = p->last_result;
    if (rc >= 0 && detail != NULL && n > 0)
        snprintf(detail, n, "%s", p->last_detail);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void peer_stop(peer *p)
{
    if (p == NULL)
        return;
    if (p->daemon != NULL)
        MHD_stop_daemon(p->daemon);
    zone_wire_replay_free(p->replay);
    zone_wire_invoke_cleanup(&p->last_call);
    free(p->response);
    if (p->lock_ready)
        pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof *p); /* drops the derived keys */
    free(p);
}
