/* cli_app: `zonelab app`, what an app backend does on WeCom's side from the terminal: gettoken,
 * set_receive_callback, set_public_key, any /cgi-bin/chatdata/ endpoint, and the inbox of the
 * built-in fake app (the program_notify callbacks it received). */
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

#define POLL_MS  200                    /* inbox --follow poll period */
#define LAST_SEQ "18446744073709551615" /* a since that lists nothing, to learn the last seq */
#define APP_FLAGS_TEXT                                                                             \
    "  --url URL            the emulator (default: $ZONELAB_URL, else " ZL_CLI_DEFAULT_URL ")\n"   \
    "  --corpid ID          the app's corp (default: the corp of --secret, else the\n"             \
    "                       first corp)\n"                                                         \
    "  --secret S           the app's corpsecret (default: the app's, read from\n"                 \
    "                       /_zonelab/state)\n"                                                    \
    "  --agentid N          which app (default: the first app of the corp); not with\n"            \
    "                       --secret\n"                                                            \
    "  --pretty             print the JSON indented\n"                                             \
    "  -h, --help           this text\n"
#define APP_EXIT_TEXT                                                                              \
    "exit status: 0 errcode 0; 1 another errcode or the emulator unreachable (the reply\n"         \
    "is still printed); 2 usage error.\n"

/* The flags that say which app a command acts as. */
typedef struct app_flags {
    const char *url, *corpid, *secret, *agentid, *pretty;
} app_flags;

#define APP_FLAG_OPTS(f)                                                                           \
    ZL_CLI_OPT("url", &(f)->url), ZL_CLI_OPT("corpid", &(f)->corpid),                              \
        ZL_CLI_OPT("secret", &(f)->secret), ZL_CLI_OPT("agentid", &(f)->agentid),                  \
        ZL_CLI_SWITCH("pretty", &(f)->pretty)

/* A command acting as an app: the emulator, its state, the app and its access_token. */
typedef struct app_session {
    zl_cli_http c;
    cJSON *state;
    zl_cli_app_choice app;
    char *token; /* URL-escaped */
} app_session;

static void usage(FILE *f)
{
    fputs("usage: zonelab app <command> [options]\n"
          "\n"
          "What an app backend does on WeCom's side, from the terminal: gettoken with the\n"
          "app's corpsecret, then POST /cgi-bin/chatdata/<name>?access_token=...; and the\n"
          "inbox of the built-in fake app. 'zonelab app <command> --help' for each.\n"
          "\n"
          "commands:\n"
          "  gettoken              the app's access_token (GET /cgi-bin/gettoken)\n"
          "  set-receive-callback  set_receive_callback: the program that gets the app's events\n"
          "  set-public-key        set_public_key: the app's public key (third-party and\n"
          "                        代开发 apps; self-built apps set it in the console)\n"
          "  post NAME             any /cgi-bin/chatdata/NAME with a JSON body\n"
          "  inbox                 the program_notify callbacks the built-in fake app received\n"
          "\n"
          "exit status: 0 done; 1 refused or the emulator unreachable; 2 usage error.\n",
          f);
}

static void usage_gettoken(FILE *f)
{
    fputs("usage: zonelab app gettoken [options]\n"
          "\n"
          "GET /cgi-bin/gettoken?corpid=...&corpsecret=... as the app, and prints the reply\n"
          "({errcode, errmsg, access_token, expires_in}): while the app's token is valid, the\n"
          "same one with the seconds it has left, as WeCom does.\n"
          "\n"
          "  --token-only         print only the access_token (for T=$(...))\n" APP_FLAGS_TEXT
          "\n" APP_EXIT_TEXT,
          f);
}

static void usage_receive(FILE *f)
{
    fputs("usage: zonelab app set-receive-callback [--program-id ID] [options]\n"
          "\n"
          "POST /cgi-bin/chatdata/set_receive_callback {\"program_id\"} as the app: from then\n"
          "on that program receives the app's events (conversation_new_message, hit_keyword,\n"
          "...). Without it no program receives any. Prints the reply.\n"
          "\n"
          "  --program-id ID      the program (default: the first program of the app's "
          "corp)\n" APP_FLAGS_TEXT "\n" APP_EXIT_TEXT,
          f);
}

