/* cli_shell: what a terminal user expects around the commands: `zonelab --version` with the
 * WeCom pages' dates, shell completions and the man page, all written from the command table
 * and each command's --help. */
#define _GNU_SOURCE
#include "cli/commands.h"
#include "cli/docs.h"
#include "cli/opts.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int zl_cli_version(int argc, char **argv, FILE *out, FILE *err)
{
    const char *oldest = "9999", *newest = "0000";
    size_t i;

    for (i = 0; i < zl_vendor_docs_count; i++) {
        if (strcmp(zl_vendor_docs[i].updated, oldest) < 0)
            oldest = zl_vendor_docs[i].updated;
        if (strcmp(zl_vendor_docs[i].updated, newest) > 0)
            newest = zl_vendor_docs[i].updated;
    }
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--docs") != 0)) {
        fprintf(err, "usage: zonelab --version [--docs]\n");
        return ZL_CLI_USAGE;
    }
    fprintf(out, "zonelab %s\n", ZL_VERSION);
    if (argc < 2) {
        fprintf(out,
                "follows %zu WeCom pages of the data and intelligence zone, as last updated from "
                "%s to %s\n(zonelab --version --docs lists them)\n",
                zl_vendor_docs_count, oldest, newest);
        return ZL_CLI_OK;
    }
    fprintf(out, "the WeCom pages it follows, with each page's \"last updated\" date:\n");
    for (i = 0; i < zl_vendor_docs_count; i++)
        fprintf(out, "  %s  doc %-5d  %s  https://developer.work.weixin.qq.com/document/path/%d\n",
                zl_vendor_docs[i].updated, zl_vendor_docs[i].doc_id, zl_vendor_docs[i].title,
                zl_vendor_docs[i].path);
    return ZL_CLI_OK;
}

char *zl_cli_help_of(const char *name)
{
    size_t i, len = 0;
    char cmd[64], help[] = "--help", *text = NULL, *argv[] = {cmd, help, NULL};
    FILE *mem;

    for (i = 0; i < zl_cli_commands_count; i++)
        if (!strcmp(zl_cli_commands[i].name, name))
            break;
    if (i == zl_cli_commands_count || strlen(name) >= sizeof cmd ||
        !(mem = open_memstream(&text, &len)))
        return NULL;
    snprintf(cmd, sizeof cmd, "%s", name);
    zl_cli_commands[i].fn(2, argv, mem, mem);
    fclose(mem);
    return text;
}

/* The long flags in a command's --help ("--shard", ...), space-separated, each once, in the
 * order they first appear; owned. */
static char *flags_of(const char *name)
{
    char *help = zl_cli_help_of(name), *flags = NULL, *p;
    size_t len = 0;
    FILE *mem = open_memstream(&flags, &len);

    if (!mem) {
        free(help);
        return NULL;
    }
    for (p = help; p && (p = strstr(p, "--")); p += 2) {
        size_t n = 2;
        char word[64];

        if (p > help && (isalnum((unsigned char)p[-1]) || p[-1] == '-' || p[-1] == '\''))
            continue;
        while (islower((unsigned char)p[n]) || isdigit((unsigned char)p[n]) || p[n] == '-')
            n++;
        if (n < 4 || n >= sizeof word || p[n - 1] == '-')
            continue;
        snprintf(word, sizeof word, "%.*s", (int)n, p);
        fflush(mem);
        {
            /* already listed? (the list is short: a linear look) */
            const char *hit = flags ? strstr(flags, word) : NULL;
            bool seen = false;

            while (hit && !seen) {
                size_t wl = strlen(word);

                seen = (hit == flags || hit[-1] == ' ') && (hit[wl] == ' ' || hit[wl] == '\0');
                hit = strstr(hit + 1, word);
            }
            if (!seen)
                fprintf(mem, "%s%s", len ? " " : "", word);
        }
    }
    fclose(mem);
    free(help);
    return flags;
}

