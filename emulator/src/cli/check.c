/* cli_check: `zonelab check-protocol`, the emulator's ability protocol check (protocol.h) run
 * offline on a request_data or response_data. */
#include "cli/check.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/opts.h"
#include "emu/options.h"
#include "wecom/protocol.h"
#include "wecom/world.h"

static void usage(FILE *f)
{
    fputs("usage: zonelab check-protocol (--protocol TEXT | --protocol-file FILE|-\n"
          "                                | --world FILE|default --ability ID [--program-id ID])\n"
          "                               [--output] (--data TEXT | --data-file FILE|-) [--json]\n"
          "                               [--set protocol.NAME=VALUE ...]\n"
          "\n"
          "Checks a request_data against an ability's input protocol, or with --output a\n"
          "program's response_data against its output protocol, offline and exactly as the\n"
          "emulator does (spec app-api.md §11). Prints 'ok', or WeCom's errcode and errmsg\n"
          "followed by zonelab's diagnosis: the JSON path of the first mismatch, the expected\n"
          "and actual type, and one sentence (which names the Python sample's input/output\n"
          "wrapper when that is the cause). Flags take a value as '--flag VALUE' or\n"
          "'--flag=VALUE'.\n"
          "\n"
          "  --protocol TEXT         the protocol example (a JSON object)\n"
          "  --protocol-file FILE|-  the protocol example from FILE, or stdin with -\n"
          "  --world FILE|default    take the protocol from an ability of a world file\n"
          "                          (default: the built-in default world)\n"
          "  --ability ID            with --world: the ability_id\n"
          "  --program-id ID         with --world: the program (default: the first program\n"
          "                          that has the ability)\n"
          "  --output                check response_data against the output protocol\n"
          "                          (790013, 790014) instead of request_data against the\n"
          "                          input protocol (790015, 790016)\n"
          "  --data TEXT             the request_data (response_data with --output)\n"
          "  --data-file FILE|-      the same from FILE, or stdin with -\n"
          "  --set NAME=VALUE        a protocol.* option (zonelab options lists them), over\n"
          "                          the --world file's \"options\"; repeatable\n"
          "  --json                  print "
          "{\"errcode\",\"errmsg\",\"path\",\"expected\",\"actual\",\n"
          "                          \"diagnosis\"} instead of text\n"
          "  -h, --help              this text\n"
          "\n"
          "exit status: 0 it matches; 1 it does not, or it is not JSON, or the protocol\n"
          "example is unusable (790012), or a file or world cannot be read; 2 usage error.\n",
          f);
}

/* The ability's protocol text in w: program_id NULL takes the first program with it. */
static const char *world_protocol(zl_world *w, const char *program_id, const char *ability_id,
                                  bool output, FILE *err)
{
    size_t i, k;

    for (i = 0; i < w->corp_count; i++)
        for (k = 0; k < w->corps[i].program_count; k++) {
            zl_program *p = &w->corps[i].programs[k];
            zl_ability *a;

            if (program_id && strcmp(p->program_id, program_id))
                continue;
            if ((a = zl_program_ability(p, ability_id)))
                return output ? a->output_protocol : a->input_protocol;
        }
    if (program_id)
        fprintf(err, "zonelab check-protocol: the world has no ability '%s' in a program '%s'\n",
                ability_id, program_id);
    else
        fprintf(err, "zonelab check-protocol: no program of the world has an ability '%s'\n",
                ability_id);
    return NULL;
}

/* Prints d as text or JSON; returns the exit status. */
static int print_result(const zl_protocol_diag *d, bool json, FILE *out)
{
    const char *msg = d->code ? zl_protocol_errmsg(d->code) : "ok";

    if (!msg)
        msg = "";
    if (json) {
        cJSON *j = cJSON_CreateObject();
        char *text;

        cJSON_AddNumberToObject(j, "errcode", d->code);
        cJSON_AddStringToObject(j, "errmsg", msg);
        if (d->code) {
            cJSON_AddStringToObject(j, "path", d->path);
            cJSON_AddStringToObject(j, "expected", d->expected);
            cJSON_AddStringToObject(j, "actual", d->actual);
            cJSON_AddStringToObject(j, "diagnosis", d->sentence);
        }
        text = cJSON_PrintUnformatted(j);
        fprintf(out, "%s\n", text ? text : "");
        cJSON_free(text);
        cJSON_Delete(j);
    } else if (!d->code) {
        fputs("ok\n", out);
    } else {
        fprintf(out, "%d %s\n", d->code, msg);
        if (d->path[0])
            fprintf(out, "path: %s\n", d->path);
        if (d->expected[0])
            fprintf(out, "expected: %s\n", d->expected);
        if (d->actual[0])
            fprintf(out, "actual: %s\n", d->actual);
        fprintf(out, "diagnosis: %s\n", d->sentence);
    }
    fflush(out);
    return d->code ? ZL_CLI_FAILED : ZL_CLI_OK;
}

