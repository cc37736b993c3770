/* test_msgsync: cursors, keyrings, visibility, the window, page walks and sync_msg items. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wecom/msgkey.h"
#include "wecom/msgsync.h"
#include "wecom/world.h"

#define KEYDIR ZL_SOURCE_DIR "/fixtures/keys"

/* Pieces of small inline worlds (docs/world.md). */
#define CORP(body) "{\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\"" body "}]}"
#define MEMBER(id, ed, scope)                                                                      \
    "{\"userid\":\"" id "\",\"name\":\"n\",\"edition\":" #ed ",\"in_scope\":" #scope "}"
#define MSG(id, from, to, t)                                                                       \
    "{\"msgid\":\"" id "\",\"sender\":{\"type\":1,\"id\":\"" from "\"},"                           \
    "\"receivers\":[{\"type\":1,\"id\":\"" to "\"}],\"send_time\":" #t ",\"msgtype\":1}"

static const zl_cursor_key KEY = {{1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}};

/* Reads a whole file into a NUL-terminated heap buffer; fails the test if it cannot. */
static char *slurp(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof path, "%s/%s", KEYDIR, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static zl_world *load(const char *json)
{
    char err[512] = "";
    zl_world *w = zl_world_load_json(json, strlen(json), KEYDIR, err, sizeof err);

    if (w == NULL)
        fail_msg("world: %s", err);
    return w;
}

/* Adds the fixture key file as version v from index from; the add must succeed. */
static void ring_add_file(zl_keyring *r, uint32_t v, const char *file, size_t from)
{
    char err[512] = "";
    size_t len;
    char *pem = slurp(file, &len);

    if (zl_keyring_add(r, v, pem, len, from, err, sizeof err) != 0)
        fail_msg("keyring_add %s: %s", file, err);
    free(pem);
}

/* The secret inside encrypted_secret_key, decrypted with a fixture private key (owned). */
static char *decrypt_with(const char *private_file, const char *b64, int *rc)
{
    char err[512] = "";
    size_t len;
    char *pem = slurp(private_file, &len);
    unsigned char *pt = NULL;
    size_t pt_len = 0;

    *rc = zl_msgkey_decrypt(pem, len, b64, strlen(b64), &pt, &pt_len, err, sizeof err);
    free(pem);
    return (char *)pt;
}

/* ---- cursors ---- */

/* base64url without padding, written here independently of the module. */
static void b64url(const unsigned char *in, size_t len, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = tbl[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = tbl[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

static void test_msgsync_cursor_round_trip(void **state)
{
    static const uint64_t POS[] = {0, 1, 200, 0x0123456789abcdefULL, UINT64_MAX};
    char text[ZL_CURSOR_MAX + 1];
    uint64_t pos = 0;
    uint64_t extra = 0;

    (void)state;
    for (size_t i = 0; i < sizeof POS / sizeof POS[0]; i++) {
        assert_int_equal(zl_cursor_encode(&KEY, 1, 0xdeadbeef, POS[i], ~POS[i], text), 0);
        assert_int_equal(strlen(text), ZL_CURSOR_TEXT_LEN);
        assert_true(strlen(text) <= ZL_CURSOR_MAX);
        assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_"),
                         ZL_CURSOR_TEXT_LEN);
        assert_int_equal(zl_cursor_decode(&KEY, 1, 0xdeadbeef, text, &pos, &extra), 0);
        assert_true(pos == POS[i]);
        assert_true(extra == ~POS[i]);
        pos = 7;
        assert_int_equal(zl_cursor_decode(&KEY, 1, 0xdeadbeef, text, &pos, NULL), 0);
        assert_true(pos == POS[i]);
    }
    assert_int_equal(zl_cursor_encode(&KEY, 255, 0, 5, 0, text), 0);
    assert_int_equal(zl_cursor_decode(&KEY, 255, 0, text, &pos, NULL), 0);
    assert_true(pos == 5);
    assert_int_equal(zl_cursor_encode(&KEY, 0, 0, 5, 0, text), -1);
    assert_int_equal(zl_cursor_encode(&KEY, 256, 0, 5, 0, text), -1);
}

static void test_msgsync_cursor_format(void **state)
{
    unsigned char raw[38] = {1, 3, 0x01, 0x02, 0x03, 0x04};
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char want[64];
    char text[ZL_CURSOR_MAX + 1];

    (void)state;
    for (int i = 0; i < 8; i++) {
        raw[6 + i] = (unsigned char)(0x10 + i); /* pos 0x1011121314151617 */
        raw[14 + i] = (unsigned char)(0xa0 + i);
    }
    assert_non_null(HMAC(EVP_sha256(), KEY.k, 32, raw, 22, mac, &mac_len));
    memcpy(raw + 22, mac, 16);
    b64url(raw, sizeof raw, want);
    assert_int_equal(
        zl_cursor_encode(&KEY, 3, 0x01020304, 0x1011121314151617ULL, 0xa0a1a2a3a4a5a6a7ULL, text),
        0);
    assert_string_equal(text, want);
}

static void test_msgsync_cursor_rejects(void **state)
{
    static const char ALPHA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static const char *const BAD_CHARS[] = {"+", "/", "=", " ", "\n", "."};
    zl_cursor_key other = KEY;
    char text[ZL_CURSOR_MAX + 1];
    char bad[2 * ZL_CURSOR_MAX + 8];
    uint64_t pos = 99;

    (void)state;
    assert_int_equal(zl_cursor_encode(&KEY, 1, 42, 12345, 6, text), 0);
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42, text, &pos, NULL), 0);

    /* Every single-character change (to any other base64url character) is refused. */
    for (size_t i = 0; i < ZL_CURSOR_TEXT_LEN; i++) {
        for (size_t a = 0; a < 64; a++) {
            if (ALPHA[a] == text[i])
                continue;
            strcpy(bad, text);
            bad[i] = ALPHA[a];
            pos = 99;
            if (zl_cursor_decode(&KEY, 1, 42, bad, &pos, NULL) == 0)
                fail_msg("cursor with character %zu changed to '%c' was accepted", i, ALPHA[a]);
            assert_true(pos == 99);
        }
    }
    /* Another key, kind or scope. */
    other.k[31] ^= 1;
    assert_int_equal(zl_cursor_decode(&other, 1, 42, text, &pos, NULL), -1);
    assert_int_equal(zl_cursor_decode(&KEY, 2, 42, text, &pos, NULL), -1);
    assert_int_equal(zl_cursor_decode(&KEY, 3, 42, text, &pos, NULL), -1);
    assert_int_equal(zl_cursor_decode(&KEY, 1, 43, text, &pos, NULL), -1);
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42 | 0x80000000u, text, &pos, NULL), -1);
    /* Truncated, overlong, empty, NULL. */
    strcpy(bad, text);
    bad[ZL_CURSOR_TEXT_LEN - 1] = '\0';
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42, bad, &pos, NULL), -1);
    bad[ZL_CURSOR_TEXT_LEN - 4] = '\0';
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42, bad, &pos, NULL), -1);
    snprintf(bad, sizeof bad, "%sA", text);
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42, bad, &pos, NULL), -1);
    snprintf(bad, sizeof bad, "%s=", text);
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42, bad, &pos, NULL), -1);
    snprintf(bad, sizeof bad, "%s%s", text, text);
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42, bad, &pos, NULL), -1);
    memset(bad, 'A', 2 * ZL_CURSOR_MAX);
    bad[2 * ZL_CURSOR_MAX] = '\0';
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42, bad, &pos, NULL), -1);
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42, "", &pos, NULL), -1);
    assert_int_equal(zl_cursor_decode(&KEY, 1, 42, NULL, &pos, NULL), -1);
    /* Characters outside base64url, at the start, middle and end. */
    for (size_t b = 0; b < sizeof BAD_CHARS / sizeof BAD_CHARS[0]; b++) {
        static const size_t AT[] = {0, 20, ZL_CURSOR_TEXT_LEN - 1};

        for (size_t j = 0; j < 3; j++) {
            strcpy(bad, text);
            bad[AT[j]] = BAD_CHARS[b][0];
            assert_int_equal(zl_cursor_decode(&KEY, 1, 42, bad, &pos, NULL), -1);
        }
    }
    assert_true(pos == 99);
}

