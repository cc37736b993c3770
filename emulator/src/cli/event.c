/* cli_event: `zonelab event`, an event (call_type 2) pushed to a program of a running emulator
 * through its control face. */
#include "cli/client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/http.h"
#include "cli/opts.h"

static void usage(FILE *f)
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
    const zl_cli_cmd cmd = {.name = "event", .usage = usage, .opts = opts};
    unsigned long long ag = 0, rep = 0;
    char *text = NULL, *rest = NULL, *body = NULL;
    cJSON *extra = NULL;
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
    rc = zl_cli_control_post("event", url, "/_zonelab/events", body, len, pretty != NULL, out, err);
out:
    cJSON_Delete(extra);
    cJSON_free(rest);
    free(body);
    free(text);
    return rc;
}
