/* world_auth: providers and their suites, and each app's place among them: its suite, the
 * corp's authorisation of it (editions, seats, retention, scope, permanent_code) and its own
 * public keys. */
#include "wecom/world_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#define PERMANENT_CODE_HEX 32 /* length of a derived permanent_code */

/* ---- lookups ---- */

zl_suite *zl_world_suite(zl_world *w, const char *suite_id)
{
    if (w == NULL || suite_id == NULL)
        return NULL;
    for (size_t i = 0; i < w->provider_count; i++) {
        zl_provider *p = &w->providers[i];

        for (size_t k = 0; k < p->suite_count; k++)
            if (strcmp(p->suites[k].suite_id, suite_id) == 0)
                return &p->suites[k];
    }
    return NULL;
}

zl_provider *zl_world_provider(zl_world *w, const char *corpid)
{
    if (w == NULL || corpid == NULL)
        return NULL;
    for (size_t i = 0; i < w->provider_count; i++)
        if (w->providers[i].corpid != NULL && strcmp(w->providers[i].corpid, corpid) == 0)
            return &w->providers[i];
    return NULL;
}

/* The world's first suite of this kind (providers, then suites, in file order), or NULL. */
static zl_suite *first_suite(zl_world *w, zl_suite_kind kind)
{
    for (size_t i = 0; i < w->provider_count; i++)
        for (size_t k = 0; k < w->providers[i].suite_count; k++)
            if (w->providers[i].suites[k].kind == kind)
                return &w->providers[i].suites[k];
    return NULL;
}

/* ---- providers ---- */

static int load_suites(zl_loader *L, const cJSON *jp, const char *pp, zl_provider *p)
{
    static const char *const keys[] = {"suite_id", "suite_secret",     "kind", "callback_url",
                                       "token",    "encoding_aes_key", NULL};
    const cJSON *arr, *js;
    char sp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jp, pp, "suites", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *p->suites, &p->suites) != 0)
        return -1;
    zl_load_fpath(fp, pp, "suites");
    cJSON_ArrayForEach(js, arr)
    {
        zl_suite *s = &p->suites[i];
        const char *id = NULL, *secret = NULL, *kind = "third_party", *url = "", *token = NULL,
                   *key = NULL;
        const zl_suite *dup;

        zl_load_ipath(sp, fp, i);
        if (zl_load_check_object(L, js, sp, keys) != 0 ||
            zl_load_get_string(L, js, sp, "suite_id", REQUIRED, ZL_WORLD_MAX_ID, &id) != 0 ||
            zl_load_get_string(L, js, sp, "suite_secret", REQUIRED, ZL_WORLD_MAX_NAME, &secret) !=
                0 ||
            zl_load_get_string(L, js, sp, "kind", OPTIONAL, 32, &kind) != 0 ||
            zl_load_get_string(L, js, sp, "callback_url", EMPTY_OK, ZL_WORLD_MAX_URL, &url) != 0 ||
            zl_load_get_string(L, js, sp, "token", REQUIRED, ZL_WORLD_MAX_TOKEN, &token) != 0 ||
            zl_load_get_string(L, js, sp, "encoding_aes_key", REQUIRED | EMPTY_OK, SIZE_MAX,
                               &key) != 0)
            return -1;
        if ((dup = zl_world_suite(L->w, id)) != NULL)
            return zl_load_fail(
                L, "%s.suite_id \"%s\" is already used by providers[%td].suites[%td]", sp, id,
                dup->provider - L->w->providers, dup - dup->provider->suites);
        if (strcmp(kind, "third_party") == 0)
            s->kind = ZL_SUITE_THIRD_PARTY;
        else if (strcmp(kind, "custom") == 0)
            s->kind = ZL_SUITE_CUSTOM;
        else
            return zl_load_fail(
                L, "%s.kind must be \"third_party\" or \"custom\" (a 代开发 template) (got \"%s\")",
                sp, kind);
        if (zl_load_callback(L, sp, "provider", url, token, key) != 0 ||
            zl_load_keep(L, id, &s->suite_id) != 0 ||
            zl_load_keep(L, secret, &s->suite_secret) != 0 ||
            zl_load_keep(L, url, &s->callback_url) != 0 || zl_load_keep(L, token, &s->token) != 0 ||
            zl_load_keep(L, key, &s->encoding_aes_key) != 0)
            return -1;
        s->provider = p;
        p->suite_count = ++i; /* counted once complete: zl_world_suite reads it */
    }
    return 0;
}

