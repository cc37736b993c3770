/* libFuzzer target fuzz_answer: a program's answer to the engine's direct client
 * (core/engine_h1.c), as the bytes a program writes on its connection before it stops writing:
 * any status line, headers, lengths, chunks, interim answers, bytes after the answer. Each
 * input is one call on loopback to a listener of the target's own; the call must end (an
 * answer or a libcurl code) and the engine must stay usable for the next input. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TURNS 400 /* engine turns of 5 ms a call may take: 2 s, past its 1 s timeout */

static zl_engine *e;
static int lfd = -1;
static unsigned short port;

static void setup(void)
{
    zl_engine_config cfg = {.seed = 1};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    char err[256];

    if (!(e = zl_engine_new(&cfg, err, sizeof err)) ||
        (lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) != 0) {
        fprintf(stderr, "fuzz_answer: cannot set up the engine and a listener\n");
        abort();
    }
    port = ntohs(a.sin_port);
}

static void on_done(zl_engine *eng, const zl_http_result *res, void *ud)
{
    int *done = ud;

    (void)eng;
    /* what a caller reads must be whole: the body NUL-terminated, every header named */
    if (!res->body || res->body[res->body_len] != '\0')
        abort();
    for (size_t i = 0; i < res->n_headers; i++)
        if (!res->header_names[i] || !res->header_values[i])
            abort();
    if (res->curl_code != 0 && (!res->error || !*res->error))
        abort();
    *done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *hdr[] = {"Content-Type: text/plain"};
    char url[64];
    zl_http_request req = {.method = "POST",
                           .url = url,
                           .headers = hdr,
                           .n_headers = 1,
                           .body = "x",
                           .body_len = 1,
                           .timeout_ms = 1000,
                           .direct = 1};
    int done = 0, fd = -1, turns;

    if (!e)
        setup();
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
    if (zl_engine_http(e, &req, on_done, &done) != 0)
        abort();
    /* the engine connects (or reuses a kept connection that turns out closed, and connects
     * again) only when it turns: turn until the listener has the connection */
    for (turns = 0; fd < 0 && !done && turns < TURNS; turns++) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};

        if (poll(&p, 1, 0) == 1)
            fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        else
            zl_engine_turn(e, 5);
    }
    if (fd >= 0) {
        size_t off = 0;

        while (off < size) { /* the answer (a socket's buffer holds far more than an input) */
            ssize_t n = write(fd, data + off, size - off);

            if (n <= 0)
                break;
            off += (size_t)n;
        }
        shutdown(fd, SHUT_WR); /* and no more: an answer without an end ends here */
    }
    for (turns = 0; !done && turns < TURNS; turns++)
        zl_engine_turn(e, 5);
    if (!done)
        abort(); /* a call that never ends */
    if (fd >= 0)
        close(fd);
    for (turns = 0; turns < 3; turns++) /* the kept connection sees the close */
        zl_engine_turn(e, 0);
    return 0;
}
