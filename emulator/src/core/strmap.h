/* strmap: a string-keyed hash map (keys copied, values owned through a free function). */
#ifndef ZL_STRMAP_H
#define ZL_STRMAP_H

#include <stddef.h>

typedef struct zl_strmap zl_strmap;

/* free_value (may be NULL) releases a value when it is replaced, deleted or the map freed. */
zl_strmap *zl_strmap_new(void (*free_value)(void *));
void zl_strmap_free(zl_strmap *m); /* accepts NULL */
void *zl_strmap_get(const zl_strmap *m, const char *key);
/* Inserts or replaces (the old value is freed). 0, or -1 when memory ran out (value kept by
 * the caller). */
int zl_strmap_put(zl_strmap *m, const char *key, void *value);
/* Removes key and frees its value; 0 when it was there, -1 otherwise. */
int zl_strmap_del(zl_strmap *m, const char *key);
size_t zl_strmap_count(const zl_strmap *m);
/* Every value, in an array the caller frees (*n of them; NULL when memory ran out or the map
 * is empty), sorted with cmp (NULL: hash order) -- for listings. */
void **zl_strmap_values(const zl_strmap *m, int (*cmp)(const void *, const void *), size_t *n);
/* Removes every entry for which drop(key, value, ud) returns non-zero. */
void zl_strmap_sweep(zl_strmap *m, int (*drop)(const char *key, void *value, void *ud), void *ud);

#endif
