/* preload: the LD_PRELOAD library zonelab gives the replicas it starts, so that a bind() to TCP
 * port 8080, where WeCom's guide has a zone program listen, lands on 127.0.0.1:$ZONELAB_PORT;
 * and so that the replica's listen() on that port tells zonelab at once (ZONELAB_READY_FD). */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

/* glibc's value, which <dlfcn.h> shows only under _GNU_SOURCE; that macro would also turn
 * bind()'s address argument into a transparent union, which this file cannot define. */
#ifndef RTLD_NEXT
#define RTLD_NEXT ((void *)-1L)
#endif

/* "自行监听8080端口（IP使用0.0.0.0）" (doc 54006) */
#define GUIDE_PORT 8080

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

static _Atomic(bind_fn) next_bind;

/* ZONELAB_PORT, or 0 when it is absent or not a port. */
static unsigned replica_port(void)
{
    const char *s = getenv("ZONELAB_PORT");
    unsigned long v;
    char *end;

    if (!s || *s < '0' || *s > '9')
        return 0;
    v = strtoul(s, &end, 10);
    return *end || v == 0 || v > 65535 ? 0 : (unsigned)v;
}

/* One line on stderr, so the program's log says where it really listens. */
static void say(const char *from, const char *to, unsigned port)
{
    char line[256];
    int n = snprintf(line, sizeof line,
                     "zonelab: bind to %s:%d moved to %s:%u, this replica's ZONELAB_PORT\n", from,
                     GUIDE_PORT, to, port);

    if (n > 0 && (size_t)n < sizeof line) {
        ssize_t w = write(2, line, (size_t)n);

        (void)w;
    }
}

/* addr rewritten into *out when it is IPv4 port 8080: 127.0.0.1:port. */
static int move_v4(const struct sockaddr *addr, unsigned port, struct sockaddr_in *out)
{
    char was[INET_ADDRSTRLEN] = "?";

    memcpy(out, addr, sizeof *out);
    if (ntohs(out->sin_port) != GUIDE_PORT)
        return 0;
    inet_ntop(AF_INET, &out->sin_addr, was, sizeof was);
    out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    out->sin_port = htons((uint16_t)port);
    say(was, "127.0.0.1", port);
    return 1;
}

/* addr rewritten into *out when it is IPv6 port 8080: ::ffff:127.0.0.1 (IPv4's loopback, where
 * zonelab connects) on a dual-stack socket, ::1 on an IPV6_V6ONLY one, which cannot take IPv4:
 * a program that also binds 0.0.0.0:8080 then gets both, and one that binds only this socket
 * is not reachable (zonelab's message says so). */
static int move_v6(int fd, const struct sockaddr *addr, unsigned port, struct sockaddr_in6 *out)
{
    char was[INET6_ADDRSTRLEN + 2] = "?";
    int v6only = 0;
    socklen_t len = sizeof v6only;

    memcpy(out, addr, sizeof *out);
    if (ntohs(out->sin6_port) != GUIDE_PORT)
        return 0;
    was[0] = '[';
    if (inet_ntop(AF_INET6, &out->sin6_addr, was + 1, sizeof was - 2))
        strcat(was, "]");
    if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) != 0)
        v6only = 0;
    if (v6only) {
        out->sin6_addr = in6addr_loopback;
    } else {
        static const unsigned char mapped[16] = {0, 0, 0,    0,    0,   0, 0, 0,
                                                 0, 0, 0xff, 0xff, 127, 0, 0, 1};

        memcpy(out->sin6_addr.s6_addr, mapped, sizeof mapped);
    }
    out->sin6_port = htons((uint16_t)port);
    out->sin6_flowinfo = 0;
    out->sin6_scope_id = 0;
    say(was, v6only ? "[::1]" : "[::ffff:127.0.0.1]", port);
    return 1;
}

/* bind(2) as the program asked, except a TCP bind to port 8080 (any address) while
 * ZONELAB_PORT is set: that one binds the replica's loopback port instead. */
__attribute__((visibility("default"))) int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    bind_fn real = atomic_load(&next_bind);
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    unsigned port;
    int type = 0;
    socklen_t tlen = sizeof type;

    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "bind");

        if (!sym) {
            errno = ENOSYS;
            return -1;
        }
        memcpy(&real, &sym, sizeof real); /* POSIX: a dlsym result may be a function */
        atomic_store(&next_bind, real);
    }
    if (!addr || !(port = replica_port()) ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM)
        return real(fd, addr, len);
    if (len >= sizeof v4 && addr->sa_family == AF_INET && move_v4(addr, port, &v4))
        return real(fd, (const struct sockaddr *)&v4, sizeof v4);
    if (len >= sizeof v6 && addr->sa_family == AF_INET6 && move_v6(fd, addr, port, &v6))
        return real(fd, (const struct sockaddr *)&v6, sizeof v6);
    return real(fd, addr, len);
}

typedef int (*listen_fn)(int, int);

static _Atomic(listen_fn) next_listen;
static atomic_int ready_told;

/* The port fd's socket is bound to, or 0. */
static unsigned bound_port(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;

    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 0;
    if (a.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a)->sin_port);
    if (a.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a)->sin6_port);
    return 0;
}

/* ZONELAB_READY_FD is "fd:inode", one end of a socket pair zonelab reads: once the replica
 * listens on ZONELAB_PORT, one byte there saves zonelab probing the port until it answers.
 * The inode guards against a program that closed the descriptor and reused its number. */
static void tell_ready(int fd)
{
    const char *s = getenv("ZONELAB_READY_FD");
    unsigned long long ino;
    unsigned port = replica_port();
    struct stat st;
    int rfd;

    if (!s || !port || sscanf(s, "%d:%llu", &rfd, &ino) != 2 || rfd < 0 || bound_port(fd) != port)
        return;
    if (fstat(rfd, &st) != 0 || !S_ISSOCK(st.st_mode) || (unsigned long long)st.st_ino != ino)
        return;
    if (atomic_exchange(&ready_told, 1))
        return;
    /* MSG_NOSIGNAL: when zonelab no longer reads (it stopped waiting), EPIPE, not a SIGPIPE
     * that would end the program; zonelab then probes as before */
    if (send(rfd, "1", 1, MSG_NOSIGNAL) < 0) {
    }
    close(rfd);
}

/* listen(2) as the program asked; on success, tell_ready. */
__attribute__((visibility("default"))) int listen(int fd, int backlog)
{
    listen_fn real = atomic_load(&next_listen);
    int rc, e;

    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "listen");

        if (!sym) {
            errno = ENOSYS;
            return -1;
        }
        memcpy(&real, &sym, sizeof real);
        atomic_store(&next_listen, real);
    }
    rc = real(fd, backlog);
    if (rc == 0) {
        e = errno;
        tell_ready(fd);
        errno = e;
    }
    return rc;
}
