/* models: WeCom's models as tasks (sdk-api.md §6): the SDK APIs are in models.c (the tasks),
 * models_eval.c (their answers) and models_own.c (own model and program tasks); this is what
 * the rest of the emulator uses: the control face's side (models_control.c) and the report of
 * an own task. Its state is a part of the emulator (zl_emu_part). */
#ifndef ZL_MODELS_H
#define ZL_MODELS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "emu/emu.h"

/*
 * POST /_zonelab/models/<verb> (reply, clear, config, tags, knowledge) with body (an object),
 * or GET /_zonelab/models (verb "" or "tasks", body NULL): docs/control-api.md. Returns 200
 * with *reply the answer (owned by the caller), or a 4xx/503 status with one sentence in why.
 */
unsigned zl_models_control(zl_emu *emu, const char *verb, const cJSON *body, cJSON **reply,
                           char *why, size_t whylen);
/* program_async_job_call_back accepted job's report: ends its own model / program task. */
void zl_models_on_report(zl_emu *emu, const zl_job *job);

#endif
