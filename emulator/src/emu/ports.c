/* ports: where a replica listens. The preload that moves a bind() to port 8080 onto the
 * replica's ZONELAB_PORT, whose socket listens on a port (from /proc, Linux), and what to
 * tell the user when zonelab cannot reach a replica. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "emu/emu.h"

#ifndef ZL_PRELOAD_NAME /* set by emulator/CMakeLists.txt */
#define ZL_PRELOAD_NAME     "libzonelab_preload.so"
#define ZL_PRELOAD_FROM_BIN "../lib"
#define ZL_PRELOAD_BUILD    ""
#define ZL_PRELOAD_INSTALL  ""
#endif

#define MAX_INODES    256
#define MAX_LISTENERS 8 /* sockets listening on one port: 0.0.0.0, 127.0.0.1, ::, ... */

/* ---- the preload library ---- */

static pthread_once_t preload_once = PTHREAD_ONCE_INIT;
static char preload_path[PATH_MAX];
static char preload_why[PATH_MAX * 2 + 200];

/* A path LD_PRELOAD can carry (it splits at spaces and colons) to a file that exists. */
static int preload_usable(const char *path)
{
    return *path && !strpbrk(path, " :\t\n") && access(path, R_OK) == 0;
}

/* Looks next to this executable (the install layout, then the same folder), then in the build
 * tree and the install prefix it was configured with. */
static void preload_find(void)
{
    char exe[PATH_MAX], cand[4][PATH_MAX + 64], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    size_t i, k = 0;

    if (n > 0) {
        exe[n] = '\0';
        if ((slash = strrchr(exe, '/'))) {
            *slash = '\0';
            snprintf(cand[k++], sizeof cand[0], "%s/%s/%s", exe, ZL_PRELOAD_FROM_BIN,
                     ZL_PRELOAD_NAME);
            snprintf(cand[k++], sizeof cand[0], "%s/%s", exe, ZL_PRELOAD_NAME);
        }
    }
    snprintf(cand[k++], sizeof cand[0], "%s", ZL_PRELOAD_BUILD);
    snprintf(cand[k++], sizeof cand[0], "%s", ZL_PRELOAD_INSTALL);
    for (i = 0; i < k; i++)
        if (preload_usable(cand[i]) && realpath(cand[i], preload_path) &&
            preload_usable(preload_path))
            return;
    preload_path[0] = '\0';
    snprintf(preload_why, sizeof preload_why,
             "%s is not next to zonelab (%.1024s) nor in %.1024s; a path with a space or a colon "
             "does not work either",
             ZL_PRELOAD_NAME, k > 2 ? cand[0] : "?",
             *ZL_PRELOAD_INSTALL ? ZL_PRELOAD_INSTALL : "?");
}

const char *zl_emu_preload(const zl_emu *emu, const char **why)
{
    pthread_once(&preload_once, preload_find);
    if (why)
        *why = !emu->opt.redirect_8080 ? "it is off" : preload_path[0] ? "" : preload_why;
    return emu->opt.redirect_8080 && preload_path[0] ? preload_path : NULL;
}

/* Appends item to variable name, separated by sep. */
static void env_append(const char *name, const char *item, char sep)
{
    const char *old = getenv(name);
    size_t n;
    char *v;

    if (!old || !*old) {
        setenv(name, item, 1);
        return;
    }
    n = strlen(old) + strlen(item) + 2;
    if (!(v = malloc(n)))
        return;
    snprintf(v, n, "%s%c%s", old, sep, item);
    setenv(name, v, 1);
    free(v);
}

void zl_emu_preload_env(const char *path)
{
    /* after what is there already: a sanitizer runtime preloaded by the command's own wrapper
     * (tests/python/with_zonesdk.sh) must stay first */
    env_append("LD_PRELOAD", path, ':');
    env_append("ASAN_OPTIONS", "verify_asan_link_order=0", ':');
}

/* ---- what a process group listens on ---- */

