/* auth: the apps' data-zone authorisations at run time: editions and their periods on the
 * virtual clock, scope and the provider's seats, retention, cancel and re-grant. */
#include "emu/emu.h"
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define DAY_S         86400
#define PURGE_AFTER_S (30 * DAY_S) /* content of an expired period is dropped after 30 days */

/* ---- scope lists ---- */

static void scope_free(zl_app_auth *u)
{
    size_t i;

    for (i = 0; i < u->userid_count; i++)
        free(u->userids[i]);
    free(u->userids);
    free(u->department_ids);
    free(u->tag_ids);
    u->userids = NULL;
    u->department_ids = u->tag_ids = NULL;
    u->userid_count = u->department_count = u->tag_count = 0;
}

/* Copies a scope (the world's, or one a lifecycle verb gives). 0, or -1 out of memory. */
static int scope_copy(zl_app_auth *u, bool given, const char *const *userids, size_t nu,
                      const uint32_t *depts, size_t nd, const uint32_t *tags, size_t nt)
{
    size_t i;

    scope_free(u);
    u->scope_given = given;
    if (!given)
        return 0;
    if ((nu && !(u->userids = calloc(nu, sizeof *u->userids))) ||
        (nd && !(u->department_ids = malloc(nd * sizeof *u->department_ids))) ||
        (nt && !(u->tag_ids = malloc(nt * sizeof *u->tag_ids))))
        return -1;
    for (i = 0; i < nu; i++) {
        if (!(u->userids[i] = strdup(userids[i])))
            return -1;
        u->userid_count++;
    }
    if (nd)
        memcpy(u->department_ids, depts, nd * sizeof *depts);
    if (nt)
        memcpy(u->tag_ids, tags, nt * sizeof *tags);
    u->department_count = nd;
    u->tag_count = nt;
    return 0;
}

int zl_emu_auth_init(zl_emu *emu, char *err, size_t errlen)
{
    size_t i, k;

    for (i = 0; i < emu->app_count; i++) {
        zl_app_rt *a = &emu->apps[i];
        const zl_auth *w = &a->app->auth;
        zl_app_auth *u = &a->auth;

        u->edition_count = w->edition_count < 3 ? w->edition_count : 3;
        for (k = 0; k < u->edition_count; k++)
            u->editions[k] = w->editions[k];
        u->seats = w->seats;
        u->msg_duration_days = w->msg_duration_days ? w->msg_duration_days : 90;
        u->test = w->test;
        snprintf(u->permanent_code, sizeof u->permanent_code, "%s",
                 w->permanent_code ? w->permanent_code : "");
        if (scope_copy(u, w->scope_given, w->userids, w->userid_count, w->department_ids,
                       w->department_count, w->tag_ids, w->tag_count) != 0 ||
            !(u->in_scope = calloc(a->corp->member_count + 1, sizeof *u->in_scope)) ||
            !(u->effective = calloc(a->corp->member_count + 1, sizeof *u->effective))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        u->view.members = u->effective;
    }
    for (i = 0; i < emu->world->corp_count; i++)
        zl_emu_auth_refresh(emu, &emu->world->corps[i]);
    return 0;
}

void zl_emu_auth_cleanup(zl_emu *emu)
{
    size_t i;

    for (i = 0; emu->apps && i < emu->app_count; i++) {
        scope_free(&emu->apps[i].auth);
        free(emu->apps[i].auth.in_scope);
        free(emu->apps[i].auth.effective);
    }
}

/* ---- scope and seats ---- */

/* The order the seats are drawn in: a hash of the emulator's seed and the userid. */
static uint64_t draw_key(const zl_emu *emu, const char *userid)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint64_t k = 0;
    size_t i;

    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, emu->cursor_key.k, sizeof emu->cursor_key.k) != 1 ||
        EVP_DigestUpdate(ctx, userid, strlen(userid)) != 1 ||
        EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
        mdlen = 0; /* no digest: the members keep their file order */
    EVP_MD_CTX_free(ctx);
    for (i = 0; i < 8 && i < mdlen; i++)
        k = k << 8 | md[i];
    return k;
}

