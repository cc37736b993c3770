/* sentiment: the digest's optional pass over WeCom's sentiment model (sdk-api.md 6): the new
 * text, voice and audio messages, their keys unwrapped with the app's private key, sent in
 * create_sentiment_task chunks, polled with get_sentiment_result within a bounded wait, and
 * counted. Logs carry counts only, never keys, ids or content. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "zd.h"
#include "zone_sdk.h"

typedef struct item {
    char *msgid;
    char *encrypted; /* service_encrypt_info.encrypted_secret_key */
} item;

struct zd_sentiment {
    item *items;
    size_t n, cap;
    long failed; /* no msgid or key, out of memory */
    long over;   /* past ZD_SENTIMENT_MAX_MSGS: never submitted */
};

/* One create_sentiment_task that got a jobid. */
typedef struct task {
    char *jobid;
    long n; /* its messages, duplicates taken out */
    bool done;
} task;

bool zd_sentiment_msgtype(int msgtype)
{
    return msgtype == 1 || msgtype == 6 || msgtype == 21;
}

int zd_digest_options(const char *request_data, bool *sentiment, char *err, size_t errlen)
{
    cJSON *j = request_data ? cJSON_Parse(request_data) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "sentiment");
    int rc = 0;

    *sentiment = false;
    if (cJSON_IsObject(j) && v) {
        if (cJSON_IsBool(v)) {
            *sentiment = cJSON_IsTrue(v);
        } else {
#ifdef ZD_PLANT_UNCHECKED_TYPE
            /* planted for zonelab explore (test builds only): any other type read as a
             * string, so null or a number crashes */
            *sentiment = strcmp(v->valuestring, "true") == 0;
            (void)err;
            (void)errlen;
#else
            snprintf(err, errlen, "request_data: \"sentiment\" must be true or false");
            rc = -1;
#endif
        }
    }
    cJSON_Delete(j);
    return rc;
}

zd_sentiment *zd_sentiment_new(void)
{
    return calloc(1, sizeof(zd_sentiment));
}

void zd_sentiment_free(zd_sentiment *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->n; i++) {
        free(s->items[i].msgid);
        free(s->items[i].encrypted);
    }
    free(s->items);
    free(s);
}

int zd_sentiment_add(zd_sentiment *s, const cJSON *msg)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(msg, "msgtype");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "msgid");
    const cJSON *enc = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(msg, "service_encrypt_info"), "encrypted_secret_key");
    item *it;

    if (!cJSON_IsNumber(t) || !zd_sentiment_msgtype(t->valueint))
        return 0;
    if (s->n >= ZD_SENTIMENT_MAX_MSGS) {
        s->over++;
        return 0;
    }
    if (!cJSON_IsString(id) || !*id->valuestring || !cJSON_IsString(enc) || !*enc->valuestring) {
        s->failed++;
        return 0;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        item *grown = realloc(s->items, cap * sizeof *grown);

        if (!grown) {
            s->failed++;
            return -1;
        }
        s->items = grown;
        s->cap = cap;
    }
    it = &s->items[s->n];
    it->msgid = strdup(id->valuestring);
    it->encrypted = strdup(enc->valuestring);
    if (!it->msgid || !it->encrypted) {
        free(it->msgid);
        free(it->encrypted);
        s->failed++;
        return -1;
    }
    s->n++;
    return 0;
}

/* The SDK call with its reply parsed; NULL (rc set) on a transport failure or a reply that
 * is not JSON (rc 0 then). */
static cJSON *call(const zd_sentiment_env *env, const char *api, const char *body, int *rc)
{
    char *rsp = NULL, err[256] = "";
    cJSON *j;

    *rc = env->sdk->invoke(env->sdk->ud, env->ctx, api, body, &rsp, err, sizeof err);
    if (*rc != 0) {
        ZONE_LOG_ERROR("sentiment: %s: SDK code %d: %s", api, *rc, err);
        return NULL;
    }
    j = cJSON_Parse(rsp);
    free(rsp);
    if (!j)
        ZONE_LOG_ERROR("sentiment: %s answered something that is not JSON", api);
    return j;
}

