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
/* UTF-8 characters (code points) in s. */
size_t zl_utf8_chars(const char *s);

#endif