static void usage_public_key(FILE *f)
{
    fputs(
        "usage: zonelab app set-public-key --file PEM|- [--version N] [options]\n"
        "\n"
        "POST /cgi-bin/chatdata/set_public_key {\"public_key\", \"public_key_ver\"} as the\n"
        "app: WeCom archives the app's messages from then on, each secret key encrypted\n"
        "with this key. Third-party and 代开发 apps only (a self-built app gets 710640;\n"
        "its key is set in the console: POST /_zonelab/public_key). Prints the reply.\n"
        "\n"
        "  --file PEM|-         the RSA-2048 public key, PEM text, or stdin with -\n"
        "  --version N          public_key_ver (default: the app's newest plus 1)\n" APP_FLAGS_TEXT
        "\n" APP_EXIT_TEXT,
        f);
}

static void usage_post(FILE *f)
{
    fputs("usage: zonelab app post NAME [--data TEXT | --data-file FILE|-] [options]\n"
          "\n"
          "POST /cgi-bin/chatdata/NAME?access_token=... as the app, with the body exactly as\n"
          "given (default {}), and prints the reply. NAME is any endpoint of the app face:\n"
          "get_log_level, set_log_level, check_debug_mode, get_auth_user_list,\n"
          "get_corp_auth_info, ... (docs/fidelity.md lists them; upload_media takes multipart\n"
          "and is not for this command).\n"
          "\n"
          "  --data TEXT          the body\n"
          "  --data-file FILE|-   the body from FILE, or stdin with -\n" APP_FLAGS_TEXT
          "\n" APP_EXIT_TEXT,
          f);
}

static void usage_inbox(FILE *f)
{
    fputs("usage: zonelab app inbox [--follow] [--agentid N] [--since SEQ] [--limit N]\n"
          "                         [--timeout S] [--notify-ids] [--url URL]\n"
          "\n"
          "What the built-in fake app (an app whose callback_url is \"\") received on its\n"
          "callback URL and decrypted: the program_notify callbacks that spec_notify_app\n"
          "sends (GET /_zonelab/app/notifications), one JSON object per line, oldest first.\n"
          "\n"
          "  --url URL            the emulator (default: $ZONELAB_URL, else " ZL_CLI_DEFAULT_URL
          ")\n"
          "  --agentid N          only app N's (default: every app's)\n"
          "  --since SEQ          after inbox seq SEQ (default: 0; with --follow, the newest,\n"
          "                       so only new ones)\n"
          "  --follow             keep printing new ones (polled every 200 ms) until SIGINT,\n"
          "                       SIGTERM, --limit or --timeout\n"
          "  --limit N            stop after N printed\n"
          "  --timeout S          with --follow: stop after S seconds; with --limit, fewer\n"
          "                       than N by then is a failure\n"
          "  --notify-ids         print only each one's notify_id\n"
          "  -h, --help           this text\n"
          "\n"
          "exit status: 0 done or stopped by a signal; 1 the emulator unreachable or\n"
          "refusing, or --timeout before --limit; 2 usage error.\n",
          f);
}

/* Checks the app flags (a usage error is printed and ZL_CLI_USAGE returned). */
static int check_flags(const zl_cli_cmd *cmd, const app_flags *f, FILE *err)
{
    unsigned long long v;

    if (f->agentid && zl_cli_parse_u64(f->agentid, UINT32_MAX, &v) != 0)
        return zl_cli_usage_error(cmd, err, "--agentid must be an agentid, got '%s'", f->agentid);
    if (f->secret && f->agentid)
        return zl_cli_usage_error(cmd, err, "give --secret or --agentid, not both");
    return ZL_CLI_OK;
}

/* Finds the emulator and the app; with token, also gets the app's access_token (a refusal is
 * printed). 0, or -1 after saying why; session_close either way. */
static int session_open(app_session *s, const char *name, const app_flags *f, bool token, FILE *out,
                        FILE *err)
{
    zl_cli_reply r = {0};
    cJSON *answer = NULL;
    long code;

    memset(s, 0, sizeof *s);
    if (zl_cli_http_init(&s->c, name, f->url, err) != 0 || !(s->state = zl_cli_get_state(&s->c)) ||
        zl_cli_app_pick(&s->c, s->state, f->corpid, f->secret, f->agentid, &s->app) != 0)
        return -1;
    if (!token)
        return 0;
    code = zl_cli_app_gettoken(&s->c, &s->app, out, f->pretty != NULL, &r, &answer, &s->token);
    cJSON_Delete(answer);
    zl_cli_reply_cleanup(&r);
    return code == 0 ? 0 : -1;
}

static void session_close(app_session *s)
{
    curl_free(s->token);
    cJSON_Delete(s->state);
    zl_cli_http_cleanup(&s->c);
}

