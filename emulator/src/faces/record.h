/* record: `zonelab serve --record FILE`, every exchange with its exact bytes (docs/replay.md). */
#ifndef ZL_RECORD_H
#define ZL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "emu/emu.h"
#include "core/engine.h"

/* The first line's "zonelab_record" value: the format's version. */
#define ZL_RECORD_FORMAT 1

typedef struct zl_record zl_record;

/* What the header line says about the run (all borrowed). */
typedef struct zl_record_info {
    const char *version;            /* zonelab's version */
    uint64_t seed;                  /* the engine's seed */
    const char *world_path;         /* the world file, NULL for the built-in world */
    const unsigned char *world_raw; /* the built-in world's bytes (world_path NULL) */
    size_t world_len;
    const char *base_url; /* where the emulator listens, "http://127.0.0.1:8900" */
} zl_record_info;

/*
 * Creates path (mode 0600: the file holds secrets and tokens; an existing file is
 * truncated) and writes the header line: the version, seed, the world's path and SHA-256,
 * and every program with its wire secret, secret version, command and replicas. emu is
 * borrowed and must outlive the recorder. Start recording with
 * zl_engine_observe(engine, zl_record_exchange, rec). NULL with err filled.
 */
zl_record *zl_record_open(const char *path, zl_emu *emu, const zl_record_info *info, char *err,
                          size_t errlen);

/* The engine observer: writes x as one line and flushes it. ud is the zl_record. */
void zl_record_exchange(void *ud, const zl_exchange *x);

/* Exchanges written so far; and whether a write failed (the file is incomplete). */
uint64_t zl_record_count(const zl_record *r);
int zl_record_failed(const zl_record *r);

/* The SHA-256 of the world file at path, or of len raw bytes when path is NULL, as 64
 * lower-case hex characters and a NUL. 0, or -1 when the file cannot be read. */
int zl_record_world_digest(const char *path, const unsigned char *raw, size_t len, char out[65]);

/* Closes the file. Stop the engine's observing first (or free the engine). Accepts NULL. */
void zl_record_close(zl_record *r);

#endif
