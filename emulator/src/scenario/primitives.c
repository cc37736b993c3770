/* primitives: the C side of the scenario verbs, the table _zl that prelude.lua builds the
 * verbs on. A primitive that waits sets s->w and yields with a continuation; the driver turns
 * the engine until the wait is over and resumes the test, and the continuation returns what
 * was found (or nil, "timeout"), raising for a crash or a failed backend script. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scenario/scenario_int.h"
#include "wecom/msgkey.h"
#include "wire.h"

static long timeout_arg(lua_State *L, sc *s, int idx)
{
    lua_Number t = luaL_optnumber(L, idx, -1);

    if (t < 0)
        return s->opt.step_timeout_ms;
    return (long)(t * 1000); /* seconds in scenarios */
}

/* Common end of a continuation: raises for a crash or a pending script error. */
static void raise_if_broken(lua_State *L, sc *s)
{
    if (s->crash[0])
        zl_sandbox_raise(L, "%s", s->crash);
    if (s->pending_error[0]) {
        char msg[sizeof s->pending_error];

        memcpy(msg, s->pending_error, sizeof msg);
        s->pending_error[0] = '\0';
        zl_sandbox_raise(L, "%s", msg);
    }
    if (real_ms() >= s->scenario_deadline)
        zl_sandbox_raise(L, "the scenario ran out of time (%d ms)",
                         (int)s->opt.scenario_timeout_ms);
}

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
        zl_scenario_wait_reset(s);
        return 2;
    }
    lua_pushinteger(L, s->w.status);
    lua_pushstring(L, s->w.body ? s->w.body : "");
    zl_scenario_wait_reset(s);
    return 2;
}

