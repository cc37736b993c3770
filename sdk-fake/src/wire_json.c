/* wire_json: zone wire v1's envelopes as JSON: the callback, invoke and reply envelopes
 * written straight (cJSON's bytes) and read strictly, a reply's response escaped and unescaped
 * in runs. The sealing and opening around them is wire.c. */
#include "wire.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The escaped form of byte c inside a JSON string, as cJSON prints it: its length, and the
 * text in out (up to 6 bytes) when out is not NULL. 1 means the byte itself. */
static size_t escape_byte(unsigned char c, char *out)
{
    static const char hex[] = "0123456789abcdef";
    char e = c == '"'    ? '"'
             : c == '\\' ? '\\'
             : c == '\b' ? 'b'
             : c == '\f' ? 'f'
             : c == '\n' ? 'n'
             : c == '\r' ? 'r'
             : c == '\t' ? 't'
                         : 0;

    if (c >= 32 && e == 0)
        return 1;
    if (out == NULL)
        return e ? 2 : 6;
    out[0] = '\\';
    if (e) {
        out[1] = e;
        return 2;
    }
    memcpy(out + 1, "u00", 3);
    out[4] = hex[c >> 4];
    out[5] = hex[c & 15];
    return 6;
}

#define REPLY_HEAD      "{\"response\":\""
#define REPLY_TAIL      "\"}"
#define REPLY_TAIL_EXC  "\",\"exception\":true}"
#define CONST_LEN(text) (sizeof text - 1)

/* The bytes a JSON string's escape grows by (escape_byte's length - 1), per byte; filled
 * once. 0 for the bytes that stand for themselves. */
static pthread_once_t grow_once = PTHREAD_ONCE_INIT;
static unsigned char grow_by[256];

static void fill_grow_by(void)
{
    for (int c = 0; c < 256; c++)
        grow_by[c] = (unsigned char)(escape_byte((unsigned char)c, NULL) - 1);
}

/*
 * The length of the run at p (n bytes) of bytes that stand for themselves in a JSON string:
 * up to the first '"', '\\' or byte below 0x20, or n. Sixteen bytes a step where SSE2 is
 * there (a page of sync_msg has a quote every dozen bytes or so, and long runs between).
 */
static size_t plain_run(const unsigned char *p, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1f);

    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v)); /* v <= 0x1f, unsigned */
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);

        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#endif
    while (i < n && !grow_by[p[i]])
        i++;
    return i;
}

size_t zone_wire_reply_size(const char *response, size_t len, int exception)
{
    const unsigned char *p = (const unsigned char *)response;
    size_t n = CONST_LEN(REPLY_HEAD) + len +
               (exception ? CONST_LEN(REPLY_TAIL_EXC) : CONST_LEN(REPLY_TAIL));

    size_t i = 0;

    pthread_once(&grow_once, fill_grow_by);
#ifdef __SSE2__
    /* a quote or backslash grows by 1; a control byte's growth from the table */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1f);

    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned qb = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
        unsigned c = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));

        n += (size_t)__builtin_popcount(qb);
        for (; c; c &= c - 1)
            n += grow_by[p[i + (size_t)__builtin_ctz(c)]];
    }
#endif
    for (; i < len; i++)
        n += grow_by[p[i]];
    return n;
}

size_t zone_wire_reply_write(const char *response, size_t len, int exception, char *out)
{
    const unsigned char *p = (const unsigned char *)response;
    char *o = out;

    pthread_once(&grow_once, fill_grow_by);
    memcpy(o, REPLY_HEAD, CONST_LEN(REPLY_HEAD));
    o += CONST_LEN(REPLY_HEAD);
    for (size_t i = 0; i < len;) {
        size_t run = plain_run(p + i, len - i);

        memcpy(o, p + i, run);
        o += run;
        i += run;
        if (i < len)
            o += escape_byte(p[i++], o);
    }
    if (exception) {
        memcpy(o, REPLY_TAIL_EXC, CONST_LEN(REPLY_TAIL_EXC));
        o += CONST_LEN(REPLY_TAIL_EXC);
    } else {
        memcpy(o, REPLY_TAIL, CONST_LEN(REPLY_TAIL));
        o += CONST_LEN(REPLY_TAIL);
    }
    return (size_t)(o - out);
}

/* Envelope helpers: a missing key gives the default, a wrong type is an error. */
/* Whether JSON text holds the escape \u0000 (backslashes appear only inside strings). */
static int has_nul_escape(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i++)
        if (s[i] == '\\') {
            if (s[i + 1] == 'u' && i + 5 < len && !memcmp(s + i + 2, "0000", 4))
                return 1;
            i++; /* the escaped character */
        }
    return 0;
}

