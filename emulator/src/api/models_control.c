/* api_models_control: the control face's side of WeCom's models (docs/control-api.md):
 * scripted answers (POST /_zonelab/models/reply, clear), the configuration, a corp's customer
 * tag library and knowledge fragments, and the task listing (GET /_zonelab/models). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/models.h"
#include "api/models_int.h"

#define FAILED_DEFAULT 710633 /* a scripted failure without errcode */

/* ---- control face ---- */

static int model_named(const char *name)
{
    int k;

    for (k = 0; name && k < M_COUNT; k++)
        if (!strcmp(zl_models_info[k].name, name))
            return k;
    return -1;
}

/* Whether a scripted result fits the model (per_message: a sentiment/spam msgid rule). */
static bool result_fits(model_kind k, bool per_message, const cJSON *r)
{
    const cJSON *e;

    if (zl_models_info[k].result_key) {
        if (per_message || cJSON_IsNumber(r))
            return zl_json_is_int(r, INT32_MIN, INT32_MAX);
        if (!cJSON_IsObject(r))
            return false;
        cJSON_ArrayForEach(e, r)
        {
            if (!zl_json_is_int(e, INT32_MIN, INT32_MAX))
                return false;
        }
        return true;
    }
    if (k != M_CUSTOMER_TAG)
        return true; /* a string, or any JSON given as its text */
    if (!cJSON_IsArray(r))
        return false;
    cJSON_ArrayForEach(e, r)
    {
        if (!cJSON_IsString(zl_json_get(e, "group_id")) ||
            !cJSON_IsString(zl_json_get(e, "tag_id")))
            return false;
    }
    return true;
}

static const char *const RESULT_SHAPES[M_COUNT] = {
    [M_SENTIMENT] = "a sentiment_result number, or {msgid: number}",
    [M_SPAM] = "a spam_result number, or {msgid: number}",
    [M_SUMMARY] = "the response_data string",
    [M_CUSTOMER_TAG] = "the tag_result_list: [{group_id, tag_id}]",
    [M_RECOMMEND] = "the response_data string",
    [M_WW_MODEL] = "the response_data string",
    [M_MODEL] = "",
    [M_PROGRAM] = "",
};

/* The answer of a model_reply body: 200, or a 400 with why. */
static unsigned parse_answer(const cJSON *body, model_kind k, bool per_message, answer *a,
                             char *why, size_t whylen)
{
    const cJSON *st = zl_json_get(body, "status"), *ec = zl_json_get(body, "errcode"),
                *r = zl_json_get(body, "result"), *lat = zl_json_get(body, "latency_ms");

    memset(a, 0, sizeof *a);
    a->set = true;
    a->latency_ms = -1;
    a->status = ec ? ST_FAILED : ST_DONE;
    if (st) {
        if (!cJSON_IsString(st) ||
            (strcmp(st->valuestring, "done") && strcmp(st->valuestring, "failed") &&
             strcmp(st->valuestring, "pending")))
            return zl_sdk_refuse(why, whylen, 400, "status is \"done\", \"failed\" or \"pending\"");
        a->status = !strcmp(st->valuestring, "done")     ? ST_DONE
                    : !strcmp(st->valuestring, "failed") ? ST_FAILED
                                                         : ST_PENDING;
    }
    if (ec && (!zl_json_is_int(ec, INT32_MIN, INT32_MAX) || ec->valuedouble == 0))
        return zl_sdk_refuse(why, whylen, 400, "errcode must be a non-zero integer");
    if (ec && a->status != ST_FAILED)
        return zl_sdk_refuse(why, whylen, 400, "errcode goes with status \"failed\"");
    a->errcode = ec ? (int)ec->valuedouble : FAILED_DEFAULT;
    if (per_message && a->status == ST_PENDING)
        return zl_sdk_refuse(why, whylen, 400,
                             "a message's answer is a result or an errcode, not pending");
    if (per_message && a->status == ST_DONE && !r)
        return zl_sdk_refuse(why, whylen, 400, "give result (%s) or errcode",
                             zl_models_info[k].result_key);
    if (r && a->status != ST_DONE)
        return zl_sdk_refuse(why, whylen, 400, "result goes with status \"done\"");
    if (r && !result_fits(k, per_message, r))
        return zl_sdk_refuse(why, whylen, 400, "result of %s is %s", zl_models_info[k].name,
                             per_message ? "a number" : RESULT_SHAPES[k]);
    if (lat) {
        if (!zl_json_is_int(lat, 0, 86400000LL) || per_message)
            return zl_sdk_refuse(why, whylen, 400, "latency_ms is 0 to 86400000, for a task");
        a->latency_ms = (long long)lat->valuedouble;
    }
    if (r && !(a->result = cJSON_Duplicate(r, 1)))
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    return 200;
}

