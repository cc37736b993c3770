/* cli_journal: `zonelab journal`, a running emulator's journal printed, filtered or followed. */
#include "cli/client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/http.h"
#include "cli/opts.h"

#define MAX_FILTERS  32
#define POLL_MS      200  /* --follow poll period */
#define JOURNAL_PAGE 1000 /* entries asked for per GET /_zonelab/journal */

static void usage(FILE *f)
{
    fputs("usage: zonelab journal [--follow] [--face F] [--kind K] [--field KEY=VALUE]\n"
          "                       [--since SEQ] [--limit N] [--url URL]\n"
          "\n"
          "Prints the journal of a running emulator (GET /_zonelab/journal), one JSON entry\n"
          "per line, oldest first. Flags take a value as '--flag VALUE' or '--flag=VALUE'.\n"
          "\n"
          "  --url URL            the emulator (default: $ZONELAB_URL, else " ZL_CLI_DEFAULT_URL
          ")\n"
          "  --follow             keep printing new entries (polled every 200 ms) until\n"
          "                       SIGINT or SIGTERM, which end it with status 0\n"
          "  --since SEQ          entries after seq SEQ (default: 0; with --follow, the\n"
          "                       newest entry's seq, so only new entries)\n"
          "  --face F             only entries of face F (app, sdk, program, callback,\n"
          "                       control); repeat for any of several\n"
          "  --kind K             only entries of kind K (call, protocol_mismatch, event, ...);\n"
          "                       repeat for any of several\n"
          "  --field KEY=VALUE    only entries whose KEY is VALUE; KEY is a member name or a\n"
          "                       dotted path (request.ability_id, events.0.msgid); a string\n"
          "                       compares as text, a number as a number, an object or array\n"
          "                       as its compact JSON; repeat for all of several\n"
          "  --limit N            stop after N entries printed\n"
          "  -h, --help           this text\n"
          "\n"
          "exit status: 0 done or stopped by a signal; 1 the emulator unreachable or refusing;\n"
          "2 usage error.\n",
          f);
}

/* The member at a dotted path (numeric segments index arrays), or NULL. */
static const cJSON *at_path(const cJSON *j, const char *path)
{
    char seg[256];

    while (j && *path) {
        size_t n = strcspn(path, ".");
        unsigned long long idx;

        if (n == 0 || n >= sizeof seg)
            return NULL;
        memcpy(seg, path, n);
        seg[n] = '\0';
        if (cJSON_IsArray(j))
            j = zl_cli_parse_u64(seg, INT32_MAX, &idx) == 0 ? cJSON_GetArrayItem(j, (int)idx)
                                                            : NULL;
        else
            j = cJSON_GetObjectItemCaseSensitive(j, seg);
        path += n;
        if (*path == '.')
            path++;
    }
    return j;
}

/* Whether the member at key=value's KEY has that value (see usage). */
static bool field_matches(const cJSON *entry, const char *kv)
{
    const char *eq = strchr(kv, '='), *want = eq + 1;
    char key[512];
    const cJSON *v;
    bool same = false;

    if ((size_t)(eq - kv) >= sizeof key)
        return false;
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    if (!(v = at_path(entry, key)))
        return false;
    if (cJSON_IsString(v))
        return !strcmp(v->valuestring, want);
    if (cJSON_IsNumber(v)) {
        char *end;
        double d;

        errno = 0;
        d = strtod(want, &end);
        return *want && !*end && !errno && d == v->valuedouble;
    }
    if (cJSON_IsTrue(v) || cJSON_IsFalse(v) || cJSON_IsNull(v))
        return !strcmp(want, cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : "null");
    {
        char *text = cJSON_PrintUnformatted(v);

        same = text && !strcmp(text, want);
        cJSON_free(text);
    }
    return same;
}

