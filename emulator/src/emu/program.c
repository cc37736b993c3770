/* program: zone program replicas (their processes, started by emu/spawn.c: ports, supervision,
 * stopping) and callbacks to them over zone wire v1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "emu/emu.h"

static int free_port(unsigned *out)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc = -1;

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        *out = ntohs(a.sin_port);
        rc = 0;
    }
    close(fd);
    return rc;
}

int zl_emu_set_replicas(zl_emu *emu, zl_prog_rt *p, size_t n, char *err, size_t errlen)
{
    zl_replica *r;
    size_t i;

    (void)emu;
    if (n == 0 || n > 64) {
        snprintf(err, errlen, "replicas must be 1..64 (got %zu)", n);
        return -1;
    }
    if (!(r = calloc(n, sizeof *r))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        snprintf(r[i].instance, sizeof r[i].instance, "%s/%zu", p->prog->program_id, i);
        if (free_port(&r[i].port) != 0) {
            snprintf(err, errlen, "cannot find a free loopback port: %s", strerror(errno));
            free(r);
            return -1;
        }
        snprintf(r[i].url, sizeof r[i].url, "http://127.0.0.1:%u", r[i].port);
    }
    for (i = 0; p->replicas && i < p->replica_count; i++)
        zl_emu_replica_ready_close(&p->replicas[i]);
    free(p->replicas);
    p->replicas = r;
    p->replica_count = n;
    p->next_replica = 0;
    return 0;
}

/* Whether replica r of p is supervised: started by zonelab with p's command, restarts on, and
 * the emulator not stopping. */
static bool supervised(const zl_emu *emu, const zl_prog_rt *p, const zl_replica *r)
{
    return emu->opt.replica_restart && !emu->closing && p && p->command && r != &p->dev &&
           r >= p->replicas && r < p->replicas + p->replica_count;
}

/* Schedules r's restart: the delay doubles with each restart since it last stayed up
 * replica_restart_stable_ms, from replica_restart_delay_ms to replica_restart_max_ms. */
static int64_t schedule_restart(zl_emu *emu, zl_replica *r)
{
    int64_t now = zl_emu_now_ms(emu), delay = emu->opt.replica_restart_delay_ms;
    unsigned k;

    if (r->listened && now - r->started_ms >= emu->opt.replica_restart_stable_ms)
        r->restarts = 0;
    for (k = 0; k < r->restarts && delay < emu->opt.replica_restart_max_ms; k++)
        delay = delay ? delay * 2 : 1;
    if (delay > emu->opt.replica_restart_max_ms)
        delay = emu->opt.replica_restart_max_ms;
    r->restart_pending = true;
    r->down = true;
    r->restart_at_ms = now + delay;
    r->restart_delay_ms = delay;
    return delay;
}

/* Records r's exit (p: its program, NULL for a developer's machine) and, when it is
 * supervised, schedules its restart. */
static void reap_one(zl_emu *emu, zl_prog_rt *p, zl_replica *r, int status)
{
    cJSON *d = cJSON_CreateObject();

    r->exited = 1;
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    zl_proglog_drain(emu, r->log, ZL_PROGLOG_LAST); /* its last lines before its exit */
    cJSON_AddStringToObject(d, "instance", r->instance);
    cJSON_AddNumberToObject(d, "pid", r->pid);
    cJSON_AddBoolToObject(d, "expected", r->expected_exit);
    if (WIFEXITED(status))
        cJSON_AddNumberToObject(d, "exit_code", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        cJSON_AddNumberToObject(d, "signal", WTERMSIG(status));
    if (supervised(emu, p, r))
        cJSON_AddNumberToObject(d, "restart_in_ms", (double)schedule_restart(emu, r));
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "replica_exit", d);
}

int zl_emu_spawn_one(zl_emu *emu, zl_prog_rt *p, size_t i, char *err, size_t errlen)
{
    return zl_emu_spawn_at(emu, p, &p->replicas[i], p->command, err, errlen);
}

