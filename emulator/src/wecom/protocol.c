/* protocol: subset matching of JSON against an ability's protocol example, with diagnoses. */
#include "wecom/errcode.h"
#include "wecom/protocol.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define CODE_BAD_EXAMPLE      790012
#define CODE_RESULT_NOT_JSON  790013
#define CODE_RESULT_MISMATCH  790014
#define CODE_REQUEST_NOT_JSON 790015
#define CODE_REQUEST_MISMATCH 790016
#define CODE_INPUT_MISMATCH   710647

/* Bytes of the text shown from the offset where parsing stopped. */
#define SNIPPET_LEN 24

/* JSON value types as the matching rule sees them. */
typedef enum kind {
    K_INVALID,
    K_NULL,
    K_BOOLEAN,
    K_INTEGER,
    K_NUMBER,
    K_STRING,
    K_ARRAY,
    K_OBJECT
} kind;

static const char *const KIND_NAMES[] = {"invalid", "null",   "boolean", "integer",
                                         "number",  "string", "array",   "object"};
static const char *const KIND_PHRASES[] = {"an invalid value", "null",     "a boolean",
                                           "an integer",       "a number", "a string",
                                           "an array",         "an object"};

/* What differs between checking a request and checking a reply. */
typedef struct side {
    const char *field;    /* "request_data" */
    const char *protocol; /* "input" */
    const char *who;      /* "request" */
    int not_json_code;
    int mismatch_code;
} side;

/* A bounded string builder over caller storage: appends whole units or nothing, and once a unit
 * does not fit it ends the text with "..." and ignores everything after. */
typedef struct sbuf {
    char *p;
    size_t cap; /* at least 4 */
    size_t len;
    int full;
} sbuf;

typedef struct sbuf_mark {
    size_t len;
    int full;
} sbuf_mark;

/* The first mismatch found by match(). */
typedef struct matcher {
    const zl_protocol_options *opt;
    sbuf path;
    kind expected; /* K_INVALID when the key is absent from the example */
    kind actual;
    const char *key;      /* absent key (borrowed from the value tree) */
    const cJSON *ex_keys; /* example object that lacks key */
} matcher;

static void sb_init(sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->full = 0;
    p[0] = '\0';
}

static void sb_unit(sbuf *b, const char *s, size_t n)
{
    if (b->full)
        return;
    if (n + 4 > b->cap - b->len) {
        memcpy(b->p + b->len, "...", 4);
        b->len += 3;
        b->full = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends ASCII text of our own, one character per unit. */
static void sb_text(sbuf *b, const char *s)
{
    for (; *s != '\0'; s++)
        sb_unit(b, s, 1);
}

static void sb_size(sbuf *b, size_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%zu", v);

    if (n > 0)
        sb_unit(b, tmp, (size_t)n);
}

static sbuf_mark sb_mark(const sbuf *b)
{
    sbuf_mark m;

    m.len = b->len;
    m.full = b->full;
    return m;
}

static void sb_reset(sbuf *b, sbuf_mark m)
{
    b->len = m.len;
    b->full = m.full;
    b->p[b->len] = '\0';
}

/* Length of the valid UTF-8 sequence of 2..4 bytes at s (n bytes available), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned lo = 0x80, hi = 0xBF;

    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4;
    else
        return 0;
    if (len > n)
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0; /* overlong */
    else if (s[0] == 0xED)
        hi = 0x9F; /* surrogates */
    else if (s[0] == 0xF0)
        lo = 0x90; /* overlong */
    else if (s[0] == 0xF4)
        hi = 0x8F; /* above U+10FFFF */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Appends untrusted bytes readably: valid UTF-8 as is, control characters as \u00XX, other
 * bytes as \xXX; with quote set, '"' and '\' are escaped too. */
static void sb_bytes(sbuf *b, const char *s, size_t n, int quote)
{
    const unsigned char *u = (const unsigned char *)s;
    char tmp[8];
    size_t i = 0, l;

    while (i < n && !b->full) {
        if (u[i] < 0x20 || u[i] == 0x7F) {
            snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)u[i]);
            sb_unit(b, tmp, 6);
            i++;
        } else if (quote && (u[i] == '"' || u[i] == '\\')) {
            tmp[0] = '\\';
            tmp[1] = (char)u[i];
            sb_unit(b, tmp, 2);
            i++;
        } else if (u[i] < 0x80) {
            sb_unit(b, s + i, 1);
            i++;
        } else if ((l = utf8_len(u + i, n - i)) != 0) {
            sb_unit(b, s + i, l);
            i += l;
        } else {
            snprintf(tmp, sizeof tmp, "\\x%02X", (unsigned)u[i]);
            sb_unit(b, tmp, 4);
            i++;
        }
    }
}

