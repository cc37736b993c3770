/* app_api: the vendor's app-side HTTP API (gettoken and /cgi-bin/chatdata/<name>). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api/chat.h"
#include "emu/emu.h"
#include "faces/faces.h"
#include "wecom/errcode.h"
#include "core/json.h"
#include "core/multipart.h"
#include "wecom/protocol.h"

#define MAX_PROGRAM_ID 64
#define MAX_ABILITY_ID 64
#define MAX_REQUEST    (1u << 20) /* request_data bytes */

typedef struct app_ctx app_ctx;
typedef void (*app_fn)(app_ctx *x);

struct app_ctx {
    zl_emu *emu;
    zl_request *r;
    const char *name;
    zl_app_rt *app;
    cJSON *body;
    char req_id[17];
    /* sync_call_program / async_program_task in flight */
    zl_prog_rt *prog;
    size_t ability;
    zl_job *job;
};

static void ctx_free(app_ctx *x)
{
    cJSON_Delete(x->body);
    free(x);
}

/* Answers x with reply (taken), journals the exchange and frees x. */
static void answer(app_ctx *x, cJSON *reply)
{
    cJSON *d = cJSON_CreateObject(), *code = cJSON_GetObjectItemCaseSensitive(reply, "errcode");
    char *text;
    size_t len = 0;

    cJSON_AddStringToObject(d, "endpoint", x->name);
    cJSON_AddStringToObject(d, "req_id", x->req_id);
    if (x->app) {
        cJSON_AddStringToObject(d, "corpid", x->app->corp->corpid);
        cJSON_AddNumberToObject(d, "agentid", x->app->app->agentid);
    }
    if (x->body && cJSON_AddItemToObject(d, "request", x->body))
        x->body = NULL; /* the journal's now */
    cJSON_AddNumberToObject(d, "errcode", code ? code->valuedouble : 0);
    /* the answer's text first: the journal takes the reply itself (no copy of it) */
    text = x->emu->closing ? NULL : zl_json_print(reply, &len);
    if (!cJSON_AddItemToObject(d, "response", reply))
        cJSON_Delete(reply);
    zl_journal_add(x->emu->journal, zl_emu_now_ms(x->emu), "app", "call", d);
    if (text)
        zl_request_respond(x->r, 200, "application/json; charset=utf-8", text, len);
    else if (!x->emu->closing)
        zl_request_respond(x->r, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
    free(text);
    ctx_free(x);
}

static void fail(app_ctx *x, int code, const char *detail)
{
    answer(x, zl_errcode_reply(code, detail, x->req_id));
}

static cJSON *ok_reply(void)
{
    return zl_errcode_reply(0, NULL, NULL);
}

/* A string member: 1 present, 0 absent; -1 wrong type or too long (after fail()). */
static int str_field(app_ctx *x, const char *key, size_t max, bool required, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->body, key);
    char why[160];

    *out = NULL;
    if (!v) {
        if (!required)
            return 0;
        snprintf(why, sizeof why, "%s is required", key);
        fail(x, 40058, why);
        return -1;
    }
    if (!cJSON_IsString(v)) {
        snprintf(why, sizeof why, "%s must be a string", key);
        fail(x, 40058, why);
        return -1;
    }
    if (strlen(v->valuestring) > max) {
        snprintf(why, sizeof why, "%s is longer than %zu bytes", key, max);
        fail(x, 40058, why);
        return -1;
    }
    *out = v->valuestring;
    return 1;
}

/* An integer member in [min, max]: 1 present, 0 absent, -1 bad (after fail()). */
static int int_field(app_ctx *x, const char *key, long long min, long long max, bool required,
                     long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->body, key);
    char why[160];

    if (!v) {
        if (!required)
            return 0;
        snprintf(why, sizeof why, "%s is required", key);
        fail(x, 40058, why);
        return -1;
    }
    if (!zl_json_is_int(v, min, max)) {
        snprintf(why, sizeof why, "%s must be an integer from %lld to %lld", key, min, max);
        fail(x, 40058, why);
        return -1;
    }
    *out = (long long)v->valuedouble;
    return 1;
}

