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
    /* Who may reach /_zonelab/ (control_gate.c): a loopback client naming a loopback host or
     * one of allow_hosts, or a client sending "Authorization: Bearer <token>". */
    const char *token;              /* NULL or "": no token opens it */
    const char *const *allow_hosts; /* Host names besides the loopback ones */
    size_t n_allow_hosts;
} zl_control;

/* Adds the /_zonelab/ routes; c must outlive the engine. 0 or -1. */
int zl_control_install(zl_control *c);
/* Puts the gate in front of /_zonelab/: clients, hosts, content types and origins that may
 * reach it (control_gate.c). zl_control_install calls it. 0 or -1. */
int zl_control_gate_install(zl_control *c);
/* Adds POST /_zonelab/debug_token and /_zonelab/debug_url (control_debug.c); c->emu set. */
int zl_control_debug_install(zl_control *c);
/* Adds GET and POST /_zonelab/options (control_options.c); c->emu set. */
int zl_control_options_install(zl_control *c);

#endif