typedef struct drawn {
    uint64_t key;
    size_t member;
} drawn;

static int by_key(const void *a, const void *b)
{
    const drawn *x = a, *y = b;

    return x->key < y->key ? -1 : x->key > y->key ? 1 : x->member < y->member ? -1 : 1;
}

/* The seats of provider p's apps in corp c: the union of their scopes, and when it is larger
 * than the seats, the first `seats` members in draw order keep theirs. */
static void share_seats(zl_emu *emu, const zl_corp *c, const zl_provider *p)
{
    size_t n = c->member_count, i, k, in = 0;
    uint32_t seats = 0;
    bool *keep = calloc(n + 1, sizeof *keep);
    drawn *order = calloc(n + 1, sizeof *order);

    for (k = 0; k < emu->app_count; k++) {
        zl_app_rt *a = &emu->apps[k];

        if (a->corp != c || !a->app->suite || a->app->suite->provider != p)
            continue;
        if (a->auth.seats)
            seats = a->auth.seats;
        for (i = 0; i < n && keep; i++)
            keep[i] = keep[i] || a->auth.in_scope[i];
    }
    if (keep && order) {
        for (i = 0; i < n; i++)
            if (keep[i])
                order[in++] = (drawn){.key = draw_key(emu, c->members[i].userid), .member = i};
        if (seats && in > seats) {
            qsort(order, in, sizeof *order, by_key);
            memset(keep, 0, n * sizeof *keep);
            for (i = 0; i < seats; i++)
                keep[order[i].member] = true;
        }
    }
    for (k = 0; k < emu->app_count; k++) {
        zl_app_rt *a = &emu->apps[k];

        if (a->corp != c || !a->app->suite || a->app->suite->provider != p)
            continue;
        for (i = 0; i < n; i++) /* out of memory: every member in scope keeps a seat */
            a->auth.effective[i] = a->auth.in_scope[i] && (!keep || keep[i]);
    }
    free(keep);
    free(order);
}

void zl_emu_auth_refresh(zl_emu *emu, const zl_corp *c)
{
    size_t i;

    for (i = 0; i < emu->app_count; i++) {
        zl_app_rt *a = &emu->apps[i];
        zl_app_auth *u = &a->auth;

        if (a->corp != c)
            continue;
        u->view_auth = (zl_auth){.scope_given = u->scope_given,
                                 .userids = (const char *const *)u->userids,
                                 .userid_count = u->userid_count,
                                 .department_ids = u->department_ids,
                                 .department_count = u->department_count,
                                 .tag_ids = u->tag_ids,
                                 .tag_count = u->tag_count};
        u->view.auth = &u->view_auth;
        zl_auth_scope_members(c, &u->view_auth, u->in_scope);
        memcpy(u->effective, u->in_scope, c->member_count * sizeof *u->effective);
    }
    for (i = 0; i < emu->world->provider_count; i++) /* seats are the provider's, per corp */
        share_seats(emu, c, &emu->world->providers[i]);
}

const zl_scope *zl_emu_app_scope(const zl_app_rt *a)
{
    return &a->auth.view;
}

/* ---- editions and periods ---- */

zl_auth_status zl_emu_edition_status(zl_emu *emu, const zl_edition *e)
{
    int64_t now = zl_emu_now_ms(emu) / 1000;

    switch (e->status) {
    case ZL_AUTH_TRIAL:
    case ZL_AUTH_PAID:
    case ZL_AUTH_FREE:
        return e->end_time && now >= e->end_time ? (zl_auth_status)(e->status + 1) : e->status;
    case ZL_AUTH_PAID_PENDING:
        if (e->begin_time && now >= e->begin_time)
            return e->end_time && now >= e->end_time ? ZL_AUTH_PAID_EXPIRED : ZL_AUTH_PAID;
        return e->status;
    default:
        return e->status;
    }
}

