/* soak: zonelab serve with zone-demo replicas under faults (replicas SIGKILLed, the program's
 * SDK connections reset and delayed), events and archived messages pushed as a user would;
 * counts what the app never got (docs/benchmarks.md, "Soak"). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#ifndef ZONELAB_BIN
#error "ZONELAB_BIN must name the zonelab binary"
#endif
#ifndef ZONE_DEMO_BIN
#error "ZONE_DEMO_BIN must name the zone-demo binary"
#endif

#define CORPID       "wwzonelab0000001"
#define SECRET       "zonelab-demo-secret-1000002"
#define AGENTID      1000002
#define PROGRAM      "zone-demo"
#define MAX_CONNS    256   /* proxied connections at once */
#define PROXY_BUF    65536 /* bytes held per direction of a proxied connection */
#define LOOKUP_TRIES 2000  /* get_callback_data of one notify_id, every 100 ms at most */

extern char **environ;

/* ---- options ---- */

typedef struct opts {
    unsigned events, messages, replicas, in_flight, window, seed, kills;
    double kill_every_s, reset_rate, delay_rate, late_ms, settle_s;
    unsigned delay_ms;
    const char *restart; /* "emulator": the emulator restarts a killed replica; "shell" */
    bool keep, verbose;
} opts;

/* ---- small things ---- */

static double now_ms(void) /* wall clock */
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double mono_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* xorshift64*: the same --seed makes the same choices (the timing still varies). */
static double rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t collect(char *p, size_t s, size_t n, void *ud)
{
    buf *b = ud;
    char *np = realloc(b->p, b->n + s * n + 1);

    if (!np)
        return 0;
    memcpy(np + b->n, p, s * n);
    b->p = np;
    b->n += s * n;
    b->p[b->n] = '\0';
    return s * n;
}

/* A string-keyed map to an int (open addressing, grows at half full). */
typedef struct smap {
    char **keys;
    long *vals;
    size_t cap, n;
} smap;

static size_t smap_hash(const char *k)
{
    size_t h = 1469598103934665603ULL;

    while (*k)
        h = (h ^ (unsigned char)*k++) * 1099511628211ULL;
    return h;
}