static bool in_list(const char *s, const char **list, size_t n)
{
    size_t i;

    if (n == 0)
        return true;
    for (i = 0; s && i < n; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

int zl_cli_journal(int argc, char **argv, FILE *out, FILE *err)
{
    const char *url = NULL, *follow = NULL, *since_s = NULL, *limit_s = NULL;
    const char *faces[MAX_FILTERS], *kinds[MAX_FILTERS], *fields[MAX_FILTERS];
    size_t n_faces = 0, n_kinds = 0, n_fields = 0, i;
    const zl_cli_opt opts[] = {
        ZL_CLI_OPT("url", &url),
        ZL_CLI_SWITCH("follow", &follow),
        ZL_CLI_OPT("since", &since_s),
        ZL_CLI_OPT("limit", &limit_s),
        ZL_CLI_LIST("face", faces, MAX_FILTERS, &n_faces),
        ZL_CLI_LIST("kind", kinds, MAX_FILTERS, &n_kinds),
        ZL_CLI_LIST("field", fields, MAX_FILTERS, &n_fields),
        ZL_CLI_END,
    };
    const zl_cli_cmd cmd = {.name = "journal", .usage = usage, .opts = opts};
    unsigned long long since = 0, limit = 0, printed = 0;
    cJSON *state = NULL, *page = NULL;
    zl_cli_http c = {0};
    zl_cli_reply r = {0};
    char path[128];
    int rc, help;

    if ((rc = zl_cli_parse(&cmd, argc, argv, out, err, &help)) != ZL_CLI_OK || help)
        return rc;
    if (since_s && zl_cli_parse_u64(since_s, UINT64_MAX, &since) != 0)
        return zl_cli_usage_error(&cmd, err, "--since must be a journal seq, got '%s'", since_s);
    if (limit_s && (zl_cli_parse_u64(limit_s, UINT64_MAX, &limit) != 0 || limit == 0))
        return zl_cli_usage_error(&cmd, err, "--limit must be a count from 1, got '%s'", limit_s);
    for (i = 0; i < n_fields; i++)
        if (!strchr(fields[i], '=') || fields[i][0] == '=')
            return zl_cli_usage_error(&cmd, err, "--field takes KEY=VALUE, got '%s'", fields[i]);
    if (zl_cli_http_init(&c, "journal", url, err) != 0)
        return ZL_CLI_FAILED;
    rc = ZL_CLI_FAILED;
    if (follow) {
        if (!since_s) {
            if (!(state = zl_cli_get_state(&c)))
                goto out;
            since = (unsigned long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(state, "journal"), "last"));
        }
        zl_cli_stop_on_signals();
        fprintf(err, "zonelab journal: following %s after seq %llu; SIGINT or SIGTERM stops\n",
                c.base, since);
        fflush(err);
    }
    while (!(follow && zl_cli_stopped())) {
        const cJSON *e, *entries;
        int count = 0, more;

        snprintf(path, sizeof path, "/_zonelab/journal?since=%llu&limit=%d", since, JOURNAL_PAGE);
        if (zl_cli_http_get(&c, path, &r) != 0) {
            if (follow && zl_cli_stopped())
                rc = ZL_CLI_OK;
            goto out;
        }
        if (zl_cli_control_ok(&c, &r) != 0 || !(page = cJSON_ParseWithLength(r.body, r.len))) {
            zl_cli_print_body(err, r.body, r.len, false);
            goto out;
        }
        zl_cli_reply_cleanup(&r);
        entries = cJSON_GetObjectItemCaseSensitive(page, "entries");
        cJSON_ArrayForEach(e, entries)
        {
            double seq = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "seq"));
            char *text;

            count++;
            if (seq == seq && seq > (double)since)
                since = (unsigned long long)seq;
            if (!in_list(zl_json_str(e, "face"), faces, n_faces) ||
                !in_list(zl_json_str(e, "kind"), kinds, n_kinds))
                continue;
            for (i = 0; i < n_fields && field_matches(e, fields[i]); i++)
                ;
            if (i < n_fields)
                continue;
            if (!(text = cJSON_PrintUnformatted(e)))
                goto out;
            fputs(text, out);
            fputc('\n', out);
            cJSON_free(text);
            if (limit && ++printed >= limit) {
                fflush(out);
                rc = ZL_CLI_OK;
                goto out;
            }
        }
        fflush(out);
        more =
            count >= JOURNAL_PAGE || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(page, "more"));
        cJSON_Delete(page);
        page = NULL;
        if (more)
            continue; /* more are waiting (a page is cut at its count or its bytes) */
        if (!follow)
            break;
        zl_cli_sleep_ms(POLL_MS);
    }
    rc = ZL_CLI_OK;
out:
    if (ferror(out))
        rc = ZL_CLI_FAILED;
    zl_cli_reply_cleanup(&r);
    cJSON_Delete(page);
    cJSON_Delete(state);
    zl_cli_http_cleanup(&c);
    return rc;
}
