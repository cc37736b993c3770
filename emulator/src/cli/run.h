/* cli_run: the `zonelab run` subcommand (the scenario runner, docs/scenarios.md). */
#ifndef ZL_CLI_RUN_H
#define ZL_CLI_RUN_H

#include <stdio.h>

/* argv[0] is "run". Returns ZL_CLI_OK when every test passed. */
int zl_cli_run(int argc, char **argv, FILE *out, FILE *err);

#endif
