/* sdk_face: POST /zone/v1/invoke, the SDK APIs a zone program calls over zone wire v1. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emu.h"
#include "errcode.h"
#include "models.h"
#include "protocol.h"
#include "sdk_api.h"

#define MAX_PAGES 10

typedef zl_sdk_ctx sdk_ctx;

static cJSON *err(sdk_ctx *x, int code, const char *detail)
{
    return zl_sdk_err(x, code, detail);
}

static cJSON *opt_str(sdk_ctx *x, const char *key, size_t max, const char **out)
{
    return zl_sdk_opt_str(x, key, max, out);
}

static cJSON *opt_int(sdk_ctx *x, const char *key, long long min, long long max, long long *out)
{
    return zl_sdk_opt_int(x, key, min, max, out);
}

/* ---- request fields (NULL on success; otherwise the error reply) ---- */

cJSON *zl_sdk_err(zl_sdk_ctx *x, int code, const char *detail)
{
    return zl_errcode_reply(code, detail, x->req_id);
}

cJSON *zl_sdk_errf(zl_sdk_ctx *x, int code, const char *fmt, ...)
{
    char why[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return zl_sdk_err(x, code, why);
}

const cJSON *zl_json_get(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

bool zl_json_is_int(const cJSON *v, long long lo, long long hi)
{
    return cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble &&
           v->valuedouble >= (double)lo && v->valuedouble <= (double)hi;
}

size_t zl_utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

cJSON *zl_sdk_opt_str(zl_sdk_ctx *x, const char *key, size_t max, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->req, key);
    char why[160];

    *out = NULL;
    if (!v)
        return NULL;
    if (!cJSON_IsString(v)) {
        snprintf(why, sizeof why, "%s must be a string", key);
        return zl_sdk_err(x, 40058, why);
    }
    if (strlen(v->valuestring) > max) {
        snprintf(why, sizeof why, "%s is longer than %zu bytes", key, max);
        return zl_sdk_err(x, 40058, why);
    }
    *out = v->valuestring;
    return NULL;
}

cJSON *zl_sdk_opt_int(zl_sdk_ctx *x, const char *key, long long min, long long max, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->req, key);
    char why[160];

    if (!v)
        return NULL;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble ||
        v->valuedouble < (double)min || v->valuedouble > (double)max) {
        snprintf(why, sizeof why, "%s must be an integer from %lld to %lld", key, min, max);
        return zl_sdk_err(x, 40058, why);
    }
    *out = (long long)v->valuedouble;
    return NULL;
}

/* ---- sync_msg ---- */

static zl_event_token *valid_token(sdk_ctx *x, const char *token)
{
    zl_event_token *t = token ? zl_strmap_get(x->emu->event_tokens, token) : NULL;

    return t && t->app == x->app && t->expires_ms > zl_emu_now_ms(x->emu) ? t : NULL;
}

static cJSON *items(sdk_ctx *x, const size_t *idx, size_t n, cJSON *reply)
{
    zl_corp_rt *cr = zl_emu_corp(x->emu, x->app->corp);
    cJSON *list = cJSON_AddArrayToObject(reply, "msg_list");
    char why[200];
    size_t i;

    for (i = 0; i < n; i++) {
        cJSON *item = zl_sync_item(x->app->corp, idx[i], cr->keys, why, sizeof why);

        if (!item) {
            cJSON_Delete(reply);
            return err(x, -1, why);
        }
        cJSON_AddItemToArray(list, item);
    }
    return reply;
}

