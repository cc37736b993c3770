/* cli_client: `zonelab call`, `event`, `messages` and `journal` over HTTP (libcurl) to a
 * running emulator. */
#include "cli/client.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cli/opts.h"

/* Caps: larger replies are refused, never truncated. */
#define MAX_REPLY (64u * 1024u * 1024u)
#define MAX_URL   2048

#define MAX_FILTERS     32
#define POLL_MS         200  /* --follow and --wait poll period */
#define JOURNAL_PAGE    1000 /* entries asked for per GET /_zonelab/journal */
#define CONNECT_TIMEOUT 5000 /* ms */
#define CONTROL_TIMEOUT 30000

/* WeCom's "job still waiting" answer of async_program_result (emulator default). */
#define ERRCODE_PENDING 710642
/* Not errcodes (WeCom's are ints): a reply without one, and no reply at all. */
#define NO_ERRCODE  LONG_MIN
#define UNREACHABLE (LONG_MIN + 1)

/* ---- HTTP ---- */

typedef struct client {
    CURL *curl;
    const char *cmd;
    char base[MAX_URL];
    long timeout_ms;
    FILE *err;
    char errbuf[CURL_ERROR_SIZE];
} client;

typedef struct reply {
    long status;
    char *body;
    size_t len;
    bool too_big;
} reply;

