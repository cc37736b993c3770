/* world_cache: a big world file's messages kept beside it in a binary snapshot
 * (<file>.zlcache), keyed by the SHA-256 of the file's bytes, so a start skips parsing them. */
#define _GNU_SOURCE /* MAP_POPULATE */
#include "wecom/world_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#define CACHE_MAGIC   "ZLWORLD\x01"
#define CACHE_END     "ZLWEND\0\0"
#define CACHE_VERSION 1u          /* bump when the dump or what loading derives changes */
#define BYTE_ORDER_ID 0x01020304u /* a cache from a machine of another byte order is refused */

static size_t min_bytes = 16u << 20;

/* What the cache file starts with; the head JSON, then each corp's dump, then CACHE_END. */
typedef struct header {
    char magic[8];
    uint32_t version;
    uint32_t byte_order;
    uint64_t json_size;
    unsigned char json_sha[32];
    uint64_t head_len;
    uint64_t corp_count;
} header;

size_t zl_world_cache_min_bytes(size_t bytes)
{
    size_t old = min_bytes;

    min_bytes = bytes;
    return old;
}

bool zl_world_cache_wanted(size_t json_size)
{
    return json_size >= min_bytes;
}

int zl_world_cache_key(const char *text, size_t len, unsigned char sha[32])
{
    unsigned int n = 0;

    return EVP_Digest(text, len, sha, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

int zl_world_cache_key_file(FILE *f, unsigned char sha[32], size_t *len)
{
    enum { BLOCK = 1 << 20 };
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *buf = malloc(BLOCK);
    unsigned int n = 0;
    size_t got;
    int rc = -1;

    *len = 0;
    if (!ctx || !buf || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    while ((got = fread(buf, 1, BLOCK, f)) > 0) {
        if (EVP_DigestUpdate(ctx, buf, got) != 1)
            goto out;
        *len += got;
    }
    if (!ferror(f) && EVP_DigestFinal_ex(ctx, sha, &n) == 1 && n == 32)
        rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

/* path + ".zlcache" in out (cap bytes); -1 when it does not fit. */
static int cache_path(const char *path, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s.zlcache", path);

    return n > 0 && (size_t)n < cap ? 0 : -1;
}

zl_world *zl_world_cache_load(const char *path, const unsigned char sha[32], size_t json_size,
                              const char *base_dir)
{
    char cpath[4096], err[256];
    const char *p, *end;
    header h;
    struct stat st;
    void *map = MAP_FAILED;
    zl_world *w = NULL;
    int fd = -1, ok = 0;

    if (cache_path(path, cpath, sizeof cpath) != 0 || (fd = open(cpath, O_RDONLY | O_CLOEXEC)) < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof h + sizeof CACHE_END - 1 ||
        (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)) ==
            MAP_FAILED)
        goto out;
    p = map;
    end = p + st.st_size;
    memcpy(&h, p, sizeof h);
    p += sizeof h;
    if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.version != CACHE_VERSION ||
        h.byte_order != BYTE_ORDER_ID || h.json_size != json_size ||
        memcmp(h.json_sha, sha, sizeof h.json_sha) != 0 || h.head_len > (size_t)(end - p) ||
        memcmp(end - (sizeof CACHE_END - 1), CACHE_END, sizeof CACHE_END - 1) != 0)
        goto out; /* another file's, another version's, or cut short: the JSON decides */
    end -= sizeof CACHE_END - 1;
    if (!(w = zl_world_load_json(p, h.head_len, base_dir, err, sizeof err)) ||
        w->corp_count != h.corp_count)
        goto out;
    p += h.head_len;
    for (size_t i = 0; i < w->corp_count; i++) {
        uint64_t len;
        size_t used;

        if ((size_t)(end - p) < sizeof len)
            goto out;
        memcpy(&len, p, sizeof len);
        p += sizeof len;
        if (len > (size_t)(end - p) ||
            (used = zl_msgstore_undump(w->corps[i].messages, p, (size_t)len)) != len)
            goto out;
        p += len;
    }
    ok = p == end;
out:
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    if (!ok) {
        zl_world_free(w);
        w = NULL;
    }
    return w;
}

/* Writes one corp's dump preceded by its length (patched in after). 0 or -1. */
static int write_corp(FILE *f, const zl_corp *c)
{
    uint64_t len = 0;
    long at = ftell(f), after;

    if (at < 0 || fwrite(&len, sizeof len, 1, f) != 1 || zl_msgstore_dump(c->messages, f) != 0 ||
        (after = ftell(f)) < 0)
        return -1;
    len = (uint64_t)(after - at) - sizeof len;
    if (fseek(f, at, SEEK_SET) != 0 || fwrite(&len, sizeof len, 1, f) != 1 ||
        fseek(f, after, SEEK_SET) != 0)
        return -1;
    return 0;
}

void zl_world_cache_save(const char *path, const unsigned char sha[32], size_t json_size,
                         cJSON *root, const zl_world *w)
{
    char cpath[4096], tmp[4110];
    header h = {.version = CACHE_VERSION, .byte_order = BYTE_ORDER_ID, .json_size = json_size};
    cJSON *corps = cJSON_GetObjectItemCaseSensitive(root, "corps"), *jc;
    char *head = NULL;
    FILE *f = NULL;
    int fd = -1, ok = 0;

    if (cache_path(path, cpath, sizeof cpath) != 0 ||
        snprintf(tmp, sizeof tmp, "%s.XXXXXX", cpath) >= (int)sizeof tmp)
        return;
    /* the head: the world without its messages, which the dumps hold */
    cJSON_ArrayForEach(jc, corps) cJSON_DeleteItemFromObjectCaseSensitive(jc, "messages");
    if (!(head = cJSON_PrintUnformatted(root)))
        return;
    memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
    memcpy(h.json_sha, sha, sizeof h.json_sha);
    h.head_len = strlen(head);
    h.corp_count = w->corp_count;
    if ((fd = mkstemp(tmp)) < 0) /* a folder we may not write: no cache, no complaint */
        goto out;
    if (!(f = fdopen(fd, "wb"))) {
        close(fd);
        goto out;
    }
    if (fwrite(&h, sizeof h, 1, f) != 1 || fwrite(head, 1, h.head_len, f) != h.head_len)
        goto out;
    for (size_t i = 0; i < w->corp_count; i++)
        if (write_corp(f, &w->corps[i]) != 0)
            goto out;
    if (fwrite(CACHE_END, 1, sizeof CACHE_END - 1, f) != sizeof CACHE_END - 1)
        goto out;
    ok = fflush(f) == 0 && !ferror(f);
out:
    if (f && fclose(f) != 0)
        ok = 0;
    if (fd >= 0 && (!ok || rename(tmp, cpath) != 0))
        unlink(tmp);
    cJSON_free(head);
}
