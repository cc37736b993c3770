/* test_serve: `zonelab serve` as a real process on loopback: start, control face, clean stop. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child;
static unsigned port;

static int start(void **state)
{
    int fds[2];
    FILE *f;
    char line[256] = "";

    (void)state;
    assert_int_equal(pipe(fds), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl(ZONELAB_BIN, ZONELAB_BIN, "serve", "--port", "0", "--seed", "5", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f)); /* printed once it listens */
    fclose(f);
    assert_int_equal(sscanf(line, "zonelab: listening on http://127.0.0.1:%u", &port), 1);
    return 0;
}

static int stop(void **state)
{
    int status = 0;

    (void)state;
    kill(child, SIGTERM);
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) /* the child's stderr is above */
        fail_msg("zonelab serve ended with status %d (signal %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return 0;
}

typedef struct buf {
    char data[65536];
    size_t len;
} buf;

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
    buf *b = ud;

    if (b->len + s * n >= sizeof b->data)
        return 0;
    memcpy(b->data + b->len, p, s * n);
    b->len += s * n;
    b->data[b->len] = '\0';
    return s * n;
}

static cJSON *http(const char *method, const char *path, const char *body, long *status)
{
    CURL *c = curl_easy_init();
    char url[256];
    buf b = {.len = 0};
    struct curl_slist *hdrs = NULL;
    cJSON *j;

    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    j = cJSON_Parse(b.data);
    return j;
}

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void test_serve_clock_moves_and_is_journaled(void **state)
{
    long status;
    cJSON *st = http("GET", "/_zonelab/state", NULL, &status), *r, *j, *last, *e;
    double before;
    char path[96];

    (void)state;
    assert_int_equal(status, 200);
    before = num(st, "clock", "now_ms");
    cJSON_Delete(st);
    r = http("POST", "/_zonelab/clock", "{\"advance\":432000}", &status); /* five days */
    assert_int_equal(status, 200);
    assert_true(num(r, "now_ms", NULL) >= before + 432000000.0);
    cJSON_Delete(r);
    r = http("POST", "/_zonelab/clock", "{\"set\":1}", &status);
    assert_int_equal(status, 409);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    cJSON_Delete(r);
    r = http("POST", "/_zonelab/clock", "{\"advance\":\"soon\"}", &status);
    assert_int_equal(status, 400);
    cJSON_Delete(r);
    r = http("POST", "/_zonelab/clock", "not json", &status);
    assert_int_equal(status, 400);
    cJSON_Delete(r);
    j = http("GET", "/_zonelab/journal?since=0", NULL, &status);
    assert_int_equal(status, 200);
    /* the newest control entry: what the jump set off (the suite_ticket pushes due in those
     * five days, journaled as callbacks) comes after it */
    last = NULL;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "entries"))
    {
        if (!strcmp(cJSON_GetObjectItem(e, "face")->valuestring, "control"))
            last = e;
    }
    assert_non_null(last);
    assert_string_equal(cJSON_GetObjectItem(last, "kind")->valuestring, "clock");
    assert_true(num(last, "to_ms", NULL) - num(last, "from_ms", NULL) == 432000000.0);
    cJSON_Delete(j);
    /* a page of two entries says more follow; a page after the last one is empty */
    j = http("GET", "/_zonelab/journal?since=0&limit=2", NULL, &status);
    assert_int_equal(status, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "entries")), 2);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "more")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    assert_int_equal(num(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "entries"), 1), "seq", NULL), 2);
    snprintf(path, sizeof path, "/_zonelab/journal?since=%.0f", num(j, "last", NULL));
    cJSON_Delete(j);
    j = http("GET", path, NULL, &status);
    assert_int_equal(status, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "entries")), 0);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "more")));
    cJSON_Delete(j);
    j = http("GET", "/_zonelab/journal?since=x", NULL, &status);
    assert_int_equal(status, 400);
    cJSON_Delete(j);
    j = http("GET", "/_zonelab/nothing", NULL, &status);
    assert_int_equal(status, 404);
    cJSON_Delete(j);
    j = http("GET", "/_zonelab/statex", NULL, &status); /* not the state route */
    assert_int_equal(status, 404);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_clock_moves_and_is_journaled),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, start, stop);
}
