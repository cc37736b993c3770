/* cli_report: scenario results as text, TAP and JUnit XML; JUnit XML read back (libxml2) to
 * merge the reports of shards and to balance shards by earlier durations. */
#define _GNU_SOURCE
#include "cli/report.h"
#include "core/json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "cli/opts.h"

#define MAX_INPUTS 4096

static const char *str(const cJSON *o, const char *k)
{
    const char *s = zl_json_str(o, k);

    return s ? s : "";
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);

    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

static bool bad_status(const char *st)
{
    return !strcmp(st, "fail") || !strcmp(st, "error");
}

/* " #r" for a result of a repeated run, else "". */
static const char *round_label(const cJSON *r, char *buf, size_t n)
{
    double round = num(r, "round");

    buf[0] = '\0';
    if (round >= 1)
        snprintf(buf, n, " #%.0f", round);
    return buf;
}

/* "  name:" then every line of msg indented under it. */
static void print_indented(FILE *out, const char *name, const char *msg)
{
    const char *p = msg, *nl;

    fprintf(out, "  %s:\n", name);
    while (*p) {
        nl = strchr(p, '\n');
        fprintf(out, "    %.*s\n", (int)(nl ? nl - p : (ptrdiff_t)strlen(p)), p);
        if (!nl)
            break;
        p = nl + 1;
    }
}

int zl_report_print_text(FILE *out, const cJSON *r, int verbosity, bool colour)
{
    const cJSON *t, *tests = cJSON_GetObjectItem(r, "tests");
    char label[32];
    int bad = 0, n = 0;

    cJSON_ArrayForEach(t, tests)
    {
        n += strcmp(str(t, "status"), "skip") != 0;
        bad += bad_status(str(t, "status"));
    }
    if (verbosity < 0 && !bad)
        return 0;
    fprintf(out, "%s%s%s %s%s (%d test%s, %.2f s)\n",
            colour ? (bad ? "\033[1;31m" : "\033[32m") : "", bad ? "FAIL" : "ok  ",
            colour ? "\033[0m" : "", str(r, "file"), round_label(r, label, sizeof label), n,
            n == 1 ? "" : "s", num(r, "seconds"));
    cJSON_ArrayForEach(t, tests)
    {
        const char *st = str(t, "status");

        if (bad_status(st))
            print_indented(out, str(t, "name"), str(t, "message"));
        else if (verbosity > 0)
            fprintf(out, "  %s %s (%.2f s)\n", !strcmp(st, "skip") ? "skip" : "ok  ",
                    str(t, "name"), num(t, "seconds"));
    }
    return bad > 0;
}

bool zl_report_colour(FILE *f)
{
    const char *no = getenv("NO_COLOR");

    return isatty(fileno(f)) && !(no && *no);
}

void zl_report_print_tap(FILE *out, cJSON *const *results, size_t n)
{
    size_t i;
    int k = 0;

    for (i = 0; i < n; i++) {
        const cJSON *t;
        const char *file;
        char label[32];

        if (!results[i])
            continue;
        file = base(str(results[i], "file"));
        round_label(results[i], label, sizeof label);
        cJSON_ArrayForEach(t, cJSON_GetObjectItem(results[i], "tests"))
        {
            const char *st = str(t, "status");

            k++;
            if (!strcmp(st, "skip")) {
                fprintf(out, "ok %d - %s%s: %s # SKIP filtered out\n", k, file, label,
                        str(t, "name"));
                continue;
            }
            fprintf(out, "%s %d - %s%s: %s\n", !strcmp(st, "pass") ? "ok" : "not ok", k, file,
                    label, str(t, "name"));
            if (strcmp(st, "pass") != 0) {
                char *m = strdup(str(t, "message")), *line, *save = NULL;

                for (line = m ? strtok_r(m, "\n", &save) : NULL; line;
                     line = strtok_r(NULL, "\n", &save))
                    fprintf(out, "# %s\n", line);
                free(m);
            }
        }
    }
    fprintf(out, "1..%d\n", k);
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else if (c == '&')
            fputs("&amp;", f);
        else if (c == '"')
            fputs("&quot;", f);
        else if (c < 0x20 && c != '\n' && c != '\t')
            fputc('?', f); /* not allowed in XML 1.0 */
        else
            fputc(c, f);
    }
}