static bool id_chars_ok(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return false;
    return true;
}

/* program_id of the body: resolved, associated with the app, deployed. NULL after fail(). */
static zl_prog_rt *program_field(app_ctx *x)
{
    const char *id;
    zl_prog_rt *p;
    size_t i, alive = 0, spawned = 0;

    if (str_field(x, "program_id", 4096, true, &id) < 0)
        return NULL;
    if (!*id) {
        fail(x, 40058, "program_id is empty");
        return NULL;
    }
    if (strlen(id) > MAX_PROGRAM_ID || !id_chars_ok(id)) {
        fail(x, 800001, NULL);
        return NULL;
    }
    if (!(p = zl_emu_prog(x->emu, x->app->corp->corpid, id))) {
        fail(x, 800001, "no such program in this corp");
        return NULL;
    }
    if (!zl_program_has_agent(p->prog, x->app->app->agentid)) {
        fail(x, 790020, NULL);
        return NULL;
    }
    for (i = 0; i < p->replica_count; i++) {
        spawned += p->replicas[i].pid > 0;
        /* one that is to be restarted (replica_restart) is deployed still */
        alive +=
            p->replicas[i].pid > 0 && (!p->replicas[i].exited || p->replicas[i].restart_pending);
    }
    /* in debug mode the developer's server answers, deployed or not (doc 54809) */
    if (spawned && !alive && !zl_emu_debug_forwarding(p)) {
        fail(x, 800002, "every replica of the program has exited");
        return NULL;
    }
    return p;
}

/* ---- gettoken ---- */

/*
 * The app whose gettoken secret this is: a self-built or third-party app's world secret (a
 * third-party one only with opt.gettoken_third_party), a 代开发 app's permanent_code as it is
 * now ("permanent_code，即为代开发应用的secret", doc 42542: a re-grant changes it).
 */
static zl_app_rt *app_of_secret(zl_emu *emu, const char *secret)
{
    size_t i;

    for (i = 0; i < emu->app_count; i++) {
        zl_app_rt *a = &emu->apps[i];
        const char *s = a->app->kind == ZL_APP_CUSTOM ? a->auth.permanent_code : a->app->secret;

        if (a->app->kind == ZL_APP_THIRD_PARTY && !emu->opt.gettoken_third_party)
            continue;
        if (*s && !strcmp(s, secret))
            return a;
    }
    return NULL;
}

