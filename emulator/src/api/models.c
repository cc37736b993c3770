/* api_models: WeCom's models as two-step tasks (sdk-api.md §6): the family's state as a part of
 * the emulator, the task records on the virtual clock, the create_* request fields and daily
 * quotas every model shares, the get_*_result answers and the registry of the APIs. How a task
 * is answered is in models_eval.c, own model and program tasks in models_own.c, the control
 * face's side in models_control.c; models_int.h is what they share. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/kb.h"
#include "core/grow.h"
#include "api/models.h"
#include "api/models_int.h"
#include "wecom/errcode.h"

#define MAX_MSGS       1000 /* msg_list items: 710623 beyond */
#define MAX_SECRET     1024 /* secret_key bytes accepted in a request */
#define MAX_MODEL_ID   64
#define MAX_ABILITY_ID 64
#define MAX_TAG_GROUPS 100  /* tag_group_list items (an emulator default) */
#define MAX_RETRIEVAL  1000 /* kb_retrieval_words characters */
#define MAX_VAR_VALUE  128  /* characters */
#define JOBID_PREFIX   "mt_"

/* ---- models ---- */

const model_info zl_models_info[M_COUNT] = {
    [M_SENTIMENT] = {"sentiment", "sentiment_result", true},
    [M_SPAM] = {"spam", "spam_result", true},
    [M_SUMMARY] = {"summary", NULL, false},
    [M_CUSTOMER_TAG] = {"customer_tag", NULL, false},
    [M_RECOMMEND] = {"recommend_dialog", NULL, false},
    [M_WW_MODEL] = {"ww_model", NULL, false},
    [M_MODEL] = {"model", NULL, false},
    [M_PROGRAM] = {"program", NULL, false},
};

const char *const zl_models_phases[] = {"waiting", "running", "done", "failed"};

/* General model ids (the console's names are not in the spec; these are the emulator's). */
static const struct {
    const char *id;
    bool thinking, self_built_only;
} WW_MODELS[] = {
    {"hunyuan_fast", false, false}, /* the default */
    {"hunyuan_think", true, false},
    {"deepseek_think", true, false},
    {"deepseek_fast", false, true},
};

bool zl_models_ww_thinking(const char *model_id)
{
    size_t i;

    for (i = 0; i < sizeof WW_MODELS / sizeof *WW_MODELS; i++)
        if (!strcmp(WW_MODELS[i].id, model_id))
            return WW_MODELS[i].thinking;
    return false;
}

void zl_models_fail_item(cJSON *fails, int code, const char *msgid)
{
    cJSON *f = cJSON_CreateObject();

    cJSON_AddNumberToObject(f, "errcode", code);
    cJSON_AddStringToObject(f, "errmsg", zl_errcode_text(code));
    cJSON_AddStringToObject(f, "msgid", msgid);
    cJSON_AddItemToArray(fails, f);
}

/* ---- state ---- */

void zl_models_answer_cleanup(answer *a)
{
    cJSON_Delete(a->result);
    memset(a, 0, sizeof *a);
}

void zl_models_task_free(void *p)
{
    task *t = p;
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->n; i++) {
        free(t->items[i].msgid);
        free(t->items[i].secret_key);
        zl_models_answer_cleanup(&t->items[i].a);
    }
    free(t->items);
    cJSON_Delete(t->args);
    zl_models_answer_cleanup(&t->a);
    cJSON_Delete(t->outcome);
    free(t->input);
    free(t);
}

static void json_free(void *p)
{
    cJSON_Delete(p);
}

void zl_models_rules_clear(struct zl_models *m)
{
    while (m->rules) {
        rule *r = m->rules;

        m->rules = r->next;
        free(r->msgid);
        zl_models_answer_cleanup(&r->a);
        free(r);
    }
    m->rules_tail = &m->rules;
}

/*
 * Frees every task, rule, tag library and knowledge fragment. Engine timers of unfinished
 * tasks are not cancelled: call after zl_engine_free, which drops them.
 */
static void models_free(void *v)
{
    struct zl_models *m = v;

    size_t i;

    if (!m)
        return;
    zl_strmap_free(m->tasks);
    zl_models_rules_clear(m);
    for (i = 0; m->tags && i < m->emu->world->corp_count; i++)
        cJSON_Delete(m->tags[i]);
    free(m->tags);
    free(m->quotas);
    zl_strmap_free(m->minutes);
    zl_strmap_free(m->knowledge);
    free(m);
}