/* ---- keyring ---- */

static void test_msgsync_keyring_versions_and_pem(void **state)
{
    char err[512] = "";
    size_t len1, len2, len_rsa1024, len_ec, len_priv;
    char *v1 = slurp("test_v1_public.pem", &len1);
    char *v2 = slurp("test_v2_public.pem", &len2);
    char *rsa1024 = slurp("rsa1024_public.pem", &len_rsa1024);
    char *ec = slurp("ec_public.pem", &len_ec);
    char *priv = slurp("test_v1_private.pem", &len_priv);
    zl_keyring *r = zl_keyring_new();

    (void)state;
    assert_non_null(r);
    assert_int_equal(zl_keyring_count(r), 0);
    assert_int_equal(zl_keyring_newest_version(r), 0);
    assert_int_equal(zl_keyring_version_at(r, 0), 0);

    assert_int_equal(zl_keyring_add(r, 0, v1, len1, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "public_key_ver"));
    assert_int_equal(zl_keyring_add(r, 3, v1, len1, 0, err, sizeof err), 0);
    assert_int_equal(zl_keyring_newest_version(r), 3);

    assert_int_equal(zl_keyring_add(r, 3, v2, len2, 5, err, sizeof err), -2);
    assert_string_equal(err, "public_key_ver 3 must be greater than the current version 3");
    assert_int_equal(zl_keyring_add(r, 2, v2, len2, 5, err, sizeof err), -2);
    assert_string_equal(err, "public_key_ver 2 must be greater than the current version 3");

    err[0] = '\0';
    assert_int_equal(zl_keyring_add(r, 4, rsa1024, len_rsa1024, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "1024 bits"));
    err[0] = '\0';
    assert_int_equal(zl_keyring_add(r, 4, ec, len_ec, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected RSA"));
    err[0] = '\0';
    assert_int_equal(zl_keyring_add(r, 4, priv, len_priv, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "private key"));
    err[0] = '\0';
    assert_int_equal(zl_keyring_add(r, 4, "not a key", 9, 5, err, sizeof err), -1);
    assert_non_null(strstr(err, "not PEM"));
    err[0] = '\0';
    assert_int_equal(zl_keyring_add(r, 4, v2, 0, 5, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    /* Failed adds leave the ring as it was. */
    assert_int_equal(zl_keyring_count(r), 1);
    assert_int_equal(zl_keyring_newest_version(r), 3);

    assert_int_equal(zl_keyring_add(r, 9, v2, len2, 5, err, sizeof err), 0);
    assert_int_equal(zl_keyring_count(r), 2);
    assert_int_equal(zl_keyring_newest_version(r), 9);
    assert_int_equal(zl_keyring_version_at(r, 0), 3);
    assert_int_equal(zl_keyring_version_at(r, 4), 3);
    assert_int_equal(zl_keyring_version_at(r, 5), 9);
    assert_int_equal(zl_keyring_version_at(r, 1000000), 9);

    zl_keyring_free(r);
    zl_keyring_free(NULL);
    free(v1);
    free(v2);
    free(rsa1024);
    free(ec);
    free(priv);
}

static void test_msgsync_keyring_oldest_before_first(void **state)
{
    zl_keyring *r = zl_keyring_new();

    (void)state;
    assert_non_null(r);
    ring_add_file(r, 1, "test_v1_public.pem", 10);
    ring_add_file(r, 2, "test_v2_public.pem", 20);
    assert_int_equal(zl_keyring_version_at(r, 0), 1); /* no key yet: the oldest */
    assert_int_equal(zl_keyring_version_at(r, 9), 1);
    assert_int_equal(zl_keyring_version_at(r, 10), 1);
    assert_int_equal(zl_keyring_version_at(r, 19), 1);
    assert_int_equal(zl_keyring_version_at(r, 20), 2);
    zl_keyring_free(r);
}

/* ---- visibility ---- */

#define VIS_WORLD                                                                                  \
    CORP(",\"members\":[" MEMBER("e1", 1, true) "," MEMBER("e2", 2, true) "," MEMBER(              \
        "e3", 3,                                                                                   \
        true) "," MEMBER("out", 3,                                                                 \
                         false) "," MEMBER("out2", 3,                                              \
                                           false) "],"                                             \
                                                  "\"externals\":[{\"external_userid\":\"x1\","    \
                                                  "\"name\":\"X\"}]")

typedef struct vis_case {
    zl_party sender;
    zl_party to[2];
    uint32_t to_count;
    int32_t msgtype;
    bool visible;
} vis_case;

#define E(id)                                                                                      \
    {                                                                                              \
        ZL_PARTY_EMPLOYEE, id                                                                      \
    }
#define X(id)                                                                                      \
    {                                                                                              \
        ZL_PARTY_EXTERNAL, id                                                                      \
    }
#define R(id)                                                                                      \
    {                                                                                              \
        ZL_PARTY_ROBOT, id                                                                         \
    }

static const vis_case VIS[] = {
    /* internal chats: edition 1 is enough; scope decides */
    {E("e1"), {E("out")}, 1, 1, true},
    {E("out"), {E("e1")}, 1, 1, true},
    {E("out"), {E("out2")}, 1, 1, false},
    {E("out"), {E("out2"), E("e1")}, 2, 1, true},
    {E("ghost"), {E("out")}, 1, 1, false},
    /* robots never count, even with a member's id */
    {R("e3"), {E("out")}, 1, 1, false},
    {E("out"), {R("e3")}, 1, 1, false},
    {R("bot"), {E("e1")}, 1, 1, true},
    /* external chats need edition 2 */
    {X("x1"), {E("e1")}, 1, 1, false},
    {E("e1"), {X("x1")}, 1, 1, false},
    {X("x1"), {E("e2")}, 1, 1, true},
    {E("e2"), {X("x1")}, 1, 1, true},
    {E("out"), {X("x1"), E("e1")}, 2, 1, false},
    {E("out"), {X("x1"), E("e2")}, 2, 1, true},
    {X("x1"), {E("out")}, 1, 1, false},
    {X("e3"), {E("out")}, 1, 1, false}, /* an external contact is never the in-scope party */
    /* voice (21, 22) needs edition 3, internal or external */
    {E("e2"), {E("e1")}, 1, 21, false},
    {E("e3"), {E("out")}, 1, 21, true},
    {E("out"), {E("e2")}, 1, 22, false},
    {E("out"), {E("e3")}, 1, 22, true},
    {X("x1"), {E("e2")}, 1, 22, false},
    {X("x1"), {E("e3")}, 1, 21, true},
    {E("e2"), {E("e1")}, 1, 6, true}, /* plain voice messages (6) are not calls */
};

static void test_msgsync_visible_edition_and_scope(void **state)
{
    zl_world *w = load(VIS_WORLD);
    zl_corp *c = zl_world_corp(w, "ww1");

    (void)state;
    assert_non_null(c);
    for (size_t i = 0; i < sizeof VIS / sizeof VIS[0]; i++) {
        zl_message m;

        memset(&m, 0, sizeof m);
        m.msgid = "m";
        m.chatid = "";
        m.sender = VIS[i].sender;
        m.receivers = VIS[i].to;
        m.receiver_count = VIS[i].to_count;
        m.msgtype = VIS[i].msgtype;
        if (zl_msg_visible(c, NULL, &m) != VIS[i].visible)
            fail_msg("case %zu: %s -> %s (msgtype %d) should be %s", i, m.sender.id,
                     m.receivers[0].id, (int)m.msgtype, VIS[i].visible ? "visible" : "hidden");
    }
    zl_world_free(w);
}

/* ---- window and start ---- */

#define WINDOW_WORLD                                                                               \
    CORP(",\"members\":[" MEMBER("u1", 3, true) "," MEMBER("u2", 3, true) "],\"messages\":[" MSG(  \
        "m0", "u1", "u2",                                                                          \
        1000) "," MSG("m1", "u1", "u2",                                                            \
                      2000) "," MSG("m2", "u1", "u2",                                              \
                                    3000) "," MSG("m3", "u1", "u2",                                \
                                                  3000) "," MSG("m4", "u1", "u2",                  \
                                                                4000) "," MSG("m5", "u1", "u2",    \
                                                                              5000) "]")

static void test_msgsync_start_window_and_begin_time(void **state)
{
    zl_world *w = load(WINDOW_WORLD);
    zl_corp *c = zl_world_corp(w, "ww1");
    uint64_t pos;

    (void)state;
    assert_non_null(c);
    /* window start: the first message at or after now - window = 2500 */
    assert_int_equal(zl_sync_start(c, 5000, 2500, NULL, 0), 2);
    assert_int_equal(zl_sync_start(c, 5000, 2000, NULL, 0), 2); /* 3000 itself is inside */
    assert_int_equal(zl_sync_start(c, 5000, 1999, NULL, 0), 4);
    assert_int_equal(zl_sync_start(c, 5000, 1000000, NULL, 0), 0);
    assert_int_equal(zl_sync_start(c, 100000, 5, NULL, 0), 6); /* nothing left in the window */
    assert_int_equal(zl_sync_start(c, INT64_MIN + 10, INT64_MAX, NULL, 0), 0);
    /* begin_time, never before the window */
    assert_int_equal(zl_sync_start(c, 5000, 2500, NULL, 1500), 2);
    assert_int_equal(zl_sync_start(c, 5000, 2500, NULL, 3000), 2);
    assert_int_equal(zl_sync_start(c, 5000, 2500, NULL, 3001), 4);
    assert_int_equal(zl_sync_start(c, 5000, 2500, NULL, 4000), 4);
    assert_int_equal(zl_sync_start(c, 5000, 2500, NULL, 9999), 6);
    assert_int_equal(zl_sync_start(c, 5000, 1000000, NULL, 1500), 1);
    assert_int_equal(zl_sync_start(c, 5000, 1000000, NULL, -5), 0);
    /* a cursor wins over begin_time, but not over the window */
    pos = 5;
    assert_int_equal(zl_sync_start(c, 5000, 2500, &pos, 0), 5);
    assert_int_equal(zl_sync_start(c, 5000, 2500, &pos, 1500), 5);
    pos = 3;
    assert_int_equal(zl_sync_start(c, 5000, 2500, &pos, 4500), 3);
    pos = 1;
    assert_int_equal(zl_sync_start(c, 5000, 2500, &pos, 0), 2);
    pos = 0;
    assert_int_equal(zl_sync_start(c, 5000, 1000000, &pos, 0), 0);
    pos = 6;
    assert_int_equal(zl_sync_start(c, 5000, 2500, &pos, 0), 6);
    pos = UINT64_MAX;
    assert_int_equal(zl_sync_start(c, 5000, 2500, &pos, 0), 6);
    zl_world_free(w);
}

/* ---- collect ---- */

/* m2, m3 and m5 are between out-of-scope members, the rest have u1 in them. */
#define COLLECT_WORLD                                                                                                                                   \
    CORP(",\"members\":[" MEMBER("u1", 3, true) "," MEMBER("u2", 3, true) "," MEMBER("o1", 3, false) "," MEMBER("o2", 3, false) "],\"messages\":[" MSG( \
        "m0", "u1", "u2",                                                                                                                               \
        10) "," MSG("m1", "u2", "u1",                                                                                                                   \
                    20) "," MSG("m2", "o1", "o2",                                                                                                       \
                                30) "," MSG("m3", "o2", "o1",                                                                                           \
                                            40) "," MSG("m4", "o1", "u1",                                                                               \
                                                        50) "," MSG("m5", "o1", "o2",                                                                   \
                                                                    60) "," MSG("m6", "u1", "o1",                                                       \
                                                                                70) "," MSG("m7",                                                       \
                                                                                            "u1",                                                       \
                                                                                            "u2",                                                       \
                                                                                            80) "," MSG("m8",                                           \
                                                                                                        "u1",                                           \
                                                                                                        "u2",                                           \
                                                                                                        90) "," MSG("m9",                               \
                                                                                                                    "u2",                               \
                                                                                                                    "u1",                               \
                                                                                                                    100) "]")

/* Runs a walk and checks what it returned against want (n_want indices), next and more. */
static void check_collect(zl_corp *c, size_t start, size_t limit, int64_t now, size_t max_scan,
                          const size_t *want, size_t n_want, size_t want_next, int want_more)
{
    size_t idx[16];
    size_t next = 12345;
    int more = -1;
    size_t n;

    assert_true(limit <= 16);
    n = zl_sync_collect(c, NULL, start, limit, now, max_scan, idx, &next, &more);
    if (n != n_want || next != want_next || more != want_more)
        fail_msg("collect(start %zu, limit %zu, now %lld, max_scan %zu): got n %zu next %zu "
                 "has_more %d, want n %zu next %zu has_more %d",
                 start, limit, (long long)now, max_scan, n, next, more, n_want, want_next,
                 want_more);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(idx[i], want[i]);
}

static void test_msgsync_collect_limit_future_and_scan(void **state)
{
    zl_world *w = load(COLLECT_WORLD);
    zl_corp *c = zl_world_corp(w, "ww1");
    static const size_t ALL[] = {0, 1, 4, 6, 7, 8, 9};

    (void)state;
    assert_non_null(c);
    /* limit reached with more archived: has_more */
    check_collect(c, 0, 2, 75, 100, (const size_t[]){0, 1}, 2, 2, 1);
    /* invisible messages are skipped; stops before the future message m7 (t 80) */
    check_collect(c, 2, 2, 75, 100, (const size_t[]){4, 6}, 2, 7, 0);
    check_collect(c, 0, 10, 75, 100, ALL, 4, 7, 0);
    /* limit reached exactly where the future starts: nothing more yet */
    check_collect(c, 0, 4, 75, 100, ALL, 4, 7, 0);
    /* m7 becomes archived at t 80 */
    check_collect(c, 7, 4, 79, 100, NULL, 0, 7, 0);
    check_collect(c, 7, 4, 80, 100, (const size_t[]){7}, 1, 8, 0);
    /* the whole archive, then nothing after it */
    check_collect(c, 0, 10, 1000, 100, ALL, 7, 10, 0);
    check_collect(c, 0, 7, 1000, 100, ALL, 7, 10, 0);
    check_collect(c, 10, 10, 1000, 100, NULL, 0, 10, 0);
    check_collect(c, 50, 10, 1000, 100, NULL, 0, 50, 0);
    /* limit reached before an archived (if invisible) message: has_more */
    check_collect(c, 0, 2, 35, 100, (const size_t[]){0, 1}, 2, 2, 1);
    /* max_scan: examines at most that many, then has_more */
    check_collect(c, 2, 10, 1000, 2, NULL, 0, 4, 1);
    check_collect(c, 2, 10, 1000, 3, (const size_t[]){4}, 1, 5, 1);
    check_collect(c, 0, 10, 1000, 5, (const size_t[]){0, 1, 4}, 3, 5, 1);
    /* max_scan reached at the end of the archive, or before the future: no more */
    check_collect(c, 5, 10, 1000, 5, (const size_t[]){6, 7, 8, 9}, 4, 10, 0);
    check_collect(c, 5, 10, 75, 2, (const size_t[]){6}, 1, 7, 0);
    zl_world_free(w);
}

/* ---- items ---- */

#define ITEM_WORLD                                                                                 \
    CORP(",\"members\":[" MEMBER("u1", 3, true) "," MEMBER(                                        \
        "u2", 3, true) "],"                                                                        \
                       "\"externals\":[{\"external_userid\":\"wm1\",\"name\":\"W\"}],"             \
                       "\"groups\":[{\"chatid\":\"g1\",\"name\":\"G\",\"kind\":\"customer\","      \
                       "\"creator\":\"u1\",\"create_time\":1}],"                                   \
                       "\"messages\":["                                                            \
                       "{\"msgid\":\"a\",\"sender\":{\"type\":2,\"id\":\"wm1\"},"                  \
                       "\"receivers\":[{\"type\":1,\"id\":\"u1\"},{\"type\":1,\"id\":\"u2\"},"     \
                       "{\"type\":3,\"id\":\"bot9\"}],\"chatid\":\"g1\",\"send_time\":1793581"     \
                       "200,\"msgtype\":1},"                                                       \
                       "{\"msgid\":\"b\",\"sender\":{\"type\":1,\"id\":\"u1\"},"                   \
                       "\"receivers\":[{\"type\":1,\"id\":\"u1\"}],\"send_time\":1793581300,"      \
                       "\"msgtype\":22,\"call_duration\":180,\"secret_key\":\"fixed-secret-"       \
                       "b\"},"                                                                     \
                       "{\"msgid\":\"c\",\"sender\":{\"type\":1,\"id\":\"u2\"},"                   \
                       "\"receivers\":[{\"type\":1,\"id\":\"u1\"}],\"send_time\":1793581400,"      \
                       "\"msgtype\":21,\"call_duration\":0},"                                      \
                       "{\"msgid\":\"d\",\"sender\":{\"type\":1,\"id\":\"u2\"},"                   \
                       "\"receivers\":[{\"type\":1,\"id\":\"u1\"}],\"send_time\":1793581500,"      \
                       "\"msgtype\":6}]")

/* Checks the service_encrypt_info of item against message m, key version and private key. */
static void check_encrypt_info(const cJSON *item, const zl_message *m, uint32_t version,
                               const char *private_file, const char *wrong_private_file)
{
    const cJSON *sei = cJSON_GetObjectItemCaseSensitive(item, "service_encrypt_info");
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(sei, "encrypted_secret_key");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(sei, "public_key_ver");
    char *secret;
    int rc = -1;

    assert_true(cJSON_IsObject(sei));
    assert_int_equal(cJSON_GetArraySize(sei), 2);
    assert_true(cJSON_IsString(b64));
    assert_true(cJSON_IsNumber(ver));
    assert_int_equal(ver->valuedouble, version);
    assert_int_equal(strlen(b64->valuestring), 344); /* base64 of 256 bytes, no newlines */
    assert_null(strchr(b64->valuestring, '\n'));
    secret = decrypt_with(private_file, b64->valuestring, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(secret, m->secret_key);
    free(secret);
    /* The other key does not give the secret back (it almost always fails outright). */
    secret = decrypt_with(wrong_private_file, b64->valuestring, &rc);
    assert_true(rc != 0 || strcmp(secret, m->secret_key) != 0);
    free(secret);
}

static void test_msgsync_item_fields_and_secret(void **state)
{
    zl_world *w = load(ITEM_WORLD);
    zl_corp *c = zl_world_corp(w, "ww1");
    zl_keyring *r = zl_keyring_new();
    char err[512] = "";
    cJSON *item;
    const cJSON *o;
    const cJSON *list;
    char *text;

    (void)state;
    assert_non_null(c);
    assert_non_null(r);
    ring_add_file(r, 1, "test_v1_public.pem", 0);

    /* a: external sender in a group, three receivers, text */
    item = zl_sync_item(c, 0, r, err, sizeof err);
    if (item == NULL)
        fail_msg("item: %s", err);
    assert_int_equal(cJSON_GetArraySize(item), 7);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(item, "msgid")->valuestring, "a");
    o = cJSON_GetObjectItemCaseSensitive(item, "sender");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "type")->valuedouble, 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "id")->valuestring, "wm1");
    list = cJSON_GetObjectItemCaseSensitive(item, "receiver_list");
    assert_true(cJSON_IsArray(list));
    assert_int_equal(cJSON_GetArraySize(list), 3);
    o = cJSON_GetArrayItem(list, 2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "type")->valuedouble, 3);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "id")->valuestring, "bot9");
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 1), "id")->valuestring, "u2");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(item, "chatid")->valuestring, "g1");
    assert_true(cJSON_GetObjectItemCaseSensitive(item, "send_time")->valuedouble == 1793581200.0);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(item, "msgtype")->valuedouble, 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(item, "extra_info"));
    text = cJSON_PrintUnformatted(item);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"send_time\":1793581200,")); /* an integer on the wire */
    {
        static const char prefix[] = "{\"msgid\":\"a\",\"sender\":{\"type\":2,\"id\":\"wm1\"},"
                                     "\"receiver_list\":[{\"type\":1,\"id\":\"u1\"},";

        assert_int_equal(strncmp(text, prefix, sizeof prefix - 1), 0);
    }
    cJSON_free(text);
    check_encrypt_info(item, zl_msgstore_at(c->messages, 0), 1, "test_v1_private.pem",
                       "test_v2_private.pem");
    cJSON_Delete(item);

    /* b: a call to oneself, no chatid, extra_info, a given secret_key */
    item = zl_sync_item(c, 1, r, err, sizeof err);
    assert_non_null(item);
    assert_int_equal(cJSON_GetArraySize(item), 7); /* extra_info in, chatid out */
    assert_null(cJSON_GetObjectItemCaseSensitive(item, "chatid"));
    list = cJSON_GetObjectItemCaseSensitive(item, "receiver_list");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "id")->valuestring, "u1");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(item, "msgtype")->valuedouble, 22);
    o = cJSON_GetObjectItemCaseSensitive(item, "extra_info");
    assert_true(cJSON_IsObject(o));
    assert_int_equal(cJSON_GetArraySize(o), 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "call_duration")->valuedouble, 180);
    assert_string_equal(zl_msgstore_at(c->messages, 1)->secret_key, "fixed-secret-b");
    check_encrypt_info(item, zl_msgstore_at(c->messages, 1), 1, "test_v1_private.pem",
                       "test_v2_private.pem");
    cJSON_Delete(item);

    /* c: msgtype 21 keeps extra_info with a zero duration; d: msgtype 6 has none */
    item = zl_sync_item(c, 2, r, err, sizeof err);
    assert_non_null(item);
    o = cJSON_GetObjectItemCaseSensitive(item, "extra_info");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "call_duration")->valuedouble, 0);
    cJSON_Delete(item);
    item = zl_sync_item(c, 3, r, err, sizeof err);
    assert_non_null(item);
    assert_null(cJSON_GetObjectItemCaseSensitive(item, "extra_info"));
    cJSON_Delete(item);

    /* out of range */
    err[0] = '\0';
    assert_null(zl_sync_item(c, 4, r, err, sizeof err));
    assert_non_null(strstr(err, "out of range"));
    zl_keyring_free(r);

    /* no key: nothing to encrypt with */
    r = zl_keyring_new();
    assert_non_null(r);
    err[0] = '\0';
    assert_null(zl_sync_item(c, 0, r, err, sizeof err));
    assert_non_null(strstr(err, "no public key"));
    err[0] = '\0';
    assert_null(zl_sync_item(c, 0, NULL, err, sizeof err));
    assert_non_null(strstr(err, "no public key"));
    zl_keyring_free(r);
    zl_world_free(w);
}

