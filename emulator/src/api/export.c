/* api_export: conversation export (sdk-api.md §7): create_chatdata_export_job and
 * get_chatdata_export_job_status, jobs that wait, run and finish on the virtual clock with
 * chat_archive_export_finished, the display component's codes, and the control face's side
 * (POST /_zonelab/export/...). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wecom/errcode.h"
#include "api/export.h"
#include "api/sdk_api.h"

#define CODE_TTL_MS     (5 * 60 * 1000LL) /* a display-component code: 5 min, single use */
#define CODE_KEEP_MS    (86400 * 1000LL)  /* spent or expired codes are remembered to say so */
#define CODE_MAX        128               /* longer codes are not looked up */
#define MEDIA_ID_MAX    1024
#define JOBID_MAX       64           /* events.md: at most 64 characters */
#define MAX_MSG_IDS     100000       /* message ids a template may name: 710629 beyond */
#define DAY_OFFSET_S    (8 * 3600)   /* quota days start at midnight UTC+8 */
#define RESULT_TTL_S    (14 * 86400) /* result_id */
#define TOKEN_VALUE_MAX 1024         /* bytes between "=" and the closing "$" */
#define TOKEN_NAME_MAX  16
#define MAX_LATENCY_MS  86400000LL
#define MAX_ERRMSG      512
#define CODE_PREFIX     "ec_"
#define JOBID_PREFIX    "exp_"
#define RESULT_PREFIX   "rid_"

enum { ST_WAITING = 1, ST_RUNNING = 2, ST_DONE = 3 };

/* The template tokens (sdk-api.md §7), counted per kind. */
static const char *const TOKENS[] = {"departmentName",  "userName", "userAlias",
                                     "userAliasOrName", "chatName", "msgContent",
                                     "externalUserName"};
#define N_TOKENS  (sizeof TOKENS / sizeof *TOKENS)
#define MSG_TOKEN 5 /* msgContent=MSGID/SECRET-KEY */

/* ---- state ---- */

/* A display-component code: bound to the app it was issued for. */
typedef struct issued_code {
    zl_app_rt *app;
    int64_t expires_ms;
    char jobid[40]; /* the job that spent it; "" while unused */
} issued_code;

/* A scripted result for the next jobs (POST /_zonelab/export/result without jobid). */
typedef struct rule {
    struct rule *next;
    int errcode;
    char *errmsg; /* NULL: the code's text */
    long long times;
} rule;

struct zl_export;

typedef struct job {
    struct zl_export *s;
    char jobid[40];
    zl_app_rt *app;
    int status;
    int64_t created_ms, start_ms, due_ms, finished_ms;
    uint64_t seq;   /* zl_emu_seq when made: orders jobs made in one millisecond */
    uint64_t timer; /* pending engine timer (ud = this job), 0 none */
    size_t msg_ids, tokens[N_TOKENS];
    bool scripted;
    int result_errcode;
    char *result_errmsg; /* scripted; NULL: "ok" or the code's text */
    char result_id[40];  /* when done with result_errcode 0 */
} job;

typedef struct quota {
    int64_t day; /* the quota day (UTC+8) of used */
    long long used;
} quota;

struct zl_export {
    zl_emu *emu;
    zl_strmap *codes; /* code -> struct issued_code */
    zl_strmap *jobs;  /* jobid -> job (owned) */
    rule *rules, **rules_tail;
    quota *quotas; /* per corp, parallel to world->corps */
    /* the settings are emu->opt.export (emu/options.c; POST /_zonelab/export/config) */
};

static void job_free(void *p)
{
    job *j = p;

    if (j)
        free(j->result_errmsg);
    free(j);
}

static void rules_clear(struct zl_export *s)
{
    while (s->rules) {
        rule *r = s->rules;

        s->rules = r->next;
        free(r->errmsg);
        free(r);
    }
    s->rules_tail = &s->rules;
}

static void export_free(void *v)
{
    struct zl_export *s = v;

    if (!s)
        return;
    zl_strmap_free(s->codes);
    zl_strmap_free(s->jobs);
    rules_clear(s);
    free(s->quotas);
    free(s);
}

