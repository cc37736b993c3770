/* export: conversation export jobs (sdk-api.md §7, events.md §3): the SDK APIs are in
 * export.c; this is what the rest of the emulator uses: the control face's side (the
 * display component's codes, scripted results, settings). Its state is a part of the emulator
 * (zl_emu_part). */
#ifndef ZL_EXPORT_H
#define ZL_EXPORT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "emu/emu.h"

/*
 * POST /_zonelab/export/<verb> (code, result, clear, config) with body (an object), or
 * GET /_zonelab/export (verb "" or "jobs", body NULL): docs/control-api.md. Returns 200 with
 * *reply the answer (owned by the caller), or a 4xx/503 status with one sentence in why and
 * *reply NULL.
 */
unsigned zl_export_control(zl_emu *emu, const char *verb, const cJSON *body, cJSON **reply,
                           char *why, size_t whylen);

#endif