static void test_msgsync_item_key_replacement(void **state)
{
    zl_world *w = load(ITEM_WORLD);
    zl_corp *c = zl_world_corp(w, "ww1");
    zl_keyring *r = zl_keyring_new();
    char err[512] = "";

    (void)state;
    assert_non_null(c);
    assert_non_null(r);
    ring_add_file(r, 1, "test_v1_public.pem", 0);
    ring_add_file(r, 2, "test_v2_public.pem", 2); /* replaced before message c */
    for (size_t i = 0; i < 4; i++) {
        cJSON *item = zl_sync_item(c, i, r, err, sizeof err);

        if (item == NULL)
            fail_msg("item %zu: %s", i, err);
        if (i < 2)
            check_encrypt_info(item, zl_msgstore_at(c->messages, i), 1, "test_v1_private.pem",
                               "test_v2_private.pem");
        else
            check_encrypt_info(item, zl_msgstore_at(c->messages, i), 2, "test_v2_private.pem",
                               "test_v1_private.pem");
        cJSON_Delete(item);
    }
    zl_keyring_free(r);
    zl_world_free(w);
}

/* A deterministic generator for the writer comparison (xorshift64). */
static uint64_t rnd(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return *st;
}

/* An id of 1..40 bytes, drawn from every byte 1..255 with the escaped ones favoured. */
static void rnd_id(uint64_t *st, char *out)
{
    static const char odd[] = "\"\\/\b\f\n\r\t\x01\x1f\x7f";
    size_t n = 1 + rnd(st) % 40;

    for (size_t i = 0; i < n; i++) {
        uint64_t r = rnd(st);

        out[i] = r % 3 == 0   ? odd[(r >> 8) % (sizeof odd - 1)]
                 : r % 3 == 1 ? (char)(1 + (r >> 8) % 255)
                              : (char)('a' + (r >> 8) % 26);
    }
    out[n] = '\0';
}

