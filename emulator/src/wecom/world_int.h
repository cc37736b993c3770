/* world_int: internal to the world module (world.c, world_json.c, world_load.c, world_org.c,
 * world_auth.c, msgstore.c): the arena and hash indexes they allocate and look up with, a
 * corp's lookup tables, and the loader's JSON reading kit. Nothing outside them includes it. */
#ifndef ZL_WORLD_INT_H
#define ZL_WORLD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "wecom/world.h"

#define PATH_LEN     160                      /* JSON paths in error messages */
#define MAX_MESSAGES ((size_t)UINT32_MAX - 1) /* the msgid index stores index + 1 in 32 bits */

/* ---- arena (world.c) ---- */

/* A chunked bump allocator: strings and small arrays, freed all at once. */
struct zl_arena_block;

struct zl_arena {
    struct zl_arena_block *head;
    size_t block_size;
    size_t bytes; /* malloc'd, headers included */
};

/* Makes a an empty arena that mallocs blocks of block_size bytes (larger ones when asked). */
void zl_arena_init(struct zl_arena *a, size_t block_size);
/* Frees every block of a; a is empty afterwards. */
void zl_arena_cleanup(struct zl_arena *a);
/* size bytes aligned to align (a power of two), zeroed; NULL when memory runs out. */
void *zl_arena_alloc(struct zl_arena *a, size_t size, size_t align);
/* A NUL-terminated copy of s[0..n) in a; NULL when memory runs out. */
char *zl_arena_strndup(struct zl_arena *a, const char *s, size_t n);

/* ---- hash index (world.c) ---- */

/* Open addressing over 32-bit values; keys live elsewhere and are read through key_of. */
typedef struct zl_hslot {
    uint32_t hash;
    uint32_t v1; /* value + 1; 0 = empty */
} zl_hslot;

typedef struct zl_hindex {
    zl_hslot *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
} zl_hindex;

/* The key of value in ctx (a corp, a message store). */
typedef const char *(*zl_hkey_fn)(const void *ctx, uint32_t value);

/* The hash zl_hindex_find and zl_hindex_insert take for key s. */
uint32_t zl_hash_str(const char *s);
/* The value stored under key (hash its zl_hash_str), or -1. With key_of NULL the hash is the
 * key (zl_uindex) and key is not read. */
long zl_hindex_find(const zl_hindex *h, const char *key, uint32_t hash, zl_hkey_fn key_of,
                    const void *ctx);
/* Makes room for n entries in total (load <= 3/4). Returns 0, or -1 when memory runs out. */
int zl_hindex_reserve(zl_hindex *h, size_t n);
/* Adds value under hash; zl_hindex_reserve must have made room. */
void zl_hindex_insert(zl_hindex *h, uint32_t hash, uint32_t value);
/* Frees h's slots; h is empty afterwards. */
void zl_hindex_cleanup(zl_hindex *h);

/* Open addressing over 32-bit keys (department ids, tagids): a zl_hindex whose hash is the
 * key mixed by a bijection, so the hash alone tells keys apart and no key_of is needed. */
typedef zl_hindex zl_uindex;

/* The value stored under key, or -1. */
long zl_uindex_find(const zl_uindex *h, uint32_t key);
/* Makes room for n entries in total (load <= 3/4). Returns 0, or -1 when memory runs out. */
int zl_uindex_reserve(zl_uindex *h, size_t n);
/* Adds value under key (not there yet); zl_uindex_reserve must have made room. */
void zl_uindex_insert(zl_uindex *h, uint32_t key, uint32_t value);
/* Frees h's slots; h is empty afterwards. */
void zl_uindex_cleanup(zl_uindex *h);

#define ZL_NO_PARENT UINT32_MAX /* dept_parent of a top-level department */

