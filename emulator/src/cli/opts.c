/* cli_opts: option parsing, input reading, numbers, time and stop signals for every zonelab
 * command. */
#include "cli/opts.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/clock.h"

/* ---- options ---- */

int zl_cli_usage_error(const zl_cli_cmd *cmd, FILE *err, const char *fmt, ...)
{
    va_list ap;

    fprintf(err, "zonelab %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(err, fmt, ap);
    va_end(ap);
    fputs("\n\n", err);
    cmd->usage(err);
    return ZL_CLI_USAGE;
}

static const zl_cli_opt *find_opt(const zl_cli_cmd *cmd, const char *name, size_t len)
{
    const zl_cli_opt *o;

    for (o = cmd->opts; o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len))
            return o;
    return NULL;
}

int zl_cli_parse(const zl_cli_cmd *cmd, int argc, char **argv, FILE *out, FILE *err, int *help)
{
    bool options_done = false;
    int i;

    *help = 0;
    if (cmd->arg_count)
        *cmd->arg_count = 0;
    /* --help wins over any mistake, as in `zonelab crypto` */
    for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cmd->usage(out);
            *help = 1;
            return ZL_CLI_OK;
        }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq, *val = NULL;
        const zl_cli_opt *o;
        size_t len;

        if (!options_done && !strcmp(a, "--")) {
            options_done = true;
            continue;
        }
        if (options_done || a[0] != '-' || !strcmp(a, "-")) {
            if (!cmd->arg_count || *cmd->arg_count >= cmd->max_args)
                return zl_cli_usage_error(cmd, err, "unexpected argument '%s'", a);
            cmd->args[(*cmd->arg_count)++] = a;
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return zl_cli_usage_error(cmd, err, "unknown option '%s'", a);
        eq = strchr(a + 2, '=');
        len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (!(o = find_opt(cmd, a + 2, len)))
            return zl_cli_usage_error(cmd, err, "unknown option '%s'", a);
        if (o->takes_value) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return zl_cli_usage_error(cmd, err, "option needs a value: '%s'", a);
        } else if (eq) {
            return zl_cli_usage_error(cmd, err, "option takes no value: '%s'", a);
        } else {
            val = "";
        }
        if (o->value) {
            if (*o->value)
                return zl_cli_usage_error(cmd, err, "option given twice: '--%s'", o->name);
            *o->value = val;
        } else {
            if (*o->list_count >= o->list_max)
                return zl_cli_usage_error(cmd, err, "option given more than %zu times: '--%s'",
                                          o->list_max, o->name);
            o->list[(*o->list_count)++] = val;
        }
    }
    return ZL_CLI_OK;
}

int zl_cli_parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno || *end || *out > max ? -1 : 0;
}

/* ---- input ---- */

char *zl_cli_read_file(const char *cmd, const char *path, size_t max, size_t *len, FILE *err)
{
    bool from_stdin = !strcmp(path, "-");
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL, *nbuf;
    size_t n = 0, cap = 0, got;

    if (!f) {
        fprintf(err, "zonelab %s: cannot open '%s': %s\n", cmd, path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            if (!(nbuf = realloc(buf, cap + 1))) {
                fprintf(err, "zonelab %s: out of memory reading '%s'\n", cmd, path);
                goto fail;
            }
            buf = nbuf;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > max) {
            fprintf(err, "zonelab %s: '%s' is larger than %zu bytes\n", cmd, path, max);
            goto fail;
        }
        if (got == 0) {
            if (ferror(f)) {
                fprintf(err, "zonelab %s: cannot read '%s'\n", cmd, path);
                goto fail;
            }
            break;
        }
    }
    buf[n] = '\0';
    *len = n;
    if (!from_stdin)
        fclose(f);
    return buf;
fail:
    free(buf);
    if (!from_stdin)
        fclose(f);
    return NULL;
}

char *zl_cli_text_or_file(const zl_cli_cmd *cmd, const char *text, const char *file,
                          const char *what, size_t *len, FILE *err, int *usage)
{
    char *buf;

    if (usage)
        *usage = 0;
    if (!text == !file) {
        if (usage)
            *usage = 1;
        zl_cli_usage_error(cmd, err, "give either --%s TEXT or --%s-file FILE (- for stdin)", what,
                           what);
        return NULL;
    }
    if (file)
        return zl_cli_read_file(cmd->name, file, ZL_CLI_MAX_INPUT, len, err);
    *len = strlen(text);
    if (!(buf = malloc(*len + 1))) {
        fprintf(err, "zonelab %s: out of memory\n", cmd->name);
        return NULL;
    }
    memcpy(buf, text, *len + 1);
    return buf;
}

bool zl_cli_whole_json(const char *cmd, const char *what, const char *text, size_t len, FILE *err)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t off = end && end >= text ? (size_t)(end - text) : 0;

    if (j)
        while (off < len && strchr(" \t\r\n", text[off]))
            off++;
    cJSON_Delete(j);
    if (j && off == len)
        return true;
    fprintf(err, "zonelab %s: %s is not JSON: %s at byte offset %zu\n", cmd, what,
            j ? "there is more text after the first value" : "parsing stopped", off);
    return false;
}

/* ---- time and signals ---- */

int64_t zl_cli_now_ms(void)
{
    return zl_clock_mono_ms();
}

void zl_cli_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void zl_cli_stop_on_signals(void)
{
    struct sigaction sa;

    stop_requested = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool zl_cli_stopped(void)
{
    return stop_requested != 0;
}