/* Appends a key in double quotes. */
static void sb_quoted(sbuf *b, const char *key)
{
    sb_text(b, "\"");
    sb_bytes(b, key, strlen(key), 1);
    sb_text(b, "\"");
}

static int is_identifier(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (s++; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static void path_push_key(sbuf *path, const char *key)
{
    if (key == NULL)
        key = "";
    if (is_identifier(key)) {
        sb_text(path, ".");
        sb_text(path, key);
    } else {
        sb_text(path, "[");
        sb_quoted(path, key);
        sb_text(path, "]");
    }
}

static void path_push_index(sbuf *path, size_t i)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "[%zu]", i);

    if (n > 0)
        sb_unit(path, tmp, (size_t)n);
}

/* Appends up to ZL_PROTOCOL_MAX_LISTED_KEYS key names of obj, ", " between, or "none". */
static void sb_key_list(sbuf *b, const cJSON *obj)
{
    const cJSON *c;
    int n = 0;

    for (c = obj->child; c != NULL; c = c->next, n++) {
        if (n == ZL_PROTOCOL_MAX_LISTED_KEYS) {
            sb_text(b, ", ...");
            return;
        }
        if (n > 0)
            sb_text(b, ", ");
        sb_bytes(b, c->string ? c->string : "", c->string ? strlen(c->string) : 0, 0);
    }
    if (n == 0)
        sb_text(b, "none");
}

/* Integral and within int64 range; compares without libm. */
static int is_integral(double v)
{
    return v >= -9223372036854775808.0 && v < 9223372036854775808.0 && (double)(long long)v == v;
}

static kind kind_of(const cJSON *item, const zl_protocol_options *opt)
{
    if (cJSON_IsObject(item))
        return K_OBJECT;
    if (cJSON_IsArray(item))
        return K_ARRAY;
    if (cJSON_IsString(item))
        return K_STRING;
    if (cJSON_IsBool(item))
        return K_BOOLEAN;
    if (cJSON_IsNull(item))
        return K_NULL;
    if (cJSON_IsNumber(item))
        return opt->distinguish_integers && is_integral(item->valuedouble) ? K_INTEGER : K_NUMBER;
    return K_INVALID;
}

static int is_container(const cJSON *item)
{
    return cJSON_IsObject(item) || cJSON_IsArray(item);
}

/*
 * The §11 rule: v matches ex when the types are equal, every key of an object v is in ex and
 * matches there, and every element of an array v matches ex's first element (an empty example
 * array accepts anything). Recursion follows v, whose depth the caller has already bounded.
 * Returns 0, or -1 with the first mismatch in m and its path in m->path.
 */
