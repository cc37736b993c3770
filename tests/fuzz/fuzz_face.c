/* libFuzzer targets fuzz_app_api and fuzz_control: one request through the emulator's routes. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "faces/server.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 32
#define TURNS       64 /* engine turns an answer may take (a refused outbound call, a timer) */

static zl_server *srv;
static char token[128];     /* a live access_token of the default world's app */
static int64_t token_until; /* virtual ms it is good until */

static void on_token(void *ud, unsigned status, const char *content_type, const char *body,
                     size_t len)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "access_token");

    (void)ud, (void)content_type;
    if (status == 200 && cJSON_IsString(t))
        snprintf(token, sizeof token, "%s", t->valuestring);
    cJSON_Delete(j);
}

/* An access_token good for the next hour of virtual time (the control face moves the clock). */
static const char *live_token(void)
{
    zl_clock *clock = zl_engine_clock(srv->engine);
    zl_inject in = {.method = "GET",
                    .target = "/cgi-bin/gettoken?corpid=wwzonelab0000001"
                              "&corpsecret=zonelab-demo-secret-1000002",
                    .loopback = 1,
                    .done = on_token};

    if (token[0] && zl_clock_now_ms(clock) < token_until)
        return token;
    token[0] = '\0';
    zl_engine_inject(srv->engine, &in);
    token_until = zl_clock_now_ms(clock) + 3600 * 1000;
    return token;
}

/* With FUZZ_FACE_SHOW set, each answer is printed: what a seed or a crash's input got. */
static void show(void *ud, unsigned status, const char *content_type, const char *body, size_t len)
{
    (void)ud, (void)content_type;
    fprintf(stderr, "fuzz_face: HTTP %u %.*s\n", status, (int)(len < 600 ? len : 600), body);
}

static void setup(void)
{
    zl_server_config c;
    char err[512];

    zl_server_config_default(&c);
    c.journal_cap = 256; /* the state outlives one input: keep it small */
    if (!(srv = zl_server_new(NULL, &c, err, sizeof err)) ||
        zl_server_start(srv, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_face: %s\n", err);
        abort();
    }
    live_token(); /* /_zonelab/state has a token to list */
}

/*
 * Input: a flags byte, then a request as a client writes it without the version: the target
 * ("/path?query") on the first line, "Name: value" header lines up to an empty line, then the
 * body. Flags: bit 0-1 the method (GET, POST, PUT, DELETE); bit 2 the client is not loopback;
 * bit 3 (fuzz_app_api) no access_token is added to the query (else a live one is); bit 4
 * (fuzz_app_api) the body is an SDK invoke envelope, sealed with the default world's program
 * keys and POSTed to the SDK face (/zone/v1/invoke): the api/ handlers behind it.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    const char *names[MAX_HEADERS + 4], *values[MAX_HEADERS + 4];
#ifdef FUZZ_APP_API
    zone_wire_sealed_headers sh;
#endif
    char *sealed = NULL;
    char *s, *p, *line, *target = NULL;
    size_t n_headers = 0, i;
    zl_inject in = {0};

    if (!srv)
        setup();
    if (size < 1)
        return 0;
    if (!(s = malloc(size)))
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    p = s;
    line = strsep(&p, "\n");
#ifdef FUZZ_APP_API
    if (!(data[0] & 8) && !strstr(line, "access_token=")) {
        const char *t = live_token();

        if ((target = malloc(strlen(line) + strlen(t) + 16)))
            sprintf(target, "%s%caccess_token=%s", line, strchr(line, '?') ? '&' : '?', t);
    }
#endif
    while (p && n_headers < MAX_HEADERS) {
        char *h = strsep(&p, "\n"), *colon;

        if (!*h)
            break;
        if (!(colon = strchr(h, ':')))
            continue;
        *colon++ = '\0';
        names[n_headers] = h;
        values[n_headers++] = colon + strspn(colon, " ");
    }
#ifdef FUZZ_APP_API
    if ((data[0] & 16) && p && srv->emu->prog_count > 0 &&
        zone_wire_seal(&srv->emu->progs[0].keys, NULL, "POST", ZONE_WIRE_INVOKE_PATH, p,
                       size - 1 - (size_t)(p - s), &sh, &sealed) == ZONE_WIRE_OK) {
        const char *wn[] = {"ww-secret-ver", "ww-timestamp", "ww-nonce", "ww-signature"};
        const char *wv[] = {sh.secret_ver, sh.timestamp, sh.nonce, sh.signature};

        for (i = 0; i < 4; i++) {
            names[n_headers] = wn[i];
            values[n_headers++] = wv[i];
        }
        in = (zl_inject){.method = "POST",
                         .target = ZONE_WIRE_INVOKE_PATH,
                         .names = names,
                         .values = values,
                         .n_headers = n_headers,
                         .body = sealed,
                         .len = strlen(sealed),
                         .loopback = 1,
                         .done = getenv("FUZZ_FACE_SHOW") ? show : NULL};
        zl_engine_inject(srv->engine, &in);
        goto turn;
    }
#endif
    in = (zl_inject){.method = methods[data[0] & 3],
                     .target = target ? target : line,
                     .names = names,
                     .values = values,
                     .n_headers = n_headers,
                     .body = p ? p : "",
                     .len = p ? size - 1 - (size_t)(p - s) : 0,
                     .loopback = !(data[0] & 4),
                     .done = getenv("FUZZ_FACE_SHOW") ? show : NULL};
    zl_engine_inject(srv->engine, &in);
#ifdef FUZZ_APP_API
turn:
#endif
    for (i = 0; i < TURNS && zl_engine_injected_waiting(srv->engine) > 0; i++)
        zl_server_turn(srv, 0);
    free(sealed);
    free(target);
    free(s);
    return 0;
}
