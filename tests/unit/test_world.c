/* test_world: the default world, bad worlds and their error paths, and the message store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "wecom/world.h"

#define DEFAULT_WORLD ZL_SOURCE_DIR "/fixtures/worlds/default.json"
#define KEYDIR        ZL_SOURCE_DIR "/fixtures/keys"

/* Pieces of small inline worlds. */
#define KEY43 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
#define APP(id)                                                                                    \
    "{\"agentid\":" #id ",\"name\":\"a\",\"secret\":\"s" #id "\",\"token\":\"t\","                 \
    "\"encoding_aes_key\":\"" KEY43 "\"}"
#define CORP(body) "{\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\"" body "}]}"
#define PEOPLE                                                                                     \
    ",\"members\":[{\"userid\":\"u1\",\"name\":\"U\"},{\"userid\":\"u2\",\"name\":\"V\"}],"        \
    "\"externals\":[{\"external_userid\":\"wm1\",\"name\":\"W\"}],"                                \
    "\"groups\":[{\"chatid\":\"g1\",\"name\":\"G\",\"kind\":\"internal\",\"creator\":\"u1\","      \
    "\"create_time\":1}]"
#define MSG(id, t, extra)                                                                          \
    "{\"msgid\":\"" id "\",\"sender\":{\"type\":1,\"id\":\"u1\"},"                                 \
    "\"receivers\":[{\"type\":1,\"id\":\"u2\"}],\"send_time\":" #t ",\"msgtype\":1" extra "}"
#define PROGRAM(abilities)                                                                         \
    ",\"apps\":[" APP(7) "],\"programs\":[{\"program_id\":\"p1\",\"role\":\"program\","            \
                         "\"agentids\":[7],\"abilities\":[" abilities "]}]"

/* lower hex of the first 16 bytes of SHA-256(a || b), computed here independently. */
static void expected_secret(const char *a, const char *b, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, a, strlen(a)), 1);
    assert_int_equal(EVP_DigestUpdate(ctx, b, strlen(b)), 1);
    assert_int_equal(EVP_DigestFinal_ex(ctx, md, &len), 1);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static zl_world *load(const char *json, char *err, size_t errlen)
{
    return zl_world_load_json(json, strlen(json), KEYDIR, err, errlen);
}

