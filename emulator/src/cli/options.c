/* cli_options: `zonelab options` prints the table of options, as Markdown or JSON. */
#include "cli/options.h"

#include <string.h>

#include "cli/opts.h"
#include "emu/options.h"

static void usage(FILE *f)
{
    fputs("usage: zonelab options [--json]\n"
          "\n"
          "Prints every option of the emulator: each behaviour WeCom leaves open, each\n"
          "protocol-check option and each timeout, with its type, default, whether it can\n"
          "change while the emulator runs, the vendor page it comes from (or unknown) and\n"
          "what it means. Without flags the table is Markdown, exactly the generated section\n"
          "of docs/emulator.md.\n"
          "\n"
          "An option is set by a world file's \"options\" object, zonelab serve --set\n"
          "NAME=VALUE, a scenario's scenario{options={...}} or options{...}, and POST\n"
          "/_zonelab/options (the live ones) (docs/emulator.md, \"Options\").\n"
          "\n"
          "  --json      every option as GET /_zonelab/options lists it, without the value:\n"
          "              name, type, min/max or values, default, example (a valid value other\n"
          "              than the default), source, meaning, live\n"
          "  -h, --help  this text\n",
          f);
}

/* s with '|' escaped, for a Markdown table cell. */
static void cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
}

/* The type column: bool; int 1–3600000; enum `sticky`, `any`; errcode 710642, 790023. */
static void type_cell(FILE *out, const zl_opt *d)
{
    size_t i;

    switch (d->type) {
    case ZL_OPT_BOOL:
        fputs("bool", out);
        break;
    case ZL_OPT_INT:
        fprintf(out, "int %lld–%lld%s", d->min, d->max, d->nonzero ? ", not 0" : "");
        break;
    case ZL_OPT_ENUM:
        fputs("enum ", out);
        for (i = 0; d->names[i]; i++)
            fprintf(out, "%s`%s`", i ? ", " : "", d->names[i]);
        break;
    case ZL_OPT_CODE:
        fputs("errcode ", out);
        for (i = 0; d->codes[i]; i++)
            fprintf(out, "%s%d", i ? ", " : "", d->codes[i]);
        break;
    }
}

static void markdown(FILE *out)
{
    const zl_opt *t;
    zl_emu_options def;
    size_t n, i;
    char v[64];

    t = zl_opt_table(&n);
    zl_emu_options_default(&def);
    fputs("| option | type | default | live | source | meaning |\n"
          "| --- | --- | --- | --- | --- | --- |\n",
          out);
    for (i = 0; i < n; i++) {
        zl_opt_to_text(&t[i], zl_opt_get(&def, &t[i]), v, sizeof v);
        fprintf(out, "| `%s` | ", t[i].name);
        type_cell(out, &t[i]);
        fprintf(out, " | `%s` | %s | ", v, t[i].live ? "yes" : "no");
        cell(out, t[i].source);
        fputs(" | ", out);
        cell(out, t[i].meaning);
        fputs(" |\n", out);
    }
}

int zl_cli_options(int argc, char **argv, FILE *out, FILE *err)
{
    const char *json = NULL;
    const zl_cli_opt opts[] = {ZL_CLI_SWITCH("json", &json), ZL_CLI_END};
    const zl_cli_cmd cmd = {.name = "options", .usage = usage, .opts = opts};
    int rc, help;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help)
        return rc;
    if (json) {
        const zl_opt *t;
        cJSON *j = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(j, "options");
        size_t n, i;
        char *text;

        t = zl_opt_table(&n);
        for (i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, zl_opt_row(&t[i], NULL));
        if (!(text = cJSON_Print(j))) {
            cJSON_Delete(j);
            fputs("zonelab options: out of memory\n", err);
            return ZL_CLI_FAILED;
        }
        fprintf(out, "%s\n", text);
        cJSON_free(text);
        cJSON_Delete(j);
        return ZL_CLI_OK;
    }
    markdown(out);
    return ZL_CLI_OK;
}