/* The slot of k: its own, or the empty one where it would go. */
static size_t smap_slot(const smap *m, const char *k)
{
    size_t i = smap_hash(k) & (m->cap - 1);

    while (m->keys[i] && strcmp(m->keys[i], k) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

/* k's value, or -1 when absent. */
static long smap_get(const smap *m, const char *k)
{
    size_t i;

    if (!m->cap)
        return -1;
    i = smap_slot(m, k);
    return m->keys[i] ? m->vals[i] : -1;
}

/* Sets k to v (k copied). 0, or -1 out of memory. */
static int smap_put(smap *m, const char *k, long v)
{
    size_t i;

    if (2 * (m->n + 1) > m->cap) {
        smap g = {calloc(m->cap ? 2 * m->cap : 1024, sizeof(char *)),
                  calloc(m->cap ? 2 * m->cap : 1024, sizeof(long)), m->cap ? 2 * m->cap : 1024,
                  m->n};

        if (!g.keys || !g.vals) {
            free(g.keys);
            free(g.vals);
            return -1;
        }
        for (i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = smap_slot(&g, m->keys[i]);

                g.keys[j] = m->keys[i];
                g.vals[j] = m->vals[i];
            }
        free(m->keys);
        free(m->vals);
        *m = g;
    }
    i = smap_slot(m, k);
    if (!m->keys[i]) {
        if (!(m->keys[i] = strdup(k)))
            return -1;
        m->n++;
    }
    m->vals[i] = v;
    return 0;
}

static void smap_cleanup(smap *m)
{
    size_t i;

    for (i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
}

/* ---- the fault proxy: zone-demo's SDK reaches the emulator through it ---- */

typedef struct pconn {
    int fd[2];            /* 0: the program's side, 1: the emulator's */
    char b[2][PROXY_BUF]; /* b[d]: read from fd[d], to be written to fd[!d] */
    size_t n[2];
    double hold_until; /* b[0] (a request) waits until then: a delay */
} pconn;

typedef struct proxy {
    int lfd;
    unsigned port;
    atomic_uint upstream; /* the emulator's port, 0 until it listens */
    atomic_bool stop;
    atomic_ulong resets, delays, conns;
    double reset_rate, delay_rate;
    unsigned delay_ms;
    uint64_t rng;
    pconn *c[MAX_CONNS];
    pthread_t thread;
    bool started;
} proxy;

/* Closes both sides; with rst, as a connection reset (SO_LINGER 0). */
static void pconn_end(pconn *c, bool rst)
{
    struct linger l = {1, 0};
    int d;

    for (d = 0; d < 2; d++)
        if (c->fd[d] >= 0) {
            if (rst)
                setsockopt(c->fd[d], SOL_SOCKET, SO_LINGER, &l, sizeof l);
            close(c->fd[d]);
        }
    free(c);
}

static int connect_upstream(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void proxy_accept(proxy *p)
{
    int fd, up, k;
    pconn *c;

    while ((fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        unsigned port = atomic_load(&p->upstream);

        for (k = 0; k < MAX_CONNS && p->c[k]; k++)
            ;
        if (k == MAX_CONNS || !port || (up = connect_upstream(port)) < 0 ||
            !(c = calloc(1, sizeof *c))) {
            close(fd);
            continue;
        }
        c->fd[0] = fd;
        c->fd[1] = up;
        p->c[k] = c;
        atomic_fetch_add(&p->conns, 1);
    }
}

/* Moves what can move on c; 0, or -1 when c ended (and was freed). A chunk read from either
 * side is, at reset_rate / 2 each, a reset of both sides instead: before the emulator sees a
 * request, or after it answered and acted; a request waits delay_rate of the time. */
static int proxy_pump(proxy *p, pconn *c, const struct pollfd *pf)
{
    int d;

    for (d = 0; d < 2; d++) {
        if ((pf[d].revents & (POLLIN | POLLHUP | POLLERR)) && c->n[d] < PROXY_BUF) {
            ssize_t r = read(c->fd[d], c->b[d] + c->n[d], PROXY_BUF - c->n[d]);

            if (r <= 0) {
                pconn_end(c, false);
                return -1;
            }
            if (rnd(&p->rng) < p->reset_rate / 2) {
                atomic_fetch_add(&p->resets, 1);
                pconn_end(c, true);
                return -1;
            }
            if (d == 0 && rnd(&p->rng) < p->delay_rate) {
                atomic_fetch_add(&p->delays, 1);
                c->hold_until = mono_ms() + 1 + rnd(&p->rng) * p->delay_ms;
            }
            c->n[d] += (size_t)r;
        }
        if ((pf[!d].revents & POLLOUT) && c->n[d] && (d == 1 || mono_ms() >= c->hold_until)) {
            ssize_t w = write(c->fd[!d], c->b[d], c->n[d]);

            if (w < 0) {
                pconn_end(c, false);
                return -1;
            }
            memmove(c->b[d], c->b[d] + w, c->n[d] - (size_t)w);
            c->n[d] -= (size_t)w;
        }
    }
    return 0;
}

static void *proxy_run(void *ud)
{
    proxy *p = ud;
    struct pollfd pf[1 + 2 * MAX_CONNS];
    int map[MAX_CONNS], k, n;

    while (!atomic_load(&p->stop)) {
        double now = mono_ms(), wait = 50;

        pf[0] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
        for (n = 0, k = 0; k < MAX_CONNS; k++) {
            pconn *c = p->c[k];
            bool held;

            if (!c)
                continue;
            held = c->n[0] && now < c->hold_until;
            if (held && c->hold_until - now < wait)
                wait = c->hold_until - now;
            pf[1 + 2 * n] = (struct pollfd){
                .fd = c->fd[0],
                .events = (short)((c->n[0] < PROXY_BUF ? POLLIN : 0) | (c->n[1] ? POLLOUT : 0))};
            pf[2 + 2 * n] = (struct pollfd){.fd = c->fd[1],
                                            .events = (short)((c->n[1] < PROXY_BUF ? POLLIN : 0) |
                                                              (c->n[0] && !held ? POLLOUT : 0))};
            map[n++] = k;
        }
        if (poll(pf, (nfds_t)(1 + 2 * n), (int)wait + 1) < 0 && errno != EINTR)
            break;
        if (pf[0].revents & POLLIN)
            proxy_accept(p);
        for (k = 0; k < n; k++)
            if (proxy_pump(p, p->c[map[k]], &pf[1 + 2 * k]) != 0)
                p->c[map[k]] = NULL;
    }
    for (k = 0; k < MAX_CONNS; k++)
        if (p->c[k])
            pconn_end(p->c[k], false);
    return NULL;
}

/* Listens on a loopback port and starts the proxy's thread. 0, or -1. */
static int proxy_start(proxy *p)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(p->lfd, 128) != 0 || getsockname(p->lfd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    p->port = ntohs(a.sin_port);
    p->started = pthread_create(&p->thread, NULL, proxy_run, p) == 0;
    return p->started ? 0 : -1;
}

/* ---- the emulator ---- */

typedef struct serve {
    pid_t pid;
    unsigned port;
    char dir[64];
} serve;

/* Starts zonelab serve with the replicas of program (a shell command); 0 or -1. */
static int serve_start(serve *s, const opts *o, char *program)
{
    char line[512], errlog[128], reps[16], cap[32];
    char *argv[] = {ZONELAB_BIN,  "serve", "--port",        "0", "--program", program,
                    "--replicas", reps,    "--journal-cap", cap, NULL};
    posix_spawn_file_actions_t fa;
    int fds[2];
    FILE *f;

    snprintf(reps, sizeof reps, "%u", o->replicas);
    snprintf(cap, sizeof cap, "%u", 1000000u);
    snprintf(errlog, sizeof errlog, "%s/serve.err", s->dir);
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    errno = posix_spawn(&s->pid, ZONELAB_BIN, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (errno) {
        close(fds[0]);
        s->pid = 0;
        return -1;
    }
    f = fdopen(fds[0], "r");
    s->port = 0;
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "zonelab: listening on http://127.0.0.1:%u", &s->port);
        if (!strcmp(line, "zonelab: ready\n"))
            break;
    }
    if (f && fork() == 0) { /* drain the rest of its output */
        while (fgets(line, sizeof line, f))
            ;
        _exit(0);
    }
    if (f)
        fclose(f);
    return s->port ? 0 : -1;
}

/* One blocking request to the emulator; the reply as JSON (owned) or NULL. */
static cJSON *call(CURL *c, unsigned port, const char *path, const char *body)
{
    char url[512];
    buf b = {0};
    cJSON *j = NULL;
    struct curl_slist *json = curl_slist_append(NULL, "Content-Type: application/json");

    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, json);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(c) == CURLE_OK && b.p)
        j = cJSON_Parse(b.p);
    curl_slist_free_all(json);
    free(b.p);
    return j;
}

/* ---- the run ---- */

enum { R_EVENT, R_MESSAGE, R_LOOKUP, R_DIGEST };

/* One event the app should hear of: pushed (0..events-1) or fired by an archived message. */
typedef struct event {
    double sent_ms;  /* when it was pushed or its message archived (virtual ms) */
    double first_ms; /* the first program_notify for it at the app (virtual ms), 0: none */
    unsigned notes;  /* program_notify received for it */
    bool accepted;   /* the control face answered 200 */
    int errcode;     /* its delivery's, as the journal's event_result says; 0 before */
    unsigned resends, results;
    char error[160];
} event;

/* A notify_id the app received, and what get_callback_data said it is. */
typedef struct notice {
    char id[136];
    long event; /* -1 until get_callback_data named it */
    unsigned count, tries;
    double first_t; /* the first notification's t (virtual ms) */
    double not_before;
    bool queued;
} notice;

typedef struct req {
    struct req *next, *prev; /* the soak's requests in flight */
    CURL *h;
    int kind;
    long idx; /* R_EVENT: event; R_MESSAGE: message; R_LOOKUP: notice */
    double t0;
    char *body;
    buf out;
} req;

typedef struct soak {
    opts o;
    serve s;
    proxy px;
    CURL *c;  /* blocking calls */
    CURLM *m; /* pushes, lookups and digests in flight */
    struct curl_slist *json;
    char token[128];
    event *ev; /* events, then one per message */
    unsigned *msg_seen;
    unsigned long msg_pages_again;
    notice *no;
    size_t no_n, no_cap;
    long *queue; /* notices waiting for get_callback_data */
    size_t q_head, q_n, q_cap;
    smap tokens;        /* conversation_new_message token -> event index */
    smap notices;       /* notify_id -> notice index */
    smap deliveries;    /* the journal's "event" seq -> event index */
    FILE *journal_file; /* with --keep, every journal entry read, one a line */
    unsigned pushes_in_flight, lookups_in_flight;
    bool digest_in_flight;
    double inbox_since, journal_since;
    unsigned long journal_gap, notes_total, unknown_events, delivered;
    unsigned kills, spawns, digests_ok, digests_failed, last_archive_digest_ok;
    unsigned long digest_total;
    unsigned long deliver_fail[4]; /* event_result: 710674, 710675, 710638, other */
    req *flying;                   /* every request in k->m */
    double last_progress;
    unsigned long progress;
    double clock_offset;  /* the emulator's virtual clock minus this wall clock, ms */
    long *order;          /* the events in the order they were sent */
    unsigned long oldest; /* order[oldest]: the oldest sent event still waiting */
    uint64_t rng;
} soak;

static void add_request(soak *k, int kind, long idx, const char *path, char *body)
{
    CURL *h = curl_easy_init();
    req *r = calloc(1, sizeof *r);
    char url[512];

    if (!h || !r) {
        curl_easy_cleanup(h);
        free(r);
        free(body);
        return;
    }
    r->h = h;
    r->kind = kind;
    r->idx = idx;
    if ((r->next = k->flying))
        r->next->prev = r;
    k->flying = r;
    r->t0 = now_ms();
    r->body = body;
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", k->s.port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, k->json);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->out);
    curl_easy_setopt(h, CURLOPT_PRIVATE, (char *)r);
    curl_multi_add_handle(k->m, h);
}

static char *printed(cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);

    cJSON_Delete(j);
    return s;
}

/* Pushed event i: one of the types zone-demo stores and notifies but does not act on, with the
 * soak's id in a string field of the type (get_callback_data's output protocol allows no other
 * field, and zone-demo gives the stored event back verbatim). */
static void push_event(soak *k, long i)
{
    static const char *const types[][3] = {
        {"chat_archive_audit_approved_single", "chat_archive_audit_approved", "external_userid"},
        {"chat_archive_audit_approved_room", "chat_archive_audit_approved", "external_userid"},
        {"knowledge_base_learn_done", "knowledge_base_learn_done", "knowledge_base_id"},
        {"auth_knowledge_base", "auth_knowledge_base", "knowledge_base_id"},
        {"chat_archive_export_finished", "chat_archive_export_finished", "jobid"}};
    cJSON *b = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(b, "event"), *o;
    char id[32];
    const char *const *t = types[i % 5];

    snprintf(id, sizeof id, "soak_ev_%ld", i);
    cJSON_AddStringToObject(e, "event_type", t[0]);
    cJSON_AddNumberToObject(e, "timestamp", floor((now_ms() + k->clock_offset) / 1000));
    o = cJSON_AddObjectToObject(e, t[1]);
    cJSON_AddStringToObject(o, t[2], id);
    if (i % 5 == 0)
        cJSON_AddStringToObject(o, "userid", "zhangsan");
    else if (i % 5 == 1)
        cJSON_AddStringToObject(o, "chatid", "wr_customer_01");
    else if (i % 5 == 2) {
        cJSON_AddStringToObject(o, "knowledge_base_name", "soak");
        cJSON_AddNumberToObject(o, "doc_id", (double)i);
        cJSON_AddNumberToObject(o, "learn_status", 0);
    } else if (i % 5 == 3)
        cJSON_AddStringToObject(o, "knowledge_base_name", "soak");
    cJSON_AddNumberToObject(b, "agentid", AGENTID); /* to the program the app chose */
    k->ev[i].sent_ms = now_ms() + k->clock_offset;
    add_request(k, R_EVENT, i, "/_zonelab/events", printed(b));
    k->pushes_in_flight++;
}

/* Archives message j (one 1:1 text): WeCom fires conversation_new_message for it. */
static void push_message(soak *k, long j)
{
    char *body = malloc(512);

    if (!body)
        return;
    snprintf(body, 512,
             "{\"corpid\":\"" CORPID "\",\"messages\":[{\"msgid\":\"soak_msg_%ld\",\"msgtype\":1,"
             "\"sender\":{\"type\":1,\"id\":\"zhangsan\"},\"receivers\":[{\"type\":1,"
             "\"id\":\"lisi\"}],\"content\":{\"content\":\"soak message %ld\"}}]}",
             j, j);
    k->ev[k->o.events + j].sent_ms = now_ms() + k->clock_offset;
    add_request(k, R_MESSAGE, j, "/_zonelab/messages", body);
    k->pushes_in_flight++;
}

/* The app asks the program: get_callback_data for a notice, or the digest. */
static void app_call(soak *k, int kind, long idx, const char *ability, const char *notify_id)
{
    cJSON *b = cJSON_CreateObject();
    char path[256];

    cJSON_AddStringToObject(b, "program_id", PROGRAM);
    cJSON_AddStringToObject(b, "ability_id", ability);
    cJSON_AddStringToObject(b, "request_data", "{}");
    if (notify_id)
        cJSON_AddStringToObject(b, "notify_id", notify_id);
    snprintf(path, sizeof path, "/cgi-bin/chatdata/sync_call_program?access_token=%s", k->token);
    add_request(k, kind, idx, path, printed(b));
}

static void enqueue(soak *k, long n)
{
    if (k->no[n].queued)
        return;
    if (k->q_n == k->q_cap) {
        size_t cap = k->q_cap ? 2 * k->q_cap : 1024, i;
        long *q = malloc(cap * sizeof *q);

        if (!q)
            return;
        for (i = 0; i < k->q_n; i++)
            q[i] = k->queue[(k->q_head + i) % k->q_cap];
        free(k->queue);
        k->queue = q;
        k->q_cap = cap;
        k->q_head = 0;
    }
    k->queue[(k->q_head + k->q_n++) % k->q_cap] = n;
    k->no[n].queued = true;
}

static void progress(soak *k)
{
    k->progress++;
    k->last_progress = mono_ms();
}

/* A notification of notice n at virtual time t, for event e (known). */
static void count_note(soak *k, long e, double t, unsigned count)
{
    event *v = &k->ev[e];

    if (!v->notes || t < v->first_ms)
        v->first_ms = t;
    k->delivered += !v->notes;
    v->notes += count;
}

/* The program's stored event, as get_callback_data answered it: which of ours it is. */
static long event_of(soak *k, const char *text)
{
    cJSON *j = cJSON_Parse(text);
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "conversation_new_message"), "token");
    const char *id = strstr(text, "\"soak_ev_");
    long e = -1, i;

    if (id && sscanf(id, "\"soak_ev_%ld\"", &i) == 1 && i >= 0 && i < (long)k->o.events)
        e = i;
    else if (cJSON_IsString(tok))
        e = smap_get(&k->tokens, tok->valuestring);
    cJSON_Delete(j);
    return e;
}