static void test_world_default_loads(void **state)
{
    char err[512] = "";
    zl_world *w = zl_world_load_file(DEFAULT_WORLD, err, sizeof err);
    zl_corp *c;
    zl_app *app;
    zl_program *p;
    zl_ability *b;
    const zl_public_key *key;
    const zl_message *m;
    char secret[33];
    long i;

    (void)state;
    if (w == NULL)
        fail_msg("default world: %s", err);
    assert_int_equal(w->corp_count, 1);
    c = zl_world_corp(w, "wwzonelab0000001");
    assert_non_null(c);
    assert_string_equal(c->name, "zonelab demo corp");
    assert_null(zl_world_corp(w, "wwnope"));

    app = zl_corp_app(c, 1000002);
    assert_non_null(app);
    assert_string_equal(app->token, "zonelabtoken");
    assert_string_equal(app->callback_url, "");
    assert_int_equal(strlen(app->encoding_aes_key), 43);
    assert_true(app->data_permission);
    assert_true(app->secret[0] != '\0');
    assert_null(zl_corp_app(c, 1000003));
    /* its provider's suite, its auth by default: paid edition 3, the corp's scope, keys */
    assert_int_equal(w->provider_count, 1);
    assert_ptr_equal(app->suite, zl_world_suite(w, "wwzonelabsuite0001"));
    assert_int_equal(app->suite->kind, ZL_SUITE_THIRD_PARTY);
    assert_string_equal(app->suite->callback_url, "");
    assert_ptr_equal(app->suite->provider, zl_world_provider(w, "wwzonelabprovider1"));
    assert_int_equal(app->auth.edition_count, 1);
    assert_int_equal(app->auth.editions[0].edition, ZL_EDITION_VOICE);
    assert_int_equal(app->auth.editions[0].status, ZL_AUTH_PAID);
    assert_false(app->auth.scope_given);
    assert_int_equal(app->auth.permanent_code[0] != '\0', 1);
    assert_int_equal(app->public_key_count, 0);
    assert_true(app->auth.test); /* a test installation: debug mode works out of the box */
    assert_false(c->test_corp);
    assert_int_equal(c->department_count, 2);
    assert_int_equal(zl_corp_department(c, 2)->parentid, 1);
    assert_int_equal(zl_corp_member(c, "lisi")->departments[0], 2);
    assert_int_equal(zl_corp_tag(c, 1)->userid_count, 1);

    p = zl_corp_program(c, "zone-demo");
    assert_non_null(p);
    assert_int_equal(p->role, ZL_ROLE_PROGRAM);
    assert_int_equal(p->replicas, 1);
    assert_string_equal(p->debug_url, "");
    assert_true(zl_program_has_agent(p, 1000002));
    assert_false(zl_program_has_agent(p, 1));
    assert_true(p->ability_count >= 12);
    {
        static const char *const chat[] = {"invoke_get_group_chat",
                                           "invoke_get_agree_status_single",
                                           "invoke_get_agree_status_room",
                                           "invoke_search_chat",
                                           "invoke_search_msg",
                                           "invoke_search_contact_or_customer",
                                           "invoke_set_hide_sensitiveinfo_config",
                                           "invoke_get_hide_sensitiveinfo_config"};

        for (size_t k = 0; k < sizeof chat / sizeof chat[0]; k++)
            if (zl_program_ability(p, chat[k]) == NULL)
                fail_msg("the default world has no ability %s", chat[k]);
    }
    b = zl_program_ability(p, "invoke_get_agree_status_single");
    assert_string_equal(
        b->input_protocol,
        "{\"item\":[{\"userid\":\"\",\"open_userid\":\"\",\"external_userid\":\"\"}]}");
    b = zl_program_ability(p, "invoke_sync_msg");
    assert_non_null(b);
    assert_string_equal(b->input_protocol,
                        "{\"cursor\":\"\",\"limit\":0,\"token\":\"\",\"mode\":0,\"begin_time\":0}");
    assert_non_null(strstr(b->output_protocol, "\"page_id_list\":[\"\"]"));
    assert_non_null(strstr(b->output_protocol, "\"call_duration\":0"));
    assert_non_null(zl_program_ability(p, "invoke_get_msg_list_by_page_id"));
    b = zl_program_ability(p, "get_callback_data");
    assert_non_null(b);
    assert_string_equal(b->input_protocol, "{}");
    assert_non_null(strstr(b->output_protocol, "\"knowledge_base_learn_done\""));
    assert_non_null(strstr(b->output_protocol, "\"unauth_knowledge_base\""));
    assert_non_null(strstr(b->output_protocol, "\"delete_knowledge_base\""));
    assert_non_null(zl_program_ability(p, "new_messages_digest"));
    assert_null(zl_program_ability(p, "nope"));

    assert_int_equal(c->member_count, 3);
    assert_string_equal(zl_corp_member(c, "lisi")->name, "Li Si");
    assert_int_equal(zl_corp_member(c, "wangwu")->edition, 3);
    assert_true(zl_corp_member(c, "zhangsan")->in_scope);
    assert_null(zl_corp_member(c, "zhaoliu"));
    assert_string_equal(zl_corp_member(c, "zhangsan")->alias, "Sam Zhang");
    assert_string_equal(zl_corp_member(c, "wangwu")->alias, "");
    assert_string_equal(zl_corp_member(c, "lisi")->name_pinyin, "lisi");
    assert_int_equal(c->external_count, 2);
    assert_string_equal(zl_corp_external(c, "wm_cust_01")->corp_name, "Harbour Trading Co");
    assert_string_equal(zl_corp_external(c, "wm_cust_02")->corp_name, "");
    assert_string_equal(zl_corp_external(c, "wm_cust_01")->remark, "Harbour buyer");
    assert_int_equal(zl_corp_external(c, "wm_cust_02")->follow_user_count, 2);
    assert_string_equal(zl_corp_external(c, "wm_cust_02")->follow_users[1], "zhangsan");
    assert_int_equal(c->consent_count, 3);
    {
        const zl_consent *d = zl_corp_consent(c, "zhangsan", NULL, "wm_cust_01");

        assert_non_null(d);
        assert_true(d->agree);
        assert_int_equal(d->change_time, 1793667600);
        assert_null(d->chatid);
        assert_false(zl_corp_consent(c, "lisi", NULL, "wm_cust_02")->agree);
        assert_null(zl_corp_consent(c, "zhangsan", NULL, "wm_cust_02")); /* undecided */
        d = zl_corp_consent(c, NULL, "wr_customer_01", "wm_cust_01");
        assert_non_null(d);
        assert_null(d->userid);
        assert_null(zl_corp_consent(c, NULL, "wr_customer_01", "wm_cust_02"));
        /* a 1:1 decision is not a group's, and a lookup needs exactly one of the two */
        assert_null(zl_corp_consent(c, NULL, "zhangsan", "wm_cust_01"));
        assert_null(zl_corp_consent(c, "zhangsan", "wr_customer_01", "wm_cust_01"));
    }
    assert_int_equal(c->group_count, 2);
    assert_int_equal(zl_corp_group(c, "wr_internal_01")->kind, ZL_GROUP_INTERNAL);
    assert_int_equal(zl_corp_group(c, "wr_customer_01")->kind, ZL_GROUP_CUSTOMER);
    assert_string_equal(zl_corp_group(c, "wr_customer_01")->creator, "lisi");
    assert_int_equal(zl_corp_group(c, "wr_customer_01")->member_count, 4);

    key = zl_corp_newest_key(c);
    assert_non_null(key);
    assert_int_equal(key->version, 1);
    assert_int_equal(strncmp(key->pem, "-----BEGIN PUBLIC KEY-----", 26), 0);
    assert_int_equal(strlen(key->pem), key->pem_len);

    assert_true(zl_msgstore_count(c->messages) >= 20);
    for (size_t k = 0; k < zl_msgstore_count(c->messages); k++) {
        m = zl_msgstore_at(c->messages, k);
        assert_int_equal(m->seq, k + 1);
        assert_true(m->send_time >= 1793505600 && m->send_time < 1796184000); /* 2026-11 +08 */
        if (k > 0)
            assert_true(m->send_time >= zl_msgstore_at(c->messages, k - 1)->send_time);
        assert_true(m->msgtype >= 0 && m->msgtype <= ZL_MSGTYPE_MAX);
        assert_true(m->receiver_count >= 1);
    }
    assert_null(zl_msgstore_at(c->messages, zl_msgstore_count(c->messages)));
    i = zl_msgstore_find(c->messages, "msg_0001");
    assert_true(i >= 0);
    m = zl_msgstore_at(c->messages, (size_t)i);
    assert_string_equal(m->chatid, "");
    assert_int_equal(m->sender.type, ZL_PARTY_EMPLOYEE);
    assert_string_equal(m->sender.id, "zhangsan");
    expected_secret("wwzonelab0000001", "msg_0001", secret);
    assert_string_equal(m->secret_key, secret);
    m = zl_msgstore_at(c->messages, (size_t)zl_msgstore_find(c->messages, "msg_0010"));
    assert_string_equal(m->secret_key, "zonelabFixedSecretKey00000000010");
    m = zl_msgstore_at(c->messages, (size_t)zl_msgstore_find(c->messages, "msg_0012"));
    assert_int_equal(m->msgtype, 21);
    assert_int_equal(m->call_duration, 180);
    m = zl_msgstore_at(c->messages, (size_t)zl_msgstore_find(c->messages, "msg_0021"));
    assert_string_equal(m->content, "{}");
    m = zl_msgstore_at(c->messages, (size_t)zl_msgstore_find(c->messages, "msg_0005"));
    assert_int_equal(m->sender.type, ZL_PARTY_ROBOT);
    assert_string_equal(m->chatid, "wr_internal_01");
    assert_int_equal(zl_msgstore_find(c->messages, "msg_9999"), -1);
    zl_world_free(w);
}

typedef struct bad_world {
    const char *json;
    const char *want; /* a substring of the error */
} bad_world;