const zl_emu_part_ops zl_models_part = {"models", models_free, NULL};

void zl_models_config_default(struct zl_models *m)
{
    zl_emu_options o;

    zl_emu_options_default(&o);
    m->emu->opt.models = o.models;
}

struct zl_models *zl_models_state(zl_emu *emu)
{
    struct zl_models *m = zl_emu_part(emu, &zl_models_part);
    size_t n = emu->world->corp_count;

    if (m)
        return m;
    if (!(m = calloc(1, sizeof *m)))
        return NULL;
    m->emu = emu;
    m->rules_tail = &m->rules;
    m->tasks = zl_strmap_new(zl_models_task_free);
    m->knowledge = zl_strmap_new(json_free);
    m->quotas = calloc(n ? n : 1, sizeof *m->quotas);
    m->minutes = zl_strmap_new(zl_models_minutes_free);
    m->tags = calloc(n ? n : 1, sizeof *m->tags);
    if (!m->tasks || !m->knowledge || !m->quotas || !m->minutes || !m->tags) {
        models_free(m);
        return NULL;
    }
    if (zl_emu_part_set(emu, &zl_models_part, m) != 0) {
        models_free(m);
        return NULL;
    }
    return m;
}

void zl_models_journal_task(task *t)
{
    zl_emu *emu = t->m->emu;
    cJSON *j = cJSON_CreateObject();
    const cJSON *ec = zl_json_get(t->outcome, "errcode");

    cJSON_AddStringToObject(j, "jobid", t->jobid);
    cJSON_AddStringToObject(j, "model", zl_models_info[t->model].name);
    cJSON_AddStringToObject(j, "corpid", t->app->corp->corpid);
    cJSON_AddNumberToObject(j, "agentid", t->app->app->agentid);
    cJSON_AddStringToObject(j, "phase", zl_models_phases[t->phase]);
    cJSON_AddNumberToObject(j, "status", t->phase == PH_DONE ? 1 : t->phase == PH_FAILED ? 2 : 0);
    if (ec)
        cJSON_AddNumberToObject(j, "errcode", ec->valuedouble);
    cJSON_AddBoolToObject(j, "scripted", t->a.set);
    if (t->start_ms > t->created_ms)
        cJSON_AddNumberToObject(j, "start_ms", (double)t->start_ms);
    if (t->over_minute)
        cJSON_AddBoolToObject(j, "over_minute", true);
    if (t->target) {
        cJSON_AddStringToObject(j, "target", t->target->prog->program_id);
        cJSON_AddStringToObject(j, "ability_id", t->target->prog->abilities[t->ability].ability_id);
    }
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "sdk", "model_task", j);
}

/* ---- the clock ---- */

static void on_due(zl_engine *e, void *ud)
{
    task *t = ud;

    (void)e;
    t->timer = 0;
    if (t->phase < PH_DONE)
        zl_models_finish(t);
}

void zl_models_arm(task *t)
{
    if (t->timer)
        zl_engine_timer_cancel(t->m->emu->engine, t->timer);
    t->timer = held(t) ? 0 : zl_engine_timer(t->m->emu->engine, t->due_ms, on_due, t);
}

static void start(task *t)
{
    t->phase = PH_RUNNING;
    zl_models_journal_task(t);
}

static void on_start(zl_engine *e, void *ud)
{
    task *t = ud;

    (void)e;
    t->timer = 0;
    if (t->phase != PH_WAITING)
        return;
    start(t);
    zl_models_arm(t);
}

/* Brings t up to the virtual now (a get may come before the loop fired the timers). */
static void settle(task *t)
{
    if (t->phase >= PH_DONE || held(t) || zl_emu_now_ms(t->m->emu) < t->due_ms)
        return;
    if (t->timer)
        zl_engine_timer_cancel(t->m->emu->engine, t->timer);
    t->timer = 0;
    if (t->phase == PH_WAITING)
        start(t);
    zl_models_finish(t);
}

int zl_models_by_creation(const void *a, const void *b)
{
    const task *x = *(const task *const *)a, *y = *(const task *const *)b;

    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq; /* not the jobid: it is random */
}

