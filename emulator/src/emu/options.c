/* options: the table of the emulator's options and setting them by name. */
#include "emu/options.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define AT(field) offsetof(zl_emu_options, field), sizeof(((zl_emu_options *)0)->field)
#define DAY_S     86400LL
#define YEAR_S    (365 * DAY_S)
#define HOUR_MS   3600000LL
#define DAY_MS    (24 * HOUR_MS)

/* A bool, an integer, an enum, an errcode choice; the fields after the type in zl_opt order. */
#define BOOL(n, src, lv, field, what)                                                              \
    {                                                                                              \
        .name = (n), .type = ZL_OPT_BOOL, .source = (src), .meaning = (what), .live = (lv),        \
        .offset = AT(field)                                                                        \
    }
#define INT(n, lo, hi, ex, src, lv, field, what)                                                   \
    {                                                                                              \
        .name = (n), .type = ZL_OPT_INT, .min = (lo), .max = (hi), .example = (ex),                \
        .source = (src), .meaning = (what), .live = (lv), .offset = AT(field)                      \
    }
#define ENUM(n, list, ex, src, lv, field, what)                                                    \
    {                                                                                              \
        .name = (n), .type = ZL_OPT_ENUM, .names = (list), .example = (ex), .source = (src),       \
        .meaning = (what), .live = (lv), .offset = AT(field)                                       \
    }
#define CODE(n, list, ex, src, lv, field, what)                                                    \
    {                                                                                              \
        .name = (n), .type = ZL_OPT_CODE, .codes = (list), .example = (ex), .source = (src),       \
        .meaning = (what), .live = (lv), .offset = AT(field)                                       \
    }

static const char *const ROUTING[] = {"sticky", "any", NULL};
static const char *const REFUSE_ABSENT[] = {"refuse", "absent", NULL};
static const char *const REFUSE_CLAMP[] = {"refuse", "clamp", NULL};
static const char *const REFUSE_EMPTY[] = {"refuse", "empty", NULL};
static const char *const SKIP_REFUSE[] = {"skip", "refuse", NULL};
static const char *const REARM_REFUSE[] = {"rearm", "refuse", NULL};
static const char *const INTEGER_BOOLEAN[] = {"integer", "boolean", NULL};
static const char *const OVERFLOW[] = {"delay", "fail", "refuse", NULL}; /* ZL_MODELS_OVER_* */
static const int PENDING[] = {710642, 790023, 0};
static const int MISMATCH[] = {790016, 710647, 0};
static const int DUPLICATE[] = {710613, 710601, 0};

/* One daily budget of WeCom's models (api/models_int.h's model_kind order). */
#define BUDGET(kind, k, ex, src, what)                                                             \
    INT("models.daily_budget." kind, 0, 1000000000, ex, src, true, models.daily_budget[k], what)

