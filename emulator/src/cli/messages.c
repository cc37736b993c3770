/* cli_messages: `zonelab messages`, world-file messages archived into a running emulator's
 * corp through its control face. */
#include "cli/client.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/http.h"
#include "cli/opts.h"

static void usage(FILE *f)
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
                            .usage = usage,
                            .opts = opts,
                            .args = args,
                            .max_args = 1,
                            .arg_count = &nargs};
    char *text = NULL, *body = NULL, *q = NULL;
    cJSON *j = NULL;
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
    rc = zl_cli_control_post("messages", url, "/_zonelab/messages", body, blen, pretty != NULL, out,
                             err);
    goto out;
oom:
    fprintf(err, "zonelab messages: out of memory\n");
out:
    cJSON_Delete(j);
    cJSON_free(q);
    free(body);
    free(text);
    return rc;
}
