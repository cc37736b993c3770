/* msgsync: sync_msg's logic over one corp's archive: authenticated cursors, the retention
 * window, scope/edition filtering, pages, and reply items with service_encrypt_info. */
#ifndef ZL_MSGSYNC_H
#define ZL_MSGSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/sbuf.h"
#include "wecom/world.h"

#define ZL_CURSOR_MAX 128 /* cursor/token/page_id text limit in bytes (spec) */

/* Cursor kinds (the kind byte of a cursor). */
#define ZL_CURSOR_SYNC_MSG       1  /* sync_msg next_cursor */
#define ZL_CURSOR_AUTH_USER_LIST 2  /* get_auth_user_list next_cursor */
#define ZL_CURSOR_PAGE_ID        3  /* get_msg_list_by_page_id page_id */
#define ZL_CURSOR_SEARCH_CHAT    10 /* api_chat.c: search_chat */
#define ZL_CURSOR_SEARCH_MSG     11 /* api_chat.c: search_msg */
#define ZL_CURSOR_SEARCH_CONTACT 12 /* api_chat.c: search_contact_or_customer */
#define ZL_CURSOR_RULE_LIST      20 /* api_rules.c: get_rule_list */
#define ZL_CURSOR_HIT_LIST       21 /* api_rules.c: get_hit_msg_list */

/* Length of every cursor text: base64url of 38 bytes, no padding. */
#define ZL_CURSOR_TEXT_LEN 51

/* Cursor key: 32 bytes; the emulator derives it from its seed. */
typedef struct zl_cursor_key {
    unsigned char k[32];
} zl_cursor_key;

/*
 * Encodes position pos (a message index) bound to scope (an emulator-chosen uint32 that
 * identifies corp+app, so a cursor from another corp/app fails) and to kind (1..255: 1 =
 * sync_msg cursor, 2 = get_auth_user_list cursor, 3 = page id, ...).
 * Text: base64url without padding of [1 byte version=1][1 byte kind][4 bytes scope BE]
 * [8 bytes pos BE][extra 8 bytes BE, caller data, e.g. a page end or expiry][16 bytes
 * truncated HMAC-SHA256(k, the preceding bytes)], ZL_CURSOR_TEXT_LEN characters. Writes
 * NUL-terminated text into out (ZL_CURSOR_MAX + 1 bytes). Returns 0, or -1 (kind out of
 * range, NULL argument, HMAC failure).
 */
int zl_cursor_encode(const zl_cursor_key *k, int kind, uint32_t scope, uint64_t pos, uint64_t extra,
                     char *out);
/*
 * Decodes and authenticates text (borrowed, NUL-terminated); -1 for anything malformed
 * (NULL, empty, wrong length, not canonical base64url, unknown version), forged (the MAC is
 * compared in constant time), of another kind or another scope. On 0 fills *pos and
 * *extra (extra may be NULL).
 */
int zl_cursor_decode(const zl_cursor_key *k, int kind, uint32_t scope, const char *text,
                     uint64_t *pos, uint64_t *extra);

/*
 * A corp's public keys over time: version v applies to messages archived from index
 * from_index on (messages archived before a replacement keep the old version). Holds the
 * parsed EVP_PKEY of each key so encrypting 1000 secrets does not re-parse PEM, and keeps
 * the encrypted secret key each key made for each message (256 bytes a message, blocks of
 * 1024 allocated on first use), so a message is RSA-encrypted once per (app, key version).
 * Not thread-safe: zl_sync_item and zl_sync_item_write fill those.
 */
typedef struct zl_keyring zl_keyring;
/* An empty keyring (free with zl_keyring_free), or NULL when memory runs out. */
zl_keyring *zl_keyring_new(void);
/* Frees r and its keys; accepts NULL. */
void zl_keyring_free(zl_keyring *r);
/*
 * Adds a key (pem is pem_len bytes, borrowed and parsed now). version must be greater than
 * the newest (else -2, err "public_key_ver N must be greater than the current version M");
 * the PEM is checked like zl_msgkey_check_public_key (RSA-2048 "BEGIN PUBLIC KEY") and err
 * says what is wrong (-1). At most ZL_WORLD_MAX_ITEMS keys (-1). Returns 0, or -1 / -2 with
 * r unchanged.
 */