int zl_emu_app_archive_check(zl_emu *emu, zl_app_rt *a)
{
    const zl_app_auth *u = &a->auth;
    int64_t now = zl_emu_now_ms(emu) / 1000, ended = 0;
    bool trial = false;
    size_t i;

    if (a->app->kind == ZL_APP_SELF_BUILT)
        return 0;
    if (u->cancelled)
        return 48004;
    if (u->edition_count == 0)
        return 710651;
    for (i = 0; i < u->edition_count; i++) {
        zl_auth_status s = zl_emu_edition_status(emu, &u->editions[i]);

        if (s == ZL_AUTH_TRIAL || s == ZL_AUTH_PAID || s == ZL_AUTH_FREE)
            return 0;
        if (u->editions[i].end_time > ended) {
            ended = u->editions[i].end_time;
            trial = s == ZL_AUTH_TRIAL_EXPIRED;
        }
    }
    if (!ended) /* never a period: authorised after the shared trial ended, not bought
                 * ("试用期已到期后授权且未购买的版本", doc 55567) */
        return 710651;
    if (now - ended > PURGE_AFTER_S)
        return trial ? 710653 : 710654;
    return 301052;
}

int zl_emu_app_msg_check(zl_emu *emu, zl_app_rt *a, size_t idx)
{
    const zl_message *m = zl_msgstore_at(a->corp->messages, idx);
    int64_t now = zl_emu_now_ms(emu) / 1000;

    if (!m || idx < a->archive_from || zl_keyring_count(a->keys) == 0 ||
        !zl_msg_visible(a->corp, zl_emu_app_scope(a), m))
        return 710601;
    if (m->send_time < now - (int64_t)a->auth.msg_duration_days * DAY_S)
        return 710652;
    return 0;
}

/* ---- the lifecycle: POST /_zonelab/auth/<verb> ---- */

static unsigned refuse(char *why, size_t whylen, unsigned status, const char *text)
{
    snprintf(why, whylen, "%s", text);
    return status;
}

/* The app a body names ("corpid"?, "agentid"?; default: the first corp, its first app). */
static zl_app_rt *app_of(zl_emu *emu, const cJSON *body, char *why, size_t whylen)
{
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(body, "corpid"),
                *ag = cJSON_GetObjectItemCaseSensitive(body, "agentid");
    zl_corp *c = cid ? (cJSON_IsString(cid) ? zl_world_corp(emu->world, cid->valuestring) : NULL)
                     : &emu->world->corps[0];
    size_t i;

    if (!c) {
        snprintf(why, whylen, "corpid is not a corp of the world");
        return NULL;
    }
    if (ag && !zl_json_is_int(ag, 1, UINT32_MAX)) {
        snprintf(why, whylen, "agentid must be an app's agentid");
        return NULL;
    }
    for (i = 0; i < emu->app_count; i++)
        if (emu->apps[i].corp == c &&
            (!ag || emu->apps[i].app->agentid == (uint32_t)ag->valuedouble))
            return &emu->apps[i];
    snprintf(why, whylen, "%s has no app %s", c->corpid, ag ? "with that agentid" : "at all");
    return NULL;
}

/* A new random code of n hex characters (with a prefix) into out. */
static void new_code(zl_emu *emu, const char *prefix, char *out, size_t size)
{
    size_t p = strlen(prefix);

    memcpy(out, prefix, p);
    zl_engine_random_hex(emu->engine, out + p, (size - p - 1) / 2 < 16 ? (size - p - 1) / 2 : 16);
}

static int token_of_app(const char *key, void *value, void *ud)
{
    (void)key;
    return ((zl_token *)value)->app == ud;
}

