/* test_world_auth: providers, suites, apps' authorisations, departments, tags and scope in
 * world files: every check's sentence, the defaults, and whom a scope covers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "wecom/msgsync.h"
#include "wecom/world.h"

#define KEYDIR ZL_SOURCE_DIR "/fixtures/keys"
#define KEY43  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"

/* Pieces of small inline worlds. */
#define SUITE(id, kind)                                                                            \
    "{\"suite_id\":\"" id "\",\"suite_secret\":\"ss\",\"kind\":\"" kind "\",\"token\":\"t\","      \
    "\"encoding_aes_key\":\"" KEY43 "\"}"
#define PROVIDER(corpid, suites)                                                                   \
    "{\"corpid\":\"" corpid "\",\"name\":\"P\",\"provider_secret\":\"ps\",\"suites\":[" suites "]" \
    "}"
#define SUITES PROVIDER("wwp", SUITE("st", "third_party") "," SUITE("sc", "custom"))
#define WORLD(providers, body)                                                                     \
    "{\"providers\":[" providers "],\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\"" body "}]}"
#define APP(id, extra)                                                                             \
    "{\"agentid\":" #id ",\"name\":\"a\",\"secret\":\"s" #id "\",\"token\":\"t\","                 \
    "\"encoding_aes_key\":\"" KEY43 "\"" extra "}"
#define APPS(list) ",\"apps\":[" list "]"
#define AUTH(body) ",\"auth\":{" body "}"
#define ORG                                                                                        \
    ",\"departments\":[{\"id\":1,\"name\":\"HQ\"},{\"id\":2,\"name\":\"Sales\",\"parentid\":1}],"  \
    "\"members\":[{\"userid\":\"u1\",\"name\":\"U\",\"department\":[2]},"                          \
    "{\"userid\":\"u2\",\"name\":\"V\"}],"                                                         \
    "\"tags\":[{\"tagid\":5,\"tagname\":\"T\",\"userids\":[\"u2\"]}]"
#define TP(extra)   WORLD(SUITES, ORG APPS(APP(7, extra)))
#define CUS(extra)  WORLD(SUITES, ORG APPS(APP(7, ",\"kind\":\"custom\"" extra)))
#define SELF(extra) WORLD(SUITES, ORG APPS(APP(7, ",\"kind\":\"self_built\"" extra)))
#define DEPTS(list) WORLD("", ",\"departments\":[" list "]")

static zl_world *load(const char *json, char *err, size_t errlen)
{
    return zl_world_load_json(json, strlen(json), KEYDIR, err, errlen);
}

