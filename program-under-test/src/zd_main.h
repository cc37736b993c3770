/* zd_main: the parts of zone-demo that need the network or the real SDK. */
#ifndef ZD_MAIN_H
#define ZD_MAIN_H

#include "zd.h"

/* Binds the seam to zone_sdk.h. */
void zd_sdk_bind(zd_sdk *s);

typedef struct zd_server zd_server;
/* Starts the HTTP server (0.0.0.0:cfg->port, a pool of cfg->threads). NULL with err. */
zd_server *zd_server_start(const zd_config *cfg, zd_app *app, char *err, size_t errlen);
/* Stops accepting, waits up to grace_s for requests in flight, then stops. */
void zd_server_stop(zd_server *s, unsigned grace_s);

#endif
