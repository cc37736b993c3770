/* logline: the vendor's program log line (spec/program-side.md §6) and the hourly volume cap. */
#ifndef ZL_LOGLINE_H
#define ZL_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 1 ERR, 2 INFO, 3 DBG as set_log_level numbers them; 0 for a line not in the format. */
enum { ZL_LOG_UNKNOWN = 0, ZL_LOG_ERR = 1, ZL_LOG_INFO = 2, ZL_LOG_DBG = 3 };

/* One line taken apart; the strings point into the line (not NUL-terminated). */
typedef struct zl_logline {
    int level;
    long pid, tid;
    const char *time; /* "YYYY-MM-DD hh:mm:ss.mmm" */
    size_t time_len;
    const char *req_id;
    size_t req_id_len;
    const char *file;
    size_t file_len;
    long line_no;
    const char *text; /* custom: the rest of the line, commas included; may be empty */
    size_t text_len;
} zl_logline;

/*
 * Parses `<pid,tid>,datetime,level,req_id,file,line[,custom]` (s: len bytes, no newline).
 * The level is ERR, INFO or DBG; INF0 (the vendor's own example line) reads as INFO. The
 * custom field may be absent, as in that example. Returns 0, or -1 when s is not in the
 * format (*out then has level ZL_LOG_UNKNOWN and the whole line as text).
 */
int zl_logline_parse(const char *s, size_t len, zl_logline *out);
/* "ERR", "INFO", "DBG", or "unknown". */
const char *zl_logline_level_name(int level);

/*
 * The volume cap, "1 GB per program per hour; the excess in that hour is dropped": bytes
 * stored in the current hour of the virtual clock (hours start at multiples of 3600 s since
 * the epoch). Zeroed storage is a valid empty counter.
 */
typedef struct zl_logcap {
    int64_t hour_ms;        /* start of the hour counted */
    uint64_t stored_bytes;  /* bytes kept in that hour */
    bool full;              /* a line did not fit: the rest of the hour is dropped */
    uint64_t dropped_lines; /* in that hour */
    uint64_t dropped_bytes;
    uint64_t dropped_total; /* lines dropped since the start */
} zl_logcap;

/* What zl_logcap_take decided. */
enum { ZL_LOGCAP_KEEP, ZL_LOGCAP_DROP, ZL_LOGCAP_DROP_FIRST /* the first drop of the hour */ };

/*
 * Counts a line of n bytes (its newline included) at virtual time now_ms against cap bytes
 * per hour (0 = no cap). A new hour starts a new count. A line that does not fit whole is
 * dropped, and so is every later line of that hour: lines are never cut. Returns
 * ZL_LOGCAP_KEEP (counted), ZL_LOGCAP_DROP_FIRST or ZL_LOGCAP_DROP.
 */
int zl_logcap_take(zl_logcap *c, uint64_t cap, int64_t now_ms, size_t n);

#define ZL_LOGCAP_HOUR_MS 3600000LL
/* The start of the hour now_ms is in. */
int64_t zl_logcap_hour(int64_t now_ms);

#endif