/* zl_sync_item_write gives, byte for byte, what cJSON prints of zl_sync_item's tree, on
 * messages with odd ids (quotes, backslashes, control bytes, DEL, UTF-8 and other high
 * bytes), every party type, 0..4 receivers, groups and 1:1, every msgtype, call durations
 * and send times around the int range, and two key versions (one past INT_MAX); and a
 * message's encrypted_secret_key is made once per key and kept. */
static void test_msgsync_item_writer_matches_cjson(void **state)
{
    static const int64_t times[] = {
        0, 1, 2147483646, 2147483647, 2147483648LL, 4102444800LL, ZL_WORLD_MAX_TIME};
    zl_msgstore *st = zl_msgstore_new("ww1");
    zl_corp corp = {.corpid = "ww1", .messages = st};
    zl_keyring *r = zl_keyring_new();
    uint64_t seed = 0x2545f4914f6cdd1dULL;
    char err[512] = "", msgid[48], chatid[48], ids[5][48];
    size_t n = 0, kept = 0, bytes = 0;
    zl_sbuf all = {0};

    (void)state;
    assert_non_null(st);
    assert_non_null(r);
    ring_add_file(r, 1, "test_v1_public.pem", 0);
    ring_add_file(r, 4000000000u, "test_v2_public.pem", 30);
    for (size_t i = 0; n < 60 && i < 1000; i++) {
        zl_party to[4];
        zl_message_in m = {.msgid = msgid, .receivers = to, .chatid = chatid};

        rnd_id(&seed, msgid);
        if (rnd(&seed) % 2)
            rnd_id(&seed, chatid);
        else
            chatid[0] = '\0';
        rnd_id(&seed, ids[4]);
        m.sender = (zl_party){.type = (int)(1 + rnd(&seed) % 3), .id = ids[4]};
        m.receiver_count = rnd(&seed) % 5;
        for (size_t k = 0; k < m.receiver_count; k++) {
            rnd_id(&seed, ids[k]);
            to[k] = (zl_party){.type = (int)(1 + rnd(&seed) % 3), .id = ids[k]};
        }
        m.send_time = times[n * sizeof times / sizeof *times / 60];
        m.msgtype = (int)(rnd(&seed) % (ZL_MSGTYPE_MAX + 1));
        if (m.msgtype == 21 || m.msgtype == 22)
            m.call_duration = n % 3 == 0 ? 0 : n % 3 == 1 ? 59 : 2147483647;
        if (n % 4 == 0)
            m.secret_key = msgid; /* a given secret with odd bytes */
        if (zl_msgstore_append(st, &m, err, sizeof err) == 0)
            n++;
    }
    assert_int_equal(n, 60);
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            zl_sbuf b = {0};
            cJSON *item;
            char *text;

            /* the writer first on pass 0 (it makes the key), the tree first on pass 1 */
            if (pass == 1) {
                item = zl_sync_item(&corp, i, r, err, sizeof err);
                assert_int_equal(zl_sync_item_write(&corp, i, r, &b, err, sizeof err), 0);
            } else {
                assert_int_equal(zl_sync_item_write(&corp, i, r, &b, err, sizeof err), 0);
                item = zl_sync_item(&corp, i, r, err, sizeof err);
            }
            assert_non_null(item);
            text = cJSON_PrintUnformatted(item);
            assert_non_null(text);
            assert_false(b.oom);
            assert_string_equal(zl_sbuf_text(&b), text);
            if (i == 0)
                assert_non_null(strstr(text, "\"public_key_ver\":1}"));
            if (i == n - 1)
                assert_non_null(strstr(text, "\"public_key_ver\":4000000000}"));
            if (pass == 0) {
                zl_sbuf_str(&all, text);
            } else { /* the same encrypted_secret_key as the first pass */
                assert_non_null(strstr(zl_sbuf_text(&all), text));
                check_encrypt_info(item, zl_msgstore_at(st, i), i < 30 ? 1 : 4000000000u,
                                   i < 30 ? "test_v1_private.pem" : "test_v2_private.pem",
                                   i < 30 ? "test_v2_private.pem" : "test_v1_private.pem");
            }
            cJSON_free(text);
            cJSON_Delete(item);
            free(b.s);
        }
    }
    /* the escapes themselves: each odd byte appears in some item as cJSON spells it */
    assert_non_null(strstr(zl_sbuf_text(&all), "\\\""));
    assert_non_null(strstr(zl_sbuf_text(&all), "\\\\"));
    assert_non_null(strstr(zl_sbuf_text(&all), "\\u001f"));
    assert_non_null(strstr(zl_sbuf_text(&all), "\\b"));
    assert_non_null(strstr(zl_sbuf_text(&all), "\"send_time\":2147483648,"));
    assert_non_null(strstr(zl_sbuf_text(&all), "\"send_time\":253402300799,"));
    assert_non_null(strstr(zl_sbuf_text(&all), "\"call_duration\":2147483647}"));
    zl_keyring_kept(r, &kept, &bytes);
    assert_int_equal(kept, n);
    assert_true(bytes >= n * 256);
    free(all.s);
    zl_keyring_free(r);
    zl_msgstore_free(st);
}

