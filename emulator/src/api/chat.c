/* api_chat: the conversation-data SDK APIs beside sync_msg (group info, consent status, the
 * three searches) and the display component's sensitive-info settings. */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/chat.h"
#include "core/json.h"
#include "api/sdk_api.h"

/* Cursor kinds of the searches (msgsync.h numbers the core ones from 1). */
#define CURSOR_SEARCH_CHAT    ZL_CURSOR_SEARCH_CHAT /* kinds: one list in msgsync.h */
#define CURSOR_SEARCH_MSG     ZL_CURSOR_SEARCH_MSG
#define CURSOR_SEARCH_CONTACT ZL_CURSOR_SEARCH_CONTACT

#define LIMIT_DEFAULT 50  /* the searches' limit when 0 or absent */
#define LIMIT_MAX     100 /* and at most */
#define QUERY_MAX     256 /* query_word bytes (emulator default; WeCom states only minimums) */
#define ID_MAX        256 /* request ids longer than this are refused (world ids are <= 128) */
#define AGREE_MAX     100 /* get_agree_status_single items */
#define SENDERS_MAX   100 /* search_msg chat_info.sender_list */
#define SPAN_MAX_S    (31 * 86400)
#define WORDS_MAX     16 /* query words kept with skip_stop_words */
#define TEXTS_MAX     64 /* searchable texts of one message */

/* ---- replies ---- */

static cJSON *ok(zl_sdk_ctx *x)
{
    return zl_sdk_err(x, 0, NULL);
}

/* The calling app's archive scope: its effective members. */
static const zl_scope *scope_of(zl_sdk_ctx *x)
{
    return zl_emu_app_scope(x->app);
}

/* ---- request fields ---- */

/*
 * The string key of object o (path names o in messages, "" at the top): NULL when fine
 * (*out NULL when absent), else the 40058 reply. With required, absent or "" is 40058.
 */
static cJSON *str_at(zl_sdk_ctx *x, const cJSON *o, const char *path, const char *key, size_t max,
                     bool required, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    const char *dot = path[0] ? "." : "";

    *out = NULL;
    if (!v) {
        if (required)
            return zl_sdk_errf(x, 40058, "%s%s%s is required", path, dot, key);
        return NULL;
    }
    if (!cJSON_IsString(v))
        return zl_sdk_errf(x, 40058, "%s%s%s must be a string", path, dot, key);
    if (strlen(v->valuestring) > max)
        return zl_sdk_errf(x, 40058, "%s%s%s is longer than %zu bytes", path, dot, key, max);
    if (required && !v->valuestring[0])
        return zl_sdk_errf(x, 40058, "%s%s%s must not be empty", path, dot, key);
    *out = v->valuestring;
    return NULL;
}

/* A member id in o: open_userid (takes precedence) or userid; *out NULL when neither. */
static cJSON *member_key(zl_sdk_ctx *x, const cJSON *o, const char *path, const char **out)
{
    const char *open = NULL, *plain = NULL;
    cJSON *e;

    if ((e = str_at(x, o, path, "open_userid", ID_MAX, false, &open)) ||
        (e = str_at(x, o, path, "userid", ID_MAX, false, &plain)))
        return e;
    *out = open && *open ? open : plain && *plain ? plain : NULL;
    return NULL;
}

/* query_word: required, at least min characters and at most max (0: QUERY_MAX bytes only). */
static cJSON *query_word(zl_sdk_ctx *x, size_t min, size_t max, const char **out)
{
    cJSON *e = str_at(x, x->req, "", "query_word", QUERY_MAX, true, out);
    size_t n;

    if (e)
        return e;
    n = zl_utf8_chars(*out);
    if (n < min)
        return zl_sdk_errf(x, 40058, "query_word must be at least %zu characters (got %zu)", min,
                           n);
    if (max && n > max)
        return zl_sdk_errf(x, 40058, "query_word must be at most %zu characters (got %zu)", max, n);
    return NULL;
}

/* ---- cursors: bound to corp + app (scope), the API (kind) and the query (extra) ---- */

#define MIX_START 14695981039346656037ULL /* FNV-1a 64 */

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
    return mix(h, s ? s : "", s ? strlen(s) + 1 : 1); /* the NUL separates fields */
}

static uint64_t mix_int(uint64_t h, long long v)
{
    return mix(h, &v, sizeof v);
}

typedef struct page {
    size_t limit;
    uint64_t pos; /* where the previous page stopped; 0 without a cursor */
    bool resumed; /* a cursor was given */
} page;

/* limit (0 or absent: 50; over 100 or negative: 40058) and cursor ("" 40058; 710611 when not
 * issued by this API for this app and this query). */
