/* libFuzzer target: zone wire v1 open (headers + body) and envelope decoding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static time_t fixed_now(void *ud)
{
    (void)ud;
    return 1700000000;
}

/*
 * Input: up to four NUL-separated header values (ww-secret-ver, ww-timestamp, ww-nonce,
 * ww-signature), then the body. The first byte picks open or one envelope decoder, or (4)
 * seals the rest with the key first, so open gets past the signature and decrypts it and the
 * envelope decoders see what came out.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zone_wire_keys k;
    static int ready;
    if (!ready) {
        zone_wire_keys_init(&k, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 3);
        ready = 1;
    }
    if (size < 1)
        return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0: {
        static const char *names[] = {"ww-secret-ver", "ww-timestamp", "ww-nonce", "ww-signature"};
        zone_wire_header h[4];
        size_t off = 0, nh = 0;
        while (nh < 4 && off <= n) {
            h[nh].name = names[nh];
            h[nh].value = s + off;
            off += strlen(s + off) + 1;
            nh++;
        }
        const char *body = off <= n ? s + off : "";
        zone_wire_env env = {fixed_now, NULL, NULL};
        char *plain = NULL, detail[128];
        size_t len = 0;
        zone_wire_open(&k, NULL, &env, "POST", "/", h, nh, body, strlen(body), &plain, &len, detail,
                       sizeof detail);
        free(plain);
        break;
    }
    case 1: {
        zone_wire_callback c;
        if (zone_wire_callback_decode(s, n, &c) == ZONE_WIRE_OK)
            zone_wire_callback_cleanup(&c);
        break;
    }
    case 2: {
        zone_wire_invoke v;
        if (zone_wire_invoke_decode(s, n, &v) == ZONE_WIRE_OK)
            zone_wire_invoke_cleanup(&v);
        break;
    }
    case 4: {
        zone_wire_sealed_headers sh;
        char *body = NULL, *plain = NULL, detail[128];
        size_t len = 0;

        if (zone_wire_seal(&k, NULL, "POST", "/", s, n, &sh, &body) == ZONE_WIRE_OK) {
            zone_wire_header h[4] = {{"ww-secret-ver", sh.secret_ver},
                                     {"ww-timestamp", sh.timestamp},
                                     {"ww-nonce", sh.nonce},
                                     {"ww-signature", sh.signature}};
            zone_wire_callback c;
            zone_wire_invoke v;

            if (zone_wire_open(&k, NULL, NULL, "POST", "/", h, 4, body, strlen(body), &plain, &len,
                               detail, sizeof detail) != ZONE_WIRE_OK ||
                len != n || memcmp(plain, s, n) != 0)
                abort(); /* what was sealed must open to the same bytes */
            if (zone_wire_callback_decode(plain, len, &c) == ZONE_WIRE_OK)
                zone_wire_callback_cleanup(&c);
            if (zone_wire_invoke_decode(plain, len, &v) == ZONE_WIRE_OK)
                zone_wire_invoke_cleanup(&v);
        }
        free(body);
        free(plain);
        break;
    }
    default: {
        zone_wire_reply r;
        if (zone_wire_reply_decode(s, n, &r) == ZONE_WIRE_OK)
            zone_wire_reply_cleanup(&r);
        break;
    }
    }
    free(s);
    return 0;
}
