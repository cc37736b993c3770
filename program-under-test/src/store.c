/* store: zone-demo's durable storage.
 *
 * Events live in logs under <dir>/events: each process appends to a segment of its own
 * (<name>.log, created under a temporary name, locked with flock while it is written, then
 * renamed into place), one record per event stored and one per event marked notified. A
 * record is a fixed header, the notify id, the corpid and the event's data, with a CRC-32 of
 * it all, so a reader takes a record only once it is whole: a crash mid-write leaves a torn
 * tail that every reader stops at. Events appended at the same time share one fdatasync
 * (group commit): each thread appends its record, then one thread syncs for all the records
 * waiting while the next ones append and queue behind it. Nothing is created or renamed per
 * event: storing one costs a write and a share of a sync, and marking it the same.
 *
 * Each process indexes its own records as it writes them and the other segments (other
 * replicas sharing the folder, earlier runs) by reading them: from where it stopped, when an
 * id is not found, before the pending ones are listed and before a cleanup. Cleanup forgets
 * expired events and deletes a segment whose records are all expired once no process holds
 * its lock (its writer moved to a new segment, or died).
 *
 * Cursors and event tokens are small files of their own (durable.c). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "store_int.h"
#include "zd.h"

#define MAX_EVENT_DATA (160u << 20) /* a 64 MiB body, JSON-escaped, fits */
#define MAX_CORPID     1024
#define SEGMENT_BYTES  (64u << 20) /* a segment this large is closed and a new one begun */
#define SEGMENT_NAME   96
#define MAX_TIME       (1ull << 53) /* stored_at: seconds, 0 up to this */

/* A record: the header (little-endian), then id, corpid and data. The CRC covers the header
 * (with its crc field 0) and the rest. */
#define REC_MAGIC  0x3145445au /* "ZDE1" */
#define REC_PUT    1
#define REC_MARK   2
#define REC_HEADER 32

/* A log segment in the events folder. */
typedef struct segment {
    struct segment *next;
    char name[SEGMENT_NAME];
    int fd;         /* the segment this process appends to, locked; else -1 */
    bool own;       /* appended by this store: its records are indexed as they are written */
    unsigned refs;  /* commits queued on it */
    uint64_t size;  /* own: bytes written; another's: bytes read and indexed */
    int64_t oldest; /* stored_at of its records, INT64_MAX / INT64_MIN while it has none */
    int64_t newest;
} segment;

/* An event the index knows: where its data is, and whether it was notified. Its corpid is
 * read from the record when it is needed (a pending event's notify): an entry is what each
 * event of the retention window costs in memory (105 bytes with a 32-character id, its
 * bucket and malloc's overhead included). */
typedef struct entry {
    struct entry *next; /* in its bucket */
    segment *seg;       /* the segment of its put record; NULL while only its mark was read */
    uint64_t off;       /* its data's offset there; the corpid's bytes are just before it */
    uint32_t len;
    uint32_t agentid;
    int64_t stored_at;
    uint16_t corpid_len;
    bool notified;
    char id[]; /* NUL-terminated */
} entry;

/* One thread's record waiting for a commit: appended to seg, to be synced. */
typedef struct commit_entry {
    struct commit_entry *next;
    segment *seg;
    bool mark;
    int rc; /* 0 or an errno, set by the committing thread */
    bool done;
} commit_entry;

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

    if (!s || !(s->buckets = calloc(s->n_buckets = 1024, sizeof *s->buckets))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->events_fd = s->cursors_fd = s->tokens_fd = -1;
    s->cutoff = INT64_MIN;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->scan_lock, NULL);
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
        zd_store_close(s);
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
    size_t i;

    if (!s)
        return;
    if (s->events_fd >= 0)
        close(s->events_fd);
    if (s->cursors_fd >= 0)
        close(s->cursors_fd);
    if (s->tokens_fd >= 0)
        close(s->tokens_fd);
    for (i = 0; i < s->n_buckets; i++)
        for (entry *e = s->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(s->buckets);
    for (segment *g = s->segments, *next; g; g = next) {
        next = g->next;
        if (g->fd >= 0)
            close(g->fd); /* and its lock goes with it */
        free(g);
    }
    pthread_mutex_destroy(&s->token_lock);
    pthread_mutex_destroy(&s->scan_lock);
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

/* ---- the index (s->lock held) ---- */

static size_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */

    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211u;
    return (size_t)h;
}

