/* invoke: SDK API calls from the program to the backend over zone wire v1 (libcurl, loaded on
 * the first invoke). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <openssl/crypto.h>

#include "api_names.h"
#include "config.h"
#include "jsoncheck.h"
#include "log.h"
#include "wire.h"
#include "zone_sdk.h"

struct zone_sdk {
    zone_config cfg;
    char msg[ZONE_ERRBUF_SIZE]; /* why every invoke fails, when cfg.status is ZONE_OK but this is
                                   not */
    int status;
    char *corpid, *ability_id, *job_info;
    uint32_t agentid;
};

char *zone_generate_notify_id(void)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    char *s = malloc(33);
    size_t i;

    if (!s || zone_wire_random(r, sizeof r) != 0) {
        free(s);
        return NULL;
    }
    for (i = 0; i < sizeof r; i++) {
        s[2 * i] = hex[r[i] >> 4];
        s[2 * i + 1] = hex[r[i] & 15];
    }
    s[32] = '\0';
    return s;
}

/* ---- one process-wide curl setup: libcurl loaded, global init, a shared connection cache ---- */

/*
 * libcurl and the ~30 libraries it needs are loaded on the first invoke, not when the program
 * starts: the dynamic linker spends about 8 ms of CPU on them, which every start of a program
 * (every scenario file) paid, invoke or not. These are the functions the SDK calls.
 */
static struct {
    CURLcode (*global_init)(long flags);
    CURLSH *(*share_init)(void);
    CURLSHcode (*share_setopt)(CURLSH *sh, CURLSHoption option, ...);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *c, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *c);
    void (*easy_reset)(CURL *c);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *text);
    void (*slist_free_all)(struct curl_slist *list);
} lc;

