/* keyword: WeCom's keyword rules (sdk-api.md §4): rule bodies checked against the spec's
 * limits and a corp's scope and compiled, and the matcher over an archived message. Who owns
 * a rule, its rule_id and its hits are the emulator's (api/rules.c). */
#ifndef ZL_KEYWORD_H
#define ZL_KEYWORD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "wecom/world.h"

/* Key behaviours of semantics.semantics_list (values 1..12). */
enum {
    ZL_SEM_RED_PACKET = 1,
    ZL_SEM_MOBILE = 2,
    ZL_SEM_EMAIL = 3,
    ZL_SEM_CARD = 4,
    ZL_SEM_QR_IMAGE = 5,
    ZL_SEM_RECALL = 6,
    ZL_SEM_BANK_CARD = 7,
    ZL_SEM_ID_CARD = 8,
    ZL_SEM_FILE = 9,
    ZL_SEM_LINK = 10,
    ZL_SEM_MINI_PROGRAM = 11,
    ZL_SEM_WELCOME = 12
};

/* A compiled rule: its canonical body and what the matcher needs. */
typedef struct zl_rule zl_rule;

/*
 * The body an update_rule request yields (create_rule: base NULL): base with the request's
 * known fields laid over it. keyword fields and applicable_range items are replaced one by
 * one; an applicable_range item whose list is empty (or absent) clears it. Returns the body
 * (the caller cJSON_Deletes it; zl_rule_compile checks it), or NULL with *errcode 40058 when
 * keyword, semantics or applicable_range is not an object (-1 when memory ran out) and one
 * sentence in why.
 */
cJSON *zl_rule_merge(const cJSON *base, const cJSON *req, int *errcode, char *why, size_t whylen);
/*
 * Checks a whole rule body (name, keyword, semantics, applicable_range as in a create_rule
 * request) against the spec's limits and scope (an app's archive scope in corp c; NULL = the
 * corp's own), and compiles it: users, groups, customers and departments must be inside it.
 * flags_sent: the request itself carried keyword.is_case_sensitive or keyword.match_rule
 * (those need words: 710650). Returns the rule (free with zl_rule_free), or NULL with
 * *errcode the WeCom code (40058, 710606..710610, 710615, 710621, 710622, 710648..710650, or
 * -1 when memory ran out) and one sentence in why naming the field.
 */
zl_rule *zl_rule_compile(const cJSON *body, zl_corp *c, const zl_scope *scope, bool flags_sent,
                         int *errcode, char *why, size_t whylen);
/* Frees r; accepts NULL. */
void zl_rule_free(zl_rule *r);
/* The canonical body of r (every keyword field, semantics_list, the applicable_range items
 * that are set), borrowed from r. */
const cJSON *zl_rule_body(const zl_rule *r);

/* Whether a message of msgtype can hit a rule at all (vendor doc 53347). */
bool zl_rule_hittable(int msgtype);
/*
 * Whether message m of corp c hits r for an app whose archive scope is scope (NULL = the
 * corp's own). content is m's content parsed (NULL = none). A hit is in r's applicable range
 * (an employee party inside scope) and either a word of r matches (*keyword true) or a key
 * behaviour of r is found (bit v of *semantics set for behaviour v), and no blacklisted word
 * matches. Returns true on a hit (*keyword and *semantics filled), false otherwise.
 */
bool zl_rule_match(const zl_rule *r, zl_corp *c, const zl_scope *scope, const zl_message *m,
                   const cJSON *content, bool *keyword, unsigned *semantics);

#endif