/* The run-time authorisation of a, as get_corp_auth_info's pieces and a little more. */
static cJSON *auth_json(zl_emu *emu, zl_app_rt *a)
{
    cJSON *o = cJSON_CreateObject(), *eds = cJSON_AddArrayToObject(o, "editions"), *l;
    size_t i, n = 0;

    cJSON_AddStringToObject(o, "corpid", a->corp->corpid);
    cJSON_AddNumberToObject(o, "agentid", a->app->agentid);
    for (i = 0; i < a->auth.edition_count; i++) {
        cJSON *e = cJSON_CreateObject();

        cJSON_AddNumberToObject(e, "edition", a->auth.editions[i].edition);
        cJSON_AddNumberToObject(e, "status", zl_emu_edition_status(emu, &a->auth.editions[i]));
        if (a->auth.editions[i].begin_time)
            cJSON_AddNumberToObject(e, "begin_time", (double)a->auth.editions[i].begin_time);
        if (a->auth.editions[i].end_time)
            cJSON_AddNumberToObject(e, "end_time", (double)a->auth.editions[i].end_time);
        cJSON_AddItemToArray(eds, e);
    }
    cJSON_AddNumberToObject(o, "seats", a->auth.seats);
    cJSON_AddNumberToObject(o, "msg_duration_days", a->auth.msg_duration_days);
    cJSON_AddBoolToObject(o, "cancelled", a->auth.cancelled);
    cJSON_AddNumberToObject(o, "archive_check", zl_emu_app_archive_check(emu, a));
    l = cJSON_AddArrayToObject(o, "effective_userids");
    for (i = 0; i < a->corp->member_count; i++)
        if (a->auth.effective[i]) {
            cJSON_AddItemToArray(l, cJSON_CreateString(a->corp->members[i].userid));
            n++;
        }
    cJSON_AddNumberToObject(o, "auth_user_count", (double)n);
    if (a->auth.permanent_code[0])
        cJSON_AddStringToObject(o, "permanent_code", a->auth.permanent_code);
    if (a->auth.auth_code[0])
        cJSON_AddStringToObject(o, "auth_code", a->auth.auth_code);
    return o;
}

/* An edition's number from body["edition"] (absent: 0 = every edition of the app). */
static int edition_arg(const cJSON *body, int *edition)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "edition");

    *edition = 0;
    if (!e)
        return 0;
    if (!zl_json_is_int(e, 1, 3))
        return -1;
    *edition = (int)e->valuedouble;
    return 0;
}

/* expire: the editions in effect (or one) end now: trial -> trial expired, paid -> paid
 * expired, free -> free expired. */
static unsigned do_expire(zl_emu *emu, zl_app_rt *a, const cJSON *body, char *why, size_t wl)
{
    int64_t now = zl_emu_now_ms(emu) / 1000;
    int only;
    size_t i, n = 0;

    if (edition_arg(body, &only) != 0)
        return refuse(why, wl, 400, "edition must be 1, 2 or 3");
    for (i = 0; i < a->auth.edition_count; i++) {
        zl_edition *e = &a->auth.editions[i];
        zl_auth_status s = zl_emu_edition_status(emu, e);

        if ((only && e->edition != only) ||
            (s != ZL_AUTH_TRIAL && s != ZL_AUTH_PAID && s != ZL_AUTH_FREE))
            continue;
        e->status = s;
        e->end_time = now;
        n++;
    }
    if (!n)
        return refuse(why, wl, 409, "no edition of the app is in effect");
    return 200;
}

/* buy: an edition (or every one the app has) paid from now for `days` (365: "订单购买时长
 * 固定为1年", doc 55839), optionally with the provider's seats. Content of a period that
 * ended more than 30 days ago is gone: the app's archive starts again now. */
static unsigned do_buy(zl_emu *emu, zl_app_rt *a, const cJSON *body, char *why, size_t wl)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(body, "days"),
                *st = cJSON_GetObjectItemCaseSensitive(body, "seats");
    int64_t now = zl_emu_now_ms(emu) / 1000, days = 365;
    int only, gone = zl_emu_app_archive_check(emu, a);
    size_t i, n = 0;

    if (edition_arg(body, &only) != 0)
        return refuse(why, wl, 400, "edition must be 1, 2 or 3");
    if (d && !zl_json_is_int(d, 1, 3650))
        return refuse(why, wl, 400, "days must be 1..3650");
    if (st && !zl_json_is_int(st, 0, 1000000))
        return refuse(why, wl, 400, "seats must be 0..1000000");
    if (d)
        days = (int64_t)d->valuedouble;
    for (i = 0; i < a->auth.edition_count; i++)
        if (!only || a->auth.editions[i].edition == only) {
            a->auth.editions[i] = (zl_edition){.edition = a->auth.editions[i].edition,
                                               .status = ZL_AUTH_PAID,
                                               .begin_time = now,
                                               .end_time = now + days * DAY_S};
            n++;
        }
    if (!n && only && a->auth.edition_count < 3) {
        a->auth.editions[a->auth.edition_count++] = (zl_edition){.edition = only,
                                                                 .status = ZL_AUTH_PAID,
                                                                 .begin_time = now,
                                                                 .end_time = now + days * DAY_S};
        n++;
    }
    if (!n)
        return refuse(why, wl, 409, "the app has no edition to buy; name one");
    if (gone == 710653 || gone == 710654)
        a->archive_from = zl_msgstore_count(a->corp->messages);
    if (st) {
        for (i = 0; i < emu->app_count; i++) /* seats are the provider's in the corp */
            if (&emu->apps[i] == a ||
                (emu->apps[i].corp == a->corp && a->app->suite && emu->apps[i].app->suite &&
                 emu->apps[i].app->suite->provider == a->app->suite->provider))
                emu->apps[i].auth.seats = (uint32_t)st->valuedouble;
        zl_emu_auth_refresh(emu, a->corp);
    }
    return 200;
}

