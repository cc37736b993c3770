/* journal: every exchange on every face, in order, for assertions, the inspector and reports. */
#ifndef ZL_JOURNAL_H
#define ZL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

typedef struct zl_journal zl_journal;

/* A journal keeping at most cap entries (older ones are dropped and counted), and at most
 * ZL_JOURNAL_BYTES of them in all, no string in them longer than ZL_JOURNAL_VALUE_MAX
 * (zl_journal_set_limits changes both). */
zl_journal *zl_journal_new(size_t cap);
void zl_journal_free(zl_journal *j); /* accepts NULL */

#define ZL_JOURNAL_BYTES     (256u << 20) /* the entries' JSON text, in all */
#define ZL_JOURNAL_VALUE_MAX (1u << 20)   /* one string value of an entry */
#define ZL_JOURNAL_PREFIX    4096         /* what is kept of a longer string */

/*
 * bytes: the most the entries' JSON text may take in all (0: no limit): the oldest entries
 * are dropped (and counted) to stay under it. value_max: a string value longer than this is
 * kept as its first ZL_JOURNAL_PREFIX bytes (cut at a UTF-8 boundary), and the entry gains
 * "<key>_bytes" (the whole size) and "<key>_sha256" (hex) beside it (0: no limit). A body's
 * whole bytes are kept only by `zonelab serve --record`.
 */
void zl_journal_set_limits(zl_journal *j, size_t bytes, size_t value_max);

/*
 * Appends an entry {seq, t (virtual ms), face, kind, ...detail}. Takes ownership of detail
 * (an object, or NULL); its members are merged into the entry. Returns the entry's seq (1,
 * 2, ...), or 0 when memory ran out (the entry is lost and counted).
 */
uint64_t zl_journal_add(zl_journal *j, int64_t t_ms, const char *face, const char *kind,
                        cJSON *detail);

/* Entries with seq > since, at most limit of them, as a new JSON array (caller deletes). */
cJSON *zl_journal_since(const zl_journal *j, uint64_t since, size_t limit);
/* The same, stopping once the entries' text passed max_bytes (one entry at least); *more says
 * whether entries after the last one returned were left for a next call. */
cJSON *zl_journal_since_max(const zl_journal *j, uint64_t since, size_t limit, size_t max_bytes,
                            int *more);

/* The newest seq (0 when empty) and the number of entries dropped or lost. */
uint64_t zl_journal_last(const zl_journal *j);
uint64_t zl_journal_dropped(const zl_journal *j);
/* The oldest seq still held (zl_journal_last + 1 when empty). */
uint64_t zl_journal_first(const zl_journal *j);
/* Entry seq as its JSON text (one line), borrowed until the ring drops it; NULL when seq is
 * not held (dropped, or not added yet). */
const char *zl_journal_text(const zl_journal *j, uint64_t seq);

/*
 * Live updates. fn is called after every entry is added, with its seq and JSON text (borrowed:
 * valid during the call); it must not add entries. free_fn (may be NULL) gets ud exactly once,
 * from zl_journal_unlisten or zl_journal_free, so a listener's state may live as long as the
 * journal. Listeners are called in the order they were added. Returns an id (> 0), or 0 when
 * memory ran out (free_fn is then not called).
 */
typedef void (*zl_journal_listener_fn)(void *ud, uint64_t seq, const char *json);
uint64_t zl_journal_listen(zl_journal *j, zl_journal_listener_fn fn, void (*free_fn)(void *),
                           void *ud);
/* Removes a listener (also from inside a listener call); unknown ids are ignored. */
void zl_journal_unlisten(zl_journal *j, uint64_t id);

#endif
