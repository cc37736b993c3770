/* errcode: WeCom errcodes the emulator answers with, and their replies. */
#include "wecom/errcode.h"

#include <stdio.h>

const char *zl_errcode_text(int code)
{
    switch (code) {
#define ZL_ERRCODE_CASE(c, text)                                                                   \
    case c:                                                                                        \
        return text;
        ZL_ERRCODES(ZL_ERRCODE_CASE)
#undef ZL_ERRCODE_CASE
    default:
        return "unknown error";
    }
}

cJSON *zl_errcode_reply(int code, const char *detail, const char *hint)
{
    cJSON *j = cJSON_CreateObject();
    char msg[600];

    if (code == 0)
        snprintf(msg, sizeof msg, "ok");
    else
        snprintf(msg, sizeof msg, "%s%s%s%s%s%s", zl_errcode_text(code), detail ? ": " : "",
                 detail ? detail : "", hint ? ", hint: [" : "", hint ? hint : "", hint ? "]" : "");
    cJSON_AddNumberToObject(j, "errcode", code);
    cJSON_AddStringToObject(j, "errmsg", msg);
    return j;
}