int zl_emu_spawn_dev(zl_emu *emu, zl_prog_rt *p, const char *cmd, char *err, size_t errlen)
{
    zl_replica *r = &p->dev;

    if (r->pid > 0 && !r->exited) {
        int status;

        r->expected_exit = 1;
        kill(-r->pid, SIGKILL);
        if (waitpid(r->pid, &status, 0) == r->pid)
            reap_one(emu, p, r, status);
    }
    if (!r->port) {
        if (free_port(&r->port) != 0) {
            snprintf(err, errlen, "cannot find a free loopback port: %s", strerror(errno));
            return -1;
        }
        snprintf(r->instance, sizeof r->instance, "%s/debug", p->prog->program_id);
        snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u", r->port);
    }
    return zl_emu_spawn_at(emu, p, r, cmd ? cmd : p->command, err, errlen);
}

int zl_emu_spawn(zl_emu *emu, zl_prog_rt *p, const char *cmd, char *err, size_t errlen)
{
    size_t i;

    free(p->command);
    if (!(p->command = strdup(cmd))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < p->replica_count; i++)
        if (zl_emu_spawn_one(emu, p, i, err, errlen) != 0)
            return -1;
    return 0;
}

int zl_emu_signal_replica(zl_emu *emu, zl_prog_rt *p, size_t i, int sig)
{
    zl_replica *r = &p->replicas[i];
    cJSON *d;

    if (i >= p->replica_count || r->pid <= 0 || r->exited)
        return -1;
    if (sig == SIGKILL || sig == SIGTERM)
        r->expected_exit = 1;
    if (kill(-r->pid, sig) != 0)
        return -1;
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "instance", r->instance);
    cJSON_AddStringToObject(d, "signal", strsignal(sig));
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "signal", d);
    if (sig == SIGKILL) { /* gone now: reap it so a restart can follow at once */
        int status;

        if (waitpid(r->pid, &status, 0) == r->pid)
            reap_one(emu, p, r, status);
    } else if (sig == SIGSTOP) {
        int status, k;

        /* stopped when this returns (every thread: the kernel reports the group stop once
         * all have stopped), so a call made next meets a stopped replica; 1 s at most */
        for (k = 0; k < 1000; k++) {
            pid_t w = waitpid(r->pid, &status, WUNTRACED | WNOHANG);

            if (w == r->pid && !WIFSTOPPED(status))
                reap_one(emu, p, r, status);
            if (w == r->pid || w < 0)
                break;
            poll(NULL, 0, 1);
        }
    }
    return 0;
}

/* Replica k of p, where k == p->replica_count is p's developer's machine. */
static zl_replica *process_at(zl_prog_rt *p, size_t k)
{
    return k < p->replica_count ? &p->replicas[k] : &p->dev;
}

#define MAX_PORT_MOVES 3

/*
 * Replica i of p ended before it listened: when another process holds its port (free_port
 * hands out a port that is free at that moment only; under load another emulator, program
 * or outgoing connection can take it before the replica binds it), it gets a new port and
 * is started again. Returns whether it was.
 */
static bool move_port(zl_emu *emu, zl_prog_rt *p, size_t i)
{
    zl_replica *r = &p->replicas[i];
    unsigned old = r->port;
    char err[256] = "";
    cJSON *d;
    int rc;

    if (r->listened || r->expected_exit || r->port_moves >= MAX_PORT_MOVES || !p->command ||
        !zl_emu_port_taken(old) || free_port(&r->port) != 0)
        return false;
    r->port_moves++;
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u", r->port);
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "instance", r->instance);
    cJSON_AddNumberToObject(d, "port", old);
    cJSON_AddNumberToObject(d, "new_port", r->port);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "port_taken", d);
    rc = emu->respawn ? emu->respawn(emu, p, i, emu->respawn_ud)
                      : zl_emu_spawn_one(emu, p, i, err, sizeof err);
    return rc == 0;
}

