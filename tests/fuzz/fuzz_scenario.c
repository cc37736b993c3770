/* libFuzzer target: a scenario file's text through the sandboxed runner, no program started. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_tmp.h"
#include "scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is the file, run as `zonelab run` would with a fresh Lua state and emulator each
 * time, under a budget of Lua instructions (a loop is an error, not a hang), short waits (a
 * wait for what a program would do ends the file after 200 ms of real time), and
 * no program: its replicas never listen, so calls to it fail as a dead program's would.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static const char *const bases[] = {"/tmp"};
    static const char *work;
    static char path[64];
    zl_scenario_options o = {.program = "false",
                             .seed = 1,
                             .step_timeout_ms = 5,
                             .scenario_timeout_ms = 200,
                             .max_steps = 2000000,
                             .no_programs = true};

    if (fd < 0) {
        if ((fd = memfd_create("fuzz_scenario.lua", MFD_CLOEXEC)) < 0 ||
            !(work = fuzz_tmp_make(bases, 1, "fuzz_scenario")))
            abort();
        zl_scenario_prefork(); /* the prelude compiled once, as zonelab run does before forks */
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    o.work_dir = work;
    cJSON_Delete(zl_scenario_run(path, &o));
    fuzz_tmp_clear(work, 1); /* what the file left there */
    return 0;
}
