/* log: internals of the SDK's logger shared with the rest of the SDK. */
#ifndef ZONE_LOG_H
#define ZONE_LOG_H

#include <stdarg.h>

/* 1 when s is exactly 16 lower-case hex digits. */
int zone_req_id_valid(const char *s);

/* Restores the default req_id if this thread's is id (the request it names is over). */
void zone_log_end_request(const char *id);

/* zone_log_write with a va_list. */
void zone_log_vwrite(int level, const char *file, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
