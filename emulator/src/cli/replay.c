/* cli_replay: `zonelab replay FILE`: drives a zone program with a recording (`zonelab serve
 * --record`) or a failed scenario's journal, answers its SDK calls from it, and compares
 * its answers and SDK calls with it, stopping at the first difference (docs/replay.md).
 * This file runs the emulator and the program and sends the callbacks; replay_load.c reads
 * the file, replay_compare.c compares. */
#define _GNU_SOURCE
#include "cli/replay.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"
#include "cli/replay_int.h"
#include "faces/record.h"

#define START_MS  15000 /* every replica listens within this */
#define SETTLE_MS 100   /* after the last callback: time for an SDK call the recording lacks */

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

/* ---- the SDK hook: the program's calls, answered from the recording ---- */

static int refuse(cJSON **reply)
{
    *reply = cJSON_CreateObject();
    cJSON_AddNumberToObject(*reply, "errcode", -1);
    cJSON_AddStringToObject(*reply, "errmsg",
                            "zonelab replay: this SDK call is not in the recording");
    return ZL_HOOK_REPLY;
}

static int hook(void *ud, const char *api, const cJSON *request, cJSON **reply, long *delay_ms)
{
    replay *rp = ud;
    size_t i, first_same = SIZE_MAX, first_any = SIZE_MAX;
    jdiff d = {0}, best = {0};
    char *from = NULL, *to = NULL, *text;

    (void)delay_ms;
    if (rp->diff)
        return refuse(reply);
    for (i = 0; i < rp->n_invs; i++) {
        rp_invoke *v = &rp->invs[i];
        int r;

        if (v->used)
            continue;
        if (first_any == SIZE_MAX)
            first_any = i;
        if (strcmp(v->api, api) != 0)
            continue;
        r = zl_replay_match_invoke(rp, v, api, request, &d, &from, &to);
        if (r == 0) {
            v->used = true;
            rp->matched++;
            if (from && zl_replay_learn_id(rp, from, to) != 0)
                fprintf(rp->err, "zonelab replay: out of memory pairing notify ids\n");
            free(from);
            free(to);
            zl_replay_jdiff_cleanup(&best);
            if (v->action != ZL_HOOK_REPLY)
                return v->action;
            text = zl_replay_map_text(rp, v->reply);
            *reply = text ? cJSON_Parse(text) : NULL;
            free(text);
            return *reply ? ZL_HOOK_REPLY : ZL_HOOK_PASS;
        }
        if (first_same == SIZE_MAX) {
            first_same = i;
            best = d;
            d = (jdiff){0};
        }
        zl_replay_jdiff_cleanup(&d);
    }
    /* not in the recording (here): the first difference */
    zl_replay_diff_call(rp, api, request, first_same, &best, first_any);
    zl_replay_jdiff_cleanup(&best);
    return refuse(reply);
}

/* ---- running ---- */

static void on_answer(zl_emu *emu, const zl_call_result *res, void *ud)
{
    replay *rp = ud;

    (void)emu;
    rp->answered = true;
    rp->got_errcode = res->errcode;
    free(rp->got_response);
    rp->got_response = res->response ? strdup(res->response) : NULL;
    snprintf(rp->got_detail, sizeof rp->got_detail, "%s", res->detail);
}

/* A replica that exited is a difference (the recorded program did not). */
static void check_alive(replay *rp)
{
    size_t i;

    zl_emu_reap(rp->emu);
    for (i = 0; i < rp->prog->replica_count && !rp->diff; i++) {
        const zl_replica *r = &rp->prog->replicas[i];

        if (r->exited)
            zl_replay_diff_exited(rp, r);
    }
}

/* Whether every call due before callback[barrier] was made (waived ones only at the end). */
static bool all_matched(const replay *rp, size_t barrier)
{
    size_t i;

    for (i = 0; i < rp->n_invs; i++)
        if (!rp->invs[i].used && rp->invs[i].barrier <= barrier &&
            (!rp->invs[i].waived || barrier == rp->n_cbs))
            return false;
    return true;
}

/* Turns the engine until the calls due before callback[barrier] are matched (or ms pass);
 * what is still missing then is the difference. */
