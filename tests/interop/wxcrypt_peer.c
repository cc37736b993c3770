/* wxcrypt_peer: the C side of the @wecom/crypto interop test, one JSON request per line. */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wecom/wxcrypt.h"

/*
 * Requests (stdin, one JSON object per line; answers on stdout, one per line):
 *   {"op":"encrypt","key":K,"id":ID,"msg":M,"random":R16|null} -> {"code":0,"out":B64}
 *   {"op":"decrypt","key":K,"id":ID,"enc":B64}                -> {"code":0,"msg":M}
 *   {"op":"sign","token":T,"timestamp":TS,"nonce":N,"enc":E}   -> {"code":0,"sig":S}
 */
static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *handle(const cJSON *req)
{
    cJSON *res = cJSON_CreateObject();
    const char *op = str(req, "op");
    int code = -1;
    if (op != NULL && strcmp(op, "sign") == 0) {
        char sig[41];
        code = zl_wx_signature(str(req, "token"), str(req, "timestamp"), str(req, "nonce"),
                               str(req, "enc"), sig, NULL);
        if (code == ZL_WX_OK)
            cJSON_AddStringToObject(res, "sig", sig);
    } else if (op != NULL) {
        int err = 0;
        zl_wxcrypt *c = zl_wxcrypt_new("t", str(req, "key"), str(req, "id"), &err);
        code = err;
        if (c != NULL && strcmp(op, "encrypt") == 0) {
            const char *msg = str(req, "msg");
            const char *random = str(req, "random");
            char *out = NULL;
            code = msg == NULL ? -1
                               : zl_wxcrypt_encrypt(c, (const unsigned char *)random, msg,
                                                    strlen(msg), &out);
            if (code == ZL_WX_OK)
                cJSON_AddStringToObject(res, "out", out);
            free(out);
        } else if (c != NULL && strcmp(op, "decrypt") == 0) {
            char *msg = NULL;
            size_t len = 0;
            code = zl_wxcrypt_decrypt(c, str(req, "enc"), &msg, &len, NULL);
            if (code == ZL_WX_OK)
                cJSON_AddStringToObject(res, "msg", msg);
            free(msg);
        }
        zl_wxcrypt_free(c);
    }
    cJSON_AddNumberToObject(res, "code", code);
    return res;
}

int main(void)
{
    size_t cap = 0;
    char *line = NULL;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        cJSON *req = cJSON_ParseWithLength(line, (size_t)n);
        cJSON *res = handle(req);
        char *out = cJSON_PrintUnformatted(res);
        puts(out);
        free(out);
        cJSON_Delete(res);
        cJSON_Delete(req);
    }
    free(line);
    return 0;
}
