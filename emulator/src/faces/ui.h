/* ui: the inspector page at /_zonelab/ui (docs/inspector.md): its HTML, CSS and JS from
 * memory, and the journal as server-sent events at /_zonelab/ui/events. */
#ifndef ZL_UI_H
#define ZL_UI_H

#include <stddef.h>

#include "core/engine.h"
#include "core/journal.h"

/* How much one page may cost the emulator; a zero field takes its default. */
typedef struct zl_ui_limits {
    size_t clients;       /* event streams open at once, 32; more are answered 503 */
    size_t backlog_bytes; /* bytes queued for one stream before it waits for the client, 256 KiB */
    long stall_ms;        /* a stream whose client takes none of its queued bytes for this long
                             is closed, 10000 (real time) */
    long heartbeat_ms;    /* a comment line on an idle stream, so a client that went away is
                             noticed (within two of them), 5000 */
    size_t tail;          /* entries a stream opened without since or Last-Event-ID starts
                             with (the newest), 1000 */
} zl_ui_limits;

/*
 * Adds the inspector's route (/_zonelab/ui and below; GET and HEAD) to e, following j. Add it
 * before a catch-all for /_zonelab/. limits may be NULL (the defaults). The inspector's state
 * is freed with j (zl_journal_free), which must come after zl_engine_free(e). 0 or -1.
 */
int zl_ui_install(zl_engine *e, zl_journal *j, const zl_ui_limits *limits);

#endif