static void on_gettoken(zl_emu *emu, zl_request *r)
{
    app_ctx *x = calloc(1, sizeof *x);
    const char *corpid = zl_request_query(r, "corpid"), *secret = zl_request_query(r, "corpsecret");
    zl_corp *c;
    zl_app_rt *found;
    char token[48];
    int64_t expires_in;
    cJSON *reply;

    if (!x) {
        zl_request_respond(r, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    *x = (app_ctx){.emu = emu, .r = r, .name = "gettoken"};
    zl_emu_req_id(emu, x->req_id);
    if (strcmp(zl_request_method(r), "GET") != 0) {
        fail(x, 40058, "gettoken takes GET");
        return;
    }
    if (!corpid || !*corpid) {
        fail(x, 41002, NULL);
        return;
    }
    if (!(c = zl_world_corp(emu->world, corpid))) {
        fail(x, 40013, NULL);
        return;
    }
    if (!secret || !*secret) {
        fail(x, 41004, NULL);
        return;
    }
    if (!(found = app_of_secret(emu, secret))) {
        fail(x, 40001, NULL);
        return;
    }
    if (found->corp != c) {
        fail(x, 40091, NULL);
        return;
    }
    x->app = found;
    if (found->auth.cancelled) { /* "授权关系无效: 可能是无授权或授权已被取消" */
        fail(x, 48004, "the corp cancelled the app's authorisation");
        return;
    }
    if (zl_emu_app_token(emu, found, token, &expires_in) != 0) {
        fail(x, -1, "out of memory");
        return;
    }
    reply = ok_reply();
    cJSON_AddStringToObject(reply, "access_token", token);
    cJSON_AddNumberToObject(reply, "expires_in", (double)expires_in);
    answer(x, reply);
}

/* ---- chatdata endpoints ---- */

/* set_public_key: the app's own key ("加密需要用到应用设置的公钥", doc 55301). A key that is
 * not an RSA-2048 public key is 40211 ("不合法的RSA公钥"); a version not greater than the
 * current one 40212 ("公钥版本号不能低于旧公钥的版本号"; doc 51799 asks for a greater one),
 * the global errcode page's codes (doc 10649). */
static void ep_set_public_key(app_ctx *x)
{
    const char *pem;
    long long ver;
    char err[300];
    cJSON *d;
    int rc;

    if (x->app->app->kind == ZL_APP_SELF_BUILT) {
        fail(x, 710640, "a self-built app sets its public key in the admin console");
        return;
    }
    if (str_field(x, "public_key", 16384, true, &pem) < 0 ||
        int_field(x, "public_key_ver", 1, UINT32_MAX, true, &ver) < 0)
        return;
    if ((rc = zl_emu_app_key_add(x->emu, x->app, (uint32_t)ver, pem, strlen(pem), err,
                                 sizeof err)) != 0) {
        fail(x, rc == -2 ? 40212 : 40211, err);
        return;
    }
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "corpid", x->app->corp->corpid);
    cJSON_AddNumberToObject(d, "agentid", x->app->app->agentid);
    cJSON_AddNumberToObject(d, "public_key_ver", (double)ver);
    zl_journal_add(x->emu->journal, zl_emu_now_ms(x->emu), "app", "public_key", d);
    answer(x, ok_reply());
}

static void ep_set_receive_callback(app_ctx *x)
{
    zl_prog_rt *p = program_field(x);

    if (!p)
        return;
    x->app->receiver = p;
    answer(x, ok_reply());
}

static void ep_set_log_level(app_ctx *x)
{
    zl_prog_rt *p = program_field(x);
    long long level;

    if (!p || int_field(x, "log_level", 1, 3, true, &level) < 0)
        return;
    p->log_level = (int)level;
    answer(x, ok_reply());
}

static void ep_get_log_level(app_ctx *x)
{
    zl_prog_rt *p = program_field(x);
    cJSON *reply;

    if (!p)
        return;
    reply = ok_reply();
    cJSON_AddNumberToObject(reply, "log_level", p->log_level);
    answer(x, reply);
}

/* open_debug_mode (doc 54810): the app half of debug mode, in a corp where the app may use it
 * (710672, zl_emu_debug_allowed), with the program's unexpired debug token (710671). */
static void ep_open_debug_mode(app_ctx *x)
{
    zl_prog_rt *p = program_field(x), *owner = NULL;
    const char *tok;
    size_t i;

    if (!p || str_field(x, "debug_token", 128, true, &tok) < 0)
        return;
    if (zl_emu_debug_allowed(x->app)) {
        fail(x, 710672,
             x->app->app->kind == ZL_APP_CUSTOM
                 ? "a 代开发 app opens debug mode only in a provider's test corp (world: test_corp)"
                 : "a third-party app opens debug mode only in a test installation (world: "
                   "auth.test)");
        return;
    }
    for (i = 0; i < x->emu->prog_count; i++)
        if (!strcmp(x->emu->progs[i].debug_token, tok))
            owner = &x->emu->progs[i];
    if (owner != p) {
        fail(x, 710671,
             owner ? "the debug token belongs to another program" : "unknown debug token");
        return;
    }
    if (zl_emu_now_ms(x->emu) >= p->debug_token_expires_ms) {
        fail(x, 710671, NULL);
        return;
    }
    p->debug_app_open = true;
    answer(x, ok_reply());
}

static void ep_close_debug_mode(app_ctx *x)
{
    zl_prog_rt *p = program_field(x);

    if (!p)
        return;
    p->debug_app_open = false;
    p->debug_sdk_open = false;
    answer(x, ok_reply());
}

static void ep_check_debug_mode(app_ctx *x)
{
    zl_prog_rt *p = program_field(x);
    cJSON *reply;

    if (!p)
        return;
    reply = ok_reply();
    cJSON_AddNumberToObject(reply, "debug_mode_status",
                            p->debug_app_open && p->debug_sdk_open ? 2 : 1);
    answer(x, reply);
}

/* get_auth_user_list: the app's effective members with the editions they are archived under
 * (zl_emu_member_editions), in world order; a member under no edition in effect is left out. */
static void ep_get_auth_user_list(app_ctx *x)
{
    const char *cursor;
    long long limit = 200;
    uint64_t pos = 0;
    zl_corp *c = x->app->corp;
    size_t i, k, n = 0, ne;
    int ed[3];
    cJSON *reply, *list;
    char next[ZL_CURSOR_MAX + 1] = "";

    if (x->app->auth.cancelled) {
        fail(x, 48004, NULL);
        return;
    }
    if (str_field(x, "cursor", ZL_CURSOR_MAX, false, &cursor) < 0 ||
        int_field(x, "limit", 0, x->emu->opt.auth_user_list.limit_over_max ? INT32_MAX : 1000,
                  false, &limit) < 0)
        return;
    if (limit == 0)
        limit = 200;
    if (limit > 1000) /* option get_auth_user_list.limit_over_max "clamp" */
        limit = 1000;
    if (cursor && *cursor &&
        zl_cursor_decode(&x->emu->cursor_key, 2, x->app->scope, cursor, &pos, NULL) != 0) {
        fail(x, 710611, NULL);
        return;
    }
    reply = ok_reply();
    list = cJSON_AddArrayToObject(reply, "auth_user_list");
    for (i = (size_t)pos; i < c->member_count && n < (size_t)limit; i++) {
        cJSON *u, *arr;

        if (!(ne = zl_emu_member_editions(x->emu, x->app, i, ed)))
            continue;
        u = cJSON_CreateObject();
        cJSON_AddStringToObject(u, "userid", c->members[i].userid);
        arr = cJSON_AddArrayToObject(u, "edition_list");
        for (k = 0; k < ne; k++)
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(ed[k]));
        cJSON_AddItemToArray(list, u);
        n++;
    }
    while (i < c->member_count && !zl_emu_member_editions(x->emu, x->app, i, ed))
        i++;
    if (i < c->member_count)
        zl_cursor_encode(&x->emu->cursor_key, 2, x->app->scope, i, 0, next);
    cJSON_AddStringToObject(reply, "next_cursor", next);
    if (x->emu->opt.auth_user_list.has_more) /* the vendor's example, not its field table */
        cJSON_AddBoolToObject(reply, "has_more", i < c->member_count);
    else
        cJSON_AddNumberToObject(reply, "has_more", i < c->member_count);
    answer(x, reply);
}