static int match(matcher *m, const cJSON *v, const cJSON *ex, int depth)
{
    kind kv = kind_of(v, m->opt), ke = kind_of(ex, m->opt);
    const cJSON *c, *e;
    sbuf_mark mk;
    size_t i = 0;

    if (kv == K_NULL && m->opt->null_matches_any)
        return 0;
    if (kv != ke) {
        m->expected = ke;
        m->actual = kv;
        return -1;
    }
    if (m->opt->top_level_only && depth > 1)
        return 0;
    if (kv == K_OBJECT) {
        for (c = v->child; c != NULL; c = c->next) {
            const char *key = c->string != NULL ? c->string : "";

            mk = sb_mark(&m->path);
            path_push_key(&m->path, key);
            e = cJSON_GetObjectItemCaseSensitive(ex, key);
            if (e == NULL) {
                m->expected = K_INVALID;
                m->actual = kind_of(c, m->opt);
                m->key = key;
                m->ex_keys = ex;
                return -1;
            }
            if (match(m, c, e, depth + 1) != 0)
                return -1;
            sb_reset(&m->path, mk);
        }
    } else if (kv == K_ARRAY && !m->opt->skip_array_contents && ex->child != NULL) {
        for (c = v->child; c != NULL; c = c->next, i++) {
            mk = sb_mark(&m->path);
            path_push_index(&m->path, i);
            if (match(m, c, ex->child, depth + 1) != 0)
                return -1;
            sb_reset(&m->path, mk);
        }
    }
    return 0;
}

static int cmp_keys(const void *a, const void *b)
{
    const char *const *ka = a;
    const char *const *kb = b;

    return strcmp(*ka, *kb);
}

/* Finds a key that occurs twice in obj. Returns 1 with *dup set, 0 when none, -1 without memory. */
static int find_duplicate_key(const cJSON *obj, const char **dup)
{
    const cJSON *c;
    const char **keys;
    size_t n = 0, i;
    int found = 0;

    for (c = obj->child; c != NULL; c = c->next)
        n++;
    if (n < 2)
        return 0;
    keys = malloc(n * sizeof *keys);
    if (keys == NULL)
        return -1;
    for (i = 0, c = obj->child; c != NULL; c = c->next, i++)
        keys[i] = c->string != NULL ? c->string : "";
    qsort(keys, n, sizeof *keys, cmp_keys);
    for (i = 1; i < n && !found; i++) {
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            *dup = keys[i];
            found = 1;
        }
    }
    free(keys);
    return found;
}

typedef enum walk_result { WALK_OK, WALK_TOO_DEEP, WALK_DUPLICATE, WALK_NO_MEMORY } walk_result;

/*
 * Walks the containers of v (at nesting level depth) looking for one deeper than
 * ZL_PROTOCOL_MAX_DEPTH and, with check_dups, an object holding a key twice. Recursion stops one
 * level past the limit. On a finding, path and *at say where it is and *dup is the repeated key.
 */
static walk_result walk(const cJSON *v, int depth, int check_dups, sbuf *path, const char **dup,
                        const cJSON **at)
{
    const cJSON *c;
    sbuf_mark mk;
    walk_result r;
    size_t i = 0;
    int found;

    *at = v;
    if (depth > ZL_PROTOCOL_MAX_DEPTH)
        return WALK_TOO_DEEP;
    if (check_dups && cJSON_IsObject(v)) {
        found = find_duplicate_key(v, dup);
        if (found != 0)
            return found > 0 ? WALK_DUPLICATE : WALK_NO_MEMORY;
    }
    for (c = v->child; c != NULL; c = c->next, i++) {
        if (!is_container(c))
            continue;
        mk = sb_mark(path);
        if (cJSON_IsObject(v))
            path_push_key(path, c->string);
        else
            path_push_index(path, i);
        r = walk(c, depth + 1, check_dups, path, dup, at);
        if (r != WALK_OK)
            return r;
        sb_reset(path, mk);
    }
    return WALK_OK;
}

