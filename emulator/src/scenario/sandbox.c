/* sandbox: the Lua state of a scenario file: the libraries a scenario may use, the C
 * primitives in _zl, scenario{} and test(), vars, require() of the scenario root's lib/, a
 * step budget, and the prelude (the verbs, prelude.lua, compiled in) run before the file.
 * Every call from C into Lua goes through zl_sandbox_pcall or zl_sandbox_resume, which add a
 * stack traceback to an error. Errors raised for a script name the scenario's line, however
 * deep in the prelude they happen. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lualib.h>

#include "scenario/scenario_int.h"

extern const unsigned char zl_scenario_prelude[];
extern const size_t zl_scenario_prelude_len;

void zl_sandbox_where(lua_State *L, char *out, size_t n)
{
    lua_Debug ar;
    int level, pass;
    sc *s;

    lua_getfield(L, LUA_REGISTRYINDEX, "zonelab.sc");
    s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    out[0] = '\0';
    /* The scenario file's innermost frame, so that a verb a library calls names the line that
     * called the library; else any file's (a library function the emulator calls back). C
     * frames and the prelude (loaded as "=prelude.lua") never. */
    for (pass = 0; pass < 2; pass++)
        for (level = 1; lua_getstack(L, level, &ar); level++) {
            if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0 || ar.source[0] != '@')
                continue;
            if (pass == 0 && (!s || strcmp(ar.source + 1, s->path) != 0))
                continue;
            snprintf(out, n, "%s:%d: ", ar.source + 1, ar.currentline);
            return;
        }
}

int zl_sandbox_raise(lua_State *L, const char *fmt, ...)
{
    char where[600], msg[1200];
    va_list ap;

    zl_sandbox_where(L, where, sizeof where);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_pushfstring(L, "%s%s", where, msg);
    return lua_error(L);
}

/* Verbs that need the emulator: only inside a test (the file loads before it starts). */
sc *zl_sandbox_running(lua_State *L)
{
    sc *s = self(L);

    if (!s->emu)
        zl_sandbox_raise(L, "the emulator starts after the file is loaded: use this inside a test");
    return s;
}

/* Waits yield to the driver: only from the test's own coroutine. */
sc *zl_sandbox_waiting(lua_State *L)
{
    sc *s = zl_sandbox_running(L);

    if (L != s->test_thread)
        zl_sandbox_raise(L, "waits run in the test itself, not in a coroutine the test creates");
    return s;
}

/* ---- the ways into Lua ---- */

#define TRACED "zonelab.traced" /* registry: the last message a traceback was added to */

/* Whether the string at idx is the last message zonelab added a traceback to: an error that
 * passes through a nested call (require inside a test) keeps its first, deepest traceback. */
static bool traced(lua_State *L, int idx)
{
    bool same;

    idx = lua_absindex(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, TRACED);
    same = lua_type(L, idx) == LUA_TSTRING && lua_rawequal(L, idx, -1);
    lua_pop(L, 1);
    return same;
}

static void remember_traced(lua_State *L, int idx)
{
    lua_pushvalue(L, idx);
    lua_setfield(L, LUA_REGISTRYINDEX, TRACED);
}

/* The message handler of zl_sandbox_pcall: the error with L's stack traceback. */
static int traceback(lua_State *L)
{
    if (traced(L, 1))
        return 1;
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    remember_traced(L, -1);
    return 1;
}

