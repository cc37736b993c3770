/* engine_request: an inbound request's side of the engine: its headers and query as read
 * from libmicrohttpd, what routes read of it, and requests injected without a socket (the fuzz
 * targets' way in). engine.c dispatches and answers them. */
#define _GNU_SOURCE
#include "core/engine_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *k,
                                    const char *v)
{
    zl_request *r = cls;

    (void)kind;
    if (r->names) {
        r->names[r->n_headers] = k;
        r->values[r->n_headers] = v ? v : "";
    }
    r->n_headers++;
    return MHD_YES;
}

int zl_engine_collect_headers(zl_request *r)
{
    size_t n;

    if (r->injected) /* zl_engine_inject set them */
        return 0;
    r->n_headers = 0;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, r);
    n = r->n_headers;
    r->names = calloc(n + 1, sizeof *r->names);
    r->values = calloc(n + 1, sizeof *r->values);
    if (!r->names || !r->values)
        return -1;
    r->n_headers = 0;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, r);
    return 0;
}

size_t zl_engine_unescape(char *p, int plus)
{
    char *start = p, *w = p;

    for (; *p; p++) {
        if (plus && *p == '+') {
            *w++ = ' ';
        } else if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], '\0'};

            *w++ = (char)strtoul(hex, NULL, 16);
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return (size_t)(w - start);
}

/* Splits r's query ('&' between arguments, the first '=' between name and value); 0, or -1
 * when memory ran out. */
int zl_engine_query_parse(zl_request *r)
{
    const char *q = strchr(r->target, '?');
    size_t n = 1, i = 0;
    char *p, *amp;

    if (!q || !q[1])
        return 0;
    if (!(r->qbuf = strdup(q + 1)))
        return -1;
    for (p = r->qbuf; (p = strchr(p, '&')); p++)
        n++;
    if (!(r->query = calloc(n, sizeof *r->query)))
        return -1;
    for (p = r->qbuf; p; p = amp) {
        char *eq;

        if ((amp = strchr(p, '&')))
            *amp++ = '\0';
        if (!*p)
            continue; /* "a&&b", a trailing '&' */
        if ((eq = strchr(p, '=')))
            *eq++ = '\0';
        r->query[i].name = p;
        r->query[i].name_len = zl_engine_unescape(p, 1);
        if (eq) {
            zl_engine_unescape(eq, 1);
            r->query[i].value = eq;
        }
        i++;
    }
    r->n_query = i;
    return 0;
}

const char *zl_request_method(const zl_request *r)
{
    return r->method;
}

const char *zl_request_path(const zl_request *r)
{
    return r->path;
}

const char *zl_request_query(const zl_request *r, const char *name)
{
    size_t i, len = strlen(name);

    if (!r->target) /* on_uri ran out of memory: libmicrohttpd kept the arguments */
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    for (i = 0; i < r->n_query; i++)
        if (r->query[i].name_len == len && !strncasecmp(r->query[i].name, name, len))
            return r->query[i].value;
    return NULL;
}

const char *zl_request_header(const zl_request *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++)
        if (!strcasecmp(r->names[i], name))
            return r->values[i];
    return NULL;
}

size_t zl_request_headers(const zl_request *r, const char ***names, const char ***values)
{
    *names = r->names;
    *values = r->values;
    return r->n_headers;
}

const char *zl_request_body(const zl_request *r)
{
    return r->body ? r->body : "";
}

size_t zl_request_body_len(const zl_request *r)
{
    return r->len;
}

int zl_request_from_loopback(const zl_request *r)
{
    const union MHD_ConnectionInfo *ci =
        r->injected ? NULL : MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    if (r->injected)
        return r->loopback;
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

size_t zl_request_too_large(const zl_request *r)
{
    return r->too_large ? r->e->max_body : 0;
}

/* ---- injected requests ---- */

void zl_engine_injected_sweep(zl_engine *e)
{
    zl_request *r, *next;

    for (r = e->live; r; r = next) {
        next = r->next;
        if (r->injected && r->answered)
            zl_engine_request_free(r);
    }
}

/* A copy of n bytes of p that r owns, NUL-terminated; NULL when memory runs out. */
static char *own(zl_request *r, const char *p, size_t n)
{
    char **list = realloc(r->own, (r->n_own + 1) * sizeof *list), *c;

    if (!list)
        return NULL;
    r->own = list;
    if (!(c = malloc(n + 1)))
        return NULL;
    memcpy(c, p, n);
    c[n] = '\0';
    return r->own[r->n_own++] = c;
}

int zl_engine_inject(zl_engine *e, const zl_inject *in)
{
    zl_request *r;
    const char *target = in->target ? in->target : "/";
    size_t path_len = strcspn(target, "?"), i;

    zl_engine_injected_sweep(e);
    if (!(r = calloc(1, sizeof *r)))
        return -1;
    r->e = e;
    r->injected = 1;
    r->loopback = in->loopback;
    r->inject_done = in->done;
    r->inject_ud = in->ud;
    r->method = strdup(in->method ? in->method : "GET");
    r->target = strdup(target);
    r->path = malloc(path_len + 1);
    r->names = calloc(in->n_headers + 1, sizeof *r->names);
    r->values = calloc(in->n_headers + 1, sizeof *r->values);
    if (!r->method || !r->target || !r->path || !r->names || !r->values)
        goto fail;
    memcpy(r->path, target, path_len);
    r->path[path_len] = '\0';
    zl_engine_unescape(r->path, 0);
    for (i = 0; i < in->n_headers; i++) {
        const char *v = in->values[i] ? in->values[i] : "";

        if (!(r->names[i] = own(r, in->names[i], strlen(in->names[i]))) ||
            !(r->values[i] = own(r, v, strlen(v))))
            goto fail;
    }
    r->n_headers = in->n_headers; /* dispatch() splits the query, as for any request */
    if (in->len > e->max_body)
        r->too_large = 1;
    else if (zl_engine_buf_append(&r->body, &r->len, &r->cap, in->body ? in->body : "", in->len) !=
             0)
        goto fail;
    r->dispatched = 1;
    r->next = e->live;
    if (e->live)
        e->live->prev = r;
    e->live = r;
    e->injected_waiting++;
    zl_engine_dispatch(e, r);
    return 0;
fail:
    zl_engine_request_free(r);
    return -1;
}

size_t zl_engine_injected_waiting(const zl_engine *e)
{
    return e->injected_waiting;
}