static entry *index_find(zd_store *s, const char *id)
{
    entry *e = s->buckets[id_hash(id) & (s->n_buckets - 1)];

    while (e && strcmp(e->id, id) != 0)
        e = e->next;
    return e;
}

/* The entry of id, added empty when there is none; NULL when out of memory. */
static entry *index_add(zd_store *s, const char *id)
{
    entry *e = index_find(s, id);
    size_t b;

    if (e)
        return e;
    if (s->n_entries >= s->n_buckets) { /* grow: twice the buckets, entries rehashed */
        size_t n = s->n_buckets * 2, i;
        entry **nb = calloc(n, sizeof *nb);

        if (nb) {
            for (i = 0; i < s->n_buckets; i++)
                for (entry *x = s->buckets[i], *next; x; x = next) {
                    next = x->next;
                    x->next = nb[id_hash(x->id) & (n - 1)];
                    nb[id_hash(x->id) & (n - 1)] = x;
                }
            free(s->buckets);
            s->buckets = nb;
            s->n_buckets = n;
        }
    }
    if (!(e = calloc(1, sizeof *e + strlen(id) + 1)))
        return NULL;
    memcpy(e->id, id, strlen(id) + 1);
    b = id_hash(id) & (s->n_buckets - 1);
    e->next = s->buckets[b];
    s->buckets[b] = e;
    s->n_entries++;
    return e;
}

/* Removes the entries for which drop(e, ud) holds; returns how many had their event. */
static size_t index_remove(zd_store *s, bool (*drop)(const entry *e, const void *ud),
                           const void *ud)
{
    size_t i, removed = 0;

    for (i = 0; i < s->n_buckets; i++)
        for (entry **p = &s->buckets[i], *e; (e = *p);) {
            if (!drop(e, ud)) {
                p = &e->next;
                continue;
            }
            *p = e->next;
            removed += e->seg != NULL;
            s->n_entries--;
            free(e);
        }
    return removed;
}

static void seg_saw(segment *g, int64_t stored_at)
{
    if (stored_at < g->oldest)
        g->oldest = stored_at;
    if (stored_at > g->newest)
        g->newest = stored_at;
}

/* Applies a record read or written: a put points the entry at its data, a mark sets it
 * notified. Records of events older than the newest cleanup's cutoff are passed over. */
static void index_apply(zd_store *s, segment *g, int type, const char *id, const char *corpid,
                        uint32_t agentid, int64_t stored_at, uint64_t data_off, uint32_t len)
{
    entry *e;

    seg_saw(g, stored_at);
    if (stored_at < s->cutoff || !(e = index_add(s, id)))
        return;
    if (type == REC_MARK) {
        e->notified = true;
        if (!e->seg)
            e->stored_at = stored_at;
        return;
    }
    e->corpid_len = (uint16_t)strlen(corpid);
    e->seg = g;
    e->off = data_off;
    e->len = len;
    e->agentid = agentid;
    e->stored_at = stored_at;
}

/* ---- records ---- */

static void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    put_u16(p, (uint16_t)v);
    put_u16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const unsigned char *p)
{
    return get_u16(p) | (uint32_t)get_u16(p + 2) << 16;
}

/* The CRC-32 of a record's header (its crc field 0), id and corpid: the data's goes on it. */
static uLong head_crc(const unsigned char *h, const char *id, size_t idl, const char *corpid,
                      size_t cl)
{
    uLong crc = crc32(0, h, REC_HEADER);

    crc = crc32(crc, (const Bytef *)id, (uInt)idl);
    return crc32(crc, (const Bytef *)corpid, (uInt)cl);
}

