/* err: one sentence written into a caller's error buffer. */
#include "core/err.h"

#include <stdio.h>

int zl_err_vset(char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (err != NULL && errlen > 0)
        vsnprintf(err, errlen, fmt, ap);
    return -1;
}

int zl_err_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    zl_err_vset(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
