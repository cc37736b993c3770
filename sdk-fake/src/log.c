/* log: the vendor's log line format, one write per line, req_id per thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "zone_sdk.h"

#define REQ_ID_LEN 16

static _Thread_local char req_id[REQ_ID_LEN + 1];

int zone_req_id_valid(const char *s)
{
    size_t i;

    if (!s)
        return 0;
    for (i = 0; i < REQ_ID_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[REQ_ID_LEN] == '\0';
}

/* The req_id of lines written outside a request. */
static const char *default_req_id(void)
{
    const char *e = getenv("ZONELAB_LOG_REQ_ID");

    return zone_req_id_valid(e) ? e : "0000000000000000";
}

void zone_log_set_req_id(const char *id)
{
    if (zone_req_id_valid(id))
        memcpy(req_id, id, REQ_ID_LEN + 1);
    else
        req_id[0] = '\0';
}

void zone_log_end_request(const char *id)
{
    if (id && !strcmp(req_id, id))
        req_id[0] = '\0';
}

int zone_log_level(void)
{
    const char *e = getenv("ZONELAB_LOG_LEVEL");

    if (!e || !*e)
        return ZONE_LOG_LEVEL_INFO;
    if (!strcmp(e, "1") || !strcasecmp(e, "ERR") || !strcasecmp(e, "ERROR"))
        return ZONE_LOG_LEVEL_ERR;
    if (!strcmp(e, "3") || !strcasecmp(e, "DBG") || !strcasecmp(e, "DEBUG"))
        return ZONE_LOG_LEVEL_DBG;
    return ZONE_LOG_LEVEL_INFO;
}

/* Length of s cut to at most max bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    size_t n;

    if (len <= max)
        return len;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

void zone_log_vwrite(int level, const char *file, int line, const char *fmt, va_list ap)
{
    static const char *const names[] = {"ERR", "INFO", "DBG"};
    char custom[ZONE_LOG_CUSTOM_MAX + 8];
    char out[ZONE_LOG_CUSTOM_MAX + 512];
    struct timespec ts;
    struct tm tm;
    const char *base;
    size_t cl, i;
    int n;

    if (level < ZONE_LOG_LEVEL_ERR)
        level = ZONE_LOG_LEVEL_ERR;
    if (level > ZONE_LOG_LEVEL_DBG)
        level = ZONE_LOG_LEVEL_DBG;
    if (level > zone_log_level())
        return;
    custom[0] = '\0';
    n = fmt ? vsnprintf(custom, sizeof custom, fmt, ap) : 0;
    cl = n < 0 ? 0 : (size_t)n;
    if (cl >= sizeof custom)
        cl = sizeof custom - 1;
    cl = utf8_cut(custom, cl, ZONE_LOG_CUSTOM_MAX);
    custom[cl] = '\0';
    for (i = 0; i < cl; i++) /* one entry is one line */
        if (custom[i] == '\n' || custom[i] == '\r')
            custom[i] = ' ';
    base = file ? strrchr(file, '/') : NULL;
    base = base ? base + 1 : (file ? file : "");
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    n = snprintf(out, sizeof out,
                 "<%ld,%ld>,%04d-%02d-%02d %02d:%02d:%02d.%03ld,%s,%s,%.200s,%d,%s\n",
                 (long)getpid(), (long)gettid(), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, names[level - 1],
                 req_id[0] ? req_id : default_req_id(), base, line, custom);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof out) { /* cannot happen with the caps above; keep the newline */
        n = (int)sizeof out - 1;
        out[n - 1] = '\n';
    }
    write_all(STDOUT_FILENO, out, (size_t)n);
}

void zone_log_write(int level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    zone_log_vwrite(level, file, line, fmt, ap);
    va_end(ap);
}
