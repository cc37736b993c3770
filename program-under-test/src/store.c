/* store: zone-demo's durable storage. Events are files named by their notify id under
 * <dir>/events: "<id>.pending" until the app was notified, "<id>.event" after. Each file is
 * written to a temporary name, synced, renamed into place, and the folder fsynced, so a
 * crash at any point leaves either the whole event or nothing. Events stored at the same
 * time share the syncs (group commit): each thread writes its own file, then one thread
 * commits every file waiting (one sync of their data, the renames, one fsync of the folder)
 * while the next ones queue up behind it. Cursors live the same way under <dir>/cursors,
 * each written alone, and the newest event token of each app under <dir>/tokens, written by
 * one thread at a time (the newest wins). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "zd.h"

#define MAX_EVENT_FILE (160u << 20) /* a 64 MiB body, JSON-escaped, fits */
#define MAX_CURSOR     4096
#define MAX_TOKEN      512 /* a token file: "<received at> <token>" */
#define TOKEN_SLOTS    16  /* apps whose token waits to be written */

/* A token to write: tokens/<name> gets text. */
typedef struct token_write {
    char name[160];
    char text[MAX_TOKEN];
    bool dirty; /* not written since text was set */
} token_write;

/* One thread's file waiting for a commit of the events folder: a new event (fd open on its
 * temporary file, renamed to final by the commit) or a rename already done (fd -1) that
 * waits for the folder's fsync. */
typedef struct commit_entry {
    struct commit_entry *next;
    int fd;
    const char *tmp, *final;
    int rc; /* 0 or an errno, set by the committing thread */
    bool done;
} commit_entry;

struct zd_store {
    char events[600];
    char cursors[600];
    int events_fd; /* the folders, for fsync after a rename */
    int cursors_fd;
    char tokens[600];
    int tokens_fd;
    pthread_mutex_t token_lock; /* the token slots, token_writing */
    token_write token_slots[TOKEN_SLOTS];
    bool token_writing;   /* a thread writes the dirty slots; others leave theirs to it */
    pthread_mutex_t lock; /* the queue, committing, the counts */
    pthread_cond_t cond;  /* a batch was committed */
    commit_entry *queue, **queue_tail;
    size_t queued;
    bool committing;
    zd_store_counts counts;
    void (*on_commit)(void *ud, size_t n);
    void *on_commit_ud;
};

static int mkdir_p(const char *path)
{
    char buf[600];
    size_t i, n = strlen(path);

    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, path, n + 1);
    for (i = 1; i <= n; i++)
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];

            buf[i] = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST)
                return -1;
            buf[i] = c;
        }
    return 0;
}

