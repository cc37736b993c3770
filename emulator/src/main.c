/* zonelab: command-line entry point; dispatches to the command table (cli/commands.c). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"

int main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        zl_cli_usage(stderr);
        return ZL_CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        zl_cli_usage(stdout);
        return ZL_CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return zl_cli_version(argc - 1, argv + 1, stdout, stderr);
    for (i = 0; i < zl_cli_commands_count; i++)
        if (strcmp(argv[1], zl_cli_commands[i].name) == 0)
            return zl_cli_commands[i].fn(argc - 1, argv + 1, stdout, stderr);
    fprintf(stderr, "zonelab: unknown command '%s'\n", argv[1]);
    zl_cli_usage(stderr);
    return ZL_CLI_USAGE;
}
