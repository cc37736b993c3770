/* keyword: WeCom's keyword rules (sdk-api.md §4): rule bodies checked against the spec's
 * limits and a corp's scope and compiled, and the matcher over an archived message. */
#include "wecom/keyword.h"

#include "core/err.h"
#include "core/json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_NAME_CHARS 20 /* name: 1..20 characters */
#define MAX_WORDS      20 /* word_list and exclude_keyword.word_list */
#define MAX_WORD_CHARS 32 /* each word: 1..32 characters */
#define MAX_TEXTS      32 /* text pieces of one message the matcher looks at */

/* ---- rule bodies ---- */

struct zl_rule {
    cJSON *body; /* canonical; everything below borrows from it */
    const char *words[MAX_WORDS];
    size_t nwords;
    const char *blacklist[MAX_WORDS];
    size_t nblacklist;
    bool case_sensitive, exact, trim;
    unsigned semantics;  /* bit v: behaviour v */
    unsigned targets;    /* bit 1 employees, bit 2 customers */
    unsigned chat_types; /* bit 1 1:1, bit 2 group */
    unsigned sessions;   /* bit 1 internal, bit 2 external */
    unsigned voice;      /* bit 1 voice (6), bit 2 audio archive (21) */
    int msg_scope;       /* 1 sent, 2 received, 3 both */
    const cJSON *users, *departments, *externals, *chats, *ex_mobiles, *ex_cards,
        *ex_emails; /* or NULL */
};

/* The applicable_range items that hold one list, and the list's key. */
typedef enum item_id {
    IT_TARGET,
    IT_CHAT_TYPE,
    IT_DEPARTMENT,
    IT_USER,
    IT_EXTERNAL,
    IT_CHAT,
    IT_EX_MOBILE,
    IT_EX_CARD,
    IT_EX_EMAIL,
    IT_SESSION,
    IT_EX_KEYWORD,
    IT_VOICE,
    IT_COUNT
} item_id;

static const struct {
    const char *key, *list;
} ITEMS[IT_COUNT] = {
    [IT_TARGET] = {"target_type", "type_list"},
    [IT_CHAT_TYPE] = {"chat_type", "type_list"},
    [IT_DEPARTMENT] = {"department", "id_list"},
    [IT_USER] = {"user", "id_list"},
    [IT_EXTERNAL] = {"external_contact", "id_list"},
    [IT_CHAT] = {"chat", "id_list"},
    [IT_EX_MOBILE] = {"exclude_mobile", "mobile_list"},
    [IT_EX_CARD] = {"exclude_bank_card", "bank_card_list"},
    [IT_EX_EMAIL] = {"exclude_email", "email_list"},
    [IT_SESSION] = {"session_type", "session_type_list"},
    [IT_EX_KEYWORD] = {"exclude_keyword", "word_list"},
    [IT_VOICE] = {"voice_match_msgtype", "type_list"},
};

static const char *const KEYWORD_KEYS[] = {"word_list", "is_case_sensitive", "match_rule",
                                           "is_trim_msg", NULL};

/* A check in progress: the corp and the scope that applies, and the first failure. */
typedef struct vctx {
    zl_corp *c;
    const zl_scope *scope;
    int code;
    char *why;
    size_t whylen;
} vctx;

__attribute__((format(printf, 3, 4))) static bool bad(vctx *v, int code, const char *fmt, ...)
{
    va_list ap;

    v->code = code;
    va_start(ap, fmt);
    zl_err_vset(v->why, v->whylen, fmt, ap);
    va_end(ap);
    return false;
}

