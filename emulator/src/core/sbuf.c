/* sbuf: a growable NUL-terminated string. */
#include "core/sbuf.h"

#include <stdlib.h>
#include <string.h>

void zl_sbuf_add(zl_sbuf *b, const char *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *s;

        while (cap < b->len + n + 1)
            cap *= 2;
        if (!(s = realloc(b->s, cap))) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void zl_sbuf_str(zl_sbuf *b, const char *s)
{
    zl_sbuf_add(b, s, strlen(s));
}

const char *zl_sbuf_text(const zl_sbuf *b)
{
    return b->s && !b->oom ? b->s : "";
}
