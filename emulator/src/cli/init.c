/* cli_init: `zonelab init`, a starter zone program in a new folder: the program written the
 * way WeCom's guide writes one, a world declaring it, a scenario per ability, the build, CI
 * files and a README (templates/init/<lang>/, built into zonelab). */
#define _GNU_SOURCE
#include "cli/init.h"
#include "cli/opts.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct zl_embedded_file {
    const char *path;
    const unsigned char *bytes;
    size_t len;
} zl_embedded_file;

extern const zl_embedded_file zl_init_templates[];
extern const size_t zl_init_templates_count;

#define PLACEHOLDER "@PROGRAM_ID@"

static void usage(FILE *f)
{
    fputs("usage: zonelab init [--lang c|cpp|java|python] [--program-id ID] DIR\n"
          "\n"
          "Writes a starter zone program into DIR (a new or empty folder): the program,\n"
          "written the way WeCom's guide writes one (listens on 8080, verifies with the SDK,\n"
          "stores each event durably, then notifies the app, then answers get_callback_data\n"
          "with it), world.json declaring it and its abilities, scenarios/ with one file per\n"
          "ability, the build file, CI files for GitHub Actions and GitLab CI, and a README\n"
          "with the two commands that build it and run its scenarios.\n"
          "  --lang L          the language: cpp (default; the vendor's C++ SDK), c (zonelab's\n"
          "                    zone_sdk.h; the vendor's through an adapter), java (the\n"
          "                    vendor's Java demo's classes) or python (the vendor's Python\n"
          "                    sample's conventions)\n"
          "  --program-id ID   the program's id in the world and its executable's name\n"
          "                    (default: DIR's name; letters, digits, '-' and '_')\n",
          f);
}

/* The languages there are templates for, each once, as "a, b". */
static void languages(char *out, size_t n)
{
    size_t i, used = 0;

    out[0] = '\0';
    for (i = 0; i < zl_init_templates_count; i++) {
        const char *p = zl_init_templates[i].path, *slash = strchr(p, '/');
        int len = slash ? (int)(slash - p) : 0;
        char lang[32];

        if (!len || len >= (int)sizeof lang)
            continue;
        snprintf(lang, sizeof lang, "%.*s", len, p);
        if (i > 0 && !strncmp(zl_init_templates[i - 1].path, p, (size_t)len + 1))
            continue;
        used +=
            (size_t)snprintf(out + used, used < n ? n - used : 0, "%s%s", used ? ", " : "", lang);
    }
}

static bool id_ok(const char *id)
{
    size_t i, n = strlen(id);

    if (n == 0 || n > 64 || !isalpha((unsigned char)id[0]))
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_')
            return false;
    return true;
}

/* mkdir -p of the folders above path. */
static int make_parents(char *path)
{
    char *s;

    for (s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            *s = '/';
            return -1;
        }
        *s = '/';
    }
    return 0;
}

/* Writes bytes to path with every PLACEHOLDER replaced by id; a new file only. */
static int write_file(const char *path, const unsigned char *bytes, size_t len, const char *id)
{
    const char *p = (const char *)bytes, *end = p + len, *hit;
    size_t pl = strlen(PLACEHOLDER);
    FILE *f;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    while (p < end && (hit = memmem(p, (size_t)(end - p), PLACEHOLDER, pl))) {
        fwrite(p, 1, (size_t)(hit - p), f);
        fputs(id, f);
        p = hit + pl;
    }
    fwrite(p, 1, (size_t)(end - p), f);
    return fclose(f);
}

/* Whether the existing path (st: its stat) is a folder with nothing in it. */
static bool empty_folder(const char *path, const struct stat *st)
{
    DIR *d;
    struct dirent *e;
    bool empty = true;

    if (!S_ISDIR(st->st_mode) || !(d = opendir(path)))
        return false;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

int zl_cli_init(int argc, char **argv, FILE *out, FILE *err)
{
    const char *lang = "cpp", *dir = NULL, *id = NULL;
    char langs[128], base[PATH_MAX], path[PATH_MAX * 2];
    size_t i, written = 0, prefix;
    struct stat st;
    int a;

    for (a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
            usage(out);
            return ZL_CLI_OK;
        } else if (!strcmp(argv[a], "--lang") && a + 1 < argc) {
            lang = argv[++a];
        } else if (!strcmp(argv[a], "--program-id") && a + 1 < argc) {
            id = argv[++a];
        } else if (argv[a][0] == '-' || dir) {
            fprintf(err, "zonelab init: bad or extra argument '%s'\n", argv[a]);
            usage(err);
            return ZL_CLI_USAGE;
        } else {
            dir = argv[a];
        }
    }
    if (!dir || !*dir) {
        usage(err);
        return ZL_CLI_USAGE;
    }
    languages(langs, sizeof langs);
    prefix = strlen(lang);
    for (i = 0; i < zl_init_templates_count; i++)
        if (!strncmp(zl_init_templates[i].path, lang, prefix) &&
            zl_init_templates[i].path[prefix] == '/')
            break;
    if (i == zl_init_templates_count) {
        fprintf(err, "zonelab init: no starter for --lang %s; there is one for: %s\n", lang, langs);
        return ZL_CLI_USAGE;
    }
    snprintf(base, sizeof base, "%s", dir);
    while (strlen(base) > 1 && base[strlen(base) - 1] == '/')
        base[strlen(base) - 1] = '\0';
    if (!id)
        id = strrchr(base, '/') ? strrchr(base, '/') + 1 : base;
    if (!id_ok(id)) {
        fprintf(err,
                "zonelab init: '%s' cannot be a program id (a letter, then letters, digits, "
                "'-' or '_', at most 64): give --program-id\n",
                id);
        return ZL_CLI_USAGE;
    }
    if (stat(base, &st) == 0 && !empty_folder(base, &st)) {
        fprintf(err, "zonelab init: %s exists and is not an empty folder; nothing written\n", base);
        return ZL_CLI_FAILED;
    }
    snprintf(path, sizeof path, "%s/", base);
    if (make_parents(path) != 0) {
        fprintf(err, "zonelab init: cannot make %s: %s\n", base, strerror(errno));
        return ZL_CLI_FAILED;
    }
    for (; i < zl_init_templates_count && !strncmp(zl_init_templates[i].path, lang, prefix) &&
           zl_init_templates[i].path[prefix] == '/';
         i++) {
        snprintf(path, sizeof path, "%s/%s", base, zl_init_templates[i].path + prefix + 1);
        if (make_parents(path) != 0 ||
            write_file(path, zl_init_templates[i].bytes, zl_init_templates[i].len, id) != 0) {
            fprintf(err, "zonelab init: cannot write %s: %s\n", path, strerror(errno));
            return ZL_CLI_FAILED;
        }
        written++;
    }
    fprintf(out,
            "zonelab init: wrote %zu files of a %s zone program '%s' into %s\n"
            "next: cd %s, then the two commands of its README.md\n",
            written, lang, id, base, base);
    return ZL_CLI_OK;
}