/* A jobid rule: replaces that task's answer now. */
static unsigned reply_task(struct zl_models *m, task *t, answer *a, cJSON **reply)
{
    int64_t now = zl_emu_now_ms(m->emu);

    zl_models_answer_cleanup(&t->a);
    t->a = *a;
    t->over_minute = false; /* the script's answer wins over the quota's failure */
    memset(a, 0, sizeof *a);
    if (t->a.latency_ms >= 0)
        t->due_ms = now + t->a.latency_ms;
    if (t->phase >= PH_DONE) { /* finished: the new answer at once (or running again) */
        cJSON_Delete(t->outcome);
        t->outcome = NULL;
        t->phase = PH_RUNNING;
        if (held(t) || t->due_ms > now) {
            zl_models_journal_task(t);
            zl_models_arm(t);
        } else
            zl_models_finish(t);
    } else if (t->phase == PH_RUNNING)
        zl_models_arm(t);
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddStringToObject(*reply, "jobid", t->jobid);
    cJSON_AddStringToObject(*reply, "phase", zl_models_phases[t->phase]);
    return 200;
}

/* POST /_zonelab/models/reply */
static unsigned control_reply(struct zl_models *m, const cJSON *body, cJSON **reply, char *why,
                              size_t whylen)
{
    const cJSON *mo = zl_json_get(body, "model"), *id = zl_json_get(body, "msgid"),
                *job = zl_json_get(body, "jobid"), *times = zl_json_get(body, "times");
    int k = model_named(cJSON_IsString(mo) ? mo->valuestring : NULL);
    bool per_message;
    answer a;
    rule *r;
    unsigned st;
    task *t = NULL;

    if (k < 0 || own((model_kind)k))
        return zl_sdk_refuse(why, whylen, 400,
                             "model is sentiment, spam, summary, customer_tag, recommend_dialog or "
                             "ww_model (own models and programs answer for themselves)");
    if ((id && (!cJSON_IsString(id) || !*id->valuestring)) ||
        (job && (!cJSON_IsString(job) || !*job->valuestring)))
        return zl_sdk_refuse(why, whylen, 400, "msgid and jobid are non-empty strings");
    if (id && job)
        return zl_sdk_refuse(why, whylen, 400, "give msgid or jobid, not both");
    if (times && (!zl_json_is_int(times, 1, INT32_MAX) || job))
        return zl_sdk_refuse(why, whylen, 400,
                             "times is a positive integer, for a rule (not a jobid)");
    if (job) {
        t = zl_strmap_get(m->tasks, job->valuestring);
        if (!t)
            return zl_sdk_refuse(why, whylen, 404, "jobid is not a model task");
        if ((int)t->model != k)
            return zl_sdk_refuse(why, whylen, 409, "jobid is a %s task",
                                 zl_models_info[t->model].name);
    }
    per_message = id && zl_models_info[k].result_key;
    if ((st = parse_answer(body, (model_kind)k, per_message, &a, why, whylen)) != 200) {
        zl_models_answer_cleanup(&a);
        return st;
    }
    if (t)
        return reply_task(m, t, &a, reply);
    if (!(r = calloc(1, sizeof *r)) || (id && !(r->msgid = strdup(id->valuestring)))) {
        free(r);
        zl_models_answer_cleanup(&a);
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    }
    r->model = (model_kind)k;
    r->a = a;
    r->times = times ? (long long)times->valuedouble : a.status == ST_DONE ? -1 : 1;
    *m->rules_tail = r;
    m->rules_tail = &r->next;
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddStringToObject(*reply, "model", zl_models_info[k].name);
    cJSON_AddNumberToObject(*reply, "times", (double)r->times);
    return 200;
}

/* models/config per_minute_overflow, indexed by ZL_MODELS_OVER_* */
static const char *const OVERFLOWS[] = {"delay", "fail", "refuse", NULL};