static int is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Nesting level reached at text[off], counting brackets outside strings. */
static size_t depth_at(const char *text, size_t off)
{
    size_t i, depth = 0;
    int in_string = 0;

    for (i = 0; i < off; i++) {
        char c = text[i];

        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return depth;
}

/* Appends ": parsing stopped at byte offset N of LEN (text there: "...")". */
static void sb_parse_stop(sbuf *s, const char *text, size_t len, size_t off)
{
    size_t n = len - off < SNIPPET_LEN ? len - off : SNIPPET_LEN;

    sb_text(s, " at byte offset ");
    sb_size(s, off);
    sb_text(s, " of ");
    sb_size(s, len);
    sb_text(s, " (text there: \"");
    sb_bytes(s, text + off, n, 1);
    if (n < len - off)
        sb_text(s, "...");
    sb_text(s, "\")");
}

/*
 * Parses text (len bytes) as exactly one JSON value followed only by whitespace. Returns the tree
 * (owned by the caller, release with cJSON_Delete), or NULL with a sentence about what (e.g.
 * "request_data") in s.
 */
static cJSON *parse_one(const char *text, size_t len, const char *what, sbuf *s)
{
    const char *end = NULL;
    cJSON *root;
    size_t off = 0;

    if (text == NULL || len == 0) {
        sb_text(s, what);
        sb_text(s, " is empty, which is not JSON");
        return NULL;
    }
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (end != NULL && (size_t)(end - text) <= len)
        off = (size_t)(end - text);
    if (root == NULL) {
        if (off >= len)
            off = len - 1;
        sb_text(s, what);
        if (depth_at(text, off) >= CJSON_NESTING_LIMIT) {
            sb_text(s, " is not JSON the emulator can read: it nests objects and arrays "
                       "more than ");
            sb_size(s, CJSON_NESTING_LIMIT);
            sb_text(s, " levels deep; parsing stopped");
        } else {
            sb_text(s, " is not JSON: parsing stopped");
        }
        sb_parse_stop(s, text, len, off);
        return NULL;
    }
    while (off < len && is_json_space(text[off]))
        off++;
    if (off < len) {
        cJSON_Delete(root);
        sb_text(s, what);
        sb_text(s, " is not JSON: there is more text after the first JSON value, starting");
        sb_parse_stop(s, text, len, off);
        return NULL;
    }
    return root;
}

static void diag_reset(zl_protocol_diag *d)
{
    d->code = 0;
    d->path[0] = '\0';
    d->expected[0] = '\0';
    d->actual[0] = '\0';
    d->sentence[0] = '\0';
}

static void set_name(char *dst, size_t size, const char *name)
{
    snprintf(dst, size, "%s", name);
}

/* True when obj is an object whose key holds an object with a "func" member. */
static int has_python_wrapper(const cJSON *obj, const char *key)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsObject(w) && cJSON_GetObjectItemCaseSensitive(w, "func") != NULL;
}

static int has_key(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
}

/*
 * Writes the §12 diagnosis when a failed value mixes up the Python sample's wrapper
 * ({"input":{"func":...}} in request_data, {"output":...} in response_data) with bare key/value
 * pairs. Returns 1 when it wrote one, 0 when the mismatch is something else.
 */
static int wrapper_sentence(const side *sd, const cJSON *example, const cJSON *root, sbuf *s)
{
    int input = strcmp(sd->protocol, "input") == 0;

    if (input && has_python_wrapper(root, "input") && !has_key(example, "input")) {
        sb_text(s,
                "request_data is the Python sample's {\"input\":{\"func\":...,\"func_req\":{...}}}"
                " wrapper, but this ability's input protocol takes bare key/value pairs (");
        sb_key_list(s, example);
        sb_text(s, "): send the func_req contents as request_data");
        return 1;
    }
    if (input && has_python_wrapper(example, "input") && !has_key(root, "input")) {
        sb_text(s, "request_data has bare key/value pairs (");
        sb_key_list(s, root);
        sb_text(s, "), but this ability's input protocol expects the Python sample's "
                   "{\"input\":{\"func\":...,\"func_req\":{...}}} wrapper: send "
                   "{\"input\":{\"func\":\"<name>\",\"func_req\":{<your pairs>}}} as request_data");
        return 1;
    }
    if (!input && has_key(root, "output") && !has_key(example, "output")) {
        sb_text(s, "response_data is the Python sample's {\"output\":...} wrapper, but this "
                   "ability's output protocol takes bare key/value pairs (");
        sb_key_list(s, example);
        sb_text(s, "): the program should return the output contents as the reply");
        return 1;
    }
    if (!input && has_key(example, "output") && !has_key(root, "output")) {
        sb_text(s, "response_data has bare key/value pairs (");
        sb_key_list(s, root);
        sb_text(s, "), but this ability's output protocol expects the Python sample's "
                   "{\"output\":...} wrapper: the program should wrap its reply in it");
        return 1;
    }
    return 0;
}

