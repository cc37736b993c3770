/* api_models: WeCom's models as two-step tasks (sdk-api.md §6): sentiment, anti-spam, summary,
 * customer tags, reply recommendation and the general model; their deterministic default
 * answers, daily quotas, and the answers a scenario scripts (POST /_zonelab/models/...). */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wecom/errcode.h"
#include "api/kb.h"
#include "api/models.h"
#include "wecom/placeholder.h"
#include "core/sbuf.h"
#include "api/sdk_api.h"

#define MAX_MSGS           1000  /* msg_list items: 710623 beyond */
#define MAX_INPUT_CHARS    30000 /* model input after expansion: 790040 beyond */
#define MAX_SECRET         1024  /* secret_key bytes accepted in a request */
#define MAX_KB_ID          128
#define MAX_MODEL_ID       64
#define MAX_ABILITY_ID     64
#define MAX_TAG_GROUPS     100  /* tag_group_list items (an emulator default) */
#define MAX_RETRIEVAL      1000 /* kb_retrieval_words characters */
#define MAX_VAR_ARGS       50
#define MAX_VAR_NAME       32  /* bytes */
#define MAX_VAR_VALUE      128 /* characters */
#define LATENCY_MS_DEFAULT 2000
#define MSG_BUDGET         100000 /* sentiment, spam: messages per corp per day */
#define CALL_BUDGET        10000  /* the others: calls per corp per day */
#define PER_MINUTE_BUDGET  100 /* general model, third-party / 代开发 apps: calls per minute */
#define DAY_OFFSET_S       (8 * 3600) /* quota days start at midnight UTC+8 */
#define SUMMARY_SENTENCES  3
#define KNOWLEDGE_TOP_K    3
#define FAILED_DEFAULT     710633 /* a scripted failure without errcode */
#define JOBID_PREFIX       "mt_"
#define ACK_TIMEOUT_MS     5000       /* an own model's or program's answer to the task's call */
#define PROGRAM_BUDGET     1000000000 /* program tasks: no quota documented */
#define MAX_DEBUG_TEXT     (4 * MAX_INPUT_CHARS) /* bytes of one debug_info value */

typedef zl_sdk_ctx sdk_ctx;

/* ------------------------------------------------------------------ models */

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

static const struct {
    const char *name;
    const char *result_key; /* per-message result (sentiment, spam), else NULL */
    bool per_message_quota;
} MODELS[M_COUNT] = {
    [M_SENTIMENT] = {"sentiment", "sentiment_result", true},
    [M_SPAM] = {"spam", "spam_result", true},
    [M_SUMMARY] = {"summary", NULL, false},
    [M_CUSTOMER_TAG] = {"customer_tag", NULL, false},
    [M_RECOMMEND] = {"recommend_dialog", NULL, false},
    [M_WW_MODEL] = {"ww_model", NULL, false},
    [M_MODEL] = {"model", NULL, false},
    [M_PROGRAM] = {"program", NULL, false},
};

/* General model ids (the console's names are not in the spec; these are the emulator's). */
static const struct {
    const char *id;
    bool thinking, self_built_only;
} WW_MODELS[] = {
    {"hunyuan_fast", false, false}, /* the default */
    {"hunyuan_think", true, false},
    {"deepseek_think", true, false},
    {"deepseek_fast", false, true},
};

static const char *text_of(int code)
{
    return zl_errcode_text(code);
}

/* A result's fail_list item: {errcode, errmsg, msgid}. */
static void fail_item(cJSON *fails, int code, const char *msgid)
{
    cJSON *f = cJSON_CreateObject();

    cJSON_AddNumberToObject(f, "errcode", code);
    cJSON_AddStringToObject(f, "errmsg", text_of(code));
    cJSON_AddStringToObject(f, "msgid", msgid);
    cJSON_AddItemToArray(fails, f);
}

/* ------------------------------------------------------------------ state */

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
    int64_t minute; /* when the current minute of minute_used began (Unix s) */
    long long minute_used;
} quota;

typedef struct item {
    char *msgid, *secret_key;
    answer a; /* a per-message rule (sentiment, spam) */
} item;

enum { PH_WAITING, PH_RUNNING, PH_DONE, PH_FAILED };
static const char *const PHASES[] = {"waiting", "running", "done", "failed"};

struct zl_models;

typedef struct task {
    struct zl_models *m;
    char jobid[40];
    model_kind model;
    zl_app_rt *app;
    int phase;
    int64_t created_ms, due_ms, finished_ms;
    uint64_t timer; /* pending engine timer (ud = this task), 0 none */
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
    cJSON **tags;         /* per corp: tag library, [{group_id, group_name, tag_list}] or NULL */
    zl_strmap *knowledge; /* "corpid\x1fkb_id" -> cJSON array of fragment strings */
    /* configuration (POST /_zonelab/models/config) */
    long long latency_ms;
    long long budget[M_COUNT];
    long long per_minute;
    int dup_errcode;
    bool ww_text_only;
    long long ack_timeout_ms; /* own model / program: the call's deadline */
    int pending_errcode;      /* get_model_task_result before the report: 710642 or 790023 */
};

static void answer_cleanup(answer *a)
{
    cJSON_Delete(a->result);
    memset(a, 0, sizeof *a);
}

static void task_free(void *p)
{
    task *t = p;
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->n; i++) {
        free(t->items[i].msgid);
        free(t->items[i].secret_key);
        answer_cleanup(&t->items[i].a);
    }
    free(t->items);
    cJSON_Delete(t->args);
    answer_cleanup(&t->a);
    cJSON_Delete(t->outcome);
    free(t->input);
    free(t);
}

static void json_free(void *p)
{
    cJSON_Delete(p);
}

static void rules_clear(struct zl_models *m)
{
    while (m->rules) {
        rule *r = m->rules;

        m->rules = r->next;
        free(r->msgid);
        answer_cleanup(&r->a);
        free(r);
    }
    m->rules_tail = &m->rules;
}

/*
 * Frees every task, rule, tag library and knowledge fragment. Engine timers of unfinished
 * tasks are not cancelled: call after zl_engine_free, which drops them.
 */
static void models_free(void *v)
{
    struct zl_models *m = v;

    size_t i;

    if (!m)
        return;
    zl_strmap_free(m->tasks);
    rules_clear(m);
    for (i = 0; m->tags && i < m->emu->world->corp_count; i++)
        cJSON_Delete(m->tags[i]);
    free(m->tags);
    free(m->quotas);
    zl_strmap_free(m->knowledge);
    free(m);
}

static const zl_emu_part_ops models_part = {"models", models_free, NULL};

static void config_default(struct zl_models *m)
{
    size_t i;

    m->latency_ms = LATENCY_MS_DEFAULT;
    for (i = 0; i < M_COUNT; i++)
        m->budget[i] = MODELS[i].per_message_quota ? MSG_BUDGET : CALL_BUDGET;
    m->budget[M_PROGRAM] = PROGRAM_BUDGET;
    m->ack_timeout_ms = ACK_TIMEOUT_MS;
    m->pending_errcode = 710642;
    m->per_minute = PER_MINUTE_BUDGET;
    m->dup_errcode = 710613;
    m->ww_text_only = true;
}

/* The emulator's model state, made on first use; NULL when memory ran out. */
static struct zl_models *state(zl_emu *emu)
{
    struct zl_models *m = zl_emu_part(emu, &models_part);
    size_t n = emu->world->corp_count;

    if (m)
        return m;
    if (!(m = calloc(1, sizeof *m)))
        return NULL;
    m->emu = emu;
    m->rules_tail = &m->rules;
    m->tasks = zl_strmap_new(task_free);
    m->knowledge = zl_strmap_new(json_free);
    m->quotas = calloc(n ? n : 1, sizeof *m->quotas);
    m->tags = calloc(n ? n : 1, sizeof *m->tags);
    if (!m->tasks || !m->knowledge || !m->quotas || !m->tags) {
        models_free(m);
        return NULL;
    }
    config_default(m);
    if (zl_emu_part_set(emu, &models_part, m) != 0) {
        models_free(m);
        return NULL;
    }
    return m;
}

static size_t corp_index(zl_emu *emu, const zl_corp *c)
{
    return (size_t)(c - emu->world->corps);
}

/* ------------------------------------------------------------------ text helpers */

/* A growing string. */
typedef zl_sbuf buf;

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/*
 * The next token of *p into tok (cap bytes): a run of ASCII letters and digits, lower-cased,
 * or one non-ASCII code point; ASCII spaces and punctuation are skipped. False at the end.
 */
static bool next_token(const char **p, char *tok, size_t cap)
{
    const unsigned char *s = (const unsigned char *)*p;
    size_t n = 0;

    while (*s && *s < 0x80 && !isalnum(*s))
        s++;
    if (!*s) {
        *p = (const char *)s;
        return false;
    }
    if (*s >= 0x80) {
        do {
            if (n + 1 < cap)
                tok[n++] = (char)*s;
            s++;
        } while ((*s & 0xC0) == 0x80);
    } else
        for (; *s && *s < 0x80 && isalnum(*s); s++)
            if (n + 1 < cap)
                tok[n++] = (char)lower(*s);
    tok[n] = '\0';
    *p = (const char *)s;
    return true;
}

static bool in_list(const char *const *list, const char *w)
{
    for (; *list; list++)
        if (!strcmp(*list, w))
            return true;
    return false;
}

/* Whether needle occurs in hay, ASCII letters without case, other bytes exact. */
static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle), k;

    if (n == 0)
        return false;
    for (; *hay; hay++) {
        for (k = 0;
             k < n && hay[k] && lower((unsigned char)hay[k]) == lower((unsigned char)needle[k]);
             k++)
            ;
        if (k == n)
            return true;
    }
    return false;
}

/* Counts the occurrences of w in s and blanks them (so a shorter word inside is not seen). */
static int take_all(char *s, const char *w)
{
    size_t n = strlen(w);
    int hits = 0;
    char *q;

    while ((q = strstr(s, w))) {
        memset(q, ' ', n);
        hits++;
    }
    return hits;
}

/* ------------------------------------------------------------------ default answers */

/* Sentiment lexicon (docs/emulator.md). Chinese words match as substrings, the negative ones
 * first; English words as whole words, flipped after not / no / never. */
static const char *const POSITIVE_EN[] = {"good",      "great",   "thanks", "thank",   "love",
                                          "excellent", "happy",   "nice",   "perfect", "awesome",
                                          "glad",      "pleased", NULL};
static const char *const NEGATIVE_EN[] = {"bad",          "terrible", "angry",  "refund",
                                          "complaint",    "problem",  "broken", "hate",
                                          "disappointed", "awful",    "worst",  NULL};
static const char *const POSITIVE_ZH[] = {"谢谢", "感谢", "满意", "喜欢", "不错", "好", "棒", NULL};
static const char *const NEGATIVE_ZH[] = {"不满意", "不喜欢", "不好", "投诉", "退款",
                                          "生气",   "失望",   "糟糕", "差",   NULL};
static const char *const NEGATORS[] = {"not", "no", "never", NULL};

/* Anti-spam keywords: 1 political, 2 pornographic. */
static const char *const POLITICAL_EN[] = {"propaganda", "overthrow", NULL};
static const char *const POLITICAL_ZH[] = {"颠覆", "反动", NULL};
static const char *const PORN_EN[] = {"porn", "xxx", "nsfw", NULL};
static const char *const PORN_ZH[] = {"色情", "裸聊", NULL};