static int task_expired(const char *key, void *value, void *ud)
{
    task *t = value;
    const int64_t *cut = ud;

    (void)key;
    return t->phase >= PH_DONE && t->finished_ms <= *cut && !t->calling;
}

typedef struct due_list {
    task **v;
    size_t n, cap;
} due_list;

static int own_due(const char *key, void *value, void *ud)
{
    task *t = value;
    due_list *d = ud;

    (void)key;
    if (own(t->model) && zl_models_own_overdue(t) &&
        zl_grow(&d->v, &d->cap, d->n, sizeof *d->v, 8) == 0)
        d->v[d->n++] = t;
    return 0;
}

/* Finished tasks are kept opt.job_ttl_s (24 h), as async jobs are. Own tasks whose job is
 * gone end first, oldest first (each ending is journaled), not in the map's order. */
static void sweep(struct zl_models *m)
{
    int64_t cut = zl_emu_now_ms(m->emu) - m->emu->opt.job_ttl_s * 1000;
    due_list d = {0};
    size_t i;

    zl_strmap_sweep(m->tasks, own_due, &d);
    if (d.n > 1)
        qsort(d.v, d.n, sizeof *d.v, zl_models_by_creation);
    for (i = 0; i < d.n; i++)
        zl_models_own_settle(d.v[i]);
    free(d.v);
    zl_strmap_sweep(m->tasks, task_expired, &cut);
}

/* ---- create_* ---- */

cJSON *zl_models_parse_msgs(sdk_ctx *x, struct zl_models *m, task *t, bool required, cJSON *fails)
{
    const cJSON *list = zl_json_get(x->req, "msg_list"), *e;
    zl_strmap *seen = NULL;
    cJSON *bad = NULL;
    int n, i = 0;

    if (!list)
        return required ? zl_sdk_err(x, 40058, "msg_list is required") : NULL;
    if (!cJSON_IsArray(list))
        return zl_sdk_err(x, 40058,
                          "msg_list must be an array of {msgid, encrypt_info:{secret_key}}");
    n = cJSON_GetArraySize(list);
    if (n == 0)
        return zl_sdk_errf(x, 40058, "msg_list must hold 1 to %d items", MAX_MSGS);
    if (n > MAX_MSGS)
        return zl_sdk_errf(x, 710623, "msg_list holds %d items, at most %d", n, MAX_MSGS);
    if (!(t->items = calloc((size_t)n, sizeof *t->items)) || !(seen = zl_strmap_new(NULL)))
        return zl_sdk_err(x, -1, "out of memory");
    cJSON_ArrayForEach(e, list)
    {
        const cJSON *id = zl_json_get(e, "msgid"),
                    *key = zl_json_get(zl_json_get(e, "encrypt_info"), "secret_key");
        item *it;

        if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > ZL_WORLD_MAX_ID) {
            bad = zl_sdk_errf(x, 40058, "msg_list[%d].msgid must be a string of 1 to %d bytes", i,
                              ZL_WORLD_MAX_ID);
            break;
        }
        if (!cJSON_IsString(key) || strlen(key->valuestring) > MAX_SECRET) {
            bad = zl_sdk_errf(
                x, 40058,
                "msg_list[%d].encrypt_info.secret_key must be a string of at most %d bytes", i,
                MAX_SECRET);
            break;
        }
        i++;
        if (zl_strmap_get(seen, id->valuestring)) { /* the first occurrence counts */
            cJSON *f = cJSON_CreateObject();

            cJSON_AddNumberToObject(f, "errcode", m->emu->opt.models.duplicate_errcode);
            cJSON_AddStringToObject(f, "errmsg",
                                    zl_errcode_text(m->emu->opt.models.duplicate_errcode));
            cJSON_AddStringToObject(f, "msgid", id->valuestring);
            cJSON_AddStringToObject(cJSON_AddObjectToObject(f, "encrypt_info"), "secret_key",
                                    key->valuestring);
            cJSON_AddItemToArray(fails, f);
            continue;
        }
        it = &t->items[t->n++];
        if (!(it->msgid = strdup(id->valuestring)) ||
            !(it->secret_key = strdup(key->valuestring)) ||
            zl_strmap_put(seen, id->valuestring, it) != 0) {
            bad = zl_sdk_err(x, -1, "out of memory");
            break;
        }
    }
    zl_strmap_free(seen);
    return bad;
}