/* One <testcase> of test t, in the suite of file. */
static void write_case(FILE *f, const char *file, const cJSON *t)
{
    const char *st = str(t, "status"), *m = str(t, "message"), *el;
    char first[200];
    size_t k = strcspn(m, "\n");

    fputs("    <testcase classname=\"", f);
    xml_text(f, base(file));
    fputs("\" name=\"", f);
    xml_text(f, str(t, "name"));
    fprintf(f, "\" time=\"%.3f\"", num(t, "seconds"));
    if (!strcmp(st, "pass")) {
        fputs("/>\n", f);
        return;
    }
    fputs(">\n", f);
    if (!strcmp(st, "skip")) {
        fputs("      <skipped/>\n", f);
    } else {
        el = !strcmp(st, "fail") ? "failure" : "error";
        snprintf(first, sizeof first, "%.*s", (int)(k < 199 ? k : 199), m);
        fprintf(f, "      <%s message=\"", el);
        xml_text(f, first);
        fputs("\">", f);
        xml_text(f, m);
        fprintf(f, "</%s>\n", el);
    }
    fputs("    </testcase>\n", f);
}

int zl_report_write_junit(const char *path, cJSON *const *results, size_t n, double total)
{
    FILE *f = fopen(path, "w");
    size_t i;

    if (!f)
        return -1;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"zonelab\" "
            "time=\"%.3f\">\n",
            total);
    for (i = 0; i < n; i++) {
        const cJSON *t, *tests = cJSON_GetObjectItem(results[i], "tests");
        int count = 0, failures = 0, errors = 0, skipped = 0;
        char label[32];

        if (!results[i])
            continue;
        cJSON_ArrayForEach(t, tests)
        {
            const char *st = str(t, "status");

            count++;
            failures += !strcmp(st, "fail");
            errors += !strcmp(st, "error");
            skipped += !strcmp(st, "skip");
        }
        fputs("  <testsuite name=\"", f);
        xml_text(f, str(results[i], "file"));
        xml_text(f, round_label(results[i], label, sizeof label));
        fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
                count, failures, errors, skipped, num(results[i], "seconds"));
        cJSON_ArrayForEach(t, tests) write_case(f, str(results[i], "file"), t);
        fputs("  </testsuite>\n", f);
    }
    fputs("</testsuites>\n", f);
    return fclose(f);
}

/* ---- reading JUnit ---- */

static bool is_el(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* Attribute k of n as a number; 0 when absent or not one. */
static double attr_num(xmlNode *n, const char *k)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)k);
    double d = v ? strtod((const char *)v, NULL) : 0;

    xmlFree(v);
    return d == d && d >= 0 && d < 1e9 ? d : 0;
}

/* Adds attribute k of n (or "") to o as key as. */
static void add_attr(cJSON *o, const char *as, xmlNode *n, const char *k)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)k);

    cJSON_AddStringToObject(o, as, v ? (const char *)v : "");
    xmlFree(v);
}

/* The test of a <testcase>. */
static cJSON *read_case(xmlNode *c)
{
    cJSON *t = cJSON_CreateObject();
    const char *status = "pass";
    xmlNode *k;
    xmlChar *msg = NULL;

    add_attr(t, "name", c, "name");
    for (k = c->children; k; k = k->next) {
        if (is_el(k, "skipped")) {
            status = "skip";
        } else if (is_el(k, "failure") || is_el(k, "error")) {
            status = is_el(k, "failure") ? "fail" : "error";
            xmlFree(msg);
            msg = xmlNodeGetContent(k);
            if (msg && !*msg) {
                xmlFree(msg);
                msg = xmlGetProp(k, (const xmlChar *)"message");
            }
            break;
        }
    }
    cJSON_AddStringToObject(t, "status", status);
    cJSON_AddStringToObject(t, "message", msg ? (const char *)msg : "");
    cJSON_AddNumberToObject(t, "seconds", attr_num(c, "time"));
    xmlFree(msg);
    return t;
}

