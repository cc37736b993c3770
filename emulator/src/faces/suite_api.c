/* suite_api: the vendor's provider-side token API (/cgi-bin/service/: get_suite_token,
 * get_provider_token, get_permanent_code and its v2, get_corp_token, v2/get_auth_info) and the
 * control face's view of the built-in fake provider (/_zonelab/provider/...). */
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "faces/faces.h"
#include "wecom/errcode.h"

#define TOKENS_KEPT 16 /* per suite and provider: older tokens are forgotten (40082) */

/* ---- suite and provider tokens ---- */

typedef struct issued {
    char value[48]; /* "" = an empty slot */
    int64_t expires_ms;
} issued;

/* The tokens one suite or provider was given, a ring: the newest at next - 1. */
typedef struct ring {
    issued v[TOKENS_KEPT];
    size_t next;
} ring;

typedef struct service {
    const zl_suite **suite; /* parallel to suite_tokens */
    ring *suite_tokens;
    size_t suite_count;
    ring *provider_tokens; /* parallel to world->providers */
} service;

static void service_free(void *state)
{
    service *v = state;

    if (!v)
        return;
    free(v->suite);
    free(v->suite_tokens);
    free(v->provider_tokens);
    free(v);
}

static const zl_emu_part_ops service_ops = {.name = "service", .free = service_free};

/* The tokens' state, made the first time it is needed; NULL when memory runs out. */
static service *service_of(zl_emu *emu)
{
    service *v = zl_emu_part(emu, &service_ops);
    const zl_world *w = emu->world;
    size_t i, k, n = 0;

    if (v)
        return v;
    for (i = 0; i < w->provider_count; i++)
        n += w->providers[i].suite_count;
    if (!(v = calloc(1, sizeof *v)) || !(v->suite = calloc(n + 1, sizeof *v->suite)) ||
        !(v->suite_tokens = calloc(n + 1, sizeof *v->suite_tokens)) ||
        !(v->provider_tokens = calloc(w->provider_count + 1, sizeof *v->provider_tokens)))
        goto fail;
    for (i = 0; i < w->provider_count; i++)
        for (k = 0; k < w->providers[i].suite_count; k++)
            v->suite[v->suite_count++] = &w->providers[i].suites[k];
    if (zl_emu_part_set(emu, &service_ops, v) == 0)
        return v;
fail:
    service_free(v);
    return NULL;
}

static ring *suite_ring(service *v, const zl_suite *s)
{
    size_t i;

    for (i = 0; i < v->suite_count; i++)
        if (v->suite[i] == s)
            return &v->suite_tokens[i];
    return NULL;
}

/*
 * A token for r: the newest while it is valid (the vendor says so of provider_access_token,
 * doc 15143, and not of suite_access_token: zonelab does the same for both, and
 * opt.token_fresh_each makes a new one each call), else a new one, "<prefix>" and 40 hex
 * characters valid opt.token_ttl_s. Returns it with its seconds left in *expires_in.
 */
static const issued *ring_token(zl_emu *emu, ring *r, const char *prefix, int64_t *expires_in)
{
    int64_t now = zl_emu_now_ms(emu);
    issued *t = &r->v[(r->next + TOKENS_KEPT - 1) % TOKENS_KEPT];

    if (!t->value[0] || emu->opt.token_fresh_each || t->expires_ms <= now) {
        t = &r->v[r->next];
        r->next = (r->next + 1) % TOKENS_KEPT;
        snprintf(t->value, sizeof t->value, "%s", prefix);
        zl_engine_random_hex(emu->engine, t->value + strlen(prefix), 20);
        t->expires_ms = now + emu->opt.token_ttl_s * 1000;
    }
    *expires_in = (t->expires_ms - now + 999) / 1000;
    return t;
}

/* The suite whose token this is (one of its TOKENS_KEPT newest), and the token; NULL if none. */
static const zl_suite *suite_of_token(service *v, const char *token, const issued **out)
{
    size_t i, k;

    for (i = 0; i < v->suite_count; i++)
        for (k = 0; k < TOKENS_KEPT; k++)
            if (v->suite_tokens[i].v[k].value[0] && !strcmp(v->suite_tokens[i].v[k].value, token)) {
                *out = &v->suite_tokens[i].v[k];
                return v->suite[i];
            }
    return NULL;
}

/* ---- requests ---- */

typedef struct svc {
    zl_emu *emu;
    zl_request *r;
    const char *name; /* "get_suite_token", "v2/get_permanent_code", ... */
    service *v;
    cJSON *body;
    char req_id[17];
    const zl_suite *suite; /* the suite_access_token's, or get_suite_token's suite */
    zl_app_rt *app;        /* the authorisation the call is about, once known */
} svc;

