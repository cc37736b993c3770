/* world: the corp world model: lookups, consents, archiving into a corp, and the arena
 * and hash index the world module allocates and looks up with. */
#include "wecom/world_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- arena ---- */

typedef struct zl_arena_block {
    struct zl_arena_block *next;
    size_t cap;
    size_t used;
    unsigned char data[];
} arena_block;

void zl_arena_init(struct zl_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size;
    a->bytes = 0;
}

void zl_arena_cleanup(struct zl_arena *a)
{
    arena_block *b = a->head;

    while (b != NULL) {
        arena_block *next = b->next;

        free(b);
        b = next;
    }
    a->head = NULL;
    a->bytes = 0;
}

void *zl_arena_alloc(struct zl_arena *a, size_t size, size_t align)
{
    arena_block *b = a->head;
    size_t cap;

    if (size > SIZE_MAX / 4)
        return NULL;
    if (b != NULL) {
        size_t pad = (align - (size_t)((uintptr_t)(b->data + b->used) & (align - 1))) & (align - 1);

        if (pad + size <= b->cap - b->used) {
            unsigned char *p = b->data + b->used + pad;

            b->used += pad + size;
            memset(p, 0, size);
            return p;
        }
    }
    cap = size + align > a->block_size / 4 ? size + align : a->block_size;
    b = malloc(sizeof *b + cap);
    if (b == NULL)
        return NULL;
    b->cap = cap;
    b->used = 0;
    a->bytes += sizeof *b + cap;
    if (a->head != NULL && cap != a->block_size) {
        /* A large one-off block goes behind the current one, which keeps its free space. */
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    {
        size_t pad = (align - (size_t)((uintptr_t)b->data & (align - 1))) & (align - 1);
        unsigned char *p = b->data + pad;

        b->used = pad + size;
        memset(p, 0, size);
        return p;
    }
}

char *zl_arena_strndup(struct zl_arena *a, const char *s, size_t n)
{
    char *p = zl_arena_alloc(a, n + 1, 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- hash index ---- */

uint32_t zl_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    h ^= h >> 31;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

long zl_hindex_find(const zl_hindex *h, const char *key, uint32_t hash, zl_hkey_fn key_of,
                    const void *ctx)
{
    size_t mask;

    if (h->cap == 0)
        return -1;
    mask = h->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const zl_hslot *s = &h->slots[i];

        if (s->v1 == 0)
            return -1;
        if (s->hash == hash && (!key_of || strcmp(key_of(ctx, s->v1 - 1), key) == 0))
            return (long)(s->v1 - 1);
    }
}

static void hindex_put(zl_hslot *slots, size_t cap, uint32_t hash, uint32_t v1)
{
    size_t mask = cap - 1;
    size_t i = hash & mask;

    while (slots[i].v1 != 0)
        i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].v1 = v1;
}

int zl_hindex_reserve(zl_hindex *h, size_t n)
{
    size_t cap = h->cap != 0 ? h->cap : 16;
    zl_hslot *slots;

    while (cap / 4 * 3 < n) {
        if (cap > SIZE_MAX / 2 / sizeof *slots)
            return -1;
        cap *= 2;
    }
    if (cap == h->cap)
        return 0;
    slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < h->cap; i++)
        if (h->slots[i].v1 != 0)
            hindex_put(slots, cap, h->slots[i].hash, h->slots[i].v1);
    free(h->slots);
    h->slots = slots;
    h->cap = cap;
    return 0;
}

void zl_hindex_insert(zl_hindex *h, uint32_t hash, uint32_t value)
{
    hindex_put(h->slots, h->cap, hash, value + 1);
    h->count++;
}

void zl_hindex_cleanup(zl_hindex *h)
{
    free(h->slots);
    h->slots = NULL;
    h->cap = 0;
    h->count = 0;
}

/* ---- 32-bit key index ---- */

/* A 32-bit mix (murmur3's finaliser, a bijection: distinct ids keep distinct hashes): ids are
 * often 1, 2, 3, ... */
static uint32_t mix32(uint32_t k)
{
    k ^= k >> 16;
    k *= 0x85ebca6bu;
    k ^= k >> 13;
    k *= 0xc2b2ae35u;
    k ^= k >> 16;
    return k;
}