static cJSON *api_sync_msg(sdk_ctx *x)
{
    zl_emu *emu = x->emu;
    zl_corp *c = x->app->corp;
    zl_corp_rt *cr = zl_emu_corp(emu, c);
    const char *cursor, *token;
    long long limit = 0, mode = 0, begin_time = 0;
    int64_t now_s = zl_emu_now_ms(emu) / 1000;
    uint64_t pos;
    size_t start, n, next, *idx;
    int more;
    cJSON *e, *reply;
    char nc[ZL_CURSOR_MAX + 1];

    if ((e = opt_str(x, "cursor", ZL_CURSOR_MAX, &cursor)) ||
        (e = opt_str(x, "token", ZL_CURSOR_MAX, &token)) ||
        (e = opt_int(x, "limit", 0, 1000, &limit)) || (e = opt_int(x, "mode", 0, 2, &mode)) ||
        (e = opt_int(x, "begin_time", 0, ZL_WORLD_MAX_TIME, &begin_time)))
        return e;
    if ((cursor && !*cursor) || (token && !*token))
        return err(x, 40058, "cursor and token must not be empty strings; leave them out");
    if (limit == 0)
        limit = 200;
    if (zl_keyring_count(cr->keys) == 0)
        return err(x, 710659, NULL);
    if (!valid_token(x, token)) {
        if (now_s / 60 != cr->rl_window_s) {
            cr->rl_window_s = now_s / 60;
            cr->rl_count = 0;
        }
        if (++cr->rl_count > emu->opt.sync_budget_per_min)
            return err(x, 45009, "sync_msg without a valid token is limited per minute");
    }
    if (cursor && zl_cursor_decode(&emu->cursor_key, 1, x->app->scope, cursor, &pos, NULL) != 0)
        return err(x, 710611, NULL);
    start = zl_sync_start(c, now_s, emu->opt.window_s, cursor ? &pos : NULL, begin_time);
    if (!(idx = malloc((size_t)limit * sizeof *idx)))
        return err(x, -1, "out of memory");
    n = zl_sync_collect(c, start, (size_t)limit, now_s, emu->opt.max_scan, idx, &next, &more);
    reply = zl_errcode_reply(0, NULL, NULL);
    if (mode == 0 || (mode == 2 && !more)) {
        cJSON_AddNumberToObject(reply, "has_more", more);
        zl_cursor_encode(&emu->cursor_key, 1, x->app->scope, next, 0, nc);
        cJSON_AddStringToObject(reply, "next_cursor", nc);
        reply = items(x, idx, n, reply);
    } else {
        cJSON *pages = cJSON_CreateArray();
        size_t k, from = start;

        for (k = 0; k < MAX_PAGES && n > 0; k++) {
            zl_page *pg = malloc(sizeof *pg);
            char id[40];

            if (!pg)
                break;
            *pg = (zl_page){.app = x->app,
                            .start = from,
                            .end = next,
                            .expires_ms = zl_emu_now_ms(emu) + emu->opt.page_ttl_s * 1000};
            memcpy(id, "pg_", 3);
            zl_engine_random_hex(emu->engine, id + 3, 16);
            if (zl_strmap_put(emu->pages, id, pg) != 0) {
                free(pg);
                break;
            }
            cJSON_AddItemToArray(pages, cJSON_CreateString(id));
            from = next;
            if (!more) {
                n = 0; /* the last listed page reached the end */
                break;
            }
            n = zl_sync_collect(c, from, (size_t)limit, now_s, emu->opt.max_scan, idx, &next,
                                &more);
        }
        /* n > 0 here: a batch exists at from that no listed page holds (the 10-page cap) */
        cJSON_AddNumberToObject(reply, "has_more", n > 0);
        zl_cursor_encode(&emu->cursor_key, 1, x->app->scope, from, 0, nc);
        cJSON_AddStringToObject(reply, "next_cursor", nc);
        cJSON_AddItemToObject(reply, "page_id_list", pages);
    }
    free(idx);
    return reply;
}

static cJSON *api_get_msg_list_by_page_id(sdk_ctx *x)
{
    const char *id;
    zl_page *pg;
    cJSON *e, *reply;
    size_t i, n = 0, *idx;
    int64_t now_s = zl_emu_now_ms(x->emu) / 1000;

    if ((e = opt_str(x, "page_id", ZL_CURSOR_MAX, &id)))
        return e;
    if (!id || !*id)
        return err(x, 40058, "page_id is required");
    pg = zl_strmap_get(x->emu->pages, id);
    if (!pg || pg->app != x->app || pg->expires_ms <= zl_emu_now_ms(x->emu))
        return err(x, 40058, "unknown or expired page_id");
    if (!(idx = malloc((pg->end - pg->start + 1) * sizeof *idx)))
        return err(x, -1, "out of memory");
    for (i = pg->start; i < pg->end; i++) {
        const zl_message *m = zl_msgstore_at(x->app->corp->messages, i);

        if (m && m->send_time <= now_s && zl_msg_visible(x->app->corp, m))
            idx[n++] = i;
    }
    reply = items(x, idx, n, zl_errcode_reply(0, NULL, NULL));
    free(idx);
    return reply;
}

/* ---- notify and async results ---- */