cJSON *zone_wire_json_parse(const char *text, size_t len)
{
    const char *end = NULL, *stop = text + len;
    cJSON *o;

    if (!text || has_nul_escape(text, len) || !(o = cJSON_ParseWithLengthOpts(text, len, &end, 0)))
        return NULL;
    while (end < stop && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end != stop) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int get_str(const cJSON *o, const char *k, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (v != NULL && !cJSON_IsString(v))
        return -1;
    *out = strdup(v != NULL ? v->valuestring : "");
    return *out == NULL ? -1 : 0;
}

static int get_u32(const cJSON *o, const char *k, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *out = 0;
    if (v == NULL)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4294967295.0 ||
        v->valuedouble != (double)(uint32_t)v->valuedouble)
        return -1;
    *out = (uint32_t)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *o, const char *k, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *out = 0;
    if (v == NULL)
        return 0;
    if (!cJSON_IsBool(v))
        return -1;
    *out = cJSON_IsTrue(v);
    return 0;
}

static const char *s(const char *v)
{
    return v != NULL ? v : "";
}

static char *finish(cJSON *o, int ok)
{
    char *out = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return out;
}

/* The length of v as a JSON string, quotes included, escaped as cJSON escapes. */
static size_t str_size(const char *v)
{
    size_t n = 2;

    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        n += 1 + grow_by[*p];
    return n;
}

/* Writes v as a JSON string at o (str_size(v) bytes); returns the end. */
static char *str_write(char *o, const char *v)
{
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (grow_by[*p])
            o += escape_byte(*p, o);
        else
            *o++ = (char)*p;
    }
    *o++ = '"';
    return o;
}

/* The callback envelope written straight, byte for byte what cJSON_PrintUnformatted writes of
 * its tree (integers below 2^32 as plain digits). */
char *zone_wire_callback_encode(const zone_wire_callback *c)
{
    const char *str[] = {s(c->corpid),     s(c->data),      s(c->job_info),
                         s(c->ability_id), s(c->notify_id), s(c->req_id)};
    char nums[2][16], *out, *o;
    size_t nl[2],
        n = sizeof "{\"corpid\":,\"agentid\":,\"call_type\":,\"data\":,\"is_async\":false,"
                   "\"job_info\":,\"ability_id\":,\"notify_id\":,\"req_id\":}";

    pthread_once(&grow_once, fill_grow_by);
    nl[0] = (size_t)snprintf(nums[0], sizeof nums[0], "%u", (unsigned)c->agentid);
    nl[1] = (size_t)snprintf(nums[1], sizeof nums[1], "%u", (unsigned)c->call_type);
    n += nl[0] + nl[1];
    for (size_t i = 0; i < sizeof str / sizeof *str; i++)
        n += str_size(str[i]);
    if (!(out = malloc(n)))
        return NULL;
    o = out;
#define PUT(text) (memcpy(o, text, CONST_LEN(text)), o += CONST_LEN(text))
    PUT("{\"corpid\":");
    o = str_write(o, str[0]);
    PUT(",\"agentid\":");
    memcpy(o, nums[0], nl[0]);
    o += nl[0];
    PUT(",\"call_type\":");
    memcpy(o, nums[1], nl[1]);
    o += nl[1];
    PUT(",\"data\":");
    o = str_write(o, str[1]);
    if (c->is_async)
        PUT(",\"is_async\":true");
    else
        PUT(",\"is_async\":false");
    PUT(",\"job_info\":");
    o = str_write(o, str[2]);
    PUT(",\"ability_id\":");
    o = str_write(o, str[3]);
    PUT(",\"notify_id\":");
    o = str_write(o, str[4]);
    PUT(",\"req_id\":");
    o = str_write(o, str[5]);
    PUT("}");
#undef PUT
    *o = '\0';
    return out;
}

void zone_wire_callback_cleanup(zone_wire_callback *c)
{
    free(c->corpid);
    free(c->data);
    free(c->job_info);
    free(c->ability_id);
    free(c->notify_id);
    free(c->req_id);
    memset(c, 0, sizeof *c);
}

int zone_wire_callback_decode(const char *json, size_t len, zone_wire_callback *c)
{
    memset(c, 0, sizeof *c);
    cJSON *o = zone_wire_json_parse(json, len);
    int bad = !cJSON_IsObject(o) || get_str(o, "corpid", &c->corpid) ||
              get_u32(o, "agentid", &c->agentid) || get_u32(o, "call_type", &c->call_type) ||
              get_str(o, "data", &c->data) || get_bool(o, "is_async", &c->is_async) ||
              get_str(o, "job_info", &c->job_info) || get_str(o, "ability_id", &c->ability_id) ||
              get_str(o, "notify_id", &c->notify_id) || get_str(o, "req_id", &c->req_id);
    cJSON_Delete(o);
    if (bad)
        zone_wire_callback_cleanup(c);
    return bad ? ZONE_WIRE_ERR_JSON : ZONE_WIRE_OK;
}

char *zone_wire_invoke_encode(const zone_wire_invoke *v)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && cJSON_AddStringToObject(o, "api", s(v->api)) &&
             cJSON_AddStringToObject(o, "request", s(v->request)) &&
             cJSON_AddStringToObject(o, "corpid", s(v->corpid)) &&
             cJSON_AddNumberToObject(o, "agentid", v->agentid) &&
             cJSON_AddStringToObject(o, "ability_id", s(v->ability_id)) &&
             cJSON_AddStringToObject(o, "job_info", s(v->job_info)) &&
             cJSON_AddStringToObject(o, "instance", s(v->instance));
    return finish(o, ok);
}