static bool all_digits(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s), i;

    if (n < lo || n > hi)
        return false;
    for (i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* A mainland mobile number in a message: 11 digits, 1 then 3..9. */
static bool mobile_at(const char *p)
{
    return p[0] == '1' && p[1] >= '3' && p[1] <= '9';
}

/* The mainland number of a whitelist entry: the entry without its "+86", when it has one. */
static const char *national(const char *s)
{
    return !strncmp(s, "+86", 3) ? s + 3 : s;
}

static bool email_local_char(int ch)
{
    return isalnum(ch) || ch == '.' || ch == '_' || ch == '%' || ch == '+' || ch == '-';
}

static bool email_domain_char(int ch)
{
    return isalnum(ch) || ch == '.' || ch == '-';
}

/* Whether domain[0..len) is a domain: labels split by dots, the last of 2+ letters. */
static bool domain_ok(const char *d, size_t len)
{
    size_t dot = len, i;

    for (i = 0; i < len; i++)
        if (d[i] == '.')
            dot = i;
    if (dot == len || dot == 0 || len - dot - 1 < 2 || d[0] == '.' || d[0] == '-')
        return false;
    for (i = dot + 1; i < len; i++)
        if (!isalpha((unsigned char)d[i]))
            return false;
    for (i = 1; i < len; i++)
        if (d[i] == '.' && d[i - 1] == '.')
            return false;
    return true;
}

static bool is_email(const char *s)
{
    const char *at = strchr(s, '@');
    const char *p;

    if (!at || at == s || strchr(at + 1, '@'))
        return false;
    for (p = s; p < at; p++)
        if (!email_local_char((unsigned char)*p))
            return false;
    for (p = at + 1; *p; p++)
        if (!email_domain_char((unsigned char)*p))
            return false;
    return domain_ok(at + 1, strlen(at + 1));
}

/* The list of an applicable_range item, NULL when unset; 40058 for a wrong shape. */
static bool item_list(vctx *v, const cJSON *ar, item_id it, const cJSON **out)
{
    const cJSON *item = zl_json_get(ar, ITEMS[it].key), *list;

    *out = NULL;
    if (!item)
        return true;
    if (!cJSON_IsObject(item))
        return bad(v, 40058, "applicable_range.%s must be an object {\"%s\":[...]}", ITEMS[it].key,
                   ITEMS[it].list);
    list = cJSON_GetObjectItemCaseSensitive(item, ITEMS[it].list);
    if (!list)
        return true;
    if (!cJSON_IsArray(list))
        return bad(v, 40058, "applicable_range.%s.%s must be an array", ITEMS[it].key,
                   ITEMS[it].list);
    *out = cJSON_GetArraySize(list) > 0 ? list : NULL;
    return true;
}

/* An enum list (values from allowed[], 0-terminated) as a bit mask (bit 1 for the first...). */
static bool enum_mask(vctx *v, const cJSON *list, item_id it, const int *allowed, int code,
                      unsigned *mask)
{
    const cJSON *e;
    size_t i;

    if (!list)
        return true;
    *mask = 0;
    cJSON_ArrayForEach(e, list)
    {
        for (i = 0; allowed[i]; i++)
            if (zl_json_is_int(e, allowed[i], allowed[i]))
                break;
        if (!allowed[i])
            return bad(v, code, "applicable_range.%s.%s holds a value that is not allowed",
                       ITEMS[it].key, ITEMS[it].list);
        *mask |= 1u << (i + 1);
    }
    return true;
}

/* Strings list: at most max entries (else code_many), each a string that ok() accepts. */
static bool string_list(vctx *v, const cJSON *list, item_id it, int max, int code_many,
                        bool (*ok)(vctx *, const char *), int code_bad)
{
    const cJSON *e;
    int i = 0;

    if (!list)
        return true;
    if (cJSON_GetArraySize(list) > max)
        return bad(v, code_many, "applicable_range.%s.%s holds at most %d entries", ITEMS[it].key,
                   ITEMS[it].list, max);
    cJSON_ArrayForEach(e, list)
    {
        if (!cJSON_IsString(e))
            return bad(v, 40058, "applicable_range.%s.%s[%d] must be a string", ITEMS[it].key,
                       ITEMS[it].list, i);
        if (ok && !ok(v, e->valuestring))
            return bad(v, code_bad, "applicable_range.%s.%s[%d] \"%.64s\" is not accepted",
                       ITEMS[it].key, ITEMS[it].list, i, e->valuestring);
        i++;
    }
    return true;
}

static bool user_ok(vctx *v, const char *id)
{
    const zl_member *m = zl_corp_member(v->c, id);

    return m && zl_scope_has(v->c, v->scope, m);
}

/* A customer whose follow-up member (world follow_users) is in scope; a customer the world
 * names no follow-up member for counts as followed by every member whose edition covers
 * external chats. */
static bool external_ok(vctx *v, const char *id)
{
    const zl_external *x = zl_corp_external(v->c, id);
    size_t i;

    if (!x)
        return false;
    for (i = 0; i < x->follow_user_count; i++)
        if (user_ok(v, x->follow_users[i]))
            return true;
    for (i = 0; x->follow_user_count == 0 && i < v->c->member_count; i++)
        if (zl_scope_has(v->c, v->scope, &v->c->members[i]) && v->c->members[i].edition >= 2)
            return true;
    return false;
}

static bool chat_ok(vctx *v, const char *id)
{
    const zl_group *g = zl_corp_group(v->c, id);
    size_t i;

    for (i = 0; g && i < g->member_count; i++)
        if (g->members[i].type == ZL_PARTY_EMPLOYEE && user_ok(v, g->members[i].id))
            return true;
    return false;
}

/* An exclude_mobile entry. The page (doc 53346) gives no format, only its example
 * "+8612345679876": a mainland number, 1 and ten digits (its second digit is not checked, as
 * the example's is 2), with or without "+86" ("中国大陆手机号码可省略“+86”", doc 10018); or
 * another country's, "+" and 8 to 15 digits (E.164's most). */
static bool mobile_ok(vctx *v, const char *s)
{
    (void)v;
    if (!strncmp(s, "+86", 3) || s[0] != '+')
        return all_digits(national(s), 11, 11) && national(s)[0] == '1';
    return all_digits(s + 1, 8, 15);
}

static bool card_ok(vctx *v, const char *s)
{
    (void)v;
    return all_digits(s, 12, 19);
}

static bool email_ok(vctx *v, const char *s)
{
    (void)v;
    return is_email(s);
}

static bool word_ok(vctx *v, const char *s)
{
    size_t n = zl_utf8_chars(s);

    (void)v;
    return n >= 1 && n <= MAX_WORD_CHARS;
}

static bool compile_range(vctx *v, zl_rule *r, const cJSON *ar)
{
    static const int one_two[] = {1, 2, 0}, voice[] = {6, 21, 0};
    const cJSON *l[IT_COUNT], *e, *scope = zl_json_get(ar, "msg_scope");
    size_t i;

    if (ar && !cJSON_IsObject(ar))
        return bad(v, 40058, "applicable_range must be an object");
    for (i = 0; i < IT_COUNT; i++)
        if (!item_list(v, ar, (item_id)i, &l[i]))
            return false;
    r->targets = r->chat_types = r->sessions = 6; /* bits 1 and 2: both */
    r->voice = 0;
    if (!enum_mask(v, l[IT_TARGET], IT_TARGET, one_two, 40058, &r->targets) ||
        !enum_mask(v, l[IT_CHAT_TYPE], IT_CHAT_TYPE, one_two, 40058, &r->chat_types))
        return false;
    if (l[IT_DEPARTMENT]) {
        if (cJSON_GetArraySize(l[IT_DEPARTMENT]) > 100)
            return bad(v, 40058, "applicable_range.department.id_list holds at most 100 ids");
        cJSON_ArrayForEach(e, l[IT_DEPARTMENT])
        {
            if (!zl_json_is_int(e, 1, UINT32_MAX))
                return bad(v, 40058, "applicable_range.department.id_list holds positive integers");
        }
        i = 0;
        cJSON_ArrayForEach(e, l[IT_DEPARTMENT])
        {
            if (!zl_scope_has_department(v->c, v->scope, (uint32_t)e->valuedouble))
                return bad(v, 710607,
                           "applicable_range.department.id_list[%zu] %lld is not a department "
                           "inside the authorised scope",
                           i, (long long)e->valuedouble);
            i++;
        }
    }
    if (!string_list(v, l[IT_USER], IT_USER, 1000, 40058, user_ok, 710608) ||
        !string_list(v, l[IT_EXTERNAL], IT_EXTERNAL, 100, 40058, external_ok, 710609) ||
        !string_list(v, l[IT_CHAT], IT_CHAT, 2000, 710649, chat_ok, 710606) ||
        !string_list(v, l[IT_EX_MOBILE], IT_EX_MOBILE, 100, 40058, mobile_ok, 710621) ||
        !string_list(v, l[IT_EX_CARD], IT_EX_CARD, 100, 40058, card_ok, 710622) ||
        !string_list(v, l[IT_EX_EMAIL], IT_EX_EMAIL, 100, 40058, email_ok, 40058) ||
        !enum_mask(v, l[IT_SESSION], IT_SESSION, one_two, 710615, &r->sessions) ||
        !string_list(v, l[IT_EX_KEYWORD], IT_EX_KEYWORD, MAX_WORDS, 40058, word_ok, 40058) ||
        !enum_mask(v, l[IT_VOICE], IT_VOICE, voice, 40058, &r->voice))
        return false;
    r->msg_scope = 1;
    if (scope) {
        if (!zl_json_is_int(scope, 1, 3))
            return bad(v, 40058, "applicable_range.msg_scope must be 1, 2 or 3");
        r->msg_scope = (int)scope->valuedouble;
    }
    r->users = l[IT_USER];
    r->departments = l[IT_DEPARTMENT];
    r->externals = l[IT_EXTERNAL];
    r->chats = l[IT_CHAT];
    r->ex_mobiles = l[IT_EX_MOBILE];
    r->ex_cards = l[IT_EX_CARD];
    r->ex_emails = l[IT_EX_EMAIL];
    r->nblacklist = 0;
    if (l[IT_EX_KEYWORD])
        cJSON_ArrayForEach(e, l[IT_EX_KEYWORD])
        {
            r->blacklist[r->nblacklist++] = e->valuestring;
        }
    return true;
}

/* A 0/1 flag of keyword: def when absent. */
static bool flag(vctx *v, const cJSON *kw, const char *key, bool def, bool *out)
{
    const cJSON *f = zl_json_get(kw, key);

    *out = def;
    if (!f)
        return true;
    if (!zl_json_is_int(f, 0, 1))
        return bad(v, 40058, "keyword.%s must be 0 or 1", key);
    *out = f->valuedouble == 1;
    return true;
}

/* Sets o[key] to item (taken), replacing what is there. */
static void put(cJSON *o, const char *key, cJSON *item)
{
    if (!item)
        return;
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
    else if (!cJSON_AddItemToObject(o, key, item))
        cJSON_Delete(item);
}

static cJSON *object_in(cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (cJSON_IsObject(v))
        return v;
    put(o, key, cJSON_CreateObject());
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static bool compile(vctx *v, zl_rule *r, bool flags_sent)
{
    cJSON *body = r->body, *kw;
    const cJSON *name = zl_json_get(body, "name"), *wl, *sem, *sl, *e;
    size_t n;
    int i = 0;

    if (!cJSON_IsObject(body))
        return bad(v, 40058, "the rule must be a JSON object");
    if (!cJSON_IsString(name) || (n = zl_utf8_chars(name->valuestring)) < 1 || n > MAX_NAME_CHARS)
        return bad(v, 40058, "name is required: a string of 1 to %d characters", MAX_NAME_CHARS);
    kw = cJSON_GetObjectItemCaseSensitive(body, "keyword");
    if (kw && !cJSON_IsObject(kw))
        return bad(v, 40058, "keyword must be an object");
    wl = zl_json_get(kw, "word_list");
    if (wl && !cJSON_IsArray(wl))
        return bad(v, 40058, "keyword.word_list must be an array of strings");
    if (wl && cJSON_GetArraySize(wl) > MAX_WORDS)
        return bad(v, 40058, "keyword.word_list holds at most %d words", MAX_WORDS);
    r->nwords = 0;
    if (wl)
        cJSON_ArrayForEach(e, wl)
        {
            if (!cJSON_IsString(e) || !word_ok(v, e->valuestring))
                return bad(v, 40058, "keyword.word_list[%d] must be a string of 1 to %d characters",
                           i, MAX_WORD_CHARS);
            r->words[r->nwords++] = e->valuestring;
            i++;
        }
    if (!flag(v, kw, "is_case_sensitive", true, &r->case_sensitive) ||
        !flag(v, kw, "match_rule", false, &r->exact) ||
        !flag(v, kw, "is_trim_msg", false, &r->trim))
        return false;
    sem = zl_json_get(body, "semantics");
    if (sem && !cJSON_IsObject(sem))
        return bad(v, 40058, "semantics must be an object");
    sl = zl_json_get(sem, "semantics_list");
    if (sl && !cJSON_IsArray(sl))
        return bad(v, 40058, "semantics.semantics_list must be an array of integers");
    r->semantics = 0;
    i = 0;
    if (sl)
        cJSON_ArrayForEach(e, sl)
        {
            if (!zl_json_is_int(e, 1, 12))
                return bad(v, 710648, "semantics.semantics_list[%d] must be 1..12", i);
            r->semantics |= 1u << (int)e->valuedouble;
            i++;
        }
    if (flags_sent && r->nwords == 0)
        return bad(v, 710650, "keyword.is_case_sensitive and keyword.match_rule need words");
    if (r->nwords == 0 && r->semantics == 0)
        return bad(v, 710610, "give keyword.word_list or semantics.semantics_list");
    /* is_trim_msg 1 without match_rule 1 is kept and does nothing: "仅match_rule=1时生效"
     * (doc 53346); word_hit trims only for exact matching */
    if (!compile_range(v, r, zl_json_get(body, "applicable_range")))
        return false;
    /* canonical: every keyword field, a semantics_list, an applicable_range object */
    kw = object_in(body, "keyword");
    if (!cJSON_GetObjectItemCaseSensitive(kw, "word_list"))
        put(kw, "word_list", cJSON_CreateArray());
    put(kw, "is_case_sensitive", cJSON_CreateNumber(r->case_sensitive));
    put(kw, "match_rule", cJSON_CreateNumber(r->exact));
    put(kw, "is_trim_msg", cJSON_CreateNumber(r->trim));
    if (!cJSON_GetObjectItemCaseSensitive(object_in(body, "semantics"), "semantics_list"))
        put(object_in(body, "semantics"), "semantics_list", cJSON_CreateArray());
    object_in(body, "applicable_range");
    return true;
}

zl_rule *zl_rule_compile(const cJSON *body, zl_corp *c, const zl_scope *scope, bool flags_sent,
                         int *errcode, char *why, size_t whylen)
{
    vctx v = {.c = c, .scope = scope, .code = 0, .why = why, .whylen = whylen};
    zl_rule *r = calloc(1, sizeof *r);

    if (!r || !(r->body = cJSON_Duplicate(body, 1))) {
        free(r);
        *errcode = -1;
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    if (!compile(&v, r, flags_sent)) {
        zl_rule_free(r);
        *errcode = v.code;
        return NULL;
    }
    *errcode = 0;
    return r;
}

void zl_rule_free(zl_rule *r)
{
    if (!r)
        return;
    cJSON_Delete(r->body);
    free(r);
}

const cJSON *zl_rule_body(const zl_rule *r)
{
    return r->body;
}

/* The body of zl_rule_merge; NULL with v filled when a container has the wrong type. */
static cJSON *merge(vctx *v, const cJSON *base, const cJSON *req)
{
    cJSON *out = base ? cJSON_Duplicate(base, 1) : cJSON_CreateObject();
    const cJSON *kw = zl_json_get(req, "keyword"), *sem = zl_json_get(req, "semantics"),
                *ar = zl_json_get(req, "applicable_range"), *f;
    cJSON *dst;
    size_t i;

    if (!out) {
        bad(v, -1, "out of memory");
        return NULL;
    }
    if ((kw && !cJSON_IsObject(kw)) || (sem && !cJSON_IsObject(sem)) ||
        (ar && !cJSON_IsObject(ar))) {
        cJSON_Delete(out);
        bad(v, 40058, "keyword, semantics and applicable_range must be objects");
        return NULL;
    }
    if ((f = zl_json_get(req, "name")))
        put(out, "name", cJSON_Duplicate(f, 1));
    if (kw) {
        dst = object_in(out, "keyword");
        for (i = 0; KEYWORD_KEYS[i]; i++)
            if ((f = zl_json_get(kw, KEYWORD_KEYS[i])))
                put(dst, KEYWORD_KEYS[i], cJSON_Duplicate(f, 1));
    }
    if (sem && (f = zl_json_get(sem, "semantics_list")))
        put(object_in(out, "semantics"), "semantics_list", cJSON_Duplicate(f, 1));
    if (ar) {
        dst = object_in(out, "applicable_range");
        for (i = 0; i < IT_COUNT; i++) {
            const cJSON *list;

            if (!(f = zl_json_get(ar, ITEMS[i].key)))
                continue;
            list = zl_json_get(f, ITEMS[i].list);
            if (cJSON_IsObject(f) && (!list || (cJSON_IsArray(list) && !list->child))) {
                cJSON_DeleteItemFromObjectCaseSensitive(dst, ITEMS[i].key);
            } else if (cJSON_IsArray(list)) { /* keep the list only: detail echoes it */
                cJSON *item = cJSON_CreateObject();

                put(item, ITEMS[i].list, cJSON_Duplicate(list, 1));
                put(dst, ITEMS[i].key, item);
            } else {
                put(dst, ITEMS[i].key, cJSON_Duplicate(f, 1)); /* compile says what is wrong */
            }
        }
        if ((f = zl_json_get(ar, "msg_scope")))
            put(dst, "msg_scope", cJSON_Duplicate(f, 1));
    }
    return out;
}

cJSON *zl_rule_merge(const cJSON *base, const cJSON *req, int *errcode, char *why, size_t whylen)
{
    vctx v = {.c = NULL, .code = 0, .why = why, .whylen = whylen};
    cJSON *body = merge(&v, base, req);

    *errcode = v.code;
    return body;
}

/* ---- the matcher ---- */

bool zl_rule_hittable(int msgtype)
{
    switch (msgtype) {
    case 1:
    case 2:
    case 4:
    case 5:
    case 6:
    case 8:
    case 9:
    case 13:
    case 20:
    case 21:
        return true;
    default:
        return false;
    }
}

static bool in_list(const cJSON *list, const char *s, size_t len)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, list)
    {
        if (cJSON_IsString(e) && strlen(e->valuestring) == len && !memcmp(e->valuestring, s, len))
            return true;
    }
    return false;
}

/* Whether the 11-digit mainland number at p is on the whitelist, "+86" or not. */
static bool in_mobiles(const cJSON *list, const char *p)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, list)
    {
        if (cJSON_IsString(e) && strlen(national(e->valuestring)) == 11 &&
            !memcmp(national(e->valuestring), p, 11))
            return true;
    }
    return false;
}

