/* Unit tests for zone wire v1: vector, every header and body failure, window, replay. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "b64.h"
#include "wire.h"

#include <cjson/cJSON.h>

/* The docs/protocol.md example: secret = bytes 0x00..0x1f, version 3. */
#define SECRET                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define NOW                   1700000000
#define WIRE_VECTOR_BODY      "oKGio6Slpqeoqaqr5PCIh7a3BPM7r1eIcjEPkmjLgQKUaY8="
#define WIRE_VECTOR_SIGNATURE "cb332326e6b8bd20824c214ad4596fc00e19c21ff1e05ac410e0f832d3b5e9c2"

static time_t fixed_now(void *ud)
{
    return *(time_t *)ud;
}

/* Deterministic "randomness": bytes 0xa0, 0xa1, ... */
static int fixed_random(void *ud, unsigned char *buf, size_t n)
{
    (void)ud;
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(0xa0 + i);
    return 0;
}

struct fx {
    zone_wire_keys k;
    time_t now;
    zone_wire_env env;
    zone_wire_replay *replay;
    zone_wire_sealed_headers h;
    char *body;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_int_equal(zone_wire_keys_init(&f->k, SECRET, 3), ZONE_WIRE_OK);
    f->now = NOW;
    f->env.now = fixed_now;
    f->env.random = fixed_random;
    f->env.ud = &f->now;
    f->replay = zone_wire_replay_new();
    assert_int_equal(zone_wire_seal(&f->k, &f->env, "POST", "/", "{\"a\":1}", 7, &f->h, &f->body),
                     ZONE_WIRE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    free(f->body);
    zone_wire_replay_free(f->replay);
    free(f);
    return 0;
}

static int open_with(struct fx *f, const zone_wire_header *h, size_t n, const char *body,
                     char *detail)
{
    char *plain = NULL;
    size_t len = 0;
    int rc = zone_wire_open(&f->k, f->replay, &f->env, "POST", "/", h, n, body,
                            body ? strlen(body) : 0, &plain, &len, detail, 256);
    if (rc == ZONE_WIRE_OK)
        assert_non_null(plain);
    else
        assert_null(plain);
    free(plain);
    return rc;
}

static void headers_of(const struct fx *f, zone_wire_header h[4])
{
    h[0] = (zone_wire_header){"ww-secret-ver", f->h.secret_ver};
    h[1] = (zone_wire_header){"ww-timestamp", f->h.timestamp};
    h[2] = (zone_wire_header){"ww-nonce", f->h.nonce};
    h[3] = (zone_wire_header){"ww-signature", f->h.signature};
}

static void test_wire_vector(void **state)
{
    struct fx *f = *state;
    assert_string_equal(f->h.secret_ver, "3");
    assert_string_equal(f->h.timestamp, "1700000000");
    assert_string_equal(f->h.nonce, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    assert_string_equal(f->body, WIRE_VECTOR_BODY);
    assert_string_equal(f->h.signature, WIRE_VECTOR_SIGNATURE);
}

static void test_wire_roundtrip_and_replay(void **state)
{
    struct fx *f = *state;
    zone_wire_header h[4];
    headers_of(f, h);
    char *plain = NULL, detail[256];
    size_t len = 0;
    assert_int_equal(zone_wire_open(&f->k, f->replay, &f->env, "POST", "/", h, 4, f->body,
                                    strlen(f->body), &plain, &len, detail, sizeof detail),
                     ZONE_WIRE_OK);
    assert_int_equal(len, 7);
    assert_string_equal(plain, "{\"a\":1}");
    free(plain);
    /* Same nonce again inside the window. */
    assert_int_equal(open_with(f, h, 4, f->body, detail), ZONE_WIRE_ERR_REPLAY);
    /* After the window the entry is pruned, but then the timestamp is stale anyway. */
    f->now += ZONE_WIRE_WINDOW + 1;
    assert_int_equal(open_with(f, h, 4, f->body, detail), ZONE_WIRE_ERR_STALE);
    /* Without a cache (replies) the same message opens again. */
    f->now = NOW;
    assert_int_equal(zone_wire_open(&f->k, NULL, &f->env, "POST", "/", h, 4, f->body,
                                    strlen(f->body), &plain, &len, NULL, 0),
                     ZONE_WIRE_OK);
    free(plain);
}

static void test_wire_window(void **state)
{
    struct fx *f = *state;
    zone_wire_header h[4];
    headers_of(f, h);
    char d[256];
    f->now = NOW + 301;
    assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_ERR_STALE);
    f->now = NOW - 301;
    assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_ERR_STALE);
    f->now = NOW + 299;
    assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_OK);
}

