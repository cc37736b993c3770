/* api_kb_control: the console's side of knowledge sets for the control face (POST
 * /_zonelab/knowledge, docs/control-api.md): sets made, authorised, revoked and deleted in the
 * admin console, an app's knowledge-set grant, learning results and latency, and the list. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/kb.h"
#include "api/kb_int.h"

#define MAX_LATENCY_MS (86400LL * 1000)

/* ---- the console's side ---- */

typedef struct ctl {
    zl_emu *emu;
    struct zl_kb *s;
    zl_corp *c;
    const cJSON *body;
    char *why;
    size_t whylen;
} ctl;

__attribute__((format(printf, 3, 4))) static unsigned refuse(ctl *t, unsigned status,
                                                             const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->why, t->whylen, fmt, ap);
    va_end(ap);
    return status;
}

static const char *ctl_str(const ctl *t, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->body, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "agentid": an app of the corp (absent: the corp's first app). 0 or a 4xx status. */
static unsigned ctl_app(ctl *t, zl_app_rt **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->body, "agentid");
    size_t i;

    for (i = 0; i < t->emu->app_count; i++) {
        zl_app_rt *a = &t->emu->apps[i];

        if (a->corp != t->c)
            continue;
        if (!v || (cJSON_IsNumber(v) && v->valuedouble == (double)a->app->agentid)) {
            *out = a;
            return 0;
        }
    }
    if (v && !zl_json_is_int(v, 0, UINT32_MAX))
        return refuse(t, 400, "agentid must be an app's agentid");
    return refuse(t, 404, "agentid is not an app of the corp");
}

/* "kb_id": a set of the corp (deleted ones too). 0 or a 4xx status. */
static unsigned ctl_set(ctl *t, kb_set **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->body, "kb_id");

    if (!cJSON_IsString(v))
        return refuse(t, 400, "kb_id is required: a string");
    if (!(*out = zl_kb_find_set(t->s, t->c, v->valuestring)))
        return refuse(t, 404, "kb_id is not a knowledge set of the corp");
    return 0;
}

static void journal_ctl(ctl *t, const char *action, const kb_set *k, const zl_app_rt *a,
                        const cJSON *events)
{
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "corpid", t->c->corpid);
    cJSON_AddStringToObject(j, "action", action);
    if (k)
        cJSON_AddStringToObject(j, "kb_id", k->kb_id);
    if (a)
        cJSON_AddNumberToObject(j, "agentid", a->app->agentid);
    if (events)
        cJSON_AddItemToObject(j, "events", cJSON_Duplicate(events, 1));
    zl_journal_add(t->emu->journal, zl_emu_now_ms(t->emu), "control", "knowledge", j);
}

/* create: a set made in the admin console, authorised to agentid when one is given. */
static unsigned ctl_create(ctl *t, cJSON *reply)
{
    const char *name = ctl_str(t, "kb_name");
    zl_app_rt *a = NULL;
    cJSON *events;
    bool hidden = false;
    long n;
    unsigned st;
    kb_set *k;

    n = name ? zl_kb_name_chars(name, &hidden) : -1;
    if (n < 1 || n > NAME_CHARS || hidden)
        return refuse(t, 400, "kb_name is required: 1 to %d visible characters", NAME_CHARS);
    if (cJSON_GetObjectItemCaseSensitive(t->body, "agentid") && (st = ctl_app(t, &a)))
        return st;
    if (zl_kb_live_sets(t->s, t->c) >= MAX_SETS)
        return refuse(t, 409, "the corp holds %d knowledge sets already", MAX_SETS);
    if (!(k = zl_kb_set_new(t->emu, t->s, t->c, name)))
        return refuse(t, 503, "out of memory");
    cJSON_AddStringToObject(reply, "kb_id", k->kb_id);
    events = cJSON_AddArrayToObject(reply, "events");
    if (a) {
        k->authorised[app_index(t->emu, a)] = true;
        zl_kb_send_event(t->emu, a, "auth_knowledge_base", k, NULL, events);
    }
    journal_ctl(t, "create", k, a, events);
    return 200;
}

