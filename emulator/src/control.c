/* control: the /_zonelab/ face the CLI, the inspector and scenarios use (JSON). */
#include "control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Control answers: {"ok":true,...} or {"ok":false,"error":"..."} with a 4xx status. */
static void refuse(zl_request *r, unsigned status, const char *why)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddStringToObject(j, "error", why);
    zl_request_respond_json(r, status, j);
}

static cJSON *clock_json(zl_engine *e)
{
    cJSON *j = cJSON_CreateObject();
    zl_clock *k = zl_engine_clock(e);

    cJSON_AddNumberToObject(j, "now_ms", (double)zl_clock_now_ms(k));
    cJSON_AddNumberToObject(j, "now", (double)zl_clock_now(k));
    cJSON_AddNumberToObject(j, "offset_ms", (double)k->offset_ms);
    return j;
}

static void on_state(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    cJSON *j = cJSON_CreateObject(), *jr;

    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddStringToObject(j, "version", c->version ? c->version : "");
    cJSON_AddItemToObject(j, "clock", clock_json(e));
    jr = cJSON_AddObjectToObject(j, "journal");
    cJSON_AddNumberToObject(jr, "last", (double)zl_journal_last(c->journal));
    cJSON_AddNumberToObject(jr, "dropped", (double)zl_journal_dropped(c->journal));
    zl_request_respond_json(r, 200, j);
}

/* Reads an integer member (JSON number with no fraction); 1 found, 0 absent, -1 wrong. */
static int int_member(const cJSON *o, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
        return -1;
    *out = (int64_t)v->valuedouble;
    return 1;
}

/*
 * POST /_zonelab/clock {"advance_ms":N} | {"advance":S} | {"set_ms":T} | {"set":T}: moves
 * virtual time forward (never back); due timers fire on the next turn.
 */
static void on_clock(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    cJSON *body = cJSON_ParseWithLength(zl_request_body(r), zl_request_body_len(r)), *d;
    zl_clock *k = zl_engine_clock(e);
    int64_t v = 0, before = zl_clock_now_ms(k);
    int rc = -2, got;

    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        refuse(r, 400, "the body must be a JSON object such as {\"advance\":3600}");
        return;
    }
    if ((got = int_member(body, "advance_ms", &v)) != 0)
        rc = got < 0 ? -3 : zl_clock_advance_ms(k, v);
    else if ((got = int_member(body, "advance", &v)) != 0)
        rc = got < 0 || v > INT64_MAX / 1000 ? -3 : zl_clock_advance_ms(k, v * 1000);
    else if ((got = int_member(body, "set_ms", &v)) != 0)
        rc = got < 0 ? -3 : zl_clock_set_ms(k, v);
    else if ((got = int_member(body, "set", &v)) != 0)
        rc = got < 0 || v > INT64_MAX / 1000 ? -3 : zl_clock_set_ms(k, v * 1000);
    cJSON_Delete(body);
    if (rc == -2) {
        refuse(r, 400, "give one of advance, advance_ms, set, set_ms");
        return;
    }
    if (rc == -3) {
        refuse(r, 400, "the value must be an integer");
        return;
    }
    if (rc != 0) {
        refuse(r, 409, "the virtual clock never goes backwards");
        return;
    }
    d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "from_ms", (double)before);
    cJSON_AddNumberToObject(d, "to_ms", (double)zl_clock_now_ms(k));
    zl_journal_add(c->journal, zl_clock_now_ms(k), "control", "clock", d);
    d = clock_json(e);
    cJSON_AddBoolToObject(d, "ok", 1);
    zl_request_respond_json(r, 200, d);
}

/* GET /_zonelab/journal?since=N&limit=M: entries after N (default 0), at most M (1000). */
static void on_journal(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    const char *s = zl_request_query(r, "since"), *l = zl_request_query(r, "limit");
    unsigned long long since = 0, limit = 1000;
    char *end;
    cJSON *j;

    (void)e;
    if (s) {
        errno = 0;
        since = strtoull(s, &end, 10);
        if (errno || *end || *s < '0' || *s > '9') {
            refuse(r, 400, "since must be a journal sequence number");
            return;
        }
    }
    if (l) {
        errno = 0;
        limit = strtoull(l, &end, 10);
        if (errno || *end || *l < '0' || *l > '9' || limit == 0 || limit > 100000) {
            refuse(r, 400, "limit must be 1..100000");
            return;
        }
    }
    j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", 1);
    cJSON_AddNumberToObject(j, "last", (double)zl_journal_last(c->journal));
    cJSON_AddItemToObject(j, "entries", zl_journal_since(c->journal, since, (size_t)limit));
    zl_request_respond_json(r, 200, j);
}

static void on_unknown(zl_engine *e, zl_request *r, void *ud)
{
    (void)e, (void)ud;
    refuse(r, 404, "no such control endpoint; see docs/control-api.md");
}

int zl_control_install(zl_control *c)
{
    if (zl_engine_route(c->engine, "GET", "/_zonelab/state", on_state, c) ||
        zl_engine_route(c->engine, "POST", "/_zonelab/clock", on_clock, c) ||
        zl_engine_route(c->engine, "GET", "/_zonelab/journal", on_journal, c) ||
        zl_engine_route(c->engine, NULL, "/_zonelab/", on_unknown, c))
        return -1;
    return 0;
}
