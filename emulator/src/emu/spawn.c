/* spawn: starting a replica's process. Its command, as "exec" and words run without sh, or
 * through sh; its environment (the ZONELAB_* variables, the preload, the SDK fakes, the ready
 * word's socket); vfork and exec; its output to the log pipe or file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu/emu.h"

/* Calls set(name, value, ud) for each ZONELAB_* variable a replica r of p is given, base
 * being the emulator's URL: what spawning sets, and what zonelab serve prints for a replica
 * started by hand. */
static void replica_vars_each(const zl_prog_rt *p, const zl_replica *r, const char *base,
                              void (*set)(const char *name, const char *value, void *ud), void *ud)
{
    char buf[16];

    set("ZONELAB_URL", base, ud);
    set("ZONELAB_SECRET", p->secret_b64, ud);
    snprintf(buf, sizeof buf, "%u", p->secret_ver);
    set("ZONELAB_SECRET_VER", buf, ud);
    set("ZONELAB_INSTANCE", r->instance, ud);
    snprintf(buf, sizeof buf, "%u", r->port);
    set("ZONELAB_PORT", buf, ud);
    set("ZONELAB_CORPID", p->corp->corpid, ud);
    set("ZONELAB_PROGRAM_ID", p->prog->program_id, ud);
}

static void print_var(const char *name, const char *value, void *ud)
{
    fprintf(ud, "%s=%s\n", name, value);
}

static void set_var(const char *name, const char *value, void *ud)
{
    (void)ud;
    setenv(name, value, 1);
}

void zl_emu_replica_env(zl_emu *emu, const zl_prog_rt *p, size_t replica, const char *base_url,
                        FILE *out)
{
    replica_vars_each(p, &p->replicas[replica], base_url, print_var, out);
    if (zl_emu_preload(emu, NULL)) /* for a program that listens on 8080 (ports.c) */
        fprintf(out, "LD_PRELOAD=%s\n", zl_emu_preload(emu, NULL));
}

/* Appends n bytes of src to buf (cap) at *len; -1 when they do not fit with a NUL after. */
static int words_put(char *buf, size_t cap, size_t *len, const char *src, size_t n)
{
    if (n >= cap - *len)
        return -1;
    memcpy(buf + *len, src, n);
    *len += n;
    return 0;
}

int zl_emu_command_words(const char *cmd, char **argv, size_t max, char *buf, size_t cap)
{
    static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "_./:@%+,=-";
    const char *p = cmd;
    size_t argc = 0, len = 0;

    while (*p == ' ')
        p++;
    if (strncmp(p, "exec ", 5) != 0 || !cap || max < 2)
        return -1;
    for (p += 5;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (argc == max - 1)
            return -1;
        argv[argc++] = buf + len;
        while (*p && *p != ' ') {
            const char *end;

            if (*p == '\'') { /* '...': every byte as it is */
                if (!(end = strchr(p + 1, '\'')) ||
                    words_put(buf, cap, &len, p + 1, (size_t)(end - p - 1)) != 0)
                    return -1;
                p = end + 1;
            } else if (*p == '"') { /* "...": plain bytes and $NAME or ${NAME} */
                for (p++; *p != '"'; p++) {
                    if (!*p || *p == '\\' || *p == '`')
                        return -1;
                    if (*p == '$') {
                        char name[128];
                        const char *v;
                        size_t n = 0;
                        int braced = p[1] == '{';

                        for (p += 1 + braced;
                             (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                              (n && *p >= '0' && *p <= '9')) &&
                             n < sizeof name - 1;
                             p++)
                            name[n++] = *p;
                        name[n] = '\0';
                        if (!n || n == sizeof name - 1 || (braced && *p++ != '}'))
                            return -1; /* $1, $?, $(...), ${x:-y}, a name too long */
                        v = getenv(name);
                        if (v && words_put(buf, cap, &len, v, strlen(v)) != 0)
                            return -1;
                        p--;
                    } else if (words_put(buf, cap, &len, p, 1) != 0) {
                        return -1;
                    }
                }
                p++;
            } else if (strchr(plain, *p)) {
                if (words_put(buf, cap, &len, p++, 1) != 0)
                    return -1;
            } else {
                return -1; /* the shell's: $, globs, ~, redirections, ;, &, |, \, newlines */
            }
        }
        if (words_put(buf, cap, &len, "", 1) != 0) /* the word's NUL */
            return -1;
    }
    if (!argc || argv[0][0] == '-' || strchr(argv[0], '='))
        return -1;
    argv[argc] = NULL;
    return (int)argc;
}