/* POSTs body to endpoint as the session's app and prints the reply: ZL_CLI_OK on errcode 0. */
static int post_print(app_session *s, const char *endpoint, const char *body, bool pretty,
                      FILE *out)
{
    zl_cli_reply r = {0};
    cJSON *answer = NULL;
    long code = zl_cli_app_post(&s->c, endpoint, s->token, body, out, pretty, 0, &r, &answer);

    cJSON_Delete(answer);
    zl_cli_reply_cleanup(&r);
    return code == 0 ? ZL_CLI_OK : ZL_CLI_FAILED;
}

/* A JSON body from a filled object (taken), posted and printed; see post_print. */
static int post_object(app_session *s, const char *endpoint, cJSON *body, bool pretty, FILE *out,
                       FILE *err)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    int rc = ZL_CLI_FAILED;

    if (text)
        rc = post_print(s, endpoint, text, pretty, out);
    else
        fprintf(err, "zonelab %s: out of memory\n", s->c.cmd);
    cJSON_free(text);
    cJSON_Delete(body);
    return rc;
}

static int app_gettoken(int argc, char **argv, FILE *out, FILE *err)
{
    app_flags f = {0};
    const char *token_only = NULL;
    const zl_cli_opt opts[] = {APP_FLAG_OPTS(&f), ZL_CLI_SWITCH("token-only", &token_only),
                               ZL_CLI_END};
    const zl_cli_cmd cmd = {.name = "app gettoken", .usage = usage_gettoken, .opts = opts};
    app_session s;
    zl_cli_reply r = {0};
    cJSON *answer = NULL;
    char *escaped = NULL;
    int rc, help;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help ||
        (rc = check_flags(&cmd, &f, err)) != ZL_CLI_OK)
        return rc;
    rc = ZL_CLI_FAILED;
    if (session_open(&s, cmd.name, &f, false, out, err) != 0 ||
        zl_cli_app_gettoken(&s.c, &s.app, out, f.pretty != NULL, &r, &answer, &escaped) != 0)
        goto out;
    if (token_only)
        fprintf(out, "%s\n", zl_json_str(answer, "access_token"));
    else
        zl_cli_print_body(out, r.body, r.len, f.pretty != NULL);
    rc = ZL_CLI_OK;
out:
    curl_free(escaped);
    cJSON_Delete(answer);
    zl_cli_reply_cleanup(&r);
    session_close(&s);
    return rc;
}

static int app_set_receive_callback(int argc, char **argv, FILE *out, FILE *err)
{
    app_flags f = {0};
    const char *program_id = NULL;
    const zl_cli_opt opts[] = {APP_FLAG_OPTS(&f), ZL_CLI_OPT("program-id", &program_id),
                               ZL_CLI_END};
    const zl_cli_cmd cmd = {
        .name = "app set-receive-callback", .usage = usage_receive, .opts = opts};
    app_session s;
    cJSON *body;
    int rc, help;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help ||
        (rc = check_flags(&cmd, &f, err)) != ZL_CLI_OK)
        return rc;
    rc = ZL_CLI_FAILED;
    if (session_open(&s, cmd.name, &f, true, out, err) != 0)
        goto out;
    if (!program_id && !(program_id = s.app.program_id)) {
        fprintf(err, "zonelab %s: the corp %s has no program; give --program-id\n", cmd.name,
                s.app.corpid);
        goto out;
    }
    body = cJSON_CreateObject();
    if (body && !cJSON_AddStringToObject(body, "program_id", program_id)) {
        cJSON_Delete(body);
        body = NULL;
    }
    rc = post_object(&s, "set_receive_callback", body, f.pretty != NULL, out, err);
out:
    session_close(&s);
    return rc;
}

static int app_set_public_key(int argc, char **argv, FILE *out, FILE *err)
{
    app_flags f = {0};
    const char *file = NULL, *version = NULL;
    const zl_cli_opt opts[] = {APP_FLAG_OPTS(&f), ZL_CLI_OPT("file", &file),
                               ZL_CLI_OPT("version", &version), ZL_CLI_END};
    const zl_cli_cmd cmd = {.name = "app set-public-key", .usage = usage_public_key, .opts = opts};
    unsigned long long ver = 0;
    app_session s;
    char *pem = NULL;
    cJSON *body;
    size_t len = 0;
    int rc, help;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help ||
        (rc = check_flags(&cmd, &f, err)) != ZL_CLI_OK)
        return rc;
    if (!file)
        return zl_cli_usage_error(&cmd, err, "give the key with --file PEM (- for stdin)");
    if (version && (zl_cli_parse_u64(version, UINT32_MAX, &ver) != 0 || ver == 0))
        return zl_cli_usage_error(&cmd, err, "--version must be a key version from 1, got '%s'",
                                  version);
    if (!(pem = zl_cli_read_file(cmd.name, file, ZL_CLI_MAX_INPUT, &len, err)))
        return ZL_CLI_FAILED;
    rc = ZL_CLI_FAILED;
    if (strlen(pem) != len) {
        fprintf(err, "zonelab %s: '%s' has a NUL byte; a PEM key is text\n", cmd.name, file);
        goto out_pem;
    }
    if (session_open(&s, cmd.name, &f, true, out, err) != 0)
        goto out;
    if (!version)
        ver = (unsigned long long)s.app.public_key_ver + 1;
    body = cJSON_CreateObject();
    if (body && (!cJSON_AddStringToObject(body, "public_key", pem) ||
                 !cJSON_AddNumberToObject(body, "public_key_ver", (double)ver))) {
        cJSON_Delete(body);
        body = NULL;
    }
    rc = post_object(&s, "set_public_key", body, f.pretty != NULL, out, err);