/* get_corp_auth_info: the app's authorisation as it stands now (zl_emu_auth_edition_list). */
static void ep_get_corp_auth_info(app_ctx *x)
{
    cJSON *reply;

    if (x->app->app->kind == ZL_APP_SELF_BUILT) {
        fail(x, 710640, "get_corp_auth_info serves third-party and 代开发 apps");
        return;
    }
    if (x->app->auth.cancelled) {
        fail(x, 48004, NULL);
        return;
    }
    reply = ok_reply();
    cJSON_AddItemToObject(reply, "auth_edition_list", zl_emu_auth_edition_list(x->emu, x->app));
    answer(x, reply);
}

static void ep_upload_media(app_ctx *x)
{
    const char *type = zl_request_query(x->r, "type"),
               *ct = zl_request_header(x->r, "Content-Type");
    zl_mp_result mp;
    const zl_mp_part *part;
    char err[200], id[40], ts[24];
    zl_media *m;
    cJSON *reply;

    if (!type || strcmp(type, "file") != 0) {
        fail(x, 40005, "type must be file");
        return;
    }
    if (zl_mp_parse(ct ? ct : "", zl_request_body(x->r), zl_request_body_len(x->r), &mp, err,
                    sizeof err) != 0) {
        fail(x, 40058, err);
        return;
    }
    part = zl_mp_find(&mp, "media");
    if (!part) {
        zl_mp_free(&mp);
        fail(x, 40058, "the file part must be named media");
        return;
    }
    if (!part->filename || !part->content_type || part->filelength < 0) {
        zl_mp_free(&mp);
        fail(x, 40058, "the media part needs filename, filelength and Content-Type");
        return;
    }
    if (part->len == 0) {
        zl_mp_free(&mp);
        fail(x, 44001, NULL);
        return;
    }
    if (part->len < 6 || part->len > 60u * 1024 * 1024) {
        zl_mp_free(&mp);
        fail(x, 40006, "a file is 6 bytes to 60 MB");
        return;
    }
    if (!(m = malloc(sizeof *m)) || !(m->data = malloc(part->len + 1))) {
        free(m);
        zl_mp_free(&mp);
        fail(x, -1, "out of memory");
        return;
    }
    memcpy(m->data, part->data, part->len); /* the bytes: the export template is read later */
    m->data[part->len] = '\0';
    m->app = x->app;
    m->size = part->len;
    m->expires_ms = zl_emu_now_ms(x->emu) + 3 * 86400 * 1000LL;
    zl_mp_free(&mp);
    memcpy(id, "md_", 3);
    zl_engine_random_hex(x->emu->engine, id + 3, 16);
    if (zl_strmap_put(x->emu->media, id, m) != 0) {
        free(m->data);
        free(m);
        fail(x, -1, "out of memory");
        return;
    }
    snprintf(ts, sizeof ts, "%lld", (long long)(zl_emu_now_ms(x->emu) / 1000));
    reply = ok_reply();
    cJSON_AddStringToObject(reply, "type", "file");
    cJSON_AddStringToObject(reply, "media_id", id);
    cJSON_AddStringToObject(reply, "created_at", ts);
    answer(x, reply);
}