zd_store *zd_store_open(const char *dir, char *err, size_t errlen)
{
    zd_store *s = calloc(1, sizeof *s);

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->events_fd = s->cursors_fd = s->tokens_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->token_lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->queue_tail = &s->queue;
#if defined(ZD_PLANT_EVENTS_IN_MEMORY) || defined(ZD_PLANT_CURSOR_NOT_SAVED)
    /* Planted bugs for zonelab explore (test builds only): a folder of this process's own
     * stands for memory, so a restart or another replica sees nothing of what it kept. */
    char own[64];

    snprintf(own, sizeof own, ".%ld", (long)getpid());
#endif
#ifdef ZD_PLANT_EVENTS_IN_MEMORY
    const char *ev_suffix = own;
#else
    const char *ev_suffix = "";
#endif
#ifdef ZD_PLANT_CURSOR_NOT_SAVED
    const char *cur_suffix = own;
#else
    const char *cur_suffix = "";
#endif

    if ((size_t)snprintf(s->events, sizeof s->events, "%s/events%s", dir, ev_suffix) >=
            sizeof s->events ||
        (size_t)snprintf(s->cursors, sizeof s->cursors, "%s/cursors%s", dir, cur_suffix) >=
            sizeof s->cursors ||
        (size_t)snprintf(s->tokens, sizeof s->tokens, "%s/tokens", dir) >= sizeof s->tokens) {
        snprintf(err, errlen, "the data folder path is too long");
        free(s);
        return NULL;
    }
    if (mkdir_p(s->events) != 0 || mkdir_p(s->cursors) != 0 || mkdir_p(s->tokens) != 0 ||
        (s->events_fd = open(s->events, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        (s->cursors_fd = open(s->cursors, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        (s->tokens_fd = open(s->tokens, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot use the data folder %s: %s", dir, strerror(errno));
        zd_store_close(s);
        return NULL;
    }
    return s;
}

void zd_store_close(zd_store *s)
{
    if (!s)
        return;
    if (s->events_fd >= 0)
        close(s->events_fd);
    if (s->cursors_fd >= 0)
        close(s->cursors_fd);
    if (s->tokens_fd >= 0)
        close(s->tokens_fd);
    pthread_mutex_destroy(&s->token_lock);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

void zd_store_counts_get(zd_store *s, zd_store_counts *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->counts;
    out->waiting = s->queued;
    pthread_mutex_unlock(&s->lock);
}

void zd_store_on_commit(zd_store *s, void (*fn)(void *ud, size_t n), void *ud)
{
    pthread_mutex_lock(&s->lock);
    s->on_commit = fn;
    s->on_commit_ud = ud;
    pthread_mutex_unlock(&s->lock);
}

bool zd_notify_id_ok(const char *id)
{
    size_t n = 0;

    if (!id)
        return false;
    for (; id[n]; n++)
        if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'z') ||
              (id[n] >= 'A' && id[n] <= 'Z') || id[n] == '_' || id[n] == '-'))
            return false;
    return n >= 1 && n <= ZD_MAX_NOTIFY_ID;
}

/* Writes text to a new file at path; its open fd, or -1 with errno (nothing left behind). */
static int write_new(const char *path, const char *text)
{
    size_t len = strlen(text), off = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), e;

    if (fd < 0)
        return -1;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            close(fd);
            unlink(path);
            errno = e;
            return -1;
        }
        off += (size_t)w;
    }
    return fd;
}

/* Writes text to folder/name atomically and durably, alone (the cursors). */
static int write_atomic(int dir_fd, const char *folder, const char *name, const char *text)
{
    char tmp[800], final[800]; /* a folder (under 600) and a cursor name (under 160) */
    int fd;

    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", folder, name);
    snprintf(final, sizeof final, "%s/%s", folder, name);
    if ((fd = write_new(tmp, text)) < 0)
        return -1;
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, final) != 0) {
        unlink(tmp);
        return -1;
    }
    return fsync(dir_fd);
}

/* Commits a batch taken off the queue: one sync of the new files' data (the file's own
 * fsync when there is one, else syncfs of the store's file system, which flushes them all
 * and, since Linux 5.8, reports a failed write-back), their renames, one fsync of the
 * folder. Sets each entry's rc. Returns the data syncs. */
static unsigned commit_batch(zd_store *s, commit_entry *batch, size_t files)
{
    commit_entry *e;
    int sync_rc = 0, dir_rc;

    for (e = batch; e && files == 1; e = e->next)
        if (e->fd >= 0)
            sync_rc = fsync(e->fd) != 0 ? errno : 0;
    if (files > 1)
        sync_rc = syncfs(s->events_fd) != 0 ? errno : 0;
    for (e = batch; e; e = e->next) {
        if (e->fd < 0)
            continue;
        e->rc = sync_rc;
        if (close(e->fd) != 0 && !e->rc)
            e->rc = errno;
        if (!e->rc && rename(e->tmp, e->final) != 0)
            e->rc = errno;
        if (e->rc)
            unlink(e->tmp);
    }
    dir_rc = fsync(s->events_fd) != 0 ? errno : 0;
    for (e = batch; e; e = e->next)
        if (!e->rc)
            e->rc = dir_rc;
    return files > 0;
}

/* Queues e for the next commit of the events folder and returns once it is committed: 0, or
 * -1 with errno. The first thread to find no commit under way commits everything queued,
 * its own entry included; the threads that arrive meanwhile queue for the next batch. */
