/* scenario: one Lua scenario file against a fresh in-process emulator. The file declares its
 * world with scenario{} and its tests with test(name, fn); each test runs as a coroutine.
 * Blocking verbs are C primitives that yield with a continuation: the driver turns the
 * engine until what they wait for happens (or the timeout, or a crash), then resumes. The
 * friendly verbs are Lua, in lua/prelude.lua, built on the primitives in the _zl table. */
#define _GNU_SOURCE
#include "scenario/scenario.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <strings.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sbuf.h"
#include "emu/emu.h"
#include "faces/server.h"
#include "wecom/wxcrypt.h"
#include "wire.h"

extern const unsigned char zl_scenario_prelude[];
extern const size_t zl_scenario_prelude_len;

#define MAX_TESTS      512
#define MAX_CURSORS    64
#define MAX_JSON_DEPTH 64

enum wait_kind { W_NONE, W_HTTP, W_SLEEP, W_INBOX, W_JOURNAL, W_READY };

typedef struct wait {
    enum wait_kind kind;
    int64_t deadline; /* real ms */
    bool done, timed_out;
    /* W_HTTP */
    long status;
    char *body;
    char *error;
    /* W_INBOX */
    uint32_t agentid;
    /* W_JOURNAL */
    cJSON *filter;
    int cursor; /* index into cursors */
    /* W_READY */
    zl_prog_rt *prog;
    size_t replica;
    /* what was found (W_INBOX, W_JOURNAL) */
    cJSON *found;
} wait;

typedef struct test {
    char *name;
    int ref; /* the function in the registry */
} test;

/* A variable of the programs' environment. */
typedef struct env_var {
    char *name, *value;
    char *saved; /* this process's own value while a replica is forked, or NULL */
} env_var;

typedef struct sc {
    lua_State *L;
    const char *path;
    zl_scenario_options opt;
    cJSON *config;
    test tests[MAX_TESTS];
    size_t n_tests;
    zl_server *srv;    /* the emulator (owns the world once made) */
    zl_world *world;   /* borrowed from srv, or owned until srv is made */
    zl_engine *engine; /* these three borrowed from srv */
    zl_journal *journal;
    zl_emu *emu;
    zl_prog_rt *prog;     /* the main program: program.*, call() and the like default to it */
    zl_prog_rt **started; /* every program the scenario started, the main one first */
    size_t n_started;
    env_var *env; /* ZONELAB_WORK_DIR first, then scenario{}.env; a zeroed one ends it */
    size_t n_env;
    wait w;
    uint64_t inbox_start; /* the fake app's newest inbox seq when the test began */
    struct {
        char key[400];
        uint64_t seq;
    } cursors[MAX_CURSORS];
    size_t n_cursors;
    int backend_ref;         /* Lua function answering the SDK hook, LUA_NOREF when none */
    char pending_error[600]; /* raised at the next resume (a backend script failed) */
    lua_State *test_thread;  /* the running test's coroutine */
    int64_t scenario_deadline;
    char crash[1200];
    /* the test app: an app server inside the emulator whose deliveries a scenario can fail */
    char test_app_url[128];
    zl_app *test_app;
    int test_app_fail; /* POSTs still to leave unanswered past the timeout */
    cJSON *test_app_got;
} sc;

static int64_t real_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static sc *self(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* "file:line: " of the innermost frame that is the scenario's, not the prelude's. */
static void scenario_where(lua_State *L, char *out, size_t n)
{
    lua_Debug ar;
    int level;

    out[0] = '\0';
    for (level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0 || ar.source[0] != '@')
            continue; /* C frames and the prelude (loaded as "=prelude.lua") */
        snprintf(out, n, "%s:%d: ", ar.source + 1, ar.currentline);
        return;
    }
}

/* luaL_error, but at the scenario's line however deep in the prelude the call is. */
static int zl_raise(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int zl_raise(lua_State *L, const char *fmt, ...)
{
    char where[600], msg[1200];
    va_list ap;

    scenario_where(L, where, sizeof where);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_pushfstring(L, "%s%s", where, msg);
    return lua_error(L);
}

/* Verbs that need the emulator: only inside a test (the file loads before it starts). */
static sc *running(lua_State *L)
{
    sc *s = self(L);

    if (!s->emu)
        zl_raise(L, "the emulator starts after the file is loaded: use this inside a test");
    return s;
}

/* Waits yield to the driver: only from the test's own coroutine. */
static sc *waiting(lua_State *L)
{
    sc *s = running(L);

    if (L != s->test_thread)
        zl_raise(L, "waits run in the test itself, not in a coroutine the test creates");
    return s;
}

/* _zl.where() -> "file:line: " for the prelude's own errors */
static int l_where(lua_State *L)
{
    char where[600];

    scenario_where(L, where, sizeof where);
    lua_pushstring(L, where);
    return 1;
}

/* ---- JSON <-> Lua ---- */

static void push_json(lua_State *L, const cJSON *j, int depth)
{
    const cJSON *c;
    int i = 1;

    luaL_checkstack(L, 4, "JSON too deep");
    if (!j || cJSON_IsNull(j) || depth > MAX_JSON_DEPTH) {
        lua_getglobal(L, "null"); /* json.null, a unique value */
        return;
    }
    if (cJSON_IsBool(j)) {
        lua_pushboolean(L, cJSON_IsTrue(j));
    } else if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;

        if (d == (double)(lua_Integer)d && d >= -9007199254740992.0 && d <= 9007199254740992.0)
            lua_pushinteger(L, (lua_Integer)d);
        else
            lua_pushnumber(L, d);
    } else if (cJSON_IsString(j)) {
        lua_pushstring(L, j->valuestring);
    } else if (cJSON_IsArray(j)) {
        lua_createtable(L, cJSON_GetArraySize(j), 0);
        cJSON_ArrayForEach(c, j)
        {
            push_json(L, c, depth + 1);
            lua_rawseti(L, -2, i++);
        }
        if (i == 1) { /* keep an empty array an array */
            lua_getglobal(L, "array_mt");
            lua_setmetatable(L, -2);
        }
    } else {
        lua_newtable(L);
        cJSON_ArrayForEach(c, j)
        {
            push_json(L, c, depth + 1);
            lua_setfield(L, -2, c->string);
        }
    }
}

/* An object key while encoding: its text, and the integer it was in the table. */
typedef struct okey {
    char name[256];
    bool is_int;
    lua_Integer ival;
} okey;

static int cmp_okey(const void *a, const void *b)
{
    return strcmp(((const okey *)a)->name, ((const okey *)b)->name);
}

