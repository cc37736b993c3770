/* cli_crypto: the `zonelab crypto` subcommand (WXBizMsgCrypt verify-url / decrypt / encrypt). */
#ifndef ZL_CLI_CRYPTO_H
#define ZL_CLI_CRYPTO_H

#include <stdio.h>

#include "cli/opts.h"

/*
 * Runs `zonelab crypto`: argv[0] is "crypto", argv[1] the mode. All arguments are
 * borrowed. Results go to out, diagnostics and usage to err (neither is closed); "-" as a
 * --body file reads stdin. Returns ZL_CLI_OK, ZL_CLI_FAILED (a crypto error, printed as
 * "error <code> (<strerror>)" with the failed ingredient and the library's detail) or
 * ZL_CLI_USAGE (bad or missing flags; usage printed to err).
 */
int zl_cli_crypto(int argc, char **argv, FILE *out, FILE *err);

/* Writes the `zonelab crypto` usage text to f. */
void zl_cli_crypto_usage(FILE *f);

#endif
