/* libFuzzer target: zonelab replay's reader of a recording (JSON Lines) or a scenario journal. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/replay_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is the file: zl_replay_load reads it by name, here an in-memory file's. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static FILE *devnull;
    static char path[64];
    replay rp = {0};
    char msg[1024];

    if (fd < 0) {
        if ((fd = memfd_create("fuzz_replay", MFD_CLOEXEC)) < 0 ||
            !(devnull = fopen("/dev/null", "w")))
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    rp.out = rp.err = devnull;
    rp.file = path;
    rp.timeout_ms = 1000;
    zl_replay_load(&rp, msg, sizeof msg);
    zl_replay_unload(&rp);
    return 0;
}