/* 1 positive, 2 negative, 0 neither. */
static int sentiment_of(const char *text)
{
    char *s = strdup(text), tok[64], prev[64] = "";
    const char *p;
    const char *const *w;
    int score = 0;

    if (!s)
        return 0;
    for (w = NEGATIVE_ZH; *w; w++)
        score -= take_all(s, *w);
    for (w = POSITIVE_ZH; *w; w++)
        score += take_all(s, *w);
    for (p = s; next_token(&p, tok, sizeof tok);) {
        int sign = in_list(NEGATORS, prev) ? -1 : 1;

        if (in_list(POSITIVE_EN, tok))
            score += sign;
        else if (in_list(NEGATIVE_EN, tok))
            score -= sign;
        memcpy(prev, tok, sizeof prev);
    }
    free(s);
    return score > 0 ? 1 : score < 0 ? 2 : 0;
}

static bool has_keyword(const char *text, const char *const *en, const char *const *zh)
{
    char tok[64];
    const char *p;

    for (; *zh; zh++)
        if (strstr(text, *zh))
            return true;
    for (p = text; next_token(&p, tok, sizeof tok);)
        if (in_list(en, tok))
            return true;
    return false;
}

/* 1 political, 2 pornographic, 0 clean. */
static int spam_of(const char *text)
{
    if (has_keyword(text, POLITICAL_EN, POLITICAL_ZH))
        return 1;
    return has_keyword(text, PORN_EN, PORN_ZH) ? 2 : 0;
}

static bool sentence_end(const char *p, size_t *len)
{
    if ((*p == '.' || *p == '!' || *p == '?') && (!p[1] || isspace((unsigned char)p[1]))) {
        *len = 1;
        return true;
    }
    if (!strncmp(p, "。", 3) || !strncmp(p, "！", 3) || !strncmp(p, "？", 3)) {
        *len = 3;
        return true;
    }
    return false;
}

/* The first k sentences of text, joined by a space: a sentence ends at a line end, at 。！？,
 * or at . ! ? followed by a space or the end. */
static void first_sentences(const char *text, int k, buf *out)
{
    const char *p = text;
    int n = 0;

    while (*p && n < k) {
        const char *start, *end;
        size_t len;

        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        for (start = p;; p++) {
            if (!*p || *p == '\n') {
                end = p;
                break;
            }
            if (sentence_end(p, &len)) {
                p += len;
                end = p;
                break;
            }
        }
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        if (end > start) {
            if (n++)
                zl_sbuf_str(out, " ");
            zl_sbuf_add(out, start, (size_t)(end - start));
        }
    }
}

/* How many distinct tokens of query occur among the tokens of fragment (linear: the texts
 * can be long). */
static int overlap(const char *query, const char *fragment)
{
    zl_strmap *frag = zl_strmap_new(NULL), *seen = zl_strmap_new(NULL);
    char tok[64];
    const char *p;
    int score = 0;

    if (!frag || !seen)
        goto out;
    for (p = fragment; next_token(&p, tok, sizeof tok);)
        if (zl_strmap_put(frag, tok, frag) != 0)
            goto out;
    for (p = query; next_token(&p, tok, sizeof tok);) {
        if (zl_strmap_get(seen, tok) || zl_strmap_put(seen, tok, seen) != 0)
            continue;
        score += zl_strmap_get(frag, tok) != NULL;
    }
out:
    zl_strmap_free(frag);
    zl_strmap_free(seen);
    return score;
}

/* ------------------------------------------------------------------ evaluating a task */

/* One submitted message as the model sees it. */
typedef struct eval {
    int code; /* 0, or the per-message errcode */
    const zl_message *msg;
    cJSON *content;   /* parsed content, owned */
    const char *text; /* borrowed from content; "" when none */
} eval;

static bool self_built(const task *t)
{
    return t->app->app->kind == ZL_APP_SELF_BUILT;
}

/* 0 when message it can be analysed, else 710601 / 710603 / 710602. */
static int check_item(task *t, const item *it, eval *e)
{
    zl_corp *c = t->app->corp;
    long i = zl_msgstore_find(c->messages, it->msgid);
    const zl_message *msg = i >= 0 ? zl_msgstore_at(c->messages, (size_t)i) : NULL;
    const cJSON *v;

    e->text = "";
    if (!msg || msg->send_time > zl_emu_now_ms(t->m->emu) / 1000 || !zl_msg_visible(c, msg))
        return 710601;
    if (strcmp(msg->secret_key, it->secret_key) != 0)
        return 710603;
    if (msg->msgtype != 1 && msg->msgtype != 6 && msg->msgtype != 21)
        return 710602;
    if (t->model == M_WW_MODEL && msg->msgtype != 1 && self_built(t) && t->m->ww_text_only)
        return 710602;
    e->msg = msg;
    e->content = cJSON_Parse(msg->content);
    v = zl_json_get(e->content, msg->msgtype == 1 ? "content" : "transcript");
    if (cJSON_IsString(v))
        e->text = v->valuestring;
    return 0;
}

/*
 * {chat}: one line per analysable message, "A(员工)说：<text>" for the general model (员工 for
 * members and robots, 客户 for customers) or "A说：<text>" for an own model or program
 * (letters in order of first appearance), and {chatcontent}: the texts. Lines are separated
 * by "\n", with none after the last.
 */
static void chat_text(const eval *ev, size_t n, bool general, buf *chat, buf *contents)
{
    const char **who = calloc(n ? n : 1, sizeof *who);
    size_t i, k, nwho = 0, lines = 0;
    char l[8];

    for (i = 0; i < n; i++) {
        if (ev[i].code || !ev[i].msg)
            continue;
        for (k = 0; who && k < nwho && strcmp(who[k], ev[i].msg->sender.id); k++)
            ;
        if (who && k == nwho)
            who[nwho++] = ev[i].msg->sender.id;
        if (lines++) {
            zl_sbuf_str(chat, "\n");
            zl_sbuf_str(contents, "\n");
        }
        zl_placeholder_label(k, l);
        zl_sbuf_str(chat, l);
        if (general)
            zl_sbuf_str(chat, ev[i].msg->sender.type == ZL_PARTY_EXTERNAL ? "(客户)" : "(员工)");
        zl_sbuf_str(chat, "说：");
        zl_sbuf_str(chat, ev[i].text);
        zl_sbuf_str(contents, ev[i].text);
    }
    free(who);
}

static const cJSON *knowledge_of(struct zl_models *m, const zl_corp *c, const char *kb_id)
{
    char key[ZL_WORLD_MAX_ID + MAX_KB_ID + 2];

    if (!kb_id)
        return NULL;
    snprintf(key, sizeof key, "%s\x1f%s", c->corpid, kb_id);
    return zl_strmap_get(m->knowledge, key);
}

/* The fragment of frags that best overlaps query (NULL when none overlaps). */
static const char *best_fragment(const cJSON *frags, const char *query)
{
    const cJSON *f;
    const char *best = NULL;
    int top = 0;

    cJSON_ArrayForEach(f, frags)
    {
        int s = overlap(query, f->valuestring);

        if (s > top) {
            top = s;
            best = f->valuestring;
        }
    }
    return best;
}

/* {knowledge}: the top K fragments by overlap with query, "文档1：<fragment>" lines (separated
 * by "\n"). */
static void knowledge_text(const cJSON *frags, const char *query, buf *out)
{
    int n = cJSON_GetArraySize(frags), i, k, *score, *used;

    if (n == 0 || !(score = calloc((size_t)n, sizeof *score)))
        return;
    if (!(used = calloc((size_t)n, sizeof *used))) {
        free(score);
        return;
    }
    for (i = 0; i < n; i++)
        score[i] = overlap(query, cJSON_GetArrayItem(frags, i)->valuestring);
    for (k = 0; k < KNOWLEDGE_TOP_K && k < n; k++) {
        int best = -1;
        char head[32];

        for (i = 0; i < n; i++)
            if (!used[i] && (best < 0 || score[i] > score[best]))
                best = i;
        used[best] = 1;
        snprintf(head, sizeof head, "%s文档%d：", k ? "\n" : "", k + 1);
        zl_sbuf_str(out, head);
        zl_sbuf_str(out, cJSON_GetArrayItem(frags, best)->valuestring);
    }
    free(score);
    free(used);
}

/* The library's groups named by the task (args.tag_groups), as {tagjson}'s tag_group list. */
static cJSON *task_groups(struct zl_models *m, const task *t)
{
    const cJSON *lib = m->tags[corp_index(m->emu, t->app->corp)],
                *ids = zl_json_get(t->args, "tag_groups"), *id, *g;
    cJSON *out = cJSON_CreateArray();

    cJSON_ArrayForEach(id, ids)
    {
        cJSON_ArrayForEach(g, lib)
        {
            if (!strcmp(zl_json_get(g, "group_id")->valuestring, id->valuestring)) {
                cJSON_AddItemToArray(out, cJSON_Duplicate(g, 1));
                break;
            }
        }
    }
    return out;
}

/* {"tag_group":[...]}: the task's tag groups as {tagjson} (owned by the caller). */
static char *tag_json(struct zl_models *m, const task *t)
{
    cJSON *tj = cJSON_CreateObject();
    char *s;

    cJSON_AddItemToObject(tj, "tag_group", task_groups(m, t));
    s = cJSON_PrintUnformatted(tj);
    cJSON_Delete(tj);
    return s;
}

/* The general model's input for a third-party / 代开发 app: the ability's input protocol
 * (or "{knowledge}{chat}") with the placeholders of sdk-api.md §6.4 replaced as they are. */
static void ww_input(struct zl_models *m, task *t, const char *chat, const char *contents,
                     const char *knowledge, buf *out)
{
    const cJSON *tpl = zl_json_get(t->args, "template"), *va = zl_json_get(t->args, "var_args"), *v;
    zl_placeholder ph[4 + MAX_VAR_ARGS];
    char names[MAX_VAR_ARGS][MAX_VAR_NAME + 5], *tagjson = tag_json(m, t);
    size_t n = 0;

    ph[n++] = (zl_placeholder){"{chat}", chat};
    ph[n++] = (zl_placeholder){"{chatcontent}", contents};
    ph[n++] = (zl_placeholder){"{knowledge}", knowledge};
    ph[n++] = (zl_placeholder){"{tagjson}", tagjson ? tagjson : ""};
    cJSON_ArrayForEach(v, va)
    {
        if (n - 4 >= MAX_VAR_ARGS)
            break;
        snprintf(names[n - 4], sizeof names[0], "{$%s$}", zl_json_get(v, "name")->valuestring);
        ph[n] = (zl_placeholder){names[n - 4], zl_json_get(v, "value")->valuestring};
        n++;
    }
    zl_placeholder_expand(cJSON_IsString(tpl) ? tpl->valuestring : "{knowledge}{chat}", ph, n,
                          ZL_ESCAPE_NONE, out);
    cJSON_free(tagjson);
}

static bool ww_thinking(const char *model_id)
{
    size_t i;

    for (i = 0; i < sizeof WW_MODELS / sizeof *WW_MODELS; i++)
        if (!strcmp(WW_MODELS[i].id, model_id))
            return WW_MODELS[i].thinking;
    return false;
}

