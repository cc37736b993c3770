/* server: assembles an emulator and owns its start, turn and shutdown order. */
#include "faces/server.h"
#include "faces/faces.h"
#include "emu/options.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define SWEEP_EVERY_MS 10000 /* real time: a sweep costs per entry, not per minute */

void zl_server_config_default(zl_server_config *c)
{
    *c = (zl_server_config){
        .engine = {.listen = "127.0.0.1", .port = 0, .seed = 0},
        .journal_cap = 200000,
        .version = "0.1.0",
    };
    zl_emu_options_default(&c->opt);
}

/* c->opt with the world's options, c's sets and c's options over it, into *o. 0 or -1. */
static int options_of(const zl_server_config *c, const zl_world *w, zl_emu_options *o, char *err,
                      size_t errlen)
{
    char why[1024];
    size_t i;

    *o = c->opt;
    if (zl_emu_options_set_world(o, w, why, sizeof why) != 0) {
        snprintf(err, errlen, "the world's %s", why);
        return -1;
    }
    for (i = 0; i < c->set_count; i++)
        if (zl_emu_options_set_text(o, c->sets[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "--set %s", why);
            return -1;
        }
    if (zl_emu_options_set_json(o, c->options, c->options_path ? c->options_path : "options", false,
                                err, errlen) != 0)
        return -1;
    return 0;
}

zl_server *zl_server_new(zl_world *world, const zl_server_config *c, char *err, size_t errlen)
{
    zl_server *s = calloc(1, sizeof *s);
    zl_emu_options opt;
    bool ok = false;

    if (!world)
        world = zl_world_load_default(err, errlen);
    if (!s || !world) {
        if (!s)
            snprintf(err, errlen, "out of memory");
        zl_world_free(world);
        free(s);
        return NULL;
    }
    s->world = world;
    if (!(s->engine = zl_engine_new(&c->engine, err, errlen)))
        goto out;
    if (!(s->journal = zl_journal_new(c->journal_cap))) {
        snprintf(err, errlen, "out of memory for the journal");
        goto out;
    }
    if (world->clock_start)
        zl_clock_start_at(zl_engine_clock(s->engine), world->clock_start * 1000);
    if (options_of(c, world, &opt, err, errlen) != 0 ||
        !(s->emu = zl_emu_new(s->engine, s->journal, world, &opt, err, errlen)))
        goto out;
    if (zl_app_api_install(s->emu) != 0 || zl_suite_api_install(s->emu) != 0 ||
        zl_sdk_face_install(s->emu) != 0 || zl_emu_suite_start(s->emu) != 0) {
        snprintf(err, errlen, "cannot install the emulator's routes");
        goto out;
    }
    s->control = (zl_control){.engine = s->engine,
                              .journal = s->journal,
                              .version = c->version ? c->version : "0.1.0",
                              .emu = s->emu,
                              .token = c->control_token,
                              .allow_hosts = c->allow_hosts,
                              .n_allow_hosts = c->n_allow_hosts};
    s->no_control = c->no_control;
    s->last_sweep_ms = zl_clock_wall_ms(zl_engine_clock(s->engine));
    ok = true;
out:
    if (!ok) {
        zl_server_free(s);
        s = NULL;
    }
    return s;
}

/* Reply buffers of a large answer (a sync_msg page: its JSON, the escaped envelope, the
 * base64 body, the engine's copy; 0.5-1 MB each) come and go with every request. With
 * glibc's defaults each was mapped fresh, or the loop thread's heap trimmed after each
 * request, and every page of them faulted in again: about 40% of the loop thread's time on
 * a page walk. Above these sizes glibc still maps and trims; below them it keeps the
 * memory for the next request, at most TRIM_KEEP above what is in use. Once a process. */
#define MMAP_FROM (8 << 20)
#define TRIM_KEEP (16 << 20)
static pthread_once_t malloc_once = PTHREAD_ONCE_INIT;

static void malloc_keep(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, MMAP_FROM);
    mallopt(M_TRIM_THRESHOLD, TRIM_KEEP);
#endif
}

int zl_server_start(zl_server *s, char *err, size_t errlen)
{
    pthread_once(&malloc_once, malloc_keep);
    if (!s->no_control && zl_control_install(&s->control) != 0) {
        snprintf(err, errlen, "cannot install the control face");
        return -1;
    }
    return 0;
}

void zl_server_turn(zl_server *s, int max_wait_ms)
{
    int64_t now;

    zl_engine_turn(s->engine, max_wait_ms);
    zl_emu_reap(s->emu);
    now = zl_clock_wall_ms(zl_engine_clock(s->engine));
    if (now - s->last_sweep_ms >= SWEEP_EVERY_MS) {
        zl_emu_sweep(s->emu);
        s->last_sweep_ms = now;
    }
}

void zl_server_stop(zl_server *s)
{
    if (!s || s->stopped)
        return;
    s->stopped = true;
    if (s->emu) {
        s->emu->sdk_hook = NULL;
        zl_emu_shutdown(s->emu);
    }
    zl_engine_free(s->engine); /* calls still in flight are recorded as cancelled */
    s->engine = NULL;
}

void zl_server_free(zl_server *s)
{
    if (!s)
        return;
    zl_server_stop(s);
    zl_emu_free(s->emu);
    zl_journal_free(s->journal);
    zl_world_free(s->world);
    free(s);
}
