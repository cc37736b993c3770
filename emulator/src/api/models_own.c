/* api_models_own: own model and program tasks (sdk-api.md §6.3 to §6.5): create_model_task and
 * create_program_task, the filled input sent to the target program, its acknowledgement and
 * its report (zl_models_on_report), and get_model_task_result / get_program_task_result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/models.h"
#include "api/models_int.h"
#include "wecom/errcode.h"
#include "wecom/placeholder.h"

#define MAX_DEBUG_TEXT (4 * MAX_INPUT_CHARS) /* bytes of one debug_info value */

/* ---- own model / program tasks ---- */

/*
 * create_model_task and create_program_task (sdk-api.md §6.3 to §6.5): the target's ability
 * input protocol is filled (placeholder.h) and sent to a replica of the target as an async
 * call_type 1 request; the target acknowledges within ack_timeout_ms and reports the result
 * with program_async_job_call_back, which ends the task (zl_models_on_report).
 */

static bool debug_on(const zl_prog_rt *p)
{
    return p->debug_app_open && p->debug_sdk_open;
}

static bool associated(const zl_prog_rt *p, uint32_t agentid)
{
    size_t i;

    for (i = 0; i < p->prog->agentid_count; i++)
        if (p->prog->agentids[i] == agentid)
            return true;
    return false;
}

/* model_id or program_id, and ability_id: the target and its ability into t. */
static cJSON *target_arg(sdk_ctx *x, task *t)
{
    bool model = t->model == M_MODEL;
    const char *key = model ? "model_id" : "program_id", *id = NULL, *ab = NULL;
    zl_prog_rt *p;
    cJSON *e;
    size_t i;

    if ((e = zl_sdk_opt_str(x, key, ZL_WORLD_MAX_ID, &id)) ||
        (e = zl_sdk_opt_str(x, "ability_id", 1024, &ab)))
        return e;
    if (!id || !*id)
        return zl_sdk_errf(x, 40058, "%s is required", key);
    if (!ab || !*ab)
        return zl_sdk_errf(x, 40058, "ability_id is required: an ability of the %s",
                           model ? "model" : "program");
    p = zl_emu_prog(x->emu, x->app->corp->corpid, id);
    if (model && (!p || p->prog->role != ZL_ROLE_MODEL))
        return zl_sdk_errf(x, 710635, "%s is not a model of corp %s", id, x->app->corp->corpid);
    if (!model && (!p || p->prog->role != ZL_ROLE_PROGRAM))
        return zl_sdk_errf(x, 710645, "%s is not a program of corp %s", id, x->app->corp->corpid);
    if (!associated(p, x->app->app->agentid))
        return zl_sdk_errf(x, 790020, "%s is not associated with app %u", id, x->app->app->agentid);
    if (!zl_models_well_formed_ability(ab))
        return zl_sdk_err(x, 710636, "ability_id is 1 to 64 characters of [A-Za-z0-9_.-]");
    for (i = 0; i < p->prog->ability_count && strcmp(p->prog->abilities[i].ability_id, ab); i++)
        ;
    if (i == p->prog->ability_count)
        return zl_sdk_errf(x, 710636, "%s has no ability %s", id, ab);
    t->target = p;
    t->ability = i;
    return NULL;
}

/* debug_info: {chat, chat_content, knowledge, tagjson} for a model, {chat, chat_content} for a
 * program; every value a string. Kept in t->args. */
static cJSON *debug_arg(sdk_ctx *x, task *t)
{
    static const char *const MODEL_KEYS[] = {"chat", "chat_content", "knowledge", "tagjson", NULL};
    static const char *const PROGRAM_KEYS[] = {"chat", "chat_content", NULL};
    bool model = t->model == M_MODEL;
    const cJSON *d = zl_json_get(x->req, "debug_info"), *v;

    if (!d)
        return NULL;
    if (!cJSON_IsObject(d))
        return zl_sdk_errf(x, 40058, "debug_info is an object {%s}",
                           model ? "chat, chat_content, knowledge, tagjson" : "chat, chat_content");
    cJSON_ArrayForEach(v, d)
    {
        if (!zl_models_in_list(model ? MODEL_KEYS : PROGRAM_KEYS, v->string))
            return zl_sdk_errf(x, 40058, "debug_info of %s has only %s", x->inv.api,
                               model ? "chat, chat_content, knowledge and tagjson"
                                     : "chat and chat_content");
        if (!cJSON_IsString(v) || strlen(v->valuestring) > MAX_DEBUG_TEXT)
            return zl_sdk_errf(x, 40058, "debug_info.%s is a string of at most %d bytes", v->string,
                               MAX_DEBUG_TEXT);
    }
    cJSON_AddItemToObject(t->args, "debug_info", cJSON_Duplicate(d, 1));
    return NULL;
}