static void test_wire_headers_missing_recased_altered(void **state)
{
    struct fx *f = *state;
    static const char *recased[] = {"Ww-Secret-Ver", "Ww-Timestamp", "WW-NONCE", "Ww-signature"};
    for (int i = 0; i < 4; i++) {
        zone_wire_header h[4];
        char d[256];
        headers_of(f, h);
        /* Missing: drop header i. */
        zone_wire_header less[3];
        for (int j = 0, m = 0; j < 4; j++)
            if (j != i)
                less[m++] = h[j];
        assert_int_equal(open_with(f, less, 3, f->body, d), ZONE_WIRE_ERR_MISSING_HEADER);
        /* Re-cased by a framework. */
        h[i].name = recased[i];
        assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_ERR_HEADER_CASE);
        assert_non_null(strstr(d, recased[i]));
        headers_of(f, h);
    }
    zone_wire_header h[4];
    char d[256];
    headers_of(f, h);
    h[0].value = "4";
    assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_ERR_SECRET_VER);
    assert_int_equal(zone_wire_sdk_code(ZONE_WIRE_ERR_SECRET_VER), -10008);
    headers_of(f, h);
    h[1].value = "17e8";
    assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_ERR_TIMESTAMP);
    headers_of(f, h);
    h[1].value = "1700000001"; /* in the window, but signed as ...000 */
    assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_ERR_SIGNATURE);
    headers_of(f, h);
    h[2].value = "a0a1a2a3a4a5a6a7a8a9aaabacadaeae";
    assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_ERR_SIGNATURE);
    headers_of(f, h);
    h[2].value = "not-hex";
    assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_ERR_NONCE);
    headers_of(f, h);
    char sig[65];
    memcpy(sig, f->h.signature, 65);
    sig[10] = sig[10] == '0' ? '1' : '0';
    h[3].value = sig;
    assert_int_equal(open_with(f, h, 4, f->body, d), ZONE_WIRE_ERR_SIGNATURE);
    assert_int_equal(zone_wire_sdk_code(ZONE_WIRE_ERR_SIGNATURE), -10004);
}

/*
 * Body byte classes. With the original signature any body change is a signature
 * failure; re-sealing the headers over the altered body shows the ciphertext failure.
 */
static int resign_open(struct fx *f, const char *body, char *d);

static void test_wire_body_classes(void **state)
{
    struct fx *f = *state;
    zone_wire_header h[4];
    headers_of(f, h);
    char d[256];
    size_t n = strlen(f->body);
    char *b = strdup(f->body);
    /* Signature first: a changed body with the old signature. */
    b[20] = b[20] == 'A' ? 'B' : 'A';
    assert_int_equal(open_with(f, h, 4, b, d), ZONE_WIRE_ERR_SIGNATURE);
    /* iv byte (chars 0..15 hold the 12-byte iv), ciphertext byte, tag byte (last chars). */
    size_t pos[] = {2, 17, n - 6};
    for (size_t i = 0; i < 3; i++) {
        strcpy(b, f->body);
        b[pos[i]] = b[pos[i]] == 'A' ? 'B' : 'A';
        assert_int_equal(resign_open(f, b, d), ZONE_WIRE_ERR_CIPHERTEXT);
    }
    /* Invalid base64 character, truncation, empty body, too short for iv + tag. */
    strcpy(b, f->body);
    b[5] = '*';
    assert_int_equal(resign_open(f, b, d), ZONE_WIRE_ERR_CIPHERTEXT);
    strcpy(b, f->body);
    b[n - 4] = '\0';
    assert_int_equal(resign_open(f, b, d), ZONE_WIRE_ERR_CIPHERTEXT);
    assert_int_equal(resign_open(f, "", d), ZONE_WIRE_ERR_CIPHERTEXT);
    assert_int_equal(resign_open(f, "QUJDRA==", d), ZONE_WIRE_ERR_CIPHERTEXT);
    assert_int_equal(zone_wire_sdk_code(ZONE_WIRE_ERR_CIPHERTEXT), -10005);
    free(b);
}