/* Answers x with reply (taken) and journals the exchange as the app face does. */
static void answer(svc *x, cJSON *reply)
{
    cJSON *d = cJSON_CreateObject(), *code = cJSON_GetObjectItemCaseSensitive(reply, "errcode");
    char endpoint[64];

    snprintf(endpoint, sizeof endpoint, "service/%s", x->name);
    cJSON_AddStringToObject(d, "endpoint", endpoint);
    cJSON_AddStringToObject(d, "req_id", x->req_id);
    if (x->suite)
        cJSON_AddStringToObject(d, "suite_id", x->suite->suite_id);
    if (x->app) {
        cJSON_AddStringToObject(d, "corpid", x->app->corp->corpid);
        cJSON_AddNumberToObject(d, "agentid", x->app->app->agentid);
    }
    if (x->body)
        cJSON_AddItemToObject(d, "request", cJSON_Duplicate(x->body, 1));
    cJSON_AddNumberToObject(d, "errcode", code ? code->valuedouble : 0);
    cJSON_AddItemToObject(d, "response", cJSON_Duplicate(reply, 1));
    zl_journal_add(x->emu->journal, zl_emu_now_ms(x->emu), "app", "call", d);
    if (!x->emu->closing)
        zl_request_respond_json(x->r, 200, reply);
    else
        cJSON_Delete(reply);
    cJSON_Delete(x->body);
    free(x);
}

static void fail(svc *x, int code, const char *detail)
{
    answer(x, zl_errcode_reply(code, detail, x->req_id));
}

/* A success. The endpoints whose pages say "因历史原因，该接口在调用失败时才返回errcode"
 * (historic) leave errcode and errmsg out under opt.suite_omit_errcode. */
static cJSON *ok_reply(const svc *x, bool historic)
{
    if (historic && x->emu->opt.suite_omit_errcode)
        return cJSON_CreateObject();
    return zl_errcode_reply(0, NULL, NULL);
}

/* A string member of the body: 1 present and not empty, 0 absent or "" (WeCom's "missing"
 * codes), -1 another type (after fail()). */
static int field(svc *x, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->body, key);
    char why[96];

    *out = NULL;
    if (!v || (cJSON_IsString(v) && !*v->valuestring))
        return 0;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > 512) {
        snprintf(why, sizeof why, "%s must be a string of at most 512 bytes", key);
        fail(x, 40058, why);
        return -1;
    }
    *out = v->valuestring;
    return 1;
}

/* The members of the body named in keys, each required, with its "missing" code. NULL ends
 * keys. 0 when all are there, -1 after fail(). */
static int fields(svc *x, const char *const *keys, const int *missing, const char **out)
{
    size_t i;
    int got;

    for (i = 0; keys[i]; i++) {
        if ((got = field(x, keys[i], &out[i])) < 0)
            return -1;
        if (!got) {
            char why[96];

            snprintf(why, sizeof why, "%s is required", keys[i]);
            fail(x, missing[i], why);
            return -1;
        }
    }
    return 0;
}

static void add_corp_info(cJSON *reply, const zl_app_rt *a)
{
    cJSON *c = cJSON_AddObjectToObject(reply, "auth_corp_info");

    cJSON_AddStringToObject(c, "corpid", a->corp->corpid);
    cJSON_AddStringToObject(c, "corp_name", a->corp->name ? a->corp->name : "");
}

/* auth_info.agent: the one app of a new single-app authorisation ("对新的单应用授权，永远只
 * 返回一个agent"); is_customized_app only for 代开发 (doc 42542 note c). */
static void add_auth_info(cJSON *reply, const zl_app_rt *a)
{
    cJSON *agents = cJSON_AddArrayToObject(cJSON_AddObjectToObject(reply, "auth_info"), "agent");
    cJSON *g = cJSON_CreateObject();

    cJSON_AddNumberToObject(g, "agentid", a->app->agentid);
    cJSON_AddStringToObject(g, "name", a->app->name ? a->app->name : "");
    cJSON_AddNumberToObject(g, "auth_mode", 0);
    if (a->app->kind == ZL_APP_CUSTOM)
        cJSON_AddBoolToObject(g, "is_customized_app", 1);
    cJSON_AddItemToArray(agents, g);
}

/* ---- the endpoints ---- */

/* get_suite_token (doc 14939): suite_id, suite_secret and a suite_ticket pushed to the suite
 * less than 30 minutes ago ("实际有效期为30分钟"). */
