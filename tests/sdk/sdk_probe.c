/* sdk_probe: calls every zone_sdk.h function once and prints what came back. The
 * vendor-standin check runs it in a ZONE_SDK=vendor build to see each call reach the
 * vendor library with the right arguments. */
#include <stdio.h>
#include <string.h>

#include "zone_sdk.h"

static void print_reply(const char *what, const zone_reply *r)
{
    size_t i;

    printf("%s:", what);
    for (i = 0; i < r->n_headers; i++)
        printf(" %s=%s", r->headers[i].name, r->headers[i].value);
    printf(" body=%.*s\n", (int)r->body_len, r->body);
}

int main(void)
{
    const zone_header headers[] = {{"ww-secret-ver", "1"}, {"ww-nonce", "abc"}};
    zone_callback *cb, *bad;
    zone_sdk *s, *from_cb;
    zone_reply *r = NULL;
    char *rsp = NULL, *id, err[ZONE_ERRBUF_SIZE] = "";
    int rc;

    cb = zone_callback_new("POST", headers, 2, "{\"k\":1}", 7);
    printf("callback ok=%d corpid=%s agentid=%u call_type=%u data=%s is_async=%d job_info=%s "
           "ability_id=%s notify_id=%s\n",
           zone_callback_ok(cb), zone_callback_corpid(cb), zone_callback_agentid(cb),
           zone_callback_call_type(cb), zone_callback_data(cb), zone_callback_is_async(cb),
           zone_callback_job_info(cb), zone_callback_ability_id(cb), zone_callback_notify_id(cb));
    rc = zone_callback_build_reply(cb, "{\"r\":1}", 7, &r, err, sizeof err);
    if (rc == ZONE_OK)
        print_reply("reply", r);
    zone_reply_free(r);
    r = NULL;

    bad = zone_callback_new("GET", headers, 1, "", 0);
    printf("bad ok=%d status=%d\n", zone_callback_ok(bad), zone_callback_status(bad));
    if (zone_callback_build_reply(bad, "ignored", 7, &r, err, sizeof err) == ZONE_OK)
        print_reply("exception reply", r);
    zone_reply_free(r);
    zone_callback_free(bad);

    s = zone_sdk_new("corp1", 1000002, "ability1", "job1");
    rc = zone_sdk_invoke(s, "sync_msg", "{\"cursor\":\"c\"}", &rsp, err, sizeof err);
    printf("invoke rc=%d rsp=%s\n", rc, rsp ? rsp : "(null)");
    zone_string_free(rsp);
    rc = zone_sdk_invoke(s, "fail_network", "{}", &rsp, err, sizeof err);
    printf("invoke rc=%d err=%s\n", rc, err);
    zone_sdk_free(s);

    from_cb = zone_sdk_new_from_callback(cb);
    rc =
        zone_sdk_invoke(from_cb, "spec_notify_app", "{\"notify_id\":\"n\"}", &rsp, err, sizeof err);
    printf("invoke from callback rc=%d rsp=%s\n", rc, rsp ? rsp : "(null)");
    zone_string_free(rsp);
    zone_sdk_free(from_cb);
    zone_callback_free(cb);

    id = zone_generate_notify_id();
    printf("notify_id=%s\n", id ? id : "(null)");
    zone_string_free(id);
    printf("debug good=%d\n", zone_open_debug_mode("good", "acc", err, sizeof err));
    printf("debug bad=%d\n", zone_open_debug_mode("bad", "acc", err, sizeof err));
    ZONE_LOG_ERROR("probe error %d", 1);
    ZONE_LOG_INFO("probe info %s", "two");
    ZONE_LOG_DEBUG("probe debug");
    printf("strerror=%s\n", zone_strerror(-10002));
    return 0;
}
