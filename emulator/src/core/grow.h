/* grow: room for one more item in a growable array (the capacity doubles), the one copy of
 * the realloc-and-double step every list in the emulator takes. */
#ifndef ZL_GROW_H
#define ZL_GROW_H

#include <stddef.h>

/*
 * items is the address of the array pointer (T **), *cap its capacity in items, count the
 * items in use, size the size of one item, first the capacity of an empty array. When count
 * == *cap, reallocates to twice the capacity (first when empty). Returns 0 when there is room
 * for one more, or -1 when memory ran out (the array and *cap are unchanged then).
 */
int zl_grow(void *items, size_t *cap, size_t count, size_t size, size_t first);

#endif
