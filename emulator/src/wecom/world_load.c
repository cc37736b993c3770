/* world_load: reads a world from JSON (a file, text, or the built-in default) and checks it,
 * each refusal one sentence that names the JSON path of the problem. */
#include "wecom/world_int.h"

#include "core/err.h"
#include "wecom/msgkey.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define MAX_REPLICAS 64
#define WORLD_BLOCK  (16u * 1024u) /* arena block of the world */
#define RSA_KEY_BITS 2048

/* Drains OpenSSL's error queue into buf (the last reason), or "" when empty. */
static void ssl_reason(char *buf, size_t n)
{
    unsigned long e, last = 0;

    while ((e = ERR_get_error()) != 0)
        last = e;
    buf[0] = '\0';
    if (last != 0)
        ERR_error_string_n(last, buf, n);
}

/* Checks that pem (len bytes) is a PEM SubjectPublicKeyInfo holding an RSA-2048 key. */
static int check_rsa_pem(zl_loader *L, const char *pem, size_t len, const char *name)
{
    BIO *bio;
    EVP_PKEY *pkey;
    char why[200];
    int id, bits;

    if (len > ZL_WORLD_MAX_PEM)
        return zl_load_fail(L, "%s must be at most %d bytes of PEM (got %zu)", name,
                            ZL_WORLD_MAX_PEM, len);
    /* A key as the SDK face wants it: parsed once per process and kept (msgkey.c), so the
     * emulator's start finds it parsed. Anything else is read here, for the world's message. */
    if ((pkey = zl_msgkey_load_public(pem, len, NULL, 0)) != NULL) {
        EVP_PKEY_free(pkey);
        return 0;
    }
    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return zl_load_oom(L);
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (pkey == NULL) {
        ssl_reason(why, sizeof why);
        return zl_load_fail(
            L,
            "%s is not a PEM public key (\"-----BEGIN PUBLIC KEY-----\"); OpenSSL says: "
            "%s",
            name, why[0] ? why : "no detail");
    }
    id = EVP_PKEY_get_base_id(pkey);
    bits = EVP_PKEY_get_bits(pkey);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    if (id != EVP_PKEY_RSA)
        return zl_load_fail(L, "%s is not an RSA key; WeCom wants RSA-2048", name);
    if (bits != RSA_KEY_BITS)
        return zl_load_fail(L, "%s is an RSA-%d key; WeCom wants RSA-2048", name, bits);
    return 0;
}