/* Signs body with f's keys (nonce varied so the replay cache stays out of it). */
static int resign_open(struct fx *f, const char *body, char *d)
{
    static unsigned counter;
    zone_wire_sealed_headers sh;
    char *tmp = NULL;
    /* Seal anything to get a well-formed header set, then sign the given body. */
    assert_int_equal(zone_wire_seal(&f->k, NULL, "POST", "/", "x", 1, &sh, &tmp), ZONE_WIRE_OK);
    free(tmp);
    snprintf(sh.timestamp, sizeof sh.timestamp, "%lld", (long long)f->now);
    snprintf(sh.nonce, sizeof sh.nonce, "%032x", ++counter);
    assert_int_equal(zone_wire_sign(&f->k, "POST", "/", sh.timestamp, sh.nonce, sh.secret_ver, body,
                                    strlen(body), sh.signature),
                     ZONE_WIRE_OK);
    zone_wire_header h[4] = {{"ww-secret-ver", sh.secret_ver},
                             {"ww-timestamp", sh.timestamp},
                             {"ww-nonce", sh.nonce},
                             {"ww-signature", sh.signature}};
    return open_with(f, h, 4, body, d);
}

/* Opens body signed at ts with nonce number n through cache r (f's keys and clock). */
static int open_at(struct fx *f, zone_wire_replay *r, time_t ts, unsigned n, char *d)
{
    zone_wire_sealed_headers sh;
    char *tmp = NULL, *plain = NULL;
    size_t len = 0;
    assert_int_equal(zone_wire_seal(&f->k, NULL, "POST", "/", "x", 1, &sh, &tmp), ZONE_WIRE_OK);
    free(tmp);
    snprintf(sh.timestamp, sizeof sh.timestamp, "%lld", (long long)ts);
    snprintf(sh.nonce, sizeof sh.nonce, "%032x", n);
    assert_int_equal(zone_wire_sign(&f->k, "POST", "/", sh.timestamp, sh.nonce, sh.secret_ver,
                                    f->body, strlen(f->body), sh.signature),
                     ZONE_WIRE_OK);
    zone_wire_header h[4] = {{"ww-secret-ver", sh.secret_ver},
                             {"ww-timestamp", sh.timestamp},
                             {"ww-nonce", sh.nonce},
                             {"ww-signature", sh.signature}};
    int rc = zone_wire_open(&f->k, r, &f->env, "POST", "/", h, 4, f->body, strlen(f->body), &plain,
                            &len, d, 256);
    free(plain);
    return rc;
}

/* A full replay cache is not a refusal of fresh messages: it forgets its oldest seconds and
 * refuses only what was signed in them (it had answered "replay cache full" to every message
 * once 200,000 nonces were inside the window: 667 callbacks a second). */
static void test_wire_replay_cache_full(void **state)
{
    struct fx *f = *state;
    zone_wire_replay *r = zone_wire_replay_new_max(10);
    char d[256];
    unsigned i;

    assert_non_null(r);
    for (i = 0; i < 10; i++) /* full: one nonce in each of the ten seconds before now */
        assert_int_equal(open_at(f, r, NOW - 10 + (time_t)i, i, d), ZONE_WIRE_OK);
    assert_int_equal(open_at(f, r, NOW, 100, d), ZONE_WIRE_OK); /* fresh: room is made */
    assert_int_equal(open_at(f, r, NOW - 10, 101, d),
                     ZONE_WIRE_ERR_REPLAY); /* a forgotten second */
    assert_non_null(strstr(d, "forgot"));
    assert_int_equal(open_at(f, r, NOW - 5, 5, d), ZONE_WIRE_ERR_REPLAY); /* still remembered */
    assert_non_null(strstr(d, "already used"));
    for (i = 0; i < 100; i++) { /* a stream of one a second goes on through a cache of 10 */
        f->now = NOW + 1 + (time_t)i;
        assert_int_equal(open_at(f, r, f->now, 1000 + i, d), ZONE_WIRE_OK);
    }
    assert_int_equal(open_at(f, r, f->now, 1099, d), ZONE_WIRE_ERR_REPLAY);
    /* more than the cache in one second: its own second is forgotten too */
    for (i = 0; i < 10; i++)
        open_at(f, r, f->now, 2000 + i, d);
    assert_int_equal(open_at(f, r, f->now, 2100, d), ZONE_WIRE_ERR_REPLAY);
    zone_wire_replay_free(r);
}