/* The process group of pid (from /proc/<pid>/stat), or -1. */
static long pgrp_of(const char *pid)
{
    char path[300], buf[512], *p;
    FILE *f;
    size_t n;
    long pgrp = -1;
    char state;
    long ppid;

    snprintf(path, sizeof path, "/proc/%.200s/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses */
    if ((p = strrchr(buf, ')')) && sscanf(p + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3)
        pgrp = -1;
    return pgrp;
}

/* Adds the inodes of pid's sockets (its /proc/<pid>/fd links "socket:[N]") to inodes. */
static void socket_inodes(const char *pid, unsigned long *inodes, size_t *n)
{
    char path[600], link[64];
    struct dirent *e;
    DIR *d;

    snprintf(path, sizeof path, "/proc/%.200s/fd", pid);
    if (!(d = opendir(path)))
        return;
    while ((e = readdir(d)) && *n < MAX_INODES) {
        ssize_t len;
        unsigned long ino;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%.200s/fd/%.255s", pid, e->d_name);
        if ((len = readlink(path, link, sizeof link - 1)) <= 0)
            continue;
        link[len] = '\0';
        if (sscanf(link, "socket:[%lu]", &ino) == 1)
            inodes[(*n)++] = ino;
    }
    closedir(d);
}

/* The address of a /proc/net/tcp{,6} line's local_address hex (32-bit words as the kernel
 * holds them) as text: "0.0.0.0:8080", "[::1]:8080". */
static int addr_text(const char *hex, unsigned port, int v6, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    unsigned char bytes[16];
    size_t i, words = v6 ? 4 : 1;

    if (strlen(hex) != words * 8)
        return -1;
    for (i = 0; i < words; i++) {
        char w[9];
        uint32_t v;

        memcpy(w, hex + i * 8, 8);
        w[8] = '\0';
        v = (uint32_t)strtoul(w, NULL, 16);
        memcpy(bytes + i * 4, &v, 4);
    }
    if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, ip, sizeof ip))
        return -1;
    snprintf(out, cap, v6 ? "[%s]:%u" : "%s:%u", ip, port);
    return 0;
}

/* Adds the LISTEN sockets of table (/proc/<pid>/net/tcp or tcp6) whose inode is in inodes. */
static void listeners_in(const char *table, int v6, const unsigned long *inodes, size_t n_inodes,
                         zl_listen_addr *out, size_t max, size_t *n)
{
    char line[512], hex[40];
    FILE *f = fopen(table, "r");

    if (!f)
        return;
    while (*n < max && fgets(line, sizeof line, f)) {
        unsigned port, state;
        unsigned long ino;
        size_t i;

        /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
        if (sscanf(line,
                   " %*d: %39[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
                   hex, &port, &state, &ino) != 4 ||
            state != 0x0A) /* TCP_LISTEN */
            continue;
        for (i = 0; i < n_inodes && inodes[i] != ino; i++)
            ;
        if (i == n_inodes || addr_text(hex, port, v6, out[*n].text, sizeof out[*n].text) != 0)
            continue;
        out[*n].port = port;
        (*n)++;
    }
    fclose(f);
}

size_t zl_emu_listening(pid_t pgid, zl_listen_addr *out, size_t max)
{
    unsigned long inodes[MAX_INODES];
    size_t n_inodes = 0, n = 0;
    char table[64];
    struct dirent *e;
    DIR *d;

    if (pgid <= 0 || !(d = opendir("/proc")))
        return 0;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && pgrp_of(e->d_name) == (long)pgid)
            socket_inodes(e->d_name, inodes, &n_inodes);
    closedir(d);
    if (!n_inodes)
        return 0;
    /* the group's network namespace, which is zonelab's */
    snprintf(table, sizeof table, "/proc/%ld/net/tcp", (long)pgid);
    if (access(table, R_OK) != 0)
        snprintf(table, sizeof table, "/proc/self/net/tcp");
    listeners_in(table, 0, inodes, n_inodes, out, max, &n);
    strcat(table, "6");
    listeners_in(table, 1, inodes, n_inodes, out, max, &n);
    return n;
}

/* ---- whose socket listens on a port ---- */

/*
 * Appends the inodes of family's TCP sockets listening on port to inodes (*n of max), asked
 * of the kernel's sock_diag: it sends the listening sockets only, however many connections
 * the machine holds (/proc/net/tcp lists them all, and costs more the more there are).
 * 0, or -1 when netlink cannot be used.
 */
