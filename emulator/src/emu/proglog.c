/* proglog: replicas' output read by the engine loop, passed on, and stored as WeCom's log query
 * stores program logs (spec/program-side.md §6, app-api.md §7). */
#define _GNU_SOURCE
#include "emu/proglog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu/emu.h"
#include "wecom/logline.h"

/* A line longer than LINE_KEEP is stored cut. Output zonelab's stdout has not taken yet is
 * held up to PEND_MAX; the rest waits in the pipe, which is asked to hold PIPE_BYTES so a long
 * turn of the loop does not stall a chatty replica. A turn reads at most TURN_MAX bytes of a
 * replica, so none holds the loop. */
#define LINE_KEEP  4096
#define PEND_MAX   (64 * 1024)
#define PIPE_BYTES (1024 * 1024)
#define TURN_MAX   (1024 * 1024)

struct zl_proglog {
    zl_prog_rt *prog;
    char instance[160];
    int fd;           /* read end, non-blocking; -1 at the end of the stream */
    int wfd;          /* write end, until zl_proglog_started */
    int out;          /* where the bytes go */
    bool out_owned;   /* out is the log file, else zonelab's stdout */
    bool out_failed;  /* writing there failed: the bytes are dropped, the lines still stored */
    bool out_regular; /* a regular file: writes do not wait */
    char *pend;       /* PEND_MAX bytes when out may wait (a pipe, a terminal) */
    size_t pend_len;
    size_t len, full_len; /* the line being read: bytes kept, bytes seen */
    char line[LINE_KEEP];
};

zl_proglog *zl_proglog_new(zl_prog_rt *p, const char *instance, const char *path, int *child_fd)
{
    zl_proglog *l = calloc(1, sizeof *l);
    struct stat st;
    int fds[2];

    if (!l)
        return NULL;
    l->prog = p;
    snprintf(l->instance, sizeof l->instance, "%s", instance);
    l->out = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : STDOUT_FILENO;
    l->out_owned = path != NULL;
    l->out_failed = !path && fcntl(STDOUT_FILENO, F_GETFD) < 0; /* zonelab has no stdout */
    if (l->out < 0 || pipe2(fds, O_CLOEXEC) != 0)
        goto fail;
    l->fd = fds[0];
    l->wfd = fds[1];
    (void)fcntl(l->fd, F_SETPIPE_SZ, PIPE_BYTES); /* the default 64 KiB when refused */
    if (fcntl(l->fd, F_SETFL, O_NONBLOCK) != 0)
        goto fail_pipe;
    l->out_regular = fstat(l->out, &st) == 0 && S_ISREG(st.st_mode);
    if (!l->out_regular && !(l->pend = malloc(PEND_MAX)))
        goto fail_pipe;
    *child_fd = l->wfd;
    return l;
fail_pipe:
    close(fds[0]);
    close(fds[1]);
fail:
    if (l->out_owned && l->out >= 0)
        close(l->out);
    free(l);
    return NULL;
}

void zl_proglog_started(zl_proglog *l)
{
    if (l && l->wfd >= 0) {
        close(l->wfd);
        l->wfd = -1;
    }
}

/* ---- storing lines ---- */

/* Adds s[0..n) as a string member, bytes that are not UTF-8 replaced by '?'. */
static void add_text(cJSON *j, const char *name, const char *s, size_t n)
{
    char buf[LINE_KEEP + 1];
    size_t i = 0, k = 0;

    if (n > LINE_KEEP)
        n = LINE_KEEP;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t need = c < 0x80             ? 1
                      : (c & 0xE0) == 0xC0 ? 2
                      : (c & 0xF0) == 0xE0 ? 3
                      : (c & 0xF8) == 0xF0 ? 4
                                           : 0;
        size_t m;

        for (m = 1; need && m < need; m++)
            if (i + m >= n || ((unsigned char)s[i + m] & 0xC0) != 0x80)
                need = 0;
        if (need == 0 || (need == 2 && c < 0xC2)) {
            buf[k++] = '?';
            i++;
            continue;
        }
        memcpy(buf + k, s + i, need);
        k += need;
        i += need;
    }
    buf[k] = '\0';
    cJSON_AddStringToObject(j, name, buf);
}

