/* b64: strict standard base64 over OpenSSL's block codec. */
#include "b64.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>

/* 1 for the 64 characters of the standard alphabet, 0 for every other byte. */
static const unsigned char ALPHABET[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['+'] = 1, ['/'] = 1,
};

/* Whether the n bytes at p are all in the alphabet (a table look-up, no branch a byte). */
static int all_in_alphabet(const unsigned char *p, size_t n)
{
    unsigned ok = 1;

    for (size_t i = 0; i < n; i++)
        ok &= ALPHABET[p[i]];
    return (int)ok;
}

int zone_b64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (in == NULL || len == 0 || len % 4 != 0 || len > INT_MAX)
        return -1;
    size_t pad = in[len - 1] == '=' ? (in[len - 2] == '=' ? 2 : 1) : 0;
    if (!all_in_alphabet((const unsigned char *)in, len - pad))
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