/* The header of a record (REC_HEADER bytes) with its CRC over itself and the rest. */
static void rec_header(unsigned char *h, int type, const char *id, size_t idl, const char *corpid,
                       size_t cl, uint32_t agentid, int64_t stored_at, const char *data,
                       uint32_t len)
{
    uint64_t at = (uint64_t)stored_at;

    memset(h, 0, REC_HEADER);
    put_u32(h, REC_MAGIC);
    h[4] = (unsigned char)type;
    h[5] = (unsigned char)idl;
    put_u16(h + 6, (uint16_t)cl);
    put_u32(h + 8, agentid);
    put_u32(h + 12, len);
    put_u32(h + 16, (uint32_t)at);
    put_u32(h + 20, (uint32_t)(at >> 32));
    put_u32(h + 24, (uint32_t)crc32_z(head_crc(h, id, idl, corpid, cl), (const Bytef *)data, len));
}

/* ---- appending and committing ---- */

/* Opens a new segment for this store to append to: made under a temporary name, locked,
 * renamed into place, the folder fsynced (so a cleanup elsewhere never meets it unlocked).
 * s->lock held. NULL with errno. */
static segment *segment_new(zd_store *s)
{
    segment *g = calloc(1, sizeof *g);
    char tmp[SEGMENT_NAME + 8], path[800], final[800];
    struct timespec ts;
    int e = ENOMEM;

    if (!g)
        goto fail;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (;;) {
        snprintf(g->name, sizeof g->name, "%lld%09ld-%ld-%u.log", (long long)ts.tv_sec, ts.tv_nsec,
                 (long)getpid(), s->created++);
        snprintf(tmp, sizeof tmp, ".%s.tmp", g->name);
        snprintf(path, sizeof path, "%s/%s", s->events, tmp);
        g->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
        if (g->fd >= 0 || errno != EEXIST)
            break;
    }
    if (g->fd < 0) {
        e = errno;
        goto fail;
    }
    snprintf(final, sizeof final, "%s/%s", s->events, g->name);
    if (flock(g->fd, LOCK_EX | LOCK_NB) != 0 || rename(path, final) != 0 ||
        fsync(s->events_fd) != 0) {
        e = errno;
        close(g->fd);
        unlink(path);
        unlink(final);
        goto fail;
    }
    g->own = true;
    g->oldest = INT64_MAX;
    g->newest = INT64_MIN;
    g->next = s->segments;
    s->segments = g;
    s->counts.segments++;
    return g;
fail:
    free(g);
    errno = e;
    return NULL;
}

/* Stops appending to the current segment; its fd closes once no commit needs it (an own
 * segment that is not s->current is appended to no more). */
static void segment_retire(zd_store *s)
{
    segment *g = s->current;

    if (!g)
        return;
    s->current = NULL;
    if (g->refs == 0 && g->fd >= 0) {
        close(g->fd);
        g->fd = -1;
    }
}

/* Writes all of iov to fd; 0, or -1 with errno. */
static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Appends one record to the current segment and waits until a commit synced it: 0, or -1
 * with errno. On success the record is indexed (s->lock is held for that). The first thread
 * to find no commit under way syncs everything queued, its own record included; the threads
 * that append meanwhile queue for the next commit. A failed write is cut off again (or the
 * segment given up), so a reader never meets a hole followed by records. */
