/* cli_replay: reading a `zonelab serve --record` file or a scenario's journal into the plan of
 * a replay: the callbacks to send and the SDK calls to expect, with their answers. */
#define _GNU_SOURCE
#include "cli/replay_int.h"
#include "core/grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "faces/record.h"

#define JOURNAL_SLACK_MS                                                                           \
    5 /* a journal's times are whole ms: a call this close to a callback's                         \
         start may have come after it */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- loading a recording ---- */

/* A new zeroed element at the end of *arr (n used of *cap, each size bytes), or NULL. */
static void *append(void **arr, size_t *n, size_t *cap, size_t size)
{
    char *p;

    if (zl_grow(arr, cap, *n, size, 64) != 0)
        return NULL;
    p = (char *)*arr + (*n)++ * size;
    memset(p, 0, size);
    return p;
}

static rp_callback *new_cb(replay *rp)
{
    void *base = rp->cbs;
    rp_callback *c = append(&base, &rp->n_cbs, &rp->cap_cbs, sizeof *rp->cbs);

    rp->cbs = base;
    return c;
}

static rp_invoke *new_inv(replay *rp)
{
    void *base = rp->invs;
    rp_invoke *v = append(&base, &rp->n_invs, &rp->cap_invs, sizeof *rp->invs);

    rp->invs = base;
    return v;
}

static size_t replica_of(const char *instance)
{
    const char *slash = instance ? strrchr(instance, '/') : NULL;

    return slash && slash[1] ? (size_t)strtoul(slash + 1, NULL, 10) : 0;
}

/* Whether x, a dropped invoke, re-sends one dropped before (the same ww-nonce); else notes
 * its nonce. The SDK face drops such a re-send again without asking the hook. */
static bool reset_again(replay *rp, const cJSON *x)
{
    const cJSON *h, *hs = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(x, "request"), "headers");
    const char *nonce = NULL;
    size_t i;

    cJSON_ArrayForEach(h, hs)
    {
        const cJSON *n = cJSON_GetArrayItem(h, 0), *v = cJSON_GetArrayItem(h, 1);

        if (cJSON_IsString(n) && cJSON_IsString(v) && !strcasecmp(n->valuestring, "ww-nonce"))
            nonce = v->valuestring;
    }
    if (!nonce || !*nonce)
        return false;
    for (i = 0; i < 8; i++)
        if (!strcmp(rp->reset_nonces[i], nonce))
            return true;
    snprintf(rp->reset_nonces[rp->reset_next++ % 8], sizeof rp->reset_nonces[0], "%s", nonce);
    return false;
}

/* The outcome program.c gives a callback that ended like this exchange. */
static int record_outcome(const cJSON *x, const cJSON *reply)
{
    double curl = jnum(x, "curl_code", 0), status = jnum(x, "status", 0);

    if (curl == 7)
        return 710674;
    if (curl == 28)
        return 710675;
    if (curl != 0)
        return 710638;
    if (status != 200)
        return 710676;
    if (cJSON_GetObjectItemCaseSensitive(x, "exception") || !cJSON_IsObject(reply) ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "exception")) ||
        !zl_json_str(reply, "response"))
        return 710677;
    return 0;
}

