/* appnotify: WXBizMsgCrypt callbacks: the envelope, URL verification, HTTP delivery with
 * retries, a built-in receiver; program_notify's plaintext and the built-in fake app's inbox. */
#include "emu/appnotify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/sbuf.h"
#include "wecom/wxcrypt.h"

#define DEFAULT_TIMEOUT_MS 5000L
#define DEFAULT_TRIES      3
#define MAX_WHY            256
#define MAX_ANSWER_SHOWN   64 /* bytes of an app's answer quoted in the journal */
#define MAX_XML_FIELDS     16

/* URL verification state of one callback configuration. */
enum verify_state { V_NONE, V_PENDING, V_OK, V_FAILED };

/* Where a delivery is: waiting for the built-in receiver's timer, for URL verification, or on
 * HTTP. */
enum delivery_state { D_FAKE, D_WAITING, D_HTTP };

typedef struct verify_call verify_call;

/* One configuration with a callback URL (an app's, or a suite's with agentid 0); distinct
 * url/token/key are distinct endpoints. */
typedef struct endpoint {
    struct endpoint *next;
    char *receiveid, *id_name, *url, *token, *aes_key;
    uint32_t agentid;
    enum verify_state state;
    char why[MAX_WHY]; /* when V_FAILED */
    verify_call *vc;   /* when V_PENDING */
} endpoint;

struct verify_call {
    zl_appnotify *n; /* NULL once n is freed: the HTTP callback only frees the call */
    endpoint *ep;
    char *url;      /* with the query */
    char plain[24]; /* the echostr plaintext */
    int try;
};

typedef struct delivery {
    struct delivery *prev, *next; /* n->deliveries */
    zl_appnotify *n;              /* NULL once n is freed while on HTTP */
    enum delivery_state state;
    endpoint *ep;  /* URL deliveries; NULL for the built-in receiver */
    char *kind;    /* the journal entries' kind */
    cJSON *detail; /* what they start with */
    char *receiveid, *receiver, *token, *aes_key;
    bool want_success;
    zl_callback_keep_fn keep;
    void *keep_ud;
    char *body; /* the outer envelope */
    char *url;  /* URL deliveries: with the query */
    char timestamp[24], nonce[16], signature[41];
    int try;
    uint64_t timer;
} delivery;

typedef struct inbox_entry {
    uint64_t seq;
    uint32_t agentid;
    cJSON *item;
} inbox_entry;

struct zl_appnotify {
    zl_engine *e;
    zl_journal *j;
    long timeout_ms, verify_timeout_ms;
    int tries;
    bool omit_agentid, scene_zero;
    delivery *deliveries, *last; /* oldest first */
    endpoint *endpoints;         /* newest first */
    inbox_entry *inbox;
    size_t inbox_len, inbox_cap;
    uint64_t inbox_last;
};

/* ---- small helpers ---- */

typedef zl_sbuf buf;

/*
 * s as CDATA. A value containing "]]>" is split across two sections ("]]" ends the first,
 * ">" starts the next), so caller-supplied notify ids cannot break the XML; a receiver that
 * joins adjacent CDATA sections (any XML parser) reads the value back unchanged.
 */
void zl_appnotify_cdata(zl_sbuf *b, const char *s)
{
    const char *q;

    zl_sbuf_str(b, "<![CDATA[");
    while ((q = strstr(s, "]]>"))) {
        zl_sbuf_add(b, s, (size_t)(q - s) + 2);
        zl_sbuf_str(b, "]]><![CDATA[");
        s = q + 2;
    }
    zl_sbuf_str(b, s);
    zl_sbuf_str(b, "]]>");
}

/* Percent-encodes every byte outside RFC 3986's unreserved set. */
static void buf_escape(buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char t[3] = {'%', 0, 0};

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            zl_sbuf_add(b, s, 1);
        } else {
            t[1] = hex[c >> 4];
            t[2] = hex[c & 15];
            zl_sbuf_add(b, t, 3);
        }
    }
}