/* A corp's lookup tables (corp->index), malloc'd; zl_world_free frees them. */
struct zl_corp_index {
    zl_hindex members;
    zl_hindex externals;
    zl_hindex groups;
    zl_hindex consents;
    zl_uindex departments;     /* id -> index in corp->departments */
    zl_uindex tags;            /* tagid -> index in corp->tags */
    uint32_t *dept_parent;     /* index of each department's parent, or ZL_NO_PARENT (arena) */
    const char **consent_keys; /* parallel to corp->consents (arena strings) */
    size_t consent_cap;        /* of corp->consents and consent_keys (malloc'd) */
};

/* ---- the loader's reading kit (world_json.c) ---- */

/*
 * What the loader reads into: the world, its arena, the folder relative pem_file paths start
 * from, and where the one error sentence goes. The run-time mutators (zl_corp_consent_set,
 * zl_corp_archive_json) make one too, so their sentences are the loader's.
 */
typedef struct zl_loader {
    char *err;
    size_t errlen;
    const char *base_dir;
    zl_world *w;
    struct zl_arena *a;
} zl_loader;

/* flags of zl_load_get_string, zl_load_get_int and zl_load_get_array */
enum { OPTIONAL = 0, REQUIRED = 1, EMPTY_OK = 2 };

/* Writes one sentence into L's err (when there is one); returns -1. */
int zl_load_fail(zl_loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* zl_load_fail with "out of memory while loading the world". */
int zl_load_oom(zl_loader *L);
/* "path.key", or "key" at the top level, in buf (PATH_LEN bytes); returns buf. */
const char *zl_load_fpath(char *buf, const char *path, const char *key);
/* "path[i]" in buf (PATH_LEN bytes); returns buf. */
const char *zl_load_ipath(char *buf, const char *path, size_t i);
/* "a string", "a number", ...: what v is, for error sentences. */
const char *zl_load_type_name(const cJSON *v);
/*
 * Checks that v is an object whose keys are all in allowed (NULL-terminated) or start with
 * '_' (comments), none twice.
 */
int zl_load_check_object(zl_loader *L, const cJSON *v, const char *path,
                         const char *const *allowed);
/*
 * Reads the string key of o into *out (borrowed from the JSON tree). When absent, *out keeps
 * the caller's default unless flags has REQUIRED.
 */
int zl_load_get_string(zl_loader *L, const cJSON *o, const char *path, const char *key, int flags,
                       size_t maxlen, const char **out);
/* Checks that v is an integer in min..max and stores it in *out; name is v's path. */
int zl_load_int_value(zl_loader *L, const cJSON *v, const char *name, long long min, long long max,
                      long long *out);
/* As zl_load_get_string for an integer in min..max; *out keeps the default when absent. */
int zl_load_get_int(zl_loader *L, const cJSON *o, const char *path, const char *key, int flags,
                    long long min, long long max, long long *out);
/* The boolean key of o in *out, which keeps the default when absent. */
int zl_load_get_bool(zl_loader *L, const cJSON *o, const char *path, const char *key, bool *out);
/* The array key of o in *arr (NULL when absent and optional) with its length in *count. */
int zl_load_get_array(zl_loader *L, const cJSON *o, const char *path, const char *key, int flags,
                      size_t maxcount, const cJSON **arr, size_t *count);
/*
 * Checks a callback's url ("" = the emulator's built-in receiver, which fake names: "app",
 * "provider"), token (letters and digits) and 43-character EncodingAESKey; path is the
 * object holding them.
 */
int zl_load_callback(zl_loader *L, const char *path, const char *fake, const char *url,
                     const char *token, const char *aes_key);
/* Copies s into the world's arena, in *out. */
int zl_load_keep(zl_loader *L, const char *s, const char **out);
/* count zeroed items of size bytes from the world's arena, in *out (a pointer's address). */
int zl_load_keep_array(zl_loader *L, size_t count, size_t size, void *out);

/* ---- public keys (world_load.c) ---- */

/*
 * Loads o's "public_keys" (path is o's; optional) into *keys and *count: versions strictly
 * increasing, each an RSA-2048 PEM given inline or by file.
 */
int zl_load_public_keys(zl_loader *L, const cJSON *o, const char *path, zl_public_key **keys,
                        size_t *count);

/* ---- the address book (world_org.c) ---- */

/* What a reference list names, for zl_load_ref_list. */
typedef enum zl_ref_kind { ZL_REF_USERID, ZL_REF_DEPARTMENT, ZL_REF_TAG } zl_ref_kind;

/*
 * Reads o's array key (optional; path is o's): each item a userid of a member of c (stored as
 * const char *, the member's own string), or a department id or tagid of c (stored as
 * uint32_t), listed once. *out gets the array (the world's arena; NULL when empty), *count
 * its length.
 */
int zl_load_ref_list(zl_loader *L, const cJSON *o, const char *path, const char *key,
                     const char *cpath, zl_corp *c, zl_ref_kind kind, void *out, size_t *count);
/* Loads corp object jc's "departments" into c (before its members): ids, parents, no cycle. */
int zl_load_departments(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c);
/* Loads corp object jc's "tags" into c (after its members and departments). */
int zl_load_tags(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c);
/* The index of the member userid in c->members, or -1. */
long zl_corp_member_index(const zl_corp *c, const char *userid);

/* ---- providers, suites and authorisations (world_auth.c) ---- */

/* Loads the world object root's "providers" (before the corps). */
int zl_load_providers(zl_loader *L, const cJSON *root);
/*
 * Reads app object ja's suite_id, auth and public_keys into app (path ap; its kind, agentid
 * and secret already read, secret NULL when the file gives none) after c's address book:
 * sets app->suite, app->auth (defaults included) and, for a 代开发 app, app->secret from the
 * permanent_code or the other way round. c->app_count apps before it are complete.
 */
int zl_load_app_auth(zl_loader *L, const cJSON *ja, const char *ap, const char *cpath, zl_corp *c,
                     zl_app *app, const char *secret);

/*
 * After c's apps (corp object's "apps" array apps): the seats a provider bought in c are
 * shared by its apps there, so an app that gives none takes another's, and two that give
 * them must agree.
 */
int zl_load_share_seats(zl_loader *L, const cJSON *apps, const char *cpath, zl_corp *c);

/* ---- sections of a corp the model reads (world.c) ---- */

/* Checks that id names a party of type in c (robots are not modelled: any id); name is its
 * path, corp_path the corp's. */
int zl_load_party_ref(zl_loader *L, zl_corp *c, int type, const char *id, const char *name,
                      const char *corp_path);
/* Loads corp object jc's "consents" into c (after its members, externals and groups). */
int zl_load_consents(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c);
/* Archives corp object jc's "messages" into c in send_time order (ties: file order). */
int zl_load_messages(zl_loader *L, const cJSON *jc, const char *cpath, zl_corp *c);

/* ---- the cache of a big world file (world_cache.c) ---- */

/* Whether a world file of json_size bytes is worth a cache (zl_world_cache_min_bytes). */
bool zl_world_cache_wanted(size_t json_size);
/* The cache key of a world file: the SHA-256 of its len bytes at text. 0, or -1. */
int zl_world_cache_key(const char *text, size_t len, unsigned char sha[32]);
/* As zl_world_cache_key, of the rest of f read in blocks (*len: the bytes read). 0, or -1. */
int zl_world_cache_key_file(FILE *f, unsigned char sha[32], size_t *len);
/*
 * The world of the file at path from its cache path.zlcache, when that was made from a file of
 * json_size bytes with this SHA-256 by this version of the cache; else NULL (no message: the
 * caller loads the JSON). base_dir as for zl_world_load_json.
 */
zl_world *zl_world_cache_load(const char *path, const unsigned char sha[32], size_t json_size,
                              const char *base_dir);
/*
 * Writes path.zlcache (a temporary file renamed over it) for world w, loaded from root, the
 * file's JSON tree (its corps' "messages" are removed from it here). Quietly writes nothing
 * when the folder cannot be written.
 */
void zl_world_cache_save(const char *path, const unsigned char sha[32], size_t json_size,
                         cJSON *root, const zl_world *w);

#endif
