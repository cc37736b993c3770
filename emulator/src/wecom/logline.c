/* logline: the vendor's program log line format and the hourly volume cap. */
#include "wecom/logline.h"

#include <string.h>

/* The field of s[*at..len) up to the next comma (or the end when last); *at moves past it.
 * -1 when there is no comma and last is false. */
static int field(const char *s, size_t len, size_t *at, bool last, const char **f, size_t *flen)
{
    const char *c = memchr(s + *at, ',', len - *at);

    *f = s + *at;
    if (!c) {
        if (!last)
            return -1;
        *flen = len - *at;
        *at = len;
        return 0;
    }
    *flen = (size_t)(c - *f);
    *at += *flen + 1;
    return 0;
}

/* A decimal number of 1..18 digits filling f; -1 otherwise. */
static long number(const char *f, size_t n)
{
    long v = 0;
    size_t i;

    if (n == 0 || n > 18)
        return -1;
    for (i = 0; i < n; i++) {
        if (f[i] < '0' || f[i] > '9')
            return -1;
        v = v * 10 + (f[i] - '0');
    }
    return v;
}

static int level_of(const char *f, size_t n)
{
    if (n == 3 && !memcmp(f, "ERR", 3))
        return ZL_LOG_ERR;
    if (n == 4 && (!memcmp(f, "INFO", 4) || !memcmp(f, "INF0", 4)))
        return ZL_LOG_INFO;
    if (n == 3 && !memcmp(f, "DBG", 3))
        return ZL_LOG_DBG;
    return ZL_LOG_UNKNOWN;
}

int zl_logline_parse(const char *s, size_t len, zl_logline *out)
{
    const char *f, *gt;
    size_t at = 1, n;

    memset(out, 0, sizeof *out);
    out->text = s;
    out->text_len = len;
    if (len < 2 || s[0] != '<' || !(gt = memchr(s, '>', len)))
        return -1;
    /* <pid,tid> */
    if (field(s, (size_t)(gt - s), &at, false, &f, &n) != 0 || (out->pid = number(f, n)) < 0 ||
        (out->tid = number(s + at, (size_t)(gt - s) - at)) < 0)
        goto bad;
    at = (size_t)(gt - s) + 1;
    if (at >= len || s[at] != ',')
        goto bad;
    at++;
    if (field(s, len, &at, false, &out->time, &out->time_len) != 0 || out->time_len == 0 ||
        field(s, len, &at, false, &f, &n) != 0 || !(out->level = level_of(f, n)) ||
        field(s, len, &at, false, &out->req_id, &out->req_id_len) != 0 || out->req_id_len == 0 ||
        field(s, len, &at, false, &out->file, &out->file_len) != 0 ||
        field(s, len, &at, true, &f, &n) != 0 || (out->line_no = number(f, n)) < 0)
        goto bad;
    out->text = s + at;
    out->text_len = len - at;
    return 0;
bad:
    memset(out, 0, sizeof *out);
    out->text = s;
    out->text_len = len;
    return -1;
}

const char *zl_logline_level_name(int level)
{
    static const char *const names[] = {"unknown", "ERR", "INFO", "DBG"};

    return level >= ZL_LOG_ERR && level <= ZL_LOG_DBG ? names[level] : names[0];
}

int64_t zl_logcap_hour(int64_t now_ms)
{
    return now_ms - ((now_ms % ZL_LOGCAP_HOUR_MS) + ZL_LOGCAP_HOUR_MS) % ZL_LOGCAP_HOUR_MS;
}

int zl_logcap_take(zl_logcap *c, uint64_t cap, int64_t now_ms, size_t n)
{
    int64_t hour = zl_logcap_hour(now_ms);

    if (hour != c->hour_ms) {
        c->hour_ms = hour;
        c->stored_bytes = 0;
        c->full = false;
        c->dropped_lines = 0;
        c->dropped_bytes = 0;
    }
    if (!c->full && (cap == 0 || (n <= cap && c->stored_bytes <= cap - n))) {
        c->stored_bytes += n;
        return ZL_LOGCAP_KEEP;
    }
    c->full = true;
    c->dropped_lines++;
    c->dropped_bytes += n;
    c->dropped_total++;
    return c->dropped_lines == 1 ? ZL_LOGCAP_DROP_FIRST : ZL_LOGCAP_DROP;
}