static cJSON *read_page(zl_sdk_ctx *x, int kind, uint64_t bind, page *p)
{
    long long limit = 0;
    const char *cursor;
    uint64_t extra = 0;
    cJSON *e;

    if ((e = zl_sdk_opt_int(x, "limit", 0, LIMIT_MAX, &limit)) ||
        (e = zl_sdk_opt_str(x, "cursor", ZL_CURSOR_MAX, &cursor)))
        return e;
    if (cursor && !*cursor)
        return zl_sdk_err(x, 40058, "cursor must not be an empty string; leave it out");
    p->limit = limit ? (size_t)limit : LIMIT_DEFAULT;
    p->pos = 0;
    p->resumed = cursor != NULL;
    if (cursor &&
        (zl_cursor_decode(&x->emu->cursor_key, kind, x->app->scope, cursor, &p->pos, &extra) != 0 ||
         extra != bind))
        return zl_sdk_err(x, 710611, "the cursor was not issued by this API for this query");
    return NULL;
}

/* has_more (an integer) and next_cursor: where the next page starts. */
static void add_cursor(zl_sdk_ctx *x, cJSON *reply, int kind, uint64_t bind, uint64_t pos, int more)
{
    char nc[ZL_CURSOR_MAX + 1];

    cJSON_AddNumberToObject(reply, "has_more", more);
    zl_cursor_encode(&x->emu->cursor_key, kind, x->app->scope, pos, bind, nc);
    cJSON_AddStringToObject(reply, "next_cursor", nc);
}

/* ---- matching ---- */

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* Whether the n bytes of w occur in text, ASCII letters compared without case (other bytes
 * exactly: UTF-8 text matches byte for byte). */