static int append(zd_store *s, int type, const char *id, const char *corpid, uint32_t agentid,
                  int64_t stored_at, const char *data, uint32_t len)
{
    unsigned char h[REC_HEADER];
    size_t idl = strlen(id), cl = strlen(corpid);
    struct iovec iov[4] = {{h, REC_HEADER},
                           {(void *)(uintptr_t)id, idl}, /* writev only reads them */
                           {(void *)(uintptr_t)corpid, cl},
                           {(void *)(uintptr_t)data, len}};
    commit_entry e = {0};
    segment *g;
    uint64_t off;

    rec_header(h, type, id, idl, corpid, cl, agentid, stored_at, data, len);
    pthread_mutex_lock(&s->lock);
    if (s->current && s->current->size >= SEGMENT_BYTES)
        segment_retire(s);
    if (!s->current && !(s->current = segment_new(s))) {
        int err = errno;

        pthread_mutex_unlock(&s->lock);
        errno = err;
        return -1;
    }
    g = s->current;
    off = g->size;
    if (write_all(g->fd, iov, 4) != 0) {
        int err = errno;

        if (ftruncate(g->fd, (off_t)off) != 0)
            segment_retire(s); /* a torn record stays: appending goes on in a new segment */
        pthread_mutex_unlock(&s->lock);
        errno = err;
        return -1;
    }
    g->size += REC_HEADER + idl + cl + len;
    g->refs++;
    e.seg = g;
    e.mark = type == REC_MARK;
    *s->queue_tail = &e;
    s->queue_tail = &e.next;
    s->queued++;
    while (!e.done) {
        commit_entry *batch, *x, *next;
        size_t n, marks = 0;
        unsigned syncs = 0;
        void (*hook)(void *ud, size_t n);
        void *hook_ud;

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
        if (hook)
            hook(hook_ud, n);
        for (x = batch; x; x = x->next) { /* one sync of each segment in the batch */
            commit_entry *y;

            for (y = batch; y != x && y->seg != x->seg; y = y->next)
                ;
            if (y == x) {
                int rc = fdatasync(x->seg->fd) != 0 ? errno : 0;

                syncs++;
                for (y = x; y; y = y->next)
                    if (y->seg == x->seg)
                        y->rc = rc;
            }
            marks += x->mark;
        }
        pthread_mutex_lock(&s->lock);
        s->counts.batches++;
        s->counts.data_syncs += syncs;
        s->counts.events += n - marks;
        s->counts.marks += marks;
        if (n > s->counts.largest_batch)
            s->counts.largest_batch = n;
        for (x = batch; x; x = next) { /* their threads wait for the lock to see it */
            next = x->next;
            if (x->rc && x->seg == s->current)
                segment_retire(s); /* after a failed sync nothing more is written there */
            if (--x->seg->refs == 0 && x->seg != s->current && x->seg->fd >= 0) {
                close(x->seg->fd);
                x->seg->fd = -1;
            }
            x->done = true;
        }
        s->committing = false;
        pthread_cond_broadcast(&s->cond);
    }
    if (e.rc == 0)
        index_apply(s, g, type, id, corpid, agentid, stored_at, off + REC_HEADER + idl + cl, len);
    pthread_mutex_unlock(&s->lock);
    errno = e.rc;
    return e.rc ? -1 : 0;
}

/* ---- reading the segments ---- */

/* Reads len bytes at off; 0, or -1 (short: the file ends there, or an error). */
static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Reads g's records past what was indexed, up to the first that is not whole (still being
 * written, or torn by a crash), and indexes them. s->scan_lock held. */
static void segment_scan(zd_store *s, segment *g, int fd)
{
    static const size_t chunk = 1u << 16;
    unsigned char h[REC_HEADER];
    char id[256], corpid[MAX_CORPID + 1], *buf = NULL;
    struct stat st;
    uint64_t off = g->size;

    if (fstat(fd, &st) != 0)
        return;
    while (off + REC_HEADER <= (uint64_t)st.st_size && read_at(fd, h, REC_HEADER, off) == 0) {
        unsigned idl = h[5], cl = get_u16(h + 6);
        uint32_t len = get_u32(h + 12), want = get_u32(h + 24), done = 0;
        uint64_t at = get_u32(h + 16) | (uint64_t)get_u32(h + 20) << 32;
        uLong crc;

        if (get_u32(h) != REC_MAGIC || (h[4] != REC_PUT && h[4] != REC_MARK) || cl > MAX_CORPID ||
            len > MAX_EVENT_DATA || at > MAX_TIME ||
            off + REC_HEADER + idl + cl + len > (uint64_t)st.st_size ||
            read_at(fd, id, idl, off + REC_HEADER) != 0 ||
            read_at(fd, corpid, cl, off + REC_HEADER + idl) != 0)
            break;
        id[idl] = corpid[cl] = '\0';
        if (!zd_notify_id_ok(id) || strlen(corpid) != cl || get_u32(h + 28) != 0)
            break;
        put_u32(h + 24, 0);
        crc = head_crc(h, id, idl, corpid, cl);
        if (len && !buf && !(buf = malloc(chunk)))
            break;
        while (done < len) {
            uint32_t n = len - done < chunk ? len - done : (uint32_t)chunk;

            if (read_at(fd, buf, n, off + REC_HEADER + idl + cl + done) != 0 ||
                memchr(buf, '\0', n))
                break;
            crc = crc32(crc, (const Bytef *)buf, n);
            done += n;
        }
        if (done < len || (uint32_t)crc != want)
            break;
        pthread_mutex_lock(&s->lock);
        index_apply(s, g, h[4], id, corpid, get_u32(h + 8), (int64_t)at,
                    off + REC_HEADER + idl + cl, len);
        pthread_mutex_unlock(&s->lock);
        off += REC_HEADER + idl + cl + len;
    }
    free(buf);
    g->size = off;
}