int zl_load_providers(zl_loader *L, const cJSON *root)
{
    static const char *const keys[] = {"corpid", "name", "provider_secret", "suites", NULL};
    zl_world *w = L->w;
    const cJSON *arr, *jp;
    char pp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, root, "", "providers", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *w->providers, &w->providers) != 0)
        return -1;
    cJSON_ArrayForEach(jp, arr)
    {
        zl_provider *p = &w->providers[i];
        const char *corpid = NULL, *name = NULL, *secret = NULL;
        const zl_provider *dup;

        zl_load_ipath(pp, "providers", i);
        if (zl_load_check_object(L, jp, pp, keys) != 0 ||
            zl_load_get_string(L, jp, pp, "corpid", REQUIRED, ZL_WORLD_MAX_ID, &corpid) != 0 ||
            zl_load_get_string(L, jp, pp, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0 ||
            zl_load_get_string(L, jp, pp, "provider_secret", REQUIRED, ZL_WORLD_MAX_NAME,
                               &secret) != 0)
            return -1;
        if ((dup = zl_world_provider(w, corpid)) != NULL)
            return zl_load_fail(L, "%s.corpid \"%s\" is already used by providers[%td]", pp, corpid,
                                dup - w->providers);
        if (zl_load_keep(L, corpid, &p->corpid) != 0 || zl_load_keep(L, name, &p->name) != 0 ||
            zl_load_keep(L, secret, &p->provider_secret) != 0)
            return -1;
        w->provider_count = ++i; /* before its suites: they look the world's suites up */
        if (load_suites(L, jp, pp, p) != 0)
            return -1;
    }
    return 0;
}

/* ---- an app's suite and authorisation ---- */

static const char *kind_name(zl_app_kind kind)
{
    return kind == ZL_APP_CUSTOM       ? "custom"
           : kind == ZL_APP_SELF_BUILT ? "self_built"
                                       : "third_party";
}

/* Sets app->suite from ja's suite_id, or the world's first suite of the app's kind. */
static int load_suite_ref(zl_loader *L, const cJSON *ja, const char *ap, zl_app *app)
{
    zl_suite_kind want = app->kind == ZL_APP_CUSTOM ? ZL_SUITE_CUSTOM : ZL_SUITE_THIRD_PARTY;
    const char *id = NULL;
    zl_suite *s;

    if (zl_load_get_string(L, ja, ap, "suite_id", OPTIONAL, ZL_WORLD_MAX_ID, &id) != 0)
        return -1;
    if (app->kind == ZL_APP_SELF_BUILT) {
        if (id != NULL)
            return zl_load_fail(
                L, "%s.suite_id is for third-party and 代开发 apps; a self-built app has no suite",
                ap);
        return 0;
    }
    if (id == NULL) {
        app->suite = first_suite(L->w, want);
        return 0;
    }
    if ((s = zl_world_suite(L->w, id)) == NULL)
        return zl_load_fail(L, "%s.suite_id \"%s\" is not a suite_id in providers[].suites", ap,
                            id);
    if (s->kind != want)
        return zl_load_fail(L,
                            "%s.suite_id \"%s\" is providers[%td].suites[%td], of kind \"%s\"; a "
                            "%s app needs a suite of kind \"%s\"",
                            ap, id, s->provider - L->w->providers, s - s->provider->suites,
                            s->kind == ZL_SUITE_CUSTOM ? "custom" : "third_party",
                            kind_name(app->kind),
                            want == ZL_SUITE_CUSTOM ? "custom" : "third_party");
    app->suite = s;
    return 0;
}