static void test_wire_bad_secret(void **state)
{
    zone_wire_keys k;
    assert_int_equal(zone_wire_keys_init(&k, "c2hvcnQ=", 1), ZONE_WIRE_ERR_BAD_SECRET);
    assert_int_equal(zone_wire_keys_init(&k, NULL, 1), ZONE_WIRE_ERR_BAD_SECRET);
    assert_int_equal(zone_wire_keys_init(&k, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=", 1),
                     ZONE_WIRE_ERR_BAD_SECRET);
    /* A different secret cannot open: the signature fails first. */
    struct fx *f = *state;
    zone_wire_keys other;
    assert_int_equal(zone_wire_keys_init(&other, "HxwdHhobGBkWFxQVEhMQEQ4PDA0KCwgJBgcEBQIDAAE=", 3),
                     ZONE_WIRE_OK);
    zone_wire_header h[4];
    headers_of(f, h);
    char *plain = NULL;
    size_t len;
    assert_int_equal(zone_wire_open(&other, NULL, &f->env, "POST", "/", h, 4, f->body,
                                    strlen(f->body), &plain, &len, NULL, 0),
                     ZONE_WIRE_ERR_SIGNATURE);
    /* Method and path are signed. */
    assert_int_equal(zone_wire_open(&f->k, NULL, &f->env, "GET", "/", h, 4, f->body,
                                    strlen(f->body), &plain, &len, NULL, 0),
                     ZONE_WIRE_ERR_SIGNATURE);
    assert_int_equal(zone_wire_open(&f->k, NULL, &f->env, "POST", "/zone/v1/invoke", h, 4, f->body,
                                    strlen(f->body), &plain, &len, NULL, 0),
                     ZONE_WIRE_ERR_SIGNATURE);
}

/* Seals the vector's message under k, its body and signature in body_out/sig_out. */
static void seal_vector(const zone_wire_keys *k, zone_wire_env *env, char **body_out,
                        char sig_out[65])
{
    zone_wire_sealed_headers h;
    assert_int_equal(zone_wire_seal(k, env, "POST", "/", "{\"a\":1}", 7, &h, body_out),
                     ZONE_WIRE_OK);
    memcpy(sig_out, h.signature, 65);
}

static void *seal_vector_thread(void *arg)
{
    struct fx *f = arg;
    char *body = NULL, sig[65];

    seal_vector(&f->k, &f->env, &body, sig);
    return strcmp(body, WIRE_VECTOR_BODY) == 0 && strcmp(sig, WIRE_VECTOR_SIGNATURE) == 0
               ? (free(body), (void *)1)
               : (free(body), NULL);
}

/* Each thread keeps the contexts of the keys it used last: keys taken in turn, and a thread of
 * its own, give what fresh contexts give, both ways. */
static void test_wire_keys_in_turn(void **state)
{
    struct fx *f = *state;
    zone_wire_keys other;
    zone_wire_header h[4];
    char *body = NULL, *other_body = NULL, sig[65], other_sig[65], *plain = NULL;
    size_t len;
    pthread_t t;
    void *ok = NULL;

    assert_int_equal(zone_wire_keys_init(&other, "HxwdHhobGBkWFxQVEhMQEQ4PDA0KCwgJBgcEBQIDAAE=", 3),
                     ZONE_WIRE_OK);
    seal_vector(&other, &f->env, &other_body, other_sig);
    assert_string_not_equal(other_body, WIRE_VECTOR_BODY);
    seal_vector(&f->k, &f->env, &body, sig);
    assert_string_equal(body, WIRE_VECTOR_BODY);
    assert_string_equal(sig, WIRE_VECTOR_SIGNATURE);
    free(body);
    /* opened under the other keys, then under the first again */
    headers_of(f, h);
    h[3].value = other_sig;
    assert_int_equal(zone_wire_open(&other, NULL, &f->env, "POST", "/", h, 4, other_body,
                                    strlen(other_body), &plain, &len, NULL, 0),
                     ZONE_WIRE_OK);
    assert_string_equal(plain, "{\"a\":1}");
    free(plain);
    assert_int_equal(zone_wire_open(&f->k, NULL, &f->env, "POST", "/", h, 4, other_body,
                                    strlen(other_body), &plain, &len, NULL, 0),
                     ZONE_WIRE_ERR_SIGNATURE);
    headers_of(f, h);
    assert_int_equal(zone_wire_open(&f->k, NULL, &f->env, "POST", "/", h, 4, f->body,
                                    strlen(f->body), &plain, &len, NULL, 0),
                     ZONE_WIRE_OK);
    assert_string_equal(plain, "{\"a\":1}");
    free(plain);
    free(other_body);
    assert_int_equal(pthread_create(&t, NULL, seal_vector_thread, f), 0);
    assert_int_equal(pthread_join(t, &ok), 0);
    assert_non_null(ok);
}

/* The callback envelope is the text cJSON writes of its tree: escapes, every number, both
 * is_async, NULL members as "". */
static void test_wire_callback_encode_as_cjson(void **state)
{
    zone_wire_callback c = {.corpid = "ww\"1\\",
                            .agentid = 4294967295u,
                            .call_type = 2,
                            .data = "{\"a\":\"\x01\\n\xe4\xb8\xad\x7f\"}\t\r\b\f/",
                            .job_info = NULL,
                            .ability_id = "",
                            .notify_id = "n",
                            .req_id = "r"};

    (void)state;
    for (int round = 0; round < 3; round++) {
        cJSON *o = cJSON_CreateObject();
        char *want, *got;

        c.is_async = round == 1;
        if (round == 2) {
            c.agentid = 0;
            c.call_type = 2147483648u;
            c.corpid = NULL;
        }
        cJSON_AddStringToObject(o, "corpid", c.corpid ? c.corpid : "");
        cJSON_AddNumberToObject(o, "agentid", c.agentid);
        cJSON_AddNumberToObject(o, "call_type", c.call_type);
        cJSON_AddStringToObject(o, "data", c.data);
        cJSON_AddBoolToObject(o, "is_async", c.is_async);
        cJSON_AddStringToObject(o, "job_info", "");
        cJSON_AddStringToObject(o, "ability_id", c.ability_id);
        cJSON_AddStringToObject(o, "notify_id", c.notify_id);
        cJSON_AddStringToObject(o, "req_id", c.req_id);
        want = cJSON_PrintUnformatted(o);
        got = zone_wire_callback_encode(&c);
        assert_non_null(got);
        assert_string_equal(got, want);
        cJSON_free(want);
        free(got);
        cJSON_Delete(o);
    }
}

static void test_wire_envelopes(void **state)
{
    zone_wire_callback cb = {.corpid = "wwcorp",
                             .data = "{\"x\":\"中\"}",
                             .job_info = "",
                             .ability_id = "invoke_sync_msg",
                             .notify_id = "n1",
                             .req_id = "0a1b2c3d4e5f6789",
                             .agentid = 1000002,
                             .call_type = 1,
                             .is_async = 1};
    char *j = zone_wire_callback_encode(&cb);
    zone_wire_callback out;
    assert_int_equal(zone_wire_callback_decode(j, strlen(j), &out), ZONE_WIRE_OK);
    assert_string_equal(out.data, cb.data);
    assert_int_equal(out.agentid, 1000002);
    assert_true(out.is_async);
    zone_wire_callback_cleanup(&out);
    free(j);

    (void)state;
    zone_wire_invoke iv = {.api = "sync_msg", .request = "{}", .corpid = "c", .agentid = 7};
    j = zone_wire_invoke_encode(&iv);
    zone_wire_invoke iv2;
    assert_int_equal(zone_wire_invoke_decode(j, strlen(j), &iv2), ZONE_WIRE_OK);
    assert_string_equal(iv2.api, "sync_msg");
    assert_string_equal(iv2.instance, "");
    zone_wire_invoke_cleanup(&iv2);
    free(j);

    zone_wire_reply r = {.response = "", .exception = 1}, r2;
    j = zone_wire_reply_encode(&r);
    assert_string_equal(j, "{\"response\":\"\",\"exception\":true}");
    assert_int_equal(zone_wire_reply_decode(j, strlen(j), &r2), ZONE_WIRE_OK);
    assert_true(r2.exception);
    zone_wire_reply_cleanup(&r2);
    free(j);

    /* Not JSON, not an object, wrong field types. */
    const char *bad[] = {"{",
                         "[]",
                         "{\"agentid\":\"1\"}",
                         "{\"call_type\":-1}",
                         "{\"is_async\":1}",
                         "{\"data\":{}}",
                         "{\"agentid\":1.5}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(zone_wire_callback_decode(bad[i], strlen(bad[i]), &out),
                         ZONE_WIRE_ERR_JSON);
    assert_int_equal(zone_wire_reply_decode("{\"response\":1}", 14, &r2), ZONE_WIRE_ERR_JSON);
    assert_int_equal(zone_wire_invoke_decode("{\"api\":null}", 12, &iv2), ZONE_WIRE_ERR_JSON);
    assert_int_equal(zone_wire_sdk_code(ZONE_WIRE_ERR_JSON), -10009);
}

/* Issue 19: an envelope is one JSON value, and no string may hide a NUL that would cut it. */
static void test_wire_json_strict(void **state)
{
    static const char *const bad[] = {
        "{\"api\":\"sync_msg\\u0000x\",\"request\":\"{}\"}",
        "{\"api\":\"sync_msg\",\"request\":\"{}\"} trailing",
        "{\"api\":\"sync_msg\",\"request\":\"{}\"}{}",
        "{\"api\":\"sync_msg\",\"request\":\"{}\"}\0",
    };
    static const size_t bad_len[] = {0, 0, 0, 34};
    zone_wire_invoke iv;
    cJSON *o;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad_len[i] ? bad_len[i] : strlen(bad[i]);

        assert_int_equal(zone_wire_invoke_decode(bad[i], len, &iv), ZONE_WIRE_ERR_JSON);
        assert_null(zone_wire_json_parse(bad[i], len));
    }
    /* an escaped backslash before u0000 is text, not a NUL; whitespace after the value is fine */
    o = zone_wire_json_parse("{\"a\":\"\\\\u0000\"} \r\n", 18);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "a")->valuestring, "\\u0000");
    cJSON_Delete(o);
    assert_int_equal(zone_wire_invoke_decode("{\"api\":\"sync_msg\"}\n", 19, &iv), ZONE_WIRE_OK);
    assert_string_equal(iv.api, "sync_msg");
    zone_wire_invoke_cleanup(&iv);
}