static bool in_list_ci(const cJSON *list, const char *s, size_t len)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, list)
    {
        if (cJSON_IsString(e) && strlen(e->valuestring) == len &&
            !strncasecmp(e->valuestring, s, len))
            return true;
    }
    return false;
}

/* Whether m belongs to one of the departments of list (or their sub-departments). */
static bool in_departments(zl_corp *c, const cJSON *list, const zl_member *m)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, list)
    {
        if (zl_member_in_department(c, m, (uint32_t)e->valuedouble))
            return true;
    }
    return false;
}

/* An employee in scope, and in the user list or under the departments when the rule names
 * either ("对指定部门下的所有员工和适用员工列表内的员工都会生效", doc 53346); a customer in
 * the external contact list when there is one. */
static bool target(const zl_rule *r, zl_corp *c, const zl_scope *s, const zl_party *p)
{
    const zl_member *m;

    if (p->type == ZL_PARTY_EMPLOYEE) {
        if (!(r->targets & 2) || !(m = zl_corp_member(c, p->id)) || !zl_scope_has(c, s, m))
            return false;
        if (!r->users && !r->departments)
            return true;
        return (r->users && in_list(r->users, p->id, strlen(p->id))) ||
               (r->departments && in_departments(c, r->departments, m));
    }
    if (p->type == ZL_PARTY_EXTERNAL)
        return (r->targets & 4) && (!r->externals || in_list(r->externals, p->id, strlen(p->id)));
    return false;
}

