/* suite: the suites' command callbacks (指令回调, doc 14946): suite_ticket every 10 minutes of
 * virtual time and the authorisation events, sent to the suite's command URL or kept by the
 * built-in fake provider. */
#include "emu/emu.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/sbuf.h"

#define TICKET_EVERY_MS (10 * 60 * 1000LL) /* "定时（每十分钟）" (doc 14947) */
#define TICKET_TTL_MS   (30 * 60 * 1000LL) /* "suite_ticket实际有效期为30分钟" */
#define TICKETS_KEPT    8                  /* per suite: the valid ones and a few expired */
#define INBOX_CAP       10000              /* fake-provider inbox entries kept */

typedef struct ticket {
    char value[40]; /* "" = an empty slot */
    int64_t pushed_ms;
} ticket;

typedef struct suite_rt {
    const zl_suite *suite;
    ticket tickets[TICKETS_KEPT]; /* a ring: the newest at next - 1 */
    size_t next;
} suite_rt;

typedef struct suites {
    zl_emu *emu;
    suite_rt *v;
    size_t n;
    bool started;
    int64_t next_push_ms;
    cJSON **inbox; /* the fake provider's, oldest first */
    size_t inbox_len, inbox_cap;
    uint64_t inbox_last;
} suites;

static void suites_free(void *state)
{
    suites *S = state;
    size_t i;

    if (!S)
        return;
    for (i = 0; i < S->inbox_len; i++)
        cJSON_Delete(S->inbox[i]);
    free(S->inbox);
    free(S->v);
    free(S);
}

static const zl_emu_part_ops suites_ops = {.name = "suites", .free = suites_free};

/* The suites' state, made the first time it is needed; NULL when memory runs out. */
static suites *suites_of(zl_emu *emu)
{
    suites *S = zl_emu_part(emu, &suites_ops);
    size_t i, k, n = 0;

    if (S)
        return S;
    for (i = 0; i < emu->world->provider_count; i++)
        n += emu->world->providers[i].suite_count;
    if (!(S = calloc(1, sizeof *S)) || !(S->v = calloc(n + 1, sizeof *S->v))) {
        suites_free(S);
        return NULL;
    }
    S->emu = emu;
    for (i = 0; i < emu->world->provider_count; i++)
        for (k = 0; k < emu->world->providers[i].suite_count; k++)
            S->v[S->n++].suite = &emu->world->providers[i].suites[k];
    if (zl_emu_part_set(emu, &suites_ops, S) != 0) {
        suites_free(S);
        return NULL;
    }
    return S;
}

static suite_rt *rt_of(suites *S, const zl_suite *s)
{
    size_t i;

    for (i = 0; i < S->n; i++)
        if (S->v[i].suite == s)
            return &S->v[i];
    return NULL;
}

static void journal_outcome(zl_emu *emu, cJSON *detail, const char *outcome, const char *error)
{
    cJSON_AddStringToObject(detail, "outcome", outcome);
    if (error)
        cJSON_AddStringToObject(detail, "error", error);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "callback", "suite", detail);
}

/* ---- the built-in fake provider ---- */

/* Keeps a command callback the fake provider checked and decrypted (zl_callback_keep_fn). */
static uint64_t provider_keep(void *ud, const cJSON *detail, const char *xml, const cJSON *fields)
{
    suites *S = ud;
    const cJSON *v;
    cJSON *item;

    (void)detail;
    if (S->inbox_len == INBOX_CAP) {
        cJSON_Delete(S->inbox[0]);
        memmove(S->inbox, S->inbox + 1, --S->inbox_len * sizeof *S->inbox);
    }
    if (S->inbox_len == S->inbox_cap) {
        size_t cap = S->inbox_cap ? S->inbox_cap * 2 : 16;
        cJSON **p;

        if (cap > INBOX_CAP)
            cap = INBOX_CAP;
        if (!(p = realloc(S->inbox, cap * sizeof *p)))
            return 0;
        S->inbox = p;
        S->inbox_cap = cap;
    }
    if (!(item = cJSON_CreateObject()) ||
        !cJSON_AddNumberToObject(item, "seq", (double)(S->inbox_last + 1)) ||
        !cJSON_AddNumberToObject(item, "t", (double)zl_emu_now_ms(S->emu))) {
        cJSON_Delete(item);
        return 0;
    }
    v = cJSON_GetObjectItemCaseSensitive(fields, "SuiteId");
    cJSON_AddStringToObject(item, "suite_id", cJSON_IsString(v) ? v->valuestring : "");
    v = cJSON_GetObjectItemCaseSensitive(fields, "InfoType");
    cJSON_AddStringToObject(item, "info_type", cJSON_IsString(v) ? v->valuestring : "");
    cJSON_AddStringToObject(item, "xml", xml);
    if (!cJSON_AddItemToObject(item, "fields", cJSON_Duplicate(fields, 1))) {
        cJSON_Delete(item);
        return 0;
    }
    S->inbox[S->inbox_len++] = item;
    return ++S->inbox_last;
}