static void journal_dropped(zl_emu *emu, zl_prog_rt *p, const char *instance, int64_t now)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "program_id", p->prog->program_id);
    cJSON_AddStringToObject(j, "instance", instance);
    cJSON_AddNumberToObject(j, "hour_start_ms", (double)p->logcap.hour_ms);
    cJSON_AddNumberToObject(j, "hour_end_ms", (double)(p->logcap.hour_ms + ZL_LOGCAP_HOUR_MS));
    cJSON_AddNumberToObject(j, "cap_bytes", (double)emu->opt.log_cap_bytes_per_hour);
    cJSON_AddNumberToObject(j, "stored_bytes", (double)p->logcap.stored_bytes);
    cJSON_AddStringToObject(j, "rule",
                            "1 GB per program per hour; the excess in that hour is "
                            "dropped (program-side.md §6)");
    zl_journal_add(emu->journal, now, "program", "log_dropped", j);
}

bool zl_proglog_store(zl_emu *emu, zl_prog_rt *p, const char *instance, const char *s, size_t len,
                      size_t full_len)
{
    int64_t now = zl_emu_now_ms(emu);
    zl_logline ll;
    bool parsed;
    cJSON *j;

    while (len > 0 && full_len == len && s[len - 1] == '\r') /* CRLF line ends */
        len--, full_len--;
    if (len == 0)
        return false;
    parsed = zl_logline_parse(s, len, &ll) == 0;
    if (parsed && ll.level > p->log_level)
        return false;
    switch (zl_logcap_take(&p->logcap, emu->opt.log_cap_bytes_per_hour, now, full_len + 1)) {
    case ZL_LOGCAP_DROP_FIRST:
        journal_dropped(emu, p, instance, now);
        return false;
    case ZL_LOGCAP_DROP:
        return false;
    default:
        break;
    }
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "program_id", p->prog->program_id);
    cJSON_AddStringToObject(j, "instance", instance);
    cJSON_AddStringToObject(j, "level", zl_logline_level_name(ll.level));
    if (parsed) {
        add_text(j, "req_id", ll.req_id, ll.req_id_len);
        add_text(j, "file", ll.file, ll.file_len);
        cJSON_AddNumberToObject(j, "line", (double)ll.line_no);
        cJSON_AddNumberToObject(j, "pid", (double)ll.pid);
        cJSON_AddNumberToObject(j, "tid", (double)ll.tid);
        add_text(j, "time", ll.time, ll.time_len);
    }
    add_text(j, "text", ll.text, ll.text_len);
    if (full_len > len)
        cJSON_AddBoolToObject(j, "truncated", true);
    zl_journal_add(emu->journal, now, "program", "log", j);
    return true;
}

cJSON *zl_proglog_state(zl_emu *emu, const zl_prog_rt *p)
{
    int64_t hour = zl_logcap_hour(zl_emu_now_ms(emu));
    bool same = p->logcap.hour_ms == hour;
    cJSON *o = cJSON_CreateObject();

    cJSON_AddNumberToObject(o, "hour_start_ms", (double)hour);
    cJSON_AddNumberToObject(o, "stored_bytes", same ? (double)p->logcap.stored_bytes : 0);
    cJSON_AddNumberToObject(o, "cap_bytes", (double)emu->opt.log_cap_bytes_per_hour);
    cJSON_AddNumberToObject(o, "dropped_lines", same ? (double)p->logcap.dropped_lines : 0);
    cJSON_AddNumberToObject(o, "dropped_bytes", same ? (double)p->logcap.dropped_bytes : 0);
    cJSON_AddNumberToObject(o, "dropped_total", (double)p->logcap.dropped_total);
    return o;
}

/* ---- reading the pipe ---- */