static bool in_range(const zl_rule *r, zl_corp *c, const zl_scope *s, const zl_message *m)
{
    bool external = m->sender.type == ZL_PARTY_EXTERNAL, hit = false;
    uint32_t i;

    if (m->chatid && *m->chatid) {
        if (!(r->chat_types & 4))
            return false;
        if (r->chats && m->msgtype != 21 && !in_list(r->chats, m->chatid, strlen(m->chatid)))
            return false;
    } else if (!(r->chat_types & 2)) {
        return false;
    }
    for (i = 0; i < m->receiver_count; i++)
        external |= m->receivers[i].type == ZL_PARTY_EXTERNAL;
    if (!(r->sessions & (external ? 4u : 2u)))
        return false;
    if (r->msg_scope & 1)
        hit = target(r, c, s, &m->sender);
    for (i = 0; !hit && (r->msg_scope & 2) && i < m->receiver_count; i++)
        hit = target(r, c, s, &m->receivers[i]);
    return hit;
}

/*
 * The text pieces of a message words are matched against: text (1) content; mixed (20) its
 * text items; link (4) and mini program (5) title and description; file (8) filename; voice
 * (6) and audio archive (21) the content's "transcript" when voice is set for that type.
 * semantic_only: just the pieces behaviours are looked for in (text and mixed).
 */
