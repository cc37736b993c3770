/* sbuf: a growable NUL-terminated string. A failed allocation sets oom and later appends do
 * nothing, so a builder checks once at the end. Zero-initialise; free(s) when done. */
#ifndef ZL_SBUF_H
#define ZL_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct zl_sbuf {
    char *s; /* NULL until the first append */
    size_t len, cap;
    bool oom;
} zl_sbuf;

void zl_sbuf_add(zl_sbuf *b, const char *p, size_t n);
void zl_sbuf_str(zl_sbuf *b, const char *s);
/* The text so far, "" when empty or after a failed allocation. */
const char *zl_sbuf_text(const zl_sbuf *b);

#endif