static void start_waiting(zl_emu *emu, zl_prog_rt *p, size_t replica);

/* Starts replica i of p again when its restart is due; 1 when it was started. */
static int restart_due(zl_emu *emu, zl_prog_rt *p, size_t i, int64_t now)
{
    zl_replica *r = &p->replicas[i];
    char err[256] = "";
    cJSON *d;
    int rc;

    if (!r->restart_pending || now < r->restart_at_ms)
        return 0;
    if (!supervised(emu, p, r)) { /* turned off meanwhile: it stays down, as without it */
        r->restart_pending = false;
        r->down = false;
        start_waiting(emu, p, i);
        return 0;
    }
    r->restarts++;
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "instance", r->instance);
    cJSON_AddNumberToObject(d, "attempt", r->restarts);
    cJSON_AddNumberToObject(d, "delay_ms", (double)r->restart_delay_ms);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "replica_restart", d);
    rc = emu->respawn ? emu->respawn(emu, p, i, emu->respawn_ud)
                      : zl_emu_spawn_one(emu, p, i, err, sizeof err);
    if (rc != 0) /* fork failed: try again after the next delay */
        schedule_restart(emu, r);
    return rc == 0;
}

void zl_emu_reap(zl_emu *emu)
{
    int64_t now = zl_emu_now_ms(emu);
    size_t i, k;

    zl_proglog_poll(emu);
    for (i = 0; i < emu->prog_count; i++)
        for (k = 0; k <= emu->progs[i].replica_count; k++) {
            zl_prog_rt *p = &emu->progs[i];
            zl_replica *r = process_at(p, k);
            int status;

            /* restarts first: one that exits now is seen exited (a scenario's crash) until
             * the next call at least, whatever its delay */
            if (k < p->replica_count)
                restart_due(emu, p, k, now);
            if (r->pid > 0 && !r->exited && waitpid(r->pid, &status, WNOHANG) == r->pid) {
                reap_one(emu, p, r, status);
                if (k < p->replica_count)
                    move_port(emu, p, k);
            }
            if (k == p->replica_count)
                continue;
            /* back: the events held while it was down go out, oldest first; after a failed
             * transfer, once it has listened on for replica_restart_delay_ms (it did not die) */
            if (r->down && !r->restart_pending && r->pid > 0 && !r->exited &&
                now - r->held_ms >= emu->opt.replica_restart_delay_ms &&
                zl_emu_replica_listening(emu, r)) {
                r->down = false;
                start_waiting(emu, p, k);
            }
        }
}

int zl_emu_wait_ready(zl_emu *emu, zl_prog_rt *p, long timeout_ms, char *err, size_t errlen)
{
    int64_t t0 = zl_clock_mono_ms();
    size_t i;

    for (;;) {
        size_t ready = 0;

        zl_emu_reap(emu);
        for (i = 0; i < p->replica_count; i++) {
            if (p->replicas[i].exited) {
                zl_emu_replica_diagnose(emu, &p->replicas[i], 8, err, errlen);
                return -1;
            }
            ready += (size_t)zl_emu_replica_listening(emu, &p->replicas[i]);
        }
        if (ready == p->replica_count)
            return 0;
        if (zl_clock_mono_ms() - t0 > timeout_ms) {
            int n = snprintf(err, errlen, "%zu of %zu replicas of %s listen after %ld ms; ", ready,
                             p->replica_count, p->prog->program_id, timeout_ms);

            for (i = 0; i < p->replica_count && p->replicas[i].listened; i++)
                ;
            if (n > 0 && (size_t)n < errlen && i < p->replica_count)
                zl_emu_replica_diagnose(emu, &p->replicas[i], 8, err + n, errlen - (size_t)n);
            return -1;
        }
        poll(NULL, 0, 5);
    }
}