cJSON *zl_models_tag_groups_arg(sdk_ctx *x, struct zl_models *m, bool required, cJSON *args,
                                cJSON **unknown)
{
    const cJSON *l = zl_json_get(x->req, "tag_group_list"), *g, *lib, *lg;
    cJSON *known;
    int i = 0;

    *unknown = NULL;
    if (!l)
        return required ? zl_sdk_err(x, 40058, "tag_group_list is required: [{\"group_id\":...}]")
                        : NULL;
    if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) < 1 || cJSON_GetArraySize(l) > MAX_TAG_GROUPS)
        return zl_sdk_errf(x, 40058, "tag_group_list must be an array of 1 to %d {group_id}",
                           MAX_TAG_GROUPS);
    lib = m->tags[corp_index(x->emu, x->app->corp)];
    known = cJSON_AddArrayToObject(args, "tag_groups");
    *unknown = cJSON_CreateArray();
    cJSON_ArrayForEach(g, l)
    {
        const cJSON *id = zl_json_get(g, "group_id");
        bool found = false;

        if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > ZL_WORLD_MAX_ID) {
            cJSON_Delete(*unknown);
            *unknown = NULL;
            return zl_sdk_errf(x, 40058,
                               "tag_group_list[%d].group_id must be a string of 1 to %d bytes", i,
                               ZL_WORLD_MAX_ID);
        }
        cJSON_ArrayForEach(lg, lib)
        {
            found = found || !strcmp(zl_json_get(lg, "group_id")->valuestring, id->valuestring);
        }
        cJSON_AddItemToArray(found ? known : *unknown, cJSON_CreateString(id->valuestring));
        i++;
    }
    return NULL;
}

cJSON *zl_models_kb_arg(sdk_ctx *x, bool required, cJSON *args)
{
    const char *kb;
    cJSON *e;
    int code;

    if ((e = zl_sdk_opt_str(x, "kb_id", MAX_KB_ID, &kb)))
        return e;
    if (!kb || !*kb)
        return required ? zl_sdk_err(x, 40058, "kb_id is required") : NULL;
    if ((code = zl_kb_usable(x->emu, x->app, kb)) != 0)
        return zl_sdk_err(x, code, NULL);
    cJSON_AddStringToObject(args, "kb_id", kb);
    return NULL;
}

bool zl_models_well_formed_ability(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > MAX_ABILITY_ID)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

/* The general model's fields (sdk-api.md §6.3: 53707 for self-built apps, 56425 for the
 * others) into args; unknown tag group ids into *unknown. */