static int errcode_of(const cJSON *j)
{
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(j, "errcode");

    return cJSON_IsNumber(ec) ? ec->valueint : -1;
}

/* Keys decrypted and not, with the first reason one did not, for the log and the answer. */
typedef struct key_tally {
    long decrypted, undecrypted;
    char why[300];
} key_tally;

/* The msg_list of items[0..n), keys decrypted; *sent items went in, the others failed. */
static char *create_body(const item *items, size_t n, const zd_msgkey *key, long *sent,
                         key_tally *kt)
{
    cJSON *req = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(req, "msg_list");
    char *body = NULL;
    size_t i;

    *sent = 0;
    for (i = 0; list && i < n; i++) {
        char err[300];
        char *secret = zd_msgkey_decrypt(key, items[i].encrypted, err, sizeof err);
        cJSON *o = secret ? cJSON_CreateObject() : NULL;

        if (!secret) {
            if (!kt->undecrypted++)
                snprintf(kt->why, sizeof kt->why, "%s", err);
            continue;
        }
        kt->decrypted++;
        if (o && cJSON_AddStringToObject(o, "msgid", items[i].msgid) &&
            cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "encrypt_info"), "secret_key",
                                    secret) &&
            cJSON_AddItemToArray(list, o))
            (*sent)++;
        else
            cJSON_Delete(o); /* out of memory: the message is not sent and counts as failed */
        OPENSSL_cleanse(secret, strlen(secret));
        free(secret);
    }
    if (*sent > 0)
        body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return body;
}

/* Counts a finished task's reply: at most n messages, any not accounted for as failed. */
static void tally(const cJSON *reply, long n, zd_sentiment_counts *c)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(reply, "analyze_result_list"), *e, *f;
    long used = 0;

    cJSON_ArrayForEach(e, list)
    {
        const cJSON *ec = cJSON_GetObjectItemCaseSensitive(e, "errcode");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "sentiment_result");

        if (used == n)
            break;
        used++;
        if ((cJSON_IsNumber(ec) && ec->valueint != 0) || !cJSON_IsNumber(r) || r->valueint < 0 ||
            r->valueint > 2) {
            c->failed++;
            continue;
        }
        c->analysed++;
        if (r->valueint == 1)
            c->positive++;
        else if (r->valueint == 2)
            c->negative++;
        else
            c->none++;
    }
    /* per-message failures listed only in fail_list (WeCom lists them in both) */
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(reply, "fail_list"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "msgid");
        bool listed = false;

        if (used == n)
            break;
        cJSON_ArrayForEach(e, list)
        {
            const cJSON *eid = cJSON_GetObjectItemCaseSensitive(e, "msgid");

            if (cJSON_IsString(id) && cJSON_IsString(eid) &&
                !strcmp(id->valuestring, eid->valuestring)) {
                listed = true;
                break;
            }
        }
        if (!listed) {
            c->failed++;
            used++;
        }
    }
    c->failed += n - used;
}

/* One get_sentiment_result for t: marks it done and counts it when it finished or failed. */
static void poll_task(const zd_sentiment_env *env, task *t, zd_sentiment_counts *c)
{
    cJSON *req = cJSON_CreateObject(), *reply;
    const cJSON *st;
    char *body;
    int rc;

    cJSON_AddStringToObject(req, "jobid", t->jobid);
    body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    reply = body ? call(env, "get_sentiment_result", body, &rc) : NULL;
    cJSON_free(body);
    if (!reply)
        return; /* a transport failure: the next round tries again */
    st = cJSON_GetObjectItemCaseSensitive(reply, "status");
    if (errcode_of(reply) != 0 || (cJSON_IsNumber(st) && st->valueint != 0)) {
        t->done = true;
        if (errcode_of(reply) == 0 && st->valueint == 1) {
            tally(reply, t->n, c);
        } else {
            ZONE_LOG_ERROR("sentiment: a task of %ld messages failed: errcode %d, status %d", t->n,
                           errcode_of(reply), cJSON_IsNumber(st) ? st->valueint : -1);
            c->failed += t->n;
        }
    }
    cJSON_Delete(reply);
}

/* create_sentiment_task for items[0..n); a task with a jobid into *t, or the messages
 * counted failed. Returns whether *t holds a task. */
