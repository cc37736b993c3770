/* world_org: a corp's address book (departments, tags, the lists that name members,
 * departments and tags) and whom a scope covers: members, departments with their
 * sub-departments, tags. */
#include "wecom/world_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- lookups ---- */

/* The index of department id in c->departments, or -1. */
static long department_index(const zl_corp *c, uint32_t id)
{
    if (c == NULL || c->index == NULL)
        return -1;
    return zl_uindex_find(&c->index->departments, id);
}

zl_department *zl_corp_department(zl_corp *c, uint32_t id)
{
    long i = department_index(c, id);

    return i >= 0 ? &c->departments[i] : NULL;
}

zl_tag *zl_corp_tag(zl_corp *c, uint32_t tagid)
{
    long i;

    if (c == NULL || c->index == NULL)
        return NULL;
    i = zl_uindex_find(&c->index->tags, tagid);
    return i >= 0 ? &c->tags[i] : NULL;
}

/* ---- reference lists ---- */

/* A list item resolved: what it names (member, department or tag index) and where it is. */
typedef struct ref {
    uint32_t target;
    uint32_t at;
} ref;

static int ref_cmp(const void *a, const void *b)
{
    const ref *x = a, *y = b;

    if (x->target != y->target)
        return x->target < y->target ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/*
 * Finds the first item of refs (n, in file order) that repeats an earlier one: *later gets
 * its position, *earlier the first position of the same target. Sorts refs. Returns whether
 * there is one.
 */
static bool first_repeat(ref *refs, size_t n, size_t *earlier, size_t *later)
{
    bool found = false;

    qsort(refs, n, sizeof *refs, ref_cmp);
    for (size_t k = 1; k < n; k++) {
        size_t first = k - 1;

        if (refs[k].target != refs[first].target)
            continue;
        while (first > 0 && refs[first - 1].target == refs[k].target)
            first--;
        if (!found || refs[k].at < *later) {
            *later = refs[k].at;
            *earlier = refs[first].at;
            found = true;
        }
    }
    return found;
}

/* Resolves item v of a list (its path ip) into *target, or fails naming the section. */
static int resolve_ref(zl_loader *L, const cJSON *v, const char *ip, const char *cpath,
                       const zl_corp *c, zl_ref_kind kind, uint32_t *target)
{
    long long id = 0;
    long i = -1;

    if (kind == ZL_REF_USERID) {
        if (!cJSON_IsString(v))
            return zl_load_fail(L, "%s must be a userid string (got %s)", ip, zl_load_type_name(v));
        if ((i = zl_corp_member_index(c, v->valuestring)) < 0)
            return zl_load_fail(L, "%s \"%.128s\" is not a userid in %s.members", ip,
                                v->valuestring, cpath);
    } else {
        if (zl_load_int_value(L, v, ip, 1, UINT32_MAX, &id) != 0)
            return -1;
        if (kind == ZL_REF_DEPARTMENT && (i = department_index(c, (uint32_t)id)) < 0)
            return zl_load_fail(L, "%s %lld is not a department id in %s.departments", ip, id,
                                cpath);
        if (kind == ZL_REF_TAG && (i = zl_uindex_find(&c->index->tags, (uint32_t)id)) < 0)
            return zl_load_fail(L, "%s %lld is not a tagid in %s.tags", ip, id, cpath);
    }
    *target = (uint32_t)i;
    return 0;
}

int zl_load_ref_list(zl_loader *L, const cJSON *o, const char *path, const char *key,
                     const char *cpath, zl_corp *c, zl_ref_kind kind, void *out, size_t *count)
{
    const cJSON *arr, *v;
    char fp[PATH_LEN], ip[PATH_LEN];
    size_t n, k = 0, earlier = 0, later = 0;
    const char **names = NULL; /* ZL_REF_USERID */
    uint32_t *ids = NULL;      /* the others */
    ref *refs = NULL;
    int rc = -1;

    *count = 0;
    if (zl_load_get_array(L, o, path, key, OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0)
        return -1;
    if (n == 0)
        return 0;
    zl_load_fpath(fp, path, key);
    if ((kind == ZL_REF_USERID ? zl_load_keep_array(L, n, sizeof *names, &names)
                               : zl_load_keep_array(L, n, sizeof *ids, &ids)) != 0)
        return -1;
    refs = malloc(n * sizeof *refs);
    if (refs == NULL)
        return zl_load_oom(L);
    cJSON_ArrayForEach(v, arr)
    {
        ref *r = &refs[k];

        r->at = (uint32_t)k;
        if (resolve_ref(L, v, zl_load_ipath(ip, fp, k), cpath, c, kind, &r->target) != 0)
            goto out;
        if (kind == ZL_REF_USERID)
            names[k] = c->members[r->target].userid;
        else
            ids[k] =
                kind == ZL_REF_DEPARTMENT ? c->departments[r->target].id : c->tags[r->target].tagid;
        k++;
    }
    if (first_repeat(refs, n, &earlier, &later)) {
        zl_load_ipath(ip, fp, later);
        if (kind == ZL_REF_USERID)
            zl_load_fail(L, "%s \"%s\" is already listed as %s[%zu]", ip, names[later], fp,
                         earlier);
        else
            zl_load_fail(L, "%s %u is already listed as %s[%zu]", ip, ids[later], fp, earlier);
        goto out;
    }
    if (kind == ZL_REF_USERID)
        memcpy(out, &names, sizeof names);
    else
        memcpy(out, &ids, sizeof ids);
    *count = n;
    rc = 0;
out:
    free(refs);
    return rc;
}

/* ---- departments and tags ---- */

/*
 * Sets c->index->dept_parent from the parentids and refuses a parentid that names no
 * department, or a department that is its own ancestor. fp is the departments' path.
 */
static int link_departments(zl_loader *L, const char *fp, zl_corp *c)
{
    enum { UNSEEN, ON_PATH, DONE };
    size_t n = c->department_count;
    uint32_t *parent = NULL;
    unsigned char *state = NULL;
    char dp[PATH_LEN];
    int rc = -1;

    if (zl_load_keep_array(L, n, sizeof *parent, &parent) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint32_t pid = c->departments[i].parentid;
        long p = pid == 0 ? -1 : department_index(c, pid);

        if (pid != 0 && p < 0)
            return zl_load_fail(L, "%s.parentid %u is not a department id in %s",
                                zl_load_ipath(dp, fp, i), pid, fp);
        parent[i] = p < 0 ? ZL_NO_PARENT : (uint32_t)p;
    }
    c->index->dept_parent = parent;
    state = calloc(n, 1);
    if (state == NULL)
        return zl_load_oom(L);
    /* Walk up from each department; meeting the walk's own path again is a cycle. */
    for (size_t i = 0; i < n; i++) {
        uint32_t p = (uint32_t)i;

        while (p != ZL_NO_PARENT && state[p] == UNSEEN) {
            state[p] = ON_PATH;
            p = parent[p];
        }
        if (p != ZL_NO_PARENT && state[p] == ON_PATH) {
            zl_load_fail(L, "%s.parentid %u makes a cycle: department %u is its own ancestor",
                         zl_load_ipath(dp, fp, p), c->departments[p].parentid,
                         c->departments[p].id);
            goto out;
        }
        for (p = (uint32_t)i; p != ZL_NO_PARENT && state[p] == ON_PATH; p = parent[p])
            state[p] = DONE;
    }
    rc = 0;
out:
    free(state);
    return rc;
}

int zl_load_departments(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"id", "name", "parentid", NULL};
    const cJSON *arr, *jd;
    char dp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jc, cpath, "departments", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *c->departments, &c->departments) != 0)
        return -1;
    if (zl_uindex_reserve(&c->index->departments, n) != 0)
        return zl_load_oom(L);
    zl_load_fpath(fp, cpath, "departments");
    cJSON_ArrayForEach(jd, arr)
    {
        zl_department *d = &c->departments[i];
        const char *name = NULL;
        long long id = 0, parentid = 0;
        long dup;

        zl_load_ipath(dp, fp, i);
        if (zl_load_check_object(L, jd, dp, keys) != 0 ||
            zl_load_get_int(L, jd, dp, "id", REQUIRED, 1, UINT32_MAX, &id) != 0 ||
            zl_load_get_string(L, jd, dp, "name", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0 ||
            zl_load_get_int(L, jd, dp, "parentid", OPTIONAL, 0, UINT32_MAX, &parentid) != 0)
            return -1;
        if ((dup = department_index(c, (uint32_t)id)) >= 0)
            return zl_load_fail(L, "%s.id %lld is already used by %s[%ld]", dp, id, fp, dup);
        d->id = (uint32_t)id;
        d->parentid = (uint32_t)parentid;
        if (zl_load_keep(L, name, &d->name) != 0)
            return -1;
        zl_uindex_insert(&c->index->departments, d->id, (uint32_t)i);
        c->department_count = ++i;
    }
    return link_departments(L, fp, c);
}