/* authorise / revoke: set k's authorisation to the app; an event when it changes. */
static unsigned ctl_auth(ctl *t, cJSON *reply, bool on)
{
    zl_app_rt *a;
    kb_set *k;
    cJSON *events;
    unsigned st;
    size_t i;

    if ((st = ctl_set(t, &k)) || (st = ctl_app(t, &a)))
        return st;
    if (k->deleted)
        return refuse(t, 409, "the knowledge set was deleted");
    i = app_index(t->emu, a);
    events = cJSON_AddArrayToObject(reply, "events");
    cJSON_AddBoolToObject(reply, "changed", k->authorised[i] != on);
    if (k->authorised[i] != on) {
        k->authorised[i] = on;
        zl_kb_send_event(t->emu, a, on ? "auth_knowledge_base" : "unauth_knowledge_base", k, NULL,
                         events);
    }
    journal_ctl(t, on ? "authorise" : "revoke", k, a, events);
    return 200;
}

static unsigned ctl_delete(ctl *t, cJSON *reply)
{
    kb_set *k;
    cJSON *events;
    unsigned st;

    if ((st = ctl_set(t, &k)))
        return st;
    if (k->deleted)
        return refuse(t, 409, "the knowledge set is deleted already");
    events = cJSON_AddArrayToObject(reply, "events");
    zl_kb_delete_set(t->emu, k, NULL, events);
    journal_ctl(t, "delete", k, NULL, events);
    return 200;
}

/* grant: the app's knowledge-set grant ("granted", default true); without it 710643. */
static unsigned ctl_grant(ctl *t, cJSON *reply)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(t->body, "granted");
    zl_app_rt *a;
    unsigned st;

    if ((st = ctl_app(t, &a)))
        return st;
    if (g && !cJSON_IsBool(g))
        return refuse(t, 400, "granted must be true or false");
    t->s->no_grant[app_index(t->emu, a)] = g && cJSON_IsFalse(g);
    cJSON_AddBoolToObject(reply, "granted", !(g && cJSON_IsFalse(g)));
    journal_ctl(t, g && cJSON_IsFalse(g) ? "withdraw_grant" : "grant", NULL, a, NULL);
    return 200;
}

/* learn_result: a document's learning outcome, a rule for documents by name or URL, and/or
 * the learning latency. */
static unsigned ctl_learn(ctl *t, cJSON *reply)
{
    const cJSON *docid = cJSON_GetObjectItemCaseSensitive(t->body, "docid"),
                *lat = cJSON_GetObjectItemCaseSensitive(t->body, "latency_ms"),
                *ls = cJSON_GetObjectItemCaseSensitive(t->body, "learn_status");
    const char *name = ctl_str(t, "doc_name"), *url = ctl_str(t, "web_url"),
               *kb_id = ctl_str(t, "kb_id");
    int status = 1;
    size_t i;

    if ((cJSON_GetObjectItemCaseSensitive(t->body, "doc_name") && !name) ||
        (cJSON_GetObjectItemCaseSensitive(t->body, "web_url") && !url) ||
        (cJSON_GetObjectItemCaseSensitive(t->body, "kb_id") && !kb_id))
        return refuse(t, 400, "doc_name, web_url and kb_id are strings");
    if (ls && !zl_json_is_int(ls, 0, 1))
        return refuse(t, 400, "learn_status must be 0 (learned) or 1 (failed)");
    if (ls)
        status = (int)ls->valuedouble;
    if (lat && !zl_json_is_int(lat, 0, (double)MAX_LATENCY_MS))
        return refuse(t, 400, "latency_ms must be an integer from 0 to %lld",
                      (long long)MAX_LATENCY_MS);
    if (!docid && !name && !url && !lat)
        return refuse(t, 400, "give docid, doc_name or web_url (and learn_status), or latency_ms");
    if (kb_id && !zl_kb_find_set(t->s, t->c, kb_id))
        return refuse(t, 404, "kb_id is not a knowledge set of the corp");
    if (docid) {
        kb_doc *d = NULL;

        if (!zl_json_is_int(docid, 1, MAX_DOCID))
            return refuse(t, 400, "docid must be a docid (a positive integer)");
        for (i = 0; i < t->s->count && !d; i++)
            if (t->s->sets[i]->corp == t->c && !t->s->sets[i]->deleted &&
                (!kb_id || !strcmp(kb_id, t->s->sets[i]->kb_id)))
                d = zl_kb_find_doc(t->s->sets[i], (uint64_t)docid->valuedouble);
        if (!d)
            return refuse(t, 404, "docid %.0f is not a document of the corp's knowledge sets",
                          docid->valuedouble);
        if (d->status != 2)
            return refuse(t, 409, "document %.0f finished learning already (learn_status %d)",
                          docid->valuedouble, d->status);
        d->forced = status;
    } else if (name || url) {
        learn_rule *r;

        if (t->s->nrules == MAX_RULES)
            return refuse(t, 409, "at most %d learn_result rules", MAX_RULES);
        r = &t->s->rules[t->s->nrules];
        memset(r, 0, sizeof *r);
        r->corp = t->c;
        snprintf(r->kb_id, sizeof r->kb_id, "%s", kb_id ? kb_id : "");
        r->learn_status = status;
        if ((name && !(r->doc_name = strdup(name))) || (url && !(r->web_url = strdup(url)))) {
            free(r->doc_name);
            return refuse(t, 503, "out of memory");
        }
        t->s->nrules++;
    }
    if (lat) /* the option knowledge.learn_latency_ms */
        t->emu->opt.kb_learn_latency_ms = (int64_t)lat->valuedouble;
    cJSON_AddNumberToObject(reply, "latency_ms", (double)t->emu->opt.kb_learn_latency_ms);
    if (docid || name || url)
        cJSON_AddNumberToObject(reply, "learn_status", status);
    journal_ctl(t, "learn_result", NULL, NULL, NULL);
    return 200;
}

