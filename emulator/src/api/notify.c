/* notify: what a program tells WeCom (sdk-api.md §8, §9): spec_notify_app (a notify_id and
 * program_notify to the app), program_async_job_call_back (an async job's result, or an own
 * model or program task's report), and the SDK half of debug mode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/models.h"
#include "core/json.h"
#include "api/sdk_api.h"
#include "wecom/errcode.h"
#include "wecom/protocol.h"

/* The first control byte of s (below 0x20, or 0x7f), or NULL. */
static const char *control_byte(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return s;
    return NULL;
}

/* "不超过64字节" (doc 53408): 64 bytes, or 128 with opt.notify_strict_64 off (the app side's
 * NotifyId bound, doc 53360). A control byte cannot travel in the app's XML callback: refused
 * rather than answered "ok" and dropped. */
static cJSON *api_spec_notify_app(zl_sdk_ctx *x)
{
    zl_emu *emu = x->emu;
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(x->req, "notify_scene");
    const char *nid, *bad;
    char gen[40];
    zl_notify *n;
    int scene = -1;
    cJSON *e, *reply;

    if ((e = zl_sdk_opt_str(x, "notify_id", 4096, &nid)))
        return e;
    if (nid && strlen(nid) > (emu->opt.notify_strict_64 ? 64u : 128u))
        return zl_sdk_errf(x, 40058, "notify_id is %zu bytes, longer than %u (doc 53408)",
                           strlen(nid), emu->opt.notify_strict_64 ? 64u : 128u);
    if (nid && (bad = control_byte(nid)))
        return zl_sdk_errf(x, 40058,
                           "notify_id holds control byte 0x%02x at byte %zu: it could not reach "
                           "the app in program_notify",
                           (unsigned)(unsigned char)*bad, (size_t)(bad - nid));
    if (!nid || !*nid) {
        zl_engine_random_hex(emu->engine, gen, 16);
        nid = gen;
    }
    if (zl_json_is_int(sv, 0, 255))
        scene = (int)sv->valuedouble;
    if (emu->opt.notify_id_reuse && nid != gen && (n = zl_strmap_get(emu->notify_ids, nid)) &&
        n->expires_ms > zl_emu_now_ms(emu)) /* option notify_id_reuse "refuse" */
        return zl_sdk_err(x, 40058, "notify_id is still valid; give another one");
    if (!(n = malloc(sizeof *n)))
        return zl_sdk_err(x, -1, "out of memory");
    *n = (zl_notify){.prog = x->prog,
                     .replica = x->replica,
                     .replica_known = x->replica_known,
                     .agentid = x->app->app->agentid,
                     .expires_ms = zl_emu_now_ms(emu) + emu->opt.notify_ttl_s * 1000,
                     .seq = zl_emu_seq(emu)};
    if (zl_strmap_put(emu->notify_ids, nid, n) != 0) {
        free(n);
        return zl_sdk_err(x, -1, "out of memory");
    }
    if (emu->notify_out && zl_appnotify_program_notify(emu->notify_out, x->app->corp->corpid,
                                                       x->app->app, nid, scene) != 0) {
        zl_strmap_del(emu->notify_ids, nid); /* nothing was done: no id either */
        return zl_sdk_errf(x, -1, "program_notify to app %u could not be sent",
                           (unsigned)x->app->app->agentid);
    }
    reply = zl_errcode_reply(0, NULL, NULL);
    cJSON_AddStringToObject(reply, "notify_id", nid);
    return reply;
}

static cJSON *api_program_async_job_call_back(zl_sdk_ctx *x)
{
    zl_job *job = zl_strmap_get(x->emu->job_infos, x->inv.job_info ? x->inv.job_info : "");
    long long code = 0;
    const char *result;
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(x->req, "errcode");
    zl_protocol_diag d;
    cJSON *e;
    int rc;

    if (!job || job->prog != x->prog)
        return zl_sdk_err(x, 790017, NULL);
    if (job->state != 0 || zl_emu_now_ms(x->emu) - job->created_ms > x->emu->opt.job_ttl_s * 1000)
        return zl_sdk_err(x, 790010, NULL);
    if (!ev)
        return zl_sdk_err(x, 40058, "errcode is required");
    if ((e = zl_sdk_opt_int(x, "errcode", INT32_MIN, INT32_MAX, &code)) ||
        (e = zl_sdk_opt_str(x, "result", 1u << 20, &result)))
        return e;
    if (result) {
        rc = zl_protocol_check_response(job->prog->output_ex[job->ability], result, strlen(result),
                                        &x->emu->opt.protocol, &d);
        if (rc) {
            cJSON *j = cJSON_CreateObject();

            cJSON_AddStringToObject(j, "jobid", job->jobid);
            cJSON_AddStringToObject(j, "program_id", job->prog->prog->program_id);
            cJSON_AddStringToObject(j, "ability_id",
                                    job->prog->prog->abilities[job->ability].ability_id);
            cJSON_AddNumberToObject(j, "errcode", rc);
            cJSON_AddStringToObject(j, "path", d.path);
            cJSON_AddStringToObject(j, "expected", d.expected);
            cJSON_AddStringToObject(j, "actual", d.actual);
            cJSON_AddStringToObject(j, "diagnosis", d.sentence);
            zl_journal_add(x->emu->journal, zl_emu_now_ms(x->emu), "sdk", "protocol_mismatch", j);
            return zl_sdk_err(x, rc, NULL);
        }
    }
    job->state = 1;
    job->response_errcode = (int)code;
    job->result = strdup(result ? result : "");
    if (job->task)
        zl_models_on_report(x->emu, job);
    return zl_errcode_reply(0, NULL, NULL);
}

/* SpecOpenDebugMode(debug_token, access_token): the SDK half of debug mode. */
static cJSON *api_open_debug_mode(zl_sdk_ctx *x)
{
    const char *dt, *at;
    zl_token *t;
    cJSON *e;

    if ((e = zl_sdk_opt_str(x, "debug_token", 128, &dt)) ||
        (e = zl_sdk_opt_str(x, "access_token", 512, &at)))
        return e;
    if (!dt || !at)
        return zl_sdk_err(x, 40058, "debug_token and access_token are required");
    if (!(t = zl_strmap_get(x->emu->tokens, at)) || t->app->corp != x->prog->corp)
        return zl_sdk_err(x, 40014, NULL);
    if (t->expires_ms <= zl_emu_now_ms(x->emu))
        return zl_sdk_err(x, 42001, NULL);
    if (zl_emu_debug_allowed(t->app))
        return zl_sdk_err(x, 710672, "the app's corp may not use debug mode (doc 54810)");
    if (strcmp(dt, x->prog->debug_token) != 0 ||
        x->prog->debug_token_expires_ms <= zl_emu_now_ms(x->emu))
        return zl_sdk_err(x, 710671, NULL);
    x->prog->debug_sdk_open = true;
    return zl_errcode_reply(0, NULL, NULL);
}

const zl_sdk_api zl_sdk_apis_notify[] = {
    {"spec_notify_app", api_spec_notify_app, 0},
    /* agentid 0: a task's report runs for no app */
    {"program_async_job_call_back", api_program_async_job_call_back, ZL_SDK_API_NO_APP},
    /* no corp context: the wire keys name the program */
    {"zonelab.open_debug_mode", api_open_debug_mode, ZL_SDK_API_NO_CORP},
    {NULL, NULL, 0},
};
