/* json: small helpers over cJSON that every layer uses (no WeCom words). */
#ifndef ZL_JSON_H
#define ZL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* o[key] when o is an object, else NULL. */
const cJSON *zl_json_get(const cJSON *o, const char *key);
/* o[key]'s text when o is an object and that member is a string, else NULL (borrowed). */
const char *zl_json_str(const cJSON *o, const char *key);
/* Whether v is an integral number in lo..hi. */
bool zl_json_is_int(const cJSON *v, long long lo, long long hi);
/*
 * item as unformatted JSON text, byte for byte what cJSON_PrintUnformatted (cJSON 1.7.15)
 * writes, without its sprintf and sscanf round trip for each number: integers below 1e15
 * are written directly. Returns a malloc'ed string the caller frees (free or cJSON_free), its
 * length in *len (may be NULL); NULL out of memory or for an item cJSON cannot print.
 */
char *zl_json_print(const cJSON *item, size_t *len);
/* Appends item's text, as zl_json_print writes it, to b (a zl_sbuf: core/sbuf.h). 0, or -1
 * for an item cJSON cannot print (b then holds part of it); out of memory sets b->oom. */
struct zl_sbuf;
int zl_json_print_to(struct zl_sbuf *b, const cJSON *item);
/* UTF-8 characters (code points) in s. */
size_t zl_utf8_chars(const char *s);
/* Whether the n bytes at s are valid UTF-8 (RFC 3629: no overlong form, no surrogate, nothing
 * over U+10FFFF). */
bool zl_utf8_valid(const char *s, size_t n);
/* A copy of the n bytes at s with each byte that does not start a valid UTF-8 sequence
 * replaced by U+FFFD, NUL-terminated, *out_len its length (may be NULL); the caller frees it.
 * NULL out of memory. */
char *zl_utf8_repair(const char *s, size_t n, size_t *out_len);

#endif
