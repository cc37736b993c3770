/* cli_check: `zonelab check-protocol`, the ability protocol check offline (docs/cli.md). */
#ifndef ZL_CLI_CHECK_H
#define ZL_CLI_CHECK_H

#include <stdio.h>

int zl_cli_check_protocol(int argc, char **argv, FILE *out, FILE *err);

#endif
