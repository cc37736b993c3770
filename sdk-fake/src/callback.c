/* callback: an inbound request from the backend, verified and decrypted, and its reply. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config.h"
#include "log.h"
#include "wire.h"
#include "zone_sdk.h"

struct zone_callback {
    int status;
    char error[ZONE_ERRBUF_SIZE];
    int have_keys; /* the exception reply can be sealed */
    zone_wire_keys keys;
    zone_wire_callback env; /* strings never NULL once verified */
    char req_id[17];
};

static pthread_once_t replay_once = PTHREAD_ONCE_INIT;
static zone_wire_replay *replay; /* process-wide: a nonce is good once per process */

static void replay_init(void)
{
    replay = zone_wire_replay_new();
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* Every string member of the envelope set, so accessors never return NULL. */
static int fill_empty(zone_wire_callback *e)
{
    char **f[] = {&e->corpid, &e->data, &e->job_info, &e->ability_id, &e->notify_id, &e->req_id};
    size_t i;

    for (i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!*f[i] && !(*f[i] = dup_or_empty(NULL)))
            return -1;
    return 0;
}

static void new_req_id(char out[17])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[8] = {0};
    size_t i;

    if (zone_wire_random(r, sizeof r) != 0)
        memset(r, 0, sizeof r);
    for (i = 0; i < 8; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[16] = '\0';
}

static zone_callback *refuse(zone_callback *cb, int code, const char *why)
{
    cb->status = code;
    snprintf(cb->error, sizeof cb->error, "%s", why);
    zone_log_write(ZONE_LOG_LEVEL_ERR, __FILE__, __LINE__, "request refused, %d: %s", code, why);
    return cb;
}

zone_callback *zone_callback_new(const char *method, const zone_header *headers, size_t n,
                                 const char *body, size_t body_len)
{
    zone_callback *cb = calloc(1, sizeof *cb);
    zone_wire_header *wh = NULL;
    zone_config cfg;
    char detail[ZONE_ERRBUF_SIZE] = "";
    char *plain = NULL;
    size_t plain_len = 0, i;
    int rc;

    if (!cb)
        return NULL;
    new_req_id(cb->req_id);
    zone_log_set_req_id(cb->req_id);
    if (!method || !*method)
        return refuse(cb, ZONE_ERR_NO_METHOD, "no method: pass the request's HTTP method");
    if (!headers || n == 0)
        return refuse(cb, ZONE_ERR_NO_HEADERS,
                      "no headers: pass the request's headers as received");
    if (!body)
        return refuse(cb, ZONE_ERR_NO_BODY, "no body: pass the request's body");
    if (zone_config_load(&cfg, ZONE_CONFIG_KEYS) != ZONE_OK)
        return refuse(cb, cfg.status, cfg.msg);
    cb->keys = cfg.keys;
    cb->have_keys = 1;
    pthread_once(&replay_once, replay_init);
    if (!replay)
        return refuse(cb, ZONE_ERR_INTERNAL, "out of memory");
    if (!(wh = calloc(n, sizeof *wh)))
        return refuse(cb, ZONE_ERR_INTERNAL, "out of memory");
    for (i = 0; i < n; i++) {
        wh[i].name = headers[i].name ? headers[i].name : "";
        wh[i].value = headers[i].value ? headers[i].value : "";
    }
    rc = zone_wire_open(&cb->keys, replay, NULL, method, ZONE_WIRE_CALLBACK_PATH, wh, n, body,
                        body_len, &plain, &plain_len, detail, sizeof detail);
    free(wh);
    if (rc != ZONE_WIRE_OK)
        return refuse(cb, zone_wire_sdk_code(rc), detail[0] ? detail : zone_wire_strerror(rc));
    rc = zone_wire_callback_decode(plain, plain_len, &cb->env);
    free(plain);
    if (rc != ZONE_WIRE_OK)
        return refuse(cb, ZONE_ERR_JSON, "the request decrypted but is not a callback envelope");
    if (fill_empty(&cb->env) != 0)
        return refuse(cb, ZONE_ERR_INTERNAL, "out of memory");
    if (cb->env.call_type != 1 && cb->env.call_type != 2)
        return refuse(cb, ZONE_ERR_JSON, "call_type must be 1 (app call) or 2 (event)");
    if (zone_req_id_valid(cb->env.req_id))
        memcpy(cb->req_id, cb->env.req_id, sizeof cb->req_id);
    zone_log_set_req_id(cb->req_id);
    cb->status = ZONE_OK;
    return cb;
}

void zone_callback_free(zone_callback *cb)
{
    if (!cb)
        return;
    zone_log_end_request(cb->req_id);
    zone_wire_callback_cleanup(&cb->env);
    OPENSSL_cleanse(&cb->keys, sizeof cb->keys);
    free(cb);
}

int zone_callback_ok(const zone_callback *cb)
{
    return cb && cb->status == ZONE_OK;
}

int zone_callback_status(const zone_callback *cb)
{
    return cb ? cb->status : ZONE_ERR_INTERNAL;
}

const char *zone_callback_error(const zone_callback *cb)
{
    return cb ? cb->error : "no callback object";
}

#define OK_STR(field) (zone_callback_ok(cb) ? cb->env.field : "")

const char *zone_callback_corpid(const zone_callback *cb)
{
    return OK_STR(corpid);
}

uint32_t zone_callback_agentid(const zone_callback *cb)
{
    return zone_callback_ok(cb) ? cb->env.agentid : 0;
}

uint32_t zone_callback_call_type(const zone_callback *cb)
{
    return zone_callback_ok(cb) ? cb->env.call_type : 0;
}

const char *zone_callback_data(const zone_callback *cb)
{
    return OK_STR(data);
}

int zone_callback_is_async(const zone_callback *cb)
{
    return zone_callback_ok(cb) ? cb->env.is_async != 0 : 0;
}

const char *zone_callback_job_info(const zone_callback *cb)
{
    return OK_STR(job_info);
}

const char *zone_callback_ability_id(const zone_callback *cb)
{
    return OK_STR(ability_id);
}

const char *zone_callback_notify_id(const zone_callback *cb)
{
    return OK_STR(notify_id);
}

const char *zone_callback_req_id(const zone_callback *cb)
{
    return cb ? cb->req_id : "0000000000000000";
}

static int add_header(zone_reply *r, const char *name, const char *value)
{
    zone_header *h = &r->headers[r->n_headers];

    h->name = strdup(name);
    h->value = strdup(value);
    r->n_headers++; /* counted even when a strdup failed, so zone_reply_free frees it */
    return h->name && h->value ? 0 : -1;
}

/* A sentence fit for one header line: printable ASCII only, at most 200 bytes. */
static void header_text(char *out, size_t n, const char *in)
{
    size_t i;

    for (i = 0; i + 1 < n && i < 200 && in[i]; i++)
        out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
    out[i] = '\0';
}

int zone_callback_build_reply(const zone_callback *cb, const char *response, size_t len,
                              zone_reply **out, char *errbuf, size_t errlen)
{
    zone_wire_sealed_headers h;
    zone_reply *r = NULL;
    char code[16], why[ZONE_ERRBUF_SIZE];
    int ok = zone_callback_ok(cb), rc = ZONE_ERR_INTERNAL, wr;

    if (out)
        *out = NULL;
    if (!cb || !out) {
        zone_config_say(errbuf, errlen, "callback and out must not be NULL");
        return ZONE_ERR_INTERNAL;
    }
    if (!(r = calloc(1, sizeof *r)) || !(r->headers = calloc(6, sizeof *r->headers)))
        goto oom;
    if (cb->have_keys) {
        /* The reply text is the program's answer, bytes as given: it need not be a C string,
         * and it ends at a NUL, as the envelope's JSON string did when cJSON wrote it. */
        const char *text = ok && response ? response : "";
        size_t text_len = ok && response ? strnlen(response, len) : 0;

        wr = zone_wire_seal_reply(&cb->keys, NULL, ZONE_WIRE_CALLBACK_PATH, text, text_len, !ok, &h,
                                  &r->body, &r->body_len);
        if (wr != ZONE_WIRE_OK) {
            zone_config_say(errbuf, errlen, "sealing the reply failed: %s", zone_wire_strerror(wr));
            rc = zone_wire_sdk_code(wr);
            goto out;
        }
        if (add_header(r, "ww-secret-ver", h.secret_ver) ||
            add_header(r, "ww-timestamp", h.timestamp) || add_header(r, "ww-nonce", h.nonce) ||
            add_header(r, "ww-signature", h.signature))
            goto oom;
    } else if (!(r->body = strdup(""))) {
        goto oom;
    }
    if (!ok) {
        snprintf(code, sizeof code, "%d", cb->status);
        header_text(why, sizeof why, cb->error);
        if (add_header(r, ZONE_WIRE_H_EXCEPTION, code) || add_header(r, ZONE_WIRE_H_ERROR, why))
            goto oom;
    }
    *out = r;
    r = NULL;
    rc = ZONE_OK;
    goto out;
oom:
    zone_config_say(errbuf, errlen, "out of memory building the reply");
    rc = ZONE_ERR_INTERNAL;
out:
    zone_reply_free(r);
    return rc;
}