static const zl_opt TABLE[] = {
    /* tokens */
    INT("token_ttl_s", 1, YEAR_S, 3600, "doc 15074", true, token_ttl_s,
        "lifetime of an access_token (expires_in) and of a suite or provider token"),
    BOOL("token_fresh_each", "doc 42543", true, token_fresh_each,
         "true: gettoken and the suites' token paths answer a new token each call; false: the "
         "same one while it is valid"),
    BOOL("gettoken_third_party", "unknown", true, gettoken_third_party,
         "true: a third-party app gets a token from gettoken with its world secret; false: its "
         "secret is refused (40001) and get_corp_token is its path"),
    BOOL("suite_omit_errcode", "docs 14939, 14944, 42542", true, suite_omit_errcode,
         "true: get_suite_token, get_provider_token, get_corp_token and the old "
         "get_permanent_code leave errcode and errmsg out of a success"),
    /* program calls and events */
    INT("program_timeout_ms", 1, HOUR_MS, 7000, "unknown", true, program_timeout_ms,
        "wait for a program's answer to sync_call_program or async_program_task, then 710675 "
        "(a scenario: 5000)"),
    INT("event_timeout_ms", 1, HOUR_MS, 3000, "unknown", true, event_timeout_ms,
        "wait for a program's answer to an event; no retry (a scenario: 5000)"),
    INT("delivery_window", 1, 1024, 1, "unknown", true, delivery_window,
        "callbacks (events and app calls together) in flight to one replica at most; more wait, "
        "in the order they were made; 1: one at a time"),
    INT("delivery_queue_max", 1, 10000000, 1000, "unknown", true, delivery_queue_max,
        "callbacks waiting for one replica at most (beyond its window, or held while it is "
        "down); one more is not sent and ends 710638 at once"),
    INT("ready_timeout_ms", 1, HOUR_MS, 20000, "zonelab", false, ready_timeout_ms,
        "replicas zonelab starts must listen within it (serve: each program's; a scenario: all "
        "of them, 15000)"),
    BOOL("redirect_8080", "doc 54006", false, redirect_8080,
         "true: a replica zonelab starts that binds port 8080, as the guide says, gets its "
         "ZONELAB_PORT instead (a preload); false: nothing is preloaded"),
    INT("log_cap_bytes_per_hour", 0, 1LL << 40, 1048576, "spec program-side.md §6", true,
        log_cap_bytes_per_hour,
        "program log bytes stored per program per hour of the virtual clock (\"1 GB\"); the "
        "rest of that hour is dropped; 0: no cap"),
    BOOL("replica_restart", "unknown", true, replica_restart,
         "true: a replica zonelab started that exits (killed or not) is started again after "
         "replica_restart_delay_ms, doubling to replica_restart_max_ms, and events for it wait "
         "until it listens (serve: true; a scenario: false)"),
    INT("replica_restart_delay_ms", 0, HOUR_MS, 0, "unknown", true, replica_restart_delay_ms,
        "a dead replica's first restart comes this long after its exit (virtual clock: real "
        "time, or sooner by clock.advance); each "
        "further one waits twice the one before. Also how long a replica that failed an "
        "event's connection and still listens is given before the event goes to it again"),
    INT("replica_restart_max_ms", 0, HOUR_MS, 1000, "unknown", true, replica_restart_max_ms,
        "the longest wait before a restart"),
    INT("replica_restart_stable_ms", 0, HOUR_MS, 60000, "unknown", true, replica_restart_stable_ms,
        "a replica that listened this long since its start is restarted after "
        "replica_restart_delay_ms again when it next exits"),
    CODE("async_program_result.pending_errcode", PENDING, 790023, "unknown", true,
         async_pending_errcode, "async_program_result before the program reported"),
    /* notify ids */
    INT("notify_ttl_s", 1, YEAR_S, 300, "doc 53408", true, notify_ttl_s,
        "lifetime of a notify_id from spec_notify_app"),
    ENUM("notify_routing", ROUTING, 1, "unknown", true, notify_any,
         "where a sync_call_program with a notify_id goes: sticky, the replica that issued it; "
         "any, a replica drawn from the seeded source"),
    BOOL("notify_strict_64", "doc 53408", true, notify_strict_64,
         "true: caller notify ids over 64 bytes are 40058; false: up to 128 bytes are accepted"),
    ENUM("notify_id_reuse", REARM_REFUSE, 1, "unknown", true, notify_id_reuse,
         "spec_notify_app with a caller notify_id that is still valid: rearm, valid notify_ttl_s "
         "from now; refuse, 40058"),
    BOOL("notify_pass_any", "unknown", true, notify_pass_any,
         "true: sync_call_program passes any notify_id through; false: it must be issued to the "
         "program in its corp less than notify_ttl_s ago, else 710646"),
    /* sync_msg */
    INT("event_token_ttl_s", 1, YEAR_S, 300, "doc 53341", true, event_token_ttl_s,
        "lifetime of a conversation_new_message or hit_keyword token"),
    INT("window_s", 1, YEAR_S, 3 * DAY_S, "doc 53341", true, window_s,
        "how far back sync_msg and get_hit_msg_list reach: 5 days (an earlier page said 3)"),
    INT("sync_budget_per_min", 0, 1000000, 20, "unknown", true, sync_budget_per_min,
        "sync_msg calls, and get_hit_msg_list calls, per minute per corp without a valid token, "
        "then 45009"),
    ENUM("sync_msg.empty_cursor", REFUSE_ABSENT, 1, "unknown", true, sync_msg.empty_cursor,
         "a sync_msg cursor or token that is \"\": refuse, 40058; absent, as if not sent"),
    ENUM("sync_msg.limit_over_max", REFUSE_CLAMP, 1, "unknown", true, sync_msg.limit_over_max,
         "a sync_msg limit over 1000: refuse, 40058; clamp, 1000"),
    ENUM("sync_msg.no_public_key", REFUSE_EMPTY, 1, "unknown", true, sync_msg.no_public_key,
         "sync_msg before the app set a public key: refuse, 710659; empty, an empty page at the "
         "archive's end"),
    ENUM("sync_msg.cursor_before_window", SKIP_REFUSE, 1, "unknown", true,
         sync_msg.cursor_before_window,
         "a sync_msg cursor older than window_s: skip, continue at the window start; refuse, "
         "710611"),
    INT("page_ttl_s", 1, YEAR_S, 300, "unknown", true, page_ttl_s,
        "lifetime of a page_id from sync_msg modes 1 and 2"),
    INT("max_scan", 1, 1000000000, 50000, "zonelab", true, max_scan,
        "messages one sync_msg or search_msg page examines at most"),
    INT("job_ttl_s", 1, YEAR_S, 12 * 3600, "unknown", true, job_ttl_s,
        "how long an async_program_task job, a model task or an export job is answered"),
    BOOL("journal_replies", "zonelab", false, journal_replies,
         "true: the journal keeps each sync_msg reply's text, which zonelab replay needs (a "
         "scenario: true); false: its msgids only"),
    INT("get_rule_list.max_limit", 1, 1000000, 500, "unknown", true, rule_list_max_limit,
        "get_rule_list's largest limit; over it 40058"),
    /* the app's side */
    ENUM("get_auth_user_list.has_more", INTEGER_BOOLEAN, 1, "doc 52569", true,
         auth_user_list.has_more,
         "get_auth_user_list's has_more: integer 1/0 (the field table) or boolean (the example)"),
    ENUM("get_auth_user_list.limit_over_max", REFUSE_CLAMP, 1, "unknown", true,
         auth_user_list.limit_over_max,
         "a get_auth_user_list limit over 1000: refuse, 40058; clamp, 1000"),
    INT("debug_token_ttl_s", 1, YEAR_S, DAY_S, "doc 54809", true, debug_token_ttl_s,
        "lifetime of a program's debug token"),
    /* callbacks to the app */
    INT("app_callbacks.timeout_ms", 1, HOUR_MS, 3000, "doc 14961", true, app_callbacks.timeout_ms,
        "wait per try for an app's or a suite's callback URL (a scenario: 2000)"),
    INT("app_callbacks.verify_timeout_ms", 1, HOUR_MS, 800, "doc 14961", true,
        app_callbacks.verify_timeout_ms,
        "a callback URL's verification answer deadline, at most app_callbacks.timeout_ms"),
    INT("app_callbacks.tries", 1, 10, 2, "doc 14961", true, app_callbacks.tries,
        "tries in all, only after a connect failure or a timeout"),
    BOOL("app_callbacks.omit_agentid", "unknown", true, app_callbacks.omit_agentid,
         "true: program_notify's outer envelope has no AgentID"),
    BOOL("app_callbacks.scene_zero", "unknown", true, app_callbacks.scene_zero,
         "true: program_notify says NotifyScene 0 when spec_notify_app gave none (or one out of "
         "0..255); false: the element is left out"),
    /* the ability protocol checks */
    BOOL("protocol.distinguish_integers", "unknown", true, protocol.distinguish_integers,
         "true: an integral number and a fractional one are different types"),
    BOOL("protocol.skip_array_contents", "unknown", true, protocol.skip_array_contents,
         "true: array elements are not checked against the example's first element"),
    BOOL("protocol.top_level_only", "unknown", true, protocol.top_level_only,
         "true: only the top-level keys and their types are checked"),
    BOOL("protocol.null_matches_any", "unknown", true, protocol.null_matches_any,
         "true: null matches any type of the example"),
    CODE("protocol.input_mismatch_code", MISMATCH, 710647, "unknown", true,
         protocol.input_mismatch_code, "a request_data that does not match the input protocol"),
    /* WeCom's models */
    INT("models.latency_ms", 0, DAY_MS, 3000, "unknown", true, models.latency_ms,
        "a model task finishes this long after its creation (virtual time)"),
    BUDGET("sentiment", 0, 500, "doc 53348", "sentiment messages per corp per day, then 45009"),
    BUDGET("spam", 1, 500, "doc 53354", "spam messages per corp per day, then 45009"),
    BUDGET("summary", 2, 500, "doc 53349", "summary tasks per corp per day, then 45009"),
    BUDGET("customer_tag", 3, 500, "doc 53350", "customer tag tasks per corp per day, then 45009"),
    BUDGET("recommend_dialog", 4, 500, "doc 53351",
           "reply recommendation tasks per corp per day, then 45009"),
    BUDGET("ww_model", 5, 500, "docs 53707, 56425",
           "general model tasks per corp per day, then 45009"),
    BUDGET("model", 6, 500, "doc 53352", "own model tasks per corp per day, then 45009"),
    BUDGET("program", 7, 500, "unknown", "program tasks per corp per day, then 45009"),
    INT("models.per_minute_budget", 0, 1000000000, 50, "doc 56425", true, models.per_minute_budget,
        "general model calls per provider per minute (third-party and 代开发 apps)"),
    ENUM("models.per_minute_overflow", OVERFLOW, 1, "unknown", true, models.per_minute_overflow,
         "a general model call over the minute's budget: delay, it starts in a later minute; "
         "fail, the task fails 45009; refuse, 45009 at create"),
    CODE("models.duplicate_errcode", DUPLICATE, 710601, "unknown", true, models.duplicate_errcode,
         "a msgid repeated in one request, in the create's fail_list"),
    BOOL("models.ww_model_text_only", "doc 53707", true, models.ww_model_text_only,
         "true: the self-built general model takes text messages only (710602 for voice)"),
    INT("models.ack_timeout_ms", 1, 600000, 3000, "doc 53352", true, models.ack_timeout_ms,
        "an own model or program answers its task's call within it, else the task fails 710675"),
    CODE("models.pending_errcode", PENDING, 790023, "unknown", true, models.pending_errcode,
         "get_model_task_result and get_program_task_result before the report"),
    /* conversation export */
    INT("export.waiting_ms", 0, DAY_MS, 1500, "unknown", true, export.waiting_ms,
        "an export job waits (status 1) this long (virtual time)"),
    INT("export.running_ms", 0, DAY_MS, 2500, "unknown", true, export.running_ms,
        "then runs (status 2) this long before it is done"),
    INT("export.daily_budget", 0, INT_MAX, 10, "doc 53355", true, export.daily_budget,
        "export jobs per corp per day, then 45009"),
    {.name = "export.bad_code_errcode",
     .type = ZL_OPT_INT,
     .min = INT_MIN,
     .max = INT_MAX,
     .nonzero = true,
     .example = 40007,
     .source = "unknown",
     .meaning = "a display component code that is unknown, spent or expired",
     .live = true,
     .offset = AT(export.bad_code_errcode)},
    BOOL("export.accept_upload_media", "unknown", true, export.accept_upload_media,
         "true: an export template's media_id may come from upload_media; false: every id 40007"),
    /* knowledge sets */
    INT("knowledge.learn_latency_ms", 0, DAY_MS, 3000, "unknown", true, kb_learn_latency_ms,
        "a knowledge-set document learns this long (virtual time)"),
};