static const zl_emu_part_ops export_part = {"export", export_free, NULL};

/* The export options back to their defaults. */
static void config_default(struct zl_export *s)
{
    zl_emu_options o;

    zl_emu_options_default(&o);
    s->emu->opt.export = o.export;
}

/* The emulator's export state, made on first use; NULL when memory runs out. */
static struct zl_export *state(zl_emu *emu)
{
    struct zl_export *s = zl_emu_part(emu, &export_part);
    size_t n = emu->world->corp_count;

    if (s)
        return s;
    if (!(s = calloc(1, sizeof *s)))
        return NULL;
    s->emu = emu;
    s->rules_tail = &s->rules;
    s->codes = zl_strmap_new(free);
    s->jobs = zl_strmap_new(job_free);
    s->quotas = calloc(n ? n : 1, sizeof *s->quotas);
    if (!s->codes || !s->jobs || !s->quotas) {
        export_free(s);
        return NULL;
    }
    if (zl_emu_part_set(emu, &export_part, s) != 0) {
        export_free(s);
        return NULL;
    }
    return s;
}

static int64_t now_ms(const struct zl_export *s)
{
    return zl_emu_now_ms(s->emu);
}

/* A finished job is answered opt.job_ttl_s (24 h) after it finished: its jobid's life. */
static bool job_expired(const job *j, int64_t now)
{
    return j->status == ST_DONE && now - j->finished_ms >= j->s->emu->opt.job_ttl_s * 1000;
}

static int drop_job(const char *key, void *value, void *ud)
{
    (void)key;
    return job_expired(value, *(const int64_t *)ud);
}

static int drop_code(const char *key, void *value, void *ud)
{
    (void)key;
    return ((issued_code *)value)->expires_ms + CODE_KEEP_MS <= *(const int64_t *)ud;
}

static void sweep(struct zl_export *s)
{
    int64_t now = now_ms(s);

    zl_strmap_sweep(s->jobs, drop_job, &now);
    zl_strmap_sweep(s->codes, drop_code, &now);
}

/* ---- replies ---- */

/* A required string field: NULL when it is a non-empty string of at most max bytes (in
 * *out), else the 40058 reply. */
static cJSON *required_str(zl_sdk_ctx *x, const char *key, size_t max, const char *what,
                           const char **out)
{
    cJSON *e = zl_sdk_opt_str(x, key, max, out);

    if (e)
        return e;
    if (!*out || !**out)
        return zl_sdk_errf(x, 40058, "%s is required: %s", key, what);
    return NULL;
}

/* ---- the template ---- */

typedef struct tmpl {
    size_t msg_ids;          /* distinct message ids of msgContent tokens */
    size_t tokens[N_TOKENS]; /* tokens that parse, per kind */
    bool over;               /* more than MAX_MSG_IDS message ids */
} tmpl;

static char seen_mark; /* the value of every key in the msgid set */

/*
 * The token starting at p[0] == '$' (n bytes left): its kind (index in TOKENS) and its length
 * through the closing '$' in *len, or -1 when it does not parse (the text stays as it is). A
 * token is "$<name>=<value>$": a name of TOKENS, a value of 1..TOKEN_VALUE_MAX bytes without
 * '$', CR, LF or NUL; msgContent's value is MSGID/SECRET-KEY, both non-empty.
 */
static int token_at(const unsigned char *p, size_t n, size_t *len, size_t *id_len)
{
    size_t i = 1, name_len, v0, k;
    const unsigned char *slash;

    while (i < n && i <= TOKEN_NAME_MAX && p[i] != '=')
        i++;
    if (i >= n || p[i] != '=')
        return -1;
    name_len = i - 1;
    for (k = 0; k < N_TOKENS; k++)
        if (strlen(TOKENS[k]) == name_len && !memcmp(p + 1, TOKENS[k], name_len))
            break;
    if (k == N_TOKENS)
        return -1;
    v0 = ++i;
    while (i < n && i - v0 <= TOKEN_VALUE_MAX && p[i] != '$' && p[i] != '\r' && p[i] != '\n' &&
           p[i] != '\0')
        i++;
    if (i >= n || p[i] != '$' || i == v0 || i - v0 > TOKEN_VALUE_MAX)
        return -1;
    if (k == MSG_TOKEN) {
        slash = memchr(p + v0, '/', i - v0);
        if (!slash || slash == p + v0 || slash == p + i - 1)
            return -1;
        *id_len = (size_t)(slash - (p + v0));
    }
    *len = i + 1;
    return (int)k;
}