static void reply_cleanup(reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
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

/* Sets the base URL from --url, else $ZONELAB_URL, else the default; trailing '/' dropped. */
static int client_init(client *c, const char *cmd, const char *url, FILE *err)
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

static void client_cleanup(client *c)
{
    if (c->curl) {
        curl_easy_cleanup(c->curl);
        curl_global_cleanup();
    }
    c->curl = NULL;
}

/*
 * GET (body NULL) or POST (JSON body of len bytes) base + path. 0 with the status and body in
 * *r (any status), or -1 after printing why the emulator could not be reached.
 */
static int http(client *c, const char *path, const char *body, size_t len, reply *r)
{
    struct curl_slist *headers = NULL;
    char url[MAX_URL * 2];
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
    if (body) {
        headers = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
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
        reply_cleanup(r);
        return -1;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (!r->body && !(r->body = calloc(1, 1))) {
        fprintf(c->err, "zonelab %s: out of memory\n", c->cmd);
        return -1;
    }
    return 0;
}

/* URL-escapes s into an owned string (curl_free), or NULL. */
static char *escape(client *c, const char *s)
{
    return curl_easy_escape(c->curl, s, 0);
}

/* Writes a reply body: as received, or indented with pretty; a newline after it. */
static void print_body(FILE *out, const char *body, size_t len, bool pretty)
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

/* A control-face answer: 0 when HTTP 200 and "ok": true, else -1 after saying so on err. */
static int control_ok(client *c, const reply *r)
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

/* GET /_zonelab/state as JSON (cJSON_Delete), or NULL after printing why. */
static cJSON *get_state(client *c)
{
    reply r;
    cJSON *j = NULL;

    if (http(c, "/_zonelab/state", NULL, 0, &r) != 0)
        return NULL;
    if (control_ok(c, &r) == 0)
        j = cJSON_ParseWithLength(r.body, r.len);
    if (!j)
        fprintf(c->err, "zonelab %s: %s/_zonelab/state did not answer a zonelab state\n", c->cmd,
                c->base);
    reply_cleanup(&r);
    return j;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- zonelab call ---- */

static void call_usage(FILE *f)
{
    fputs("usage: zonelab call --ability ID (--data TEXT | --data-file FILE|-) [options]\n"
          "\n"
          "Calls a program as the app does: gettoken with the app's corpsecret, then\n"
          "sync_call_program, or async_program_task with --async. request_data is the given\n"
          "bytes exactly (a JSON string holding them; never re-formatted). Prints the reply\n"
          "as the emulator sent it. Flags take a value as '--flag VALUE' or '--flag=VALUE'.\n"
          "\n"
          "  --url URL            the emulator (default: $ZONELAB_URL, else " ZL_CLI_DEFAULT_URL
          ")\n"
          "  --ability ID         ability_id (required)\n"
          "  --data TEXT          request_data\n"
          "  --data-file FILE|-   request_data from FILE, or stdin with -\n"
          "  --program-id ID      program_id (default: the first program of the app's corp)\n"
          "  --corpid ID          the app's corp (default: the corp of --secret, else the\n"
          "                       first corp)\n"
          "  --secret S           the app's corpsecret (default: the app's, read from\n"
          "                       /_zonelab/state)\n"
          "  --agentid N          which app (default: the first app of the corp); not with\n"
          "                       --secret\n"
          "  --notify-id ID       notify_id (sync_call_program only)\n"
          "  --async              async_program_task: prints the reply with the jobid\n"
          "  --wait               with --async: then polls async_program_result every 200 ms\n"
          "                       until it answers anything but 710642, and prints that too\n"
          "  --timeout S          seconds to wait for the reply, or with --wait for the\n"
          "                       result (default 30)\n"
          "  --pretty             print the JSON indented\n"
          "  -h, --help           this text\n"
          "\n"
          "exit status: 0 errcode 0; 1 another errcode or the emulator unreachable (the reply\n"
          "is still printed; a protocol errcode adds zonelab's diagnosis on stderr); 2 usage\n"
          "error.\n",
          f);
}

/* The app the call is made as: --secret, else an app of the state. */
typedef struct call_app {
    const char *corpid;
    const char *secret;
    const char *program_id;
} call_app;

static int pick_app(client *c, const cJSON *state, const char *corpid, const char *secret,
                    const char *agentid_s, call_app *app)
{
    const cJSON *corps = cJSON_GetObjectItemCaseSensitive(state, "corps");
    const cJSON *apps = cJSON_GetObjectItemCaseSensitive(state, "apps");
    const cJSON *progs = cJSON_GetObjectItemCaseSensitive(state, "programs");
    const char *first_corp = str_of(cJSON_GetArrayItem(corps, 0), "corpid");
    unsigned long long agentid = 0;
    const cJSON *a, *p;

    if (agentid_s)
        zl_cli_parse_u64(agentid_s, UINT32_MAX, &agentid);
    app->corpid = corpid;
    app->secret = secret;
    if (secret) {
        cJSON_ArrayForEach(a, apps)
        {
            const char *s = str_of(a, "secret");

            if (!app->corpid && s && !strcmp(s, secret))
                app->corpid = str_of(a, "corpid");
        }
    } else {
        cJSON_ArrayForEach(a, apps)
        {
            const char *ac = str_of(a, "corpid");
            const cJSON *ag = cJSON_GetObjectItemCaseSensitive(a, "agentid");

            if (!ac || !str_of(a, "secret") || !cJSON_IsNumber(ag))
                continue;
            if (corpid ? strcmp(ac, corpid) != 0
                       : !agentid_s && (!first_corp || strcmp(ac, first_corp) != 0))
                continue;
            if (agentid_s && ag->valuedouble != (double)agentid)
                continue;
            app->corpid = ac;
            app->secret = str_of(a, "secret");
            break;
        }
        if (!app->secret) {
            fprintf(c->err, "zonelab %s: the emulator has no app", c->cmd);
            if (agentid_s)
                fprintf(c->err, " with agentid %s", agentid_s);
            if (corpid)
                fprintf(c->err, " in corp %s", corpid);
            fputs(" (its apps:", c->err);
            cJSON_ArrayForEach(a, apps)
            {
                const cJSON *ag = cJSON_GetObjectItemCaseSensitive(a, "agentid");

                fprintf(c->err, " %s/%.0f", str_of(a, "corpid") ? str_of(a, "corpid") : "?",
                        cJSON_IsNumber(ag) ? ag->valuedouble : 0.0);
            }
            fputs(")\n", c->err);
            return -1;
        }
    }
    if (!app->corpid)
        app->corpid = first_corp;
    if (!app->corpid) {
        fprintf(c->err, "zonelab %s: the emulator has no corp; give --corpid\n", c->cmd);
        return -1;
    }
    cJSON_ArrayForEach(p, progs)
    {
        const char *pc = str_of(p, "corpid");

        if (!app->program_id && pc && !strcmp(pc, app->corpid))
            app->program_id = str_of(p, "program_id");
    }
    return 0;
}

/* The errcode of an app-API reply; NO_ERRCODE when the reply is not one (an HTTP error, not
 * JSON). */
static long app_errcode(const reply *r, cJSON **json)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "errcode");
    long v = r->status == 200 && cJSON_IsNumber(code) ? (long)code->valuedouble : NO_ERRCODE;

    if (json)
        *json = j;
    else
        cJSON_Delete(j);
    return v;
}

static bool is_protocol_code(long code)
{
    return (code >= 790012 && code <= 790016) || code == 710647;
}

/*
 * After a protocol errcode: zonelab's diagnosis from the journal's protocol_mismatch entry
 * of this request (its id is the errmsg's "hint: [...]"), printed on err.
 */
static void print_diagnosis(client *c, const cJSON *answer, double journal_last)
{
    const char *msg = str_of(answer, "errmsg"), *h = msg ? strstr(msg, "hint: [") : NULL;
    char req_id[64] = "", path[80];
    const cJSON *e;
    cJSON *j = NULL;
    reply r = {0};
    size_t n;

    if (!h)
        return;
    h += strlen("hint: [");
    n = strcspn(h, "]");
    if (n == 0 || n >= sizeof req_id)
        return;
    memcpy(req_id, h, n);
    req_id[n] = '\0';
    snprintf(path, sizeof path, "/_zonelab/journal?since=%.0f&limit=100000", journal_last);
    if (http(c, path, NULL, 0, &r) != 0 || r.status != 200 ||
        !(j = cJSON_ParseWithLength(r.body, r.len)))
        goto out;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "entries"))
    {
        const char *kind = str_of(e, "kind"), *rid = str_of(e, "req_id");
        const char *d = str_of(e, "diagnosis"), *p = str_of(e, "path");
        const char *ex = str_of(e, "expected"), *ac = str_of(e, "actual");

        if (!kind || strcmp(kind, "protocol_mismatch") || !rid || strcmp(rid, req_id) || !d)
            continue;
        fprintf(c->err, "zonelab %s: zonelab's diagnosis: %s\n", c->cmd, d);
        if (p && *p)
            fprintf(c->err, "zonelab %s: path %s, expected %s, actual %s\n", c->cmd, p,
                    ex ? ex : "", ac ? ac : "");
        break;
    }