#define TABLE_LEN (sizeof TABLE / sizeof TABLE[0])

const zl_opt *zl_opt_table(size_t *count)
{
    *count = TABLE_LEN;
    return TABLE;
}

const zl_opt *zl_opt_find(const char *name)
{
    size_t i;

    for (i = 0; name && i < TABLE_LEN; i++)
        if (!strcmp(TABLE[i].name, name))
            return &TABLE[i];
    return NULL;
}

long long zl_opt_get(const zl_emu_options *o, const zl_opt *d)
{
    const char *p = (const char *)o + d->offset;

    if (d->size == sizeof(bool)) {
        bool b;

        memcpy(&b, p, sizeof b);
        return b;
    } else if (d->size == sizeof(int)) {
        int v;

        memcpy(&v, p, sizeof v);
        return v;
    } else {
        int64_t v;

        memcpy(&v, p, sizeof v);
        return v;
    }
}

void zl_opt_put(zl_emu_options *o, const zl_opt *d, long long v)
{
    char *p = (char *)o + d->offset;

    if (d->size == sizeof(bool)) {
        bool b = v != 0;

        memcpy(p, &b, sizeof b);
    } else if (d->size == sizeof(int)) {
        int i = (int)v;

        memcpy(p, &i, sizeof i);
    } else {
        int64_t w = v;

        memcpy(p, &w, sizeof w);
    }
}