static cJSON *api_spec_notify_app(sdk_ctx *x)
{
    zl_emu *emu = x->emu;
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(x->req, "notify_scene");
    const char *nid;
    char gen[40];
    zl_notify *n;
    int scene = -1;
    cJSON *e, *reply;

    if ((e = opt_str(x, "notify_id", 4096, &nid)))
        return e;
    if (nid && strlen(nid) > (emu->opt.notify_strict_64 ? 64u : 128u))
        return err(x, 40058,
                   emu->opt.notify_strict_64 ? "notify_id is longer than 64 bytes"
                                             : "notify_id is longer than 128 bytes");
    if (!nid || !*nid) {
        zl_engine_random_hex(emu->engine, gen, 16);
        nid = gen;
    }
    if (cJSON_IsNumber(sv) && sv->valuedouble == (double)(int)sv->valuedouble &&
        sv->valuedouble >= 0 && sv->valuedouble <= 255)
        scene = (int)sv->valuedouble;
    if (!(n = malloc(sizeof *n)))
        return err(x, -1, "out of memory");
    *n = (zl_notify){.prog = x->prog,
                     .replica = x->replica,
                     .replica_known = x->replica_known,
                     .agentid = x->app->app->agentid,
                     .expires_ms = zl_emu_now_ms(emu) + emu->opt.notify_ttl_s * 1000};
    if (zl_strmap_put(emu->notify_ids, nid, n) != 0) {
        free(n);
        return err(x, -1, "out of memory");
    }
    if (emu->notify_out)
        zl_appnotify_program_notify(emu->notify_out, x->app->corp->corpid, x->app->app, nid, scene);
    reply = zl_errcode_reply(0, NULL, NULL);
    cJSON_AddStringToObject(reply, "notify_id", nid);
    return reply;
}

static cJSON *api_program_async_job_call_back(sdk_ctx *x)
{
    zl_job *job = zl_strmap_get(x->emu->job_infos, x->inv.job_info ? x->inv.job_info : "");
    long long code = 0;
    const char *result;
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(x->req, "errcode");
    zl_protocol_diag d;
    cJSON *e;
    int rc;

    if (!job || job->prog != x->prog)
        return err(x, 790017, NULL);
    if (job->state != 0 || zl_emu_now_ms(x->emu) - job->created_ms > x->emu->opt.job_ttl_s * 1000)
        return err(x, 790010, NULL);
    if (!ev)
        return err(x, 40058, "errcode is required");
    if ((e = opt_int(x, "errcode", INT32_MIN, INT32_MAX, &code)) ||
        (e = opt_str(x, "result", 1u << 20, &result)))
        return e;
    if (result) {
        rc = zl_protocol_check_response(job->prog->output_ex[job->ability], result, strlen(result),
                                        NULL, &d);
        if (rc) {
            cJSON *j = cJSON_CreateObject();

            cJSON_AddStringToObject(j, "jobid", job->jobid);
            cJSON_AddStringToObject(j, "program_id", job->prog->prog->program_id);
            cJSON_AddStringToObject(j, "ability_id",
                                    job->prog->prog->abilities[job->ability].ability_id);
            cJSON_AddNumberToObject(j, "errcode", rc);
            cJSON_AddStringToObject(j, "path", d.path);
            cJSON_AddStringToObject(j, "expected", d.expected);
            cJSON_AddStringToObject(j, "actual", d.actual);
            cJSON_AddStringToObject(j, "diagnosis", d.sentence);
            zl_journal_add(x->emu->journal, zl_emu_now_ms(x->emu), "sdk", "protocol_mismatch", j);
            return err(x, rc, NULL);
        }
    }
    job->state = 1;
    job->response_errcode = (int)code;
    job->result = strdup(result ? result : "");
    if (job->task)
        zl_models_on_report(x->emu, job);
    return zl_errcode_reply(0, NULL, NULL);
}

/* SpecOpenDebugMode(debug_token, access_token): the SDK half of debug mode. */
static cJSON *api_open_debug_mode(sdk_ctx *x)
{
    const char *dt, *at;
    zl_token *t;
    cJSON *e;

    if ((e = opt_str(x, "debug_token", 128, &dt)) || (e = opt_str(x, "access_token", 512, &at)))
        return e;
    if (!dt || !at)
        return err(x, 40058, "debug_token and access_token are required");
    if (!(t = zl_strmap_get(x->emu->tokens, at)) || t->app->corp != x->prog->corp)
        return err(x, 40014, NULL);
    if (t->expires_ms <= zl_emu_now_ms(x->emu))
        return err(x, 42001, NULL);
    if (strcmp(dt, x->prog->debug_token) != 0 ||
        x->prog->debug_token_expires_ms <= zl_emu_now_ms(x->emu))
        return err(x, 710671, NULL);
    x->prog->debug_sdk_open = true;
    return zl_errcode_reply(0, NULL, NULL);
}

