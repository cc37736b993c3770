/* cli_client: the commands that talk to a running emulator through cli_http: `zonelab call`
 * (call.c), `event` (event.c), `messages` (messages.c), `journal` (journal.c) and `app`
 * (app.c); docs/cli.md. */
#ifndef ZL_CLI_CLIENT_H
#define ZL_CLI_CLIENT_H

#include <stdio.h>

/*
 * argv[0] is the command's name; results go to out, reasons and usage to err. Each returns
 * ZL_CLI_OK, ZL_CLI_FAILED or ZL_CLI_USAGE. `journal --follow` installs SIGINT and SIGTERM
 * handlers that stay for the rest of the process (a signal ends the command with ZL_CLI_OK); so
 * does `app inbox --follow`.
 */
int zl_cli_call(int argc, char **argv, FILE *out, FILE *err);
int zl_cli_event(int argc, char **argv, FILE *out, FILE *err);
int zl_cli_messages(int argc, char **argv, FILE *out, FILE *err);
int zl_cli_journal(int argc, char **argv, FILE *out, FILE *err);
int zl_cli_app(int argc, char **argv, FILE *out, FILE *err);

#endif