int zl_load_tags(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c)
{
    static const char *const keys[] = {"tagid", "tagname", "userids", "department_ids", NULL};
    const cJSON *arr, *jt;
    char tp[PATH_LEN], fp[PATH_LEN];
    size_t n, i = 0;

    if (zl_load_get_array(L, jc, cpath, "tags", OPTIONAL, UINT32_MAX - 1, &arr, &n) != 0 ||
        zl_load_keep_array(L, n, sizeof *c->tags, &c->tags) != 0)
        return -1;
    if (zl_uindex_reserve(&c->index->tags, n) != 0)
        return zl_load_oom(L);
    zl_load_fpath(fp, cpath, "tags");
    cJSON_ArrayForEach(jt, arr)
    {
        zl_tag *t = &c->tags[i];
        const char *name = NULL;
        long long tagid = 0;
        long dup;

        zl_load_ipath(tp, fp, i);
        if (zl_load_check_object(L, jt, tp, keys) != 0 ||
            zl_load_get_int(L, jt, tp, "tagid", REQUIRED, 1, UINT32_MAX, &tagid) != 0 ||
            zl_load_get_string(L, jt, tp, "tagname", REQUIRED, ZL_WORLD_MAX_NAME, &name) != 0)
            return -1;
        if ((dup = zl_uindex_find(&c->index->tags, (uint32_t)tagid)) >= 0)
            return zl_load_fail(L, "%s.tagid %lld is already used by %s[%ld]", tp, tagid, fp, dup);
        t->tagid = (uint32_t)tagid;
        if (zl_load_keep(L, name, &t->tagname) != 0 ||
            zl_load_ref_list(L, jt, tp, "userids", cpath, c, ZL_REF_USERID, &t->userids,
                             &t->userid_count) != 0 ||
            zl_load_ref_list(L, jt, tp, "department_ids", cpath, c, ZL_REF_DEPARTMENT,
                             &t->department_ids, &t->department_count) != 0)
            return -1;
        zl_uindex_insert(&c->index->tags, t->tagid, (uint32_t)i);
        c->tag_count = ++i;
    }
    return 0;
}

