/* engine_http: the engine's outbound HTTP calls: a call made, its answer collected, each
 * callback run once, what an observer sees of it. libcurl's multi on the engine's loop
 * carries them, except a caller's direct ones to a program on this machine, which the
 * engine's own HTTP/1.1 client carries (engine_h1.c). */
#include "core/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void call_free(call *c)
{
    size_t i;

    curl_slist_free_all(c->headers);
    free(c->method);
    free(c->url);
    free(c->req_body);
    free(c->body);
    free(c->wbuf);
    for (i = 0; i < c->n_headers; i++) {
        free(c->names[i]);
        free(c->values[i]);
    }
    free(c);
}

static void call_unlink(zl_engine *e, call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        e->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static size_t call_body(char *p, size_t s, size_t n, void *ud)
{
    call *c = ud;
    size_t k = s * n;

    if (c->len + k > MAX_CALL_BODY)
        return 0;
    return zl_engine_buf_append(&c->body, &c->len, &c->cap, p, k) == 0 ? k : 0;
}

static size_t call_header(char *p, size_t s, size_t n, void *ud)
{
    call *c = ud;
    size_t k = s * n, nl, vs, ve, i;
    const char *colon;

    if (k >= 5 && !memcmp(p, "HTTP/", 5)) {
        for (i = 0; i < c->n_headers; i++) {
            free(c->names[i]);
            free(c->values[i]);
        }
        c->n_headers = 0;
        return k;
    }
    if (c->n_headers == MAX_CALL_HEADERS || !(colon = memchr(p, ':', k)))
        return k;
    nl = (size_t)(colon - p);
    vs = nl + 1;
    ve = k;
    while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
        vs++;
    while (ve > vs && (p[ve - 1] == '\r' || p[ve - 1] == '\n' || p[ve - 1] == ' '))
        ve--;
    c->names[c->n_headers] = strndup(p, nl);
    c->values[c->n_headers] = strndup(p + vs, ve - vs);
    if (!c->names[c->n_headers] || !c->values[c->n_headers]) {
        free(c->names[c->n_headers]);
        free(c->values[c->n_headers]);
        return 0;
    }
    c->n_headers++;
    return k;
}

/* An easy handle with every option at its default: a kept one, or a new one; NULL when memory
 * ran out. */
static CURL *handle_get(zl_engine *e)
{
    return e->n_idle ? e->idle[--e->n_idle] : curl_easy_init();
}

/* Takes h (out of the multi handle): kept for a next call, or freed. */
static void handle_put(zl_engine *e, CURL *h)
{
    if (e->n_idle == ZL_ENGINE_IDLE_HANDLES) {
        curl_easy_cleanup(h);
        return;
    }
    curl_easy_reset(h);
    e->idle[e->n_idle++] = h;
}

/* The port and path of a URL the direct client takes (http://127.0.0.1:PORT/PATH, a GET or a
 * POST): true; false for any other call. */
static bool direct_target(const zl_http_request *req, unsigned short *port, const char **path)
{
    static const char prefix[] = "http://127.0.0.1:";
    const char *p;
    unsigned long v = 0;

    if (!req->direct || strncmp(req->url, prefix, sizeof prefix - 1) ||
        (req->method && strcmp(req->method, "GET") && strcmp(req->method, "POST")))
        return false;
    for (p = req->url + sizeof prefix - 1; *p >= '0' && *p <= '9' && v <= 65535; p++)
        v = v * 10 + (unsigned long)(*p - '0');
    if (p == req->url + sizeof prefix - 1 || v == 0 || v > 65535 || *p != '/')
        return false;
    for (const char *q = p; *q; q++) /* a target libcurl would have escaped or refused */
        if ((unsigned char)*q <= ' ' || *q == '#' || (unsigned char)*q >= 0x7f)
            return false;
    *port = (unsigned short)v;
    *path = p;
    return true;
}

static void call_link(zl_engine *e, call *c)
{
    c->id = ++e->exchanges;
    c->next = e->calls;
    if (e->calls)
        e->calls->prev = c;
    e->calls = c;
}

int zl_engine_http(zl_engine *e, const zl_http_request *req, zl_http_fn fn, void *ud)
{
    call *c = calloc(1, sizeof *c);
    CURL *h = NULL;
    unsigned short port;
    const char *path;
    size_t i;

    if (!c)
        return -1;
    c->fn = fn;
    c->ud = ud;
    c->start = zl_clock_wall_ms(&e->clock);
    c->t_start = zl_clock_now_ms(&e->clock);
    if (!(c->method = strdup(req->method ? req->method : "GET")) || !(c->url = strdup(req->url)))
        goto fail;
    for (i = 0; i < req->n_headers; i++) {
        struct curl_slist *t = curl_slist_append(c->headers, req->headers[i]);

        if (!t)
            goto fail;
        c->headers = t;
    }
    if (!strcmp(c->method, "POST")) {
        if (!(c->req_body = malloc(req->body_len + 1)))
            goto fail;
        if (req->body_len)
            memcpy(c->req_body, req->body, req->body_len);
        c->req_body[req->body_len] = '\0';
        c->req_len = req->body_len;
    }
    if (direct_target(req, &port, &path)) {
        c->direct = 1;
        call_link(e, c);
        if (zl_h1_start(e, c, port, path, req) == 0)
            return 0;
        call_unlink(e, c);
        goto fail;
    }
    if (!(h = handle_get(e)) || !(c->headers = curl_slist_append(c->headers, "Expect:")))
        goto fail;
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, c);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, call_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, call_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 5000L);
    if (c->req_body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->req_body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (curl_multi_add_handle(e->multi, h) != CURLM_OK)
        goto fail;
    c->h = h;
    call_link(e, c);
    return 0;
fail:
    if (h)
        handle_put(e, h);
    call_free(c);
    return -1;
}