/* Checks one value against an example for either side; see the public functions. */
static int check_value(const side *sd, const cJSON *example, const char *text, size_t len,
                       const zl_protocol_options *opt, zl_protocol_diag *d)
{
    static const zl_protocol_options defaults;
    zl_protocol_diag local;
    cJSON *root = NULL;
    const char *unused = NULL;
    const cJSON *at = NULL;
    matcher m;
    sbuf s;
    int rc = 0;

    if (d == NULL)
        d = &local;
    if (opt == NULL)
        opt = &defaults;
    diag_reset(d);
    sb_init(&s, d->sentence, sizeof d->sentence);
    memset(&m, 0, sizeof m);
    m.opt = opt;
    sb_init(&m.path, d->path, sizeof d->path);

    if (!cJSON_IsObject(example)) {
        sb_text(&s, "the ability's ");
        sb_text(&s, sd->protocol);
        sb_text(&s, " protocol example is ");
        if (example == NULL) {
            sb_text(&s, "missing");
        } else {
            sb_text(&s, "not a JSON object (it is ");
            sb_text(&s, KIND_PHRASES[kind_of(example, opt)]);
            sb_text(&s, ")");
        }
        sb_text(&s, "; fix the ability's registration");
        rc = CODE_BAD_EXAMPLE;
        goto out;
    }
    root = parse_one(text, len, sd->field, &s);
    if (root == NULL) {
        rc = sd->not_json_code;
        goto out;
    }
    rc = sd->mismatch_code;
    sb_text(&m.path, "$");
    if (!cJSON_IsObject(root)) {
        set_name(d->expected, sizeof d->expected, KIND_NAMES[K_OBJECT]);
        set_name(d->actual, sizeof d->actual, KIND_NAMES[kind_of(root, opt)]);
        sb_text(&s, sd->field);
        sb_text(&s, " must be a JSON object because the ");
        sb_text(&s, sd->protocol);
        sb_text(&s, " protocol's top level is one, but it is ");
        sb_text(&s, KIND_PHRASES[kind_of(root, opt)]);
        goto out;
    }
    if (walk(root, 1, 0, &m.path, &unused, &at) != WALK_OK) {
        set_name(d->actual, sizeof d->actual, KIND_NAMES[kind_of(at, opt)]);
        goto deep;
    }
    if (match(&m, root, example, 1) == 0) {
        rc = 0;
        goto out;
    }
    set_name(d->expected, sizeof d->expected,
             m.expected == K_INVALID ? "absent" : KIND_NAMES[m.expected]);
    set_name(d->actual, sizeof d->actual, KIND_NAMES[m.actual]);
    if (wrapper_sentence(sd, example, root, &s))
        goto out;
    sb_text(&s, sd->field);
    sb_text(&s, " does not match the ability's ");
    sb_text(&s, sd->protocol);
    sb_text(&s, " protocol");
    if (m.expected == K_INVALID) {
        sb_text(&s, ": key ");
        sb_quoted(&s, m.key);
        sb_text(&s, " at ");
        sb_bytes(&s, d->path, strlen(d->path), 0);
        if (m.ex_keys->child == NULL) {
            sb_text(&s, " is not in the protocol example (the example object there is {}, "
                        "which allows no keys)");
        } else {
            sb_text(&s, " is not in the protocol example (allowed keys: ");
            sb_key_list(&s, m.ex_keys);
            sb_text(&s, ")");
        }
    } else {
        sb_text(&s, " at ");
        sb_bytes(&s, d->path, strlen(d->path), 0);
        sb_text(&s, ": the example has ");
        sb_text(&s, KIND_PHRASES[m.expected]);
        sb_text(&s, " there, but the ");
        sb_text(&s, sd->who);
        sb_text(&s, " has ");
        sb_text(&s, KIND_PHRASES[m.actual]);
    }
    goto out;
deep:
    sb_text(&s, sd->field);
    sb_text(&s, " nests objects and arrays more than ");
    sb_size(&s, ZL_PROTOCOL_MAX_DEPTH);
    sb_text(&s, " levels deep (at ");
    sb_bytes(&s, d->path, strlen(d->path), 0);
    sb_text(&s, "); the emulator refuses such input");
out:
    if (rc == 0)
        diag_reset(d);
    d->code = rc;
    cJSON_Delete(root);
    return rc;
}

