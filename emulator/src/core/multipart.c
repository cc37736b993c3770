/* multipart: strict multipart/form-data parsing (RFC 7578 over RFC 2046 framing) of a borrowed
 * body. */
#define _GNU_SOURCE /* memmem */
#include "core/multipart.h"
#include "core/err.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Line endings: RFC 2046 requires CRLF. A bare LF is accepted as well (hand-written bodies and
 * some scripts send it); a CR directly before an LF always belongs to the line ending, never to a
 * header value or to a part's data.
 */

#define FORM_DATA     "multipart/form-data"
#define FORM_DATA_LEN (sizeof FORM_DATA - 1)
#define ABSENT        SIZE_MAX

/* Strings a part owns, as indexes into parser.offs. */
enum { S_NAME, S_FILENAME, S_CTYPE, S_COUNT };

/* Outcomes of read_value. */
enum { V_OK, V_EMPTY, V_UNTERMINATED, V_TOO_LONG };

typedef struct parser {
    const char *end;                    /* one past the body */
    char delim[3 + ZL_MP_MAX_BOUNDARY]; /* "\n--" boundary: what starts every boundary line */
    size_t delim_len;
    zl_mp_part *parts; /* ZL_MP_MAX_PARTS entries */
    size_t nparts;
    size_t offs[ZL_MP_MAX_PARTS][S_COUNT]; /* into strings, ABSENT when missing */
    char *strings; /* grows between parts, so pointers are only made at the end */
    size_t strings_len;
    size_t strings_cap;
    char *err;
    size_t errlen;
} parser;

/* Writes one sentence into the caller's err (when there is one) and returns -1. */
static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *ps, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    zl_err_vset(ps->err, ps->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* RFC 9110 token characters. */
static int is_tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 2046 bchars (space is allowed, but not as the last character). */
static int is_bchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && is_ows(*p))
        p++;
    return p;
}

/*
 * Reads a parameter value at *pp, a token or a quoted-string, decoding it into dst (room for cap
 * bytes, no NUL written) and its length into *n. In a quoted-string only \" and \\ are escapes; a
 * backslash before anything else is kept, so Windows paths sent unescaped survive. Advances *pp
 * past the value on V_OK.
 */
static int read_value(const char **pp, const char *end, char *dst, size_t cap, size_t *n)
{
    const char *p = *pp;
    size_t k = 0;

    if (p < end && *p == '"') {
        for (p++;; p++) {
            if (p == end)
                return V_UNTERMINATED;
            if (*p == '"')
                break;
            if (*p == '\\' && end - p >= 2 && (p[1] == '"' || p[1] == '\\'))
                p++;
            if (k == cap)
                return V_TOO_LONG;
            dst[k++] = *p;
        }
        p++;
    } else {
        for (; p < end && is_tchar(*p); p++) {
            if (k == cap)
                return V_TOO_LONG;
            dst[k++] = *p;
        }
        if (k == 0)
            return V_EMPTY;
    }
    *pp = p;
    *n = k;
    return V_OK;
}

/*
 * Reads the next "; name=value" parameter of a header value at *pp. Returns 1 with the name (a
 * span of the text) and the value decoded into dst (see read_value), 0 at the end of the text (a
 * trailing ';' is tolerated), or -1 with *why saying what is wrong.
 */
static int next_param(const char **pp, const char *end, const char **name, size_t *name_len,
                      char *dst, size_t cap, size_t *vlen, const char **why)
{
    const char *p = skip_ows(*pp, end);

    if (p == end)
        return 0;
    if (*p != ';') {
        *why = "a parameter is not preceded by ';'";
        return -1;
    }
    p = skip_ows(p + 1, end);
    if (p == end) {
        *pp = p;
        return 0;
    }
    *name = p;
    while (p < end && is_tchar(*p))
        p++;
    *name_len = (size_t)(p - *name);
    if (*name_len == 0) {
        *why = "a parameter has no name";
        return -1;
    }
    p = skip_ows(p, end);
    if (p == end || *p != '=') {
        *why = "a parameter has no '=' after its name";
        return -1;
    }
    p = skip_ows(p + 1, end);
    switch (read_value(&p, end, dst, cap, vlen)) {
    case V_OK:
        break;
    case V_EMPTY:
        *why = "a parameter has no value";
        return -1;
    case V_UNTERMINATED:
        *why = "a quoted parameter value has no closing quote";
        return -1;
    default:
        *why = "a parameter value is too long";
        return -1;
    }
    *pp = p;
    return 1;
}

