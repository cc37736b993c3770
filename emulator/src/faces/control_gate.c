/* control_gate: who may reach /_zonelab/ (the control face and the inspector). A loopback
 * client naming a loopback host, or anyone with the control token; a body in JSON; a browser
 * only from the emulator's own origin. What it keeps out: a web page the developer visits
 * (cross-site POSTs, DNS rebinding) and, under --allow-remote, the network. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "faces/control.h"

/* The scenario's test app is an app's callback URL (WeCom posts XML there), not the control
 * face: it is let through as any callback URL is. */
#define TEST_APP "/_zonelab/test-app"

static void refuse(zl_request *r, unsigned status, const char *why)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddBoolToObject(j, "ok", false);
    cJSON_AddStringToObject(j, "error", why);
    if (status == 401)
        zl_request_add_header(r, "WWW-Authenticate", "Bearer realm=\"zonelab\"");
    zl_request_respond_json(r, status, j);
}

/* host's name without its port: "a:80" -> "a", "[::1]:80" -> "::1". 0, or -1 if too long. */
static int host_name(const char *host, char *out, size_t cap)
{
    size_t n;

    if (host[0] == '[') {
        const char *end = strchr(host, ']');

        if (!end)
            return -1;
        host++;
        n = (size_t)(end - host);
    } else {
        n = strcspn(host, ":");
    }
    if (n >= cap)
        return -1;
    memcpy(out, host, n);
    out[n] = '\0';
    return 0;
}

/* Whether name (no port) is this machine's loopback: localhost, *.localhost, 127.x, ::1. */
static bool loopback_name(const char *name)
{
    size_t n = strlen(name);
    struct in_addr a4;
    struct in6_addr a6;

    if (!strcasecmp(name, "localhost") || (n > 10 && !strcasecmp(name + n - 10, ".localhost")))
        return true;
    if (inet_pton(AF_INET, name, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, name, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return false;
}

static bool host_allowed(const zl_control *c, const char *host)
{
    char name[256];
    size_t i;

    if (!host || host_name(host, name, sizeof name) != 0)
        return false;
    if (loopback_name(name))
        return true;
    for (i = 0; i < c->n_allow_hosts; i++)
        if (!strcasecmp(name, c->allow_hosts[i]))
            return true;
    return false;
}

/* Whether r carries "Authorization: Bearer <c's token>" (compared in constant time). */
static bool has_token(const zl_control *c, const zl_request *r)
{
    const char *h = zl_request_header(r, "Authorization");
    size_t n;

    if (!c->token || !*c->token || !h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    n = strlen(c->token);
    return strlen(h) == n && CRYPTO_memcmp(h, c->token, n) == 0;
}

/* Whether a Content-Type header says JSON ("application/json", any parameters). */
static bool json_type(const char *ct)
{
    size_t n;

    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    n = strcspn(ct, "; ");
    return n == 16 && !strncasecmp(ct, "application/json", 16);
}

/* Whether origin is http(s)://host, the emulator's own page as the browser reached it. */
static bool same_origin(const char *origin, const char *host)
{
    size_t n = host ? strlen(host) : 0;

    if (!n)
        return false;
    if (!strncasecmp(origin, "http://", 7))
        origin += 7;
    else if (!strncasecmp(origin, "https://", 8))
        origin += 8;
    else
        return false;
    return strlen(origin) == n && !strncasecmp(origin, host, n);
}

static int gate(zl_engine *e, zl_request *r, void *ud)
{
    const zl_control *c = ud;
    const char *method = zl_request_method(r), *host = zl_request_header(r, "Host"),
               *origin = zl_request_header(r, "Origin");
    bool token = has_token(c, r);
    char why[400];

    (void)e;
    if (!strncmp(zl_request_path(r), TEST_APP, strlen(TEST_APP)))
        return 0;
    if (!token && !zl_request_from_loopback(r)) {
        refuse(r, 401,
               "the control face answers a client on another machine only with the control "
               "token: Authorization: Bearer <token>, as zonelab serve --allow-remote printed it");
        return 1;
    }
    if (!token && !host_allowed(c, host)) {
        snprintf(why, sizeof why,
                 "Host %.200s is not a loopback name: reach the control face as 127.0.0.1 or "
                 "localhost, or start zonelab serve with --allow-host NAME",
                 host ? host : "(none)");
        refuse(r, 403, why);
        return 1;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        if (origin && !same_origin(origin, host)) {
            snprintf(why, sizeof why,
                     "a request from the page %.200s is refused: only the inspector, on this "
                     "emulator's own origin, may change it from a browser",
                     origin);
            refuse(r, 403, why);
            return 1;
        }
        if (zl_request_body_len(r) > 0 && !json_type(zl_request_header(r, "Content-Type"))) {
            refuse(r, 415,
                   "the control face takes JSON bodies: send Content-Type: application/json "
                   "(curl --json '{...}')");
            return 1;
        }
    }
    return 0;
}

int zl_control_gate_install(zl_control *c)
{
    return zl_engine_gate(c->engine, "/_zonelab/", gate, c);
}