static size_t texts_of(const zl_message *m, const cJSON *content, unsigned voice,
                       bool semantic_only, const char **out)
{
    const cJSON *e;
    size_t n = 0;

#define ADD(s)                                                                                     \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        if (s_ && n < MAX_TEXTS)                                                                   \
            out[n++] = s_;                                                                         \
    } while (0)
    switch (m->msgtype) {
    case 1:
        ADD(zl_json_str(content, "content"));
        break;
    case 20:
        cJSON_ArrayForEach(e, zl_json_get(content, "item"))
        {
            const char *t = zl_json_str(e, "type");

            if (t && !strcmp(t, "text"))
                ADD(zl_json_str(e, "content"));
        }
        break;
    case 4:
    case 5:
        if (!semantic_only) {
            ADD(zl_json_str(content, "title"));
            ADD(zl_json_str(content, "description"));
        }
        break;
    case 8:
        if (!semantic_only)
            ADD(zl_json_str(content, "filename"));
        break;
    case 6:
    case 21:
        if (!semantic_only && (voice & (m->msgtype == 6 ? 2u : 4u)))
            ADD(zl_json_str(content, "transcript"));
        break;
    default:
        break;
    }
#undef ADD
    return n;
}

static bool same(const char *a, const char *b, size_t n, bool cs)
{
    return cs ? !memcmp(a, b, n) : !strncasecmp(a, b, n);
}