/* The variables a replica's environment sets or changes, and this process's own values of
 * them while they are changed around a spawn. */
static const char *const replica_vars[] = {"ZONELAB_URL",
                                           "ZONELAB_SECRET",
                                           "ZONELAB_SECRET_VER",
                                           "ZONELAB_INSTANCE",
                                           "ZONELAB_PORT",
                                           "ZONELAB_CORPID",
                                           "ZONELAB_PROGRAM_ID",
                                           "ZONELAB_LOG_LEVEL",
                                           "LD_PRELOAD",
                                           "ASAN_OPTIONS",
                                           "PYTHONPATH",
                                           "ZONESDK_LIBRARY",
                                           "ZONELAB_JAVA_CLASSPATH",
                                           "ZONELAB_JAVA_LIBRARY_PATH",
                                           "ZONELAB_READY_FD"};
#define N_REPLICA_VARS (sizeof replica_vars / sizeof *replica_vars)

typedef struct saved_env {
    char *old[N_REPLICA_VARS]; /* NULL: it was not set */
} saved_env;

/* Sets r's environment in this process, keeping the values it replaces in sv. */
static void env_set(saved_env *sv, const char *base, const zl_prog_rt *p, const zl_replica *r,
                    const char *preload, int ready_w)
{
    char buf[48];
    struct stat st;
    size_t i;

    for (i = 0; i < N_REPLICA_VARS; i++) {
        const char *v = getenv(replica_vars[i]);

        sv->old[i] = v ? strdup(v) : NULL;
    }
    replica_vars_each(p, r, base, set_var, NULL);
    if (preload)
        zl_emu_preload_env(preload);
    if (ready_w >= 0 && fstat(ready_w, &st) == 0) { /* "fd:inode": the preload checks both */
        snprintf(buf, sizeof buf, "%d:%llu", ready_w, (unsigned long long)st.st_ino);
        setenv("ZONELAB_READY_FD", buf, 1);
    }
    zl_emu_fakes_env();
    setenv("ZONELAB_LOG_LEVEL", "3", 0); /* the SDK writes every line; set_log_level picks */
}

/* Puts back what env_set replaced. */
static void env_restore(saved_env *sv)
{
    size_t i;

    for (i = 0; i < N_REPLICA_VARS; i++) {
        if (sv->old[i])
            setenv(replica_vars[i], sv->old[i], 1);
        else
            unsetenv(replica_vars[i]);
        free(sv->old[i]);
    }
}

/* The vfork child: its own process group, SIGTERM when zonelab dies, its output to out (and
 * its errors too when both), or both to file; then the command, as words (argc > 0) or
 * through sh. System calls only: it runs on the parent's memory. */
static _Noreturn void exec_replica(char *const *argv, int argc, const char *cmd, int out, bool both,
                                   int file, int ready_w, const sigset_t *mask)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL}, sa;
    int sig, e;

    for (sig = 1; sig < NSIG; sig++) /* no handler of the parent's may run here */
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
            (sa.sa_handler != SIG_IGN || sig == SIGPIPE || sig == SIGINT || sig == SIGTERM))
            sigaction(sig, &dfl, NULL);
    setpgid(0, 0); /* its own group: stopping it reaches what the shell started */
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* no orphans if zonelab dies */
    if (ready_w >= 0)
        fcntl(ready_w, F_SETFD, 0); /* inherited across the exec, for the preload */
    if (out >= 0) {
        dup2(out, 1);
        if (both)
            dup2(out, 2); /* one pipe: the file keeps the order they were written in */
    } else if (file >= 0) {
        dup2(file, 1);
        dup2(file, 2);
    }
    pthread_sigmask(SIG_SETMASK, mask, NULL);
    if (argc > 0) { /* "exec" and words only (zonelab run's own command): as sh would */
        static const char pre[] = "zonelab: exec: ", mid[] = ": ", end[] = "\n";
        const char *why;

        execvp(argv[0], argv);
        e = errno;
        why = strerrordesc_np(e);
        if (write(2, pre, sizeof pre - 1) > 0 && write(2, argv[0], strnlen(argv[0], 400)) > 0 &&
            write(2, mid, sizeof mid - 1) > 0 &&
            write(2, why ? why : "?", why ? strlen(why) : 1) > 0)
            why = write(2, end, sizeof end - 1) > 0 ? NULL : why; /* else nowhere to say it */
        _exit(e == ENOENT ? 127 : 126);
    }
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
}