long zl_uindex_find(const zl_uindex *h, uint32_t key)
{
    return zl_hindex_find(h, NULL, mix32(key), NULL, NULL);
}

int zl_uindex_reserve(zl_uindex *h, size_t n)
{
    return zl_hindex_reserve(h, n);
}

void zl_uindex_insert(zl_uindex *h, uint32_t key, uint32_t value)
{
    zl_hindex_insert(h, mix32(key), value);
}

void zl_uindex_cleanup(zl_uindex *h)
{
    zl_hindex_cleanup(h);
}

/* ---- lookups ---- */

static const char *member_key(const void *ctx, uint32_t v)
{
    const zl_corp *c = ctx;

    return c->members[v].userid;
}

static const char *external_key(const void *ctx, uint32_t v)
{
    const zl_corp *c = ctx;

    return c->externals[v].external_userid;
}

static const char *group_key(const void *ctx, uint32_t v)
{
    const zl_corp *c = ctx;

    return c->groups[v].chatid;
}

zl_corp *zl_world_corp(zl_world *w, const char *corpid)
{
    if (w == NULL || corpid == NULL)
        return NULL;
    for (size_t i = 0; i < w->corp_count; i++)
        if (w->corps[i].corpid != NULL && strcmp(w->corps[i].corpid, corpid) == 0)
            return &w->corps[i];
    return NULL;
}

zl_app *zl_corp_app(zl_corp *c, uint32_t agentid)
{
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < c->app_count; i++)
        if (c->apps[i].agentid == agentid)
            return &c->apps[i];
    return NULL;
}

zl_program *zl_corp_program(zl_corp *c, const char *program_id)
{
    if (c == NULL || program_id == NULL)
        return NULL;
    for (size_t i = 0; i < c->program_count; i++)
        if (strcmp(c->programs[i].program_id, program_id) == 0)
            return &c->programs[i];
    return NULL;
}

zl_ability *zl_program_ability(zl_program *p, const char *ability_id)
{
    if (p == NULL || ability_id == NULL)
        return NULL;
    for (size_t i = 0; i < p->ability_count; i++)
        if (strcmp(p->abilities[i].ability_id, ability_id) == 0)
            return &p->abilities[i];
    return NULL;
}

bool zl_program_has_agent(const zl_program *p, uint32_t agentid)
{
    if (p == NULL)
        return false;
    for (size_t i = 0; i < p->agentid_count; i++)
        if (p->agentids[i] == agentid)
            return true;
    return false;
}

long zl_corp_member_index(const zl_corp *c, const char *userid)
{
    if (c == NULL || c->index == NULL || userid == NULL)
        return -1;
    return zl_hindex_find(&c->index->members, userid, zl_hash_str(userid), member_key, c);
}

zl_member *zl_corp_member(zl_corp *c, const char *userid)
{
    long i = zl_corp_member_index(c, userid);

    return i >= 0 ? &c->members[i] : NULL;
}

zl_external *zl_corp_external(zl_corp *c, const char *external_userid)
{
    long i;

    if (c == NULL || c->index == NULL || external_userid == NULL)
        return NULL;
    i = zl_hindex_find(&c->index->externals, external_userid, zl_hash_str(external_userid),
                       external_key, c);
    return i >= 0 ? &c->externals[i] : NULL;
}

zl_group *zl_corp_group(zl_corp *c, const char *chatid)
{
    long i;

    if (c == NULL || c->index == NULL || chatid == NULL)
        return NULL;
    i = zl_hindex_find(&c->index->groups, chatid, zl_hash_str(chatid), group_key, c);
    return i >= 0 ? &c->groups[i] : NULL;
}

const zl_public_key *zl_corp_newest_key(const zl_corp *c)
{
    if (c == NULL || c->public_key_count == 0)
        return NULL;
    return &c->public_keys[c->public_key_count - 1];
}

/* Whether id names an existing party of type (robots are not modelled: any id). */
static int party_exists(zl_corp *c, int type, const char *id)
{
    if (type == ZL_PARTY_EMPLOYEE)
        return zl_corp_member(c, id) != NULL;
    if (type == ZL_PARTY_EXTERNAL)
        return zl_corp_external(c, id) != NULL;
    return 1;
}