static void on_done(soak *k, req *r, long code, bool ok)
{
    cJSON *j = ok && code == 200 && r->out.p ? cJSON_Parse(r->out.p) : NULL;
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(j, "errcode"), *it;

    switch (r->kind) {
    case R_EVENT:
        k->pushes_in_flight--;
        k->ev[r->idx].accepted = j && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok"));
        break;
    case R_MESSAGE:
        k->pushes_in_flight--;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "events"))
        {
            const cJSON *tok = cJSON_GetObjectItemCaseSensitive(it, "token");
            long e = (long)k->o.events + r->idx;

            if (!cJSON_IsString(tok))
                continue;
            k->ev[e].accepted = true;
            smap_put(&k->tokens, tok->valuestring, e);
        }
        break;
    case R_LOOKUP: {
        notice *n = &k->no[r->idx];
        const cJSON *rd = cJSON_GetObjectItemCaseSensitive(j, "response_data");
        long e = cJSON_IsNumber(ec) && ec->valueint == 0 && cJSON_IsString(rd)
                     ? event_of(k, rd->valuestring)
                     : -1;

        k->lookups_in_flight--;
        if (e >= 0) {
            n->event = e;
            count_note(k, e, n->first_t, n->count);
            progress(k);
        } else if (cJSON_IsNumber(ec) && ec->valueint == 0 && cJSON_IsString(rd) &&
                   !strstr(rd->valuestring, "\"errcode\"")) {
            n->event = -2; /* an event the soak did not send */
            k->unknown_events++;
        } else {
            if (!n->tries && k->o.verbose)
                fprintf(stderr, "soak: get_callback_data %s: HTTP %ld %s (tried again)\n", n->id,
                        code, r->out.p ? r->out.p : "");
            if (++n->tries >= LOOKUP_TRIES)
                break;
            n->not_before = mono_ms() + 100;
            enqueue(k, r->idx);
        }
        break;
    }
    case R_DIGEST: {
        const cJSON *rd = cJSON_GetObjectItemCaseSensitive(j, "response_data");
        cJSON *d = cJSON_IsString(rd) ? cJSON_Parse(rd->valuestring) : NULL;
        const cJSON *dec = cJSON_GetObjectItemCaseSensitive(d, "errcode");
        const cJSON *tot = cJSON_GetObjectItemCaseSensitive(d, "total");

        k->digest_in_flight = false;
        if (cJSON_IsNumber(ec) && ec->valueint == 0 && cJSON_IsNumber(dec) && dec->valueint == 0 &&
            cJSON_IsNumber(tot)) {
            k->digests_ok++;
            k->digest_total += (unsigned long)tot->valuedouble;
            if (r->idx)
                k->last_archive_digest_ok = 1;
        } else {
            k->digests_failed++;
        }
        cJSON_Delete(d);
        break;
    }
    }
    cJSON_Delete(j);
}

