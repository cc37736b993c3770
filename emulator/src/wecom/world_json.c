/* world_json: the world loader's reading kit: typed fields, known keys, limits and arena
 * copies, each refusal one sentence that names the JSON path ("corps[0].apps[1].token ..."). */
#include "wecom/world_int.h"

#include "core/err.h"
#include "core/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int zl_load_fail(zl_loader *L, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    zl_err_vset(L->err, L->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int zl_load_oom(zl_loader *L)
{
    return zl_load_fail(L, "out of memory while loading the world");
}

const char *zl_load_fpath(char *buf, const char *path, const char *key)
{
    if (snprintf(buf, PATH_LEN, "%s%s%s", path, path[0] != '\0' ? "." : "", key) >= PATH_LEN)
        memcpy(buf + PATH_LEN - 4, "...", 4); /* a cut path still points the way */
    return buf;
}

const char *zl_load_ipath(char *buf, const char *path, size_t i)
{
    if (snprintf(buf, PATH_LEN, "%s[%zu]", path, i) >= PATH_LEN)
        memcpy(buf + PATH_LEN - 4, "...", 4);
    return buf;
}

const char *zl_load_type_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "an invalid value";
}

int zl_load_check_object(zl_loader *L, const cJSON *v, const char *path, const char *const *allowed)
{
    const char *where = path[0] != '\0' ? path : "the world";

    if (!cJSON_IsObject(v))
        return zl_load_fail(L, "%s must be an object (got %s)", where, zl_load_type_name(v));
    for (const cJSON *c = v->child; c != NULL; c = c->next) {
        const char *k = c->string;
        int known = 0;

        if (k[0] == '_')
            continue;
        for (size_t i = 0; allowed[i] != NULL && !known; i++)
            known = strcmp(allowed[i], k) == 0;
        if (!known) {
            char list[512] = "";

            for (size_t i = 0; allowed[i] != NULL; i++) {
                size_t used = strlen(list);

                snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
            }
            return zl_load_fail(
                L,
                "%s has an unknown key \"%.64s\" (known keys: %s; keys starting with _ "
                "are comments)",
                where, k, list);
        }
        for (const cJSON *d = v->child; d != c; d = d->next)
            if (strcmp(d->string, k) == 0) {
                char fp[PATH_LEN];

                return zl_load_fail(L, "%s appears twice", zl_load_fpath(fp, path, k));
            }
    }
    return 0;
}

int zl_load_get_string(zl_loader *L, const cJSON *o, const char *path, const char *key, int flags,
                       size_t maxlen, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char fp[PATH_LEN];
    size_t n;

    if (v == NULL) {
        if (flags & REQUIRED)
            return zl_load_fail(L, "%s is missing", zl_load_fpath(fp, path, key));
        return 0;
    }
    if (!cJSON_IsString(v))
        return zl_load_fail(L, "%s must be a string (got %s)", zl_load_fpath(fp, path, key),
                            zl_load_type_name(v));
    n = strlen(v->valuestring);
    if (n == 0 && !(flags & EMPTY_OK))
        return zl_load_fail(L, "%s must not be empty", zl_load_fpath(fp, path, key));
    if (n > maxlen)
        return zl_load_fail(L, "%s must be at most %zu bytes (got %zu)",
                            zl_load_fpath(fp, path, key), maxlen, n);
    *out = v->valuestring;
    return 0;
}

int zl_load_int_value(zl_loader *L, const cJSON *v, const char *name, long long min, long long max,
                      long long *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return zl_load_fail(L, "%s must be an integer (got %s)", name, zl_load_type_name(v));
    d = v->valuedouble;
    if (!zl_json_is_int(v, min, max))
        return zl_load_fail(L, "%s must be an integer from %lld to %lld (got %.15g)", name, min,
                            max, d);
    *out = (long long)d;
    return 0;
}

int zl_load_get_int(zl_loader *L, const cJSON *o, const char *path, const char *key, int flags,
                    long long min, long long max, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char fp[PATH_LEN];

    zl_load_fpath(fp, path, key);
    if (v == NULL)
        return (flags & REQUIRED) ? zl_load_fail(L, "%s is missing", fp) : 0;
    return zl_load_int_value(L, v, fp, min, max, out);
}

int zl_load_get_bool(zl_loader *L, const cJSON *o, const char *path, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char fp[PATH_LEN];

    if (v == NULL)
        return 0;
    if (!cJSON_IsBool(v))
        return zl_load_fail(L, "%s must be true or false (got %s)", zl_load_fpath(fp, path, key),
                            zl_load_type_name(v));
    *out = cJSON_IsTrue(v);
    return 0;
}

int zl_load_get_array(zl_loader *L, const cJSON *o, const char *path, const char *key, int flags,
                      size_t maxcount, const cJSON **arr, size_t *count)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char fp[PATH_LEN];
    size_t n = 0;

    *arr = NULL;
    *count = 0;
    zl_load_fpath(fp, path, key);
    if (v == NULL)
        return (flags & REQUIRED) ? zl_load_fail(L, "%s is missing", fp) : 0;
    if (!cJSON_IsArray(v))
        return zl_load_fail(L, "%s must be an array (got %s)", fp, zl_load_type_name(v));
    for (const cJSON *c = v->child; c != NULL; c = c->next)
        n++;
    if (n > maxcount)
        return zl_load_fail(L, "%s must hold at most %zu items (got %zu)", fp, maxcount, n);
    *arr = v;
    *count = n;
    return 0;
}

static int is_alnum(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

bool zl_world_url_ok(const char *url)
{
    size_t skip = !strncmp(url, "http://", 7) ? 7 : !strncmp(url, "https://", 8) ? 8 : 0;

    if (!skip || !url[skip] || strlen(url) > ZL_WORLD_MAX_URL)
        return false;
    for (; *url; url++)
        if ((unsigned char)*url <= ' ' || *url == 0x7f)
            return false;
    return true;
}

int zl_load_callback(zl_loader *L, const char *path, const char *fake, const char *url,
                     const char *token, const char *aes_key)
{
    size_t len = strlen(aes_key);

    if (url[0] != '\0' && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return zl_load_fail(
            L, "%s.callback_url must be \"\" (the built-in fake %s) or an http:// or https:// URL",
            path, fake);
    for (const char *t = token; *t != '\0'; t++)
        if (!is_alnum((unsigned char)*t))
            return zl_load_fail(L, "%s.token must hold only letters and digits", path);
    if (len != ZL_WORLD_AES_KEY_LEN)
        return zl_load_fail(L, "%s.encoding_aes_key must be %d characters (got %zu)", path,
                            ZL_WORLD_AES_KEY_LEN, len);
    for (size_t k = 0; k < len; k++)
        if (!is_alnum((unsigned char)aes_key[k]))
            return zl_load_fail(
                L, "%s.encoding_aes_key must hold only letters and digits (character %zu is '%c')",
                path, k + 1, aes_key[k]);
    return 0;
}

int zl_load_keep(zl_loader *L, const char *s, const char **out)
{
    char *p = zl_arena_strndup(L->a, s, strlen(s));

    if (p == NULL)
        return zl_load_oom(L);
    *out = p;
    return 0;
}

int zl_load_keep_array(zl_loader *L, size_t count, size_t size, void *out)
{
    void *p = NULL;

    if (count > 0) {
        p = zl_arena_alloc(L->a, count * size, sizeof(long double));
        if (p == NULL)
            return zl_load_oom(L);
    }
    memcpy(out, &p, sizeof p);
    return 0;
}
