/* itest: what the integration tests share: HTTP to zonelab serve, app calls, the journal,
 * the fake app's inbox, and acting as a program through libzonesdk. */
#define _GNU_SOURCE
#include "itest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zone_sdk.h"

/* ---- HTTP ---- */

typedef struct buf {
    char *data;
    size_t len;
} buf;

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
    buf *b = ud;
    char *nd = realloc(b->data, b->len + s * n + 1);

    if (!nd)
        return 0;
    memcpy(nd + b->len, p, s * n);
    b->data = nd;
    b->len += s * n;
    b->data[b->len] = '\0';
    return s * n;
}

cJSON *http_ex(const char *method, const char *path, const char *body, curl_mime *(*mime)(CURL *),
               long *status)
{
    CURL *c = curl_easy_init();
    char url[1024];
    buf b = {0};
    curl_mime *m = NULL;
    struct curl_slist *hdrs = NULL;
    cJSON *j;

    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) { /* a JSON body, as the faces take it */
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    if (mime) {
        m = mime(c);
        curl_easy_setopt(c, CURLOPT_MIMEPOST, m);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    curl_mime_free(m);
    j = cJSON_Parse(b.data ? b.data : "");
    free(b.data);
    return j;
}

cJSON *http(const char *method, const char *path, const char *body, long *status)
{
    return http_ex(method, path, body, NULL, status);
}

int errcode_of(const cJSON *j)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "errcode");

    assert_true(cJSON_IsNumber(v));
    return v->valueint;
}

const char *str_of(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* An app call with the current token; returns the reply (caller deletes). */
cJSON *app_with(const char *tok, const char *name, const char *body)
{
    char path[512];
    long status;
    cJSON *j;

    snprintf(path, sizeof path, "/cgi-bin/chatdata/%s?access_token=%s", name, tok);
    j = http("POST", path, body, &status);
    assert_int_equal(status, 200);
    assert_non_null(j);
    return j;
}

cJSON *app(const char *name, const char *body)
{
    return app_with(token, name, body);
}

/* Asserts an app call answers code; returns nothing. */
void expect(const char *name, const char *body, int code)
{
    cJSON *j = app(name, body);

    if (errcode_of(j) != code)
        fail_msg("%s %s: expected %d, got %s", name, body, code, cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
}

void gettoken(const char *secret, char *out, size_t n)
{
    char path[256];
    long status;
    cJSON *j;

    snprintf(path, sizeof path, "/cgi-bin/gettoken?corpid=%s&corpsecret=%s",
             !strcmp(secret, "test-secret-2000001") ? CORP2 : CORP1, secret);
    j = http("GET", path, NULL, &status);
    assert_int_equal(errcode_of(j), 0);
    snprintf(out, n, "%s", str_of(j, "access_token"));
    cJSON_Delete(j);
}

/* The journal entries of kind with seq > since. */
cJSON *journal(uint64_t since, const char *kind)
{
    char path[128];
    long status;
    cJSON *j, *out = cJSON_CreateArray(), *e;

    snprintf(path, sizeof path, "/_zonelab/journal?since=%llu&limit=100000",
             (unsigned long long)since);
    j = http("GET", path, NULL, &status);
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "entries"))
    {
        if (!kind || !strcmp(str_of(e, "kind"), kind))
            cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
    }
    cJSON_Delete(j);
    return out;
}

uint64_t journal_last(void)
{
    long status;
    cJSON *j = http("GET", "/_zonelab/journal?since=0&limit=1", NULL, &status);
    uint64_t last = (uint64_t)cJSON_GetObjectItem(j, "last")->valuedouble;

    cJSON_Delete(j);
    return last;
}

void sleep_ms(long ms)
{
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&d, NULL);
}

/* The emulator's state, for a program's secret and the debug token. */
cJSON *program_state(const char *program_id)
{
    long status;
    cJSON *st = http("GET", "/_zonelab/state", NULL, &status), *p, *out = NULL;

    cJSON_ArrayForEach(p, cJSON_GetObjectItem(st, "programs"))
    {
        if (!strcmp(str_of(p, "program_id"), program_id))
            out = cJSON_Duplicate(p, 1);
    }
    cJSON_Delete(st);
    assert_non_null(out);
    return out;
}

