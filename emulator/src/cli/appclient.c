/* cli_appclient: the app backend's side of a running emulator for the commands: the app from
 * the state, gettoken, and the /cgi-bin/chatdata/ endpoints. */
#include "cli/appclient.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/opts.h"
#include "core/json.h"

static double number_of(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Says on c->err that the state has no such app, and which apps it has. */
static void say_no_app(zl_cli_http *c, const cJSON *apps, const char *corpid, const char *agentid)
{
    const cJSON *a;

    fprintf(c->err, "zonelab %s: the emulator has no app", c->cmd);
    if (agentid)
        fprintf(c->err, " with agentid %s", agentid);
    if (corpid)
        fprintf(c->err, " in corp %s", corpid);
    fputs(" (its apps:", c->err);
    cJSON_ArrayForEach(a, apps)
    {
        fprintf(c->err, " %s/%.0f", zl_json_str(a, "corpid") ? zl_json_str(a, "corpid") : "?",
                number_of(a, "agentid"));
    }
    fputs(")\n", c->err);
}

int zl_cli_app_pick(zl_cli_http *c, const cJSON *state, const char *corpid, const char *secret,
                    const char *agentid_s, zl_cli_app_choice *app)
{
    const cJSON *corps = cJSON_GetObjectItemCaseSensitive(state, "corps");
    const cJSON *apps = cJSON_GetObjectItemCaseSensitive(state, "apps");
    const cJSON *progs = cJSON_GetObjectItemCaseSensitive(state, "programs");
    const char *first_corp = zl_json_str(cJSON_GetArrayItem(corps, 0), "corpid");
    unsigned long long agentid = 0;
    const cJSON *a, *p, *chosen = NULL;

    memset(app, 0, sizeof *app);
    if (agentid_s)
        zl_cli_parse_u64(agentid_s, UINT32_MAX, &agentid);
    app->corpid = corpid;
    app->secret = secret;
    if (secret) {
        cJSON_ArrayForEach(a, apps)
        {
            const char *s = zl_json_str(a, "secret");

            if (!chosen && s && !strcmp(s, secret) &&
                (!corpid ||
                 (zl_json_str(a, "corpid") && !strcmp(zl_json_str(a, "corpid"), corpid))))
                chosen = a;
        }
        if (chosen && !app->corpid)
            app->corpid = zl_json_str(chosen, "corpid");
    } else {
        cJSON_ArrayForEach(a, apps)
        {
            const char *ac = zl_json_str(a, "corpid");
            const cJSON *ag = cJSON_GetObjectItemCaseSensitive(a, "agentid");

            if (!ac || !zl_json_str(a, "secret") || !cJSON_IsNumber(ag))
                continue;
            if (corpid ? strcmp(ac, corpid) != 0
                       : !agentid_s && (!first_corp || strcmp(ac, first_corp) != 0))
                continue;
            if (agentid_s && ag->valuedouble != (double)agentid)
                continue;
            chosen = a;
            app->corpid = ac;
            app->secret = zl_json_str(a, "secret");
            break;
        }
        if (!app->secret) {
            say_no_app(c, apps, corpid, agentid_s);
            return -1;
        }
    }
    if (chosen) {
        app->agentid = number_of(chosen, "agentid");
        app->public_key_ver = number_of(chosen, "public_key_ver");
    }
    if (!app->corpid)
        app->corpid = first_corp;
    if (!app->corpid) {
        fprintf(c->err, "zonelab %s: the emulator has no corp; give --corpid\n", c->cmd);
        return -1;
    }
    cJSON_ArrayForEach(p, progs)
    {
        const char *pc = zl_json_str(p, "corpid");

        if (!app->program_id && pc && !strcmp(pc, app->corpid))
            app->program_id = zl_json_str(p, "program_id");
    }
    return 0;
}

long zl_cli_app_errcode(const zl_cli_reply *r, cJSON **json)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "errcode");
    long v = r->status == 200 && zl_json_is_int(code, INT32_MIN, INT32_MAX)
                 ? (long)code->valuedouble
                 : ZL_CLI_NO_ERRCODE;

    if (json)
        *json = j;
    else
        cJSON_Delete(j);
    return v;
}

long zl_cli_app_gettoken(zl_cli_http *c, const zl_cli_app_choice *app, FILE *out, bool pretty,
                         zl_cli_reply *r, cJSON **answer, char **token)
{
    char path[ZL_CLI_MAX_URL], *q_corp = NULL, *q_secret = NULL;
    const char *t;
    long code = ZL_CLI_UNREACHABLE;

    *answer = NULL;
    *token = NULL;
    if (!(q_corp = zl_cli_http_escape(c, app->corpid)) ||
        !(q_secret = zl_cli_http_escape(c, app->secret ? app->secret : ""))) {
        fprintf(c->err, "zonelab %s: out of memory\n", c->cmd);
        goto out;
    }
    snprintf(path, sizeof path, "/cgi-bin/gettoken?corpid=%s&corpsecret=%s", q_corp, q_secret);
    if (zl_cli_http_get(c, path, r) != 0)
        goto out;
    if ((code = zl_cli_app_errcode(r, answer)) != 0) {
        zl_cli_print_body(out, r->body, r->len, pretty);
        fprintf(c->err, "zonelab %s: gettoken for corp %s answered %s%ld\n", c->cmd, app->corpid,
                code == ZL_CLI_NO_ERRCODE ? "HTTP " : "errcode ",
                code == ZL_CLI_NO_ERRCODE ? r->status : code);
        goto out;
    }
    if (!(t = zl_json_str(*answer, "access_token"))) {
        zl_cli_print_body(out, r->body, r->len, pretty);
        fprintf(c->err, "zonelab %s: gettoken for corp %s answered no access_token\n", c->cmd,
                app->corpid);
        code = ZL_CLI_NO_ERRCODE;
    } else if (!(*token = zl_cli_http_escape(c, t))) {
        fprintf(c->err, "zonelab %s: out of memory\n", c->cmd);
        code = ZL_CLI_UNREACHABLE;
    }
out:
    curl_free(q_corp);
    curl_free(q_secret);
    return code;
}

long zl_cli_app_post(zl_cli_http *c, const char *endpoint, const char *token, const char *body,
                     FILE *out, bool pretty, long quiet, zl_cli_reply *r, cJSON **answer)
{
    char path[ZL_CLI_MAX_URL];
    long code;

    *answer = NULL;
    snprintf(path, sizeof path, "/cgi-bin/chatdata/%s?access_token=%s", endpoint, token);
    if (zl_cli_http_post(c, path, body, strlen(body), r) != 0)
        return ZL_CLI_UNREACHABLE;
    code = zl_cli_app_errcode(r, answer);
    if (out)
        zl_cli_print_body(out, r->body, r->len, pretty);
    if (code == ZL_CLI_NO_ERRCODE)
        fprintf(c->err, "zonelab %s: %s answered HTTP %ld without an errcode\n", c->cmd, endpoint,
                r->status);
    else if (code != 0 && code != quiet)
        fprintf(c->err, "zonelab %s: %s answered errcode %ld\n", c->cmd, endpoint, code);
    return code;
}
