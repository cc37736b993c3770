/* cli_explore: the `zonelab explore` subcommand (docs/explore.md): generated runs against
 * fresh emulators, properties over their journals, the shrunk counterexample as a scenario. */
#ifndef ZL_CLI_EXPLORE_H
#define ZL_CLI_EXPLORE_H

#include <stdio.h>

/* argv[0] is "explore". Returns ZL_CLI_OK when no run broke a property, ZL_CLI_FAILED when
 * one did (its shrunk scenario written under --out), ZL_CLI_USAGE on a bad option or a run
 * that could not start. */
int zl_cli_explore(int argc, char **argv, FILE *out, FILE *err);

#endif
