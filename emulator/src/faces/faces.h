/* faces: the routes an emulator serves WeCom's sides on. faces/server.c installs them in
 * order; nothing else should need to. */
#ifndef ZL_FACES_H
#define ZL_FACES_H

#include "emu/emu.h"

/* The app face (app_api.c): GET /cgi-bin/gettoken and POST /cgi-bin/chatdata/<name>. */
int zl_app_api_install(zl_emu *emu);
/* The SDK face (sdk_face.c): POST /zone/v1/invoke over zone wire v1. */
int zl_sdk_face_install(zl_emu *emu);
/* The provider side of the app face (suite_api.c): /cgi-bin/service/get_suite_token,
 * get_provider_token, get_permanent_code (and v2/), get_corp_token, v2/get_auth_info. */
int zl_suite_api_install(zl_emu *emu);
/* The control face's view of the built-in fake provider (suite_api.c):
 * GET /_zonelab/provider/callbacks and /_zonelab/provider/ticket. */
int zl_provider_control_install(zl_emu *emu);

#endif