static int commit(zd_store *s, commit_entry *e)
{
    pthread_mutex_lock(&s->lock);
    e->next = NULL;
    e->done = false;
    e->rc = 0;
    *s->queue_tail = e;
    s->queue_tail = &e->next;
    s->queued++;
    while (!e->done) {
        commit_entry *batch, *x, *next;
        size_t n, files = 0;
        void (*hook)(void *ud, size_t n);
        void *hook_ud;
        unsigned syncs;

        if (s->committing) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        batch = s->queue;
        n = s->queued;
        s->queue = NULL;
        s->queue_tail = &s->queue;
        s->queued = 0;
        s->committing = true;
        hook = s->on_commit;
        hook_ud = s->on_commit_ud;
        pthread_mutex_unlock(&s->lock);
        for (x = batch; x; x = x->next)
            files += x->fd >= 0;
        if (hook)
            hook(hook_ud, n);
        syncs = commit_batch(s, batch, files);
        pthread_mutex_lock(&s->lock);
        s->counts.batches++;
        s->counts.data_syncs += syncs;
        s->counts.folder_syncs++;
        s->counts.files += files;
        s->counts.renames += n - files;
        if (n > s->counts.largest_batch)
            s->counts.largest_batch = n;
        for (x = batch; x; x = next) { /* their threads wait for the lock to see it */
            next = x->next;
            x->done = true;
        }
        s->committing = false;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    errno = e->rc;
    return e->rc ? -1 : 0;
}

static char *read_file(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    size_t off = 0;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size > max ||
        !(buf = malloc((size_t)st.st_size + 1))) {
        close(fd);
        return NULL;
    }
    while (off < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    close(fd);
    buf[off] = '\0';
    return buf;
}

int zd_store_put(zd_store *s, const char *id, const char *corpid, uint32_t agentid,
                 const char *data, int64_t now, char *err, size_t errlen)
{
    cJSON *j;
    char *text, tmp[700], final[700];
    commit_entry e = {.tmp = tmp, .final = final};
    int rc = -1;

    if (!zd_notify_id_ok(id)) {
        snprintf(err, errlen, "the notify id cannot name a file");
        return -1;
    }
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "corpid", corpid ? corpid : "");
    cJSON_AddNumberToObject(j, "agentid", agentid);
    cJSON_AddNumberToObject(j, "stored_at", (double)now);
    cJSON_AddStringToObject(j, "data", data ? data : "");
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (strlen(text) > MAX_EVENT_FILE) { /* what is written must be readable back */
        snprintf(err, errlen, "the event is larger than %u bytes", MAX_EVENT_FILE);
        cJSON_free(text);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s/.%s.pending.tmp", s->events, id);
    snprintf(final, sizeof final, "%s/%s.pending", s->events, id);
    if ((e.fd = write_new(tmp, text)) >= 0)
        rc = commit(s, &e);
    if (rc != 0)
        snprintf(err, errlen, "cannot store the event: %s", strerror(errno));
    cJSON_free(text);
    return rc;
}

int zd_store_mark_notified(zd_store *s, const char *id)
{
    char from[700], to[700];
    commit_entry e = {.fd = -1};

    if (!zd_notify_id_ok(id))
        return -1;
    snprintf(from, sizeof from, "%s/%s.pending", s->events, id);
    snprintf(to, sizeof to, "%s/%s.event", s->events, id);
    if (rename(from, to) != 0)
        return -1;
    return commit(s, &e); /* the folder's fsync, shared with the events stored meanwhile */
}

/* Whether v is an integer number in [0, max]: a stored number outside it is a damaged file's,
 * and is not cast (a double beyond the integer's range does not convert). */
static int whole_in(const cJSON *v, double max)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= max &&
           v->valuedouble == (double)(int64_t)v->valuedouble;
}

