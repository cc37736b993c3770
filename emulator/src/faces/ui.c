/* ui: the inspector page at /_zonelab/ui (docs/inspector.md): its HTML, CSS and JS from
 * memory, and the journal as server-sent events at /_zonelab/ui/events. */
#include "faces/ui.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"

/* Built from emulator/ui/ by cmake/ZlEmbed.cmake. */
extern const unsigned char zl_ui_index_html[], zl_ui_style_css[], zl_ui_app_js[];
extern const size_t zl_ui_index_html_len, zl_ui_style_css_len, zl_ui_app_js_len;

#define PREFIX  "/_zonelab/ui"
#define TICK_MS 100 /* how often a stream with bytes queued or entries to catch up is looked at */

/* The page may load nothing from elsewhere: no CDN, no inline script. */
#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "                \
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

typedef struct asset {
    const char *path; /* below PREFIX */
    const char *type;
    const unsigned char *data;
    const size_t *len;
} asset;

static const asset assets[] = {
    {"", "text/html; charset=utf-8", zl_ui_index_html, &zl_ui_index_html_len},
    {"/", "text/html; charset=utf-8", zl_ui_index_html, &zl_ui_index_html_len},
    {"/index.html", "text/html; charset=utf-8", zl_ui_index_html, &zl_ui_index_html_len},
    {"/style.css", "text/css; charset=utf-8", zl_ui_style_css, &zl_ui_style_css_len},
    {"/app.js", "text/javascript; charset=utf-8", zl_ui_app_js, &zl_ui_app_js_len},
};

typedef struct client client;

typedef struct ui {
    zl_engine *e;
    zl_journal *j;
    zl_ui_limits lim;
    client *clients; /* open streams */
    size_t n_clients;
    uint64_t timer; /* armed only while clients is not empty */
    int64_t timer_at;
    uint64_t opened, dropped; /* streams since the start; closed for a client that stalled */
} ui;

static void refuse(zl_request *r, unsigned status, const char *why)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddStringToObject(j, "error", why);
    zl_request_respond_json(r, status, j);
}

/* "event: name\ndata: {...}\n\n" (takes ownership of data). */
static void sse_event(zl_sbuf *b, const char *name, cJSON *data)
{
    char *text = data ? cJSON_PrintUnformatted(data) : NULL;

    cJSON_Delete(data);
    if (!text) {
        b->oom = true;
        return;
    }
    zl_sbuf_str(b, "event: ");
    zl_sbuf_str(b, name);
    zl_sbuf_str(b, "\ndata: ");
    zl_sbuf_str(b, text);
    zl_sbuf_str(b, "\n\n");
    cJSON_free(text);
}

/* The journal's entries are one line of JSON each, so one data line carries one. */
static void sse_entry(zl_sbuf *b, uint64_t seq, const char *json)
{
    char head[48];

    if (!json) /* not held (never happens between first and last) */
        return;
    snprintf(head, sizeof head, "id: %" PRIu64 "\ndata: ", seq);
    zl_sbuf_str(b, head);
    zl_sbuf_str(b, json);
    zl_sbuf_str(b, "\n\n");
}

static cJSON *gap_json(uint64_t from, uint64_t to)
{
    cJSON *d = cJSON_CreateObject();

    cJSON_AddNumberToObject(d, "from", (double)from);
    cJSON_AddNumberToObject(d, "to", (double)to);
    return d;
}

static cJSON *hello_json(const ui *u, uint64_t from, int streaming)
{
    cJSON *d = cJSON_CreateObject();

    cJSON_AddNumberToObject(d, "first", (double)zl_journal_first(u->j));
    cJSON_AddNumberToObject(d, "last", (double)zl_journal_last(u->j));
    cJSON_AddNumberToObject(d, "dropped", (double)zl_journal_dropped(u->j));
    cJSON_AddNumberToObject(d, "from", (double)from);
    cJSON_AddBoolToObject(d, "streaming", streaming);
    return d;
}

/*
 * Where a new stream starts: after Last-Event-ID (EventSource sends it when it reconnects),
 * else after ?since=N, else the newest lim.tail entries. 0, or -1 after answering 400.
 */
static int start_seq(const ui *u, zl_request *r, uint64_t *from)
{
    const char *v = zl_request_header(r, "Last-Event-ID");
    uint64_t last = zl_journal_last(u->j), first = zl_journal_first(u->j);
    unsigned long long n;
    char *end;

    if (!v || !*v)
        v = zl_request_query(r, "since");
    if (!v) {
        *from = last >= u->lim.tail ? last - u->lim.tail + 1 : 1;
        if (*from < first)
            *from = first;
        return 0;
    }
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end || *v < '0' || *v > '9' || n == ULLONG_MAX) {
        refuse(r, 400, "since (or Last-Event-ID) must be a journal sequence number");
        return -1;
    }
    *from = (uint64_t)n + 1;
    return 0;
}

/* One open event stream. It owns nothing but a cursor into the journal: the journal is the
 * backlog, so a slow client costs at most backlog_bytes (plus one entry) here. */
