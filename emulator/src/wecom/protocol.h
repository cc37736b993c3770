/* protocol: checks request_data / response_data against an ability's registered JSON protocol
 * example (spec app-api.md §11, §12) and explains the first mismatch. */
#ifndef ZL_PROTOCOL_H
#define ZL_PROTOCOL_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Deepest nesting of objects and arrays accepted (the top-level object is level 1). */
#define ZL_PROTOCOL_MAX_DEPTH 64

/* How many key names a sentence lists before it writes "...". */
#define ZL_PROTOCOL_MAX_LISTED_KEYS 8

/* All-zero is the default of every field; a NULL options pointer means all defaults. */
typedef struct zl_protocol_options {
    /* 0: one number type; 1: integral values (1, 1e2, 2.0) are "integer", others "number", and
     * the two never match each other. */
    int distinguish_integers;
    /* 0: array elements are checked against the example's first element; 1: any contents. */
    int skip_array_contents;
    /* 0: recursive; 1: only the top-level keys and their types are checked. */
    int top_level_only;
    /* Request mismatch code: 710647 gives 710647; 0, 790016 and any other value give 790016. */
    int input_mismatch_code;
    /* 0: null matches only null; 1: a null value matches any example type. */
    int null_matches_any;
} zl_protocol_options;

/* Diagnosis of one check, filled in caller storage; every string is NUL-terminated. */
typedef struct zl_protocol_diag {
    int code;           /* 0 or the WeCom errcode */
    char path[256];     /* JSON path of the first mismatch ($.a.b, $.list[2].id, $["odd key"]);
                           "" when none and for parse errors */
    char expected[24];  /* JSON type name the example has there ("string", "number", "integer",
                           "boolean", "object", "array", "null"), "absent" when the key is not in
                           the example; "" for parse errors and the depth limit */
    char actual[24];    /* type found; "" for parse errors */
    char sentence[512]; /* one readable sentence for the journal, filled whenever code != 0 */
} zl_protocol_diag;

/*
 * Checks that example_json (len bytes, borrowed, need not be NUL-terminated) can serve as a
 * protocol example: one JSON value with nothing but whitespace after it, an object at the top,
 * no object with the same key twice, nested at most ZL_PROTOCOL_MAX_DEPTH levels. Returns 0, or
 * 790012 with d->sentence saying why. d (caller storage) may be NULL.
 */
int zl_protocol_check_example(const char *example_json, size_t len, zl_protocol_diag *d);

/*
 * Checks request_data (len bytes, borrowed, need not be NUL-terminated; any bytes) against the
 * ability's input protocol example (borrowed, normally an object accepted by
 * zl_protocol_check_example). Returns 0; 790015 when request_data is not JSON (empty, a syntax
 * error, text after the value, or nested deeper than cJSON's CJSON_NESTING_LIMIT); 790016 (or
 * 710647 when opt->input_mismatch_code says so) when it does not match, including nesting deeper
 * than ZL_PROTOCOL_MAX_DEPTH; 790012 when example is NULL or not an object. opt may be NULL
 * (defaults); d (caller storage) may be NULL and is always reset first.
 */
int zl_protocol_check_request(const cJSON *example, const char *request_data, size_t len,
                              const zl_protocol_options *opt, zl_protocol_diag *d);

/*
 * Same as zl_protocol_check_request for the program's reply against the output protocol example:
 * returns 0, 790013 (not JSON), 790014 (mismatch) or 790012 (example unusable).
 * opt->input_mismatch_code is ignored here.
 */
int zl_protocol_check_response(const cJSON *example, const char *response, size_t len,
                               const zl_protocol_options *opt, zl_protocol_diag *d);

/*
 * WeCom's errmsg wording for the protocol codes (790012..790016, 710647) as a static string, or
 * NULL for any other code.
 */
const char *zl_protocol_errmsg(int code);

#endif