/* scope: the authorisation's scope changes (userids, department_ids, tag_ids; or "corp": true
 * for the corp's own), which WeCom announces with change_auth (doc 55567). */
static unsigned do_scope(zl_emu *emu, zl_app_rt *a, const cJSON *body, char *why, size_t wl)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(body, "userids"),
                *dp = cJSON_GetObjectItemCaseSensitive(body, "department_ids"),
                *tg = cJSON_GetObjectItemCaseSensitive(body, "tag_ids"), *v;
    const char *ids[1000];
    uint32_t depts[1000], tags[1000];
    size_t nu = 0, nd = 0, nt = 0;

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "corp"))) {
        if (scope_copy(&a->auth, false, NULL, 0, NULL, 0, NULL, 0) != 0)
            return refuse(why, wl, 503, "out of memory");
        zl_emu_auth_refresh(emu, a->corp);
        return 200;
    }
    if ((u && !cJSON_IsArray(u)) || (dp && !cJSON_IsArray(dp)) || (tg && !cJSON_IsArray(tg)))
        return refuse(why, wl, 400, "userids, department_ids and tag_ids are arrays");
    cJSON_ArrayForEach(v, u)
    {
        if (!cJSON_IsString(v) || !zl_corp_member(a->corp, v->valuestring) || nu == 1000)
            return refuse(why, wl, 400, "userids must name members of the corp (at most 1000)");
        ids[nu++] = v->valuestring;
    }
    cJSON_ArrayForEach(v, dp)
    {
        if (!zl_json_is_int(v, 1, UINT32_MAX) ||
            !zl_corp_department(a->corp, (uint32_t)v->valuedouble) || nd == 1000)
            return refuse(why, wl, 400, "department_ids must name departments of the corp");
        depts[nd++] = (uint32_t)v->valuedouble;
    }
    cJSON_ArrayForEach(v, tg)
    {
        if (!zl_json_is_int(v, 1, UINT32_MAX) || !zl_corp_tag(a->corp, (uint32_t)v->valuedouble) ||
            nt == 1000)
            return refuse(why, wl, 400, "tag_ids must name tags of the corp");
        tags[nt++] = (uint32_t)v->valuedouble;
    }
    if (scope_copy(&a->auth, true, ids, nu, depts, nd, tags, nt) != 0)
        return refuse(why, wl, 503, "out of memory");
    zl_emu_auth_refresh(emu, a->corp);
    return 200;
}

/* cancel: the corp cancels the authorisation (cancel_auth): its key and receiving program
 * go, its tokens stop working, nothing is archived for it until a re-grant. */
