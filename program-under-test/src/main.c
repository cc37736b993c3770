/* zone-demo: the reference zone program (docs/zone-demo.md). */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zd_main.h"
#include "zone_sdk.h"

typedef struct maintainer {
    zd_app *app;
    const zd_config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
} maintainer;

/* Deletes expired events and re-notifies stale pending ones every cleanup_every_s. */
static void *maintain(void *arg)
{
    maintainer *m = arg;

    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += m->cfg->cleanup_every_s;
        while (!m->stop && pthread_cond_timedwait(&m->cond, &m->lock, &until) == 0)
            ;
        if (m->stop)
            break;
        pthread_mutex_unlock(&m->lock);
        zd_maintain(m->app);
        pthread_mutex_lock(&m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

int main(int argc, char **argv)
{
    zd_config cfg;
    zd_store *store = NULL;
    zd_app *app = NULL;
    zd_server *server = NULL;
    zd_sdk sdk;
    zd_store_counts counts;
    maintainer m = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    pthread_t mt;
    sigset_t set;
    char err[512];
    size_t recovered;
    int rc, sig, started = 0;

    rc = zd_config_load(&cfg, argc, argv, stdout, stderr);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    /* Blocked before any thread starts, so only sigwait below takes them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (!(store = zd_store_open(cfg.data_dir, err, sizeof err))) {
        ZONE_LOG_ERROR("%s", err);
        return 1;
    }
    zd_sdk_bind(&sdk);
    if (!(app = zd_app_new(&cfg, store, &sdk, NULL))) {
        ZONE_LOG_ERROR("cannot start the async workers");
        zd_store_close(store);
        return 1;
    }
    /* Events stored by an earlier run but never notified (it died in between): notify now,
     * before serving, so no new event races with them. */
    recovered = zd_renotify(app, (int64_t)time(NULL));
    if (recovered)
        ZONE_LOG_INFO("notified %zu events an earlier run had stored", recovered);
    if (!(server = zd_server_start(&cfg, app, err, sizeof err))) {
        ZONE_LOG_ERROR("%s", err);
        zd_app_free(app);
        zd_store_close(store);
        return 1;
    }
    m.app = app;
    m.cfg = &cfg;
    started = pthread_create(&mt, NULL, maintain, &m) == 0;
    ZONE_LOG_INFO("listening on port %u with %u threads; data in %s", cfg.port, cfg.threads,
                  cfg.data_dir);
    sigwait(&set, &sig);
    ZONE_LOG_INFO("signal %d: finishing requests in flight", sig);
    zd_server_stop(server, cfg.shutdown_grace_s);
    if (started) {
        pthread_mutex_lock(&m.lock);
        m.stop = 1;
        pthread_cond_signal(&m.cond);
        pthread_mutex_unlock(&m.lock);
        pthread_join(mt, NULL);
    }
    zd_app_free(app); /* runs the async calls still queued */
    zd_store_counts_get(store, &counts);
    ZONE_LOG_INFO("store: %llu events and %llu marks committed in %llu commits (%llu at most in "
                  "one), %llu data syncs, %llu segments begun",
                  (unsigned long long)counts.events, (unsigned long long)counts.marks,
                  (unsigned long long)counts.batches, (unsigned long long)counts.largest_batch,
                  (unsigned long long)counts.data_syncs, (unsigned long long)counts.segments);
    zd_store_close(store);
    ZONE_LOG_INFO("stopped");
    return 0;
}