out:
    cJSON_Delete(j);
    reply_cleanup(&r);
}

/*
 * POSTs body to /cgi-bin/chatdata/<endpoint>. Returns the errcode (the reply in *r, its JSON in
 * *answer), UNREACHABLE (said on err), or NO_ERRCODE when the reply is not an app-API reply
 * (said on err).
 */
static long post_app(client *c, const char *endpoint, const char *token, const char *body, reply *r,
                     cJSON **answer)
{
    char path[MAX_URL];
    long code;

    *answer = NULL;
    snprintf(path, sizeof path, "/cgi-bin/chatdata/%s?access_token=%s", endpoint, token);
    if (http(c, path, body, strlen(body), r) != 0)
        return UNREACHABLE;
    code = app_errcode(r, answer);
    if (code == NO_ERRCODE)
        fprintf(c->err, "zonelab %s: %s answered HTTP %ld without an errcode\n", c->cmd, endpoint,
                r->status);
    else if (code != 0 && code != ERRCODE_PENDING)
        fprintf(c->err, "zonelab %s: %s answered errcode %ld\n", c->cmd, endpoint, code);
    return code;
}

/* Polls async_program_result for jobid until it is not 710642 or the deadline passes; prints
 * the last answer. */
static int wait_result(client *c, const char *token, const char *jobid, long timeout_s, bool pretty,
                       FILE *out)
{
    int64_t deadline = zl_cli_now_ms() + timeout_s * 1000;
    cJSON *body = cJSON_CreateObject(), *answer = NULL;
    char *text = NULL;
    reply r = {0};
    long code;
    int rc = ZL_CLI_FAILED;

    if (!body || !cJSON_AddStringToObject(body, "jobid", jobid) ||
        !(text = cJSON_PrintUnformatted(body)))
        goto out;
    for (;;) {
        code = post_app(c, "async_program_result", token, text, &r, &answer);
        cJSON_Delete(answer);
        if (code == UNREACHABLE)
            break;
        if (code != ERRCODE_PENDING || zl_cli_now_ms() >= deadline) {
            print_body(out, r.body, r.len, pretty);
            if (code == ERRCODE_PENDING)
                fprintf(c->err,
                        "zonelab %s: no result after %ld s: async_program_result still answers "
                        "%d (the program has not reported with program_async_job_call_back)\n",
                        c->cmd, timeout_s, ERRCODE_PENDING);
            rc = code == 0 ? ZL_CLI_OK : ZL_CLI_FAILED;
            break;
        }
        reply_cleanup(&r);
        zl_cli_sleep_ms(POLL_MS);
    }
out:
    reply_cleanup(&r);
    cJSON_free(text);
    cJSON_Delete(body);
    return rc;
}

