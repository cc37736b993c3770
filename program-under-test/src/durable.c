/* durable: zone-demo's small durable files. The sync_msg cursor of each app under
 * <dir>/cursors, each written alone, and the newest event token of each app under <dir>/tokens,
 * written by one thread at a time (the newest wins). Each goes to a temporary file, is synced,
 * renamed into place, and the folder fsynced. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"
#include "zd.h"

#define MAX_CURSOR 4096

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

/* cursors/<corpid>-<agentid>; a corpid that is not a plain id has no cursor file. */
static int cursor_name(const char *corpid, uint32_t agentid, char *out, size_t n)
{
    if (!zd_notify_id_ok(corpid))
        return -1;
    snprintf(out, n, "%s-%u", corpid, agentid);
    return 0;
}

/* The text of folder/<corpid>-<agentid> (owned, free()) in *text: 0 found, 1 no such file, -1
 * a corpid that is not a plain id or a file that cannot be read (up to max bytes). */
static int read_app_file(const char *folder, const char *corpid, uint32_t agentid, size_t max,
                         char **text)
{
    char name[160], path[800];
    struct stat st;

    if (cursor_name(corpid, agentid, name, sizeof name) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", folder, name);
    if ((*text = read_file(path, max)))
        return 0;
    return stat(path, &st) != 0 && errno == ENOENT ? 1 : -1;
}

int zd_cursor_get(zd_store *s, const char *corpid, uint32_t agentid, char *out, size_t n)
{
    char *text;
    int rc = read_app_file(s->cursors, corpid, agentid, MAX_CURSOR, &text);

    if (rc != 0)
        return rc;
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
    char *text, *sp, *end;
    long long at;
    int rc = read_app_file(s->tokens, corpid, agentid, MAX_TOKEN, &text);

    if (rc != 0)
        return rc;
    rc = -1;
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