/* Reads the pem_file of a key into the world's arena. */
static int read_pem_file(zl_loader *L, const char *file, const char *name, const char **out,
                         size_t *len)
{
    char full[4096];
    FILE *f;
    char *buf;
    size_t n;

    if (file[0] == '/')
        snprintf(full, sizeof full, "%s", file);
    else if (L->base_dir == NULL)
        return zl_load_fail(L, "%s \"%s\" is relative but the world was not loaded from a file",
                            name, file);
    else if ((size_t)snprintf(full, sizeof full, "%s/%s", L->base_dir, file) >= sizeof full)
        return zl_load_fail(L, "%s \"%s\" makes a path that is too long", name, file);
    f = fopen(full, "rb");
    if (f == NULL)
        return zl_load_fail(L, "%s \"%s\" cannot be opened (%s): %s", name, file, full,
                            strerror(errno));
    buf = zl_arena_alloc(L->a, ZL_WORLD_MAX_PEM + 2, 1);
    if (buf == NULL) {
        fclose(f);
        return zl_load_oom(L);
    }
    n = fread(buf, 1, ZL_WORLD_MAX_PEM + 1, f);
    if (ferror(f)) {
        fclose(f);
        return zl_load_fail(L, "%s \"%s\" cannot be read (%s)", name, file, full);
    }
    fclose(f);
    if (n > ZL_WORLD_MAX_PEM)
        return zl_load_fail(L, "%s \"%s\" is larger than %d bytes", name, file, ZL_WORLD_MAX_PEM);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* An ability protocol: an object, or a string holding one; stored as compact JSON text. */
static int load_protocol(zl_loader *L, const cJSON *o, const char *path, const char *key,
                         const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    cJSON *parsed = NULL;
    char fp[PATH_LEN];
    char *text;
    int rc;

    zl_load_fpath(fp, path, key);
    if (v == NULL)
        return zl_load_fail(L, "%s is missing", fp);
    if (cJSON_IsString(v)) {
        parsed = cJSON_ParseWithOpts(v->valuestring, NULL, 1);
        if (parsed == NULL || !cJSON_IsObject(parsed)) {
            cJSON_Delete(parsed);
            return zl_load_fail(
                L,
                "%s must be a JSON object (got a string that is not the JSON text of "
                "one); WeCom refuses such a protocol example with errcode 790012",
                fp);
        }
        v = parsed;
    } else if (!cJSON_IsObject(v)) {
        return zl_load_fail(
            L,
            "%s must be a JSON object (got %s); WeCom refuses such a protocol example "
            "with errcode 790012",
            fp, zl_load_type_name(v));
    }
    text = cJSON_PrintUnformatted(v);
    cJSON_Delete(parsed);
    if (text == NULL)
        return zl_load_oom(L);
    rc = zl_load_keep(L, text, out);
    cJSON_free(text);
    return rc;
}

/* Whether app object ja gives auth.permanent_code as a string (a 代开发 app's secret). */
static bool has_permanent_code(const cJSON *ja)
{
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(ja, "auth");

    return cJSON_IsObject(auth) &&
           cJSON_IsString(cJSON_GetObjectItemCaseSensitive(auth, "permanent_code"));
}

/* Refuses a secret that another app of the world has already: gettoken finds apps by it. */
static int check_secret_unique(zl_loader *L, const zl_corp *c, const char *ap, const char *secret)
{
    for (size_t ci = 0; ci < L->w->corp_count; ci++) {
        const zl_corp *other = &L->w->corps[ci];

        for (size_t k = 0; k < other->app_count; k++)
            if (strcmp(other->apps[k].secret, secret) == 0)
                return zl_load_fail(
                    L,
                    "%s.secret is already the secret of corps[%zu].apps[%zu]; each app needs "
                    "its own secret",
                    ap, ci, k);
        if (other == c)
            break;
    }
    return 0;
}

static int load_apps(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"agentid",
                                       "name",
                                       "secret",
                                       "callback_url",
                                       "token",
                                       "encoding_aes_key",
                                       "kind",
                                       "data_permission",
                                       "general_model",
                                       "suite_id",
                                       "auth",
                                       "public_keys",
                                       NULL};
    const cJSON *arr, *ja;
    char ap[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jc, cpath, "apps", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *c->apps, &c->apps) != 0)
        return -1;
    zl_load_fpath(fp, cpath, "apps");
    cJSON_ArrayForEach(ja, arr)
    {
        zl_app *app = &c->apps[i];
        const char *name = NULL, *secret = NULL, *url = "", *token = NULL, *key = NULL;
        const char *kind = "third_party";
        long long agentid = 0;

        zl_load_ipath(ap, fp, i);
        app->data_permission = true;
        app->general_model = true;
        if (zl_load_check_object(L, ja, ap, keys) != 0 ||
            zl_load_get_int(L, ja, ap, "agentid", REQUIRED, 1, UINT32_MAX, &agentid) != 0 ||
            zl_load_get_string(L, ja, ap, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0 ||
            zl_load_get_string(L, ja, ap, "kind", OPTIONAL, 32, &kind) != 0)
            return -1;
        if (strcmp(kind, "self_built") == 0)
            app->kind = ZL_APP_SELF_BUILT;
        else if (strcmp(kind, "custom") == 0)
            app->kind = ZL_APP_CUSTOM;
        else if (strcmp(kind, "third_party") == 0)
            app->kind = ZL_APP_THIRD_PARTY;
        else
            return zl_load_fail(
                L, "%s.kind must be \"third_party\", \"custom\" (代开发) or \"self_built\"", ap);
        /* A 代开发 app's secret may come as its auth.permanent_code instead. */
        if (zl_load_get_string(L, ja, ap, "secret",
                               app->kind == ZL_APP_CUSTOM && has_permanent_code(ja) ? OPTIONAL
                                                                                    : REQUIRED,
                               ZL_WORLD_MAX_NAME, &secret) != 0 ||
            zl_load_get_string(L, ja, ap, "callback_url", EMPTY_OK, ZL_WORLD_MAX_URL, &url) != 0 ||
            zl_load_get_string(L, ja, ap, "token", REQUIRED, ZL_WORLD_MAX_TOKEN, &token) != 0 ||
            zl_load_get_string(L, ja, ap, "encoding_aes_key", REQUIRED | EMPTY_OK, SIZE_MAX,
                               &key) != 0 ||
            zl_load_get_bool(L, ja, ap, "data_permission", &app->data_permission) != 0 ||
            zl_load_get_bool(L, ja, ap, "general_model", &app->general_model) != 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (c->apps[k].agentid == agentid)
                return zl_load_fail(L, "%s.agentid %lld is already used by %s[%zu]", ap, agentid,
                                    fp, k);
        if ((secret != NULL && check_secret_unique(L, c, ap, secret) != 0) ||
            zl_load_callback(L, ap, "app", url, token, key) != 0)
            return -1;
        app->agentid = (uint32_t)agentid;
        if (zl_load_keep(L, name, &app->name) != 0 ||
            zl_load_keep(L, url, &app->callback_url) != 0 ||
            zl_load_keep(L, token, &app->token) != 0 ||
            zl_load_keep(L, key, &app->encoding_aes_key) != 0 ||
            zl_load_app_auth(L, ja, ap, cpath, c, app, secret) != 0)
            return -1;
        if (secret == NULL && check_secret_unique(L, c, ap, app->secret) != 0)
            return -1;      /* the secret came from auth.permanent_code */
        c->app_count = ++i; /* counted once complete: the secret scans read it */
    }
    return zl_load_share_seats(L, arr, cpath, c);
}

static int load_abilities(zl_loader *L, const cJSON *jp, const char *pp, zl_program *p)
{
    static const char *const keys[] = {"ability_id", "input_protocol", "output_protocol", NULL};
    const cJSON *arr, *jb;
    char bp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jp, pp, "abilities", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *p->abilities, &p->abilities) != 0)
        return -1;
    zl_load_fpath(fp, pp, "abilities");
    cJSON_ArrayForEach(jb, arr)
    {
        zl_ability *b = &p->abilities[i];
        const char *id = NULL;

        zl_load_ipath(bp, fp, i);
        if (zl_load_check_object(L, jb, bp, keys) != 0 ||
            zl_load_get_string(L, jb, bp, "ability_id", REQUIRED, ZL_WORLD_MAX_ID, &id) != 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (strcmp(p->abilities[k].ability_id, id) == 0)
                return zl_load_fail(L, "%s.ability_id \"%s\" is already used by %s[%zu]", bp, id,
                                    fp, k);
        if (zl_load_keep(L, id, &b->ability_id) != 0 ||
            load_protocol(L, jb, bp, "input_protocol", &b->input_protocol) != 0 ||
            load_protocol(L, jb, bp, "output_protocol", &b->output_protocol) != 0)
            return -1;
        p->ability_count = ++i;
    }
    return 0;
}

