/* scenario_int.h: internal to the scenario module (scenario.c, sandbox.c, primitives.c,
 * luajson.c, testapp.c): the state of one scenario file and what the pieces call of each
 * other. Nothing outside emulator/src/scenario/ includes it. */
#ifndef ZL_SCENARIO_INT_H
#define ZL_SCENARIO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>

#include "emu/emu.h"
#include "faces/server.h"
#include "scenario/scenario.h"

#define MAX_TESTS   512
#define MAX_CURSORS 64

enum wait_kind { W_NONE, W_HTTP, W_SLEEP, W_INBOX, W_JOURNAL, W_READY, W_SETTLE };

/* What the running test waits for: set by a primitive before it yields, checked by the
 * driver while it turns the engine, read by the primitive's continuation. */
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
    /* W_READY: a replica, or a developer's machine (zl_prog_rt.dev) */
    zl_replica *rep;
    /* W_SETTLE: looks in a row that found the engine idle */
    int quiet;
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

/* One scenario file being run: its Lua state, its emulator, its programs, the wait. */
typedef struct sc {
    lua_State *L;
    const char *path;
    zl_scenario_options opt;
    cJSON *config;
    cJSON *options; /* the options the file sets, flat (scenario_options) */
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
    long steps; /* Lua instructions run, counted by the hook, against opt.max_steps */
    char crash[1200];
    char *lib_dir; /* the scenario root's lib/ once require() looked for it, or NULL */
    /* the test app: an app server inside the emulator whose deliveries a scenario can fail */
    char test_app_url[128];
    zl_app *test_app;
    int test_app_fail; /* POSTs still to leave unanswered past the timeout */
    cJSON *test_app_got;
} sc;

/* Real (monotonic) milliseconds: waits and deadlines, never the emulator's virtual clock. */
static inline int64_t real_ms(void)
{
    return zl_clock_mono_ms();
}

/* The scenario of a C function registered with it as upvalue 1 (every one in the sandbox). */
static inline sc *self(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* ---- scenario.c: the driver ---- */

/* Frees what the last wait held and sets s->w back to W_NONE. */
void zl_scenario_wait_reset(sc *s);

/* Whether journal entry matches every field of filter (a subtable matches a sub-object). */
bool zl_scenario_entry_matches(const cJSON *entry, const cJSON *filter);

/* zl_emu_spawn (cmd) or zl_emu_spawn_one (replica i, cmd NULL) with the programs'
 * environment; 0, or -1 with err. */
int zl_scenario_spawn(sc *s, zl_prog_rt *p, const char *cmd, size_t i, char *err, size_t errlen);
/* zl_emu_spawn_dev (cmd NULL: p's command) with the programs' environment; 0, or -1 with err. */
int zl_scenario_spawn_dev(sc *s, zl_prog_rt *p, const char *cmd, char *err, size_t errlen);

/* ---- sandbox.c: the Lua state ---- */

/* A new Lua state for s: the chosen libraries, the primitives in _zl, scenario(), test(),
 * vars, and the prelude run. NULL with err (owned by the caller, room for errlen) when it
 * cannot be made. */
lua_State *zl_sandbox_new(sc *s, char *err, size_t errlen);
/* Compiles the prelude once for this process and the processes it forks (sandbox.c). */
void zl_sandbox_prepare(void);

/* The one way into Lua from C: lua_pcall of the function below its nargs arguments, with a
 * message handler that adds the stack traceback. LUA_OK with nresults results on the stack,
 * or an error status with the message (traceback included) on top. */
int zl_sandbox_pcall(lua_State *L, int nargs, int nresults);

/* lua_resume of a test's coroutine co from L. On an error status the message, with co's
 * traceback, is on top of L. */
int zl_sandbox_resume(lua_State *co, lua_State *L, int *nres);

/* Pushes onto L msg (NULL: not a string) with co's stack traceback, or msg as is when a
 * traceback was already added to it. */
void zl_sandbox_traceback(lua_State *L, lua_State *co, const char *msg);

/* The step budget hook: raises once the scenario's deadline has passed. */
void zl_sandbox_count_hook(lua_State *L, lua_Debug *ar);
/* Sets zl_sandbox_count_hook on L (a state or a test's coroutine) at the interval s needs. */
void zl_sandbox_set_hook(sc *s, lua_State *L);

/* "file:line: " of the innermost frame of the scenario file into out (n bytes), else of a
 * library it required; never the prelude's. "" when there is none. */
void zl_sandbox_where(lua_State *L, char *out, size_t n);

/* luaL_error, but at the scenario's line however deep in the prelude the call is. Does not
 * return. */
int zl_sandbox_raise(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The scenario, raising unless the emulator runs (inside a test). */
sc *zl_sandbox_running(lua_State *L);

/* The scenario, raising unless L is the running test's own coroutine (waits yield). */
sc *zl_sandbox_waiting(lua_State *L);

/* ---- primitives.c: _zl, the C side of the verbs ---- */

extern const luaL_Reg zl_primitives[];

/* The emulator's SDK hook (zl_emu.sdk_hook, ud the scenario): asks the scenario's backend
 * function what to do with an invoke. */
int zl_primitives_sdk_hook(void *ud, const char *api, const cJSON *request, cJSON **reply,
                           long *delay_ms);

/* ---- luajson.c: JSON <-> Lua ---- */

extern const luaL_Reg zl_luajson_primitives[];

/* Pushes j as a Lua value (JSON null is the global null; an empty array is marked with
 * array_mt). NULL pushes null. */
void zl_luajson_push(lua_State *L, const cJSON *j);

/* The Lua value at idx as JSON (caller deletes); NULL with *why set when it cannot be
 * (functions, cycles, keys that are neither strings nor integers). */
cJSON *zl_luajson_to_json(lua_State *L, int idx, const char **why);

/* ---- testapp.c: an app server inside the emulator ---- */

extern const luaL_Reg zl_testapp_primitives[];

/* Routes /_zonelab/test-app of s's engine to the test app; 0, or -1 when it cannot. */
int zl_testapp_install(sc *s);

#endif
