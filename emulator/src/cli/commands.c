/* cli_commands: the table of `zonelab` commands and the usage written from it. */
#include "cli/commands.h"

#include <string.h>

#include "cli/check.h"
#include "cli/client.h"
#include "cli/crypto.h"
#include "cli/explore.h"
#include "cli/init.h"
#include "cli/options.h"
#include "cli/replay.h"
#include "cli/report.h"
#include "cli/run.h"
#include "cli/serve.h"

const zl_cli_command zl_cli_commands[] = {
    {"crypto", zl_cli_crypto,
     "WXBizMsgCrypt callback crypto: verify-url, decrypt, encrypt\n"
     "(zonelab crypto --help for details)",
     "verify-url decrypt encrypt"},
    {"init", zl_cli_init,
     "a starter zone program of your own, with scenarios (zonelab init --help)", NULL},
    {"serve", zl_cli_serve, "run the emulator (zonelab serve --help)", NULL},
    {"run", zl_cli_run, "run Lua scenarios against fresh emulators (zonelab run --help)", NULL},
    {"explore", zl_cli_explore,
     "generated runs against a program, properties checked, the failing run shrunk\n"
     "to a scenario (zonelab explore --help)",
     NULL},
    {"report", zl_cli_report, "merge the JUnit reports of sharded runs (zonelab report --help)",
     "merge"},
    {"call", zl_cli_call, "sync_call_program or async_program_task from the terminal", NULL},
    {"event", zl_cli_event, "push an event to a program of a running emulator", NULL},
    {"messages", zl_cli_messages, "archive messages from a JSON file into a running emulator",
     NULL},
    {"journal", zl_cli_journal, "follow or filter the journal of a running emulator", NULL},
    {"app", zl_cli_app,
     "the app backend's side: gettoken, set-receive-callback, set-public-key,\n"
     "post, inbox (zonelab app --help)",
     "gettoken set-receive-callback set-public-key post inbox"},
    {"check-protocol", zl_cli_check_protocol,
     "check a request_data against an ability protocol, offline", NULL},
    {"replay", zl_cli_replay,
     "drive a program with a recording and compare (zonelab replay --help)", NULL},
    {"options", zl_cli_options,
     "the emulator's options: every default WeCom leaves open, as Markdown or JSON", NULL},
    {"sdk-path", zl_cli_sdk_path,
     "where zonelab's fakes of the vendor's SDKs are (python, library, java-classpath,\n"
     "java-library-path)",
     "python library java-classpath java-library-path"},
    {"completion", zl_cli_completion, "a bash or zsh completion script (zonelab completion bash)",
     "bash zsh"},
    {"man", zl_cli_man, "the man page zonelab(1), in roff (zonelab man | man -l -)", NULL},
};

const size_t zl_cli_commands_count = sizeof zl_cli_commands / sizeof zl_cli_commands[0];

#define NAME_WIDTH 8 /* the summaries start in one column; a longer name pushes its own on */

void zl_cli_usage(FILE *f)
{
    size_t i;

    fputs("usage: zonelab <command> [options]\n"
          "       zonelab --help | --version [--docs]\n"
          "\n"
          "commands:\n",
          f);
    for (i = 0; i < zl_cli_commands_count; i++) {
        const char *s = zl_cli_commands[i].summary, *nl;

        fprintf(f, "  %-*s  ", NAME_WIDTH, zl_cli_commands[i].name);
        while ((nl = strchr(s, '\n'))) {
            fprintf(f, "%.*s\n%*s", (int)(nl - s), s, NAME_WIDTH + 4, "");
            s = nl + 1;
        }
        fprintf(f, "%s\n", s);
    }
    fputs("\n"
          "Every command takes --help.\n",
          f);
}