/* Parses a stored event file; returns the object or NULL. */
static cJSON *load_event(zd_store *s, const char *id, const char *suffix)
{
    char path[700], *text;
    cJSON *j;

    snprintf(path, sizeof path, "%s/%s%s", s->events, id, suffix);
    if (!(text = read_file(path, MAX_EVENT_FILE)))
        return NULL;
    j = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

int zd_store_get(zd_store *s, const char *id, int64_t now, unsigned retention_s, char **data)
{
    cJSON *j, *d, *at;
    int rc = 1;

    *data = NULL;
    if (!zd_notify_id_ok(id))
        return 1;
    /* zd_store_mark_notified renames .pending to .event (never back) while another thread
     * may be here: a file that left .pending between the first look and the second is at
     * .event by the third. */
    if (!(j = load_event(s, id, ".event")) && !(j = load_event(s, id, ".pending")) &&
        !(j = load_event(s, id, ".event")))
        return 1;
    d = cJSON_GetObjectItemCaseSensitive(j, "data");
    at = cJSON_GetObjectItemCaseSensitive(j, "stored_at");
    if (cJSON_IsString(d) && whole_in(at, 0x1p53)) {
        if (now - (int64_t)at->valuedouble > (int64_t)retention_s)
            rc = 2;
        else if ((*data = strdup(d->valuestring)))
            rc = 0;
    }
    cJSON_Delete(j);
    return rc;
}

/* Calls fn(id, suffix) for each stored event file. */
static size_t each_file(zd_store *s,
                        void (*fn)(zd_store *s, const char *id, const char *suffix, void *ud),
                        void *ud)
{
    DIR *d = opendir(s->events);
    struct dirent *e;
    size_t n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        char id[ZD_MAX_NOTIFY_ID + 1];
        const char *dot = strrchr(e->d_name, '.');
        size_t len;

        if (e->d_name[0] == '.' || !dot)
            continue;
        len = (size_t)(dot - e->d_name);
        if (len == 0 || len > ZD_MAX_NOTIFY_ID)
            continue;
        memcpy(id, e->d_name, len);
        id[len] = '\0';
        if (!zd_notify_id_ok(id) || (strcmp(dot, ".pending") != 0 && strcmp(dot, ".event") != 0))
            continue;
        fn(s, id, dot, ud);
        n++;
    }
    closedir(d);
    return n;
}

typedef struct pending_walk {
    int64_t older_than;
    void (*fn)(const zd_pending *p, void *ud);
    void *ud;
    size_t count;
} pending_walk;

static void on_pending_file(zd_store *s, const char *id, const char *suffix, void *ud)
{
    pending_walk *w = ud;
    cJSON *j, *c, *a, *at;
    zd_pending p = {0};

    if (strcmp(suffix, ".pending") != 0 || !(j = load_event(s, id, suffix)))
        return;
    c = cJSON_GetObjectItemCaseSensitive(j, "corpid");
    a = cJSON_GetObjectItemCaseSensitive(j, "agentid");
    at = cJSON_GetObjectItemCaseSensitive(j, "stored_at");
    if (cJSON_IsString(c) && whole_in(a, UINT32_MAX) && whole_in(at, 0x1p53) &&
        (int64_t)at->valuedouble <= w->older_than) {
        snprintf(p.id, sizeof p.id, "%s", id);
        snprintf(p.corpid, sizeof p.corpid, "%s", c->valuestring);
        p.agentid = (uint32_t)a->valuedouble;
        p.stored_at = (int64_t)at->valuedouble;
        w->fn(&p, w->ud);
        w->count++;
    }
    cJSON_Delete(j);
}

size_t zd_store_each_pending(zd_store *s, int64_t older_than,
                             void (*fn)(const zd_pending *p, void *ud), void *ud)
{
    pending_walk w = {.older_than = older_than, .fn = fn, .ud = ud};

    each_file(s, on_pending_file, &w);
    return w.count;
}

typedef struct cleanup_walk {
    int64_t cutoff;
    size_t removed;
} cleanup_walk;

static void on_cleanup_file(zd_store *s, const char *id, const char *suffix, void *ud)
{
    cleanup_walk *w = ud;
    char path[700];
    cJSON *j = load_event(s, id, suffix);
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "stored_at");
    int64_t stored;
    struct stat st;

    snprintf(path, sizeof path, "%s/%s%s", s->events, id, suffix);
    if (whole_in(at, 0x1p53))
        stored = (int64_t)at->valuedouble;
    else if (stat(path, &st) == 0) /* unreadable: its age on disk decides */
        stored = (int64_t)st.st_mtime;
    else
        stored = w->cutoff;
    cJSON_Delete(j);
    if (stored < w->cutoff && unlink(path) == 0)
        w->removed++;
}

size_t zd_store_cleanup(zd_store *s, int64_t now, unsigned retention_s)
{
    cleanup_walk w = {.cutoff = now - (int64_t)retention_s};

    each_file(s, on_cleanup_file, &w);
    return w.removed;
}

