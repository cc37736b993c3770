/* cli_http: the small HTTP client (libcurl) through which `zonelab call`, `event`, `messages`
 * and `journal` talk to a running emulator's app face and control face. */
#ifndef ZL_CLI_HTTP_H
#define ZL_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "core/json.h"
#include <curl/curl.h>

/* Where the commands find the emulator when neither --url nor $ZONELAB_URL says. */
#define ZL_CLI_DEFAULT_URL "http://127.0.0.1:8900"

/* Longest base URL plus path the client builds. */
#define ZL_CLI_MAX_URL 2048

/* A connection to one emulator, for one command. Zero-initialise, then zl_cli_http_init. */
typedef struct zl_cli_http {
    CURL *curl;
    const char *cmd;           /* the command's name, in every message */
    char base[ZL_CLI_MAX_URL]; /* the emulator's URL without a trailing '/' */
    long timeout_ms;           /* for a whole request (default 30 s) */
    FILE *err;
    char errbuf[CURL_ERROR_SIZE];
} zl_cli_http;

/* An answer: the HTTP status and the body (owned, NUL-terminated, len bytes). */
typedef struct zl_cli_reply {
    long status;
    char *body;
    size_t len;
    bool too_big;
} zl_cli_reply;

/*
 * Sets c up for command cmd (borrowed, as is err) with the base URL from url, else
 * $ZONELAB_URL, else ZL_CLI_DEFAULT_URL (trailing '/' dropped). 0, or -1 after printing why
 * (an empty or too long URL, libcurl not starting). zl_cli_http_cleanup either way.
 */
int zl_cli_http_init(zl_cli_http *c, const char *cmd, const char *url, FILE *err);
/* Releases c's handle (a zeroed or cleaned-up c is fine). */
void zl_cli_http_cleanup(zl_cli_http *c);

/*
 * GET base + path, or POST the JSON body of len bytes there. 0 with the status and body in
 * *r (any status; zl_cli_reply_cleanup), or -1 after printing why: "cannot reach the
 * emulator at ...", "no answer in time from ...", a reply over 64 MiB.
 */
int zl_cli_http_get(zl_cli_http *c, const char *path, zl_cli_reply *r);
int zl_cli_http_post(zl_cli_http *c, const char *path, const char *body, size_t len,
                     zl_cli_reply *r);
/* Frees r's body and zeroes it. */
void zl_cli_reply_cleanup(zl_cli_reply *r);

/* s URL-escaped, owned (curl_free), or NULL. */
char *zl_cli_http_escape(zl_cli_http *c, const char *s);

/* A control-face answer: 0 when HTTP 200 and "ok": true, else -1 after saying "the emulator
 * refused (HTTP n): why" on err. */
int zl_cli_control_ok(zl_cli_http *c, const zl_cli_reply *r);
/*
 * POSTs the JSON body (len bytes) to path on the control face of the emulator at url (as
 * zl_cli_http_init finds it) for command cmd, and prints the answer to out (indented with
 * pretty). Returns ZL_CLI_OK when it answered "ok": true, else ZL_CLI_FAILED (why on err).
 */
int zl_cli_control_post(const char *cmd, const char *url, const char *path, const char *body,
                        size_t len, bool pretty, FILE *out, FILE *err);
/* GET /_zonelab/state as JSON (owned, cJSON_Delete), or NULL after printing why. */
cJSON *zl_cli_get_state(zl_cli_http *c);

/* Writes a reply body to out: as received, or indented when pretty and it is JSON; then a
 * newline if it lacks one. */
void zl_cli_print_body(FILE *out, const char *body, size_t len, bool pretty);

#endif
