/* msg: the conversation records (sdk-api.md §3.1, §3.2): sync_msg with its cursors, token
 * budget, window and pages, and get_msg_list_by_page_id. The rules themselves (cursors, the
 * window, items) are WeCom's and live in wecom/msgsync.c. */
#include <stdlib.h>
#include <string.h>

#include "api/sdk_api.h"
#include "wecom/errcode.h"

#define MAX_PAGES 10

/* The app's retention in seconds (msg_duration_days). */
#define RETENTION_S(a) ((int64_t)(a)->auth.msg_duration_days * 86400)

static zl_event_token *valid_token(zl_sdk_ctx *x, const char *token)
{
    zl_event_token *t = token ? zl_strmap_get(x->emu->event_tokens, token) : NULL;

    return t && t->app == x->app && t->expires_ms > zl_emu_now_ms(x->emu) ? t : NULL;
}

/*
 * Adds msg_list to reply: the items of the n messages at idx, written as JSON text straight
 * into one buffer (zl_sync_item_write) and attached as a raw member, so no cJSON tree is
 * built per item; the journal gets their msgids in x->msg_ids. Returns reply, or the error
 * reply (reply freed).
 */
static cJSON *items(zl_sdk_ctx *x, const size_t *idx, size_t n, cJSON *reply)
{
    zl_corp *c = x->app->corp;
    zl_sbuf b = {0};
    cJSON *raw = NULL;
    char why[200];
    size_t i;

    if (n == 0) {
        cJSON_AddArrayToObject(reply, "msg_list");
        return reply;
    }
    cJSON_Delete(x->msg_ids);
    if (!(x->msg_ids = cJSON_CreateArray()))
        goto oom;
    zl_sync_prepare(c, idx, n, x->app->keys); /* the RSA of keys not kept yet, in parallel */
    zl_sbuf_add(&b, "[", 1);
    for (i = 0; i < n; i++) {
        if (i)
            zl_sbuf_add(&b, ",", 1);
        if (zl_sync_item_write(c, idx[i], x->app->keys, &b, why, sizeof why) != 0) {
            free(b.s);
            cJSON_Delete(reply);
            return zl_sdk_err(x, -1, why);
        }
        cJSON_AddItemToArray(x->msg_ids,
                             cJSON_CreateString(zl_msgstore_at(c->messages, idx[i])->msgid));
    }
    zl_sbuf_add(&b, "]", 1);
    /* The buffer becomes the raw member's text (cJSON frees it with free: no hooks set). */
    if (b.oom || !(raw = cJSON_CreateRaw("")))
        goto oom;
    cJSON_free(raw->valuestring);
    raw->valuestring = b.s;
    b.s = NULL;
    if (!cJSON_AddItemToObject(reply, "msg_list", raw)) {
        cJSON_Delete(raw);
        goto oom;
    }
    return reply;
oom:
    free(b.s);
    cJSON_Delete(reply);
    return zl_sdk_err(x, -1, "out of memory writing msg_list");
}

