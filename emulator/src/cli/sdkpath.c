/* cli_sdkpath: `zonelab sdk-path`, where zonelab's fakes of the vendor's SDKs are, for a
 * build that needs them (javac's classpath) or a program started by hand. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "emu/emu.h"

#include <string.h>

static const struct {
    const char *name;
    zl_fake which;
    const char *what;
} PATHS[] = {
    {"python", ZL_FAKE_PYTHON, "the folder holding the wwspecapisdk package (for PYTHONPATH)"},
    {"library", ZL_FAKE_LIBZONESDK, "libzonesdk, which wwspecapisdk loads (ZONESDK_LIBRARY)"},
    {"java-classpath", ZL_FAKE_JAVA_CLASSPATH,
     "the jar of com.tencent.wework.SpecSDK, SpecCallbackSDK, SpecUtil"},
    {"java-library-path", ZL_FAKE_JAVA_LIBRARY,
     "the folder of their JNI libWeWorkSpecSDK.so (-Djava.library.path)"},
};

#define N_PATHS (sizeof PATHS / sizeof PATHS[0])

static void usage(FILE *f)
{
    size_t i;

    fputs("usage: zonelab sdk-path NAME\n"
          "\n"
          "Prints where one of zonelab's fakes of the vendor's SDKs is. The programs zonelab\n"
          "starts get them in their environment already (PYTHONPATH, ZONESDK_LIBRARY,\n"
          "ZONELAB_JAVA_CLASSPATH, ZONELAB_JAVA_LIBRARY_PATH); this is for a build or a program\n"
          "you start yourself. Exit status 1 when this zonelab has none. NAME is one of:\n",
          f);
    for (i = 0; i < N_PATHS; i++)
        fprintf(f, "  %-18s %s\n", PATHS[i].name, PATHS[i].what);
}

int zl_cli_sdk_path(int argc, char **argv, FILE *out, FILE *err)
{
    size_t i;
    const char *p;

    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(out);
        return ZL_CLI_OK;
    }
    for (i = 0; argc == 2 && i < N_PATHS; i++)
        if (!strcmp(argv[1], PATHS[i].name))
            break;
    if (argc != 2 || i == N_PATHS) {
        usage(err);
        return ZL_CLI_USAGE;
    }
    if (!(p = zl_emu_fake_path(PATHS[i].which))) {
        fprintf(err, "zonelab sdk-path: this zonelab has no %s: %s\n", PATHS[i].name,
                PATHS[i].which == ZL_FAKE_LIBZONESDK
                    ? "a sanitizer build gives none (python3 cannot load it), or it was not "
                      "built or installed"
                : PATHS[i].which >= ZL_FAKE_JAVA_CLASSPATH
                    ? "it was built without a JDK (apt-get install default-jdk-headless), or "
                      "the Java fake was not installed"
                    : "it is neither next to zonelab nor in its source tree");
        return ZL_CLI_FAILED;
    }
    fprintf(out, "%s\n", p);
    return ZL_CLI_OK;
}
