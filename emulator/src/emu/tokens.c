/* tokens: the apps' access tokens, one kind whether gettoken or get_corp_token gave them. */
#include "emu/emu.h"

#include <stdlib.h>
#include <string.h>

int zl_emu_app_token(zl_emu *emu, zl_app_rt *a, char out[48], int64_t *expires_in)
{
    int64_t now = zl_emu_now_ms(emu);
    zl_token *t = a->access_token[0] ? zl_strmap_get(emu->tokens, a->access_token) : NULL;
    char token[48];

    /* "有效期内重复获取返回相同结果，过期后获取会返回新的access_token" (doc 42543): the same
     * token, with the seconds it has left, until it expires */
    if (t && !emu->opt.token_fresh_each && t->expires_ms > now) {
        memcpy(out, a->access_token, sizeof a->access_token);
        *expires_in = (t->expires_ms - now + 999) / 1000;
        return 0;
    }
    memcpy(token, "at_", 3);
    zl_engine_random_hex(emu->engine, token + 3, 20);
    if (!(t = malloc(sizeof *t)))
        return -1;
    t->app = a;
    t->expires_ms = now + emu->opt.token_ttl_s * 1000;
    t->seq = zl_emu_seq(emu);
    if (zl_strmap_put(emu->tokens, token, t) != 0) {
        free(t);
        return -1;
    }
    snprintf(a->access_token, sizeof a->access_token, "%s", token);
    memcpy(out, token, sizeof token);
    *expires_in = emu->opt.token_ttl_s;
    return 0;
}
