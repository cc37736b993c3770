/* chat_consent: a customer's decision on archiving as the admin side records it (the control
 * face's POST /_zonelab/consent), and the chat_archive_audit_approved events it raises. */
#include <stdio.h>

#include "api/chat.h"
#include "api/sdk_api.h"

cJSON *zl_chat_consent(zl_emu *emu, zl_corp *c, zl_consent *d, char *why, size_t whylen)
{
    int64_t now_s = zl_emu_now_ms(emu) / 1000;
    const char *type;
    const zl_member *m;
    const zl_group *g;
    cJSON *reply, *events, *j;
    bool in_scope; /* the corp's own scope, for the journal */
    size_t i;

    d->change_time = now_s;
    if (zl_corp_consent_set(emu->world, c, d, why, whylen) != 0)
        return NULL;
    m = d->userid ? zl_corp_member(c, d->userid) : NULL;
    g = d->chatid ? zl_corp_group(c, d->chatid) : NULL;
    in_scope = d->userid ? m && m->in_scope : zl_group_in_scope(c, NULL, g);
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "corpid", c->corpid);
    cJSON_AddStringToObject(j, d->userid ? "userid" : "chatid", d->userid ? d->userid : d->chatid);
    cJSON_AddStringToObject(j, "external_userid", d->external_userid);
    cJSON_AddStringToObject(j, "status", d->agree ? "Agree" : "Disagree");
    cJSON_AddBoolToObject(j, "in_scope", in_scope);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", "consent", j);
    if (!(reply = cJSON_CreateObject())) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    cJSON_AddBoolToObject(reply, "ok", 1);
    cJSON_AddNumberToObject(reply, "change_time", (double)now_s);
    events = cJSON_AddArrayToObject(reply, "events");
    type = d->userid ? "chat_archive_audit_approved_single" : "chat_archive_audit_approved_room";
    for (i = 0; d->agree && i < emu->app_count; i++) {
        zl_app_rt *a = &emu->apps[i];
        cJSON *o;

        /* to the apps whose archive is in effect and whose scope holds the member or group */
        if (a->corp != c || !a->receiver || !a->app->data_permission ||
            zl_emu_app_archive_check(emu, a) != 0 ||
            !(d->userid ? zl_scope_has(c, zl_emu_app_scope(a), m)
                        : zl_group_in_scope(c, zl_emu_app_scope(a), g)))
            continue;
        o = cJSON_CreateObject();
        if (d->userid)
            cJSON_AddStringToObject(o, "userid", d->userid);
        cJSON_AddStringToObject(o, "external_userid", d->external_userid);
        if (d->chatid)
            cJSON_AddStringToObject(o, "chatid", d->chatid);
        zl_emu_app_event(emu, a, type, "chat_archive_audit_approved", o, events);
    }
    return reply;
}