int zl_cli_call(int argc, char **argv, FILE *out, FILE *err)
{
    const char *url = NULL, *ability = NULL, *data = NULL, *data_file = NULL, *program_id = NULL,
               *corpid = NULL, *secret = NULL, *agentid = NULL, *notify_id = NULL, *async = NULL,
               *wait = NULL, *timeout = NULL, *pretty = NULL;
    const zl_cli_opt opts[] = {
        ZL_CLI_OPT("url", &url),
        ZL_CLI_OPT("ability", &ability),
        ZL_CLI_OPT("data", &data),
        ZL_CLI_OPT("data-file", &data_file),
        ZL_CLI_OPT("program-id", &program_id),
        ZL_CLI_OPT("corpid", &corpid),
        ZL_CLI_OPT("secret", &secret),
        ZL_CLI_OPT("agentid", &agentid),
        ZL_CLI_OPT("notify-id", &notify_id),
        ZL_CLI_SWITCH("async", &async),
        ZL_CLI_SWITCH("wait", &wait),
        ZL_CLI_OPT("timeout", &timeout),
        ZL_CLI_SWITCH("pretty", &pretty),
        ZL_CLI_END,
    };
    const zl_cli_cmd cmd = {.name = "call", .usage = call_usage, .opts = opts};
    unsigned long long v, timeout_s = 30;
    char *request = NULL, *token_esc = NULL, *body_text = NULL, *q_corp = NULL, *q_secret = NULL;
    cJSON *state = NULL, *body = NULL, *answer = NULL;
    call_app app = {0};
    const char *endpoint;
    char path[MAX_URL];
    client c = {0};
    size_t len = 0;
    double journal_last = 0;
    reply r = {0};
    long code;
    int rc, help, usage;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help)
        return rc;
    if (!ability || !*ability)
        return zl_cli_usage_error(&cmd, err, "missing --ability");
    if (agentid && zl_cli_parse_u64(agentid, UINT32_MAX, &v) != 0)
        return zl_cli_usage_error(&cmd, err, "--agentid must be an agentid, got '%s'", agentid);
    if (secret && agentid)
        return zl_cli_usage_error(&cmd, err, "give --secret or --agentid, not both");
    if (notify_id && async)
        return zl_cli_usage_error(&cmd, err,
                                  "--notify-id is for sync_call_program; async_program_task "
                                  "has no notify_id");
    if (wait && !async)
        return zl_cli_usage_error(&cmd, err, "--wait goes with --async");
    if (timeout && (zl_cli_parse_u64(timeout, 86400, &timeout_s) != 0 || timeout_s == 0))
        return zl_cli_usage_error(&cmd, err, "--timeout must be 1..86400 seconds, got '%s'",
                                  timeout);
    if (!(request = zl_cli_text_or_file(&cmd, data, data_file, "data", &len, err, &usage)))
        return usage ? ZL_CLI_USAGE : ZL_CLI_FAILED;
    rc = ZL_CLI_FAILED;
    if (strlen(request) != len) {
        fprintf(err,
                "zonelab call: request_data has a NUL byte at offset %zu; the emulator reads "
                "request_data as text and would cut it there\n",
                strlen(request));
        goto out;
    }
    if (client_init(&c, "call", url, err) != 0)
        goto out;
    c.timeout_ms = (long)timeout_s * 1000;
    if (!(state = get_state(&c)))
        goto out;
    journal_last = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(state, "journal"), "last"));
    if (journal_last != journal_last) /* NaN: no journal count */
        journal_last = 0;
    if (pick_app(&c, state, corpid, secret, agentid, &app) != 0)
        goto out;
    if (program_id)
        app.program_id = program_id;
    if (!app.program_id) {
        fprintf(err, "zonelab call: the corp %s has no program; give --program-id\n", app.corpid);
        goto out;
    }
    /* gettoken */
    if (!(q_corp = escape(&c, app.corpid)) || !(q_secret = escape(&c, app.secret)))
        goto out;
    snprintf(path, sizeof path, "/cgi-bin/gettoken?corpid=%s&corpsecret=%s", q_corp, q_secret);
    if (http(&c, path, NULL, 0, &r) != 0)
        goto out;
    if ((code = app_errcode(&r, &answer)) != 0) {
        print_body(out, r.body, r.len, pretty != NULL);
        fprintf(err, "zonelab call: gettoken for corp %s answered %s%ld\n", app.corpid,
                code == NO_ERRCODE ? "HTTP " : "errcode ", code == NO_ERRCODE ? r.status : code);
        goto out;
    }
    if (!str_of(answer, "access_token") ||
        !(token_esc = escape(&c, str_of(answer, "access_token"))))
        goto out;
    cJSON_Delete(answer);
    answer = NULL;
    /* the call */
    endpoint = async ? "async_program_task" : "sync_call_program";
    if (!(body = cJSON_CreateObject()) ||
        !cJSON_AddStringToObject(body, "program_id", app.program_id) ||
        !cJSON_AddStringToObject(body, "ability_id", ability) ||
        !cJSON_AddStringToObject(body, "request_data", request) ||
        (notify_id && !cJSON_AddStringToObject(body, "notify_id", notify_id)) ||
        !(body_text = cJSON_PrintUnformatted(body))) {
        fprintf(err, "zonelab call: out of memory\n");
        goto out;
    }
    reply_cleanup(&r);
    code = post_app(&c, endpoint, token_esc, body_text, &r, &answer);
    if (code == UNREACHABLE)
        goto out;
    print_body(out, r.body, r.len, pretty != NULL);
    if (code != 0) {
        if (is_protocol_code(code))
            print_diagnosis(&c, answer, journal_last);
        goto out;
    }
    if (!wait) {
        rc = ZL_CLI_OK;
        goto out;
    }
    if (!str_of(answer, "jobid")) {
        fprintf(err, "zonelab call: async_program_task answered no jobid\n");
        goto out;
    }
    rc = wait_result(&c, token_esc, str_of(answer, "jobid"), (long)timeout_s, pretty != NULL, out);
