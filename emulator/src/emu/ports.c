/* ports: whose is a loopback port: the listening socket's owner from /proc (Linux), and
 * whether another process holds a port a replica was told to listen on. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "emu/emu.h"

#define MAX_LISTENERS 8 /* sockets listening on one port: 0.0.0.0, 127.0.0.1, ::, ... */

/* The inodes of the sockets listening on port, from /proc/net/tcp and tcp6 (at most max).
 * -1 when neither file can be read. */
static int listening_inodes(unsigned port, unsigned long *inodes, int max)
{
    static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    char line[512];
    int n = 0, readable = 0;
    size_t k;

    for (k = 0; k < sizeof files / sizeof *files; k++) {
        FILE *f = fopen(files[k], "r");

        if (!f)
            continue;
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

/* The process group of process pid, or -1. */
static pid_t group_of(const char *pid)
{
    char path[64], buf[512], *close_paren;
    FILE *f;
    size_t len;
    int ppid, pgrp;
    char state;

    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses */
    if (!(close_paren = strrchr(buf, ')')) ||
        sscanf(close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
        return -1;
    return (pid_t)pgrp;
}

/* Whether process pid has one of the socket inodes open. */
static bool holds_socket(const char *pid, const unsigned long *inodes, int n)
{
    char path[64], link[64], want[40];
    DIR *d;
    struct dirent *e;
    bool found = false;
    int i;

    snprintf(path, sizeof path, "/proc/%s/fd", pid);
    if (!(d = opendir(path)))
        return false;
    while (!found && (e = readdir(d))) {
        ssize_t len;

        if (e->d_name[0] == '.' ||
            (len = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1)) <= 0)
            continue;
        link[len] = '\0';
        for (i = 0; i < n && !found; i++) {
            snprintf(want, sizeof want, "socket:[%lu]", inodes[i]);
            found = !strcmp(link, want);
        }
    }
    closedir(d);
    return found;
}

int zl_emu_listener_owned(pid_t pgid, unsigned port)
{
    unsigned long inodes[MAX_LISTENERS];
    int n = listening_inodes(port, inodes, MAX_LISTENERS), rc = -1, pass;
    DIR *d;
    struct dirent *e;

    if (n <= 0 || !(d = opendir("/proc")))
        return -1; /* no listener in sight (another network namespace, a NAT rule) */
    /* the group's own processes first; the others' descriptors only when it holds none */
    for (pass = 0; pass < 2 && rc < 0; pass++) {
        rewinddir(d);
        while (rc < 0 && (e = readdir(d)))
            if (isdigit((unsigned char)e->d_name[0]) && (group_of(e->d_name) == pgid) == !pass &&
                holds_socket(e->d_name, inodes, n))
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
