/* cli_opts: what the zonelab commands share: exit codes, option parsing, reading input,
 * numbers, a monotonic clock, and stopping on SIGINT or SIGTERM. */
#ifndef ZL_CLI_OPTS_H
#define ZL_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every command. */
#define ZL_CLI_OK     0
#define ZL_CLI_FAILED 1
#define ZL_CLI_USAGE  2

#ifndef ZL_VERSION
#define ZL_VERSION "0.1.0"
#endif

/* Cap on what a command reads from a file or stdin: larger input is refused, never
 * truncated. */
#define ZL_CLI_MAX_INPUT (64u * 1024u * 1024u)

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

/* An unsigned decimal in 0..max into *out: 0, or -1 when s is not one (the commands' flags). */
int zl_cli_parse_u64(const char *s, unsigned long long max, unsigned long long *out);

/*
 * Reads the whole file at path ("-" reads stdin) of at most max bytes, byte for byte.
 * Returns an owned buffer (release with free) holding the bytes plus a NUL, with the byte
 * count in *len, or NULL after printing "zonelab <cmd>: ..." to err.
 */
char *zl_cli_read_file(const char *cmd, const char *path, size_t max, size_t *len, FILE *err);

/*
 * The bytes of text, or of file ("-": stdin; at most ZL_CLI_MAX_INPUT), with their count in
 * *len. Exactly one of text and file must be given, else a usage error ("give either --WHAT
 * TEXT or --WHAT-file FILE (- for stdin)") is printed and *usage set (usage may be NULL).
 * Returns an owned buffer (free), or NULL after printing why.
 */
char *zl_cli_text_or_file(const zl_cli_cmd *cmd, const char *text, const char *file,
                          const char *what, size_t *len, FILE *err, int *usage);

/* Whether text (len bytes) is exactly one JSON value with only whitespace around it; says
 * why not on err as "zonelab <cmd>: <what> is not JSON: ...". */
bool zl_cli_whole_json(const char *cmd, const char *what, const char *text, size_t len, FILE *err);

/* Milliseconds of a monotonic clock (for deadlines and durations). */
int64_t zl_cli_now_ms(void);
/* Sleeps ms milliseconds (a signal may end it early). */
void zl_cli_sleep_ms(long ms);

/* Makes SIGINT and SIGTERM set the flag zl_cli_stopped() reads, and clears it. The handlers
 * stay for the rest of the process: a second signal (timeout(1) signals the command and then
 * its process group) must not kill a command on its way out. */
void zl_cli_stop_on_signals(void);
/* Whether SIGINT or SIGTERM came since zl_cli_stop_on_signals. */
bool zl_cli_stopped(void);

#endif