/* Reads the template's bytes as text: its tokens and message ids. -1 when memory runs out. */
static int scan_template(const zl_media *m, tmpl *t)
{
    const unsigned char *p = m->data, *end = m->data + m->size;
    zl_strmap *ids = zl_strmap_new(NULL);
    char id[TOKEN_VALUE_MAX + 1];
    size_t len, id_len = 0;
    int k, rc = 0;

    memset(t, 0, sizeof *t);
    if (!ids)
        return -1;
    while (p < end && (p = memchr(p, '$', (size_t)(end - p)))) {
        if ((k = token_at(p, (size_t)(end - p), &len, &id_len)) < 0) {
            p++;
            continue;
        }
        t->tokens[k]++;
        if (k == (int)MSG_TOKEN) {
            memcpy(id, p + strlen(TOKENS[MSG_TOKEN]) + 2, id_len);
            id[id_len] = '\0';
            if (!zl_strmap_get(ids, id)) {
                if (zl_strmap_put(ids, id, &seen_mark) != 0) {
                    rc = -1;
                    break;
                }
                if (++t->msg_ids > MAX_MSG_IDS) {
                    t->over = true;
                    break;
                }
            }
        }
        p += len;
    }
    zl_strmap_free(ids);
    return rc;
}

/* ---- jobs on the clock ---- */

static void journal_job(const job *j, const char *event_to)
{
    zl_emu *emu = j->s->emu;
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "jobid", j->jobid);
    cJSON_AddStringToObject(o, "corpid", j->app->corp->corpid);
    cJSON_AddNumberToObject(o, "agentid", j->app->app->agentid);
    cJSON_AddNumberToObject(o, "status", j->status);
    if (j->status == ST_DONE) {
        cJSON_AddNumberToObject(o, "result_errcode", j->result_errcode);
        if (event_to)
            cJSON_AddStringToObject(o, "event_program_id", event_to);
    }
    cJSON_AddBoolToObject(o, "scripted", j->scripted);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "sdk", "export_job", o);
}

/* Done: the result, and chat_archive_export_finished to the app's receiving program. */
static void finish(job *j)
{
    zl_emu *emu = j->s->emu;
    zl_app_rt *a = j->app;
    const char *to = NULL;
    cJSON *o;

    j->status = ST_DONE;
    /* it finished at its due time, however late the loop or a get noticed (the clock runs
     * while a loaded machine delays the timer: result_expires_at must not move with that) */
    j->finished_ms = j->due_ms;
    if (j->result_errcode == 0) {
        memcpy(j->result_id, RESULT_PREFIX, strlen(RESULT_PREFIX));
        zl_engine_random_hex(emu->engine, j->result_id + strlen(RESULT_PREFIX), 16);
    }
    if (a->receiver && a->app->data_permission) {
        zl_prog_rt *p;

        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "jobid", j->jobid);
        if ((p = zl_emu_app_event(emu, a, "chat_archive_export_finished", NULL, o, NULL)))
            to = p->prog->program_id;
    }
    journal_job(j, to);
}

static void on_timer(zl_engine *e, void *ud);

/* The timer for the job's next status change, if any. */
static void arm(job *j)
{
    zl_engine *eng = j->s->emu->engine;

    if (j->timer)
        zl_engine_timer_cancel(eng, j->timer);
    j->timer = 0;
    if (j->status == ST_WAITING)
        j->timer = zl_engine_timer(eng, j->start_ms, on_timer, j);
    else if (j->status == ST_RUNNING)
        j->timer = zl_engine_timer(eng, j->due_ms, on_timer, j);
}