int zl_cli_check_protocol(int argc, char **argv, FILE *out, FILE *err)
{
    const char *protocol = NULL, *protocol_file = NULL, *world_path = NULL, *ability = NULL,
               *program_id = NULL, *output = NULL, *data = NULL, *data_file = NULL, *json = NULL,
               *sets[16];
    size_t nsets = 0;
    const zl_cli_opt opts[] = {
        ZL_CLI_OPT("protocol", &protocol),
        ZL_CLI_OPT("protocol-file", &protocol_file),
        ZL_CLI_OPT("world", &world_path),
        ZL_CLI_OPT("ability", &ability),
        ZL_CLI_OPT("program-id", &program_id),
        ZL_CLI_SWITCH("output", &output),
        ZL_CLI_OPT("data", &data),
        ZL_CLI_OPT("data-file", &data_file),
        ZL_CLI_SWITCH("json", &json),
        ZL_CLI_LIST("set", sets, 16, &nsets),
        ZL_CLI_END,
    };
    const zl_cli_cmd cmd = {.name = "check-protocol", .usage = usage, .opts = opts};
    char *example_text = NULL, *value = NULL, msg[512];
    const char *ptext;
    size_t example_len = 0, value_len = 0;
    zl_world *w = NULL;
    cJSON *example = NULL;
    zl_protocol_diag d;
    zl_emu_options o;
    int rc, help;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help)
        return rc;
    if ((protocol != NULL) + (protocol_file != NULL) + (world_path != NULL) != 1)
        return zl_cli_usage_error(&cmd, err, "give one of --protocol, --protocol-file and --world");
    if (world_path && (!ability || !*ability))
        return zl_cli_usage_error(&cmd, err, "--world needs --ability");
    if (!world_path && (ability || program_id))
        return zl_cli_usage_error(&cmd, err, "--ability and --program-id go with --world");
    if (!data == !data_file)
        return zl_cli_usage_error(&cmd, err,
                                  "give either --data TEXT or --data-file FILE (- for "
                                  "stdin)");
    if (protocol_file && data_file && !strcmp(protocol_file, "-") && !strcmp(data_file, "-"))
        return zl_cli_usage_error(&cmd, err,
                                  "only one of --protocol-file and --data-file can "
                                  "read stdin");
    zl_emu_options_default(&o);
    for (size_t i = 0; i < nsets; i++)
        if (strncmp(sets[i], "protocol.", 9) != 0 ||
            zl_emu_options_set_text(&o, sets[i], msg, sizeof msg) != 0)
            return zl_cli_usage_error(
                &cmd, err, "--set %s",
                strncmp(sets[i], "protocol.", 9) ? "takes the protocol.* options only" : msg);
    rc = ZL_CLI_FAILED;
    if (world_path) {
        w = strcmp(world_path, "default") != 0 ? zl_world_load_file(world_path, msg, sizeof msg)
                                               : zl_world_load_default(msg, sizeof msg);
        if (!w) {
            fprintf(err, "zonelab check-protocol: %s: %s\n",
                    strcmp(world_path, "default") ? world_path : "built-in world", msg);
            goto out;
        }
        if (!(ptext = world_protocol(w, program_id, ability, output != NULL, err)))
            goto out;
        if (zl_emu_options_set_world(&o, w, msg, sizeof msg) != 0) { /* then --set again */
            fprintf(err, "zonelab check-protocol: %s: %s\n", world_path, msg);
            goto out;
        }
        for (size_t i = 0; i < nsets; i++)
            zl_emu_options_set_text(&o, sets[i], msg, sizeof msg);
        example_text = zl_cli_text_or_file(&cmd, ptext, NULL, "protocol", &example_len, err, NULL);
    } else {
        example_text =
            zl_cli_text_or_file(&cmd, protocol, protocol_file, "protocol", &example_len, err, NULL);
    }
    if (!example_text ||
        !(value = zl_cli_text_or_file(&cmd, data, data_file, "data", &value_len, err, NULL)))
        goto out;
    /* an example WeCom would not register answers 790012, as the console would */
    if (zl_protocol_check_example(example_text, example_len, &d) != 0) {
        rc = print_result(&d, json != NULL, out);
        goto out;
    }
    if (!(example = cJSON_ParseWithLength(example_text, example_len))) {
        fputs("zonelab check-protocol: out of memory\n", err);
        goto out;
    }
    if (output)
        zl_protocol_check_response(example, value, value_len, &o.protocol, &d);
    else
        zl_protocol_check_request(example, value, value_len, &o.protocol, &d);
    rc = print_result(&d, json != NULL, out);
out:
    cJSON_Delete(example);
    zl_world_free(w);
    free(example_text);
    free(value);
    return rc;
}