out:
    reply_cleanup(&r);
    cJSON_Delete(answer);
    cJSON_Delete(body);
    cJSON_Delete(state);
    cJSON_free(body_text);
    curl_free(q_corp);
    curl_free(q_secret);
    curl_free(token_esc);
    free(request);
    client_cleanup(&c);
    return rc;
}

/* ---- zonelab event ---- */

static void event_usage(FILE *f)
{
    fputs("usage: zonelab event (--event TEXT | --event-file FILE|-) [options]\n"
          "\n"
          "Pushes an event (call_type 2) to a program through POST /_zonelab/events: any JSON\n"
          "object, unknown event types and missing fields included. Prints the emulator's\n"
          "answer (where the event went); the delivery itself is journaled (kinds event and\n"
          "event_result). Flags take a value as '--flag VALUE' or '--flag=VALUE'.\n"
          "\n"
          "  --url URL            the emulator (default: $ZONELAB_URL, else " ZL_CLI_DEFAULT_URL
          ")\n"
          "  --event TEXT         the event JSON, sent as given\n"
          "  --event-file FILE|-  the event JSON from FILE, or stdin with -\n"
          "  --program-id ID      the program (default: the one an app chose with\n"
          "                       set_receive_callback)\n"
          "  --agentid N          the app the event is for (default: the app that chose the\n"
          "                       program; 0 with --program-id)\n"
          "  --corpid ID          the corp (default: the first corp)\n"
          "  --replica N          the replica index (default: round robin)\n"
          "  --pretty             print the JSON indented\n"
          "  -h, --help           this text\n"
          "\n"
          "exit status: 0 sent; 1 refused or the emulator unreachable (the answer is still\n"
          "printed); 2 usage error.\n",
          f);
}

int zl_cli_event(int argc, char **argv, FILE *out, FILE *err)
{
    const char *url = NULL, *event = NULL, *event_file = NULL, *program_id = NULL, *agentid = NULL,
               *corpid = NULL, *replica = NULL, *pretty = NULL;
    const zl_cli_opt opts[] = {
        ZL_CLI_OPT("url", &url),
        ZL_CLI_OPT("event", &event),
        ZL_CLI_OPT("event-file", &event_file),
        ZL_CLI_OPT("program-id", &program_id),
        ZL_CLI_OPT("agentid", &agentid),
        ZL_CLI_OPT("corpid", &corpid),
        ZL_CLI_OPT("replica", &replica),
        ZL_CLI_SWITCH("pretty", &pretty),
        ZL_CLI_END,
    };
    const zl_cli_cmd cmd = {.name = "event", .usage = event_usage, .opts = opts};
    unsigned long long ag = 0, rep = 0;
    char *text = NULL, *rest = NULL, *body = NULL;
    cJSON *extra = NULL;
    client c = {0};
    reply r = {0};
    size_t len = 0, rest_len;
    int rc, help, usage;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help)
        return rc;
    if (agentid && zl_cli_parse_u64(agentid, UINT32_MAX, &ag) != 0)
        return zl_cli_usage_error(&cmd, err, "--agentid must be an agentid, got '%s'", agentid);
    if (replica && zl_cli_parse_u64(replica, 1000, &rep) != 0)
        return zl_cli_usage_error(&cmd, err, "--replica must be a replica index, got '%s'",
                                  replica);
    if (!(text = zl_cli_text_or_file(&cmd, event, event_file, "event", &len, err, &usage)))
        return usage ? ZL_CLI_USAGE : ZL_CLI_FAILED;
    rc = ZL_CLI_FAILED;
    if (!zl_cli_whole_json("event", "the event", text, len, err))
        goto out;
    /* the event's own bytes go into the body untouched: {"event":<text>,<the other fields>} */
    if (!(extra = cJSON_CreateObject()) ||
        (program_id && !cJSON_AddStringToObject(extra, "program_id", program_id)) ||
        (agentid && !cJSON_AddNumberToObject(extra, "agentid", (double)ag)) ||
        (corpid && !cJSON_AddStringToObject(extra, "corpid", corpid)) ||
        (replica && !cJSON_AddNumberToObject(extra, "replica", (double)rep)) ||
        !(rest = cJSON_PrintUnformatted(extra)) ||
        !(body = malloc(len + (rest_len = strlen(rest)) + 16))) {
        fprintf(err, "zonelab event: out of memory\n");
        goto out;
    }
    memcpy(body, "{\"event\":", 9);
    memcpy(body + 9, text, len);
    if (rest_len > 2) { /* rest is {"k":v,...}: splice its members after the event */
        body[9 + len] = ',';
        memcpy(body + 10 + len, rest + 1, rest_len - 1);
        len = 10 + len + rest_len - 1;
    } else {
        body[9 + len] = '}';
        len = 10 + len;
    }
    if (client_init(&c, "event", url, err) != 0 || http(&c, "/_zonelab/events", body, len, &r) != 0)
        goto out;
    print_body(out, r.body, r.len, pretty != NULL);
    if (control_ok(&c, &r) == 0)
        rc = ZL_CLI_OK;