/* Starts r (a replica of p, or its developer's machine) with cmd and p's environment; its
 * output goes to emu->log_dir when set. A replica's goes through a pipe (emu/proglog.c). */
int zl_emu_spawn_at(zl_emu *emu, zl_prog_rt *p, zl_replica *r, const char *cmd, char *err,
                    size_t errlen)
{
    char base[64], log[700] = "", *argv[64], words[8192];
    const char *preload = zl_emu_preload(emu, NULL);
    zl_proglog *lp = NULL;
    int lfd = -1, argc, e, ready[2] = {-1, -1};
    saved_env saved;
    sigset_t all, mask;
    pid_t pid;

    zl_emu_fakes_find(); /* where the SDK fakes are, for the environment below */
    cJSON *d;

    if (!cmd) {
        snprintf(err, errlen, "no command to start %s", r->instance);
        return -1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%u", zl_engine_port(emu->engine));
    if (emu->log_dir) {
        size_t k, n;

        n = (size_t)snprintf(log, sizeof log, "%s/%s.log", emu->log_dir, r->instance);
        for (k = strlen(emu->log_dir) + 1; k < n && k < sizeof log; k++)
            if (log[k] == '/')
                log[k] = '_'; /* "zone-demo/0" -> "zone-demo_0" */
    }
    if (r != &p->dev) /* the developer's machine is outside the zone: its lines are not stored */
        lp = zl_proglog_new(p, r->instance, log[0] ? log : NULL, &lfd);
    if (!lp && log[0] && (lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
        lfd = -1;                  /* no log file: the output goes where zonelab's does */
    zl_emu_replica_ready_close(r); /* the previous process's */
    /* a socket pair, not a pipe: the preload sends with MSG_NOSIGNAL, so a program whose listen
     * comes after zonelab stopped reading gets EPIPE, never a SIGPIPE */
    if (preload && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, ready) != 0)
        ready[0] = ready[1] = -1; /* no word from the preload: the probes alone tell */
    env_set(&saved, base, p, r, preload, ready[1]);
    argc = zl_emu_command_words(cmd, argv, sizeof argv / sizeof *argv, words, sizeof words);
    fflush(NULL);
    /* vfork: the child borrows this process's memory until it execs, so nothing is copied (a
     * fork copied the page tables of the whole emulator, and every page either side wrote
     * next). It may only make system calls: what it needs is ready above, its environment
     * set in this process (and put back below). Signals stay blocked until it has no handler
     * of this process left that could run on the shared memory. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &mask);
    pid = vfork();
    if (pid == 0)
        exec_replica(argv, argc, cmd, lp ? lfd : -1, lp ? log[0] != 0 : true, lp ? -1 : lfd,
                     ready[1], &mask);
    e = errno;
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    env_restore(&saved);
    if (!lp && lfd >= 0)
        close(lfd);
    if (ready[1] >= 0)
        close(ready[1]);
    if (pid < 0) {
        if (ready[0] >= 0)
            close(ready[0]);
        snprintf(err, errlen, "cannot start %s: %s", r->instance, strerror(e));
        zl_proglog_free(emu, lp);
        return -1;
    }
    setpgid(pid, pid); /* also here: no window where a kill misses the group */
    zl_proglog_started(lp);
    if (lp) {
        zl_proglog_free(emu, r->log); /* the previous process's, with its last lines */
        r->log = lp;
    }
    r->pid = pid;
    r->exited = 0;
    r->expected_exit = 0;
    r->listened = 0;
    r->ready_armed = ready[0] >= 0;
    r->ready_fd = ready[0];
    r->spawned_mono_ms = zl_clock_mono_ms();
    r->restart_pending = false; /* down stays until it listens (zl_emu_reap) */
    r->started_ms = zl_emu_now_ms(emu);
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "instance", r->instance);
    cJSON_AddNumberToObject(d, "pid", pid);
    cJSON_AddNumberToObject(d, "port", r->port);
    cJSON_AddStringToObject(d, "command", cmd);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "spawn", d);
    return 0;
}