/* Whether word hits text: contains, or equals (exact; trim strips spaces, tabs, newlines
 * at both ends first). Without case sensitivity ASCII letters fold. */
static bool word_hit(const char *text, const char *word, bool cs, bool exact, bool trim)
{
    size_t tl = strlen(text), wl = strlen(word), i;

    if (exact) {
        if (trim) {
            while (tl && strchr(" \t\r\n", *text)) {
                text++;
                tl--;
            }
            while (tl && strchr(" \t\r\n", text[tl - 1]))
                tl--;
        }
        return tl == wl && same(text, word, wl, cs);
    }
    for (i = 0; wl && i + wl <= tl; i++)
        if (same(text + i, word, wl, cs))
            return true;
    return false;
}

static bool luhn(const char *p, size_t n)
{
    int sum = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        int d = p[n - 1 - i] - '0';

        if (i % 2 == 1 && (d *= 2) > 9)
            d -= 9;
        sum += d;
    }
    return sum % 10 == 0;
}

/* An 18-character resident ID number: 17 digits then the ISO 7064 MOD 11-2 check. */
static bool id_card(const char *p, char check)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0, i;

    for (i = 0; i < 17; i++)
        sum += (p[i] - '0') * w[i];
    return "10X98765432"[sum % 11] == toupper((unsigned char)check);
}

