/* err: one sentence written into a caller's (err, errlen) buffer, how the emulator reports
 * a refusal that a user reads. */
#ifndef ZL_ERR_H
#define ZL_ERR_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Formats one sentence into err (errlen bytes, cut to fit). err may be NULL when errlen is
 * 0: then nothing is written. Returns -1, so a refusal can be `return zl_err_set(...)`.
 */
int zl_err_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As zl_err_set, with the arguments in ap (the caller starts and ends it). */
int zl_err_vset(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