static long long default_of(const zl_opt *d)
{
    zl_emu_options o;

    zl_emu_options_default(&o);
    return zl_opt_get(&o, d);
}

long long zl_opt_example(const zl_opt *d)
{
    return d->type == ZL_OPT_BOOL ? !default_of(d) : d->example;
}

const char *zl_opt_type_name(const zl_opt *d)
{
    static const char *const NAMES[] = {"bool", "int", "enum", "errcode"};

    return NAMES[d->type];
}

void zl_opt_values_text(const zl_opt *d, char *out, size_t len)
{
    size_t n = 0, i, count = 0;

    switch (d->type) {
    case ZL_OPT_BOOL:
        snprintf(out, len, "true or false");
        return;
    case ZL_OPT_INT:
        snprintf(out, len, "an integer from %lld to %lld%s", d->min, d->max,
                 d->nonzero ? ", not 0" : "");
        return;
    case ZL_OPT_ENUM:
        while (d->names[count])
            count++;
        break;
    case ZL_OPT_CODE:
        while (d->codes[count])
            count++;
        break;
    }
    out[0] = '\0';
    for (i = 0; i < count && n < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";

        if (d->type == ZL_OPT_ENUM)
            n += (size_t)snprintf(out + n, len - n, "%s\"%s\"", sep, d->names[i]);
        else
            n += (size_t)snprintf(out + n, len - n, "%s%d", sep, d->codes[i]);
    }
}

