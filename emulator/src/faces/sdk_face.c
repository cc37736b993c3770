/* sdk_face: POST /zone/v1/invoke, the SDK APIs a zone program calls over zone wire v1. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/sdk_api.h"
#include "emu/emu.h"
#include "faces/faces.h"
#include "wecom/errcode.h"

typedef zl_sdk_ctx sdk_ctx;

/* Frees an invoke's context: the parsed request, the envelope, x itself. */
static void ctx_free(sdk_ctx *x)
{
    cJSON_Delete(x->req);
    cJSON_Delete(x->msg_ids);
    zone_wire_invoke_cleanup(&x->inv);
    free(x);
}

/* ---- the wire ---- */

/* Answers r with the reply envelope around response, sealed in one buffer (bare when p is
 * NULL or sealing failed); exc, when not 0, is the exception code sent with why. */
static void respond_sealed(zl_emu *emu, zl_request *r, zl_prog_rt *p, const char *response, int exc,
                           const char *why)
{
    zone_wire_sealed_headers h;
    char *body = NULL, code[16];
    size_t len = 0;

    (void)emu;
    if (exc) {
        snprintf(code, sizeof code, "%d", exc);
        zl_request_add_header(r, ZONE_WIRE_H_EXCEPTION, code);
        zl_request_add_header(r, ZONE_WIRE_H_ERROR, why);
    }
    if (!p || zone_wire_seal_reply(&p->keys, NULL, ZONE_WIRE_INVOKE_PATH, response,
                                   strlen(response), exc != 0, &h, &body, &len) != ZONE_WIRE_OK) {
        zl_request_respond(r, 200, "text/plain", "", 0);
        return;
    }
    zl_request_add_header(r, "ww-secret-ver", h.secret_ver);
    zl_request_add_header(r, "ww-timestamp", h.timestamp);
    zl_request_add_header(r, "ww-nonce", h.nonce);
    zl_request_add_header(r, "ww-signature", h.signature);
    zl_request_respond(r, 200, "text/plain", body, len);
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
        /* the ability of the call the program made it for (its SDK object's context): tells
         * an app's request proxied by an invoke_<api> ability from the program's own calls */
        cJSON_AddStringToObject(j, "ability_id", x->inv.ability_id ? x->inv.ability_id : "");
    }
    cJSON_AddStringToObject(j, "outcome", outcome);
    if (code)
        cJSON_AddNumberToObject(j, "sdk_code", code);
    if (why)
        cJSON_AddStringToObject(j, "error", why);
    if (reply) {
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(reply, "errcode");
        const cJSON *list = cJSON_GetObjectItem(reply, "msg_list"), *it;
        cJSON *copy, *ids = NULL;

        cJSON_AddNumberToObject(j, "errcode", ec ? ec->valuedouble : 0);
        /* A page of 1000 items is ~0.5 MB: the journal keeps each item's msgid only. A
         * msg_list written as raw text (api/msg.c) left its msgids in x->msg_ids. */
        if (cJSON_IsRaw(list) && x->msg_ids) {
            ids = x->msg_ids;
            x->msg_ids = NULL;
        } else if (cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0) {
            ids = cJSON_CreateArray();
            cJSON_ArrayForEach(it, list)
            {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "msgid");

                cJSON_AddItemToArray(ids,
                                     cJSON_CreateString(cJSON_IsString(id) ? id->valuestring : ""));
            }
        }
        if (ids) {
            copy = cJSON_CreateObject();
            cJSON_ArrayForEach(it, reply)
                cJSON_AddItemToObject(copy, it->string, it == list ? ids : cJSON_Duplicate(it, 1));
            cJSON_AddBoolToObject(j, "msg_list_abridged", 1);
            if (emu->opt.journal_replies) {
                char *text = cJSON_PrintUnformatted(reply);

                cJSON_AddStringToObject(j, "reply", text ? text : "");
                cJSON_free(text);
            }
        } else {
            copy = cJSON_Duplicate(reply, 1);
        }
        cJSON_AddItemToObject(j, "response", copy);
    }
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "sdk", "invoke", j);
}