out:
    session_close(&s);
out_pem:
    free(pem);
    return rc;
}

static int app_post(int argc, char **argv, FILE *out, FILE *err)
{
    app_flags f = {0};
    const char *data = NULL, *data_file = NULL, *args[1] = {NULL};
    const zl_cli_opt opts[] = {APP_FLAG_OPTS(&f), ZL_CLI_OPT("data", &data),
                               ZL_CLI_OPT("data-file", &data_file), ZL_CLI_END};
    size_t nargs = 0, len = 0;
    const zl_cli_cmd cmd = {.name = "app post",
                            .usage = usage_post,
                            .opts = opts,
                            .args = args,
                            .max_args = 1,
                            .arg_count = &nargs};
    app_session s;
    char *body = NULL;
    int rc, help, usage;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help ||
        (rc = check_flags(&cmd, &f, err)) != ZL_CLI_OK)
        return rc;
    if (nargs != 1 || !*args[0] || strpbrk(args[0], "?#&% "))
        return zl_cli_usage_error(&cmd, err,
                                  "give the endpoint's NAME, as in 'post get_log_level'");
    if (!data && !data_file)
        data = "{}";
    if (!(body = zl_cli_text_or_file(&cmd, data, data_file, "data", &len, err, &usage)))
        return usage ? ZL_CLI_USAGE : ZL_CLI_FAILED;
    rc = ZL_CLI_FAILED;
    if (strlen(body) != len) {
        fprintf(err, "zonelab %s: the body has a NUL byte at offset %zu\n", cmd.name, strlen(body));
        goto out_body;
    }
    if (session_open(&s, cmd.name, &f, true, out, err) == 0)
        rc = post_print(&s, args[0], body, f.pretty != NULL, out);
    session_close(&s);
out_body:
    free(body);
    return rc;
}