/* One line of a recording: a callback or an invoke of some program, kept; others ignored. */
static int record_exchange(replay *rp, const cJSON *x, char *msg, size_t cap)
{
    const char *dir = zl_json_str(x, "direction"), *face = zl_json_str(x, "face"),
               *pid = zl_json_str(x, "program_id");
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(x, "envelope");
    const cJSON *reply = cJSON_GetObjectItemCaseSensitive(x, "reply");
    uint64_t seq = jcount(x, "seq", 0), order = jcount(x, "id", seq);

    if (!dir || !face || !pid)
        return 0;
    if (!strcmp(dir, "out") && !strcmp(face, "program")) {
        rp_callback *c;
        char *text;

        if (jnum(x, "curl_code", 0) == 42) /* cancelled when serve stopped: never answered */
            return 0;
        if (!cJSON_IsObject(env)) {
            rp->skipped++;
            return 0;
        }
        if (!(c = new_cb(rp)) || !(text = cJSON_PrintUnformatted(env)))
            goto oom;
        if (zone_wire_callback_decode(text, strlen(text), &c->env) != 0) {
            cJSON_free(text);
            zone_wire_callback_cleanup(&c->env);
            rp->n_cbs--;
            rp->skipped++;
            return 0;
        }
        cJSON_free(text);
        c->prog = strdup(pid);
        c->src = seq;
        c->order = order;
        c->replica = replica_of(zl_json_str(x, "instance"));
        c->errcode = record_outcome(x, reply);
        if (c->errcode == 0)
            c->response = strdup(zl_json_str(reply, "response"));
        if (!c->prog || (c->errcode == 0 && !c->response))
            goto oom;
    } else if (!strcmp(dir, "in") && !strcmp(face, "sdk")) {
        const char *api = zl_json_str(env, "api"), *req = zl_json_str(env, "request");
        rp_invoke *v;

        if (!api) /* it did not verify: refused before any API, as it would be now */
            return 0;
        if (jnum(x, "status", 0) == 0 && reset_again(rp, x))
            return 0; /* libcurl's automatic re-send of a reset call: the emulator resets it */
        if (!(v = new_inv(rp)))
            goto oom;
        v->prog = strdup(pid);
        v->src = seq;
        v->order = order;
        v->api = strdup(api);
        v->request = strdup(req ? req : "");
        if (jnum(x, "status", 0) == 0)
            v->action = ZL_HOOK_RESET;
        else if (cJSON_GetObjectItemCaseSensitive(x, "exception"))
            v->action = ZL_HOOK_PASS;
        else if (zl_json_str(reply, "response") &&
                 !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "exception")))
            v->action = ZL_HOOK_REPLY;
        else if (cJSON_GetObjectItemCaseSensitive(x, "reply_error"))
            v->action = ZL_HOOK_GARBAGE;
        else
            v->action = ZL_HOOK_PASS;
        if (v->action == ZL_HOOK_REPLY && !(v->reply = strdup(zl_json_str(reply, "response"))))
            goto oom;
        if (!v->prog || !v->api || !v->request)
            goto oom;
    }
    return 0;
oom:
    snprintf(msg, cap, "out of memory");
    return -1;
}

static int load_record(replay *rp, char *text, size_t len, cJSON **header, char *msg, size_t cap)
{
    char *p = text, *end = text + len;
    size_t lineno = 0;

    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *o;

        lineno++;
        if (n == 0 || (n == 1 && *p == '\r')) {
            p = nl ? nl + 1 : end;
            continue;
        }
        if (!(o = cJSON_ParseWithLength(p, n))) {
            if (!nl || nl + 1 >= end) { /* a crash cut the last line: what came before holds */
                fprintf(rp->err, "zonelab replay: %s: line %zu is incomplete; ignored\n", rp->file,
                        lineno);
                break;
            }
            snprintf(msg, cap, "%s: line %zu is not JSON", rp->file, lineno);
            return -1;
        }
        if (!*header) {
            double v = jnum(o, "zonelab_record", 0);

            if (v < 1) {
                cJSON_Delete(o);
                snprintf(msg, cap,
                         "%s: the first line is not a zonelab recording's header "
                         "(no \"zonelab_record\")",
                         rp->file);
                return -1;
            }
            if (v > ZL_RECORD_FORMAT) {
                cJSON_Delete(o);
                snprintf(msg, cap, "%s: recording format %g is newer than this zonelab's (%d)",
                         rp->file, v, ZL_RECORD_FORMAT);
                return -1;
            }
            *header = o;
        } else {
            int rc = record_exchange(rp, o, msg, cap);

            cJSON_Delete(o);
            if (rc != 0)
                return -1;
        }
        p = nl ? nl + 1 : end;
    }
    if (!*header) {
        snprintf(msg, cap, "%s is empty", rp->file);
        return -1;
    }
    return 0;
}