int zl_sandbox_pcall(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs, status; /* the function's index */

    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

void zl_sandbox_traceback(lua_State *L, lua_State *co, const char *msg)
{
    if (msg) {
        lua_pushstring(L, msg);
        if (traced(L, -1))
            return;
        lua_pop(L, 1);
    }
    luaL_traceback(L, co, msg ? msg : "(an error that is not a string)", 0);
}

int zl_sandbox_resume(lua_State *co, lua_State *L, int *nres)
{
    int status = lua_resume(co, L, 0, nres);

    if (status != LUA_OK && status != LUA_YIELD)
        zl_sandbox_traceback(L, co, lua_tostring(co, -1));
    return status;
}

/* ---- require: the scenario root's lib/ ---- */

#define LOADED "zonelab.loaded" /* registry: name -> what the library returned */

static char loading; /* its address marks a library being loaded (a require cycle) */

/* Whether path is a folder. */
static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * s->lib_dir: the lib/ folder of the scenario root, the nearest folder holding one from the
 * scenario file's folder up. The walk stops at a folder holding .git (checked first) and never
 * looks at /. Shown relative to the working folder when below it. -1 with why when none.
 */
static int lib_dir_find(sc *s, char *why, size_t n)
{
    char dir[PATH_MAX], cwd[PATH_MAX], probe[PATH_MAX + 8], *slash, *abs;
    size_t clen;

    snprintf(dir, sizeof dir, "%s", s->path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    if (!(abs = realpath(dir, NULL))) {
        snprintf(why, n, "cannot find the folder of %s", s->path);
        return -1;
    }
    snprintf(dir, sizeof dir, "%s", abs);
    free(abs);
    while (strcmp(dir, "/") != 0) {
        snprintf(probe, sizeof probe, "%s/lib", dir);
        if (is_dir(probe))
            break;
        snprintf(probe, sizeof probe, "%s/.git", dir);
        if (access(probe, F_OK) == 0 || !(slash = strrchr(dir, '/'))) {
            snprintf(why, n, "no lib/ folder in %s's folder or above it", s->path);
            return -1;
        }
        slash[slash == dir] = '\0'; /* "/a" -> "/" */
    }
    if (!strcmp(dir, "/")) {
        snprintf(why, n, "no lib/ folder in %s's folder or above it", s->path);
        return -1;
    }
    snprintf(probe, sizeof probe, "%s/lib", dir);
    clen = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    if (clen > 1 && !strncmp(probe, cwd, clen) && probe[clen] == '/')
        s->lib_dir = strdup(probe + clen + 1);
    else
        s->lib_dir = strdup(probe);
    if (!s->lib_dir) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    return 0;
}

/* A library name: words of [A-Za-z0-9_-] joined by dots ("worlds.two_apps" is
 * lib/worlds/two_apps.lua), at most 100 bytes. */
static bool name_ok(const char *name)
{
    size_t len = strlen(name), i;
    bool word = false;

    if (len == 0 || len > 100)
        return false;
    for (i = 0; i < len; i++) {
        char c = name[i];

        if (c == '.') {
            if (!word)
                return false;
            word = false;
        } else if (c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9')) {
            word = true;
        } else {
            return false;
        }
    }
    return word;
}

/* Whether the file at path resolves (symbolic links followed) to a file inside lib. */
static bool inside(const char *path, const char *lib)
{
    char *p = realpath(path, NULL), *l = realpath(lib, NULL);
    size_t n = l ? strlen(l) : 0;
    bool ok = p && l && !strncmp(p, l, n) && p[n] == '/';

    free(p);
    free(l);
    return ok;
}

/* require(name) -> what lib/<name>.lua returned (true when nothing), loaded once per file. */
static int l_require(lua_State *L)
{
    sc *s = self(L);
    const char *name = luaL_checkstring(L, 1);
    char why[PATH_MAX + 100], path[PATH_MAX + 120], *p;

    if (!name_ok(name))
        return zl_sandbox_raise(L,
                                "require(\"%s\"): a library name is words of letters, digits, _ "
                                "and -, joined by dots for folders (\"worlds.two_apps\" is "
                                "lib/worlds/two_apps.lua)",
                                name);
    lua_getfield(L, LUA_REGISTRYINDEX, LOADED);
    lua_getfield(L, -1, name);
    if (lua_touserdata(L, -1) == &loading)
        return zl_sandbox_raise(L, "require(\"%s\"): a require cycle (it is still loading)", name);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    if (!s->lib_dir && lib_dir_find(s, why, sizeof why) != 0)
        return zl_sandbox_raise(L, "require(\"%s\"): %s", name, why);
    snprintf(path, sizeof path, "%s/%s.lua", s->lib_dir, name);
    for (p = path + strlen(s->lib_dir) + 1; *p; p++)
        if (*p == '.' && strcmp(p, ".lua") != 0)
            *p = '/';
    if (access(path, R_OK) != 0)
        return zl_sandbox_raise(L, "require(\"%s\"): there is no %s", name, path);
    if (!inside(path, s->lib_dir))
        return zl_sandbox_raise(L, "require(\"%s\"): %s leads outside %s", name, path, s->lib_dir);
    if (luaL_loadfilex(L, path, "t") != LUA_OK)
        return zl_sandbox_raise(L, "require(\"%s\"): %s", name, lua_tostring(L, -1));
    lua_pushlightuserdata(L, &loading);
    lua_setfield(L, -3, name);
    lua_pushstring(L, name);
    if (zl_sandbox_pcall(L, 1, 1) != LUA_OK) {
        lua_pushnil(L);
        lua_setfield(L, -3, name);
        return lua_error(L); /* the library's own error, at its line, with its traceback */
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
    return 1;
}

/* _zl.traceback_names(name, t): tracebacks name a function found in t name.field (with "_G",
 * plain field), as Lua does for its libraries: the locked globals (prelude.lua) live in
 * tables that are not _G's own. */
static int l_traceback_names(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);

    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, name);
    return 0;
}

/* scenario{...}: the file's settings, read once the whole file has loaded. */
static int l_scenario(lua_State *L)
{
    sc *s = self(L);
    const char *why = "";

    luaL_checktype(L, 1, LUA_TTABLE);
    if (s->config)
        return zl_sandbox_raise(L, "scenario{} is given twice");
    if (!(s->config = zl_luajson_to_json(L, 1, &why)) || !cJSON_IsObject(s->config))
        return zl_sandbox_raise(L, "scenario{}: %s", why[0] ? why : "give a table of settings");
    return 0;
}

/* test(name, fn): declares a test; the driver runs it as a coroutine. */
static int l_test(lua_State *L)
{
    sc *s = self(L);
    const char *name = luaL_checkstring(L, 1);
    size_t i;

    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (s->n_tests == MAX_TESTS)
        return zl_sandbox_raise(L, "at most %d tests in a file", MAX_TESTS);
    for (i = 0; i < s->n_tests; i++)
        if (!strcmp(s->tests[i].name, name))
            return zl_sandbox_raise(L, "two tests are named \"%s\"", name);
    lua_pushvalue(L, 2);
    s->tests[s->n_tests].ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s->tests[s->n_tests].name = strdup(name);
    s->n_tests++;
    return 0;
}

/* Instructions between two calls of the hook: fine-grained only under a step budget. */
#define HOOK_EVERY        1000000
#define HOOK_EVERY_BUDGET 10000

/* A step budget: a script that loops without yielding still ends at the scenario deadline,
 * or when opt.max_steps is set, once it has run that many instructions. */
void zl_sandbox_count_hook(lua_State *L, lua_Debug *ar)
{
    sc *s;

    (void)ar;
    lua_getfield(L, LUA_REGISTRYINDEX, "zonelab.sc");
    s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (s && s->opt.max_steps > 0 && (s->steps += HOOK_EVERY_BUDGET) > s->opt.max_steps) {
        /* from now on every instruction fails, so a pcall in a loop cannot go on */
        lua_sethook(L, zl_sandbox_count_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "the scenario ran over its budget of %I Lua instructions",
                   (lua_Integer)s->opt.max_steps);
    }
    if (s && real_ms() >= s->scenario_deadline)
        luaL_error(L, "the scenario ran out of time (%d ms) in a loop that never waits",
                   (int)s->opt.scenario_timeout_ms);
}

void zl_sandbox_set_hook(sc *s, lua_State *L)
{
    lua_sethook(L, zl_sandbox_count_hook, LUA_MASKCOUNT,
                s->opt.max_steps > 0 ? HOOK_EVERY_BUDGET : HOOK_EVERY);
}

/* Everything of a new state but the prelude, in protected mode (memory errors included). */
static int setup(lua_State *L)
{
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},
                                    {LUA_COLIBNAME, luaopen_coroutine},
                                    {NULL, NULL}};
    static const char *const unsafe[] = {"dofile", "loadfile", "load", "collectgarbage", NULL};
    static const struct {
        const char *name;
        lua_CFunction fn;
    } globals[] = {{"scenario", l_scenario}, {"test", l_test}, {"require", l_require}};
    sc *s = lua_touserdata(L, 1);
    const luaL_Reg *lib;
    size_t i;

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
    lua_setfield(L, LUA_REGISTRYINDEX, LOADED);
    lua_newtable(L);
    lua_pushlightuserdata(L, s);
    luaL_setfuncs(L, zl_primitives, 1);
    lua_pushlightuserdata(L, s);
    luaL_setfuncs(L, zl_testapp_primitives, 1);
    lua_pushlightuserdata(L, s);
    luaL_setfuncs(L, zl_luajson_primitives, 1);
    lua_pushcfunction(L, l_traceback_names);
    lua_setfield(L, -2, "traceback_names");
    lua_setglobal(L, "_zl");
    for (i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        lua_pushlightuserdata(L, s);
        lua_pushcclosure(L, globals[i].fn, 1);
        lua_setglobal(L, globals[i].name);
    }
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
    return 0;
}