cJSON *zl_emu_provider_inbox(zl_emu *emu, const char *suite_id, uint64_t since)
{
    suites *S = suites_of(emu);
    cJSON *a = cJSON_CreateArray(), *it;
    size_t i;

    if (!S || !a) {
        cJSON_Delete(a);
        return NULL;
    }
    for (i = 0; i < S->inbox_len; i++) {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(S->inbox[i], "seq");
        const char *sid = cJSON_GetObjectItemCaseSensitive(S->inbox[i], "suite_id")->valuestring;

        if ((uint64_t)seq->valuedouble <= since || (suite_id && strcmp(sid, suite_id) != 0))
            continue;
        if (!(it = cJSON_Duplicate(S->inbox[i], 1)) || !cJSON_AddItemToArray(a, it)) {
            cJSON_Delete(it);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

uint64_t zl_emu_provider_inbox_last(zl_emu *emu)
{
    suites *S = suites_of(emu);

    return S ? S->inbox_last : 0;
}

const char *zl_emu_provider_ticket(zl_emu *emu, const zl_suite *s, int64_t *pushed_ms)
{
    suites *S = suites_of(emu);
    suite_rt *r = S ? rt_of(S, s) : NULL;
    size_t i, k;

    for (i = S && r ? S->inbox_len : 0; i-- > 0;) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(S->inbox[i], "fields");
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(f, "SuiteId");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(f, "InfoType");
        const cJSON *tk = cJSON_GetObjectItemCaseSensitive(f, "SuiteTicket");

        if (!cJSON_IsString(sid) || strcmp(sid->valuestring, s->suite_id) != 0 ||
            !cJSON_IsString(type) || strcmp(type->valuestring, "suite_ticket") != 0 ||
            !cJSON_IsString(tk))
            continue;
        for (k = 0; k < TICKETS_KEPT; k++)
            if (!strcmp(r->tickets[k].value, tk->valuestring))
                break;
        if (k < TICKETS_KEPT && zl_emu_suite_ticket_check(emu, s, tk->valuestring) == 0) {
            if (pushed_ms)
                *pushed_ms = r->tickets[k].pushed_ms;
            return tk->valuestring;
        }
    }
    return NULL;
}

/* ---- sending ---- */

/* Sends xml as suite s's command callback; detail (taken) starts its journal entries. */
static void send_callback(zl_emu *emu, const zl_suite *s, const char *xml, cJSON *detail)
{
    suites *S = suites_of(emu);
    zl_callback_msg m = {.kind = "suite",
                         .detail = detail,
                         .id_name = "suite_id",
                         .receiveid = s->suite_id,
                         .envelope_agentid = "", /* "ToUserName为产生事件的SuiteId，AgentID为空" */
                         .url = s->callback_url,
                         .token = s->token,
                         .encoding_aes_key = s->encoding_aes_key,
                         .xml = xml,
                         .want_success = true, /* "必须直接返回字符串 "success"" (doc 14946) */
                         .receiver = "fake_provider",
                         .keep = provider_keep,
                         .keep_ud = S};

    if (!S || !xml || zl_appnotify_send(emu->notify_out, &m) != 0) {
        journal_outcome(emu, detail, "failed", "cannot start the delivery (out of memory)");
        return;
    }
    cJSON_Delete(detail);
}

static void xml_elem(zl_sbuf *b, const char *name, const char *cdata)
{
    zl_sbuf_str(b, "<");
    zl_sbuf_str(b, name);
    zl_sbuf_str(b, ">");
    zl_appnotify_cdata(b, cdata);
    zl_sbuf_str(b, "</");
    zl_sbuf_str(b, name);
    zl_sbuf_str(b, ">");
}

static void xml_time(zl_sbuf *b, int64_t at_ms)
{
    char ts[24];

    snprintf(ts, sizeof ts, "%" PRId64, at_ms / 1000);
    zl_sbuf_str(b, "<TimeStamp>");
    zl_sbuf_str(b, ts);
    zl_sbuf_str(b, "</TimeStamp>");
}

/* The text of b (owned), NULL when memory ran out. */
static char *xml_done(zl_sbuf *b)
{
    zl_sbuf_str(b, "</xml>");
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    return b->s;
}

/* Pushes a new suite_ticket of r's suite, pushed at at_ms (doc 14947's XML). */
static void push_ticket(zl_emu *emu, suite_rt *r, int64_t at_ms)
{
    ticket *t = &r->tickets[r->next];
    zl_sbuf b = {0};
    cJSON *d = cJSON_CreateObject();
    char *xml;

    memcpy(t->value, "stk_", 4);
    zl_engine_random_hex(emu->engine, t->value + 4, 16);
    t->pushed_ms = at_ms;
    r->next = (r->next + 1) % TICKETS_KEPT;
    zl_sbuf_str(&b, "<xml>");
    xml_elem(&b, "SuiteId", r->suite->suite_id);
    xml_elem(&b, "InfoType", "suite_ticket");
    xml_time(&b, at_ms);
    xml_elem(&b, "SuiteTicket", t->value);
    xml = xml_done(&b);
    if (!d)
        goto out;
    cJSON_AddStringToObject(d, "suite_id", r->suite->suite_id);
    cJSON_AddStringToObject(d, "info_type", "suite_ticket");
    cJSON_AddStringToObject(d, "suite_ticket", t->value);
    send_callback(emu, r->suite, xml, d);
out:
    free(xml);
}

/*
 * The 10-minute clock of suite_ticket. A clock jump runs the pushes that fell inside it, in
 * order, each with its own time; those whose ticket would already have expired are skipped
 * (counted in one journal entry), so a jump of a year sends three pushes, not 52 560.
 */
static void on_tick(zl_engine *e, void *ud)
{
    suites *S = ud;
    zl_emu *emu = S->emu;
    int64_t now = zl_emu_now_ms(emu), skipped = 0;
    size_t i;

    if (emu->closing)
        return;
    if (S->next_push_ms + TICKET_TTL_MS <= now) {
        skipped = (now - TICKET_TTL_MS - S->next_push_ms) / TICKET_EVERY_MS + 1;
        S->next_push_ms += skipped * TICKET_EVERY_MS;
    }
    if (skipped) {
        cJSON *d = cJSON_CreateObject();

        cJSON_AddStringToObject(d, "info_type", "suite_ticket");
        cJSON_AddNumberToObject(d, "skipped", (double)skipped);
        journal_outcome(emu, d, "skipped", "the clock jumped past these pushes' 30 minutes");
    }
    for (; S->next_push_ms <= now; S->next_push_ms += TICKET_EVERY_MS)
        for (i = 0; i < S->n; i++)
            push_ticket(emu, &S->v[i], S->next_push_ms);
    zl_engine_timer(e, S->next_push_ms, on_tick, S);
}

int zl_emu_suite_start(zl_emu *emu)
{
    suites *S = suites_of(emu);

    if (!S)
        return -1;
    if (S->started || S->n == 0)
        return 0;
    S->started = true;
    S->next_push_ms = zl_emu_now_ms(emu);
    return zl_engine_timer(emu->engine, S->next_push_ms, on_tick, S) ? 0 : -1;
}

int zl_emu_suite_ticket_check(zl_emu *emu, const zl_suite *s, const char *value)
{
    suites *S = suites_of(emu);
    suite_rt *r = S ? rt_of(S, s) : NULL;
    int64_t now = zl_emu_now_ms(emu);
    size_t i;

    for (i = 0; r && value && *value && i < TICKETS_KEPT; i++)
        if (!strcmp(r->tickets[i].value, value))
            return r->tickets[i].pushed_ms <= now && now < r->tickets[i].pushed_ms + TICKET_TTL_MS
                       ? 0
                       : -2;
    return -1;
}

void zl_emu_suite_auth_event(zl_emu *emu, zl_app_rt *a, const char *info_type)
{
    const zl_suite *s = a->app->suite;
    bool create = !strcmp(info_type, "create_auth"), change = !strcmp(info_type, "change_auth"),
         cancel = !strcmp(info_type, "cancel_auth"),
         reset = !strcmp(info_type, "reset_permanent_code");
    zl_sbuf b = {0};
    cJSON *d;
    char *xml;

    if (!s || emu->closing || !(d = cJSON_CreateObject()))
        return;
    cJSON_AddStringToObject(d, "suite_id", s->suite_id);
    cJSON_AddStringToObject(d, "info_type", info_type);
    cJSON_AddStringToObject(d, "auth_corpid", a->corp->corpid);
    cJSON_AddNumberToObject(d, "agentid", a->app->agentid);
    if (!create && !change && !cancel && !reset) {
        journal_outcome(emu, d, "not_sent", "not a command callback zonelab sends");
        return;
    }
    /* the element order of doc 14951's (and doc 31408's) examples */
    zl_sbuf_str(&b, "<xml>");
    xml_elem(&b, "SuiteId", s->suite_id);
    if (create || reset)
        xml_elem(&b, "AuthCode", a->auth.auth_code);
    xml_elem(&b, "InfoType", info_type);
    xml_time(&b, zl_emu_now_ms(emu));
    if (change || cancel)
        xml_elem(&b, "AuthCorpId", a->corp->corpid);
    if (create || change) {
        xml_elem(&b, "State", ""); /* the install link's state: zonelab's grants carry none */
        zl_sbuf_str(&b, "<ExtraInfo></ExtraInfo>");
    }
    xml = xml_done(&b);
    if (create || reset)
        cJSON_AddStringToObject(d, "auth_code", a->auth.auth_code);
    send_callback(emu, s, xml, d);
    free(xml);
}
