/* libFuzzer target: sync_msg cursors, page ids and get_auth_user_list cursors come back from
 * the program as text; decoding must refuse every forgery, and encode/decode must round-trip.
 * Input: the first 14 bytes are kind, scope, pos (round-trip), the rest a cursor text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wecom/msgsync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const zl_cursor_key k = {{1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                     23, 24, 25, 26, 27, 28, 29, 30, 31, 32}};
    char text[ZL_CURSOR_TEXT_LEN + 1] = "", *s;
    uint64_t pos = 0, extra = 0, got = 0, got_extra = 0;
    uint32_t scope = 0;
    int kind;

    if (size < 14)
        return 0;
    kind = 1 + data[0] % 255;
    memcpy(&scope, data + 1, 4);
    memcpy(&pos, data + 5, 8);
    extra = data[13];
    if (zl_cursor_encode(&k, kind, scope, pos, extra, text) == 0 &&
        (zl_cursor_decode(&k, kind, scope, text, &got, &got_extra) != 0 || got != pos ||
         got_extra != extra || zl_cursor_decode(&k, kind, scope + 1, text, &got, NULL) == 0))
        abort(); /* a cursor does not come back, or passes for another scope */
    if (!(s = malloc(size - 13)))
        return 0;
    memcpy(s, data + 14, size - 14);
    s[size - 14] = '\0';
    if (zl_cursor_decode(&k, kind, scope, s, &got, &got_extra) == 0 && strcmp(s, text) != 0)
        abort(); /* a text zonelab did not make decoded: a forgery or a second spelling */
    free(s);
    return 0;
}