/* The display settings: one state with the SDK face's (api_chat.c). */
static void ep_set_hide_sensitiveinfo_config(app_ctx *x)
{
    answer(x, zl_chat_set_hide_config(x->emu, x->app, x->body, x->req_id));
}

static void ep_get_hide_sensitiveinfo_config(app_ctx *x)
{
    answer(x, zl_chat_get_hide_config(x->emu, x->app, x->body, x->req_id));
}

/* ---- calling programs ---- */

static void journal_diag(app_ctx *x, const char *kind, const zl_protocol_diag *d)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "req_id", x->req_id);
    cJSON_AddStringToObject(j, "program_id", x->prog->prog->program_id);
    cJSON_AddStringToObject(j, "ability_id", x->prog->prog->abilities[x->ability].ability_id);
    cJSON_AddNumberToObject(j, "errcode", d->code);
    cJSON_AddStringToObject(j, "path", d->path);
    cJSON_AddStringToObject(j, "expected", d->expected);
    cJSON_AddStringToObject(j, "actual", d->actual);
    cJSON_AddStringToObject(j, "diagnosis", d->sentence);
    zl_journal_add(x->emu->journal, zl_emu_now_ms(x->emu), "app", kind, j);
}

/* Common checks of sync_call_program and async_program_task up to the input protocol. */
static int prepare_call(app_ctx *x, const char **request_data)
{
    const char *ability;
    zl_protocol_diag d;
    size_t i;
    zl_prog_rt *p;
    int code;

    /* program_field() and str_field() answer and free x when they fail: nothing of x may be
     * written or read after a failure. */
    if (!(p = program_field(x)))
        return -1;
    x->prog = p;
    if (str_field(x, "ability_id", 4096, true, &ability) < 0)
        return -1;
    if (!*ability || strlen(ability) > MAX_ABILITY_ID || !id_chars_ok(ability)) {
        fail(x, 710636, NULL);
        return -1;
    }
    for (i = 0; i < x->prog->prog->ability_count; i++)
        if (!strcmp(x->prog->prog->abilities[i].ability_id, ability))
            break;
    if (i == x->prog->prog->ability_count) {
        fail(x, 800003, NULL);
        return -1;
    }
    x->ability = i;
    if (!strcmp(x->name, "sync_call_program")) {
        const char *nid;
        zl_notify *n;

        if (str_field(x, "notify_id", 4096, false, &nid) < 0)
            return -1;
        if (nid && *nid && !x->emu->opt.notify_pass_any) {
            n = strlen(nid) <= 128 ? zl_strmap_get(x->emu->notify_ids, nid) : NULL;
            if (!n || n->prog != x->prog || n->expires_ms <= zl_emu_now_ms(x->emu)) {
                fail(x, 710646,
                     !n                   ? "notify_id was never issued to this program"
                     : n->prog != x->prog ? "notify_id was issued by another program"
                                          : "notify_id is older than 10 minutes");
                return -1;
            }
        }
    }
    if (str_field(x, "request_data", MAX_REQUEST, true, request_data) < 0)
        return -1;
    code = zl_protocol_check_request(x->prog->input_ex[x->ability], *request_data,
                                     strlen(*request_data), &x->emu->opt.protocol, &d);
    if (code) {
        journal_diag(x, "protocol_mismatch", &d);
        fail(x, code, NULL);
        return -1;
    }
    return 0;
}

