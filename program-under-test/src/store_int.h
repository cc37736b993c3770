/* store_int.h: the store's state, shared by store.c (the events' logs) and durable.c (cursors
 * and event tokens, one small file each). Not part of zd.h's interface. */
#ifndef ZD_STORE_INT_H
#define ZD_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zd.h"

#define MAX_TOKEN   512 /* a token file: "<received at> <token>" */
#define TOKEN_SLOTS 16  /* apps whose token waits to be written */

/* A token to write: tokens/<name> gets text. */
typedef struct token_write {
    char name[160];
    char text[MAX_TOKEN];
    bool dirty; /* not written since text was set */
} token_write;

struct segment;
struct entry;
struct commit_entry;

struct zd_store {
    char events[600];
    char cursors[600];
    int events_fd; /* the folders, for fsync after a rename */
    int cursors_fd;
    char tokens[600];
    int tokens_fd;
    pthread_mutex_t token_lock; /* the token slots, token_writing */
    token_write token_slots[TOKEN_SLOTS];
    bool token_writing;        /* a thread writes the dirty slots; others leave theirs to it */
    pthread_mutex_t scan_lock; /* one reader of the folder at a time (refresh, cleanup) */
    pthread_mutex_t lock;      /* everything below */
    pthread_cond_t cond;       /* a batch was committed */
    struct segment *segments;
    struct segment *current; /* the segment appended to, or NULL until the first append */
    unsigned created;        /* segments this store made, for their names */
    struct entry **buckets;
    size_t n_buckets, n_entries;
    int64_t cutoff; /* the newest cleanup's: records stored before it are expired */
    struct commit_entry *queue, **queue_tail;
    size_t queued;
    bool committing;
    zd_store_counts counts;
    void (*on_commit)(void *ud, size_t n);
    void *on_commit_ud;
};

#endif
