/* emu_fakes: where zonelab's fakes of the vendor's Python SDK (the wwspecapisdk package) and
 * libzonesdk are, so a replica written in Python finds them with no PYTHONPATH of its own. */
#define _GNU_SOURCE
#include "emu/emu.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t fakes_once = PTHREAD_ONCE_INIT;
static char python_dir[PATH_MAX];  /* holds wwspecapisdk/, or "" */
static char zonesdk_lib[PATH_MAX]; /* libzonesdk.so.N, or "" */

/* The first of n candidates that exists (for a folder: holds marker), made absolute into out;
 * "" when none does. */
static void first_found(char (*cand)[PATH_MAX + 64], size_t n, const char *marker, char *out)
{
    char probe[PATH_MAX * 2];
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(probe, sizeof probe, "%s%s%s", cand[i], marker ? "/" : "", marker ? marker : "");
        if (cand[i][0] && access(probe, R_OK) == 0 && realpath(cand[i], out))
            return;
    }
    out[0] = '\0';
}

/* Next to this executable as installed (share/zonelab/python, the library folder), then the
 * source and build trees it was built from, then the install prefix. */
static void fakes_find(void)
{
    char exe[PATH_MAX], cand[3][PATH_MAX + 64], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    size_t k = 0;

    exe[0] = '\0';
    if (n > 0) {
        exe[n] = '\0';
        if ((slash = strrchr(exe, '/')))
            *slash = '\0';
    }
    snprintf(cand[k++], sizeof cand[0], "%s%s%s", exe, *exe ? "/" : "", ZL_PYFAKE_FROM_BIN);
    snprintf(cand[k++], sizeof cand[0], "%s", ZL_PYFAKE_SOURCE);
    snprintf(cand[k++], sizeof cand[0], "%s", ZL_PYFAKE_INSTALL);
    first_found(cand, k, "wwspecapisdk/__init__.py", python_dir);
    k = 0;
    snprintf(cand[k++], sizeof cand[0], "%s%s%s", *ZL_ZONESDK_FROM_BIN ? exe : "",
             *ZL_ZONESDK_FROM_BIN && *exe ? "/" : "", ZL_ZONESDK_FROM_BIN);
    snprintf(cand[k++], sizeof cand[0], "%s", ZL_ZONESDK_BUILD);
    snprintf(cand[k++], sizeof cand[0], "%s", ZL_ZONESDK_INSTALL);
    first_found(cand, k, NULL, zonesdk_lib);
}

void zl_emu_fakes_env(void)
{
    const char *old = getenv("PYTHONPATH");
    char *v;

    pthread_once(&fakes_once, fakes_find);
    if (python_dir[0]) {
        if (!old || !*old)
            setenv("PYTHONPATH", python_dir, 1);
        else if (asprintf(&v, "%s:%s", old, python_dir) >= 0) {
            setenv("PYTHONPATH", v, 1); /* after the program's own: a path it set wins */
            free(v);
        }
    }
    if (zonesdk_lib[0])
        setenv("ZONESDK_LIBRARY", zonesdk_lib, 0);
}

void zl_emu_fakes_find(void)
{
    pthread_once(&fakes_once, fakes_find);
}
