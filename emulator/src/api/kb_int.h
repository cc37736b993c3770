/* kb_int: internal to the knowledge-set family (kb.c, kb_api.c, kb_control.c): the sets and
 * documents, the family's state and the helpers the pieces share. The rest of the emulator
 * uses api/kb.h and the registry table only. */
#ifndef ZL_KB_INT_H
#define ZL_KB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "api/sdk_api.h"
#include "emu/emu.h"

#define MAX_SETS   1000 /* per corp, deleted ones not counted: 790027 */
#define NAME_CHARS 20   /* kb_name: 1..20 characters (UTF-8 code points) */
#define KB_ID_MAX  64   /* longer kb_ids are not looked up: 800000 */
#define KB_ID_LEN  19   /* "kb_" and 16 lower-case hex characters */
#define MAX_RULES  256
#define MAX_DOCID  9007199254740991.0 /* 2^53 - 1: docids stay exact as JSON numbers */

typedef struct kb_doc {
    uint64_t docid;
    char *doc_name;
    char *web_url;  /* "" for a file */
    char *media_id; /* "" for a web link */
    int type;
    int status; /* detail status: 0 learned, 1 failed, 2 learning */
    int forced; /* learn_status a scenario chose for this document, -1 none */
} kb_doc;

typedef struct kb_set {
    char kb_id[KB_ID_LEN + 1];
    char *name;
    zl_corp *corp;
    zl_app_rt *creator; /* the app that created it through the API; NULL: the console */
    bool deleted;
    bool *authorised; /* per app (emu->apps index): in its knowledge_base_list */
    kb_doc *docs;
    size_t ndocs, cap;
} kb_set;

/* A scenario's learning result for documents matching it (learn_result). */
typedef struct learn_rule {
    zl_corp *corp;
    char kb_id[KB_ID_MAX + 1]; /* "" = any set */
    char *doc_name, *web_url;  /* NULL = any */
    int learn_status;
} learn_rule;

/* The record behind one learning timer: lives until the timer fires or the state goes. */
typedef struct learn_timer {
    struct learn_timer *next;
    zl_emu *emu;
    char kb_id[KB_ID_LEN + 1];
    uint64_t docid;
} learn_timer;

struct zl_kb {
    kb_set **sets; /* every corp's, creation order; deleted ones stay (790034) */
    size_t count, cap;
    zl_strmap *by_id; /* kb_id -> kb_set (borrowed) */
    bool *no_grant;   /* per app: the knowledge-set grant was withdrawn (710643) */
    size_t app_count;
    uint64_t next_docid; /* the learning latency is emu->opt.kb_learn_latency_ms */
    learn_rule rules[MAX_RULES];
    size_t nrules;
    learn_timer *timers;
};

static inline size_t app_index(const zl_emu *emu, const zl_app_rt *a)
{
    return (size_t)(a - emu->apps);
}

/* ---- kb.c ---- */

/* The emulator's knowledge state, made on first use; NULL when memory runs out. */
struct zl_kb *zl_kb_state(zl_emu *emu);
/* Set kb_id of corp c (deleted ones too), or NULL (s may be NULL). */
kb_set *zl_kb_find_set(const struct zl_kb *s, const zl_corp *c, const char *kb_id);
/* How many sets corp c holds, deleted ones not counted. */
size_t zl_kb_live_sets(const struct zl_kb *s, const zl_corp *c);
/* Document docid of k, or NULL. */
kb_doc *zl_kb_find_doc(kb_set *k, uint64_t docid);
/* A new set of corp c named name (copied), in the state's list; NULL when memory runs out. */
kb_set *zl_kb_set_new(zl_emu *emu, struct zl_kb *s, zl_corp *c, const char *name);
/* Frees what d holds (not d). */
void zl_kb_doc_cleanup(kb_doc *d);
/* Sends a knowledge-set event about k to app a's receiving program (if it has one) and lists
 * it in events (may be NULL). doc NULL: auth/unauth/delete, else knowledge_base_learn_done. */
void zl_kb_send_event(zl_emu *emu, zl_app_rt *a, const char *type, const kb_set *k,
                      const kb_doc *doc, cJSON *events);
/* Starts learning d (status 2); it ends after the state's latency. -1 when memory runs out. */
int zl_kb_learn(zl_emu *emu, struct zl_kb *s, const kb_set *k, kb_doc *d);
/* Code points of s; -1 when s is not UTF-8; *hidden set when an invisible one is in it. */
long zl_kb_name_chars(const char *s, bool *hidden);
/* Marks k deleted (its documents go; its id stays for 790034) and tells every app it was
 * authorised to, except skip (may be NULL), listing the events in events (may be NULL). */
void zl_kb_delete_set(zl_emu *emu, kb_set *k, const zl_app_rt *skip, cJSON *events);

#endif