static void ep_get_suite_token(svc *x)
{
    static const char *const keys[] = {"suite_id", "suite_secret", "suite_ticket", NULL};
    static const int missing[] = {41021, 41024, 41023};
    const char *f[3];
    const issued *t;
    int64_t expires_in;
    cJSON *reply;
    int rc;

    if (fields(x, keys, missing, f) != 0)
        return;
    if (!(x->suite = zl_world_suite(x->emu->world, f[0]))) {
        fail(x, 40083, "no suite has this suite_id");
        return;
    }
    if (strcmp(x->suite->suite_secret, f[1]) != 0) {
        fail(x, 40080, NULL);
        return;
    }
    if ((rc = zl_emu_suite_ticket_check(x->emu, x->suite, f[2])) != 0) {
        fail(x, 40085,
             rc == -2 ? "the suite_ticket was pushed more than 30 minutes ago"
                      : "no suite_ticket like this was pushed to this suite");
        return;
    }
    t = ring_token(x->emu, suite_ring(x->v, x->suite), "st_", &expires_in);
    reply = ok_reply(x, true);
    cJSON_AddStringToObject(reply, "suite_access_token", t->value);
    cJSON_AddNumberToObject(reply, "expires_in", (double)expires_in);
    answer(x, reply);
}

/* get_provider_token (doc 15143): POST {corpid, provider_secret}; "有效期内重复获取返回相同
 * 结果". The table of codes names none for a provider: 41002 / 41024 for a missing corpid /
 * secret, 40013 / 40001 for a wrong one. */
static void ep_get_provider_token(svc *x)
{
    static const char *const keys[] = {"corpid", "provider_secret", NULL};
    static const int missing[] = {41002, 41024};
    const char *f[2];
    const zl_provider *p;
    const issued *t;
    int64_t expires_in;
    cJSON *reply;

    if (fields(x, keys, missing, f) != 0)
        return;
    if (!(p = zl_world_provider(x->emu->world, f[0]))) {
        fail(x, 40013, "no provider has this corpid");
        return;
    }
    if (strcmp(p->provider_secret, f[1]) != 0) {
        fail(x, 40001, "not the provider's provider_secret");
        return;
    }
    t = ring_token(x->emu, &x->v->provider_tokens[p - x->emu->world->providers], "pt_",
                   &expires_in);
    reply = ok_reply(x, true);
    cJSON_AddStringToObject(reply, "provider_access_token", t->value);
    cJSON_AddNumberToObject(reply, "expires_in", (double)expires_in);
    answer(x, reply);
}

/*
 * get_permanent_code, old (doc 14942) and v2 (doc 57310): the auth_code create_auth carried
 * ("临时授权码一次有效", "10分钟内有效") for an app of the token's suite. The old one also
 * answers the corp's access_token (not for 代开发: "代开发自建应用安装时不返回", doc 42542)
 * and auth_info.
 */
static void permanent_code(svc *x, bool v2)
{
    static const char *const keys[] = {"auth_code", NULL};
    static const int missing[] = {41008};
    const char *code;
    zl_app_rt *a = NULL;
    char token[48];
    int64_t expires_in;
    cJSON *reply;
    size_t i;

    if (fields(x, keys, missing, &code) != 0)
        return;
    for (i = 0; i < x->emu->app_count && !a; i++)
        if (x->emu->apps[i].app->suite == x->suite && x->emu->apps[i].auth.auth_code[0] &&
            !strcmp(x->emu->apps[i].auth.auth_code, code))
            a = &x->emu->apps[i];
    if (!a) {
        fail(x, 40078, "no auth_code like this was issued to this suite, or it was used");
        return;
    }
    x->app = a;
    if (a->auth.auth_code_expires_ms && zl_emu_now_ms(x->emu) >= a->auth.auth_code_expires_ms) {
        fail(x, 40078, "the auth_code is older than 10 minutes");
        return;
    }
    if (a->auth.cancelled) {
        fail(x, 40078, "the corp cancelled the authorisation");
        return;
    }
    if (!v2 && a->app->kind != ZL_APP_CUSTOM &&
        zl_emu_app_token(x->emu, a, token, &expires_in) != 0) {
        fail(x, -1, "out of memory");
        return;
    }
    a->auth.auth_code[0] = '\0'; /* single use */
    reply = ok_reply(x, !v2);
    if (!v2 && a->app->kind != ZL_APP_CUSTOM) {
        cJSON_AddStringToObject(reply, "access_token", token);
        cJSON_AddNumberToObject(reply, "expires_in", (double)expires_in);
    }
    cJSON_AddStringToObject(reply, "permanent_code", a->auth.permanent_code);
    add_corp_info(reply, a);
    if (!v2)
        add_auth_info(reply, a);
    cJSON_AddStringToObject(reply, "state", "");
    answer(x, reply);
}

