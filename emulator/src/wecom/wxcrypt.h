/* wxcrypt: WeCom callback crypto (WXBizMsgCrypt): AES-256-CBC, signature, envelopes. */
#ifndef ZL_WXCRYPT_H
#define ZL_WXCRYPT_H

#include <stddef.h>

/* The WXBizMsgCrypt return codes, one list (name, value, description). */
#define ZL_WX_CODES(X)                                                                             \
    X(ZL_WX_OK, 0, "ok")                                                                           \
    X(ZL_WX_ERR_VALIDATE_SIGNATURE, -40001, "signature check failed")                              \
    X(ZL_WX_ERR_PARSE, -40002, "XML/JSON parse failed")                                            \
    X(ZL_WX_ERR_COMPUTE_SIGNATURE, -40003, "SHA signature generation failed")                      \
    X(ZL_WX_ERR_ILLEGAL_AES_KEY, -40004, "illegal AESKey")                                         \
    X(ZL_WX_ERR_VALIDATE_RECEIVEID, -40005, "ReceiveId check failed")                              \
    X(ZL_WX_ERR_ENCRYPT_AES, -40006, "AES encryption failed")                                      \
    X(ZL_WX_ERR_DECRYPT_AES, -40007, "AES decryption failed")                                      \
    X(ZL_WX_ERR_ILLEGAL_BUFFER, -40008, "decrypted buffer illegal")                                \
    X(ZL_WX_ERR_ENCODE_BASE64, -40009, "base64 encoding failed")                                   \
    X(ZL_WX_ERR_DECODE_BASE64, -40010, "base64 decoding failed")                                   \
    X(ZL_WX_ERR_GEN_RETURN, -40011, "XML/JSON generation failed")

enum zl_wx_code {
#define ZL_WX_ENUM(name, value, text) name = value,
    ZL_WX_CODES(ZL_WX_ENUM)
#undef ZL_WX_ENUM
};

/* Envelope form of a passive reply. */
enum zl_wx_format { ZL_WX_XML, ZL_WX_JSON };

/* Largest envelope or ciphertext accepted (bytes); larger input is refused unparsed. */
#define ZL_WX_MAX_INPUT (1u << 20)

/* Static text of a code; "unknown code" for values outside the list. */
const char *zl_wx_strerror(int code);

typedef struct zl_wxcrypt zl_wxcrypt;

/*
 * Creates a crypto context. token and receiveid are copied; receiveid may be "".
 * Returns NULL with *err = -40004 when encoding_aes_key is not 43 characters of
 * [A-Za-z0-9]; free with zl_wxcrypt_free.
 */
zl_wxcrypt *zl_wxcrypt_new(const char *token, const char *encoding_aes_key, const char *receiveid,
                           int *err);
/* Frees c; accepts NULL. */
void zl_wxcrypt_free(zl_wxcrypt *c);
/* Sets up OpenSSL's random generator and fetches AES-256-CBC in this process, as the first
 * encryption would. Processes forked afterwards inherit both (OpenSSL reseeds a forked
 * child's generator by itself) instead of each setting them up. */
void zl_wxcrypt_warm(void);
/* Text describing the last failure on c (borrowed, valid until the next call on c). */
const char *zl_wxcrypt_detail(const zl_wxcrypt *c);

/*
 * out = 40 lower-case hex chars of sha1(sorted concatenation of the four strings) + NUL.
 * When sorted_out is not NULL it receives the concatenation (owned, free()).
 */
int zl_wx_signature(const char *token, const char *timestamp, const char *nonce,
                    const char *encrypt, char out[41], char **sorted_out);

/* Percent-decodes s ('+' stays '+'); owned result (free()), NULL on bad escape. */
char *zl_wx_url_decode(const char *s);

/*
 * Encrypts msg: random16 (NULL: 16 fresh alphanumerics) + big-endian length + msg +
 * receiveid, PKCS#7 to 32, AES-256-CBC, base64 into *out_b64 (owned, free()).
 */
int zl_wxcrypt_encrypt(zl_wxcrypt *c, const unsigned char *random16, const char *msg,
                       size_t msg_len, char **out_b64);

/*
 * Strict decryption of b64 (spec order: base64 -40010, AES/pad -40007, length -40008,
 * receiveid -40005). *msg is owned (free()) and NUL-terminated; random_out may be NULL.
 */
int zl_wxcrypt_decrypt(zl_wxcrypt *c, const char *b64, char **msg, size_t *msg_len,
                       unsigned char random_out[16]);

/* URL verification: parameters already URL-decoded; *msg is the echostr plaintext (owned). */
int zl_wxcrypt_verify_url(zl_wxcrypt *c, const char *msg_signature, const char *timestamp,
                          const char *nonce, const char *echostr, char **msg, size_t *msg_len);

/*
 * Inbound message/event: body is the XML (<Encrypt>) or JSON ("encrypt") envelope; the
 * signature is checked over the encrypt text as received, then it is decrypted.
 */
int zl_wxcrypt_decrypt_msg(zl_wxcrypt *c, const char *msg_signature, const char *timestamp,
                           const char *nonce, const char *body, size_t body_len, char **msg,
                           size_t *msg_len);

/* Passive reply envelope (XML or JSON) with Encrypt, MsgSignature, TimeStamp, Nonce. */
int zl_wxcrypt_encrypt_msg(zl_wxcrypt *c, const char *msg, size_t msg_len, const char *timestamp,
                           const char *nonce, const unsigned char *random16, enum zl_wx_format fmt,
                           char **out);

/*
 * The XML body the emulator POSTs to an app callback URL: ToUserName, AgentID (omitted
 * when agentid is NULL), Encrypt; signature_out receives its msg_signature.
 */
int zl_wxcrypt_build_callback(zl_wxcrypt *c, const char *to_user_name, const char *agentid,
                              const char *msg, size_t msg_len, const char *timestamp,
                              const char *nonce, const unsigned char *random16, char **body_xml,
                              char signature_out[41]);

#endif