void zone_wire_invoke_cleanup(zone_wire_invoke *v)
{
    free(v->api);
    free(v->request);
    free(v->corpid);
    free(v->ability_id);
    free(v->job_info);
    free(v->instance);
    memset(v, 0, sizeof *v);
}

int zone_wire_invoke_decode(const char *json, size_t len, zone_wire_invoke *v)
{
    memset(v, 0, sizeof *v);
    cJSON *o = zone_wire_json_parse(json, len);
    int bad = !cJSON_IsObject(o) || get_str(o, "api", &v->api) ||
              get_str(o, "request", &v->request) || get_str(o, "corpid", &v->corpid) ||
              get_u32(o, "agentid", &v->agentid) || get_str(o, "ability_id", &v->ability_id) ||
              get_str(o, "job_info", &v->job_info) || get_str(o, "instance", &v->instance);
    cJSON_Delete(o);
    if (bad)
        zone_wire_invoke_cleanup(v);
    return bad ? ZONE_WIRE_ERR_JSON : ZONE_WIRE_OK;
}

char *zone_wire_reply_encode(const zone_wire_reply *r)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && cJSON_AddStringToObject(o, "response", s(r->response)) &&
             (!r->exception || cJSON_AddTrueToObject(o, "exception"));
    return finish(o, ok);
}

void zone_wire_reply_cleanup(zone_wire_reply *r)
{
    free(r->response);
    memset(r, 0, sizeof *r);
}

int zone_wire_reply_decode(const char *json, size_t len, zone_wire_reply *r)
{
    memset(r, 0, sizeof *r);
    cJSON *o = zone_wire_json_parse(json, len);
    int bad = !cJSON_IsObject(o) || get_str(o, "response", &r->response) ||
              get_bool(o, "exception", &r->exception);
    cJSON_Delete(o);
    if (bad)
        zone_wire_reply_cleanup(r);
    return bad ? ZONE_WIRE_ERR_JSON : ZONE_WIRE_OK;
}

static const char unescaped[256] = {['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
                                    ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t'};

/* The bytes that end a run of plain bytes inside the envelope's string. */
static const unsigned char stops_scan[256] = {['"'] = 1, ['\\'] = 1, ['\0'] = 1};

/* The length of the run at p (n bytes) with no '"', '\\' nor NUL: stops_scan's bytes. */
static size_t scan_run(const unsigned char *p, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  nul = _mm_setzero_si128();

    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmpeq_epi8(v, nul)));

        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#endif
    while (i < n && !stops_scan[p[i]])
        i++;
    return i;
}

/*
 * Whether json is the envelope exactly as zone_wire_reply_write writes it, with no \u escape
 * and no NUL in its string: then *end is the string's closing quote and *exception is set.
 */
static int reply_plain_shape(const char *json, size_t len, size_t *end, int *exception)
{
    size_t i = CONST_LEN(REPLY_HEAD);

    if (len < CONST_LEN(REPLY_HEAD) + CONST_LEN(REPLY_TAIL) ||
        memcmp(json, REPLY_HEAD, CONST_LEN(REPLY_HEAD)) != 0)
        return 0;
    for (;; i += 2) {
        i += scan_run((const unsigned char *)json + i, len - i);
        if (i >= len || json[i] == '\0')
            return 0;
        if (json[i] == '"')
            break;
        if (i + 1 >= len || !unescaped[(unsigned char)json[i + 1]])
            return 0; /* \u, or an escape JSON does not have */
    }
    *end = i;
    if (len - i == CONST_LEN(REPLY_TAIL) && !memcmp(json + i, REPLY_TAIL, CONST_LEN(REPLY_TAIL)))
        *exception = 0;
    else if (len - i == CONST_LEN(REPLY_TAIL_EXC) &&
             !memcmp(json + i, REPLY_TAIL_EXC, CONST_LEN(REPLY_TAIL_EXC)))
        *exception = 1;
    else
        return 0;
    return 1;
}

int zone_wire_reply_take(char **json, size_t len, zone_wire_reply *r)
{
    char *t = *json;
    size_t end, i, o = 0;
    int exception;

    memset(r, 0, sizeof *r);
    if (t == NULL || !reply_plain_shape(t, len, &end, &exception))
        return t == NULL ? ZONE_WIRE_ERR_JSON : zone_wire_reply_decode(t, len, r);
    /* unescaped toward the buffer's start, run by run: the writer never passes the reader */
    for (i = CONST_LEN(REPLY_HEAD); i < end;) {
        const char *bs = memchr(t + i, '\\', end - i);
        size_t run = bs ? (size_t)(bs - (t + i)) : end - i;

        memmove(t + o, t + i, run);
        o += run;
        i += run;
        if (i < end) {
            t[o++] = unescaped[(unsigned char)t[i + 1]];
            i += 2;
        }
    }
    t[o] = '\0';
    r->response = t;
    r->exception = exception;
    *json = NULL;
    return ZONE_WIRE_OK;
}