static int diag_listeners(int family, unsigned port, unsigned long *inodes, int *n, int max)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req = {.nlh = {.nlmsg_len = sizeof req,
                     .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                     .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
             .r = {.sdiag_family = (unsigned char)family,
                   .sdiag_protocol = IPPROTO_TCP,
                   .idiag_states = 1u << 10 /* TCP_LISTEN */}};
    struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
    long buf[8192 / sizeof(long)];
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), rc = -1;

    if (fd < 0)
        return -1;
    if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) != (ssize_t)sizeof req)
        goto out;
    for (;;) {
        int len = (int)recv(fd, buf, sizeof buf, 0);
        struct nlmsghdr *h = (struct nlmsghdr *)buf;

        if (len <= 0)
            goto out;
        /* NLMSG_OK, with its length compared unsigned */
        for (; len >= (int)sizeof *h && h->nlmsg_len >= sizeof *h && h->nlmsg_len <= (unsigned)len;
             h = NLMSG_NEXT(h, len)) {
            const struct inet_diag_msg *m = NLMSG_DATA(h);

            if (h->nlmsg_type == NLMSG_DONE) {
                rc = 0;
                goto out;
            }
            if (h->nlmsg_type == NLMSG_ERROR)
                goto out;
            if (ntohs(m->id.idiag_sport) == port && *n < max)
                inodes[(*n)++] = m->idiag_inode;
        }
    }
out:
    close(fd);
    return rc;
}

/* The inodes of the sockets listening on port (at most max): from sock_diag, else from
 * /proc/net/tcp and tcp6. -1 when neither can be read. */
static int listening_inodes(unsigned port, unsigned long *inodes, int max)
{
    static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    char line[512], vbuf[65536];
    int n = 0, readable = 0;
    size_t k;

    if (diag_listeners(AF_INET, port, inodes, &n, max) == 0 &&
        diag_listeners(AF_INET6, port, inodes, &n, max) == 0)
        return n;
    n = 0;
    for (k = 0; k < sizeof files / sizeof *files; k++) {
        FILE *f = fopen(files[k], "r");

        if (!f)
            continue;
        setvbuf(f, vbuf, _IOFBF, sizeof vbuf); /* few reads: each one walks the table anew */
        readable = 1;
        while (fgets(line, sizeof line, f)) {
            unsigned lport, st;
            unsigned long inode;

            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(
                    line,
                    " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
                    &lport, &st, &inode) == 3 &&
                lport == port && st == 0x0A /* TCP_LISTEN */ && n < max)
                inodes[n++] = inode;
        }
        fclose(f);
    }
    return readable ? n : -1;
}

/* Whether process pid has one of the socket inodes open. */
static int holds_socket(const char *pid, const unsigned long *inodes, int n)
{
    unsigned long mine[MAX_INODES];
    size_t n_mine = 0, i;
    int k;

    socket_inodes(pid, mine, &n_mine);
    for (i = 0; i < n_mine; i++)
        for (k = 0; k < n; k++)
            if (mine[i] == inodes[k])
                return 1;
    return 0;
}

int zl_emu_listener_owned(pid_t pgid, unsigned port)
{
    unsigned long inodes[MAX_LISTENERS];
    int n = listening_inodes(port, inodes, MAX_LISTENERS), rc = -1, pass;
    char leader[32];
    DIR *d;
    struct dirent *e;

    if (n <= 0)
        return -2; /* no listener in sight (another network namespace, a NAT rule, gone) */
    /* a socket of this process is not the replica's, though a replica forked and not yet
     * exec'd holds it too (a test squatting on the port, tests/integration/test_ports.c) */
    if (holds_socket("self", inodes, n))
        return 0;
    /* the group's leader is the replica itself unless it forked: found there, the walk over
     * every process of the machine (the most of a scenario file's readiness) is not needed */
    snprintf(leader, sizeof leader, "%ld", (long)pgid);
    if (pgrp_of(leader) == (long)pgid && holds_socket(leader, inodes, n))
        return 1;
    if (!(d = opendir("/proc")))
        return -1;
    /* the group's own processes first; the others' descriptors only when it holds none */
    for (pass = 0; pass < 2 && rc < 0; pass++) {
        rewinddir(d);
        while (rc < 0 && (e = readdir(d)))
            if (isdigit((unsigned char)e->d_name[0]) &&
                (pgrp_of(e->d_name) == (long)pgid) == !pass && holds_socket(e->d_name, inodes, n))
                rc = !pass;
    }
    closedir(d);
    return rc;
}

