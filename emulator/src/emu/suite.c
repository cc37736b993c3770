/* suite: the suites' command callbacks (指令回调): suite_ticket every 10 minutes and the
 * authorisation events create_auth, change_auth and cancel_auth. */
#include "emu/emu.h"

void zl_emu_suite_auth_event(zl_emu *emu, zl_app_rt *a, const char *info_type)
{
    cJSON *j;

    if (!a->app->suite)
        return;
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "suite_id", a->app->suite->suite_id);
    cJSON_AddStringToObject(j, "info_type", info_type);
    cJSON_AddStringToObject(j, "auth_corpid", a->corp->corpid);
    cJSON_AddNumberToObject(j, "agentid", a->app->agentid);
    cJSON_AddStringToObject(j, "outcome", "not delivered: suite callbacks are not sent yet");
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "callback", "suite", j);
}
