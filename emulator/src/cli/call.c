/* cli_call: `zonelab call`, an app's sync_call_program or async_program_task from the
 * terminal: gettoken with the app's corpsecret, the call, and with --wait the polled result. */
#include "cli/client.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cli/appclient.h"
#include "cli/http.h"
#include "cli/opts.h"

#define POLL_MS 200 /* --wait poll period */

/* WeCom's "job still waiting" answer of async_program_result (emulator default). */
#define ERRCODE_PENDING 710642

static void usage(FILE *f)
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

static bool is_protocol_code(long code)
{
    return (code >= 790012 && code <= 790016) || code == 710647;
}

/*
 * After a protocol errcode: zonelab's diagnosis from the journal's protocol_mismatch entry
 * of this request (its id is the errmsg's "hint: [...]"), printed on err.
 */
static void print_diagnosis(zl_cli_http *c, const cJSON *answer, double journal_last)
{
    const char *msg = zl_json_str(answer, "errmsg"), *h = msg ? strstr(msg, "hint: [") : NULL;
    char req_id[64] = "", path[80];
    const cJSON *e;
    cJSON *j = NULL;
    zl_cli_reply r = {0};
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
    if (zl_cli_http_get(c, path, &r) != 0 || r.status != 200 ||
        !(j = cJSON_ParseWithLength(r.body, r.len)))
        goto out;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "entries"))
    {
        const char *kind = zl_json_str(e, "kind"), *rid = zl_json_str(e, "req_id");
        const char *d = zl_json_str(e, "diagnosis"), *p = zl_json_str(e, "path");
        const char *ex = zl_json_str(e, "expected"), *ac = zl_json_str(e, "actual");

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
    zl_cli_reply_cleanup(&r);
}

/* Polls async_program_result for jobid until it is not 710642 or the deadline passes; prints
 * the last answer. */
static int wait_result(zl_cli_http *c, const char *token, const char *jobid, long timeout_s,
                       bool pretty, FILE *out)
{
    int64_t deadline = zl_cli_now_ms() + timeout_s * 1000;
    cJSON *body = cJSON_CreateObject(), *answer = NULL;
    char *text = NULL;
    zl_cli_reply r = {0};
    long code;
    int rc = ZL_CLI_FAILED;

    if (!body || !cJSON_AddStringToObject(body, "jobid", jobid) ||
        !(text = cJSON_PrintUnformatted(body)))
        goto out;
    for (;;) {
        code = zl_cli_app_post(c, "async_program_result", token, text, NULL, false, ERRCODE_PENDING,
                               &r, &answer);
        cJSON_Delete(answer);
        if (code == ZL_CLI_UNREACHABLE)
            break;
        if (code != ERRCODE_PENDING || zl_cli_now_ms() >= deadline) {
            zl_cli_print_body(out, r.body, r.len, pretty);
            if (code == ERRCODE_PENDING)
                fprintf(c->err,
                        "zonelab %s: no result after %ld s: async_program_result still answers "
                        "%d (the program has not reported with program_async_job_call_back)\n",
                        c->cmd, timeout_s, ERRCODE_PENDING);
            rc = code == 0 ? ZL_CLI_OK : ZL_CLI_FAILED;
            break;
        }
        zl_cli_reply_cleanup(&r);
        zl_cli_sleep_ms(POLL_MS);
    }
out:
    zl_cli_reply_cleanup(&r);
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
    const zl_cli_cmd cmd = {.name = "call", .usage = usage, .opts = opts};
    unsigned long long v, timeout_s = 30;
    char *request = NULL, *token_esc = NULL, *body_text = NULL;
    cJSON *state = NULL, *body = NULL, *answer = NULL;
    zl_cli_app_choice app = {0};
    const char *endpoint;
    zl_cli_http c = {0};
    size_t len = 0;
    double journal_last = 0;
    zl_cli_reply r = {0};
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
    if (zl_cli_http_init(&c, "call", url, err) != 0)
        goto out;
    c.timeout_ms = (long)timeout_s * 1000;
    if (!(state = zl_cli_get_state(&c)))
        goto out;
    journal_last = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(state, "journal"), "last"));
    if (journal_last != journal_last) /* NaN: no journal count */
        journal_last = 0;
    if (zl_cli_app_pick(&c, state, corpid, secret, agentid, &app) != 0)
        goto out;
    if (program_id)
        app.program_id = program_id;
    if (!app.program_id) {
        fprintf(err, "zonelab call: the corp %s has no program; give --program-id\n", app.corpid);
        goto out;
    }
    if (zl_cli_app_gettoken(&c, &app, out, pretty != NULL, &r, &answer, &token_esc) != 0)
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
    zl_cli_reply_cleanup(&r);
    code = zl_cli_app_post(&c, endpoint, token_esc, body_text, out, pretty != NULL, 0, &r, &answer);
    if (code == ZL_CLI_UNREACHABLE)
        goto out;
    if (code != 0) {
        if (is_protocol_code(code))
            print_diagnosis(&c, answer, journal_last);
        goto out;
    }
    if (!wait) {
        rc = ZL_CLI_OK;
        goto out;
    }
    if (!zl_json_str(answer, "jobid")) {
        fprintf(err, "zonelab call: async_program_task answered no jobid\n");
        goto out;
    }
    rc = wait_result(&c, token_esc, zl_json_str(answer, "jobid"), (long)timeout_s, pretty != NULL,
                     out);
out:
    zl_cli_reply_cleanup(&r);
    cJSON_Delete(answer);
    cJSON_Delete(body);
    cJSON_Delete(state);
    cJSON_free(body_text);
    curl_free(token_esc);
    free(request);
    zl_cli_http_cleanup(&c);
    return rc;
}