/* Takes r out of the transfers and frees it. */
static void req_end(soak *k, req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        k->flying = r->next;
    if (r->next)
        r->next->prev = r->prev;
    curl_multi_remove_handle(k->m, r->h);
    curl_easy_cleanup(r->h);
    free(r->body);
    free(r->out.p);
    free(r);
}

/* Runs the transfers in flight for up to wait_ms. */
static void turn(soak *k, int wait_ms)
{
    int running, left;
    CURLMsg *msg;

    curl_multi_perform(k->m, &running);
    while ((msg = curl_multi_info_read(k->m, &left))) {
        CURL *h = msg->easy_handle;
        char *priv = NULL;
        long code = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        on_done(k, (req *)priv, code, msg->data.result == CURLE_OK);
        req_end(k, (req *)priv);
    }
    if (wait_ms > 0)
        curl_multi_poll(k->m, NULL, 0, wait_ms, NULL);
}

/* New notifications in the fake app's inbox: each notify_id is looked up once. */
static void read_inbox(soak *k)
{
    char path[128];
    cJSON *j, *it;
    const cJSON *last, *first;

    snprintf(path, sizeof path, "/_zonelab/app/notifications?since=%.0f", k->inbox_since);
    if (!(j = call(k->c, k->s.port, path, NULL)))
        return;
    first = cJSON_GetObjectItemCaseSensitive(j, "first");
    if (cJSON_IsNumber(first) && first->valuedouble > k->inbox_since + 1 && k->inbox_since > 0)
        fprintf(stderr, "soak: the inbox dropped %.0f notifications before they were read\n",
                first->valuedouble - k->inbox_since - 1);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "notifications"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "notify_id");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "t");
        long n;

        if (!cJSON_IsString(id) || strlen(id->valuestring) >= sizeof k->no[0].id)
            continue;
        k->notes_total++;
        progress(k);
        if ((n = smap_get(&k->notices, id->valuestring)) >= 0) {
            notice *o = &k->no[n];

            if (o->event >= 0)
                count_note(k, o->event, cJSON_IsNumber(t) ? t->valuedouble : 0, 1);
            else
                o->count++;
            continue;
        }
        if (k->no_n == k->no_cap) {
            size_t cap = k->no_cap ? 2 * k->no_cap : 1024;
            notice *g = realloc(k->no, cap * sizeof *g);

            if (!g)
                break;
            k->no = g;
            k->no_cap = cap;
        }
        n = (long)k->no_n++;
        k->no[n] =
            (notice){.event = -1, .count = 1, .first_t = cJSON_IsNumber(t) ? t->valuedouble : 0};
        snprintf(k->no[n].id, sizeof k->no[n].id, "%s", id->valuestring);
        smap_put(&k->notices, id->valuestring, n);
        enqueue(k, n);
    }
    if (cJSON_IsNumber(last = cJSON_GetObjectItemCaseSensitive(j, "last")))
        k->inbox_since = last->valuedouble;
    cJSON_Delete(j);
}