/* Brings j up to the virtual now (a get may come before the loop fired the timer). */
static void settle(job *j)
{
    int64_t now = now_ms(j->s);
    int before = j->status;

    if (j->status == ST_WAITING && now >= j->start_ms) {
        j->status = ST_RUNNING;
        journal_job(j, NULL);
    }
    if (j->status == ST_RUNNING && now >= j->due_ms)
        finish(j);
    if (j->status != before || !j->timer)
        arm(j);
}

static void on_timer(zl_engine *e, void *ud)
{
    job *j = ud;

    (void)e;
    j->timer = 0;
    if (!j->s->emu->closing)
        settle(j);
}

/* ---- the APIs ---- */

/* The request's code as one issued to the caller, unspent and younger than 5 min: NULL with
 * *e the reply when it is not. */
static issued_code *code_arg(zl_sdk_ctx *x, struct zl_export *s, const char *text, cJSON **e)
{
    issued_code *c = strlen(text) <= CODE_MAX ? zl_strmap_get(s->codes, text) : NULL;
    int bad = s->emu->opt.export.bad_code_errcode;

    *e = NULL;
    if (!c || c->app->corp != x->app->corp)
        *e = zl_sdk_err(
            x, bad,
            "code is not a display component code of the corp (POST /_zonelab/export/code "
            "issues one)");
    else if (c->app != x->app)
        *e = zl_sdk_err(x, bad, "code was issued to another app");
    else if (c->jobid[0])
        *e = zl_sdk_errf(x, bad, "code was used already (job %s); a code is single use", c->jobid);
    else if (now_ms(s) >= c->expires_ms)
        *e = zl_sdk_err(x, bad, "code is older than 5 minutes");
    return *e ? NULL : c;
}

/* The request's media_id as the caller's template, less than 3 days old. */
static const zl_media *media_arg(zl_sdk_ctx *x, struct zl_export *s, const char *id, cJSON **e)
{
    const zl_media *m = zl_strmap_get(x->emu->media, id);

    *e = NULL;
    if (!s->emu->opt.export.accept_upload_media)
        *e = zl_sdk_err(
            x, 40007,
            "the template's media_id comes from the general media upload, which zonelab does "
            "not serve (accept_upload_media is off)");
    else if (!m || m->expires_ms <= now_ms(s) || m->app != x->app)
        *e = zl_sdk_err(x, 40007,
                        "media_id: an upload_media id of this app, less than 3 days old, is the "
                        "template");
    return *e ? NULL : m;
}

/* Counts one export against the corp's day: NULL, or the 45009 reply. */
static cJSON *charge(zl_sdk_ctx *x, struct zl_export *s)
{
    quota *q = &s->quotas[x->app->corp_index];
    int64_t day = (now_ms(s) / 1000 + DAY_OFFSET_S) / 86400;

    if (q->day != day) {
        q->day = day;
        q->used = 0;
    }
    if (q->used + 1 > s->emu->opt.export.daily_budget)
        return zl_sdk_errf(x, 45009, "%lld exports per corp per day",
                           s->emu->opt.export.daily_budget);
    q->used++;
    return NULL;
}

/* The first rule with uses left scripts the job. */
static void take_rule(struct zl_export *s, job *j)
{
    rule *r;

    for (r = s->rules; r; r = r->next)
        if (r->times != 0) {
            if (r->times > 0)
                r->times--;
            j->scripted = true;
            j->result_errcode = r->errcode;
            j->result_errmsg = r->errmsg ? strdup(r->errmsg) : NULL;
            return;
        }
}

