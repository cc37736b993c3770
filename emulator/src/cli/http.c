/* cli_http: GET and POST (libcurl) from the commands to a running emulator, and reading its
 * answers. */
#include "cli/http.h"

#include "cli/opts.h"

#include <stdlib.h>
#include <string.h>

/* Caps: larger replies are refused, never truncated. */
#define MAX_REPLY       (64u * 1024u * 1024u)
#define CONNECT_TIMEOUT 5000 /* ms */
#define CONTROL_TIMEOUT 30000

void zl_cli_reply_cleanup(zl_cli_reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    zl_cli_reply *r = ud;
    size_t add = size * n;
    char *nb;

    if (r->len + add > MAX_REPLY) {
        r->too_big = true;
        return 0;
    }
    if (!(nb = realloc(r->body, r->len + add + 1)))
        return 0;
    memcpy(nb + r->len, p, add);
    r->body = nb;
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

int zl_cli_http_init(zl_cli_http *c, const char *cmd, const char *url, FILE *err)
{
    size_t n;

    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    c->err = err;
    c->timeout_ms = CONTROL_TIMEOUT;
    if (!url || !*url)
        url = getenv("ZONELAB_URL");
    if (!url || !*url)
        url = ZL_CLI_DEFAULT_URL;
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof c->base - 256) {
        fprintf(err, "zonelab %s: the emulator's URL is empty or too long\n", cmd);
        return -1;
    }
    memcpy(c->base, url, n);
    c->base[n] = '\0';
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(c->curl = curl_easy_init())) {
        fprintf(err, "zonelab %s: cannot start libcurl\n", cmd);
        return -1;
    }
    return 0;
}

void zl_cli_http_cleanup(zl_cli_http *c)
{
    if (c->curl) {
        curl_easy_cleanup(c->curl);
        curl_global_cleanup();
    }
    c->curl = NULL;
}

/* GET (body NULL) or POST base + path; see zl_cli_http_get. */
static int perform(zl_cli_http *c, const char *path, const char *body, size_t len, zl_cli_reply *r)
{
    struct curl_slist *headers = NULL;
    const char *token = getenv("ZONELAB_CONTROL_TOKEN");
    char url[ZL_CLI_MAX_URL * 2];
    CURLcode rc;

    memset(r, 0, sizeof *r);
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->base, path) >= sizeof url) {
        fprintf(c->err, "zonelab %s: URL too long\n", c->cmd);
        return -1;
    }
    curl_easy_reset(c->curl);
    c->errbuf[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, r);
    if (token && *token && strlen(token) < 200) { /* zonelab serve --allow-remote's */
        char auth[240];

        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        headers = curl_slist_append(headers, auth);
    }
    if (body)
        headers = curl_slist_append(headers, "Content-Type: application/json");
    if (headers)
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    if (body) {
        curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    rc = curl_easy_perform(c->curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        if (r->too_big)
            fprintf(c->err, "zonelab %s: the reply from %s is larger than %u bytes\n", c->cmd, url,
                    MAX_REPLY);
        else
            fprintf(c->err, "zonelab %s: %s the emulator at %s: %s\n", c->cmd,
                    rc == CURLE_OPERATION_TIMEDOUT ? "no answer in time from" : "cannot reach",
                    c->base, c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        zl_cli_reply_cleanup(r);
        return -1;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (!r->body && !(r->body = calloc(1, 1))) {
        fprintf(c->err, "zonelab %s: out of memory\n", c->cmd);
        return -1;
    }
    return 0;
}

int zl_cli_http_get(zl_cli_http *c, const char *path, zl_cli_reply *r)
{
    return perform(c, path, NULL, 0, r);
}

int zl_cli_http_post(zl_cli_http *c, const char *path, const char *body, size_t len,
                     zl_cli_reply *r)
{
    return perform(c, path, body, len, r);
}

char *zl_cli_http_escape(zl_cli_http *c, const char *s)
{
    return curl_easy_escape(c->curl, s, 0);
}

void zl_cli_print_body(FILE *out, const char *body, size_t len, bool pretty)
{
    cJSON *j = pretty ? cJSON_ParseWithLength(body, len) : NULL;
    char *text = j ? cJSON_Print(j) : NULL;

    if (text) {
        fputs(text, out);
        fputc('\n', out);
    } else {
        fwrite(body, 1, len, out);
        if (len == 0 || body[len - 1] != '\n')
            fputc('\n', out);
    }
    cJSON_free(text);
    cJSON_Delete(j);
    fflush(out);
}

int zl_cli_control_ok(zl_cli_http *c, const zl_cli_reply *r)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(j, "error");
    int rc = r->status == 200 && cJSON_IsTrue(ok) ? 0 : -1;

    if (rc)
        fprintf(c->err, "zonelab %s: the emulator refused (HTTP %ld)%s%s\n", c->cmd, r->status,
                cJSON_IsString(why) ? ": " : "", cJSON_IsString(why) ? why->valuestring : "");
    cJSON_Delete(j);
    return rc;
}

int zl_cli_control_post(const char *cmd, const char *url, const char *path, const char *body,
                        size_t len, bool pretty, FILE *out, FILE *err)
{
    zl_cli_http c = {0};
    zl_cli_reply r = {0};
    int rc = ZL_CLI_FAILED;

    if (zl_cli_http_init(&c, cmd, url, err) != 0 || zl_cli_http_post(&c, path, body, len, &r) != 0)
        goto out;
    zl_cli_print_body(out, r.body, r.len, pretty);
    if (zl_cli_control_ok(&c, &r) == 0)
        rc = ZL_CLI_OK;
out:
    zl_cli_reply_cleanup(&r);
    zl_cli_http_cleanup(&c);
    return rc;
}

cJSON *zl_cli_get_state(zl_cli_http *c)
{
    zl_cli_reply r;
    cJSON *j = NULL;

    if (zl_cli_http_get(c, "/_zonelab/state", &r) != 0)
        return NULL;
    if (zl_cli_control_ok(c, &r) == 0)
        j = cJSON_ParseWithLength(r.body, r.len);
    if (!j)
        fprintf(c->err, "zonelab %s: %s/_zonelab/state did not answer a zonelab state\n", c->cmd,
                c->base);
    zl_cli_reply_cleanup(&r);
    return j;
}