/* New journal entries: the messages each sync_msg reply gave the program, the failed
 * deliveries and the replicas started. */
static void read_journal(soak *k)
{
    char path[128], key[32];
    cJSON *j, *it;
    const cJSON *last;
    bool first = true;

    snprintf(path, sizeof path, "/_zonelab/journal?since=%.0f&limit=20000", k->journal_since);
    if (!(j = call(k->c, k->s.port, path, NULL)))
        return;
    if (k->o.keep && !k->journal_file) {
        snprintf(path, sizeof path, "%s/journal.jsonl", k->s.dir);
        k->journal_file = fopen(path, "w");
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "entries"))
    {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "kind"));
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(it, "seq");
        const cJSON *m, *ec = cJSON_GetObjectItemCaseSensitive(it, "errcode");

        if (k->journal_file) {
            char *text = cJSON_PrintUnformatted(it);

            if (text)
                fprintf(k->journal_file, "%s\n", text);
            cJSON_free(text);
        }
        if (first && cJSON_IsNumber(seq) && seq->valuedouble > k->journal_since + 1)
            k->journal_gap += (unsigned long)(seq->valuedouble - k->journal_since - 1);
        first = false;
        if (!kind)
            continue;
        if (!strcmp(kind, "spawn")) {
            k->spawns++;
        } else if (!strcmp(kind, "event") && cJSON_IsNumber(seq)) {
            char *text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(it, "event"));
            long e = text ? event_of(k, text) : -1;

            if (e >= 0) {
                snprintf(key, sizeof key, "%.0f", seq->valuedouble);
                smap_put(&k->deliveries, key, e);
            }
            cJSON_free(text);
        } else if (!strcmp(kind, "event_result")) {
            const cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "event_seq");
            const cJSON *rs = cJSON_GetObjectItemCaseSensitive(it, "resends");
            const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "error"));
            long e = -1;

            if (cJSON_IsNumber(of)) {
                snprintf(key, sizeof key, "%.0f", of->valuedouble);
                e = smap_get(&k->deliveries, key);
            }
            if (e >= 0) {
                event *v = &k->ev[e];

                v->results++;
                v->errcode = cJSON_IsNumber(ec) ? ec->valueint : -1;
                v->resends = cJSON_IsNumber(rs) ? (unsigned)rs->valuedouble : 0;
                snprintf(v->error, sizeof v->error, "%s", why ? why : "");
            }
            if (cJSON_IsNumber(ec) && ec->valueint != 0)
                k->deliver_fail[ec->valueint == 710674   ? 0
                                : ec->valueint == 710675 ? 1
                                : ec->valueint == 710638 ? 2
                                                         : 3]++;
        } else if (!strcmp(kind, "invoke")) {
            const char *api = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "api"));

            if (!api || strcmp(api, "sync_msg") != 0)
                continue;
            cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(
                                      cJSON_GetObjectItemCaseSensitive(it, "response"), "msg_list"))
            {
                long i;
                const char *id = cJSON_GetStringValue(m);

                if (id && sscanf(id, "soak_msg_%ld", &i) == 1 && i >= 0 &&
                    i < (long)k->o.messages) {
                    k->msg_pages_again += k->msg_seen[i] > 0;
                    k->msg_seen[i]++;
                    progress(k);
                }
            }
        }
    }
    if (cJSON_IsNumber(last = cJSON_GetObjectItemCaseSensitive(j, "last")))
        k->journal_since = last->valuedouble;
    cJSON_Delete(j);
}

/* The pid to SIGKILL for replica r: the replica's process, or with --restart shell the
 * zone-demo its shell loop started. 0 when there is none now. */
static pid_t victim(soak *k, unsigned r)
{
    cJSON *j = call(k->c, k->s.port, "/_zonelab/state", NULL), *p, *rep;
    pid_t pid = 0;

    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "programs"))
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "program_id"));

        if (!id || strcmp(id, PROGRAM) != 0)
            continue;
        rep = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "replicas"), (int)r);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "running")))
            pid = (pid_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rep, "pid"));
    }
    cJSON_Delete(j);
    if (pid > 0 && !strcmp(k->o.restart, "shell")) {
        char path[64];
        FILE *f;
        int child = 0;

        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%d", &child) != 1)
                child = 0;
            fclose(f);
        }
        pid = child;
    }
    return pid;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Prints the counts; 0 when nothing was lost or missing (and the kills asked for were made),
 * else 1. */