static cJSON *config_json(const struct zl_models *m)
{
    const zl_emu_models_options *o = &m->emu->opt.models;
    cJSON *c = cJSON_CreateObject(), *b;
    size_t k;

    cJSON_AddNumberToObject(c, "latency_ms", (double)o->latency_ms);
    b = cJSON_AddObjectToObject(c, "daily_budget");
    for (k = 0; k < M_COUNT; k++)
        cJSON_AddNumberToObject(b, zl_models_info[k].name, (double)o->daily_budget[k]);
    cJSON_AddNumberToObject(c, "per_minute_budget", (double)o->per_minute_budget);
    cJSON_AddStringToObject(c, "per_minute_overflow", OVERFLOWS[o->per_minute_overflow]);
    cJSON_AddNumberToObject(c, "duplicate_errcode", o->duplicate_errcode);
    cJSON_AddBoolToObject(c, "ww_model_text_only", o->ww_model_text_only);
    cJSON_AddNumberToObject(c, "ack_timeout_ms", (double)o->ack_timeout_ms);
    cJSON_AddNumberToObject(c, "pending_errcode", o->pending_errcode);
    return c;
}

/* POST /_zonelab/models/config: every field optional, all checked before any applies. The
 * settings are the options models.* (emu/options.c): this is their older face. */
static unsigned control_config(struct zl_models *m, const cJSON *body, cJSON **reply, char *why,
                               size_t whylen)
{
    zl_emu_models_options *o = &m->emu->opt.models;
    const cJSON *lat = zl_json_get(body, "latency_ms"), *bud = zl_json_get(body, "daily_budget"),
                *pm = zl_json_get(body, "per_minute_budget"),
                *over = zl_json_get(body, "per_minute_overflow"),
                *dup = zl_json_get(body, "duplicate_errcode"),
                *txt = zl_json_get(body, "ww_model_text_only"),
                *ack = zl_json_get(body, "ack_timeout_ms"),
                *pend = zl_json_get(body, "pending_errcode"), *e;
    static const char *const KEYS[] = {"latency_ms",          "daily_budget",
                                       "per_minute_budget",   "duplicate_errcode",
                                       "ww_model_text_only",  "ack_timeout_ms",
                                       "pending_errcode",     "defaults",
                                       "per_minute_overflow", NULL};

    cJSON_ArrayForEach(e, body)
    {
        if (!zl_models_in_list(KEYS, e->string))
            return zl_sdk_refuse(why, whylen, 400,
                                 "unknown key %s (keys: latency_ms, daily_budget, "
                                 "per_minute_budget, per_minute_overflow, duplicate_errcode, "
                                 "ww_model_text_only, ack_timeout_ms, pending_errcode, "
                                 "defaults)",
                                 e->string);
    }
    if (lat && !zl_json_is_int(lat, 0, 86400000LL))
        return zl_sdk_refuse(why, whylen, 400, "latency_ms is 0 to 86400000");
    if (bud && !cJSON_IsObject(bud))
        return zl_sdk_refuse(why, whylen, 400, "daily_budget is {model: n}");
    cJSON_ArrayForEach(e, bud)
    {
        if (model_named(e->string) < 0 || !zl_json_is_int(e, 0, 1000000000LL))
            return zl_sdk_refuse(why, whylen, 400,
                                 "daily_budget.%s: a model name and 0 to 1000000000", e->string);
    }
    if (pm && !zl_json_is_int(pm, 0, 1000000000LL))
        return zl_sdk_refuse(why, whylen, 400, "per_minute_budget is 0 to 1000000000");
    if (over && !(cJSON_IsString(over) && zl_models_in_list(OVERFLOWS, over->valuestring)))
        return zl_sdk_refuse(why, whylen, 400,
                             "per_minute_overflow is \"delay\", \"fail\" or \"refuse\"");
    if (dup && !zl_json_is_int(dup, 710601, 710601) && !zl_json_is_int(dup, 710613, 710613))
        return zl_sdk_refuse(why, whylen, 400, "duplicate_errcode is 710613 or 710601");
    if (txt && !cJSON_IsBool(txt))
        return zl_sdk_refuse(why, whylen, 400, "ww_model_text_only is a bool");
    if (ack && !zl_json_is_int(ack, 1, 600000))
        return zl_sdk_refuse(why, whylen, 400, "ack_timeout_ms is 1 to 600000");
    if (pend && !zl_json_is_int(pend, 710642, 710642) && !zl_json_is_int(pend, 790023, 790023))
        return zl_sdk_refuse(why, whylen, 400, "pending_errcode is 710642 or 790023");
    if (cJSON_IsTrue(zl_json_get(body, "defaults")))
        zl_models_config_default(m);
    if (lat)
        o->latency_ms = (long long)lat->valuedouble;
    cJSON_ArrayForEach(e, bud)
    {
        o->daily_budget[model_named(e->string)] = (long long)e->valuedouble;
    }
    if (pm)
        o->per_minute_budget = (long long)pm->valuedouble;
    for (int v = 0; over && OVERFLOWS[v]; v++)
        if (!strcmp(OVERFLOWS[v], over->valuestring))
            o->per_minute_overflow = v;
    if (dup)
        o->duplicate_errcode = (int)dup->valuedouble;
    if (txt)
        o->ww_model_text_only = cJSON_IsTrue(txt);
    if (ack)
        o->ack_timeout_ms = (long long)ack->valuedouble;
    if (pend)
        o->pending_errcode = (int)pend->valuedouble;
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddItemToObject(*reply, "config", config_json(m));
    return 200;
}

