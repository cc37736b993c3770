/* control_options: the options table on the control face (emu/options.h): GET /_zonelab/options
 * lists every option with its value, POST /_zonelab/options sets live ones. */
#include <stdio.h>
#include <string.h>

#include "emu/options.h"
#include "faces/control.h"

static void refuse(zl_request *r, unsigned status, const char *why)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddBoolToObject(j, "ok", 0);
    cJSON_AddStringToObject(j, "error", why);
    zl_request_respond_json(r, status, j);
}

static void on_options(zl_engine *e, zl_request *r, void *ud)
{
    zl_control *c = ud;
    cJSON *body, *reply;
    char why[1200];
    unsigned status;

    (void)e;
    if (strcmp(zl_request_path(r), "/_zonelab/options") != 0) {
        refuse(r, 404, "no such control endpoint; see docs/control-api.md");
        return;
    }
    if (!strcmp(zl_request_method(r), "GET")) {
        zl_request_respond_json(r, 200, zl_emu_options_list(c->emu));
        return;
    }
    if (strcmp(zl_request_method(r), "POST") != 0) {
        refuse(r, 405, "GET /_zonelab/options lists the options; POST sets live ones");
        return;
    }
    body = zone_wire_json_parse(zl_request_body(r), zl_request_body_len(r));
    if (!cJSON_IsObject(body)) {
        cJSON_Delete(body);
        refuse(r, 400,
               "the body must be a JSON object of option names and values, such as "
               "{\"token_ttl_s\":3600}");
        return;
    }
    status = zl_emu_options_post(c->emu, body, &reply, why, sizeof why);
    if (status == 200)
        zl_request_respond_json(r, 200, reply);
    else
        refuse(r, status, why);
    cJSON_Delete(body);
}

int zl_control_options_install(zl_control *c)
{
    return zl_engine_route(c->engine, NULL, "/_zonelab/options", on_options, c);
}