/*
 * The replica a call goes to. With a notify_id: the replica that issued it (sticky), or with
 * --notify-routing any a replica drawn from the seeded random source, as a load balancer that
 * knows nothing of notify ids would (the multi-machine "data not found" case). Without one:
 * round robin.
 */
static size_t route(app_ctx *x)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->body, "notify_id");
    zl_notify *n;

    if (cJSON_IsString(v) && *v->valuestring) {
        if (x->emu->opt.notify_any)
            return (size_t)(zl_engine_random(x->emu->engine) % x->prog->replica_count);
        if ((n = zl_strmap_get(x->emu->notify_ids, v->valuestring)) && n->prog == x->prog &&
            n->replica_known)
            return n->replica;
    }
    return zl_emu_pick_replica(x->prog);
}

static void fill_callback(app_ctx *x, zl_callback_args *cb, const char *request_data)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->body, "notify_id");

    memset(cb, 0, sizeof *cb);
    cb->corpid = x->app->corp->corpid;
    cb->agentid = x->app->app->agentid;
    cb->call_type = 1;
    cb->data = request_data;
    cb->ability_id = x->prog->prog->abilities[x->ability].ability_id;
    cb->notify_id = cJSON_IsString(v) ? v->valuestring : "";
    cb->job_info = x->job ? x->job->job_info : "";
    cb->is_async = x->job != NULL;
    cb->req_id = x->req_id;
}

static void journal_call(app_ctx *x, const zl_call_result *res)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "req_id", x->req_id);
    cJSON_AddStringToObject(j, "program_id", x->prog->prog->program_id);
    cJSON_AddStringToObject(j, "instance", x->prog->replicas[res->replica].instance);
    cJSON_AddStringToObject(j, "ability_id", x->prog->prog->abilities[x->ability].ability_id);
    cJSON_AddBoolToObject(j, "is_async", x->job != NULL);
    if (x->job)
        cJSON_AddStringToObject(j, "job_info", x->job->job_info);
    zl_call_result_json(res, j);
    if (!res->errcode)
        cJSON_AddStringToObject(j, "response", res->response ? res->response : "");
    zl_journal_add(x->emu->journal, zl_emu_now_ms(x->emu), "program", "call", j);
}

static void on_sync_reply(zl_emu *emu, const zl_call_result *res, void *ud)
{
    app_ctx *x = ud;
    zl_protocol_diag d;
    const char *resp = res->response ? res->response : "";
    cJSON *reply;
    int code;

    (void)emu;
    journal_call(x, res);
    if (res->errcode) {
        fail(x, res->errcode, NULL);
        return;
    }
    code = zl_protocol_check_response(x->prog->output_ex[x->ability], resp, strlen(resp),
                                      &x->emu->opt.protocol, &d);
    if (code) {
        journal_diag(x, "protocol_mismatch", &d);
        fail(x, code, NULL);
        return;
    }
    reply = ok_reply();
    cJSON_AddStringToObject(reply, "response_data", resp);
    answer(x, reply);
}

/* Why a call to the program was not made: the replica's queue is full (option). */
#define QUEUE_FULL "not sent: delivery_queue_max calls wait for the program's replica already"