static bool create(const zd_sentiment_env *env, const item *items, size_t n, task *t,
                   zd_sentiment_counts *c, key_tally *kt)
{
    long sent = 0, dups;
    char *body = create_body(items, n, env->key, &sent, kt);
    cJSON *reply;
    const cJSON *jobid;
    int rc;

    c->failed += (long)n - sent;
    if (!body)
        return false;
    reply = call(env, "create_sentiment_task", body, &rc);
    OPENSSL_cleanse(body, strlen(body)); /* it held the secret keys */
    cJSON_free(body);
    jobid = cJSON_GetObjectItemCaseSensitive(reply, "jobid");
    if (!reply || errcode_of(reply) != 0 || !cJSON_IsString(jobid) || !*jobid->valuestring ||
        !(t->jobid = strdup(jobid->valuestring))) {
        if (reply)
            ZONE_LOG_ERROR("sentiment: create_sentiment_task of %ld messages: errcode %d", sent,
                           errcode_of(reply));
        c->failed += sent;
        cJSON_Delete(reply);
        return false;
    }
    /* fail_list holds the msgids repeated in msg_list: not analysed */
    dups = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(reply, "fail_list"));
    dups = dups > sent ? sent : dups;
    c->failed += dups;
    t->n = sent - dups;
    t->done = t->n == 0;
    cJSON_Delete(reply);
    return true;
}

int zd_sentiment_run(zd_sentiment *s, const zd_sentiment_env *env, zd_sentiment_counts *out,
                     char *err, size_t errlen)
{
    int64_t deadline = env->clock->mono_ms() + env->wait_ms, left;
    size_t n_tasks = (s->n + ZD_SENTIMENT_CHUNK - 1) / ZD_SENTIMENT_CHUNK, nt = 0, off, i;
    task *tasks = calloc(n_tasks ? n_tasks : 1, sizeof *tasks);
    key_tally kt = {0};
    long pending;
    int rc = 0;

    *out = (zd_sentiment_counts){.failed = s->failed, .unfinished = s->over};
    for (off = 0; off < s->n; off += ZD_SENTIMENT_CHUNK) {
        size_t k = s->n - off < ZD_SENTIMENT_CHUNK ? s->n - off : ZD_SENTIMENT_CHUNK;

        if (!tasks) {
            out->failed += (long)(s->n - off); /* out of memory */
            break;
        }
        if (off > 0 && env->clock->mono_ms() >= deadline) {
            out->unfinished += (long)(s->n - off); /* no time left to submit them */
            break;
        }
        if (create(env, s->items + off, k, &tasks[nt], out, &kt))
            nt++;
    }
    for (;;) {
        pending = 0;
        for (i = 0; i < nt; i++) {
            if (!tasks[i].done)
                poll_task(env, &tasks[i], out);
            pending += !tasks[i].done;
        }
        left = deadline - env->clock->mono_ms();
        if (pending == 0 || left <= 0)
            break;
        env->clock->sleep_ms((unsigned)(left < ZD_SENTIMENT_POLL_MS ? left : ZD_SENTIMENT_POLL_MS));
    }
    for (i = 0; i < nt; i++) {
        if (!tasks[i].done)
            out->unfinished += tasks[i].n;
        free(tasks[i].jobid);
    }
    free(tasks);
    if (kt.undecrypted)
        ZONE_LOG_ERROR("sentiment: %ld of %ld message keys did not decrypt: %s", kt.undecrypted,
                       kt.undecrypted + kt.decrypted, kt.why);
    if (kt.undecrypted > 0 && kt.decrypted == 0) {
        snprintf(err, errlen,
                 "the private key decrypts none of the %ld message keys: give zone-demo the "
                 "private half of the public key set for the app (%s)",
                 kt.undecrypted, kt.why);
        rc = -1;
    }
    ZONE_LOG_INFO("sentiment: %zu messages in %zu tasks: %ld analysed (%ld positive, %ld "
                  "negative, %ld none), %ld failed, %ld unfinished",
                  s->n + (size_t)s->failed + (size_t)s->over, nt, out->analysed, out->positive,
                  out->negative, out->none, out->failed, out->unfinished);
    return rc;
}