/* Passes pend on as far as out takes it without waiting. */
static void flush_pending(zl_proglog *l)
{
    while (l->pend_len > 0 && !l->out_failed) {
        struct pollfd pf = {.fd = l->out, .events = POLLOUT};
        size_t n = l->pend_len < PIPE_BUF ? l->pend_len : PIPE_BUF;
        ssize_t w;

        if (poll(&pf, 1, 0) != 1)
            return;
        if (pf.revents & (POLLERR | POLLHUP | POLLNVAL))
            goto gone;
        w = write(l->out, l->pend, n);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            return;
        if (w <= 0)
            goto gone;
        memmove(l->pend, l->pend + w, l->pend_len - (size_t)w);
        l->pend_len -= (size_t)w;
    }
    return;
gone: /* nobody reads zonelab's stdout any more: the bytes have nowhere to go */
    l->out_failed = true;
    l->pend_len = 0;
}

static void pass_on(zl_proglog *l, const char *p, size_t n)
{
    if (l->out_failed)
        return;
    if (!l->out_regular) { /* the caller read no more than fits */
        memcpy(l->pend + l->pend_len, p, n);
        l->pend_len += n;
        flush_pending(l);
        return;
    }
    while (n > 0) {
        ssize_t w = write(l->out, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            l->out_failed = true; /* the file cannot be written (disk full): lines go on */
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void end_line(zl_emu *emu, zl_proglog *l)
{
    if (l->full_len > 0)
        zl_proglog_store(emu, l->prog, l->instance, l->line, l->len, l->full_len);
    l->len = l->full_len = 0;
}

static void take_lines(zl_emu *emu, zl_proglog *l, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n, keep;

        if (nl && l->full_len == 0) { /* a whole line in the chunk: no copy */
            zl_proglog_store(emu, l->prog, l->instance, p, k < LINE_KEEP ? k : LINE_KEEP, k);
        } else {
            keep = k < LINE_KEEP - l->len ? k : LINE_KEEP - l->len;
            memcpy(l->line + l->len, p, keep);
            l->len += keep;
            l->full_len += k;
            if (nl)
                end_line(emu, l);
        }
        if (!nl)
            return;
        p += k + 1;
        n -= k + 1;
    }
}

void zl_proglog_drain(zl_emu *emu, zl_proglog *l, size_t max)
{
    char buf[16384];
    size_t total = 0;

    while (l && l->fd >= 0 && total < max) {
        size_t room = sizeof buf;
        ssize_t n;

        if (!l->out_regular && !l->out_failed) {
            flush_pending(l);
            if (PEND_MAX - l->pend_len < room)
                room = PEND_MAX - l->pend_len;
            if (room == 0) /* zonelab's stdout is not read: the replica waits, as it would */
                return;
        }
        n = read(l->fd, buf, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return; /* EAGAIN: nothing more now */
        if (n == 0) {
            close(l->fd);
            l->fd = -1;
            end_line(emu, l);
            return;
        }
        total += (size_t)n;
        take_lines(emu, l, buf, (size_t)n);
        pass_on(l, buf, (size_t)n);
    }
}

void zl_proglog_poll(zl_emu *emu)
{
    size_t i, k;

    for (i = 0; i < emu->prog_count; i++)
        for (k = 0; k < emu->progs[i].replica_count; k++)
            zl_proglog_drain(emu, emu->progs[i].replicas[k].log, TURN_MAX);
}

void zl_proglog_free(zl_emu *emu, zl_proglog *l)
{
    if (!l)
        return;
    zl_proglog_started(l);
    zl_proglog_drain(emu, l, PIPE_BYTES);
    if (l->fd >= 0)
        close(l->fd);
    end_line(emu, l);
    flush_pending(l); /* what zonelab's stdout does not take now is dropped */
    if (l->out_owned)
        close(l->out);
    free(l->pend);
    free(l);
}

void zl_proglog_close_all(zl_emu *emu)
{
    size_t i, k;

    for (i = 0; i < emu->prog_count; i++)
        for (k = 0; k < emu->progs[i].replica_count; k++) {
            zl_proglog_free(emu, emu->progs[i].replicas[k].log);
            emu->progs[i].replicas[k].log = NULL;
        }
}
