/* api_models_eval: how a model task of WeCom's models is answered (sdk-api.md §6): the input
 * built from the messages, the knowledge fragments and the tag library, the deterministic
 * default answers of sentiment, anti-spam, summary, customer tags, reply recommendation and
 * the general model, and the scripted answers a new task takes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/models_int.h"
#include "wecom/errcode.h"
#include "wecom/placeholder.h"

#define SUMMARY_SENTENCES 3
#define KNOWLEDGE_TOP_K   3

/* ---- text helpers ---- */

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

bool zl_models_in_list(const char *const *list, const char *w)
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

/* ---- default answers ---- */

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
        int sign = zl_models_in_list(NEGATORS, prev) ? -1 : 1;

        if (zl_models_in_list(POSITIVE_EN, tok))
            score += sign;
        else if (zl_models_in_list(NEGATIVE_EN, tok))
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
        if (zl_models_in_list(en, tok))
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

/* ---- evaluating a task ---- */

static bool self_built(const task *t)
{
    return t->app->app->kind == ZL_APP_SELF_BUILT;
}

int zl_models_check_item(task *t, const item *it, eval *e)
{
    zl_corp *c = t->app->corp;
    long i = zl_msgstore_find(c->messages, it->msgid);
    const zl_message *msg = i >= 0 ? zl_msgstore_at(c->messages, (size_t)i) : NULL;
    const cJSON *v;
    int code;

    e->text = "";
    if (!msg || msg->send_time > zl_emu_now_ms(t->m->emu) / 1000)
        return 710601;
    if ((code = zl_emu_app_msg_check(t->m->emu, t->app, (size_t)i)) != 0)
        return code; /* not in the app's archive 710601, older than its retention 710652 */
    if (strcmp(msg->secret_key, it->secret_key) != 0)
        return 710603;
    if (msg->msgtype != 1 && msg->msgtype != 6 && msg->msgtype != 21)
        return 710602;
    if (t->model == M_WW_MODEL && msg->msgtype != 1 && self_built(t) &&
        t->m->emu->opt.models.ww_model_text_only)
        return 710602;
    e->msg = msg;
    e->content = cJSON_Parse(msg->content);
    v = zl_json_get(e->content, msg->msgtype == 1 ? "content" : "transcript");
    if (cJSON_IsString(v))
        e->text = v->valuestring;
    return 0;
}

void zl_models_chat_text(const eval *ev, size_t n, bool general, buf *chat, buf *contents)
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

const cJSON *zl_models_knowledge_of(struct zl_models *m, const zl_corp *c, const char *kb_id)
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

void zl_models_knowledge_text(const cJSON *frags, const char *query, buf *out)
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

char *zl_models_tag_json(struct zl_models *m, const task *t)
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
    char names[MAX_VAR_ARGS][MAX_VAR_NAME + 5], *tagjson = zl_models_tag_json(m, t);
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

const char *zl_models_arg_str(const task *t, const char *key)
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

void zl_models_finish(task *t)
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
            ev[i].code = zl_models_check_item(t, &t->items[i], &ev[i]);
        if (ev[i].code)
            zl_models_fail_item(fails, ev[i].code, t->items[i].msgid);
        else {
            valid++;
            last = ev[i].text;
        }
    }
    if (uses_input) {
        const char *kb_id = zl_models_arg_str(t, "kb_id"),
                   *words = zl_models_arg_str(t, "kb_retrieval_words");

        zl_models_chat_text(ev, t->n, true, &chat, &contents);
        frags = zl_models_knowledge_of(m, t->app->corp, kb_id);
        zl_models_knowledge_text(frags, words ? words : last, &know);
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
    if (t->over_minute) /* "超过后将导致任务延迟或者任务失败" (doc 56425) */
        code = ZL_MODELS_OVER_MINUTE_ERRCODE;
    else if (t->a.set && t->a.status == ST_FAILED)
        code = t->a.errcode;
    else if (!(t->a.set && t->a.result)) { /* the default answer: the input rules apply */
        if (t->n > 0 && valid == 0)
            code = 710637;
        else if (uses_input && zl_utf8_chars(zl_sbuf_text(&input)) > MAX_INPUT_CHARS)
            code = 790040;
    }
    if (zl_models_info[t->model].result_key) {
        cJSON *list = cJSON_AddArrayToObject(out, "analyze_result_list");

        for (i = 0; i < t->n; i++) {
            cJSON *o = cJSON_CreateObject();

            cJSON_AddNumberToObject(o, "errcode", ev[i].code);
            cJSON_AddStringToObject(o, "errmsg", ev[i].code ? zl_errcode_text(ev[i].code) : "ok");
            cJSON_AddStringToObject(o, "msgid", t->items[i].msgid);
            if (!ev[i].code && !code)
                cJSON_AddNumberToObject(o, zl_models_info[t->model].result_key,
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
            const char *model_id = zl_models_arg_str(t, "model_id"),
                       *words = zl_models_arg_str(t, "kb_retrieval_words");

            if (cJSON_IsTrue(zl_json_get(t->args, "need_think_result")) &&
                zl_models_ww_thinking(model_id))
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
    zl_models_journal_task(t);
}

/* ---- scripted answers ---- */

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

void zl_models_take_rules(struct zl_models *m, task *t)
{
    bool per_message = zl_models_info[t->model].result_key != NULL;
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
