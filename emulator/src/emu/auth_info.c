/* auth_info: what an app reads of its authorisation: get_corp_auth_info's auth_edition_list
 * (doc 55567) and the editions get_auth_user_list gives each effective member (doc 52569). */
#include "emu/emu.h"

/* Whether an edition of this status (now) lets the provider use the archive. */
static bool in_effect(zl_auth_status s)
{
    return s == ZL_AUTH_TRIAL || s == ZL_AUTH_PAID || s == ZL_AUTH_FREE;
}

size_t zl_emu_member_editions(zl_emu *emu, zl_app_rt *a, size_t member, int out[3])
{
    const zl_member *m;
    bool level[4] = {false};
    size_t i, n = 0;
    int e;

    if (member >= a->corp->member_count || !a->auth.effective[member])
        return 0;
    m = &a->corp->members[member];
    for (i = 0; i < a->auth.edition_count; i++) {
        const zl_edition *ed = &a->auth.editions[i];

        if (!in_effect(zl_emu_edition_status(emu, ed)))
            continue;
        e = ed->edition < m->edition ? ed->edition : m->edition;
        if (e >= ZL_EDITION_INTERNAL && e <= ZL_EDITION_VOICE)
            level[e] = true;
    }
    for (e = ZL_EDITION_INTERNAL; e <= ZL_EDITION_VOICE; e++)
        if (level[e])
            out[n++] = e;
    return n;
}

/* The app's auth_scope: its scope lists, or for the corp's own scope the members in it. */
static cJSON *scope_json(const zl_app_rt *a)
{
    const zl_app_auth *u = &a->auth;
    const zl_corp *c = a->corp;
    cJSON *o = cJSON_CreateObject(), *users, *depts, *tags;
    size_t i;

    users = cJSON_AddArrayToObject(o, "userid_list");
    depts = cJSON_AddArrayToObject(o, "department_id_list");
    tags = cJSON_AddArrayToObject(o, "tag_id_list");
    if (!u->scope_given) {
        for (i = 0; i < c->member_count; i++)
            if (c->members[i].in_scope)
                cJSON_AddItemToArray(users, cJSON_CreateString(c->members[i].userid));
        return o;
    }
    for (i = 0; i < u->userid_count; i++)
        cJSON_AddItemToArray(users, cJSON_CreateString(u->userids[i]));
    for (i = 0; i < u->department_count; i++)
        cJSON_AddItemToArray(depts, cJSON_CreateNumber(u->department_ids[i]));
    for (i = 0; i < u->tag_count; i++)
        cJSON_AddItemToArray(tags, cJSON_CreateNumber(u->tag_ids[i]));
    return o;
}

cJSON *zl_emu_auth_edition_list(zl_emu *emu, zl_app_rt *a)
{
    const zl_app_auth *u = &a->auth;
    cJSON *list = cJSON_CreateArray();
    size_t i, authorised = 0;

    for (i = 0; i < a->corp->member_count; i++)
        authorised += u->in_scope[i];
    for (i = 0; list && i < u->edition_count; i++) {
        const zl_edition *ed = &u->editions[i];
        cJSON *e = cJSON_CreateObject();

        cJSON_AddNumberToObject(e, "edition", ed->edition);
        cJSON_AddItemToObject(e, "auth_scope", scope_json(a));
        cJSON_AddNumberToObject(e, "status", zl_emu_edition_status(emu, ed));
        if (ed->begin_time) /* "如果是试用期已到期后授权且未购买的版本，则此字段不返回" */
            cJSON_AddNumberToObject(e, "begin_time", (double)ed->begin_time);
        if (ed->end_time)
            cJSON_AddNumberToObject(e, "end_time", (double)ed->end_time);
        cJSON_AddNumberToObject(e, "msg_duration_days", u->msg_duration_days);
        cJSON_AddNumberToObject(e, "auth_user_count", (double)authorised);
        cJSON_AddItemToArray(list, e);
    }
    return list;
}