static zl_corp *corp_named(zl_emu *emu, const cJSON *body)
{
    const cJSON *v = zl_json_get(body, "corpid");

    if (!v)
        return &emu->world->corps[0];
    return cJSON_IsString(v) ? zl_world_corp(emu->world, v->valuestring) : NULL;
}

static bool str_ok(const cJSON *v, bool empty_ok)
{
    return cJSON_IsString(v) && (empty_ok || *v->valuestring) &&
           strlen(v->valuestring) <= ZL_WORLD_MAX_NAME;
}

/* POST /_zonelab/models/tags: the corp's customer tag library (replaced). */
static unsigned control_tags(struct zl_models *m, const cJSON *body, cJSON **reply, char *why,
                             size_t whylen)
{
    zl_corp *c = corp_named(m->emu, body);
    const cJSON *l = zl_json_get(body, "tag_group_list"), *g, *t;
    cJSON *lib;
    size_t ci;
    int i = 0, k;

    if (!c)
        return zl_sdk_refuse(why, whylen, 404, "corpid is not a corp of the world");
    if (!cJSON_IsArray(l))
        return zl_sdk_refuse(
            why, whylen, 400,
            "tag_group_list is [{group_id, group_name, tag_list:[{tag_id, tag_name}]}]");
    cJSON_ArrayForEach(g, l)
    {
        if (!str_ok(zl_json_get(g, "group_id"), false) ||
            !str_ok(zl_json_get(g, "group_name"), true) ||
            !cJSON_IsArray(zl_json_get(g, "tag_list")))
            return zl_sdk_refuse(why, whylen, 400,
                                 "tag_group_list[%d] needs group_id, group_name and tag_list", i);
        k = 0;
        cJSON_ArrayForEach(t, zl_json_get(g, "tag_list"))
        {
            if (!str_ok(zl_json_get(t, "tag_id"), false) ||
                !str_ok(zl_json_get(t, "tag_name"), false))
                return zl_sdk_refuse(why, whylen, 400,
                                     "tag_group_list[%d].tag_list[%d] needs tag_id and tag_name", i,
                                     k);
            k++;
        }
        i++;
    }
    if (!(lib = cJSON_CreateArray()))
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    cJSON_ArrayForEach(g, l)
    {
        cJSON *o = cJSON_CreateObject(), *tl;

        cJSON_AddStringToObject(o, "group_id", zl_json_get(g, "group_id")->valuestring);
        cJSON_AddStringToObject(o, "group_name", zl_json_get(g, "group_name")->valuestring);
        tl = cJSON_AddArrayToObject(o, "tag_list");
        cJSON_ArrayForEach(t, zl_json_get(g, "tag_list"))
        {
            cJSON *ot = cJSON_CreateObject();

            cJSON_AddStringToObject(ot, "tag_id", zl_json_get(t, "tag_id")->valuestring);
            cJSON_AddStringToObject(ot, "tag_name", zl_json_get(t, "tag_name")->valuestring);
            cJSON_AddItemToArray(tl, ot);
        }
        cJSON_AddItemToArray(lib, o);
    }
    ci = corp_index(m->emu, c);
    cJSON_Delete(m->tags[ci]);
    m->tags[ci] = lib;
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddNumberToObject(*reply, "groups", i);
    return 200;
}

