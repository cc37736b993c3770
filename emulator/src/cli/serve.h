/* cli_serve: the `zonelab serve` subcommand (the emulator as a long-running server). */
#ifndef ZL_CLI_SERVE_H
#define ZL_CLI_SERVE_H

#include <stdio.h>

/*
 * Runs `zonelab serve` (argv[0] is "serve") until SIGINT or SIGTERM. Prints the URL to out
 * once listening ("zonelab: listening on http://ADDR:PORT"); diagnostics to err. Returns
 * ZL_CLI_OK after a clean stop, ZL_CLI_FAILED when it cannot start, ZL_CLI_USAGE for bad
 * flags.
 */
int zl_cli_serve(int argc, char **argv, FILE *out, FILE *err);

#endif