/* ---- loading a scenario journal ---- */

/* The first entry of face/kind after index from whose key (a string) equals val. */
static const cJSON *find_entry(const cJSON *entries, int from, const char *face, const char *kind,
                               const char *key, const char *val)
{
    int i, n = cJSON_GetArraySize(entries);

    for (i = from < 0 ? 0 : from; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(entries, i);
        const char *f = zl_json_str(e, "face"), *k = zl_json_str(e, "kind"),
                   *v = zl_json_str(e, key);

        if (f && k && v && !strcmp(f, face) && !strcmp(k, kind) && !strcmp(v, val))
            return e;
    }
    return NULL;
}

static const cJSON *entry_by_seq(const cJSON *entries, double seq)
{
    const cJSON *e;

    cJSON_ArrayForEach(e, entries) if (jnum(e, "seq", -1) == seq) return e;
    return NULL;
}

/* A new callback for the journal entry e of a program: its program, seq, start (t -
 * elapsed_ms), replica, and its outcome with the answer; NULL when out of memory. */
static rp_callback *journal_cb(replay *rp, const cJSON *e)
{
    const char *resp = zl_json_str(e, "response");
    rp_callback *c = new_cb(rp);

    if (!c)
        return NULL;
    c->prog = strdup(zl_json_str(e, "program_id"));
    c->src = jcount(e, "seq", 0);
    c->order = jcount(e, "t", 0) > jcount(e, "elapsed_ms", 0)
                   ? jcount(e, "t", 0) - jcount(e, "elapsed_ms", 0)
                   : 0;
    c->replica = replica_of(zl_json_str(e, "instance"));
    c->errcode = (int)jwhole(e, "errcode", INT_MIN, INT_MAX, 0);
    if (!c->prog || (c->errcode == 0 && resp && !(c->response = strdup(resp))))
        return NULL;
    return c;
}

/* Whether every string of c's envelope was allocated. */
static bool env_complete(const rp_callback *c)
{
    return c->env.data && c->env.job_info && c->env.ability_id && c->env.notify_id && c->env.req_id;
}

/* A ("program","call") entry as a callback: its inputs come from the app call with the same
 * req_id (sync_call_program, async_program_task) or the task_input of its jobid. */
static int journal_call(replay *rp, const cJSON *entries, int i, const cJSON *e, char *msg,
                        size_t cap)
{
    const char *req_id = zl_json_str(e, "req_id"), *jobid = zl_json_str(e, "jobid");
    const cJSON *app = req_id ? find_entry(entries, i + 1, "app", "call", "req_id", req_id) : NULL;
    const cJSON *task =
        !app && jobid ? find_entry(entries, 0, "sdk", "task_input", "jobid", jobid) : NULL;
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(app, "request");
    const char *data = app ? zl_json_str(req, "request_data") : zl_json_str(task, "input");
    const char *nid = zl_json_str(req, "notify_id");
    bool is_async = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "is_async"));
    const char *job_info = zl_json_str(e, "job_info");
    rp_callback *c;
    char ji[64];

    if (!data) {
        rp->skipped++;
        return 0;
    }
    if (!(c = journal_cb(rp, e)))
        goto oom;
    if (!job_info && is_async) { /* the journal does not keep it: any fresh one will do */
        snprintf(ji, sizeof ji, "ji_replay_%llu", (unsigned long long)c->src);
        job_info = ji;
    }
    c->env.corpid = dup_or_null(zl_json_str(app ? app : task, "corpid"));
    c->env.agentid = (uint32_t)jwhole(app ? app : task, "agentid", 0, UINT32_MAX, 0);
    c->env.call_type = 1;
    c->env.is_async = is_async;
    c->env.data = strdup(data);
    c->env.job_info = strdup(job_info ? job_info : "");
    c->env.ability_id = strdup(zl_json_str(e, "ability_id") ? zl_json_str(e, "ability_id") : "");
    c->env.notify_id = strdup(!is_async && nid ? nid : "");
    c->env.req_id = strdup(req_id ? req_id : "");
    if (!env_complete(c))
        goto oom;
    return 0;
