/* cli_options: `zonelab options`, the emulator's table of options (emu/options.h). */
#ifndef ZL_CLI_OPTIONS_H
#define ZL_CLI_OPTIONS_H

#include <stdio.h>

/*
 * Runs `zonelab options` (argv[0] is "options"): prints the table as Markdown (the generated
 * section of docs/emulator.md), or with --json as GET /_zonelab/options lists it without the
 * values. Returns ZL_CLI_OK, or ZL_CLI_USAGE for bad flags.
 */
int zl_cli_options(int argc, char **argv, FILE *out, FILE *err);

#endif
