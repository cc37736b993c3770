/* sdk: the seam bound to the zone SDK (the fake one, or the vendor's through the adapter). */
#include <stdlib.h>
#include <string.h>

#include "zd.h"
#include "zone_sdk.h"
#include "zd_main.h"

static int invoke(void *ud, const zd_ctx *ctx, const char *api, const char *request,
                  char **response, char *err, size_t errlen)
{
    zone_sdk *s = zone_sdk_new(ctx->corpid, ctx->agentid, ctx->ability_id, ctx->job_info);
    char *rsp = NULL;
    int rc;

    (void)ud;
    *response = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return ZONE_ERR_INTERNAL;
    }
    rc = zone_sdk_invoke(s, api, request, &rsp, err, errlen);
    zone_sdk_free(s);
    if (rc == ZONE_OK) {
        *response = strdup(rsp); /* the core frees with free() */
        zone_string_free(rsp);
        if (!*response) {
            snprintf(err, errlen, "out of memory");
            return ZONE_ERR_INTERNAL;
        }
    }
    return rc;
}

static char *notify_id(void *ud)
{
    char *id = zone_generate_notify_id(), *out;

    (void)ud;
    if (!id)
        return NULL;
    out = strdup(id);
    zone_string_free(id);
    return out;
}

static int open_debug_mode(void *ud, const char *debug_token, const char *access_token, char *err,
                           size_t errlen)
{
    (void)ud;
    return zone_open_debug_mode(debug_token, access_token, err, errlen);
}

void zd_sdk_bind(zd_sdk *s)
{
    *s = (zd_sdk){
        .invoke = invoke, .notify_id = notify_id, .open_debug_mode = open_debug_mode, .ud = NULL};
}