static int load_programs(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"program_id", "role",      "agentids", "replicas",
                                       "abilities",  "debug_url", NULL};
    const cJSON *arr, *jp;
    char pp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jc, cpath, "programs", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *c->programs, &c->programs) != 0)
        return -1;
    zl_load_fpath(fp, cpath, "programs");
    cJSON_ArrayForEach(jp, arr)
    {
        zl_program *p = &c->programs[i];
        const char *id = NULL, *role = NULL, *debug_url = "";
        long long replicas = 1;
        const cJSON *agents, *ja;
        size_t na, k = 0;
        uint32_t *agentids = NULL;
        char gp[PATH_LEN], ep[PATH_LEN];

        zl_load_ipath(pp, fp, i);
        if (zl_load_check_object(L, jp, pp, keys) != 0 ||
            zl_load_get_string(L, jp, pp, "program_id", REQUIRED, ZL_WORLD_MAX_ID, &id) != 0 ||
            zl_load_get_string(L, jp, pp, "role", REQUIRED, ZL_WORLD_MAX_ID, &role) != 0 ||
            zl_load_get_int(L, jp, pp, "replicas", OPTIONAL, 1, MAX_REPLICAS, &replicas) != 0 ||
            zl_load_get_string(L, jp, pp, "debug_url", EMPTY_OK, ZL_WORLD_MAX_URL, &debug_url) !=
                0 ||
            zl_load_get_array(L, jp, pp, "agentids", OPTIONAL, ZL_WORLD_MAX_ITEMS, &agents, &na) !=
                0 ||
            zl_load_keep_array(L, na, sizeof *agentids, &agentids) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->programs[j].program_id, id) == 0)
                return zl_load_fail(L, "%s.program_id \"%s\" is already used by %s[%zu]", pp, id,
                                    fp, j);
        if (*debug_url && !zl_world_url_ok(debug_url))
            return zl_load_fail(L,
                                "%s.debug_url must be \"\" (none) or an http:// or https:// URL "
                                "(the debug program's server, doc 54809)",
                                pp);
        if (strcmp(role, "program") == 0)
            p->role = ZL_ROLE_PROGRAM;
        else if (strcmp(role, "model") == 0)
            p->role = ZL_ROLE_MODEL;
        else
            return zl_load_fail(L, "%s.role must be \"program\" or \"model\" (got \"%s\")", pp,
                                role);
        zl_load_fpath(gp, pp, "agentids");
        cJSON_ArrayForEach(ja, agents)
        {
            long long agentid = 0;

            zl_load_ipath(ep, gp, k);
            if (zl_load_int_value(L, ja, ep, 1, UINT32_MAX, &agentid) != 0)
                return -1;
            if (zl_corp_app(c, (uint32_t)agentid) == NULL)
                return zl_load_fail(L, "%s %lld is not an agentid in %s.apps", ep, agentid, cpath);
            for (size_t j = 0; j < k; j++)
                if (agentids[j] == agentid)
                    return zl_load_fail(L, "%s %lld is listed twice", ep, agentid);
            agentids[k++] = (uint32_t)agentid;
        }
        p->agentids = agentids;
        p->agentid_count = na;
        p->replicas = (uint32_t)replicas;
        if (zl_load_keep(L, id, &p->program_id) != 0 ||
            zl_load_keep(L, debug_url, &p->debug_url) != 0 || load_abilities(L, jp, pp, p) != 0)
            return -1;
        c->program_count = ++i;
    }
    return 0;
}

