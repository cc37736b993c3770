/* explore_int: what zonelab explore's two files share: the seeded generator of runs
 * (explore_gen.c) and the command that runs, checks and shrinks them (explore.c). */
#ifndef ZL_CLI_EXPLORE_INT_H
#define ZL_CLI_EXPLORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include <cjson/cJSON.h>

#include "wecom/world.h"

/* The action kinds a run draws from, in the order of their names in XP_KIND_NAMES. */
typedef enum xp_kind {
    XP_ARCHIVE,
    XP_EVENT,
    XP_CALL,
    XP_CALLBACK,
    XP_ADVANCE,
    XP_RESTART,
    XP_PAUSE,
    XP_FAULT,
    XP_N_MAIN, /* the kinds above are drawn for each action; the ones below are inserted
                  between them from a stream of their own, so adding them kept the runs a
                  seed gave before */
    XP_ASYNC = XP_N_MAIN,
    XP_KEY,
    XP_KILL, /* off by default (weight 0), each with a stream of its own */
    XP_RECEIVE,
    XP_N_KINDS
} xp_kind;

/* --actions at most; a run holds at most XP_MAX_RUN_ACTIONS with the inserted ones */
#define XP_MAX_ACTIONS     200
#define XP_MAX_RUN_ACTIONS (4 * XP_MAX_ACTIONS)

extern const char *const XP_KIND_NAMES[XP_N_KINDS];

/* What runs are drawn from: the world's main program and its abilities, the corp's members,
 * the weights of the kinds. Borrows the world. */
typedef struct xp_gen {
    const zl_program *program;
    const zl_corp *corp;
    unsigned weights[XP_N_KINDS];
    unsigned near_pct; /* of calls: request_data one step off the input protocol */
    unsigned actions;  /* per run */
    unsigned replicas; /* 0: drawn, 1 or 2 */
} xp_gen;

/* One run: its setup and its actions, each one line of Lua. */
typedef struct xp_run {
    uint64_t seed;
    size_t index;
    unsigned replicas;
    bool any_routing; /* notify_routing "any", else "sticky" */
    bool loose;       /* protocol.null_matches_any: WeCom's reading of null is unknown */
    char **actions;   /* owned */
    size_t n_actions;
} xp_run;

/* Draws run number index of seed into *r (xp_run_cleanup frees it). 0, or -1 when memory
 * runs out. The same seed and index always give the same run. */
int xp_run_generate(const xp_gen *g, uint64_t seed, size_t index, xp_run *r);

/* A copy of r keeping only the actions whose keep[i] is true (keep NULL: all). */
int xp_run_copy(const xp_run *r, const bool *keep, xp_run *out);

void xp_run_cleanup(xp_run *r);

/*
 * The scenario file of run r: header (comment lines, each without "-- "), scenario{} from
 * the run's setup and world (a path or NULL for the default), the test "actions", the
 * explore helpers (emulator/src/cli/explore.lua), a property() line for each built-in name
 * in props, then user (a user properties file's text, or NULL). Returns owned text (free),
 * or NULL when memory runs out.
 */
char *xp_run_render(const xp_run *r, const char *header, const char *world,
                    const char *const *props, size_t n_props, const char *user);

/* Adds one run to the coverage counts c (an object the caller owns): its journal, and the
 * restarts and pauses of its file's text. */
void xp_cov_add(cJSON *c, const cJSON *journal, const char *text);

/* The report of the counts c of runs runs against program p's abilities, every SDK API and
 * the nine event types: {"runs", "abilities": {"reached", "not_reached"}, "sdk_apis": {...},
 * "event_types": {...}, "counts": {...}}. Owned (cJSON_Delete). */
cJSON *xp_cov_report(cJSON *c, unsigned long runs, const zl_program *p);

/* The report as text. */
void xp_cov_print(FILE *f, const cJSON *report);

#endif