/* url + '?' or '&' + the signed query (and echostr when not NULL); owned, NULL on OOM. */
static char *signed_url(const char *url, const char *sig, const char *ts, const char *nonce,
                        const char *echostr)
{
    buf b = {0};

    zl_sbuf_str(&b, url);
    zl_sbuf_str(&b, strchr(url, '?') ? "&msg_signature=" : "?msg_signature=");
    buf_escape(&b, sig);
    zl_sbuf_str(&b, "&timestamp=");
    buf_escape(&b, ts);
    zl_sbuf_str(&b, "&nonce=");
    buf_escape(&b, nonce);
    if (echostr) {
        zl_sbuf_str(&b, "&echostr=");
        buf_escape(&b, echostr);
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static int64_t now_ms(const zl_appnotify *n)
{
    return zl_clock_now_ms(zl_engine_clock(n->e));
}

/* Timestamp (virtual seconds) and a 10-digit nonce from the seeded random source. */
static void stamp(zl_appnotify *n, char ts[24], char nonce[16])
{
    snprintf(ts, 24, "%" PRId64, zl_clock_now(zl_engine_clock(n->e)));
    snprintf(nonce, 16, "%010" PRIu64, zl_engine_random(n->e) % UINT64_C(10000000000));
}

static void journal(zl_appnotify *n, const char *kind, cJSON *detail)
{
    if (!n->j) {
        cJSON_Delete(detail);
        return;
    }
    zl_journal_add(n->j, now_ms(n), "callback", kind, detail);
}

/* Printable preview of an app's answer for the journal (at most MAX_ANSWER_SHOWN bytes). */
static void preview(char *out, size_t outlen, const char *s, size_t len)
{
    size_t i, k = 0;

    for (i = 0; i < len && i < MAX_ANSWER_SHOWN && k + 1 < outlen; i++)
        out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    out[k] = '\0';
}

/* Connect failure or timeout: the only outcomes that are tried again (callback-crypto §5.4). */
static int retryable(int curl_code)
{
    return curl_code == CURLE_COULDNT_RESOLVE_HOST || curl_code == CURLE_COULDNT_CONNECT ||
           curl_code == CURLE_OPERATION_TIMEDOUT;
}

/* ---- deliveries ---- */

static void delivery_free(delivery *d)
{
    if (!d)
        return;
    free(d->kind);
    cJSON_Delete(d->detail);
    free(d->receiveid);
    free(d->receiver);
    free(d->token);
    free(d->aes_key);
    free(d->body);
    free(d->url);
    free(d);
}

static void delivery_unlink(zl_appnotify *n, delivery *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else if (n->deliveries == d)
        n->deliveries = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else if (n->last == d)
        n->last = d->prev;
    d->prev = d->next = NULL;
}

/* The detail every journal entry of d starts with: its own fields, target and outcome. */
static cJSON *delivery_detail(const delivery *d, const char *outcome)
{
    cJSON *o = cJSON_Duplicate(d->detail, 1);

    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "target", d->ep ? d->ep->url : d->receiver);
    cJSON_AddStringToObject(o, "outcome", outcome);
    return o;
}

/* Journals d with outcome and an optional error, then forgets it. */
static void delivery_end(zl_appnotify *n, delivery *d, const char *outcome, const char *error)
{
    cJSON *o = delivery_detail(d, outcome);

    if (o && error)
        cJSON_AddStringToObject(o, "error", error);
    journal(n, d->kind, o);
    delivery_unlink(n, d);
    delivery_free(d);
}

static void on_post(zl_engine *e, const zl_http_result *res, void *ud);

/* Starts (another) try of the POST; on failure d is journaled and freed. */
static void post_start(zl_appnotify *n, delivery *d)
{
    const char *hdr[] = {"Content-Type: text/xml"};
    zl_http_request req = {.method = "POST",
                           .url = d->url,
                           .headers = hdr,
                           .n_headers = 1,
                           .body = d->body,
                           .body_len = strlen(d->body),
                           .timeout_ms = n->timeout_ms};

    d->try++;
    d->state = D_HTTP;
    if (zl_engine_http(n->e, &req, on_post, d) != 0)
        delivery_end(n, d, "failed", "out of memory starting the HTTP call");
}

static void on_post(zl_engine *e, const zl_http_result *res, void *ud)
{
    delivery *d = ud;
    zl_appnotify *n = d->n;
    const char *outcome;
    bool refused;
    cJSON *o;

    (void)e;
    if (!n) { /* the notifier was freed meanwhile */
        delivery_free(d);
        return;
    }
    refused = res->status != 200 ||
              (d->want_success && (res->body_len != 7 || memcmp(res->body, "success", 7) != 0));
    if (res->curl_code == 0)
        outcome = refused ? "rejected" : "delivered"; /* refused: not retried */
    else if (retryable(res->curl_code) && d->try < n->tries)
        outcome = "retry";
    else
        outcome = "failed";
    if ((o = delivery_detail(d, outcome))) {
        cJSON_AddNumberToObject(o, "try", d->try);
        cJSON_AddNumberToObject(o, "status", (double)res->status);
        cJSON_AddNumberToObject(o, "elapsed_ms", (double)res->elapsed_ms);
        if (res->curl_code != 0) {
            cJSON_AddNumberToObject(o, "curl_code", res->curl_code);
            cJSON_AddStringToObject(o, "error", res->error ? res->error : "");
        } else if (refused) {
            char shown[MAX_ANSWER_SHOWN + 1];

            preview(shown, sizeof shown, res->body, res->body_len);
            cJSON_AddStringToObject(o, "answer", shown);
        }
    }
    journal(n, d->kind, o);
    if (!strcmp(outcome, "retry")) {
        post_start(n, d); /* immediately: no backoff */
        return;
    }
    delivery_unlink(n, d);
    delivery_free(d);
}

/* ---- URL verification ---- */

static void endpoint_free(endpoint *ep)
{
    free(ep->receiveid);
    free(ep->id_name);
    free(ep->url);
    free(ep->token);
    free(ep->aes_key);
    free(ep);
}

static void verify_call_free(verify_call *vc)
{
    if (!vc)
        return;
    free(vc->url);
    free(vc);
}

static void on_verify(zl_engine *e, const zl_http_result *res, void *ud);

static int verify_send(zl_appnotify *n, verify_call *vc)
{
    zl_http_request req = {
        .method = "GET",
        .url = vc->url,
        .timeout_ms = n->timeout_ms < n->verify_timeout_ms ? n->timeout_ms : n->verify_timeout_ms};

    vc->try++;
    return zl_engine_http(n->e, &req, on_verify, vc);
}

/* Ends the verification of ep: starts or drops the deliveries that waited for it. */
static void verify_done(zl_appnotify *n, endpoint *ep, int ok, const char *why)
{
    delivery *d, *next;
    char error[MAX_WHY + 32];

    ep->state = ok ? V_OK : V_FAILED;
    snprintf(ep->why, sizeof ep->why, "%s", ok ? "" : why);
    snprintf(error, sizeof error, "URL verification failed: %s", ep->why);
    for (d = n->deliveries; d; d = next) {
        next = d->next;
        if (d->ep != ep || d->state != D_WAITING)
            continue;
        if (ok)
            post_start(n, d);
        else
            delivery_end(n, d, "not_sent", error);
    }
}

static void on_verify(zl_engine *e, const zl_http_result *res, void *ud)
{
    verify_call *vc = ud;
    zl_appnotify *n = vc->n;
    endpoint *ep = vc->ep;
    char why[MAX_WHY] = "", shown[MAX_ANSWER_SHOWN + 1];
    const char *outcome;
    cJSON *o;

    (void)e;
    if (!n) {
        verify_call_free(vc);
        return;
    }
    if (res->curl_code != 0) {
        outcome = retryable(res->curl_code) && vc->try < n->tries ? "retry" : "failed";
        snprintf(why, sizeof why, "no answer: %s", res->error ? res->error : "");
    } else if (res->status != 200) {
        outcome = "failed";
        snprintf(why, sizeof why, "answered HTTP %ld, not 200", res->status);
    } else if (res->body_len != strlen(vc->plain) || memcmp(res->body, vc->plain, res->body_len)) {
        outcome = "failed";
        preview(shown, sizeof shown, res->body, res->body_len);
        snprintf(why, sizeof why,
                 "answered \"%s\" (%zu bytes), not the echostr plaintext \"%s\" alone", shown,
                 res->body_len, vc->plain);
    } else {
        outcome = "ok";
    }
    if ((o = cJSON_CreateObject())) {
        cJSON_AddStringToObject(o, ep->id_name, ep->receiveid);
        if (ep->agentid)
            cJSON_AddNumberToObject(o, "agentid", ep->agentid);
        cJSON_AddStringToObject(o, "target", ep->url);
        cJSON_AddStringToObject(o, "outcome", outcome);
        cJSON_AddNumberToObject(o, "try", vc->try);
        cJSON_AddNumberToObject(o, "status", (double)res->status);
        cJSON_AddNumberToObject(o, "elapsed_ms", (double)res->elapsed_ms);
        if (res->curl_code != 0)
            cJSON_AddNumberToObject(o, "curl_code", res->curl_code);
        if (why[0])
            cJSON_AddStringToObject(o, "error", why);
    }
    journal(n, "url_verify", o);
    if (!strcmp(outcome, "retry")) {
        if (verify_send(n, vc) == 0)
            return;
        snprintf(why, sizeof why, "out of memory starting the HTTP call");
    }
    ep->vc = NULL;
    verify_call_free(vc);
    verify_done(n, ep, !strcmp(outcome, "ok"), why);
}

/* Starts verifying ep: GET url?msg_signature&timestamp&nonce&echostr. 0 or -1 (OOM). */
static int verify_start(zl_appnotify *n, endpoint *ep)
{
    verify_call *vc = calloc(1, sizeof *vc);
    zl_wxcrypt *c = NULL;
    char *echostr = NULL, ts[24], nonce[16], sig[41];
    int rc = -1, err = 0;

    if (!vc || !(c = zl_wxcrypt_new(ep->token, ep->aes_key, ep->receiveid, &err)))
        goto out;
    vc->n = n;
    vc->ep = ep;
    snprintf(vc->plain, sizeof vc->plain, "%" PRIu64, zl_engine_random(n->e));
    stamp(n, ts, nonce);
    if (zl_wxcrypt_encrypt(c, NULL, vc->plain, strlen(vc->plain), &echostr) != ZL_WX_OK ||
        zl_wx_signature(ep->token, ts, nonce, echostr, sig, NULL) != ZL_WX_OK ||
        !(vc->url = signed_url(ep->url, sig, ts, nonce, echostr)) || verify_send(n, vc) != 0)
        goto out;
    ep->state = V_PENDING;
    ep->vc = vc;
    vc = NULL;
    rc = 0;
out:
    verify_call_free(vc);
    free(echostr);
    zl_wxcrypt_free(c);
    return rc;
}

static endpoint *endpoint_get(zl_appnotify *n, const zl_callback_msg *m)
{
    endpoint *ep;

    for (ep = n->endpoints; ep; ep = ep->next)
        if (ep->agentid == m->agentid && !strcmp(ep->receiveid, m->receiveid) &&
            !strcmp(ep->url, m->url) && !strcmp(ep->token, m->token) &&
            !strcmp(ep->aes_key, m->encoding_aes_key))
            return ep;
    if (!(ep = calloc(1, sizeof *ep)))
        return NULL;
    ep->agentid = m->agentid;
    ep->receiveid = strdup(m->receiveid);
    ep->id_name = strdup(m->id_name ? m->id_name : "receiveid");
    ep->url = strdup(m->url);
    ep->token = strdup(m->token);
    ep->aes_key = strdup(m->encoding_aes_key);
    if (!ep->receiveid || !ep->id_name || !ep->url || !ep->token || !ep->aes_key) {
        endpoint_free(ep);
        return NULL;
    }
    ep->next = n->endpoints;
    n->endpoints = ep;
    return ep;
}

/* ---- built-in receivers ---- */

typedef struct xml_field {
    char name[32];
    char *value;
} xml_field;

/*
 * A minimal reader of the flat XML WeCom sends: <xml><Name>value</Name>...</xml>, a value
 * being bare text and/or adjacent CDATA sections (joined). Elements are read in order, so
 * text inside a CDATA never passes for an element. Fills up to MAX_XML_FIELDS fields (their
 * values owned); returns the count, or -1 for anything else.
 */
static int xml_read(const char *s, xml_field *f)
{
    int count = 0;

    if (strncmp(s, "<xml>", 5))
        return -1;
    s += 5;
    for (;;) {
        const char *name, *gt;
        size_t nl;
        buf v = {0};
        int closed = 0;

        while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
            s++;
        if (!strcmp(s, "</xml>"))
            return count;
        if (*s != '<' || !(gt = strchr(s, '>')))
            goto fail;
        name = s + 1;
        nl = (size_t)(gt - name);
        if (nl == 0 || nl >= sizeof f[0].name || count == MAX_XML_FIELDS ||
            strcspn(name, "<>/ ![") < nl)
            goto fail;
        zl_sbuf_add(&v, "", 0);
        for (s = gt + 1; !closed;) {
            if (!strncmp(s, "<![CDATA[", 9)) {
                const char *end = strstr(s + 9, "]]>");

                if (!end)
                    break;
                zl_sbuf_add(&v, s + 9, (size_t)(end - s - 9));
                s = end + 3;
            } else if (s[0] == '<' && s[1] == '/' && !strncmp(s + 2, name, nl) &&
                       s[2 + nl] == '>') {
                s += 3 + nl;
                closed = 1;
            } else if (*s && *s != '<') {
                size_t k = strcspn(s, "<");

                zl_sbuf_add(&v, s, k);
                s += k;
            } else {
                break;
            }
        }
        if (!closed || v.oom) {
            free(v.s);
            goto fail;
        }
        memcpy(f[count].name, name, nl);
        f[count].name[nl] = '\0';
        f[count++].value = v.s;
    }
fail:
    while (count > 0)
        free(f[--count].value);
    return -1;
}

/* Adds a number when text is one, else the text itself. */
static void add_number_or_text(cJSON *o, const char *key, const char *text)
{
    char *end;
    long long v = strtoll(text, &end, 10);

    if (*text && !*end)
        cJSON_AddNumberToObject(o, key, (double)v);
    else
        cJSON_AddStringToObject(o, key, text);
}

static int inbox_add(zl_appnotify *n, uint32_t agentid, cJSON *item)
{
    if (n->inbox_len == ZL_APPNOTIFY_INBOX_CAP) {
        cJSON_Delete(n->inbox[0].item);
        memmove(n->inbox, n->inbox + 1, --n->inbox_len * sizeof *n->inbox);
    }
    if (n->inbox_len == n->inbox_cap) {
        size_t cap = n->inbox_cap ? n->inbox_cap * 2 : 16;
        inbox_entry *p;

        if (cap > ZL_APPNOTIFY_INBOX_CAP)
            cap = ZL_APPNOTIFY_INBOX_CAP;
        if (!(p = realloc(n->inbox, cap * sizeof *p)))
            return -1;
        n->inbox = p;
        n->inbox_cap = cap;
    }
    n->inbox[n->inbox_len++] =
        (inbox_entry){.seq = n->inbox_last + 1, .agentid = agentid, .item = item};
    n->inbox_last++;
    return 0;
}

static const char *field(const cJSON *fields, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(fields, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The built-in fake app keeps a program_notify (zl_callback_keep_fn; ud is the notifier). */
static uint64_t fake_app_keep(void *ud, const cJSON *detail, const char *xml, const cJSON *fields)
{
    zl_appnotify *n = ud;
    const cJSON *agentid = cJSON_GetObjectItemCaseSensitive(detail, "agentid");
    uint32_t id = cJSON_IsNumber(agentid) ? (uint32_t)agentid->valuedouble : 0;
    const char *v;
    cJSON *item;

    if (!(item = cJSON_CreateObject()) || !cJSON_AddNumberToObject(item, "seq", 0) ||
        !cJSON_AddNumberToObject(item, "t", (double)now_ms(n))) {
        cJSON_Delete(item);
        return 0;
    }
    cJSON_AddStringToObject(item, "corpid", (v = field(fields, "ToUserName")) ? v : "");
    cJSON_AddNumberToObject(item, "agentid", id);
    cJSON_AddStringToObject(item, "event", (v = field(fields, "Event")) ? v : "");
    cJSON_AddStringToObject(item, "notify_id", (v = field(fields, "NotifyId")) ? v : "");
    if ((v = field(fields, "NotifyScene")))
        add_number_or_text(item, "notify_scene", v);
    if ((v = field(fields, "CreateTime")))
        add_number_or_text(item, "create_time", v);
    cJSON_AddStringToObject(item, "xml", xml);
    if (inbox_add(n, id, item) != 0) {
        cJSON_Delete(item);
        return 0;
    }
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(item, "seq"), (double)n->inbox_last);
    return n->inbox_last;
}

int zl_appnotify_read(const zl_callback_post *p, char **xml, cJSON **fields, char *why,
                      size_t whylen)
{
    zl_wxcrypt *c = NULL;
    xml_field f[MAX_XML_FIELDS];
    int count = -1, err = 0, rc = -1, i;
    char *msg = NULL;
    size_t msg_len = 0;

    *xml = NULL;
    *fields = NULL;
    if (!(c = zl_wxcrypt_new(p->token, p->encoding_aes_key, p->receiveid, &err))) {
        snprintf(why, whylen, "%d %s", err, zl_wx_strerror(err));
        goto out;
    }
    err = zl_wxcrypt_decrypt_msg(c, p->signature, p->timestamp, p->nonce, p->body, strlen(p->body),
                                 &msg, &msg_len);
    if (err != ZL_WX_OK) {
        snprintf(why, whylen, "%d %s: %s", err, zl_wx_strerror(err), zl_wxcrypt_detail(c));
        goto out;
    }
    if ((count = xml_read(msg, f)) < 0) {
        snprintf(why, whylen, "the decrypted XML could not be read");
        goto out;
    }
    if (!(*fields = cJSON_CreateObject())) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    for (i = 0; i < count; i++)
        cJSON_AddStringToObject(*fields, f[i].name, f[i].value);
    *xml = msg;
    msg = NULL;
    rc = 0;
out:
    for (i = 0; i < count; i++)
        free(f[i].value);
    free(msg);
    zl_wxcrypt_free(c);
    return rc;
}

/*
 * The built-in receiver gets d, as a real one would: checks msg_signature and decrypts with
 * its own token and key (and receiveid), reads the XML and hands it to d->keep.
 */
static void fake_receive(zl_engine *e, void *ud)
{
    delivery *d = ud;
    zl_appnotify *n = d->n;
    zl_callback_post post = {.token = d->token,
                             .encoding_aes_key = d->aes_key,
                             .receiveid = d->receiveid,
                             .signature = d->signature,
                             .timestamp = d->timestamp,
                             .nonce = d->nonce,
                             .body = d->body};
    char *msg = NULL, error[MAX_WHY] = "";
    uint64_t seq = 0;
    cJSON *fields = NULL, *o;

    (void)e;
    d->timer = 0;
    if (zl_appnotify_read(&post, &msg, &fields, error, sizeof error) == 0 &&
        !(seq = d->keep(d->keep_ud, d->detail, msg, fields)))
        snprintf(error, sizeof error, "out of memory");
    cJSON_Delete(fields);
    free(msg);
    if ((o = delivery_detail(d, error[0] ? "refused" : "received"))) {
        if (error[0])
            cJSON_AddStringToObject(o, "error", error);
        else
            cJSON_AddNumberToObject(o, "inbox_seq", (double)seq);
    }
    journal(n, d->kind, o);
    delivery_unlink(n, d);
    delivery_free(d);
}

/* ---- public ---- */

zl_appnotify *zl_appnotify_new(zl_engine *e, zl_journal *j, const zl_appnotify_options *opt)
{
    zl_appnotify *n;

    if (!e || !(n = calloc(1, sizeof *n)))
        return NULL;
    n->e = e;
    n->j = j;
    zl_appnotify_set_options(n, opt);
    return n;
}

void zl_appnotify_set_options(zl_appnotify *n, const zl_appnotify_options *opt)
{
    n->timeout_ms = opt && opt->timeout_ms > 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;
    n->verify_timeout_ms =
        opt && opt->verify_timeout_ms > 0 ? opt->verify_timeout_ms : ZL_APPNOTIFY_VERIFY_MS;
    n->tries = opt && opt->tries > 0 ? opt->tries : DEFAULT_TRIES;
    n->omit_agentid = opt && opt->omit_agentid;
    n->scene_zero = opt && opt->scene_zero;
}

void zl_appnotify_free(zl_appnotify *n)
{
    endpoint *ep;
    size_t i;

    if (!n)
        return;
    while (n->deliveries) {
        delivery *d = n->deliveries;

        journal(n, "program_notify", delivery_detail(d, "cancelled"));
        delivery_unlink(n, d);
        if (d->state == D_HTTP) {
            d->n = NULL; /* on_post frees it when the call ends */
            continue;
        }
        if (d->timer)
            zl_engine_timer_cancel(n->e, d->timer);
        delivery_free(d);
    }
    while ((ep = n->endpoints)) {
        n->endpoints = ep->next;
        if (ep->vc) {
            ep->vc->n = NULL; /* on_verify frees it when the call ends */
            ep->vc->ep = NULL;
        }
        endpoint_free(ep);
    }
    for (i = 0; i < n->inbox_len; i++)
        cJSON_Delete(n->inbox[i].item);
    free(n->inbox);
    free(n);
}

/* The plaintext of events.md §4; owned, NULL on OOM. */
static char *compose(const char *corpid, const char *create_time, const char *notify_id, int scene)
{
    buf b = {0};
    char num[16];

    zl_sbuf_str(&b, "<xml><ToUserName>");
    zl_appnotify_cdata(&b, corpid);
    zl_sbuf_str(&b, "</ToUserName><FromUserName>");
    zl_appnotify_cdata(&b, "sys");
    zl_sbuf_str(&b, "</FromUserName><CreateTime>");
    zl_sbuf_str(&b, create_time);
    zl_sbuf_str(&b, "</CreateTime><MsgType>");
    zl_appnotify_cdata(&b, "event");
    zl_sbuf_str(&b, "</MsgType><Event>");
    zl_appnotify_cdata(&b, "program_notify");
    zl_sbuf_str(&b, "</Event><NotifyId>");
    zl_appnotify_cdata(&b, notify_id);
    zl_sbuf_str(&b, "</NotifyId>");
    if (scene >= 0) {
        snprintf(num, sizeof num, "%d", scene);
        zl_sbuf_str(&b, "<NotifyScene>");
        zl_sbuf_str(&b, num);
        zl_sbuf_str(&b, "</NotifyScene>");
    }
    zl_sbuf_str(&b, "</xml>");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* 1..max bytes, no control characters. */
static int good_text(const char *s, size_t max)
{
    size_t len = s ? strlen(s) : 0;

    if (len == 0 || len > max)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

int zl_appnotify_send(zl_appnotify *n, const zl_callback_msg *m)
{
    const char *url;
    delivery *d = NULL;
    zl_wxcrypt *c = NULL;
    int err = 0, rc = -1;

    if (!n || !m || !m->kind || !cJSON_IsObject(m->detail) || !m->token || !m->encoding_aes_key ||
        !m->xml || !m->keep || !good_text(m->receiveid, ZL_WORLD_MAX_ID) ||
        strstr(m->receiveid, "]]>"))
        return -1;
    url = m->url ? m->url : "";
    if (strlen(url) > ZL_WORLD_MAX_URL)
        return -1;
    if (!(c = zl_wxcrypt_new(m->token, m->encoding_aes_key, m->receiveid, &err)) ||
        !(d = calloc(1, sizeof *d)))
        goto out;
    d->n = n;
    d->want_success = m->want_success;
    d->keep = m->keep;
    d->keep_ud = m->keep_ud;
    d->kind = strdup(m->kind);
    d->detail = cJSON_Duplicate(m->detail, 1);
    d->receiveid = strdup(m->receiveid);
    d->receiver = strdup(m->receiver ? m->receiver : "built-in");
    d->token = strdup(m->token);
    d->aes_key = strdup(m->encoding_aes_key);
    if (!d->kind || !d->detail || !d->receiveid || !d->receiver || !d->token || !d->aes_key)
        goto out;
    stamp(n, d->timestamp, d->nonce);
    if (zl_wxcrypt_build_callback(c, m->receiveid, m->envelope_agentid, m->xml, strlen(m->xml),
                                  d->timestamp, d->nonce, NULL, &d->body, d->signature) != ZL_WX_OK)
        goto out;
    if (!*url) {
        d->state = D_FAKE;
        if (!(d->timer = zl_engine_timer(n->e, now_ms(n), fake_receive, d)))
            goto out;
    } else {
        zl_callback_msg at = *m;

        at.url = url;
        if (!(d->ep = endpoint_get(n, &at)) ||
            !(d->url = signed_url(url, d->signature, d->timestamp, d->nonce, NULL)))
            goto out;
        d->state = D_WAITING;
        if (d->ep->state != V_OK && d->ep->state != V_PENDING && verify_start(n, d->ep) != 0)
            goto out;
    }
    d->prev = n->last; /* oldest first: waiting deliveries go out in order */
    if (n->last)
        n->last->next = d;
    else
        n->deliveries = d;
    n->last = d;
    if (d->ep && d->ep->state == V_OK)
        post_start(n, d);
    d = NULL;
    rc = 0;
out:
    delivery_free(d);
    zl_wxcrypt_free(c);
    return rc;
}

int zl_appnotify_program_notify(zl_appnotify *n, const char *corpid, const zl_app *app,
                                const char *notify_id, int scene)
{
    char *xml = NULL, agentid[16], ts[24];
    cJSON *detail = NULL;
    zl_callback_msg m;
    int rc = -1;

    if (!n || !app || !app->token || !app->encoding_aes_key || scene < -1 || scene > 255 ||
        !good_text(corpid, ZL_WORLD_MAX_ID) || strstr(corpid, "]]>") ||
        !good_text(notify_id, ZL_APPNOTIFY_MAX_NOTIFY_ID))
        return -1;
    if (scene < 0 && n->scene_zero)
        scene = 0;
    snprintf(ts, sizeof ts, "%" PRId64, zl_clock_now(zl_engine_clock(n->e)));
    snprintf(agentid, sizeof agentid, "%" PRIu32, app->agentid);
    if (!(detail = cJSON_CreateObject()) || !cJSON_AddStringToObject(detail, "corpid", corpid) ||
        !cJSON_AddNumberToObject(detail, "agentid", app->agentid) ||
        !cJSON_AddStringToObject(detail, "notify_id", notify_id) ||
        (scene >= 0 && !cJSON_AddNumberToObject(detail, "notify_scene", scene)) ||
        !(xml = compose(corpid, ts, notify_id, scene)))
        goto out;
    m = (zl_callback_msg){.kind = "program_notify",
                          .detail = detail,
                          .id_name = "corpid",
                          .receiveid = corpid,
                          .agentid = app->agentid,
                          .envelope_agentid = n->omit_agentid ? NULL : agentid,
                          .url = app->callback_url,
                          .token = app->token,
                          .encoding_aes_key = app->encoding_aes_key,
                          .xml = xml,
                          .receiver = "fake_app",
                          .keep = fake_app_keep,
                          .keep_ud = n};
    rc = zl_appnotify_send(n, &m);
out:
    cJSON_Delete(detail);
    free(xml);
    return rc;
}

cJSON *zl_appnotify_inbox(const zl_appnotify *n, uint32_t agentid, uint64_t since)
{
    cJSON *a, *it;
    size_t lo = 0, hi, i;

    if (!n || !(a = cJSON_CreateArray()))
        return NULL;
    hi = n->inbox_len;
    while (lo < hi) { /* first entry with seq > since */
        size_t mid = lo + (hi - lo) / 2;

        if (n->inbox[mid].seq <= since)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (i = lo; i < n->inbox_len; i++) {
        if (agentid && n->inbox[i].agentid != agentid)
            continue;
        if (!(it = cJSON_Duplicate(n->inbox[i].item, 1)) || !cJSON_AddItemToArray(a, it)) {
            cJSON_Delete(it);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

uint64_t zl_appnotify_inbox_last(const zl_appnotify *n)
{
    return n ? n->inbox_last : 0;
}

uint64_t zl_appnotify_inbox_first(const zl_appnotify *n)
{
    if (!n)
        return 1;
    return n->inbox_len ? n->inbox[0].seq : n->inbox_last + 1;
}

int zl_appnotify_url_verified(const zl_appnotify *n, const char *corpid, uint32_t agentid,
                              const char **why)
{
    const endpoint *ep;

    if (!n || !corpid)
        return -1;
    for (ep = n->endpoints; ep; ep = ep->next)
        if (ep->agentid == agentid && !strcmp(ep->receiveid, corpid))
            break;
    if (!ep || ep->state == V_NONE || ep->state == V_PENDING)
        return -1;
    if (ep->state == V_FAILED && why)
        *why = ep->why;
    return ep->state == V_OK;
}
