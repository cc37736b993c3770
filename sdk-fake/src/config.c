/* config: the fake SDK's settings, read from the environment when a handle is made. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zone_sdk.h"

void zone_config_say(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (!buf || n == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

/* "<name> <why>": the message always starts with the variable's name. */
static int fail(zone_config *c, const char *why, const char *name)
{
    c->status = ZONE_ERR_INTERNAL;
    snprintf(c->msg, sizeof c->msg, "%s %s", name, why);
    return c->status;
}

/* A decimal unsigned number with no sign, space or trailing bytes, at most max. */
static int parse_unsigned(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The keys of the secret last derived, with that secret and version: a program keeps one
 * secret, and HKDF (two derivations) per handle was a fifth of a trivial program's CPU per
 * callback. Another secret or version derives again and takes the place. */
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static char kept_secret[64];
static uint32_t kept_ver;
static zone_wire_keys kept_keys;
static int kept_valid;

/* zone_wire_keys_init(k, secret, ver), through the kept keys. */
static int keys_of(zone_wire_keys *k, const char *secret, uint32_t ver)
{
    size_t n = strlen(secret);
    int rc, hit;

    pthread_mutex_lock(&kept_lock);
    hit = kept_valid && kept_ver == ver && n < sizeof kept_secret && !strcmp(kept_secret, secret);
    if (hit)
        *k = kept_keys;
    pthread_mutex_unlock(&kept_lock);
    if (hit)
        return ZONE_WIRE_OK;
    rc = zone_wire_keys_init(k, secret, ver);
    if (rc == ZONE_WIRE_OK && n < sizeof kept_secret) {
        pthread_mutex_lock(&kept_lock);
        memcpy(kept_secret, secret, n + 1);
        kept_ver = ver;
        kept_keys = *k;
        kept_valid = 1;
        pthread_mutex_unlock(&kept_lock);
    }
    return rc;
}

int zone_config_load(zone_config *c, enum zone_config_need need)
{
    const char *secret = getenv("ZONELAB_SECRET");
    const char *ver = getenv("ZONELAB_SECRET_VER");
    unsigned long v;

    memset(c, 0, sizeof *c);
    c->timeout_ms = 30000;
    if (!secret || !*secret)
        return fail(c, "is not set (the program secret, base64 of 32 bytes, from `zonelab serve`)",
                    "ZONELAB_SECRET");
    if (!ver || !*ver)
        return fail(c, "is not set (the secret version, from `zonelab serve`)",
                    "ZONELAB_SECRET_VER");
    if (parse_unsigned(ver, UINT32_MAX, &v) != 0)
        return fail(c, "must be a decimal number (0..4294967295)", "ZONELAB_SECRET_VER");
    if (keys_of(&c->keys, secret, (uint32_t)v) != ZONE_WIRE_OK)
        return fail(c, "is not standard base64 of exactly 32 bytes", "ZONELAB_SECRET");
    if (need == ZONE_CONFIG_KEYS)
        return c->status = ZONE_OK;

    const char *url = getenv("ZONELAB_URL");
    const char *inst = getenv("ZONELAB_INSTANCE");
    const char *tmo = getenv("ZONELAB_INVOKE_TIMEOUT_MS");
    size_t ul;

    if (!url || !*url)
        return fail(c, "is not set (the emulator's address, e.g. http://127.0.0.1:8900)",
                    "ZONELAB_URL");
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return fail(c, "must start with http:// or https://", "ZONELAB_URL");
    ul = strlen(url);
    while (ul > 0 && url[ul - 1] == '/')
        ul--;
    if (ul >= sizeof c->url - sizeof ZONE_WIRE_INVOKE_PATH)
        return fail(c, "is longer than 480 bytes", "ZONELAB_URL");
    memcpy(c->url, url, ul);
    c->url[ul] = '\0';
    if (!inst || !*inst)
        return fail(c,
                    "is not set (this replica's name from `zonelab serve`; it routes notify ids)",
                    "ZONELAB_INSTANCE");
    if (strlen(inst) >= sizeof c->instance)
        return fail(c, "is longer than 127 bytes", "ZONELAB_INSTANCE");
    strcpy(c->instance, inst);
    if (tmo && *tmo) {
        if (parse_unsigned(tmo, 3600000, &v) != 0 || v == 0)
            return fail(c, "must be milliseconds, 1..3600000", "ZONELAB_INVOKE_TIMEOUT_MS");
        c->timeout_ms = (long)v;
    }
    return c->status = ZONE_OK;
}
