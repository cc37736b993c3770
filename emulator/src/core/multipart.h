/* multipart: a strict multipart/form-data reader (RFC 7578) for upload_media (spec app-api.md
 * §13). */
#ifndef ZL_MULTIPART_H
#define ZL_MULTIPART_H

#include <stddef.h>

/* Most parts one body may hold. */
#define ZL_MP_MAX_PARTS 64

/* Most bytes of one part's header block, counted up to and including its blank line. */
#define ZL_MP_MAX_HEADER_BYTES 8192

/* Longest boundary RFC 2046 allows. */
#define ZL_MP_MAX_BOUNDARY 70

typedef struct zl_mp_part {
    const char *name;         /* form field name from Content-Disposition (owned by the result) */
    const char *filename;     /* NULL when absent */
    const char *content_type; /* the part's Content-Type header, NULL when absent */
    long long filelength;     /* the Content-Disposition filelength parameter, -1 when absent */
    const char *data;         /* borrowed: points into the body */
    size_t len;
} zl_mp_part;

typedef struct zl_mp_result {
    zl_mp_part *parts;
    size_t count;
    /* private storage follows */
    char *strings; /* every part's name, filename and content_type, NUL-separated */
} zl_mp_result;

/*
 * Parses body (len bytes, borrowed, not NUL-terminated, may contain NULs) given the request's
 * Content-Type header value (must be multipart/form-data with a boundary parameter, quoted or
 * not, 1..70 chars). Returns 0 and fills *out (at least one part; free with zl_mp_free), or -1
 * with one sentence in err saying what is wrong (e.g. "Content-Type is not multipart/form-data",
 * "no closing boundary", "part 2 has no Content-Disposition") and *out emptied, so zl_mp_free on
 * it is harmless. At most ZL_MP_MAX_PARTS parts; header block of a part at most
 * ZL_MP_MAX_HEADER_BYTES. Every part needs a Content-Disposition of type form-data with a
 * non-empty name; filelength, when present, must be a non-negative decimal integer (it is not
 * compared with len: the caller decides). Every part's data points into body, so body must
 * outlive *out. err may be NULL.
 */
int zl_mp_parse(const char *content_type, const char *body, size_t len, zl_mp_result *out,
                char *err, size_t errlen);

/* Frees what zl_mp_parse stored in r and empties it; r may be NULL or already empty. */
void zl_mp_free(zl_mp_result *r);

/* First part named name (exact, case-sensitive), or NULL; borrowed from r. */
const zl_mp_part *zl_mp_find(const zl_mp_result *r, const char *name);

#endif