static const char *arg_str(const task *t, const char *key)
{
    const cJSON *v = zl_json_get(t->args, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A scripted result as response_data: a string as is, other JSON as its text. */
static void add_response_data(cJSON *out, const cJSON *result)
{
    char *s;

    if (cJSON_IsString(result)) {
        cJSON_AddStringToObject(out, "response_data", result->valuestring);
        return;
    }
    s = cJSON_PrintUnformatted(result);
    cJSON_AddStringToObject(out, "response_data", s ? s : "");
    cJSON_free(s);
}

/* The per-message result of message i of a sentiment or spam task: a per-message rule, a
 * task rule (a number for every message, or {msgid: number}), else the default. */
static int message_result(const task *t, size_t i, const eval *e)
{
    const answer *ia = &t->items[i].a;
    const cJSON *r = t->a.set ? t->a.result : NULL;

    if (ia->set && ia->result)
        return (int)ia->result->valuedouble;
    if (cJSON_IsNumber(r))
        return (int)r->valuedouble;
    if (cJSON_IsObject(r) && cJSON_IsNumber(zl_json_get(r, t->items[i].msgid)))
        return (int)zl_json_get(r, t->items[i].msgid)->valuedouble;
    return t->model == M_SENTIMENT ? sentiment_of(e->text) : spam_of(e->text);
}

static void default_tags(struct zl_models *m, const task *t, const char *contents, cJSON *list)
{
    cJSON *groups = task_groups(m, t);
    const cJSON *g, *tag;

    cJSON_ArrayForEach(g, groups)
    {
        cJSON_ArrayForEach(tag, zl_json_get(g, "tag_list"))
        {
            if (contains_nocase(contents, zl_json_get(tag, "tag_name")->valuestring)) {
                cJSON *o = cJSON_CreateObject();

                cJSON_AddStringToObject(o, "group_id", zl_json_get(g, "group_id")->valuestring);
                cJSON_AddStringToObject(o, "tag_id", zl_json_get(tag, "tag_id")->valuestring);
                cJSON_AddItemToArray(list, o);
            }
        }
    }
    cJSON_Delete(groups);
}

static void journal_task(task *t)
{
    zl_emu *emu = t->m->emu;
    cJSON *j = cJSON_CreateObject();
    const cJSON *ec = zl_json_get(t->outcome, "errcode");

    cJSON_AddStringToObject(j, "jobid", t->jobid);
    cJSON_AddStringToObject(j, "model", MODELS[t->model].name);
    cJSON_AddStringToObject(j, "corpid", t->app->corp->corpid);
    cJSON_AddNumberToObject(j, "agentid", t->app->app->agentid);
    cJSON_AddStringToObject(j, "phase", PHASES[t->phase]);
    cJSON_AddNumberToObject(j, "status", t->phase == PH_DONE ? 1 : t->phase == PH_FAILED ? 2 : 0);
    if (ec)
        cJSON_AddNumberToObject(j, "errcode", ec->valuedouble);
    cJSON_AddBoolToObject(j, "scripted", t->a.set);
    if (t->target) {
        cJSON_AddStringToObject(j, "target", t->target->prog->program_id);
        cJSON_AddStringToObject(j, "ability_id", t->target->prog->abilities[t->ability].ability_id);
    }
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "sdk", "model_task", j);
}

/* Computes the task's answer (the outcome) and marks it done or failed. */
static void finish(task *t)
{
    struct zl_models *m = t->m;
    eval *ev = calloc(t->n ? t->n : 1, sizeof *ev);
    cJSON *out = cJSON_CreateObject(), *fails;
    buf chat = {0}, contents = {0}, input = {0}, know = {0}, resp = {0};
    const cJSON *frags = NULL;
    const char *last = "";
    size_t i, valid = 0;
    int code = 0;
    bool uses_input = t->model != M_SENTIMENT && t->model != M_SPAM;

    if (!ev || !out) { /* out of memory: the task fails with -1 (system busy) */
        free(ev);
        ev = NULL;
        cJSON_AddNumberToObject(out, "errcode", -1);
        code = -1;
        goto done;
    }
    cJSON_AddNumberToObject(out, "errcode", 0);
    fails = cJSON_AddArrayToObject(out, "fail_list");
    for (i = 0; i < t->n; i++) {
        const answer *ia = &t->items[i].a;

        ev[i].text = "";
        if (ia->set && ia->status == ST_FAILED)
            ev[i].code = ia->errcode;
        else if (!(ia->set && ia->result))
            ev[i].code = check_item(t, &t->items[i], &ev[i]);
        if (ev[i].code)
            fail_item(fails, ev[i].code, t->items[i].msgid);
        else {
            valid++;
            last = ev[i].text;
        }
    }
    if (uses_input) {
        const char *kb_id = arg_str(t, "kb_id"), *words = arg_str(t, "kb_retrieval_words");

        chat_text(ev, t->n, true, &chat, &contents);
        frags = knowledge_of(m, t->app->corp, kb_id);
        knowledge_text(frags, words ? words : last, &know);
        if (t->model == M_WW_MODEL && !self_built(t))
            ww_input(m, t, zl_sbuf_text(&chat), zl_sbuf_text(&contents), zl_sbuf_text(&know),
                     &input);
        else {
            if (t->model == M_WW_MODEL && know.len) {
                zl_sbuf_str(&input, zl_sbuf_text(&know));
                zl_sbuf_str(&input, "\n");
            }
            zl_sbuf_str(&input, zl_sbuf_text(&chat));
        }
    }
    if (t->a.set && t->a.status == ST_FAILED)
        code = t->a.errcode;
    else if (!(t->a.set && t->a.result)) { /* the default answer: the input rules apply */
        if (t->n > 0 && valid == 0)
            code = 710637;
        else if (uses_input && zl_utf8_chars(zl_sbuf_text(&input)) > MAX_INPUT_CHARS)
            code = 790040;
    }
    if (MODELS[t->model].result_key) {
        cJSON *list = cJSON_AddArrayToObject(out, "analyze_result_list");

        for (i = 0; i < t->n; i++) {
            cJSON *o = cJSON_CreateObject();

            cJSON_AddNumberToObject(o, "errcode", ev[i].code);
            cJSON_AddStringToObject(o, "errmsg", ev[i].code ? text_of(ev[i].code) : "ok");
            cJSON_AddStringToObject(o, "msgid", t->items[i].msgid);
            if (!ev[i].code && !code)
                cJSON_AddNumberToObject(o, MODELS[t->model].result_key,
                                        message_result(t, i, &ev[i]));
            cJSON_AddItemToArray(list, o);
        }
    } else if (!code && t->model == M_CUSTOMER_TAG) {
        if (t->a.set && t->a.result)
            cJSON_AddItemToObject(out, "tag_result_list", cJSON_Duplicate(t->a.result, 1));
        else
            default_tags(m, t, zl_sbuf_text(&contents),
                         cJSON_AddArrayToObject(out, "tag_result_list"));
    } else if (!code && t->a.set && t->a.result)
        add_response_data(out, t->a.result);
    else if (!code) {
        if (t->model == M_SUMMARY)
            first_sentences(zl_sbuf_text(&contents), SUMMARY_SENTENCES, &resp);
        else if (t->model == M_RECOMMEND) {
            const char *best = best_fragment(frags, last);

            zl_sbuf_str(&resp,
                        best ? best : "Thanks for your message, we will get back to you soon.");
        } else {
            const char *model_id = arg_str(t, "model_id"),
                       *words = arg_str(t, "kb_retrieval_words");

            if (cJSON_IsTrue(zl_json_get(t->args, "need_think_result")) && ww_thinking(model_id))
                zl_sbuf_str(&resp, "<think>zonelab echoes the last message</think>");
            zl_sbuf_str(&resp, "zonelab echo (");
            zl_sbuf_str(&resp, model_id);
            zl_sbuf_str(&resp, "): ");
            zl_sbuf_str(&resp, valid ? last : words ? words : "");
        }
        cJSON_AddStringToObject(out, "response_data", zl_sbuf_text(&resp));
    }
    cJSON_ReplaceItemInObjectCaseSensitive(out, "errcode", cJSON_CreateNumber(code));
done:
    cJSON_AddNumberToObject(out, "status", code ? 2 : 1);
    for (i = 0; ev && i < t->n; i++)
        cJSON_Delete(ev[i].content);
    free(ev);
    free(chat.s);
    free(contents.s);
    free(input.s);
    free(know.s);
    free(resp.s);
    cJSON_Delete(t->outcome);
    t->outcome = out;
    t->phase = code ? PH_FAILED : PH_DONE;
    t->finished_ms = zl_emu_now_ms(m->emu);
    journal_task(t);
}

/* ------------------------------------------------------------------ the clock */

static void on_due(zl_engine *e, void *ud)
{
    task *t = ud;

    (void)e;
    t->timer = 0;
    if (t->phase < PH_DONE)
        finish(t);
}

static bool held(const task *t)
{
    return t->a.set && t->a.status == ST_PENDING;
}

/* A running task waits for its due time, unless a script holds it. */
static void arm(task *t)
{
    if (t->timer)
        zl_engine_timer_cancel(t->m->emu->engine, t->timer);
    t->timer = held(t) ? 0 : zl_engine_timer(t->m->emu->engine, t->due_ms, on_due, t);
}

static void start(task *t)
{
    t->phase = PH_RUNNING;
    journal_task(t);
}

static void on_start(zl_engine *e, void *ud)
{
    task *t = ud;

    (void)e;
    t->timer = 0;
    if (t->phase != PH_WAITING)
        return;
    start(t);
    arm(t);
}

/* Brings t up to the virtual now (a get may come before the loop fired the timers). */
static void settle(task *t)
{
    if (t->phase >= PH_DONE || held(t) || zl_emu_now_ms(t->m->emu) < t->due_ms)
        return;
    if (t->timer)
        zl_engine_timer_cancel(t->m->emu->engine, t->timer);
    t->timer = 0;
    if (t->phase == PH_WAITING)
        start(t);
    finish(t);
}

static void own_settle(task *t);
static bool own(model_kind k);

static int task_expired(const char *key, void *value, void *ud)
{
    task *t = value;
    const int64_t *cut = ud;

    (void)key;
    if (own(t->model))
        own_settle(t);
    return t->phase >= PH_DONE && t->finished_ms <= *cut && !t->calling;
}

/* Finished tasks are kept opt.job_ttl_s (24 h), as async jobs are. */
static void sweep(struct zl_models *m)
{
    int64_t cut = zl_emu_now_ms(m->emu) - m->emu->opt.job_ttl_s * 1000;

    zl_strmap_sweep(m->tasks, task_expired, &cut);
}

/* ------------------------------------------------------------------ scripted answers */

static void answer_copy(answer *dst, const answer *src)
{
    *dst = *src;
    dst->result = src->result ? cJSON_Duplicate(src->result, 1) : NULL;
}

static void use(rule *r)
{
    if (r->times > 0)
        r->times--;
}

static bool task_has(const task *t, const char *msgid)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        if (!strcmp(t->items[i].msgid, msgid))
            return true;
    return false;
}

/* The rules a new task takes: the first task rule that fits, and for sentiment and spam the
 * first per-message rule of each message. */
static void take_rules(struct zl_models *m, task *t)
{
    bool per_message = MODELS[t->model].result_key != NULL;
    rule *r;
    size_t i;

    for (r = m->rules; r; r = r->next) {
        if (r->model != t->model || r->times == 0 || (r->msgid && per_message) ||
            (r->msgid && !task_has(t, r->msgid)))
            continue;
        answer_copy(&t->a, &r->a);
        use(r);
        break;
    }
    for (i = 0; per_message && i < t->n; i++)
        for (r = m->rules; r; r = r->next)
            if (r->model == t->model && r->times != 0 && r->msgid &&
                !strcmp(r->msgid, t->items[i].msgid)) {
                answer_copy(&t->items[i].a, &r->a);
                use(r);
                break;
            }
}

