/* models_int: internal to the models family (models.c, models_eval.c, models_own.c,
 * models_quota.c, models_control.c): the task records, the family's state and the helpers the
 * pieces share. The rest of the emulator uses api/models.h and the registry table only. */
#ifndef ZL_MODELS_INT_H
#define ZL_MODELS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "api/sdk_api.h"
#include "core/sbuf.h"
#include "emu/emu.h"

#define MAX_INPUT_CHARS 30000 /* model input after expansion: 790040 beyond */
#define MAX_KB_ID       128
#define MAX_VAR_ARGS    50
#define MAX_VAR_NAME    32 /* bytes */

typedef zl_sdk_ctx sdk_ctx;

/* A growing string. */
typedef zl_sbuf buf;

/* ---- models ---- */

typedef enum model_kind {
    M_SENTIMENT,
    M_SPAM,
    M_SUMMARY,
    M_CUSTOMER_TAG,
    M_RECOMMEND,
    M_WW_MODEL,
    M_MODEL,   /* an own (uploaded) model: create_model_task */
    M_PROGRAM, /* another program: create_program_task */
    M_COUNT
} model_kind;

typedef struct model_info {
    const char *name;
    const char *result_key; /* per-message result (sentiment, spam), else NULL */
    bool per_message_quota;
} model_info;

/* Every model's name, result key and kind of quota (models.c). */
extern const model_info zl_models_info[M_COUNT];

/* Whether k is an own model or a program: the target answers, not the emulator. */
static inline bool own(model_kind k)
{
    return k == M_MODEL || k == M_PROGRAM;
}

/* ---- tasks and state ---- */

enum { ST_DONE, ST_FAILED, ST_PENDING }; /* how a scripted answer ends a task */

/* A scripted answer: a result (NULL = the default answer) or a failure, and maybe a time. */
typedef struct answer {
    bool set;
    int status;
    int errcode;
    cJSON *result;
    long long latency_ms; /* -1: the configured latency */
} answer;

typedef struct rule {
    struct rule *next;
    model_kind model;
    char *msgid; /* NULL: any task of the model */
    answer a;
    long long times; /* uses left; -1 unlimited */
} rule;

typedef struct quota {
    int64_t day; /* the quota day (UTC+8) of used[] */
    long long used[M_COUNT];
} quota;

/* What a general-model task over the per-minute budget gets (models/config
 * per_minute_overflow): a later minute, a failed task, or 45009 at create. */
enum { ZL_MODELS_OVER_DELAY, ZL_MODELS_OVER_FAIL, ZL_MODELS_OVER_REFUSE };
/* The errcode of a task failed by the per-minute budget (doc 56425 names none: unknown). */
#define ZL_MODELS_OVER_MINUTE_ERRCODE 45009

typedef struct item {
    char *msgid, *secret_key;
    answer a; /* a per-message rule (sentiment, spam) */
} item;

enum { PH_WAITING, PH_RUNNING, PH_DONE, PH_FAILED };
/* The phases' names, indexed by PH_* (models.c). */
extern const char *const zl_models_phases[];

struct zl_models;

typedef struct task {
    struct zl_models *m;
    char jobid[40];
    model_kind model;
    zl_app_rt *app;
    int phase;
    int64_t created_ms, due_ms, finished_ms;
    uint64_t seq;     /* zl_emu_seq when kept: orders tasks made in one millisecond */
    int64_t start_ms; /* when it runs: created_ms, or later when the per-minute quota delays it */
    bool over_minute; /* over the general model's per-minute budget, not delayed: it fails */
    uint64_t timer;   /* pending engine timer (ud = this task), 0 none */
    item *items;
    size_t n;
    cJSON *args;    /* the request's model fields, normalised */
    answer a;       /* a task rule */
    cJSON *outcome; /* when finished: errcode, status, fail_list and the result fields */
    /* own model and program tasks: the target, what it was sent, the job it reports to */
    zl_prog_rt *target;
    size_t ability, replica;
    int escape_type;
    bool debug;   /* placeholders were filled from debug_info */
    bool calling; /* the call to the target is in flight (ud = this task) */
    char *input;  /* the expanded input protocol the target received */
    char job_info[72];
    char req_id[17];
} task;

struct zl_models {
    zl_emu *emu;
    zl_strmap *tasks; /* jobid -> task (owned) */
    rule *rules, **rules_tail;
    quota *quotas;        /* per corp, parallel to world->corps */
    zl_strmap *minutes;   /* the general model's calls per minute, per provider (models_quota.c) */
    cJSON **tags;         /* per corp: tag library, [{group_id, group_name, tag_list}] or NULL */
    zl_strmap *knowledge; /* "corpid\x1fkb_id" -> cJSON array of fragment strings */
    /* the configuration is emu->opt.models (emu/options.c; POST /_zonelab/models/config) */
};

_Static_assert(M_COUNT == ZL_EMU_MODEL_KINDS, "emu.h's daily budgets follow model_kind");

/* Whether a script holds t (status "pending"): it runs until answered again. */
static inline bool held(const task *t)
{
    return t->a.set && t->a.status == ST_PENDING;
}

static inline size_t corp_index(zl_emu *emu, const zl_corp *c)
{
    return (size_t)(c - emu->world->corps);
}

/* One submitted message as the model sees it. */
typedef struct eval {
    int code; /* 0, or the per-message errcode */
    const zl_message *msg;
    cJSON *content;   /* parsed content, owned */
    const char *text; /* borrowed from content; "" when none */
} eval;

/* ---- models.c ---- */

