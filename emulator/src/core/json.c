/* json: small helpers over cJSON. */
#include "core/json.h"

const cJSON *zl_json_get(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

const char *zl_json_str(const cJSON *o, const char *key)
{
    const cJSON *v = zl_json_get(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool zl_json_is_int(const cJSON *v, long long lo, long long hi)
{
    return cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble &&
           v->valuedouble >= (double)lo && v->valuedouble <= (double)hi;
}

size_t zl_utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}