static cJSON *api_create_chatdata_export_job(zl_sdk_ctx *x)
{
    struct zl_export *s = state(x->emu);
    const char *code_text, *media_id;
    const zl_media *m;
    issued_code *c;
    job *j;
    tmpl t;
    cJSON *e, *reply;
    int64_t now;
    size_t k;

    if (!s)
        return zl_sdk_err(x, -1, "out of memory");
    if ((e = required_str(x, "code", 4096, "the display component's code", &code_text)) ||
        (e = required_str(x, "media_id", MEDIA_ID_MAX, "the template file's media_id", &media_id)))
        return e;
    sweep(s);
    if (!(c = code_arg(x, s, code_text, &e)) || !(m = media_arg(x, s, media_id, &e)))
        return e;
    if (scan_template(m, &t) != 0)
        return zl_sdk_err(x, -1, "out of memory");
    if (t.over)
        return zl_sdk_errf(x, 710629, "the template names more than %d message ids", MAX_MSG_IDS);
    if ((e = charge(x, s)))
        return e;
    if (!(j = calloc(1, sizeof *j))) {
        s->quotas[x->app->corp_index].used--;
        return zl_sdk_err(x, -1, "out of memory");
    }
    do {
        memcpy(j->jobid, JOBID_PREFIX, strlen(JOBID_PREFIX));
        zl_engine_random_hex(x->emu->engine, j->jobid + strlen(JOBID_PREFIX), 16);
    } while (zl_strmap_get(s->jobs, j->jobid));
    if (zl_strmap_put(s->jobs, j->jobid, j) != 0) {
        free(j);
        s->quotas[x->app->corp_index].used--;
        return zl_sdk_err(x, -1, "out of memory");
    }
    now = now_ms(s);
    j->s = s;
    j->app = x->app;
    j->status = ST_WAITING;
    j->created_ms = now;
    j->seq = zl_emu_seq(x->emu);
    j->start_ms = now + s->emu->opt.export.waiting_ms;
    j->due_ms = j->start_ms + s->emu->opt.export.running_ms;
    j->msg_ids = t.msg_ids;
    for (k = 0; k < N_TOKENS; k++)
        j->tokens[k] = t.tokens[k];
    take_rule(s, j);
    snprintf(c->jobid, sizeof c->jobid, "%s", j->jobid); /* the code is spent */
    journal_job(j, NULL);
    arm(j);
    reply = zl_sdk_err(x, 0, NULL);
    cJSON_AddStringToObject(reply, "jobid", j->jobid);
    return reply;
}

static cJSON *api_get_chatdata_export_job_status(zl_sdk_ctx *x)
{
    struct zl_export *s = state(x->emu);
    const char *jobid;
    cJSON *e, *reply;
    job *j;

    if (!s)
        return zl_sdk_err(x, -1, "out of memory");
    if ((e = required_str(x, "jobid", 4096, "the jobid of create_chatdata_export_job", &jobid)))
        return e;
    j = strlen(jobid) <= JOBID_MAX ? zl_strmap_get(s->jobs, jobid) : NULL;
    if (!j || j->app != x->app || job_expired(j, now_ms(s)))
        return zl_sdk_err(x, 40058,
                          "unknown jobid (another app's, or finished more than 24 hours ago)");
    settle(j);
    reply = zl_sdk_err(x, 0, NULL);
    cJSON_AddNumberToObject(reply, "status", j->status);
    if (j->status == ST_DONE) {
        cJSON_AddNumberToObject(reply, "result_errcode", j->result_errcode);
        cJSON_AddStringToObject(reply, "result_errmsg",
                                j->result_errmsg    ? j->result_errmsg
                                : j->result_errcode ? zl_errcode_text(j->result_errcode)
                                                    : "ok");
        if (j->result_errcode == 0)
            cJSON_AddStringToObject(reply, "result_id", j->result_id);
    }
    return reply;
}

const zl_sdk_api zl_sdk_apis_export[] = {
    {"create_chatdata_export_job", api_create_chatdata_export_job, ZL_SDK_API_ARCHIVE},
    {"get_chatdata_export_job_status", api_get_chatdata_export_job_status, 0},
    {NULL, NULL, 0},
};

/* ---- the control face ---- */

static cJSON *ok_object(void)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddBoolToObject(o, "ok", 1);
    return o;
}