static void ep_get_permanent_code(svc *x)
{
    permanent_code(x, false);
}

static void ep_get_permanent_code_v2(svc *x)
{
    permanent_code(x, true);
}

/*
 * The authorisation of the token's suite by auth_corpid whose permanent_code this is (41002,
 * 41025 when missing). 40084 for a wrong one or a cancelled authorisation ("企业是否已取消
 * 授权该套件", "永久授权码不能跨服务商使用"). NULL after fail().
 */
static zl_app_rt *authorisation(svc *x)
{
    static const char *const keys[] = {"auth_corpid", "permanent_code", NULL};
    static const int missing[] = {41002, 41025};
    const char *f[2];
    zl_app_rt *a = NULL;
    size_t i;

    if (fields(x, keys, missing, f) != 0)
        return NULL;
    for (i = 0; i < x->emu->app_count && !a; i++)
        if (x->emu->apps[i].app->suite == x->suite && x->emu->apps[i].auth.permanent_code[0] &&
            !strcmp(x->emu->apps[i].auth.permanent_code, f[1]))
            a = &x->emu->apps[i];
    if (!a) {
        fail(x, 40084, "no authorisation of this suite has this permanent_code");
        return NULL;
    }
    x->app = a;
    if (strcmp(a->corp->corpid, f[0]) != 0) {
        fail(x, 40084, "the permanent_code is another corp's");
        return NULL;
    }
    if (a->auth.cancelled) {
        fail(x, 40084, "the corp cancelled the authorisation");
        return NULL;
    }
    return a;
}

/* get_corp_token (doc 14944): the corp's access_token for the app, the kind gettoken gives
 * ("本质上是一样的"). A 代开发 template's token gets 48002: "代开发应用获取access_token，应使用
 * 自建应用获取access_token的接口" (the global errcode page, under 48002). */
static void ep_get_corp_token(svc *x)
{
    zl_app_rt *a;
    char token[48];
    int64_t expires_in;
    cJSON *reply;

    if (x->suite->kind == ZL_SUITE_CUSTOM) {
        fail(x, 48002,
             "a 代开发 app gets its access_token from gettoken, its permanent_code as "
             "corpsecret (doc 42543)");
        return;
    }
    if (!(a = authorisation(x)))
        return;
    if (zl_emu_app_token(x->emu, a, token, &expires_in) != 0) {
        fail(x, -1, "out of memory");
        return;
    }
    reply = ok_reply(x, true);
    cJSON_AddStringToObject(reply, "access_token", token);
    cJSON_AddNumberToObject(reply, "expires_in", (double)expires_in);
    answer(x, reply);
}

/* v2/get_auth_info (doc 57313): the corp and the authorised app. */
static void ep_get_auth_info(svc *x)
{
    zl_app_rt *a = authorisation(x);
    cJSON *reply;

    if (!a)
        return;
    reply = ok_reply(x, false);
    add_corp_info(reply, a);
    add_auth_info(reply, a);
    answer(x, reply);
}

static const struct endpoint {
    const char *name;
    bool suite_token; /* ?suite_access_token= */
    void (*fn)(svc *x);
} endpoints[] = {
    {"get_suite_token", false, ep_get_suite_token},
    {"get_provider_token", false, ep_get_provider_token},
    {"get_permanent_code", true, ep_get_permanent_code},
    {"v2/get_permanent_code", true, ep_get_permanent_code_v2},
    {"get_corp_token", true, ep_get_corp_token},
    {"v2/get_auth_info", true, ep_get_auth_info},
};

/* Checks ?suite_access_token=: 41022 missing, 40082 not a suite's (an access_token or a
 * provider_access_token among them: "token类型用错"), 42009 expired. 0, or -1 after fail(). */
static int suite_token(svc *x)
{
    const char *token = zl_request_query(x->r, "suite_access_token");
    const issued *t;

    if (!token || !*token) {
        fail(x, 41022, NULL);
        return -1;
    }
    if (!(x->suite = suite_of_token(x->v, token, &t))) {
        fail(x, 40082, NULL);
        return -1;
    }
    if (t->expires_ms <= zl_emu_now_ms(x->emu)) {
        fail(x, 42009, NULL);
        return -1;
    }
    return 0;
}