static const char *debug_str(const task *t, const char *key)
{
    const cJSON *v = zl_json_get(zl_json_get(t->args, "debug_info"), key);

    return cJSON_IsString(v) ? v->valuestring : "";
}

/*
 * Fills the target ability's input protocol: from debug_info in debug mode, else from the
 * messages (their per-message failures into fails). Returns the number of messages that
 * could be used (debug mode: every one, as msg_list is ignored).
 */
static size_t own_input(struct zl_models *m, task *t, cJSON *fails, buf *input)
{
    const char *tpl = t->target->prog->abilities[t->ability].input_protocol;
    buf chat = {0}, contents = {0}, know = {0};
    zl_placeholder ph[4];
    char *tagjson = NULL;
    eval *ev = NULL;
    size_t i, n = 0, valid = 0;
    const char *last = "";

    if (t->debug) {
        ph[n++] = (zl_placeholder){"{chat}", debug_str(t, "chat")};
        ph[n++] = (zl_placeholder){"{chatcontent}", debug_str(t, "chat_content")};
        if (t->model == M_MODEL) {
            ph[n++] = (zl_placeholder){"{knowledge}", debug_str(t, "knowledge")};
            ph[n++] = (zl_placeholder){"{tagjson}", debug_str(t, "tagjson")};
        }
        zl_placeholder_expand(tpl, ph, n, t->escape_type, input);
        return t->n;
    }
    if (!(ev = calloc(t->n ? t->n : 1, sizeof *ev))) {
        input->oom = true;
        return 0;
    }
    for (i = 0; i < t->n; i++) {
        if ((ev[i].code = zl_models_check_item(t, &t->items[i], &ev[i])) != 0)
            zl_models_fail_item(fails, ev[i].code, t->items[i].msgid);
        else {
            valid++;
            last = ev[i].text;
        }
    }
    zl_models_chat_text(ev, t->n, false, &chat, &contents);
    ph[n++] = (zl_placeholder){"{chat}", zl_sbuf_text(&chat)};
    ph[n++] = (zl_placeholder){"{chatcontent}", zl_sbuf_text(&contents)};
    if (t->model == M_MODEL) {
        const char *kb = zl_models_arg_str(t, "kb_id");

        zl_models_knowledge_text(
            zl_models_knowledge_of(m, t->app->corp,
                                   kb ? kb : zl_models_arg_str(t, "service_kb_id")),
            last, &know);
        tagjson = zl_models_tag_json(m, t);
        ph[n++] = (zl_placeholder){"{knowledge}", zl_sbuf_text(&know)};
        ph[n++] = (zl_placeholder){"{tagjson}", tagjson ? tagjson : ""};
    }
    zl_placeholder_expand(tpl, ph, n, t->escape_type, input);
    input->oom = input->oom || chat.oom || contents.oom || know.oom;
    for (i = 0; i < t->n; i++)
        cJSON_Delete(ev[i].content);
    free(ev);
    free(chat.s);
    free(contents.s);
    free(know.s);
    cJSON_free(tagjson);
    return valid;
}

/* Ends an own task: the target's report (job), or a failure code when job is NULL. */
static void own_end(task *t, const zl_job *job, int code)
{
    cJSON *out = cJSON_CreateObject(), *fails = cJSON_DetachItemFromObject(t->args, "fails");

    cJSON_AddNumberToObject(out, "errcode", job ? 0 : code);
    cJSON_AddItemToObject(out, "fail_list", fails ? fails : cJSON_CreateArray());
    if (job) {
        cJSON_AddNumberToObject(out, "response_errcode", job->response_errcode);
        cJSON_AddStringToObject(out, "response_data", job->result ? job->result : "");
    }
    cJSON_Delete(t->outcome);
    t->outcome = out;
    t->phase = job ? PH_DONE : PH_FAILED;
    t->finished_ms = zl_emu_now_ms(t->m->emu);
    zl_models_journal_task(t);
}