/* The Lua value at idx as JSON; NULL with *why set when it cannot be (functions, cycles). */
static cJSON *to_json(lua_State *L, int idx, int depth, const char **why)
{
    cJSON *j;
    lua_Integer n, k;
    bool is_array = true;

    idx = lua_absindex(L, idx);
    if (depth > MAX_JSON_DEPTH) {
        *why = "nested too deep (a cycle?)";
        return NULL;
    }
    lua_getglobal(L, "null"); /* json.null is a table: test for it before tables */
    if (lua_rawequal(L, -1, idx)) {
        lua_pop(L, 1);
        return cJSON_CreateNull();
    }
    lua_pop(L, 1);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return cJSON_CreateNull();
    case LUA_TBOOLEAN:
        return cJSON_CreateBool(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        return cJSON_CreateNumber(lua_tonumber(L, idx));
    case LUA_TSTRING:
        return cJSON_CreateString(lua_tostring(L, idx));
    case LUA_TTABLE:
        break;
    default:
        *why = "a function, thread or userdata cannot be JSON";
        return NULL;
    }
    luaL_checkstack(L, 6, "table too deep");
    n = (lua_Integer)lua_rawlen(L, idx);
    k = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        k++;
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n)
            is_array = false;
    }
    if (n == 0 || k != n) {
        is_array = false;
        if (k == 0 && lua_getmetatable(L, idx)) { /* an empty array made with array() */
            lua_getglobal(L, "array_mt");
            is_array = lua_rawequal(L, -1, -2);
            lua_pop(L, 2);
        }
    }
    if (is_array) {
        j = cJSON_CreateArray();
        for (k = 1; k <= n; k++) {
            cJSON *v;

            lua_rawgeti(L, idx, k);
            v = to_json(L, -1, depth + 1, why);
            lua_pop(L, 1);
            if (!v) {
                cJSON_Delete(j);
                return NULL;
            }
            cJSON_AddItemToArray(j, v);
        }
        return j;
    }
    /* An object, its keys sorted: the same table always encodes to the same text (Lua's own
     * order changes from run to run). */
    j = cJSON_CreateObject();
    {
        size_t count = 0, cap = 16, q;
        okey *keys = malloc(cap * sizeof *keys);

        lua_pushnil(L);
        while (keys && lua_next(L, idx)) {
            okey *ok;

            lua_pop(L, 1);
            if (count == cap) {
                okey *nk = realloc(keys, (cap *= 2) * sizeof *keys);

                if (!nk) {
                    lua_pop(L, 1);
                    *why = "out of memory";
                    goto bad;
                }
                keys = nk;
            }
            ok = &keys[count];
            ok->is_int = lua_isinteger(L, -1);
            if (ok->is_int) {
                ok->ival = lua_tointeger(L, -1);
                snprintf(ok->name, sizeof ok->name, "%lld", (long long)ok->ival);
            } else if (lua_type(L, -1) == LUA_TSTRING && strlen(lua_tostring(L, -1)) < 256) {
                snprintf(ok->name, sizeof ok->name, "%s", lua_tostring(L, -1));
            } else {
                lua_pop(L, 1);
                *why = "object keys must be strings (of at most 255 bytes)";
                goto bad;
            }
            count++;
        }
        if (!keys) {
            *why = "out of memory";
            goto bad;
        }
        qsort(keys, count, sizeof *keys, cmp_okey);
        for (q = 0; q < count; q++) {
            cJSON *v;

            if (keys[q].is_int)
                lua_rawgeti(L, idx, keys[q].ival);
            else
                lua_getfield(L, idx, keys[q].name);
            v = to_json(L, -1, depth + 1, why);
            lua_pop(L, 1);
            if (!v)
                goto bad;
            cJSON_AddItemToObject(j, keys[q].name, v);
        }
        free(keys);
        return j;
    bad:
        free(keys);
        cJSON_Delete(j);
        return NULL;
    }
}

static int l_json_encode(lua_State *L)
{
    const char *why = "";
    cJSON *j = to_json(L, 1, 0, &why);
    char *text;

    if (!j)
        return zl_raise(L, "json.encode: %s", why);
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    lua_pushstring(L, text ? text : "null");
    cJSON_free(text);
    return 1;
}

static int l_json_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    cJSON *j = cJSON_ParseWithLength(s, len);

    if (!j) {
        lua_pushnil(L);
        lua_pushstring(L, "not JSON");
        return 2;
    }
    push_json(L, j, 0);
    cJSON_Delete(j);
    return 1;
}

/* ---- waiting ---- */

static void wait_reset(sc *s)
{
    free(s->w.body);
    free(s->w.error);
    cJSON_Delete(s->w.filter);
    cJSON_Delete(s->w.found);
    memset(&s->w, 0, sizeof s->w);
}

static long timeout_arg(lua_State *L, sc *s, int idx)
{
    lua_Number t = luaL_optnumber(L, idx, -1);

    if (t < 0)
        return s->opt.step_timeout_ms;
    return (long)(t * 1000); /* seconds in scenarios */
}

/* Whether entry matches every field of filter (strings, numbers; "match" is a subtable). */
static bool entry_matches(const cJSON *entry, const cJSON *filter)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, filter)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, f->string);

        if (cJSON_IsObject(f)) {
            if (!cJSON_IsObject(v) || !entry_matches(v, f))
                return false;
        } else if (!v || !cJSON_Compare(v, f, 1)) {
            return false;
        }
    }
    return true;
}

static bool check(sc *s)
{
    wait *w = &s->w;

    switch (w->kind) {
    case W_HTTP:
        return w->done;
    case W_SLEEP:
        return real_ms() >= w->deadline;
    case W_INBOX: {
        cJSON *list = zl_appnotify_inbox(s->emu->notify_out, w->agentid, s->cursors[w->cursor].seq);
        cJSON *first = cJSON_DetachItemFromArray(list, 0);

        cJSON_Delete(list);
        if (!first)
            return false;
        s->cursors[w->cursor].seq = (uint64_t)cJSON_GetObjectItem(first, "seq")->valuedouble;
        w->found = first;
        return true;
    }
    case W_JOURNAL: {
        cJSON *list = zl_journal_since(s->journal, s->cursors[w->cursor].seq, 100000), *e;

        cJSON_ArrayForEach(e, list)
        {
            s->cursors[w->cursor].seq = (uint64_t)cJSON_GetObjectItem(e, "seq")->valuedouble;
            if (entry_matches(e, w->filter)) {
                w->found = cJSON_Duplicate(e, 1);
                break;
            }
        }
        cJSON_Delete(list);
        return w->found != NULL;
    }
    case W_READY:
        return zl_emu_port_open(w->prog->replicas[w->replica].port);
    default:
        return true;
    }
}

/* Appends "--- <instance>" and the last lines of r's log to out (cap bytes, *len used). */
static void log_tail(const sc *s, const zl_replica *r, int lines, char *out, size_t cap,
                     size_t *len)
{
    char path[700], *text = NULL, *p;
    size_t n = 0, k;
    FILE *f;
    int seen = 0;

    if (*len >= cap)
        return;
    snprintf(path, sizeof path, "%s/%s.log", s->opt.work_dir, r->instance);
    for (k = strlen(s->opt.work_dir) + 1; path[k]; k++)
        if (path[k] == '/')
            path[k] = '_';
    if (!(f = fopen(path, "r")))
        return;
    if (getdelim(&text, &n, '\0', f) < 0) {
        fclose(f);
        free(text);
        return;
    }
    fclose(f);
    p = text + strlen(text);
    while (p > text && seen <= lines)
        if (*--p == '\n')
            seen++;
    if (p > text)
        p++;
    *len += (size_t)snprintf(out + *len, cap - *len, "--- %s\n%s", r->instance, p);
    free(text);
}

/* The last lines of each replica's log, of every program the scenario started, first's first
 * (NULL: in order); owned. */
static char *program_log(const sc *s, int lines_per_replica, const zl_replica *first)
{
    size_t cap = 8192, len = 0, i, q;
    char *out = calloc(1, cap);

    if (out && first)
        log_tail(s, first, lines_per_replica, out, cap, &len);
    for (q = 0; out && q < s->n_started; q++)
        for (i = 0; i < s->started[q]->replica_count; i++)
            if (&s->started[q]->replicas[i] != first)
                log_tail(s, &s->started[q]->replicas[i], lines_per_replica, out, cap, &len);
    return out;
}

/* A replica that ended on its own is a crash: the scenario says so with its last lines (its
 * own first: the message is cut at the size of an error). Replicas of every program the
 * scenario started count. */
static bool crashed(sc *s)
{
    size_t i, q;

    if (s->crash[0])
        return true;
    zl_emu_reap(s->emu);
    for (q = 0; q < s->n_started; q++)
        for (i = 0; i < s->started[q]->replica_count; i++) {
            zl_replica *r = &s->started[q]->replicas[i];
            char *log;

            if (r->pid <= 0 || !r->exited || r->expected_exit)
                continue;
            log = program_log(s, 8, r);
            snprintf(s->crash, sizeof s->crash, "program %s crashed (%s %d); its last lines:\n%s",
                     r->instance, r->exit_code >= 128 ? "signal" : "exit code",
                     r->exit_code >= 128 ? r->exit_code - 128 : r->exit_code, log ? log : "");
            free(log);
            return true;
        }
    return false;
}