static int load_members(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"userid", "name",        "edition",    "in_scope",
                                       "alias",  "name_pinyin", "department", NULL};
    const cJSON *arr, *jm;
    char mp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jc, cpath, "members", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *c->members, &c->members) != 0)
        return -1;
    if (zl_hindex_reserve(&c->index->members, n) != 0)
        return zl_load_oom(L);
    zl_load_fpath(fp, cpath, "members");
    cJSON_ArrayForEach(jm, arr)
    {
        zl_member *m = &c->members[i];
        const char *userid = NULL, *name = NULL, *alias = "", *pinyin = "";
        long long edition = 3;
        const zl_member *dup;

        zl_load_ipath(mp, fp, i);
        m->in_scope = true;
        if (zl_load_check_object(L, jm, mp, keys) != 0 ||
            zl_load_get_string(L, jm, mp, "userid", REQUIRED, ZL_WORLD_MAX_ID, &userid) != 0 ||
            zl_load_get_string(L, jm, mp, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0 ||
            zl_load_get_int(L, jm, mp, "edition", OPTIONAL, 1, 3, &edition) != 0 ||
            zl_load_get_bool(L, jm, mp, "in_scope", &m->in_scope) != 0 ||
            zl_load_get_string(L, jm, mp, "alias", EMPTY_OK, ZL_WORLD_MAX_NAME, &alias) != 0 ||
            zl_load_get_string(L, jm, mp, "name_pinyin", EMPTY_OK, ZL_WORLD_MAX_NAME, &pinyin) != 0)
            return -1;
        dup = zl_corp_member(c, userid);
        if (dup != NULL)
            return zl_load_fail(L, "%s.userid \"%s\" is already used by %s[%td]", mp, userid, fp,
                                dup - c->members);
        m->edition = (int)edition;
        if (zl_load_keep(L, userid, &m->userid) != 0 || zl_load_keep(L, name, &m->name) != 0 ||
            zl_load_keep(L, alias, &m->alias) != 0 ||
            zl_load_keep(L, pinyin, &m->name_pinyin) != 0 ||
            zl_load_ref_list(L, jm, mp, "department", cpath, c, ZL_REF_DEPARTMENT, &m->departments,
                             &m->department_count) != 0)
            return -1;
        zl_hindex_insert(&c->index->members, zl_hash_str(userid), (uint32_t)i);
        c->member_count = ++i;
    }
    return 0;
}

/* An external's follow_users: userids of members, each listed once. */
static int load_follow_users(zl_loader *L, const cJSON *je, const char *ep, const char *cpath,
                             zl_corp *c, zl_external *x)
{
    const cJSON *arr, *ju;
    const char **users = NULL;
    char fp[PATH_LEN], up[PATH_LEN];
    size_t n, k = 0;

    if (zl_load_get_array(L, je, ep, "follow_users", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *users, &users) != 0)
        return -1;
    zl_load_fpath(fp, ep, "follow_users");
    cJSON_ArrayForEach(ju, arr)
    {
        const zl_member *m;

        zl_load_ipath(up, fp, k);
        if (!cJSON_IsString(ju))
            return zl_load_fail(L, "%s must be a userid string (got %s)", up,
                                zl_load_type_name(ju));
        if ((m = zl_corp_member(c, ju->valuestring)) == NULL)
            return zl_load_fail(L, "%s \"%.128s\" is not a userid in %s.members", up,
                                ju->valuestring, cpath);
        for (size_t j = 0; j < k; j++)
            if (users[j] == m->userid)
                return zl_load_fail(L, "%s \"%s\" is already listed as %s[%zu]", up, m->userid, fp,
                                    j);
        users[k++] = m->userid;
    }
    x->follow_users = users;
    x->follow_user_count = n;
    return 0;
}