cJSON *zl_opt_to_json(const zl_opt *d, long long v)
{
    if (d->type == ZL_OPT_BOOL)
        return cJSON_CreateBool(v != 0);
    if (d->type == ZL_OPT_ENUM)
        return cJSON_CreateString(d->names[v]);
    return cJSON_CreateNumber((double)v);
}

void zl_opt_to_text(const zl_opt *d, long long v, char *out, size_t len)
{
    if (d->type == ZL_OPT_BOOL)
        snprintf(out, len, "%s", v ? "true" : "false");
    else if (d->type == ZL_OPT_ENUM)
        snprintf(out, len, "%s", d->names[v]);
    else
        snprintf(out, len, "%lld", v);
}

cJSON *zl_opt_row(const zl_opt *d, const zl_emu_options *now)
{
    cJSON *r = cJSON_CreateObject(), *vals;
    size_t i;

    cJSON_AddStringToObject(r, "name", d->name);
    cJSON_AddStringToObject(r, "type", zl_opt_type_name(d));
    if (d->type == ZL_OPT_INT) {
        cJSON_AddNumberToObject(r, "min", (double)d->min);
        cJSON_AddNumberToObject(r, "max", (double)d->max);
        if (d->nonzero)
            cJSON_AddBoolToObject(r, "nonzero", true);
    } else if (d->type != ZL_OPT_BOOL) {
        vals = cJSON_AddArrayToObject(r, "values");
        for (i = 0; d->type == ZL_OPT_ENUM ? d->names[i] != NULL : d->codes[i] != 0; i++)
            cJSON_AddItemToArray(
                vals,
                zl_opt_to_json(d, d->type == ZL_OPT_ENUM ? (long long)i : (long long)d->codes[i]));
    }
    cJSON_AddItemToObject(r, "default", zl_opt_to_json(d, default_of(d)));
    if (now)
        cJSON_AddItemToObject(r, "value", zl_opt_to_json(d, zl_opt_get(now, d)));
    cJSON_AddItemToObject(r, "example", zl_opt_to_json(d, zl_opt_example(d)));
    cJSON_AddStringToObject(r, "source", d->source);
    cJSON_AddStringToObject(r, "meaning", d->meaning);
    cJSON_AddBoolToObject(r, "live", d->live);
    return r;
}