/* ---- scope ---- */

enum { COVER_UNKNOWN, COVER_YES, COVER_NO };

bool zl_scope_has(const zl_corp *c, const zl_scope *s, const zl_member *m)
{
    uintptr_t at, first;

    if (c == NULL || m == NULL)
        return false;
    if (s == NULL || s->members == NULL)
        return m->in_scope;
    /* m is one of c->members: its index says where it stands in s */
    at = (uintptr_t)m;
    first = (uintptr_t)c->members;
    if (c->members == NULL || at < first || (at - first) / sizeof *m >= c->member_count)
        return false;
    return s->members[(at - first) / sizeof *m];
}

bool zl_group_in_scope(zl_corp *c, const zl_scope *s, const zl_group *g)
{
    if (c == NULL || g == NULL)
        return false;
    for (size_t k = 0; k < g->member_count; k++) {
        const zl_member *m;

        if (g->members[k].type == ZL_PARTY_EMPLOYEE &&
            (m = zl_corp_member(c, g->members[k].id)) != NULL && zl_scope_has(c, s, m))
            return true;
    }
    return false;
}

/* The tag tagid of c, or NULL. */
static const zl_tag *tag_of(const zl_corp *c, uint32_t tagid)
{
    long t = zl_uindex_find(&c->index->tags, tagid);

    return t >= 0 ? &c->tags[t] : NULL;
}

/* Whether a names department index d itself: in its department_ids, or a tag's. */
static bool names_department(const zl_corp *c, const zl_auth *a, uint32_t d)
{
    uint32_t id = c->departments[d].id;
    const zl_tag *t;

    for (size_t k = 0; k < a->department_count; k++)
        if (a->department_ids[k] == id)
            return true;
    for (size_t k = 0; k < a->tag_count; k++) {
        if ((t = tag_of(c, a->tag_ids[k])) == NULL)
            continue;
        for (size_t j = 0; j < t->department_count; j++)
            if (t->department_ids[j] == id)
                return true;
    }
    return false;
}

