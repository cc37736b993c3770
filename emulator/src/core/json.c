/* json: small helpers over cJSON, and UTF-8 checks. */
#include "core/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* The length of the valid UTF-8 sequence at s (n bytes left, n > 0), 0 when there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2, cp = s[0] & 0x1Fu;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3, cp = s[0] & 0x0Fu;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4, cp = s[0] & 0x07u;
    else
        return 0;
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

bool zl_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t k;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        if (!(k = utf8_seq(p, (size_t)(end - p))))
            return false;
        p += k;
    }
    return true;
}

char *zl_utf8_repair(const char *s, size_t n, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    char *out = malloc(3 * n + 1), *o = out; /* each byte becomes at most U+FFFD's 3 bytes */
    size_t k;

    if (!out)
        return NULL;
    while (p < end) {
        if ((k = utf8_seq(p, (size_t)(end - p)))) {
            memcpy(o, p, k);
            o += k;
            p += k;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        }
    }
    *o = '\0';
    if (out_len)
        *out_len = (size_t)(o - out);
    return out;
}
