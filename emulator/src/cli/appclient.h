/* cli_appclient: the app backend's side of a running emulator, for `zonelab call` and `zonelab
 * app`: which app to act as (from /_zonelab/state), its access_token (gettoken), and POST
 * /cgi-bin/chatdata/<name>. */
#ifndef ZL_CLI_APPCLIENT_H
#define ZL_CLI_APPCLIENT_H

#include <limits.h>
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "cli/http.h"

/* Not errcodes (WeCom's are ints): a reply without one, and no reply at all. */
#define ZL_CLI_NO_ERRCODE  LONG_MIN
#define ZL_CLI_UNREACHABLE (LONG_MIN + 1)

/* The app a command acts as. The strings are borrowed from the state it was picked from. */
typedef struct zl_cli_app_choice {
    const char *corpid;
    const char *secret;
    double agentid;         /* 0 when picked by --secret and the state does not say */
    double public_key_ver;  /* the app's newest key version in the state, 0 for none */
    const char *program_id; /* the first program of the app's corp, or NULL */
} zl_cli_app_choice;

/*
 * Picks the app from the state (GET /_zonelab/state): the one whose secret is `secret`, else
 * the app `agentid` (decimal text) of corp `corpid`, else the first app of corp `corpid`,
 * else of the first corp; any of the three may be NULL. 0, or -1 after saying on c->err which
 * app is missing and which apps there are.
 */
int zl_cli_app_pick(zl_cli_http *c, const cJSON *state, const char *corpid, const char *secret,
                    const char *agentid, zl_cli_app_choice *app);

/* The errcode of an app-API reply, and with json its parsed body (owned, cJSON_Delete; NULL
 * when not JSON); ZL_CLI_NO_ERRCODE when the reply is not one (not HTTP 200, not JSON, no
 * errcode). */
long zl_cli_app_errcode(const zl_cli_reply *r, cJSON **json);

/*
 * GET /cgi-bin/gettoken with app's corpid and secret. Returns the errcode, with the reply in *r
 * and its JSON in *answer (owned), and on 0 the access_token, URL-escaped for a query, in
 * *token (owned, curl_free); or ZL_CLI_UNREACHABLE (said on c->err). A refusal prints the
 * reply to out (indented with pretty), then "gettoken for corp ID answered ..." on c->err.
 */
long zl_cli_app_gettoken(zl_cli_http *c, const zl_cli_app_choice *app, FILE *out, bool pretty,
                         zl_cli_reply *r, cJSON **answer, char **token);

/*
 * POSTs body (a NUL-terminated JSON text) to /cgi-bin/chatdata/<endpoint>?access_token=<token>
 * (token already URL-escaped). Returns the errcode, with the reply in *r and its JSON in
 * *answer (owned); ZL_CLI_UNREACHABLE (said on err); or ZL_CLI_NO_ERRCODE when the reply is
 * not an app-API reply. With out, the reply is printed there first (indented with pretty).
 * Then a reply that is not one, or an errcode other than 0 and `quiet`, is said on err as
 * "<endpoint> answered errcode N".
 */
long zl_cli_app_post(zl_cli_http *c, const char *endpoint, const char *token, const char *body,
                     FILE *out, bool pretty, long quiet, zl_cli_reply *r, cJSON **answer);

#endif
