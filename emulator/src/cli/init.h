/* cli_init: `zonelab init`, a starter zone program for a user's own project. */
#ifndef ZL_CLI_INIT_H
#define ZL_CLI_INIT_H

#include <stdio.h>

/* argv[0] is "init". Writes the starter; ZL_CLI_OK, or a usage error or failure said on err. */
int zl_cli_init(int argc, char **argv, FILE *out, FILE *err);

#endif