/* ------------------------------------------------------------------ create_* */

/* msg_list into t->items (first occurrences), duplicates into fails. NULL or the reply. */
static cJSON *parse_msgs(sdk_ctx *x, struct zl_models *m, task *t, bool required, cJSON *fails)
{
    const cJSON *list = zl_json_get(x->req, "msg_list"), *e;
    zl_strmap *seen = NULL;
    cJSON *bad = NULL;
    int n, i = 0;

    if (!list)
        return required ? zl_sdk_err(x, 40058, "msg_list is required") : NULL;
    if (!cJSON_IsArray(list))
        return zl_sdk_err(x, 40058,
                          "msg_list must be an array of {msgid, encrypt_info:{secret_key}}");
    n = cJSON_GetArraySize(list);
    if (n == 0)
        return zl_sdk_errf(x, 40058, "msg_list must hold 1 to %d items", MAX_MSGS);
    if (n > MAX_MSGS)
        return zl_sdk_errf(x, 710623, "msg_list holds %d items, at most %d", n, MAX_MSGS);
    if (!(t->items = calloc((size_t)n, sizeof *t->items)) || !(seen = zl_strmap_new(NULL)))
        return zl_sdk_err(x, -1, "out of memory");
    cJSON_ArrayForEach(e, list)
    {
        const cJSON *id = zl_json_get(e, "msgid"),
                    *key = zl_json_get(zl_json_get(e, "encrypt_info"), "secret_key");
        item *it;

        if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > ZL_WORLD_MAX_ID) {
            bad = zl_sdk_errf(x, 40058, "msg_list[%d].msgid must be a string of 1 to %d bytes", i,
                              ZL_WORLD_MAX_ID);
            break;
        }
        if (!cJSON_IsString(key) || strlen(key->valuestring) > MAX_SECRET) {
            bad = zl_sdk_errf(
                x, 40058,
                "msg_list[%d].encrypt_info.secret_key must be a string of at most %d bytes", i,
                MAX_SECRET);
            break;
        }
        i++;
        if (zl_strmap_get(seen, id->valuestring)) { /* the first occurrence counts */
            cJSON *f = cJSON_CreateObject();

            cJSON_AddNumberToObject(f, "errcode", m->dup_errcode);
            cJSON_AddStringToObject(f, "errmsg", text_of(m->dup_errcode));
            cJSON_AddStringToObject(f, "msgid", id->valuestring);
            cJSON_AddStringToObject(cJSON_AddObjectToObject(f, "encrypt_info"), "secret_key",
                                    key->valuestring);
            cJSON_AddItemToArray(fails, f);
            continue;
        }
        it = &t->items[t->n++];
        if (!(it->msgid = strdup(id->valuestring)) ||
            !(it->secret_key = strdup(key->valuestring)) ||
            zl_strmap_put(seen, id->valuestring, it) != 0) {
            bad = zl_sdk_err(x, -1, "out of memory");
            break;
        }
    }
    zl_strmap_free(seen);
    return bad;
}

/* tag_group_list: known group ids into args.tag_groups, unknown ones into *unknown. */
static cJSON *tag_groups_arg(sdk_ctx *x, struct zl_models *m, bool required, cJSON *args,
                             cJSON **unknown)
{
    const cJSON *l = zl_json_get(x->req, "tag_group_list"), *g, *lib, *lg;
    cJSON *known;
    int i = 0;

    *unknown = NULL;
    if (!l)
        return required ? zl_sdk_err(x, 40058, "tag_group_list is required: [{\"group_id\":...}]")
                        : NULL;
    if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) < 1 || cJSON_GetArraySize(l) > MAX_TAG_GROUPS)
        return zl_sdk_errf(x, 40058, "tag_group_list must be an array of 1 to %d {group_id}",
                           MAX_TAG_GROUPS);
    lib = m->tags[corp_index(x->emu, x->app->corp)];
    known = cJSON_AddArrayToObject(args, "tag_groups");
    *unknown = cJSON_CreateArray();
    cJSON_ArrayForEach(g, l)
    {
        const cJSON *id = zl_json_get(g, "group_id");
        bool found = false;

        if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > ZL_WORLD_MAX_ID) {
            cJSON_Delete(*unknown);
            *unknown = NULL;
            return zl_sdk_errf(x, 40058,
                               "tag_group_list[%d].group_id must be a string of 1 to %d bytes", i,
                               ZL_WORLD_MAX_ID);
        }
        cJSON_ArrayForEach(lg, lib)
        {
            found = found || !strcmp(zl_json_get(lg, "group_id")->valuestring, id->valuestring);
        }
        cJSON_AddItemToArray(found ? known : *unknown, cJSON_CreateString(id->valuestring));
        i++;
    }
    return NULL;
}

/* kb_id: "" counts as absent when optional; a set the app cannot use answers its code. */
static cJSON *kb_arg(sdk_ctx *x, bool required, cJSON *args)
{
    const char *kb;
    cJSON *e;
    int code;

    if ((e = zl_sdk_opt_str(x, "kb_id", MAX_KB_ID, &kb)))
        return e;
    if (!kb || !*kb)
        return required ? zl_sdk_err(x, 40058, "kb_id is required") : NULL;
    if ((code = zl_kb_usable(x->emu, x->app, kb)) != 0)
        return zl_sdk_err(x, code, NULL);
    cJSON_AddStringToObject(args, "kb_id", kb);
    return NULL;
}

static bool well_formed_ability(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > MAX_ABILITY_ID)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

/* The general model's fields (sdk-api.md §6.3: 53707 for self-built apps, 56425 for the
 * others) into args; unknown tag group ids into *unknown. */
static cJSON *ww_args(sdk_ctx *x, struct zl_models *m, cJSON *args, cJSON **unknown)
{
    bool self = x->app->app->kind == ZL_APP_SELF_BUILT;
    const cJSON *think = zl_json_get(x->req, "need_think_result"), *va, *v;
    const char *model_id = NULL, *ability = NULL, *words = NULL;
    cJSON *e;
    size_t i, k;

    if ((e = zl_sdk_opt_str(x, "model_id", MAX_MODEL_ID, &model_id)))
        return e;
    if (!model_id || !*model_id)
        model_id = WW_MODELS[0].id;
    for (i = 0; i < sizeof WW_MODELS / sizeof *WW_MODELS; i++)
        if (!strcmp(WW_MODELS[i].id, model_id) && (self || !WW_MODELS[i].self_built_only))
            break;
    if (i == sizeof WW_MODELS / sizeof *WW_MODELS)
        return zl_sdk_errf(
            x, 40058, "model_id must be hunyuan_fast (default), hunyuan_think, deepseek_think%s",
            self ? " or deepseek_fast" : "");
    cJSON_AddStringToObject(args, "model_id", model_id);
    if (think && !cJSON_IsBool(think))
        return zl_sdk_err(x, 40058, "need_think_result must be a bool");
    cJSON_AddBoolToObject(args, "need_think_result", cJSON_IsTrue(think));
    if ((e = kb_arg(x, false, args)))
        return e;
    if (self)
        return NULL;
    if ((e = zl_sdk_opt_str(x, "ability_id", 1024, &ability)))
        return e;
    if (!ability)
        return zl_sdk_err(x, 40058, "ability_id is required for a third-party or custom app");
    if (!well_formed_ability(ability))
        return zl_sdk_err(x, 710636, "ability_id is 1 to 64 characters of [A-Za-z0-9_.-]");
    cJSON_AddStringToObject(args, "ability_id", ability);
    for (i = 0; i < x->app->corp->program_count; i++) {
        zl_ability *ab = zl_program_ability(&x->app->corp->programs[i], ability);

        if (ab) {
            cJSON_AddStringToObject(args, "template", ab->input_protocol);
            break;
        }
    }
    if ((e = zl_sdk_opt_str(x, "kb_retrieval_words", 4 * MAX_RETRIEVAL, &words)))
        return e;
    if (words && (zl_utf8_chars(words) < 1 || zl_utf8_chars(words) > MAX_RETRIEVAL))
        return zl_sdk_errf(x, 40058, "kb_retrieval_words must be 1 to %d characters",
                           MAX_RETRIEVAL);
    if (words)
        cJSON_AddStringToObject(args, "kb_retrieval_words", words);
    if (!zl_json_get(x->req, "msg_list") && !zl_json_get(args, "kb_id"))
        return zl_sdk_err(x, 40058, "give kb_id or msg_list (or both)");
    if (!zl_json_get(x->req, "msg_list") && !words)
        return zl_sdk_err(x, 40058, "kb_retrieval_words is required without msg_list");
    if ((va = zl_json_get(x->req, "var_args"))) {
        if (!cJSON_IsArray(va) || cJSON_GetArraySize(va) > MAX_VAR_ARGS)
            return zl_sdk_errf(x, 40058, "var_args must be an array of at most %d {name, value}",
                               MAX_VAR_ARGS);
        k = 0;
        cJSON_ArrayForEach(v, va)
        {
            const cJSON *n = zl_json_get(v, "name"), *val = zl_json_get(v, "value");

            if (!cJSON_IsString(n) || !*n->valuestring || strlen(n->valuestring) > MAX_VAR_NAME ||
                !cJSON_IsString(val) || zl_utf8_chars(val->valuestring) < 1 ||
                zl_utf8_chars(val->valuestring) > MAX_VAR_VALUE)
                return zl_sdk_errf(x, 40058,
                                   "var_args[%zu] needs name (1 to %d bytes) and value (1 to %d "
                                   "characters)",
                                   k, MAX_VAR_NAME, MAX_VAR_VALUE);
            k++;
        }
        cJSON_AddItemToObject(args, "var_args", cJSON_Duplicate(va, 1));
    }
    return tag_groups_arg(x, m, false, args, unknown);
}

/* Counts the call (or its messages) against the corp's budget: NULL, or the 45009 reply. */
static cJSON *charge(sdk_ctx *x, struct zl_models *m, model_kind k, size_t msgs)
{
    quota *q = &m->quotas[corp_index(x->emu, x->app->corp)];
    int64_t now_s = zl_emu_now_ms(x->emu) / 1000, day = (now_s + DAY_OFFSET_S) / 86400;
    long long cost = MODELS[k].per_message_quota ? (long long)msgs : 1;
    bool per_min = k == M_WW_MODEL && x->app->app->kind != ZL_APP_SELF_BUILT;

    if (q->day != day) {
        q->day = day;
        memset(q->used, 0, sizeof q->used);
    }
    if (now_s - q->minute >= 60) { /* a minute starts with the first call after the last */
        q->minute = now_s;
        q->minute_used = 0;
    }
    if (q->used[k] + cost > m->budget[k])
        return zl_sdk_errf(x, 45009, "%s: %lld %s per corp per day, %lld used", MODELS[k].name,
                           m->budget[k], MODELS[k].per_message_quota ? "messages" : "calls",
                           q->used[k]);
    if (per_min && q->minute_used + 1 > m->per_minute)
        return zl_sdk_errf(x, 45009, "ww_model: %lld calls per minute", m->per_minute);
    q->used[k] += cost;
    q->minute_used += per_min;
    return NULL;
}

/* A new task of model k for the calling app (NULL when memory ran out). */
static task *task_new(sdk_ctx *x, struct zl_models *m, model_kind k)
{
    task *t = m ? calloc(1, sizeof *t) : NULL;

    if (t && !(t->args = cJSON_CreateObject())) {
        free(t);
        return NULL;
    }
    if (t) {
        t->m = m;
        t->model = k;
        t->app = x->app;
    }
    return t;
}