static cJSON *api_sync_msg(zl_sdk_ctx *x)
{
    zl_emu *emu = x->emu;
    zl_corp *c = x->app->corp;
    zl_corp_rt *cr = zl_emu_corp(emu, c);
    const zl_scope *scope = zl_emu_app_scope(x->app); /* the app's effective members */
    const char *cursor, *token;
    long long limit = 0, mode = 0, begin_time = 0;
    int64_t now_s = zl_emu_now_ms(emu) / 1000;
    uint64_t pos;
    size_t start, kept, n, next, *idx;
    int more;
    bool no_key = zl_keyring_count(x->app->keys) == 0;
    cJSON *e, *reply;
    char nc[ZL_CURSOR_MAX + 1];

    if ((e = zl_sdk_opt_str(x, "cursor", ZL_CURSOR_MAX, &cursor)) ||
        (e = zl_sdk_opt_str(x, "token", ZL_CURSOR_MAX, &token)) ||
        (e = zl_sdk_opt_int(x, "limit", 0, emu->opt.sync_msg.limit_over_max ? INT32_MAX : 1000,
                            &limit)) ||
        (e = zl_sdk_opt_int(x, "mode", 0, 2, &mode)) ||
        (e = zl_sdk_opt_int(x, "begin_time", 0, ZL_WORLD_MAX_TIME, &begin_time)))
        return e;
    if (emu->opt.sync_msg.empty_cursor) { /* option sync_msg.empty_cursor "absent" */
        cursor = cursor && *cursor ? cursor : NULL;
        token = token && *token ? token : NULL;
    }
    if ((cursor && !*cursor) || (token && !*token))
        return zl_sdk_err(x, 40058, "cursor and token must not be empty strings; leave them out");
    if (limit == 0)
        limit = 200;
    if (limit > 1000) /* option sync_msg.limit_over_max "clamp" */
        limit = 1000;
    if (no_key && !emu->opt.sync_msg.no_public_key)
        return zl_sdk_err(x, 710659, NULL);
    if (!valid_token(x, token)) {
        if (now_s / 60 != cr->rl_window_s) {
            cr->rl_window_s = now_s / 60;
            cr->rl_count = 0;
        }
        if (++cr->rl_count > emu->opt.sync_budget_per_min)
            return zl_sdk_err(x, 45009, "sync_msg without a valid token is limited per minute");
    }
    if (cursor && zl_cursor_decode(&emu->cursor_key, 1, x->app->scope, cursor, &pos, NULL) != 0)
        return zl_sdk_err(x, 710611, NULL);
    if (cursor && emu->opt.sync_msg.cursor_before_window &&
        pos < zl_msgstore_first_at_or_after(c->messages, now_s - emu->opt.window_s))
        return zl_sdk_err(x, 710611, "the cursor points before the window (option window_s)");
    start = zl_sync_start(c, now_s, emu->opt.window_s, cursor ? &pos : NULL, begin_time);
    if (no_key) /* option sync_msg.no_public_key "empty": nothing is the app's before its key */
        start = zl_msgstore_count(c->messages);
    if (start < x->app->archive_from) /* archived before the app's first key: not its */
        start = x->app->archive_from;
    kept = zl_msgstore_first_at_or_after(c->messages, now_s - RETENTION_S(x->app));
    if (start < kept) /* older than the authorisation's msg_duration_days: gone */
        start = kept;
    if (!(idx = malloc((size_t)limit * sizeof *idx)))
        return zl_sdk_err(x, -1, "out of memory");
    n = zl_sync_collect(c, scope, start, (size_t)limit, now_s, emu->opt.max_scan, idx, &next,
                        &more);
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
            n = zl_sync_collect(c, scope, from, (size_t)limit, now_s, emu->opt.max_scan, idx, &next,
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

static cJSON *api_get_msg_list_by_page_id(zl_sdk_ctx *x)
{
    const char *id;
    zl_page *pg;
    cJSON *e, *reply;
    size_t i, n = 0, *idx;
    int64_t now_s = zl_emu_now_ms(x->emu) / 1000;

    if ((e = zl_sdk_opt_str(x, "page_id", ZL_CURSOR_MAX, &id)))
        return e;
    if (!id || !*id)
        return zl_sdk_err(x, 40058, "page_id is required");
    pg = zl_strmap_get(x->emu->pages, id);
    if (!pg || pg->app != x->app || pg->expires_ms <= zl_emu_now_ms(x->emu))
        return zl_sdk_err(x, 40058, "unknown or expired page_id");
    if (!(idx = malloc((pg->end - pg->start + 1) * sizeof *idx)))
        return zl_sdk_err(x, -1, "out of memory");
    for (i = pg->start; i < pg->end; i++) {
        const zl_message *m = zl_msgstore_at(x->app->corp->messages, i);

        if (m && m->send_time <= now_s && zl_msg_visible(x->app->corp, zl_emu_app_scope(x->app), m))
            idx[n++] = i;
    }
    reply = items(x, idx, n, zl_errcode_reply(0, NULL, NULL));
    free(idx);
    return reply;
}

const zl_sdk_api zl_sdk_apis_msg[] = {
    {"sync_msg", api_sync_msg, ZL_SDK_API_ARCHIVE},
    {"get_msg_list_by_page_id", api_get_msg_list_by_page_id, ZL_SDK_API_ARCHIVE},
    {NULL, NULL, 0},
};