/* Turns the engine until the wait is over: done, timed out, or the program crashed. */
static void drive(sc *s)
{
    while (!check(s)) {
        int64_t now = real_ms();

        if (now >= s->w.deadline || now >= s->scenario_deadline) {
            s->w.timed_out = true;
            return;
        }
        if (crashed(s))
            return;
        zl_engine_turn(s->engine, 5);
    }
    s->w.done = true;
}

/* Common end of a continuation: raises for a crash or a pending script error. */
static void raise_if_broken(lua_State *L, sc *s)
{
    if (s->crash[0])
        zl_raise(L, "%s", s->crash);
    if (s->pending_error[0]) {
        char msg[sizeof s->pending_error];

        memcpy(msg, s->pending_error, sizeof msg);
        s->pending_error[0] = '\0';
        zl_raise(L, "%s", msg);
    }
    if (real_ms() >= s->scenario_deadline)
        zl_raise(L, "the scenario ran out of time (%d ms)", (int)s->opt.scenario_timeout_ms);
}

/* ---- primitives ---- */

static void on_http(zl_engine *e, const zl_http_result *res, void *ud)
{
    sc *s = ud;

    (void)e;
    if (s->w.kind != W_HTTP)
        return;
    s->w.done = true;
    s->w.status = res->status;
    if (res->curl_code)
        s->w.error = strdup(res->error ? res->error : "transfer failed");
    else
        s->w.body = strndup(res->body, res->body_len);
}

static int http_k(lua_State *L, int status, lua_KContext ctx)
{
    sc *s = self(L);

    (void)status, (void)ctx;
    raise_if_broken(L, s);
    if (s->w.timed_out || s->w.error) {
        lua_pushnil(L);
        lua_pushstring(L, s->w.error ? s->w.error : "timeout");
        wait_reset(s);
        return 2;
    }
    lua_pushinteger(L, s->w.status);
    lua_pushstring(L, s->w.body ? s->w.body : "");
    wait_reset(s);
    return 2;
}

