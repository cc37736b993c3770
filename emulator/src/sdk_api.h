/* sdk_api: what an SDK API handler sees (sdk_face.c serves them over zone wire v1), so
 * families of APIs can live in their own files. */
#ifndef ZL_SDK_API_H
#define ZL_SDK_API_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "emu.h"
#include "wire.h"

/* One verified invoke. */
typedef struct zl_sdk_ctx {
    zl_emu *emu;
    zl_prog_rt *prog;     /* the program that invoked (named by its wire secret) */
    zone_wire_invoke inv; /* the envelope: api, request text, corpid, agentid, ... */
    cJSON *req;           /* the request, parsed: always an object when a handler runs */
    zl_app_rt *app;       /* the app named by agentid (NULL only when 0 is allowed) */
    size_t replica;       /* the replica named by the envelope's instance */
    bool replica_known;
    char req_id[17];
} zl_sdk_ctx;

/* A handler answers with a reply object (owned by the caller). */
typedef cJSON *(*zl_sdk_fn)(zl_sdk_ctx *x);

typedef struct zl_sdk_api {
    const char *name;
    zl_sdk_fn fn;
    bool agent_optional; /* agentid 0 allowed */
} zl_sdk_api;

/* The families (NULL-terminated tables), each in its own file. */
extern const zl_sdk_api zl_sdk_apis_chat[];   /* api_chat.c: conversation data */
extern const zl_sdk_api zl_sdk_apis_rules[];  /* api_rules.c: keyword rules */
extern const zl_sdk_api zl_sdk_apis_kb[];     /* api_kb.c: knowledge sets */
extern const zl_sdk_api zl_sdk_apis_models[]; /* api_models.c: WeCom's models as tasks */
extern const zl_sdk_api zl_sdk_apis_export[]; /* api_export.c: conversation export jobs */

/* {"errcode":code,"errmsg":...} with the request id as WeCom's hint. */
cJSON *zl_sdk_err(zl_sdk_ctx *x, int code, const char *detail);
/* zl_sdk_err with a printf-style detail. */
cJSON *zl_sdk_errf(zl_sdk_ctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* o[key] when o is an object, else NULL. */
const cJSON *zl_json_get(const cJSON *o, const char *key);
/* Whether v is an integral number in lo..hi. */
bool zl_json_is_int(const cJSON *v, long long lo, long long hi);
/* UTF-8 characters (code points) in s. */
size_t zl_utf8_chars(const char *s);
/* Optional request fields: NULL when fine (absent leaves *out untouched, NULL for
 * strings), else the 40058 reply naming the field. */
cJSON *zl_sdk_opt_str(zl_sdk_ctx *x, const char *key, size_t max, const char **out);
cJSON *zl_sdk_opt_int(zl_sdk_ctx *x, const char *key, long long min, long long max, long long *out);

#endif
