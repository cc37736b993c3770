/* events: call_type 2 pushes to zone programs (in order, delivery_window in flight per
 * replica) and the archive that fires conversation_new_message. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "emu/emu.h"

/* One event on its way to a replica. */
typedef struct delivery {
    zl_prog_rt *prog;
    uint64_t seq;    /* journal seq of the "event" entry */
    char req_id[17]; /* the callback's: the program's log lines while it handles the event */
} delivery;

static void on_delivered(zl_emu *emu, const zl_call_result *res, void *ud)
{
    delivery *d = ud;
    cJSON *j = cJSON_CreateObject();

    cJSON_AddStringToObject(j, "program_id", d->prog->prog->program_id);
    cJSON_AddStringToObject(j, "instance", d->prog->replicas[res->replica].instance);
    cJSON_AddNumberToObject(j, "event_seq", (double)d->seq);
    cJSON_AddStringToObject(j, "req_id", d->req_id);
    zl_call_result_json(res, j);
    zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "event_result", j);
    free(d);
}

/* Events go out in the order they were made, each to its replica's window
 * (zl_emu_call_program): several in flight per replica, answers in any order. */
int zl_emu_push_event(zl_emu *emu, zl_prog_rt *p, uint32_t agentid, const cJSON *event,
                      long replica)
{
    delivery *d = calloc(1, sizeof *d);
    char *data = zl_json_print(event, NULL); /* cJSON's bytes, without its sprintf per number */
    zl_callback_args cb = {0};
    size_t to;
    cJSON *j;
    int rc;

    if (!d || !data) {
        free(d);
        cJSON_free(data);
        return -1;
    }
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "program_id", p->prog->program_id);
    cJSON_AddStringToObject(j, "corpid", p->corp->corpid);
    cJSON_AddNumberToObject(j, "agentid", agentid);
    cJSON_AddItemToObject(j, "event", cJSON_Duplicate(event, 1));
    d->prog = p;
    d->seq = zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "event", j);
    if (emu->closing) { /* journaled, never sent: as an event still queued at shutdown was */
        free(d);
        cJSON_free(data);
        return 0;
    }
    zl_emu_req_id(emu, d->req_id);
    cb.corpid = p->corp->corpid;
    cb.agentid = agentid;
    cb.call_type = 2;
    cb.data = data;
    cb.req_id = d->req_id;
    to = replica >= 0 && (size_t)replica < p->replica_count ? (size_t)replica
                                                            : zl_emu_pick_replica(p);
    if ((rc = zl_emu_call_program(emu, p, to, &cb, emu->opt.event_timeout_ms, on_delivered, d)) !=
        0) {
        j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "program_id", p->prog->program_id);
        cJSON_AddNumberToObject(j, "event_seq", (double)d->seq);
        cJSON_AddStringToObject(j, "instance", p->replicas[to].instance);
        cJSON_AddNumberToObject(j, "errcode", 710638);
        cJSON_AddStringToObject(j, "error",
                                rc == ZL_CALL_QUEUE_FULL
                                    ? "not sent: delivery_queue_max events and calls "
                                      "wait for this replica already"
                                    : "out of memory starting the delivery");
        zl_journal_add(emu->journal, zl_emu_now_ms(emu), "program", "event_result", j);
        free(d);
    }
    cJSON_free(data);
    return 0;
}

zl_prog_rt *zl_emu_app_event(zl_emu *emu, zl_app_rt *a, const char *type, const char *key,
                             cJSON *payload, cJSON *report)
{
    zl_prog_rt *to = NULL;
    cJSON *ev, *o;

    if (!a->receiver || !a->app->data_permission || emu->closing || !payload) {
        cJSON_Delete(payload);
        return NULL;
    }
    if (!(ev = cJSON_CreateObject())) {
        cJSON_Delete(payload);
        return NULL;
    }
    cJSON_AddStringToObject(ev, "event_type", type);
    cJSON_AddNumberToObject(ev, "timestamp", (double)(zl_emu_now_ms(emu) / 1000));
    if (!cJSON_AddItemToObject(ev, key ? key : type, payload))
        cJSON_Delete(payload);
    else if (zl_emu_push_event(emu, a->receiver, a->app->agentid, ev, -1) == 0)
        to = a->receiver;
    cJSON_Delete(ev);
    if (to && report && (o = cJSON_CreateObject())) {
        cJSON_AddNumberToObject(o, "agentid", a->app->agentid);
        cJSON_AddStringToObject(o, "program_id", to->prog->program_id);
        cJSON_AddStringToObject(o, "event_type", type);
        cJSON_AddItemToArray(report, o);
    }
    return to;
}

/* WeCom sends one conversation_new_message per archived message an app's archive holds (a
 * party among the app's effective members, the app has a public key, its authorisation is in
 * effect), to the program the app chose, and archives nothing for a corp where no app has a
 * key. */
long zl_emu_archive(zl_emu *emu, zl_corp *c, const cJSON *messages, cJSON *report, char *err,
                    size_t errlen)
{
    size_t before = zl_msgstore_count(c->messages), i, a;
    long n;
    cJSON *events = report ? cJSON_AddArrayToObject(report, "events") : NULL;

    if (!zl_emu_corp_archives(emu, c)) {
        snprintf(err, errlen,
                 "corp %s has no public key: WeCom archives nothing before set_public_key",
                 c->corpid);
        return -1;
    }
    n = zl_corp_archive_json(emu->world, c, messages, zl_emu_now_ms(emu) / 1000, err, errlen);
    for (i = before; i < zl_msgstore_count(c->messages); i++) {
        const zl_message *m = zl_msgstore_at(c->messages, i);
        cJSON *j = cJSON_CreateObject();

        cJSON_AddStringToObject(j, "corpid", c->corpid);
        cJSON_AddStringToObject(j, "msgid", m->msgid);
        cJSON_AddNumberToObject(j, "seq", (double)m->seq);
        cJSON_AddBoolToObject(j, "in_scope", zl_msg_visible(c, NULL, m));
        zl_journal_add(emu->journal, zl_emu_now_ms(emu), "control", "archive", j);
        for (a = 0; a < emu->app_count; a++) {
            zl_app_rt *ar = &emu->apps[a];
            zl_prog_rt *to;
            cJSON *o;
            char token[40];

            /* only apps whose archive is in effect and holds the message (after its first
             * key, a party among its effective members) */
            if (ar->corp != c || !ar->receiver || !ar->app->data_permission ||
                zl_emu_app_archive_check(emu, ar) != 0 || zl_emu_app_msg_check(emu, ar, i) != 0)
                continue;
            if (!zl_emu_new_event_token(emu, ar, token))
                continue;
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "token", token);
            to = zl_emu_app_event(emu, ar, "conversation_new_message", NULL, o, NULL);
            if (to && events) {
                cJSON *r = cJSON_CreateObject();

                cJSON_AddStringToObject(r, "msgid", m->msgid);
                cJSON_AddNumberToObject(r, "agentid", ar->app->agentid);
                cJSON_AddStringToObject(r, "program_id", to->prog->program_id);
                cJSON_AddStringToObject(r, "token", token);
                cJSON_AddItemToArray(events, r);
            }
        }
    }
    for (i = 0; i < emu->part_count; i++)
        if (emu->parts[i].ops->on_archive)
            emu->parts[i].ops->on_archive(emu, emu->parts[i].state, c, before,
                                          zl_msgstore_count(c->messages), report);
    return n;
}