void zl_emu_stop_replicas(zl_emu *emu)
{
    size_t i, k, alive;
    int64_t t0;

    /* events held for a replica that is down have no call in flight to end them */
    for (i = 0; emu->closing && i < emu->prog_count; i++)
        for (k = 0; k < emu->progs[i].replica_count; k++)
            start_waiting(emu, &emu->progs[i], k);

    for (i = 0; i < emu->prog_count; i++)
        for (k = 0; k <= emu->progs[i].replica_count; k++) {
            zl_replica *r = process_at(&emu->progs[i], k);

            if (r->pid > 0 && !r->exited) {
                r->expected_exit = 1;
                kill(-r->pid, SIGTERM);
            }
        }
    t0 = zl_clock_mono_ms();
    for (;;) { /* 2 s at most */
        int pidfds[64];
        size_t n_pidfds = 0;
        bool all = true; /* a pidfd for each one alive: an exit wakes the wait */

        if (zl_clock_mono_ms() - t0 >= 2000)
            break;
        alive = 0;
        zl_emu_reap(emu);
        for (i = 0; i < emu->prog_count; i++)
            for (k = 0; k <= emu->progs[i].replica_count; k++) {
                const zl_replica *r = process_at(&emu->progs[i], k);

                if (r->pid > 0 && !r->exited) {
                    int fd = n_pidfds < sizeof pidfds / sizeof *pidfds
                                 ? (int)syscall(SYS_pidfd_open, r->pid, 0)
                                 : -1;

                    alive++;
                    if (fd >= 0)
                        pidfds[n_pidfds++] = fd;
                    else
                        all = false;
                }
            }
        if (!alive)
            return;
        /* keep serving: a replica finishing an event may still wait on an SDK invoke; without
         * a pidfd (Linux before 5.3) an exit wakes nothing here: look again soon */
        if (emu->engine)
            zl_engine_turn_fds(emu->engine, all ? 100 : 1, pidfds, n_pidfds);
        else
            poll(NULL, 0, 1);
        while (n_pidfds > 0)
            close(pidfds[--n_pidfds]);
    }
    for (i = 0; i < emu->prog_count; i++)
        for (k = 0; k <= emu->progs[i].replica_count; k++) {
            zl_replica *r = process_at(&emu->progs[i], k);
            int status;

            if (r->pid > 0 && !r->exited) {
                kill(-r->pid, SIGKILL);
                if (waitpid(r->pid, &status, 0) == r->pid)
                    reap_one(emu, &emu->progs[i], r, status);
            }
        }
}

size_t zl_emu_pick_replica(zl_prog_rt *p)
{
    size_t r = p->next_replica % p->replica_count;

    p->next_replica = r + 1;
    return r;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static char *encode_args(const zl_callback_args *a)
{
    zone_wire_callback cb = {
        .agentid = a->agentid, .call_type = a->call_type, .is_async = a->is_async};
    char *text = NULL;

    cb.corpid = dup_or_empty(a->corpid);
    cb.data = dup_or_empty(a->data);
    cb.job_info = dup_or_empty(a->job_info);
    cb.ability_id = dup_or_empty(a->ability_id);
    cb.notify_id = dup_or_empty(a->notify_id);
    cb.req_id = dup_or_empty(a->req_id);
    if (cb.corpid && cb.data && cb.job_info && cb.ability_id && cb.notify_id && cb.req_id)
        text = zone_wire_callback_encode(&cb);
    zone_wire_callback_cleanup(&cb);
    return text;
}

/* ---- callbacks: up to delivery_window in flight per replica, the rest waiting in order ---- */

/* A callback from zl_emu_call_program until fn ran: waiting for a slot in its replica's window
 * (on the replica's list), then in flight (owned by the engine's call). */
typedef struct zl_call {
    struct zl_call *next; /* the replica's waiting list */
    zl_emu *emu;
    zl_prog_rt *prog;
    size_t replica;
    const char *debug_url; /* p->debug_url when the call was forwarded there, else NULL */
    char *plain;           /* the callback envelope, sealed when it is sent */
    long timeout_ms;       /* from zl_emu_call_program */
    int64_t queued_ms;     /* wall clock when it was made */
    bool wait_counts;      /* the wait in line is part of timeout_ms (not for an event) */
    bool event;            /* call_type 2: held while its replica is down */
    unsigned resends;      /* times it was sent again because its replica died under it */
    uint64_t order;        /* when it was made, among every call: its place when put back */
    zl_call_fn fn;
    void *ud;
} call;

static void call_free(call *c)
{
    free(c->plain);
    free(c);
}

/* Ends c without an answer: errcode and detail (printf style) go to its fn; frees c. */
__attribute__((format(printf, 3, 4))) static void end_unsent(call *c, int errcode, const char *fmt,
                                                             ...)
{
    zl_call_result out = {.errcode = errcode, .replica = c->replica, .debug_url = c->debug_url};
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out.detail, sizeof out.detail, fmt, ap);
    va_end(ap);
    c->fn(c->emu, &out, c->ud);
    call_free(c);
}