oom:
    snprintf(msg, cap, "out of memory");
    return -1;
}

/* A ("program","event_result") entry as a callback: the event of its event_seq. */
static int journal_event(replay *rp, const cJSON *entries, const cJSON *e, char *msg, size_t cap)
{
    const cJSON *ev = entry_by_seq(entries, jnum(e, "event_seq", -1));
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(ev, "event");
    rp_callback *c;
    char *data;

    if (!cJSON_IsObject(body)) {
        rp->skipped++;
        return 0;
    }
    if (!(c = journal_cb(rp, e)) || !(data = cJSON_PrintUnformatted(body)))
        goto oom;
    c->env.corpid = dup_or_null(zl_json_str(ev, "corpid")); /* else the program's corp, at setup */
    c->env.agentid = (uint32_t)jwhole(ev, "agentid", 0, UINT32_MAX, 0);
    c->env.call_type = 2;
    c->env.data = strdup(data);
    cJSON_free(data);
    c->env.job_info = strdup("");
    c->env.ability_id = strdup("");
    c->env.notify_id = strdup("");
    c->env.req_id = strdup("");
    if (!env_complete(c))
        goto oom;
    return 0;
oom:
    snprintf(msg, cap, "out of memory");
    return -1;
}

/* An ("sdk","invoke") entry as a recorded SDK call. */
static int journal_invoke(replay *rp, const cJSON *e, char *msg, size_t cap)
{
    const char *outcome = zl_json_str(e, "outcome"), *api = zl_json_str(e, "api"),
               *req = zl_json_str(e, "request");
    const char *why = zl_json_str(e, "error"), *reply_text = zl_json_str(e, "reply");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(e, "response");
    int action;
    rp_invoke *v;

    if (!outcome || !api)
        return 0;
    if (!strcmp(outcome, "answered") || !strcmp(outcome, "scripted")) {
        action = ZL_HOOK_REPLY;
        if (!reply_text && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "msg_list_abridged"))) {
            snprintf(msg, cap,
                     "%s: journal seq %.0f: the journal keeps only the msgids of %s's msg_list, "
                     "not the items the program got; replaying it needs the invoke entry's "
                     "\"reply\" field (docs/replay.md, \"Journals\"), or a recording made with "
                     "zonelab serve --record",
                     rp->file, jnum(e, "seq", 0), api);
            return -1;
        }
    } else if (!strcmp(outcome, "refused") && jnum(e, "sdk_code", 0) == -10006) {
        action = ZL_HOOK_PASS; /* an API zonelab does not serve: refused again */
    } else if (!strcmp(outcome, "reset") && !(why && !strncmp(why, "re-sent", 7))) {
        action = ZL_HOOK_RESET;
    } else if (!strcmp(outcome, "garbage")) {
        action = ZL_HOOK_GARBAGE;
    } else {
        return 0; /* delayed (answered later), a re-send, or refused before the hook */
    }
    if (!(v = new_inv(rp)))
        goto oom;
    v->prog = strdup(zl_json_str(e, "program_id"));
    v->src = jcount(e, "seq", 0);
    v->order = jcount(e, "t", 0) + JOURNAL_SLACK_MS + 1;
    v->api = strdup(api);
    v->request = strdup(req ? req : "");
    v->action = action;
    if (action == ZL_HOOK_REPLY) {
        char *t = reply_text ? NULL : cJSON_PrintUnformatted(resp);

        v->reply = strdup(reply_text ? reply_text : t ? t : "{}");
        cJSON_free(t);
        if (!v->reply)
            goto oom;
    }
    if (!v->prog || !v->api || !v->request)
        goto oom;
    return 0;
oom:
    snprintf(msg, cap, "out of memory");
    return -1;
}