static void ep_sync_call_program(app_ctx *x)
{
    const char *request_data;
    zl_callback_args cb;
    size_t replica;
    int rc;

    if (prepare_call(x, &request_data) != 0)
        return;
    replica = route(x);
    fill_callback(x, &cb, request_data);
    if ((rc = zl_emu_call_program(x->emu, x->prog, replica, &cb, x->emu->opt.program_timeout_ms,
                                  on_sync_reply, x)) != 0)
        fail(x, 710638, rc == ZL_CALL_QUEUE_FULL ? QUEUE_FULL : "cannot start the call");
}

static void on_async_ack(zl_emu *emu, const zl_call_result *res, void *ud)
{
    app_ctx *x = ud;
    cJSON *reply;

    journal_call(x, res);
    x->job->dispatching = false;
    if (res->errcode) {
        zl_strmap_del(emu->job_infos, x->job->job_info);
        zl_strmap_del(emu->jobs, x->job->jobid);
        fail(x, res->errcode, NULL);
        return;
    }
    reply = ok_reply();
    cJSON_AddStringToObject(reply, "jobid", x->job->jobid);
    answer(x, reply);
}

static void ep_async_program_task(app_ctx *x)
{
    const char *request_data;
    zl_callback_args cb;
    zl_job *job;
    int rc;

    if (prepare_call(x, &request_data) != 0)
        return;
    if (!(job = calloc(1, sizeof *job))) {
        fail(x, -1, "out of memory");
        return;
    }
    memcpy(job->jobid, "job_", 4);
    zl_engine_random_hex(x->emu->engine, job->jobid + 4, 12);
    memcpy(job->job_info, "ji_", 3);
    zl_engine_random_hex(x->emu->engine, job->job_info + 3, 24);
    job->app = x->app;
    job->prog = x->prog;
    job->ability = x->ability;
    job->created_ms = zl_emu_now_ms(x->emu);
    job->seq = zl_emu_seq(x->emu);
    if (zl_strmap_put(x->emu->jobs, job->jobid, job) != 0) {
        free(job);
        fail(x, -1, "out of memory");
        return;
    }
    if (zl_strmap_put(x->emu->job_infos, job->job_info, job) != 0) {
        zl_strmap_del(x->emu->jobs, job->jobid);
        fail(x, -1, "out of memory");
        return;
    }
    x->job = job;
    job->dispatching = true;
    fill_callback(x, &cb, request_data);
    cb.notify_id = "";
    if ((rc = zl_emu_call_program(x->emu, x->prog, zl_emu_pick_replica(x->prog), &cb,
                                  x->emu->opt.program_timeout_ms, on_async_ack, x)) != 0) {
        zl_strmap_del(x->emu->job_infos, job->job_info);
        zl_strmap_del(x->emu->jobs, job->jobid);
        fail(x, 710638, rc == ZL_CALL_QUEUE_FULL ? QUEUE_FULL : "cannot start the call");
    }
}

static void ep_async_program_result(app_ctx *x)
{
    const char *jobid;
    zl_job *job;
    cJSON *reply;

    if (str_field(x, "jobid", 128, true, &jobid) < 0)
        return;
    job = zl_strmap_get(x->emu->jobs, jobid);
    if (!job || job->app != x->app || job->task ||
        zl_emu_now_ms(x->emu) - job->created_ms > x->emu->opt.job_ttl_s * 1000) {
        fail(x, 40058, "unknown jobid");
        return;
    }
    if (job->state == 0) {
        fail(x, x->emu->opt.async_pending_errcode, NULL);
        return;
    }
    reply = ok_reply();
    cJSON_AddNumberToObject(reply, "response_errcode", job->response_errcode);
    cJSON_AddStringToObject(reply, "response_data", job->result ? job->result : "");
    answer(x, reply);
}

