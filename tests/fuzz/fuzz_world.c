/* libFuzzer target: the world loader (world files and scenario worlds are user input). */
#include <stddef.h>
#include <stdint.h>

#include "wecom/world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    zl_world *w = zl_world_load_json((const char *)data, size, NULL, err, sizeof err);

    zl_world_free(w);
    return 0;
}