int zl_protocol_check_example(const char *example_json, size_t len, zl_protocol_diag *d)
{
    zl_protocol_diag local;
    cJSON *root;
    const char *dup = NULL;
    const cJSON *at = NULL;
    sbuf s, path;
    int rc = CODE_BAD_EXAMPLE;

    if (d == NULL)
        d = &local;
    diag_reset(d);
    sb_init(&s, d->sentence, sizeof d->sentence);
    root = parse_one(example_json, len, "the protocol example", &s);
    if (root == NULL)
        goto out;
    if (!cJSON_IsObject(root)) {
        static const zl_protocol_options defaults;

        sb_text(&s, "the protocol example must be a JSON object, but it is ");
        sb_text(&s, KIND_PHRASES[kind_of(root, &defaults)]);
        goto out;
    }
    sb_init(&path, d->path, sizeof d->path);
    sb_text(&path, "$");
    switch (walk(root, 1, 1, &path, &dup, &at)) {
    case WALK_OK:
        rc = 0;
        break;
    case WALK_TOO_DEEP:
        sb_text(&s, "the protocol example nests objects and arrays more than ");
        sb_size(&s, ZL_PROTOCOL_MAX_DEPTH);
        sb_text(&s, " levels deep (at ");
        sb_bytes(&s, d->path, strlen(d->path), 0);
        sb_text(&s, ")");
        break;
    case WALK_DUPLICATE:
        sb_text(&s, "the protocol example has key ");
        sb_quoted(&s, dup);
        sb_text(&s, " more than once in the object at ");
        sb_bytes(&s, d->path, strlen(d->path), 0);
        sb_text(&s, "; keep one, so the key has one type");
        break;
    case WALK_NO_MEMORY:
        sb_text(&s, "out of memory while checking the protocol example");
        break;
    }
out:
    if (rc == 0)
        diag_reset(d);
    d->code = rc;
    cJSON_Delete(root);
    return rc;
}

int zl_protocol_check_request(const cJSON *example, const char *request_data, size_t len,
                              const zl_protocol_options *opt, zl_protocol_diag *d)
{
    side sd = {"request_data", "input", "request", CODE_REQUEST_NOT_JSON, CODE_REQUEST_MISMATCH};

    if (opt != NULL && opt->input_mismatch_code == CODE_INPUT_MISMATCH)
        sd.mismatch_code = CODE_INPUT_MISMATCH;
    return check_value(&sd, example, request_data, len, opt, d);
}

int zl_protocol_check_response(const cJSON *example, const char *response, size_t len,
                               const zl_protocol_options *opt, zl_protocol_diag *d)
{
    static const side sd = {"response_data", "output", "reply", CODE_RESULT_NOT_JSON,
                            CODE_RESULT_MISMATCH};

    return check_value(&sd, example, response, len, opt, d);
}

const char *zl_protocol_errmsg(int code)
{
    switch (code) {
    case CODE_BAD_EXAMPLE:
    case CODE_RESULT_NOT_JSON:
    case CODE_RESULT_MISMATCH:
    case CODE_REQUEST_NOT_JSON:
    case CODE_REQUEST_MISMATCH:
    case CODE_INPUT_MISMATCH:
        return zl_errcode_text(code); /* one wording for every face (errcode.h) */
    default:
        return NULL;
    }
}