int zl_emu_port_taken(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, taken;

    if (fd < 0)
        return 0;
    /* as a program listening there would: TIME_WAIT leftovers do not count */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    a.sin_port = htons((uint16_t)port);
    taken = bind(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno == EADDRINUSE;
    close(fd);
    return taken;
}

/* ---- the message ---- */

/* What a program should do, given what zonelab does with port 8080 now. */
static void fix(const zl_emu *emu, char *out, size_t cap)
{
    const char *why;

    if (zl_emu_preload(emu, &why))
        snprintf(out, cap, "listen on $ZONELAB_PORT, or on 8080, which zonelab redirects to it");
    else if (!emu->opt.redirect_8080)
        snprintf(out, cap,
                 "listen on $ZONELAB_PORT (zonelab's redirection of port 8080 is off: "
                 "--redirect-8080 off or redirect_8080 = false)");
    else
        snprintf(out, cap, "listen on $ZONELAB_PORT (zonelab cannot redirect port 8080: %.300s)",
                 why);
}

/* Appends the last lines of r's log (emu->log_dir/<instance>.log, '/' as '_') to out. */
static void log_tail(const zl_emu *emu, const zl_replica *r, int lines, char *out, size_t cap)
{
    char path[700], buf[2048], *p;
    size_t k, len = strlen(out), n;
    FILE *f;
    long size;
    int seen = 0;

    snprintf(path, sizeof path, "%s/%s.log", emu->log_dir, r->instance);
    for (k = strlen(emu->log_dir) + 1; path[k]; k++)
        if (path[k] == '/')
            path[k] = '_';
    if (!(f = fopen(path, "r"))) {
        snprintf(out + len, cap - len, "; its log %s cannot be read: %s", path, strerror(errno));
        return;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > (long)sizeof buf - 1)
        fseek(f, size - (long)(sizeof buf - 1), SEEK_SET);
    else
        fseek(f, 0, SEEK_SET);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (!n) {
        snprintf(out + len, cap - len, "; its log %s is empty", path);
        return;
    }
    for (p = buf + n; p > buf && seen < lines; p--)
        if (p[-1] == '\n' && ++seen == lines)
            break;
    snprintf(out + len, cap - len, "; its last lines (%s):\n%s", path, p);
}

void zl_emu_replica_diagnose(zl_emu *emu, const zl_replica *r, int log_lines, char *out, size_t cap)
{
    zl_listen_addr ls[8];
    char todo[400], where[400] = "";
    size_t n, i, len = 0;
    bool at_8080 = false, at_port = false;

    fix(emu, todo, sizeof todo);
    if (r->pid > 0 && r->exited) {
        snprintf(out, cap,
                 "%s exited (%s %d) before it listened on 127.0.0.1:%u, its ZONELAB_PORT: %s",
                 r->instance, r->exit_code >= 128 ? "signal" : "exit code",
                 r->exit_code >= 128 ? r->exit_code - 128 : r->exit_code, r->port, todo);
        if (log_lines > 0 && emu->log_dir)
            log_tail(emu, r, log_lines, out, cap);
        else if (log_lines > 0)
            snprintf(out + strlen(out), cap - strlen(out), "; its output is above");
        return;
    }
    if (r->pid <= 0) {
        snprintf(out, cap, "nothing listens on 127.0.0.1:%u, the ZONELAB_PORT of %s: %s", r->port,
                 r->instance, todo);
        return;
    }
    n = zl_emu_listening(r->pid, ls, sizeof ls / sizeof ls[0]);
    for (i = 0; i < n && len < sizeof where; i++) {
        len += (size_t)snprintf(where + len, sizeof where - len, "%s%.63s",
                                i == 0       ? ""
                                : i + 1 == n ? " and "
                                             : ", ",
                                ls[i].text);
        at_8080 |= ls[i].port == 8080;
        at_port |= ls[i].port == r->port;
    }
    if (zl_emu_port_open(r->port) && r->pid > 0 && zl_emu_listener_owned(r->pid, r->port) == 0)
        snprintf(out, cap,
                 "%s cannot listen on 127.0.0.1:%u (its ZONELAB_PORT): another process holds "
                 "that port",
                 r->instance, r->port);
    else if (zl_emu_port_open(r->port))
        snprintf(out, cap,
                 "%s listens on 127.0.0.1:%u (its ZONELAB_PORT) only now, after zonelab stopped "
                 "waiting: it starts too slowly",
                 r->instance, r->port);
    else if (!n)
        snprintf(out, cap,
                 "%s listens on no TCP port, not on 127.0.0.1:%u (its ZONELAB_PORT); if it is "
                 "not still starting, %s",
                 r->instance, r->port, todo);
    else if (at_8080 && zl_emu_preload(emu, NULL))
        snprintf(out, cap,
                 "%s listens on %s, not on 127.0.0.1:%u (its ZONELAB_PORT): zonelab's "
                 "redirection of port 8080 did not reach it (a statically linked program, one "
                 "that makes its system calls itself as Go does, a setuid one, or one that "
                 "drops LD_PRELOAD; docs/emulator.md, \"Ports\"): listen on $ZONELAB_PORT",
                 r->instance, where, r->port);
    else if (at_port)
        snprintf(out, cap,
                 "%s listens on %s, not on 127.0.0.1:%u (its ZONELAB_PORT), where zonelab "
                 "connects: listen on 0.0.0.0, 127.0.0.1, or :: without IPV6_V6ONLY",
                 r->instance, where, r->port);
    else
        snprintf(out, cap, "%s listens on %s, not on 127.0.0.1:%u (its ZONELAB_PORT): %s",
                 r->instance, where, r->port, todo);
}

/* ---- whether a replica listens ---- */

int zl_emu_port_open(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, self;
    socklen_t len = sizeof self;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    if (fd < 0)
        return 0;
    a.sin_port = htons((uint16_t)port);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    /* Linux may give the probe the very port it connects to as its own, when nothing listens
     * there and the port is in the ephemeral range: TCP's simultaneous open then connects the
     * socket to itself. That is nobody listening (a replica that never listens was once taken
     * for ready after thousands of probes). */
    if (ok && getsockname(fd, (struct sockaddr *)&self, &len) == 0 && self.sin_port == a.sin_port)
        ok = 0;
    close(fd);
    return ok;
}

void zl_emu_replica_ready_close(zl_replica *r)
{
    if (r->ready_armed)
        close(r->ready_fd);
    r->ready_armed = false;
}

/* How long after a start the probes below run even though the preload has not spoken: a
 * program the preload does not reach (statically linked, Go) never writes. */
#define READY_WORD_MS 50

/* Journals that r listens now, and how zonelab learned it. */
static void journal_listening(zl_emu *emu, const zl_replica *r, const char *by)
{
    cJSON *d = cJSON_CreateObject();

    cJSON_AddStringToObject(d, "instance", r->instance);
    cJSON_AddNumberToObject(d, "pid", r->pid);
    cJSON_AddNumberToObject(d, "port", r->port);
    cJSON_AddStringToObject(d, "by", by);
    cJSON_AddNumberToObject(d, "after_ms", (double)(zl_clock_mono_ms() - r->spawned_mono_ms));
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "listening", d);
}

