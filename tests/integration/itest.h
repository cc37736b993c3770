/* itest: what the integration tests share (tests/integration/itest.c). Every helper asserts
 * with CMocka, so a failure stops the test that called it. */
#ifndef ZL_ITEST_H
#define ZL_ITEST_H

#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#define CORP1   "wwzonelab0000001"
#define CORP2   "wwtestcorp000002"
#define SECRET1 "zonelab-demo-secret-1000002"

extern pid_t child;     /* the zonelab serve process */
extern unsigned port;   /* where it listens */
extern char token[128]; /* an access_token of app 1000002 */

/* Starts `zonelab serve ARGS...` (NULL-terminated) and waits for "zonelab: ready"; takes a
 * token. serve_stop sends SIGTERM and asserts a clean exit. */
void serve_start(const char *const *args);
void serve_stop(void);

/* HTTP to the emulator; the reply parsed as JSON (NULL when it is not). mime may be NULL. */
cJSON *http_ex(const char *method, const char *path, const char *body, curl_mime *(*mime)(CURL *),
               long *status);
cJSON *http(const char *method, const char *path, const char *body, long *status);
int errcode_of(const cJSON *j);
const char *str_of(const cJSON *j, const char *key);
void sleep_ms(long ms);

/* App API calls with token (or tok); expect asserts the errcode. */
cJSON *app_with(const char *tok, const char *name, const char *body);
cJSON *app(const char *name, const char *body);
void expect(const char *name, const char *body, int code);
void gettoken(const char *secret, char *out, size_t n);

/* The journal: entries of kind (NULL = all) after since, as a new array; the newest seq. */
cJSON *journal(uint64_t since, const char *kind);
uint64_t journal_last(void);

/* Archives one message (zhangsan to wm_cust_01) through the control face; tok (may be NULL)
 * receives the token of the event it fired. */
void archive(const char *msgid, char *tok, size_t n);
/* The fake app's notifications after since, waiting up to 3 s for count of them. */
cJSON *inbox(uint64_t since, int count);
uint64_t inbox_last(void);

/* Acting as replica 0 of a program from the test process, through libzonesdk. */
cJSON *program_state(const char *program_id);
void become(const char *program_id);
cJSON *sdk(const char *corpid, uint32_t agentid, const char *job_info, const char *api,
           const char *request);
void expect_sdk(const char *api, const char *request, int code);

#endif