static int name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* Takes the boundary parameter of the request's Content-Type into ps->delim. */
static int read_boundary(parser *ps, const char *content_type)
{
    const char *p, *end, *pname = NULL, *why = "";
    size_t pname_len = 0, vlen = 0, cap, i;
    char *val = NULL;
    int found = 0, r, rc = -1;

    if (content_type == NULL)
        return fail(ps, "request has no Content-Type (expected multipart/form-data)");
    end = content_type + strlen(content_type);
    p = skip_ows(content_type, end);
    if ((size_t)(end - p) < FORM_DATA_LEN || strncasecmp(p, FORM_DATA, FORM_DATA_LEN) != 0 ||
        (p + FORM_DATA_LEN < end && !is_ows(p[FORM_DATA_LEN]) && p[FORM_DATA_LEN] != ';'))
        return fail(ps, "Content-Type is not multipart/form-data");
    p += FORM_DATA_LEN;
    cap = (size_t)(end - p); /* a decoded value is never longer than the text */
    val = malloc(cap + 1);
    if (val == NULL)
        return fail(ps, "out of memory");
    while ((r = next_param(&p, end, &pname, &pname_len, val, cap, &vlen, &why)) == 1) {
        if (!name_is(pname, pname_len, "boundary"))
            continue;
        if (found) {
            fail(ps, "Content-Type has more than one boundary parameter");
            goto out;
        }
        found = 1;
        if (vlen == 0) {
            fail(ps, "Content-Type boundary is empty");
            goto out;
        }
        if (vlen > ZL_MP_MAX_BOUNDARY) {
            fail(ps, "Content-Type boundary is longer than %d characters", ZL_MP_MAX_BOUNDARY);
            goto out;
        }
        for (i = 0; i < vlen; i++) {
            if (!is_bchar(val[i])) {
                fail(ps, "Content-Type boundary contains a character RFC 2046 does not allow");
                goto out;
            }
        }
        if (val[vlen - 1] == ' ') {
            fail(ps, "Content-Type boundary ends with a space");
            goto out;
        }
        memcpy(ps->delim, "\n--", 3);
        memcpy(ps->delim + 3, val, vlen);
        ps->delim_len = 3 + vlen;
    }
    if (r < 0) {
        fail(ps, "Content-Type parameters are malformed: %s", why);
        goto out;
    }
    if (!found) {
        fail(ps, "Content-Type has no boundary parameter");
        goto out;
    }
    rc = 0;
out:
    free(val);
    return rc;
}

/* Makes room for more bytes at the end of ps->strings. */
static int reserve(parser *ps, size_t more)
{
    size_t need;
    char *s;

    if (ps->strings_cap - ps->strings_len >= more)
        return 0;
    need = ps->strings_len + more; /* bounded by the part and header caps: cannot overflow */
    if (need < 2 * ps->strings_cap)
        need = 2 * ps->strings_cap;
    s = realloc(ps->strings, need);
    if (s == NULL)
        return -1;
    ps->strings = s;
    ps->strings_cap = need;
    return 0;
}

/* Where the next value may be decoded, and how many bytes it may take (one is kept for NUL). */
static char *scratch(parser *ps, size_t *cap)
{
    *cap = ps->strings_cap - ps->strings_len - 1;
    return ps->strings + ps->strings_len;
}

/* Keeps the len bytes just decoded at scratch() as string k of the current part. */
static void keep(parser *ps, int k, size_t len)
{
    ps->strings[ps->strings_len + len] = '\0';
    ps->offs[ps->nparts][k] = ps->strings_len;
    ps->strings_len += len + 1;
}

