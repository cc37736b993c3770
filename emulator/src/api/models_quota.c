/* models_quota: what a model task costs. The daily budgets per corp (45009 at create) and the
 * general model's calls per minute per provider, whose overflow delays or fails the task
 * (doc 56425 "频率限制说明"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/models_int.h"

#define DAY_OFFSET_S (8 * 3600) /* quota days start at midnight UTC+8 */
/* The minutes a task may wait: "任务重试超过24小时仍未有足够资源执行，任务将失败" */
#define RETRY_MINUTES (24 * 60)

/* One provider's (or corp's) general-model calls per minute of the virtual clock, from the
 * current minute on: used[i] is minute first + i. */
typedef struct minutes {
    int64_t first;
    long long *used;
    size_t len;
} minutes;

void zl_models_minutes_free(void *v)
{
    minutes *mu = v;

    if (mu)
        free(mu->used);
    free(mu);
}

/*
 * Whom app a's per-minute budget is counted for: "每服务商每分钟调用量不超过100次" (doc 56425),
 * the provider of its suite, across its corps and apps; an app the world gives no provider is
 * counted with its corp. Self-built apps have no per-minute limit (doc 53707 states none):
 * false.
 */
static bool minute_key(const zl_app_rt *a, char *key, size_t keylen)
{
    if (a->app->kind == ZL_APP_SELF_BUILT)
        return false;
    if (a->app->suite && a->app->suite->provider)
        snprintf(key, keylen, "provider:%s", a->app->suite->provider->corpid);
    else
        snprintf(key, keylen, "corp:%s", a->corp->corpid);
    return true;
}

/* The record of key with minutes before now_min dropped; NULL when memory ran out. */
static minutes *minutes_of(struct zl_models *m, const char *key, int64_t now_min)
{
    minutes *mu = zl_strmap_get(m->minutes, key);
    size_t gone;

    if (!mu) {
        if (!(mu = calloc(1, sizeof *mu)) || zl_strmap_put(m->minutes, key, mu) != 0) {
            free(mu);
            return NULL;
        }
        mu->first = now_min;
    }
    if (mu->first < now_min) {
        gone = now_min - mu->first >= (int64_t)mu->len ? mu->len : (size_t)(now_min - mu->first);
        if (gone < mu->len)
            memmove(mu->used, mu->used + gone, (mu->len - gone) * sizeof *mu->used);
        mu->len -= gone;
        mu->first = now_min;
    }
    return mu;
}

/* Counts one call in minute first + i: 0, or -1 when memory ran out. */
static int minutes_take(minutes *mu, size_t i)
{
    if (i >= mu->len) {
        long long *u = realloc(mu->used, (i + 1) * sizeof *u);

        if (!u)
            return -1;
        memset(u + mu->len, 0, (i + 1 - mu->len) * sizeof *u);
        mu->used = u;
        mu->len = i + 1;
    }
    mu->used[i]++;
    return 0;
}

/*
 * The first minute from now_min on with room, as an offset, or -1 when none within the 24 h a
 * task may wait. Minutes are those of the virtual clock (hh:mm:00 to hh:mm:59).
 */
static long room_in(const struct zl_models *m, const minutes *mu)
{
    size_t i;

    for (i = 0; i <= RETRY_MINUTES; i++)
        if ((i < mu->len ? mu->used[i] : 0) < m->emu->opt.models.per_minute_budget)
            return (long)i;
    return -1;
}

cJSON *zl_models_charge(sdk_ctx *x, struct zl_models *m, model_kind k, size_t msgs, int64_t now_ms,
                        int64_t *start_ms)
{
    quota *q = &m->quotas[corp_index(x->emu, x->app->corp)];
    int64_t now_s = now_ms / 1000, day = (now_s + DAY_OFFSET_S) / 86400;
    long long cost = zl_models_info[k].per_message_quota ? (long long)msgs : 1;
    char key[ZL_WORLD_MAX_ID + 16];
    minutes *mu = NULL;
    long room = 0;

    if (q->day != day) {
        q->day = day;
        memset(q->used, 0, sizeof q->used);
    }
    /* "每企业每天不超过1万次（按调用次数限制）": refused at create */
    if (q->used[k] + cost > m->emu->opt.models.daily_budget[k])
        return zl_sdk_errf(x, 45009, "%s: %lld %s per corp per day, %lld used",
                           zl_models_info[k].name, m->emu->opt.models.daily_budget[k],
                           zl_models_info[k].per_message_quota ? "messages" : "calls", q->used[k]);
    if (start_ms)
        *start_ms = now_ms;
    if (k == M_WW_MODEL && minute_key(x->app, key, sizeof key)) {
        if (!(mu = minutes_of(m, key, now_s / 60)))
            return zl_sdk_err(x, -1, "out of memory");
        room = room_in(m, mu);
        /* "超过后将导致任务延迟或者任务失败": a later minute with room, or a failed task */
        if (room != 0 && m->emu->opt.models.per_minute_overflow == ZL_MODELS_OVER_REFUSE)
            return zl_sdk_errf(x, 45009, "ww_model: %lld calls per minute",
                               m->emu->opt.models.per_minute_budget);
        if (room != 0 &&
            (room < 0 || m->emu->opt.models.per_minute_overflow == ZL_MODELS_OVER_FAIL)) {
            if (start_ms)
                *start_ms = -1;
        } else {
            if (minutes_take(mu, (size_t)room) != 0)
                return zl_sdk_err(x, -1, "out of memory");
            if (room > 0 && start_ms)
                *start_ms = (now_s / 60 + room) * 60000;
        }
    }
    q->used[k] += cost;
    return NULL;
}