#define LIBCURL_SONAME "libcurl.so.4"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static char curl_why[160] = "libcurl did not initialise"; /* why share is NULL */

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud)
{
    (void)h, (void)a, (void)ud;
    pthread_mutex_lock(&share_locks[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud)
{
    (void)h, (void)ud;
    pthread_mutex_unlock(&share_locks[d]);
}

/* Fills lc from libcurl; 0, or -1 with curl_why saying what is missing. */
static int curl_load(void)
{
    static const struct {
        const char *name;
        void **fn;
    } fns[] = {
        {"curl_global_init", (void **)&lc.global_init},
        {"curl_share_init", (void **)&lc.share_init},
        {"curl_share_setopt", (void **)&lc.share_setopt},
        {"curl_easy_init", (void **)&lc.easy_init},
        {"curl_easy_setopt", (void **)&lc.easy_setopt},
        {"curl_easy_perform", (void **)&lc.easy_perform},
        {"curl_easy_getinfo", (void **)&lc.easy_getinfo},
        {"curl_easy_cleanup", (void **)&lc.easy_cleanup},
        {"curl_easy_reset", (void **)&lc.easy_reset},
        {"curl_easy_strerror", (void **)&lc.easy_strerror},
        {"curl_slist_append", (void **)&lc.slist_append},
        {"curl_slist_free_all", (void **)&lc.slist_free_all},
    };
    void *h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL); /* kept for the process's life */
    const char *e;
    size_t i;

    if (!h) {
        e = dlerror();
        snprintf(curl_why, sizeof curl_why, "libcurl could not be loaded: %s",
                 e ? e : LIBCURL_SONAME);
        return -1;
    }
    for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (!(*fns[i].fn = dlsym(h, fns[i].name))) {
            snprintf(curl_why, sizeof curl_why, "%s has no %s", LIBCURL_SONAME, fns[i].name);
            return -1;
        }
    return 0;
}

/* Each thread keeps one easy handle for its invokes (and with it the multi handle
 * curl_easy_perform makes), reset after each: making and cleaning up both per call was a
 * tenth of a notifying program's CPU. A child of fork() makes its own: the one it inherited
 * is the parent's (generation). */
static pthread_key_t easy_key;
static bool easy_key_ok;
static unsigned long fork_generation;

typedef struct thread_easy {
    CURL *c;
    unsigned long generation;
} thread_easy;

static void easy_free(void *ud)
{
    thread_easy *t = ud;

    if (t->generation == fork_generation)
        lc.easy_cleanup(t->c);
    free(t);
}

static void easy_forget(void)
{
    fork_generation++;
}

/* The calling thread's easy handle, made on first use; NULL when out of memory. */
static CURL *thread_easy_get(void)
{
    thread_easy *t = easy_key_ok ? pthread_getspecific(easy_key) : NULL;

    if (t && t->generation == fork_generation)
        return t->c;
    if (t) { /* the parent's: left alone */
        free(t);
        pthread_setspecific(easy_key, NULL);
    }
    if (!easy_key_ok)
        return lc.easy_init(); /* cleaned up after the call (thread_easy_put) */
    if (!(t = calloc(1, sizeof *t)) || !(t->c = lc.easy_init())) {
        free(t);
        return NULL;
    }
    t->generation = fork_generation;
    if (pthread_setspecific(easy_key, t) != 0) {
        lc.easy_cleanup(t->c);
        free(t);
        return NULL;
    }
    return t->c;
}

/* Done with c: reset for the thread's next invoke (it points at this call's buffers). */
static void thread_easy_put(CURL *c)
{
    if (easy_key_ok)
        lc.easy_reset(c);
    else
        lc.easy_cleanup(c);
}

static void curl_setup(void)
{
    size_t i;

    if (curl_load() != 0 || lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return;
    easy_key_ok = pthread_key_create(&easy_key, easy_free) == 0;
    pthread_atfork(NULL, NULL, easy_forget);
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share_locks[i], NULL);
    if (!(share = lc.share_init()))
        return;
    lc.share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
    lc.share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    lc.share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    lc.share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

/* ---- handles ---- */

static zone_sdk *sdk_make(const char *corpid, uint32_t agentid, const char *ability_id,
                          const char *job_info)
{
    zone_sdk *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->corpid = strdup(corpid ? corpid : "");
    s->ability_id = strdup(ability_id ? ability_id : "");
    s->job_info = strdup(job_info ? job_info : "");
    s->agentid = agentid;
    if (!s->corpid || !s->ability_id || !s->job_info) {
        zone_sdk_free(s);
        return NULL;
    }
    zone_config_load(&s->cfg, ZONE_CONFIG_ALL);
    s->status = s->cfg.status;
    snprintf(s->msg, sizeof s->msg, "%s", s->cfg.msg);
    return s;
}

zone_sdk *zone_sdk_new(const char *corpid, uint32_t agentid, const char *ability_id,
                       const char *job_info)
{
    return sdk_make(corpid, agentid, ability_id, job_info);
}

zone_sdk *zone_sdk_new_from_callback(const zone_callback *cb)
{
    zone_sdk *s = sdk_make(zone_callback_corpid(cb), zone_callback_agentid(cb),
                           zone_callback_ability_id(cb), zone_callback_job_info(cb));

    if (s && !zone_callback_ok(cb) && s->status == ZONE_OK) {
        s->status = ZONE_ERR_INTERNAL;
        snprintf(s->msg, sizeof s->msg,
                 "the inbound request did not verify (%d); a handle from a callback needs "
                 "zone_callback_ok() (IsOk())",
                 zone_callback_status(cb));
    }
    return s;
}

void zone_sdk_free(zone_sdk *s)
{
    if (!s)
        return;
    free(s->corpid);
    free(s->ability_id);
    free(s->job_info);
    OPENSSL_cleanse(&s->cfg.keys, sizeof s->cfg.keys);
    free(s);
}

/* ---- one exchange ---- */

#define MAX_REPLY_HEADERS 16

typedef struct exchange {
    char *body;
    size_t len, cap;
    int too_large;
    size_t n_headers;
    char *names[MAX_REPLY_HEADERS], *values[MAX_REPLY_HEADERS];
} exchange;

static void exchange_cleanup(exchange *x)
{
    size_t i;

    free(x->body);
    for (i = 0; i < x->n_headers; i++) {
        free(x->names[i]);
        free(x->values[i]);
    }
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    exchange *x = ud;
    size_t n = size * nmemb;

    if (x->len + n > ZONE_WIRE_MAX_BODY) {
        x->too_large = 1;
        return 0;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        char *b;

        while (cap < x->len + n + 1)
            cap *= 2;
        if (!(b = realloc(x->body, cap)))
            return 0;
        x->body = b;
        x->cap = cap;
    }
    memcpy(x->body + x->len, p, n);
    x->len += n;
    x->body[x->len] = '\0';
    return n;
}

/* Keeps the ww-* headers of the final response, names exactly as they arrived. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    exchange *x = ud;
    size_t n = size * nmemb, nl, vs, ve;
    const char *colon;
    size_t i;

    if (n >= 5 && !memcmp(p, "HTTP/", 5)) { /* a new response (after 100 Continue) */
        for (i = 0; i < x->n_headers; i++) {
            free(x->names[i]);
            free(x->values[i]);
        }
        x->n_headers = 0;
        return n;
    }
    if (n > 15 && !strncasecmp(p, "Content-Length:", 15) && !x->body) {
        /* the body's room at once, not by doubling as it arrives */
        unsigned long long want = strtoull(p + 15, NULL, 10);

        if (want > 0 && want <= ZONE_WIRE_MAX_BODY && (x->body = malloc((size_t)want + 1)))
            x->cap = (size_t)want + 1;
        return n;
    }
    if (n < 3 || (p[0] != 'w' && p[0] != 'W') || x->n_headers == MAX_REPLY_HEADERS)
        return n;
    if (!(colon = memchr(p, ':', n)))
        return n;
    nl = (size_t)(colon - p);
    if (nl < 3 || strncasecmp(p, "ww-", 3) != 0)
        return n;
    vs = nl + 1;
    ve = n;
    while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
        vs++;
    while (ve > vs && (p[ve - 1] == '\r' || p[ve - 1] == '\n' || p[ve - 1] == ' '))
        ve--;
    if (ve - vs > ZONE_WIRE_MAX_HEADER * 4)
        return n;
    x->names[x->n_headers] = strndup(p, nl);
    x->values[x->n_headers] = strndup(p + vs, ve - vs);
    if (!x->names[x->n_headers] || !x->values[x->n_headers]) {
        free(x->names[x->n_headers]);
        free(x->values[x->n_headers]);
        return 0;
    }
    x->n_headers++;
    return n;
}

