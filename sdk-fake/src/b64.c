/* b64: strict standard base64 over OpenSSL's block codec. */
#include "b64.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>

static int in_alphabet(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/';
}

int zone_b64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (in == NULL || len == 0 || len % 4 != 0 || len > INT_MAX)
        return -1;
    size_t pad = in[len - 1] == '=' ? (in[len - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < len - pad; i++)
        if (!in_alphabet(in[i]))
            return -1;
    unsigned char *buf = malloc(len / 4 * 3 + 1);
    if (buf == NULL)
        return -1;
    int n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
    if (n < 0 || (size_t)n < pad) {
        free(buf);
        return -1;
    }
    *out_len = (size_t)n - pad;
    buf[*out_len] = 0;
    *out = buf;
    return 0;
}

char *zone_b64_encode(const unsigned char *in, size_t len)
{
    if (len > (size_t)INT_MAX / 4 * 3)
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    return out;
}