/* Whether name is a segment's: "<digits>-<digits>-<digits>.log". */
static bool segment_name_ok(const char *name)
{
    size_t n = strlen(name), i, dashes = 0;

    if (n < 9 || n >= SEGMENT_NAME || strcmp(name + n - 4, ".log") != 0)
        return false;
    for (i = 0; i < n - 4; i++) {
        if (name[i] == '-' && i > 0 && name[i - 1] != '-')
            dashes++;
        else if (name[i] < '0' || name[i] > '9')
            return false;
    }
    return dashes == 2 && name[n - 5] != '-';
}

/* Reads what is new in the folder: segments not seen before, and the records appended to
 * the others' since the last look. s->scan_lock held. */
static void refresh_locked(zd_store *s)
{
    DIR *d = opendir(s->events);
    struct dirent *de;
    segment *g;

    if (d) {
        while ((de = readdir(d))) {
            if (!segment_name_ok(de->d_name))
                continue;
            pthread_mutex_lock(&s->lock);
            for (g = s->segments; g && strcmp(g->name, de->d_name) != 0; g = g->next)
                ;
            if (!g && (g = calloc(1, sizeof *g))) {
                memcpy(g->name, de->d_name, strlen(de->d_name) + 1); /* under SEGMENT_NAME */
                g->fd = -1;
                g->oldest = INT64_MAX;
                g->newest = INT64_MIN;
                g->next = s->segments;
                s->segments = g;
            }
            pthread_mutex_unlock(&s->lock);
        }
        closedir(d);
    }
    /* Segments are only added at the head and only freed under scan_lock: the list from
     * here on is stable while this reads it. */
    pthread_mutex_lock(&s->lock);
    g = s->segments;
    pthread_mutex_unlock(&s->lock);
    for (; g; g = g->next) {
        char path[700];
        int fd;

        if (g->own)
            continue;
        snprintf(path, sizeof path, "%s/%s", s->events, g->name);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            continue;
        segment_scan(s, g, fd);
        close(fd);
    }
}

static void refresh(zd_store *s)
{
    pthread_mutex_lock(&s->scan_lock);
    refresh_locked(s);
    pthread_mutex_unlock(&s->scan_lock);
}

/* ---- the API ---- */

