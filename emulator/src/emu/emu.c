/* emu: the emulator's runtime state over the world, and its lookups. */
#include "emu/emu.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

void zl_emu_options_default(zl_emu_options *o)
{
    *o = (zl_emu_options){
        .token_ttl_s = 7200,
        .program_timeout_ms = 10000,
        .event_timeout_ms = 5000,
        .delivery_window = 64,
        .delivery_queue_max = 100000,
        .notify_ttl_s = 600,
        .event_token_ttl_s = 600,
        .window_s = 5 * 86400,
        .sync_budget_per_min = 10,
        .page_ttl_s = 600,
        .job_ttl_s = 86400,
        .debug_token_ttl_s = 3 * 86400,
        .max_scan = 100000,
        .notify_strict_64 = true,
        .gettoken_third_party = true,
        .protocol = {.input_mismatch_code = 790016},
        .ready_timeout_ms = 10000,
        .async_pending_errcode = 710642,
        .models = {.latency_ms = 2000,
                   /* sentiment, spam: messages; program tasks: no quota documented */
                   .daily_budget = {100000, 100000, 10000, 10000, 10000, 10000, 10000, 1000000000},
                   .per_minute_budget = 100,
                   .duplicate_errcode = 710613,
                   .ww_model_text_only = true,
                   .ack_timeout_ms = 5000,
                   .pending_errcode = 710642},
        .export = {.waiting_ms = 1000,
                   .running_ms = 2000,
                   .daily_budget = 1000,
                   .bad_code_errcode = 40058,
                   .accept_upload_media = true},
        .kb_learn_latency_ms = 2000,
        .rule_list_max_limit = 1000,
        .redirect_8080 = true,
        .log_cap_bytes_per_hour = 1ULL << 30,
        .replica_restart = true,
        .replica_restart_delay_ms = 100,
        .replica_restart_max_ms = 5000,
        .replica_restart_stable_ms = 10000,
    };
    o->app_callbacks = (zl_appnotify_options){
        .timeout_ms = 5000, .tries = 3, .verify_timeout_ms = ZL_APPNOTIFY_VERIFY_MS};
}

int64_t zl_emu_now_ms(zl_emu *emu)
{
    return zl_clock_now_ms(zl_engine_clock(emu->engine));
}

void zl_emu_req_id(zl_emu *emu, char out[17])
{
    zl_engine_random_hex(emu->engine, out, 8);
}

uint64_t zl_emu_seq(zl_emu *emu)
{
    return ++emu->last_seq;
}

void *zl_emu_part(zl_emu *emu, const zl_emu_part_ops *ops)
{
    size_t i;

    for (i = 0; i < emu->part_count; i++)
        if (emu->parts[i].ops == ops)
            return emu->parts[i].state;
    return NULL;
}

int zl_emu_part_set(zl_emu *emu, const zl_emu_part_ops *ops, void *state)
{
    if (emu->part_count == ZL_EMU_MAX_PARTS)
        return -1;
    emu->parts[emu->part_count++] = (struct zl_emu_part){.ops = ops, .state = state};
    return 0;
}

zl_prog_rt *zl_emu_prog(zl_emu *emu, const char *corpid, const char *program_id)
{
    size_t i;

    if (!corpid || !program_id)
        return NULL;
    for (i = 0; i < emu->prog_count; i++)
        if (!strcmp(emu->progs[i].corp->corpid, corpid) &&
            !strcmp(emu->progs[i].prog->program_id, program_id))
            return &emu->progs[i];
    return NULL;
}

zl_prog_rt *zl_emu_prog_by_ver(zl_emu *emu, uint32_t secret_ver)
{
    return secret_ver >= 1 && secret_ver <= emu->prog_count ? &emu->progs[secret_ver - 1] : NULL;
}

zl_app_rt *zl_emu_app(zl_emu *emu, const char *corpid, uint32_t agentid)
{
    size_t i;

    if (!corpid)
        return NULL;
    for (i = 0; i < emu->app_count; i++)
        if (emu->apps[i].app->agentid == agentid && !strcmp(emu->apps[i].corp->corpid, corpid))
            return &emu->apps[i];
    return NULL;
}

int zl_emu_app_key_add(zl_emu *emu, zl_app_rt *a, uint32_t version, const char *pem, size_t pem_len,
                       char *err, size_t errlen)
{
    size_t now = zl_msgstore_count(a->corp->messages);
    bool first = zl_keyring_count(a->keys) == 0;
    int rc = zl_keyring_add(a->keys, version, pem, pem_len, now, err, errlen);

    (void)emu;
    if (rc == 0 && first)
        a->archive_from = now;
    return rc;
}

bool zl_emu_corp_archives(zl_emu *emu, const zl_corp *c)
{
    size_t i;

    for (i = 0; i < emu->app_count; i++)
        if (emu->apps[i].corp == c && zl_keyring_count(emu->apps[i].keys) > 0)
            return true;
    return false;
}