/* The family's part of the emulator (zl_emu_part finds the state without making it). */
extern const zl_emu_part_ops zl_models_part;
/* The emulator's model state, made on first use; NULL when memory ran out. */
struct zl_models *zl_models_state(zl_emu *emu);
/* The configuration's defaults (latency, budgets, codes) into m. */
void zl_models_config_default(struct zl_models *m);
/* Frees a's result and clears it. */
void zl_models_answer_cleanup(answer *a);
/* Drops every scripted rule. */
void zl_models_rules_clear(struct zl_models *m);
/* Frees a task (a zl_strmap value free; NULL is fine). */
void zl_models_task_free(void *p);
/* Whether the general model model_id answers with its thinking. */
bool zl_models_ww_thinking(const char *model_id);
/* A result's fail_list item {errcode, errmsg, msgid} appended to fails. */
void zl_models_fail_item(cJSON *fails, int code, const char *msgid);
/* Journals t's phase ("sdk" "model_task"). */
void zl_models_journal_task(task *t);
/* A running task waits for its due time, unless a script holds it. */
void zl_models_arm(task *t);

/* The create_* request fields: each returns NULL when fine, else the error reply. */
/* msg_list into t->items (first occurrences), duplicates into fails. */
cJSON *zl_models_parse_msgs(sdk_ctx *x, struct zl_models *m, task *t, bool required, cJSON *fails);
/* tag_group_list: known group ids into args.tag_groups, unknown ones into *unknown (owned by
 * the caller). */
cJSON *zl_models_tag_groups_arg(sdk_ctx *x, struct zl_models *m, bool required, cJSON *args,
                                cJSON **unknown);
/* kb_id: "" counts as absent when optional; a set the app cannot use answers its code. */
cJSON *zl_models_kb_arg(sdk_ctx *x, bool required, cJSON *args);
/* Whether s is an ability_id: 1 to 64 characters of [A-Za-z0-9_.-]. */
bool zl_models_well_formed_ability(const char *s);
/* A new task of model k for the calling app (NULL when memory ran out). */
task *zl_models_task_new(sdk_ctx *x, struct zl_models *m, model_kind k);
/* Gives t a fresh jobid and its creation number and keeps it (m->tasks owns it from then on):
 * NULL, or the reply. */
cJSON *zl_models_task_keep(sdk_ctx *x, struct zl_models *m, task *t);
/* qsort order of task pointers: oldest first (created_ms, then the creation number). */
int zl_models_by_creation(const void *a, const void *b);
/* A create_* reply: the jobid, the duplicates and any unknown tag groups (both taken). */
cJSON *zl_models_created(sdk_ctx *x, const task *t, cJSON *fails, cJSON *unknown);

/* ---- models_quota.c ---- */

/*
 * Counts the call (or its messages) against the corp's daily budget: NULL, or the 45009
 * reply (nothing counted). A general-model call of a third-party or 代开发 app also takes a
 * place in its provider's minutes, counted at now_ms (the task's creation time, read once by the
 * caller); *start_ms (when not NULL) is then when the task may start: now_ms, the first later
 * minute with room (overflow "delay"), or -1 when the task fails (overflow "fail", or no room
 * within 24 h). With overflow "refuse" a full minute is 45009.
 */
cJSON *zl_models_charge(sdk_ctx *x, struct zl_models *m, model_kind k, size_t msgs, int64_t now_ms,
                        int64_t *start_ms);
/* Frees a provider's minutes (a zl_strmap value free). */
void zl_models_minutes_free(void *v);

/* ---- models_eval.c ---- */

/* Whether w is one of the NULL-terminated list. */
bool zl_models_in_list(const char *const *list, const char *w);
/* Looks up message it for t into e: 0 when it can be analysed, else 710601 (not archived, or
 * not in the app's archive) / 710652 (older than the app's msg_duration_days) / 710603 /
 * 710602. e->content is then owned by the caller. */
int zl_models_check_item(task *t, const item *it, eval *e);
/*
 * {chat}: one line per analysable message, "A(员工)说：<text>" for the general model (员工 for
 * members and robots, 客户 for customers) or "A说：<text>" for an own model or program
 * (letters in order of first appearance), and {chatcontent}: the texts. Lines are separated
 * by "\n", with none after the last.
 */
void zl_models_chat_text(const eval *ev, size_t n, bool general, buf *chat, buf *contents);
/* The fragments of knowledge set kb_id of corp c (the control face's), or NULL. */
const cJSON *zl_models_knowledge_of(struct zl_models *m, const zl_corp *c, const char *kb_id);
/* {knowledge}: the top KNOWLEDGE_TOP_K fragments by overlap with query, "文档1：<fragment>" lines
 * (separated by "\n"). */
void zl_models_knowledge_text(const cJSON *frags, const char *query, buf *out);
/* {"tag_group":[...]}: the task's tag groups as {tagjson} (owned by the caller, cJSON_free). */
char *zl_models_tag_json(struct zl_models *m, const task *t);
/* The task's string argument key, or NULL. */
const char *zl_models_arg_str(const task *t, const char *key);
/* Computes the task's answer (the outcome) and marks it done or failed. */
void zl_models_finish(task *t);
/* The rules a new task takes: the first task rule that fits, and for sentiment and spam the
 * first per-message rule of each message. */
void zl_models_take_rules(struct zl_models *m, task *t);

/* ---- models_own.c ---- */

/* create_model_task (k M_MODEL) and create_program_task (M_PROGRAM): the reply (owned). */
cJSON *zl_models_create_own(sdk_ctx *x, model_kind k);
/* Whether t is a running own task whose job is gone (24 h without a report). */
bool zl_models_own_overdue(const task *t);
/* An overdue own task (above) fails with 710638. */
void zl_models_own_settle(task *t);
/* get_model_task_result / get_program_task_result of own task t: the reply (owned). */
cJSON *zl_models_result_own(sdk_ctx *x, task *t);

#endif