static const zl_sdk_api core_apis[] = {
    {"sync_msg", api_sync_msg, false},
    {"get_msg_list_by_page_id", api_get_msg_list_by_page_id, false},
    {"spec_notify_app", api_spec_notify_app, false},
    {"program_async_job_call_back", api_program_async_job_call_back, true},
    {"zonelab.open_debug_mode", api_open_debug_mode, true},
    {NULL, NULL, false},
};

/* Every family's table; a family adds itself here and in sdk_api.h. */
static const zl_sdk_api *const families[] = {core_apis,
                                             zl_sdk_apis_chat,
                                             zl_sdk_apis_rules,
                                             zl_sdk_apis_kb,
                                             zl_sdk_apis_models,
                                             zl_sdk_apis_export,
                                             NULL};

static const zl_sdk_api *find_api(const char *name)
{
    size_t f;
    const zl_sdk_api *a;

    for (f = 0; families[f]; f++)
        for (a = families[f]; a->name; a++)
            if (!strcmp(a->name, name))
                return a;
    return NULL;
}

/* ---- the wire ---- */

static void respond_sealed(zl_emu *emu, zl_request *r, zl_prog_rt *p, const char *response, int exc,
                           const char *why)
{
    zone_wire_reply rep = {.response = strdup(response), .exception = exc != 0};
    zone_wire_sealed_headers h;
    char *plain = NULL, *body = NULL, code[16];

    (void)emu;
    if (exc) {
        snprintf(code, sizeof code, "%d", exc);
        zl_request_add_header(r, ZONE_WIRE_H_EXCEPTION, code);
        zl_request_add_header(r, ZONE_WIRE_H_ERROR, why);
    }
    if (!p || !rep.response || !(plain = zone_wire_reply_encode(&rep)) ||
        zone_wire_seal(&p->keys, NULL, ZONE_WIRE_REPLY_METHOD, ZONE_WIRE_INVOKE_PATH, plain,
                       strlen(plain), &h, &body) != ZONE_WIRE_OK) {
        free(plain);
        free(rep.response);
        zl_request_respond(r, 200, "text/plain", "", 0);
        return;
    }
    free(rep.response);
    zl_request_add_header(r, "ww-secret-ver", h.secret_ver);
    zl_request_add_header(r, "ww-timestamp", h.timestamp);
    zl_request_add_header(r, "ww-nonce", h.nonce);
    zl_request_add_header(r, "ww-signature", h.signature);
    zl_request_respond(r, 200, "text/plain", body, strlen(body));
    free(plain);
    free(body);
}

static void journal_invoke(zl_emu *emu, sdk_ctx *x, const char *outcome, int code,
                           const cJSON *reply, const char *why)
{
    cJSON *j = cJSON_CreateObject();

    if (x->prog)
        cJSON_AddStringToObject(j, "program_id", x->prog->prog->program_id);
    if (x->inv.api) {
        cJSON_AddStringToObject(j, "api", x->inv.api);
        cJSON_AddStringToObject(j, "instance", x->inv.instance ? x->inv.instance : "");
        cJSON_AddStringToObject(j, "corpid", x->inv.corpid ? x->inv.corpid : "");
        cJSON_AddNumberToObject(j, "agentid", x->inv.agentid);
        cJSON_AddStringToObject(j, "request", x->inv.request ? x->inv.request : "");
    }
    cJSON_AddStringToObject(j, "outcome", outcome);
    if (code)
        cJSON_AddNumberToObject(j, "sdk_code", code);
    if (why)
        cJSON_AddStringToObject(j, "error", why);
    if (reply) {
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(reply, "errcode");

        cJSON *copy = cJSON_Duplicate(reply, 1), *list = cJSON_GetObjectItem(copy, "msg_list");

        cJSON_AddNumberToObject(j, "errcode", ec ? ec->valuedouble : 0);
        /* A page of 1000 items is ~0.5 MB: the journal keeps each item's msgid only. */
        if (cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0) {
            cJSON *ids = cJSON_CreateArray(), *m;

            cJSON_ArrayForEach(m, list)
            {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "msgid");

                cJSON_AddItemToArray(ids,
                                     cJSON_CreateString(cJSON_IsString(id) ? id->valuestring : ""));
            }
            cJSON_ReplaceItemInObject(copy, "msg_list", ids);
            cJSON_AddBoolToObject(j, "msg_list_abridged", 1);
            if (emu->opt.journal_replies) {
                char *text = cJSON_PrintUnformatted(reply);

                cJSON_AddStringToObject(j, "reply", text ? text : "");
                cJSON_free(text);
            }
        }
        cJSON_AddItemToObject(j, "response", copy);
    }
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "sdk", "invoke", j);
}

