/* sandbox: the Lua state of a scenario file: the libraries a scenario may use, the C
 * primitives in _zl, scenario{} and test(), vars, a step budget, and the prelude (the verbs,
 * prelude.lua, compiled in) run before the file. Errors raised for a script name the
 * scenario's line, however deep in the prelude they happen. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "scenario/scenario_int.h"

extern const unsigned char zl_scenario_prelude[];
extern const size_t zl_scenario_prelude_len;

void zl_sandbox_where(lua_State *L, char *out, size_t n)
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

/* A step budget: a script that loops without yielding still ends at the scenario deadline. */
void zl_sandbox_count_hook(lua_State *L, lua_Debug *ar)
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

lua_State *zl_sandbox_new(sc *s, char *err, size_t errlen)
{
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},
                                    {LUA_COLIBNAME, luaopen_coroutine},
                                    {NULL, NULL}};
    static const char *const unsafe[] = {"dofile", "loadfile", "load", "collectgarbage", NULL};
    lua_State *L = luaL_newstate();
    const luaL_Reg *lib;
    size_t i;

    if (!L) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
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
    luaL_setfuncs(L, zl_primitives, 1);
    lua_pushlightuserdata(L, s);
    luaL_setfuncs(L, zl_testapp_primitives, 1);
    lua_pushlightuserdata(L, s);
    luaL_setfuncs(L, zl_luajson_primitives, 1);
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
    lua_sethook(L, zl_sandbox_count_hook, LUA_MASKCOUNT, 1000000);
    if (luaL_loadbuffer(L, (const char *)zl_scenario_prelude, zl_scenario_prelude_len,
                        "=prelude.lua") != LUA_OK ||
        lua_pcall(L, 0, 0, 0) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}