/* Parses the value of the current part's Content-Disposition, [p, end). */
static int parse_disposition(parser *ps, const char *p, const char *end)
{
    size_t n = ps->nparts + 1, pname_len = 0, vlen = 0, cap, i;
    const char *start = p, *pname = NULL, *why = "";
    zl_mp_part *part = &ps->parts[ps->nparts];
    int r, k, have_length = 0;
    long long v;
    char *dst;

    while (p < end && is_tchar(*p))
        p++;
    if (!name_is(start, (size_t)(p - start), "form-data"))
        return fail(ps, "part %zu Content-Disposition is not form-data", n);
    for (;;) {
        dst = scratch(ps, &cap);
        r = next_param(&p, end, &pname, &pname_len, dst, cap, &vlen, &why);
        if (r == 0)
            break;
        if (r < 0)
            return fail(ps, "part %zu Content-Disposition is malformed: %s", n, why);
        if (name_is(pname, pname_len, "filelength")) {
            if (have_length)
                return fail(ps, "part %zu Content-Disposition has more than one filelength", n);
            have_length = 1;
            v = 0;
            for (i = 0; i < vlen; i++) {
                if (dst[i] < '0' || dst[i] > '9' || v > (LLONG_MAX - (dst[i] - '0')) / 10)
                    return fail(ps, "part %zu filelength is not a non-negative integer", n);
                v = v * 10 + (dst[i] - '0');
            }
            if (vlen == 0)
                return fail(ps, "part %zu filelength is not a non-negative integer", n);
            part->filelength = v;
            continue;
        }
        if (name_is(pname, pname_len, "name"))
            k = S_NAME;
        else if (name_is(pname, pname_len, "filename"))
            k = S_FILENAME;
        else
            continue; /* filename*, creation-date and the like */
        if (ps->offs[ps->nparts][k] != ABSENT)
            return fail(ps, "part %zu Content-Disposition has more than one %.*s", n,
                        (int)pname_len, pname);
        keep(ps, k, vlen);
    }
    if (ps->offs[ps->nparts][S_NAME] == ABSENT)
        return fail(ps, "part %zu Content-Disposition has no name parameter", n);
    if (ps->strings[ps->offs[ps->nparts][S_NAME]] == '\0')
        return fail(ps, "part %zu Content-Disposition has an empty name", n);
    return 0;
}

/*
 * Parses the header block of the current part, which starts at start, and sets *data to the first
 * byte after its blank line.
 */
static int parse_headers(parser *ps, const char *start, const char **data)
{
    size_t n = ps->nparts + 1, room = (size_t)(ps->end - start), line = 0;
    const char *lim = start + (room < ZL_MP_MAX_HEADER_BYTES ? room : ZL_MP_MAX_HEADER_BYTES);
    const char *p = start, *lf, *le, *colon, *q, *v, *ve;
    int have_cd = 0, have_ct = 0, k;
    size_t cap;

    for (k = 0; k < S_COUNT; k++)
        ps->offs[ps->nparts][k] = ABSENT;
    ps->parts[ps->nparts].filelength = -1;
    /* Every decoded string is shorter than the header text it came from. */
    if (reserve(ps, (size_t)(lim - start) + S_COUNT + 1) != 0)
        return fail(ps, "out of memory");
    for (;;) {
        lf = memchr(p, '\n', (size_t)(lim - p));
        if (lf == NULL) {
            if (lim == ps->end)
                return fail(ps, "no closing boundary: the body ends inside the headers of part %zu",
                            n);
            return fail(ps, "part %zu header block is longer than %d bytes", n,
                        ZL_MP_MAX_HEADER_BYTES);
        }
        le = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
        line++;
        if (le == p)
            break;
        for (q = p; q < le; q++) {
            if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
                return fail(ps, "part %zu header line %zu contains a control character", n, line);
        }
        if (is_ows(*p))
            return fail(ps,
                        "part %zu header line %zu is a folded continuation, which is not "
                        "supported",
                        n, line);
        colon = memchr(p, ':', (size_t)(le - p));
        if (colon == NULL)
            return fail(ps, "part %zu header line %zu has no colon", n, line);
        for (q = p; q < colon && is_tchar(*q); q++)
            ;
        if (q == p || q != colon)
            return fail(ps, "part %zu header line %zu has an invalid header name", n, line);
        v = skip_ows(colon + 1, le);
        for (ve = le; ve > v && is_ows(ve[-1]); ve--)
            ;
        if (name_is(p, (size_t)(colon - p), "Content-Disposition")) {
            if (have_cd++)
                return fail(ps, "part %zu has more than one Content-Disposition", n);
            if (parse_disposition(ps, v, ve) != 0)
                return -1;
        } else if (name_is(p, (size_t)(colon - p), "Content-Type")) {
            if (have_ct++)
                return fail(ps, "part %zu has more than one Content-Type", n);
            memcpy(scratch(ps, &cap), v, (size_t)(ve - v));
            keep(ps, S_CTYPE, (size_t)(ve - v));
        }
        p = lf + 1;
    }
    if (!have_cd)
        return fail(ps, "part %zu has no Content-Disposition", n);
    *data = lf + 1;
    return 0;
}