/* _zl.http(method, path, body?, timeout_s?, content_type?) -> status, body | nil, why */
static int l_http(lua_State *L)
{
    sc *s = zl_sandbox_waiting(L);
    const char *method = luaL_checkstring(L, 1), *path = luaL_checkstring(L, 2);
    size_t blen = 0;
    const char *body = luaL_optlstring(L, 3, NULL, &blen);
    const char *ctype = luaL_optstring(L, 5, NULL); /* a Content-Type, e.g. for multipart */
    char url[2200], ct_line[300];
    const char *headers[1] = {ct_line};
    zl_http_request req = {.method = method, .url = url, .body = body, .body_len = blen};

    if (path[0] != '/' || strlen(path) > 2000)
        return zl_sandbox_raise(L, "a path starts with / and is at most 2000 bytes");
    if (!ctype && body)
        ctype = "application/json"; /* what the faces take (the control face nothing else) */
    if (ctype) {
        if (strlen(ctype) > 256 || strpbrk(ctype, "\r\n"))
            return zl_sandbox_raise(L, "a content type is one line of at most 256 bytes");
        snprintf(ct_line, sizeof ct_line, "Content-Type: %s", ctype);
        req.headers = headers;
        req.n_headers = 1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", zl_engine_port(s->engine), path);
    zl_scenario_wait_reset(s);
    s->w.kind = W_HTTP;
    req.timeout_ms = timeout_arg(L, s, 4);
    s->w.deadline = real_ms() + req.timeout_ms + 1000;
    if (zl_engine_http(s->engine, &req, on_http, s) != 0)
        return zl_sandbox_raise(L, "cannot start an HTTP call");
    return lua_yieldk(L, 0, 0, http_k);
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx)
{
    sc *s = self(L);

    (void)status, (void)ctx;
    zl_scenario_wait_reset(s);
    raise_if_broken(L, s);
    return 0;
}

/* _zl.sleep(seconds): real time, the engine keeps running. */
static int l_sleep(lua_State *L)
{
    sc *s = zl_sandbox_waiting(L);
    lua_Number t = luaL_checknumber(L, 1);

    if (t < 0 || t > 600)
        return zl_sandbox_raise(L, "sleep takes 0 to 600 seconds");
    zl_scenario_wait_reset(s);
    s->w.kind = W_SLEEP;
    s->w.deadline = real_ms() + (int64_t)(t * 1000);
    return lua_yieldk(L, 0, 0, sleep_k);
}

static int settle_k(lua_State *L, int status, lua_KContext ctx)
{
    sc *s = self(L);
    bool done = s->w.done && !s->w.timed_out;

    (void)status, (void)ctx;
    zl_scenario_wait_reset(s);
    raise_if_broken(L, s);
    if (!done) {
        lua_pushnil(L);
        lua_pushstring(L, "timeout");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* _zl.settle(timeout_s?) -> true once the emulator has nothing under way (zl_engine_idle), or
 * nil, "timeout". */
static int l_settle(lua_State *L)
{
    sc *s = zl_sandbox_waiting(L);

    zl_scenario_wait_reset(s);
    s->w.kind = W_SETTLE;
    s->w.deadline = real_ms() + timeout_arg(L, s, 1);
    return lua_yieldk(L, 0, 0, settle_k);
}

static int found_k(lua_State *L, int status, lua_KContext ctx)
{
    sc *s = self(L);

    (void)status, (void)ctx;
    raise_if_broken(L, s);
    if (!s->w.found) {
        lua_pushnil(L);
        lua_pushstring(L, "timeout");
        zl_scenario_wait_reset(s);
        return 2;
    }
    zl_luajson_push(L, s->w.found);
    zl_scenario_wait_reset(s);
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
        zl_sandbox_raise(L, "too many different waits in one test (%d)", MAX_CURSORS);
    snprintf(s->cursors[i].key, sizeof s->cursors[i].key, "%s", key);
    s->cursors[i].seq = start;
    s->n_cursors++;
    return (int)i;
}

/* _zl.wait_inbox(agentid, timeout_s?) -> the next notification the fake app received */
static int l_wait_inbox(lua_State *L)
{
    sc *s = zl_sandbox_waiting(L);
    lua_Integer agentid = luaL_optinteger(L, 1, 0);

    char key[64];
    int cursor;

    snprintf(key, sizeof key, "inbox|%lld", (long long)agentid);
    cursor = cursor_for(L, s, key, s->inbox_start);
    zl_scenario_wait_reset(s);
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
    sc *s = zl_sandbox_waiting(L);
    const char *why = "";
    cJSON *filter;
    char key[400];
    size_t i;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (!(filter = zl_luajson_to_json(L, 1, &why)) || !cJSON_IsObject(filter)) {
        cJSON_Delete(filter);
        return zl_sandbox_raise(L, "wait_journal needs a table of fields to match");
    }
    {
        char *text = cJSON_PrintUnformatted(filter); /* one cursor per distinct filter */

        snprintf(key, sizeof key, "journal|%s", text ? text : "");
        cJSON_free(text);
    }
    if (s->n_cursors == MAX_CURSORS) {
        cJSON_Delete(filter);
        return zl_sandbox_raise(L, "too many different waits in one test (%d)", MAX_CURSORS);
    }
    i = (size_t)cursor_for(L, s, key, s->cursors[0].seq); /* cursor 0: the test's start */
    zl_scenario_wait_reset(s);
    s->w.kind = W_JOURNAL;
    s->w.filter = filter;
    s->w.cursor = (int)i;
    s->w.deadline = real_ms() + timeout_arg(L, s, 2);
    return lua_yieldk(L, 0, 0, found_k);
}

/* _zl.journal(filter?) -> every entry (since the scenario began) matching filter */
static int l_journal(lua_State *L)
{
    sc *s = zl_sandbox_running(L);
    const char *why = "";
    cJSON *filter = lua_istable(L, 1) ? zl_luajson_to_json(L, 1, &why) : NULL;
    cJSON *list = zl_journal_since(s->journal, 0, 1000000), *out = cJSON_CreateArray(), *e;

    cJSON_ArrayForEach(e, list)
    {
        if (!filter || zl_scenario_entry_matches(e, filter))
            cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
    }
    zl_luajson_push(L, out);
    cJSON_Delete(out);
    cJSON_Delete(list);
    cJSON_Delete(filter);
    return 1;
}

/* _zl.inbox(agentid?) -> every notification the fake app received */
static int l_inbox(lua_State *L)
{
    sc *s = zl_sandbox_running(L);
    cJSON *list = zl_appnotify_inbox(s->emu->notify_out, (uint32_t)luaL_optinteger(L, 1, 0), 0);

    zl_luajson_push(L, list);
    cJSON_Delete(list);
    return 1;
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
    zl_sandbox_raise(L, "program \"%s\" is not one the scenario started (started: %s)", id, list);
    return NULL;
}

static size_t replica_arg(lua_State *L, const zl_prog_rt *p, int idx)
{
    lua_Integer i = luaL_checkinteger(L, idx);

    if (!p || i < 0 || (size_t)i >= p->replica_count)
        zl_sandbox_raise(L, "replica %d of %s does not exist (it has %d, numbered from 0)", (int)i,
                         p ? p->prog->program_id : "the program", p ? (int)p->replica_count : 0);
    return (size_t)i;
}

static int ready_k(lua_State *L, int status, lua_KContext ctx)
{
    sc *s = self(L);
    const zl_replica *r = s->w.rep;
    bool late = s->w.timed_out;

    (void)status, (void)ctx;
    zl_scenario_wait_reset(s);
    raise_if_broken(L, s);
    if (late) {
        char why[1024];

        zl_emu_replica_diagnose(s->emu, r, 0, why, sizeof why);
        return zl_sandbox_raise(L, "%s (not in time)", why);
    }
    return 0;
}

/* _zl.program(op, replica, timeout_s?, program_id?): "kill", "pause", "resume", "restart"
 * (waits until it listens) on a replica of the main program or of program_id. */
static int l_program(lua_State *L)
{
    sc *s = zl_sandbox_waiting(L);
    const char *op = luaL_checkstring(L, 1);
    zl_prog_rt *p = prog_arg(L, s, 4);
    size_t i = replica_arg(L, p, 2);
    char err[256];

    if (!strcmp(op, "kill") || !strcmp(op, "pause") || !strcmp(op, "resume")) {
        int sig = !strcmp(op, "kill") ? SIGKILL : !strcmp(op, "pause") ? SIGSTOP : SIGCONT;

        if (zl_emu_signal_replica(s->emu, p, i, sig) != 0)
            return zl_sandbox_raise(L, "cannot %s %s: it is not running", op,
                                    p->replicas[i].instance);
        return 0;
    }
    if (strcmp(op, "restart") != 0)
        return zl_sandbox_raise(L, "program operations are kill, pause, resume and restart");
    if (!p->replicas[i].exited)
        zl_emu_signal_replica(s->emu, p, i, SIGKILL);
    if (zl_scenario_spawn(s, p, NULL, i, err, sizeof err) != 0)
        return zl_sandbox_raise(L, "%s", err);
    /* a crash is raised until its replica is restarted; crashed() finds any other one again */
    s->crash[0] = '\0';
    zl_scenario_wait_reset(s);
    s->w.kind = W_READY;
    s->w.rep = &p->replicas[i];
    s->w.deadline = real_ms() + timeout_arg(L, s, 3);
    return lua_yieldk(L, 0, 0, ready_k);
}

static int debug_start_k(lua_State *L, int status, lua_KContext ctx)
{
    ready_k(L, status, ctx); /* raises when it did not listen */
    lua_pushstring(L, ((const zl_replica *)ctx)->url);
    return 1;
}

/* _zl.debug_start(program_id?, command?, timeout_s?) -> url: starts the developer's machine of
 * the main program or of program_id (zl_emu_spawn_dev) and waits until it listens. */
static int l_debug_start(lua_State *L)
{
    sc *s = zl_sandbox_waiting(L);
    zl_prog_rt *p = prog_arg(L, s, 1);
    const char *cmd = luaL_optstring(L, 2, NULL);
    char err[256];

    if (!p)
        return zl_sandbox_raise(L, "no program to debug");
    if (cmd && !*cmd)
        return zl_sandbox_raise(L, "the command is a non-empty shell command");
    if (zl_scenario_spawn_dev(s, p, cmd, err, sizeof err) != 0)
        return zl_sandbox_raise(L, "%s", err);
    zl_scenario_wait_reset(s);
    s->w.kind = W_READY;
    s->w.rep = &p->dev;
    s->w.deadline = real_ms() + timeout_arg(L, s, 3);
    return lua_yieldk(L, 0, (lua_KContext)&p->dev, debug_start_k);
}

/* _zl.replicas(program_id?) -> the number of replicas of the main program or program_id */
static int l_replicas(lua_State *L)
{
    zl_prog_rt *p = prog_arg(L, zl_sandbox_running(L), 1);

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
        zl_scenario_wait_reset(s);
        return 2;
    }
    lua_pushinteger(L, s->w.status);
    if (s->w.body)
        lua_pushstring(L, s->w.body); /* the ww-exception code the program's SDK saw */
    else
        lua_pushnil(L);
    zl_scenario_wait_reset(s);
    return 2;
}

/* _zl.program_request(replica, data, recase?, program_id?) -> status, ww-exception or nil: a
 * sealed callback (call_type 1, ability get_callback_data) sent to a replica of the main
 * program or of program_id, with the header names re-cased the way some HTTP frameworks do
 * when recase is true. */
static int l_program_request(lua_State *L)
{
    sc *s = zl_sandbox_waiting(L);
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
        return zl_sandbox_raise(L, "cannot seal the request");
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
    zl_scenario_wait_reset(s);
    s->w.kind = W_HTTP;
    s->w.deadline = real_ms() + s->opt.step_timeout_ms + 1000;
    if (zl_engine_http(s->engine, &req, on_raw, s) != 0) {
        free(body);
        return zl_sandbox_raise(L, "cannot start the request");
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
        return zl_sandbox_raise(
            L, "the emulator starts after the file is loaded: use this inside a test");
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

/* path, relative to the scenario file's folder unless absolute, into out. */
static void scenario_path(const sc *s, const char *file, char *out, size_t n)
{
    const char *slash = strrchr(s->path, '/');

    if (file[0] == '/' || !slash)
        snprintf(out, n, "%s", file);
    else
        snprintf(out, n, "%.*s/%s", (int)(slash - s->path), s->path, file);
}

/* The text of a file of at most max bytes, owned (free()); NULL after raising. */
static char *slurp(lua_State *L, sc *s, const char *verb, const char *file, size_t max, size_t *len)
{
    char path[1400], *buf;
    FILE *f;

    scenario_path(s, file, path, sizeof path);
    if (!(f = fopen(path, "rb"))) {
        zl_sandbox_raise(L, "%s: cannot read %s: %s", verb, path, strerror(errno));
        return NULL;
    }
    if (!(buf = malloc(max + 1))) {
        fclose(f);
        zl_sandbox_raise(L, "%s: out of memory", verb);
        return NULL;
    }
    *len = fread(buf, 1, max + 1, f);
    fclose(f);
    if (*len > max) {
        free(buf);
        zl_sandbox_raise(L, "%s: %s is larger than %zu bytes", verb, path, max);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* _zl.file_text(file) -> the text of a file (at most 1 MiB) beside the scenario, such as a
 * PEM key for set_public_key. */
static int l_file_text(lua_State *L)
{
    size_t len;
    char *text = slurp(L, self(L), "file_text", luaL_checkstring(L, 1), 1u << 20, &len);

    lua_pushlstring(L, text, len);
    free(text);
    return 1;
}

/* _zl.decrypt_secret_key(encrypted_secret_key, private_key_file) -> the secret, or nil, why:
 * what an app does with a sync_msg item's service_encrypt_info (RSA PKCS#1 v1.5 with the
 * private key of that version). */
static int l_decrypt_secret_key(lua_State *L)
{
    size_t blen, n, secret_len = 0;
    const char *b64 = luaL_checklstring(L, 1, &blen);
    char why[300], *pem = slurp(L, self(L), "decrypt_secret_key", luaL_checkstring(L, 2),
                                ZL_MSGKEY_MAX_PEM, &n);
    unsigned char *secret = NULL;
    int rc = zl_msgkey_decrypt(pem, n, b64, blen, &secret, &secret_len, why, sizeof why);

    free(pem);
    if (rc != 0) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    lua_pushlstring(L, (const char *)secret, secret_len);
    free(secret);
    return 1;
}

/* The SDK hook: asks the scenario's backend function what to do with this invoke. */
int zl_primitives_sdk_hook(void *ud, const char *api, const cJSON *request, cJSON **reply,
                           long *delay_ms)
{
    sc *s = ud;
    lua_State *L = s->L;
    int top = lua_gettop(L), rc = ZL_HOOK_PASS;
    const char *why = "";

    if (s->backend_ref == LUA_NOREF)
        return ZL_HOOK_PASS;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->backend_ref);
    lua_pushstring(L, api);
    zl_luajson_push(L, request);
    if (zl_sandbox_pcall(L, 2, 1) != LUA_OK) {
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
            *reply = zl_luajson_to_json(L, -1, &why);
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

/* _zl.where() -> "file:line: " for the prelude's own errors */
static int l_where(lua_State *L)
{
    char where[600];

    zl_sandbox_where(L, where, sizeof where);
    lua_pushstring(L, where);
    return 1;
}

const luaL_Reg zl_primitives[] = {{"http", l_http},
                                  {"sleep", l_sleep},
                                  {"settle", l_settle},
                                  {"wait_inbox", l_wait_inbox},
                                  {"wait_journal", l_wait_journal},
                                  {"journal", l_journal},
                                  {"inbox", l_inbox},
                                  {"program", l_program},
                                  {"replicas", l_replicas},
                                  {"program_request", l_program_request},
                                  {"debug_start", l_debug_start},
                                  {"backend", l_backend},
                                  {"info", l_info},
                                  {"monotonic_ms", l_monotonic_ms},
                                  {"where", l_where},
                                  {"step_timeout", l_step_timeout},
                                  {"decrypt_secret_key", l_decrypt_secret_key},
                                  {"file_text", l_file_text},
                                  {NULL, NULL}};
