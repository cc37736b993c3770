/* b64: strict standard base64, by tables: two characters a look-up out, one pass in. */
#include "b64.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Each character's 6 bits; 0xff for every byte outside the standard alphabet. */
static unsigned char dec[256];
static pthread_once_t dec_once = PTHREAD_ONCE_INIT;

static void fill_dec(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    memset(dec, 0xff, sizeof dec);
    for (unsigned i = 0; i < 64; i++)
        dec[(unsigned char)alphabet[i]] = (unsigned char)i;
}

/* Checks and decodes in one pass: 4 characters to 3 bytes, a bad character anywhere seen in
 * the OR of the look-ups (no branch a group). */
int zone_b64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)in;
    unsigned char *buf, *o;
    unsigned bad = 0;
    size_t pad, full;

    *out = NULL;
    *out_len = 0;
    if (in == NULL || len == 0 || len % 4 != 0 || len > INT_MAX)
        return -1;
    pthread_once(&dec_once, fill_dec);
    pad = in[len - 1] == '=' ? (in[len - 2] == '=' ? 2 : 1) : 0;
    full = pad ? len - 4 : len; /* the groups without pad */
    if (!(o = buf = malloc(len / 4 * 3 + 1)))
        return -1;
    for (size_t i = 0; i < full; i += 4, o += 3) {
        unsigned a = dec[p[i]], b = dec[p[i + 1]], c = dec[p[i + 2]], d = dec[p[i + 3]];
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;

        bad |= a | b | c | d;
        o[0] = (unsigned char)(v >> 16);
        o[1] = (unsigned char)(v >> 8);
        o[2] = (unsigned char)v;
    }
    if (pad) {
        unsigned a = dec[p[full]], b = dec[p[full + 1]], c = pad == 1 ? dec[p[full + 2]] : 0;

        bad |= a | b | c;
        *o++ = (unsigned char)(a << 2 | b >> 4);
        if (pad == 1)
            *o++ = (unsigned char)(b << 4 | c >> 2);
    }
    if (bad & 0xc0) {
        free(buf);
        return -1;
    }
    *o = 0;
    *out_len = (size_t)(o - buf);
    *out = buf;
    return 0;
}

/* Each 12 bits' two characters, filled once: the encoder writes two at a time. */
static char pairs[4096][2];
static pthread_once_t pairs_once = PTHREAD_ONCE_INIT;

static void fill_pairs(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (unsigned i = 0; i < 4096; i++) {
        pairs[i][0] = alphabet[i >> 6];
        pairs[i][1] = alphabet[i & 63];
    }
}

size_t zone_b64_encode_to(char *out, const unsigned char *in, size_t len)
{
    char *o = out;
    size_t i = 0;

    pthread_once(&pairs_once, fill_pairs);
    for (; i + 3 <= len; i += 3, o += 4) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

        memcpy(o, pairs[v >> 12], 2);
        memcpy(o + 2, pairs[v & 4095], 2);
    }
    if (len - i == 1) {
        memcpy(o, pairs[(uint32_t)in[i] << 4], 2);
        memcpy(o + 2, "==", 2);
        o += 4;
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 10 | (uint32_t)in[i + 1] << 2; /* 18 bits, 2 low zero */

        memcpy(o, pairs[v >> 6], 2);
        o[2] = pairs[v & 63][1];
        o[3] = '=';
        o += 4;
    }
    *o = '\0';
    return (size_t)(o - out);
}

char *zone_b64_encode(const unsigned char *in, size_t len)
{
    if (len > (size_t)INT_MAX / 4 * 3)
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out != NULL)
        zone_b64_encode_to(out, in, len);
    return out;
}