static bool has_text(const char *text, const char *w, size_t n)
{
    if (!text)
        return false;
    for (; *text; text++) {
        size_t i = 0;

        while (i < n && text[i] && lower((unsigned char)text[i]) == lower((unsigned char)w[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static bool contains(const char *text, const char *q)
{
    return has_text(text, q, strlen(q));
}

/* ---- get_group_chat ---- */

/* The group named by the request's chatid: 40058 without one, 710624 when unknown. */
static cJSON *group_of(zl_sdk_ctx *x, zl_group **out)
{
    const char *chatid;
    cJSON *e;

    if ((e = str_at(x, x->req, "", "chatid", ID_MAX, true, &chatid)))
        return e;
    if (!(*out = zl_corp_group(x->app->corp, chatid)))
        return zl_sdk_errf(x, 710624, "chatid \"%.128s\" is not a group of the corp", chatid);
    return NULL;
}

static cJSON *api_get_group_chat(zl_sdk_ctx *x)
{
    zl_group *g;
    cJSON *e, *reply, *list;

    if ((e = group_of(x, &g)))
        return e;
    if (g->kind != ZL_GROUP_INTERNAL)
        return zl_sdk_err(x, 301059, "get_group_chat serves internal groups only");
    if (!zl_group_in_scope(x->app->corp, scope_of(x), g))
        return zl_sdk_err(x, 710614, NULL);
    reply = ok(x);
    cJSON_AddStringToObject(reply, "creator", g->creator);
    cJSON_AddNumberToObject(reply, "room_create_time", (double)g->create_time);
    list = cJSON_AddArrayToObject(reply, "members");
    for (size_t i = 0; i < g->member_count; i++) {
        cJSON *m = cJSON_CreateObject();

        cJSON_AddStringToObject(m, "memberid", g->members[i].id);
        cJSON_AddNumberToObject(m, "jointime", (double)g->members[i].jointime);
        cJSON_AddNumberToObject(m, "type", g->members[i].type);
        cJSON_AddItemToArray(list, m);
    }
    return reply;
}

/* ---- consent status ---- */

static cJSON *agree_item(const zl_consent *d)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddNumberToObject(o, "status_change_time", (double)d->change_time);
    if (d->userid)
        cJSON_AddStringToObject(o, "userid", d->userid);
    cJSON_AddStringToObject(o, "external_userid", d->external_userid);
    cJSON_AddStringToObject(o, "agree_status", d->agree ? "Agree" : "Disagree");
    return o;
}

static cJSON *api_get_agree_status_single(zl_sdk_ctx *x)
{
    zl_corp *c = x->app->corp;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(x->req, "item"), *it;
    cJSON *reply, *list, *e;
    char path[32];
    int n, i = 0;

    if (!items)
        return zl_sdk_err(x, 40058, "item is required");
    if (!cJSON_IsArray(items))
        return zl_sdk_err(x, 40058, "item must be an array of {userid, external_userid}");
    if ((n = cJSON_GetArraySize(items)) == 0)
        return zl_sdk_err(x, 40058, "item must hold at least one {userid, external_userid}");
    if (n > AGREE_MAX)
        return zl_sdk_errf(x, 301060, "item holds %d pairs; at most %d", n, AGREE_MAX);
    reply = ok(x);
    list = cJSON_AddArrayToObject(reply, "agreeinfo");
    cJSON_ArrayForEach(it, items)
    {
        const char *uid = NULL, *ext = NULL;
        const zl_member *m;
        const zl_consent *d;

        snprintf(path, sizeof path, "item[%d]", i++);
        if (!cJSON_IsObject(it))
            e = zl_sdk_errf(x, 40058, "%s must be an object {userid, external_userid}", path);
        else if (!(e = member_key(x, it, path, &uid)) &&
                 !(e = str_at(x, it, path, "external_userid", ID_MAX, true, &ext)) && !uid)
            e = zl_sdk_errf(x, 40058, "%s.userid (or open_userid) is required", path);
        if (!e && !(m = zl_corp_member(c, uid)))
            e = zl_sdk_errf(x, 301061, "%s.userid \"%.128s\" is not a member", path, uid);
        else if (!e && !zl_corp_external(c, ext))
            e = zl_sdk_errf(x, 301061, "%s.external_userid \"%.128s\" is not a contact", path, ext);
        else if (!e && !zl_scope_has(c, scope_of(x), m))
            e = zl_sdk_errf(x, 710608, "%s.userid \"%s\" is outside the archive scope", path,
                            m->userid);
        if (e) {
            cJSON_Delete(reply);
            return e;
        }
        if ((d = zl_corp_consent(c, m->userid, NULL, ext)))
            cJSON_AddItemToArray(list, agree_item(d));
    }
    return reply;
}

static cJSON *api_get_agree_status_room(zl_sdk_ctx *x)
{
    zl_group *g;
    cJSON *e, *reply, *list;

    if ((e = group_of(x, &g)))
        return e;
    if (!zl_group_in_scope(x->app->corp, scope_of(x), g))
        return zl_sdk_err(x, 710614, NULL);
    reply = ok(x);
    list = cJSON_AddArrayToObject(reply, "agreeinfo");
    for (size_t i = 0; i < g->member_count; i++) {
        const zl_consent *d;

        if (g->members[i].type == ZL_PARTY_EXTERNAL &&
            (d = zl_corp_consent(x->app->corp, NULL, g->chatid, g->members[i].id)))
            cJSON_AddItemToArray(list, agree_item(d));
    }
    return reply;
}

/* ---- search_chat ---- */

static cJSON *api_search_chat(zl_sdk_ctx *x)
{
    zl_corp *c = x->app->corp;
    const char *q;
    uint64_t bind;
    size_t i, n = 0;
    page p;
    int more = 0;
    cJSON *e, *reply, *list;

    if ((e = query_word(x, 2, 0, &q)))
        return e;
    bind = mix_str(MIX_START, q);
    if ((e = read_page(x, CURSOR_SEARCH_CHAT, bind, &p)))
        return e;
    reply = ok(x);
    list = cJSON_CreateArray();
    for (i = p.pos; i < c->group_count; i++) {
        const zl_group *g = &c->groups[i];
        cJSON *o;

        if (!g->name[0] || !contains(g->name, q) || !zl_group_in_scope(c, scope_of(x), g))
            continue;
        if (n == p.limit) {
            more = 1; /* the next page starts at this match */
            break;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "chatid", g->chatid);
        cJSON_AddItemToArray(list, o);
        n++;
    }
    add_cursor(x, reply, CURSOR_SEARCH_CHAT, bind, i, more);
    cJSON_AddItemToObject(reply, "chat_list", list);
    return reply;
}

/* ---- search_contact_or_customer ---- */

static bool member_matches(zl_corp *c, const zl_scope *s, size_t i, const char *q)
{
    const zl_member *m = &c->members[i];

    return zl_scope_has(c, s, m) &&
           (contains(m->name, q) || contains(m->name_pinyin, q) || contains(m->alias, q));
}

/* A customer is found when a member following it is in scope; a customer the world names no
 * follow-up member for counts as followed by every member whose edition covers external chats
 * (as the keyword rules' external_contact check). */
static bool customer_matches(zl_corp *c, const zl_scope *s, size_t i, const char *q)
{
    const zl_external *ex = &c->externals[i];
    bool followed = false;

    for (size_t k = 0; k < ex->follow_user_count && !followed; k++) {
        const zl_member *m = zl_corp_member(c, ex->follow_users[k]);

        followed = m && zl_scope_has(c, s, m);
    }
    for (size_t k = 0; ex->follow_user_count == 0 && k < c->member_count && !followed; k++)
        followed = zl_scope_has(c, s, &c->members[k]) && c->members[k].edition >= 2;
    return followed && (contains(ex->name, q) || contains(ex->name_pinyin, q) ||
                        contains(ex->remark, q) || contains(ex->remark_pinyin, q));
}

static cJSON *api_search_contact_or_customer(zl_sdk_ctx *x)
{
    zl_corp *c = x->app->corp;
    const char *q;
    long long type = 0;
    uint64_t bind;
    size_t i, n = 0, total = c->member_count + c->external_count;
    page p;
    int more = 0;
    cJSON *e, *reply, *list;

    if ((e = query_word(x, 2, 31, &q)) || (e = zl_sdk_opt_int(x, "query_user_type", 0, 2, &type)))
        return e;
    bind = mix_int(mix_str(MIX_START, q), type);
    if ((e = read_page(x, CURSOR_SEARCH_CONTACT, bind, &p)))
        return e;
    reply = ok(x);
    list = cJSON_CreateArray();
    /* One list: the members in world order, then the external contacts. */
    for (i = p.pos; i < total; i++) {
        bool member = i < c->member_count;
        cJSON *o;

        if (member ? type == 2 || !member_matches(c, scope_of(x), i, q)
                   : type == 1 || !customer_matches(c, scope_of(x), i - c->member_count, q))
            continue;
        if (n == p.limit) {
            more = 1;
            break;
        }
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "type", member ? ZL_PARTY_EMPLOYEE : ZL_PARTY_EXTERNAL);
        cJSON_AddStringToObject(o, "id",
                                member ? c->members[i].userid
                                       : c->externals[i - c->member_count].external_userid);
        cJSON_AddItemToArray(list, o);
        n++;
    }
    add_cursor(x, reply, CURSOR_SEARCH_CONTACT, bind, i, more);
    cJSON_AddItemToObject(reply, "user_list", list);
    return reply;
}

/* ---- search_msg ---- */

/* Searchable msgtypes and the content keys searched (sdk-api.md §3.6). */
static const struct {
    int msgtype;
    const char *keys[3];
} SEARCHABLE[] = {
    {1, {"content"}},                    /* text */
    {4, {"title"}},                      /* link */
    {5, {"title"}},                      /* mini program */
    {8, {"filename", "name"}},           /* file */
    {18, {"title", "name"}},             /* online document */
    {20, {NULL}},                        /* mixed: item[] of type "text", their "content" */
    {23, {"filename", "name", "title"}}, /* WeDrive file */
};
#define NSEARCHABLE (sizeof SEARCHABLE / sizeof SEARCHABLE[0])

static int searchable(long long msgtype)
{
    for (size_t i = 0; i < NSEARCHABLE; i++)
        if (SEARCHABLE[i].msgtype == msgtype)
            return (int)i;
    return -1;
}

static const char *const STOP_WORDS[] = {
    "a",  "an",  "and", "are",  "as", "at", "be", "by", "for", "in", "is", "it", "of", "on",
    "or", "the", "to",  "with", "的", "了", "是", "在", "和",  "吗", "呢", "吧", "啊",
};

typedef struct msg_query {
    const char *words[WORDS_MAX]; /* each must occur in the message's searchable text */
    size_t word_len[WORDS_MAX];
    size_t nwords;
    int chat_type;    /* 0 any, 1 1:1, 2 group */
    zl_party pair[2]; /* id_list (chat_type 1) */
    bool has_pair;
    const char *chat_id; /* NULL: any group */
    unsigned types;      /* bit i: SEARCHABLE[i] */
    zl_party *senders;   /* employees; NULL: any sender */
    size_t nsenders;
} msg_query;

/* Whether every query word occurs in one of the searchable texts of content. */
static bool content_matches(const msg_query *mq, int kind, const cJSON *content)
{
    const char *texts[TEXTS_MAX];
    size_t nt = 0;

    if (SEARCHABLE[kind].msgtype == 20) {
        const cJSON *it;

        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(content, "item"))
        {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(it, "content");

            if (nt < TEXTS_MAX && cJSON_IsString(type) && !strcmp(type->valuestring, "text") &&
                cJSON_IsString(text))
                texts[nt++] = text->valuestring;
        }
    } else {
        for (size_t k = 0; k < 3 && SEARCHABLE[kind].keys[k]; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(content, SEARCHABLE[kind].keys[k]);

            if (cJSON_IsString(v))
                texts[nt++] = v->valuestring;
        }
    }
    for (size_t w = 0; w < mq->nwords; w++) {
        bool found = false;

        for (size_t t = 0; t < nt && !found; t++)
            found = has_text(texts[t], mq->words[w], mq->word_len[w]);
        if (!found)
            return false;
    }
    return true;
}

static bool same_party(const zl_party *a, const zl_party *b)
{
    return a->type == b->type && !strcmp(a->id, b->id);
}

/* A message whose parties are exactly the two of id_list (both the same person: a message to
 * oneself). */
static bool pair_matches(const msg_query *mq, const zl_message *m)
{
    const zl_party *a = &mq->pair[0], *b = &mq->pair[1];
    bool seen_a = false, seen_b = false;

    for (uint32_t i = 0; i <= m->receiver_count; i++) {
        const zl_party *p = i < m->receiver_count ? &m->receivers[i] : &m->sender;
        bool is_a = same_party(p, a), is_b = same_party(p, b);

        if (!is_a && !is_b)
            return false;
        seen_a |= is_a;
        seen_b |= is_b;
    }
    return seen_a && seen_b;
}

/* Whether message idx (m) of the app's archive matches the query. */
static bool msg_matches(zl_sdk_ctx *x, const msg_query *mq, size_t idx, const zl_message *m)
{
    int kind = searchable(m->msgtype);
    bool hit;
    cJSON *content;

    if (kind < 0 || !(mq->types & (1u << kind)))
        return false;
    if ((mq->chat_type == 1 && m->chatid[0]) || (mq->chat_type == 2 && !m->chatid[0]))
        return false;
    if (mq->chat_id && strcmp(m->chatid, mq->chat_id) != 0)
        return false;
    if (mq->has_pair && !pair_matches(mq, m))
        return false;
    if (mq->senders) {
        bool found = false;

        for (size_t i = 0; i < mq->nsenders && !found; i++)
            found = same_party(&m->sender, &mq->senders[i]);
        if (!found)
            return false;
    }
    if (zl_emu_app_msg_check(x->emu, x->app, idx) != 0 || !(content = cJSON_Parse(m->content)))
        return false;
    hit = content_matches(mq, kind, content);
    cJSON_Delete(content);
    return hit;
}

/* An IdInfo: {open_userid} or {userid} (a member) or {external_userid}, which must exist. */
static cJSON *id_info(zl_sdk_ctx *x, const cJSON *o, const char *path, bool employees_only,
                      zl_party *out)
{
    const char *uid, *ext = NULL;
    cJSON *e;

    if (!cJSON_IsObject(o))
        return zl_sdk_errf(x, 40058, "%s must be an object {open_userid} or {external_userid}",
                           path);
    if ((e = member_key(x, o, path, &uid)) ||
        (e = str_at(x, o, path, "external_userid", ID_MAX, false, &ext)))
        return e;
    if (uid) {
        const zl_member *m = zl_corp_member(x->app->corp, uid);

        if (!m)
            return zl_sdk_errf(x, 40058, "%s: \"%.128s\" is not a member of the corp", path, uid);
        *out = (zl_party){ZL_PARTY_EMPLOYEE, m->userid};
        return NULL;
    }
    if (ext && *ext) {
        const zl_external *xe = zl_corp_external(x->app->corp, ext);

        if (employees_only)
            return zl_sdk_errf(x, 40058,
                               "%s must name a member (open_userid or userid): senders are "
                               "employees",
                               path);
        if (!xe)
            return zl_sdk_errf(x, 40058, "%s: \"%.128s\" is not an external contact of the corp",
                               path, ext);
        *out = (zl_party){ZL_PARTY_EXTERNAL, xe->external_userid};
        return NULL;
    }
    return zl_sdk_errf(x, 40058, "%s needs open_userid, userid or external_userid", path);
}

static uint64_t mix_party(uint64_t h, const zl_party *p)
{
    return mix_str(mix_int(h, p->type), p->id);
}

/* chat_info: where to search. Fills mq (senders malloc'd) and folds it into *bind. */
static cJSON *read_chat_info(zl_sdk_ctx *x, msg_query *mq, uint64_t *bind)
{
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(x->req, "chat_info"), *v, *it;
    cJSON *e;
    char path[48];
    size_t i;

    mq->types = (1u << NSEARCHABLE) - 1;
    if (!ci)
        return NULL;
    if (!cJSON_IsObject(ci))
        return zl_sdk_err(x, 40058, "chat_info must be an object");
    if ((v = cJSON_GetObjectItemCaseSensitive(ci, "chat_type"))) {
        if (!cJSON_IsNumber(v) ||
            (v->valuedouble != 0 && v->valuedouble != 1 && v->valuedouble != 2))
            return zl_sdk_err(x, 40058, "chat_info.chat_type must be 1 (1:1) or 2 (group)");
        mq->chat_type = (int)v->valuedouble;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(ci, "id_list"))) {
        if (mq->chat_type != 1)
            return zl_sdk_err(x, 40058, "chat_info.id_list is only for chat_type 1 (1:1)");
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2)
            return zl_sdk_err(x, 40058, "chat_info.id_list must hold exactly 2 IdInfo");
        i = 0;
        cJSON_ArrayForEach(it, v)
        {
            snprintf(path, sizeof path, "chat_info.id_list[%zu]", i);
            if ((e = id_info(x, it, path, false, &mq->pair[i++])))
                return e;
        }
        mq->has_pair = true;
    }
    if ((e = str_at(x, ci, "chat_info", "chat_id", ID_MAX, false, &mq->chat_id)))
        return e;
    if (mq->chat_id && !*mq->chat_id)
        mq->chat_id = NULL; /* "" names no group, as absent */
    if (mq->chat_id) {
        if (mq->chat_type != 2)
            return zl_sdk_err(x, 40058, "chat_info.chat_id is only for chat_type 2 (group)");
        if (!zl_corp_group(x->app->corp, mq->chat_id))
            return zl_sdk_errf(x, 710624, "chat_info.chat_id \"%.128s\" is not a group of the corp",
                               mq->chat_id);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(ci, "msg_type_list"))) {
        if (!cJSON_IsArray(v))
            return zl_sdk_err(x, 40058, "chat_info.msg_type_list must be an array of msgtypes");
        if (cJSON_GetArraySize(v) > 0)
            mq->types = 0;
        cJSON_ArrayForEach(it, v)
        {
            int k = zl_json_is_int(it, INT_MIN, INT_MAX) ? searchable((int)it->valuedouble) : -1;

            if (k < 0)
                return zl_sdk_err(
                    x, 40058,
                    "chat_info.msg_type_list holds a msgtype that is not searchable (1, 4, "
                    "5, 8, 18, 20, 23)");
            mq->types |= 1u << k;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(ci, "sender_list");
    if (v && (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > SENDERS_MAX))
        return zl_sdk_errf(x, 40058, "chat_info.sender_list must be an array of at most %d IdInfo",
                           SENDERS_MAX);
    if (v && cJSON_GetArraySize(v) > 0) {
        if (!(mq->senders = calloc((size_t)cJSON_GetArraySize(v), sizeof *mq->senders)))
            return zl_sdk_err(x, -1, "out of memory");
        cJSON_ArrayForEach(it, v)
        {
            snprintf(path, sizeof path, "chat_info.sender_list[%zu]", mq->nsenders);
            if ((e = id_info(x, it, path, true, &mq->senders[mq->nsenders++])))
                return e;
        }
    } else if ((v = cJSON_GetObjectItemCaseSensitive(ci, "sender"))) {
        if (!(mq->senders = calloc(1, sizeof *mq->senders)))
            return zl_sdk_err(x, -1, "out of memory");
        mq->nsenders = 1;
        if ((e = id_info(x, v, "chat_info.sender", true, mq->senders)))
            return e;
    }
    *bind = mix_int(mix_int(*bind, mq->chat_type), mq->types);
    for (i = 0; mq->has_pair && i < 2; i++)
        *bind = mix_party(*bind, &mq->pair[i]);
    *bind = mix_str(*bind, mq->chat_id);
    for (i = 0; i < mq->nsenders; i++)
        *bind = mix_party(*bind, &mq->senders[i]);
    return NULL;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool stop_word(const char *w, size_t n)
{
    for (size_t k = 0; k < sizeof STOP_WORDS / sizeof STOP_WORDS[0]; k++) {
        size_t i;

        for (i = 0; i < n && STOP_WORDS[k][i]; i++)
            if (lower((unsigned char)w[i]) != (unsigned char)STOP_WORDS[k][i])
                break;
        if (i == n && !STOP_WORDS[k][i])
            return true;
    }
    return false;
}

/* The query's words: the whole query_word; with skip_stop_words its space-separated words that
 * are not stop words (the whole query when nothing else is left). */
static void split_query(msg_query *mq, const char *q, bool skip_stop)
{
    const char *s = q;

    mq->nwords = 0;
    while (skip_stop && mq->nwords < WORDS_MAX) {
        size_t n = 0;

        while (is_space(*s))
            s++;
        while (s[n] && !is_space(s[n]))
            n++;
        if (!n)
            break;
        if (!stop_word(s, n)) {
            mq->words[mq->nwords] = s;
            mq->word_len[mq->nwords++] = n;
        }
        s += n;
    }
    if (mq->nwords == 0) {
        mq->words[0] = q;
        mq->word_len[0] = strlen(q);
        mq->nwords = 1;
    }
}

static cJSON *api_search_msg(zl_sdk_ctx *x)
{
    zl_corp *c = x->app->corp;
    zl_msgstore *store = c->messages;
    int64_t now = zl_emu_now_ms(x->emu) / 1000;
    const cJSON *sk = cJSON_GetObjectItemCaseSensitive(x->req, "skip_stop_words");
    msg_query mq = {0};
    long long start = 0, end = 0;
    const char *q;
    uint64_t bind = MIX_START;
    size_t lo, hi, i, n = 0, scanned = 0;
    page p;
    int more = 0;
    cJSON *e, *reply = NULL, *list;

    if ((e = query_word(x, 2, 0, &q)) ||
        (e = zl_sdk_opt_int(x, "start_time", 0, ZL_WORLD_MAX_TIME, &start)) ||
        (e = zl_sdk_opt_int(x, "end_time", 0, ZL_WORLD_MAX_TIME, &end)))
        return e;
    if (sk && !cJSON_IsBool(sk))
        return zl_sdk_err(x, 40058, "skip_stop_words must be true or false");
    if (end && !start)
        return zl_sdk_err(x, 40058, "end_time requires start_time");
    bind = mix_int(mix_int(mix_int(mix_str(bind, q), cJSON_IsTrue(sk)), start), end);
    if (!start)
        start = now - SPAN_MAX_S;
    if (!end)
        end = now;
    if (start >= end)
        return zl_sdk_err(x, 40058, "start_time must be before end_time (before now without one)");
    if (end - start > SPAN_MAX_S)
        return zl_sdk_err(x, 40058, "start_time to end_time spans more than 31 days");
    if ((e = read_chat_info(x, &mq, &bind)) || (e = read_page(x, CURSOR_SEARCH_MSG, bind, &p)))
        goto out;
    split_query(&mq, q, cJSON_IsTrue(sk));
    /* Newest first: down from the end of the span (messages after the virtual now are not
     * archived yet), or from where the previous page stopped; bounds are inclusive. */
    lo = zl_msgstore_first_at_or_after(store, start);
    hi = zl_msgstore_first_at_or_after(store, (end < now ? end : now) + 1);
    if (p.resumed && p.pos < hi)
        hi = (size_t)p.pos;
    reply = ok(x);
    list = cJSON_CreateArray();
    for (i = hi; i > lo; i--) {
        const zl_message *m = zl_msgstore_at(store, i - 1);
        cJSON *o;

        if (scanned++ == x->emu->opt.max_scan) {
            more = 1; /* a short page: callers loop on has_more */
            break;
        }
        if (!msg_matches(x, &mq, i - 1, m))
            continue;
        if (n == p.limit) {
            more = 1;
            break;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "msgid", m->msgid);
        cJSON_AddItemToArray(list, o);
        n++;
    }
    add_cursor(x, reply, CURSOR_SEARCH_MSG, bind, i, more);
    cJSON_AddItemToObject(reply, "msg_list", list);
out:
    free(mq.senders);
    return e ? e : reply;
}

/* ---- sensitive-info display settings (per corp and member) ---- */

typedef struct hide_config {
    bool hide[3]; /* HIDE_KEYS */
} hide_config;

static const char *const HIDE_KEYS[] = {"hide_mobile", "hide_idcard", "hide_bankno"};

#define CONFIG_KEY_LEN (2 * ZL_WORLD_MAX_ID + 2)

/* The member named by userid / open_userid (40058 when absent or unknown), and its map key
 * "corpid\x1fuserid". */
static cJSON *config_member(zl_sdk_ctx *x, char key[CONFIG_KEY_LEN])
{
    const char *uid;
    const zl_member *m;
    cJSON *e;

    if ((e = member_key(x, x->req, "", &uid)))
        return e;
    if (!uid)
        return zl_sdk_err(x, 40058, "userid (or open_userid) is required");
    if (!(m = zl_corp_member(x->app->corp, uid)))
        return zl_sdk_errf(x, 40058, "userid \"%.128s\" is not a member of the corp", uid);
    snprintf(key, CONFIG_KEY_LEN, "%s\x1f%s", x->app->corp->corpid, m->userid);
    return NULL;
}

/* The settings are the same on both faces: an app-face call runs through a context of its
 * own, with the app's request id as the hint. */
static void hide_ctx(zl_sdk_ctx *x, zl_emu *emu, zl_app_rt *a, cJSON *req, const char *req_id)
{
    memset(x, 0, sizeof *x);
    x->emu = emu;
    x->app = a;
    x->req = req;
    snprintf(x->req_id, sizeof x->req_id, "%s", req_id ? req_id : "");
}

static void hide_free(void *map)
{
    zl_strmap_free(map);
}

/* "corpid\x1fuserid" -> the sensitive-info settings, made on the first set. */
static const zl_emu_part_ops hide_part = {"hide_sensitiveinfo_config", hide_free, NULL};

static cJSON *set_hide_config(zl_sdk_ctx *x)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(x->req, "config");
    char key[CONFIG_KEY_LEN];
    hide_config v = {{false, false, false}}, *h;
    zl_strmap *map;
    cJSON *e;

    if ((e = config_member(x, key)))
        return e;
    if (!cJSON_IsObject(cfg))
        return zl_sdk_err(x, 40058, "config {hide_mobile, hide_idcard, hide_bankno} is required");
    for (size_t k = 0; k < 3; k++) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(cfg, HIDE_KEYS[k]);

        if (b && !cJSON_IsBool(b))
            return zl_sdk_errf(x, 40058, "config.%s must be true or false", HIDE_KEYS[k]);
        v.hide[k] = cJSON_IsTrue(b);
    }
    if (!(map = zl_emu_part(x->emu, &hide_part))) {
        if (!(map = zl_strmap_new(free)))
            return zl_sdk_err(x, -1, "out of memory");
        if (zl_emu_part_set(x->emu, &hide_part, map) != 0) {
            zl_strmap_free(map);
            return zl_sdk_err(x, -1, "out of memory");
        }
    }
    if (!(h = malloc(sizeof *h)))
        return zl_sdk_err(x, -1, "out of memory");
    *h = v;
    if (zl_strmap_put(map, key, h) != 0) {
        free(h);
        return zl_sdk_err(x, -1, "out of memory");
    }
    return ok(x);
}