/* Reads auth object jauth's editions (path authp) into a; absent: one edition 3, paid. */
static int load_editions(zl_loader *L, const cJSON *jauth, const char *authp, zl_auth *a)
{
    static const char *const keys[] = {"edition", "status", "begin_time", "end_time", NULL};
    const cJSON *arr = NULL, *je;
    char ep[PATH_LEN], fp[PATH_LEN];
    size_t n = 0, i = 0;

    if (jauth != NULL &&
        zl_load_get_array(L, jauth, authp, "editions", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0)
        return -1;
    zl_load_fpath(fp, authp, "editions");
    if (arr != NULL && n == 0)
        return zl_load_fail(L,
                            "%s must hold at least one edition (leave it out for the default: "
                            "edition 3, paid)",
                            fp);
    if (zl_load_keep_array(L, arr != NULL ? n : 1, sizeof *a->editions, &a->editions) != 0)
        return -1;
    if (arr == NULL) {
        a->editions[0] = (zl_edition){.edition = ZL_EDITION_VOICE, .status = ZL_AUTH_PAID};
        a->edition_count = 1;
        return 0;
    }
    cJSON_ArrayForEach(je, arr)
    {
        zl_edition *e = &a->editions[i];
        long long edition = 0, status = 0, begin = 0, end = 0;

        zl_load_ipath(ep, fp, i);
        if (zl_load_check_object(L, je, ep, keys) != 0 ||
            zl_load_get_int(L, je, ep, "edition", REQUIRED, ZL_EDITION_INTERNAL, ZL_EDITION_VOICE,
                            &edition) != 0 ||
            zl_load_get_int(L, je, ep, "status", REQUIRED, ZL_AUTH_TRIAL, ZL_AUTH_PAID_PENDING,
                            &status) != 0 ||
            zl_load_get_int(L, je, ep, "begin_time", OPTIONAL, 0, ZL_WORLD_MAX_TIME, &begin) != 0 ||
            zl_load_get_int(L, je, ep, "end_time", OPTIONAL, 0, ZL_WORLD_MAX_TIME, &end) != 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (a->editions[k].edition == edition)
                return zl_load_fail(L, "%s.edition %lld is already listed as %s[%zu]", ep, edition,
                                    fp, k);
        if (begin != 0 && end != 0 && end < begin)
            return zl_load_fail(L, "%s.end_time %lld is before its begin_time %lld", ep, end,
                                begin);
        e->edition = (int)edition;
        e->status = (zl_auth_status)status;
        e->begin_time = begin;
        e->end_time = end;
        a->edition_count = ++i;
    }
    return 0;
}

/* Reads auth object jauth's scope (path authp) into a, after c's address book. */
static int load_scope(zl_loader *L, const cJSON *jauth, const char *authp, const char *cpath,
                      zl_corp *c, zl_auth *a)
{
    static const char *const keys[] = {"userids", "department_ids", "tag_ids", NULL};
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(jauth, "scope");
    char sp[PATH_LEN];

    if (js == NULL)
        return 0;
    zl_load_fpath(sp, authp, "scope");
    if (zl_load_check_object(L, js, sp, keys) != 0 ||
        zl_load_ref_list(L, js, sp, "userids", cpath, c, ZL_REF_USERID, &a->userids,
                         &a->userid_count) != 0 ||
        zl_load_ref_list(L, js, sp, "department_ids", cpath, c, ZL_REF_DEPARTMENT,
                         &a->department_ids, &a->department_count) != 0 ||
        zl_load_ref_list(L, js, sp, "tag_ids", cpath, c, ZL_REF_TAG, &a->tag_ids, &a->tag_count) !=
            0)
        return -1;
    a->scope_given = true;
    return 0;
}

/* Refuses the auth keys that do not apply to app's kind (authp is the auth's path). */
static int check_auth_keys(zl_loader *L, const cJSON *jauth, const char *authp, const zl_app *app)
{
    static const struct {
        const char *key;
        const char *why;
    } self_built[] = {
        {"scope", "a self-built app archives the corp's own scope (members' in_scope)"},
        {"seats", "a self-built app has no provider to buy seats"},
        {"test", "debug mode has no test-installation rule for a self-built app"},
        {"permanent_code", "a self-built app gets its token with its secret only"},
    };

    if (app->kind == ZL_APP_SELF_BUILT)
        for (size_t k = 0; k < sizeof self_built / sizeof self_built[0]; k++)
            if (cJSON_GetObjectItemCaseSensitive(jauth, self_built[k].key) != NULL)
                return zl_load_fail(L, "%s.%s is not for a self-built app: %s", authp,
                                    self_built[k].key, self_built[k].why);
    if (app->kind == ZL_APP_CUSTOM && cJSON_GetObjectItemCaseSensitive(jauth, "test") != NULL)
        return zl_load_fail(L,
                            "%s.test is for third-party apps (a test installation); a 代开发 "
                            "app may use debug mode when its corp is a provider's test corp "
                            "(the corp's test_corp)",
                            authp);
    return 0;
}

/*
 * A third-party app's default permanent_code: the first 32 lower-hex characters of
 * SHA-256("<suite_id>:<corpid>:<agentid>"), suite_id "" when the app has no suite.
 */
static int derive_permanent_code(zl_loader *L, const zl_corp *c, const zl_app *app,
                                 const char **out)
{
    char in[2 * ZL_WORLD_MAX_ID + 16], hex[PERMANENT_CODE_HEX + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int n;

    n = snprintf(in, sizeof in, "%s:%s:%u", app->suite != NULL ? app->suite->suite_id : "",
                 c->corpid, app->agentid);
    if (n < 0 || (size_t)n >= sizeof in ||
        EVP_Digest(in, (size_t)n, md, &len, EVP_sha256(), NULL) != 1)
        return zl_load_fail(L, "cannot derive a permanent_code (SHA-256 failed)");
    for (int i = 0; i < PERMANENT_CODE_HEX / 2; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return zl_load_keep(L, hex, out);
}

/*
 * Sets the permanent_code (given, or derived for a third-party app) and, for a 代开发 app,
 * the secret from it or it from the secret. code is the file's permanent_code or NULL.
 */
static int settle_permanent_code(zl_loader *L, const char *ap, zl_corp *c, zl_app *app,
                                 const char *secret, const char *code)
{
    zl_auth *a = &app->auth;
    bool derived = false;

    if (app->kind == ZL_APP_CUSTOM) {
        if (secret != NULL && code != NULL && strcmp(secret, code) != 0)
            return zl_load_fail(L,
                                "%s.auth.permanent_code must equal %s.secret: a 代开发 app's "
                                "permanent_code is its secret",
                                ap, ap);
        if (zl_load_keep(L, secret != NULL ? secret : code, &app->secret) != 0)
            return -1;
        a->permanent_code = app->secret;
    } else {
        if (zl_load_keep(L, secret, &app->secret) != 0)
            return -1;
        if (app->kind == ZL_APP_SELF_BUILT)
            return 0;
        if (code != NULL ? zl_load_keep(L, code, &a->permanent_code) != 0
                         : derive_permanent_code(L, c, app, &a->permanent_code) != 0)
            return -1;
        derived = code == NULL;
    }
    /* get_corp_token finds the authorisation by it: one per world */
    for (size_t ci = 0; ci < L->w->corp_count; ci++) {
        const zl_corp *other = &L->w->corps[ci];

        for (size_t k = 0; k < other->app_count; k++) {
            const char *pc = other->apps[k].auth.permanent_code;

            if (pc != NULL && strcmp(pc, a->permanent_code) == 0)
                return zl_load_fail(L,
                                    "%s.auth.permanent_code \"%s\"%s is already the "
                                    "permanent_code of corps[%zu].apps[%zu]; each app needs its "
                                    "own",
                                    ap, a->permanent_code,
                                    derived ? " (derived from suite_id, corpid and agentid)" : "",
                                    ci, k);
        }
        if (other == c)
            break;
    }
    return 0;
}

int zl_load_app_auth(zl_loader *L, const cJSON *ja, const char *ap, const char *cpath, zl_corp *c,
                     zl_app *app, const char *secret)
{
    static const char *const keys[] = {
        "editions", "seats", "msg_duration_days", "scope", "test", "permanent_code", NULL};
    const cJSON *jauth = cJSON_GetObjectItemCaseSensitive(ja, "auth");
    zl_auth *a = &app->auth;
    const char *code = NULL;
    long long seats = 0, days = 90;
    char authp[PATH_LEN];
    zl_public_key *keyring = NULL;

    zl_load_fpath(authp, ap, "auth");
    if (load_suite_ref(L, ja, ap, app) != 0 ||
        (jauth != NULL && (zl_load_check_object(L, jauth, authp, keys) != 0 ||
                           check_auth_keys(L, jauth, authp, app) != 0)) ||
        load_editions(L, jauth, authp, a) != 0)
        return -1;
    if (jauth != NULL &&
        (zl_load_get_int(L, jauth, authp, "seats", OPTIONAL, 0, UINT32_MAX, &seats) != 0 ||
         zl_load_get_int(L, jauth, authp, "msg_duration_days", OPTIONAL, 0, UINT32_MAX, &days) !=
             0 ||
         zl_load_get_bool(L, jauth, authp, "test", &a->test) != 0 ||
         zl_load_get_string(L, jauth, authp, "permanent_code", OPTIONAL, ZL_WORLD_MAX_NAME,
                            &code) != 0 ||
         load_scope(L, jauth, authp, cpath, c, a) != 0))
        return -1;
    if (days != 90 && days != 180 && days != 365 && days != 730)
        return zl_load_fail(L, "%s.msg_duration_days must be 90, 180, 365 or 730 (got %lld)", authp,
                            days);
    a->seats = (uint32_t)seats;
    a->msg_duration_days = (uint32_t)days;
    if (settle_permanent_code(L, ap, c, app, secret, code) != 0 ||
        zl_load_public_keys(L, ja, ap, &keyring, &app->public_key_count) != 0)
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(ja, "public_keys") != NULL && app->public_key_count == 0)
        return zl_load_fail(L,
                            "%s.public_keys must hold at least one key (leave it out and the "
                            "corp's public_keys apply)",
                            ap);
    app->public_keys = keyring;
    return 0;
}

/* Whether app object ja gives auth.seats. */
static bool gives_seats(const cJSON *ja)
{
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(ja, "auth");

    return cJSON_GetObjectItemCaseSensitive(auth, "seats") != NULL;
}

int zl_load_share_seats(zl_loader *L, const cJSON *apps, const char *cpath, zl_corp *c)
{
    const cJSON *ja, *jb;
    char fp[PATH_LEN], ap[PATH_LEN];
    size_t i = 0;

    zl_load_fpath(fp, cpath, "apps");
    cJSON_ArrayForEach(ja, apps)
    {
        zl_app *app = &c->apps[i];
        size_t k = 0;

        if (app->suite == NULL || !gives_seats(ja)) {
            i++;
            continue;
        }
        cJSON_ArrayForEach(jb, apps)
        {
            zl_app *o = &c->apps[k];

            if (k != i && o->suite != NULL && o->suite->provider == app->suite->provider) {
                if (!gives_seats(jb))
                    o->auth.seats = app->auth.seats;
                else if (k < i && o->auth.seats != app->auth.seats)
                    return zl_load_fail(L,
                                        "%s.auth.seats %u differs from %s[%zu].auth.seats %u: a "
                                        "provider's seats in a corp are shared by all its apps "
                                        "there (give them once)",
                                        zl_load_ipath(ap, fp, i), app->auth.seats, fp, k,
                                        o->auth.seats);
            }
            k++;
        }
        i++;
    }
    return 0;
}