#define MAX_RESENDS 3 /* an event that kills its replica each time is not sent forever */

/* Whether replica r of p holds its events back: it is down and they would go to it. */
static bool holds(const zl_prog_rt *p, const zl_replica *r)
{
    return r->down && !zl_emu_debug_forwarding(p);
}

/*
 * Whether event c, whose transfer failed with res, is to be sent again: supervision is on and
 * the connection failed (refused, reset, nothing answered; a timeout is an answer too late, as
 * without supervision). Whether the replica died is not asked now: a killed replica's
 * connections are reset while the kernel closes its files, and its port can still take a
 * connection at that instant (tools/soak lost events so). The event waits as for a replica
 * that is down: zl_emu_reap sends it again once the replica is back, or, when it did not die,
 * once it has listened on for replica_restart_delay_ms.
 */
static bool resend(const call *c, const zl_http_result *res)
{
    const zl_replica *r = &c->prog->replicas[c->replica];

    return c->event && !c->debug_url && c->resends < MAX_RESENDS && res->curl_code != 0 &&
           res->curl_code != CURLE_OPERATION_TIMEDOUT && !c->emu->closing &&
           supervised(c->emu, c->prog, r);
}

static void on_reply(zl_engine *e, const zl_http_result *res, void *ud)
{
    call *c = ud;
    zl_call_result out = {.status = res->status,
                          .elapsed_ms = res->elapsed_ms,
                          .replica = c->replica,
                          .debug_url = c->debug_url};
    const char *to = c->debug_url ? c->debug_url : c->prog->replicas[c->replica].instance;
    zone_wire_header hs[32];
    size_t n = 0, i;
    char *plain = NULL, detail[200] = "";
    size_t plen = 0;
    const char *exc = NULL, *why = NULL;
    zone_wire_reply reply = {0};
    int rc;

    (void)e;
    zl_proglog_poll(c->emu); /* what the program logged before it answered comes first */
    if (res->curl_code != 0) {
        out.errcode = res->curl_code == CURLE_COULDNT_CONNECT      ? 710674
                      : res->curl_code == CURLE_OPERATION_TIMEDOUT ? 710675
                                                                   : 710638;
        snprintf(out.detail, sizeof out.detail, "%.100s: %s", to,
                 res->error ? res->error : "transfer failed");
        goto done;
    }
    if (res->status != 200) {
        out.errcode = 710676;
        snprintf(out.detail, sizeof out.detail, "%.100s answered HTTP %ld", to, res->status);
        goto done;
    }
    for (i = 0; i < res->n_headers && n < 32; i++) {
        hs[n].name = res->header_names[i];
        hs[n].value = res->header_values[i];
        if (!strcmp(hs[n].name, ZONE_WIRE_H_EXCEPTION))
            exc = hs[n].value;
        if (!strcmp(hs[n].name, ZONE_WIRE_H_ERROR))
            why = hs[n].value;
        n++;
    }
    if (exc) {
        out.errcode = 710677;
        snprintf(out.detail, sizeof out.detail,
                 "the program could not verify zonelab's request (SDK code %.16s: %.150s)", exc,
                 why ? why : "no reason given");
        goto done;
    }
    rc = zone_wire_open(&c->prog->keys, NULL, NULL, ZONE_WIRE_REPLY_METHOD, ZONE_WIRE_CALLBACK_PATH,
                        hs, n, res->body, res->body_len, &plain, &plen, detail, sizeof detail);
    if (rc != ZONE_WIRE_OK || zone_wire_reply_take(&plain, plen, &reply) != 0) {
        out.errcode = 710677;
        snprintf(out.detail, sizeof out.detail, "the program's reply does not verify: %s",
                 rc != ZONE_WIRE_OK ? detail : "reply envelope is not valid JSON");
        goto done;
    }
    if (reply.exception) {
        out.errcode = 710677;
        snprintf(out.detail, sizeof out.detail, "the program answered with an exception reply");
        goto done;
    }
    out.response = reply.response;
done : {
    zl_emu *emu = c->emu;
    zl_prog_rt *p = c->prog;
    size_t replica = c->replica;
    zl_replica *r = &p->replicas[replica];

    if (r->in_flight > 0)
        r->in_flight--;
    if (resend(c, res)) {
        call **at = &r->waiting;

        c->resends++;
        r->down = true; /* zl_emu_reap sends it again once the replica (still) listens */
        r->held_ms = zl_emu_now_ms(emu);
        while (*at && (*at)->order < c->order) /* back in its place: the order made */
            at = &(*at)->next;
        if (!(c->next = *at))
            r->waiting_tail = c;
        *at = c;
        r->n_waiting++; /* past the cap too: it was accepted once, and is not dropped now */
    } else {
        out.resends = c->resends;
        c->fn(emu, &out, c->ud);
        call_free(c);
    }
    start_waiting(emu, p, replica); /* its slot goes to the oldest waiting call */
}
    zone_wire_reply_cleanup(&reply);
    free(plain);
}