/* POST /_zonelab/export/code {corpid?, agentid?}: a code as the display component gives it. */
static unsigned control_code(struct zl_export *s, const cJSON *body, cJSON **reply, char *why,
                             size_t whylen)
{
    zl_emu *emu = s->emu;
    const cJSON *cid = zl_json_get(body, "corpid"), *ag = zl_json_get(body, "agentid");
    zl_corp *corp = emu->world->corp_count ? &emu->world->corps[0] : NULL;
    zl_app_rt *a = NULL;
    issued_code *c;
    char text[40];
    size_t i;

    if (cid && (!cJSON_IsString(cid) || !(corp = zl_world_corp(emu->world, cid->valuestring))))
        return zl_sdk_refuse(why, whylen, 404, "corpid is not a corp of the world");
    if (ag && !zl_json_is_int(ag, 0, UINT32_MAX))
        return zl_sdk_refuse(why, whylen, 400, "agentid must be an app's agentid");
    for (i = 0; i < emu->app_count && !a; i++)
        if (emu->apps[i].corp == corp &&
            (!ag || emu->apps[i].app->agentid == (uint32_t)ag->valuedouble))
            a = &emu->apps[i];
    if (!a)
        return zl_sdk_refuse(why, whylen, 404, "agentid is not an app of the corp");
    if (!(c = calloc(1, sizeof *c)))
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    do {
        memcpy(text, CODE_PREFIX, strlen(CODE_PREFIX));
        zl_engine_random_hex(emu->engine, text + strlen(CODE_PREFIX), 16);
    } while (zl_strmap_get(s->codes, text));
    c->app = a;
    c->expires_ms = now_ms(s) + CODE_TTL_MS;
    if (zl_strmap_put(s->codes, text, c) != 0) {
        free(c);
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    }
    *reply = ok_object();
    cJSON_AddStringToObject(*reply, "code", text);
    cJSON_AddStringToObject(*reply, "corpid", a->corp->corpid);
    cJSON_AddNumberToObject(*reply, "agentid", a->app->agentid);
    cJSON_AddNumberToObject(*reply, "expires_at", (double)(c->expires_ms / 1000));
    return 200;
}

/* POST /_zonelab/export/result {result_errcode, result_errmsg?, jobid? | times?}. */
static unsigned control_result(struct zl_export *s, const cJSON *body, cJSON **reply, char *why,
                               size_t whylen)
{
    const cJSON *ec = zl_json_get(body, "result_errcode"),
                *msg = zl_json_get(body, "result_errmsg"), *id = zl_json_get(body, "jobid"),
                *times = zl_json_get(body, "times");
    job *j = NULL;
    rule *r;
    char *copy = NULL;

    if (!zl_json_is_int(ec, INT32_MIN, INT32_MAX))
        return zl_sdk_refuse(why, whylen, 400,
                             "result_errcode is required: an integer (0 succeeds, another fails)");
    if (msg && (!cJSON_IsString(msg) || strlen(msg->valuestring) > MAX_ERRMSG))
        return zl_sdk_refuse(why, whylen, 400, "result_errmsg is a string of at most %d bytes",
                             MAX_ERRMSG);
    if (id && !cJSON_IsString(id))
        return zl_sdk_refuse(why, whylen, 400, "jobid is a string");
    if (times && (!zl_json_is_int(times, 1, INT32_MAX) || id))
        return zl_sdk_refuse(why, whylen, 400,
                             "times is a positive integer, for a rule (not a jobid)");
    if (id) {
        j = zl_strmap_get(s->jobs, id->valuestring);
        if (!j)
            return zl_sdk_refuse(why, whylen, 404, "jobid is not an export job");
        settle(j);
        if (j->status == ST_DONE)
            return zl_sdk_refuse(why, whylen, 409, "job %s is done already (result_errcode %d)",
                                 j->jobid, j->result_errcode);
    }
    if (msg && !(copy = strdup(msg->valuestring)))
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    *reply = ok_object();
    cJSON_AddNumberToObject(*reply, "result_errcode", ec->valuedouble);
    if (j) {
        free(j->result_errmsg);
        j->result_errmsg = copy;
        j->result_errcode = (int)ec->valuedouble;
        j->scripted = true;
        cJSON_AddStringToObject(*reply, "jobid", j->jobid);
        cJSON_AddNumberToObject(*reply, "status", j->status);
        return 200;
    }
    if (!(r = calloc(1, sizeof *r))) {
        free(copy);
        cJSON_Delete(*reply);
        *reply = NULL;
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    }
    r->errcode = (int)ec->valuedouble;
    r->errmsg = copy;
    r->times = times ? (long long)times->valuedouble : 1;
    *s->rules_tail = r;
    s->rules_tail = &r->next;
    cJSON_AddNumberToObject(*reply, "times", (double)r->times);
    return 200;
}