/* Answers a verified invoke with reply (taken), journaled. Frees x. */
static void answer(zl_request *r, sdk_ctx *x, cJSON *reply)
{
    char *text = cJSON_PrintUnformatted(reply);

    journal_invoke(x->emu, x, "answered", 0, reply, NULL);
    respond_sealed(x->emu, r, x->prog, text ? text : "", 0, NULL);
    cJSON_free(text);
    cJSON_Delete(reply);
    ctx_free(x);
}

/* Answers a verified invoke: the API, or the unsupported-API exception. Frees x. */
static void serve(zl_request *r, sdk_ctx *x)
{
    zl_emu *emu = x->emu;
    const zl_sdk_api *api = zl_sdk_api_find(x->inv.api);
    cJSON *reply = NULL;
    int code;

    if (!api) {
        const char *why = "zonelab does not serve this API name";

        journal_invoke(emu, x, "refused", -10006, NULL, why);
        respond_sealed(emu, r, x->prog, "", -10006, why);
        goto out;
    }
    if (api->flags & ZL_SDK_API_NO_CORP)
        reply = cJSON_IsObject(x->req) ? api->fn(x)
                                       : zl_sdk_err(x, 40058, "the request must be a JSON object");
    else if (strcmp(x->inv.corpid ? x->inv.corpid : "", x->prog->corp->corpid) != 0)
        reply = zl_sdk_err(x, 40058, "corpid is not the corp this program runs for");
    else if (!(x->app = zl_emu_app(emu, x->inv.corpid, x->inv.agentid)) &&
             !((api->flags & ZL_SDK_API_NO_APP) && x->inv.agentid == 0))
        reply = zl_sdk_err(x, 40056, NULL);
    else if (x->app && !x->app->app->data_permission)
        reply = zl_sdk_err(x, 710641, NULL);
    else if (x->app && (api->flags & ZL_SDK_API_ARCHIVE) &&
             (code = zl_emu_app_archive_check(emu, x->app)) != 0)
        reply = zl_sdk_err(x, code, NULL);
    else if (!cJSON_IsObject(x->req))
        reply = zl_sdk_err(x, 40058, "the request must be a JSON object");
    else
        reply = api->fn(x);
    answer(r, x, reply);
    return;
out:
    ctx_free(x);
}

/* An invoke a scenario delays: served when its timer fires. */
typedef struct delayed {
    struct delayed *next;
    zl_request *r;
    sdk_ctx *x;
} delayed;

/* The invokes a hook delayed, as a part of the emulator: freed with it, after the engine
 * (their requests are gone with the engine). */
typedef struct delayed_list {
    delayed *head;
} delayed_list;

static void delayed_free(void *v)
{
    delayed_list *l = v;
    delayed *d, *n;

    for (d = l ? l->head : NULL; d; d = n) {
        n = d->next;
        ctx_free(d->x);
        free(d);
    }
    free(l);
}

static const zl_emu_part_ops delayed_part = {"sdk_face.delayed", delayed_free, NULL};

static void on_delay(zl_engine *e, void *ud)
{
    delayed *d = ud, **p;
    delayed_list *l = zl_emu_part(d->x->emu, &delayed_part);

    (void)e;
    for (p = &l->head; *p; p = &(*p)->next)
        if (*p == d) {
            *p = d->next;
            break;
        }
    serve(d->r, d->x);
    free(d);
}

/* get_msg_list_by_page_id: "at most 10 concurrent calls per corp" (doc 53341), more 45033. */
#define PAGE_API            "get_msg_list_by_page_id"
#define PAGE_CONCURRENT_MAX 10

/*
 * Whether x is a page call over the concurrency limit: the page calls of its corp in flight
 * already. zonelab answers every call as soon as it arrives, so the calls in flight are the
 * ones a scenario holds (sdk.reply{fault = "delay"}) while a program's other callbacks go on
 * calling (several callbacks per replica are in flight: option delivery_window).
 */
