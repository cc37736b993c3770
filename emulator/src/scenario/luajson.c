/* luajson: JSON <-> Lua for the scenario sandbox. Objects encode with their keys sorted, so a
 * table always gives the same text; JSON null is the unique global null; an empty array stays
 * an array through array_mt. json.encode / json.decode are built on these. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario_int.h"

#define MAX_JSON_DEPTH 64

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

        /* An integer within 2^53 (a double's exact integers) is a Lua integer; the range comes
         * before the cast, since a double beyond lua_Integer's range does not convert. */
        if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(lua_Integer)d)
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

void zl_luajson_push(lua_State *L, const cJSON *j)
{
    push_json(L, j, 0);
}

cJSON *zl_luajson_to_json(lua_State *L, int idx, const char **why)
{
    return to_json(L, idx, 0, why);
}

static int l_json_encode(lua_State *L)
{
    const char *why = "";
    cJSON *j = to_json(L, 1, 0, &why);
    char *text;

    if (!j)
        return zl_sandbox_raise(L, "json.encode: %s", why);
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

const luaL_Reg zl_luajson_primitives[] = {
    {"json_encode", l_json_encode}, {"json_decode", l_json_decode}, {NULL, NULL}};
