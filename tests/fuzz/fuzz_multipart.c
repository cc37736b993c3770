/* libFuzzer target: the multipart reader behind upload_media (bytes from the network). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input: the first byte picks a Content-Type (or, when it is 0, the bytes up to the first NUL
 * are the Content-Type); the rest is the body, copied so reads past it are caught. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {
        "multipart/form-data; boundary=B",
        "multipart/form-data; boundary=\"-----abc\"",
        "multipart/form-data; charset=utf-8; boundary=x",
    };
    char ct[256], err[200];
    const uint8_t *body;
    size_t len;
    zl_mp_result r;
    char *copy;

    if (size < 1)
        return 0;
    if (data[0] == 0) {
        const uint8_t *nul = memchr(data + 1, 0, size - 1);
        size_t n = nul ? (size_t)(nul - data - 1) : size - 1;

        if (n >= sizeof ct)
            n = sizeof ct - 1;
        memcpy(ct, data + 1, n);
        ct[n] = '\0';
        body = nul ? nul + 1 : data + size;
    } else {
        strcpy(ct, types[data[0] % 3]);
        body = data + 1;
    }
    len = (size_t)(data + size - body);
    copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    memcpy(copy, body, len);
    if (zl_mp_parse(ct, copy, len, &r, err, sizeof err) == 0) {
        for (size_t i = 0; i < r.count; i++)
            if (r.parts[i].len && r.parts[i].data[r.parts[i].len - 1] == '\x7f')
                err[0] = 0; /* touch every part's bytes */
        zl_mp_find(&r, "media");
        zl_mp_free(&r);
    }
    free(copy);
    return 0;
}
