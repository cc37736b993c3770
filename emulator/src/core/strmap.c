/* strmap: a string-keyed hash map with separate chaining (keys copied). */
#include "core/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    void *value;
    uint32_t hash;
    char key[];
} entry;

struct zl_strmap {
    entry **slots;
    size_t cap, count;
    void (*free_value)(void *);
};

static uint32_t hash_str(const char *s) /* FNV-1a */
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

zl_strmap *zl_strmap_new(void (*free_value)(void *))
{
    zl_strmap *m = calloc(1, sizeof *m);

    if (!m)
        return NULL;
    m->cap = 64;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    m->free_value = free_value;
    return m;
}

void zl_strmap_free(zl_strmap *m)
{
    size_t i;

    if (!m)
        return;
    for (i = 0; i < m->cap; i++) {
        entry *e = m->slots[i], *n;

        for (; e; e = n) {
            n = e->next;
            if (m->free_value)
                m->free_value(e->value);
            free(e);
        }
    }
    free(m->slots);
    free(m);
}

static entry **find(const zl_strmap *m, const char *key, uint32_t h)
{
    entry **p = &m->slots[h & (m->cap - 1)];

    for (; *p; p = &(*p)->next)
        if ((*p)->hash == h && !strcmp((*p)->key, key))
            return p;
    return p;
}

void *zl_strmap_get(const zl_strmap *m, const char *key)
{
    entry **p;

    if (!m || !key)
        return NULL;
    p = find(m, key, hash_str(key));
    return *p ? (*p)->value : NULL;
}

static void grow(zl_strmap *m)
{
    size_t ncap = m->cap * 2, i;
    entry **ns = calloc(ncap, sizeof *ns);

    if (!ns)
        return; /* keeps working, only slower */
    for (i = 0; i < m->cap; i++) {
        entry *e = m->slots[i], *n;

        for (; e; e = n) {
            n = e->next;
            e->next = ns[e->hash & (ncap - 1)];
            ns[e->hash & (ncap - 1)] = e;
        }
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
}

int zl_strmap_put(zl_strmap *m, const char *key, void *value)
{
    uint32_t h;
    entry **p, *e;
    size_t len;

    if (!m || !key)
        return -1;
    h = hash_str(key);
    p = find(m, key, h);
    if (*p) {
        if (m->free_value && (*p)->value != value)
            m->free_value((*p)->value);
        (*p)->value = value;
        return 0;
    }
    len = strlen(key);
    if (!(e = malloc(sizeof *e + len + 1)))
        return -1;
    memcpy(e->key, key, len + 1);
    e->hash = h;
    e->value = value;
    e->next = NULL;
    *p = e;
    if (++m->count > m->cap)
        grow(m);
    return 0;
}

int zl_strmap_del(zl_strmap *m, const char *key)
{
    entry **p, *e;

    if (!m || !key)
        return -1;
    p = find(m, key, hash_str(key));
    if (!(e = *p))
        return -1;
    *p = e->next;
    if (m->free_value)
        m->free_value(e->value);
    free(e);
    m->count--;
    return 0;
}

size_t zl_strmap_count(const zl_strmap *m)
{
    return m ? m->count : 0;
}

void zl_strmap_sweep(zl_strmap *m, int (*drop)(const char *key, void *value, void *ud), void *ud)
{
    size_t i;

    if (!m)
        return;
    for (i = 0; i < m->cap; i++) {
        entry **p = &m->slots[i];

        while (*p) {
            entry *e = *p;

            if (drop(e->key, e->value, ud)) {
                *p = e->next;
                if (m->free_value)
                    m->free_value(e->value);
                free(e);
                m->count--;
            } else {
                p = &e->next;
            }
        }
    }
}

void **zl_strmap_values(const zl_strmap *m, int (*cmp)(const void *, const void *), size_t *n)
{
    void **v;
    size_t i, k = 0;

    *n = 0;
    if (!m || !m->count || !(v = malloc(m->count * sizeof *v)))
        return NULL;
    for (i = 0; i < m->cap; i++) {
        const entry *e;

        for (e = m->slots[i]; e; e = e->next)
            v[k++] = e->value;
    }
    if (cmp)
        qsort(v, k, sizeof *v, cmp);
    *n = k;
    return v;
}
