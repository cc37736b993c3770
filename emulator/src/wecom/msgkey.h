/* msgkey: per-message secret keys wrapped with the app's RSA-2048 public key
 * (service_encrypt_info). */
#ifndef ZL_MSGKEY_H
#define ZL_MSGKEY_H

#include <stddef.h>

#include <openssl/types.h> /* EVP_PKEY */

/*
 * Secret key format (project decision): 32 characters from [A-Za-z0-9], drawn from
 * OpenSSL's CSPRNG with rejection sampling (no modulo bias), ~190 bits of entropy.
 * The app sees secret_key = RSA_Decrypt(base64_decode(encrypted_secret_key)) as this
 * printable string, with no terminating NUL inside the ciphertext.
 */
#define ZL_MSGKEY_SECRET_LEN 32

/* Largest PEM text accepted (bytes); larger input is refused, never parsed. */
#define ZL_MSGKEY_MAX_PEM 16384
/* Largest secret accepted for encryption: RSA-2048 PKCS#1 v1.5 holds 256 - 11 bytes. */
#define ZL_MSGKEY_MAX_SECRET 245
/* Largest base64 ciphertext accepted by zl_msgkey_decrypt (characters). */
#define ZL_MSGKEY_MAX_B64 4096
/* Bytes of an RSA-2048 ciphertext (every key is checked to be RSA-2048). */
#define ZL_MSGKEY_CT_LEN 256

/*
 * Fills out[0..ZL_MSGKEY_SECRET_LEN-1] with a fresh secret (format above) and writes a
 * NUL at out[ZL_MSGKEY_SECRET_LEN]; out is caller storage of ZL_MSGKEY_SECRET_LEN + 1
 * bytes. Returns 0, or -1 with a message in err when the random source fails.
 */
int zl_msgkey_generate_secret(char *out, char *err, size_t errlen);

/*
 * Checks that pem (pem_len bytes, borrowed, need not be NUL-terminated) is a PEM
 * "BEGIN PUBLIC KEY" block holding an RSA key of exactly 2048 bits. Returns 0 when it
 * is, -1 otherwise with a message in err telling the user what to change (set_public_key
 * maps -1 to errcode 40058). err may be NULL when errlen is 0.
 */
int zl_msgkey_check_public_key(const char *pem, size_t pem_len, char *err, size_t errlen);

/*
 * Encrypts secret (secret_len bytes, 1..ZL_MSGKEY_MAX_SECRET, borrowed) with the RSA-2048
 * public key in public_key_pem (checked as zl_msgkey_check_public_key does), RSA PKCS#1
 * v1.5 padding with fresh random padding on every call, and returns the ciphertext as
 * standard base64 with '=' padding and no newlines in *b64_out (NUL-terminated, owned by
 * the caller, release with free()). Returns 0, or -1 with *b64_out NULL and a message in
 * err (OpenSSL's error queue is drained into it).
 */
int zl_msgkey_encrypt(const char *public_key_pem, size_t pem_len, const unsigned char *secret,
                      size_t secret_len, char **b64_out, char *err, size_t errlen);

/*
 * Parses pem (pem_len bytes, borrowed) and checks it as zl_msgkey_check_public_key does.
 * Returns the key (owned by the caller, release with EVP_PKEY_free), or NULL with the same
 * message in err. For callers that wrap many secrets with one key (zl_msgkey_encrypt_pkey).
 */
EVP_PKEY *zl_msgkey_load_public(const char *pem, size_t pem_len, char *err, size_t errlen);

/*
 * As zl_msgkey_encrypt, with a key already parsed by zl_msgkey_load_public (borrowed; it
 * may be shared between threads, each call makes its own context). Same output and errors,
 * and -1 when pkey is NULL or not RSA.
 */
int zl_msgkey_encrypt_pkey(EVP_PKEY *pkey, const unsigned char *secret, size_t secret_len,
                           char **b64_out, char *err, size_t errlen);

/*
 * As zl_msgkey_encrypt_pkey, without the base64: writes the raw ciphertext (the key's
 * modulus size, 256 bytes for RSA-2048) into ct (cap bytes, caller storage) and its length
 * into *ct_len. Returns 0, or -1 with a message in err (also when cap is too small).
 */
int zl_msgkey_encrypt_raw(EVP_PKEY *pkey, const unsigned char *secret, size_t secret_len,
                          unsigned char *ct, size_t cap, size_t *ct_len, char *err, size_t errlen);

/*
 * An encryption context for pkey (borrowed; it must outlive the context), set up once for
 * RSA PKCS#1 v1.5: setting one up costs about a fifth of an encryption, so a thread that
 * wraps many secrets keeps one. Not to be shared between threads. Returns it (owned, release
 * with EVP_PKEY_CTX_free), or NULL when pkey is NULL or OpenSSL fails.
 */
EVP_PKEY_CTX *zl_msgkey_encrypt_ctx(EVP_PKEY *pkey);

/* As zl_msgkey_encrypt_raw, with a context from zl_msgkey_encrypt_ctx (borrowed). */
int zl_msgkey_encrypt_with(EVP_PKEY_CTX *ctx, const unsigned char *secret, size_t secret_len,
                           unsigned char *ct, size_t cap, size_t *ct_len, char *err, size_t errlen);

/*
 * Inverse of zl_msgkey_encrypt for tests and tools: decodes b64 (b64_len characters,
 * borrowed) and decrypts it with the unencrypted RSA-2048 private key PEM in
 * private_key_pem (PKCS#1 v1.5, implicit rejection disabled where OpenSSL has it, so a
 * wrong key fails instead of yielding random bytes). On success returns 0 and stores
 * the plaintext in *secret_out (owned by the caller, release with free(); a NUL is
 * appended after *secret_len bytes for convenience). On failure returns -1 with
 * *secret_out NULL, *secret_len 0 and a message in err.
 */
int zl_msgkey_decrypt(const char *private_key_pem, size_t pem_len, const char *b64, size_t b64_len,
                      unsigned char **secret_out, size_t *secret_len, char *err, size_t errlen);

#endif