/* _zl.http(method, path, body?, timeout_s?, content_type?) -> status, body | nil, why */
static int l_http(lua_State *L)
{
    sc *s = waiting(L);
    const char *method = luaL_checkstring(L, 1), *path = luaL_checkstring(L, 2);
    size_t blen = 0;
    const char *body = luaL_optlstring(L, 3, NULL, &blen);
    const char *ctype = luaL_optstring(L, 5, NULL); /* a Content-Type, e.g. for multipart */
    char url[2200], ct_line[300];
    const char *headers[1] = {ct_line};
    zl_http_request req = {.method = method, .url = url, .body = body, .body_len = blen};

    if (path[0] != '/' || strlen(path) > 2000)
        return zl_raise(L, "a path starts with / and is at most 2000 bytes");
    if (ctype) {
        if (strlen(ctype) > 256 || strpbrk(ctype, "\r\n"))
            return zl_raise(L, "a content type is one line of at most 256 bytes");
        snprintf(ct_line, sizeof ct_line, "Content-Type: %s", ctype);
        req.headers = headers;
        req.n_headers = 1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", zl_engine_port(s->engine), path);
    wait_reset(s);
    s->w.kind = W_HTTP;
    req.timeout_ms = timeout_arg(L, s, 4);
    s->w.deadline = real_ms() + req.timeout_ms + 1000;
    if (zl_engine_http(s->engine, &req, on_http, s) != 0)
        return zl_raise(L, "cannot start an HTTP call");
    return lua_yieldk(L, 0, 0, http_k);
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx)
{
    sc *s = self(L);

    (void)status, (void)ctx;
    wait_reset(s);
    raise_if_broken(L, s);
    return 0;
}

/* _zl.sleep(seconds): real time, the engine keeps running. */
static int l_sleep(lua_State *L)
{
    sc *s = waiting(L);
    lua_Number t = luaL_checknumber(L, 1);

    if (t < 0 || t > 600)
        return zl_raise(L, "sleep takes 0 to 600 seconds");
    wait_reset(s);
    s->w.kind = W_SLEEP;
    s->w.deadline = real_ms() + (int64_t)(t * 1000);
    return lua_yieldk(L, 0, 0, sleep_k);
}

static int found_k(lua_State *L, int status, lua_KContext ctx)
{
    sc *s = self(L);

    (void)status, (void)ctx;
    raise_if_broken(L, s);
    if (!s->w.found) {
        lua_pushnil(L);
        lua_pushstring(L, "timeout");
        wait_reset(s);
        return 2;
    }
    push_json(L, s->w.found, 0);
    wait_reset(s);
    return 1;
}

/* The cursor named key, created at start; -1 (after raising) when there are too many. */
static int cursor_for(lua_State *L, sc *s, const char *key, uint64_t start)
{
    size_t i;

    for (i = 0; i < s->n_cursors; i++)
        if (!strcmp(s->cursors[i].key, key))
            return (int)i;
    if (i == MAX_CURSORS)
        zl_raise(L, "too many different waits in one test (%d)", MAX_CURSORS);
    snprintf(s->cursors[i].key, sizeof s->cursors[i].key, "%s", key);
    s->cursors[i].seq = start;
    s->n_cursors++;
    return (int)i;
}

/* _zl.wait_inbox(agentid, timeout_s?) -> the next notification the fake app received */
static int l_wait_inbox(lua_State *L)
{
    sc *s = waiting(L);
    lua_Integer agentid = luaL_optinteger(L, 1, 0);

    char key[64];
    int cursor;

    snprintf(key, sizeof key, "inbox|%lld", (long long)agentid);
    cursor = cursor_for(L, s, key, s->inbox_start);
    wait_reset(s);
    s->w.kind = W_INBOX;
    s->w.cursor = cursor;
    s->w.agentid = (uint32_t)agentid;
    s->w.deadline = real_ms() + timeout_arg(L, s, 2);
    return lua_yieldk(L, 0, 0, found_k);
}

/* _zl.wait_journal(filter, timeout_s?) -> the next journal entry matching filter; each
 * distinct filter has its own cursor, starting at the test's start. */
static int l_wait_journal(lua_State *L)
{
    sc *s = waiting(L);
    const char *why = "";
    cJSON *filter;
    char key[400];
    size_t i;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (!(filter = to_json(L, 1, 0, &why)) || !cJSON_IsObject(filter)) {
        cJSON_Delete(filter);
        return zl_raise(L, "wait_journal needs a table of fields to match");
    }
    {
        char *text = cJSON_PrintUnformatted(filter); /* one cursor per distinct filter */

        snprintf(key, sizeof key, "journal|%s", text ? text : "");
        cJSON_free(text);
    }
    if (s->n_cursors == MAX_CURSORS) {
        cJSON_Delete(filter);
        return zl_raise(L, "too many different waits in one test (%d)", MAX_CURSORS);
    }
    i = (size_t)cursor_for(L, s, key, s->cursors[0].seq); /* cursor 0: the test's start */
    wait_reset(s);
    s->w.kind = W_JOURNAL;
    s->w.filter = filter;
    s->w.cursor = (int)i;
    s->w.deadline = real_ms() + timeout_arg(L, s, 2);
    return lua_yieldk(L, 0, 0, found_k);
}

/* _zl.journal(filter?) -> every entry (since the scenario began) matching filter */
static int l_journal(lua_State *L)
{
    sc *s = running(L);
    const char *why = "";
    cJSON *filter = lua_istable(L, 1) ? to_json(L, 1, 0, &why) : NULL;
    cJSON *list = zl_journal_since(s->journal, 0, 1000000), *out = cJSON_CreateArray(), *e;

    cJSON_ArrayForEach(e, list)
    {
        if (!filter || entry_matches(e, filter))
            cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
    }
    push_json(L, out, 0);
    cJSON_Delete(out);
    cJSON_Delete(list);
    cJSON_Delete(filter);
    return 1;
}

/* _zl.inbox(agentid?) -> every notification the fake app received */
static int l_inbox(lua_State *L)
{
    sc *s = running(L);
    cJSON *list = zl_appnotify_inbox(s->emu->notify_out, (uint32_t)luaL_optinteger(L, 1, 0), 0);

    push_json(L, list, 0);
    cJSON_Delete(list);
    return 1;
}

/*
 * The programs' environment: ZONELAB_WORK_DIR and scenario{}.env are set in this process only
 * while a replica is forked (the child inherits them), then put back. So the emulator in this
 * process never sees them (libcurl reads proxies from the environment), and nothing is left
 * behind for another file run in the same process.
 */
static void env_enter(sc *s)
{
    size_t k;

    for (k = 0; k < s->n_env; k++) {
        const char *old = getenv(s->env[k].name);

        s->env[k].saved = old ? strdup(old) : NULL;
        setenv(s->env[k].name, s->env[k].value, 1);
    }
}

static void env_leave(sc *s)
{
    size_t k;

    for (k = 0; k < s->n_env; k++) {
        if (s->env[k].saved)
            setenv(s->env[k].name, s->env[k].saved, 1);
        else
            unsetenv(s->env[k].name);
        free(s->env[k].saved);
        s->env[k].saved = NULL;
    }
}

/* zl_emu_spawn (cmd) or zl_emu_spawn_one (replica i, cmd NULL) with the programs' environment. */
static int spawn(sc *s, zl_prog_rt *p, const char *cmd, size_t i, char *err, size_t errlen)
{
    int rc;

    env_enter(s);
    rc = cmd ? zl_emu_spawn(s->emu, p, cmd, err, errlen)
             : zl_emu_spawn_one(s->emu, p, i, err, errlen);
    env_leave(s);
    return rc;
}

/* The started program named by the optional program id at idx; the main one when nil. */
static zl_prog_rt *prog_arg(lua_State *L, sc *s, int idx)
{
    const char *id = luaL_optstring(L, idx, NULL);
    char list[600] = "";
    size_t k, len = 0;

    if (!id)
        return s->prog;
    for (k = 0; k < s->n_started; k++)
        if (!strcmp(s->started[k]->prog->program_id, id))
            return s->started[k];
    for (k = 0; k < s->n_started && len < sizeof list; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "",
                                s->started[k]->prog->program_id);
    zl_raise(L, "program \"%s\" is not one the scenario started (started: %s)", id, list);
    return NULL;
}

static size_t replica_arg(lua_State *L, const zl_prog_rt *p, int idx)
{
    lua_Integer i = luaL_checkinteger(L, idx);

    if (!p || i < 0 || (size_t)i >= p->replica_count)
        zl_raise(L, "replica %d of %s does not exist (it has %d, numbered from 0)", (int)i,
                 p ? p->prog->program_id : "the program", p ? (int)p->replica_count : 0);
    return (size_t)i;
}

static int ready_k(lua_State *L, int status, lua_KContext ctx)
{
    sc *s = self(L);
    const zl_replica *r = &s->w.prog->replicas[s->w.replica];
    bool late = s->w.timed_out;

    (void)status, (void)ctx;
    wait_reset(s);
    raise_if_broken(L, s);
    if (late)
        return zl_raise(L, "%s did not listen on port %u in time", r->instance, r->port);
    return 0;
}

/* _zl.program(op, replica, timeout_s?, program_id?): "kill", "pause", "resume", "restart"
 * (waits until it listens) on a replica of the main program or of program_id. */
static int l_program(lua_State *L)
{
    sc *s = waiting(L);
    const char *op = luaL_checkstring(L, 1);
    zl_prog_rt *p = prog_arg(L, s, 4);
    size_t i = replica_arg(L, p, 2);
    char err[256];

    if (!strcmp(op, "kill") || !strcmp(op, "pause") || !strcmp(op, "resume")) {
        int sig = !strcmp(op, "kill") ? SIGKILL : !strcmp(op, "pause") ? SIGSTOP : SIGCONT;

        if (zl_emu_signal_replica(s->emu, p, i, sig) != 0)
            return zl_raise(L, "cannot %s %s: it is not running", op, p->replicas[i].instance);
        return 0;
    }
    if (strcmp(op, "restart") != 0)
        return zl_raise(L, "program operations are kill, pause, resume and restart");
    if (!p->replicas[i].exited)
        zl_emu_signal_replica(s->emu, p, i, SIGKILL);
    if (spawn(s, p, NULL, i, err, sizeof err) != 0)
        return zl_raise(L, "%s", err);
    /* a crash is raised until its replica is restarted; crashed() finds any other one again */
    s->crash[0] = '\0';
    wait_reset(s);
    s->w.kind = W_READY;
    s->w.prog = p;
    s->w.replica = i;
    s->w.deadline = real_ms() + timeout_arg(L, s, 3);
    return lua_yieldk(L, 0, 0, ready_k);
}

/* _zl.replicas(program_id?) -> the number of replicas of the main program or program_id */
static int l_replicas(lua_State *L)
{
    zl_prog_rt *p = prog_arg(L, running(L), 1);

    lua_pushinteger(L, p ? (lua_Integer)p->replica_count : 0);
    return 1;
}

static void on_raw(zl_engine *e, const zl_http_result *res, void *ud)
{
    sc *s = ud;
    size_t i;

    (void)e;
    if (s->w.kind != W_HTTP)
        return;
    s->w.done = true;
    s->w.status = res->status;
    if (res->curl_code)
        s->w.error = strdup(res->error ? res->error : "transfer failed");
    for (i = 0; i < res->n_headers; i++)
        if (!strcasecmp(res->header_names[i], ZONE_WIRE_H_EXCEPTION))
            s->w.body = strdup(res->header_values[i]);
}

static int raw_k(lua_State *L, int status, lua_KContext ctx)
{
    sc *s = self(L);

    (void)status, (void)ctx;
    raise_if_broken(L, s);
    if (s->w.timed_out || s->w.error) {
        lua_pushnil(L);
        lua_pushstring(L, s->w.error ? s->w.error : "timeout");
        wait_reset(s);
        return 2;
    }
    lua_pushinteger(L, s->w.status);
    if (s->w.body)
        lua_pushstring(L, s->w.body); /* the ww-exception code the program's SDK saw */
    else
        lua_pushnil(L);
    wait_reset(s);
    return 2;
}

/* _zl.program_request(replica, data, recase?, program_id?) -> status, ww-exception or nil: a
 * sealed callback (call_type 1, ability get_callback_data) sent to a replica of the main
 * program or of program_id, with the header names re-cased the way some HTTP frameworks do
 * when recase is true. */
static int l_program_request(lua_State *L)
{
    sc *s = waiting(L);
    zl_prog_rt *p = prog_arg(L, s, 4);
    size_t i = replica_arg(L, p, 1);
    const char *data = luaL_optstring(L, 2, "{}");
    bool recase = lua_toboolean(L, 3);
    zone_wire_callback cb = {0};
    zone_wire_sealed_headers h;
    char *plain, *body = NULL, url[96], hv[4][300];
    const char *headers[4] = {hv[0], hv[1], hv[2], hv[3]};
    zl_http_request req = {.method = "POST", .url = url, .headers = headers, .n_headers = 4};

    cb.corpid = strdup(p->corp->corpid);
    cb.data = strdup(data);
    cb.job_info = strdup("");
    cb.ability_id = strdup("get_callback_data");
    cb.notify_id = strdup("");
    cb.req_id = strdup("00000000000000aa");
    cb.call_type = 1;
    cb.agentid = p->prog->agentid_count ? p->prog->agentids[0] : 0;
    plain = zone_wire_callback_encode(&cb);
    zone_wire_callback_cleanup(&cb);
    if (!plain || zone_wire_seal(&p->keys, NULL, "POST", ZONE_WIRE_CALLBACK_PATH, plain,
                                 strlen(plain), &h, &body) != ZONE_WIRE_OK) {
        free(plain);
        return zl_raise(L, "cannot seal the request");
    }
    free(plain);
    snprintf(hv[0], sizeof hv[0], "%s: %s", recase ? "Ww-Secret-Ver" : "ww-secret-ver",
             h.secret_ver);
    snprintf(hv[1], sizeof hv[1], "%s: %s", recase ? "Ww-Timestamp" : "ww-timestamp", h.timestamp);
    snprintf(hv[2], sizeof hv[2], "%s: %s", recase ? "Ww-Nonce" : "ww-nonce", h.nonce);
    snprintf(hv[3], sizeof hv[3], "%s: %s", recase ? "Ww-Signature" : "ww-signature", h.signature);
    snprintf(url, sizeof url, "%s/", p->replicas[i].url);
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = s->opt.step_timeout_ms;
    wait_reset(s);
    s->w.kind = W_HTTP;
    s->w.deadline = real_ms() + s->opt.step_timeout_ms + 1000;
    if (zl_engine_http(s->engine, &req, on_raw, s) != 0) {
        free(body);
        return zl_raise(L, "cannot start the request");
    }
    free(body);
    return lua_yieldk(L, 0, 0, raw_k);
}

/* _zl.backend(fn or nil): fn(api, request) answers the SDK hook (see prelude.lua). */
static int l_backend(lua_State *L)
{
    sc *s = self(L);

    if (s->backend_ref != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, s->backend_ref);
    s->backend_ref = LUA_NOREF;
    if (lua_isfunction(L, 1)) {
        lua_pushvalue(L, 1);
        s->backend_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

/* _zl.info() -> {replicas, program_id, corpid, agentid, secret, file} */
static int l_info(lua_State *L)
{
    sc *s = self(L);

    if (!s->world)
        return zl_raise(L, "the emulator starts after the file is loaded: use this inside a test");
    lua_newtable(L);
    lua_pushinteger(L, s->prog ? (lua_Integer)s->prog->replica_count : 0);
    lua_setfield(L, -2, "replicas");
    lua_pushstring(L, s->prog ? s->prog->prog->program_id : "");
    lua_setfield(L, -2, "program_id");
    lua_pushstring(L, s->world->corps[0].corpid);
    lua_setfield(L, -2, "corpid");
    lua_pushinteger(L, s->world->corps[0].app_count ? s->world->corps[0].apps[0].agentid : 0);
    lua_setfield(L, -2, "agentid");
    lua_pushstring(L, s->world->corps[0].app_count ? s->world->corps[0].apps[0].secret : "");
    lua_setfield(L, -2, "secret");
    lua_pushstring(L, s->path);
    lua_setfield(L, -2, "file");
    return 1;
}

/* The SDK hook: asks the scenario's backend function what to do with this invoke. */
static int traceback(lua_State *L)
{
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

static int hook(void *ud, const char *api, const cJSON *request, cJSON **reply, long *delay_ms)
{
    sc *s = ud;
    lua_State *L = s->L;
    int top = lua_gettop(L), rc = ZL_HOOK_PASS;
    const char *why = "";

    if (s->backend_ref == LUA_NOREF)
        return ZL_HOOK_PASS;
    lua_pushcfunction(L, traceback);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->backend_ref);
    lua_pushstring(L, api);
    push_json(L, request, 0);
    if (lua_pcall(L, 2, 1, top + 1) != LUA_OK) {
        snprintf(s->pending_error, sizeof s->pending_error, "a backend script failed: %s",
                 lua_tostring(L, -1));
        lua_settop(L, top);
        return ZL_HOOK_PASS;
    }
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "action");
        const char *action = lua_tostring(L, -1);

        lua_pop(L, 1);
        if (action && !strcmp(action, "reply")) {
            lua_getfield(L, -1, "reply");
            *reply = to_json(L, -1, 0, &why);
            lua_pop(L, 1);
            rc = *reply ? ZL_HOOK_REPLY : ZL_HOOK_PASS;
            if (!*reply)
                snprintf(s->pending_error, sizeof s->pending_error,
                         "a backend reply for %s is not JSON: %s", api, why);
        } else if (action && !strcmp(action, "reset")) {
            rc = ZL_HOOK_RESET;
        } else if (action && !strcmp(action, "garbage")) {
            rc = ZL_HOOK_GARBAGE;
        } else if (action && !strcmp(action, "delay")) {
            lua_getfield(L, -1, "delay_ms");
            *delay_ms = (long)lua_tointeger(L, -1);
            lua_pop(L, 1);
            rc = ZL_HOOK_DELAY;
        }
    }
    lua_settop(L, top);
    return rc;
}

/* ---- the test app ---- */

static void answer_late(zl_engine *e, void *ud)
{
    (void)e;
    zl_request_respond(ud, 200, "text/plain", "too late", 8);
}

/*
 * An app's callback URL served by the emulator itself: it verifies the URL and decrypts
 * program_notify as the app must (with that app's Token and EncodingAESKey), answering the
 * first test_app_fail POSTs only after the emulator's per-try timeout, so they count as
 * timeouts and are tried again.
 */
static void on_test_app(zl_engine *e, zl_request *r, void *ud)
{
    sc *s = ud;
    const char *sig = zl_request_query(r, "msg_signature"), *ts = zl_request_query(r, "timestamp"),
               *nonce = zl_request_query(r, "nonce");
    zl_wxcrypt *c;
    char *msg = NULL;
    size_t len = 0;
    int err = 0, rc;

    if (!s->test_app || !sig || !ts || !nonce ||
        !(c = zl_wxcrypt_new(s->test_app->token, s->test_app->encoding_aes_key,
                             s->world->corps[0].corpid, &err))) {
        zl_request_respond(r, 400, "text/plain", "bad callback\n", 13);
        return;
    }
    if (!strcmp(zl_request_method(r), "GET")) {
        const char *echo = zl_request_query(r, "echostr");

        rc = echo ? zl_wxcrypt_verify_url(c, sig, ts, nonce, echo, &msg, &len) : -1;
        if (rc == 0)
            zl_request_respond(r, 200, "text/plain", msg, len);
        else
            zl_request_respond(r, 403, "text/plain", "verification failed\n", 20);
    } else if (s->test_app_fail > 0) {
        s->test_app_fail--;
        zl_engine_timer(e, zl_emu_now_ms(s->emu) + s->emu->opt.app_callbacks.timeout_ms + 1000,
                        answer_late, r);
    } else {
        rc = zl_wxcrypt_decrypt_msg(c, sig, ts, nonce, zl_request_body(r), zl_request_body_len(r),
                                    &msg, &len);
        if (rc == 0) {
            cJSON *o = cJSON_CreateObject();
            const char *tag = "<NotifyId><![CDATA[", *a = strstr(msg, tag);
            const char *b = a ? strstr(a + strlen(tag), "]]>") : NULL;

            if (b) {
                char *id = strndup(a + strlen(tag), (size_t)(b - a - strlen(tag)));

                cJSON_AddStringToObject(o, "notify_id", id ? id : "");
                free(id);
            }
            cJSON_AddStringToObject(o, "xml", msg);
            cJSON_AddItemToArray(s->test_app_got, o);
            zl_request_respond(r, 200, "text/plain", "success", 7);
        } else {
            zl_request_respond(r, 403, "text/plain", "decryption failed\n", 18);
        }
    }
    free(msg);
    zl_wxcrypt_free(c);
}

/* _zl.test_app(fail_times) -> url: points the first app's callback URL at the test app. */
static int l_test_app(lua_State *L)
{
    sc *s = running(L);
    lua_Integer fail = luaL_optinteger(L, 1, 0);

    if (fail < 0 || fail > 100)
        return zl_raise(L, "test_app{fail=} takes 0 to 100");
    if (!s->world->corps[0].app_count)
        return zl_raise(L, "the world has no app");
    s->test_app = &s->world->corps[0].apps[0];
    s->test_app_fail = (int)fail;
    snprintf(s->test_app_url, sizeof s->test_app_url, "http://127.0.0.1:%u/_zonelab/test-app",
             zl_engine_port(s->engine));
    s->test_app->callback_url = s->test_app_url; /* the console's "change the URL" */
    lua_pushstring(L, s->test_app_url);
    return 1;
}

/* _zl.step_timeout() -> the default wait, in seconds */
static int l_step_timeout(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)self(L)->opt.step_timeout_ms / 1000);
    return 1;
}

