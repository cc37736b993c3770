/* cli_run: the `zonelab run` subcommand (the scenario runner, docs/scenarios.md). */
#ifndef ZL_CLI_RUN_H
#define ZL_CLI_RUN_H

#include <stdio.h>

/* argv[0] is "run". Returns ZL_CLI_OK when every test passed. */
int zl_cli_run(int argc, char **argv, FILE *out, FILE *err);

/* The program command for files that name none: $ZONELAB_PROGRAM, else zone-demo found next
 * to zonelab (build tree or install) with its data in $ZONELAB_WORK_DIR/data; NULL when
 * none. Owned (free). zonelab explore shares it. */
char *zl_cli_run_default_program(void);

/* Removes path and everything below it (symbolic links are not followed). */
void zl_cli_remove_tree(const char *path);

#endif
