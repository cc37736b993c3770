/* cli_replay: `zonelab replay FILE`, drives a program with a recording (docs/replay.md). */
#ifndef ZL_CLI_REPLAY_H
#define ZL_CLI_REPLAY_H

#include <stdio.h>

/*
 * Runs `zonelab replay`: argv[0] is "replay". FILE is a `zonelab serve --record` file or a
 * failed scenario's `<path>.journal.json` (the format is detected). The program (--program)
 * is started under an in-process emulator and gets the recorded callbacks, re-sealed with
 * its new secret, in order; its SDK calls are answered from the recording. The summary or
 * the first difference goes to out, diagnostics to err. Returns ZL_CLI_OK (everything
 * matched), ZL_CLI_FAILED (a difference) or ZL_CLI_USAGE (bad flags, a file that cannot be
 * replayed, a program that does not start).
 */
int zl_cli_replay(int argc, char **argv, FILE *out, FILE *err);

#endif
