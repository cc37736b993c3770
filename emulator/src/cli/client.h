/* cli_client: the commands that talk to a running emulator: `zonelab call`, `event`,
 * `messages` and `journal` (docs/cli.md), and the option parsing and input reading that
 * `zonelab check-protocol` (cli_check.c) shares with them. */
#ifndef ZL_CLI_CLIENT_H
#define ZL_CLI_CLIENT_H

#include <stddef.h>
#include <stdio.h>

/* Where the commands find the emulator when neither --url nor $ZONELAB_URL says. */
#define ZL_CLI_DEFAULT_URL "http://127.0.0.1:8900"

/*
 * argv[0] is the command's name; results go to out, reasons and usage to err. Each returns
 * ZL_CLI_OK, ZL_CLI_FAILED or ZL_CLI_USAGE. `journal --follow` installs SIGINT and SIGTERM
 * handlers that stay for the rest of the process (a signal ends the command with ZL_CLI_OK).
 */
int zl_cli_call(int argc, char **argv, FILE *out, FILE *err);
int zl_cli_event(int argc, char **argv, FILE *out, FILE *err);
int zl_cli_messages(int argc, char **argv, FILE *out, FILE *err);
int zl_cli_journal(int argc, char **argv, FILE *out, FILE *err);

/*
 * One option of a command, `--name VALUE`, `--name=VALUE` or, for a switch, `--name`. A
 * single option stores its value (borrowed from argv; "" for a switch) in *value; a
 * repeatable one (value NULL) appends to list, at most list_max values, counted in
 * *list_count.
 */
typedef struct zl_cli_opt {
    const char *name; /* without the leading "--" */
    int takes_value;
    const char **value;
    const char **list;
    size_t list_max;
    size_t *list_count;
} zl_cli_opt;

/* Table entries: an option with a value, a switch, a repeatable option, the end. */
#define ZL_CLI_OPT(n, slot)                                                                        \
    {                                                                                              \
        .name = (n), .takes_value = 1, .value = (slot)                                             \
    }
#define ZL_CLI_SWITCH(n, slot)                                                                     \
    {                                                                                              \
        .name = (n), .value = (slot)                                                               \
    }
#define ZL_CLI_LIST(n, arr, max, count)                                                            \
    {                                                                                              \
        .name = (n), .takes_value = 1, .list = (arr), .list_max = (max), .list_count = (count)     \
    }
#define ZL_CLI_END                                                                                 \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* A command: its name, usage text, options (ending with a {NULL} entry) and positional
 * arguments (at most max_args, counted in *arg_count; max_args 0 accepts none). */
typedef struct zl_cli_cmd {
    const char *name;
    void (*usage)(FILE *f);
    const zl_cli_opt *opts;
    const char **args;
    size_t max_args;
    size_t *arg_count;
} zl_cli_cmd;

/*
 * Parses argv[1..argc-1] for cmd. `-h` or `--help` anywhere prints the usage to out and sets
 * *help (the caller returns ZL_CLI_OK). "-" is a positional argument and "--" ends the
 * options. Returns ZL_CLI_OK, or ZL_CLI_USAGE after printing why and the usage to err
 * (unknown option, missing value, a single option given twice, too many arguments).
 */
int zl_cli_parse(const zl_cli_cmd *cmd, int argc, char **argv, FILE *out, FILE *err, int *help);

/* Prints "zonelab <cmd>: <message>", a blank line and cmd's usage to err; returns
 * ZL_CLI_USAGE. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int zl_cli_usage_error(const zl_cli_cmd *cmd, FILE *err, const char *fmt, ...);

/*
 * Reads the whole file at path ("-" reads stdin) of at most max bytes, byte for byte.
 * Returns an owned buffer (release with free) holding the bytes plus a NUL, with the byte
 * count in *len, or NULL after printing "zonelab <cmd>: ..." to err.
 */
/* An unsigned decimal in 0..max into *out: 0, or -1 when s is not one (the commands' flags). */
int zl_cli_parse_u64(const char *s, unsigned long long max, unsigned long long *out);
char *zl_cli_read_file(const char *cmd, const char *path, size_t max, size_t *len, FILE *err);

#endif