/* Seals c and hands it to the engine with what is left of its timeout: 0, or -1 when it
 * could not be sent (c untouched). */
static int send_call(call *c, long timeout_ms)
{
    zl_prog_rt *p = c->prog;
    zone_wire_sealed_headers h;
    char url[ZL_WORLD_MAX_URL + 2], hv[4][300], *body = NULL;
    const char *headers[5] = {hv[0], hv[1], hv[2], hv[3], "Content-Type: text/plain"};
    zl_http_request req = {.method = "POST",
                           .url = url,
                           .headers = headers,
                           .n_headers = 5,
                           .timeout_ms = timeout_ms,
                           .direct = 1};
    int rc = -1;

    /* doc 54809 §3: "对应应用调用程序的请求以及接收的回调请求都会请求到「1.2 设置接收事件服务器」
     * 中设置的接收事件服务器，而不会请求到部署在企业微信专区中的程序" */
    c->debug_url = zl_emu_debug_forwarding(p) ? p->debug_url : NULL;
    if (zone_wire_seal(&p->keys, NULL, "POST", ZONE_WIRE_CALLBACK_PATH, c->plain, strlen(c->plain),
                       &h, &body) != ZONE_WIRE_OK)
        goto out;
    snprintf(hv[0], sizeof hv[0], "ww-secret-ver: %s", h.secret_ver);
    snprintf(hv[1], sizeof hv[1], "ww-timestamp: %s", h.timestamp);
    snprintf(hv[2], sizeof hv[2], "ww-nonce: %s", h.nonce);
    snprintf(hv[3], sizeof hv[3], "ww-signature: %s", h.signature);
    if (c->debug_url)
        snprintf(url, sizeof url, "%s", c->debug_url);
    else
        snprintf(url, sizeof url, "%s/", p->replicas[c->replica].url);
    req.body = body;
    req.body_len = strlen(body);
    rc = zl_engine_http(c->emu->engine, &req, on_reply, c); /* it copies url, headers, body */
out:
    free(body);
    return rc;
}