static const bad_world BAD[] = {
    {"{\"corps\":[{\"corpid\":\"ww1\",}]}", "the world is not valid JSON near line 1, column 28"},
    {CORP("") " x", "the world has text after its JSON object"},
    {"{\"corps\":[]}", "corps must hold at least one corp"},
    {"{\"corp\":[]}", "the world has an unknown key \"corp\""},
    {CORP(",\"name\":\"again\""), "corps[0].name appears twice"},
    {CORP(",\"apps\":[{\"agentid\":1,\"name\":\"a\",\"secret\":\"s\",\"tokn\":\"t\"}]"),
     "corps[0].apps[0] has an unknown key \"tokn\""},
    {CORP(",\"apps\":[" APP(
         1) ",{\"agentid\":2,\"name\":\"a\",\"secret\":\"s2\",\"token\":\"t\","
            "\"encoding_aes_key\":\"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP\"}]"),
     "corps[0].apps[1].encoding_aes_key must be 43 characters (got 42)"},
    {CORP(",\"apps\":[{\"agentid\":2,\"name\":\"a\",\"secret\":\"s2\",\"token\":\"t\","
          "\"encoding_aes_key\":\"abcd+fghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ\"}]"),
     "corps[0].apps[0].encoding_aes_key must hold only letters and digits (character 5 is '+')"},
    {CORP(",\"apps\":[{\"agentid\":\"7\",\"name\":\"a\"}]"),
     "corps[0].apps[0].agentid must be an integer (got a string)"},
    {CORP(",\"apps\":[{\"agentid\":7,\"name\":\"a\"}]"), "corps[0].apps[0].secret is missing"},
    {CORP(",\"apps\":[" APP(7) "," APP(7) "]"),
     "corps[0].apps[1].agentid 7 is already used by corps[0].apps[0]"},
    {"{\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\",\"apps\":[" APP(
         7) "]},"
            "{\"corpid\":\"ww2\",\"name\":\"d\",\"apps\":[" APP(7) "]}]}",
     "corps[1].apps[0].secret is already the secret of corps[0].apps[0]"},
    {CORP(",\"apps\":[{\"agentid\":7,\"name\":\"a\",\"secret\":\"s\",\"token\":\"t\","
          "\"callback_url\":\"ftp://x\",\"encoding_aes_key\":\"" KEY43 "\"}]"),
     "corps[0].apps[0].callback_url must be \"\" (the built-in fake app) or an http://"},
    {"{\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\"},{\"corpid\":\"ww1\",\"name\":\"d\"}]}",
     "corps[1].corpid \"ww1\" is already used by corps[0]"},
    {CORP(",\"apps\":[" APP(7) "],\"programs\":[{\"program_id\":\"p1\",\"role\":\"program\"},"
                               "{\"program_id\":\"p1\",\"role\":\"model\"}]"),
     "corps[0].programs[1].program_id \"p1\" is already used by corps[0].programs[0]"},
    {CORP(",\"programs\":[{\"program_id\":\"p1\",\"role\":\"program\",\"debug_url\":\"ftp://x\"}]"),
     "corps[0].programs[0].debug_url must be \"\" (none) or an http:// or https:// URL"},
    {CORP(",\"programs\":[{\"program_id\":\"p1\",\"role\":\"program\",\"debug_url\":\"http://\"}]"),
     "corps[0].programs[0].debug_url must be"},
    {CORP(",\"programs\":[{\"program_id\":\"p1\",\"role\":\"robot\"}]"),
     "corps[0].programs[0].role must be \"program\" or \"model\" (got \"robot\")"},
    {CORP(",\"apps\":[" APP(7) "],\"programs\":[{\"program_id\":\"p1\",\"role\":\"program\","
                               "\"agentids\":[7,8]}]"),
     "corps[0].programs[0].agentids[1] 8 is not an agentid in corps[0].apps"},
    {CORP(PROGRAM("{\"ability_id\":\"a\",\"input_protocol\":{},\"output_protocol\":{}},"
                  "{\"ability_id\":\"a\",\"input_protocol\":{},\"output_protocol\":{}}")),
     "corps[0].programs[0].abilities[1].ability_id \"a\" is already used by "
     "corps[0].programs[0].abilities[0]"},
    {CORP(PROGRAM("{\"ability_id\":\"a\",\"input_protocol\":[1],\"output_protocol\":{}}")),
     "corps[0].programs[0].abilities[0].input_protocol must be a JSON object (got an array); "
     "WeCom refuses such a protocol example with errcode 790012"},
    {CORP(PROGRAM("{\"ability_id\":\"a\",\"input_protocol\":{},\"output_protocol\":\"{oops\"}")),
     "corps[0].programs[0].abilities[0].output_protocol must be a JSON object (got a string that "
     "is not the JSON text of one); WeCom refuses such a protocol example with errcode 790012"},
    {CORP(",\"members\":[{\"userid\":\"u1\",\"name\":\"U\",\"edition\":4}]"),
     "corps[0].members[0].edition must be an integer from 1 to 3 (got 4)"},
    {CORP(",\"members\":[{\"userid\":\"u1\",\"name\":\"U\"},{\"userid\":\"u1\",\"name\":\"V\"}]"),
     "corps[0].members[1].userid \"u1\" is already used by corps[0].members[0]"},
    {CORP(",\"members\":[{\"userid\":\"u1\",\"name\":\"U\",\"in_scope\":1}]"),
     "corps[0].members[0].in_scope must be true or false (got a number)"},
    {CORP(",\"externals\":[{\"external_userid\":\"wm1\",\"name\":\"W\"},"
          "{\"external_userid\":\"wm1\",\"name\":\"X\"}]"),
     "corps[0].externals[1].external_userid \"wm1\" is already used by corps[0].externals[0]"},
    {CORP(PEOPLE ",\"_note\":1,\"groups\":[]"), "corps[0].groups appears twice"},
    {CORP(",\"members\":[{\"userid\":\"u1\",\"name\":\"U\"}],\"externals\":[{\"external_"
          "userid\":\"wm1\",\"name\":\"W\",\"follow_users\":[\"u1\",\"u9\"]}]"),
     "corps[0].externals[0].follow_users[1] \"u9\" is not a userid in corps[0].members"},
    {CORP(",\"members\":[{\"userid\":\"u1\",\"name\":\"U\"}],\"externals\":[{\"external_"
          "userid\":\"wm1\",\"name\":\"W\",\"follow_users\":[\"u1\",\"u1\"]}]"),
     "corps[0].externals[0].follow_users[1] \"u1\" is already listed as "
     "corps[0].externals[0].follow_users[0]"},
    {CORP(",\"externals\":[{\"external_userid\":\"wm1\",\"name\":\"W\",\"follow_users\":[1]}]"),
     "corps[0].externals[0].follow_users[0] must be a userid string (got a number)"},
    {CORP(",\"members\":[{\"userid\":\"u1\",\"name\":\"U\",\"alias\":7}]"),
     "corps[0].members[0].alias must be a string (got a number)"},
    {CORP(PEOPLE ",\"consents\":[{\"userid\":\"u1\",\"external_userid\":\"wm1\","
                 "\"status\":\"Agree\",\"change_time\":1,\"chat\":\"g1\"}]"),
     "corps[0].consents[0] has an unknown key \"chat\""},
    {CORP(PEOPLE ",\"consents\":[{\"external_userid\":\"wm1\",\"status\":\"Agree\","
                 "\"change_time\":1}]"),
     "corps[0].consents[0] needs exactly one of userid (a 1:1 chat) and chatid (a group)"},
    {CORP(PEOPLE ",\"consents\":[{\"userid\":\"u1\",\"chatid\":\"g1\",\"external_userid\":"
                 "\"wm1\",\"status\":\"Agree\",\"change_time\":1}]"),
     "corps[0].consents[0] needs exactly one of userid (a 1:1 chat) and chatid (a group)"},
    {CORP(PEOPLE ",\"consents\":[{\"userid\":\"u9\",\"external_userid\":\"wm1\","
                 "\"status\":\"Agree\",\"change_time\":1}]"),
     "corps[0].consents[0].userid \"u9\" is not a userid in corps[0].members"},
    {CORP(PEOPLE ",\"consents\":[{\"userid\":\"u1\",\"external_userid\":\"wm9\","
                 "\"status\":\"Agree\",\"change_time\":1}]"),
     "corps[0].consents[0].external_userid \"wm9\" is not an external_userid in "
     "corps[0].externals"},
    {CORP(PEOPLE ",\"consents\":[{\"chatid\":\"g9\",\"external_userid\":\"wm1\","
                 "\"status\":\"Agree\",\"change_time\":1}]"),
     "corps[0].consents[0].chatid \"g9\" is not a chatid in corps[0].groups"},
    {CORP(PEOPLE ",\"consents\":[{\"chatid\":\"g1\",\"external_userid\":\"wm1\","
                 "\"status\":\"Agree\",\"change_time\":1}]"),
     "corps[0].consents[0].external_userid \"wm1\" is not an external member (type 2) of group "
     "\"g1\""},
    {CORP(PEOPLE ",\"consents\":[{\"userid\":\"u1\",\"external_userid\":\"wm1\","
                 "\"status\":\"agree\",\"change_time\":1}]"),
     "corps[0].consents[0].status must be \"Agree\" or \"Disagree\" (got \"agree\")"},
    {CORP(PEOPLE ",\"consents\":[{\"userid\":\"u1\",\"external_userid\":\"wm1\","
                 "\"status\":\"Agree\"}]"),
     "corps[0].consents[0].change_time is missing"},
    {CORP(PEOPLE ",\"consents\":[{\"userid\":\"u1\",\"external_userid\":\"wm1\","
                 "\"status\":\"Agree\",\"change_time\":1},{\"userid\":\"u1\","
                 "\"external_userid\":\"wm1\",\"status\":\"Disagree\",\"change_time\":2}]"),
     "corps[0].consents[1] decides the same userid and external_userid as corps[0].consents[0]"},
    {CORP(",\"members\":[{\"userid\":\"u1\",\"name\":\"U\"}],\"groups\":[{\"chatid\":\"g1\","
          "\"name\":\"G\",\"kind\":\"internal\",\"creator\":\"u1\",\"create_time\":1},"
          "{\"chatid\":\"g1\",\"name\":\"H\",\"kind\":\"customer\",\"creator\":\"u1\","
          "\"create_time\":1}]"),
     "corps[0].groups[1].chatid \"g1\" is already used by corps[0].groups[0]"},
    {CORP(",\"groups\":[{\"chatid\":\"g1\",\"name\":\"G\",\"kind\":\"internal\",\"creator\":"
          "\"u9\",\"create_time\":1}]"),
     "corps[0].groups[0].creator \"u9\" is not a userid in corps[0].members"},
    {CORP(",\"members\":[{\"userid\":\"u1\",\"name\":\"U\"}],\"groups\":[{\"chatid\":\"g1\","
          "\"name\":\"G\",\"kind\":\"internal\",\"creator\":\"u1\",\"create_time\":1,"
          "\"members\":[{\"id\":\"wm9\",\"type\":2,\"jointime\":1}]}]"),
     "corps[0].groups[0].members[0].id \"wm9\" is not an external_userid in corps[0].externals"},
    {CORP(",\"public_keys\":[{\"version\":2,\"pem_file\":\"test_v1_public.pem\"},"
          "{\"version\":2,\"pem_file\":\"test_v2_public.pem\"}]"),
     "corps[0].public_keys[1].version must be greater than 2, the version before it (got 2)"},
    {CORP(",\"public_keys\":[{\"version\":0,\"pem\":\"x\"}]"),
     "corps[0].public_keys[0].version must be an integer from 1 to 4294967295 (got 0)"},
    {CORP(",\"public_keys\":[{\"version\":1}]"),
     "corps[0].public_keys[0] needs exactly one of pem and pem_file"},
    {CORP(",\"public_keys\":[{\"version\":1,\"pem\":\"not a key\"}]"),
     "corps[0].public_keys[0].pem is not a PEM public key"},
    {CORP(",\"public_keys\":[{\"version\":1,\"pem_file\":\"ec_public.pem\"}]"),
     "corps[0].public_keys[0].pem_file \"ec_public.pem\" is not an RSA key"},
    {CORP(",\"public_keys\":[{\"version\":1,\"pem_file\":\"rsa1024_public.pem\"}]"),
     "corps[0].public_keys[0].pem_file \"rsa1024_public.pem\" is an RSA-1024 key; WeCom wants "
     "RSA-2048"},
    {CORP(",\"public_keys\":[{\"version\":1,\"pem_file\":\"missing.pem\"}]"),
     "corps[0].public_keys[0].pem_file \"missing.pem\" cannot be opened"},
    {CORP(PEOPLE ",\"messages\":[" MSG("m1", 100, "") "," MSG("m1", 200, "") "]"),
     "corps[0].messages[1].msgid \"m1\" is already archived (seq 1)"},
    {CORP(PEOPLE ",\"messages\":[{\"msgid\":\"m1\",\"sender\":{\"type\":1,\"id\":\"nobody\"},"
                 "\"receivers\":[{\"type\":1,\"id\":\"u2\"}],\"send_time\":1,\"msgtype\":1}]"),
     "corps[0].messages[0].sender.id \"nobody\" is not a userid in corps[0].members"},
    {CORP(PEOPLE ",\"messages\":[" MSG(
         "m0", 1,
         "") ",{\"msgid\":\"m1\",\"sender\":{\"type\":2,"
             "\"id\":\"wm1\"},\"receivers\":[{\"type\":1,\"id\":\"u1\"},{\"type\":2,\"id\":"
             "\"wm2\"}],\"send_time\":1,\"msgtype\":1}]"),
     "corps[0].messages[1].receivers[1].id \"wm2\" is not an external_userid in "
     "corps[0].externals"},
    {CORP(PEOPLE ",\"messages\":[" MSG("m1", 1, ",\"chatid\":\"g2\"") "]"),
     "corps[0].messages[0].chatid \"g2\" is not a chatid in corps[0].groups"},
    {CORP(PEOPLE ",\"messages\":[" MSG("m1", 1, ",\"msgtype\":1") "]"),
     "corps[0].messages[0].msgtype appears twice"},
    {CORP(PEOPLE ",\"messages\":[{\"msgid\":\"m1\",\"sender\":{\"type\":1,\"id\":\"u1\"},"
                 "\"receivers\":[],\"send_time\":1,\"msgtype\":1}]"),
     "corps[0].messages[0].receivers must hold at least one receiver"},
    {CORP(PEOPLE ",\"messages\":[" MSG("m1", 1, ",\"call_duration\":5") "]"),
     "corps[0].messages[0].call_duration is only for msgtype 21 and 22"},
    {CORP(PEOPLE ",\"messages\":[" MSG("m1", 1, ",\"content\":\"[1,2]\"") "]"),
     "corps[0].messages[0].content must be the JSON text of an object"},
    {CORP(PEOPLE ",\"messages\":[" MSG("m1", 1, ",\"content\":[1]") "]"),
     "corps[0].messages[0].content must be a JSON object, or a string holding one (got an array)"},
    {CORP(PEOPLE ",\"messages\":[" MSG("m1", -1, "") "]"),
     "corps[0].messages[0].send_time must be an integer from 0 to 253402300799 (got -1)"},
    {CORP(PEOPLE ",\"messages\":[" MSG("m1", 1, ",\"sender\":{\"type\":4,\"id\":\"u1\"}") "]"),
     "corps[0].messages[0].sender appears twice"},
};

