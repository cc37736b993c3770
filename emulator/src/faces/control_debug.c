/* control_debug: the console's debug-mode buttons on the control face (doc 54809 §1):
 * 调试凭证-获取 (POST /_zonelab/debug_token) and 接收事件服务器-设置 (POST /_zonelab/debug_url). */
#include <stdio.h>
#include <string.h>

#include "faces/control.h"

static void refuse(zl_request *r, unsigned status, const char *why)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddStringToObject(j, "error", why);
    zl_request_respond_json(r, status, j);
}

/*
 * The body (a JSON object) and the program it names: "program_id" (required) in "corpid"
 * (default: the world's first corp). NULL after answering 4xx; else *body is owned by the
 * caller.
 */
static zl_prog_rt *program_of(zl_control *c, zl_request *r, cJSON **body)
{
    const cJSON *corpid, *id;
    zl_prog_rt *p;
    char why[300];

    *body = zone_wire_json_parse(zl_request_body(r), zl_request_body_len(r));
    if (!cJSON_IsObject(*body)) {
        refuse(r, 400, "the body must be a JSON object such as {\"program_id\":\"zone-demo\"}");
        goto fail;
    }
    corpid = cJSON_GetObjectItemCaseSensitive(*body, "corpid");
    id = cJSON_GetObjectItemCaseSensitive(*body, "program_id");
    if (corpid && !cJSON_IsString(corpid)) {
        refuse(r, 400, "corpid is a string");
        goto fail;
    }
    if (!cJSON_IsString(id)) {
        refuse(r, 400, "program_id (a string) is required");
        goto fail;
    }
    p = zl_emu_prog(c->emu, corpid ? corpid->valuestring : c->emu->world->corps[0].corpid,
                    id->valuestring);
    if (!p) {
        snprintf(why, sizeof why, "no program %.64s in corp %.64s", id->valuestring,
                 corpid ? corpid->valuestring : c->emu->world->corps[0].corpid);
        refuse(r, 404, why);
        goto fail;
    }
    return p;
fail:
    cJSON_Delete(*body);
    *body = NULL;
    return NULL;
}

/* {debug_token, expires_at (Unix s), expires_ms, renewed} of p. */
static cJSON *token_reply(const zl_prog_rt *p, bool renewed)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddStringToObject(j, "debug_token", p->debug_token);
    cJSON_AddNumberToObject(j, "expires_at", (double)(p->debug_token_expires_ms / 1000));
    cJSON_AddNumberToObject(j, "expires_ms", (double)p->debug_token_expires_ms);
    cJSON_AddBoolToObject(j, "renewed", renewed);
    return j;
}

/* POST /_zonelab/debug_token {"program_id", "corpid"?}: the console's 调试凭证-获取. */
static void on_debug_token(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    cJSON *body;
    zl_prog_rt *p = program_of(c, r, &body);
    bool renewed;

    (void)e;
    if (!p)
        return;
    renewed = zl_emu_debug_token_fetch(c->emu, p);
    zl_request_respond_json(r, 200, token_reply(p, renewed));
    cJSON_Delete(body);
}

/* POST /_zonelab/debug_url {"program_id", "corpid"?, "url"}: the console's
 * 接收事件服务器-设置 ("" clears it). */
static void on_debug_url(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    cJSON *body, *j;
    zl_prog_rt *p = program_of(c, r, &body);
    const cJSON *url;

    (void)e;
    if (!p)
        return;
    url = cJSON_GetObjectItemCaseSensitive(body, "url");
    if (!cJSON_IsString(url))
        refuse(r, 400, "url (a string) is required: an http:// or https:// URL, or \"\" to clear");
    else if (zl_emu_debug_url_set(c->emu, p, url->valuestring) != 0)
        refuse(r, 400,
               "url must be an http:// or https:// URL (at most 2048 bytes, no spaces), or \"\"");
    else {
        j = cJSON_CreateObject();
        cJSON_AddBoolToObject(j, "ok", 1);
        cJSON_AddStringToObject(j, "debug_url", p->debug_url);
        cJSON_AddBoolToObject(j, "forwarding", zl_emu_debug_forwarding(p));
        zl_request_respond_json(r, 200, j);
    }
    cJSON_Delete(body);
}

int zl_control_debug_install(zl_control *c)
{
    if (zl_engine_route(c->engine, "POST", "/_zonelab/debug_token", on_debug_token, c) ||
        zl_engine_route(c->engine, "POST", "/_zonelab/debug_url", on_debug_url, c))
        return -1;
    return 0;
}