static int report(soak *k, double elapsed_s, bool final_digest)
{
    unsigned long total = k->o.events + k->o.messages, accepted = 0, lost = 0, dup = 0,
                  dup_events = 0, late = 0, missing = 0, seen = 0, i;
    double *lat = malloc((total + 1) * sizeof *lat), offset;
    size_t nl = 0;
    unsigned shown = 0;
    bool short_kills = k->o.kills && k->o.kill_every_s <= 0 && k->kills < k->o.kills;

    for (i = 0; i < total; i++) {
        event *v = &k->ev[i];

        if (!v->accepted)
            continue;
        accepted++;
        if (!v->notes) {
            lost++;
            if (shown++ < 10)
                printf("  lost: %s%lu: %s%u delivery result(s), the last errcode %d%s%s, resent "
                       "%u time(s)\n",
                       i < k->o.events ? "event soak_ev_" : "the event of message soak_msg_",
                       i < k->o.events ? i : i - k->o.events, v->results ? "" : "the journal has ",
                       v->results, v->errcode, v->error[0] ? ": " : "", v->error, v->resends);
            continue;
        }
        dup += v->notes - 1;
        dup_events += v->notes > 1;
        offset = v->first_ms - v->sent_ms;
        if (lat)
            lat[nl++] = offset < 0 ? 0 : offset;
        late += offset > k->o.late_ms;
    }
    for (i = 0; i < k->o.messages; i++)
        if (k->msg_seen[i])
            seen++;
        else
            missing++;
    printf("faults: %u kills, %u replica starts after the first, %lu resets, %lu delays "
           "(%lu SDK connections proxied)\n",
           k->kills, k->spawns > k->o.replicas ? k->spawns - k->o.replicas : 0,
           atomic_load(&k->px.resets), atomic_load(&k->px.delays), atomic_load(&k->px.conns));
    printf("events: %lu sent (%u pushed + %u from archived messages), %lu accepted; "
           "%lu notifications for %lu notify ids\n",
           total, k->o.events, k->o.messages, accepted, k->notes_total, (unsigned long)k->no_n);
    printf("  lost %lu, duplicated %lu (notifications beyond an event's first, on %lu events)\n",
           lost, dup, dup_events);
    if (nl && lat) {
        qsort(lat, nl, sizeof *lat, cmp_double);
        printf("  latency, sent -> program_notify at the app: p50 %.0f ms, p99 %.0f ms, max %.0f "
               "ms; late (over %.0f ms) %lu\n",
               lat[(nl - 1) / 2], lat[(size_t)((double)(nl - 1) * 0.99)], lat[nl - 1], k->o.late_ms,
               late);
    }
    printf("messages: %u archived, %lu paged through with sync_msg, missing %lu, paged again "
           "%lu; digests %u ok (%lu messages), %u failed; final digest %s\n",
           k->o.messages, seen, missing, k->msg_pages_again, k->digests_ok, k->digest_total,
           k->digests_failed, final_digest ? "ok" : "NOT ok");
    printf("deliveries the emulator journaled as failed: 710674 %lu, 710675 %lu, 710638 %lu, "
           "other %lu; notify ids not resolved %lu, events not ours %lu; journal entries "
           "unread %lu\n",
           k->deliver_fail[0], k->deliver_fail[1], k->deliver_fail[2], k->deliver_fail[3],
           (unsigned long)k->q_n, k->unknown_events, k->journal_gap);
    if (short_kills)
        printf("kills: %u of the %u asked for (a replica was not running when its turn came)\n",
               k->kills, k->o.kills);
    printf("result: %s (%lu lost, %lu missing) in %.1f s\n",
           lost || missing || !final_digest || short_kills ? "FAIL" : "PASS", lost, missing,
           elapsed_s);
    fflush(stdout); /* before the folder's removal, which can take a while */
    free(lat);
    return lost || missing || !final_digest || short_kills ? 1 : 0;
}

/* Whether every accepted event was notified and every message paged through. */
static bool all_in(const soak *k)
{
    unsigned long i;

    for (i = 0; i < (unsigned long)k->o.events + k->o.messages; i++)
        if (k->ev[i].accepted && !k->ev[i].notes)
            return false;
    for (i = 0; i < k->o.messages; i++)
        if (!k->msg_seen[i])
            return false;
    return true;
}