int zl_load_party_ref(zl_loader *L, zl_corp *c, int type, const char *id, const char *name,
                      const char *corp_path)
{
    if (party_exists(c, type, id))
        return 0;
    if (type == ZL_PARTY_EMPLOYEE)
        return zl_load_fail(L, "%s \"%s\" is not a userid in %s.members", name, id, corp_path);
    return zl_load_fail(L, "%s \"%s\" is not an external_userid in %s.externals", name, id,
                        corp_path);
}

/* ---- consents ---- */

#define CONSENT_KEY_LEN (2 + 2 * ZL_WORLD_MAX_ID + 1)

/* "u<userid>\x1f<external_userid>" or "g<chatid>\x1f<external_userid>"; -1 when an id is
 * longer than any id of a world (so no decision can match). */
static int consent_key(char out[CONSENT_KEY_LEN], const char *userid, const char *chatid,
                       const char *external_userid)
{
    const char *id = userid != NULL ? userid : chatid;

    if (id == NULL || external_userid == NULL || strlen(id) > ZL_WORLD_MAX_ID ||
        strlen(external_userid) > ZL_WORLD_MAX_ID)
        return -1;
    snprintf(out, CONSENT_KEY_LEN, "%c%s\x1f%s", userid != NULL ? 'u' : 'g', id, external_userid);
    return 0;
}

static const char *consent_key_of(const void *ctx, uint32_t v)
{
    const zl_corp *c = ctx;

    return c->index->consent_keys[v];
}

static long consent_find(const zl_corp *c, const char *key)
{
    return zl_hindex_find(&c->index->consents, key, zl_hash_str(key), consent_key_of, c);
}

/* Checks a decision's references; path names it ("" at run time: then fields stand alone). */
static int consent_check(zl_loader *L, zl_corp *c, const char *path, const char *cpath,
                         const zl_consent *in)
{
    char fp[PATH_LEN];
    const zl_group *g;

    if ((in->userid == NULL) == (in->chatid == NULL))
        return zl_load_fail(L, "%s needs exactly one of userid (a 1:1 chat) and chatid (a group)",
                            path[0] != '\0' ? path : "a consent");
    if (in->userid != NULL && zl_corp_member(c, in->userid) == NULL)
        return zl_load_fail(L, "%s \"%.128s\" is not a userid in %s.members",
                            zl_load_fpath(fp, path, "userid"), in->userid, cpath);
    if (zl_corp_external(c, in->external_userid) == NULL)
        return zl_load_fail(L, "%s \"%.128s\" is not an external_userid in %s.externals",
                            zl_load_fpath(fp, path, "external_userid"), in->external_userid, cpath);
    if (in->chatid == NULL)
        return 0;
    if ((g = zl_corp_group(c, in->chatid)) == NULL)
        return zl_load_fail(L, "%s \"%.128s\" is not a chatid in %s.groups",
                            zl_load_fpath(fp, path, "chatid"), in->chatid, cpath);
    for (size_t k = 0; k < g->member_count; k++)
        if (g->members[k].type == ZL_PARTY_EXTERNAL &&
            strcmp(g->members[k].id, in->external_userid) == 0)
            return 0;
    return zl_load_fail(L, "%s \"%s\" is not an external member (type 2) of group \"%s\"",
                        zl_load_fpath(fp, path, "external_userid"), in->external_userid,
                        in->chatid);
}

