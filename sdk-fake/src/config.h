/* config: the fake SDK's settings, read from the environment when a handle is made. */
#ifndef ZONE_CONFIG_H
#define ZONE_CONFIG_H

#include <stddef.h>

#include "wire.h"

#define ZONE_CONFIG_MSG 256

/* What a handle needs: the keys only (inbound), or everything (outbound). */
enum zone_config_need { ZONE_CONFIG_KEYS, ZONE_CONFIG_ALL };

typedef struct zone_config {
    int status;                /* ZONE_OK or ZONE_ERR_INTERNAL */
    char msg[ZONE_CONFIG_MSG]; /* names the variable when status is not ZONE_OK */
    zone_wire_keys keys;
    char url[512];      /* ZONELAB_URL without a trailing slash */
    char instance[128]; /* ZONELAB_INSTANCE */
    long timeout_ms;    /* ZONELAB_INVOKE_TIMEOUT_MS, default 30000 */
} zone_config;

/*
 * Fills c from ZONELAB_SECRET and ZONELAB_SECRET_VER (and, for ZONE_CONFIG_ALL, ZONELAB_URL,
 * ZONELAB_INSTANCE, ZONELAB_INVOKE_TIMEOUT_MS). Returns c->status; on failure c->msg says
 * which variable is missing or wrong and what it should hold.
 */
int zone_config_load(zone_config *c, enum zone_config_need need);

/* Copies msg into buf (n bytes, may be NULL/0), always NUL-terminated. */
void zone_config_say(char *buf, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