static bool find_link(const char *t)
{
    static const char *const pats[] = {"http://", "https://", "www.", NULL};
    size_t i, k;

    for (i = 0; t[i]; i++)
        for (k = 0; pats[k]; k++)
            if (!strncasecmp(t + i, pats[k], strlen(pats[k])))
                return true;
    return false;
}

/* Behaviours found in one text piece, among want. */
static unsigned scan_text(const zl_rule *r, const char *t, unsigned want)
{
    unsigned found = 0;
    const char *p = t, *q;

    while (*p) {
        size_t n;

        if (!isdigit((unsigned char)*p)) {
            if (*p == '@' && (want & (1u << ZL_SEM_EMAIL))) {
                const char *a = p, *b = p + 1;

                while (a > t && email_local_char((unsigned char)a[-1]))
                    a--;
                while (email_domain_char((unsigned char)*b))
                    b++;
                while (b > p + 1 && b[-1] == '.')
                    b--;
                if (a < p && domain_ok(p + 1, (size_t)(b - p - 1)) &&
                    !(r->ex_emails && in_list_ci(r->ex_emails, a, (size_t)(b - a))))
                    found |= 1u << ZL_SEM_EMAIL;
            }
            p++;
            continue;
        }
        for (q = p; isdigit((unsigned char)*q); q++)
            ;
        n = (size_t)(q - p);
        if (n == 13 && p > t && p[-1] == '+' && p[0] == '8' && p[1] == '6' && mobile_at(p + 2) &&
            !(r->ex_mobiles && in_mobiles(r->ex_mobiles, p + 2)))
            found |= 1u << ZL_SEM_MOBILE; /* +86 and the number */
        if (n == 11 && mobile_at(p) && !(r->ex_mobiles && in_mobiles(r->ex_mobiles, p)))
            found |= 1u << ZL_SEM_MOBILE;
        if (n >= 16 && n <= 19 && luhn(p, n) && !(r->ex_cards && in_list(r->ex_cards, p, n)))
            found |= 1u << ZL_SEM_BANK_CARD;
        if ((n == 18 && id_card(p, p[17])) ||
            (n == 17 && (*q == 'X' || *q == 'x') && id_card(p, *q)))
            found |= 1u << ZL_SEM_ID_CARD;
        p = q;
    }
    if ((want & (1u << ZL_SEM_LINK)) && find_link(t))
        found |= 1u << ZL_SEM_LINK;
    return found & want;
}