static void journal_input(task *t, bool debug_ignored)
{
    zl_emu *emu = t->m->emu;
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "jobid", t->jobid);
    cJSON_AddStringToObject(j, "model", zl_models_info[t->model].name);
    cJSON_AddStringToObject(j, "corpid", t->app->corp->corpid);
    cJSON_AddNumberToObject(j, "agentid", t->app->app->agentid);
    cJSON_AddStringToObject(j, "target", t->target->prog->program_id);
    cJSON_AddStringToObject(j, "ability_id", t->target->prog->abilities[t->ability].ability_id);
    cJSON_AddNumberToObject(j, "escape_type", t->escape_type);
    cJSON_AddBoolToObject(j, "debug", t->debug);
    if (debug_ignored)
        cJSON_AddStringToObject(j, "note",
                                "debug_info ignored: the calling program is not in debug mode");
    cJSON_AddStringToObject(j, "input", t->input ? t->input : "");
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "sdk", "task_input", j);
}

static void on_ack(zl_emu *emu, const zl_call_result *res, void *ud)
{
    task *t = ud;
    zl_job *job = zl_strmap_get(emu->job_infos, t->job_info);
    cJSON *j;

    t->calling = false;
    if (job)
        job->dispatching = false;
    if (emu->closing)
        return;
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "req_id", t->req_id);
    cJSON_AddStringToObject(j, "program_id", t->target->prog->program_id);
    cJSON_AddStringToObject(j, "instance", t->target->replicas[res->replica].instance);
    cJSON_AddStringToObject(j, "ability_id", t->target->prog->abilities[t->ability].ability_id);
    cJSON_AddBoolToObject(j, "is_async", 1);
    cJSON_AddStringToObject(j, "jobid", t->jobid);
    cJSON_AddStringToObject(j, "job_info", t->job_info);
    zl_call_result_json(res, j);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "call", j);
    if (!res->errcode || t->phase >= PH_DONE) /* answered, or it reported already */
        return;
    if (job)
        job->state = 2; /* a late report gets 790010 */
    own_end(t, NULL, res->errcode);
}

/* Sends the task to a replica of its target (async call_type 1 with a fresh job_info). */
static void own_dispatch(task *t)
{
    zl_emu *emu = t->m->emu;
    zl_job *job = calloc(1, sizeof *job);
    zl_callback_args cb = {0};

    if (!job) {
        own_end(t, NULL, -1);
        return;
    }
    snprintf(job->jobid, sizeof job->jobid, "%s", t->jobid);
    memcpy(job->job_info, "ji_", 3);
    zl_engine_random_hex(emu->engine, job->job_info + 3, 24);
    memcpy(t->job_info, job->job_info, sizeof t->job_info);
    job->app = t->app;
    job->prog = t->target;
    job->ability = t->ability;
    job->created_ms = zl_emu_now_ms(emu);
    job->seq = zl_emu_seq(emu);
    job->task = true;
    job->dispatching = true;
    if (zl_strmap_put(emu->jobs, job->jobid, job) != 0) {
        free(job);
        own_end(t, NULL, -1);
        return;
    }
    if (zl_strmap_put(emu->job_infos, job->job_info, job) != 0) {
        zl_strmap_del(emu->jobs, t->jobid);
        own_end(t, NULL, -1);
        return;
    }
    cb.corpid = t->app->corp->corpid;
    cb.agentid = t->app->app->agentid;
    cb.call_type = 1;
    cb.is_async = true;
    cb.data = t->input;
    cb.job_info = job->job_info;
    cb.ability_id = t->target->prog->abilities[t->ability].ability_id;
    cb.notify_id = "";
    cb.req_id = t->req_id;
    t->replica = zl_emu_pick_replica(t->target);
    t->calling = true;
    if (zl_emu_call_program(emu, t->target, t->replica, &cb,
                            (long)t->m->emu->opt.models.ack_timeout_ms, on_ack, t) != 0) {
        t->calling = false;
        job->dispatching = false;
        job->state = 2;
        own_end(t, NULL, 710638);
    }
}