static cJSON *ww_args(sdk_ctx *x, struct zl_models *m, cJSON *args, cJSON **unknown)
{
    bool self = x->app->app->kind == ZL_APP_SELF_BUILT;
    const cJSON *think = zl_json_get(x->req, "need_think_result"), *va, *v;
    const char *model_id = NULL, *ability = NULL, *words = NULL;
    cJSON *e;
    size_t i, k;

    if ((e = zl_sdk_opt_str(x, "model_id", MAX_MODEL_ID, &model_id)))
        return e;
    if (!model_id || !*model_id)
        model_id = WW_MODELS[0].id;
    for (i = 0; i < sizeof WW_MODELS / sizeof *WW_MODELS; i++)
        if (!strcmp(WW_MODELS[i].id, model_id) && (self || !WW_MODELS[i].self_built_only))
            break;
    if (i == sizeof WW_MODELS / sizeof *WW_MODELS)
        return zl_sdk_errf(
            x, 40058, "model_id must be hunyuan_fast (default), hunyuan_think, deepseek_think%s",
            self ? " or deepseek_fast" : "");
    cJSON_AddStringToObject(args, "model_id", model_id);
    if (think && !cJSON_IsBool(think))
        return zl_sdk_err(x, 40058, "need_think_result must be a bool");
    cJSON_AddBoolToObject(args, "need_think_result", cJSON_IsTrue(think));
    if ((e = zl_models_kb_arg(x, false, args)))
        return e;
    if (self)
        return NULL;
    if ((e = zl_sdk_opt_str(x, "ability_id", 1024, &ability)))
        return e;
    if (!ability)
        return zl_sdk_err(x, 40058, "ability_id is required for a third-party or custom app");
    if (!zl_models_well_formed_ability(ability))
        return zl_sdk_err(x, 710636, "ability_id is 1 to 64 characters of [A-Za-z0-9_.-]");
    cJSON_AddStringToObject(args, "ability_id", ability);
    for (i = 0; i < x->app->corp->program_count; i++) {
        zl_ability *ab = zl_program_ability(&x->app->corp->programs[i], ability);

        if (ab) {
            cJSON_AddStringToObject(args, "template", ab->input_protocol);
            break;
        }
    }
    if ((e = zl_sdk_opt_str(x, "kb_retrieval_words", 4 * MAX_RETRIEVAL, &words)))
        return e;
    if (words && (zl_utf8_chars(words) < 1 || zl_utf8_chars(words) > MAX_RETRIEVAL))
        return zl_sdk_errf(x, 40058, "kb_retrieval_words must be 1 to %d characters",
                           MAX_RETRIEVAL);
    if (words)
        cJSON_AddStringToObject(args, "kb_retrieval_words", words);
    if (!zl_json_get(x->req, "msg_list") && !zl_json_get(args, "kb_id"))
        return zl_sdk_err(x, 40058, "give kb_id or msg_list (or both)");
    if (!zl_json_get(x->req, "msg_list") && !words)
        return zl_sdk_err(x, 40058, "kb_retrieval_words is required without msg_list");
    if ((va = zl_json_get(x->req, "var_args"))) {
        if (!cJSON_IsArray(va) || cJSON_GetArraySize(va) > MAX_VAR_ARGS)
            return zl_sdk_errf(x, 40058, "var_args must be an array of at most %d {name, value}",
                               MAX_VAR_ARGS);
        k = 0;
        cJSON_ArrayForEach(v, va)
        {
            const cJSON *n = zl_json_get(v, "name"), *val = zl_json_get(v, "value");

            if (!cJSON_IsString(n) || !*n->valuestring || strlen(n->valuestring) > MAX_VAR_NAME ||
                !cJSON_IsString(val) || zl_utf8_chars(val->valuestring) < 1 ||
                zl_utf8_chars(val->valuestring) > MAX_VAR_VALUE)
                return zl_sdk_errf(x, 40058,
                                   "var_args[%zu] needs name (1 to %d bytes) and value (1 to %d "
                                   "characters)",
                                   k, MAX_VAR_NAME, MAX_VAR_VALUE);
            k++;
        }
        cJSON_AddItemToObject(args, "var_args", cJSON_Duplicate(va, 1));
    }
    return zl_models_tag_groups_arg(x, m, false, args, unknown);
}

task *zl_models_task_new(sdk_ctx *x, struct zl_models *m, model_kind k)
{
    task *t = m ? calloc(1, sizeof *t) : NULL;

    if (t && !(t->args = cJSON_CreateObject())) {
        free(t);
        return NULL;
    }
    if (t) {
        t->m = m;
        t->model = k;
        t->app = x->app;
    }
    return t;
}

cJSON *zl_models_task_keep(sdk_ctx *x, struct zl_models *m, task *t)
{
    sweep(m);
    do {
        memcpy(t->jobid, JOBID_PREFIX, strlen(JOBID_PREFIX));
        zl_engine_random_hex(x->emu->engine, t->jobid + strlen(JOBID_PREFIX), 16);
    } while (zl_strmap_get(m->tasks, t->jobid));
    if (zl_strmap_put(m->tasks, t->jobid, t) != 0)
        return zl_sdk_err(x, -1, "out of memory");
    t->seq = zl_emu_seq(x->emu);
    return NULL;
}

cJSON *zl_models_created(sdk_ctx *x, const task *t, cJSON *fails, cJSON *unknown)
{
    cJSON *reply = zl_sdk_err(x, 0, NULL);

    cJSON_AddStringToObject(reply, "jobid", t->jobid);
    cJSON_AddItemToObject(reply, "fail_list", fails);
    if (unknown && cJSON_GetArraySize(unknown) > 0)
        cJSON_AddItemToObject(reply, "fail_tag_group_id_list", unknown);
    else
        cJSON_Delete(unknown);
    return reply;
}