/* The derived permanent_code: 32 lower-hex characters of SHA-256(text), computed here. */
static void expected_code(const char *text, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    assert_int_equal(EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

typedef struct bad_world {
    const char *json;
    const char *want; /* a substring of the error */
} bad_world;

static const bad_world BAD[] = {
    /* providers and suites */
    {"{\"providers\":{},\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\"}]}",
     "providers must be an array (got an object)"},
    {WORLD("{\"corpid\":\"wwp\",\"name\":\"P\",\"provider_secret\":\"ps\",\"suits\":[]}", ""),
     "providers[0] has an unknown key \"suits\""},
    {WORLD("{\"corpid\":\"wwp\",\"name\":\"P\"}", ""), "providers[0].provider_secret is missing"},
    {WORLD(PROVIDER("wwp", "") "," PROVIDER("wwp", ""), ""),
     "providers[1].corpid \"wwp\" is already used by providers[0]"},
    {WORLD(PROVIDER("ww1", ""), ""),
     "corps[0].corpid \"ww1\" is already the corpid of providers[0]; a provider's corpid is its "
     "own"},
    {WORLD(PROVIDER("wwp", SUITE("st", "third_party")) "," PROVIDER("wwq", SUITE("st", "custom")),
           ""),
     "providers[1].suites[0].suite_id \"st\" is already used by providers[0].suites[0]"},
    {WORLD(PROVIDER("wwp", SUITE("st", "dk")), ""),
     "providers[0].suites[0].kind must be \"third_party\" or \"custom\" (a 代开发 template) (got "
     "\"dk\")"},
    {WORLD(PROVIDER("wwp", "{\"suite_id\":\"st\",\"suite_secret\":\"ss\",\"token\":\"t\","
                           "\"callback_url\":\"ftp://x\",\"encoding_aes_key\":\"" KEY43 "\"}"),
           ""),
     "providers[0].suites[0].callback_url must be \"\" (the built-in fake provider) or an http:// "
     "or https:// URL"},
    {WORLD(PROVIDER("wwp", "{\"suite_id\":\"st\",\"suite_secret\":\"ss\",\"token\":\"t-1\","
                           "\"encoding_aes_key\":\"" KEY43 "\"}"),
           ""),
     "providers[0].suites[0].token must hold only letters and digits"},
    {WORLD(PROVIDER("wwp", "{\"suite_id\":\"st\",\"suite_secret\":\"ss\",\"token\":\"t\","
                           "\"encoding_aes_key\":\"abc\"}"),
           ""),
     "providers[0].suites[0].encoding_aes_key must be 43 characters (got 3)"},
    {WORLD(PROVIDER("wwp", "{\"suite_id\":\"st\",\"token\":\"t\"}"), ""),
     "providers[0].suites[0].suite_secret is missing"},
    /* an app's suite */
    {TP(",\"suite_id\":\"nope\""),
     "corps[0].apps[0].suite_id \"nope\" is not a suite_id in providers[].suites"},
    {TP(",\"suite_id\":\"sc\""),
     "corps[0].apps[0].suite_id \"sc\" is providers[0].suites[1], of kind \"custom\"; a "
     "third_party app needs a suite of kind \"third_party\""},
    {CUS(",\"suite_id\":\"st\""),
     "corps[0].apps[0].suite_id \"st\" is providers[0].suites[0], of kind \"third_party\"; a "
     "custom app needs a suite of kind \"custom\""},
    {SELF(",\"suite_id\":\"st\""),
     "corps[0].apps[0].suite_id is for third-party and 代开发 apps; a self-built app has no "
     "suite"},
    /* an app's auth */
    {TP(",\"auth\":[]"), "corps[0].apps[0].auth must be an object (got an array)"},
    {TP(AUTH("\"edition\":3")), "corps[0].apps[0].auth has an unknown key \"edition\""},
    {TP(AUTH("\"editions\":[]")),
     "corps[0].apps[0].auth.editions must hold at least one edition (leave it out for the "
     "default: edition 3, paid)"},
    {TP(AUTH("\"editions\":[{\"edition\":4,\"status\":1}]")),
     "corps[0].apps[0].auth.editions[0].edition must be an integer from 1 to 3 (got 4)"},
    {TP(AUTH("\"editions\":[{\"edition\":2,\"status\":8}]")),
     "corps[0].apps[0].auth.editions[0].status must be an integer from 1 to 7 (got 8)"},
    {TP(AUTH("\"editions\":[{\"edition\":2}]")),
     "corps[0].apps[0].auth.editions[0].status is missing"},
    {TP(AUTH("\"editions\":[{\"edition\":2,\"status\":1,\"end\":3}]")),
     "corps[0].apps[0].auth.editions[0] has an unknown key \"end\""},
    {TP(AUTH("\"editions\":[{\"edition\":2,\"status\":1},{\"edition\":2,\"status\":3}]")),
     "corps[0].apps[0].auth.editions[1].edition 2 is already listed as "
     "corps[0].apps[0].auth.editions[0]"},
    {TP(AUTH("\"editions\":[{\"edition\":2,\"status\":1,\"begin_time\":10,\"end_time\":5}]")),
     "corps[0].apps[0].auth.editions[0].end_time 5 is before its begin_time 10"},
    {TP(AUTH("\"editions\":[{\"edition\":2,\"status\":1,\"end_time\":-1}]")),
     "corps[0].apps[0].auth.editions[0].end_time must be an integer from 0 to 253402300799"},
    {TP(AUTH("\"seats\":-1")),
     "corps[0].apps[0].auth.seats must be an integer from 0 to 4294967295 (got -1)"},
    {TP(AUTH("\"msg_duration_days\":100")),
     "corps[0].apps[0].auth.msg_duration_days must be 90, 180, 365 or 730 (got 100)"},
    {TP(AUTH("\"test\":\"yes\"")), "corps[0].apps[0].auth.test must be true or false"},
    {TP(AUTH("\"scope\":{\"users\":[]}")),
     "corps[0].apps[0].auth.scope has an unknown key \"users\""},
    {TP(AUTH("\"scope\":{\"userids\":[\"u1\",\"u9\"]}")),
     "corps[0].apps[0].auth.scope.userids[1] \"u9\" is not a userid in corps[0].members"},
    {TP(AUTH("\"scope\":{\"userids\":[\"u1\",\"u2\",\"u1\"]}")),
     "corps[0].apps[0].auth.scope.userids[2] \"u1\" is already listed as "
     "corps[0].apps[0].auth.scope.userids[0]"},
    {TP(AUTH("\"scope\":{\"userids\":[1]}")),
     "corps[0].apps[0].auth.scope.userids[0] must be a userid string (got a number)"},
    {TP(AUTH("\"scope\":{\"department_ids\":[7]}")),
     "corps[0].apps[0].auth.scope.department_ids[0] 7 is not a department id in "
     "corps[0].departments"},
    {TP(AUTH("\"scope\":{\"department_ids\":[\"1\"]}")),
     "corps[0].apps[0].auth.scope.department_ids[0] must be an integer (got a string)"},
    {TP(AUTH("\"scope\":{\"tag_ids\":[6]}")),
     "corps[0].apps[0].auth.scope.tag_ids[0] 6 is not a tagid in corps[0].tags"},
    {TP(AUTH("\"scope\":{\"tag_ids\":[5,5]}")),
     "corps[0].apps[0].auth.scope.tag_ids[1] 5 is already listed as "
     "corps[0].apps[0].auth.scope.tag_ids[0]"},
    {SELF(AUTH("\"scope\":{}")),
     "corps[0].apps[0].auth.scope is not for a self-built app: a self-built app archives the "
     "corp's own scope (members' in_scope)"},
    {SELF(AUTH("\"seats\":3")), "corps[0].apps[0].auth.seats is not for a self-built app"},
    {SELF(AUTH("\"permanent_code\":\"x\"")),
     "corps[0].apps[0].auth.permanent_code is not for a self-built app"},
    {SELF(AUTH("\"test\":true")), "corps[0].apps[0].auth.test is not for a self-built app"},
    {CUS(AUTH("\"test\":true")),
     "corps[0].apps[0].auth.test is for third-party apps (a test installation); a 代开发 app "
     "may use debug mode when its corp is a provider's test corp (the corp's test_corp)"},
    {CUS(AUTH("\"permanent_code\":\"other\"")),
     "corps[0].apps[0].auth.permanent_code must equal corps[0].apps[0].secret: a 代开发 app's "
     "permanent_code is its secret"},
    {WORLD(SUITES, APPS("{\"agentid\":7,\"name\":\"a\",\"kind\":\"custom\",\"token\":\"t\"}")),
     "corps[0].apps[0].secret is missing"},
    {WORLD(SUITES, APPS(APP(7, AUTH("\"permanent_code\":\"pc\"")) "," APP(
                       8, AUTH("\"permanent_code\":\"pc\"")))),
     "corps[0].apps[1].auth.permanent_code \"pc\" is already the permanent_code of "
     "corps[0].apps[0]; each app needs its own"},
    {WORLD(SUITES,
           APPS(APP(7, AUTH("\"permanent_code\":\"s8\"")) "," APP(8, ",\"kind\":\"custom\""))),
     "corps[0].apps[1].auth.permanent_code \"s8\" is already the permanent_code of "
     "corps[0].apps[0]"},
    {WORLD(SUITES, APPS(APP(7, "") ",{\"agentid\":8,\"name\":\"a\",\"kind\":\"custom\","
                                   "\"token\":\"t\",\"encoding_aes_key\":\"" KEY43 "\","
                                   "\"auth\":{\"permanent_code\":\"s7\"}}")),
     "corps[0].apps[1].secret is already the secret of corps[0].apps[0]"},
    {WORLD(SUITES, APPS(APP(7, AUTH("\"seats\":0")) "," APP(6, "") "," APP(
                       8, ",\"kind\":\"custom\"" AUTH("\"seats\":5")))),
     "corps[0].apps[2].auth.seats 5 differs from corps[0].apps[0].auth.seats 0: a provider's "
     "seats in a corp are shared by all its apps there (give them once)"},
    /* an app's keys */
    {TP(",\"public_keys\":[]"),
     "corps[0].apps[0].public_keys must hold at least one key (leave it out and the corp's "
     "public_keys apply)"},
    {TP(",\"public_keys\":[{\"version\":0,\"pem\":\"x\"}]"),
     "corps[0].apps[0].public_keys[0].version must be an integer from 1 to 4294967295 (got 0)"},
    {TP(",\"public_keys\":[{\"version\":1,\"pem\":\"not a key\"}]"),
     "corps[0].apps[0].public_keys[0].pem is not a PEM public key"},
    {TP(",\"public_keys\":[{\"version\":2,\"pem_file\":\"test_v1_public.pem\"},"
        "{\"version\":2,\"pem_file\":\"test_v2_public.pem\"}]"),
     "corps[0].apps[0].public_keys[1].version must be greater than 2, the version before it"},
    /* the corp's test_corp, departments, members' departments and tags */
    {WORLD("", ",\"test_corp\":\"yes\""),
     "corps[0].test_corp must be true or false (got a string)"},
    {DEPTS("{\"id\":0,\"name\":\"D\"}"),
     "corps[0].departments[0].id must be an integer from 1 to 4294967295 (got 0)"},
    {DEPTS("{\"id\":1}"), "corps[0].departments[0].name is missing"},
    {DEPTS("{\"id\":1,\"name\":\"D\",\"parent\":0}"),
     "corps[0].departments[0] has an unknown key \"parent\""},
    {DEPTS("{\"id\":1,\"name\":\"D\"},{\"id\":1,\"name\":\"E\"}"),
     "corps[0].departments[1].id 1 is already used by corps[0].departments[0]"},
    {DEPTS("{\"id\":1,\"name\":\"D\",\"parentid\":9}"),
     "corps[0].departments[0].parentid 9 is not a department id in corps[0].departments"},
    {DEPTS("{\"id\":1,\"name\":\"D\",\"parentid\":-1}"),
     "corps[0].departments[0].parentid must be an integer from 0 to 4294967295 (got -1)"},
    {DEPTS("{\"id\":1,\"name\":\"D\",\"parentid\":2},{\"id\":2,\"name\":\"E\",\"parentid\":1}"),
     "corps[0].departments[0].parentid 2 makes a cycle: department 1 is its own ancestor"},
    {DEPTS("{\"id\":5,\"name\":\"D\"},{\"id\":3,\"name\":\"E\",\"parentid\":3}"),
     "corps[0].departments[1].parentid 3 makes a cycle: department 3 is its own ancestor"},
    {DEPTS("{\"id\":1,\"name\":\"D\"},{\"id\":2,\"name\":\"E\",\"parentid\":4},"
           "{\"id\":3,\"name\":\"F\",\"parentid\":2},{\"id\":4,\"name\":\"G\",\"parentid\":3}"),
     "corps[0].departments[1].parentid 4 makes a cycle: department 2 is its own ancestor"},
    {WORLD("", ",\"departments\":[{\"id\":1,\"name\":\"D\"}],\"members\":[{\"userid\":\"u1\","
               "\"name\":\"U\",\"department\":[1,4]}]"),
     "corps[0].members[0].department[1] 4 is not a department id in corps[0].departments"},
    {WORLD("", ",\"departments\":[{\"id\":1,\"name\":\"D\"}],\"members\":[{\"userid\":\"u1\","
               "\"name\":\"U\",\"department\":[1,1]}]"),
     "corps[0].members[0].department[1] 1 is already listed as "
     "corps[0].members[0].department[0]"},
    {WORLD("", ",\"members\":[{\"userid\":\"u1\",\"name\":\"U\",\"department\":1}]"),
     "corps[0].members[0].department must be an array (got a number)"},
    {WORLD("", ORG ",\"tags\":[]"), "corps[0].tags appears twice"},
    {WORLD("", ",\"tags\":[{\"tagid\":5,\"tagname\":\"T\"},{\"tagid\":5,\"tagname\":\"U\"}]"),
     "corps[0].tags[1].tagid 5 is already used by corps[0].tags[0]"},
    {WORLD("", ",\"tags\":[{\"tagid\":0,\"tagname\":\"T\"}]"),
     "corps[0].tags[0].tagid must be an integer from 1 to 4294967295 (got 0)"},
    {WORLD("", ",\"tags\":[{\"tagid\":1}]"), "corps[0].tags[0].tagname is missing"},
    {WORLD("", ",\"tags\":[{\"tagid\":1,\"tagname\":\"T\",\"userids\":[\"u9\"]}]"),
     "corps[0].tags[0].userids[0] \"u9\" is not a userid in corps[0].members"},
    {WORLD("", ",\"departments\":[{\"id\":2,\"name\":\"D\"}],\"tags\":[{\"tagid\":1,"
               "\"tagname\":\"T\",\"department_ids\":[2,2]}]"),
     "corps[0].tags[0].department_ids[1] 2 is already listed as "
     "corps[0].tags[0].department_ids[0]"},
    {WORLD("", ",\"tags\":[{\"tagid\":1,\"tagname\":\"T\",\"department_ids\":[3]}]"),
     "corps[0].tags[0].department_ids[0] 3 is not a department id in corps[0].departments"},
};

static void test_world_auth_bad_worlds_name_the_path(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        char err[512];
        zl_world *w;

        memset(err, 'X', sizeof err);
        w = load(BAD[i].json, err, sizeof err);
        if (w != NULL) {
            zl_world_free(w);
            fail_msg("bad world %zu loaded: %s", i, BAD[i].json);
        }
        if (strstr(err, BAD[i].want) == NULL)
            fail_msg("bad world %zu:\n  want: %s\n  got:  %s", i, BAD[i].want, err);
        assert_null(strchr(err, '\n'));
    }
}

/* A derived permanent_code meets a given one, both ways round. */
static void test_world_auth_derived_code_is_unique(void **state)
{
    char err[512], code[33], json[1024];
    zl_world *w;

    (void)state;
    expected_code("st:ww1:8", code);
    snprintf(json, sizeof json,
             WORLD(SUITES, APPS(APP(7, AUTH("\"permanent_code\":\"%s\"")) "," APP(8, ""))), code);
    assert_null(w = load(json, err, sizeof err));
    snprintf(json, sizeof json,
             "corps[0].apps[1].auth.permanent_code \"%s\" (derived from "
             "suite_id, corpid and agentid) is already the permanent_code of corps[0].apps[0]",
             code);
    if (strstr(err, json) == NULL)
        fail_msg("got: %s", err);
    expected_code("st:ww1:7", code);
    snprintf(json, sizeof json,
             WORLD(SUITES, APPS(APP(7, "") "," APP(8, AUTH("\"permanent_code\":\"%s\"")))), code);
    assert_null(w = load(json, err, sizeof err));
    assert_non_null(strstr(err, "corps[0].apps[1].auth.permanent_code \""));
    assert_non_null(strstr(err, "\" is already the permanent_code of corps[0].apps[0]"));
}

/* Suites picked, permanent_codes derived and shared with secrets, editions by default. */
#define TWO_PROVIDERS                                                                              \
    "\"providers\":[" PROVIDER("wwp", SUITE("sc", "custom")) "," PROVIDER(                         \
        "wwq", SUITE("st", "third_party") "," SUITE("st2", "third_party")) "]"
#define APP_DK_CODE                                                                                \
    "{\"agentid\":3,\"name\":\"a\",\"kind\":\"custom\",\"token\":\"t\","                           \
    "\"encoding_aes_key\":\"" KEY43 "\",\"auth\":{\"permanent_code\":\"dk-secret\"}}"
#define AUTH_SELF                                                                                  \
    AUTH("\"editions\":[{\"edition\":2,\"status\":1,\"begin_time\":100,\"end_time\":200}],"        \
         "\"msg_duration_days\":365")
#define AUTH_FULL                                                                                  \
    AUTH("\"editions\":[{\"edition\":1,\"status\":7},{\"edition\":3,\"status\":2,"                 \
         "\"end_time\":9}],\"seats\":0,\"test\":true,\"msg_duration_days\":730,"                   \
         "\"permanent_code\":\"given\"")
#define KEYS_V4  ",\"public_keys\":[{\"version\":4,\"pem_file\":\"test_v2_public.pem\"}]"
#define KIND(k)  ",\"kind\":\"" k "\""
#define APPS_1_2 APP(1, "") "," APP(2, ",\"suite_id\":\"st2\"")
#define APPS_4_5_6                                                                                 \
    APP(4, KIND("custom")) "," APP(5, KIND("self_built") AUTH_SELF) "," APP(6, AUTH_FULL KEYS_V4)
#define CORP_WW1(o) "{\"corpid\":\"ww1\",\"name\":\"c\"" o "}"
#define CORP_WW2(o) "{\"corpid\":\"ww2\",\"name\":\"d\"" o "}"
#define DEFAULTS_WORLD                                                                             \
    "{" TWO_PROVIDERS ",\"corps\":[" CORP_WW1(                                                     \
        ",\"test_corp\":true" APPS(APPS_1_2 "," APP_DK_CODE "," APPS_4_5_6)) "," CORP_WW2("") "]}"

/* One provider's seats in a corp are its apps' there; another provider's are its own. */
#define SEATS_PROVIDERS "\"providers\":[" SUITES "," PROVIDER("wwq", SUITE("sq", "third_party")) "]"
#define SEATS_APPS                                                                                 \
    APP(1, "")                                                                                     \
    "," APP(2, ",\"suite_id\":\"sq\"") "," APP(3, KIND("self_built")) "," APP(                     \
        4, KIND("custom") AUTH("\"seats\":7")) "," APP(5, AUTH("\"seats\":7"))
#define SEATS_WORLD                                                                                \
    "{" SEATS_PROVIDERS                                                                            \
    ",\"corps\":[" CORP_WW1(APPS(SEATS_APPS)) "," CORP_WW2(APPS(APP(9, ""))) "]}"

static void test_world_auth_seats_are_shared(void **state)
{
    char err[512] = "";
    zl_world *w = load(SEATS_WORLD, err, sizeof err);
    zl_corp *c;

    (void)state;
    if (w == NULL)
        fail_msg("%s", err);
    c = zl_world_corp(w, "ww1");
    assert_int_equal(zl_corp_app(c, 1)->auth.seats, 7); /* wwp's, given by 4 and 5 */
    assert_int_equal(zl_corp_app(c, 4)->auth.seats, 7);
    assert_int_equal(zl_corp_app(c, 5)->auth.seats, 7);
    assert_int_equal(zl_corp_app(c, 2)->auth.seats, 0);               /* wwq's */
    assert_int_equal(zl_corp_app(c, 3)->auth.seats, 0);               /* self-built */
    assert_int_equal(zl_world_corp(w, "ww2")->apps[0].auth.seats, 0); /* another corp */
    zl_world_free(w);
}

static void test_world_auth_defaults(void **state)
{
    char err[512] = "", code[33];
    zl_world *w = load(DEFAULTS_WORLD, err, sizeof err);
    zl_corp *c;
    zl_app *a;

    (void)state;
    if (w == NULL)
        fail_msg("%s", err);
    c = zl_world_corp(w, "ww1");
    assert_true(c->test_corp);
    assert_false(zl_world_corp(w, "ww2")->test_corp);
    assert_int_equal(w->provider_count, 2);

    a = zl_corp_app(c, 1); /* third_party, no suite_id: the world's first third_party suite */
    assert_ptr_equal(a->suite, zl_world_suite(w, "st"));
    assert_ptr_equal(a->suite->provider, zl_world_provider(w, "wwq"));
    expected_code("st:ww1:1", code);
    assert_string_equal(a->auth.permanent_code, code);
    assert_string_equal(a->secret, "s1");
    assert_int_equal(a->auth.edition_count, 1);
    assert_int_equal(a->auth.editions[0].edition, ZL_EDITION_VOICE);
    assert_int_equal(a->auth.editions[0].status, ZL_AUTH_PAID);
    assert_int_equal(a->auth.editions[0].begin_time, 0);
    assert_int_equal(a->auth.editions[0].end_time, 0);
    assert_int_equal(a->auth.msg_duration_days, 90);
    assert_int_equal(a->auth.seats, 0);
    assert_false(a->auth.scope_given);
    assert_false(a->auth.test);
    assert_null(a->public_keys);
    assert_int_equal(a->public_key_count, 0);

    a = zl_corp_app(c, 2);
    assert_string_equal(a->suite->suite_id, "st2");
    expected_code("st2:ww1:2", code);
    assert_string_equal(a->auth.permanent_code, code);

    a = zl_corp_app(c, 3); /* 代开发 with only a permanent_code: that is its secret */
    assert_int_equal(a->kind, ZL_APP_CUSTOM);
    assert_string_equal(a->suite->suite_id, "sc");
    assert_int_equal(a->suite->kind, ZL_SUITE_CUSTOM);
    assert_string_equal(a->secret, "dk-secret");
    assert_string_equal(a->auth.permanent_code, "dk-secret");

    a = zl_corp_app(c, 4); /* 代开发 with only a secret */
    assert_string_equal(a->auth.permanent_code, "s4");

    a = zl_corp_app(c, 5); /* self-built: no suite, no permanent_code; its editions */
    assert_null(a->suite);
    assert_null(a->auth.permanent_code);
    assert_int_equal(a->auth.edition_count, 1);
    assert_int_equal(a->auth.editions[0].edition, 2);
    assert_int_equal(a->auth.editions[0].status, ZL_AUTH_TRIAL);
    assert_int_equal(a->auth.editions[0].begin_time, 100);
    assert_int_equal(a->auth.editions[0].end_time, 200);
    assert_int_equal(a->auth.msg_duration_days, 365);

    a = zl_corp_app(c, 6);
    assert_string_equal(a->auth.permanent_code, "given");
    assert_true(a->auth.test);
    assert_int_equal(a->auth.msg_duration_days, 730);
    assert_int_equal(a->auth.edition_count, 2);
    assert_int_equal(a->auth.editions[0].status, ZL_AUTH_PAID_PENDING);
    assert_int_equal(a->auth.editions[1].edition, 3);
    assert_int_equal(a->auth.editions[1].end_time, 9);
    assert_int_equal(a->public_key_count, 1);
    assert_int_equal(a->public_keys[0].version, 4);
    assert_int_equal(strncmp(a->public_keys[0].pem, "-----BEGIN PUBLIC KEY-----", 26), 0);
    zl_world_free(w);
}

/* Without providers a third-party app has no suite; its code is derived with suite_id "". */
static void test_world_auth_no_provider(void **state)
{
    static const char json[] = "{\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\",\"apps\":[" APP(
        7, "") "," APP(8, ",\"kind\":\"custom\"") "]}]}";
    char err[512] = "", code[33];
    zl_world *w = load(json, err, sizeof err);
    zl_corp *c;

    (void)state;
    if (w == NULL)
        fail_msg("%s", err);
    c = &w->corps[0];
    assert_int_equal(w->provider_count, 0);
    assert_null(c->apps[0].suite);
    assert_null(c->apps[1].suite);
    expected_code(":ww1:7", code);
    assert_string_equal(c->apps[0].auth.permanent_code, code);
    assert_string_equal(c->apps[1].auth.permanent_code, "s8");
    assert_null(zl_world_suite(w, "st"));
    assert_null(zl_world_provider(w, "wwp"));
    zl_world_free(w);
}

/* departments 1 > 2 > 3 (3 listed before its parent), 4 alone; tag 9 holds u5 and
 * department 4; members in them, one out of the corp's scope. */
#define SCOPE_ORG                                                                                  \
    ",\"departments\":[{\"id\":3,\"name\":\"Team\",\"parentid\":2},{\"id\":1,\"name\":\"HQ\"},"    \
    "{\"id\":2,\"name\":\"Sales\",\"parentid\":1},{\"id\":4,\"name\":\"Ops\"}],"                   \
    "\"members\":[{\"userid\":\"u1\",\"name\":\"A\",\"department\":[1]},"                          \
    "{\"userid\":\"u2\",\"name\":\"B\",\"department\":[2]},"                                       \
    "{\"userid\":\"u3\",\"name\":\"C\",\"department\":[3],\"in_scope\":false},"                    \
    "{\"userid\":\"u4\",\"name\":\"D\",\"department\":[4]},"                                       \
    "{\"userid\":\"u5\",\"name\":\"E\"},"                                                          \
    "{\"userid\":\"u6\",\"name\":\"F\",\"department\":[4,3]}],"                                    \
    "\"tags\":[{\"tagid\":9,\"tagname\":\"T\",\"userids\":[\"u5\"],\"department_ids\":[4]},"       \
    "{\"tagid\":8,\"tagname\":\"Empty\"}],"                                                        \
    "\"groups\":[{\"chatid\":\"g1\",\"name\":\"G\",\"kind\":\"internal\",\"creator\":\"u1\","      \
    "\"create_time\":1,\"members\":[{\"id\":\"u3\",\"type\":1,\"jointime\":1}]}]"
#define SCOPE_WORLD(scope) WORLD(SUITES, SCOPE_ORG APPS(APP(7, AUTH("\"scope\":" scope))))

/* The userids a scope covers, comma-separated, in member order, into out. */
static void scope_of(const char *scope_json, char *out, size_t outlen)
{
    char err[512] = "";
    zl_world *w = load(scope_json, err, sizeof err);
    zl_corp *c;
    bool in[6];
    size_t n, marked = 0;

    if (w == NULL)
        fail_msg("%s", err);
    c = &w->corps[0];
    assert_int_equal(c->member_count, 6);
    assert_true(c->apps[0].auth.scope_given);
    n = zl_auth_scope_members(c, &c->apps[0].auth, in);
    out[0] = '\0';
    for (size_t i = 0; i < 6; i++)
        if (in[i]) {
            size_t used = strlen(out);

            snprintf(out + used, outlen - used, "%s%s", used ? "," : "", c->members[i].userid);
            marked++;
        }
    assert_int_equal(n, marked);
    zl_world_free(w);
}

static void test_world_auth_scope_members(void **state)
{
    char got[128];

    (void)state;
    scope_of(SCOPE_WORLD("{}"), got, sizeof got);
    assert_string_equal(got, "");
    scope_of(SCOPE_WORLD("{\"department_ids\":[2]}"), got, sizeof got); /* with sub-dept 3 */
    assert_string_equal(got, "u2,u3,u6");
    scope_of(SCOPE_WORLD("{\"department_ids\":[1]}"), got, sizeof got);
    assert_string_equal(got, "u1,u2,u3,u6");
    scope_of(SCOPE_WORLD("{\"department_ids\":[3,1]}"), got, sizeof got);
    assert_string_equal(got, "u1,u2,u3,u6");
    scope_of(SCOPE_WORLD("{\"tag_ids\":[9]}"), got, sizeof got); /* u5, department 4 */
    assert_string_equal(got, "u4,u5,u6");
    scope_of(SCOPE_WORLD("{\"tag_ids\":[8]}"), got, sizeof got);
    assert_string_equal(got, "");
    scope_of(SCOPE_WORLD("{\"userids\":[\"u4\",\"u1\"]}"), got, sizeof got);
    assert_string_equal(got, "u1,u4");
    scope_of(SCOPE_WORLD("{\"userids\":[\"u1\"],\"department_ids\":[3],\"tag_ids\":[8]}"), got,
             sizeof got);
    assert_string_equal(got, "u1,u3,u6");
}

/* A scope without auth.scope is the corp's: in_scope; a zl_scope steers the visibility. */
static void test_world_auth_scope_checks(void **state)
{
    char err[512] = "";
    zl_world *w = load(WORLD(SUITES, SCOPE_ORG APPS(APP(7, ""))), err, sizeof err);
    zl_corp *c;
    bool in[6] = {false};
    zl_scope s = {in, NULL};
    zl_party to = {ZL_PARTY_EMPLOYEE, "u1"};
    zl_message m = {0};

    (void)state;
    if (w == NULL)
        fail_msg("%s", err);
    c = &w->corps[0];
    assert_false(c->apps[0].auth.scope_given);
    assert_int_equal(zl_auth_scope_members(c, &c->apps[0].auth, in), 5);
    assert_false(in[2]); /* u3 is out of the corp's scope */
    assert_int_equal(zl_auth_scope_members(c, NULL, in), 5);
    assert_int_equal(zl_auth_scope_members(NULL, NULL, in), 0);

    /* u3 alone in g1: outside the corp's scope, inside one that names it */
    assert_false(zl_group_in_scope(c, NULL, zl_corp_group(c, "g1")));
    memset(in, 0, sizeof in);
    in[2] = true;
    assert_true(zl_group_in_scope(c, &s, zl_corp_group(c, "g1")));
    assert_true(zl_scope_has(c, &s, zl_corp_member(c, "u3")));
    assert_false(zl_scope_has(c, &s, zl_corp_member(c, "u1")));
    assert_true(zl_scope_has(c, NULL, zl_corp_member(c, "u1")));
    assert_true(zl_scope_has(c, &(zl_scope){NULL, NULL}, zl_corp_member(c, "u1")));
    assert_false(zl_scope_has(c, &s, NULL));
    assert_false(zl_scope_has(NULL, &s, zl_corp_member(c, "u3")));
    {
        zl_member stranger = {.userid = "u3", .in_scope = true};

        assert_false(zl_scope_has(c, &s, &stranger)); /* not one of c's members */
    }

    /* u3 writes to u1, then to u2: visible when either is in the scope */
    m.sender = (zl_party){ZL_PARTY_EMPLOYEE, "u3"};
    m.receivers = &to;
    m.receiver_count = 1;
    m.msgtype = 1;
    assert_true(zl_msg_visible(c, NULL, &m));
    assert_true(zl_msg_visible(c, &s, &m));
    to.id = "u2";
    in[2] = false;
    in[1] = true;
    assert_true(zl_msg_visible(c, &s, &m));
    in[1] = false;
    assert_false(zl_msg_visible(c, &s, &m));
    zl_world_free(w);
}

/* Departments inside a scope: named ones and their sub-departments, a tag's departments;
 * the corp's own scope holds every department. Members under a department. */
static void test_world_auth_scope_departments(void **state)
{
    char err[512] = "";
    zl_world *w = load(SCOPE_WORLD("{\"department_ids\":[2],\"tag_ids\":[9]}"), err, sizeof err);
    zl_corp *c;
    zl_scope s = {NULL, NULL}, corp = {NULL, NULL};

    (void)state;
    if (w == NULL)
        fail_msg("%s", err);
    c = &w->corps[0];
    s.auth = &c->apps[0].auth;
    assert_true(zl_scope_has_department(c, &s, 2));  /* named */
    assert_true(zl_scope_has_department(c, &s, 3));  /* a sub-department of 2 */
    assert_true(zl_scope_has_department(c, &s, 4));  /* tag 9's department */
    assert_false(zl_scope_has_department(c, &s, 1)); /* 2's parent is not inside */
    assert_false(zl_scope_has_department(c, &s, 5)); /* not a department of the corp */
    for (uint32_t id = 1; id <= 4; id++) {
        assert_true(zl_scope_has_department(c, NULL, id));
        assert_true(zl_scope_has_department(c, &corp, id));
    }
    assert_false(zl_scope_has_department(c, NULL, 5));
    assert_false(zl_scope_has_department(NULL, NULL, 1));

    assert_true(zl_member_in_department(c, zl_corp_member(c, "u6"), 3));
    assert_true(zl_member_in_department(c, zl_corp_member(c, "u6"), 1)); /* 3 is under 2, 1 */
    assert_true(zl_member_in_department(c, zl_corp_member(c, "u6"), 4));
    assert_true(zl_member_in_department(c, zl_corp_member(c, "u1"), 1));
    assert_false(zl_member_in_department(c, zl_corp_member(c, "u1"), 2));
    assert_false(zl_member_in_department(c, zl_corp_member(c, "u5"), 1));
    assert_false(zl_member_in_department(c, zl_corp_member(c, "u2"), 5));
    assert_false(zl_member_in_department(c, NULL, 1));
    zl_world_free(w);
}

static void test_world_auth_lookups(void **state)
{
    char err[512] = "";
    zl_world *w = load(WORLD(SUITES, SCOPE_ORG), err, sizeof err);
    zl_corp *c;
    zl_department *d;
    zl_tag *t;

    (void)state;
    if (w == NULL)
        fail_msg("%s", err);
    c = &w->corps[0];
    assert_int_equal(c->department_count, 4);
    d = zl_corp_department(c, 3);
    assert_non_null(d);
    assert_string_equal(d->name, "Team");
    assert_int_equal(d->parentid, 2);
    assert_int_equal(zl_corp_department(c, 1)->parentid, 0);
    assert_null(zl_corp_department(c, 5));
    assert_null(zl_corp_department(c, 0));
    assert_null(zl_corp_department(NULL, 1));
    t = zl_corp_tag(c, 9);
    assert_non_null(t);
    assert_string_equal(t->tagname, "T");
    assert_int_equal(t->userid_count, 1);
    assert_string_equal(t->userids[0], "u5");
    assert_int_equal(t->department_count, 1);
    assert_int_equal(t->department_ids[0], 4);
    assert_int_equal(zl_corp_tag(c, 8)->userid_count, 0);
    assert_null(zl_corp_tag(c, 7));
    assert_null(zl_corp_tag(NULL, 9));
    assert_int_equal(zl_corp_member(c, "u6")->department_count, 2);
    assert_int_equal(zl_corp_member(c, "u6")->departments[1], 3);
    assert_int_equal(zl_corp_member(c, "u5")->department_count, 0);

    assert_string_equal(zl_world_suite(w, "sc")->suite_secret, "ss");
    assert_int_equal(zl_world_suite(w, "sc")->kind, ZL_SUITE_CUSTOM);
    assert_string_equal(zl_world_suite(w, "st")->callback_url, "");
    assert_null(zl_world_suite(w, "nope"));
    assert_null(zl_world_suite(NULL, "st"));
    assert_null(zl_world_suite(w, NULL));
    assert_string_equal(zl_world_provider(w, "wwp")->provider_secret, "ps");
    assert_int_equal(zl_world_provider(w, "wwp")->suite_count, 2);
    assert_null(zl_world_provider(w, "ww1")); /* a corp, not a provider */
    assert_null(zl_world_provider(NULL, "wwp"));
    zl_world_free(w);
}

/* Many departments in one chain, listed leaf first: hashed lookups, a deep scope. */
static void test_world_auth_deep_departments(void **state)
{
    enum { N = 5000 };
    size_t cap = (size_t)N * 64 + 1024, used = 0;
    char *json = malloc(cap), err[512] = "";
    zl_world *w;
    zl_corp *c;
    bool in[2];

    (void)state;
    assert_non_null(json);
    used += (size_t)snprintf(json + used, cap - used,
                             "{\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\",\"departments\":[");
    for (unsigned i = N; i >= 1; i--)
        used += (size_t)snprintf(json + used, cap - used,
                                 "%s{\"id\":%u,\"name\":\"d\",\"parentid\":%u}", i == N ? "" : ",",
                                 i, i - 1);
    used +=
        (size_t)snprintf(json + used, cap - used,
                         "],\"members\":[{\"userid\":\"leaf\",\"name\":\"L\",\"department\":[%u]},"
                         "{\"userid\":\"none\",\"name\":\"N\"}],\"apps\":[" APP(
                             7, AUTH("\"scope\":{\"department_ids\":[1]}")) "]}]}",
                         N);
    assert_true(used < cap);
    w = zl_world_load_json(json, used, NULL, err, sizeof err);
    free(json);
    if (w == NULL)
        fail_msg("%s", err);
    c = &w->corps[0];
    assert_int_equal(c->department_count, N);
    assert_int_equal(zl_corp_department(c, 1234)->parentid, 1233);
    assert_int_equal(zl_auth_scope_members(c, &c->apps[0].auth, in), 1);
    assert_true(in[0]);
    assert_false(in[1]);
    zl_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_world_auth_bad_worlds_name_the_path),
        cmocka_unit_test(test_world_auth_derived_code_is_unique),
        cmocka_unit_test(test_world_auth_seats_are_shared),
        cmocka_unit_test(test_world_auth_defaults),
        cmocka_unit_test(test_world_auth_no_provider),
        cmocka_unit_test(test_world_auth_scope_members),
        cmocka_unit_test(test_world_auth_scope_checks),
        cmocka_unit_test(test_world_auth_scope_departments),
        cmocka_unit_test(test_world_auth_lookups),
        cmocka_unit_test(test_world_auth_deep_departments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
