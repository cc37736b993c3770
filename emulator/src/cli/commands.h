/* cli_commands: the table of `zonelab` commands. main.c dispatches from it; the usage, the
 * man page and the shell completions are written from it. */
#ifndef ZL_CLI_COMMANDS_H
#define ZL_CLI_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

/* A command: what `zonelab <name>` runs (argv[0] is the name), its line in the usage (a '\n'
 * continues it under the first line), and its own commands for completion (space-separated,
 * or NULL). */
typedef struct zl_cli_command {
    const char *name;
    int (*fn)(int argc, char **argv, FILE *out, FILE *err);
    const char *summary;
    const char *subcommands;
} zl_cli_command;

extern const zl_cli_command zl_cli_commands[];
extern const size_t zl_cli_commands_count;

/* The usage of `zonelab` itself: its commands and their summaries. */
void zl_cli_usage(FILE *f);

/* `zonelab --version`: the version and the dates of the WeCom pages followed; with --docs
 * (argv[1]) every page. */
int zl_cli_version(int argc, char **argv, FILE *out, FILE *err);

/* `zonelab completion bash|zsh`: a completion script for the shell, of every command, its own
 * commands and its flags (read from its --help). */
int zl_cli_completion(int argc, char **argv, FILE *out, FILE *err);

/* `zonelab man`: the man page zonelab(1) in roff: the usage and every command's --help. */
int zl_cli_man(int argc, char **argv, FILE *out, FILE *err);

/* `zonelab sdk-path NAME`: where one of zonelab's fakes of the vendor's SDKs is. */
int zl_cli_sdk_path(int argc, char **argv, FILE *out, FILE *err);

/* What `zonelab <name> --help` prints, owned; NULL when name is no command. */
char *zl_cli_help_of(const char *name);

#endif