out:
    reply_cleanup(&r);
    client_cleanup(&c);
    cJSON_Delete(extra);
    cJSON_free(rest);
    free(body);
    free(text);
    return rc;
}

/* ---- zonelab messages ---- */

static void messages_usage(FILE *f)
{
    fputs("usage: zonelab messages [options] FILE|-\n"
          "\n"
          "Archives messages into a corp through POST /_zonelab/messages, as WeCom's archive\n"
          "does when people talk. FILE (- for stdin) holds a JSON array of world-file messages\n"
          "(docs/world.md; send_time defaults to the virtual now), or an object with\n"
          "\"messages\" and optionally \"corpid\". Prints the emulator's answer: archived, and\n"
          "the conversation_new_message events (and hit_events) it sent.\n"
          "\n"
          "  --url URL            the emulator (default: $ZONELAB_URL, else " ZL_CLI_DEFAULT_URL
          ")\n"
          "  --corpid ID          the corp (default: the file's corpid, else the first corp)\n"
          "  --pretty             print the JSON indented\n"
          "  -h, --help           this text\n"
          "\n"
          "exit status: 0 archived; 1 refused (a bad message: the ones before it stay\n"
          "archived) or the emulator unreachable; 2 usage error.\n",
          f);
}

/* s as a JSON string literal, owned (cJSON_free), or NULL. */
static char *json_string(const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;

    cJSON_Delete(j);
    return text;
}

int zl_cli_messages(int argc, char **argv, FILE *out, FILE *err)
{
    const char *url = NULL, *corpid = NULL, *pretty = NULL, *args[1] = {NULL};
    const zl_cli_opt opts[] = {
        ZL_CLI_OPT("url", &url),
        ZL_CLI_OPT("corpid", &corpid),
        ZL_CLI_SWITCH("pretty", &pretty),
        ZL_CLI_END,
    };
    size_t nargs = 0, len = 0, blen;
    const zl_cli_cmd cmd = {.name = "messages",
                            .usage = messages_usage,
                            .opts = opts,
                            .args = args,
                            .max_args = 1,
                            .arg_count = &nargs};
    char *text = NULL, *body = NULL, *q = NULL;
    cJSON *j = NULL;
    client c = {0};
    reply r = {0};
    int rc, help;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help)
        return rc;
    if (nargs != 1)
        return zl_cli_usage_error(&cmd, err, "give the messages file (- for stdin)");
    if (!(text = zl_cli_read_file("messages", args[0], ZL_CLI_MAX_INPUT, &len, err)))
        return ZL_CLI_FAILED;
    rc = ZL_CLI_FAILED;
    if (!zl_cli_whole_json("messages", args[0], text, len, err))
        goto out;
    j = cJSON_ParseWithLength(text, len);
    if (cJSON_IsArray(j)) {
        /* {"corpid":..,"messages":<the file's bytes>} */
        if (corpid && !(q = json_string(corpid)))
            goto oom;
        blen = len + (q ? strlen(q) : 0) + 32;
        if (!(body = malloc(blen)))
            goto oom;
        blen = (size_t)snprintf(body, blen, "{%s%s%s\"messages\":", q ? "\"corpid\":" : "",
                                q ? q : "", q ? "," : "");
        memcpy(body + blen, text, len);
        body[blen + len] = '}';
        blen += len + 1;
    } else if (cJSON_IsObject(j) &&
               cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "messages"))) {
        if (corpid) {
            cJSON_DeleteItemFromObjectCaseSensitive(j, "corpid");
            if (!cJSON_AddStringToObject(j, "corpid", corpid) ||
                !(body = cJSON_PrintUnformatted(j)))
                goto oom;
            blen = strlen(body);
        } else {
            body = text;
            text = NULL;
            blen = len;
        }
    } else {
        fprintf(err,
                "zonelab messages: %s must hold a JSON array of messages, or an object with "
                "\"messages\" (an array)\n",
                args[0]);
        goto out;
    }
    if (client_init(&c, "messages", url, err) != 0 ||
        http(&c, "/_zonelab/messages", body, blen, &r) != 0)
        goto out;
    print_body(out, r.body, r.len, pretty != NULL);
    if (control_ok(&c, &r) == 0)
        rc = ZL_CLI_OK;
    goto out;
