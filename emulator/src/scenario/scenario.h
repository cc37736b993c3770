/* scenario: runs one Lua scenario file against a fresh in-process emulator and fresh program
 * processes, test by test, each test a coroutine whose blocking verbs yield to the engine. */
#ifndef ZL_SCENARIO_H
#define ZL_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "wecom/world.h"

typedef struct zl_scenario_options {
    const char *program;      /* command for the program when the scenario names none */
    const char *filter;       /* run only tests whose "file: name" contains it; NULL = all */
    uint64_t seed;            /* the emulator's seed (a scenario may set its own) */
    long step_timeout_ms;     /* default timeout of a wait, 10000 */
    long scenario_timeout_ms; /* a whole file, 120000 */
    const char *work_dir;     /* an empty folder for replica logs and program data */
    const char *const *vars;  /* "NAME=VALUE" strings: the Lua table vars (zonelab run --var) */
    size_t n_vars;
    /* "NAME=VALUE" options of the table (zonelab run --set): over the scenario's defaults and
     * its world's options, under the file's own scenario{} settings and options */
    const char *const *sets;
    size_t n_sets;
    /* Lua VM instructions the whole file may run, 0 = no budget (only scenario_timeout_ms):
     * over it, the running chunk or test fails with an error saying so (a fuzzer's bound) */
    long max_steps;
    /* true: no program is started (its replicas never listen), tests run all the same; a
     * program a test starts again fails: a fuzzer's */
    bool no_programs;
    /* NULL, or where a loaded default world waits: a file on the default world takes it
     * (and sets *default_world NULL) instead of loading its own. */
    zl_world **default_world;
    bool keep_journal; /* the journal in the result whatever the outcome (zonelab explore) */
    /* NULL, or called with the result once the tests are done, before the programs are stopped
     * and the emulator freed (the result it is given is the one returned, then with the same
     * "seconds"): a runner can report, and go on, while this process tears down */
    void (*on_result)(const cJSON *result, void *ud);
    void *on_result_ud;
} zl_scenario_options;

/*
 * Runs the scenario at path. The result is a JSON object (caller deletes):
 * {"file", "seconds", "tests": [{"name", "status": "pass"|"fail"|"error"|"skip",
 * "message"?, "seconds"}], "journal"? (every entry, when a test did not pass or keep_journal),
 * "program_log"? (the last lines each replica of every started program wrote, when a test
 * did not pass)}. A file that does not load is one test named "(load)" with status "error".
 * Never NULL except when memory runs out.
 * The programs' environment (ZONELAB_WORK_DIR, scenario{}.env) is set in this process only
 * while a replica is forked, then put back: other threads could see it meanwhile, so run
 * files concurrently in separate processes (as zonelab run does), not threads.
 */
cJSON *zl_scenario_run(const char *path, const zl_scenario_options *o);
/*
 * Does in this process what every scenario file would otherwise do alike in its own: the
 * prelude compiled, OpenSSL's random generator set up, AES-256-CBC and the wire's HKDF
 * fetched, libcurl's global setup, the SDK fakes found. For a
 * runner that forks a process per file, before the forks; optional, and nothing changes
 * but the time a file takes.
 */
void zl_scenario_prefork(void);
/*
 * Makes now, for the next zl_scenario_run of this process or of a child forked after, what
 * starts every file: its state and Lua sandbox, the prelude run. o's vars must be those of
 * that run (else it makes its own); the rest of o is taken from the run. Optional.
 */
void zl_scenario_prepare(const zl_scenario_options *o);
/* Frees what zl_scenario_prepare made and no run took. */
void zl_scenario_prepared_free(void);

#endif