/* Sets memo[d] to COVER_YES for each department index d of the n ids. */
static void memo_names(const zl_corp *c, const uint32_t *ids, size_t n, unsigned char *memo)
{
    for (size_t k = 0; k < n; k++) {
        long d = department_index(c, ids[k]);

        if (d >= 0)
            memo[d] = COVER_YES;
    }
}

/*
 * Whether department index d or one of its ancestors is named by a. memo (one byte per
 * department, COVER_YES where a names the department itself) remembers each answer along
 * the way; without one (no memory) every step asks names_department.
 */
static bool covered(const zl_corp *c, const zl_auth *a, uint32_t d, unsigned char *memo)
{
    const uint32_t *parent = c->index->dept_parent;
    unsigned char answer = COVER_NO;
    uint32_t p;

    if (memo == NULL) {
        for (p = d; p != ZL_NO_PARENT; p = parent[p])
            if (names_department(c, a, p))
                return true;
        return false;
    }
    for (p = d; p != ZL_NO_PARENT; p = parent[p])
        if (memo[p] != COVER_UNKNOWN) {
            answer = memo[p];
            break;
        }
    for (uint32_t q = d; q != p; q = parent[q])
        memo[q] = answer;
    return answer == COVER_YES;
}

/* Marks in[] for the members userids (n) names. */
static void mark_userids(const zl_corp *c, const char *const *userids, size_t n, bool *in)
{
    for (size_t k = 0; k < n; k++) {
        long i = zl_corp_member_index(c, userids[k]);

        if (i >= 0)
            in[i] = true;
    }
}

bool zl_scope_has_department(const zl_corp *c, const zl_scope *s, uint32_t id)
{
    long d = department_index(c, id);

    if (d < 0)
        return false;
    if (s == NULL || s->auth == NULL || !s->auth->scope_given)
        return true;
    return c->index->dept_parent != NULL && covered(c, s->auth, (uint32_t)d, NULL);
}

bool zl_member_in_department(const zl_corp *c, const zl_member *m, uint32_t id)
{
    const uint32_t *parent;

    if (m == NULL || department_index(c, id) < 0 || (parent = c->index->dept_parent) == NULL)
        return false;
    for (size_t k = 0; k < m->department_count; k++) {
        long d = department_index(c, m->departments[k]);

        for (uint32_t p = d < 0 ? ZL_NO_PARENT : (uint32_t)d; p != ZL_NO_PARENT; p = parent[p])
            if (c->departments[p].id == id)
                return true;
    }
    return false;
}

size_t zl_auth_scope_members(const zl_corp *c, const zl_auth *a, bool *in)
{
    unsigned char *memo;
    const zl_tag *t;
    size_t marked = 0;

    if (c == NULL || c->index == NULL || in == NULL)
        return 0;
    if (a == NULL || !a->scope_given) {
        for (size_t i = 0; i < c->member_count; i++)
            marked += (in[i] = c->members[i].in_scope);
        return marked;
    }
    memset(in, 0, c->member_count * sizeof *in);
    mark_userids(c, a->userids, a->userid_count, in);
    for (size_t k = 0; k < a->tag_count; k++)
        if ((t = tag_of(c, a->tag_ids[k])) != NULL)
            mark_userids(c, t->userids, t->userid_count, in);
    if (c->department_count > 0 && c->index->dept_parent != NULL) {
        memo = calloc(c->department_count, 1); /* NULL: covered() works without it, slower */
        if (memo != NULL) {
            memo_names(c, a->department_ids, a->department_count, memo);
            for (size_t k = 0; k < a->tag_count; k++)
                if ((t = tag_of(c, a->tag_ids[k])) != NULL)
                    memo_names(c, t->department_ids, t->department_count, memo);
        }
        for (size_t i = 0; i < c->member_count; i++) {
            const zl_member *m = &c->members[i];

            for (size_t k = 0; !in[i] && k < m->department_count; k++) {
                long d = department_index(c, m->departments[k]);

                in[i] = d >= 0 && covered(c, a, (uint32_t)d, memo);
            }
        }
        free(memo);
    }
    for (size_t i = 0; i < c->member_count; i++)
        marked += in[i];
    return marked;
}