/* ---- setting by name ---- */

/* Levenshtein distance of a and b, capped at 9 (names are short). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, row[64], prev, tmp;

    if (la >= 63 || lb >= 63)
        return 9;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            tmp = row[j];
            row[j] = a[i - 1] == b[j - 1] ? prev : 1 + (prev < row[j] ? prev : row[j]);
            if (row[j - 1] + 1 < row[j])
                row[j] = row[j - 1] + 1;
            prev = tmp;
        }
    }
    return row[lb] < 9 ? row[lb] : 9;
}

/*
 * The names to offer for an unknown name: a close one first ("did you mean"), then the names
 * of its group (what comes before its last dot) when the table has that group, else every
 * top-level name with the groups as "group.*".
 */
static void names_hint(const char *name, char *out, size_t len)
{
    const char *dot = strrchr(name, '.');
    size_t glen = dot ? (size_t)(dot - name) + 1 : 0, i, k, n, listed = 0, best = 9, bi = 0;
    bool group = false;

    for (i = 0; i < TABLE_LEN; i++) {
        size_t dd = distance(name, TABLE[i].name);

        if (dd < best) {
            best = dd;
            bi = i;
        }
        if (glen && !strncmp(TABLE[i].name, name, glen))
            group = true;
    }
    n = (size_t)snprintf(out, len, "%s%s%s%s", best <= 3 ? "did you mean " : "",
                         best <= 3 ? TABLE[bi].name : "", best <= 3 ? "? " : "",
                         group ? "its group has " : "options: ");
    for (i = 0; i < TABLE_LEN && n < len; i++) {
        const char *nm = TABLE[i].name, *d = strchr(nm, '.');
        int shown = (int)strlen(nm);

        if (group) {
            if (strncmp(nm, name, glen) != 0)
                continue;
        } else if (d) { /* a group: listed once, where it first appears, as "group.*" */
            for (k = 0; k < i && strncmp(TABLE[k].name, nm, (size_t)(d - nm) + 1); k++)
                ;
            if (k < i)
                continue;
            shown = (int)(d - nm);
        }
        n += (size_t)snprintf(out + n, len - n, "%s%.*s%s", listed++ ? ", " : "", shown, nm,
                              !group && d ? ".*" : "");
    }
    if (n < len)
        snprintf(out + n, len - n, " (zonelab options lists them)");
}