/* The responses the reply tests carry: JSON as the emulator writes it, and every byte. */
static char *reply_sample(size_t i)
{
    static const char *const fixed[] = {
        "",
        "{\"errcode\":0,\"errmsg\":\"ok\",\"msg_list\":[{\"msgid\":\"m1\",\"content\":\"{"
        "\\\"content\\\":"
        "\\\"a \\\\\\\"quoted\\\\\\\" \\\\\\\\ line\\\\nnext\\\"}\"}]}",
        "\"\\/\"\t\r\n\b\f\x01\x1f\x7f \xe4\xb8\xad",
        "\\",
        "\"",
    };
    char *s;

    if (i < sizeof fixed / sizeof fixed[0])
        return strdup(fixed[i]);
    if (!(s = malloc(256)))
        return NULL;
    for (int c = 1; c < 256; c++) /* every byte but NUL, which a C string cannot hold */
        s[c - 1] = (char)c;
    s[255] = '\0';
    return s;
}
#define REPLY_SAMPLES 6

/* Issue 18: the reply sealed in one buffer is byte for byte the envelope cJSON writes,
 * sealed; and it opens and decodes (in place) to the response it carried. */
static void test_wire_seal_reply_matches_encode(void **state)
{
    struct fx *f = *state;
    zone_wire_header hs[4];

    for (size_t i = 0; i < REPLY_SAMPLES; i++)
        for (int exc = 0; exc <= 1; exc++) {
            char *resp = reply_sample(i), *enc, *written, *b1 = NULL, *b2 = NULL, *plain = NULL;
            zone_wire_sealed_headers h1, h2;
            zone_wire_reply r = {.response = resp, .exception = exc}, got;
            size_t n, len, plen;

            assert_non_null(resp);
            enc = zone_wire_reply_encode(&r);
            assert_non_null(enc);
            n = zone_wire_reply_size(resp, strlen(resp), exc);
            assert_int_equal(n, strlen(enc));
            written = malloc(n);
            assert_int_equal(zone_wire_reply_write(resp, strlen(resp), exc, written), n);
            assert_memory_equal(written, enc, n);
            assert_int_equal(zone_wire_seal(&f->k, &f->env, ZONE_WIRE_REPLY_METHOD, "/x", enc,
                                            strlen(enc), &h1, &b1),
                             ZONE_WIRE_OK);
            assert_int_equal(
                zone_wire_seal_reply(&f->k, &f->env, "/x", resp, strlen(resp), exc, &h2, &b2, &len),
                ZONE_WIRE_OK);
            assert_int_equal(len, strlen(b2));
            assert_string_equal(b1, b2);
            assert_string_equal(h1.signature, h2.signature);
            assert_string_equal(h1.nonce, h2.nonce);

            hs[0] = (zone_wire_header){"ww-secret-ver", h2.secret_ver};
            hs[1] = (zone_wire_header){"ww-timestamp", h2.timestamp};
            hs[2] = (zone_wire_header){"ww-nonce", h2.nonce};
            hs[3] = (zone_wire_header){"ww-signature", h2.signature};
            assert_int_equal(zone_wire_open(&f->k, NULL, &f->env, ZONE_WIRE_REPLY_METHOD, "/x", hs,
                                            4, b2, len, &plain, &plen, NULL, 0),
                             ZONE_WIRE_OK);
            assert_string_equal(plain, enc);
            assert_int_equal(zone_wire_reply_take(&plain, plen, &got), ZONE_WIRE_OK);
            if (i != 2 && i != 5) /* no \u00XX escape: the buffer became the response */
                assert_null(plain);
            free(plain);
            assert_string_equal(got.response, resp);
            assert_int_equal(got.exception, exc);
            zone_wire_reply_cleanup(&got);
            free(written);
            free(enc);
            free(b1);
            free(b2);
            free(resp);
        }
}

