/* auth: the apps' data-zone authorisations at run time: editions and their periods on the
 * virtual clock, scope and the provider's seats, retention, cancel and re-grant. */
#include "emu/emu.h"

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
    if (ended && now - ended > PURGE_AFTER_S)
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
