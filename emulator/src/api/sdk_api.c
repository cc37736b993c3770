/* sdk_api: what every SDK API family shares: request fields, error replies, the refusal of a
 * control-face verb, and the registry of names the SDK face looks an invoke up in. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/sdk_api.h"
#include "core/json.h"
#include "wecom/errcode.h"

/* ---- request fields (NULL on success; otherwise the error reply) ---- */

cJSON *zl_sdk_err(zl_sdk_ctx *x, int code, const char *detail)
{
    return zl_errcode_reply(code, detail, x->req_id);
}

cJSON *zl_sdk_errf(zl_sdk_ctx *x, int code, const char *fmt, ...)
{
    char why[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return zl_sdk_err(x, code, why);
}

cJSON *zl_sdk_opt_str(zl_sdk_ctx *x, const char *key, size_t max, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->req, key);
    char why[160];

    *out = NULL;
    if (!v)
        return NULL;
    if (!cJSON_IsString(v)) {
        snprintf(why, sizeof why, "%s must be a string", key);
        return zl_sdk_err(x, 40058, why);
    }
    if (strlen(v->valuestring) > max) {
        snprintf(why, sizeof why, "%s is longer than %zu bytes", key, max);
        return zl_sdk_err(x, 40058, why);
    }
    *out = v->valuestring;
    return NULL;
}

cJSON *zl_sdk_opt_int(zl_sdk_ctx *x, const char *key, long long min, long long max, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->req, key);
    char why[160];

    if (!v)
        return NULL;
    if (!zl_json_is_int(v, min, max)) {
        snprintf(why, sizeof why, "%s must be an integer from %lld to %lld", key, min, max);
        return zl_sdk_err(x, 40058, why);
    }
    *out = (long long)v->valuedouble;
    return NULL;
}

/* ---- the control face's side ---- */

unsigned zl_sdk_refuse(char *why, size_t whylen, unsigned status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return status;
}

/* ---- the registry ---- */

/* Every family's table, in sdk-api.md's order; a family adds itself here and in sdk_api.h. */
static const zl_sdk_api *const families[] = {
    zl_sdk_apis_msg,    zl_sdk_apis_chat,   zl_sdk_apis_rules,  zl_sdk_apis_kb,
    zl_sdk_apis_models, zl_sdk_apis_export, zl_sdk_apis_notify, NULL};

const zl_sdk_api *zl_sdk_api_find(const char *name)
{
    size_t f;
    const zl_sdk_api *a;

    for (f = 0; name && families[f]; f++)
        for (a = families[f]; a->name; a++)
            if (!strcmp(a->name, name))
                return a;
    return NULL;
}

void zl_sdk_api_each(void (*fn)(const zl_sdk_api *api, void *ud), void *ud)
{
    size_t f;
    const zl_sdk_api *a;

    for (f = 0; families[f]; f++)
        for (a = families[f]; a->name; a++)
            fn(a, ud);
}