static void await_calls(replay *rp, size_t barrier, long ms)
{
    int64_t deadline = zl_cli_now_ms() + ms;
    size_t i;

    while (!rp->diff && !all_matched(rp, barrier) && zl_cli_now_ms() < deadline) {
        zl_engine_turn(rp->engine, 10);
        check_alive(rp);
    }
    if (rp->diff)
        return;
    for (i = 0; i < rp->n_invs; i++) {
        rp_invoke *v = &rp->invs[i];

        if (v->used || v->barrier > barrier || (v->waived && barrier < rp->n_cbs))
            continue;
        if (rp->journal && barrier < rp->n_cbs) {
            /* a journal's times are estimates: the call may belong to a later callback */
            v->waived = true;
            continue;
        }
        zl_replay_diff_missing(rp, v, ms);
        return;
    }
}

static void settle(replay *rp, long ms)
{
    int64_t deadline = zl_cli_now_ms() + ms;

    while (!rp->diff && zl_cli_now_ms() < deadline) {
        zl_engine_turn(rp->engine, 10);
        check_alive(rp);
    }
}

static void send_callback(replay *rp, size_t k)
{
    const rp_callback *c = &rp->cbs[k];
    char *data = zl_replay_map_text(rp, c->env.data);
    char *nid = zl_replay_map_text(rp, c->env.notify_id);
    zl_callback_args a = {.corpid = c->env.corpid,
                          .data = data,
                          .job_info = c->env.job_info,
                          .ability_id = c->env.ability_id,
                          .notify_id = nid,
                          .req_id = c->env.req_id,
                          .agentid = c->env.agentid,
                          .call_type = c->env.call_type,
                          .is_async = c->env.is_async != 0};
    size_t replica = c->replica < rp->prog->replica_count ? c->replica : 0;

    rp->answered = false;
    rp->in_flight = true;
    if (!data || !nid ||
        zl_emu_call_program(rp->emu, rp->prog, replica, &a, rp->timeout_ms, on_answer, rp) != 0) {
        zl_replay_diff_unsent(rp, k);
    } else {
        while (!rp->answered) { /* the call's own timeout ends it */
            zl_engine_turn(rp->engine, 10);
            zl_emu_reap(rp->emu);
        }
    }
    rp->in_flight = false;
    free(data);
    free(nid);
}

static void drive(replay *rp)
{
    size_t k;

    for (k = 0; k < rp->n_cbs && !rp->diff; k++) {
        rp->cur = k;
        await_calls(rp, k, rp->timeout_ms);
        if (rp->diff)
            break;
        send_callback(rp, k);
        if (!rp->diff)
            zl_replay_check_answer(rp, k);
        check_alive(rp);
    }
    if (rp->diff)
        return;
    rp->cur = rp->n_cbs;
    await_calls(rp, rp->n_cbs, rp->timeout_ms);
    settle(rp, SETTLE_MS);
}

