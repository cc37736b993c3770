/* cli_report: scenario results as reports (text, TAP, JUnit XML), JUnit read back for
 * `zonelab report merge` and for the durations that balance `zonelab run --shard`. */
#ifndef ZL_CLI_REPORT_H
#define ZL_CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/*
 * A result is what one run of one scenario file gives, a JSON object:
 *   {"file": path, "seconds": s, "round": r (repeated runs only, from 1),
 *    "tests": [{"name", "status": "pass"|"fail"|"error"|"skip", "message", "seconds"}]}
 * The writers below take an array of n of them; NULL entries are passed over.
 */

/* The file's line ("ok   file (3 tests, 0.12 s)" or "FAIL ...") and each failed test's
 * message indented under it; verbosity < 0 prints only a file that failed, > 0 also a line
 * per passed or skipped test; colour marks ok and FAIL. Returns 1 when a test failed or
 * erred, else 0. */
int zl_report_print_text(FILE *out, const cJSON *result, int verbosity, bool colour);

/* Whether to colour what goes to f: a terminal, and NO_COLOR unset or empty (no-color.org). */
bool zl_report_colour(FILE *f);

/* TAP version 13 lines of every test, then the plan "1..N". */
void zl_report_print_tap(FILE *out, cJSON *const *results, size_t n);

/* JUnit XML: one <testsuite> per result (named by file, and " #round" when it has one), in
 * a <testsuites> of total seconds. Returns 0, or -1 with errno. */
int zl_report_write_junit(const char *path, cJSON *const *results, size_t n, double total);

/* Appends to arr one result per <testsuite> of the JUnit XML file at path (any producer's:
 * suites may nest; a case's <failure>, <error> or <skipped> gives its status). Returns the
 * number appended, or -1 with why. */
int zl_report_read_junit(const char *path, cJSON *arr, char *why, size_t why_len);

/* The seconds of each file in the JUnit report at path, as {file: seconds}: a file run in
 * several rounds gets their mean. Owned; NULL with why when path cannot be read. */
cJSON *zl_report_durations(const char *path, char *why, size_t why_len);

/* argv[0] is "report". `zonelab report merge`: joins the JUnit reports of shards into one
 * text, TAP or JUnit report. Returns ZL_CLI_OK when every test passed. */
int zl_cli_report(int argc, char **argv, FILE *out, FILE *err);

#endif
