/* cli_shard: which scenario files a shard of `zonelab run --shard` runs: its index and
 * total from the command line or the CI system's variables, and the files balanced by their
 * earlier durations. */
#ifndef ZL_CLI_SHARD_H
#define ZL_CLI_SHARD_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* spec "K/N" (1 <= K <= N) or "auto": GitLab's parallel: (CI_NODE_INDEX, 1-based, and
 * CI_NODE_TOTAL), else a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, 0-based, and
 * ZONELAB_SHARD_TOTAL, which its manifest sets to the Job's completions). Sets *k (1-based)
 * and *n; returns 0, or -1 with why. */
int zl_shard_parse(const char *spec, unsigned *k, unsigned *n, char *why, size_t why_len);

/* Keeps in files (n_files of them, sorted by name) only those of shard k of n and frees the
 * others; returns how many are kept. Without durations, every n-th file by name. With
 * durations ({file: seconds}, zl_report_durations), the files are dealt longest first to the
 * shard with the least time so far (a file it does not know counts the mean), so shards finish
 * together; the kept files then run longest first. Every shard computes the same deal. */
size_t zl_shard_select(char **files, size_t n_files, unsigned k, unsigned n,
                       const cJSON *durations);

#endif