/* POST /_zonelab/models/knowledge: the fragments of a knowledge set (an empty list forgets). */
static unsigned control_knowledge(struct zl_models *m, const cJSON *body, cJSON **reply, char *why,
                                  size_t whylen)
{
    zl_corp *c = corp_named(m->emu, body);
    const cJSON *kb = zl_json_get(body, "kb_id"), *l = zl_json_get(body, "fragments"), *f;
    char key[ZL_WORLD_MAX_ID + MAX_KB_ID + 2];
    cJSON *copy;
    int n;

    if (!c)
        return zl_sdk_refuse(why, whylen, 404, "corpid is not a corp of the world");
    if (!cJSON_IsString(kb) || !*kb->valuestring || strlen(kb->valuestring) > MAX_KB_ID)
        return zl_sdk_refuse(why, whylen, 400, "kb_id is a string of 1 to %d bytes", MAX_KB_ID);
    if (!cJSON_IsArray(l))
        return zl_sdk_refuse(why, whylen, 400, "fragments is a list of strings");
    cJSON_ArrayForEach(f, l)
    {
        if (!cJSON_IsString(f))
            return zl_sdk_refuse(why, whylen, 400, "fragments is a list of strings");
    }
    snprintf(key, sizeof key, "%s\x1f%s", c->corpid, kb->valuestring);
    n = cJSON_GetArraySize(l);
    if (n == 0)
        zl_strmap_del(m->knowledge, key);
    else if (!(copy = cJSON_Duplicate(l, 1)) || zl_strmap_put(m->knowledge, key, copy) != 0) {
        cJSON_Delete(copy);
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    }
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddStringToObject(*reply, "kb_id", kb->valuestring);
    cJSON_AddNumberToObject(*reply, "fragments", n);
    return 200;
}

/* GET /_zonelab/models: configuration, rules and tasks. */
static unsigned control_list(struct zl_models *m, cJSON **reply, char *why, size_t whylen)
{
    size_t n;
    void **v = zl_strmap_values(m->tasks, zl_models_by_creation, &n);
    cJSON *tasks;
    size_t i, rules = 0;
    rule *r;

    if (!v && zl_strmap_count(m->tasks))
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    for (r = m->rules; r; r = r->next)
        rules += r->times != 0;
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddItemToObject(*reply, "config", config_json(m));
    cJSON_AddNumberToObject(*reply, "rules", (double)rules);
    tasks = cJSON_AddArrayToObject(*reply, "tasks");
    for (i = 0; i < n; i++) {
        const task *t = v[i];
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "jobid", t->jobid);
        cJSON_AddStringToObject(o, "model", zl_models_info[t->model].name);
        cJSON_AddStringToObject(o, "corpid", t->app->corp->corpid);
        cJSON_AddNumberToObject(o, "agentid", t->app->app->agentid);
        cJSON_AddStringToObject(o, "phase", zl_models_phases[t->phase]);
        cJSON_AddNumberToObject(o, "messages", (double)t->n);
        cJSON_AddNumberToObject(o, "created_ms", (double)t->created_ms);
        cJSON_AddNumberToObject(o, "start_ms", (double)t->start_ms);
        cJSON_AddNumberToObject(o, "due_ms", (double)t->due_ms);
        cJSON_AddBoolToObject(o, "scripted", t->a.set);
        if (t->target) {
            cJSON_AddStringToObject(o, "target", t->target->prog->program_id);
            cJSON_AddStringToObject(o, "ability_id",
                                    t->target->prog->abilities[t->ability].ability_id);
        }
        if (cJSON_IsNumber(zl_json_get(t->outcome, "errcode")))
            cJSON_AddNumberToObject(o, "errcode", zl_json_get(t->outcome, "errcode")->valuedouble);
        cJSON_AddItemToArray(tasks, o);
    }
    free(v);
    return 200;
}

unsigned zl_models_control(zl_emu *emu, const char *verb, const cJSON *body, cJSON **reply,
                           char *why, size_t whylen)
{
    struct zl_models *m = zl_models_state(emu);
    cJSON *j;
    unsigned st;

    *reply = NULL;
    if (!m)
        return zl_sdk_refuse(why, whylen, 503, "out of memory");
    if (!strcmp(verb, "") || !strcmp(verb, "tasks"))
        return control_list(m, reply, why, whylen);
    if (!cJSON_IsObject(body))
        return zl_sdk_refuse(why, whylen, 400, "the body must be a JSON object");
    if (!strcmp(verb, "reply"))
        st = control_reply(m, body, reply, why, whylen);
    else if (!strcmp(verb, "clear")) {
        zl_models_rules_clear(m);
        *reply = cJSON_CreateObject();
        cJSON_AddBoolToObject(*reply, "ok", 1);
        st = 200;
    } else if (!strcmp(verb, "config"))
        st = control_config(m, body, reply, why, whylen);
    else if (!strcmp(verb, "tags"))
        st = control_tags(m, body, reply, why, whylen);
    else if (!strcmp(verb, "knowledge"))
        st = control_knowledge(m, body, reply, why, whylen);
    else
        return zl_sdk_refuse(
            why, whylen, 404,
            "no such models endpoint: reply, clear, config, tags, knowledge, tasks");
    if (st == 200) {
        j = cJSON_Duplicate(body, 1);
        cJSON_AddStringToObject(j, "verb", verb);
        zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", "models", j);
    }
    return st;
}