/* Answers a verified invoke: the API, or the unsupported-API exception. Frees x. */
static void serve(zl_request *r, sdk_ctx *x)
{
    zl_emu *emu = x->emu;
    const zl_sdk_api *api = find_api(x->inv.api);
    cJSON *reply = NULL;
    char *text;

    if (!api) {
        const char *why = "zonelab does not serve this API name";

        journal_invoke(emu, x, "refused", -10006, NULL, why);
        respond_sealed(emu, r, x->prog, "", -10006, why);
        goto out;
    }
    if (api->fn == api_open_debug_mode) /* no corp context: the wire keys name the program */
        reply = cJSON_IsObject(x->req) ? api->fn(x)
                                       : err(x, 40058, "the request must be a JSON object");
    else if (strcmp(x->inv.corpid ? x->inv.corpid : "", x->prog->corp->corpid) != 0)
        reply = err(x, 40058, "corpid is not the corp this program runs for");
    else if (!(x->app = zl_emu_app(emu, x->inv.corpid, x->inv.agentid)) &&
             !(api->agent_optional && x->inv.agentid == 0))
        reply = err(x, 40056, NULL);
    else if (x->app && !x->app->app->data_permission)
        reply = err(x, 710641, NULL);
    else if (!cJSON_IsObject(x->req))
        reply = err(x, 40058, "the request must be a JSON object");
    else if (!x->app && api->fn != api_program_async_job_call_back)
        reply = err(x, 40056, NULL);
    else
        reply = api->fn(x);
    journal_invoke(emu, x, "answered", 0, reply, NULL);
    text = cJSON_PrintUnformatted(reply);
    respond_sealed(emu, r, x->prog, text ? text : "", 0, NULL);
    cJSON_free(text);
    cJSON_Delete(reply);
out:
    cJSON_Delete(x->req);
    zone_wire_invoke_cleanup(&x->inv);
    free(x);
}

/* An invoke a scenario delays: served when its timer fires. */
typedef struct delayed {
    struct delayed *next;
    zl_request *r;
    sdk_ctx *x;
} delayed;

static void on_delay(zl_engine *e, void *ud)
{
    delayed *d = ud, **p;
    zl_emu *emu = d->x->emu;

    (void)e;
    for (p = (delayed **)&emu->delayed; *p; p = &(*p)->next)
        if (*p == d) {
            *p = d->next;
            break;
        }
    serve(d->r, d->x);
    free(d);
}

void zl_sdk_face_free_delayed(zl_emu *emu)
{
    delayed *d = emu->delayed, *n;

    for (; d; d = n) {
        n = d->next;
        cJSON_Delete(d->x->req);
        zone_wire_invoke_cleanup(&d->x->inv);
        free(d->x);
        free(d);
    }
    emu->delayed = NULL;
}

