/* chat: what the rest of the emulator uses from api_chat.c: the display component's
 * sensitive-info settings (spec app-api.md §14), which the SDK face and the app face both
 * serve over one state (emu->hide_config). */
#ifndef ZL_CHAT_H
#define ZL_CHAT_H

#include <cjson/cJSON.h>

#include "emu/emu.h"

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

/*
 * A customer's decision on archiving, from the admin side (the control face; chat_consent.c):
 * records d (change_time is now) for get_agree_status_*, journals it, and when it is an
 * "Agree" sends chat_archive_audit_approved_single / _room to the receiving program of each app
 * of corp c whose archive is in effect and whose scope holds the member (or a member of the
 * group). Returns
 * {"ok":true, "change_time", "events":[...]} (owned), or NULL with one sentence in why.
 */
cJSON *zl_chat_consent(zl_emu *emu, zl_corp *c, zl_consent *d, char *why, size_t whylen);

#endif