/* zone_wire_reply_take answers as zone_wire_reply_decode for text of (text, len). */
static void expect_take_as_decode(const char *text, size_t len)
{
    zone_wire_reply a, b;
    char *copy = malloc(len + 1);
    int ra, rb;

    assert_non_null(copy);
    memcpy(copy, text, len);
    copy[len] = '\0';
    ra = zone_wire_reply_decode(text, len, &a);
    rb = zone_wire_reply_take(&copy, len, &b);
    if (ra != rb)
        fail_msg("decode %d, take %d for %.*s", ra, rb, (int)len, text);
    if (ra == ZONE_WIRE_OK) {
        assert_string_equal(a.response, b.response);
        assert_int_equal(a.exception, b.exception);
    }
    zone_wire_reply_cleanup(&a);
    zone_wire_reply_cleanup(&b);
    free(copy);
}

static void test_wire_reply_take_as_decode(void **state)
{
    static const char *const texts[] = {
        "{\"response\":\"{\\\"a\\\":\\\"b\\\\\\\\c\\\"}\"}",
        "{\"response\":\"x\",\"exception\":true}",
        "{\"response\":\"x\",\"exception\":false}",
        "{\"response\":\"x\",\"exception\":1}",
        "{\"response\":\"\\u00e9\\/\\t\"}",
        "{\"response\":\"\\u0000\"}",
        "{\"response\":\"\\ud800\"}",
        "{\"response\":\"x\"} ",
        " {\"response\":\"x\"}",
        "{\"response\":\"x\",\"other\":[1]}",
        "{\"other\":1,\"response\":\"x\"}",
        "{\"response\":\"a\\x\"}",
        "{\"response\":\"a\\",
        "{\"response\":\"a",
        "{\"response\":\"a\"",
        "{\"response\":\"a\"}}",
        "{\"response\":\"tab\there\x01\"}",
        "{\"response\":1}",
        "{\"response\":\"\"}",
        "{}",
        "",
    };
    const char *base = "{\"response\":\"{\\\"k\\\":\\\"v\\\\n\\\"}\",\"exception\":true}";
    static const char subst[] = "\"\\{}:,u tnx0";
    char buf[128];
    size_t i, k, n = strlen(base);

    (void)state;
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
        expect_take_as_decode(texts[i], strlen(texts[i]));
    expect_take_as_decode("{\"response\":\"a\0b\"}", 19); /* a NUL byte inside */
    for (i = 0; i < n; i++) { /* every byte of a reply changed, and every cut */
        for (k = 0; k < sizeof subst - 1; k++) {
            memcpy(buf, base, n);
            buf[i] = subst[k];
            expect_take_as_decode(buf, n);
        }
        expect_take_as_decode(base, i);
    }
}