/* zl_sync_prepare makes every missing key (in parallel when there are enough), each one the
 * item then carries; a second prepare makes none. */
static void test_msgsync_prepare_makes_kept_keys(void **state)
{
    zl_msgstore *st = zl_msgstore_new("ww1");
    zl_corp corp = {.corpid = "ww1", .messages = st};
    zl_keyring *r = zl_keyring_new();
    char err[512] = "", msgid[32];
    size_t idx[100], kept = 0;

    (void)state;
    assert_non_null(st);
    assert_non_null(r);
    ring_add_file(r, 1, "test_v1_public.pem", 0);
    ring_add_file(r, 2, "test_v2_public.pem", 40);
    for (size_t i = 0; i < 100; i++) {
        zl_party to = {.type = 1, .id = "u2"};
        zl_message_in m = {.msgid = msgid,
                           .sender = {.type = 1, .id = "u1"},
                           .receivers = &to,
                           .receiver_count = 1,
                           .send_time = 1000 + (int64_t)i,
                           .msgtype = 1};

        snprintf(msgid, sizeof msgid, "m%zu", i);
        assert_int_equal(zl_msgstore_append(st, &m, err, sizeof err), 0);
        idx[i] = i;
    }
    zl_sync_prepare(&corp, idx + 10, 5, r); /* below the threshold: nothing made */
    zl_keyring_kept(r, &kept, NULL);
    assert_int_equal(kept, 0);
    zl_sync_prepare(&corp, idx, 100, r);
    zl_keyring_kept(r, &kept, NULL);
    assert_int_equal(kept, 100);
    zl_sync_prepare(&corp, idx, 100, r);
    zl_keyring_kept(r, &kept, NULL);
    assert_int_equal(kept, 100);
    for (size_t i = 0; i < 100; i += 7) {
        cJSON *item = zl_sync_item(&corp, i, r, err, sizeof err);

        assert_non_null(item);
        check_encrypt_info(item, zl_msgstore_at(st, i), i < 40 ? 1 : 2,
                           i < 40 ? "test_v1_private.pem" : "test_v2_private.pem",
                           i < 40 ? "test_v2_private.pem" : "test_v1_private.pem");
        cJSON_Delete(item);
    }
    zl_keyring_kept(r, &kept, NULL);
    assert_int_equal(kept, 100); /* the items used the kept keys */
    zl_keyring_free(r);
    zl_msgstore_free(st);
}