/* Records a checked decision under key, replacing the pair's earlier one. */
static int consent_put(zl_loader *L, zl_corp *c, const zl_consent *in, const char *key)
{
    struct zl_corp_index *x = c->index;
    long at = consent_find(c, key);
    zl_consent *d;

    if (at >= 0) {
        c->consents[at].agree = in->agree;
        c->consents[at].change_time = in->change_time;
        return 0;
    }
    if (c->consent_count >= UINT32_MAX - 1)
        return zl_load_fail(L, "a corp holds at most %u consents", UINT32_MAX - 1);
    if (c->consent_count == x->consent_cap) {
        size_t cap = x->consent_cap ? x->consent_cap * 2 : 16;
        zl_consent *list = realloc(c->consents, cap * sizeof *list);
        const char **keys;

        if (list == NULL)
            return zl_load_oom(L);
        c->consents = list;
        keys = realloc(x->consent_keys, cap * sizeof *keys);
        if (keys == NULL)
            return zl_load_oom(L);
        x->consent_keys = keys;
        x->consent_cap = cap;
    }
    if (zl_hindex_reserve(&x->consents, c->consent_count + 1) != 0)
        return zl_load_oom(L);
    d = &c->consents[c->consent_count];
    *d = (zl_consent){.agree = in->agree, .change_time = in->change_time};
    if (zl_load_keep(L, key, &x->consent_keys[c->consent_count]) != 0 ||
        zl_load_keep(L, in->external_userid, &d->external_userid) != 0 ||
        (in->userid != NULL && zl_load_keep(L, in->userid, &d->userid) != 0) ||
        (in->chatid != NULL && zl_load_keep(L, in->chatid, &d->chatid) != 0))
        return -1;
    zl_hindex_insert(&x->consents, zl_hash_str(key), (uint32_t)c->consent_count);
    c->consent_count++;
    return 0;
}

int zl_load_consents(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"userid", "chatid",      "external_userid",
                                       "status", "change_time", NULL};
    const cJSON *arr, *jd;
    char dp[PATH_LEN], fp[PATH_LEN], key[CONSENT_KEY_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jc, cpath, "consents", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0)
        return -1;
    zl_load_fpath(fp, cpath, "consents");
    cJSON_ArrayForEach(jd, arr)
    {
        zl_consent in = {0};
        const char *status = NULL;
        long long change_time = 0;
        long dup;

        zl_load_ipath(dp, fp, i);
        if (zl_load_check_object(L, jd, dp, keys) != 0 ||
            zl_load_get_string(L, jd, dp, "userid", OPTIONAL, ZL_WORLD_MAX_ID, &in.userid) != 0 ||
            zl_load_get_string(L, jd, dp, "chatid", OPTIONAL, ZL_WORLD_MAX_ID, &in.chatid) != 0 ||
            zl_load_get_string(L, jd, dp, "external_userid", REQUIRED, ZL_WORLD_MAX_ID,
                               &in.external_userid) != 0 ||
            zl_load_get_string(L, jd, dp, "status", REQUIRED, ZL_WORLD_MAX_ID, &status) != 0 ||
            zl_load_get_int(L, jd, dp, "change_time", REQUIRED, 0, ZL_WORLD_MAX_TIME,
                            &change_time) != 0 ||
            consent_check(L, c, dp, cpath, &in) != 0)
            return -1;
        if (strcmp(status, "Agree") != 0 && strcmp(status, "Disagree") != 0)
            return zl_load_fail(L, "%s.status must be \"Agree\" or \"Disagree\" (got \"%.64s\")",
                                dp, status);
        in.agree = strcmp(status, "Agree") == 0;
        in.change_time = change_time;
        consent_key(key, in.userid, in.chatid, in.external_userid);
        if ((dup = consent_find(c, key)) >= 0)
            return zl_load_fail(L, "%s decides the same %s and external_userid as %s[%ld]", dp,
                                in.userid != NULL ? "userid" : "chatid", fp, dup);
        if (consent_put(L, c, &in, key) != 0)
            return -1;
        i++;
    }
    return 0;
}

const zl_consent *zl_corp_consent(const zl_corp *c, const char *userid, const char *chatid,
                                  const char *external_userid)
{
    char key[CONSENT_KEY_LEN];
    long i;

    if (c == NULL || c->index == NULL || (userid == NULL) == (chatid == NULL) ||
        consent_key(key, userid, chatid, external_userid) != 0)
        return NULL;
    i = consent_find(c, key);
    return i >= 0 ? &c->consents[i] : NULL;
}

int zl_corp_consent_set(zl_world *w, zl_corp *c, const zl_consent *in, char *err, size_t errlen)
{
    zl_loader L = {.err = err, .errlen = errlen, .w = w, .a = w != NULL ? w->arena : NULL};
    char key[CONSENT_KEY_LEN];

    if (w == NULL || c == NULL || in == NULL || in->external_userid == NULL)
        return zl_load_fail(&L, "external_userid is missing");
    if (consent_check(&L, c, "", "the corp", in) != 0)
        return -1;
    consent_key(key, in->userid, in->chatid, in->external_userid); /* ids exist: short enough */
    return consent_put(&L, c, in, key);
}

