/* libFuzzer target: the built-in receivers' reader of WeCom's encrypted XML callbacks. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/appnotify.h"
#include "wecom/wxcrypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The default world's app (fixtures/worlds/default.json). */
#define TOKEN     "zonelabtoken"
#define AES_KEY   "zonelabDemoAesKey0123456789abcdefghijKLMNOP"
#define RECEIVEID "wwzonelab0000001"

/*
 * The first byte picks what the rest is. 0-1: the plaintext XML, sealed as the emulator seals
 * a callback (with or without <AgentID>), so the reader checks, decrypts and reads it. 2: the
 * base64 of <Encrypt>, put in an envelope and signed (the decryption's checks). 3: the whole
 * envelope as posted, under a signature computed over it (the envelope's own reader).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zl_wxcrypt *c;
    static const unsigned char random16[16] = "0123456789abcdef";
    zl_callback_post p = {.token = TOKEN,
                          .encoding_aes_key = AES_KEY,
                          .receiveid = RECEIVEID,
                          .timestamp = "1793808000",
                          .nonce = "fuzznonce"};
    char *s, *body = NULL, *xml = NULL, sig[41] = "", why[256];
    cJSON *fields = NULL;
    int err;

    if (!c && !(c = zl_wxcrypt_new(TOKEN, AES_KEY, RECEIVEID, &err)))
        abort();
    if (size < 1 || !(s = malloc(size)))
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0:
    case 1:
        if (zl_wxcrypt_build_callback(c, RECEIVEID, data[0] % 4 ? "1000002" : NULL, s, strlen(s),
                                      p.timestamp, p.nonce, random16, &body, sig) != ZL_WX_OK)
            goto out;
        break;
    case 2:
        if (!(body = malloc(size + 64)))
            goto out;
        sprintf(body, "<xml><Encrypt><![CDATA[%s]]></Encrypt></xml>", s);
        zl_wx_signature(TOKEN, p.timestamp, p.nonce, s, sig, NULL);
        break;
    default:
        body = strdup(s);
        zl_wx_signature(TOKEN, p.timestamp, p.nonce, s, sig, NULL);
        break;
    }
    if (!body)
        goto out;
    p.signature = sig;
    p.body = body;
    if (zl_appnotify_read(&p, &xml, &fields, why, sizeof why) == 0 && data[0] % 4 < 2 &&
        strcmp(xml, s) != 0)
        abort(); /* what was sealed must come back unchanged */
out:
    cJSON_Delete(fields);
    free(xml);
    free(body);
    free(s);
    return 0;
}