struct client {
    ui *u; /* NULL once the stream left the list (dropped, or the inspector freed) */
    zl_stream *s;
    client *prev, *next;
    uint64_t next_seq;     /* the next journal entry to send */
    uint64_t written;      /* bytes queued since the start */
    uint64_t taken;        /* written - pending at the last look */
    int64_t progress_wall; /* real ms when the client last took bytes or had none queued */
    int64_t ping_at;       /* virtual ms of the next heartbeat */
};

static int64_t now_ms(const ui *u)
{
    return zl_clock_now_ms(zl_engine_clock(u->e));
}

static int64_t wall_ms(const ui *u)
{
    return zl_clock_wall_ms(zl_engine_clock(u->e));
}

/* Takes c out of the open streams; the timer goes with the last one. */
static void unlink_client(ui *u, client *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        u->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->u = NULL;
    u->n_clients--;
    if (!u->clients && u->timer) {
        zl_engine_timer_cancel(u->e, u->timer);
        u->timer = 0;
    }
}

/* A client that stalled (or a write that found no memory): its connection is closed now; the
 * engine reports the end through on_closed, which frees c. */
static void drop(ui *u, client *c)
{
    unlink_client(u, c);
    u->dropped++;
    zl_stream_abort(c->s);
}

static int put(client *c, const zl_sbuf *b)
{
    if (b->oom || zl_stream_write(c->s, zl_sbuf_text(b), b->len) != 0)
        return -1;
    c->written += b->len;
    return 0;
}

/* Queues the entries c has not had while its queue has room (one entry always fits an empty
 * queue). 0, or -1 when c was dropped. */
static int pump(ui *u, client *c)
{
    uint64_t last = zl_journal_last(u->j), first = zl_journal_first(u->j);
    zl_sbuf b = {0};
    int rc = 0;

    if (c->next_seq < first) { /* the ring dropped them before the client caught up */
        sse_event(&b, "gap", gap_json(c->next_seq, first - 1));
        c->next_seq = first;
    }
    while (rc == 0 && c->next_seq <= last &&
           zl_stream_pending(c->s) + b.len < u->lim.backlog_bytes) {
        sse_entry(&b, c->next_seq, zl_journal_text(u->j, c->next_seq));
        c->next_seq++;
        if (b.len >= 65536) { /* hand over in slices, not one copy of everything */
            rc = put(c, &b);
            b.len = 0;
        }
    }
    if (rc == 0 && b.len)
        rc = put(c, &b);
    free(b.s);
    if (rc != 0)
        drop(u, c);
    return rc;
}

static void on_tick(zl_engine *e, void *ud);

/* Arms the one timer for the earliest of: a look at streams that are behind or have bytes
 * queued (TICK_MS), and the next heartbeat. */
static void schedule(ui *u)
{
    int64_t now, due = INT64_MAX;
    uint64_t last = zl_journal_last(u->j);
    client *c;

    if (!u->clients)
        return; /* also after zl_engine_free, which ended every stream */
    now = now_ms(u);
    for (c = u->clients; c; c = c->next) {
        if (c->next_seq <= last || zl_stream_pending(c->s) > 0)
            due = due < now + TICK_MS ? due : now + TICK_MS;
        else if (c->ping_at < due)
            due = c->ping_at;
    }
    if (u->timer && u->timer_at <= due)
        return; /* an earlier tick looks again anyway */
    if (u->timer)
        zl_engine_timer_cancel(u->e, u->timer);
    u->timer = zl_engine_timer(u->e, due, on_tick, u);
    u->timer_at = due;
}

static void on_tick(zl_engine *e, void *ud)
{
    ui *u = ud;
    int64_t now = now_ms(u), wall = wall_ms(u);
    client *c, *next;

    (void)e;
    u->timer = 0;
    for (c = u->clients; c; c = next) {
        size_t pending = zl_stream_pending(c->s);
        uint64_t taken = c->written - pending;

        next = c->next;
        if (pending == 0 || taken > c->taken) {
            c->progress_wall = wall;
            c->taken = taken;
        } else if (wall - c->progress_wall >= u->lim.stall_ms) {
            drop(u, c);
            continue;
        }
        if (pump(u, c) != 0)
            continue;
        if (zl_stream_pending(c->s) == 0 && now >= c->ping_at) {
            zl_sbuf b = {0};

            zl_sbuf_str(&b, ": keepalive\n\n"); /* a gone client fails this write */
            if (put(c, &b) != 0) {
                free(b.s);
                drop(u, c);
                continue;
            }
            free(b.s);
            c->ping_at = now + u->lim.heartbeat_ms;
        }
    }
    schedule(u);
}

/* The journal grew: every stream with room gets the new entry now. */
static void on_entry(void *ud, uint64_t seq, const char *json)
{
    ui *u = ud;
    client *c, *next;

    (void)seq, (void)json; /* pump reads the journal: entries go out in order, once */
    for (c = u->clients; c; c = next) {
        next = c->next;
        pump(u, c);
    }
    schedule(u);
}

static void on_closed(zl_stream *s, void *ud)
{
    client *c = ud;

    (void)s;
    if (c->u)
        unlink_client(c->u, c);
    free(c);
}