oom:
    fprintf(err, "zonelab messages: out of memory\n");
out:
    reply_cleanup(&r);
    client_cleanup(&c);
    cJSON_Delete(j);
    cJSON_free(q);
    free(body);
    free(text);
    return rc;
}

/* ---- zonelab journal ---- */

static void journal_usage(FILE *f)
{
    fputs("usage: zonelab journal [--follow] [--face F] [--kind K] [--field KEY=VALUE]\n"
          "                       [--since SEQ] [--limit N] [--url URL]\n"
          "\n"
          "Prints the journal of a running emulator (GET /_zonelab/journal), one JSON entry\n"
          "per line, oldest first. Flags take a value as '--flag VALUE' or '--flag=VALUE'.\n"
          "\n"
          "  --url URL            the emulator (default: $ZONELAB_URL, else " ZL_CLI_DEFAULT_URL
          ")\n"
          "  --follow             keep printing new entries (polled every 200 ms) until\n"
          "                       SIGINT or SIGTERM, which end it with status 0\n"
          "  --since SEQ          entries after seq SEQ (default: 0; with --follow, the\n"
          "                       newest entry's seq, so only new entries)\n"
          "  --face F             only entries of face F (app, sdk, program, callback,\n"
          "                       control); repeat for any of several\n"
          "  --kind K             only entries of kind K (call, protocol_mismatch, event, ...);\n"
          "                       repeat for any of several\n"
          "  --field KEY=VALUE    only entries whose KEY is VALUE; KEY is a member name or a\n"
          "                       dotted path (request.ability_id, events.0.msgid); a string\n"
          "                       compares as text, a number as a number, an object or array\n"
          "                       as its compact JSON; repeat for all of several\n"
          "  --limit N            stop after N entries printed\n"
          "  -h, --help           this text\n"
          "\n"
          "exit status: 0 done or stopped by a signal; 1 the emulator unreachable or refusing;\n"
          "2 usage error.\n",
          f);
}

/* The member at a dotted path (numeric segments index arrays), or NULL. */
static const cJSON *at_path(const cJSON *j, const char *path)
{
    char seg[256];

    while (j && *path) {
        size_t n = strcspn(path, ".");
        unsigned long long idx;

        if (n == 0 || n >= sizeof seg)
            return NULL;
        memcpy(seg, path, n);
        seg[n] = '\0';
        if (cJSON_IsArray(j))
            j = zl_cli_parse_u64(seg, INT32_MAX, &idx) == 0 ? cJSON_GetArrayItem(j, (int)idx)
                                                            : NULL;
        else
            j = cJSON_GetObjectItemCaseSensitive(j, seg);
        path += n;
        if (*path == '.')
            path++;
    }
    return j;
}

/* Whether the member at key=value's KEY has that value (see journal_usage). */
static bool field_matches(const cJSON *entry, const char *kv)
{
    const char *eq = strchr(kv, '='), *want = eq + 1;
    char key[512];
    const cJSON *v;
    bool same = false;

    if ((size_t)(eq - kv) >= sizeof key)
        return false;
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    if (!(v = at_path(entry, key)))
        return false;
    if (cJSON_IsString(v))
        return !strcmp(v->valuestring, want);
    if (cJSON_IsNumber(v)) {
        char *end;
        double d;

        errno = 0;
        d = strtod(want, &end);
        return *want && !*end && !errno && d == v->valuedouble;
    }
    if (cJSON_IsTrue(v) || cJSON_IsFalse(v) || cJSON_IsNull(v))
        return !strcmp(want, cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : "null");
    {
        char *text = cJSON_PrintUnformatted(v);

        same = text && !strcmp(text, want);
        cJSON_free(text);
    }
    return same;
}