static int load_journal(replay *rp, const cJSON *entries, char *msg, size_t cap)
{
    const cJSON *e;
    int i = 0;

    cJSON_ArrayForEach(e, entries)
    {
        const char *face = zl_json_str(e, "face"), *kind = zl_json_str(e, "kind");
        int rc = 0;

        if (face && kind && zl_json_str(e, "program_id")) {
            if (!strcmp(face, "program") && !strcmp(kind, "call"))
                rc = journal_call(rp, entries, i, e, msg, cap);
            else if (!strcmp(face, "program") && !strcmp(kind, "event_result"))
                rc = journal_event(rp, entries, e, msg, cap);
            else if (!strcmp(face, "sdk") && !strcmp(kind, "invoke"))
                rc = journal_invoke(rp, e, msg, cap);
        }
        if (rc != 0)
            return -1;
        i++;
    }
    return 0;
}

/* ---- the plan ---- */

static int by_order_cb(const void *a, const void *b)
{
    const rp_callback *x = a, *y = b;

    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->src < y->src ? -1 : x->src > y->src;
}

static int by_order_inv(const void *a, const void *b)
{
    const rp_invoke *x = a, *y = b;

    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->src < y->src ? -1 : x->src > y->src;
}

static void free_cb(rp_callback *c)
{
    free(c->prog);
    free(c->response);
    zone_wire_callback_cleanup(&c->env);
}

static void free_inv(rp_invoke *v)
{
    free(v->prog);
    free(v->api);
    free(v->request);
    free(v->reply);
}

/*
 * Keeps the target program's callbacks and calls in start order and gives each call its
 * barrier, the first callback that started after it (a recording) or after it ended (a
 * journal, whose entries are journaled when things end: a callback started at t -
 * elapsed_ms; a call, answered at once, at t): the call must be matched before that
 * callback is sent.
 */
static int plan(replay *rp, char *msg, size_t cap)
{
    size_t i, n, k;

    if (!rp->program_id) {
        for (i = 0; i < rp->n_cbs && !rp->program_id; i++)
            rp->program_id = strdup(rp->cbs[i].prog);
        if (!rp->program_id) {
            snprintf(msg, cap, "%s: no callback to a program to replay", rp->file);
            return -1;
        }
    }
    for (i = n = 0; i < rp->n_cbs; i++) {
        if (strcmp(rp->cbs[i].prog, rp->program_id) != 0) {
            free_cb(&rp->cbs[i]);
            continue;
        }
        rp->cbs[n++] = rp->cbs[i];
    }
    rp->n_cbs = n;
    for (i = n = 0; i < rp->n_invs; i++) {
        if (strcmp(rp->invs[i].prog, rp->program_id) != 0) {
            free_inv(&rp->invs[i]);
            continue;
        }
        rp->invs[n++] = rp->invs[i];
    }
    rp->n_invs = n;
    if (!rp->n_cbs) {
        snprintf(msg, cap, "%s: no callback to program %s to replay", rp->file, rp->program_id);
        return -1;
    }
    qsort(rp->cbs, rp->n_cbs, sizeof *rp->cbs, by_order_cb);
    if (rp->n_invs) /* none: invs may be NULL, which qsort must not get */
        qsort(rp->invs, rp->n_invs, sizeof *rp->invs, by_order_inv);
    for (i = 0, k = 0; i < rp->n_invs; i++) {
        while (k < rp->n_cbs && rp->cbs[k].order < rp->invs[i].order)
            k++;
        rp->invs[i].barrier = k;
    }
    for (i = 0; i < rp->n_cbs; i++)
        if (rp->cbs[i].replica + 1 > rp->replicas && !rp->journal)
            rp->replicas = rp->cbs[i].replica + 1;
    return 0;
}