cJSON *zl_models_create_own(sdk_ctx *x, model_kind k)
{
    struct zl_models *m = zl_models_state(x->emu);
    cJSON *e = NULL, *fails = cJSON_CreateArray(), *msg_fails = NULL, *unknown = NULL;
    const char *skb = NULL;
    long long esc = 0;
    task *t = NULL;
    buf input = {0};
    bool caller_debug = debug_on(x->prog), ignored;
    size_t valid;

    if (!(t = zl_models_task_new(x, m, k))) {
        cJSON_Delete(fails);
        return zl_sdk_err(x, -1, "out of memory");
    }
    snprintf(t->req_id, sizeof t->req_id, "%s", x->req_id);
    if ((e = target_arg(x, t)) || (e = debug_arg(x, t)) ||
        (e = zl_sdk_opt_int(x, "escape_type", 0, 1, &esc)))
        goto fail;
    t->escape_type = (int)esc;
    if (k == M_MODEL) {
        if ((e = zl_models_kb_arg(x, false, t->args)) ||
            (e = zl_sdk_opt_str(x, "service_kb_id", MAX_KB_ID, &skb)) ||
            (e = zl_models_tag_groups_arg(x, m, false, t->args, &unknown)))
            goto fail;
        if (skb && *skb)
            cJSON_AddStringToObject(t->args, "service_kb_id", skb);
    }
    if ((e = zl_models_parse_msgs(x, m, t, true, fails)))
        goto fail;
    if (caller_debug && !debug_on(t->target)) {
        e = zl_sdk_errf(x, 710673, "%s is not in debug mode (the caller is)",
                        t->target->prog->program_id);
        goto fail;
    }
    t->debug = caller_debug;
    ignored = !caller_debug && zl_json_get(t->args, "debug_info");
    if ((e = zl_models_charge(x, m, k, t->n, zl_emu_now_ms(x->emu), NULL)))
        goto fail;
    if ((e = zl_models_task_keep(x, m, t)))
        goto fail;
    t->created_ms = zl_emu_now_ms(x->emu);
    t->due_ms = t->created_ms;
    t->phase = PH_RUNNING;
    msg_fails = cJSON_AddArrayToObject(t->args, "fails");
    valid = own_input(m, t, msg_fails, &input);
    t->input = input.oom ? NULL : input.s;
    if (input.oom)
        free(input.s);
    journal_input(t, ignored);
    if (!t->input)
        own_end(t, NULL, -1);
    else if (t->n > 0 && valid == 0)
        own_end(t, NULL, 710637);
    else if (zl_utf8_chars(t->input) > MAX_INPUT_CHARS)
        own_end(t, NULL, 790040);
    else {
        zl_models_journal_task(t);
        own_dispatch(t);
    }
    return zl_models_created(x, t, fails, unknown);
fail:
    zl_models_task_free(t);
    cJSON_Delete(fails);
    cJSON_Delete(unknown);
    return e;
}

void zl_models_on_report(zl_emu *emu, const zl_job *job)
{
    struct zl_models *m = zl_emu_part(emu, &zl_models_part);
    task *t = m ? zl_strmap_get(m->tasks, job->jobid) : NULL;

    if (t && own(t->model) && t->phase == PH_RUNNING && !strcmp(t->job_info, job->job_info))
        own_end(t, job, 0);
}

bool zl_models_own_overdue(const task *t)
{
    return t->phase == PH_RUNNING && !t->calling &&
           (!zl_strmap_get(t->m->emu->job_infos, t->job_info) ||
            zl_emu_now_ms(t->m->emu) - t->created_ms > t->m->emu->opt.job_ttl_s * 1000);
}

void zl_models_own_settle(task *t)
{
    zl_job *job;

    if (!zl_models_own_overdue(t))
        return;
    if ((job = zl_strmap_get(t->m->emu->job_infos, t->job_info)))
        job->state = 2;
    own_end(t, NULL, 710638);
}

cJSON *zl_models_result_own(sdk_ctx *x, task *t)
{
    const cJSON *f;
    cJSON *reply;
    int code;

    zl_models_own_settle(t);
    if (t->phase < PH_DONE)
        return zl_sdk_errf(x, t->m->emu->opt.models.pending_errcode, "%s has not reported yet",
                           t->target->prog->program_id);
    code = cJSON_IsNumber(zl_json_get(t->outcome, "errcode"))
               ? (int)zl_json_get(t->outcome, "errcode")->valuedouble
               : -1;
    reply = zl_errcode_reply(code, NULL, code ? x->req_id : NULL);
    cJSON_ArrayForEach(f, t->outcome)
    {
        if (strcmp(f->string, "errcode") && strcmp(f->string, "errmsg"))
            cJSON_AddItemToObject(reply, f->string, cJSON_Duplicate(f, 1));
    }
    return reply;
}