static cJSON *create(sdk_ctx *x, model_kind k)
{
    struct zl_models *m = zl_models_state(x->emu);
    zl_engine *eng = x->emu->engine;
    cJSON *e = NULL, *fails = cJSON_CreateArray(), *unknown = NULL;
    const char *model_id;
    task *t = NULL;
    int64_t now = zl_emu_now_ms(x->emu), start;

    if (!(t = zl_models_task_new(x, m, k))) {
        cJSON_Delete(fails);
        return zl_sdk_err(x, -1, "out of memory");
    }
    if (k == M_WW_MODEL && !x->app->app->general_model) {
        e = zl_sdk_errf(x, 710644, "app %u has no general-model grant (world: general_model)",
                        x->app->app->agentid);
        goto fail;
    }
    if (k == M_WW_MODEL && (e = ww_args(x, m, t->args, &unknown)))
        goto fail;
    if ((e = zl_models_parse_msgs(
             x, m, t, k != M_WW_MODEL || x->app->app->kind == ZL_APP_SELF_BUILT, fails)))
        goto fail;
    if (k == M_CUSTOMER_TAG) {
        if ((e = zl_models_tag_groups_arg(x, m, true, t->args, &unknown)) ||
            (e = zl_sdk_opt_str(x, "model_id", MAX_MODEL_ID, &model_id)))
            goto fail;
        if (model_id)
            cJSON_AddStringToObject(t->args, "model_id", model_id);
    }
    if (k == M_RECOMMEND && (e = zl_models_kb_arg(x, true, t->args)))
        goto fail;
    if ((e = zl_models_charge(x, m, k, t->n, now, &start)))
        goto fail;
    if ((e = zl_models_task_keep(x, m, t)))
        goto fail;
    t->created_ms = now;
    t->over_minute = start < 0; /* it fails at once, no rule taken */
    t->start_ms = t->over_minute ? now : start;
    if (!t->over_minute)
        zl_models_take_rules(m, t);
    t->due_ms = t->start_ms + (t->over_minute                     ? 0
                               : t->a.set && t->a.latency_ms >= 0 ? t->a.latency_ms
                                                                  : m->emu->opt.models.latency_ms);
    t->phase = PH_WAITING;
    zl_models_journal_task(t);
    t->timer = zl_engine_timer(eng, t->start_ms, on_start, t);
    return zl_models_created(x, t, fails, unknown);
fail:
    zl_models_task_free(t);
    cJSON_Delete(fails);
    cJSON_Delete(unknown);
    return e;
}

/* ---- get_*_result ---- */

static cJSON *result(sdk_ctx *x, model_kind k)
{
    struct zl_models *m = zl_models_state(x->emu);
    const char *jobid;
    const zl_job *job;
    cJSON *e, *reply, *f;
    task *t;
    size_t i;
    int code;

    if ((e = zl_sdk_opt_str(x, "jobid", 128, &jobid)))
        return e;
    if (!jobid || !*jobid)
        return zl_sdk_err(x, 40058, "jobid is required: the jobid of the create call's reply");
    if (!m)
        return zl_sdk_err(x, -1, "out of memory");
    t = zl_strmap_get(m->tasks, jobid);
    if (!t || t->app != x->app) {
        job = zl_strmap_get(x->emu->jobs, jobid);
        if (job && job->app == x->app)
            return zl_sdk_err(x, 710616, "the jobid is an async_program_task job");
        return zl_sdk_err(x, 40058, "unknown jobid (or another app's)");
    }
    if (t->model != k)
        return zl_sdk_errf(x, 710616, "the jobid is a %s task", zl_models_info[t->model].name);
    if (own(k))
        return zl_models_result_own(x, t);
    settle(t);
    if (t->outcome) {
        code = cJSON_IsNumber(zl_json_get(t->outcome, "errcode"))
                   ? (int)zl_json_get(t->outcome, "errcode")->valuedouble
                   : -1;
        reply = zl_errcode_reply(code, NULL, code ? x->req_id : NULL);
        cJSON_AddItemToObject(reply, "status",
                              cJSON_Duplicate(zl_json_get(t->outcome, "status"), 1));
        cJSON_ArrayForEach(f, t->outcome)
        {
            if (strcmp(f->string, "errcode") && strcmp(f->string, "errmsg") &&
                strcmp(f->string, "status"))
                cJSON_AddItemToObject(reply, f->string, cJSON_Duplicate(f, 1));
        }
        return reply;
    }
    reply = zl_sdk_err(x, 0, NULL);
    cJSON_AddNumberToObject(reply, "status", 0);
    cJSON_AddArrayToObject(reply, "fail_list");
    if (zl_models_info[k].result_key) {
        cJSON *list = cJSON_AddArrayToObject(reply, "analyze_result_list");

        for (i = 0; i < t->n; i++) {
            cJSON *o = cJSON_CreateObject();

            cJSON_AddNumberToObject(o, "errcode", 0);
            cJSON_AddStringToObject(o, "errmsg", "ok");
            cJSON_AddStringToObject(o, "msgid", t->items[i].msgid);
            cJSON_AddItemToArray(list, o);
        }
    }
    return reply;
}