int zl_keyring_add(zl_keyring *r, uint32_t version, const char *pem, size_t pem_len,
                   size_t from_index, char *err, size_t errlen);
/* Number of keys in r. */
size_t zl_keyring_count(const zl_keyring *r);
/* The newest (highest) version in r; 0 when empty. */
uint32_t zl_keyring_newest_version(const zl_keyring *r);
/*
 * The version of the key in effect for the message at index i: the newest key whose
 * from_index <= i; if none, the oldest key. 0 when r is empty.
 */
uint32_t zl_keyring_version_at(const zl_keyring *r, size_t i);
/* Encrypted secret keys r keeps (*count, may be NULL) and the bytes they take, block
 * headers and index included (*bytes, may be NULL). */
void zl_keyring_kept(const zl_keyring *r, size_t *count, size_t *bytes);

/*
 * Whether message m is visible to an archive of scope s (NULL: the corp's own, members with
 * in_scope): some party (sender or receiver) is an employee member of c inside s whose
 * edition allows it: edition >= 1 for a
 * message whose parties are all employees/robots; >= 2 when any party is an external
 * contact (type 2); >= 3 additionally for msgtype 21 and 22 (voice). Robots never count as
 * the in-scope party.
 */
bool zl_msg_visible(zl_corp *c, const zl_scope *s, const zl_message *m);

/*
 * Where a sync_msg call starts (a message index): with a cursor position, that position,
 * but never before the window start (nor past the end of the archive); else with begin_time
 * (> 0), the first message with send_time >= max(begin_time, window start); else the window
 * start. window start = first message with send_time >= now_s - window_s.
 */
size_t zl_sync_start(const zl_corp *c, int64_t now_s, int64_t window_s, const uint64_t *cursor_pos,
                     int64_t begin_time);

/*
 * Walks from index start, collecting up to limit messages visible in scope s (NULL: the
 * corp's own; zl_msg_visible) whose send_time <= now_s
 * (messages "in the future" of the virtual clock are not archived yet; the walk stops at
 * the first one and does not consume it). Writes their indices into idx (caller storage of
 * limit entries). *next = index to resume from (one past the last message examined);
 * *has_more = 1 when the walk stopped because limit was reached and a message with
 * send_time <= now_s remains at *next, else 0. Returns the number collected. The walk
 * examines at most max_scan messages (so a corp full of invisible messages cannot stall
 * the loop); when it stops for that reason, with a message with send_time <= now_s left at
 * *next, *has_more = 1.
 */
size_t zl_sync_collect(zl_corp *c, const zl_scope *s, size_t start, size_t limit, int64_t now_s,
                       size_t max_scan, size_t *idx, size_t *next, int *has_more);

/*
 * Makes the encrypted secret keys ring does not keep yet for the n messages at idx (indexes
 * into c's archive) with as many threads as the machine has cores (at most 8, the calling
 * thread one of them), waiting for them, so a page's RSA runs in parallel before its items
 * are written. Below 32 missing keys it uses the calling thread only. Any failure is left
 * for zl_sync_item / zl_sync_item_write to meet and report.
 */
void zl_sync_prepare(zl_corp *c, const size_t *idx, size_t n, zl_keyring *ring);

/*
 * The sync_msg item for the message at index i: {msgid, sender{type,id}, receiver_list[],
 * chatid (only when non-empty), send_time, msgtype, service_encrypt_info{
 * encrypted_secret_key, public_key_ver}, extra_info{call_duration} (only msgtype 21/22)}.
 * encrypted_secret_key = base64(RSA PKCS#1 v1.5 encrypt(secret_key)) with the key in
 * effect at index i (zl_keyring_version_at), made on the first call for (key, i) and kept in
 * ring: later calls give the same text. Returns a new cJSON object (free with
 * cJSON_Delete), or NULL with err filled (keyring empty, index out of range, OpenSSL or
 * memory failure).
 */
cJSON *zl_sync_item(zl_corp *c, size_t i, zl_keyring *ring, char *err, size_t errlen);

/*
 * The same item appended to out as JSON text, byte for byte what cJSON_PrintUnformatted
 * prints of zl_sync_item's object, without building it. Returns 0, or -1 with err filled
 * (as zl_sync_item; out may then hold part of the item).
 */
int zl_sync_item_write(zl_corp *c, size_t i, zl_keyring *ring, zl_sbuf *out, char *err,
                       size_t errlen);

#endif
