/* kb: knowledge sets (sdk-api.md §5, events.md §3): the SDK APIs are in kb_api.c; this is
 * what the rest of the emulator uses: the console's side for the control face (kb_control.c)
 * and a check for APIs that take a kb_id (kb.c). Its state is a part of the emulator
 * (zl_emu_part). */
#ifndef ZL_KB_H
#define ZL_KB_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "emu/emu.h"

/*
 * One console action on corp c, the body of POST /_zonelab/knowledge (docs/control-api.md):
 * "action" is create, authorise, revoke, delete, grant, learn_result or list. Returns 200
 * with *reply the answer ({"ok":true,...}, owned by the caller), or a 4xx status with one
 * sentence in why and *reply NULL. Events it sends are listed in the answer and journaled.
 */
unsigned zl_kb_control(zl_emu *emu, zl_corp *c, const cJSON *body, cJSON **reply, char *why,
                       size_t whylen);

/*
 * Whether app a may use knowledge set kb_id in a task (create_*_task with kb_id): 0 when the
 * set is one of a's corp, not deleted and authorised to a; else the WeCom code: 710643 (a
 * has no knowledge-set grant), 800000 (no such set in the corp), 790034 (deleted), 790024
 * (not authorised to a).
 */
int zl_kb_usable(zl_emu *emu, const zl_app_rt *a, const char *kb_id);

#endif