static cJSON *api_create_sentiment_task(sdk_ctx *x)
{
    return create(x, M_SENTIMENT);
}

static cJSON *api_get_sentiment_result(sdk_ctx *x)
{
    return result(x, M_SENTIMENT);
}

static cJSON *api_create_spam_task(sdk_ctx *x)
{
    return create(x, M_SPAM);
}

static cJSON *api_get_spam_result(sdk_ctx *x)
{
    return result(x, M_SPAM);
}

static cJSON *api_create_summary_task(sdk_ctx *x)
{
    return create(x, M_SUMMARY);
}

static cJSON *api_get_summary_result(sdk_ctx *x)
{
    return result(x, M_SUMMARY);
}

static cJSON *api_create_customer_tag_task(sdk_ctx *x)
{
    return create(x, M_CUSTOMER_TAG);
}

static cJSON *api_get_customer_tag_result(sdk_ctx *x)
{
    return result(x, M_CUSTOMER_TAG);
}

static cJSON *api_create_recommend_dialog_task(sdk_ctx *x)
{
    return create(x, M_RECOMMEND);
}

static cJSON *api_get_recommend_dialog_result(sdk_ctx *x)
{
    return result(x, M_RECOMMEND);
}

static cJSON *api_create_ww_model_task(sdk_ctx *x)
{
    return create(x, M_WW_MODEL);
}

static cJSON *api_get_ww_model_result(sdk_ctx *x)
{
    return result(x, M_WW_MODEL);
}

static cJSON *api_create_model_task(sdk_ctx *x)
{
    return zl_models_create_own(x, M_MODEL);
}

static cJSON *api_get_model_task_result(sdk_ctx *x)
{
    return result(x, M_MODEL);
}

static cJSON *api_create_program_task(sdk_ctx *x)
{
    return zl_models_create_own(x, M_PROGRAM);
}

static cJSON *api_get_program_task_result(sdk_ctx *x)
{
    return result(x, M_PROGRAM);
}

/* Every create_* reads the archive (its msg_list): refused while the app's authorisation gives
 * it none. The get_* answer what a task already computed. */
const zl_sdk_api zl_sdk_apis_models[] = {
    {"create_sentiment_task", api_create_sentiment_task, ZL_SDK_API_ARCHIVE},
    {"get_sentiment_result", api_get_sentiment_result, 0},
    {"create_spam_task", api_create_spam_task, ZL_SDK_API_ARCHIVE},
    {"get_spam_result", api_get_spam_result, 0},
    {"create_summary_task", api_create_summary_task, ZL_SDK_API_ARCHIVE},
    {"get_summary_result", api_get_summary_result, 0},
    {"create_customer_tag_task", api_create_customer_tag_task, ZL_SDK_API_ARCHIVE},
    {"get_customer_tag_result", api_get_customer_tag_result, 0},
    {"create_recommend_dialog_task", api_create_recommend_dialog_task, ZL_SDK_API_ARCHIVE},
    {"get_recommend_dialog_result", api_get_recommend_dialog_result, 0},
    {"create_ww_model_task", api_create_ww_model_task, ZL_SDK_API_ARCHIVE},
    {"get_ww_model_result", api_get_ww_model_result, 0},
    {"create_model_task", api_create_model_task, ZL_SDK_API_ARCHIVE},
    {"get_model_task_result", api_get_model_task_result, 0},
    /* the vendor sample's older names of the two above (sdk-api.md §1) */
    {"create_private_task", api_create_model_task, ZL_SDK_API_ARCHIVE},
    {"get_private_task_result", api_get_model_task_result, 0},
    {"create_program_task", api_create_program_task, ZL_SDK_API_ARCHIVE},
    {"get_program_task_result", api_get_program_task_result, 0},
    {NULL, NULL, 0},
};
