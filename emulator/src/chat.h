/* chat: what the rest of the emulator uses from api_chat.c: the display component's
 * sensitive-info settings (spec app-api.md §14), which the SDK face and the app face both
 * serve over one state (emu->hide_config). */
#ifndef ZL_CHAT_H
#define ZL_CHAT_H

#include <cjson/cJSON.h>

#include "emu.h"

/*
 * set_hide_sensitiveinfo_config for app a: req (borrowed, read only, an object) names the member by
 * userid or open_userid and holds config {hide_mobile, hide_idcard, hide_bankno}; absent
 * flags are false. Returns the reply ({"errcode","errmsg"}, owned by the caller; errors carry
 * req_id as the hint).
 */
cJSON *zl_chat_set_hide_config(zl_emu *emu, zl_app_rt *a, cJSON *req, const char *req_id);
/* get_hide_sensitiveinfo_config for app a: the reply with config (every flag false until set),
 * owned by the caller. */
cJSON *zl_chat_get_hide_config(zl_emu *emu, zl_app_rt *a, cJSON *req, const char *req_id);

#endif