/* A byte drawn mostly from those that matter to the escaping and to SIMD compares: quote,
 * backslash, control bytes, the bytes around them, high bytes; a fixed generator. */
static unsigned char pick_byte(uint32_t *seed)
{
    static const unsigned char some[] = {'"',  '\\', 0x01, 0x08, 0x0c, 0x0a, 0x0d, 0x09, 0x1f, 0x20,
                                         0x21, 0x5b, 0x5d, 0x7f, 0x80, 0x9f, 0xa2, 0xdc, 0xff, 'u'};

    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) % 3 ? (unsigned char)('a' + (*seed >> 8) % 26)
                             : some[(*seed >> 20) % sizeof some];
}

/* The reply escaped in runs (16 bytes a step) writes what cJSON writes, for text whose special
 * bytes sit at every offset of a 16-byte step and next to each other; it opens back in place
 * to the same text. */
static void test_wire_reply_escape_runs(void **state)
{
    uint32_t seed = 18;

    (void)state;
    for (size_t len = 1; len < 300; len++)
        for (int rep = 0; rep < 4; rep++) {
            char *resp = malloc(len + 1), *enc, *written, *take;
            zone_wire_reply r, got;
            size_t n;

            assert_non_null(resp);
            for (size_t i = 0; i < len; i++) {
                resp[i] = (char)pick_byte(&seed);
                if (!resp[i])
                    resp[i] = 'x';
            }
            resp[len] = '\0';
            r = (zone_wire_reply){.response = resp, .exception = rep & 1};
            enc = zone_wire_reply_encode(&r);
            assert_non_null(enc);
            n = zone_wire_reply_size(resp, len, rep & 1);
            if (n != strlen(enc))
                fail_msg("size %zu, cJSON wrote %zu, for length %zu", n, strlen(enc), len);
            written = malloc(n + 1);
            assert_non_null(written);
            assert_int_equal(zone_wire_reply_write(resp, len, rep & 1, written), n);
            assert_memory_equal(written, enc, n);
            written[n] = '\0';
            take = written;
            assert_int_equal(zone_wire_reply_take(&take, n, &got), ZONE_WIRE_OK);
            assert_string_equal(got.response, resp);
            assert_int_equal(got.exception, rep & 1);
            zone_wire_reply_cleanup(&got);
            free(take);
            free(enc);
            free(resp);
        }
}