/* The scenario's hook, if any: 1 when it answered (x is freed), 0 to go on. */
static int hooked(zl_request *r, sdk_ctx *x)
{
    zl_emu *emu = x->emu;
    cJSON *reply = NULL;
    long delay_ms = 0;
    int h = emu->sdk_hook(emu->sdk_hook_ud, x->inv.api, x->req, &reply, &delay_ms);
    static char garbage[] = "\x01 this is not a zone wire reply \x02";
    char *text;
    delayed *d;

    switch (h) {
    case ZL_HOOK_REPLY:
        journal_invoke(emu, x, "scripted", 0, reply, NULL);
        text = cJSON_PrintUnformatted(reply);
        respond_sealed(emu, r, x->prog, text ? text : "", 0, NULL);
        cJSON_free(text);
        cJSON_Delete(reply);
        break;
    case ZL_HOOK_RESET: {
        const char *nonce = zl_request_header(r, "ww-nonce");

        if (nonce)
            snprintf(emu->reset_nonces[emu->reset_next++ % 8], sizeof emu->reset_nonces[0], "%s",
                     nonce);
        journal_invoke(emu, x, "reset", 0, NULL, "a scenario dropped the connection");
        zl_request_abort(r);
        break;
    }
    case ZL_HOOK_GARBAGE:
        journal_invoke(emu, x, "garbage", 0, NULL, "a scenario answered garbage");
        zl_request_respond(r, 200, "text/plain", garbage, sizeof garbage - 1);
        break;
    case ZL_HOOK_DELAY:
        if (!(d = calloc(1, sizeof *d)))
            return 0;
        *d = (delayed){.next = emu->delayed, .r = r, .x = x};
        emu->delayed = d;
        journal_invoke(emu, x, "delayed", 0, NULL, NULL);
        zl_engine_timer(emu->engine, zl_emu_now_ms(emu) + delay_ms, on_delay, d);
        return 1;
    default:
        return 0;
    }
    cJSON_Delete(x->req);
    zone_wire_invoke_cleanup(&x->inv);
    free(x);
    return 1;
}

static void on_invoke(zl_engine *e, zl_request *r, void *ud)
{
    zl_emu *emu = ud;
    sdk_ctx *x = calloc(1, sizeof *x);
    const char **names, **values;
    size_t n = zl_request_headers(r, &names, &values), i, k;
    zone_wire_header hs[64];
    const char *ver = NULL;
    char *plain = NULL, detail[256] = "";
    size_t plen = 0;
    int rc;

    (void)e;
    if (!x) {
        zl_request_respond(r, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    x->emu = emu;
    zl_emu_req_id(emu, x->req_id);
    for (i = 0, k = 0; i < n && k < 64; i++) {
        hs[k++] = (zone_wire_header){.name = names[i], .value = values[i]};
        if (!strcasecmp(names[i], "ww-secret-ver"))
            ver = values[i];
    }
    if (ver) {
        char *end;
        unsigned long v = strtoul(ver, &end, 10);

        if (*ver && !*end)
            x->prog = zl_emu_prog_by_ver(emu, (uint32_t)v);
    }
    if (!x->prog) {
        const char *why = ver ? "no program holds this ww-secret-ver; check ZONELAB_SECRET_VER"
                              : "the ww-secret-ver header is missing";

        journal_invoke(emu, x, "refused", ver ? -10008 : -10004, NULL, why);
        respond_sealed(emu, r, NULL, "", ver ? -10008 : -10004, why);
        free(x);
        return;
    }
    {
        const char *nonce = zl_request_header(r, "ww-nonce");

        for (i = 0; nonce && *nonce && i < 8; i++)
            if (!strcmp(emu->reset_nonces[i], nonce)) { /* the client's automatic re-send */
                journal_invoke(emu, x, "reset", 0, NULL, "re-sent after a reset: reset again");
                zl_request_abort(r);
                free(x);
                return;
            }
    }
    rc = zone_wire_open(&x->prog->keys, x->prog->replay, NULL, "POST", ZONE_WIRE_INVOKE_PATH, hs, k,
                        zl_request_body(r), zl_request_body_len(r), &plain, &plen, detail,
                        sizeof detail);
    if (rc != ZONE_WIRE_OK) {
        journal_invoke(emu, x, "refused", zone_wire_sdk_code(rc), NULL, detail);
        respond_sealed(emu, r, x->prog, "", zone_wire_sdk_code(rc), detail);
        free(x);
        return;
    }
    if (zone_wire_invoke_decode(plain, plen, &x->inv) != 0) {
        free(plain);
        journal_invoke(emu, x, "refused", -10009, NULL, "the invoke envelope is not valid");
        respond_sealed(emu, r, x->prog, "", -10009, "the invoke envelope is not valid");
        zone_wire_invoke_cleanup(&x->inv);
        free(x);
        return;
    }
    free(plain);
    for (i = 0; x->inv.instance && i < x->prog->replica_count; i++)
        if (!strcmp(x->prog->replicas[i].instance, x->inv.instance)) {
            x->replica = i;
            x->replica_known = true;
        }
    x->req = cJSON_Parse(x->inv.request ? x->inv.request : "");
    if (emu->sdk_hook && hooked(r, x))
        return;
    serve(r, x);
}

int zl_sdk_face_install(zl_emu *emu)
{
    return zl_engine_route(emu->engine, "POST", ZONE_WIRE_INVOKE_PATH, on_invoke, emu);
}