static void test_world_bad_worlds_name_the_path(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        char err[512];
        zl_world *w;
        const char *want = BAD[i].want;

        memset(err, 'X', sizeof err);
        w = load(BAD[i].json, err, sizeof err);
        if (w != NULL) {
            zl_world_free(w);
            fail_msg("bad world %zu loaded: %s", i, BAD[i].json);
        }
        if (strstr(err, want) == NULL)
            fail_msg("bad world %zu:\n  want: %s\n  got:  %s", i, want, err);
        assert_null(strchr(err, '\n')); /* one sentence, one line */
    }
}

/* Fails in the very last message archived, after everything else was built. */
#define LATE_FAILURE                                                                               \
    CORP(PEOPLE ",\"apps\":[" APP(                                                                 \
        7) "],"                                                                                    \
           "\"public_keys\":[{\"version\":1,\"pem_file\":\"test_v1_public.pem\"}],"                \
           "\"messages\":[" MSG("m1", 5, "") "," MSG("m2", 6, ",\"call_duration\":3") "]")
#define RELATIVE_PEM CORP(",\"public_keys\":[{\"version\":1,\"pem_file\":\"x.pem\"}]")

static void test_world_bad_world_never_half_loads(void **state)
{
    char err[256] = "";

    (void)state;
    assert_null(load(LATE_FAILURE, err, sizeof err)); /* ASan's leak check sees the cleanup */
    assert_string_equal(err, "corps[0].messages[1].call_duration is only for msgtype 21 and 22 "
                             "(this message has msgtype 1)");
    assert_null(zl_world_load_json(LATE_FAILURE, strlen(LATE_FAILURE), KEYDIR, NULL, 0));
    assert_null(zl_world_load_json("", 0, NULL, err, sizeof err));
    assert_non_null(strstr(err, "the world is empty"));
    /* A relative pem_file needs a folder. */
    assert_null(zl_world_load_json(RELATIVE_PEM, strlen(RELATIVE_PEM), NULL, err, sizeof err));
    assert_non_null(strstr(err, "is relative but the world was not loaded from a file"));
}