/* Gives t a fresh jobid and keeps it (m->tasks owns it from then on): NULL, or the reply. */
static cJSON *task_keep(sdk_ctx *x, struct zl_models *m, task *t)
{
    sweep(m);
    do {
        memcpy(t->jobid, JOBID_PREFIX, strlen(JOBID_PREFIX));
        zl_engine_random_hex(x->emu->engine, t->jobid + strlen(JOBID_PREFIX), 16);
    } while (zl_strmap_get(m->tasks, t->jobid));
    if (zl_strmap_put(m->tasks, t->jobid, t) != 0)
        return zl_sdk_err(x, -1, "out of memory");
    return NULL;
}

/* A create_* reply: the jobid, the duplicates and any unknown tag groups (both taken). */
static cJSON *created(sdk_ctx *x, const task *t, cJSON *fails, cJSON *unknown)
{
    cJSON *reply = zl_sdk_err(x, 0, NULL);

    cJSON_AddStringToObject(reply, "jobid", t->jobid);
    cJSON_AddItemToObject(reply, "fail_list", fails);
    if (unknown && cJSON_GetArraySize(unknown) > 0)
        cJSON_AddItemToObject(reply, "fail_tag_group_id_list", unknown);
    else
        cJSON_Delete(unknown);
    return reply;
}

static cJSON *create(sdk_ctx *x, model_kind k)
{
    struct zl_models *m = state(x->emu);
    zl_engine *eng = x->emu->engine;
    cJSON *e = NULL, *fails = cJSON_CreateArray(), *unknown = NULL;
    const char *model_id;
    task *t = NULL;
    int64_t now = zl_emu_now_ms(x->emu);

    if (!(t = task_new(x, m, k))) {
        cJSON_Delete(fails);
        return zl_sdk_err(x, -1, "out of memory");
    }
    if (k == M_WW_MODEL && !x->app->app->general_model) {
        e = zl_sdk_errf(x, 710644, "app %u has no general-model grant (world: general_model)",
                        x->app->app->agentid);
        goto fail;
    }
    if (k == M_WW_MODEL && (e = ww_args(x, m, t->args, &unknown)))
        goto fail;
    if ((e = parse_msgs(x, m, t, k != M_WW_MODEL || x->app->app->kind == ZL_APP_SELF_BUILT, fails)))
        goto fail;
    if (k == M_CUSTOMER_TAG) {
        if ((e = tag_groups_arg(x, m, true, t->args, &unknown)) ||
            (e = zl_sdk_opt_str(x, "model_id", MAX_MODEL_ID, &model_id)))
            goto fail;
        if (model_id)
            cJSON_AddStringToObject(t->args, "model_id", model_id);
    }
    if (k == M_RECOMMEND && (e = kb_arg(x, true, t->args)))
        goto fail;
    if ((e = charge(x, m, k, t->n)))
        goto fail;
    if ((e = task_keep(x, m, t)))
        goto fail;
    take_rules(m, t);
    t->created_ms = now;
    t->due_ms = now + (t->a.set && t->a.latency_ms >= 0 ? t->a.latency_ms : m->latency_ms);
    t->phase = PH_WAITING;
    journal_task(t);
    t->timer = zl_engine_timer(eng, now, on_start, t);
    return created(x, t, fails, unknown);
fail:
    task_free(t);
    cJSON_Delete(fails);
    cJSON_Delete(unknown);
    return e;
}

/* ------------------------------------------------------------------ own model / program tasks */

/*
 * create_model_task and create_program_task (sdk-api.md §6.3 to §6.5): the target's ability
 * input protocol is filled (placeholder.h) and sent to a replica of the target as an async
 * call_type 1 request; the target acknowledges within ack_timeout_ms and reports the result
 * with program_async_job_call_back, which ends the task (zl_models_on_report).
 */

static bool own(model_kind k)
{
    return k == M_MODEL || k == M_PROGRAM;
}

static bool debug_on(const zl_prog_rt *p)
{
    return p->debug_app_open && p->debug_sdk_open;
}

static bool associated(const zl_prog_rt *p, uint32_t agentid)
{
    size_t i;

    for (i = 0; i < p->prog->agentid_count; i++)
        if (p->prog->agentids[i] == agentid)
            return true;
    return false;
}

/* model_id or program_id, and ability_id: the target and its ability into t. */
static cJSON *target_arg(sdk_ctx *x, task *t)
{
    bool model = t->model == M_MODEL;
    const char *key = model ? "model_id" : "program_id", *id = NULL, *ab = NULL;
    zl_prog_rt *p;
    cJSON *e;
    size_t i;

    if ((e = zl_sdk_opt_str(x, key, ZL_WORLD_MAX_ID, &id)) ||
        (e = zl_sdk_opt_str(x, "ability_id", 1024, &ab)))
        return e;
    if (!id || !*id)
        return zl_sdk_errf(x, 40058, "%s is required", key);
    if (!ab || !*ab)
        return zl_sdk_errf(x, 40058, "ability_id is required: an ability of the %s",
                           model ? "model" : "program");
    p = zl_emu_prog(x->emu, x->app->corp->corpid, id);
    if (model && (!p || p->prog->role != ZL_ROLE_MODEL))
        return zl_sdk_errf(x, 710635, "%s is not a model of corp %s", id, x->app->corp->corpid);
    if (!model && (!p || p->prog->role != ZL_ROLE_PROGRAM))
        return zl_sdk_errf(x, 710645, "%s is not a program of corp %s", id, x->app->corp->corpid);
    if (!associated(p, x->app->app->agentid))
        return zl_sdk_errf(x, 790020, "%s is not associated with app %u", id, x->app->app->agentid);
    if (!well_formed_ability(ab))
        return zl_sdk_err(x, 710636, "ability_id is 1 to 64 characters of [A-Za-z0-9_.-]");
    for (i = 0; i < p->prog->ability_count && strcmp(p->prog->abilities[i].ability_id, ab); i++)
        ;
    if (i == p->prog->ability_count)
        return zl_sdk_errf(x, 710636, "%s has no ability %s", id, ab);
    t->target = p;
    t->ability = i;
    return NULL;
}

/* debug_info: {chat, chat_content, knowledge, tagjson} for a model, {chat, chat_content} for a
 * program; every value a string. Kept in t->args. */
static cJSON *debug_arg(sdk_ctx *x, task *t)
{
    static const char *const MODEL_KEYS[] = {"chat", "chat_content", "knowledge", "tagjson", NULL};
    static const char *const PROGRAM_KEYS[] = {"chat", "chat_content", NULL};
    bool model = t->model == M_MODEL;
    const cJSON *d = zl_json_get(x->req, "debug_info"), *v;

    if (!d)
        return NULL;
    if (!cJSON_IsObject(d))
        return zl_sdk_errf(x, 40058, "debug_info is an object {%s}",
                           model ? "chat, chat_content, knowledge, tagjson" : "chat, chat_content");
    cJSON_ArrayForEach(v, d)
    {
        if (!in_list(model ? MODEL_KEYS : PROGRAM_KEYS, v->string))
            return zl_sdk_errf(x, 40058, "debug_info of %s has only %s", x->inv.api,
                               model ? "chat, chat_content, knowledge and tagjson"
                                     : "chat and chat_content");
        if (!cJSON_IsString(v) || strlen(v->valuestring) > MAX_DEBUG_TEXT)
            return zl_sdk_errf(x, 40058, "debug_info.%s is a string of at most %d bytes", v->string,
                               MAX_DEBUG_TEXT);
    }
    cJSON_AddItemToObject(t->args, "debug_info", cJSON_Duplicate(d, 1));
    return NULL;
}

static const char *debug_str(const task *t, const char *key)
{
    const cJSON *v = zl_json_get(zl_json_get(t->args, "debug_info"), key);

    return cJSON_IsString(v) ? v->valuestring : "";
}

/*
 * Fills the target ability's input protocol: from debug_info in debug mode, else from the
 * messages (their per-message failures into fails). Returns the number of messages that
 * could be used (debug mode: every one, as msg_list is ignored).
 */
static size_t own_input(struct zl_models *m, task *t, cJSON *fails, buf *input)
{
    const char *tpl = t->target->prog->abilities[t->ability].input_protocol;
    buf chat = {0}, contents = {0}, know = {0};
    zl_placeholder ph[4];
    char *tagjson = NULL;
    eval *ev = NULL;
    size_t i, n = 0, valid = 0;
    const char *last = "";

    if (t->debug) {
        ph[n++] = (zl_placeholder){"{chat}", debug_str(t, "chat")};
        ph[n++] = (zl_placeholder){"{chatcontent}", debug_str(t, "chat_content")};
        if (t->model == M_MODEL) {
            ph[n++] = (zl_placeholder){"{knowledge}", debug_str(t, "knowledge")};
            ph[n++] = (zl_placeholder){"{tagjson}", debug_str(t, "tagjson")};
        }
        zl_placeholder_expand(tpl, ph, n, t->escape_type, input);
        return t->n;
    }
    if (!(ev = calloc(t->n ? t->n : 1, sizeof *ev))) {
        input->oom = true;
        return 0;
    }
    for (i = 0; i < t->n; i++) {
        if ((ev[i].code = check_item(t, &t->items[i], &ev[i])) != 0)
            fail_item(fails, ev[i].code, t->items[i].msgid);
        else {
            valid++;
            last = ev[i].text;
        }
    }
    chat_text(ev, t->n, false, &chat, &contents);
    ph[n++] = (zl_placeholder){"{chat}", zl_sbuf_text(&chat)};
    ph[n++] = (zl_placeholder){"{chatcontent}", zl_sbuf_text(&contents)};
    if (t->model == M_MODEL) {
        const char *kb = arg_str(t, "kb_id");

        knowledge_text(knowledge_of(m, t->app->corp, kb ? kb : arg_str(t, "service_kb_id")), last,
                       &know);
        tagjson = tag_json(m, t);
        ph[n++] = (zl_placeholder){"{knowledge}", zl_sbuf_text(&know)};
        ph[n++] = (zl_placeholder){"{tagjson}", tagjson ? tagjson : ""};
    }
    zl_placeholder_expand(tpl, ph, n, t->escape_type, input);
    input->oom = input->oom || chat.oom || contents.oom || know.oom;
    for (i = 0; i < t->n; i++)
        cJSON_Delete(ev[i].content);
    free(ev);
    free(chat.s);
    free(contents.s);
    free(know.s);
    cJSON_free(tagjson);
    return valid;
}

/* Ends an own task: the target's report (job), or a failure code when job is NULL. */
static void own_end(task *t, const zl_job *job, int code)
{
    cJSON *out = cJSON_CreateObject(), *fails = cJSON_DetachItemFromObject(t->args, "fails");

    cJSON_AddNumberToObject(out, "errcode", job ? 0 : code);
    cJSON_AddItemToObject(out, "fail_list", fails ? fails : cJSON_CreateArray());
    if (job) {
        cJSON_AddNumberToObject(out, "response_errcode", job->response_errcode);
        cJSON_AddStringToObject(out, "response_data", job->result ? job->result : "");
    }
    cJSON_Delete(t->outcome);
    t->outcome = out;
    t->phase = job ? PH_DONE : PH_FAILED;
    t->finished_ms = zl_emu_now_ms(t->m->emu);
    journal_task(t);
}