/* ---- the emulator and the program ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int wait_listening(replay *rp, char *msg, size_t cap)
{
    int64_t deadline = zl_cli_now_ms() + START_MS;
    size_t i, ready;

    for (;;) {
        zl_emu_reap(rp->emu);
        for (i = ready = 0; i < rp->prog->replica_count; i++) {
            const zl_replica *r = &rp->prog->replicas[i];

            if (r->exited) {
                zl_emu_replica_diagnose(rp->emu, r, 8, msg, cap);
                return -1;
            }
            ready += (size_t)zl_emu_replica_listening(rp->emu, &rp->prog->replicas[i]);
        }
        if (ready == rp->prog->replica_count)
            return 0;
        if (zl_cli_now_ms() > deadline) {
            int n =
                snprintf(msg, cap,
                         "%zu of %zu replicas of %s listen after %d ms (logs in "
                         "%.512s); ",
                         ready, rp->prog->replica_count, rp->program_id, START_MS, rp->work_dir);

            for (i = 0; i < rp->prog->replica_count && rp->prog->replicas[i].listened; i++)
                ;
            if (n > 0 && (size_t)n < cap && i < rp->prog->replica_count)
                zl_emu_replica_diagnose(rp->emu, &rp->prog->replicas[i], 0, msg + n,
                                        cap - (size_t)n);
            return -1;
        }
        zl_engine_turn(rp->engine, 5);
    }
}

static int setup(replay *rp, char *msg, size_t cap)
{
    const char *wpath = rp->world_opt ? rp->world_opt : rp->world_path, *tmp = getenv("TMPDIR");
    const unsigned char *raw;
    size_t i, raw_len;
    zl_server_config sc;
    zl_world *w = NULL;
    char sha[65];

    raw = zl_world_default_json(&raw_len);
    if (wpath && !(w = zl_world_load_file(wpath, msg, cap)))
        return -1;
    if (rp->world_sha[0] && zl_record_world_digest(wpath, raw, raw_len, sha) == 0 &&
        strcmp(sha, rp->world_sha) != 0)
        fprintf(rp->err,
                "zonelab replay: warning: the world %s is not the recording's (sha256 %.12s..., "
                "recorded %.12s...)\n",
                wpath ? wpath : "(built-in)", sha, rp->world_sha);
    zl_server_config_default(&sc);
    sc.engine.seed = rp->seed;
    sc.journal_cap = 100000;
    sc.no_control = true;
    sc.opt.program_timeout_ms = rp->timeout_ms;
    sc.opt.event_timeout_ms = rp->timeout_ms;
    sc.opt.replica_restart = false; /* a replica that exits is a difference, not restarted */
    if (!(rp->srv = zl_server_new(w, &sc, msg, cap)) || zl_server_start(rp->srv, msg, cap) != 0)
        return -1;
    rp->world = rp->srv->world;
    rp->engine = rp->srv->engine;
    rp->jr = rp->srv->journal;
    rp->emu = rp->srv->emu;
    for (i = 0; i < rp->emu->prog_count && !rp->prog; i++)
        if (!strcmp(rp->emu->progs[i].prog->program_id, rp->program_id))
            rp->prog = &rp->emu->progs[i];
    if (!rp->prog) {
        snprintf(msg, cap,
                 "the world %s has no program %s; give the recording's world with --world",
                 wpath ? wpath : "(built-in)", rp->program_id);
        return -1;
    }
    if (rp->replicas && rp->replicas != rp->prog->replica_count &&
        zl_emu_set_replicas(rp->emu, rp->prog, rp->replicas, msg, cap) != 0)
        return -1;
    for (i = 0; i < rp->n_cbs; i++)
        if (!rp->cbs[i].env.corpid && !(rp->cbs[i].env.corpid = strdup(rp->prog->corp->corpid))) {
            snprintf(msg, cap, "out of memory");
            return -1;
        }
    snprintf(rp->work_dir, sizeof rp->work_dir, "%s/zonelab-replay-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(rp->work_dir)) {
        snprintf(msg, cap, "cannot make a work folder %.512s: %s", rp->work_dir, strerror(errno));
        rp->work_dir[0] = '\0';
        return -1;
    }
    rp->emu->log_dir = rp->work_dir;
    rp->emu->sdk_hook = hook;
    rp->emu->sdk_hook_ud = rp;
    setenv("ZONELAB_WORK_DIR", rp->work_dir, 1); /* the program's command may use it */
    if (zl_emu_spawn(rp->emu, rp->prog, rp->program_cmd, msg, cap) != 0)
        return -1;
    return wait_listening(rp, msg, cap);
}