static int bash(FILE *out)
{
    size_t i;

    fputs("# bash completion for zonelab, written by `zonelab completion bash`.\n"
          "# Load it with: source <(zonelab completion bash)\n"
          "_zonelab() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} words=\"\"\n"
          "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
          "        words=\"--help --version",
          out);
    for (i = 0; i < zl_cli_commands_count; i++)
        fprintf(out, " %s", zl_cli_commands[i].name);
    fputs("\"\n"
          "    else\n"
          "        case \"${COMP_WORDS[1]}\" in\n",
          out);
    for (i = 0; i < zl_cli_commands_count; i++) {
        char *flags = flags_of(zl_cli_commands[i].name);
        const char *subs = zl_cli_commands[i].subcommands;

        fprintf(out, "        %s)\n", zl_cli_commands[i].name);
        if (subs)
            fprintf(out,
                    "            if [ \"$COMP_CWORD\" -eq 2 ]; then words=\"%s --help\"; else "
                    "words=\"%s\"; fi ;;\n",
                    subs, flags ? flags : "");
        else
            fprintf(out, "            words=\"%s\" ;;\n", flags ? flags : "");
        free(flags);
    }
    fputs("        esac\n"
          "        case \"$cur\" in\n"
          "        -*) ;;\n"
          "        *) [ \"$COMP_CWORD\" -gt 2 ] || [ -z \"${words%%-*}\" ] && words=\"\" ;;\n"
          "        esac\n"
          "    fi\n"
          "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
          "}\n"
          "complete -o default -o bashdefault -F _zonelab zonelab\n",
          out);
    return ZL_CLI_OK;
}

/* s with ' and : escaped for a zsh _describe entry. */
static void zsh_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            fputc(' ', out);
        else if (*s == '\'')
            fputs("'\\''", out);
        else if (*s == ':')
            fputs("\\:", out);
        else
            fputc(*s, out);
    }
}

static int zsh(FILE *out)
{
    size_t i;

    fputs("#compdef zonelab\n"
          "# zsh completion for zonelab, written by `zonelab completion zsh`. Put it in a folder\n"
          "# of $fpath as _zonelab, or load it with: source <(zonelab completion zsh)\n"
          "_zonelab() {\n"
          "    local -a commands words_\n"
          "    commands=(\n",
          out);
    for (i = 0; i < zl_cli_commands_count; i++) {
        fputs("        '", out);
        zsh_text(out, zl_cli_commands[i].name);
        fputc(':', out);
        zsh_text(out, zl_cli_commands[i].summary);
        fputs("'\n", out);
    }
    fputs("    )\n"
          "    if (( CURRENT == 2 )); then\n"
          "        _describe -t commands 'zonelab command' commands\n"
          "        return\n"
          "    fi\n"
          "    case $words[2] in\n",
          out);
    for (i = 0; i < zl_cli_commands_count; i++) {
        char *flags = flags_of(zl_cli_commands[i].name);
        const char *subs = zl_cli_commands[i].subcommands;

        fprintf(out, "    %s)\n", zl_cli_commands[i].name);
        if (subs)
            fprintf(out, "        if (( CURRENT == 3 )); then compadd -- %s; return; fi\n", subs);
        fprintf(out, "        words_=(%s) ;;\n", flags ? flags : "");
        free(flags);
    }
    fputs("    esac\n"
          "    if [[ $PREFIX == -* ]]; then\n"
          "        compadd -- $words_\n"
          "    else\n"
          "        _files\n"
          "    fi\n"
          "}\n"
          "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
          "    _zonelab \"$@\"\n"
          "else\n"
          "    compdef _zonelab zonelab\n"
          "fi\n",
          out);
    return ZL_CLI_OK;
}

