/* config: zone-demo's settings from flags and the environment (flags win). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zd.h"

static const struct option_def {
    const char *flag, *env, *what;
    size_t offset;
    unsigned long min, max;
} numbers[] = {
    {"--port", "ZONELAB_PORT", "port to listen on (then $PORT, then 8080)",
     offsetof(zd_config, port), 1, 65535},
    {"--threads", "ZONE_DEMO_THREADS", "HTTP worker threads (4)", offsetof(zd_config, threads), 1,
     256},
    {"--queue", "ZONE_DEMO_QUEUE", "connections held at once; more wait to be accepted (512)",
     offsetof(zd_config, queue), 1, 65536},
    {"--idle-timeout", "ZONE_DEMO_IDLE_TIMEOUT",
     "seconds a connection may send nothing before it is closed (10)",
     offsetof(zd_config, idle_timeout_s), 1, 3600},
    {"--async-workers", "ZONE_DEMO_ASYNC_WORKERS", "threads running async calls (2)",
     offsetof(zd_config, async_workers), 1, 256},
    {"--async-queue", "ZONE_DEMO_ASYNC_QUEUE", "async calls waiting at most (256)",
     offsetof(zd_config, async_queue), 1, 1000000},
    {"--retention", "ZONE_DEMO_RETENTION", "seconds stored events are kept (1200)",
     offsetof(zd_config, retention_s), 60, 30 * 86400},
    {"--cleanup-every", "ZONE_DEMO_CLEANUP_EVERY",
     "seconds between cleanup and re-notify passes (30)", offsetof(zd_config, cleanup_every_s), 1,
     86400},
    {"--notify-scene", "ZONE_DEMO_NOTIFY_SCENE", "notify_scene sent with spec_notify_app (1)",
     offsetof(zd_config, notify_scene), 0, 255},
    {"--notify-tries", "ZONE_DEMO_NOTIFY_TRIES", "spec_notify_app tries on transport failure (5)",
     offsetof(zd_config, notify_tries), 1, 100},
    {"--notify-backoff-ms", "ZONE_DEMO_NOTIFY_BACKOFF_MS",
     "first retry delay, doubled each time (100)", offsetof(zd_config, notify_backoff_ms), 1,
     60000},
    {"--shutdown-grace", "ZONE_DEMO_SHUTDOWN_GRACE",
     "seconds SIGTERM waits for requests in flight (10)", offsetof(zd_config, shutdown_grace_s), 0,
     3600},
    {"--model-wait-ms", "ZONE_DEMO_MODEL_WAIT_MS", "ms the digest waits for sentiment tasks (3000)",
     offsetof(zd_config, model_wait_ms), 0, 600000},
};

static void usage(FILE *f)
{
    size_t i;

    fputs("usage: zone-demo [options]\n"
          "\n"
          "The reference zone program: serves POST / for WeCom (verified and answered through the\n"
          "zone SDK), stores events durably and notifies the app, and answers get_callback_data,\n"
          "invoke_<api>, new_messages_digest and echo_input. Every option also reads an\n"
          "environment variable; the flag wins.\n\n",
          f);
    for (i = 0; i < sizeof numbers / sizeof *numbers; i++)
        fprintf(f, "  %-20s $%-28s %s\n", numbers[i].flag, numbers[i].env, numbers[i].what);
    fprintf(f, "  %-20s $%-28s %s\n", "--data-dir", "ZONE_DEMO_DATA_DIR",
            "folder for stored events and cursors (./zone-demo-data)");
    fprintf(f, "  %-20s $%-28s %s\n", "--max-body", "ZONE_DEMO_MAX_BODY",
            "request body cap in bytes (1048576)");
    fprintf(f, "  %-20s $%-28s %s\n", "--private-key", "ZONE_DEMO_PRIVATE_KEY",
            "PEM file of the app's RSA private key, for the digest's sentiment (none)");
    fputs(
        "\nThe SDK reads its own settings (ZONELAB_URL, ZONELAB_SECRET, ... with the fake SDK).\n",
        f);
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno || *end || *out < min || *out > max ? -1 : 0;
}

static void store_number(zd_config *c, size_t offset, unsigned long v)
{
    if (offset == offsetof(zd_config, notify_scene))
        c->notify_scene = (int)v;
    else
        *(unsigned *)(void *)((char *)c + offset) = (unsigned)v;
}

int zd_config_load(zd_config *c, int argc, char **argv, FILE *out, FILE *err)
{
    const char *dir = getenv("ZONE_DEMO_DATA_DIR"), *body = getenv("ZONE_DEMO_MAX_BODY"),
               *key = getenv("ZONE_DEMO_PRIVATE_KEY");
    unsigned long v;
    size_t i;
    int a;

    *c = (zd_config){.port = 8080,
                     .threads = 4,
                     .queue = 512,
                     .idle_timeout_s = 10,
                     .async_workers = 2,
                     .async_queue = 256,
                     .max_body = 1u << 20,
                     .retention_s = 1200,
                     .cleanup_every_s = 30,
                     .notify_scene = 1,
                     .notify_tries = 5,
                     .notify_backoff_ms = 100,
                     .shutdown_grace_s = 10,
                     .model_wait_ms = 3000};
    if (!getenv("ZONELAB_PORT") && getenv("PORT")) {
        if (parse_ulong(getenv("PORT"), 1, 65535, &v) != 0) {
            fprintf(err, "zone-demo: $PORT must be a number from 1 to 65535 (got '%s')\n",
                    getenv("PORT"));
            return -1;
        }
        c->port = (unsigned)v;
    }
    for (i = 0; i < sizeof numbers / sizeof *numbers; i++) {
        const char *e = getenv(numbers[i].env);

        if (!e)
            continue;
        if (parse_ulong(e, numbers[i].min, numbers[i].max, &v) != 0) {
            fprintf(err, "zone-demo: $%s must be a number from %lu to %lu (got '%s')\n",
                    numbers[i].env, numbers[i].min, numbers[i].max, e);
            return -1;
        }
        store_number(c, numbers[i].offset, v);
    }
    if (body) {
        if (parse_ulong(body, 1024, 64ul << 20, &v) != 0) {
            fprintf(err, "zone-demo: $ZONE_DEMO_MAX_BODY must be 1024..67108864 bytes\n");
            return -1;
        }
        c->max_body = v;
    }
    snprintf(c->data_dir, sizeof c->data_dir, "%s", dir && *dir ? dir : "zone-demo-data");
    if (key && strlen(key) >= sizeof c->private_key) {
        fprintf(err, "zone-demo: $ZONE_DEMO_PRIVATE_KEY is a path of at most %zu bytes\n",
                sizeof c->private_key - 1);
        return -1;
    }
    snprintf(c->private_key, sizeof c->private_key, "%s", key ? key : "");
    for (a = 1; a < argc; a += 2) {
        const char *flag = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        int done = 0;

        if (!strcmp(flag, "--help") || !strcmp(flag, "-h")) {
            usage(out);
            return 1;
        }
        if (!strcmp(flag, "--data-dir") && val && *val && strlen(val) < sizeof c->data_dir) {
            snprintf(c->data_dir, sizeof c->data_dir, "%s", val);
            continue;
        }
        if (!strcmp(flag, "--private-key") && val && *val && strlen(val) < sizeof c->private_key) {
            snprintf(c->private_key, sizeof c->private_key, "%s", val);
            continue;
        }
        if (!strcmp(flag, "--max-body") && parse_ulong(val, 1024, 64ul << 20, &v) == 0) {
            c->max_body = v;
            continue;
        }
        for (i = 0; i < sizeof numbers / sizeof *numbers && !done; i++)
            if (!strcmp(flag, numbers[i].flag) &&
                parse_ulong(val, numbers[i].min, numbers[i].max, &v) == 0) {
                store_number(c, numbers[i].offset, v);
                done = 1;
            }
        if (!done) {
            fprintf(err, "zone-demo: bad or incomplete option '%s'%s%s (see --help)\n", flag,
                    val ? " " : "", val ? val : "");
            return -1;
        }
    }
    return 0;
}