static void test_world_load_file_errors(void **state)
{
    char err[512] = "";

    (void)state;
    assert_null(zl_world_load_file("/nonexistent/zonelab/world.json", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/zonelab/world.json"));
    assert_null(zl_world_load_file(KEYDIR "/test_v1_public.pem", err, sizeof err));
    assert_non_null(strstr(err, "the world is not valid JSON near line 1, column 1"));
}

/* Messages out of order in the file; protocols and contents in both accepted forms. */
#define SMALL_PROGRAM                                                                              \
    ",\"programs\":[{\"program_id\":\"p1\",\"role\":\"model\",\"_x\":0,\"replicas\":3,"            \
    "\"debug_url\":\"https://dev.example:8443/"                                                    \
    "zone\",\"agentids\":[7],\"abilities\":[{\"ability_id\":\"a\","                                \
    "\"input_protocol\":\" { \\\"k\\\" : [ 1 ] } \",\"output_protocol\":{\"o\": {\"p\": "          \
    "true}}}]}]"
#define SMALL_KEYS                                                                                 \
    ",\"public_keys\":[{\"version\":3,\"pem_file\":\"test_v1_public.pem\"},"                       \
    "{\"version\":9,\"pem_file\":\"" KEYDIR "/test_v2_public.pem\"}]"
#define SMALL_MESSAGES                                                                             \
    ",\"messages\":[" MSG("m1", 300, "") "," MSG(                                                  \
        "m2", 100, ",\"content\":\" {\\\"a\\\": 1} \"") "," MSG("m3", 200,                         \
                                                                ",\"content\":{\"b\": [1, "        \
                                                                "2]}") "," MSG("m4", 100,          \
                                                                               ",\"secret_"        \
                                                                               "key\":"            \
                                                                               "\"k4\"") "]"
#define SMALL_WORLD                                                                                \
    CORP(",\"_comment\":\"ignored\"" PEOPLE                                                        \
         ",\"apps\":[" APP(7) "]" SMALL_PROGRAM SMALL_KEYS SMALL_MESSAGES)

static void test_world_small_world_sorts_and_canonicalises(void **state)
{
    static const char *const order[] = {"m2", "m4", "m3", "m1"};
    char err[256] = "";
    zl_world *w = load(SMALL_WORLD, err, sizeof err);
    zl_corp *c;
    zl_program *p;

    (void)state;
    if (w == NULL)
        fail_msg("%s", err);
    c = zl_world_corp(w, "ww1");
    p = zl_corp_program(c, "p1");
    assert_int_equal(p->role, ZL_ROLE_MODEL);
    assert_int_equal(p->replicas, 3);
    assert_string_equal(p->debug_url, "https://dev.example:8443/zone");
    assert_string_equal(p->abilities[0].input_protocol, "{\"k\":[1]}");
    assert_string_equal(p->abilities[0].output_protocol, "{\"o\":{\"p\":true}}");
    assert_int_equal(zl_corp_newest_key(c)->version, 9);
    assert_int_equal(c->public_key_count, 2);
    assert_int_equal(zl_msgstore_count(c->messages), 4);
    for (size_t i = 0; i < 4; i++) {
        const zl_message *m = zl_msgstore_at(c->messages, i);

        assert_string_equal(m->msgid, order[i]); /* by send_time, ties in file order */
        assert_int_equal(m->seq, i + 1);
    }
    assert_string_equal(zl_msgstore_at(c->messages, 0)->content, " {\"a\": 1} "); /* verbatim */
    assert_string_equal(zl_msgstore_at(c->messages, 2)->content, "{\"b\":[1,2]}");
    assert_string_equal(zl_msgstore_at(c->messages, 1)->secret_key, "k4");
    zl_world_free(w);
}

/* A group with an external member, its consents, and a group without a name. */
#define CONSENT_WORLD                                                                              \
    CORP(",\"members\":[{\"userid\":\"u1\",\"name\":\"U\"},{\"userid\":\"u2\",\"name\":\"V\","     \
         "\"in_scope\":false}],\"externals\":[{\"external_userid\":\"wm1\",\"name\":\"W\"}],"      \
         "\"groups\":[{\"chatid\":\"g1\",\"name\":\"\",\"kind\":\"customer\",\"creator\":\"u1\","  \
         "\"create_time\":1,\"members\":[{\"id\":\"u2\",\"type\":1,\"jointime\":1},{\"id\":"       \
         "\"wm1\",\"type\":2,\"jointime\":1}]},{\"chatid\":\"g2\",\"name\":\"G\",\"kind\":"        \
         "\"internal\",\"creator\":\"u1\",\"create_time\":1,\"members\":[{\"id\":\"u1\","          \
         "\"type\":1,\"jointime\":1}]}],\"consents\":[{\"chatid\":\"g1\",\"external_userid\":"     \
         "\"wm1\",\"status\":\"Disagree\",\"change_time\":5}]")

static void test_world_consents_change_at_run_time(void **state)
{
    char err[256] = "", id[16];
    zl_world *w = load(CONSENT_WORLD, err, sizeof err);
    zl_corp *c;
    zl_consent d = {0};

    (void)state;
    if (w == NULL)
        fail_msg("%s", err);
    c = zl_world_corp(w, "ww1");
    assert_string_equal(zl_corp_group(c, "g1")->name, "");            /* an unnamed group */
    assert_false(zl_group_in_scope(c, NULL, zl_corp_group(c, "g1"))); /* u2 is out of scope */
    assert_true(zl_group_in_scope(c, NULL, zl_corp_group(c, "g2")));
    assert_false(zl_group_in_scope(c, NULL, NULL));
    assert_string_equal(zl_corp_member(c, "u1")->alias, ""); /* defaults */
    assert_int_equal(zl_corp_external(c, "wm1")->follow_user_count, 0);
    assert_string_equal(zl_corp_external(c, "wm1")->remark, "");

    /* The group's decision is replaced, not added. */
    d = (zl_consent){.chatid = "g1", .external_userid = "wm1", .agree = true, .change_time = 9};
    assert_int_equal(zl_corp_consent_set(w, c, &d, err, sizeof err), 0);
    assert_int_equal(c->consent_count, 1);
    assert_true(zl_corp_consent(c, NULL, "g1", "wm1")->agree);
    assert_int_equal(zl_corp_consent(c, NULL, "g1", "wm1")->change_time, 9);

    /* A new 1:1 decision; the caller's strings are copied. */
    snprintf(id, sizeof id, "u1");
    d = (zl_consent){.userid = id, .external_userid = "wm1", .agree = false, .change_time = 10};
    assert_int_equal(zl_corp_consent_set(w, c, &d, err, sizeof err), 0);
    id[0] = 'x';
    assert_int_equal(c->consent_count, 2);
    assert_false(zl_corp_consent(c, "u1", NULL, "wm1")->agree);
    assert_string_equal(zl_corp_consent(c, "u1", NULL, "wm1")->userid, "u1");

    /* Refused decisions leave the corp as it was, with the field first in the sentence. */
    d = (zl_consent){.chatid = "g2", .external_userid = "wm1", .agree = true};
    assert_int_equal(zl_corp_consent_set(w, c, &d, err, sizeof err), -1);
    assert_string_equal(err, "external_userid \"wm1\" is not an external member (type 2) of "
                             "group \"g2\"");
    d = (zl_consent){.userid = "nobody", .external_userid = "wm1", .agree = true};
    assert_int_equal(zl_corp_consent_set(w, c, &d, err, sizeof err), -1);
    assert_string_equal(err, "userid \"nobody\" is not a userid in the corp.members");
    d = (zl_consent){.userid = "u1", .chatid = "g1", .external_userid = "wm1"};
    assert_int_equal(zl_corp_consent_set(w, c, &d, err, sizeof err), -1);
    d = (zl_consent){.userid = "u1"};
    assert_int_equal(zl_corp_consent_set(w, c, &d, err, sizeof err), -1);
    assert_int_equal(c->consent_count, 2);
    assert_null(zl_corp_consent(c, "u1", NULL, NULL));
    assert_null(zl_corp_consent(NULL, "u1", NULL, "wm1"));
    zl_world_free(w);
}

/* Many decisions: the list and its index grow past their first size. */
static void test_world_consents_grow(void **state)
{
    char err[256] = "", json[64 * 1024], *p = json;
    zl_world *w;
    zl_corp *c;
    const int n = 300;

    (void)state;
    p += sprintf(p, "{\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\",\"members\":[");
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s{\"userid\":\"u%d\",\"name\":\"U\"}", i ? "," : "", i);
    p += sprintf(p, "],\"externals\":[{\"external_userid\":\"wm1\",\"name\":\"W\"}],"
                    "\"consents\":[");
    for (int i = 0; i < n / 2; i++)
        p += sprintf(p,
                     "%s{\"userid\":\"u%d\",\"external_userid\":\"wm1\",\"status\":"
                     "\"Agree\",\"change_time\":%d}",
                     i ? "," : "", i, i);
    sprintf(p, "]}]}");
    w = load(json, err, sizeof err);
    if (w == NULL)
        fail_msg("%s", err);
    c = zl_world_corp(w, "ww1");
    for (int i = n / 2; i < n; i++) {
        char uid[16];
        zl_consent d = {.userid = uid, .external_userid = "wm1", .change_time = i};

        snprintf(uid, sizeof uid, "u%d", i);
        assert_int_equal(zl_corp_consent_set(w, c, &d, err, sizeof err), 0);
    }
    assert_int_equal(c->consent_count, n);
    for (int i = 0; i < n; i++) {
        char uid[16];
        const zl_consent *d;

        snprintf(uid, sizeof uid, "u%d", i);
        d = zl_corp_consent(c, uid, NULL, "wm1");
        assert_non_null(d);
        assert_int_equal(d->change_time, i);
        assert_int_equal(d->agree, i < n / 2);
    }
    zl_world_free(w);
}

static void test_world_lookups_accept_null(void **state)
{
    (void)state;
    assert_null(zl_world_corp(NULL, "x"));
    assert_null(zl_corp_app(NULL, 1));
    assert_null(zl_corp_program(NULL, "x"));
    assert_null(zl_program_ability(NULL, "x"));
    assert_null(zl_corp_member(NULL, "x"));
    assert_null(zl_corp_external(NULL, "x"));
    assert_null(zl_corp_group(NULL, "x"));
    assert_null(zl_corp_newest_key(NULL));
    assert_null(zl_corp_department(NULL, 1));
    assert_null(zl_corp_tag(NULL, 1));
    assert_null(zl_world_suite(NULL, "x"));
    assert_null(zl_world_provider(NULL, "x"));
    assert_int_equal(zl_auth_scope_members(NULL, NULL, NULL), 0);
    assert_false(zl_scope_has(NULL, NULL, NULL));
    assert_int_equal(zl_msgstore_count(NULL), 0);
    assert_int_equal(zl_msgstore_find(NULL, "x"), -1);
    zl_world_free(NULL);
    zl_msgstore_free(NULL);
}

/* Appends msgid at t from u1 to u2; returns what zl_msgstore_append returns. */
static int append_simple(zl_msgstore *s, const char *msgid, int64_t t, char *err, size_t errlen)
{
    zl_party to = {ZL_PARTY_EMPLOYEE, "u2"};
    zl_message_in m = {0};

    m.msgid = msgid;
    m.sender.type = ZL_PARTY_EMPLOYEE;
    m.sender.id = "u1";
    m.receivers = &to;
    m.receiver_count = 1;
    m.send_time = t;
    m.msgtype = 1;
    return zl_msgstore_append(s, &m, err, errlen);
}

static void test_world_msgstore_first_at_or_after_edges(void **state)
{
    static const int64_t times[] = {10, 10, 20, 30, 30, 30, 40};
    zl_msgstore *s = zl_msgstore_new("ww1");
    char id[16], err[256];

    (void)state;
    assert_non_null(s);
    assert_int_equal(zl_msgstore_first_at_or_after(s, 0), 0); /* empty */
    for (size_t i = 0; i < 7; i++) {
        snprintf(id, sizeof id, "m%zu", i);
        assert_int_equal(append_simple(s, id, times[i], err, sizeof err), 0);
    }
    assert_int_equal(zl_msgstore_first_at_or_after(s, INT64_MIN), 0);
    assert_int_equal(zl_msgstore_first_at_or_after(s, 5), 0);
    assert_int_equal(zl_msgstore_first_at_or_after(s, 10), 0);
    assert_int_equal(zl_msgstore_first_at_or_after(s, 11), 2);
    assert_int_equal(zl_msgstore_first_at_or_after(s, 20), 2);
    assert_int_equal(zl_msgstore_first_at_or_after(s, 30), 3);
    assert_int_equal(zl_msgstore_first_at_or_after(s, 31), 6);
    assert_int_equal(zl_msgstore_first_at_or_after(s, 40), 6);
    assert_int_equal(zl_msgstore_first_at_or_after(s, 41), 7);
    assert_int_equal(zl_msgstore_first_at_or_after(s, INT64_MAX), 7);
    assert_int_equal(zl_msgstore_find(s, "m0"), 0);
    assert_int_equal(zl_msgstore_find(s, "m6"), 6);
    assert_int_equal(zl_msgstore_find(s, "m7"), -1);
    assert_int_equal(zl_msgstore_find(s, ""), -1);
    assert_int_equal(zl_msgstore_find(s, NULL), -1);
    zl_msgstore_free(s);
}

static void test_world_msgstore_append_rules(void **state)
{
    zl_msgstore *s = zl_msgstore_new("ww1");
    zl_party to[2] = {{ZL_PARTY_EXTERNAL, "wm1"}, {ZL_PARTY_ROBOT, "rb"}};
    char msgid[8] = "mA", content[32] = "{ \"content\": \"hi\" }", err[256];
    char secret[33];
    zl_message_in m = {0};
    const zl_message *got;

    (void)state;
    assert_non_null(s);
    assert_int_equal(append_simple(s, "m1", 100, err, sizeof err), 0);
    /* Older refused, equal accepted. */
    assert_int_equal(append_simple(s, "m2", 99, err, sizeof err), -1);
    assert_int_equal(strncmp(err, "send_time 99 is older than the newest", 37), 0);
    assert_int_equal(zl_msgstore_count(s), 1);
    assert_int_equal(append_simple(s, "m2", 100, err, sizeof err), 0);
    /* Duplicate msgid refused, store unchanged. */
    assert_int_equal(append_simple(s, "m1", 200, err, sizeof err), -1);
    assert_string_equal(err, "msgid \"m1\" is already archived (seq 1)");
    assert_int_equal(zl_msgstore_count(s), 2);
    assert_int_equal(append_simple(s, "", 200, err, sizeof err), -1);
    assert_string_equal(err, "msgid must not be empty");

    /* Everything is copied: the caller's buffers can change afterwards. */
    m.msgid = msgid;
    m.sender.type = ZL_PARTY_EMPLOYEE;
    m.sender.id = "u1";
    m.receivers = to;
    m.receiver_count = 2;
    m.chatid = "g1";
    m.send_time = 300;
    m.msgtype = 22;
    m.call_duration = 61;
    m.content = content;
    assert_int_equal(zl_msgstore_append(s, &m, err, sizeof err), 0);
    msgid[1] = 'Z';
    content[2] = 'X';
    to[0].id = "changed";
    got = zl_msgstore_at(s, 2);
    assert_int_equal(got->seq, 3);
    assert_string_equal(got->msgid, "mA");
    assert_string_equal(got->content, "{ \"content\": \"hi\" }");
    assert_string_equal(got->chatid, "g1");
    assert_string_equal(got->receivers[0].id, "wm1");
    assert_int_equal(got->receivers[1].type, ZL_PARTY_ROBOT);
    assert_int_equal(got->call_duration, 61);
    expected_secret("ww1", "mA", secret);
    assert_string_equal(got->secret_key, secret);
    assert_int_equal(zl_msgstore_find(s, "mA"), 2);

    /* Field rules: each error starts with the field. */
    m.msgid = "mB";
    m.msgtype = 29;
    assert_int_equal(zl_msgstore_append(s, &m, err, sizeof err), -1);
    assert_string_equal(err, "msgtype must be between 0 and 28 (got 29)");
    m.msgtype = 1;
    assert_int_equal(zl_msgstore_append(s, &m, err, sizeof err), -1);
    assert_string_equal(err, "call_duration is only for msgtype 21 and 22 (this message has "
                             "msgtype 1)");
    m.call_duration = 0;
    m.receiver_count = 0;
    assert_int_equal(zl_msgstore_append(s, &m, err, sizeof err), -1);
    assert_string_equal(err, "receivers must hold at least one receiver");
    m.receiver_count = 2;
    to[1].type = 0;
    assert_int_equal(zl_msgstore_append(s, &m, err, sizeof err), -1);
    assert_string_equal(err, "receivers[1].type must be 1 (employee), 2 (external contact) or 3 "
                             "(robot) (got 0)");
    to[1].type = ZL_PARTY_ROBOT;
    m.content = "{\"a\":1} trailing";
    assert_int_equal(zl_msgstore_append(s, &m, err, sizeof err), -1);
    assert_string_equal(err, "content must be the JSON text of an object");
    m.content = NULL;
    m.secret_key = "";
    assert_int_equal(zl_msgstore_append(s, &m, err, sizeof err), -1);
    assert_int_equal(strncmp(err, "secret_key must not be empty", 28), 0);
    m.secret_key = "given";
    m.chatid = NULL;
    assert_int_equal(zl_msgstore_append(s, &m, err, sizeof err), 0);
    got = zl_msgstore_at(s, 3);
    assert_string_equal(got->content, "{}");
    assert_string_equal(got->chatid, "");
    assert_string_equal(got->secret_key, "given");
    assert_int_equal(zl_msgstore_count(s), 4);
    assert_int_equal(zl_msgstore_append(s, NULL, err, sizeof err), -1);
    assert_int_equal(append_simple(s, "mC", 400, NULL, 0), 0); /* err is optional */
    zl_msgstore_free(s);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_world_msgstore_million_messages(void **state)
{
    enum { N = 1000000 };
    static const char *const users[] = {"zhangsan", "lisi", "wangwu", "wm_cust_01"};
    const int64_t base = 1793581200;
    zl_msgstore *s = zl_msgstore_new("wwzonelab0000001");
    zl_msgstore_stats st;
    struct timespec t0;
    char id[32], err[256], secret[33];
    double secs;

    (void)state;
    assert_non_null(s);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < N; i++) {
        zl_party to = {i % 4 == 3 ? ZL_PARTY_EMPLOYEE : ZL_PARTY_EXTERNAL, users[(i + 1) % 4]};
        zl_message_in m = {0};

        snprintf(id, sizeof id, "m%07zu", i);
        m.msgid = id;
        m.sender.type = i % 4 == 3 ? ZL_PARTY_EXTERNAL : ZL_PARTY_EMPLOYEE;
        m.sender.id = users[i % 4];
        m.receivers = &to;
        m.receiver_count = 1;
        m.send_time = base + (int64_t)(i / 3);
        m.msgtype = 1;
        if (zl_msgstore_append(s, &m, err, sizeof err) != 0)
            fail_msg("append %zu: %s", i, err);
    }
    secs = seconds_since(&t0);
    assert_int_equal(zl_msgstore_count(s), N);
    for (size_t i = 0; i < N; i += 99991) {
        snprintf(id, sizeof id, "m%07zu", i);
        assert_int_equal(zl_msgstore_find(s, id), (long)i);
        assert_int_equal(zl_msgstore_at(s, i)->seq, i + 1);
        assert_string_equal(zl_msgstore_at(s, i)->msgid, id);
    }
    assert_int_equal(zl_msgstore_find(s, "m1000000"), -1);
    assert_int_equal(zl_msgstore_first_at_or_after(s, base + 1000), 3000);
    assert_int_equal(zl_msgstore_first_at_or_after(s, base + N), N);
    expected_secret("wwzonelab0000001", "m0999999", secret);
    assert_string_equal(zl_msgstore_at(s, N - 1)->secret_key, secret);
    /* Ids are shared, not copied per message. */
    assert_ptr_equal(zl_msgstore_at(s, 0)->sender.id, zl_msgstore_at(s, 4)->sender.id);

    zl_msgstore_stats_get(s, &st);
    assert_int_equal(st.count, N);
    print_message("msgstore: %d appends in %.2f s; %.1f bytes/message in all, %.1f of them "
                  "overhead (%.1f string bytes: msgid + derived secret_key)\n",
                  N, secs, (double)st.bytes_total / N,
                  (double)(st.bytes_total - st.bytes_string) / N, (double)st.bytes_string / N);
    assert_true((st.bytes_total - st.bytes_string) / N < 200);
    zl_msgstore_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_world_default_loads),
        cmocka_unit_test(test_world_bad_worlds_name_the_path),
        cmocka_unit_test(test_world_bad_world_never_half_loads),
        cmocka_unit_test(test_world_load_file_errors),
        cmocka_unit_test(test_world_small_world_sorts_and_canonicalises),
        cmocka_unit_test(test_world_consents_change_at_run_time),
        cmocka_unit_test(test_world_consents_grow),
        cmocka_unit_test(test_world_lookups_accept_null),
        cmocka_unit_test(test_world_msgstore_first_at_or_after_edges),
        cmocka_unit_test(test_world_msgstore_append_rules),
        cmocka_unit_test(test_world_msgstore_million_messages),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
