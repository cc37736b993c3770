/* fuzz_tmp: the work folders of fuzz targets that need files, emptied as they go and removed at
 * exit, so that runs leave nothing in /tmp or /dev/shm. */
#ifndef FUZZ_TMP_H
#define FUZZ_TMP_H

#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_tmp_root[256];   /* the folder fuzz_tmp_make made, removed at exit */
static const char *fuzz_tmp_keep; /* a folder fuzz_tmp_empty keeps while emptying it */

static int fuzz_tmp_remove(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)st, (void)type, (void)f;
    if (fuzz_tmp_keep && !strcmp(path, fuzz_tmp_keep))
        return 0;
    remove(path);
    return 0;
}

/* Removes everything below dir, and dir itself unless keep. */
static inline void fuzz_tmp_clear(const char *dir, int keep)
{
    fuzz_tmp_keep = keep ? dir : NULL;
    nftw(dir, fuzz_tmp_remove, 16, FTW_DEPTH | FTW_PHYS);
    fuzz_tmp_keep = NULL;
}

static void fuzz_tmp_at_exit(void)
{
    if (fuzz_tmp_root[0])
        fuzz_tmp_clear(fuzz_tmp_root, 0);
}

/* mkdtemp of "<base>/<name>.XXXXXX" for the first base where it works; removed at exit.
 * Returns the folder (static storage) or NULL. */
static inline const char *fuzz_tmp_make(const char *const *bases, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(fuzz_tmp_root, sizeof fuzz_tmp_root, "%s/%s.XXXXXX", bases[i], name);
        if (mkdtemp(fuzz_tmp_root)) {
            atexit(fuzz_tmp_at_exit);
            return fuzz_tmp_root;
        }
    }
    fuzz_tmp_root[0] = '\0';
    return NULL;
}

#endif