static int load_externals(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"external_userid", "name",          "corp_name",    "remark",
                                       "name_pinyin",     "remark_pinyin", "follow_users", NULL};
    const cJSON *arr, *je;
    char ep[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jc, cpath, "externals", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *c->externals, &c->externals) != 0)
        return -1;
    if (zl_hindex_reserve(&c->index->externals, n) != 0)
        return zl_load_oom(L);
    zl_load_fpath(fp, cpath, "externals");
    cJSON_ArrayForEach(je, arr)
    {
        zl_external *x = &c->externals[i];
        const char *id = NULL, *name = NULL, *corp_name = "", *remark = "", *pinyin = "",
                   *remark_pinyin = "";
        const zl_external *dup;

        zl_load_ipath(ep, fp, i);
        if (zl_load_check_object(L, je, ep, keys) != 0 ||
            zl_load_get_string(L, je, ep, "external_userid", REQUIRED, ZL_WORLD_MAX_ID, &id) != 0 ||
            zl_load_get_string(L, je, ep, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0 ||
            zl_load_get_string(L, je, ep, "corp_name", EMPTY_OK, ZL_WORLD_MAX_NAME, &corp_name) !=
                0 ||
            zl_load_get_string(L, je, ep, "remark", EMPTY_OK, ZL_WORLD_MAX_NAME, &remark) != 0 ||
            zl_load_get_string(L, je, ep, "name_pinyin", EMPTY_OK, ZL_WORLD_MAX_NAME, &pinyin) !=
                0 ||
            zl_load_get_string(L, je, ep, "remark_pinyin", EMPTY_OK, ZL_WORLD_MAX_NAME,
                               &remark_pinyin) != 0)
            return -1;
        dup = zl_corp_external(c, id);
        if (dup != NULL)
            return zl_load_fail(L, "%s.external_userid \"%s\" is already used by %s[%td]", ep, id,
                                fp, dup - c->externals);
        if (zl_load_keep(L, id, &x->external_userid) != 0 || zl_load_keep(L, name, &x->name) != 0 ||
            zl_load_keep(L, corp_name, &x->corp_name) != 0 ||
            zl_load_keep(L, remark, &x->remark) != 0 ||
            zl_load_keep(L, pinyin, &x->name_pinyin) != 0 ||
            zl_load_keep(L, remark_pinyin, &x->remark_pinyin) != 0 ||
            load_follow_users(L, je, ep, cpath, c, x) != 0)
            return -1;
        zl_hindex_insert(&c->index->externals, zl_hash_str(id), (uint32_t)i);
        c->external_count = ++i;
    }
    return 0;
}

static int load_group_members(zl_loader *L, const cJSON *jg, const char *gp, const char *cpath,
                              zl_corp *c, zl_group *g)
{
    static const char *const keys[] = {"id", "type", "jointime", NULL};
    const cJSON *arr, *jm;
    char mp[PATH_LEN], fp[PATH_LEN], idp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jg, gp, "members", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *g->members, &g->members) != 0)
        return -1;
    zl_load_fpath(fp, gp, "members");
    cJSON_ArrayForEach(jm, arr)
    {
        zl_group_member *m = &g->members[i];
        const char *id = NULL;
        long long type = 0, jointime = 0;

        zl_load_ipath(mp, fp, i);
        if (zl_load_check_object(L, jm, mp, keys) != 0 ||
            zl_load_get_string(L, jm, mp, "id", REQUIRED, ZL_WORLD_MAX_ID, &id) != 0 ||
            zl_load_get_int(L, jm, mp, "type", REQUIRED, 1, 3, &type) != 0 ||
            zl_load_get_int(L, jm, mp, "jointime", REQUIRED, 0, ZL_WORLD_MAX_TIME, &jointime) !=
                0 ||
            zl_load_party_ref(L, c, (int)type, id, zl_load_fpath(idp, mp, "id"), cpath) != 0)
            return -1;
        for (size_t k = 0; k < i; k++)
            if (g->members[k].type == type && strcmp(g->members[k].id, id) == 0)
                return zl_load_fail(L, "%s.id \"%s\" is already listed as %s[%zu]", mp, id, fp, k);
        m->type = (int)type;
        m->jointime = jointime;
        if (zl_load_keep(L, id, &m->id) != 0)
            return -1;
        g->member_count = ++i;
    }
    return 0;
}