/* _zl.monotonic_ms() -> real milliseconds, for timeouts computed in Lua */
static int l_monotonic_ms(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)real_ms());
    return 1;
}

/* _zl.test_app_received() -> what the test app decrypted: {notify_id, xml}... */
static int l_test_app_received(lua_State *L)
{
    push_json(L, running(L)->test_app_got, 0);
    return 1;
}

/* ---- the file: scenario{} and test() ---- */

static int l_scenario(lua_State *L)
{
    sc *s = self(L);
    const char *why = "";

    luaL_checktype(L, 1, LUA_TTABLE);
    if (s->config)
        return zl_raise(L, "scenario{} is given twice");
    if (!(s->config = to_json(L, 1, 0, &why)) || !cJSON_IsObject(s->config))
        return zl_raise(L, "scenario{}: %s", why[0] ? why : "give a table of settings");
    return 0;
}

static int l_test(lua_State *L)
{
    sc *s = self(L);
    const char *name = luaL_checkstring(L, 1);
    size_t i;

    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (s->n_tests == MAX_TESTS)
        return zl_raise(L, "at most %d tests in a file", MAX_TESTS);
    for (i = 0; i < s->n_tests; i++)
        if (!strcmp(s->tests[i].name, name))
            return zl_raise(L, "two tests are named \"%s\"", name);
    lua_pushvalue(L, 2);
    s->tests[s->n_tests].ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s->tests[s->n_tests].name = strdup(name);
    s->n_tests++;
    return 0;
}