/* ---- messages into a corp ---- */

/* A message read from the file, waiting to be sorted by send_time and archived. */
typedef struct pending {
    zl_message_in in;
    size_t file_index;
    const cJSON *content; /* an object to print, or NULL */
    zl_party *receivers;
} pending;

static int pending_cmp(const void *a, const void *b)
{
    const pending *x = a, *y = b;

    if (x->in.send_time != y->in.send_time)
        return x->in.send_time < y->in.send_time ? -1 : 1;
    return x->file_index < y->file_index ? -1 : x->file_index > y->file_index;
}

static int read_party(zl_loader *L, const cJSON *v, const char *name, zl_party *out)
{
    static const char *const keys[] = {"type", "id", NULL};
    long long type = 0;

    if (zl_load_check_object(L, v, name, keys) != 0 ||
        zl_load_get_int(L, v, name, "type", REQUIRED, 1, 3, &type) != 0 ||
        zl_load_get_string(L, v, name, "id", REQUIRED, ZL_WORLD_MAX_ID, &out->id) != 0)
        return -1;
    out->type = (int)type;
    return 0;
}

/* Reads and checks one message of the file into p (strings borrowed from the tree). */
static int read_message(zl_loader *L, const cJSON *jm, const char *mp, const char *cpath,
                        zl_corp *c, pending *p)
{
    static const char *const keys[] = {"msgid",         "sender",  "receivers", "chatid",
                                       "send_time",     "msgtype", "content",   "secret_key",
                                       "call_duration", NULL};
    const cJSON *sender, *arr, *jr, *content;
    char fp[PATH_LEN], rp[PATH_LEN], ip[PATH_LEN];
    long long send_time = 0, msgtype = 0, call_duration = 0;
    size_t n, k = 0;

    p->in.chatid = "";
    if (zl_load_check_object(L, jm, mp, keys) != 0 ||
        zl_load_get_string(L, jm, mp, "msgid", REQUIRED, ZL_WORLD_MAX_ID, &p->in.msgid) != 0 ||
        zl_load_get_string(L, jm, mp, "chatid", EMPTY_OK, ZL_WORLD_MAX_ID, &p->in.chatid) != 0 ||
        zl_load_get_int(L, jm, mp, "send_time", REQUIRED, 0, ZL_WORLD_MAX_TIME, &send_time) != 0 ||
        zl_load_get_int(L, jm, mp, "msgtype", REQUIRED, 0, ZL_MSGTYPE_MAX, &msgtype) != 0 ||
        zl_load_get_int(L, jm, mp, "call_duration", OPTIONAL, 0, INT32_MAX, &call_duration) != 0 ||
        zl_load_get_string(L, jm, mp, "secret_key", OPTIONAL, ZL_MSG_MAX_SECRET,
                           &p->in.secret_key) != 0)
        return -1;
    sender = cJSON_GetObjectItemCaseSensitive(jm, "sender");
    zl_load_fpath(fp, mp, "sender");
    if (sender == NULL)
        return zl_load_fail(L, "%s is missing", fp);
    if (read_party(L, sender, fp, &p->in.sender) != 0 ||
        zl_load_party_ref(L, c, p->in.sender.type, p->in.sender.id, zl_load_fpath(ip, fp, "id"),
                          cpath))
        return -1;
    if (zl_load_get_array(L, jm, mp, "receivers", REQUIRED, ZL_MSG_MAX_RECEIVERS, &arr, &n) != 0)
        return -1;
    if (n == 0)
        return zl_load_fail(L, "%s.receivers must hold at least one receiver", mp);
    p->receivers = calloc(n, sizeof *p->receivers);
    if (p->receivers == NULL)
        return zl_load_oom(L);
    zl_load_fpath(fp, mp, "receivers");
    cJSON_ArrayForEach(jr, arr)
    {
        zl_party *r = &p->receivers[k];

        zl_load_ipath(rp, fp, k);
        if (read_party(L, jr, rp, r) != 0 ||
            zl_load_party_ref(L, c, r->type, r->id, zl_load_fpath(ip, rp, "id"), cpath) != 0)
            return -1;
        k++;
    }
    if (p->in.chatid[0] != '\0' && zl_corp_group(c, p->in.chatid) == NULL)
        return zl_load_fail(L, "%s.chatid \"%s\" is not a chatid in %s.groups", mp, p->in.chatid,
                            cpath);
    content = cJSON_GetObjectItemCaseSensitive(jm, "content");
    if (content != NULL && cJSON_IsString(content))
        p->in.content = content->valuestring; /* JSON text, kept byte for byte */
    else if (content != NULL && cJSON_IsObject(content))
        p->content = content;
    else if (content != NULL)
        return zl_load_fail(L, "%s.content must be a JSON object, or a string holding one (got %s)",
                            mp, zl_load_type_name(content));
    p->in.receivers = p->receivers;
    p->in.receiver_count = n;
    p->in.send_time = send_time;
    p->in.msgtype = (int)msgtype;
    p->in.call_duration = (int)call_duration;
    return 0;
}