/* The result of a <testsuite>: its name, less a trailing " #r" that becomes its round. */
static cJSON *read_suite(xmlNode *s)
{
    cJSON *r = cJSON_CreateObject(), *tests = cJSON_AddArrayToObject(r, "tests");
    xmlChar *name = xmlGetProp(s, (const xmlChar *)"name");
    char *file = strdup(name ? (const char *)name : ""), *hash;
    xmlNode *c;

    xmlFree(name);
    if (file && (hash = strrchr(file, '#')) && hash > file && hash[-1] == ' ' && hash[1] &&
        strspn(hash + 1, "0123456789") == strlen(hash + 1) && strlen(hash + 1) < 10) {
        cJSON_AddNumberToObject(r, "round", atoi(hash + 1));
        hash[-1] = '\0';
    }
    cJSON_AddStringToObject(r, "file", file ? file : "");
    free(file);
    cJSON_AddNumberToObject(r, "seconds", attr_num(s, "time"));
    for (c = s->children; c; c = c->next)
        if (is_el(c, "testcase"))
            cJSON_AddItemToArray(tests, read_case(c));
    return r;
}

/* Every <testsuite> at or below n, in document order; suites holding suites count once each
 * inner one. */
static int read_suites(xmlNode *n, cJSON *arr, int depth)
{
    int count = 0;
    xmlNode *c;
    bool inner = false;

    if (depth > 32)
        return 0;
    for (c = n->children; c; c = c->next)
        if (is_el(c, "testsuite")) {
            inner = true;
            count += read_suites(c, arr, depth + 1);
        }
    if (is_el(n, "testsuite") && !inner) {
        cJSON_AddItemToArray(arr, read_suite(n));
        count++;
    }
    return count;
}

int zl_report_read_junit(const char *path, cJSON *arr, char *why, size_t why_len)
{
    xmlDoc *doc;
    xmlNode *root;
    int n;

    /* no network, no entity expansion (XML_PARSE_NOENT stays off): a report is data */
    doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlGetLastError();

        snprintf(why, why_len, "%s: not readable as XML%s%.*s", path, e ? ": " : "",
                 e && e->message ? (int)strcspn(e->message, "\n") : 0,
                 e && e->message ? e->message : "");
        return -1;
    }
    root = xmlDocGetRootElement(doc);
    if (!root || (!is_el(root, "testsuites") && !is_el(root, "testsuite"))) {
        snprintf(why, why_len, "%s: not a JUnit report (its root is <%s>, not <testsuites>)", path,
                 root ? (const char *)root->name : "nothing");
        xmlFreeDoc(doc);
        return -1;
    }
    n = read_suites(root, arr, 0);
    xmlFreeDoc(doc);
    return n;
}

cJSON *zl_report_durations(const char *path, char *why, size_t why_len)
{
    cJSON *arr = cJSON_CreateArray(), *sum = cJSON_CreateObject(), *runs = cJSON_CreateObject(), *r,
          *s;

    if (!arr || !sum || !runs || zl_report_read_junit(path, arr, why, why_len) < 0) {
        cJSON_Delete(sum);
        sum = NULL;
        goto out;
    }
    cJSON_ArrayForEach(r, arr)
    {
        const char *file = str(r, "file");
        cJSON *have = cJSON_GetObjectItemCaseSensitive(sum, file);

        if (!*file)
            continue;
        if (have) {
            cJSON_SetNumberValue(have, have->valuedouble + num(r, "seconds"));
            s = cJSON_GetObjectItemCaseSensitive(runs, file);
            cJSON_SetNumberValue(s, s->valuedouble + 1);
        } else {
            cJSON_AddNumberToObject(sum, file, num(r, "seconds"));
            cJSON_AddNumberToObject(runs, file, 1);
        }
    }
    cJSON_ArrayForEach(s, sum) cJSON_SetNumberValue(
        s, s->valuedouble / cJSON_GetObjectItemCaseSensitive(runs, s->string)->valuedouble);
out:
    cJSON_Delete(arr);
    cJSON_Delete(runs);
    return sum;
}

/* ---- zonelab report merge ---- */

static void usage(FILE *f)
{
    fputs("usage: zonelab report merge [--junit FILE] [--tap] REPORT.xml ...\n"
          "\n"
          "Joins the JUnit reports of a sharded run (zonelab run --shard K/N --junit ...)\n"
          "into one: the text report on standard output (or TAP with --tap), and one JUnit\n"
          "file with --junit. A scenario file found in two reports is an error: the shards\n"
          "overlapped. Exit code 0 when every test passed, 1 when one failed, 2 on bad input.\n",
          f);
}

/* Sorts results by file, then round. */
static int by_file(const void *a, const void *b)
{
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    int c = strcmp(str(x, "file"), str(y, "file"));

    return c ? c : (num(x, "round") > num(y, "round")) - (num(x, "round") < num(y, "round"));
}

