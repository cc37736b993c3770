/* libFuzzer target: zone-demo's dispatch of a decoded request and its store's readers. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_tmp.h"
#include "zd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS 12

static zd_config cfg;
static zd_store *store;
static zd_app *app;
static int64_t now_s = 1700000000;
static const char *answers[MAX_PARTS]; /* what the fake SDK's invokes answer, in turn */
static size_t n_answers, next_answer;
static unsigned ids;
static unsigned since_cleanup;                 /* inputs since the store was last emptied */
static char events_dir[600], cursors_dir[600]; /* the store's folders (zd_store_open) */

static int64_t fake_now(void)
{
    return now_s;
}

static int64_t mono_ms; /* moves only when zone-demo sleeps: its bounded waits end at once */

static int64_t fake_mono(void)
{
    return mono_ms;
}

static void fake_sleep(unsigned ms)
{
    mono_ms += ms;
}

/* Each invoke takes the next answer of the input: "!" fails with a transport error, "?" with
 * another SDK code, anything else is the response. None left: an empty last page. */
static int fake_invoke(void *ud, const zd_ctx *ctx, const char *api, const char *request,
                       char **response, char *err, size_t errlen)
{
    const char *a = next_answer < n_answers ? answers[next_answer++] : NULL;

    (void)ud, (void)ctx, (void)api, (void)request;
    if (a && !strcmp(a, "!"))
        return ZD_SDK_NETWORK;
    if (a && !strcmp(a, "?")) {
        snprintf(err, errlen, "refused");
        return -1;
    }
    *response = strdup(a ? a : "{\"errcode\":0,\"has_more\":0,\"msg_list\":[]}");
    return 0;
}

static char *fake_notify_id(void *ud)
{
    char id[32];

    (void)ud;
    snprintf(id, sizeof id, "nid%u", ids++ % 8); /* a few names, so the folder stays small */
    return strdup(id);
}

static void setup(void)
{
    static const zd_sdk sdk = {.invoke = fake_invoke, .notify_id = fake_notify_id};
    static const zd_clock clock = {fake_now, fake_mono, fake_sleep};
    static const char *const bases[] = {"/dev/shm", "/tmp"};
    const char *dir = fuzz_tmp_make(bases, 2, "fuzz_zonedemo");
    char err[256], *argv[] = {"zone-demo", NULL};

    if (!dir)
        abort();
    snprintf(events_dir, sizeof events_dir, "%s/events", dir);
    snprintf(cursors_dir, sizeof cursors_dir, "%s/cursors", dir);
    if (zd_config_load(&cfg, 1, argv, stdout, stderr) != 0)
        abort();
    cfg.async_workers = 1;
    /* the digest's sentiment pass needs the key its secrets were encrypted for */
    snprintf(cfg.private_key, sizeof cfg.private_key, "%s",
             ZL_SOURCE_DIR "/fixtures/keys/test_v1_private.pem");
    if (!(store = zd_store_open(dir, err, sizeof err)) ||
        !(app = zd_app_new(&cfg, store, &sdk, &clock))) {
        fprintf(stderr, "fuzz_zonedemo: %s\n", err);
        abort();
    }
    fprintf(stderr, "fuzz_zonedemo: the store is in %s\n", dir);
}

/* Writes len bytes as dir/name, replacing what was there. */
static void put_file(const char *dir, const char *name, const void *bytes, size_t len)
{
    char path[1024];
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return;
    if (write(fd, bytes, len) < 0)
        fprintf(stderr, "fuzz_zonedemo: cannot write %s\n", path);
    close(fd);
}

static void on_pending(const zd_pending *p, void *ud)
{
    (void)p, (void)ud;
}

static void on_event(const char *id, int state, void *ud)
{
    (void)id, (void)state, (void)ud;
}

/*
 * Input: a selector byte, then NUL-separated parts.
 * Selector 0-3, a request (no async: the workers are threads): parts ability_id, notify_id,
 * data, then the SDK's answers; 0 app call, 1 event, 2 app call of corpid "ww1"/agentid 7
 * with the data also stored first as an event, 3 new_messages_digest over the answers.
 * Selector 4, the store's readers: the rest of the input is a log segment another process
 * wrote (a new one each time); then get and state of nid0..nid7, each_pending and each read
 * it. Selector 5: part 0 is a cursor file's text, read back.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[MAX_PARTS] = {0};
    size_t n = 0, i;
    char *s;

    if (!app)
        setup();
    if (size < 1 || !(s = malloc(size)))
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    for (i = 0; i < size - 1 && n < MAX_PARTS; n++) {
        part[n] = s + i;
        i += strlen(s + i) + 1;
    }
    for (i = n; i < MAX_PARTS; i++)
        part[i] = "";
    now_s += 60;
    if ((data[0] & 7) < 4) {
        zd_request rq = {.call_type = (data[0] & 7) == 1 ? 2 : 1,
                         .corpid = "ww1",
                         .agentid = 7,
                         .ability_id = (data[0] & 7) == 3 ? "new_messages_digest" : part[0],
                         .notify_id = part[1],
                         .job_info = "",
                         .data = part[2]};
        char *out;

        n_answers = n > 3 ? n - 3 : 0;
        for (i = 0; i < n_answers; i++)
            answers[i] = part[3 + i];
        next_answer = 0;
        if ((data[0] & 7) == 2) {
            zd_request ev = rq;

            ev.call_type = 2;
            free(zd_handle(app, &ev));
        }
        out = zd_handle(app, &rq);
        free(out);
    } else if ((data[0] & 7) == 4) {
        static unsigned segments;
        char name[64], id[8], *got = NULL;

        snprintf(name, sizeof name, "1-%u-1.log", segments++);
        put_file(events_dir, name, data + 1, size - 1);
        for (i = 0; i < 8; i++) {
            snprintf(id, sizeof id, "nid%zu", i);
            zd_store_get(store, id, now_s, cfg.retention_s, &got);
            free(got);
            got = NULL;
            zd_store_state(store, id);
        }
        zd_store_each_pending(store, now_s, on_pending, NULL);
        zd_store_each(store, on_event, NULL);
    } else {
        char cursor[300];

        put_file(cursors_dir, "ww1-7", part[0], strlen(part[0]));
        zd_cursor_get(store, "ww1", 7, cursor, sizeof cursor);
    }
    if (++since_cleanup == 8) { /* keep the folders small: everything stored goes */
        since_cleanup = 0;
        zd_store_cleanup(store, now_s + 2 * (int64_t)cfg.retention_s, cfg.retention_s);
        fuzz_tmp_clear(events_dir, 1); /* what cleanup keeps: stored "later" than now */
        fuzz_tmp_clear(cursors_dir, 1);
    }
    free(s);
    return 0;
}