/* The window: how many callbacks a replica has in flight at most. */
static unsigned window(const zl_emu *emu)
{
    return emu->opt.delivery_window > 0 ? (unsigned)emu->opt.delivery_window : 1u;
}

/* Sends the replica's waiting calls, oldest first, while its window has room. At shutdown
 * they are ended instead (every fn runs once). An app call that waited its whole timeout ends
 * with 710675 unsent. */
static void start_waiting(zl_emu *emu, zl_prog_rt *p, size_t replica)
{
    zl_replica *r = &p->replicas[replica];

    while (r->waiting && (emu->closing || (r->in_flight < window(emu) && !holds(p, r)))) {
        call *c = r->waiting;
        int64_t waited =
            c->wait_counts ? zl_clock_wall_ms(zl_engine_clock(emu->engine)) - c->queued_ms : 0;

        if (!(r->waiting = c->next))
            r->waiting_tail = NULL;
        r->n_waiting--;
        if (emu->closing)
            end_unsent(c, 710638, "%.100s: not sent, the emulator is shutting down", r->instance);
        else if (waited >= c->timeout_ms)
            end_unsent(c, 710675,
                       "%.100s: not sent: it waited %lld ms for one of the %u callbacks in flight "
                       "to end (delivery_window)",
                       r->instance, (long long)waited, window(emu));
        else if (send_call(c, c->timeout_ms - (long)waited) != 0)
            end_unsent(c, 710638, "%.100s: cannot start the call", r->instance);
        else
            r->in_flight++;
    }
}

int zl_emu_call_program(zl_emu *emu, zl_prog_rt *p, size_t replica, const zl_callback_args *a,
                        long timeout_ms, zl_call_fn fn, void *ud)
{
    zl_replica *r;
    call *c;

    if (replica >= p->replica_count || emu->closing || !(c = calloc(1, sizeof *c)))
        return -1;
    *c = (call){.emu = emu,
                .prog = p,
                .replica = replica,
                .timeout_ms = timeout_ms > 0 ? timeout_ms : 5000,
                .queued_ms = zl_clock_wall_ms(zl_engine_clock(emu->engine)),
                /* an app waits for its call, so the wait in line is part of its timeout; an
                 * event has nobody waiting, and its timeout starts when it is sent */
                .wait_counts = a->call_type != 2,
                .event = a->call_type == 2,
                .order = ++emu->calls_made,
                .fn = fn,
                .ud = ud};
    if (!(c->plain = encode_args(a))) {
        call_free(c);
        return -1;
    }
    r = &p->replicas[replica];
    /* a free slot: now, or -1 to the caller. While its replica is down, an event waits for
     * it to come back; an app call goes now, and is refused as without supervision. */
    if (r->in_flight < window(emu) && (holds(p, r) ? !c->event : !r->waiting)) {
        if (send_call(c, c->timeout_ms) != 0) {
            call_free(c);
            return -1;
        }
        r->in_flight++;
        return 0;
    }
    if (r->n_waiting >= (unsigned long)emu->opt.delivery_queue_max) {
        call_free(c);
        return ZL_CALL_QUEUE_FULL;
    }
    if (r->waiting_tail)
        r->waiting_tail->next = c;
    else
        r->waiting = c;
    r->waiting_tail = c;
    r->n_waiting++;
    return 0;
}

void zl_call_result_json(const zl_call_result *res, cJSON *j)
{
    cJSON_AddNumberToObject(j, "status", (double)res->status);
    cJSON_AddNumberToObject(j, "elapsed_ms", (double)res->elapsed_ms);
    cJSON_AddNumberToObject(j, "errcode", res->errcode);
    if (res->errcode)
        cJSON_AddStringToObject(j, "error", res->detail);
    if (res->debug_url)
        cJSON_AddStringToObject(j, "debug_url", res->debug_url);
    if (res->resends)
        cJSON_AddNumberToObject(j, "resends", res->resends);
}
