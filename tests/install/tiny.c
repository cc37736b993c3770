/* tiny: the smallest C program built against an installed libzonesdk with pkg-config. */
#include <stdio.h>
#include <string.h>

#include <zone_sdk.h>

int main(void)
{
    char err[ZONE_ERRBUF_SIZE] = "", *rsp = NULL, *id = zone_generate_notify_id();
    zone_sdk *s = zone_sdk_new("wwcorp", 1000002, "invoke_sync_msg", "");
    int rc = zone_sdk_invoke(s, "sync_msg", "{}", &rsp, err, sizeof err);

    /* no ZONELAB_* variables here: the fake must refuse and name the variable */
    printf("notify_id_len=%zu rc=%d err=%s\n", id ? strlen(id) : 0, rc, err);
    zone_string_free(id);
    zone_sdk_free(s);
    return rc == ZONE_ERR_INTERNAL && strstr(err, "ZONELAB_") ? 0 : 1;
}