/* v (JSON) as d's value into *out: 0, or -1 with err ("<where>: <v> is not <what d takes>"). */
static int parse_json(const zl_opt *d, const cJSON *v, const char *where, long long *out, char *err,
                      size_t errlen)
{
    char takes[200], *shown;
    size_t i;

    switch (d->type) {
    case ZL_OPT_BOOL:
        if (cJSON_IsBool(v)) {
            *out = cJSON_IsTrue(v);
            return 0;
        }
        break;
    case ZL_OPT_INT:
        if (zl_json_is_int(v, d->min, d->max) && !(d->nonzero && v->valuedouble == 0)) {
            *out = (long long)v->valuedouble;
            return 0;
        }
        break;
    case ZL_OPT_ENUM:
        for (i = 0; cJSON_IsString(v) && d->names[i]; i++)
            if (!strcmp(d->names[i], v->valuestring)) {
                *out = (long long)i;
                return 0;
            }
        break;
    case ZL_OPT_CODE:
        for (i = 0; cJSON_IsNumber(v) && d->codes[i]; i++)
            if (v->valuedouble == d->codes[i]) {
                *out = d->codes[i];
                return 0;
            }
        break;
    }
    zl_opt_values_text(d, takes, sizeof takes);
    shown = cJSON_PrintUnformatted(v);
    snprintf(err, errlen, "%s: %.80s%s is not %s%s", where, shown ? shown : "the value",
             shown && strlen(shown) > 80 ? "..." : "",
             d->type == ZL_OPT_ENUM || d->type == ZL_OPT_CODE ? "one of " : "", takes);
    cJSON_free(shown);
    return -1;
}

/* text as d's value, as --set gives it, into *out: 0, or -1 with err. */
static int parse_text(const zl_opt *d, const char *text, const char *where, long long *out,
                      char *err, size_t errlen)
{
    cJSON *v = NULL;
    char *end;
    long long n;
    int rc;

    if (d->type == ZL_OPT_ENUM) {
        v = cJSON_CreateString(text);
    } else if (d->type == ZL_OPT_BOOL && (!strcmp(text, "true") || !strcmp(text, "false"))) {
        v = cJSON_CreateBool(!strcmp(text, "true"));
    } else if (d->type != ZL_OPT_BOOL && *text) {
        errno = 0;
        n = strtoll(text, &end, 10);
        if (!errno && !*end)
            v = cJSON_CreateNumber((double)n);
    }
    if (!v)
        v = cJSON_CreateString(text);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = parse_json(d, v, where, out, err, errlen);
    cJSON_Delete(v);
    return rc;
}

typedef struct pending {
    const zl_opt *d;
    long long v;
} pending;

/* Checks the options of obj (nested objects flattened under prefix) into p[*n]. */
static int collect(const cJSON *obj, const char *path, const char *prefix, bool only_live,
                   pending *p, size_t *n, char *err, size_t errlen)
{
    const cJSON *e;
    char name[160], where[400], hint[900];
    int rc;

    cJSON_ArrayForEach(e, obj)
    {
        const zl_opt *d;
        size_t k;

        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", e->string);
        snprintf(where, sizeof where, "%s%s%s", path, *path ? "." : "", name);
        if (!(d = zl_opt_find(name)) && cJSON_IsObject(e)) {
            if ((rc = collect(e, path, name, only_live, p, n, err, errlen)) != 0)
                return rc;
            continue;
        }
        if (!d) {
            names_hint(name, hint, sizeof hint);
            snprintf(err, errlen, "%s: no such option; %s", where, hint);
            return -1;
        }
        if (only_live && !d->live) {
            snprintf(err, errlen,
                     "%s is fixed at start: set it in the world file's \"options\", with zonelab "
                     "serve --set %s=VALUE or in scenario{options={}}",
                     name, name);
            return -2;
        }
        for (k = 0; k < *n && p[k].d != d; k++)
            ;
        if (k < *n) {
            snprintf(err, errlen, "%s: given twice", where);
            return -1;
        }
        if (*n == TABLE_LEN) /* unreachable: each option once */
            return -1;
        if (parse_json(d, e, where, &p[*n].v, err, errlen) != 0)
            return -1;
        p[(*n)++].d = d;
    }
    return 0;
}

int zl_emu_options_set_json(zl_emu_options *o, const cJSON *obj, const char *path, bool only_live,
                            char *err, size_t errlen)
{
    pending p[TABLE_LEN];
    size_t n = 0, i;
    int rc;

    if (!obj)
        return 0;
    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen,
                 "%s is an object of option names and values (zonelab options "
                 "lists them)",
                 *path ? path : "the options");
        return -1;
    }
    if ((rc = collect(obj, path, "", only_live, p, &n, err, errlen)) != 0)
        return rc;
    for (i = 0; i < n; i++)
        zl_opt_put(o, p[i].d, p[i].v);
    return 0;
}