static void teardown(replay *rp, bool remove_work)
{
    size_t i;

    zl_server_free(rp->srv);
    if (remove_work && rp->work_dir[0])
        nftw(rp->work_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    zl_replay_unload(rp);
    for (i = 0; i < rp->n_ids; i++) {
        free(rp->ids[i].from);
        free(rp->ids[i].to);
    }
    free(rp->ids);
    free(rp->got_response);
    free(rp->diff);
}

/* ---- the command ---- */

static void usage(FILE *f)
{
    fputs("usage: zonelab replay FILE --program CMD [--program-id ID] [--world FILE]\n"
          "                      [--seed N] [--timeout-ms N] [--ignore PATH]... [--keep]\n"
          "\n"
          "Drives a program with a recording and compares what it does with it.\n"
          "FILE is a `zonelab serve --record` file or a failed scenario's\n"
          "<path>.journal.json (zonelab run --report-dir); the format is detected.\n"
          "  --program CMD      start CMD (via /bin/sh -c) as each replica, with the ZONELAB_*\n"
          "                     environment and ZONELAB_WORK_DIR (a fresh folder)\n"
          "  --program-id ID    the program to replay (default: the first one called)\n"
          "  --world FILE       the world (default: the recording's; a journal's: built-in)\n"
          "  --seed N           the emulator's seed (default: the recording's, else 1)\n"
          "  --timeout-ms N     wait for an answer or an SDK call (default 10000)\n"
          "  --ignore PATH      a JSON path not compared, as $.a.b[0], $.list[*].time or\n"
          "                     $.*.id; API:PATH for one SDK API's requests only,\n"
          "                     answer:PATH for the program's answers only (repeatable)\n"
          "  --keep             keep the work folder (program logs, ZONELAB_WORK_DIR)\n"
          "\n"
          "Exit codes: 0 everything matched, 1 a difference (the first one is printed),\n"
          "2 usage, or a file or program that cannot be replayed.\n",
          f);
}

int zl_cli_replay(int argc, char **argv, FILE *out, FILE *err)
{
    replay rp = {.out = out, .err = err, .timeout_ms = 10000, .seed = 1};
    unsigned long long v;
    char msg[1200] = "";
    int64_t t0 = zl_cli_now_ms();
    int i, rc = ZL_CLI_USAGE;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(out);
            return ZL_CLI_OK;
        } else if (!strcmp(a, "--keep")) {
            rp.keep = true;
            continue;
        } else if (a[0] != '-' || !a[1]) {
            if (rp.file) {
                fprintf(err, "zonelab replay: one FILE only ('%s' and '%s')\n", rp.file, a);
                usage(err);
                return ZL_CLI_USAGE;
            }
            rp.file = a;
            continue;
        } else if (!strcmp(a, "--program") && val && *val) {
            rp.program_cmd = val;
        } else if (!strcmp(a, "--program-id") && val && *val) {
            rp.program_opt = val;
        } else if (!strcmp(a, "--world") && val && *val) {
            rp.world_opt = val;
        } else if (!strcmp(a, "--seed") && val && zl_cli_parse_u64(val, UINT64_MAX, &v) == 0) {
            rp.seed = v;
            rp.seed_set = true;
        } else if (!strcmp(a, "--timeout-ms") && val && zl_cli_parse_u64(val, 3600000, &v) == 0 &&
                   v > 0) {
            rp.timeout_ms = (long)v;
        } else if (!strcmp(a, "--ignore") && val && rp.n_ignore < MAX_IGNORE &&
                   (val[0] == '$' || strstr(val, ":$"))) {
            const char *path = val[0] == '$' ? val : strstr(val, ":$") + 1;

            if (!zl_replay_path_ok(path)) {
                fprintf(err, "zonelab replay: --ignore %s is not a JSON path ($.a.b[0])\n", val);
                return ZL_CLI_USAGE;
            }
            rp.ignore[rp.n_ignore++] = val;
        } else {
            fprintf(err, "zonelab replay: bad or incomplete option '%s'%s%s\n", a, val ? " " : "",
                    val ? val : "");
            usage(err);
            return ZL_CLI_USAGE;
        }
        i++;
    }
    if (!rp.file || !rp.program_cmd) {
        fprintf(err, "zonelab replay: %s\n",
                !rp.file ? "FILE is required" : "--program CMD is required");
        usage(err);
        return ZL_CLI_USAGE;
    }
    if (rp.program_opt && !(rp.program_id = strdup(rp.program_opt))) {
        fprintf(err, "zonelab replay: out of memory\n");
        return ZL_CLI_USAGE;
    }
    signal(SIGPIPE, SIG_IGN); /* a program that closes its socket early is a difference */
    if (zl_replay_load(&rp, msg, sizeof msg) != 0) {
        fprintf(err, "zonelab replay: %s\n", msg);
        teardown(&rp, true);
        return ZL_CLI_USAGE;
    }
    if (rp.skipped)
        fprintf(err,
                "zonelab replay: %zu exchanges of %s cannot be replayed (no plaintext, or "
                "refused before the API) and are left out\n",
                rp.skipped, rp.program_id);
    if (setup(&rp, msg, sizeof msg) != 0) {
        fprintf(err, "zonelab replay: %s\n", msg);
        teardown(&rp, !rp.keep && !rp.prog);
        return ZL_CLI_USAGE;
    }
    drive(&rp);
    if (rp.diff) {
        size_t done = rp.cur;

        fprintf(out, "zonelab replay: %s: %s\n", rp.file, rp.diff);
        fprintf(out,
                "zonelab replay: %zu of %zu callback%s and %zu of %zu SDK call%s matched before "
                "it; the program's log and ZONELAB_WORK_DIR: %s\n",
                done, rp.n_cbs, plural(rp.n_cbs), rp.matched, rp.n_invs, plural(rp.n_invs),
                rp.work_dir);
        rc = ZL_CLI_FAILED;
    } else {
        fprintf(out,
                "zonelab replay: %s: ok: %zu callback%s replayed, %zu SDK call%s matched, "
                "%zu notify id%s paired (%.2f s)\n",
                rp.file, rp.n_cbs, plural(rp.n_cbs), rp.matched, plural(rp.matched), rp.n_ids,
                plural(rp.n_ids), (double)(zl_cli_now_ms() - t0) / 1000);
        rc = ZL_CLI_OK;
    }
    teardown(&rp, rc == ZL_CLI_OK && !rp.keep);
    return rc;
}
