/* cli_shard: a shard's index and total (flag or CI variables) and its scenario files, dealt
 * by name or balanced by earlier durations. */
#include "cli/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A whole decimal number in [lo, hi] from s; -1 when s is not one. */
static long long whole(const char *s, long long lo, long long hi)
{
    char *end;
    long long v;

    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    return errno || *end || v < lo || v > hi ? -1 : v;
}

int zl_shard_parse(const char *spec, unsigned *k, unsigned *n, char *why, size_t why_len)
{
    const char *ki, *ni;
    long long kv, nv;
    int zero_based;

    if (strcmp(spec, "auto") != 0) {
        char ks[16], ns[16];
        const char *slash = strchr(spec, '/');

        if (!slash || slash == spec || (size_t)(slash - spec) >= sizeof ks ||
            strlen(slash + 1) >= sizeof ns) {
            snprintf(why, why_len, "--shard %s: give K/N (for example 2/4) or auto", spec);
            return -1;
        }
        snprintf(ks, sizeof ks, "%.*s", (int)(slash - spec), spec);
        snprintf(ns, sizeof ns, "%s", slash + 1);
        nv = whole(ns, 1, 100000);
        kv = nv > 0 ? whole(ks, 1, nv) : -1;
        if (kv < 0) {
            snprintf(why, why_len, "--shard %s: K and N are whole numbers with 1 <= K <= N", spec);
            return -1;
        }
        *k = (unsigned)kv, *n = (unsigned)nv;
        return 0;
    }
    if (getenv("CI_NODE_TOTAL")) {
        ki = getenv("CI_NODE_INDEX"), ni = getenv("CI_NODE_TOTAL"), zero_based = 0;
    } else if (getenv("JOB_COMPLETION_INDEX")) {
        ki = getenv("JOB_COMPLETION_INDEX"), ni = getenv("ZONELAB_SHARD_TOTAL"), zero_based = 1;
        if (!ni) {
            snprintf(why, why_len,
                     "--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but "
                     "ZONELAB_SHARD_TOTAL is not: set it to the Job's completions");
            return -1;
        }
    } else {
        snprintf(why, why_len,
                 "--shard auto: no CI shard variables: CI_NODE_INDEX and CI_NODE_TOTAL (GitLab "
                 "parallel:) or JOB_COMPLETION_INDEX and ZONELAB_SHARD_TOTAL (Kubernetes "
                 "Indexed Job); elsewhere give --shard K/N");
        return -1;
    }
    nv = whole(ni, 1, 100000);
    kv = nv > 0 ? whole(ki, zero_based ? 0 : 1, zero_based ? nv - 1 : nv) : -1;
    if (kv < 0) {
        snprintf(why, why_len, "--shard auto: index %s of %s is not a shard (%s-based, total >= 1)",
                 ki ? ki : "(unset)", ni, zero_based ? "0" : "1");
        return -1;
    }
    *k = (unsigned)(kv + zero_based), *n = (unsigned)nv;
    return 0;
}

/* A file's earlier seconds: by its path as given, without a leading "./", or by its name
 * alone when exactly one file of the report has that name; -1 when unknown. */
static double seconds_of(const cJSON *d, const char *file)
{
    const cJSON *v, *e;
    const char *name = strrchr(file, '/') ? strrchr(file, '/') + 1 : file, *en;
    double found = -1;
    int matches = 0;

    while (file[0] == '.' && file[1] == '/')
        file += 2;
    if ((v = cJSON_GetObjectItemCaseSensitive(d, file)) && cJSON_IsNumber(v))
        return v->valuedouble;
    cJSON_ArrayForEach(e, d)
    {
        const char *s = e->string;

        while (s[0] == '.' && s[1] == '/')
            s += 2;
        if (!strcmp(s, file))
            return e->valuedouble;
        en = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
        if (!strcmp(en, name))
            matches++, found = e->valuedouble;
    }
    return matches == 1 ? found : -1;
}

typedef struct timed {
    double s;
    size_t i; /* index in the sorted files */
} timed;

/* Longest first; equal times by name (the files' order), so every shard deals alike. */
static int longest_first(const void *a, const void *b)
{
    const timed *x = a, *y = b;

    if (x->s != y->s)
        return x->s < y->s ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

size_t zl_shard_select(char **files, size_t n_files, unsigned k, unsigned n, const cJSON *durations)
{
    size_t i, kept = 0, known = 0;
    timed *t = NULL;
    double *load = NULL, mean = 0;
    char **mine = NULL;

    if (!durations || !n_files)
        goto by_name;
    if (!(t = calloc(n_files, sizeof *t)) || !(mine = calloc(n_files, sizeof *mine)) ||
        !(load = calloc(n, sizeof *load))) {
        fprintf(stderr, "zonelab run: out of memory for --durations; shards by name\n");
        goto by_name;
    }
    for (i = 0; i < n_files; i++) {
        t[i] = (timed){seconds_of(durations, files[i]), i};
        if (t[i].s >= 0)
            mean += t[i].s, known++;
    }
    mean = known ? mean / (double)known : 1;
    for (i = 0; i < n_files; i++)
        if (t[i].s < 0)
            t[i].s = mean;
    qsort(t, n_files, sizeof *t, longest_first);
    for (i = 0; i < n_files; i++) {
        unsigned s, least = 0;

        for (s = 1; s < n; s++)
            if (load[s] < load[least])
                least = s;
        load[least] += t[i].s;
        if (least == k - 1)
            mine[kept++] = files[t[i].i];
        else
            free(files[t[i].i]);
    }
    memcpy(files, mine, kept * sizeof *files);
    goto out;
by_name:
    for (i = 0; i < n_files; i++)
        if (i % n == k - 1)
            files[kept++] = files[i];
        else
            free(files[i]);
out:
    free(t);
    free(mine);
    free(load);
    return kept;
}