/* A step budget: a script that loops without yielding still ends at the scenario deadline. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    sc *s;

    (void)ar;
    lua_getfield(L, LUA_REGISTRYINDEX, "zonelab.sc");
    s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (s && real_ms() >= s->scenario_deadline)
        luaL_error(L, "the scenario ran out of time (%d ms) in a loop that never waits",
                   (int)s->opt.scenario_timeout_ms);
}

static lua_State *new_state(sc *s)
{
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},
                                    {LUA_COLIBNAME, luaopen_coroutine},
                                    {NULL, NULL}};
    static const luaL_Reg prims[] = {{"http", l_http},
                                     {"sleep", l_sleep},
                                     {"wait_inbox", l_wait_inbox},
                                     {"wait_journal", l_wait_journal},
                                     {"journal", l_journal},
                                     {"inbox", l_inbox},
                                     {"program", l_program},
                                     {"replicas", l_replicas},
                                     {"program_request", l_program_request},
                                     {"backend", l_backend},
                                     {"info", l_info},
                                     {"test_app", l_test_app},
                                     {"monotonic_ms", l_monotonic_ms},
                                     {"where", l_where},
                                     {"step_timeout", l_step_timeout},
                                     {"test_app_received", l_test_app_received},
                                     {"json_encode", l_json_encode},
                                     {"json_decode", l_json_decode},
                                     {NULL, NULL}};
    static const char *const unsafe[] = {"dofile", "loadfile", "load", "collectgarbage", NULL};
    lua_State *L = luaL_newstate();
    const luaL_Reg *lib;
    size_t i;

    if (!L)
        return NULL;
    for (lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    for (i = 0; unsafe[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, unsafe[i]);
    }
    lua_pushlightuserdata(L, s);
    lua_setfield(L, LUA_REGISTRYINDEX, "zonelab.sc");
    lua_newtable(L);
    lua_pushlightuserdata(L, s);
    luaL_setfuncs(L, prims, 1);
    lua_setglobal(L, "_zl");
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, l_scenario, 1);
    lua_setglobal(L, "scenario");
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, l_test, 1);
    lua_setglobal(L, "test");
    lua_newtable(L); /* vars: zonelab run --var NAME=VALUE, strings */
    for (i = 0; i < s->opt.n_vars; i++) {
        const char *eq = strchr(s->opt.vars[i], '=');

        if (!eq)
            continue;
        lua_pushlstring(L, s->opt.vars[i], (size_t)(eq - s->opt.vars[i]));
        lua_pushstring(L, eq + 1);
        lua_rawset(L, -3);
    }
    lua_setglobal(L, "vars");
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1000000);
    return L;
}

/* ---- building the emulator the scenario asked for ---- */

static const char *cfg_str(const sc *s, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->config, key);

    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static long cfg_int(const sc *s, const char *key, long dflt, long min, long max, char *err,
                    size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->config, key);

    if (!v)
        return dflt;
    if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max) {
        snprintf(err, errlen, "scenario{}.%s must be a number from %ld to %ld", key, min, max);
        return LONG_MIN;
    }
    return (long)v->valuedouble;
}

static const char *const config_keys[] = {"world",
                                          "program",
                                          "program_id",
                                          "replicas",
                                          "routing",
                                          "sync_budget",
                                          "program_timeout_ms",
                                          "event_timeout_ms",
                                          "app_callback_timeout_ms",
                                          "seed",
                                          "programs",
                                          "env",
                                          NULL};

