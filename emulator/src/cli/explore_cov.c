/* explore_cov: zonelab explore's coverage: what the runs reached, counted from their
 * journals, and the report of it, as text and JSON. */
#include "cli/explore_int.h"

#include <string.h>

#include "api/sdk_api.h"

static void count(cJSON *map, const char *key)
{
    cJSON *n = cJSON_GetObjectItemCaseSensitive(map, key);

    if (n)
        cJSON_SetNumberValue(n, n->valuedouble + 1);
    else
        cJSON_AddNumberToObject(map, key, 1);
}

static void count_code(cJSON *map, const cJSON *code)
{
    char k[32];

    if (!cJSON_IsNumber(code))
        return;
    snprintf(k, sizeof k, "%.0f", code->valuedouble);
    count(map, k);
}

static cJSON *cov_map(cJSON *cov, const char *name)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(cov, name);

    return m ? m : cJSON_AddObjectToObject(cov, name);
}

void xp_cov_add(cJSON *c, const cJSON *journal, const char *text)
{
    const cJSON *e;
    const char *p;

    cJSON_ArrayForEach(e, journal)
    {
        const char *face = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "face"));
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "kind"));
        const char *s;

        if (!face || !kind)
            continue;
        if (!strcmp(face, "program") && !strcmp(kind, "call") &&
            (s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "ability_id"))))
            count(cov_map(c, "abilities"), s);
        if (!strcmp(face, "app") && !strcmp(kind, "call"))
            count_code(cov_map(c, "app_errcodes"), cJSON_GetObjectItemCaseSensitive(e, "errcode"));
        if (!strcmp(face, "sdk") && !strcmp(kind, "invoke")) {
            if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "api"))))
                count(cov_map(c, "sdk_apis"), s);
            count_code(cov_map(c, "sdk_errcodes"), cJSON_GetObjectItemCaseSensitive(e, "errcode"));
            s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "outcome"));
            if (s && strcmp(s, "answered") != 0) {
                char k[64];

                snprintf(k, sizeof k, "sdk %s", s);
                count(cov_map(c, "faults"), k);
            }
        }
        if (!strcmp(face, "program") && !strcmp(kind, "event")) {
            const cJSON *ev = cJSON_GetObjectItemCaseSensitive(e, "event");

            if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "event_type"))))
                count(cov_map(c, "event_types"), s);
        }
        if (!strcmp(face, "program") && !strcmp(kind, "exit") &&
            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "expected")))
            count(cov_map(c, "faults"), "crash");
    }
    for (p = text; (p = strstr(p, "\n  X.")); p += 5) {
        if (!strncmp(p + 5, "restart(", 8))
            count(cov_map(c, "faults"), "restart");
        else if (!strncmp(p + 5, "pause(", 6))
            count(cov_map(c, "faults"), "pause");
    }
}

static void add_api_name(const zl_sdk_api *api, void *ud)
{
    cJSON_AddItemToArray(ud, cJSON_CreateString(api->name));
}

/* {"reached": [...], "not_reached": [...]} of the names in all against the counts in m. */
static cJSON *reach(const cJSON *m, const cJSON *all)
{
    cJSON *o = cJSON_CreateObject(), *yes = cJSON_AddArrayToObject(o, "reached"),
          *no = cJSON_AddArrayToObject(o, "not_reached");
    const cJSON *n;

    cJSON_ArrayForEach(n, all)
    {
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(m, n->valuestring) ? yes : no,
                             cJSON_CreateString(n->valuestring));
    }
    return o;
}

cJSON *xp_cov_report(cJSON *c, unsigned long runs, const zl_program *p)
{
    cJSON *out = cJSON_CreateObject(), *abilities = cJSON_CreateArray(),
          *apis = cJSON_CreateArray(), *events = cJSON_CreateArray();
    static const char *const EVENT_TYPES[] = {"conversation_new_message",
                                              "hit_keyword",
                                              "chat_archive_audit_approved_single",
                                              "chat_archive_audit_approved_room",
                                              "auth_knowledge_base",
                                              "unauth_knowledge_base",
                                              "delete_knowledge_base",
                                              "knowledge_base_learn_done",
                                              "chat_archive_export_finished"};
    size_t i;
    static const char *const MAPS[] = {"abilities",    "sdk_apis",     "event_types",
                                       "app_errcodes", "sdk_errcodes", "faults"};

    for (i = 0; i < sizeof MAPS / sizeof *MAPS; i++)
        cov_map(c, MAPS[i]);
    for (i = 0; i < p->ability_count; i++)
        cJSON_AddItemToArray(abilities, cJSON_CreateString(p->abilities[i].ability_id));
    zl_sdk_api_each(add_api_name, apis);
    for (i = 0; i < sizeof EVENT_TYPES / sizeof *EVENT_TYPES; i++)
        cJSON_AddItemToArray(events, cJSON_CreateString(EVENT_TYPES[i]));
    cJSON_AddNumberToObject(out, "runs", (double)runs);
    cJSON_AddItemToObject(out, "abilities", reach(cov_map(c, "abilities"), abilities));
    cJSON_AddItemToObject(out, "sdk_apis", reach(cov_map(c, "sdk_apis"), apis));
    cJSON_AddItemToObject(out, "event_types", reach(cov_map(c, "event_types"), events));
    cJSON_AddItemToObject(out, "counts", cJSON_Duplicate(c, 1));
    cJSON_Delete(abilities);
    cJSON_Delete(apis);
    cJSON_Delete(events);
    return out;
}

static void print_names(FILE *f, const char *label, const cJSON *r)
{
    const cJSON *yes = cJSON_GetObjectItemCaseSensitive(r, "reached"),
                *no = cJSON_GetObjectItemCaseSensitive(r, "not_reached"), *n;
    int a = cJSON_GetArraySize(yes), b = cJSON_GetArraySize(no);
    const char *sep = "";

    fprintf(f, "  %s: %d of %d", label, a, a + b);
    if (b == 0) {
        fputc('\n', f);
        return;
    }
    fputs("; not reached:", f);
    cJSON_ArrayForEach(n, no)
    {
        fprintf(f, "%s %s", sep, n->valuestring);
        sep = ",";
    }
    fputc('\n', f);
}

static void print_counts(FILE *f, const char *label, const cJSON *m)
{
    const cJSON *n;
    const char *sep = " ";

    fprintf(f, "  %s:", label);
    if (!m || !m->child)
        fputs(" none", f);
    cJSON_ArrayForEach(n, m)
    {
        fprintf(f, "%s%s (%.0f)", sep, n->string, n->valuedouble);
        sep = ", ";
    }
    fputc('\n', f);
}

void xp_cov_print(FILE *f, const cJSON *cov)
{
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(cov, "counts");

    fprintf(f, "coverage of %.0f runs:\n",
            cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cov, "runs")));
    print_names(f, "abilities called", cJSON_GetObjectItemCaseSensitive(cov, "abilities"));
    print_names(f, "SDK APIs invoked", cJSON_GetObjectItemCaseSensitive(cov, "sdk_apis"));
    print_names(f, "event types delivered", cJSON_GetObjectItemCaseSensitive(cov, "event_types"));
    print_counts(f, "errcodes answered to the app",
                 cJSON_GetObjectItemCaseSensitive(counts, "app_errcodes"));
    print_counts(f, "errcodes the SDK answered",
                 cJSON_GetObjectItemCaseSensitive(counts, "sdk_errcodes"));
    print_counts(f, "faults", cJSON_GetObjectItemCaseSensitive(counts, "faults"));
}