static void journal_input(task *t, bool debug_ignored)
{
    zl_emu *emu = t->m->emu;
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "jobid", t->jobid);
    cJSON_AddStringToObject(j, "model", MODELS[t->model].name);
    cJSON_AddStringToObject(j, "corpid", t->app->corp->corpid);
    cJSON_AddNumberToObject(j, "agentid", t->app->app->agentid);
    cJSON_AddStringToObject(j, "target", t->target->prog->program_id);
    cJSON_AddStringToObject(j, "ability_id", t->target->prog->abilities[t->ability].ability_id);
    cJSON_AddNumberToObject(j, "escape_type", t->escape_type);
    cJSON_AddBoolToObject(j, "debug", t->debug);
    if (debug_ignored)
        cJSON_AddStringToObject(j, "note",
                                "debug_info ignored: the calling program is not in debug mode");
    cJSON_AddStringToObject(j, "input", t->input ? t->input : "");
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "sdk", "task_input", j);
}

static void on_ack(zl_emu *emu, const zl_call_result *res, void *ud)
{
    task *t = ud;
    zl_job *job = zl_strmap_get(emu->job_infos, t->job_info);
    cJSON *j;

    t->calling = false;
    if (job)
        job->dispatching = false;
    if (emu->closing)
        return;
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "req_id", t->req_id);
    cJSON_AddStringToObject(j, "program_id", t->target->prog->program_id);
    cJSON_AddStringToObject(j, "instance", t->target->replicas[res->replica].instance);
    cJSON_AddStringToObject(j, "ability_id", t->target->prog->abilities[t->ability].ability_id);
    cJSON_AddBoolToObject(j, "is_async", 1);
    cJSON_AddStringToObject(j, "jobid", t->jobid);
    cJSON_AddStringToObject(j, "job_info", t->job_info);
    zl_call_result_json(res, j);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "call", j);
    if (!res->errcode || t->phase >= PH_DONE) /* answered, or it reported already */
        return;
    if (job)
        job->state = 2; /* a late report gets 790010 */
    own_end(t, NULL, res->errcode);
}

/* Sends the task to a replica of its target (async call_type 1 with a fresh job_info). */
static void own_dispatch(task *t)
{
    zl_emu *emu = t->m->emu;
    zl_job *job = calloc(1, sizeof *job);
    zl_callback_args cb = {0};

    if (!job) {
        own_end(t, NULL, -1);
        return;
    }
    snprintf(job->jobid, sizeof job->jobid, "%s", t->jobid);
    memcpy(job->job_info, "ji_", 3);
    zl_engine_random_hex(emu->engine, job->job_info + 3, 24);
    memcpy(t->job_info, job->job_info, sizeof t->job_info);
    job->app = t->app;
    job->prog = t->target;
    job->ability = t->ability;
    job->created_ms = zl_emu_now_ms(emu);
    job->task = true;
    job->dispatching = true;
    if (zl_strmap_put(emu->jobs, job->jobid, job) != 0) {
        free(job);
        own_end(t, NULL, -1);
        return;
    }
    if (zl_strmap_put(emu->job_infos, job->job_info, job) != 0) {
        zl_strmap_del(emu->jobs, t->jobid);
        own_end(t, NULL, -1);
        return;
    }
    cb.corpid = t->app->corp->corpid;
    cb.agentid = t->app->app->agentid;
    cb.call_type = 1;
    cb.is_async = true;
    cb.data = t->input;
    cb.job_info = job->job_info;
    cb.ability_id = t->target->prog->abilities[t->ability].ability_id;
    cb.notify_id = "";
    cb.req_id = t->req_id;
    t->replica = zl_emu_pick_replica(t->target);
    t->calling = true;
    if (zl_emu_call_program(emu, t->target, t->replica, &cb, (long)t->m->ack_timeout_ms, on_ack,
                            t) != 0) {
        t->calling = false;
        job->dispatching = false;
        job->state = 2;
        own_end(t, NULL, 710638);
    }
}

static cJSON *create_own(sdk_ctx *x, model_kind k)
{
    struct zl_models *m = state(x->emu);
    cJSON *e = NULL, *fails = cJSON_CreateArray(), *msg_fails = NULL, *unknown = NULL;
    const char *skb = NULL;
    long long esc = 0;
    task *t = NULL;
    buf input = {0};
    bool caller_debug = debug_on(x->prog), ignored;
    size_t valid;

    if (!(t = task_new(x, m, k))) {
        cJSON_Delete(fails);
        return zl_sdk_err(x, -1, "out of memory");
    }
    snprintf(t->req_id, sizeof t->req_id, "%s", x->req_id);
    if ((e = target_arg(x, t)) || (e = debug_arg(x, t)) ||
        (e = zl_sdk_opt_int(x, "escape_type", 0, 1, &esc)))
        goto fail;
    t->escape_type = (int)esc;
    if (k == M_MODEL) {
        if ((e = kb_arg(x, false, t->args)) ||
            (e = zl_sdk_opt_str(x, "service_kb_id", MAX_KB_ID, &skb)) ||
            (e = tag_groups_arg(x, m, false, t->args, &unknown)))
            goto fail;
        if (skb && *skb)
            cJSON_AddStringToObject(t->args, "service_kb_id", skb);
    }
    if ((e = parse_msgs(x, m, t, true, fails)))
        goto fail;
    if (caller_debug && !debug_on(t->target)) {
        e = zl_sdk_errf(x, 710673, "%s is not in debug mode (the caller is)",
                        t->target->prog->program_id);
        goto fail;
    }
    t->debug = caller_debug;
    ignored = !caller_debug && zl_json_get(t->args, "debug_info");
    if ((e = charge(x, m, k, t->n)))
        goto fail;
    if ((e = task_keep(x, m, t)))
        goto fail;
    t->created_ms = zl_emu_now_ms(x->emu);
    t->due_ms = t->created_ms;
    t->phase = PH_RUNNING;
    msg_fails = cJSON_AddArrayToObject(t->args, "fails");
    valid = own_input(m, t, msg_fails, &input);
    t->input = input.oom ? NULL : input.s;
    if (input.oom)
        free(input.s);
    journal_input(t, ignored);
    if (!t->input)
        own_end(t, NULL, -1);
    else if (t->n > 0 && valid == 0)
        own_end(t, NULL, 710637);
    else if (zl_utf8_chars(t->input) > MAX_INPUT_CHARS)
        own_end(t, NULL, 790040);
    else {
        journal_task(t);
        own_dispatch(t);
    }
    return created(x, t, fails, unknown);
fail:
    task_free(t);
    cJSON_Delete(fails);
    cJSON_Delete(unknown);
    return e;
}

void zl_models_on_report(zl_emu *emu, const zl_job *job)
{
    struct zl_models *m = zl_emu_part(emu, &models_part);
    task *t = m ? zl_strmap_get(m->tasks, job->jobid) : NULL;

    if (t && own(t->model) && t->phase == PH_RUNNING && !strcmp(t->job_info, job->job_info))
        own_end(t, job, 0);
}

/* A running own task whose job is gone (24 h without a report) fails with 710638. */
static void own_settle(task *t)
{
    zl_job *job;

    if (t->phase != PH_RUNNING || t->calling)
        return;
    job = zl_strmap_get(t->m->emu->job_infos, t->job_info);
    if (!job || zl_emu_now_ms(t->m->emu) - t->created_ms > t->m->emu->opt.job_ttl_s * 1000) {
        if (job)
            job->state = 2;
        own_end(t, NULL, 710638);
    }
}

static cJSON *result_own(sdk_ctx *x, task *t)
{
    const cJSON *f;
    cJSON *reply;
    int code;

    own_settle(t);
    if (t->phase < PH_DONE)
        return zl_sdk_errf(x, t->m->pending_errcode, "%s has not reported yet",
                           t->target->prog->program_id);
    code = cJSON_IsNumber(zl_json_get(t->outcome, "errcode"))
               ? (int)zl_json_get(t->outcome, "errcode")->valuedouble
               : -1;
    reply = zl_errcode_reply(code, NULL, code ? x->req_id : NULL);
    cJSON_ArrayForEach(f, t->outcome)
    {
        if (strcmp(f->string, "errcode") && strcmp(f->string, "errmsg"))
            cJSON_AddItemToObject(reply, f->string, cJSON_Duplicate(f, 1));
    }
    return reply;
}

/* ------------------------------------------------------------------ get_*_result */

static cJSON *result(sdk_ctx *x, model_kind k)
{
    struct zl_models *m = state(x->emu);
    const char *jobid;
    const zl_job *job;
    cJSON *e, *reply, *f;
    task *t;
    size_t i;
    int code;

    if ((e = zl_sdk_opt_str(x, "jobid", 128, &jobid)))
        return e;
    if (!jobid || !*jobid)
        return zl_sdk_err(x, 40058, "jobid is required: the jobid of the create call's reply");
    if (!m)
        return zl_sdk_err(x, -1, "out of memory");
    t = zl_strmap_get(m->tasks, jobid);
    if (!t || t->app != x->app) {
        job = zl_strmap_get(x->emu->jobs, jobid);
        if (job && job->app == x->app)
            return zl_sdk_err(x, 710616, "the jobid is an async_program_task job");
        return zl_sdk_err(x, 40058, "unknown jobid (or another app's)");
    }
    if (t->model != k)
        return zl_sdk_errf(x, 710616, "the jobid is a %s task", MODELS[t->model].name);
    if (own(k))
        return result_own(x, t);
    settle(t);
    if (t->outcome) {
        code = cJSON_IsNumber(zl_json_get(t->outcome, "errcode"))
                   ? (int)zl_json_get(t->outcome, "errcode")->valuedouble
                   : -1;
        reply = zl_errcode_reply(code, NULL, code ? x->req_id : NULL);
        cJSON_AddItemToObject(reply, "status",
                              cJSON_Duplicate(zl_json_get(t->outcome, "status"), 1));
        cJSON_ArrayForEach(f, t->outcome)
        {
            if (strcmp(f->string, "errcode") && strcmp(f->string, "errmsg") &&
                strcmp(f->string, "status"))
                cJSON_AddItemToObject(reply, f->string, cJSON_Duplicate(f, 1));
        }
        return reply;
    }
    reply = zl_sdk_err(x, 0, NULL);
    cJSON_AddNumberToObject(reply, "status", 0);
    cJSON_AddArrayToObject(reply, "fail_list");
    if (MODELS[k].result_key) {
        cJSON *list = cJSON_AddArrayToObject(reply, "analyze_result_list");

        for (i = 0; i < t->n; i++) {
            cJSON *o = cJSON_CreateObject();

            cJSON_AddNumberToObject(o, "errcode", 0);
            cJSON_AddStringToObject(o, "errmsg", "ok");
            cJSON_AddStringToObject(o, "msgid", t->items[i].msgid);
            cJSON_AddItemToArray(list, o);
        }
    }
    return reply;
}

static cJSON *api_create_sentiment_task(sdk_ctx *x)
{
    return create(x, M_SENTIMENT);
}

static cJSON *api_get_sentiment_result(sdk_ctx *x)
{
    return result(x, M_SENTIMENT);
}

static cJSON *api_create_spam_task(sdk_ctx *x)
{
    return create(x, M_SPAM);
}

static cJSON *api_get_spam_result(sdk_ctx *x)
{
    return result(x, M_SPAM);
}

static cJSON *api_create_summary_task(sdk_ctx *x)
{
    return create(x, M_SUMMARY);
}

static cJSON *api_get_summary_result(sdk_ctx *x)
{
    return result(x, M_SUMMARY);
}

static cJSON *api_create_customer_tag_task(sdk_ctx *x)
{
    return create(x, M_CUSTOMER_TAG);
}