static cJSON *get_hide_config(zl_sdk_ctx *x)
{
    zl_strmap *map = zl_emu_part(x->emu, &hide_part);
    char key[CONFIG_KEY_LEN];
    const hide_config *h;
    cJSON *e, *reply, *cfg;

    if ((e = config_member(x, key)))
        return e;
    h = map ? zl_strmap_get(map, key) : NULL;
    reply = ok(x);
    cfg = cJSON_AddObjectToObject(reply, "config");
    for (size_t k = 0; k < 3; k++)
        cJSON_AddBoolToObject(cfg, HIDE_KEYS[k], h && h->hide[k]);
    return reply;
}

cJSON *zl_chat_set_hide_config(zl_emu *emu, zl_app_rt *a, cJSON *req, const char *req_id)
{
    zl_sdk_ctx x;

    hide_ctx(&x, emu, a, req, req_id);
    return set_hide_config(&x);
}

cJSON *zl_chat_get_hide_config(zl_emu *emu, zl_app_rt *a, cJSON *req, const char *req_id)
{
    zl_sdk_ctx x;

    hide_ctx(&x, emu, a, req, req_id);
    return get_hide_config(&x);
}

static cJSON *api_set_hide_sensitiveinfo_config(zl_sdk_ctx *x)
{
    return zl_chat_set_hide_config(x->emu, x->app, x->req, x->req_id);
}

static cJSON *api_get_hide_sensitiveinfo_config(zl_sdk_ctx *x)
{
    return zl_chat_get_hide_config(x->emu, x->app, x->req, x->req_id);
}

const zl_sdk_api zl_sdk_apis_chat[] = {
    {"get_group_chat", api_get_group_chat, ZL_SDK_API_ARCHIVE},
    {"get_agree_status_single", api_get_agree_status_single, ZL_SDK_API_ARCHIVE},
    {"get_agree_status_room", api_get_agree_status_room, ZL_SDK_API_ARCHIVE},
    {"search_chat", api_search_chat, ZL_SDK_API_ARCHIVE},
    {"search_msg", api_search_msg, ZL_SDK_API_ARCHIVE},
    {"search_contact_or_customer", api_search_contact_or_customer, ZL_SDK_API_ARCHIVE},
    {"set_hide_sensitiveinfo_config", api_set_hide_sensitiveinfo_config, 0},
    {"get_hide_sensitiveinfo_config", api_get_hide_sensitiveinfo_config, 0},
    {NULL, NULL, 0},
};