/* ---- the file ---- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL, *nb;
    size_t cap, n;

    *len = 0;
    if (!f)
        return NULL;
    /* A file's own size (and room for the NUL, and to see the end): one read, no growth. */
    cap = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : 65536;
    for (;;) {
        if (cap - *len < 2 || !buf) {
            if (buf)
                cap *= 2;
            if (!(nb = realloc(buf, cap))) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + *len, 1, cap - *len - 1, f);
        *len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

int zl_replay_load(replay *rp, char *msg, size_t cap)
{
    size_t len, i;
    char *text = read_all(rp->file, &len), *p;
    cJSON *header = NULL, *doc = NULL;
    const cJSON *entries = NULL, *w, *progs, *pr;
    int rc = -1;

    if (!text) {
        snprintf(msg, cap, "cannot read %s: %s", rp->file, errno ? strerror(errno) : "failed");
        return -1;
    }
    for (p = text; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
        ;
    if (*p == '[' || (*p == '{' && (doc = cJSON_ParseWithLength(text, len)) &&
                      cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "entries")))) {
        if (!doc && !(doc = cJSON_ParseWithLength(text, len))) {
            snprintf(msg, cap, "%s: a journal must be one JSON array", rp->file);
            goto out;
        }
        entries = cJSON_IsArray(doc) ? doc : cJSON_GetObjectItemCaseSensitive(doc, "entries");
        rp->journal = true;
        if (load_journal(rp, entries, msg, cap) != 0)
            goto out;
        if (plan(rp, msg, cap) != 0)
            goto out;
        for (i = 0; i < rp->n_cbs; i++)
            if (rp->cbs[i].replica + 1 > rp->replicas)
                rp->replicas = rp->cbs[i].replica + 1;
        for (i = 0; i < (size_t)cJSON_GetArraySize(entries); i++) { /* replicas it started */
            const cJSON *e = cJSON_GetArrayItem(entries, (int)i);
            const char *inst = zl_json_str(e, "instance"), *kind = zl_json_str(e, "kind");
            size_t pl = strlen(rp->program_id);

            if (kind && !strcmp(kind, "spawn") && inst && !strncmp(inst, rp->program_id, pl) &&
                inst[pl] == '/' && replica_of(inst) + 1 > rp->replicas)
                rp->replicas = replica_of(inst) + 1;
        }
        rc = 0;
        goto out;
    }
    cJSON_Delete(doc);
    doc = NULL;
    if (*p != '{') {
        snprintf(msg, cap,
                 "%s is neither a zonelab recording (JSON Lines) nor a journal (a JSON "
                 "array)",
                 rp->file);
        goto out;
    }
    if (load_record(rp, text, len, &header, msg, cap) != 0 || plan(rp, msg, cap) != 0)
        goto out;
    w = cJSON_GetObjectItemCaseSensitive(header, "world");
    if (zl_json_str(w, "path") && !(rp->world_path = strdup(zl_json_str(w, "path"))))
        goto oom;
    if (zl_json_str(w, "sha256"))
        snprintf(rp->world_sha, sizeof rp->world_sha, "%s", zl_json_str(w, "sha256"));
    if (!rp->seed_set) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(header, "seed");

        rp->seed = cJSON_IsNumber(s)   ? jcount(header, "seed", 1)
                   : cJSON_IsString(s) ? strtoull(s->valuestring, NULL, 10)
                                       : 1;
    }
    progs = cJSON_GetObjectItemCaseSensitive(header, "programs");
    cJSON_ArrayForEach(pr, progs)
    {
        const char *id = zl_json_str(pr, "program_id");
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pr, "replicas"));

        if (id && !strcmp(id, rp->program_id) && (size_t)n > rp->replicas)
            rp->replicas = (size_t)n;
    }
    rc = 0;
    goto out;
oom:
    snprintf(msg, cap, "out of memory");
out:
    cJSON_Delete(header);
    cJSON_Delete(doc);
    free(text);
    return rc;
}

void zl_replay_unload(replay *rp)
{
    size_t i;

    for (i = 0; i < rp->n_cbs; i++)
        free_cb(&rp->cbs[i]);
    for (i = 0; i < rp->n_invs; i++)
        free_inv(&rp->invs[i]);
    free(rp->cbs);
    free(rp->invs);
    free(rp->program_id);
    free(rp->world_path);
}