static int load_groups(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"chatid",      "name",    "kind", "creator",
                                       "create_time", "members", NULL};
    const cJSON *arr, *jg;
    char gp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jc, cpath, "groups", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *c->groups, &c->groups) != 0)
        return -1;
    if (zl_hindex_reserve(&c->index->groups, n) != 0)
        return zl_load_oom(L);
    zl_load_fpath(fp, cpath, "groups");
    cJSON_ArrayForEach(jg, arr)
    {
        zl_group *g = &c->groups[i];
        const char *chatid = NULL, *name = NULL, *kind = NULL, *creator = NULL;
        long long create_time = 0;
        const zl_group *dup;

        zl_load_ipath(gp, fp, i);
        if (zl_load_check_object(L, jg, gp, keys) != 0 ||
            zl_load_get_string(L, jg, gp, "chatid", REQUIRED, ZL_WORLD_MAX_ID, &chatid) != 0 ||
            zl_load_get_string(L, jg, gp, "name", REQUIRED | EMPTY_OK, ZL_WORLD_MAX_NAME, &name) !=
                0 ||
            zl_load_get_string(L, jg, gp, "kind", REQUIRED, ZL_WORLD_MAX_ID, &kind) != 0 ||
            zl_load_get_string(L, jg, gp, "creator", REQUIRED, ZL_WORLD_MAX_ID, &creator) != 0 ||
            zl_load_get_int(L, jg, gp, "create_time", REQUIRED, 0, ZL_WORLD_MAX_TIME,
                            &create_time) != 0)
            return -1;
        dup = zl_corp_group(c, chatid);
        if (dup != NULL)
            return zl_load_fail(L, "%s.chatid \"%s\" is already used by %s[%td]", gp, chatid, fp,
                                dup - c->groups);
        if (strcmp(kind, "internal") == 0)
            g->kind = ZL_GROUP_INTERNAL;
        else if (strcmp(kind, "customer") == 0)
            g->kind = ZL_GROUP_CUSTOMER;
        else
            return zl_load_fail(L, "%s.kind must be \"internal\" or \"customer\" (got \"%s\")", gp,
                                kind);
        if (zl_corp_member(c, creator) == NULL)
            return zl_load_fail(L, "%s.creator \"%s\" is not a userid in %s.members", gp, creator,
                                cpath);
        g->create_time = create_time;
        if (zl_load_keep(L, chatid, &g->chatid) != 0 || zl_load_keep(L, name, &g->name) != 0 ||
            zl_load_keep(L, creator, &g->creator) != 0 ||
            load_group_members(L, jg, gp, cpath, c, g) != 0)
            return -1;
        zl_hindex_insert(&c->index->groups, zl_hash_str(chatid), (uint32_t)i);
        c->group_count = ++i;
    }
    return 0;
}

int zl_load_public_keys(zl_loader *L, const cJSON *o, const char *path, zl_public_key **list,
                        size_t *count)
{
    static const char *const keys[] = {"version", "pem", "pem_file", NULL};
    const cJSON *arr, *jk;
    char kp[PATH_LEN], fp[PATH_LEN], np[PATH_LEN];
    size_t n, i = 0;

    *count = 0;
    if (zl_load_get_array(L, o, path, "public_keys", OPTIONAL, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof **list, list) != 0)
        return -1;
    zl_load_fpath(fp, path, "public_keys");
    cJSON_ArrayForEach(jk, arr)
    {
        zl_public_key *k = &(*list)[i];
        const char *pem = NULL, *file = NULL;
        long long version = 0;

        zl_load_ipath(kp, fp, i);
        if (zl_load_check_object(L, jk, kp, keys) != 0 ||
            zl_load_get_int(L, jk, kp, "version", REQUIRED, 1, UINT32_MAX, &version) != 0 ||
            zl_load_get_string(L, jk, kp, "pem", OPTIONAL, ZL_WORLD_MAX_PEM, &pem) != 0 ||
            zl_load_get_string(L, jk, kp, "pem_file", OPTIONAL, 1024, &file) != 0)
            return -1;
        if (i > 0 && version <= (*list)[i - 1].version)
            return zl_load_fail(
                L, "%s.version must be greater than %u, the version before it (got %lld)", kp,
                (*list)[i - 1].version, version);
        if ((pem == NULL) == (file == NULL))
            return zl_load_fail(L, "%s needs exactly one of pem and pem_file", kp);
        if (pem != NULL) {
            k->pem_len = strlen(pem);
            if (zl_load_keep(L, pem, &k->pem) != 0 ||
                check_rsa_pem(L, k->pem, k->pem_len, zl_load_fpath(np, kp, "pem")) != 0)
                return -1;
        } else {
            char named[PATH_LEN + 1100]; /* the path and the file name, for messages */

            snprintf(named, sizeof named, "%s \"%s\"", zl_load_fpath(np, kp, "pem_file"), file);
            if (read_pem_file(L, file, np, &k->pem, &k->pem_len) != 0 ||
                check_rsa_pem(L, k->pem, k->pem_len, named) != 0)
                return -1;
        }
        k->version = (uint32_t)version;
        *count = ++i;
    }
    return 0;
}

