/* grow: room for one more item in a growable array. */
#include "core/grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int zl_grow(void *items, size_t *cap, size_t count, size_t size, size_t first)
{
    void *old, *grown;
    size_t n;

    if (count < *cap)
        return 0;
    n = !*cap ? first : *cap > SIZE_MAX / 2 ? SIZE_MAX : *cap * 2;
    if (n < count + 1)
        n = count + 1;
    if (size == 0 || n > SIZE_MAX / size)
        return -1;
    memcpy(&old, items, sizeof old); /* items is a T **: read it as the void * it holds */
    if (!(grown = realloc(old, n * size)))
        return -1;
    memcpy(items, &grown, sizeof grown);
    *cap = n;
    return 0;
}