static const char *find_header(const exchange *x, const char *name)
{
    size_t i;

    for (i = 0; i < x->n_headers; i++)
        if (!strcmp(x->names[i], name))
            return x->values[i];
    return NULL;
}

static int say(char *errbuf, size_t errlen, int code, const char *api, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int say(char *errbuf, size_t errlen, int code, const char *api, const char *fmt, ...)
{
    char msg[ZONE_ERRBUF_SIZE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    zone_config_say(errbuf, errlen, "%s", msg);
    zone_log_write(ZONE_LOG_LEVEL_ERR, __FILE__, __LINE__, "invoke %.40s: %d %s", api ? api : "",
                   code, msg);
    return code;
}

/* Sends one sealed invoke envelope; on ZONE_OK *response is the reply's response text. */
static int exchange_invoke(const zone_sdk *s, const char *api, const char *request, char **response,
                           char *errbuf, size_t errlen)
{
    zone_wire_invoke inv = {0};
    zone_wire_sealed_headers h;
    zone_wire_reply rep = {0};
    zone_wire_header got[MAX_REPLY_HEADERS];
    exchange x = {0};
    struct curl_slist *hl = NULL, *t;
    char curl_err[CURL_ERROR_SIZE] = "", url[sizeof s->cfg.url + 32],
         line[ZONE_WIRE_MAX_HEADER + 32];
    char detail[ZONE_ERRBUF_SIZE] = "", *plain = NULL, *body = NULL, *reply = NULL;
    const char *exc;
    size_t reply_len = 0, i;
    long status = 0;
    CURL *c = NULL;
    CURLcode cc;
    int rc, wr;

    /* the envelope only reads these while encoding */
    inv.api = (char *)(uintptr_t)api;
    inv.request = (char *)(uintptr_t)request;
    inv.corpid = s->corpid;
    inv.ability_id = s->ability_id;
    inv.job_info = s->job_info;
    inv.instance = (char *)(uintptr_t)s->cfg.instance;
    inv.agentid = s->agentid;
    if (!(plain = zone_wire_invoke_encode(&inv))) {
        rc = say(errbuf, errlen, ZONE_ERR_INTERNAL, api, "out of memory encoding the request");
        goto out;
    }
    wr = zone_wire_seal(&s->cfg.keys, NULL, "POST", ZONE_WIRE_INVOKE_PATH, plain, strlen(plain), &h,
                        &body);
    if (wr != ZONE_WIRE_OK) {
        rc = say(errbuf, errlen, zone_wire_sdk_code(wr), api, "sealing the request failed: %s",
                 zone_wire_strerror(wr));
        goto out;
    }
    pthread_once(&curl_once, curl_setup);
    if (!share || !(c = thread_easy_get())) {
        rc = say(errbuf, errlen, ZONE_ERR_INTERNAL, api, "%s", curl_why);
        goto out;
    }
    snprintf(url, sizeof url, "%s%s", s->cfg.url, ZONE_WIRE_INVOKE_PATH);
    {
        const char *hv[][2] = {{"ww-secret-ver", h.secret_ver}, {"ww-timestamp", h.timestamp},
                               {"ww-nonce", h.nonce},           {"ww-signature", h.signature},
                               {"Content-Type", "text/plain"},  {"Expect", ""}};
        for (i = 0; i < sizeof hv / sizeof hv[0]; i++) {
            snprintf(line, sizeof line, "%s: %s", hv[i][0], hv[i][1]);
            if (!(t = lc.slist_append(hl, line))) {
                rc = say(errbuf, errlen, ZONE_ERR_INTERNAL, api, "out of memory");
                goto out;
            }
            hl = t;
        }
    }
    lc.easy_setopt(c, CURLOPT_URL, url);
    lc.easy_setopt(c, CURLOPT_SHARE, share);
    lc.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    lc.easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    lc.easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    lc.easy_setopt(c, CURLOPT_POSTFIELDS, body);
    lc.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    lc.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    lc.easy_setopt(c, CURLOPT_WRITEDATA, &x);
    lc.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    lc.easy_setopt(c, CURLOPT_HEADERDATA, &x);
    lc.easy_setopt(c, CURLOPT_TIMEOUT_MS, s->cfg.timeout_ms);
    lc.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   s->cfg.timeout_ms < 5000 ? s->cfg.timeout_ms : 5000L);
    lc.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    cc = lc.easy_perform(c);
    if (x.too_large) {
        rc = say(errbuf, errlen, ZONE_ERR_INTERNAL, api, "the reply body is over %u bytes",
                 ZONE_WIRE_MAX_BODY);
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = say(errbuf, errlen, ZONE_ERR_NETWORK, api, "POST %s failed: %s", url,
                 curl_err[0] ? curl_err : lc.easy_strerror(cc));
        goto out;
    }
    lc.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        rc = say(errbuf, errlen, ZONE_ERR_HTTP_STATUS, api, "HTTP %ld from %s (expected 200)",
                 status, url);
        goto out;
    }
    if ((exc = find_header(&x, ZONE_WIRE_H_EXCEPTION))) {
        const char *why = find_header(&x, ZONE_WIRE_H_ERROR);
        long code = strtol(exc, NULL, 10);

        rc = (code <= -10001 && code >= -10009) ? (int)code : ZONE_ERR_INTERNAL;
        rc = say(errbuf, errlen, rc, api, "the backend refused the request: %s",
                 why ? why : "no reason given");
        goto out;
    }
    if (x.len == 0) {
        rc = say(errbuf, errlen, ZONE_ERR_EMPTY_RESPONSE, api, "HTTP 200 with an empty body");
        goto out;
    }
    for (i = 0; i < x.n_headers; i++) {
        got[i].name = x.names[i];
        got[i].value = x.values[i];
    }
    wr = zone_wire_open(&s->cfg.keys, NULL, NULL, ZONE_WIRE_REPLY_METHOD, ZONE_WIRE_INVOKE_PATH,
                        got, x.n_headers, x.body, x.len, &reply, &reply_len, detail, sizeof detail);
    if (wr != ZONE_WIRE_OK) {
        rc = say(errbuf, errlen, zone_wire_sdk_code(wr), api, "the reply did not verify: %s",
                 detail[0] ? detail : zone_wire_strerror(wr));
        goto out;
    }
    if (zone_wire_reply_take(&reply, reply_len, &rep) != ZONE_WIRE_OK || !rep.response) {
        rc = say(errbuf, errlen, ZONE_ERR_JSON, api, "the reply is not a reply envelope");
        goto out;
    }
    *response = rep.response;
    rep.response = NULL;
    rc = ZONE_OK;
out:
    zone_wire_reply_cleanup(&rep);
    free(reply);
    exchange_cleanup(&x);
    lc.slist_free_all(hl);
    if (c)
        thread_easy_put(c);
    free(body);
    free(plain);
    return rc;
}