static void on_service(zl_engine *e, zl_request *r, void *ud)
{
    zl_emu *emu = ud;
    const char *name = zl_request_path(r) + strlen("/cgi-bin/service/");
    const struct endpoint *ep = NULL;
    svc *x;
    size_t i;

    (void)e;
    for (i = 0; i < sizeof endpoints / sizeof *endpoints; i++)
        if (!strcmp(name, endpoints[i].name))
            ep = &endpoints[i];
    if (!ep) {
        zl_request_respond(r, 404, "text/plain", "", 0);
        return;
    }
    if (!(x = calloc(1, sizeof *x))) {
        zl_request_respond(r, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    *x = (svc){.emu = emu, .r = r, .name = ep->name, .v = service_of(emu)};
    zl_emu_req_id(emu, x->req_id);
    if (!x->v) {
        fail(x, -1, "out of memory");
        return;
    }
    if (ep->suite_token && suite_token(x) != 0)
        return;
    if (strcmp(zl_request_method(r), "POST") != 0) {
        fail(x, 40058, "this endpoint takes POST");
        return;
    }
    x->body = zone_wire_json_parse(zl_request_body(r), zl_request_body_len(r));
    if (!cJSON_IsObject(x->body)) {
        fail(x, 40058, "the body must be a JSON object");
        return;
    }
    ep->fn(x);
}

int zl_suite_api_install(zl_emu *emu)
{
    return zl_engine_route(emu->engine, NULL, "/cgi-bin/service/", on_service, emu) ? -1 : 0;
}

/* ---- the built-in fake provider on the control face ---- */

static void refuse(zl_request *r, unsigned status, const char *why)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddStringToObject(j, "error", why);
    zl_request_respond_json(r, status, j);
}

/* ?suite_id= (absent: NULL, or the world's first suite when first); *bad after refuse(). */
static const zl_suite *query_suite(zl_emu *emu, zl_request *r, bool first, bool *bad)
{
    const char *id = zl_request_query(r, "suite_id");
    const zl_suite *s = NULL;

    *bad = false;
    if (id && *id) {
        if (!(s = zl_world_suite(emu->world, id))) {
            refuse(r, 404, "no suite of the world has this suite_id");
            *bad = true;
        }
    } else if (first) {
        for (size_t i = 0; i < emu->world->provider_count && !s; i++)
            if (emu->world->providers[i].suite_count)
                s = &emu->world->providers[i].suites[0];
        if (!s) {
            refuse(r, 404, "the world has no suite");
            *bad = true;
        }
    }
    return s;
}

/* GET /_zonelab/provider/callbacks?suite_id=&since=: what the fake provider received. */
static void on_provider_callbacks(zl_engine *e, zl_request *r, void *ud)
{
    zl_emu *emu = ud;
    const char *since_q = zl_request_query(r, "since");
    unsigned long long since = 0;
    const zl_suite *s;
    char *end = NULL;
    bool bad;
    cJSON *j, *list;

    (void)e;
    s = query_suite(emu, r, false, &bad);
    if (bad)
        return;
    if (since_q && *since_q) {
        since = strtoull(since_q, &end, 10);
        if (*end || *since_q == '-') {
            refuse(r, 400, "since must be a callback seq");
            return;
        }
    }
    if (!(list = zl_emu_provider_inbox(emu, s ? s->suite_id : NULL, since))) {
        refuse(r, 500, "out of memory");
        return;
    }
    j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddNumberToObject(j, "last", (double)zl_emu_provider_inbox_last(emu));
    cJSON_AddItemToObject(j, "callbacks", list);
    zl_request_respond_json(r, 200, j);
}

/* GET /_zonelab/provider/ticket?suite_id=: the newest valid suite_ticket the fake provider
 * holds ("" when none), with when it was pushed and when it expires. */
static void on_provider_ticket(zl_engine *e, zl_request *r, void *ud)
{
    zl_emu *emu = ud;
    const zl_suite *s;
    const char *t;
    int64_t pushed = 0;
    bool bad;
    cJSON *j;

    (void)e;
    s = query_suite(emu, r, true, &bad);
    if (bad)
        return;
    t = zl_emu_provider_ticket(emu, s, &pushed);
    j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddStringToObject(j, "suite_id", s->suite_id);
    cJSON_AddStringToObject(j, "suite_ticket", t ? t : "");
    if (t) {
        cJSON_AddNumberToObject(j, "pushed_ms", (double)pushed);
        cJSON_AddNumberToObject(j, "expires_ms", (double)(pushed + 30 * 60 * 1000LL));
    }
    zl_request_respond_json(r, 200, j);
}

int zl_provider_control_install(zl_emu *emu)
{
    if (zl_engine_route(emu->engine, "GET", "/_zonelab/provider/callbacks", on_provider_callbacks,
                        emu) ||
        zl_engine_route(emu->engine, "GET", "/_zonelab/provider/ticket", on_provider_ticket, emu))
        return -1;
    return 0;
}
