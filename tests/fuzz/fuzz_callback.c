/* libFuzzer target: the fake SDK's callback decoder (zone_callback_new), as a zone program
 * runs it on every request. Odd first byte: the rest is a callback envelope's JSON, sealed with
 * the program's key as the emulator would, so the input reaches the envelope parser past the
 * signature; even: the rest is sent raw with the four headers split off at NULs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "wire.h"
#include "zone_sdk.h"

#define SECRET "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t warm[][40] = {"\x01{\"corpid\":\"ww1\",\"data\":\"{}\"}", "\x00x"};
    size_t i;

    (void)argc, (void)argv;
    setenv("ZONELAB_SECRET", SECRET, 1);
    setenv("ZONELAB_SECRET_VER", "3", 1);
    setenv("ZONELAB_LOG_LEVEL", "1", 1);
    /* OpenSSL's and the SDK's first-use allocations happen here, not in the first inputs,
     * where libFuzzer would take them for leaks and check every input for one */
    for (i = 0; i < 4; i++)
        LLVMFuzzerTestOneInput(warm[i % 2], strlen((const char *)warm[i % 2] + 1) + 1);
    return 0;
}

static void decode(const zone_header *h, size_t n, const char *body, size_t len)
{
    zone_callback *cb = zone_callback_new("POST", h, n, body, len);

    if (cb && zone_callback_ok(cb) &&
        (!zone_callback_corpid(cb) || !zone_callback_data(cb) || !zone_callback_req_id(cb)))
        abort(); /* a verified callback answers every accessor */
    zone_callback_free(cb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zone_wire_keys k;
    static int ready;
    char *s;

    if (!ready) {
        zone_wire_keys_init(&k, SECRET, 3);
        ready = 1;
    }
    if (size < 1 || !(s = malloc(size)))
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (data[0] & 1) {
        zone_wire_sealed_headers sh;
        char *body = NULL;

        if (zone_wire_seal(&k, NULL, "POST", "/", s, size - 1, &sh, &body) == ZONE_WIRE_OK) {
            zone_header h[4] = {{"ww-secret-ver", sh.secret_ver},
                                {"ww-timestamp", sh.timestamp},
                                {"ww-nonce", sh.nonce},
                                {"ww-signature", sh.signature}};

            decode(h, 4, body, strlen(body));
        }
        free(body);
    } else {
        static const char *const names[] = {"ww-secret-ver", "ww-timestamp", "ww-nonce",
                                            "ww-signature"};
        zone_header h[4];
        size_t off = 0, n = 0;

        while (n < 4 && off < size - 1) {
            h[n] = (zone_header){names[n], s + off};
            off += strlen(s + off) + 1;
            n++;
        }
        decode(h, n, off < size - 1 ? s + off : "", off < size - 1 ? size - 1 - off : 0);
    }
    free(s);
    ERR_clear_error(); /* a failed decryption's queued OpenSSL errors are not a leak */
    return 0;
}