static void on_events(ui *u, zl_request *r)
{
    uint64_t from;
    client *c;
    zl_sbuf b = {0};

    if (start_seq(u, r, &from) != 0)
        return;
    if (u->n_clients >= u->lim.clients) {
        refuse(r, 503, "too many inspector streams are open; close a page");
        return;
    }
    if (!(c = calloc(1, sizeof *c))) {
        refuse(r, 503, "out of memory");
        return;
    }
    zl_request_add_header(r, "Cache-Control", "no-cache");
    zl_request_add_header(r, "X-Accel-Buffering", "no");
    if (!(c->s = zl_request_stream(r, 200, "text/event-stream; charset=utf-8", on_closed, c))) {
        free(c); /* r was answered */
        return;
    }
    c->u = u;
    c->next = u->clients;
    if (u->clients)
        u->clients->prev = c;
    u->clients = c;
    u->n_clients++;
    u->opened++;
    c->next_seq = from;
    c->progress_wall = wall_ms(u);
    c->ping_at = now_ms(u) + u->lim.heartbeat_ms;
    zl_sbuf_str(&b, "retry: 1000\n\n");
    sse_event(&b, "hello", hello_json(u, from, 1));
    if (put(c, &b) != 0)
        drop(u, c);
    else if (pump(u, c) == 0)
        schedule(u);
    free(b.s);
}

/* The journal is freed; the engine normally went first (its end closed every stream). */
static void ui_free(void *ud)
{
    ui *u = ud;

    while (u->clients) { /* open streams mean the engine is still there */
        client *c = u->clients;

        unlink_client(u, c);
        zl_stream_abort(c->s);
    }
    free(u);
}

/* GET /_zonelab/ui/stats: the streams, for tests and the curious. */
static void on_stats(ui *u, zl_request *r)
{
    cJSON *j = cJSON_CreateObject(), *l;

    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddBoolToObject(j, "streaming", 1);
    cJSON_AddNumberToObject(j, "clients", (double)u->n_clients);
    cJSON_AddNumberToObject(j, "opened", (double)u->opened);
    cJSON_AddNumberToObject(j, "dropped", (double)u->dropped);
    l = cJSON_AddObjectToObject(j, "limits");
    cJSON_AddNumberToObject(l, "clients", (double)u->lim.clients);
    cJSON_AddNumberToObject(l, "backlog_bytes", (double)u->lim.backlog_bytes);
    cJSON_AddNumberToObject(l, "stall_ms", (double)u->lim.stall_ms);
    cJSON_AddNumberToObject(l, "heartbeat_ms", (double)u->lim.heartbeat_ms);
    cJSON_AddNumberToObject(l, "tail", (double)u->lim.tail);
    zl_request_respond_json(r, 200, j);
}

static void on_ui(zl_engine *e, zl_request *r, void *ud)
{
    ui *u = ud;
    const char *path = zl_request_path(r) + strlen(PREFIX), *method = zl_request_method(r);
    int head = !strcmp(method, "HEAD");
    size_t i;

    (void)e;
    if (strcmp(method, "GET") != 0 && !head) {
        zl_request_add_header(r, "Allow", "GET, HEAD");
        refuse(r, 405, "the inspector answers GET only");
        return;
    }
    for (i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (!strcmp(path, assets[i].path)) {
            zl_request_add_header(r, "Cache-Control", "no-cache");
            zl_request_add_header(r, "X-Content-Type-Options", "nosniff");
            zl_request_add_header(r, "Content-Security-Policy", CSP);
            zl_request_respond(r, 200, assets[i].type, (const char *)assets[i].data,
                               *assets[i].len);
            return;
        }
    if (!strcmp(path, "/events") && head) {
        zl_request_add_header(r, "Allow", "GET");
        refuse(r, 405, "the event stream answers GET only");
    } else if (!strcmp(path, "/events")) {
        on_events(u, r);
    } else if (!strcmp(path, "/stats")) {
        on_stats(u, r);
    } else {
        refuse(r, 404, "no such inspector path; see docs/inspector.md");
    }
}

int zl_ui_install(zl_engine *e, zl_journal *j, const zl_ui_limits *limits)
{
    ui *u = calloc(1, sizeof *u);

    if (!u)
        return -1;
    u->e = e;
    u->j = j;
    if (limits)
        u->lim = *limits;
    u->lim.clients = u->lim.clients ? u->lim.clients : 32;
    u->lim.backlog_bytes = u->lim.backlog_bytes ? u->lim.backlog_bytes : 256 * 1024;
    u->lim.stall_ms = u->lim.stall_ms > 0 ? u->lim.stall_ms : 10000;
    u->lim.heartbeat_ms = u->lim.heartbeat_ms > 0 ? u->lim.heartbeat_ms : 5000;
    u->lim.tail = u->lim.tail ? u->lim.tail : 1000;
    if (!zl_journal_listen(j, on_entry, ui_free, u)) {
        free(u);
        return -1;
    }
    /* from here on the journal owns u */
    return zl_engine_route(e, NULL, PREFIX, on_ui, u);
}
