/* wxcrypt: WeCom callback crypto (WXBizMsgCrypt), strict on every input. */
#include "wecom/wxcrypt.h"

#include "b64.h"
#include "wire.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zl_wxcrypt {
    char *token;
    char *receiveid;
    unsigned char key[32];
    char detail[1024];
};

/* AES-256-CBC and SHA-1, fetched once: EVP_aes_256_cbc() and EVP_sha1() look the algorithm
 * up again on every init (a third of an app callback's encryption). NULL when the fetch
 * failed; the callers then fall back to the implicit ones. */
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes_cbc;
static EVP_MD *sha1;

static void algs_fetch(void)
{
    aes_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
    sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static const EVP_CIPHER *cipher_aes(void)
{
    pthread_once(&algs_once, algs_fetch);
    return aes_cbc ? aes_cbc : EVP_aes_256_cbc();
}

static const EVP_MD *md_sha1(void)
{
    pthread_once(&algs_once, algs_fetch);
    return sha1 ? sha1 : EVP_sha1();
}

void zl_wxcrypt_warm(void)
{
    static const unsigned char key[32];
    unsigned char r[16], out[32];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;

    RAND_bytes(r, sizeof r);
    if (ctx && EVP_EncryptInit_ex(ctx, cipher_aes(), NULL, key, key))
        EVP_EncryptUpdate(ctx, out, &n, r, sizeof r);
    EVP_CIPHER_CTX_free(ctx);
}

const char *zl_wx_strerror(int code)
{
    switch (code) {
#define ZL_WX_CASE(name, value, text)                                                              \
    case value:                                                                                    \
        return text;
        ZL_WX_CODES(ZL_WX_CASE)
#undef ZL_WX_CASE
    }
    return "unknown code";
}

static int fail(zl_wxcrypt *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(zl_wxcrypt *c, int code, const char *fmt, ...)
{
    if (c != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->detail, sizeof c->detail, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *zl_wxcrypt_detail(const zl_wxcrypt *c)
{
    return c != NULL ? c->detail : "";
}

static int is_alnum(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

zl_wxcrypt *zl_wxcrypt_new(const char *token, const char *encoding_aes_key, const char *receiveid,
                           int *err)
{
    int dummy;
    if (err == NULL)
        err = &dummy;
    *err = ZL_WX_ERR_ILLEGAL_AES_KEY;
    if (token == NULL || encoding_aes_key == NULL || receiveid == NULL)
        return NULL;
    if (strlen(encoding_aes_key) != 43)
        return NULL;
    for (size_t i = 0; i < 43; i++)
        if (!is_alnum((unsigned char)encoding_aes_key[i]))
            return NULL;
    char padded[45];
    memcpy(padded, encoding_aes_key, 43);
    padded[43] = '=';
    padded[44] = '\0';
    unsigned char *key = NULL;
    size_t key_len = 0;
    if (zone_b64_decode(padded, 44, &key, &key_len) != 0 || key_len != 32) {
        free(key);
        return NULL;
    }
    zl_wxcrypt *c = calloc(1, sizeof *c);
    if (c == NULL) {
        OPENSSL_cleanse(key, key_len);
        free(key);
        return NULL;
    }
    c->token = strdup(token);
    c->receiveid = strdup(receiveid);
    if (c->token == NULL || c->receiveid == NULL) {
        OPENSSL_cleanse(key, key_len);
        free(key);
        zl_wxcrypt_free(c);
        return NULL;
    }
    memcpy(c->key, key, 32);
    OPENSSL_cleanse(key, key_len);
    free(key);
    *err = ZL_WX_OK;
    return c;
}

void zl_wxcrypt_free(zl_wxcrypt *c)
{
    if (c == NULL)
        return;
    free(c->token);
    free(c->receiveid);
    OPENSSL_cleanse(c->key, sizeof c->key);
    free(c);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int zl_wx_signature(const char *token, const char *timestamp, const char *nonce,
                    const char *encrypt, char out[41], char **sorted_out)
{
    const char *parts[4] = {token, timestamp, nonce, encrypt};
    size_t total = 1;
    for (int i = 0; i < 4; i++) {
        if (parts[i] == NULL)
            return ZL_WX_ERR_COMPUTE_SIGNATURE;
        total += strlen(parts[i]);
    }
    qsort(parts, 4, sizeof parts[0], cmp_str);
    char *joined = malloc(total);
    if (joined == NULL)
        return ZL_WX_ERR_COMPUTE_SIGNATURE;
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(parts[i]);
        memcpy(joined + off, parts[i], n);
        off += n;
    }
    joined[off] = '\0';
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(joined, off, md, &md_len, md_sha1(), NULL) || md_len != 20) {
        free(joined);
        return ZL_WX_ERR_COMPUTE_SIGNATURE;
    }
    for (unsigned int i = 0; i < 20; i++) {
        out[2 * i] = "0123456789abcdef"[md[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
    }
    out[40] = '\0';
    if (sorted_out != NULL)
        *sorted_out = joined;
    else
        free(joined);
    return ZL_WX_OK;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

char *zl_wx_url_decode(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) {
                free(out);
                return NULL;
            }
            out[j++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

int zl_wxcrypt_encrypt(zl_wxcrypt *c, const unsigned char *random16, const char *msg,
                       size_t msg_len, char **out_b64)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char *plain = NULL, *cipher = NULL;
    char *b64 = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    int rc = ZL_WX_ERR_ENCRYPT_AES;
    *out_b64 = NULL;
    if (msg_len > ZL_WX_MAX_INPUT)
        return fail(c, ZL_WX_ERR_ENCRYPT_AES, "message of %zu bytes is over the cap", msg_len);
    size_t rid_len = strlen(c->receiveid);
    size_t body = 20 + msg_len + rid_len;
    size_t pad = 32 - body % 32;
    size_t total = body + pad;
    plain = malloc(total);
    cipher = malloc(total + 32);
    if (plain == NULL || cipher == NULL)
        goto out;
    if (random16 != NULL) {
        memcpy(plain, random16, 16);
    } else {
        unsigned char r[16];
        if (zone_wire_random(r, sizeof r) != 0) /* a per-thread pool over RAND_bytes */
            goto out;
        for (int i = 0; i < 16; i++)
            plain[i] = (unsigned char)alnum[r[i] % 62];
    }
    plain[16] = (unsigned char)(msg_len >> 24);
    plain[17] = (unsigned char)(msg_len >> 16);
    plain[18] = (unsigned char)(msg_len >> 8);
    plain[19] = (unsigned char)msg_len;
    if (msg_len)
        memcpy(plain + 20, msg, msg_len);
    if (rid_len)
        memcpy(plain + 20 + msg_len, c->receiveid, rid_len);
    memset(plain + body, (int)pad, pad);
    ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    if (ctx == NULL || !EVP_EncryptInit_ex(ctx, cipher_aes(), NULL, c->key, c->key) ||
        !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
        !EVP_EncryptUpdate(ctx, cipher, &n1, plain, (int)total) ||
        !EVP_EncryptFinal_ex(ctx, cipher + n1, &n2))
        goto out;
    b64 = zone_b64_encode(cipher, (size_t)(n1 + n2));
    if (b64 == NULL) {
        rc = ZL_WX_ERR_ENCODE_BASE64;
        goto out;
    }
    *out_b64 = b64;
    b64 = NULL;
    rc = ZL_WX_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    free(plain);
    free(cipher);
    free(b64);
    return rc == ZL_WX_OK ? rc : fail(c, rc, "%s", zl_wx_strerror(rc));
}

int zl_wxcrypt_decrypt(zl_wxcrypt *c, const char *b64, char **msg, size_t *msg_len,
                       unsigned char random_out[16])
{
    unsigned char *cipher = NULL, *plain = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    int rc;
    *msg = NULL;
    *msg_len = 0;
    size_t len = b64 != NULL ? strlen(b64) : 0;
    if (len > ZL_WX_MAX_INPUT)
        return fail(c, ZL_WX_ERR_DECODE_BASE64, "ciphertext of %zu characters is over the cap",
                    len);
    size_t clen = 0;
    if (zone_b64_decode(b64, len, &cipher, &clen) != 0)
        return fail(c, ZL_WX_ERR_DECODE_BASE64, "Encrypt is not standard base64 (%zu characters)",
                    len);
    if (clen == 0 || clen % 16 != 0) {
        rc = fail(c, ZL_WX_ERR_DECRYPT_AES,
                  "ciphertext is %zu bytes, not a non-zero multiple of 16", clen);
        goto out;
    }
    plain = malloc(clen + 16);
    ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    if (plain == NULL || ctx == NULL ||
        !EVP_DecryptInit_ex(ctx, cipher_aes(), NULL, c->key, c->key) ||
        !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
        !EVP_DecryptUpdate(ctx, plain, &n1, cipher, (int)clen) ||
        !EVP_DecryptFinal_ex(ctx, plain + n1, &n2)) {
        rc = fail(c, ZL_WX_ERR_DECRYPT_AES, "AES-256-CBC decryption failed");
        goto out;
    }
    size_t plen = (size_t)(n1 + n2);
    unsigned pad = plain[plen - 1];
    if (pad < 1 || pad > 32 || pad > plen) {
        rc = fail(c, ZL_WX_ERR_DECRYPT_AES,
                  "bad padding: last byte %u (PKCS#7 to 32 bytes allows 1..32)", pad);
        goto out;
    }
    plen -= pad;
    if (plen <= 20) {
        rc = fail(c, ZL_WX_ERR_ILLEGAL_BUFFER,
                  "decrypted buffer is %zu bytes after unpadding; more than 20 needed", plen);
        goto out;
    }
    size_t mlen = ((size_t)plain[16] << 24) | ((size_t)plain[17] << 16) | ((size_t)plain[18] << 8) |
                  (size_t)plain[19];
    if (mlen > plen - 20) {
        rc = fail(c, ZL_WX_ERR_ILLEGAL_BUFFER,
                  "msg_len %zu runs past the end of the %zu-byte buffer", mlen, plen);
        goto out;
    }
    size_t rid_len = plen - 20 - mlen;
    const unsigned char *rid = plain + 20 + mlen;
    if (rid_len != strlen(c->receiveid) || memcmp(rid, c->receiveid, rid_len) != 0) {
        rc = fail(c, ZL_WX_ERR_VALIDATE_RECEIVEID, "receiveid is \"%.*s\", configured \"%s\"",
                  (int)(rid_len > 128 ? 128 : rid_len), (const char *)rid, c->receiveid);
        goto out;
    }
    char *m = malloc(mlen + 1);
    if (m == NULL) {
        rc = fail(c, ZL_WX_ERR_DECRYPT_AES, "out of memory");
        goto out;
    }
    memcpy(m, plain + 20, mlen);
    m[mlen] = '\0';
    if (random_out != NULL)
        memcpy(random_out, plain, 16);
    *msg = m;
    *msg_len = mlen;
    rc = ZL_WX_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    free(cipher);
    free(plain);
    return rc;
}

static int check_signature(zl_wxcrypt *c, const char *msg_signature, const char *timestamp,
                           const char *nonce, const char *encrypt)
{
    char want[41];
    char *sorted = NULL;
    if (msg_signature == NULL || timestamp == NULL || nonce == NULL)
        return fail(c, ZL_WX_ERR_VALIDATE_SIGNATURE,
                    "msg_signature, timestamp and nonce are all required");
    int rc = zl_wx_signature(c->token, timestamp, nonce, encrypt, want, &sorted);
    if (rc != ZL_WX_OK)
        return fail(c, rc, "could not compute SHA-1");
    if (strcmp(want, msg_signature) != 0) {
        size_t sl = strlen(sorted);
        rc = fail(c, ZL_WX_ERR_VALIDATE_SIGNATURE,
                  "signed string (sorted token, timestamp, nonce, encrypt): %.*s%s\n"
                  "computed sha1: %s\nreceived:      %.64s",
                  (int)(sl > 600 ? 600 : sl), sorted, sl > 600 ? "..." : "", want, msg_signature);
    }
    free(sorted);
    return rc;
}

int zl_wxcrypt_verify_url(zl_wxcrypt *c, const char *msg_signature, const char *timestamp,
                          const char *nonce, const char *echostr, char **msg, size_t *msg_len)
{
    *msg = NULL;
    *msg_len = 0;
    if (echostr == NULL)
        return fail(c, ZL_WX_ERR_PARSE, "echostr is missing");
    int rc = check_signature(c, msg_signature, timestamp, nonce, echostr);
    if (rc != ZL_WX_OK)
        return rc;
    return zl_wxcrypt_decrypt(c, echostr, msg, msg_len, NULL);
}

/* Text of <tag><![CDATA[...]]></tag> or <tag>...</tag> in xml; owned, NULL if absent. */
static char *xml_field(const char *xml, size_t len, const char *tag)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *end = xml + len;
    const char *p = NULL;
    size_t ol = strlen(open);
    for (const char *q = xml; q + ol <= end; q++)
        if (memcmp(q, open, ol) == 0) {
            p = q + ol;
            break;
        }
    if (p == NULL)
        return NULL;
    const char *v = p, *ve = NULL;
    if ((size_t)(end - p) >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
        v = p + 9;
        for (const char *q = v; q + 3 <= end; q++)
            if (memcmp(q, "]]>", 3) == 0) {
                ve = q;
                break;
            }
        if (ve == NULL)
            return NULL;
        size_t cl = strlen(close);
        if ((size_t)(end - (ve + 3)) < cl || memcmp(ve + 3, close, cl) != 0)
            return NULL;
    } else {
        size_t cl = strlen(close);
        for (const char *q = v; q + cl <= end; q++)
            if (memcmp(q, close, cl) == 0) {
                ve = q;
                break;
            }
        if (ve == NULL)
            return NULL;
    }
    char *out = malloc((size_t)(ve - v) + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, v, (size_t)(ve - v));
    out[ve - v] = '\0';
    return out;
}

int zl_wxcrypt_decrypt_msg(zl_wxcrypt *c, const char *msg_signature, const char *timestamp,
                           const char *nonce, const char *body, size_t body_len, char **msg,
                           size_t *msg_len)
{
    *msg = NULL;
    *msg_len = 0;
    if (body == NULL || body_len == 0)
        return fail(c, ZL_WX_ERR_PARSE, "empty body");
    if (body_len > ZL_WX_MAX_INPUT)
        return fail(c, ZL_WX_ERR_PARSE, "body of %zu bytes is over the cap", body_len);
    size_t i = 0;
    while (i < body_len &&
           (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    char *encrypt = NULL;
    if (i < body_len && body[i] == '{') {
        cJSON *j = cJSON_ParseWithLength(body, body_len);
        cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "encrypt");
        if (cJSON_IsString(e))
            encrypt = strdup(e->valuestring);
        cJSON_Delete(j);
        if (encrypt == NULL)
            return fail(c, ZL_WX_ERR_PARSE, "JSON body has no string \"encrypt\"");
    } else if (i < body_len && body[i] == '<') {
        encrypt = xml_field(body, body_len, "Encrypt");
        if (encrypt == NULL)
            return fail(c, ZL_WX_ERR_PARSE, "XML body has no <Encrypt> element");
    } else {
        return fail(c, ZL_WX_ERR_PARSE, "body is neither XML nor JSON");
    }
    int rc = check_signature(c, msg_signature, timestamp, nonce, encrypt);
    if (rc == ZL_WX_OK)
        rc = zl_wxcrypt_decrypt(c, encrypt, msg, msg_len, NULL);
    free(encrypt);
    return rc;
}

/* Encrypts msg and signs the ciphertext: *enc owned (free()), sig filled. */
static int encrypt_and_sign(zl_wxcrypt *c, const unsigned char *random16, const char *msg,
                            size_t msg_len, const char *timestamp, const char *nonce, char **enc,
                            char sig[41])
{
    int rc = zl_wxcrypt_encrypt(c, random16, msg, msg_len, enc);
    if (rc != ZL_WX_OK)
        return rc;
    rc = zl_wx_signature(c->token, timestamp, nonce, *enc, sig, NULL);
    if (rc != ZL_WX_OK) {
        free(*enc);
        *enc = NULL;
        return fail(c, rc, "could not compute SHA-1");
    }
    return ZL_WX_OK;
}

int zl_wxcrypt_encrypt_msg(zl_wxcrypt *c, const char *msg, size_t msg_len, const char *timestamp,
                           const char *nonce, const unsigned char *random16, enum zl_wx_format fmt,
                           char **out)
{
    char *enc = NULL, sig[41];
    *out = NULL;
    if (timestamp == NULL || nonce == NULL)
        return fail(c, ZL_WX_ERR_GEN_RETURN, "timestamp and nonce are required");
    int rc = encrypt_and_sign(c, random16, msg, msg_len, timestamp, nonce, &enc, sig);
    if (rc != ZL_WX_OK)
        return rc;
    char *r = NULL;
    if (fmt == ZL_WX_JSON) {
        cJSON *j = cJSON_CreateObject();
        if (j != NULL && cJSON_AddStringToObject(j, "encrypt", enc) &&
            cJSON_AddStringToObject(j, "msgsignature", sig) &&
            cJSON_AddStringToObject(j, "timestamp", timestamp) &&
            cJSON_AddStringToObject(j, "nonce", nonce))
            r = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
    } else {
        size_t n = strlen(enc) + strlen(timestamp) + strlen(nonce) + 256;
        r = malloc(n);
        if (r != NULL)
            snprintf(r, n,
                     "<xml><Encrypt><![CDATA[%s]]></Encrypt><MsgSignature><![CDATA[%s]]>"
                     "</MsgSignature><TimeStamp>%s</TimeStamp><Nonce><![CDATA[%s]]></Nonce>"
                     "</xml>",
                     enc, sig, timestamp, nonce);
    }
    free(enc);
    if (r == NULL)
        return fail(c, ZL_WX_ERR_GEN_RETURN, "could not build the reply envelope");
    *out = r;
    return ZL_WX_OK;
}

int zl_wxcrypt_build_callback(zl_wxcrypt *c, const char *to_user_name, const char *agentid,
                              const char *msg, size_t msg_len, const char *timestamp,
                              const char *nonce, const unsigned char *random16, char **body_xml,
                              char signature_out[41])
{
    char *enc = NULL;
    *body_xml = NULL;
    if (to_user_name == NULL || timestamp == NULL || nonce == NULL)
        return fail(c, ZL_WX_ERR_GEN_RETURN, "ToUserName, timestamp and nonce are required");
    int rc = encrypt_and_sign(c, random16, msg, msg_len, timestamp, nonce, &enc, signature_out);
    if (rc != ZL_WX_OK)
        return rc;
    size_t n = strlen(enc) + strlen(to_user_name) + (agentid ? strlen(agentid) : 0) + 160;
    char *r = malloc(n);
    if (r == NULL) {
        free(enc);
        return fail(c, ZL_WX_ERR_GEN_RETURN, "out of memory");
    }
    int w = snprintf(r, n, "<xml><ToUserName><![CDATA[%s]]></ToUserName>", to_user_name);
    if (agentid != NULL)
        w += snprintf(r + w, n - (size_t)w, "<AgentID><![CDATA[%s]]></AgentID>", agentid);
    snprintf(r + w, n - (size_t)w, "<Encrypt><![CDATA[%s]]></Encrypt></xml>", enc);
    free(enc);
    *body_xml = r;
    return ZL_WX_OK;
}