/* Tells the observer about a call whose result is res. */
static void observe_call(zl_engine *e, const call *c, const zl_http_result *res)
{
    const char *names[MAX_CALL_HEADERS], *values[MAX_CALL_HEADERS];
    char *split[MAX_CALL_HEADERS];
    const struct curl_slist *l;
    size_t n = 0, i;
    zl_exchange x;

    if (!e->observe)
        return;
    for (l = c->headers; l && n < MAX_CALL_HEADERS; l = l->next) {
        const char *colon = strchr(l->data, ':'), *v;

        if (!colon || !strcmp(l->data, "Expect:")) /* ours, not the caller's */
            continue;
        if (!(split[n] = strndup(l->data, (size_t)(colon - l->data))))
            break;
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        names[n] = split[n];
        values[n++] = v;
    }
    x = (zl_exchange){.outbound = true,
                      .id = c->id,
                      .t_start_ms = c->t_start,
                      .t_end_ms = zl_clock_now_ms(&e->clock),
                      .elapsed_ms = res->elapsed_ms,
                      .method = c->method,
                      .target = c->url,
                      .n_req_headers = n,
                      .req_names = names,
                      .req_values = values,
                      .req_body = c->req_body ? c->req_body : "",
                      .req_len = c->req_len,
                      .status = res->curl_code == 0 ? res->status : 0,
                      .n_resp_headers = res->n_headers,
                      .resp_names = res->header_names,
                      .resp_values = res->header_values,
                      .resp_body = res->body ? res->body : "",
                      .resp_len = res->body_len,
                      .curl_code = res->curl_code,
                      .error = res->curl_code ? res->error : NULL};
    e->observe(e->observe_ud, &x);
    for (i = 0; i < n; i++)
        free(split[i]);
}

/* Hands c's result to its observer and its callback, and frees c (unlinked already). */
static void finish(zl_engine *e, call *c, zl_http_result *res)
{
    res->body = c->body ? c->body : "";
    res->body_len = c->len;
    res->n_headers = c->n_headers;
    res->header_names = (const char *const *)c->names;
    res->header_values = (const char *const *)c->values;
    res->elapsed_ms = zl_clock_wall_ms(&e->clock) - c->start;
    observe_call(e, c, res);
    c->fn(e, res, c->ud);
}

void zl_engine_finish_calls(zl_engine *e)
{
    CURLMsg *m;
    int left;

    while (e->done) { /* the direct calls, in the order they ended */
        call *c = e->done;
        zl_http_result res = {.curl_code = c->code, .status = c->status};

        if (!(e->done = c->done_next))
            e->done_tail = NULL;
        res.error = c->code ? c->errbuf : NULL;
        call_unlink(e, c);
        finish(e, c, &res);
        call_free(c);
    }
    while ((m = curl_multi_info_read(e->multi, &left))) {
        CURL *h = m->easy_handle;
        call *c = NULL;
        zl_http_result res;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&c);
        memset(&res, 0, sizeof res);
        res.curl_code = (int)m->data.result;
        res.error = c->errbuf[0] ? c->errbuf : curl_easy_strerror(m->data.result);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res.status);
        call_unlink(e, c);
        finish(e, c, &res);
        curl_multi_remove_handle(e->multi, h);
        handle_put(e, h);
        call_free(c);
    }
}

void zl_engine_cancel_calls(zl_engine *e)
{
    zl_engine_finish_calls(e); /* the direct calls that ended keep their results */
    while (e->calls) {
        call *c = e->calls;
        zl_http_result res = {.curl_code = CURLE_ABORTED_BY_CALLBACK,
                              .error = "the emulator is shutting down"};

        call_unlink(e, c);
        if (c->direct)
            zl_h1_cancel(e, c);
        finish(e, c, &res);
        if (c->h) {
            curl_multi_remove_handle(e->multi, c->h);
            curl_easy_cleanup(c->h);
        }
        call_free(c);
    }
    while (e->n_idle)
        curl_easy_cleanup(e->idle[--e->n_idle]);
    zl_h1_free(e);
}