/* The prelude compiled (its lines kept, for tracebacks), made once per process by
 * zl_sandbox_prepare: a process forked afterwards loads it without parsing 35 kB of Lua. */
static char *prelude_code;
static size_t prelude_code_len;

static int prelude_write(lua_State *L, const void *p, size_t n, void *ud)
{
    char *grown;

    (void)L;
    (void)ud;
    if (!(grown = realloc(prelude_code, prelude_code_len + n)))
        return 1;
    memcpy(grown + prelude_code_len, p, n);
    prelude_code = grown;
    prelude_code_len += n;
    return 0;
}

void zl_sandbox_prepare(void)
{
    lua_State *L;

    if (prelude_code || !(L = luaL_newstate()))
        return;
    if (luaL_loadbuffer(L, (const char *)zl_scenario_prelude, zl_scenario_prelude_len,
                        "=prelude.lua") != LUA_OK ||
        lua_dump(L, prelude_write, NULL, 0) != 0) {
        free(prelude_code); /* the source is parsed then, as before */
        prelude_code = NULL;
        prelude_code_len = 0;
    }
    lua_close(L);
}

lua_State *zl_sandbox_new(sc *s, char *err, size_t errlen)
{
    lua_State *L = luaL_newstate();

    if (!L) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    lua_pushcfunction(L, setup);
    lua_pushlightuserdata(L, s);
    if (zl_sandbox_pcall(L, 1, 0) != LUA_OK)
        goto fail;
    zl_sandbox_set_hook(s, L);
    if ((prelude_code ? luaL_loadbufferx(L, prelude_code, prelude_code_len, "=prelude.lua", "b")
                      : luaL_loadbufferx(L, (const char *)zl_scenario_prelude,
                                         zl_scenario_prelude_len, "=prelude.lua", "t")) != LUA_OK ||
        zl_sandbox_pcall(L, 0, 0) != LUA_OK)
        goto fail;
    return L;
fail:
    snprintf(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "out of memory");
    lua_close(L);
    return NULL;
}
