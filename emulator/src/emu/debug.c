/* debug: the zone's debug mode (doc 54809, 54810): who may open it, the console's debug token
 * and debug URL (接收事件服务器), and whether a program's callbacks go to that URL. */
#include <stdio.h>
#include <string.h>

#include "emu/emu.h"

int zl_emu_debug_allowed(const zl_app_rt *a)
{
    switch (a->app->kind) {
    case ZL_APP_THIRD_PARTY: /* "对于第三方应用，仅通过测试安装的企业可开启调试模式" */
        return a->auth.test ? 0 : 710672;
    case ZL_APP_CUSTOM: /* "对于代开发应用，企业必须为服务商的测试企业" */
        return a->corp->test_corp ? 0 : 710672;
    default: /* self-built: the vendor states no restriction (unknown) */
        return 0;
    }
}

void zl_emu_debug_token_new(zl_emu *emu, zl_prog_rt *p)
{
    memcpy(p->debug_token, "dbg_", 4);
    zl_engine_random_hex(emu->engine, p->debug_token + 4, 16);
    p->debug_token_expires_ms = zl_emu_now_ms(emu) + emu->opt.debug_token_ttl_s * 1000;
}

static void journal_program(zl_emu *emu, const zl_prog_rt *p, const char *kind, cJSON *j)
{
    cJSON_AddStringToObject(j, "corpid", p->corp->corpid);
    cJSON_AddStringToObject(j, "program_id", p->prog->program_id);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", kind, j);
}

bool zl_emu_debug_token_fetch(zl_emu *emu, zl_prog_rt *p)
{
    bool renewed = p->debug_token_expires_ms <= zl_emu_now_ms(emu);
    cJSON *j = cJSON_CreateObject();

    if (renewed)
        zl_emu_debug_token_new(emu, p);
    cJSON_AddStringToObject(j, "debug_token", p->debug_token);
    cJSON_AddNumberToObject(j, "expires_ms", (double)p->debug_token_expires_ms);
    cJSON_AddBoolToObject(j, "renewed", renewed);
    journal_program(emu, p, "debug_token", j);
    return renewed;
}

int zl_emu_debug_url_set(zl_emu *emu, zl_prog_rt *p, const char *url)
{
    cJSON *j;

    if (*url && !zl_world_url_ok(url))
        return -1;
    snprintf(p->debug_url, sizeof p->debug_url, "%s", url);
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "debug_url", p->debug_url);
    journal_program(emu, p, "debug_url", j);
    return 0;
}

bool zl_emu_debug_forwarding(const zl_prog_rt *p)
{
    return p->debug_app_open && p->debug_sdk_open && p->debug_url[0];
}