/* The table codec: encodes as EVP_EncodeBlock; decodes what it encodes; refuses what strict
 * base64 refuses (a byte outside the alphabet anywhere, '=' inside, bad length or pad). */
static void test_wire_b64_tables(void **state)
{
    uint32_t seed = 7;
    unsigned char in[200], evp[300], *out;
    char mine[300];
    size_t out_len;

    (void)state;
    for (size_t len = 0; len < sizeof in; len++) {
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (unsigned char)(seed >> 16);
        }
        int n = EVP_EncodeBlock(evp, in, (int)len);
        assert_int_equal(zone_b64_encode_to(mine, in, len), (size_t)n);
        assert_string_equal(mine, (char *)evp);
        if (len == 0) {
            assert_int_equal(zone_b64_decode(mine, 0, &out, &out_len), -1);
            continue;
        }
        assert_int_equal(zone_b64_decode(mine, (size_t)n, &out, &out_len), 0);
        assert_int_equal(out_len, len);
        assert_memory_equal(out, in, len);
        free(out);
        for (size_t i = 0; i < (size_t)n; i++) { /* one character spoiled at each place */
            char keep = mine[i];

            for (int k = 0; k < 4; k++) {
                mine[i] = "=*\n\x80"[k];
                if (mine[i] == '=' && i + 1 == (size_t)n)
                    continue; /* a final '=' for a data character: still base64 */
                if (mine[i] == '=' && i + 2 == (size_t)n && mine[n - 1] == '=')
                    continue;
                if (zone_b64_decode(mine, (size_t)n, &out, &out_len) != -1)
                    fail_msg("decoded %s", mine);
                assert_null(out);
            }
            mine[i] = keep;
        }
        if (n > 4) /* a length that is not a multiple of 4 */
            assert_int_equal(zone_b64_decode(mine, (size_t)n - 1, &out, &out_len), -1);
    }
    assert_int_equal(zone_b64_decode("QQ==", 4, &out, &out_len), 0);
    assert_int_equal(out_len, 1);
    assert_int_equal(out[0], 'A');
    free(out);
    assert_int_equal(zone_b64_decode("Q===", 4, &out, &out_len), -1);
    assert_int_equal(zone_b64_decode("====", 4, &out, &out_len), -1);
    assert_int_equal(zone_b64_decode("QQ=A", 4, &out, &out_len), -1);
}

/* The random pool: bytes are not handed out twice, and a forked child does not draw the
 * bytes its parent draws next (the pool each had at the fork is dropped in the child). */
static void test_wire_random_pool_and_fork(void **state)
{
    unsigned char a[28], b[28], child[28];
    int fds[2], st;
    pid_t pid;

    (void)state;
    assert_int_equal(zone_wire_random(a, sizeof a), 0); /* the pool is full after this */
    assert_int_equal(zone_wire_random(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsigned char c[28];

        _exit(zone_wire_random(c, sizeof c) == 0 && write(fds[1], c, sizeof c) == sizeof c ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
    assert_int_equal(zone_wire_random(a, sizeof a), 0);
    assert_memory_not_equal(a, child, sizeof a);
    close(fds[0]);
    close(fds[1]);
    /* larger than the pool: straight from the DRBG */
    {
        unsigned char big[2048] = {0}, zero[2048] = {0};

        assert_int_equal(zone_wire_random(big, sizeof big), 0);
        assert_memory_not_equal(big, zero, sizeof big);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wire_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_roundtrip_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_replay_cache_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_headers_missing_recased_altered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_body_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_bad_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_keys_in_turn, setup, teardown),
        cmocka_unit_test(test_wire_callback_encode_as_cjson),
        cmocka_unit_test(test_wire_envelopes),
        cmocka_unit_test(test_wire_json_strict),
        cmocka_unit_test_setup_teardown(test_wire_seal_reply_matches_encode, setup, teardown),
        cmocka_unit_test(test_wire_reply_take_as_decode),
        cmocka_unit_test(test_wire_reply_escape_runs),
        cmocka_unit_test(test_wire_b64_tables),
        cmocka_unit_test(test_wire_random_pool_and_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