/* The parsed-key encrypt in msgkey matches the PEM one and checks its arguments. */
static void test_msgsync_msgkey_encrypt_pkey(void **state)
{
    char err[512] = "";
    size_t len;
    char *pem = slurp("test_v2_public.pem", &len);
    EVP_PKEY *pkey = zl_msgkey_load_public(pem, len, err, sizeof err);
    char *b64 = (char *)1;
    char *secret;
    int rc = -1;

    (void)state;
    assert_non_null(pkey);
    assert_int_equal(
        zl_msgkey_encrypt_pkey(pkey, (const unsigned char *)"hello", 5, &b64, err, sizeof err), 0);
    secret = decrypt_with("test_v2_private.pem", b64, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(secret, "hello");
    free(secret);
    free(b64);
    assert_int_equal(
        zl_msgkey_encrypt_pkey(NULL, (const unsigned char *)"hello", 5, &b64, err, sizeof err), -1);
    assert_null(b64);
    assert_int_equal(
        zl_msgkey_encrypt_pkey(pkey, (const unsigned char *)"x", 0, &b64, err, sizeof err), -1);
    assert_non_null(strstr(err, "must be 1..245"));
    EVP_PKEY_free(pkey);
    assert_null(zl_msgkey_load_public("junk", 4, err, sizeof err));
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msgsync_cursor_round_trip),
        cmocka_unit_test(test_msgsync_cursor_format),
        cmocka_unit_test(test_msgsync_cursor_rejects),
        cmocka_unit_test(test_msgsync_keyring_versions_and_pem),
        cmocka_unit_test(test_msgsync_keyring_oldest_before_first),
        cmocka_unit_test(test_msgsync_visible_edition_and_scope),
        cmocka_unit_test(test_msgsync_start_window_and_begin_time),
        cmocka_unit_test(test_msgsync_collect_limit_future_and_scan),
        cmocka_unit_test(test_msgsync_item_fields_and_secret),
        cmocka_unit_test(test_msgsync_item_key_replacement),
        cmocka_unit_test(test_msgsync_item_writer_matches_cjson),
        cmocka_unit_test(test_msgsync_prepare_makes_kept_keys),
        cmocka_unit_test(test_msgsync_msgkey_encrypt_pkey),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