int zl_cli_completion(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs("usage: zonelab completion bash|zsh\n"
              "\n"
              "Prints a completion script for the shell: the commands, their own commands and\n"
              "their flags. bash: source <(zonelab completion bash), or save it as\n"
              "/etc/bash_completion.d/zonelab. zsh: save it as _zonelab in a folder of $fpath.\n",
              out);
        return ZL_CLI_OK;
    }
    if (argc == 2 && !strcmp(argv[1], "bash"))
        return bash(out);
    if (argc == 2 && !strcmp(argv[1], "zsh"))
        return zsh(out);
    fputs("usage: zonelab completion bash|zsh\n", err);
    return ZL_CLI_USAGE;
}

/* s as roff text: a leading '.' or '\'' cannot start a request, '\' is written \e and '-'
 * \-, so flags copy and paste; a UTF-8 character (valid: the commands' help is) becomes
 * \[uXXXX], which troff reads whatever the locale. */
static void roff_text(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    bool bol = true;

    while (*p) {
        if (bol && (*p == '.' || *p == '\''))
            fputs("\\&", out);
        bol = *p == '\n';
        if (*p >= 0x80) {
            unsigned cp, n = *p >= 0xF0 ? 3 : *p >= 0xE0 ? 2 : 1, k;

            cp = *p & (0x3Fu >> n);
            for (k = 1; k <= n && (p[k] & 0xC0) == 0x80; k++)
                cp = cp << 6 | (p[k] & 0x3Fu);
            fprintf(out, "\\[u%04X]", k > n ? cp : 0xFFFDu);
            p += k;
            continue;
        }
        if (*p == '\\')
            fputs("\\e", out);
        else if (*p == '-')
            fputs("\\-", out);
        else
            fputc(*p, out);
        p++;
    }
}

int zl_cli_man(int argc, char **argv, FILE *out, FILE *err)
{
    size_t i;
    char *usage = NULL;
    size_t len = 0;
    FILE *mem;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs("usage: zonelab man\n"
              "\n"
              "Prints the man page zonelab(1) in roff, written from the command table and each\n"
              "command's --help. Read it with: zonelab man | man -l -\n",
              out);
        return ZL_CLI_OK;
    }
    if (argc != 1 || !(mem = open_memstream(&usage, &len))) {
        fputs("usage: zonelab man\n", err);
        return ZL_CLI_USAGE;
    }
    zl_cli_usage(mem);
    fclose(mem);
    fprintf(out,
            ".TH ZONELAB 1 \"\" \"zonelab %s\" \"User Commands\"\n"
            ".SH NAME\n"
            "zonelab \\- an emulator of WeCom's data and intelligence zone, and its tools\n"
            ".SH SYNOPSIS\n"
            ".nf\n",
            ZL_VERSION);
    roff_text(out, usage);
    fputs(".fi\n.SH COMMANDS\n", out);
    for (i = 0; i < zl_cli_commands_count; i++) {
        char *help = zl_cli_help_of(zl_cli_commands[i].name);

        fprintf(out, ".SS zonelab %s\n.nf\n", zl_cli_commands[i].name);
        roff_text(out, help ? help : "");
        if (help && *help && help[strlen(help) - 1] != '\n')
            fputc('\n', out);
        fputs(".fi\n", out);
        free(help);
    }
    fputs(".SH ENVIRONMENT\n"
          ".TP\n.B NO_COLOR\n"
          "when set, zonelab writes no colour, as https://no\\-color.org asks\n"
          ".TP\n.B ZONELAB_PROGRAM\n"
          "the program zonelab run starts when neither a scenario nor \\-\\-program names one\n"
          ".SH EXIT STATUS\n"
          "0 on success, 1 when the work failed (a test, a check, a call), 2 on a usage error.\n"
          ".SH SEE ALSO\n"
          "The docs folder of zonelab: getting\\-started.md, cli.md, scenarios.md, emulator.md, "
          "ci.md.\n",
          out);
    free(usage);
    return ZL_CLI_OK;
}
