/* sdk_api: what an SDK API handler sees, the request helpers every family shares, and the
 * registry of API names. The SDK face (faces/sdk_face.c) serves them over zone wire v1; each
 * family of APIs is a table in its own file, one per section of spec/sdk-api.md. */
#ifndef ZL_SDK_API_H
#define ZL_SDK_API_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/json.h"
#include "emu/emu.h"
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
    cJSON *msg_ids; /* a reply's msg_list written as raw text: its msgids, for the journal
                       (owned by the context; NULL otherwise) */
} zl_sdk_ctx;

/* A handler answers with a reply object (owned by the caller). */
typedef cJSON *(*zl_sdk_fn)(zl_sdk_ctx *x);

/* What an API needs before it runs, beyond a verified invoke of its program's corp. */
enum {
    /* agentid 0 is allowed, and the API then runs with no app (x->app NULL) */
    ZL_SDK_API_NO_APP = 1u << 0,
    /* no corp context at all: the wire keys name the program (corpid and agentid unchecked) */
    ZL_SDK_API_NO_CORP = 1u << 1,
    /* reads the app's archive: refused with zl_emu_app_archive_check's code (48004, 710651,
     * 301052, 710653, 710654) while the app's authorisation gives it none */
    ZL_SDK_API_ARCHIVE = 1u << 2,
};

typedef struct zl_sdk_api {
    const char *name;
    zl_sdk_fn fn;
    unsigned flags; /* ZL_SDK_API_* */
} zl_sdk_api;

/* The families (NULL-terminated tables), each in its own file. */
extern const zl_sdk_api zl_sdk_apis_msg[];    /* msg.c: sync_msg and pages (§3.1, §3.2) */
extern const zl_sdk_api zl_sdk_apis_chat[];   /* chat.c: conversation data (§3.3-§3.7) */
extern const zl_sdk_api zl_sdk_apis_rules[];  /* rules.c: keyword rules (§4) */
extern const zl_sdk_api zl_sdk_apis_kb[];     /* kb_api.c: knowledge sets (§5) */
extern const zl_sdk_api zl_sdk_apis_models[]; /* models*.c: WeCom's models as tasks (§6) */
extern const zl_sdk_api zl_sdk_apis_export[]; /* export.c: conversation export jobs (§7) */
extern const zl_sdk_api zl_sdk_apis_notify[]; /* notify.c: spec_notify_app, async results,
                                                 debug mode (§8, §9) */

/* The API served under name, or NULL (the SDK face answers -10006). */
const zl_sdk_api *zl_sdk_api_find(const char *name);
/* Calls fn for every API of every family, in the registry's order. */
void zl_sdk_api_each(void (*fn)(const zl_sdk_api *api, void *ud), void *ud);

/* {"errcode":code,"errmsg":...} with the request id as WeCom's hint. */
cJSON *zl_sdk_err(zl_sdk_ctx *x, int code, const char *detail);
/* zl_sdk_err with a printf-style detail. */
cJSON *zl_sdk_errf(zl_sdk_ctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Optional request fields: NULL when fine (absent leaves *out untouched, NULL for
 * strings), else the 40058 reply naming the field. */
cJSON *zl_sdk_opt_str(zl_sdk_ctx *x, const char *key, size_t max, const char **out);
cJSON *zl_sdk_opt_int(zl_sdk_ctx *x, const char *key, long long min, long long max, long long *out);

/* For a family's side of the control face (POST /_zonelab/...): writes one sentence, printf
 * style, into why (whylen bytes) and returns status, so that a refusal is one line. */
unsigned zl_sdk_refuse(char *why, size_t whylen, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