zl_corp_rt *zl_emu_corp(zl_emu *emu, const zl_corp *c)
{
    return &emu->corps[c - emu->world->corps];
}

zl_event_token *zl_emu_new_event_token(zl_emu *emu, zl_app_rt *a, char out[40])
{
    zl_event_token *t = malloc(sizeof *t);

    if (!t)
        return NULL;
    memcpy(out, "tk_", 3);
    zl_engine_random_hex(emu->engine, out + 3, 16);
    t->app = a;
    t->expires_ms = zl_emu_now_ms(emu) + emu->opt.event_token_ttl_s * 1000;
    t->seq = zl_emu_seq(emu);
    if (zl_strmap_put(emu->event_tokens, out, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

static void free_job(void *v)
{
    zl_job *j = v;

    if (j)
        free(j->result);
    free(j);
}

static void free_media(void *v)
{
    zl_media *m = v;

    if (m)
        free(m->data);
    free(m);
}

static int init_prog(zl_emu *emu, zl_prog_rt *p, zl_corp *c, zl_program *prog, uint32_t ver,
                     char *err, size_t errlen)
{
    unsigned char secret[32];
    size_t i;

    p->corp = c;
    p->prog = prog;
    p->secret_ver = ver;
    p->log_level = 2;
    for (i = 0; i < sizeof secret; i += 8) {
        uint64_t r = zl_engine_random(emu->engine);

        memcpy(secret + i, &r, 8);
    }
    EVP_EncodeBlock((unsigned char *)p->secret_b64, secret, sizeof secret);
    if (zone_wire_keys_init(&p->keys, p->secret_b64, ver) != ZONE_WIRE_OK ||
        !(p->replay = zone_wire_replay_new())) {
        snprintf(err, errlen, "cannot derive the wire keys of %s", prog->program_id);
        return -1;
    }
    zl_emu_debug_token_new(emu, p); /* as if fetched at the start */
    snprintf(p->debug_url, sizeof p->debug_url, "%s", prog->debug_url ? prog->debug_url : "");
    p->input_ex = calloc(prog->ability_count + 1, sizeof *p->input_ex);
    p->output_ex = calloc(prog->ability_count + 1, sizeof *p->output_ex);
    if (!p->input_ex || !p->output_ex) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < prog->ability_count; i++) {
        p->input_ex[i] = cJSON_Parse(prog->abilities[i].input_protocol);
        p->output_ex[i] = cJSON_Parse(prog->abilities[i].output_protocol);
        if (!p->input_ex[i] || !p->output_ex[i]) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return zl_emu_set_replicas(emu, p, prog->replicas ? prog->replicas : 1, err, errlen);
}

zl_emu *zl_emu_new(zl_engine *e, zl_journal *j, zl_world *w, const zl_emu_options *opt, char *err,
                   size_t errlen)
{
    zl_emu *emu = calloc(1, sizeof *emu);
    size_t ci, k, napps = 0, nprogs = 0;

    if (!emu) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    emu->engine = e;
    emu->journal = j;
    emu->world = w;
    if (opt)
        emu->opt = *opt;
    else
        zl_emu_options_default(&emu->opt);
    for (k = 0; k < sizeof emu->cursor_key.k; k += 8) {
        uint64_t r = zl_engine_random(e);

        memcpy(emu->cursor_key.k + k, &r, 8);
    }
    for (ci = 0; ci < w->corp_count; ci++) {
        napps += w->corps[ci].app_count;
        nprogs += w->corps[ci].program_count;
    }
    emu->corps = calloc(w->corp_count + 1, sizeof *emu->corps);
    emu->apps = calloc(napps + 1, sizeof *emu->apps);
    emu->progs = calloc(nprogs + 1, sizeof *emu->progs);
    emu->tokens = zl_strmap_new(free);
    emu->event_tokens = zl_strmap_new(free);
    emu->notify_ids = zl_strmap_new(free);
    emu->jobs = zl_strmap_new(free_job);
    emu->job_infos = zl_strmap_new(NULL);
    emu->pages = zl_strmap_new(free);
    emu->media = zl_strmap_new(free_media);
    emu->notify_out = zl_appnotify_new(e, j, &emu->opt.app_callbacks);
    if (!emu->corps || !emu->apps || !emu->progs || !emu->tokens || !emu->event_tokens ||
        !emu->notify_ids || !emu->jobs || !emu->job_infos || !emu->pages || !emu->media ||
        !emu->notify_out) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (ci = 0; ci < w->corp_count; ci++) {
        zl_corp *c = &w->corps[ci];
        zl_corp_rt *cr = &emu->corps[ci];

        cr->corp = c;
        for (k = 0; k < c->app_count; k++) {
            zl_app_rt *a = &emu->apps[emu->app_count];
            const zl_app *app = &c->apps[k];
            const zl_public_key *keys = app->public_key_count ? app->public_keys : c->public_keys;
            size_t n = app->public_key_count ? app->public_key_count : c->public_key_count, i;

            a->corp = c;
            a->corp_index = ci;
            a->app = &c->apps[k];
            a->scope = (uint32_t)++emu->app_count;
            if (!(a->keys = zl_keyring_new())) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            for (i = 0; i < n; i++) /* the world's keys: the whole archive is the app's */
                if (zl_keyring_add(a->keys, keys[i].version, keys[i].pem, keys[i].pem_len, 0, err,
                                   errlen) != 0)
                    goto fail;
        }
        for (k = 0; k < c->program_count; k++) {
            zl_prog_rt *p = &emu->progs[emu->prog_count];

            if (init_prog(emu, p, c, &c->programs[k], (uint32_t)emu->prog_count + 1, err, errlen) !=
                0) {
                emu->prog_count++;
                goto fail;
            }
            emu->prog_count++;
        }
    }
    if (zl_emu_auth_init(emu, err, errlen) != 0)
        goto fail;
    return emu;
fail:
    zl_emu_free(emu);
    return NULL;
}

void zl_emu_shutdown(zl_emu *emu)
{
    if (!emu || emu->closing)
        return;
    emu->closing = true;
    zl_appnotify_free(emu->notify_out); /* needs the engine: before zl_engine_free */
    emu->notify_out = NULL;
    zl_emu_stop_replicas(emu);
    zl_proglog_close_all(emu); /* their last lines, while the clock and journal are here */
}

void zl_emu_free(zl_emu *emu)
{
    size_t i, k;

    if (!emu)
        return;
    zl_emu_shutdown(emu);
    for (i = 0; i < emu->prog_count; i++) {
        zl_prog_rt *p = &emu->progs[i];

        zone_wire_replay_free(p->replay);
        for (k = 0; p->input_ex && k < p->prog->ability_count; k++) {
            cJSON_Delete(p->input_ex[k]);
            cJSON_Delete(p->output_ex[k]);
        }
        free(p->input_ex);
        free(p->output_ex);
        for (k = 0; p->replicas && k < p->replica_count; k++)
            zl_emu_replica_ready_close(&p->replicas[k]);
        zl_emu_replica_ready_close(&p->dev);
        free(p->replicas);
        free(p->command);
    }
    for (i = 0; emu->apps && i < emu->app_count; i++)
        zl_keyring_free(emu->apps[i].keys);
    zl_emu_auth_cleanup(emu);
    for (i = emu->part_count; i-- > 0;)
        emu->parts[i].ops->free(emu->parts[i].state);
    zl_strmap_free(emu->tokens);
    zl_strmap_free(emu->event_tokens);
    zl_strmap_free(emu->notify_ids);
    zl_strmap_free(emu->job_infos);
    zl_strmap_free(emu->jobs);
    zl_strmap_free(emu->pages);
    zl_strmap_free(emu->media);
    free(emu->corps);
    free(emu->apps);
    free(emu->progs);
    free(emu);
}

/* ---- expiry sweep ---- */

typedef struct sweep_ctx {
    zl_emu *emu;
    int64_t now;
} sweep_ctx;

static int token_expired(const char *key, void *value, void *ud)
{
    (void)key; /* kept a day past expiry so it still answers 42001, not 40014 */
    return ((zl_token *)value)->expires_ms + 86400 * 1000LL <= ((sweep_ctx *)ud)->now;
}

static int event_token_expired(const char *key, void *value, void *ud)
{
    (void)key;
    return ((zl_event_token *)value)->expires_ms <= ((sweep_ctx *)ud)->now;
}

static int notify_expired(const char *key, void *value, void *ud)
{
    (void)key;
    return ((zl_notify *)value)->expires_ms <= ((sweep_ctx *)ud)->now;
}

static int page_expired(const char *key, void *value, void *ud)
{
    (void)key;
    return ((zl_page *)value)->expires_ms <= ((sweep_ctx *)ud)->now;
}

static int media_expired(const char *key, void *value, void *ud)
{
    (void)key;
    return ((zl_media *)value)->expires_ms <= ((sweep_ctx *)ud)->now;
}

static int job_expired(const char *key, void *value, void *ud)
{
    sweep_ctx *x = ud;
    zl_job *j = value;

    (void)key;
    if (j->dispatching || x->now - j->created_ms <= x->emu->opt.job_ttl_s * 1000)
        return 0;
    zl_strmap_del(x->emu->job_infos, j->job_info); /* borrowed there: drop it first */
    return 1;
}

void zl_emu_sweep(zl_emu *emu)
{
    sweep_ctx x = {.emu = emu, .now = zl_emu_now_ms(emu)};

    zl_strmap_sweep(emu->tokens, token_expired, &x);
    zl_strmap_sweep(emu->event_tokens, event_token_expired, &x);
    zl_strmap_sweep(emu->notify_ids, notify_expired, &x);
    zl_strmap_sweep(emu->pages, page_expired, &x);
    zl_strmap_sweep(emu->media, media_expired, &x);
    zl_strmap_sweep(emu->jobs, job_expired, &x);
}