/* list: the corp's sets as the console sees them. */
static unsigned ctl_list(ctl *t, cJSON *reply)
{
    cJSON *sets = cJSON_AddArrayToObject(reply, "sets");
    size_t i, d, a;

    for (i = 0; i < t->s->count; i++) {
        const kb_set *k = t->s->sets[i];
        cJSON *o, *auth, *docs;

        if (k->corp != t->c)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kb_id", k->kb_id);
        cJSON_AddStringToObject(o, "kb_name", k->name);
        cJSON_AddNumberToObject(o, "creator_agentid", k->creator ? k->creator->app->agentid : 0);
        cJSON_AddBoolToObject(o, "deleted", k->deleted);
        auth = cJSON_AddArrayToObject(o, "authorised");
        for (a = 0; a < t->emu->app_count; a++)
            if (k->authorised[a])
                cJSON_AddItemToArray(auth, cJSON_CreateNumber(t->emu->apps[a].app->agentid));
        docs = cJSON_AddArrayToObject(o, "docs");
        for (d = 0; d < k->ndocs; d++) {
            cJSON *doc = cJSON_CreateObject();

            cJSON_AddNumberToObject(doc, "docid", (double)k->docs[d].docid);
            cJSON_AddStringToObject(doc, "doc_name", k->docs[d].doc_name);
            cJSON_AddNumberToObject(doc, "type", k->docs[d].type);
            cJSON_AddStringToObject(doc, "web_url", k->docs[d].web_url);
            cJSON_AddStringToObject(doc, "file_media_id", k->docs[d].media_id);
            cJSON_AddNumberToObject(doc, "status", k->docs[d].status);
            cJSON_AddItemToArray(docs, doc);
        }
        cJSON_AddItemToArray(sets, o);
    }
    cJSON_AddNumberToObject(reply, "latency_ms", (double)t->emu->opt.kb_learn_latency_ms);
    return 200;
}

unsigned zl_kb_control(zl_emu *emu, zl_corp *c, const cJSON *body, cJSON **reply, char *why,
                       size_t whylen)
{
    ctl t = {.emu = emu, .s = zl_kb_state(emu), .c = c, .body = body, .why = why, .whylen = whylen};
    const char *action = ctl_str(&t, "action");
    unsigned st;

    *reply = NULL;
    if (!t.s)
        return refuse(&t, 503, "out of memory");
    if (!action)
        return refuse(&t, 400,
                      "action is required: create, authorise, revoke, delete, grant, "
                      "learn_result or list");
    *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(*reply, "ok", 1);
    if (!strcmp(action, "create"))
        st = ctl_create(&t, *reply);
    else if (!strcmp(action, "authorise"))
        st = ctl_auth(&t, *reply, true);
    else if (!strcmp(action, "revoke"))
        st = ctl_auth(&t, *reply, false);
    else if (!strcmp(action, "delete"))
        st = ctl_delete(&t, *reply);
    else if (!strcmp(action, "grant"))
        st = ctl_grant(&t, *reply);
    else if (!strcmp(action, "learn_result"))
        st = ctl_learn(&t, *reply);
    else if (!strcmp(action, "list"))
        st = ctl_list(&t, *reply);
    else
        st = refuse(&t, 400,
                    "action must be create, authorise, revoke, delete, grant, learn_result or "
                    "list");
    if (st != 200) {
        cJSON_Delete(*reply);
        *reply = NULL;
    }
    return st;
}
