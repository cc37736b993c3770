/* libFuzzer target: WXBizMsgCrypt envelope parsing, signature check and decryption. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wecom/wxcrypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zl_wxcrypt *c;
    if (c == NULL) {
        int err;
        c = zl_wxcrypt_new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                           "wx5823bf96d3bd56c7", &err);
    }
    /* First byte picks the entry point; the rest is the input, NUL-terminated. */
    if (size < 1)
        return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    char *msg = NULL;
    size_t len = 0;
    switch (data[0] % 4) {
    case 0:
        zl_wxcrypt_decrypt(c, s, &msg, &len, NULL);
        break;
    case 1: {
        /* Envelope parsing; the fixed signature then fails the check. */
        zl_wxcrypt_decrypt_msg(c, "0000000000000000000000000000000000000000", "1", "2", s, size - 1,
                               &msg, &len);
        break;
    }
    case 2: {
        char sig[41];
        zl_wx_signature("QDG6eK", "1", "2", s, sig, NULL);
        zl_wxcrypt_verify_url(c, sig, "1", "2", s, &msg, &len);
        break;
    }
    default: {
        char *d = zl_wx_url_decode(s);
        free(d);
        break;
    }
    }
    free(msg);
    free(s);
    return 0;
}