/* Reads the ready word of r: 1 when the byte came (the socket is then closed), 0 when none
 * yet, -1 when no writer is left (closed too: the probes tell). */
static int ready_word(zl_replica *r)
{
    char b;
    ssize_t n = read(r->ready_fd, &b, 1);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    zl_emu_replica_ready_close(r);
    return n == 1 ? 1 : -1;
}

int zl_emu_replica_listening(zl_emu *emu, zl_replica *r)
{
    const char *by = "probe";

    if (!r->listened && r->ready_armed) {
        int w = ready_word(r);

        if (w == 1) { /* its own listen() on ZONELAB_PORT said so: no probe needed */
            r->listened = 1;
            journal_listening(emu, r, "preload");
            return 1;
        }
        if (w == 0 && zl_clock_mono_ms() - r->spawned_mono_ms < READY_WORD_MS)
            return 0; /* not yet, and the probes cost more than this look */
    }
    /* only a listener known to be another process's is refused: when zonelab did not start
     * the replica, or /proc cannot tell (a container's proxy), whoever listens is taken; but
     * when no listener is in sight, the port must still answer (not a passing one's). Another's
     * is asked first: each probe of a listener that never accepts fills its queue, and a
     * connection to a full queue waits for the kernel's retries. */
    if (!r->listened && r->pid > 0) {
        int own = zl_emu_listener_owned(r->pid, r->port);

        if (own == 0 || !zl_emu_port_open(r->port) || (own == -2 && !zl_emu_port_open(r->port)))
            return 0;
    } else if (!zl_emu_port_open(r->port)) {
        return 0;
    }
    /* the probes saw the listen the preload reports just after it: its word, when it came
     * meanwhile, says so (a start past READY_WORD_MS under load) */
    if (!r->listened && r->ready_armed && ready_word(r) == 1)
        by = "preload";
    if (!r->listened && r->pid > 0)
        journal_listening(emu, r, by);
    zl_emu_replica_ready_close(r);
    r->listened = 1;
    return 1;
}
