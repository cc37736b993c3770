/* proglog: a spawned replica's output through a pipe the engine loop reads without waiting:
 * the bytes go on unchanged (its log file, or zonelab's stdout), its lines to the journal. */
#ifndef ZL_PROGLOG_H
#define ZL_PROGLOG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct zl_emu;
struct zl_prog_rt;

typedef struct zl_proglog zl_proglog;

/*
 * Before forking replica instance (borrowed) of program p: a pipe for its output. *child_fd
 * is the write end the child makes its stdout (and its stderr when path is set). What is read
 * goes on to path (opened to append, created) or, path NULL, to zonelab's stdout, and its
 * lines are stored (zl_proglog_store). NULL when no pipe can be made: the caller then lets the
 * child write where it would without one.
 */
zl_proglog *zl_proglog_new(struct zl_prog_rt *p, const char *instance, const char *path,
                           int *child_fd);
/* In the parent, once the child is forked: closes the write end, so the pipe ends with the
 * processes that hold it. */
void zl_proglog_started(zl_proglog *l);
/*
 * Reads what l's pipe holds now, at most max bytes, never waiting: bytes are passed on, whole
 * lines stored; at the end of the stream the last partial line too. Accepts NULL.
 */
void zl_proglog_drain(struct zl_emu *emu, zl_proglog *l, size_t max);
/* What a drain after a process ended reads at most (its bytes are all in the pipe by then;
 * a process it started may still write). */
#define ZL_PROGLOG_LAST (4u << 20)
/* zl_proglog_drain for every replica of every program (call every turn, and before reading
 * a reply, so the lines a program wrote before answering come before the answer). */
void zl_proglog_poll(struct zl_emu *emu);
/* Drains what is left (at most a pipe's worth), closes and frees. Accepts NULL. */
void zl_proglog_free(struct zl_emu *emu, zl_proglog *l);
/* zl_proglog_free for every process of every program; their log pointers become NULL. */
void zl_proglog_close_all(struct zl_emu *emu);

/*
 * One output line of replica instance of p (len bytes, no newline), as WeCom's log query
 * stores it: a line in the vendor's format whose level is above p's log_level is not stored;
 * the others (and lines not in the format, level "unknown") count against the hourly cap
 * (opt.log_cap_bytes_per_hour, with their newline) and are journaled {"face": "program",
 * "kind": "log", program_id, instance, level, req_id, file, line, pid, tid, time, text} while
 * they fit; the first line dropped in an hour is journaled as "log_dropped". full_len is
 * the line's length as written: more than len when only its start was kept ("truncated":
 * true). Returns true when the line was journaled.
 */
bool zl_proglog_store(struct zl_emu *emu, struct zl_prog_rt *p, const char *instance, const char *s,
                      size_t len, size_t full_len);

/* p's log volume in the current hour of the virtual clock, as a new object (caller deletes):
 * {hour_start_ms, stored_bytes, cap_bytes, dropped_lines, dropped_bytes, dropped_total}. */
cJSON *zl_proglog_state(struct zl_emu *emu, const struct zl_prog_rt *p);

#endif