static unsigned behaviours(const zl_rule *r, const zl_message *m, const cJSON *content)
{
    const char *texts[MAX_TEXTS];
    unsigned found = 0, want = r->semantics;
    size_t n, i;

    switch (m->msgtype) {
    case 13:
        found |= 1u << ZL_SEM_RED_PACKET;
        break;
    case 9:
        found |= 1u << ZL_SEM_CARD;
        break;
    case 8:
        found |= 1u << ZL_SEM_FILE;
        break;
    case 4:
        found |= 1u << ZL_SEM_LINK;
        break;
    case 5:
        found |= 1u << ZL_SEM_MINI_PROGRAM;
        break;
    default:
        break;
    }
    found &= want;
    if (want & ((1u << ZL_SEM_MOBILE) | (1u << ZL_SEM_EMAIL) | (1u << ZL_SEM_BANK_CARD) |
                (1u << ZL_SEM_ID_CARD) | (1u << ZL_SEM_LINK))) {
        n = texts_of(m, content, 0, true, texts);
        for (i = 0; i < n; i++)
            found |= scan_text(r, texts[i], want & ~found);
    }
    return found;
}

bool zl_rule_match(const zl_rule *r, zl_corp *c, const zl_scope *scope, const zl_message *m,
                   const cJSON *content, bool *keyword, unsigned *semantics)
{
    const char *texts[MAX_TEXTS];
    size_t n, i, k;
    bool kw = false;
    unsigned sem;

    *keyword = false;
    *semantics = 0;
    if (!zl_rule_hittable(m->msgtype) || !in_range(r, c, scope, m))
        return false;
    n = texts_of(m, content, r->voice, false, texts);
    for (k = 0; k < r->nwords && !kw; k++)
        for (i = 0; i < n && !kw; i++)
            kw = word_hit(texts[i], r->words[k], r->case_sensitive, r->exact, r->trim);
    sem = behaviours(r, m, content);
    if (!kw && !sem)
        return false;
    for (k = 0; k < r->nblacklist; k++)
        for (i = 0; i < n; i++)
            if (word_hit(texts[i], r->blacklist[k], r->case_sensitive, false, false))
                return false;
    *keyword = kw;
    *semantics = sem;
    return true;
}