static int merge(int argc, char **argv, FILE *out, FILE *err)
{
    const char *junit = NULL, *inputs[MAX_INPUTS];
    size_t n_inputs = 0, n = 0, i;
    cJSON *arr = cJSON_CreateArray(), **results = NULL, *r;
    int passed = 0, failed = 0, errors = 0, skipped = 0, rc = ZL_CLI_USAGE, a;
    double longest = 0, sum = 0;
    bool tap = false;
    char why[512];

    for (a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
            usage(out);
            rc = ZL_CLI_OK;
            goto out;
        } else if (!strcmp(argv[a], "--junit") && a + 1 < argc && *argv[a + 1]) {
            junit = argv[++a];
        } else if (!strcmp(argv[a], "--tap")) {
            tap = true;
        } else if (argv[a][0] == '-' || n_inputs >= MAX_INPUTS) {
            fprintf(err, "zonelab report merge: bad or incomplete option '%s'\n", argv[a]);
            usage(err);
            goto out;
        } else {
            inputs[n_inputs++] = argv[a];
        }
    }
    if (!n_inputs) {
        usage(err);
        goto out;
    }
    for (i = 0; i < n_inputs; i++) {
        cJSON *one = cJSON_CreateArray(), *doc_total;
        double t = 0;

        if (zl_report_read_junit(inputs[i], one, why, sizeof why) < 0) {
            fprintf(err, "zonelab report merge: %s\n", why);
            cJSON_Delete(one);
            goto out;
        }
        doc_total = one;
        cJSON_ArrayForEach(r, doc_total)
        {
            t += num(r, "seconds");
            cJSON_AddStringToObject(r, "_from", inputs[i]);
        }
        longest = t > longest ? t : longest;
        sum += t;
        while (cJSON_GetArraySize(one) > 0)
            cJSON_AddItemToArray(arr, cJSON_DetachItemFromArray(one, 0));
        cJSON_Delete(one);
    }
    n = (size_t)cJSON_GetArraySize(arr);
    if (n && !(results = calloc(n, sizeof *results)))
        goto out;
    i = 0;
    cJSON_ArrayForEach(r, arr) results[i++] = r;
    qsort(results, n, sizeof *results, by_file);
    for (i = 1; i < n; i++)
        if (!by_file(&results[i - 1], &results[i])) {
            char label[32];

            fprintf(err, "zonelab report merge: %s%s is in both %s and %s: the shards overlap\n",
                    str(results[i], "file"), round_label(results[i], label, sizeof label),
                    str(results[i - 1], "_from"), str(results[i], "_from"));
            goto out;
        }
    for (i = 0; i < n; i++) {
        const cJSON *t;

        cJSON_ArrayForEach(t, cJSON_GetObjectItem(results[i], "tests"))
        {
            const char *st = str(t, "status");

            passed += !strcmp(st, "pass");
            failed += !strcmp(st, "fail");
            errors += !strcmp(st, "error");
            skipped += !strcmp(st, "skip");
        }
        if (!tap)
            zl_report_print_text(out, results[i], 0, zl_report_colour(out));
    }
    if (tap) {
        fprintf(out, "TAP version 13\n");
        zl_report_print_tap(out, results, n);
    }
    fprintf(tap ? err : out,
            "%d tests: %d passed, %d failed, %d errors, %d skipped (%zu file runs from %zu "
            "report%s; longest report %.2f s, all %.2f s)\n",
            passed + failed + errors + skipped, passed, failed, errors, skipped, n, n_inputs,
            n_inputs == 1 ? "" : "s", longest, sum);
    rc = failed || errors || !passed ? ZL_CLI_FAILED : ZL_CLI_OK;
    if (junit && zl_report_write_junit(junit, results, n, longest) != 0) {
        fprintf(err, "zonelab report merge: cannot write %s: %s\n", junit, strerror(errno));
        rc = ZL_CLI_FAILED;
    }
out:
    free(results);
    cJSON_Delete(arr);
    return rc;
}

int zl_cli_report(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc >= 2 && !strcmp(argv[1], "merge"))
        return merge(argc - 1, argv + 1, out, err);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(out);
        return ZL_CLI_OK;
    }
    fprintf(err, "zonelab report: the command is merge\n");
    usage(err);
    return ZL_CLI_USAGE;
}