static int run(soak *k)
{
    opts *o = &k->o;
    char program[1024], path[256];
    cJSON *j;
    const cJSON *tok;
    unsigned long ops = (unsigned long)o->events + o->messages, done = 0, ev_i = 0, msg_i = 0;
    double t0, next_kill, next_report, next_poll = 0, next_journal = 0, next_digest = 0,
                                       pushed_at = 0;
    bool pushing = true, final_ok = false;
    int rc = 1;

    if (proxy_start(&k->px) != 0) {
        fprintf(stderr, "soak: cannot start the fault proxy: %s\n", strerror(errno));
        return 1;
    }
    /* zone-demo's SDK calls go through the proxy; the emulator calls zone-demo directly */
    snprintf(program, sizeof program,
             "export ZONELAB_URL=http://127.0.0.1:%u ZONELAB_INVOKE_TIMEOUT_MS=5000; %s'%s' "
             "--data-dir '%s/data' --retention 3600 --cleanup-every 1 2>>'%s/zone-demo.err'%s",
             k->px.port, !strcmp(o->restart, "shell") ? "while :; do " : "exec ", ZONE_DEMO_BIN,
             k->s.dir, k->s.dir, !strcmp(o->restart, "shell") ? "; done" : "");
    if (serve_start(&k->s, o, program) != 0) {
        fprintf(stderr, "soak: cannot start zonelab serve (its log: %s/serve.err)\n", k->s.dir);
        k->o.keep = true;
        return 1;
    }
    atomic_store(&k->px.upstream, k->s.port);
    j = call(k->c, k->s.port, "/cgi-bin/gettoken?corpid=" CORPID "&corpsecret=" SECRET, NULL);
    tok = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    if (!cJSON_IsString(tok) || strlen(tok->valuestring) >= sizeof k->token) {
        fprintf(stderr, "soak: gettoken failed\n");
        cJSON_Delete(j);
        return 1;
    }
    snprintf(k->token, sizeof k->token, "%s", tok->valuestring);
    cJSON_Delete(j);
    /* the virtual clock runs with the wall clock from its clock_start; the soak never moves it */
    j = call(k->c, k->s.port, "/_zonelab/state", NULL);
    k->clock_offset = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                          cJSON_GetObjectItemCaseSensitive(j, "clock"), "now_ms")) -
                      now_ms();
    cJSON_Delete(j);
    if (isnan(k->clock_offset)) {
        fprintf(stderr, "soak: /_zonelab/state has no clock\n");
        return 1;
    }
    snprintf(path, sizeof path, "/cgi-bin/chatdata/set_receive_callback?access_token=%s", k->token);
    cJSON_Delete(call(k->c, k->s.port, path, "{\"program_id\":\"" PROGRAM "\"}"));
    read_journal(k);

    printf("soak: %u replicas, %u events + %u archived messages, ", o->replicas, o->events,
           o->messages);
    if (o->kill_every_s > 0)
        printf("a kill every %g s%s", o->kill_every_s, o->kills ? "" : " while pushing");
    if (o->kills)
        printf("%s%u kills", o->kill_every_s > 0 ? ", at most " : "", o->kills);
    if (!o->kills && o->kill_every_s <= 0)
        printf("no kills");
    printf(" (%s restarts), reset rate %g, delay rate %g (up to %u ms), seed %u\n", o->restart,
           o->reset_rate, o->delay_rate, o->delay_ms, o->seed);
    fflush(stdout);
    t0 = mono_ms();
    next_kill = o->kill_every_s > 0 ? t0 + o->kill_every_s * 1000 : INFINITY;
    next_report = t0 + 10000;
    k->last_progress = t0;
    for (;;) {
        double now = mono_ms();

        /* the oldest sent event still waiting (not notified, not late yet) bounds the window */
        while (k->oldest < done &&
               (k->ev[k->order[k->oldest]].notes ||
                now_ms() + k->clock_offset - k->ev[k->order[k->oldest]].sent_ms > o->late_ms))
            k->oldest++;
        /* pushes, in a seeded order of events and messages */
        while (pushing && done < ops && k->pushes_in_flight < o->in_flight &&
               done - k->oldest < o->window) {
            bool msg = msg_i < o->messages &&
                       (ev_i >= o->events ||
                        rnd(&k->rng) * (double)(ops - done) < (double)(o->messages - msg_i));

            k->order[done++] = msg ? (long)o->events + (long)msg_i : (long)ev_i;
            if (msg)
                push_message(k, (long)msg_i++);
            else
                push_event(k, (long)ev_i++);
        }
        if (pushing && done == ops && !k->pushes_in_flight) {
            pushing = false;
            pushed_at = now;
            next_digest = 0;
        }
        /* kills: every --kill-every seconds, or --kills spread evenly over the pushes */
        if (pushing && (!o->kills || k->kills < o->kills) &&
            (o->kill_every_s > 0 ? now >= next_kill
                                 : o->kills && done * (o->kills + 1) >= ops * (k->kills + 1))) {
            pid_t pid = victim(k, k->kills % o->replicas);

            if (pid > 0 && kill(pid, SIGKILL) == 0)
                k->kills++;
            next_kill = now + (o->kill_every_s > 0 ? o->kill_every_s * 1000 : 20);
        }
        if (now >= next_poll) {
            read_inbox(k);
            next_poll = now + 20;
        }
        while (k->q_n && k->lookups_in_flight < o->in_flight &&
               k->no[k->queue[k->q_head]].not_before <= now) {
            long n = k->queue[k->q_head];

            k->q_head = (k->q_head + 1) % k->q_cap;
            k->q_n--;
            k->no[n].queued = false;
            k->lookups_in_flight++;
            app_call(k, R_LOOKUP, n, "get_callback_data", k->no[n].id);
        }
        if (now >= next_report) {
            printf("soak: %.0f s: %lu of %lu events sent, %lu delivered; %u kills\n",
                   (now - t0) / 1000, done, ops, k->delivered, k->kills);
            fflush(stdout);
            next_report = now + 10000;
        }
        if (now >= next_journal) {
            read_journal(k);
            next_journal = now + 250;
        }
        /* the program pages through sync_msg now and then; after the pushes until one ends ok */
        if (!k->digest_in_flight && now >= next_digest &&
            !(!pushing && k->last_archive_digest_ok)) {
            k->digest_in_flight = true;
            app_call(k, R_DIGEST, !pushing, "new_messages_digest", NULL);
            next_digest = now + (pushing ? 500 : 200);
        }
        if (!pushing && k->last_archive_digest_ok && !k->lookups_in_flight && all_in(k)) {
            read_journal(k);
            final_ok = true;
            break;
        }
        if (!pushing && now - k->last_progress > o->settle_s * 1000 &&
            now - pushed_at > o->settle_s * 1000) {
            printf("soak: nothing new for %g s after the last push; counting what arrived\n",
                   o->settle_s);
            read_journal(k);
            final_ok = k->last_archive_digest_ok;
            break;
        }
        turn(k, 5);
    }
    rc = report(k, (mono_ms() - t0) / 1000, final_ok);
    return rc;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (*end || errno || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static void usage(FILE *to)
{
    fprintf(
        to,
        "usage: soak [--events N] [--messages M] [--kill-every S] [--kills N] [--reset-rate R]\n"
        "            [--delay-rate R] [--delay-ms D] [--seed N] [--replicas N]\n"
        "            [--in-flight N] [--window N] [--late-ms L] [--settle S] [--restart "
        "emulator|shell]\n"
        "            [--keep] [--verbose]\n"
        "  --events N        events pushed through POST /_zonelab/events (default 2000)\n"
        "  --messages M      messages archived through POST /_zonelab/messages, each firing\n"
        "                    conversation_new_message; the program pages through them with\n"
        "                    sync_msg (new_messages_digest) (default 200)\n"
        "  --kill-every S    SIGKILL a replica every S seconds while pushing, in turn; 0: "
        "never\n"
        "                    (default 6)\n"
        "  --kills N         at most N kills; with --kill-every 0, N kills spread evenly over\n"
        "                    the pushes (whatever the machine's speed)\n"
        "  --reset-rate R    share of the program's SDK exchanges whose connection is reset\n"
        "                    (default 0.01)\n"
        "  --delay-rate R    share of them held up to --delay-ms first (default 0.02, 100 ms)\n"
        "  --seed N          the choices' seed (default 1)\n"
        "  --replicas N      zone-demo replicas (default 2)\n"
        "  --in-flight N     pushes, and get_callback_data calls, in flight (default 8)\n"
        "  --window N        events sent and not yet notified (nor late) at most (default "
        "128)\n"
        "  --late-ms L       an event notified later than L ms after it was sent is late\n"
        "                    (default 5000)\n"
        "  --settle S        give up S seconds after the last push with nothing new (default "
        "60)\n"
        "  --restart HOW     who restarts a killed replica: emulator (its supervision) or\n"
        "                    shell (a loop around zone-demo in the replica's command)\n"
        "                    (default emulator)\n"
        "  --keep            keep the run's folder: logs, zone-demo's store, journal.jsonl\n"
        "  --verbose         say why a get_callback_data failed the first time\n"
        "exits 1 when an event was lost or a message missing, 2 on a usage error\n");
}

int main(int argc, char **argv)
{
    soak k = {.o = {.events = 2000,
                    .messages = 200,
                    .replicas = 2,
                    .in_flight = 8,
                    .window = 128,
                    .seed = 1,
                    .kill_every_s = 6,
                    .reset_rate = 0.01,
                    .delay_rate = 0.02,
                    .late_ms = 5000,
                    .settle_s = 60,
                    .delay_ms = 100,
                    .restart = "emulator"}};
    int i, rc = 1, status;
    char rm[128];

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        int bad = 0;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--keep") || !strcmp(a, "--verbose")) {
            *(a[2] == 'k' ? &k.o.keep : &k.o.verbose) = true;
            continue;
        }
        if (!strcmp(a, "--restart") && v && (!strcmp(v, "emulator") || !strcmp(v, "shell")))
            k.o.restart = v;
        else if (!strcmp(a, "--events"))
            bad = parse_num(v, 0, 10000000, &d) || (k.o.events = (unsigned)d, 0);
        else if (!strcmp(a, "--messages"))
            bad = parse_num(v, 0, 1000000, &d) || (k.o.messages = (unsigned)d, 0);
        else if (!strcmp(a, "--replicas"))
            bad = parse_num(v, 1, 16, &d) || (k.o.replicas = (unsigned)d, 0);
        else if (!strcmp(a, "--kills"))
            bad = parse_num(v, 0, 1000000, &d) || (k.o.kills = (unsigned)d, 0);
        else if (!strcmp(a, "--window"))
            bad = parse_num(v, 1, 100000, &d) || (k.o.window = (unsigned)d, 0);
        else if (!strcmp(a, "--in-flight"))
            bad = parse_num(v, 1, 64, &d) || (k.o.in_flight = (unsigned)d, 0);
        else if (!strcmp(a, "--seed"))
            bad = parse_num(v, 0, 4294967295.0, &d) || (k.o.seed = (unsigned)d, 0);
        else if (!strcmp(a, "--delay-ms"))
            bad = parse_num(v, 1, 60000, &d) || (k.o.delay_ms = (unsigned)d, 0);
        else if (!strcmp(a, "--kill-every"))
            bad = parse_num(v, 0, 86400, &k.o.kill_every_s);
        else if (!strcmp(a, "--reset-rate"))
            bad = parse_num(v, 0, 0.5, &k.o.reset_rate);
        else if (!strcmp(a, "--delay-rate"))
            bad = parse_num(v, 0, 1, &k.o.delay_rate);
        else if (!strcmp(a, "--late-ms"))
            bad = parse_num(v, 0, 86400000, &k.o.late_ms);
        else if (!strcmp(a, "--settle"))
            bad = parse_num(v, 1, 86400, &k.o.settle_s);
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "soak: bad option %s%s%s\n", a, v ? " " : "", v ? v : "");
            usage(stderr);
            return 2;
        }
        i++;
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    k.rng = 0x9E3779B97F4A7C15ULL ^ k.o.seed;
    k.px.rng = 0xD1B54A32D192ED03ULL ^ ((uint64_t)k.o.seed << 1);
    k.px.reset_rate = k.o.reset_rate;
    k.px.delay_rate = k.o.delay_rate;
    k.px.delay_ms = k.o.delay_ms;
    snprintf(k.s.dir, sizeof k.s.dir, "%s/soak_XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    k.ev = calloc((size_t)k.o.events + k.o.messages + 1, sizeof *k.ev);
    k.msg_seen = calloc((size_t)k.o.messages + 1, sizeof *k.msg_seen);
    k.order = calloc((size_t)k.o.events + k.o.messages + 1, sizeof *k.order);
    k.json = curl_slist_append(NULL, "Content-Type: application/json");
    k.c = curl_easy_init();
    k.m = curl_multi_init();
    if (!mkdtemp(k.s.dir) || !k.ev || !k.msg_seen || !k.order || !k.json || !k.c || !k.m) {
        fprintf(stderr, "soak: cannot set up: %s\n", strerror(errno));
        goto out;
    }
    rc = run(&k);
out:
    if (k.s.pid > 0) {
        kill(k.s.pid, SIGTERM);
        waitpid(k.s.pid, &status, 0);
    }
    if (k.px.started) {
        atomic_store(&k.px.stop, true);
        pthread_join(k.px.thread, NULL);
    }
    if (k.px.lfd > 0)
        close(k.px.lfd);
    while (k.flying) /* what is still in flight at the end */
        req_end(&k, k.flying);
    if (k.m)
        curl_multi_cleanup(k.m);
    curl_easy_cleanup(k.c);
    curl_slist_free_all(k.json);
    curl_global_cleanup();
    if (k.o.keep)
        printf("soak: the run's folder is %s\n", k.s.dir);
    else if (k.s.dir[0] && strstr(k.s.dir, "soak_")) {
        snprintf(rm, sizeof rm, "rm -rf '%s'", k.s.dir);
        if (system(rm) != 0)
            fprintf(stderr, "soak: cannot remove %s\n", k.s.dir);
    }
    smap_cleanup(&k.tokens);
    smap_cleanup(&k.notices);
    smap_cleanup(&k.deliveries);
    if (k.journal_file)
        fclose(k.journal_file);
    free(k.ev);
    free(k.msg_seen);
    free(k.order);
    free(k.no);
    free(k.queue);
    return rc;
}
