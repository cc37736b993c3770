/* b64: strict standard base64 (RFC 4648 alphabet, '=' padding) shared by wire and emulator. */
#ifndef ZONE_B64_H
#define ZONE_B64_H

#include <stddef.h>

/*
 * Decodes in (len characters): the length must be a non-zero multiple of 4 and every
 * character from the alphabet, '=' only as one or two final pad characters. On success
 * returns 0 and *out (owned, free(); one spare byte, NUL-set) holds *out_len bytes;
 * returns -1 otherwise, with *out NULL.
 */
int zone_b64_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);

/* Writes the base64 of len bytes into out ((len + 2) / 3 * 4 + 1 bytes, NUL-terminated), as
 * EVP_EncodeBlock does; returns the characters written, the NUL not counted. */
size_t zone_b64_encode_to(char *out, const unsigned char *in, size_t len);

/* Encodes len bytes; owned NUL-terminated text (free()) or NULL when out of memory. */
char *zone_b64_encode(const unsigned char *in, size_t len);

#endif