int zd_store_put(zd_store *s, const char *id, const char *corpid, uint32_t agentid,
                 const char *data, int64_t now, char *err, size_t errlen)
{
    size_t len;

    if (!zd_notify_id_ok(id)) {
        snprintf(err, errlen, "the notify id is not 1 to 64 of [0-9A-Za-z_-]");
        return -1;
    }
    corpid = corpid ? corpid : "";
    data = data ? data : "";
    if (now < 0 || (uint64_t)now > MAX_TIME) {
        snprintf(err, errlen, "the time %lld is out of range", (long long)now);
        return -1;
    }
    if (strlen(corpid) > MAX_CORPID) {
        snprintf(err, errlen, "the corpid is longer than %u bytes", MAX_CORPID);
        return -1;
    }
    if ((len = strlen(data)) > MAX_EVENT_DATA) { /* what is written must be readable back */
        snprintf(err, errlen, "the event is larger than %u bytes", MAX_EVENT_DATA);
        return -1;
    }
    if (append(s, REC_PUT, id, corpid, agentid, now, data, (uint32_t)len) != 0) {
        snprintf(err, errlen, "cannot store the event: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The entry of id, read from the folder when this process does not know it. s->lock held on
 * return, the entry or NULL. */
static entry *lookup(zd_store *s, const char *id)
{
    entry *e;

    pthread_mutex_lock(&s->lock);
    if ((e = index_find(s, id)) && e->seg)
        return e;
    pthread_mutex_unlock(&s->lock);
    refresh(s);
    pthread_mutex_lock(&s->lock);
    e = index_find(s, id);
    return e && e->seg ? e : NULL;
}

int zd_store_mark_notified(zd_store *s, const char *id)
{
    entry *e;
    int64_t at;
    int rc;

    if (!zd_notify_id_ok(id))
        return -1;
    if (!(e = lookup(s, id)) || e->notified) {
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    e->notified = true; /* taken: a second mark of it fails */
    at = e->stored_at;
    pthread_mutex_unlock(&s->lock);
    rc = append(s, REC_MARK, id, "", 0, at, "", 0);
    if (rc != 0) {
        pthread_mutex_lock(&s->lock);
        if ((e = index_find(s, id)))
            e->notified = false;
        pthread_mutex_unlock(&s->lock);
    }
    return rc;
}

int zd_store_state(zd_store *s, const char *id)
{
    entry *e;
    int state = 0;

    if (!zd_notify_id_ok(id))
        return 0;
    if ((e = lookup(s, id)))
        state = e->notified ? 2 : 1;
    pthread_mutex_unlock(&s->lock);
    return state;
}

int zd_store_get(zd_store *s, const char *id, int64_t now, unsigned retention_s, char **data)
{
    entry *e;
    char path[700], *buf;
    uint64_t off;
    uint32_t len;
    int fd, rc;

    *data = NULL;
    if (!zd_notify_id_ok(id))
        return 1;
    if (!(e = lookup(s, id))) {
        pthread_mutex_unlock(&s->lock);
        return 1;
    }
    if (now - e->stored_at > (int64_t)retention_s) {
        pthread_mutex_unlock(&s->lock);
        return 2;
    }
    snprintf(path, sizeof path, "%s/%s", s->events, e->seg->name);
    off = e->off;
    len = e->len;
    pthread_mutex_unlock(&s->lock);
    if (!(buf = malloc((size_t)len + 1)))
        return 1;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) { /* deleted meanwhile: expired */
        free(buf);
        return 1;
    }
    rc = read_at(fd, buf, len, off) == 0 ? 0 : 1;
    close(fd);
    if (rc != 0) {
        free(buf);
        return 1;
    }
    buf[len] = '\0';
    *data = buf;
    return 0;
}

/* A pending event found under the lock, its corpid still to be read from its record. */
typedef struct pending_at {
    zd_pending p;
    char seg[SEGMENT_NAME];
    uint64_t corpid_off;
    uint16_t corpid_len;
} pending_at;

size_t zd_store_each_pending(zd_store *s, int64_t older_than,
                             void (*fn)(const zd_pending *p, void *ud), void *ud)
{
    pending_at *l = NULL;
    size_t i, n = 0, cap = 0, called = 0;

    refresh(s);
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->n_buckets; i++)
        for (entry *e = s->buckets[i]; e; e = e->next) {
            pending_at *x;

            if (!e->seg || e->notified || e->stored_at > older_than || e->stored_at < s->cutoff)
                continue;
            if (n == cap) {
                pending_at *grown = realloc(l, (cap = cap ? 2 * cap : 16) * sizeof *l);

                if (!grown)
                    break;
                l = grown;
            }
            x = &l[n++];
            memset(x, 0, sizeof *x);
            snprintf(x->p.id, sizeof x->p.id, "%s", e->id);
            memcpy(x->seg, e->seg->name, sizeof x->seg);
            x->corpid_off = e->off - e->corpid_len;
            x->corpid_len = e->corpid_len;
            x->p.agentid = e->agentid;
            x->p.stored_at = e->stored_at;
        }
    pthread_mutex_unlock(&s->lock);
    for (i = 0; i < n; i++) { /* outside the lock: fn notifies and marks */
        size_t want =
            l[i].corpid_len < sizeof l[i].p.corpid - 1 ? l[i].corpid_len : sizeof l[i].p.corpid - 1;
        char path[800];
        int fd, rc;

        snprintf(path, sizeof path, "%s/%s", s->events, l[i].seg);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            continue; /* deleted meanwhile: expired */
        rc = read_at(fd, l[i].p.corpid, want, l[i].corpid_off);
        close(fd);
        if (rc != 0)
            continue;
        fn(&l[i].p, ud);
        called++;
    }
    free(l);
    return called;
}

size_t zd_store_each(zd_store *s, void (*fn)(const char *id, int state, void *ud), void *ud)
{
    char(*ids)[ZD_MAX_NOTIFY_ID + 2] = NULL;
    size_t i, n = 0;

    refresh(s);
    pthread_mutex_lock(&s->lock);
    if (s->n_entries && !(ids = malloc(s->n_entries * sizeof *ids))) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    for (i = 0; i < s->n_buckets; i++)
        for (entry *e = s->buckets[i]; e; e = e->next)
            if (e->seg && e->stored_at >= s->cutoff) {
                ids[n][0] = e->notified ? 2 : 1;
                memcpy(ids[n++] + 1, e->id, strlen(e->id) + 1); /* at most 64 + 1 */
            }
    pthread_mutex_unlock(&s->lock);
    for (i = 0; i < n; i++)
        fn(ids[i] + 1, ids[i][0], ud);
    free(ids);
    return n;
}

static bool expired(const entry *e, const void *ud)
{
    return e->stored_at < *(const int64_t *)ud;
}

static bool in_segment(const entry *e, const void *ud)
{
    return e->seg == ud;
}

size_t zd_store_cleanup(zd_store *s, int64_t now, unsigned retention_s)
{
    int64_t cutoff = now - (int64_t)retention_s;
    size_t removed;
    segment **p, *g;

    pthread_mutex_lock(&s->scan_lock);
    refresh_locked(s);
    pthread_mutex_lock(&s->lock);
    if (cutoff > s->cutoff)
        s->cutoff = cutoff;
    removed = index_remove(s, expired, &cutoff);
    /* The segment appended to is given up once its oldest event is half the retention old,
     * so that it can expire as a whole. */
    if (s->current && s->current->oldest < now - (int64_t)retention_s / 2)
        segment_retire(s);
    pthread_mutex_unlock(&s->lock);
    /* A segment all of whose records are expired goes, once no writer holds its lock. The
     * list changes meanwhile only at its head (new segments), and only here otherwise. */
    pthread_mutex_lock(&s->lock);
    g = s->segments;
    pthread_mutex_unlock(&s->lock);
    while (g) {
        segment *next = g->next;
        char path[700];
        bool idle, gone = false;
        int fd;

        pthread_mutex_lock(&s->lock);
        idle = g != s->current && g->fd < 0 && g->refs == 0;
        pthread_mutex_unlock(&s->lock);
        snprintf(path, sizeof path, "%s/%s", s->events, g->name);
        if (!idle)
            fd = -1;
        else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            gone = errno == ENOENT; /* deleted by another replica's cleanup */
        else if (g->newest < cutoff && flock(fd, LOCK_EX | LOCK_NB) == 0) {
            if (!g->own)
                segment_scan(s, g, fd); /* what its writer added before it let go */
            gone = g->newest < cutoff && unlink(path) == 0;
        }
        if (fd >= 0)
            close(fd);
        if (gone) {
            pthread_mutex_lock(&s->lock);
            for (p = &s->segments; *p != g; p = &(*p)->next)
                ;
            *p = g->next;
            removed += index_remove(s, in_segment, g);
            pthread_mutex_unlock(&s->lock);
            free(g);
        }
        g = next;
    }
    pthread_mutex_unlock(&s->scan_lock);
    return removed;
}