static cJSON *config_json(const struct zl_export *s)
{
    const zl_emu_export_options *o = &s->emu->opt.export;
    cJSON *c = cJSON_CreateObject();

    cJSON_AddNumberToObject(c, "waiting_ms", (double)o->waiting_ms);
    cJSON_AddNumberToObject(c, "running_ms", (double)o->running_ms);
    cJSON_AddNumberToObject(c, "daily_budget", (double)o->daily_budget);
    cJSON_AddNumberToObject(c, "bad_code_errcode", o->bad_code_errcode);
    cJSON_AddBoolToObject(c, "accept_upload_media", o->accept_upload_media);
    return c;
}

/* POST /_zonelab/export/config: every field optional, all checked before any applies. The
 * settings are the options export.* (emu/options.c): this is their older face. */
static unsigned control_config(struct zl_export *s, const cJSON *body, cJSON **reply, char *why,
                               size_t whylen)
{
    static const char *const KEYS[] = {
        "waiting_ms", "running_ms", "daily_budget", "bad_code_errcode", "accept_upload_media",
        "defaults",   NULL};
    const cJSON *wait = zl_json_get(body, "waiting_ms"), *run = zl_json_get(body, "running_ms"),
                *bud = zl_json_get(body, "daily_budget"),
                *bad = zl_json_get(body, "bad_code_errcode"),
                *acc = zl_json_get(body, "accept_upload_media"),
                *def = zl_json_get(body, "defaults"), *e;
    size_t k;

    cJSON_ArrayForEach(e, body)
    {
        for (k = 0; KEYS[k] && strcmp(KEYS[k], e->string); k++)
            ;
        if (!KEYS[k])
            return zl_sdk_refuse(why, whylen, 400,
                                 "unknown setting %s: waiting_ms, running_ms, daily_budget, "
                                 "bad_code_errcode, accept_upload_media, defaults",
                                 e->string);
    }
    if ((wait && !zl_json_is_int(wait, 0, MAX_LATENCY_MS)) ||
        (run && !zl_json_is_int(run, 0, MAX_LATENCY_MS)))
        return zl_sdk_refuse(why, whylen, 400, "waiting_ms and running_ms are 0 to %lld",
                             MAX_LATENCY_MS);
    if (bud && !zl_json_is_int(bud, 0, INT32_MAX))
        return zl_sdk_refuse(why, whylen, 400, "daily_budget is 0 to %d", INT32_MAX);
    if (bad && (!zl_json_is_int(bad, INT32_MIN, INT32_MAX) || bad->valuedouble == 0))
        return zl_sdk_refuse(why, whylen, 400, "bad_code_errcode is a non-zero integer");
    if ((acc && !cJSON_IsBool(acc)) || (def && !cJSON_IsTrue(def)))
        return zl_sdk_refuse(why, whylen, 400, "accept_upload_media is a bool; defaults is true");
    if (def)
        config_default(s);
    if (wait)
        s->emu->opt.export.waiting_ms = (long long)wait->valuedouble;
    if (run)
        s->emu->opt.export.running_ms = (long long)run->valuedouble;
    if (bud)
        s->emu->opt.export.daily_budget = (long long)bud->valuedouble;
    if (bad)
        s->emu->opt.export.bad_code_errcode = (int)bad->valuedouble;
    if (acc)
        s->emu->opt.export.accept_upload_media = cJSON_IsTrue(acc);
    *reply = ok_object();
    cJSON_AddItemToObject(*reply, "config", config_json(s));
    return 200;
}