static unsigned do_cancel(zl_emu *emu, zl_app_rt *a, char *why, size_t wl)
{
    zl_keyring *empty;

    if (a->app->kind == ZL_APP_SELF_BUILT)
        return refuse(why, wl, 409, "a self-built app is the corp's own: nothing to cancel");
    if (a->auth.cancelled)
        return refuse(why, wl, 409, "the authorisation is cancelled already");
    if (!(empty = zl_keyring_new()))
        return refuse(why, wl, 503, "out of memory");
    zl_keyring_free(a->keys);
    a->keys = empty;
    a->receiver = NULL;
    a->auth.cancelled = true;
    a->auth.auth_code[0] = '\0';
    zl_strmap_sweep(emu->tokens, token_of_app, a);
    a->access_token[0] = '\0';
    zl_emu_suite_auth_event(emu, a, "cancel_auth");
    return 200;
}

/* grant: the corp authorises the app again (or anew): a new temporary auth_code (create_auth,
 * valid 10 min) and permanent_code; as the FAQ says, the app must set its public key and its
 * receiving program again, and what came before is not shown ("重新授权前的消息无法展示"). */
static unsigned do_grant(zl_emu *emu, zl_app_rt *a, char *why, size_t wl)
{
    if (a->app->kind == ZL_APP_SELF_BUILT)
        return refuse(why, wl, 409, "a self-built app is the corp's own: nothing to grant");
    if (!a->auth.cancelled)
        return refuse(why, wl, 409, "the app is authorised already: cancel first");
    a->auth.cancelled = false;
    a->archive_from = zl_msgstore_count(a->corp->messages);
    new_code(emu, "ac_", a->auth.auth_code, sizeof a->auth.auth_code);
    a->auth.auth_code_expires_ms = zl_emu_now_ms(emu) + 10 * 60 * 1000;
    new_code(emu, a->app->kind == ZL_APP_CUSTOM ? "dks_" : "pc_", a->auth.permanent_code,
             sizeof a->auth.permanent_code);
    zl_emu_suite_auth_event(emu, a, "create_auth");
    return 200;
}

unsigned zl_emu_auth_control(zl_emu *emu, const char *verb, const cJSON *body, cJSON **reply,
                             char *why, size_t whylen)
{
    const cJSON *v;
    zl_app_rt *a;
    unsigned st;
    bool change = false;
    cJSON *j;

    *reply = NULL;
    if (!(a = app_of(emu, body, why, whylen)))
        return 404;
    if (!strcmp(verb, "") || !strcmp(verb, "info")) {
        *reply = auth_json(emu, a);
        cJSON_AddBoolToObject(*reply, "ok", 1);
        return 200;
    }
    if (!cJSON_IsObject(body))
        return refuse(why, whylen, 400, "the body must be a JSON object");
    if (!strcmp(verb, "expire"))
        st = do_expire(emu, a, body, why, whylen);
    else if (!strcmp(verb, "buy"))
        st = do_buy(emu, a, body, why, whylen);
    else if (!strcmp(verb, "scope"))
        change = (st = do_scope(emu, a, body, why, whylen)) == 200;
    else if (!strcmp(verb, "retention")) {
        v = cJSON_GetObjectItemCaseSensitive(body, "msg_duration_days");
        if (!zl_json_is_int(v, 90, 730) || (v->valuedouble != 90 && v->valuedouble != 180 &&
                                            v->valuedouble != 365 && v->valuedouble != 730))
            st = refuse(why, whylen, 400, "msg_duration_days is 90, 180, 365 or 730");
        else {
            a->auth.msg_duration_days = (uint32_t)v->valuedouble;
            st = 200;
            change = true;
        }
    } else if (!strcmp(verb, "cancel"))
        st = do_cancel(emu, a, why, whylen);
    else if (!strcmp(verb, "grant"))
        st = do_grant(emu, a, why, whylen);
    else
        return refuse(why, whylen, 404,
                      "no such auth endpoint: info, expire, buy, scope, retention, cancel, grant");
    if (st != 200)
        return st;
    if (change) /* "会话数据授权变更 ... 会回调变更授权通知事件" (doc 55567) */
        zl_emu_suite_auth_event(emu, a, "change_auth");
    j = cJSON_Duplicate(body, 1);
    cJSON_AddStringToObject(j, "verb", verb);
    cJSON_AddItemToObject(j, "auth", auth_json(emu, a));
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", "auth", j);
    *reply = auth_json(emu, a);
    cJSON_AddBoolToObject(*reply, "ok", 1);
    return 200;
}