static cJSON *api_get_customer_tag_result(sdk_ctx *x)
{
    return result(x, M_CUSTOMER_TAG);
}

static cJSON *api_create_recommend_dialog_task(sdk_ctx *x)
{
    return create(x, M_RECOMMEND);
}

static cJSON *api_get_recommend_dialog_result(sdk_ctx *x)
{
    return result(x, M_RECOMMEND);
}

static cJSON *api_create_ww_model_task(sdk_ctx *x)
{
    return create(x, M_WW_MODEL);
}

static cJSON *api_get_ww_model_result(sdk_ctx *x)
{
    return result(x, M_WW_MODEL);
}

static cJSON *api_create_model_task(sdk_ctx *x)
{
    return create_own(x, M_MODEL);
}

static cJSON *api_get_model_task_result(sdk_ctx *x)
{
    return result(x, M_MODEL);
}

static cJSON *api_create_program_task(sdk_ctx *x)
{
    return create_own(x, M_PROGRAM);
}

static cJSON *api_get_program_task_result(sdk_ctx *x)
{
    return result(x, M_PROGRAM);
}

const zl_sdk_api zl_sdk_apis_models[] = {
    {"create_sentiment_task", api_create_sentiment_task, 0},
    {"get_sentiment_result", api_get_sentiment_result, 0},
    {"create_spam_task", api_create_spam_task, 0},
    {"get_spam_result", api_get_spam_result, 0},
    {"create_summary_task", api_create_summary_task, 0},
    {"get_summary_result", api_get_summary_result, 0},
    {"create_customer_tag_task", api_create_customer_tag_task, 0},
    {"get_customer_tag_result", api_get_customer_tag_result, 0},
    {"create_recommend_dialog_task", api_create_recommend_dialog_task, 0},
    {"get_recommend_dialog_result", api_get_recommend_dialog_result, 0},
    {"create_ww_model_task", api_create_ww_model_task, 0},
    {"get_ww_model_result", api_get_ww_model_result, 0},
    {"create_model_task", api_create_model_task, 0},
    {"get_model_task_result", api_get_model_task_result, 0},
    /* the vendor sample's older names of the two above (sdk-api.md §1) */
    {"create_private_task", api_create_model_task, 0},
    {"get_private_task_result", api_get_model_task_result, 0},
    {"create_program_task", api_create_program_task, 0},
    {"get_program_task_result", api_get_program_task_result, 0},
    {NULL, NULL, 0},
};

/* ------------------------------------------------------------------ control face */

static int model_named(const char *name)
{
    int k;

    for (k = 0; name && k < M_COUNT; k++)
        if (!strcmp(MODELS[k].name, name))
            return k;
    return -1;
}

