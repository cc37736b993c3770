/* zonelab: command-line entry point; dispatches subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/check.h"
#include "cli/client.h"
#include "cli/crypto.h"
#include "cli/replay.h"
#include "cli/run.h"
#include "cli/serve.h"

#ifndef ZL_VERSION
#define ZL_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fputs("usage: zonelab <command> [options]\n"
          "       zonelab --help | --version\n"
          "\n"
          "commands:\n"
          "  crypto    WXBizMsgCrypt callback crypto: verify-url, decrypt, encrypt\n"
          "            (zonelab crypto --help for details)\n"
          "  serve     run the emulator (zonelab serve --help)\n"
          "  run       run Lua scenarios against fresh emulators (zonelab run --help)\n"
          "  call      sync_call_program or async_program_task from the terminal\n"
          "  event     push an event to a program of a running emulator\n"
          "  messages  archive messages from a JSON file into a running emulator\n"
          "  journal   follow or filter the journal of a running emulator\n"
          "  check-protocol  check a request_data against an ability protocol, offline\n"
          "  replay    drive a program with a recording and compare (zonelab replay --help)\n"
          "\n"
          "Every command takes --help.\n",
          f);
}

int main(int argc, char **argv)
{
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
    if (strcmp(argv[1], "crypto") == 0)
        return zl_cli_crypto(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(argv[1], "serve") == 0)
        return zl_cli_serve(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(argv[1], "run") == 0)
        return zl_cli_run(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(argv[1], "call") == 0)
        return zl_cli_call(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(argv[1], "event") == 0)
        return zl_cli_event(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(argv[1], "messages") == 0)
        return zl_cli_messages(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(argv[1], "journal") == 0)
        return zl_cli_journal(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(argv[1], "check-protocol") == 0)
        return zl_cli_check_protocol(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(argv[1], "replay") == 0)
        return zl_cli_replay(argc - 1, argv + 1, stdout, stderr);
    fprintf(stderr, "zonelab: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return ZL_CLI_USAGE;
}