static bool in_list(const char *s, const char **list, size_t n)
{
    size_t i;

    if (n == 0)
        return true;
    for (i = 0; s && i < n; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

int zl_cli_journal(int argc, char **argv, FILE *out, FILE *err)
{
    const char *url = NULL, *follow = NULL, *since_s = NULL, *limit_s = NULL;
    const char *faces[MAX_FILTERS], *kinds[MAX_FILTERS], *fields[MAX_FILTERS];
    size_t n_faces = 0, n_kinds = 0, n_fields = 0, i;
    const zl_cli_opt opts[] = {
        ZL_CLI_OPT("url", &url),
        ZL_CLI_SWITCH("follow", &follow),
        ZL_CLI_OPT("since", &since_s),
        ZL_CLI_OPT("limit", &limit_s),
        ZL_CLI_LIST("face", faces, MAX_FILTERS, &n_faces),
        ZL_CLI_LIST("kind", kinds, MAX_FILTERS, &n_kinds),
        ZL_CLI_LIST("field", fields, MAX_FILTERS, &n_fields),
        ZL_CLI_END,
    };
    const zl_cli_cmd cmd = {.name = "journal", .usage = journal_usage, .opts = opts};
    unsigned long long since = 0, limit = 0, printed = 0;
    cJSON *state = NULL, *page = NULL;
    client c = {0};
    reply r = {0};
    char path[128];
    int rc, help;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help)
        return rc;
    if (since_s && zl_cli_parse_u64(since_s, UINT64_MAX, &since) != 0)
        return zl_cli_usage_error(&cmd, err, "--since must be a journal seq, got '%s'", since_s);
    if (limit_s && (zl_cli_parse_u64(limit_s, UINT64_MAX, &limit) != 0 || limit == 0))
        return zl_cli_usage_error(&cmd, err, "--limit must be a count from 1, got '%s'", limit_s);
    for (i = 0; i < n_fields; i++)
        if (!strchr(fields[i], '=') || fields[i][0] == '=')
            return zl_cli_usage_error(&cmd, err, "--field takes KEY=VALUE, got '%s'", fields[i]);
    if (client_init(&c, "journal", url, err) != 0)
        return ZL_CLI_FAILED;
    rc = ZL_CLI_FAILED;
    if (follow) {
        if (!since_s) {
            if (!(state = get_state(&c)))
                goto out;
            since = (unsigned long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(state, "journal"), "last"));
        }
        zl_cli_stop_on_signals();
        fprintf(err, "zonelab journal: following %s after seq %llu; SIGINT or SIGTERM stops\n",
                c.base, since);
        fflush(err);
    }
    while (!(follow && zl_cli_stopped())) {
        const cJSON *e, *entries;
        int count = 0;

        snprintf(path, sizeof path, "/_zonelab/journal?since=%llu&limit=%d", since, JOURNAL_PAGE);
        if (http(&c, path, NULL, 0, &r) != 0) {
            if (follow && zl_cli_stopped())
                rc = ZL_CLI_OK;
            goto out;
        }
        if (control_ok(&c, &r) != 0 || !(page = cJSON_ParseWithLength(r.body, r.len))) {
            print_body(err, r.body, r.len, false);
            goto out;
        }
        reply_cleanup(&r);
        entries = cJSON_GetObjectItemCaseSensitive(page, "entries");
        cJSON_ArrayForEach(e, entries)
        {
            double seq = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "seq"));
            char *text;

            count++;
            if (seq == seq && seq > (double)since)
                since = (unsigned long long)seq;
            if (!in_list(str_of(e, "face"), faces, n_faces) ||
                !in_list(str_of(e, "kind"), kinds, n_kinds))
                continue;
            for (i = 0; i < n_fields && field_matches(e, fields[i]); i++)
                ;
            if (i < n_fields)
                continue;
            if (!(text = cJSON_PrintUnformatted(e)))
                goto out;
            fputs(text, out);
            fputc('\n', out);
            cJSON_free(text);
            if (limit && ++printed >= limit) {
                fflush(out);
                rc = ZL_CLI_OK;
                goto out;
            }
        }
        fflush(out);
        cJSON_Delete(page);
        page = NULL;
        if (count >= JOURNAL_PAGE)
            continue; /* more are waiting */
        if (!follow)
            break;
        zl_cli_sleep_ms(POLL_MS);
    }
    rc = ZL_CLI_OK;
out:
    if (ferror(out))
        rc = ZL_CLI_FAILED;
    reply_cleanup(&r);
    cJSON_Delete(page);
    cJSON_Delete(state);
    client_cleanup(&c);
    return rc;
}