static int app_inbox(int argc, char **argv, FILE *out, FILE *err)
{
    const char *url = NULL, *agentid_s = NULL, *since_s = NULL, *follow = NULL, *limit_s = NULL,
               *timeout_s = NULL, *ids = NULL;
    const zl_cli_opt opts[] = {
        ZL_CLI_OPT("url", &url),           ZL_CLI_OPT("agentid", &agentid_s),
        ZL_CLI_OPT("since", &since_s),     ZL_CLI_SWITCH("follow", &follow),
        ZL_CLI_OPT("limit", &limit_s),     ZL_CLI_OPT("timeout", &timeout_s),
        ZL_CLI_SWITCH("notify-ids", &ids), ZL_CLI_END,
    };
    const zl_cli_cmd cmd = {.name = "app inbox", .usage = usage_inbox, .opts = opts};
    unsigned long long agentid = 0, since = 0, limit = 0, timeout = 0, printed = 0;
    char path[160], filter[40] = "";
    zl_cli_http c = {0};
    zl_cli_reply r = {0};
    cJSON *page = NULL;
    int64_t deadline = 0;
    int rc, help;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help)
        return rc;
    if (agentid_s && zl_cli_parse_u64(agentid_s, UINT32_MAX, &agentid) != 0)
        return zl_cli_usage_error(&cmd, err, "--agentid must be an agentid, got '%s'", agentid_s);
    if (since_s && zl_cli_parse_u64(since_s, UINT64_MAX, &since) != 0)
        return zl_cli_usage_error(&cmd, err, "--since must be an inbox seq, got '%s'", since_s);
    if (limit_s && (zl_cli_parse_u64(limit_s, UINT64_MAX, &limit) != 0 || limit == 0))
        return zl_cli_usage_error(&cmd, err, "--limit must be a count from 1, got '%s'", limit_s);
    if (timeout_s && (zl_cli_parse_u64(timeout_s, 86400, &timeout) != 0 || timeout == 0))
        return zl_cli_usage_error(&cmd, err, "--timeout must be 1..86400 seconds, got '%s'",
                                  timeout_s);
    if (timeout_s && !follow)
        return zl_cli_usage_error(&cmd, err, "--timeout goes with --follow");
    if (agentid_s)
        snprintf(filter, sizeof filter, "agentid=%llu&", agentid);
    if (zl_cli_http_init(&c, cmd.name, url, err) != 0)
        return ZL_CLI_FAILED;
    rc = ZL_CLI_FAILED;
    if (follow) {
        if (!since_s) { /* only new ones: after the newest seq now */
            snprintf(path, sizeof path, "/_zonelab/app/notifications?since=" LAST_SEQ);
            if (zl_cli_http_get(&c, path, &r) != 0)
                goto out;
            if (zl_cli_control_ok(&c, &r) != 0 || !(page = cJSON_ParseWithLength(r.body, r.len)))
                goto out;
            since = (unsigned long long)cJSON_GetNumberValue(
                cJSON_GetObjectItemCaseSensitive(page, "last"));
            cJSON_Delete(page);
            page = NULL;
            zl_cli_reply_cleanup(&r);
        }
        zl_cli_stop_on_signals();
        fprintf(err,
                "zonelab app inbox: following %s after inbox seq %llu; SIGINT or SIGTERM "
                "stops\n",
                c.base, since);
        fflush(err);
        if (timeout)
            deadline = zl_cli_now_ms() + (int64_t)timeout * 1000;
    }
    while (!(follow && zl_cli_stopped())) {
        const cJSON *n;

        snprintf(path, sizeof path, "/_zonelab/app/notifications?%ssince=%llu", filter, since);
        if (zl_cli_http_get(&c, path, &r) != 0) {
            if (follow && zl_cli_stopped())
                rc = ZL_CLI_OK;
            goto out;
        }
        if (zl_cli_control_ok(&c, &r) != 0 || !(page = cJSON_ParseWithLength(r.body, r.len))) {
            zl_cli_print_body(err, r.body, r.len, false);
            goto out;
        }
        zl_cli_reply_cleanup(&r);
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(page, "notifications"))
        {
            double seq = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(n, "seq"));
            char *text;

            if (seq == seq && seq > (double)since)
                since = (unsigned long long)seq;
            if (ids) {
                fprintf(out, "%s\n",
                        zl_json_str(n, "notify_id") ? zl_json_str(n, "notify_id") : "");
            } else {
                if (!(text = cJSON_PrintUnformatted(n)))
                    goto out;
                fprintf(out, "%s\n", text);
                cJSON_free(text);
            }
            if (limit && ++printed >= limit) {
                rc = ZL_CLI_OK;
                goto out;
            }
        }
        fflush(out);
        cJSON_Delete(page);
        page = NULL;
        if (!follow)
            break;
        if (deadline && zl_cli_now_ms() >= deadline) {
            if (limit) {
                fprintf(err, "zonelab app inbox: %llu of %llu notifications after %llu s\n",
                        printed, limit, timeout);
                goto out;
            }
            break;
        }
        zl_cli_sleep_ms(POLL_MS);
    }
    rc = ZL_CLI_OK;
out:
    fflush(out);
    if (ferror(out))
        rc = ZL_CLI_FAILED;
    cJSON_Delete(page);
    zl_cli_reply_cleanup(&r);
    zl_cli_http_cleanup(&c);
    return rc;
}

static const struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv, FILE *out, FILE *err);
} SUBCOMMANDS[] = {
    {"gettoken", app_gettoken},
    {"set-receive-callback", app_set_receive_callback},
    {"set-public-key", app_set_public_key},
    {"post", app_post},
    {"inbox", app_inbox},
};

int zl_cli_app(int argc, char **argv, FILE *out, FILE *err)
{
    size_t i;

    if (argc < 2) {
        fputs("zonelab app: give a command\n\n", err);
        usage(err);
        return ZL_CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(out);
        return ZL_CLI_OK;
    }
    for (i = 0; i < sizeof SUBCOMMANDS / sizeof *SUBCOMMANDS; i++)
        if (!strcmp(argv[1], SUBCOMMANDS[i].name))
            return SUBCOMMANDS[i].fn(argc - 1, argv + 1, out, err);
    fprintf(err, "zonelab app: unknown command '%s'\n\n", argv[1]);
    usage(err);
    return ZL_CLI_USAGE;
}