static int by_creation(const void *a, const void *b)
{
    const job *x = *(const job *const *)a, *y = *(const job *const *)b;

    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq; /* not the jobid: it is random */
}

/* GET /_zonelab/export: settings, rules, quotas used today and the jobs, oldest first. */
static unsigned control_list(struct zl_export *s, cJSON **reply, char *why, size_t whylen)
{
    size_t n;
    void **v = zl_strmap_values(s->jobs, by_creation, &n);
    cJSON *jobs, *o, *tk;
    size_t i, k, rules = 0;
    rule *r;

    if (!v && zl_strmap_count(s->jobs))
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    for (i = 0; i < n; i++)
        settle(v[i]);
    for (r = s->rules; r; r = r->next)
        rules += r->times != 0;
    *reply = ok_object();
    cJSON_AddItemToObject(*reply, "config", config_json(s));
    cJSON_AddNumberToObject(*reply, "rules", (double)rules);
    jobs = cJSON_AddArrayToObject(*reply, "jobs");
    for (i = 0; i < n; i++) {
        const job *j = v[i];

        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "jobid", j->jobid);
        cJSON_AddStringToObject(o, "corpid", j->app->corp->corpid);
        cJSON_AddNumberToObject(o, "agentid", j->app->app->agentid);
        cJSON_AddNumberToObject(o, "status", j->status);
        cJSON_AddNumberToObject(o, "created_ms", (double)j->created_ms);
        cJSON_AddNumberToObject(o, "start_ms", (double)j->start_ms);
        cJSON_AddNumberToObject(o, "due_ms", (double)j->due_ms);
        cJSON_AddNumberToObject(o, "message_ids", (double)j->msg_ids);
        tk = cJSON_AddObjectToObject(o, "tokens");
        for (k = 0; k < N_TOKENS; k++)
            cJSON_AddNumberToObject(tk, TOKENS[k], (double)j->tokens[k]);
        cJSON_AddBoolToObject(o, "scripted", j->scripted);
        if (j->status == ST_DONE) {
            cJSON_AddNumberToObject(o, "result_errcode", j->result_errcode);
            if (j->result_errcode == 0) {
                cJSON_AddStringToObject(o, "result_id", j->result_id);
                cJSON_AddNumberToObject(o, "result_expires_at",
                                        (double)(j->finished_ms / 1000 + RESULT_TTL_S));
            }
        }
        cJSON_AddItemToArray(jobs, o);
    }
    free(v);
    return 200;
}

unsigned zl_export_control(zl_emu *emu, const char *verb, const cJSON *body, cJSON **reply,
                           char *why, size_t whylen)
{
    struct zl_export *s = state(emu);
    unsigned st;
    cJSON *j;

    *reply = NULL;
    if (!s)
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    if (!strcmp(verb, "") || !strcmp(verb, "jobs"))
        return control_list(s, reply, why, whylen);
    if (!cJSON_IsObject(body))
        return zl_sdk_refuse(why, whylen, 400, "the body must be a JSON object");
    if (!strcmp(verb, "code"))
        st = control_code(s, body, reply, why, whylen);
    else if (!strcmp(verb, "result"))
        st = control_result(s, body, reply, why, whylen);
    else if (!strcmp(verb, "clear")) {
        rules_clear(s);
        *reply = ok_object();
        st = 200;
    } else if (!strcmp(verb, "config"))
        st = control_config(s, body, reply, why, whylen);
    else
        return zl_sdk_refuse(why, whylen, 404,
                             "no such export endpoint: code, result, clear, config, jobs");
    if (st == 200) {
        j = cJSON_Duplicate(body, 1);
        cJSON_AddStringToObject(j, "verb", verb);
        if (!strcmp(verb, "code"))
            cJSON_AddStringToObject(j, "code",
                                    cJSON_GetObjectItemCaseSensitive(*reply, "code")->valuestring);
        zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", "export", j);
    }
    return st;
}
