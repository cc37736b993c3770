/* emu_fakes: where zonelab's fakes of the vendor's language SDKs are (the Python package
 * wwspecapisdk, libzonesdk, the Java classes and their JNI library), so the programs zonelab
 * starts find them with no path of their own. */
#define _GNU_SOURCE
#include "emu/emu.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ZL_JAVA_JAR_FROM_BIN /* built without a JDK: no Java fake */
#define ZL_JAVA_JAR_FROM_BIN ""
#define ZL_JAVA_JAR_BUILD    ""
#define ZL_JAVA_JAR_INSTALL  ""
#define ZL_JAVA_LIB_FROM_BIN ""
#define ZL_JAVA_LIB_BUILD    ""
#define ZL_JAVA_LIB_INSTALL  ""
#endif

static pthread_once_t fakes_once = PTHREAD_ONCE_INIT;
static char found[ZL_FAKE_COUNT][PATH_MAX]; /* by zl_fake, "" when not found */

/* The first of the candidates (relative to this executable's folder, then as built, then as
 * installed) that exists (for a folder: holds marker), made absolute into out; "" when none. */
static void first_found(const char *exe, const char *from_bin, const char *build,
                        const char *install, const char *marker, char *out)
{
    char cand[3][PATH_MAX + 64], probe[PATH_MAX * 2 + 128];
    size_t i;

    snprintf(cand[0], sizeof cand[0], "%s%s%s", *from_bin && *exe ? exe : "",
             *from_bin && *exe ? "/" : "", from_bin);
    snprintf(cand[1], sizeof cand[1], "%s", build);
    snprintf(cand[2], sizeof cand[2], "%s", install);
    for (i = 0; i < 3; i++) {
        int n = snprintf(probe, sizeof probe, "%s%s%s", cand[i], marker ? "/" : "",
                         marker ? marker : "");

        if (cand[i][0] && n > 0 && (size_t)n < sizeof probe && access(probe, R_OK) == 0 &&
            realpath(cand[i], out))
            return;
    }
    out[0] = '\0';
}

static void fakes_find(void)
{
    char exe[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

    if (n <= 0)
        n = 0;
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')))
        *slash = '\0';
    first_found(exe, ZL_PYFAKE_FROM_BIN, ZL_PYFAKE_SOURCE, ZL_PYFAKE_INSTALL,
                "wwspecapisdk/__init__.py", found[ZL_FAKE_PYTHON]);
    first_found(exe, ZL_ZONESDK_FROM_BIN, ZL_ZONESDK_BUILD, ZL_ZONESDK_INSTALL, NULL,
                found[ZL_FAKE_LIBZONESDK]);
    first_found(exe, ZL_JAVA_JAR_FROM_BIN, ZL_JAVA_JAR_BUILD, ZL_JAVA_JAR_INSTALL, NULL,
                found[ZL_FAKE_JAVA_CLASSPATH]);
    first_found(exe, ZL_JAVA_LIB_FROM_BIN, ZL_JAVA_LIB_BUILD, ZL_JAVA_LIB_INSTALL,
                "libWeWorkSpecSDK.so", found[ZL_FAKE_JAVA_LIBRARY]);
}

const char *zl_emu_fake_path(zl_fake which)
{
    pthread_once(&fakes_once, fakes_find);
    return which < ZL_FAKE_COUNT && found[which][0] ? found[which] : NULL;
}

void zl_emu_fakes_find(void)
{
    pthread_once(&fakes_once, fakes_find);
}

void zl_emu_fakes_env(void)
{
    const char *old = getenv("PYTHONPATH"), *py = zl_emu_fake_path(ZL_FAKE_PYTHON), *p;
    char *v;

    if (py) {
        if (!old || !*old)
            setenv("PYTHONPATH", py, 1);
        else if (asprintf(&v, "%s:%s", old, py) >= 0) {
            setenv("PYTHONPATH", v, 1); /* after the program's own: a path it set wins */
            free(v);
        }
    }
    if ((p = zl_emu_fake_path(ZL_FAKE_LIBZONESDK)))
        setenv("ZONESDK_LIBRARY", p, 0);
    if ((p = zl_emu_fake_path(ZL_FAKE_JAVA_CLASSPATH)))
        setenv("ZONELAB_JAVA_CLASSPATH", p, 1);
    if ((p = zl_emu_fake_path(ZL_FAKE_JAVA_LIBRARY)))
        setenv("ZONELAB_JAVA_LIBRARY_PATH", p, 1);
}
