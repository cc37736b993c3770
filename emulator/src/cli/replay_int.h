/* cli_replay internals, shared by replay.c (the emulator, the SDK hook, sending callbacks, the
 * command), replay_load.c (a recording or journal into the plan) and replay_compare.c (JSON
 * comparison, notify id pairs, what a difference says). Not for use outside them. */
#ifndef ZL_CLI_REPLAY_INT_H
#define ZL_CLI_REPLAY_INT_H

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "core/json.h"

#include "faces/server.h"
#include "wire.h"

#define MAX_IGNORE 64

/* What a callback of the recording was and how it ended. */
typedef struct rp_callback {
    char *prog;             /* the program it went to */
    uint64_t src;           /* the recording's seq, or the journal entry's seq */
    uint64_t order;         /* start: the recording's id; a journal's t - elapsed_ms */
    size_t replica;         /* from its instance, "<program_id>/<n>" */
    zone_wire_callback env; /* the callback envelope as sent */
    int errcode;            /* 0 answered, else the 7106xx the emulator saw */
    char *response;         /* the program's answer; NULL: not compared */
} rp_callback;

/* An SDK call of the recording and what the emulator answered. */
typedef struct rp_invoke {
    char *prog;
    uint64_t src;
    uint64_t order; /* the recording's id (start); a journal's t (end) + JOURNAL_SLACK_MS + 1 */
    size_t barrier; /* must be matched before callback[barrier] is sent */
    bool waived;    /* a journal's call still missing when its barrier was reached: checked
                       again only at the end */
    char *api, *request;
    int action;  /* ZL_HOOK_REPLY, ZL_HOOK_PASS, ZL_HOOK_RESET or ZL_HOOK_GARBAGE */
    char *reply; /* ZL_HOOK_REPLY: the reply envelope's response text */
    bool used;
} rp_invoke;

/* A notify id the program made in the recording and the one it made in this run. */
typedef struct id_pair {
    char *from, *to;
} id_pair;

typedef struct replay {
    FILE *out, *err;
    const char *file;
    bool journal; /* the file is a scenario journal */
    /* options */
    const char *program_cmd, *program_opt, *world_opt;
    uint64_t seed;
    bool seed_set, keep;
    long timeout_ms;
    const char *ignore[MAX_IGNORE];
    size_t n_ignore;
    /* the plan */
    char *program_id;
    size_t replicas;
    char *world_path; /* the recording's world file; NULL: built-in or unknown */
    char world_sha[65];
    rp_callback *cbs;
    size_t n_cbs, cap_cbs;
    rp_invoke *invs;
    size_t n_invs, cap_invs;
    id_pair *ids;
    size_t n_ids, cap_ids;
    size_t skipped;           /* exchanges of the program that cannot be replayed */
    char reset_nonces[8][72]; /* nonces of dropped invokes (their re-sends are not calls) */
    unsigned reset_next;
    /* running */
    char work_dir[PATH_MAX];
    zl_server *srv;
    zl_world *world; /* these four borrowed from srv */
    zl_engine *engine;
    zl_journal *jr;
    zl_emu *emu;
    zl_prog_rt *prog;
    size_t cur; /* the callback in flight, or the next one to send */
    bool in_flight, answered;
    int got_errcode;
    char *got_response;
    char got_detail[256];
    size_t matched; /* SDK calls matched */
    char *diff;     /* the first difference, as text to print (owned) */
} replay;

/* Where a JSON text differs from the expected one. */
typedef struct jdiff {
    char path[700];
    char *expected, *actual; /* printed values, "(absent)" when missing */
} jdiff;

/* The number member key of o, or dflt. */
static inline double jnum(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* The number member key of o as a whole number in [lo, hi] (a fraction dropped), or dflt when
 * it is absent or out of range: a file's numbers are never converted out of their type's
 * range. lo and hi within +-2^53. */
static inline int64_t jwhole(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t dflt)
{
    double v = jnum(o, key, NAN);

    return v >= (double)lo && v <= (double)hi ? (int64_t)v : dflt;
}

/* A count (seq, id, virtual ms): a whole number in [0, 2^53], or dflt. */
#define JCOUNT_MAX ((int64_t)1 << 53)
static inline uint64_t jcount(const cJSON *o, const char *key, uint64_t dflt)
{
    return (uint64_t)jwhole(o, key, 0, JCOUNT_MAX, dflt > (uint64_t)JCOUNT_MAX ? 0 : (int64_t)dflt);
}

/* ---- replay_load.c ---- */

/*
 * Reads rp->file into the plan: a recording (JSON Lines) or a journal (a JSON array), kept
 * to the program to replay (rp->program_id, else the first one called; set here) in start
 * order, each SDK call with its barrier; the seed, world and replica count from the file.
 * 0, or -1 with why in msg. zl_replay_unload either way.
 */
int zl_replay_load(replay *rp, char *msg, size_t cap);
/* Frees what zl_replay_load made (callbacks, calls, program_id, world_path). */
void zl_replay_unload(replay *rp);

/* ---- replay_compare.c ---- */

/* Whether an --ignore path is one ($.a.b[0], $.list[*].time, $.*.id). */
bool zl_replay_path_ok(const char *path);
/* Pairs the recording's notify id from with this run's to. 0, or -1 out of memory. */
int zl_replay_learn_id(replay *rp, const char *from, const char *to);
/* s with every paired notify id replaced by this run's: owned (free); NULL for s NULL or out
 * of memory. */
char *zl_replay_map_text(const replay *rp, const char *s);

void zl_replay_jdiff_cleanup(jdiff *d);
/*
 * Whether the program's call (api, req: NULL when not JSON) is v: 0 yes, 1 no (d filled),
 * -1 out of memory. *from / *to: a notify id pair learnt by this match (owned, NULL when
 * none).
 */
int zl_replay_match_invoke(replay *rp, const rp_invoke *v, const char *api, const cJSON *req,
                           jdiff *d, char **from, char **to);
/* Compares the answer to callback k (rp->got_*) with the recording's; a difference is kept. */
void zl_replay_check_answer(replay *rp, size_t k);

/*
 * The differences, kept in rp->diff (the first one wins): an SDK call (api, request) the
 * recording does not have here (best: how it differs from same, the first unused recorded
 * call of that API; else any, the recording's next call; SIZE_MAX for none); a recorded call
 * v the program did not make in ms; a replica that exited; callback k that could not be sent.
 */
void zl_replay_diff_call(replay *rp, const char *api, const cJSON *request, size_t same,
                         const jdiff *best, size_t any);
void zl_replay_diff_missing(replay *rp, const rp_invoke *v, long ms);
void zl_replay_diff_exited(replay *rp, const zl_replica *r);
void zl_replay_diff_unsent(replay *rp, size_t k);

#endif