static bool flatten(const cJSON *obj, const char *prefix, cJSON *out)
{
    const cJSON *e;
    char name[160];

    cJSON_ArrayForEach(e, obj)
    {
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", e->string);
        if (!zl_opt_find(name) && cJSON_IsObject(e)) {
            if (!flatten(e, name, out))
                return false;
        } else if (!cJSON_AddItemToObject(out, name, cJSON_Duplicate(e, 1))) {
            return false;
        }
    }
    return true;
}

cJSON *zl_emu_options_flat(const cJSON *obj)
{
    cJSON *out = cJSON_CreateObject();

    if (out && !flatten(obj, "", out)) {
        cJSON_Delete(out);
        out = NULL;
    }
    return out;
}

int zl_emu_options_set_text(zl_emu_options *o, const char *assignment, char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    char name[160], hint[900];
    const zl_opt *d;
    long long v;

    if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof name) {
        snprintf(err, errlen, "%.100s: give NAME=VALUE (zonelab options lists the names)",
                 assignment);
        return -1;
    }
    snprintf(name, sizeof name, "%.*s", (int)(eq - assignment), assignment);
    if (!(d = zl_opt_find(name))) {
        names_hint(name, hint, sizeof hint);
        snprintf(err, errlen, "%s: no such option; %s", name, hint);
        return -1;
    }
    if (parse_text(d, eq + 1, name, &v, err, errlen) != 0)
        return -1;
    zl_opt_put(o, d, v);
    return 0;
}

int zl_emu_options_set_world(zl_emu_options *o, const zl_world *w, char *err, size_t errlen)
{
    cJSON *obj;
    int rc;

    if (!w || !w->options_json)
        return 0;
    if (!(obj = cJSON_Parse(w->options_json))) {
        snprintf(err, errlen, "out of memory reading the world's options");
        return -1;
    }
    rc = zl_emu_options_set_json(o, obj, "options", false, err, errlen);
    cJSON_Delete(obj);
    return rc;
}

/* ---- the control face ---- */

cJSON *zl_emu_options_list(const zl_emu *emu)
{
    cJSON *j = cJSON_CreateObject(), *arr;
    size_t i;

    cJSON_AddBoolToObject(j, "ok", true);
    arr = cJSON_AddArrayToObject(j, "options");
    for (i = 0; i < TABLE_LEN; i++)
        cJSON_AddItemToArray(arr, zl_opt_row(&TABLE[i], &emu->opt));
    return j;
}

void zl_emu_options_changed(zl_emu *emu)
{
    if (emu->notify_out)
        zl_appnotify_set_options(emu->notify_out, &emu->opt.app_callbacks);
}

/* {name: value} of the options obj names, as now set in o. */
static cJSON *values_of(const cJSON *obj, const char *prefix, const zl_emu_options *o, cJSON *out)
{
    const cJSON *e;
    char name[160];

    cJSON_ArrayForEach(e, obj)
    {
        const zl_opt *d;

        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", e->string);
        if ((d = zl_opt_find(name)))
            cJSON_AddItemToObject(out, name, zl_opt_to_json(d, zl_opt_get(o, d)));
        else if (cJSON_IsObject(e))
            values_of(e, name, o, out);
    }
    return out;
}

unsigned zl_emu_options_post(zl_emu *emu, const cJSON *body, cJSON **reply, char *why,
                             size_t whylen)
{
    int rc = zl_emu_options_set_json(&emu->opt, body, "", true, why, whylen);
    cJSON *set;

    *reply = NULL;
    if (rc == -2)
        return 409;
    if (rc != 0)
        return 400;
    zl_emu_options_changed(emu);
    set = values_of(body, "", &emu->opt, cJSON_CreateObject());
    if (emu->journal) {
        cJSON *j = cJSON_CreateObject();

        cJSON_AddItemToObject(j, "set", cJSON_Duplicate(set, 1));
        zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", "options", j);
    }
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", true);
    cJSON_AddItemToObject(*reply, "set", set);
    return 200;
}
