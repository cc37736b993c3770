/* server: the one place an emulator is assembled: world, engine, journal, runtime state, the
 * app and SDK faces and the control face, with their start, turn and shutdown order. zonelab
 * serve, the scenario driver, replay, the tests and the benchmarks all build it here. */
#ifndef ZL_SERVER_H
#define ZL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/journal.h"
#include "emu/emu.h"
#include "faces/control.h"
#include "wecom/world.h"

typedef struct zl_server_config {
    zl_engine_config engine; /* listen address, port (0 = any), seed */
    size_t journal_cap;      /* journal entries kept, 200000 */
    zl_emu_options opt;      /* every default WeCom leaves open (zl_emu_options_default) */
    const char *version;     /* what /_zonelab/state says, "0.1.0" */
    bool no_control;         /* true: no /_zonelab/ face (only the WeCom faces) */
    /* Who may reach /_zonelab/ besides a loopback client naming a loopback host (zl_control):
     * the holders of control_token (borrowed, NULL none) and these Host names (borrowed). */
    const char *control_token;
    const char *const *allow_hosts;
    size_t n_allow_hosts;
    /* Options set over opt and the world's "options", in this order (emu/options.h): */
    const char *const *sets; /* "NAME=VALUE" each (zonelab serve --set) */
    size_t set_count;
    const cJSON *options;     /* {name: value} (a scenario's), NULL = none */
    const char *options_path; /* how errors name it: "scenario{}.options" */
} zl_server_config;

typedef struct zl_server {
    zl_world *world; /* owned */
    zl_engine *engine;
    zl_journal *journal;
    zl_emu *emu;
    zl_control control;
    bool no_control;
    int64_t last_sweep_ms; /* wall time of the last expiry sweep (zl_server_turn) */
    bool stopped;          /* zl_server_stop ran */
} zl_server;

/* Fills c with the defaults: loopback, port 0, seed 0, the emulator's default options. */
void zl_server_config_default(zl_server_config *c);

/*
 * Builds an emulator over world (taken, freed with the server, even on failure; NULL = the
 * built-in default world) with c->opt, then the world's options, then c's sets and options
 * (an unknown name or a bad value fails, saying which): the engine listening, the journal,
 * the runtime state, the virtual
 * clock at the world's clock_start, and the app face and the SDK face installed. Routes of
 * the caller's own (a scenario's test app) go in next, then zl_server_start. Free with
 * zl_server_free. NULL with one sentence in err.
 */
zl_server *zl_server_new(zl_world *world, const zl_server_config *c, char *err, size_t errlen);

/* Installs the control face, the inspector and the catch-all of /_zonelab/ (unless the config
 * said no_control): the last routes, so the caller's own come first. The first start in a
 * process also tells glibc's malloc to keep freed blocks under 8 MB for reuse (up to 16 MB
 * of them), for large replies. 0, or -1 with err. */
int zl_server_start(zl_server *s, char *err, size_t errlen);

/* One turn of serve's loop: the engine (waiting up to max_wait_ms), replicas that ended
 * reaped, and every 10 s of real time expired tokens, notify ids, pages and jobs swept. */
void zl_server_turn(zl_server *s, int max_wait_ms);

/*
 * The first half of shutdown: stops the replicas and app callbacks, then frees the engine
 * (calls still in flight run their callbacks once, as cancelled). What observes the engine
 * (a recording) may be closed after this and before zl_server_free. Idempotent.
 */
void zl_server_stop(zl_server *s);

/* Stops the server if needed, then frees the state, the journal and the world. Accepts NULL. */
void zl_server_free(zl_server *s);

#endif