/* Acts as replica 0 of program_id from this process (sets the SDK's environment). */
void become(const char *program_id)
{
    cJSON *p = program_state(program_id);
    char url[64], ver[16];

    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    snprintf(ver, sizeof ver, "%d", (int)cJSON_GetObjectItem(p, "secret_ver")->valuedouble);
    setenv("ZONELAB_URL", url, 1);
    setenv("ZONELAB_SECRET", str_of(p, "secret"), 1);
    setenv("ZONELAB_SECRET_VER", ver, 1);
    setenv("ZONELAB_INSTANCE",
           str_of(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "replicas"), 0), "instance"), 1);
    cJSON_Delete(p);
}

/* An SDK call as the current program; returns the reply (asserts the transport worked). */
cJSON *sdk(const char *corpid, uint32_t agentid, const char *job_info, const char *api,
           const char *request)
{
    zone_sdk *s = zone_sdk_new(corpid, agentid, "invoke_sync_msg", job_info);
    char *rsp = NULL, err[256] = "";
    int rc = zone_sdk_invoke(s, api, request, &rsp, err, sizeof err);
    cJSON *j;

    zone_sdk_free(s);
    if (rc != ZONE_OK)
        fail_msg("%s: SDK code %d: %s", api, rc, err);
    j = cJSON_Parse(rsp);
    zone_string_free(rsp);
    assert_non_null(j);
    return j;
}

void expect_sdk(const char *api, const char *request, int code)
{
    cJSON *j = sdk(CORP1, 1000002, "", api, request);

    if (errcode_of(j) != code)
        fail_msg("%s %s: expected %d, got %s", api, request, code, cJSON_PrintUnformatted(j));
    cJSON_Delete(j);
}

/* ---- the emulator process ---- */

pid_t child;
unsigned port;
char token[128];

void serve_start(const char *const *args)
{
    const char *argv[64] = {ZONELAB_BIN, "serve"};
    int fds[2], n = 2;
    FILE *f;
    char line[512];

    while (args[n - 2] && n < 63) {
        argv[n] = args[n - 2];
        n++;
    }
    argv[n] = NULL;
    port = 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    assert_int_equal(pipe(fds), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execv(ZONELAB_BIN, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "zonelab: listening on http://127.0.0.1:%u", &port);
        if (!strcmp(line, "zonelab: ready\n"))
            break;
    }
    assert_true(port > 0);
    /* keep reading (and dropping) what the emulator and its replicas print */
    if (fork() == 0) {
        while (fgets(line, sizeof line, f))
            ;
        _exit(0);
    }
    fclose(f);
    gettoken(SECRET1, token, sizeof token);
}

void serve_stop(void)
{
    int status = 0;

    kill(child, SIGTERM);
    assert_int_equal(waitpid(child, &status, 0), child);
    curl_global_cleanup();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("zonelab serve ended with status %d (signal %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Archives one message and returns the token of the event it fired. */
void archive(const char *msgid, char *tok, size_t n)
{
    char body[512];
    long status;
    cJSON *j, *ev;

    snprintf(body, sizeof body,
             "{\"messages\":[{\"msgid\":\"%s\",\"sender\":{\"type\":1,\"id\":\"zhangsan\"},"
             "\"receivers\":[{\"type\":2,\"id\":\"wm_cust_01\"}],\"msgtype\":1,"
             "\"content\":{\"content\":\"hello\"}}]}",
             msgid);
    j = http("POST", "/_zonelab/messages", body, &status);
    assert_int_equal(status, 200);
    assert_int_equal((int)cJSON_GetObjectItem(j, "archived")->valuedouble, 1);
    ev = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "events"), 0);
    assert_non_null(ev);
    if (tok)
        snprintf(tok, n, "%s", str_of(ev, "token"));
    cJSON_Delete(j);
}

/* The inbox of the built-in fake app after since, waiting up to 3 s for count entries. */
cJSON *inbox(uint64_t since, int count)
{
    char path[128];
    long status;
    int i;

    snprintf(path, sizeof path, "/_zonelab/app/notifications?agentid=1000002&since=%llu",
             (unsigned long long)since);
    for (i = 0; i < 300; i++) {
        cJSON *j = http("GET", path, NULL, &status);
        cJSON *list = cJSON_DetachItemFromObject(j, "notifications");

        cJSON_Delete(j);
        if (cJSON_GetArraySize(list) >= count)
            return list;
        cJSON_Delete(list);
        sleep_ms(10);
    }
    fail_msg("the fake app did not receive %d notifications", count);
    return NULL;
}

uint64_t inbox_last(void)
{
    long status;
    cJSON *j = http("GET", "/_zonelab/app/notifications", NULL, &status);
    uint64_t last = (uint64_t)cJSON_GetObjectItem(j, "last")->valuedouble;

    cJSON_Delete(j);
    return last;
}