static bool env_name_ok(const char *n)
{
    if (!(*n == '_' || (*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z')))
        return false;
    for (n++; *n; n++)
        if (!(*n == '_' || (*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') ||
              (*n >= '0' && *n <= '9')))
            return false;
    return true;
}

/* value with every "{dir}" replaced by dir (owned; NULL when memory runs out). */
static char *with_dir(const char *value, const char *dir)
{
    zl_sbuf b = {0};
    const char *p = value, *q;

    while ((q = strstr(p, "{dir}"))) {
        zl_sbuf_add(&b, p, (size_t)(q - p));
        zl_sbuf_str(&b, dir);
        p = q + 5;
    }
    zl_sbuf_str(&b, p);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s ? b.s : strdup("");
}

/*
 * s->env from ZONELAB_WORK_DIR and scenario{}.env: NAME = "value" ({dir} is dir, the scenario
 * file's folder made absolute) or NAME = integer. -1 with err for a bad table, name or value.
 */
static int env_parse(sc *s, const char *dir, char *err, size_t errlen)
{
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(s->config, "env"), *e;
    char *abs = NULL;
    int rc = -1;

    if (env && !cJSON_IsObject(env)) {
        snprintf(err, errlen, "scenario{}.env is a table of NAME = \"value\"");
        return -1;
    }
    /* one more, zeroed: the end for zl_scenario_run's free */
    if (!(s->env = calloc(2 + (size_t)cJSON_GetArraySize(env), sizeof *s->env)) ||
        !(s->env[0].name = strdup("ZONELAB_WORK_DIR")) ||
        !(s->env[0].value = strdup(s->opt.work_dir)))
        goto oom;
    s->n_env = 1;
    if (env && env->child && !(abs = realpath(dir, NULL))) {
        snprintf(err, errlen, "scenario{}.env: cannot make the folder %s absolute: %s", dir,
                 strerror(errno));
        return -1;
    }
    cJSON_ArrayForEach(e, env)
    {
        env_var *v = &s->env[s->n_env];
        char num[32];
        double d = e->valuedouble;

        if (!env_name_ok(e->string)) {
            snprintf(err, errlen,
                     "scenario{}.env: \"%s\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
                     e->string);
            goto out;
        }
        if (!strncmp(e->string, "ZONELAB_", 8)) {
            snprintf(err, errlen,
                     "scenario{}.env.%s: names starting with ZONELAB_ are the emulator's own",
                     e->string);
            goto out;
        }
        if (cJSON_IsNumber(e) && d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
            d == (double)(long long)d) {
            snprintf(num, sizeof num, "%lld", (long long)d);
        } else if (!cJSON_IsString(e)) {
            snprintf(err, errlen, "scenario{}.env.%s must be a string (or an integer)", e->string);
            goto out;
        }
        if (!(v->name = strdup(e->string)) ||
            !(v->value = with_dir(cJSON_IsString(e) ? e->valuestring : num, abs)))
            goto oom;
        s->n_env++;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    free(abs);
    return rc;
}

/*
 * s->started: the main program, then every program of scenario{}.programs (program_id =
 * command, or true for the main one's command), in program id order; cmds[k] the command of
 * started[k] (borrowed). -1 with err for a bad table, an unknown id, the main program's id, a bad
 * value.
 */
static int programs_parse(sc *s, const char *main_cmd, const char **cmds, char *err, size_t errlen)
{
    const cJSON *programs = cJSON_GetObjectItemCaseSensitive(s->config, "programs"), *e;
    size_t k;

    s->started[0] = s->prog;
    cmds[0] = main_cmd;
    s->n_started = 1;
    if (programs && !cJSON_IsObject(programs)) {
        snprintf(err, errlen,
                 "scenario{}.programs is a table of [\"<program_id>\"] = \"<command>\" or true");
        return -1;
    }
    cJSON_ArrayForEach(e, programs)
    {
        zl_prog_rt *p = NULL;

        for (k = 0; k < s->emu->prog_count && !p; k++)
            if (!strcmp(s->emu->progs[k].prog->program_id, e->string))
                p = &s->emu->progs[k];
        if (!p) {
            char list[600] = "";
            size_t len = 0;

            for (k = 0; k < s->emu->prog_count && len < sizeof list; k++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "",
                                        s->emu->progs[k].prog->program_id);
            snprintf(err, errlen,
                     "scenario{}.programs[\"%s\"] names no program of the world (its programs: "
                     "%s)",
                     e->string, list);
            return -1;
        }
        if (p == s->prog) {
            snprintf(err, errlen,
                     "scenario{}.programs[\"%s\"] is the main program (program_id); list only "
                     "the other programs to start",
                     e->string);
            return -1;
        }
        if (cJSON_IsTrue(e)) {
            cmds[s->n_started] = main_cmd;
        } else if (cJSON_IsString(e) && e->valuestring[0]) {
            cmds[s->n_started] = e->valuestring;
        } else {
            snprintf(err, errlen,
                     "scenario{}.programs[\"%s\"] is a shell command (a non-empty string) or "
                     "true (the main program's command)",
                     e->string);
            return -1;
        }
        s->started[s->n_started++] = p;
    }
    return 0;
}

static int build(sc *s, char *err, size_t errlen)
{
    zl_server_config scfg;
    const cJSON *world = cJSON_GetObjectItemCaseSensitive(s->config, "world");
    const char *program_id = cfg_str(s, "program_id", NULL), *cmd, **cmds = NULL;
    const char *routing = cfg_str(s, "routing", "sticky");
    char dir[600], path[1200], *slash;
    long replicas, v;
    size_t i, q;
    int64_t deadline;
    int rc = -1;

    {
        const cJSON *k;

        cJSON_ArrayForEach(k, s->config)
        {
            for (i = 0; config_keys[i] && strcmp(config_keys[i], k->string); i++)
                ;
            if (!config_keys[i]) {
                snprintf(err, errlen,
                         "scenario{} has no setting \"%s\" (settings: world, program, "
                         "program_id, programs, replicas, routing, sync_budget, "
                         "program_timeout_ms, event_timeout_ms, app_callback_timeout_ms, seed, "
                         "env)",
                         k->string);
                return -1;
            }
        }
    }
    snprintf(dir, sizeof dir, "%s", s->path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (!world || (cJSON_IsString(world) && !strcmp(world->valuestring, "default"))) {
        s->world = zl_world_load_default(err, errlen);
    } else if (cJSON_IsString(world)) {
        if (world->valuestring[0] == '/')
            snprintf(path, sizeof path, "%s", world->valuestring);
        else
            snprintf(path, sizeof path, "%s/%s", dir, world->valuestring);
        s->world = zl_world_load_file(path, err, errlen);
    } else if (cJSON_IsObject(world)) {
        char *text = cJSON_PrintUnformatted(world);

        s->world = text ? zl_world_load_json(text, strlen(text), dir, err, errlen) : NULL;
        cJSON_free(text);
    } else {
        snprintf(err, errlen, "scenario{}.world is \"default\", a world file or a world table");
        return -1;
    }
    if (!s->world)
        return -1;
    if (strcmp(routing, "sticky") != 0 && strcmp(routing, "any") != 0) {
        snprintf(err, errlen, "scenario{}.routing is \"sticky\" or \"any\"");
        return -1;
    }
    zl_server_config_default(&scfg);
    scfg.opt.notify_any = !strcmp(routing, "any");
    scfg.opt.journal_replies = true; /* a failing file's journal can be replayed (docs/replay.md) */
    if ((v = cfg_int(s, "sync_budget", scfg.opt.sync_budget_per_min, 0, 1000000, err, errlen)) ==
        LONG_MIN)
        return -1;
    scfg.opt.sync_budget_per_min = (int)v;
    if ((v = cfg_int(s, "program_timeout_ms", 5000, 1, 600000, err, errlen)) == LONG_MIN)
        return -1;
    scfg.opt.program_timeout_ms = v;
    if ((v = cfg_int(s, "event_timeout_ms", 5000, 1, 600000, err, errlen)) == LONG_MIN)
        return -1;
    scfg.opt.event_timeout_ms = v;
    if ((v = cfg_int(s, "app_callback_timeout_ms", 2000, 1, 600000, err, errlen)) == LONG_MIN)
        return -1;
    scfg.opt.app_callbacks.timeout_ms = v;
    if ((v = cfg_int(s, "seed", (long)(s->opt.seed & 0x7fffffff), 0, 0x7fffffff, err, errlen)) ==
        LONG_MIN)
        return -1;
    scfg.engine.seed = (uint64_t)v;
    scfg.journal_cap = 1000000;
    scfg.version = "scenario";
    s->srv = zl_server_new(s->world, &scfg, err, errlen);
    s->world = NULL; /* taken, even on failure */
    if (!s->srv)
        return -1;
    s->world = s->srv->world;
    s->engine = s->srv->engine;
    s->journal = s->srv->journal;
    s->emu = s->srv->emu;
    s->emu->log_dir = s->opt.work_dir;
    s->emu->sdk_hook = hook;
    s->emu->sdk_hook_ud = s;
    if (!(s->test_app_got = cJSON_CreateArray()) ||
        zl_engine_route(s->engine, NULL, "/_zonelab/test-app", on_test_app, s) != 0) {
        snprintf(err, errlen, "cannot install the test app");
        return -1;
    }
    if (zl_server_start(s->srv, err, errlen) != 0)
        return -1;
    for (i = 0; i < s->emu->prog_count && !s->prog; i++)
        if (!program_id || !strcmp(s->emu->progs[i].prog->program_id, program_id))
            s->prog = &s->emu->progs[i];
    if (!s->prog) {
        snprintf(err, errlen, "scenario{}.program_id names no program of the world");
        return -1;
    }
    if ((replicas = cfg_int(s, "replicas", (long)s->prog->replica_count, 1, 16, err, errlen)) ==
        LONG_MIN)
        return -1;
    if ((size_t)replicas != s->prog->replica_count &&
        zl_emu_set_replicas(s->emu, s->prog, (size_t)replicas, err, errlen) != 0)
        return -1;
    cmd = cfg_str(s, "program", s->opt.program);
    if (!cmd || !*cmd) {
        snprintf(err, errlen,
                 "no program to run: give scenario{}.program or zonelab run --program");
        return -1;
    }
    if (env_parse(s, dir, err, errlen) != 0)
        return -1;
    if (!(s->started = calloc(s->emu->prog_count, sizeof *s->started)) ||
        !(cmds = calloc(s->emu->prog_count, sizeof *cmds))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (programs_parse(s, cmd, cmds, err, errlen) != 0)
        goto out;
    for (q = 0; q < s->n_started; q++)
        if (spawn(s, s->started[q], cmds[q], 0, err, errlen) != 0)
            goto out;
    /* every replica of every program listens before the first test (the engine keeps turning
     * meanwhile); 15 s in all */
    deadline = real_ms() + 15000;
    for (q = 0; q < s->n_started; q++)
        for (i = 0; i < s->started[q]->replica_count; i++) {
            wait_reset(s);
            s->w.kind = W_READY;
            s->w.prog = s->started[q];
            s->w.replica = i;
            s->w.deadline = deadline;
            drive(s);
            if (s->crash[0] || s->w.timed_out) {
                if (s->crash[0])
                    snprintf(err, errlen, "%s", s->crash);
                else
                    snprintf(err, errlen, "program %s did not listen on port %u within 15 s",
                             s->started[q]->replicas[i].instance, s->started[q]->replicas[i].port);
                wait_reset(s);
                goto out;
            }
        }
    wait_reset(s);
    rc = 0;
out:
    free(cmds);
    return rc;
}

/* ---- running ---- */

static cJSON *result_test(cJSON *tests, const char *name, const char *status, const char *msg,
                          double seconds)
{
    cJSON *t = cJSON_CreateObject();

    cJSON_AddStringToObject(t, "name", name);
    cJSON_AddStringToObject(t, "status", status);
    if (msg)
        cJSON_AddStringToObject(t, "message", msg);
    cJSON_AddNumberToObject(t, "seconds", seconds);
    cJSON_AddItemToArray(tests, t);
    return t;
}

/* Runs test i as a coroutine; 0 passed, else *msg (owned) says why. */
static int run_test(sc *s, size_t i, char **msg)
{
    lua_State *L = s->L, *co = lua_newthread(L);
    int nres, status;

    *msg = NULL;
    s->crash[0] = '\0';
    s->pending_error[0] = '\0';
    s->n_cursors = 1;
    snprintf(s->cursors[0].key, sizeof s->cursors[0].key, "(test start)");
    s->cursors[0].seq = zl_journal_last(s->journal);
    s->inbox_start = zl_appnotify_inbox_last(s->emu->notify_out);
    lua_sethook(co, count_hook, LUA_MASKCOUNT, 1000000);
    s->test_thread = co;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->tests[i].ref);
    lua_xmove(L, co, 1);
    status = lua_resume(co, L, 0, &nres);
    while (status == LUA_YIELD) {
        lua_pop(co, nres);
        if (s->w.kind == W_NONE) { /* a coroutine.yield() of the script's own */
            status = LUA_ERRRUN;
            lua_pushstring(co, "a test must not yield by itself (use sleep or a wait verb)");
            break;
        }
        drive(s);
        status = lua_resume(co, L, 0, &nres);
    }
    if (status != LUA_OK) {
        const char *m = lua_tostring(co, -1);

        luaL_traceback(L, co, m ? m : "(an error that is not a string)", 0);
        *msg = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    wait_reset(s);
    lua_pop(L, 1); /* the thread */
    if (!*msg && s->crash[0])
        *msg = strdup(s->crash);
    return *msg ? -1 : 0;
}

cJSON *zl_scenario_run(const char *path, const zl_scenario_options *o)
{
    sc *s = calloc(1, sizeof *s);
    cJSON *out = cJSON_CreateObject(), *tests;
    int64_t t0 = real_ms();
    char err[1200] = "", *prelude_name = "=prelude.lua";
    bool failed = false;
    size_t i;

    if (!s || !out) {
        free(s);
        cJSON_Delete(out);
        return NULL;
    }
    cJSON_AddStringToObject(out, "file", path);
    tests = cJSON_AddArrayToObject(out, "tests");
    s->path = path;
    s->opt = *o;
    if (s->opt.step_timeout_ms <= 0)
        s->opt.step_timeout_ms = 10000;
    if (s->opt.scenario_timeout_ms <= 0)
        s->opt.scenario_timeout_ms = 120000;
    s->backend_ref = LUA_NOREF;
    s->scenario_deadline = t0 + s->opt.scenario_timeout_ms;
    if (!(s->L = new_state(s))) {
        result_test(tests, "(load)", "error", "out of memory", 0);
        goto done;
    }
    if (luaL_loadbuffer(s->L, (const char *)zl_scenario_prelude, zl_scenario_prelude_len,
                        prelude_name) != LUA_OK ||
        lua_pcall(s->L, 0, 0, 0) != LUA_OK) {
        result_test(tests, "(load)", "error", lua_tostring(s->L, -1), 0);
        goto done;
    }
    if (luaL_loadfile(s->L, path) != LUA_OK || lua_pcall(s->L, 0, 0, 0) != LUA_OK) {
        result_test(tests, "(load)", "error", lua_tostring(s->L, -1), 0);
        failed = true;
        goto done;
    }
    if (!s->config)
        s->config = cJSON_CreateObject();
    if (s->n_tests == 0) {
        result_test(tests, "(load)", "error", "the file declares no test(name, fn)", 0);
        failed = true;
        goto done;
    }
    if (build(s, err, sizeof err) != 0) {
        result_test(tests, "(setup)", "error", err, (double)(real_ms() - t0) / 1000);
        failed = true;
        goto done;
    }
    for (i = 0; i < s->n_tests; i++) {
        char full[700], *msg = NULL;
        int64_t ts = real_ms();
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

        snprintf(full, sizeof full, "%s: %s", base, s->tests[i].name);
        if (s->opt.filter && !strstr(full, s->opt.filter)) {
            result_test(tests, s->tests[i].name, "skip", NULL, 0);
            continue;
        }
        if (real_ms() >= s->scenario_deadline) {
            result_test(tests, s->tests[i].name, "error", "not run: the scenario ran out of time",
                        0);
            failed = true;
            continue;
        }
        if (run_test(s, i, &msg) == 0) {
            result_test(tests, s->tests[i].name, "pass", NULL, (double)(real_ms() - ts) / 1000);
        } else {
            result_test(tests, s->tests[i].name, "fail", msg, (double)(real_ms() - ts) / 1000);
            failed = true;
        }
        free(msg);
    }
done:
    if (failed && s->journal) {
        char *log = program_log(s, 20, NULL);

        cJSON_AddItemToObject(out, "journal", zl_journal_since(s->journal, 0, 1000000));
        if (log && *log)
            cJSON_AddStringToObject(out, "program_log", log);
        free(log);
    }
    if (s->srv)
        zl_server_free(s->srv);
    else
        zl_world_free(s->world);
    wait_reset(s);
    if (s->L)
        lua_close(s->L);
    for (i = 0; i < s->n_tests; i++)
        free(s->tests[i].name);
    cJSON_Delete(s->config);
    cJSON_Delete(s->test_app_got);
    free(s->started);
    for (i = 0; s->env && s->env[i].name; i++) {
        free(s->env[i].name);
        free(s->env[i].value);
    }
    free(s->env);
    free(s);
    cJSON_AddNumberToObject(out, "seconds", (double)(real_ms() - t0) / 1000);
    return out;
}