static const struct endpoint {
    const char *name;
    app_fn fn;
} endpoints[] = {
    {"set_public_key", ep_set_public_key},
    {"set_receive_callback", ep_set_receive_callback},
    {"set_log_level", ep_set_log_level},
    {"get_log_level", ep_get_log_level},
    {"open_debug_mode", ep_open_debug_mode},
    {"close_debug_mode", ep_close_debug_mode},
    {"check_debug_mode", ep_check_debug_mode},
    {"get_auth_user_list", ep_get_auth_user_list},
    {"get_corp_auth_info", ep_get_corp_auth_info},
    {"upload_media", ep_upload_media},
    {"set_hide_sensitiveinfo_config", ep_set_hide_sensitiveinfo_config},
    {"get_hide_sensitiveinfo_config", ep_get_hide_sensitiveinfo_config},
    {"sync_call_program", ep_sync_call_program},
    {"async_program_task", ep_async_program_task},
    {"async_program_result", ep_async_program_result},
};

/* The earlier direct data endpoints, retired: WeCom answers 48002. */
static const char *const retired[] = {
    "sync_msg", "search_msg", "getagreestatus", "groupchat", "keyword", "specapi", NULL};

static void on_chatdata(zl_engine *e, zl_request *r, void *ud)
{
    zl_emu *emu = ud;
    const char *path = zl_request_path(r), *name = path + strlen("/cgi-bin/chatdata/");
    const char *token = zl_request_query(r, "access_token");
    const struct endpoint *ep = NULL;
    zl_token *t;
    app_ctx *x;
    size_t i, first_len = strcspn(name, "/");

    (void)e;
    for (i = 0; i < sizeof endpoints / sizeof *endpoints; i++)
        if (!strcmp(name, endpoints[i].name))
            ep = &endpoints[i];
    if (!ep) {
        for (i = 0; retired[i]; i++)
            if (strlen(retired[i]) == first_len && !strncmp(name, retired[i], first_len))
                break;
        if (!retired[i]) {
            zl_request_respond(r, 404, "text/plain", "", 0);
            return;
        }
    }
    if (!(x = calloc(1, sizeof *x))) {
        zl_request_respond(r, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    *x = (app_ctx){.emu = emu, .r = r, .name = ep ? ep->name : name};
    zl_emu_req_id(emu, x->req_id);
    if (!ep) {
        fail(x, 48002, "data is reached only through a zone program and the SDK");
        return;
    }
    if (!token || !*token) {
        fail(x, 41001, NULL);
        return;
    }
    if (!(t = zl_strmap_get(emu->tokens, token))) {
        fail(x, 40014, NULL);
        return;
    }
    x->app = t->app;
    if (t->expires_ms <= zl_emu_now_ms(emu)) {
        fail(x, 42001, NULL);
        return;
    }
    if (strcmp(zl_request_method(r), "POST") != 0) {
        fail(x, 40058, "this endpoint takes POST");
        return;
    }
    if (!x->app->app->data_permission) {
        fail(x, 710641, NULL);
        return;
    }
    if (zl_request_too_large(r)) {
        char why[120];

        /* every app-face answer is HTTP 200 with an errcode, this one too; upload_media's
         * own code for a size it refuses */
        snprintf(why, sizeof why, "the body is over the %zu bytes zonelab reads",
                 zl_request_too_large(r));
        fail(x, ep->fn == ep_upload_media ? 40006 : 40058, why);
        return;
    }
    if (ep->fn != ep_upload_media) {
        x->body = zone_wire_json_parse(zl_request_body(r), zl_request_body_len(r));
        if (!cJSON_IsObject(x->body)) {
            fail(x, 40058, "the body must be a JSON object");
            return;
        }
    }
    ep->fn(x);
}

static void on_gettoken_route(zl_engine *e, zl_request *r, void *ud)
{
    (void)e;
    on_gettoken(ud, r);
}

int zl_app_api_install(zl_emu *emu)
{
    if (zl_engine_route(emu->engine, NULL, "/cgi-bin/gettoken", on_gettoken_route, emu) ||
        zl_engine_route(emu->engine, NULL, "/cgi-bin/chatdata/", on_chatdata, emu) ||
        zl_engine_route_too_large(emu->engine, "/cgi-bin/chatdata/", on_chatdata, emu))
        return -1;
    return 0;
}