static int load_corp(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c, size_t index)
{
    static const char *const keys[] = {
        "corpid",   "name",        "apps",     "programs",  "members",     "externals", "groups",
        "consents", "public_keys", "messages", "test_corp", "departments", "tags",      NULL};
    const char *corpid = NULL, *name = NULL;
    const zl_provider *p;

    if (zl_load_check_object(L, jc, cpath, keys) != 0 ||
        zl_load_get_string(L, jc, cpath, "corpid", REQUIRED, ZL_WORLD_MAX_ID, &corpid) != 0 ||
        zl_load_get_string(L, jc, cpath, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0 ||
        zl_load_get_bool(L, jc, cpath, "test_corp", &c->test_corp) != 0)
        return -1;
    for (size_t k = 0; k < index; k++)
        if (strcmp(L->w->corps[k].corpid, corpid) == 0)
            return zl_load_fail(L, "%s.corpid \"%s\" is already used by corps[%zu]", cpath, corpid,
                                k);
    if ((p = zl_world_provider(L->w, corpid)) != NULL)
        return zl_load_fail(L,
                            "%s.corpid \"%s\" is already the corpid of providers[%td]; a "
                            "provider's corpid is its own",
                            cpath, corpid, p - L->w->providers);
    c->index = calloc(1, sizeof *c->index);
    c->messages = zl_msgstore_new(corpid);
    if (c->index == NULL || c->messages == NULL)
        return zl_load_oom(L);
    if (zl_load_keep(L, corpid, &c->corpid) != 0 || zl_load_keep(L, name, &c->name) != 0 ||
        zl_load_departments(L, jc, cpath, c) != 0 || load_members(L, jc, cpath, c) != 0 ||
        zl_load_tags(L, jc, cpath, c) != 0 || load_apps(L, jc, cpath, c) != 0 ||
        load_programs(L, jc, cpath, c) != 0 || load_externals(L, jc, cpath, c) != 0 ||
        load_groups(L, jc, cpath, c) != 0 || zl_load_consents(L, jc, cpath, c) != 0 ||
        zl_load_public_keys(L, jc, cpath, &c->public_keys, &c->public_key_count) != 0 ||
        zl_load_messages(L, jc, cpath, c) != 0)
        return -1;
    return 0;
}

/* The top-level "options": kept as JSON text for the emu layer, which knows the names. */
static int load_options(zl_loader *L, const cJSON *opts)
{
    char *text;
    int rc;

    if (!opts)
        return 0;
    if (!cJSON_IsObject(opts))
        return zl_load_fail(L, "options must be an object of option names and values, such as "
                               "{\"token_ttl_s\": 3600} (zonelab options lists them)");
    if (!(text = cJSON_PrintUnformatted(opts)))
        return zl_load_oom(L);
    rc = zl_load_keep(L, text, &L->w->options_json);
    cJSON_free(text);
    return rc;
}

static int load_world(zl_loader *L, const cJSON *root)
{
    static const char *const keys[] = {"corps", "clock_start", "providers", "options", NULL};
    const cJSON *arr, *jc, *opts = cJSON_GetObjectItemCaseSensitive(root, "options");
    char cp[PATH_LEN];
    size_t n, i = 0;
    long long start = 0;

    if (zl_load_check_object(L, root, "", keys) != 0 || load_options(L, opts) != 0 ||
        zl_load_get_int(L, root, "", "clock_start", OPTIONAL, 0, ZL_WORLD_MAX_TIME, &start) != 0 ||
        zl_load_providers(L, root) != 0 ||
        zl_load_get_array(L, root, "", "corps", REQUIRED, ZL_WORLD_MAX_ITEMS, &arr, &n) != 0)
        return -1;
    L->w->clock_start = start;
    if (n == 0)
        return zl_load_fail(L, "corps must hold at least one corp");
    if (zl_load_keep_array(L, n, sizeof *L->w->corps, &L->w->corps) != 0)
        return -1;
    cJSON_ArrayForEach(jc, arr)
    {
        /* Counted before loading so zl_world_free sees a half-built corp. */
        L->w->corp_count = i + 1;
        if (load_corp(L, jc, zl_load_ipath(cp, "corps", i), &L->w->corps[i], i) != 0)
            return -1;
        i++;
    }
    return 0;
}

/* Line and column (from 1) of pos in text. */
static void line_col(const char *text, const char *pos, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < pos; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* fixtures/worlds/default.json, built in by cmake/ZlEmbed.cmake. */
extern const unsigned char zl_default_world[];
extern const size_t zl_default_world_len;

const unsigned char *zl_world_default_json(size_t *len)
{
    *len = zl_default_world_len;
    return zl_default_world;
}

zl_world *zl_world_load_default(char *err, size_t errlen)
{
    return zl_world_load_json((const char *)zl_default_world, zl_default_world_len, NULL, err,
                              errlen);
}

/* zl_world_load_json; with keep, the parsed tree is left in *keep (the caller deletes it). */
static zl_world *load_text(const char *text, size_t len, const char *base_dir, char *err,
                           size_t errlen, cJSON **keep)
{
    zl_loader L = {err, errlen, base_dir, NULL, NULL};
    const char *end = NULL;
    cJSON *root;
    zl_world *w;
    int rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (text == NULL || len == 0) {
        zl_load_fail(&L, "the world is empty; expected a JSON object with \"corps\"");
        return NULL;
    }
    if (len > ZL_WORLD_MAX_FILE) {
        zl_load_fail(&L, "the world is larger than %u bytes", ZL_WORLD_MAX_FILE);
        return NULL;
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root != NULL)
        while (end < text + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
    if (root == NULL || end < text + len) {
        size_t line, col;

        line_col(text, end != NULL && end >= text && end <= text + len ? end : text, &line, &col);
        zl_load_fail(&L,
                     root == NULL
                         ? "the world is not valid JSON near line %zu, column %zu"
                         : "the world has text after its JSON object near line %zu, column %zu",
                     line, col);
        cJSON_Delete(root);
        return NULL;
    }
    w = calloc(1, sizeof *w);
    if (w != NULL)
        w->arena = malloc(sizeof *w->arena);
    if (w == NULL || w->arena == NULL) {
        free(w);
        cJSON_Delete(root);
        zl_load_oom(&L);
        return NULL;
    }
    zl_arena_init(w->arena, WORLD_BLOCK);
    L.w = w;
    L.a = w->arena;
    rc = load_world(&L, root);
    if (keep && rc == 0)
        *keep = root;
    else
        cJSON_Delete(root);
    if (rc != 0) {
        zl_world_free(w);
        return NULL;
    }
    return w;
}

zl_world *zl_world_load_json(const char *text, size_t len, const char *base_dir, char *err,
                             size_t errlen)
{
    return load_text(text, len, base_dir, err, errlen, NULL);
}

/* A big file its cache did not match: from the JSON (text, len bytes read from path), then
 * cached under the hash of these very bytes. */
static zl_world *load_and_cache(const char *path, const char *text, size_t len, const char *dir,
                                char *err, size_t errlen)
{
    unsigned char sha[32];
    cJSON *root = NULL;
    zl_world *w;

    if (zl_world_cache_key(text, len, sha) != 0)
        return zl_world_load_json(text, len, dir, err, errlen);
    if ((w = load_text(text, len, dir, err, errlen, &root)) != NULL)
        zl_world_cache_save(path, sha, len, root, w);
    cJSON_Delete(root);
    return w;
}

/* Cuts path (a copy) down to its folder. */
static void base_dir_of(char *path)
{
    char *slash = strrchr(path, '/');

    if (slash == NULL)
        strcpy(path, ".");
    else if (slash == path)
        path[1] = '\0';
    else
        *slash = '\0';
}

zl_world *zl_world_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f;
    char *text = NULL, *dir = NULL;
    long size;
    zl_world *w = NULL;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL) {
        zl_err_set(err, errlen, "no world file given");
        return NULL;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        zl_err_set(err, errlen, "cannot open the world file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        zl_err_set(err, errlen, "cannot read the world file %s: %s", path, strerror(errno));
        goto out;
    }
    if ((unsigned long)size > ZL_WORLD_MAX_FILE) {
        zl_err_set(err, errlen, "the world file %s is larger than %u bytes", path,
                   ZL_WORLD_MAX_FILE);
        goto out;
    }
    dir = strdup(path);
    if (dir != NULL)
        base_dir_of(dir);
    if (dir != NULL && zl_world_cache_wanted((size_t)size)) {
        unsigned char sha[32];
        size_t len;

        /* hashed in blocks, not read whole: a cache hit never needs the text */
        if (zl_world_cache_key_file(f, sha, &len) == 0 &&
            (w = zl_world_cache_load(path, sha, len, dir)) != NULL)
            goto out;
        rewind(f);
    }
    text = malloc((size_t)size + 1);
    if (text == NULL || dir == NULL) {
        zl_err_set(err, errlen, "out of memory while reading the world file %s", path);
        goto out;
    }
    if (fread(text, 1, (size_t)size, f) != (size_t)size) {
        zl_err_set(err, errlen, "cannot read the world file %s", path);
        goto out;
    }
    /* hashed again: what is cached is what was parsed, whoever writes the file meanwhile */
    w = zl_world_cache_wanted((size_t)size)
            ? load_and_cache(path, text, (size_t)size, dir, err, errlen)
            : zl_world_load_json(text, (size_t)size, dir, err, errlen);
out:
    fclose(f);
    free(text);
    free(dir);
    return w;
}

void zl_world_free(zl_world *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->corp_count; i++) {
        zl_corp *c = &w->corps[i];

        if (c->index != NULL) {
            zl_hindex_cleanup(&c->index->members);
            zl_hindex_cleanup(&c->index->externals);
            zl_hindex_cleanup(&c->index->groups);
            zl_hindex_cleanup(&c->index->consents);
            zl_uindex_cleanup(&c->index->departments);
            zl_uindex_cleanup(&c->index->tags);
            free(c->index->consent_keys);
            free(c->index);
        }
        zl_msgstore_free(c->messages);
        free(c->consents);
    }
    if (w->arena != NULL)
        zl_arena_cleanup(w->arena);
    free(w->arena);
    free(w);
}
