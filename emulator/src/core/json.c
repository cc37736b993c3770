/* json: small helpers over cJSON, and UTF-8 checks. */
#include "core/json.h"
#include "core/sbuf.h"

#include <math.h>
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
    long long n;
    double d;

    if (!cJSON_IsNumber(v))
        return false;
    d = v->valuedouble;
    /* The range before the cast: a double beyond long long's (2^63) does not convert. NaN fails
     * each comparison. The cast then checks for a fraction and what rounding of (double)lo and
     * (double)hi hid. */
    if (!(d >= (double)lo && d <= (double)hi) || d >= 0x1p63 || d < -0x1p63)
        return false;
    n = (long long)d;
    return (double)n == d && n >= lo && n <= hi;
}

/* s as a JSON string, escaped as cJSON escapes (NULL as ""). */
static void print_string(zl_sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run;

    zl_sbuf_add(b, "\"", 1);
    for (run = s; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[6] = {'\\', 0};
        size_t n = 2;

        if (ch >= 32 && ch != '"' && ch != '\\')
            continue;
        zl_sbuf_add(b, run, (size_t)(s - run));
        run = s + 1;
        switch (ch) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            n = 6;
        }
        zl_sbuf_add(b, esc, n);
    }
    if (s)
        zl_sbuf_add(b, run, (size_t)(s - run));
    zl_sbuf_add(b, "\"", 1);
}

/* A number: an integer below 1e15 (what "%1.15g" writes in full) directly, any other through
 * cJSON itself. -1 when cJSON cannot. */
static int print_number(zl_sbuf *b, const cJSON *item)
{
    double d = item->valuedouble;
    char digits[24], *p = digits + sizeof digits, *text;

    if (d > -1e15 && d < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d))) {
        long long v = (long long)d;
        unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

        do
            *--p = (char)('0' + u % 10);
        while ((u /= 10));
        if (v < 0)
            *--p = '-';
        zl_sbuf_add(b, p, (size_t)(digits + sizeof digits - p));
        return 0;
    }
    if (!(text = cJSON_PrintUnformatted(item)))
        return -1;
    zl_sbuf_str(b, text);
    cJSON_free(text);
    return 0;
}

static int print_value(zl_sbuf *b, const cJSON *item)
{
    const cJSON *c;

    switch (item->type & 0xFF) {
    case cJSON_NULL:
        zl_sbuf_add(b, "null", 4);
        return 0;
    case cJSON_False:
        zl_sbuf_add(b, "false", 5);
        return 0;
    case cJSON_True:
        zl_sbuf_add(b, "true", 4);
        return 0;
    case cJSON_Number:
        return print_number(b, item);
    case cJSON_String:
        print_string(b, item->valuestring);
        return 0;
    case cJSON_Raw:
        if (!item->valuestring)
            return -1;
        zl_sbuf_str(b, item->valuestring);
        return 0;
    case cJSON_Array:
    case cJSON_Object:
        zl_sbuf_add(b, (item->type & 0xFF) == cJSON_Array ? "[" : "{", 1);
        for (c = item->child; c; c = c->next) {
            if ((item->type & 0xFF) == cJSON_Object) {
                print_string(b, c->string); /* a NULL name is "", as cJSON writes it */
                zl_sbuf_add(b, ":", 1);
            }
            if (print_value(b, c) != 0)
                return -1;
            if (c->next)
                zl_sbuf_add(b, ",", 1);
        }
        zl_sbuf_add(b, (item->type & 0xFF) == cJSON_Array ? "]" : "}", 1);
        return 0;
    default:
        return -1;
    }
}

int zl_json_print_to(zl_sbuf *b, const cJSON *item)
{
    return item ? print_value(b, item) : -1;
}

char *zl_json_print(const cJSON *item, size_t *len)
{
    zl_sbuf b = {0};

    if (!item || print_value(&b, item) != 0 || b.oom || !b.s) {
        free(b.s);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.s;
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
