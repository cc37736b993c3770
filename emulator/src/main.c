/* zonelab: command-line entry point; dispatches subcommands from a table that is also the
 * usage text. */
#include <stdio.h>
#include <string.h>

#include "cli/check.h"
#include "cli/client.h"
#include "cli/crypto.h"
#include "cli/explore.h"
#include "cli/options.h"
#include "cli/opts.h"
#include "cli/replay.h"
#include "cli/run.h"
#include "cli/serve.h"

/* A command: what `zonelab <name>` runs (argv[0] is the name) and its line in the usage (a
 * '\n' continues it under the first line). */
typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv, FILE *out, FILE *err);
    const char *summary;
} command;

static const command COMMANDS[] = {
    {"crypto", zl_cli_crypto,
     "WXBizMsgCrypt callback crypto: verify-url, decrypt, encrypt\n"
     "(zonelab crypto --help for details)"},
    {"serve", zl_cli_serve, "run the emulator (zonelab serve --help)"},
    {"run", zl_cli_run, "run Lua scenarios against fresh emulators (zonelab run --help)"},
    {"explore", zl_cli_explore,
     "generated runs against a program, properties checked, the failing run shrunk\n"
     "to a scenario (zonelab explore --help)"},
    {"call", zl_cli_call, "sync_call_program or async_program_task from the terminal"},
    {"event", zl_cli_event, "push an event to a program of a running emulator"},
    {"messages", zl_cli_messages, "archive messages from a JSON file into a running emulator"},
    {"journal", zl_cli_journal, "follow or filter the journal of a running emulator"},
    {"app", zl_cli_app,
     "the app backend's side: gettoken, set-receive-callback, set-public-key,\n"
     "post, inbox (zonelab app --help)"},
    {"check-protocol", zl_cli_check_protocol,
     "check a request_data against an ability protocol, offline"},
    {"replay", zl_cli_replay,
     "drive a program with a recording and compare (zonelab replay --help)"},
    {"options", zl_cli_options,
     "the emulator's options: every default WeCom leaves open, as Markdown or JSON"},
};

#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])
#define NAME_WIDTH 8 /* the summaries start in one column; a longer name pushes its own on */

static void usage(FILE *f)
{
    size_t i;

    fputs("usage: zonelab <command> [options]\n"
          "       zonelab --help | --version\n"
          "\n"
          "commands:\n",
          f);
    for (i = 0; i < N_COMMANDS; i++) {
        const char *s = COMMANDS[i].summary, *nl;

        fprintf(f, "  %-*s  ", NAME_WIDTH, COMMANDS[i].name);
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

int main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return ZL_CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return ZL_CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("zonelab %s\n", ZL_VERSION);
        return ZL_CLI_OK;
    }
    for (i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].fn(argc - 1, argv + 1, stdout, stderr);
    fprintf(stderr, "zonelab: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return ZL_CLI_USAGE;
}