int zl_load_messages(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    const cJSON *arr, *jm;
    char mp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;
    pending *ps;
    int rc = -1;

    if (zl_load_get_array(L, jc, cpath, "messages", OPTIONAL, MAX_MESSAGES, &arr, &n) != 0)
        return -1;
    if (n == 0)
        return 0;
    ps = calloc(n, sizeof *ps);
    if (ps == NULL)
        return zl_load_oom(L);
    zl_load_fpath(fp, cpath, "messages");
    cJSON_ArrayForEach(jm, arr)
    {
        zl_load_ipath(mp, fp, i);
        ps[i].file_index = i;
        if (read_message(L, jm, mp, cpath, c, &ps[i]) != 0)
            goto out;
        i++;
    }
    qsort(ps, n, sizeof *ps, pending_cmp); /* stable: ties keep file order */
    for (i = 0; i < n; i++) {
        char why[512];
        char *printed = NULL;
        int ok;

        if (ps[i].content != NULL) {
            printed = cJSON_PrintUnformatted(ps[i].content);
            if (printed == NULL) {
                zl_load_oom(L);
                goto out;
            }
            ps[i].in.content = printed;
        }
        ok = zl_msgstore_append(c->messages, &ps[i].in, why, sizeof why);
        cJSON_free(printed);
        if (ok != 0) {
            zl_load_fail(L, "%s.%s", zl_load_ipath(mp, fp, ps[i].file_index), why);
            goto out;
        }
    }
    rc = 0;
out:
    for (i = 0; i < n; i++)
        free(ps[i].receivers);
    free(ps);
    return rc;
}

long zl_corp_archive_json(zl_world *w, zl_corp *c, const cJSON *arr, int64_t default_time,
                          char *err, size_t errlen)
{
    zl_loader L = {.err = err, .errlen = errlen, .w = w};
    const cJSON *jm;
    char mp[PATH_LEN];
    long done = 0;

    if (!cJSON_IsArray(arr)) {
        zl_load_fail(&L, "messages must be an array of message objects");
        return -1;
    }
    cJSON_ArrayForEach(jm, arr)
    {
        pending p = {0};
        cJSON *copy = NULL;
        char why[512], *printed = NULL;
        int ok;

        zl_load_ipath(mp, "messages", (size_t)done);
        if (cJSON_IsObject(jm) && !cJSON_GetObjectItemCaseSensitive(jm, "send_time")) {
            copy = cJSON_Duplicate(jm, 1);
            if (!copy || !cJSON_AddNumberToObject(copy, "send_time", (double)default_time)) {
                cJSON_Delete(copy);
                zl_load_oom(&L);
                return -1;
            }
        }
        if (read_message(&L, copy ? copy : jm, mp, "the corp", c, &p) != 0) {
            free(p.receivers);
            cJSON_Delete(copy);
            return -1;
        }
        if (p.content != NULL && !(printed = cJSON_PrintUnformatted(p.content))) {
            free(p.receivers);
            cJSON_Delete(copy);
            zl_load_oom(&L);
            return -1;
        }
        if (printed)
            p.in.content = printed;
        ok = zl_msgstore_append(c->messages, &p.in, why, sizeof why);
        cJSON_free(printed);
        free(p.receivers);
        cJSON_Delete(copy);
        if (ok != 0) {
            zl_load_fail(&L, "%s.%s", mp, why);
            return -1;
        }
        done++;
    }
    return done;
}
