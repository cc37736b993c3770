/* control: the /_zonelab/ face the CLI, the inspector and scenarios use (JSON). */
#ifndef ZL_CONTROL_H
#define ZL_CONTROL_H

#include "emu/emu.h"
#include "core/engine.h"
#include "core/journal.h"

typedef struct zl_control {
    zl_engine *engine;
    zl_journal *journal;
    const char *version;
    zl_emu *emu; /* NULL: only state, clock and journal are served */
} zl_control;

/* Adds the /_zonelab/ routes; c must outlive the engine. 0 or -1. */
int zl_control_install(zl_control *c);
/* Adds POST /_zonelab/debug_token and /_zonelab/debug_url (control_debug.c); c->emu set. */
int zl_control_debug_install(zl_control *c);
/* Adds GET and POST /_zonelab/options (control_options.c); c->emu set. */
int zl_control_options_install(zl_control *c);

#endif