/* cursors/<corpid>-<agentid>; a corpid that is not a plain id has no cursor file. */
static int cursor_name(const char *corpid, uint32_t agentid, char *out, size_t n)
{
    if (!zd_notify_id_ok(corpid))
        return -1;
    snprintf(out, n, "%s-%u", corpid, agentid);
    return 0;
}

int zd_cursor_get(zd_store *s, const char *corpid, uint32_t agentid, char *out, size_t n)
{
    char name[160], path[800], *text;

    if (cursor_name(corpid, agentid, name, sizeof name) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", s->cursors, name);
    if (!(text = read_file(path, MAX_CURSOR))) {
        struct stat st;

        return stat(path, &st) != 0 && errno == ENOENT ? 1 : -1;
    }
    if (strlen(text) >= n) {
        free(text);
        return -1;
    }
    memcpy(out, text, strlen(text) + 1);
    free(text);
    return 0;
}

int zd_cursor_put(zd_store *s, const char *corpid, uint32_t agentid, const char *cursor)
{
    char name[160];

    if (cursor_name(corpid, agentid, name, sizeof name) != 0 || strlen(cursor) > MAX_CURSOR)
        return -1;
    return write_atomic(s->cursors_fd, s->cursors, name, cursor);
}

int zd_token_put(zd_store *s, const char *corpid, uint32_t agentid, const char *token,
                 int64_t received_at)
{
    char name[160], text[MAX_TOKEN];
    size_t i, slot = TOKEN_SLOTS;
    int rc = 0;

    if (cursor_name(corpid, agentid, name, sizeof name) != 0 || !*token || strpbrk(token, " \n") ||
        (size_t)snprintf(text, sizeof text, "%lld %s", (long long)received_at, token) >=
            sizeof text)
        return -1;
    pthread_mutex_lock(&s->token_lock);
    for (i = 0; i < TOKEN_SLOTS; i++) {
        if (!strcmp(s->token_slots[i].name, name)) {
            slot = i;
            break;
        }
        if (slot == TOKEN_SLOTS && !s->token_slots[i].name[0])
            slot = i;
    }
    if (slot == TOKEN_SLOTS) { /* every slot is another app's: one already written goes */
        for (i = 0; i < TOKEN_SLOTS && s->token_slots[i].dirty; i++)
            ;
        if (i == TOKEN_SLOTS) {
            pthread_mutex_unlock(&s->token_lock);
            return -1;
        }
        slot = i;
    }
    snprintf(s->token_slots[slot].name, sizeof s->token_slots[slot].name, "%s", name);
    memcpy(s->token_slots[slot].text, text, sizeof text);
    s->token_slots[slot].dirty = true;
    if (s->token_writing) { /* the writer writes it next: the newest text wins */
        pthread_mutex_unlock(&s->token_lock);
        return 0;
    }
    s->token_writing = true;
    for (;;) {
        for (i = 0; i < TOKEN_SLOTS && !s->token_slots[i].dirty; i++)
            ;
        if (i == TOKEN_SLOTS)
            break;
        memcpy(name, s->token_slots[i].name, sizeof name);
        memcpy(text, s->token_slots[i].text, sizeof text);
        s->token_slots[i].dirty = false;
        pthread_mutex_unlock(&s->token_lock);
        if (write_atomic(s->tokens_fd, s->tokens, name, text) != 0)
            rc = -1;
        pthread_mutex_lock(&s->token_lock);
    }
    s->token_writing = false;
    pthread_mutex_unlock(&s->token_lock);
    return rc;
}

int zd_token_get(zd_store *s, const char *corpid, uint32_t agentid, char *out, size_t n,
                 int64_t *received_at)
{
    char name[160], path[800], *text, *sp, *end;
    long long at;
    int rc = -1;

    if (cursor_name(corpid, agentid, name, sizeof name) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", s->tokens, name);
    if (!(text = read_file(path, MAX_TOKEN))) {
        struct stat st;

        return stat(path, &st) != 0 && errno == ENOENT ? 1 : -1;
    }
    errno = 0;
    at = strtoll(text, &end, 10);
    if (errno == 0 && end != text && *end == ' ' && (sp = end + 1) && *sp && !strpbrk(sp, " \n") &&
        strlen(sp) < n) {
        memcpy(out, sp, strlen(sp) + 1);
        *received_at = (int64_t)at;
        rc = 0;
    }
    free(text);
    return rc;
}
