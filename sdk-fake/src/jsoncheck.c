/* jsoncheck: cJSON 1.7.15's parser as a recogniser: same answers, no allocation. */
#include "jsoncheck.h"

#include <locale.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define NESTING_LIMIT 1000 /* cJSON's CJSON_NESTING_LIMIT */

/* The text and where the reader is; len counts the NUL after the text, as cJSON's does. */
typedef struct reader {
    const unsigned char *s;
    size_t len, at;
    unsigned depth;
} reader;

static int value(reader *r);

static void skip_space(reader *r)
{
    while (r->at < r->len && r->s[r->at] <= 32)
        r->at++;
    if (r->at == r->len)
        r->at--;
}

/* cJSON's parse_hex4: the value of four hex digits, 0 when any is not one. */
static unsigned hex4(const unsigned char *p)
{
    unsigned h = 0;

    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];

        if (c >= '0' && c <= '9')
            h = h * 16 + (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            h = h * 16 + (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            h = h * 16 + (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    return h;
}

/* A \u escape at p, with the string's closing quote at end: its length (6 or 12) or 0. */
static size_t utf16_escape(const unsigned char *p, const unsigned char *end)
{
    unsigned first, second;

    if (end - p < 6)
        return 0;
    first = hex4(p + 2);
    if (first >= 0xDC00 && first <= 0xDFFF)
        return 0;
    if (first < 0xD800 || first > 0xDBFF)
        return 6;
    if (end - (p + 6) < 6 || p[6] != '\\' || p[7] != 'u')
        return 0;
    second = hex4(p + 8);
    return second >= 0xDC00 && second <= 0xDFFF ? 12 : 0;
}

/* The length of the run at p (n bytes) with no '"' nor '\\', sixteen bytes a step with SSE2. */
static size_t quote_or_backslash(const unsigned char *p, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');

    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));

        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#endif
    while (i < n && p[i] != '"' && p[i] != '\\')
        i++;
    return i;
}

static int string(reader *r)
{
    const unsigned char *p, *end;
    size_t i = r->at + 1;

    if (r->s[r->at] != '"')
        return 0;
    /* the closing quote: a backslash takes the byte after it, whatever it is */
    for (;;) {
        i += quote_or_backslash(r->s + i, r->len - i);
        if (i >= r->len || r->s[i] == '"')
            break;
        if (i + 1 >= r->len)
            return 0;
        i += 2;
    }
    if (i >= r->len)
        return 0;
    end = r->s + i;
    for (p = r->s + r->at + 1; p < end;) {
        const unsigned char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t n;

        if (!bs)
            break;
        switch (bs[1]) {
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
        case '"':
        case '\\':
        case '/':
            p = bs + 2;
            break;
        case 'u':
            if (!(n = utf16_escape(bs, end)))
                return 0;
            p = bs + n;
            break;
        default:
            return 0;
        }
    }
    r->at = i + 1;
    return 1;
}

/* cJSON's parse_number (Debian's 1.7.15, which copies the whole run, not 63 bytes): the run
 * of [0-9+-eE.] handed to strtod, which says how far the number goes. */
static int number(reader *r)
{
    char small[64], *buf = small, point = localeconv()->decimal_point[0], *after;
    size_t i, n = 0, digits = 0;
    int ok;

    for (; r->at + n < r->len; n++) {
        unsigned char c = r->s[r->at + n];

        if (c >= '0' && c <= '9')
            digits++;
        else if (c != '+' && c != '-' && c != 'e' && c != 'E' && c != '.')
            break;
    }
    if (n > 0 && (digits == n || (r->s[r->at] == '-' && digits == n - 1 && n > 1))) {
        r->at += n; /* an integer: strtod would read all of it */
        return 1;
    }
    if (n >= sizeof small && !(buf = malloc(n + 1)))
        return 0;
    for (i = 0; i < n; i++)
        buf[i] = r->s[r->at + i] == '.' ? point : (char)r->s[r->at + i];
    buf[n] = '\0';
    (void)strtod(buf, &after);
    ok = after != buf;
    if (ok)
        r->at += (size_t)(after - buf);
    if (buf != small)
        free(buf);
    return ok;
}

static int word(reader *r, const char *w, size_t n)
{
    if (r->at + n > r->len || memcmp(r->s + r->at, w, n) != 0)
        return 0;
    r->at += n;
    return 1;
}

/* An array or an object: the members between open and close, separated by commas. */
static int members(reader *r, unsigned char open, unsigned char close)
{
    if (r->depth >= NESTING_LIMIT || r->s[r->at] != open)
        return 0;
    r->depth++;
    r->at++;
    skip_space(r);
    if (r->s[r->at] != close) {
        r->at--;
        do {
            r->at++;
            skip_space(r);
            if (open == '{') {
                if (!string(r))
                    return 0;
                skip_space(r);
                if (r->s[r->at] != ':')
                    return 0;
                r->at++;
                skip_space(r);
            }
            if (!value(r))
                return 0;
            skip_space(r);
        } while (r->s[r->at] == ',');
        if (r->s[r->at] != close)
            return 0;
    }
    r->depth--;
    r->at++;
    return 1;
}

static int value(reader *r)
{
    unsigned char c = r->s[r->at];

    if (word(r, "null", 4) || word(r, "false", 5) || word(r, "true", 4))
        return 1;
    if (c == '"')
        return string(r);
    if (c == '-' || (c >= '0' && c <= '9'))
        return number(r);
    if (c == '[')
        return members(r, '[', ']');
    if (c == '{')
        return members(r, '{', '}');
    return 0;
}

int zone_json_check(const char *text)
{
    reader r = {0};

    if (!text)
        return 0;
    r.s = (const unsigned char *)text;
    r.len = strlen(text) + 1;
    if (r.len > 4 && !memcmp(text, "\xEF\xBB\xBF", 3))
        r.at = 3;
    skip_space(&r);
    if (!value(&r))
        return 0;
    skip_space(&r);
    return r.at < r.len && r.s[r.at] == '\0';
}