/*
 * Reads what follows "--boundary" at p: returns 1 for the closing boundary (the epilogue after it
 * is ignored), 0 with *next at the next part's first header line, or -1.
 */
static int after_boundary(parser *ps, const char *p, const char **next)
{
    const char *end = ps->end;

    if (end - p >= 2 && p[0] == '-' && p[1] == '-')
        return 1;
    p = skip_ows(p, end); /* transport padding */
    if (p < end && *p == '\n') {
        *next = p + 1;
        return 0;
    }
    if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
        *next = p + 2;
        return 0;
    }
    if (p == end || (end - p == 1 && (*p == '\r' || *p == '-')))
        return fail(ps, "no closing boundary: the body ends on a boundary line");
    return fail(ps,
                "a boundary line before part %zu has text after the boundary (a part may not "
                "contain a line starting with the boundary)",
                ps->nparts + 1);
}

int zl_mp_parse(const char *content_type, const char *body, size_t len, zl_mp_result *out,
                char *err, size_t errlen)
{
    parser ps;
    const char *p, *m, *data = NULL, *next = NULL;
    zl_mp_part *part;
    size_t i;
    int r, rc = -1, k;

    assert(out != NULL);
    memset(&ps, 0, sizeof ps);
    ps.err = err;
    ps.errlen = errlen;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    out->parts = NULL;
    out->count = 0;
    out->strings = NULL;
    if (body == NULL) {
        body = "";
        len = 0;
    }
    ps.end = body + len;
    if (read_boundary(&ps, content_type) != 0)
        goto out;
    ps.parts = calloc(ZL_MP_MAX_PARTS, sizeof *ps.parts);
    if (ps.parts == NULL) {
        fail(&ps, "out of memory");
        goto out;
    }

    /* The first boundary line opens the body or follows a line of preamble, which is ignored. */
    if (len >= ps.delim_len - 1 && memcmp(body, ps.delim + 1, ps.delim_len - 1) == 0)
        p = body + ps.delim_len - 1;
    else if ((m = memmem(body, len, ps.delim, ps.delim_len)) != NULL)
        p = m + ps.delim_len;
    else {
        fail(&ps, "body does not contain the boundary from Content-Type");
        goto out;
    }

    while ((r = after_boundary(&ps, p, &next)) == 0) {
        if (ps.nparts == ZL_MP_MAX_PARTS) {
            fail(&ps, "body has more than %d parts", ZL_MP_MAX_PARTS);
            goto out;
        }
        if (parse_headers(&ps, next, &data) != 0)
            goto out;
        /* A part's data ends at the line break before the next boundary line. */
        m = memmem(data, (size_t)(ps.end - data), ps.delim, ps.delim_len);
        if (m == NULL) {
            fail(&ps, "no closing boundary: the body ends inside part %zu", ps.nparts + 1);
            goto out;
        }
        part = &ps.parts[ps.nparts++];
        part->data = data;
        part->len = (size_t)(m - data);
        if (m > data && m[-1] == '\r')
            part->len--;
        p = m + ps.delim_len;
    }
    if (r < 0)
        goto out;
    if (ps.nparts == 0) {
        fail(&ps, "body has no parts (its first boundary line is the closing one)");
        goto out;
    }

    for (i = 0; i < ps.nparts; i++) {
        const char **dst[S_COUNT] = {&ps.parts[i].name, &ps.parts[i].filename,
                                     &ps.parts[i].content_type};

        for (k = 0; k < S_COUNT; k++)
            *dst[k] = ps.offs[i][k] == ABSENT ? NULL : ps.strings + ps.offs[i][k];
    }
    out->parts = ps.parts;
    out->count = ps.nparts;
    out->strings = ps.strings;
    ps.parts = NULL;
    ps.strings = NULL;
    rc = 0;
out:
    free(ps.parts);
    free(ps.strings);
    return rc;
}

void zl_mp_free(zl_mp_result *r)
{
    if (r == NULL)
        return;
    free(r->parts);
    free(r->strings);
    r->parts = NULL;
    r->count = 0;
    r->strings = NULL;
}

const zl_mp_part *zl_mp_find(const zl_mp_result *r, const char *name)
{
    size_t i;

    if (r == NULL || name == NULL)
        return NULL;
    for (i = 0; i < r->count; i++) {
        if (strcmp(r->parts[i].name, name) == 0)
            return &r->parts[i];
    }
    return NULL;
}