int zone_sdk_invoke(const zone_sdk *s, const char *api, const char *request, char **response,
                    char *errbuf, size_t errlen)
{
    char *rsp = NULL;
    int rc;

    if (response)
        *response = NULL;
    if (!s || !response)
        return say(errbuf, errlen, ZONE_ERR_INTERNAL, api, "handle and response must not be NULL");
    if (s->status != ZONE_OK)
        return say(errbuf, errlen, s->status, api, "%s", s->msg);
    if (!zone_api_name_known(api))
        return say(errbuf, errlen, ZONE_ERR_UNSUPPORTED_API, api,
                   "unsupported API name '%.60s' (names match exactly; see the SDK API list)",
                   api ? api : "(null)");
    if (!zone_json_check(request))
        return say(errbuf, errlen, ZONE_ERR_JSON, api, "the request is not JSON text");
    rc = exchange_invoke(s, api, request, &rsp, errbuf, errlen);
    if (rc != ZONE_OK)
        return rc;
    if (!zone_json_check(rsp)) {
        free(rsp);
        return say(errbuf, errlen, ZONE_ERR_JSON, api, "the reply's response is not JSON text");
    }
    *response = rsp;
    return ZONE_OK;
}

int zone_open_debug_mode(const char *debug_token, const char *access_token, char *errbuf,
                         size_t errlen)
{
    zone_sdk *s = NULL;
    cJSON *req = NULL, *rsp = NULL, *code;
    char *req_text = NULL, *rsp_text = NULL;
    int ok = 0, rc;

    if (!debug_token || !*debug_token || !access_token || !*access_token) {
        zone_config_say(errbuf, errlen, "debug mode needs a debug_token and an access_token");
        return 0;
    }
    if (!(s = sdk_make("", 0, "", "")) || !(req = cJSON_CreateObject()) ||
        !cJSON_AddStringToObject(req, "debug_token", debug_token) ||
        !cJSON_AddStringToObject(req, "access_token", access_token) ||
        !(req_text = cJSON_PrintUnformatted(req))) {
        zone_config_say(errbuf, errlen, "out of memory");
        goto out;
    }
    if (s->status != ZONE_OK) {
        zone_config_say(errbuf, errlen, "%s", s->msg);
        goto out;
    }
    rc = exchange_invoke(s, ZONE_API_OPEN_DEBUG_MODE, req_text, &rsp_text, errbuf, errlen);
    if (rc != ZONE_OK)
        goto out;
    rsp = cJSON_Parse(rsp_text);
    code = cJSON_GetObjectItemCaseSensitive(rsp, "errcode");
    if (!cJSON_IsNumber(code)) {
        zone_config_say(errbuf, errlen, "the backend's answer has no errcode");
        goto out;
    }
    if (code->valuedouble != 0) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(rsp, "errmsg");

        zone_config_say(errbuf, errlen, "debug mode refused: errcode %.0f %s", code->valuedouble,
                        cJSON_IsString(m) ? m->valuestring : "");
        goto out;
    }
    ok = 1;
out:
    cJSON_Delete(req);
    cJSON_Delete(rsp);
    cJSON_free(req_text);
    free(rsp_text);
    zone_sdk_free(s);
    return ok;
}
