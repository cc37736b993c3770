/* faces: the routes an emulator serves WeCom's sides on. faces/server.c installs them in
 * order; nothing else should need to. */
#ifndef ZL_FACES_H
#define ZL_FACES_H

#include "emu/emu.h"

/* The app face (app_api.c): GET /cgi-bin/gettoken and POST /cgi-bin/chatdata/<name>. */
int zl_app_api_install(zl_emu *emu);
/* The SDK face (sdk_face.c): POST /zone/v1/invoke over zone wire v1. */
int zl_sdk_face_install(zl_emu *emu);

#endif