static bool page_calls_over(sdk_ctx *x)
{
    delayed_list *l;
    const delayed *d;
    size_t n = 0;

    if (!x->inv.api || strcmp(x->inv.api, PAGE_API) != 0 ||
        !(l = zl_emu_part(x->emu, &delayed_part)))
        return false;
    for (d = l->head; d; d = d->next)
        n += d->x->inv.api && !strcmp(d->x->inv.api, PAGE_API) && d->x->prog->corp == x->prog->corp;
    return n >= PAGE_CONCURRENT_MAX;
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
    delayed_list *l;
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
        if (!(l = zl_emu_part(emu, &delayed_part)) || !(d = calloc(1, sizeof *d)))
            return 0;
        *d = (delayed){.next = l->head, .r = r, .x = x};
        l->head = d;
        journal_invoke(emu, x, "delayed", 0, NULL, NULL);
        zl_engine_timer(emu->engine, zl_emu_now_ms(emu) + delay_ms, on_delay, d);
        return 1;
    default:
        return 0;
    }
    ctx_free(x);
    return 1;
}

static void on_invoke(zl_engine *e, zl_request *r, void *ud)
{
    zl_emu *emu = ud;
    sdk_ctx *x = calloc(1, sizeof *x);
    const char **names, **values;
    size_t n = zl_request_headers(r, &names, &values), i, k;
    zone_wire_header hs[64];
    const char *ver = NULL, *nonce = zl_request_header(r, "ww-nonce");
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
        goto out;
    }
    for (i = 0; nonce && *nonce && i < 8; i++)
        if (!strcmp(emu->reset_nonces[i], nonce)) { /* the client's automatic re-send */
            journal_invoke(emu, x, "reset", 0, NULL, "re-sent after a reset: reset again");
            zl_request_abort(r);
            goto out;
        }
    rc = zone_wire_open(&x->prog->keys, x->prog->replay, NULL, "POST", ZONE_WIRE_INVOKE_PATH, hs, k,
                        zl_request_body(r), zl_request_body_len(r), &plain, &plen, detail,
                        sizeof detail);
    if (rc != ZONE_WIRE_OK) {
        journal_invoke(emu, x, "refused", zone_wire_sdk_code(rc), NULL, detail);
        respond_sealed(emu, r, x->prog, "", zone_wire_sdk_code(rc), detail);
        goto out;
    }
    if (zone_wire_invoke_decode(plain, plen, &x->inv) != 0) {
        journal_invoke(emu, x, "refused", -10009, NULL, "the invoke envelope is not valid");
        respond_sealed(emu, r, x->prog, "", -10009, "the invoke envelope is not valid");
        goto out;
    }
    for (i = 0; x->inv.instance && i < x->prog->replica_count; i++)
        if (!strcmp(x->prog->replicas[i].instance, x->inv.instance)) {
            x->replica = i;
            x->replica_known = true;
        }
    x->req = zone_wire_json_parse(x->inv.request ? x->inv.request : "",
                                  x->inv.request ? strlen(x->inv.request) : 0);
    free(plain);
    if (page_calls_over(x)) {
        answer(r, x,
               zl_sdk_errf(x, 45033, "%d get_msg_list_by_page_id calls of this corp are in flight",
                           PAGE_CONCURRENT_MAX));
        return;
    }
    if (emu->sdk_hook && hooked(r, x))
        return;  /* hooked() answered and took x */
    serve(r, x); /* takes x */
    return;
out:
    free(plain);
    ctx_free(x);
}

int zl_sdk_face_install(zl_emu *emu)
{
    delayed_list *l = calloc(1, sizeof *l);

    if (!l || zl_emu_part_set(emu, &delayed_part, l) != 0) {
        free(l);
        return -1;
    }
    return zl_engine_route(emu->engine, "POST", ZONE_WIRE_INVOKE_PATH, on_invoke, emu);
}