static unsigned refuse(char *why, size_t whylen, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static unsigned refuse(char *why, size_t whylen, unsigned status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return status;
}

/* Whether a scripted result fits the model (per_message: a sentiment/spam msgid rule). */
static bool result_fits(model_kind k, bool per_message, const cJSON *r)
{
    const cJSON *e;

    if (MODELS[k].result_key) {
        if (per_message || cJSON_IsNumber(r))
            return zl_json_is_int(r, INT32_MIN, INT32_MAX);
        if (!cJSON_IsObject(r))
            return false;
        cJSON_ArrayForEach(e, r)
        {
            if (!zl_json_is_int(e, INT32_MIN, INT32_MAX))
                return false;
        }
        return true;
    }
    if (k != M_CUSTOMER_TAG)
        return true; /* a string, or any JSON given as its text */
    if (!cJSON_IsArray(r))
        return false;
    cJSON_ArrayForEach(e, r)
    {
        if (!cJSON_IsString(zl_json_get(e, "group_id")) ||
            !cJSON_IsString(zl_json_get(e, "tag_id")))
            return false;
    }
    return true;
}

static const char *const RESULT_SHAPES[M_COUNT] = {
    [M_SENTIMENT] = "a sentiment_result number, or {msgid: number}",
    [M_SPAM] = "a spam_result number, or {msgid: number}",
    [M_SUMMARY] = "the response_data string",
    [M_CUSTOMER_TAG] = "the tag_result_list: [{group_id, tag_id}]",
    [M_RECOMMEND] = "the response_data string",
    [M_WW_MODEL] = "the response_data string",
    [M_MODEL] = "",
    [M_PROGRAM] = "",
};

/* The answer of a model_reply body: 200, or a 400 with why. */
static unsigned parse_answer(const cJSON *body, model_kind k, bool per_message, answer *a,
                             char *why, size_t whylen)
{
    const cJSON *st = zl_json_get(body, "status"), *ec = zl_json_get(body, "errcode"),
                *r = zl_json_get(body, "result"), *lat = zl_json_get(body, "latency_ms");

    memset(a, 0, sizeof *a);
    a->set = true;
    a->latency_ms = -1;
    a->status = ec ? ST_FAILED : ST_DONE;
    if (st) {
        if (!cJSON_IsString(st) ||
            (strcmp(st->valuestring, "done") && strcmp(st->valuestring, "failed") &&
             strcmp(st->valuestring, "pending")))
            return refuse(why, whylen, 400, "status is \"done\", \"failed\" or \"pending\"");
        a->status = !strcmp(st->valuestring, "done")     ? ST_DONE
                    : !strcmp(st->valuestring, "failed") ? ST_FAILED
                                                         : ST_PENDING;
    }
    if (ec && (!zl_json_is_int(ec, INT32_MIN, INT32_MAX) || ec->valuedouble == 0))
        return refuse(why, whylen, 400, "errcode must be a non-zero integer");
    if (ec && a->status != ST_FAILED)
        return refuse(why, whylen, 400, "errcode goes with status \"failed\"");
    a->errcode = ec ? (int)ec->valuedouble : FAILED_DEFAULT;
    if (per_message && a->status == ST_PENDING)
        return refuse(why, whylen, 400,
                      "a message's answer is a result or an errcode, not pending");
    if (per_message && a->status == ST_DONE && !r)
        return refuse(why, whylen, 400, "give result (%s) or errcode", MODELS[k].result_key);
    if (r && a->status != ST_DONE)
        return refuse(why, whylen, 400, "result goes with status \"done\"");
    if (r && !result_fits(k, per_message, r))
        return refuse(why, whylen, 400, "result of %s is %s", MODELS[k].name,
                      per_message ? "a number" : RESULT_SHAPES[k]);
    if (lat) {
        if (!zl_json_is_int(lat, 0, 86400000LL) || per_message)
            return refuse(why, whylen, 400, "latency_ms is 0 to 86400000, for a task");
        a->latency_ms = (long long)lat->valuedouble;
    }
    if (r && !(a->result = cJSON_Duplicate(r, 1)))
        return refuse(why, whylen, 503, "out of memory");
    return 200;
}

/* A jobid rule: replaces that task's answer now. */
static unsigned reply_task(struct zl_models *m, task *t, answer *a, cJSON **reply)
{
    int64_t now = zl_emu_now_ms(m->emu);

    answer_cleanup(&t->a);
    t->a = *a;
    memset(a, 0, sizeof *a);
    if (t->a.latency_ms >= 0)
        t->due_ms = now + t->a.latency_ms;
    if (t->phase >= PH_DONE) { /* finished: the new answer at once (or running again) */
        cJSON_Delete(t->outcome);
        t->outcome = NULL;
        t->phase = PH_RUNNING;
        if (held(t) || t->due_ms > now) {
            journal_task(t);
            arm(t);
        } else
            finish(t);
    } else if (t->phase == PH_RUNNING)
        arm(t);
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddStringToObject(*reply, "jobid", t->jobid);
    cJSON_AddStringToObject(*reply, "phase", PHASES[t->phase]);
    return 200;
}

/* POST /_zonelab/models/reply */
static unsigned control_reply(struct zl_models *m, const cJSON *body, cJSON **reply, char *why,
                              size_t whylen)
{
    const cJSON *mo = zl_json_get(body, "model"), *id = zl_json_get(body, "msgid"),
                *job = zl_json_get(body, "jobid"), *times = zl_json_get(body, "times");
    int k = model_named(cJSON_IsString(mo) ? mo->valuestring : NULL);
    bool per_message;
    answer a;
    rule *r;
    unsigned st;
    task *t = NULL;

    if (k < 0 || own((model_kind)k))
        return refuse(why, whylen, 400,
                      "model is sentiment, spam, summary, customer_tag, recommend_dialog or "
                      "ww_model (own models and programs answer for themselves)");
    if ((id && (!cJSON_IsString(id) || !*id->valuestring)) ||
        (job && (!cJSON_IsString(job) || !*job->valuestring)))
        return refuse(why, whylen, 400, "msgid and jobid are non-empty strings");
    if (id && job)
        return refuse(why, whylen, 400, "give msgid or jobid, not both");
    if (times && (!zl_json_is_int(times, 1, INT32_MAX) || job))
        return refuse(why, whylen, 400, "times is a positive integer, for a rule (not a jobid)");
    if (job) {
        t = zl_strmap_get(m->tasks, job->valuestring);
        if (!t)
            return refuse(why, whylen, 404, "jobid is not a model task");
        if ((int)t->model != k)
            return refuse(why, whylen, 409, "jobid is a %s task", MODELS[t->model].name);
    }
    per_message = id && MODELS[k].result_key;
    if ((st = parse_answer(body, (model_kind)k, per_message, &a, why, whylen)) != 200) {
        answer_cleanup(&a);
        return st;
    }
    if (t)
        return reply_task(m, t, &a, reply);
    if (!(r = calloc(1, sizeof *r)) || (id && !(r->msgid = strdup(id->valuestring)))) {
        free(r);
        answer_cleanup(&a);
        return refuse(why, whylen, 503, "out of memory");
    }
    r->model = (model_kind)k;
    r->a = a;
    r->times = times ? (long long)times->valuedouble : a.status == ST_DONE ? -1 : 1;
    *m->rules_tail = r;
    m->rules_tail = &r->next;
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddStringToObject(*reply, "model", MODELS[k].name);
    cJSON_AddNumberToObject(*reply, "times", (double)r->times);
    return 200;
}

static cJSON *config_json(const struct zl_models *m)
{
    cJSON *c = cJSON_CreateObject(), *b;
    size_t k;

    cJSON_AddNumberToObject(c, "latency_ms", (double)m->latency_ms);
    b = cJSON_AddObjectToObject(c, "daily_budget");
    for (k = 0; k < M_COUNT; k++)
        cJSON_AddNumberToObject(b, MODELS[k].name, (double)m->budget[k]);
    cJSON_AddNumberToObject(c, "per_minute_budget", (double)m->per_minute);
    cJSON_AddNumberToObject(c, "duplicate_errcode", m->dup_errcode);
    cJSON_AddBoolToObject(c, "ww_model_text_only", m->ww_text_only);
    cJSON_AddNumberToObject(c, "ack_timeout_ms", (double)m->ack_timeout_ms);
    cJSON_AddNumberToObject(c, "pending_errcode", m->pending_errcode);
    return c;
}

/* POST /_zonelab/models/config: every field optional, all checked before any applies. */
static unsigned control_config(struct zl_models *m, const cJSON *body, cJSON **reply, char *why,
                               size_t whylen)
{
    const cJSON *lat = zl_json_get(body, "latency_ms"), *bud = zl_json_get(body, "daily_budget"),
                *pm = zl_json_get(body, "per_minute_budget"),
                *dup = zl_json_get(body, "duplicate_errcode"),
                *txt = zl_json_get(body, "ww_model_text_only"),
                *ack = zl_json_get(body, "ack_timeout_ms"),
                *pend = zl_json_get(body, "pending_errcode"), *e;
    static const char *const KEYS[] = {
        "latency_ms",        "daily_budget",       "per_minute_budget",
        "duplicate_errcode", "ww_model_text_only", "ack_timeout_ms",
        "pending_errcode",   "defaults",           NULL};

    cJSON_ArrayForEach(e, body)
    {
        if (!in_list(KEYS, e->string))
            return refuse(why, whylen, 400,
                          "unknown key %s (keys: latency_ms, daily_budget, "
                          "per_minute_budget, duplicate_errcode, ww_model_text_only, "
                          "ack_timeout_ms, pending_errcode, defaults)",
                          e->string);
    }
    if (lat && !zl_json_is_int(lat, 0, 86400000LL))
        return refuse(why, whylen, 400, "latency_ms is 0 to 86400000");
    if (bud && !cJSON_IsObject(bud))
        return refuse(why, whylen, 400, "daily_budget is {model: n}");
    cJSON_ArrayForEach(e, bud)
    {
        if (model_named(e->string) < 0 || !zl_json_is_int(e, 0, 1000000000LL))
            return refuse(why, whylen, 400, "daily_budget.%s: a model name and 0 to 1000000000",
                          e->string);
    }
    if (pm && !zl_json_is_int(pm, 0, 1000000000LL))
        return refuse(why, whylen, 400, "per_minute_budget is 0 to 1000000000");
    if (dup && !zl_json_is_int(dup, 710601, 710601) && !zl_json_is_int(dup, 710613, 710613))
        return refuse(why, whylen, 400, "duplicate_errcode is 710613 or 710601");
    if (txt && !cJSON_IsBool(txt))
        return refuse(why, whylen, 400, "ww_model_text_only is a bool");
    if (ack && !zl_json_is_int(ack, 1, 600000))
        return refuse(why, whylen, 400, "ack_timeout_ms is 1 to 600000");
    if (pend && !zl_json_is_int(pend, 710642, 710642) && !zl_json_is_int(pend, 790023, 790023))
        return refuse(why, whylen, 400, "pending_errcode is 710642 or 790023");
    if (cJSON_IsTrue(zl_json_get(body, "defaults")))
        config_default(m);
    if (lat)
        m->latency_ms = (long long)lat->valuedouble;
    cJSON_ArrayForEach(e, bud)
    {
        m->budget[model_named(e->string)] = (long long)e->valuedouble;
    }
    if (pm)
        m->per_minute = (long long)pm->valuedouble;
    if (dup)
        m->dup_errcode = (int)dup->valuedouble;
    if (txt)
        m->ww_text_only = cJSON_IsTrue(txt);
    if (ack)
        m->ack_timeout_ms = (long long)ack->valuedouble;
    if (pend)
        m->pending_errcode = (int)pend->valuedouble;
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddItemToObject(*reply, "config", config_json(m));
    return 200;
}

static zl_corp *corp_named(zl_emu *emu, const cJSON *body)
{
    const cJSON *v = zl_json_get(body, "corpid");

    if (!v)
        return &emu->world->corps[0];
    return cJSON_IsString(v) ? zl_world_corp(emu->world, v->valuestring) : NULL;
}

static bool str_ok(const cJSON *v, bool empty_ok)
{
    return cJSON_IsString(v) && (empty_ok || *v->valuestring) &&
           strlen(v->valuestring) <= ZL_WORLD_MAX_NAME;
}

/* POST /_zonelab/models/tags: the corp's customer tag library (replaced). */
static unsigned control_tags(struct zl_models *m, const cJSON *body, cJSON **reply, char *why,
                             size_t whylen)
{
    zl_corp *c = corp_named(m->emu, body);
    const cJSON *l = zl_json_get(body, "tag_group_list"), *g, *t;
    cJSON *lib;
    size_t ci;
    int i = 0, k;

    if (!c)
        return refuse(why, whylen, 404, "corpid is not a corp of the world");
    if (!cJSON_IsArray(l))
        return refuse(why, whylen, 400,
                      "tag_group_list is [{group_id, group_name, tag_list:[{tag_id, tag_name}]}]");
    cJSON_ArrayForEach(g, l)
    {
        if (!str_ok(zl_json_get(g, "group_id"), false) ||
            !str_ok(zl_json_get(g, "group_name"), true) ||
            !cJSON_IsArray(zl_json_get(g, "tag_list")))
            return refuse(why, whylen, 400,
                          "tag_group_list[%d] needs group_id, group_name and tag_list", i);
        k = 0;
        cJSON_ArrayForEach(t, zl_json_get(g, "tag_list"))
        {
            if (!str_ok(zl_json_get(t, "tag_id"), false) ||
                !str_ok(zl_json_get(t, "tag_name"), false))
                return refuse(why, whylen, 400,
                              "tag_group_list[%d].tag_list[%d] needs tag_id and tag_name", i, k);
            k++;
        }
        i++;
    }
    if (!(lib = cJSON_CreateArray()))
        return refuse(why, whylen, 503, "out of memory");
    cJSON_ArrayForEach(g, l)
    {
        cJSON *o = cJSON_CreateObject(), *tl;

        cJSON_AddStringToObject(o, "group_id", zl_json_get(g, "group_id")->valuestring);
        cJSON_AddStringToObject(o, "group_name", zl_json_get(g, "group_name")->valuestring);
        tl = cJSON_AddArrayToObject(o, "tag_list");
        cJSON_ArrayForEach(t, zl_json_get(g, "tag_list"))
        {
            cJSON *ot = cJSON_CreateObject();

            cJSON_AddStringToObject(ot, "tag_id", zl_json_get(t, "tag_id")->valuestring);
            cJSON_AddStringToObject(ot, "tag_name", zl_json_get(t, "tag_name")->valuestring);
            cJSON_AddItemToArray(tl, ot);
        }
        cJSON_AddItemToArray(lib, o);
    }
    ci = corp_index(m->emu, c);
    cJSON_Delete(m->tags[ci]);
    m->tags[ci] = lib;
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddNumberToObject(*reply, "groups", i);
    return 200;
}

/* POST /_zonelab/models/knowledge: the fragments of a knowledge set (an empty list forgets). */
static unsigned control_knowledge(struct zl_models *m, const cJSON *body, cJSON **reply, char *why,
                                  size_t whylen)
{
    zl_corp *c = corp_named(m->emu, body);
    const cJSON *kb = zl_json_get(body, "kb_id"), *l = zl_json_get(body, "fragments"), *f;
    char key[ZL_WORLD_MAX_ID + MAX_KB_ID + 2];
    cJSON *copy;
    int n;

    if (!c)
        return refuse(why, whylen, 404, "corpid is not a corp of the world");
    if (!cJSON_IsString(kb) || !*kb->valuestring || strlen(kb->valuestring) > MAX_KB_ID)
        return refuse(why, whylen, 400, "kb_id is a string of 1 to %d bytes", MAX_KB_ID);
    if (!cJSON_IsArray(l))
        return refuse(why, whylen, 400, "fragments is a list of strings");
    cJSON_ArrayForEach(f, l)
    {
        if (!cJSON_IsString(f))
            return refuse(why, whylen, 400, "fragments is a list of strings");
    }
    snprintf(key, sizeof key, "%s\x1f%s", c->corpid, kb->valuestring);
    n = cJSON_GetArraySize(l);
    if (n == 0)
        zl_strmap_del(m->knowledge, key);
    else if (!(copy = cJSON_Duplicate(l, 1)) || zl_strmap_put(m->knowledge, key, copy) != 0) {
        cJSON_Delete(copy);
        return refuse(why, whylen, 503, "out of memory");
    }
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddStringToObject(*reply, "kb_id", kb->valuestring);
    cJSON_AddNumberToObject(*reply, "fragments", n);
    return 200;
}

static int by_creation(const void *a, const void *b)
{
    const task *x = *(const task *const *)a, *y = *(const task *const *)b;

    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? -1 : 1;
    return strcmp(x->jobid, y->jobid);
}

/* GET /_zonelab/models: configuration, rules and tasks. */
static unsigned control_list(struct zl_models *m, cJSON **reply, char *why, size_t whylen)
{
    size_t n;
    void **v = zl_strmap_values(m->tasks, by_creation, &n);
    cJSON *tasks;
    size_t i, rules = 0;
    rule *r;

    if (!v && zl_strmap_count(m->tasks))
        return refuse(why, whylen, 503, "out of memory");
    for (r = m->rules; r; r = r->next)
        rules += r->times != 0;
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    cJSON_AddItemToObject(*reply, "config", config_json(m));
    cJSON_AddNumberToObject(*reply, "rules", (double)rules);
    tasks = cJSON_AddArrayToObject(*reply, "tasks");
    for (i = 0; i < n; i++) {
        const task *t = v[i];
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "jobid", t->jobid);
        cJSON_AddStringToObject(o, "model", MODELS[t->model].name);
        cJSON_AddStringToObject(o, "corpid", t->app->corp->corpid);
        cJSON_AddNumberToObject(o, "agentid", t->app->app->agentid);
        cJSON_AddStringToObject(o, "phase", PHASES[t->phase]);
        cJSON_AddNumberToObject(o, "messages", (double)t->n);
        cJSON_AddNumberToObject(o, "created_ms", (double)t->created_ms);
        cJSON_AddNumberToObject(o, "due_ms", (double)t->due_ms);
        cJSON_AddBoolToObject(o, "scripted", t->a.set);
        if (t->target) {
            cJSON_AddStringToObject(o, "target", t->target->prog->program_id);
            cJSON_AddStringToObject(o, "ability_id",
                                    t->target->prog->abilities[t->ability].ability_id);
        }
        if (cJSON_IsNumber(zl_json_get(t->outcome, "errcode")))
            cJSON_AddNumberToObject(o, "errcode", zl_json_get(t->outcome, "errcode")->valuedouble);
        cJSON_AddItemToArray(tasks, o);
    }
    free(v);
    return 200;
}

unsigned zl_models_control(zl_emu *emu, const char *verb, const cJSON *body, cJSON **reply,
                           char *why, size_t whylen)
{
    struct zl_models *m = state(emu);
    cJSON *j;
    unsigned st;

    *reply = NULL;
    if (!m)
        return refuse(why, whylen, 503, "out of memory");
    if (!strcmp(verb, "") || !strcmp(verb, "tasks"))
        return control_list(m, reply, why, whylen);
    if (!cJSON_IsObject(body))
        return refuse(why, whylen, 400, "the body must be a JSON object");
    if (!strcmp(verb, "reply"))
        st = control_reply(m, body, reply, why, whylen);
    else if (!strcmp(verb, "clear")) {
        rules_clear(m);
        *reply = cJSON_CreateObject();
        cJSON_AddBoolToObject(*reply, "ok", 1);
        st = 200;
    } else if (!strcmp(verb, "config"))
        st = control_config(m, body, reply, why, whylen);
    else if (!strcmp(verb, "tags"))
        st = control_tags(m, body, reply, why, whylen);
    else if (!strcmp(verb, "knowledge"))
        st = control_knowledge(m, body, reply, why, whylen);
    else
        return refuse(why, whylen, 404,
                      "no such models endpoint: reply, clear, config, tags, knowledge, tasks");
    if (st == 200) {
        j = cJSON_Duplicate(body, 1);
        cJSON_AddStringToObject(j, "verb", verb);
        zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", "models", j);
    }
    return st;
}
