/* test_rules: keyword rule bodies (limits, scope codes) and the matcher (contains/exact,
 * case, trim, key behaviours, applicable range, blacklist). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wecom/keyword.h"
#include "wecom/world.h"

static const char WORLD[] =
    "{\"corps\":[{\"corpid\":\"ww1\",\"name\":\"c\","
    "\"members\":[{\"userid\":\"zhangsan\",\"name\":\"z\"},{\"userid\":\"lisi\",\"name\":\"l\"},"
    "{\"userid\":\"out\",\"name\":\"o\",\"in_scope\":false}],"
    "\"externals\":[{\"external_userid\":\"wm1\",\"name\":\"w\"}],"
    "\"groups\":[{\"chatid\":\"g1\",\"name\":\"g\",\"kind\":\"internal\",\"creator\":\"zhangsan\","
    "\"create_time\":1,\"members\":[{\"id\":\"zhangsan\",\"type\":1,\"jointime\":1},"
    "{\"id\":\"lisi\",\"type\":1,\"jointime\":1}]},"
    "{\"chatid\":\"g_out\",\"name\":\"g\",\"kind\":\"internal\",\"creator\":\"out\","
    "\"create_time\":1,\"members\":[{\"id\":\"out\",\"type\":1,\"jointime\":1}]}]}]}";

static int setup(void **state)
{
    char err[512] = "";
    zl_world *w = zl_world_load_json(WORLD, strlen(WORLD), NULL, err, sizeof err);

    if (!w)
        fail_msg("world: %s", err);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    zl_world_free(*state);
    return 0;
}

static zl_corp *corp(void **state)
{
    return &((zl_world *)*state)->corps[0];
}

/* Compiles body text; the compile must give want (0 = success). */
static zl_rule *rule(void **state, const char *body, bool flags_sent, int want)
{
    cJSON *j = cJSON_Parse(body);
    char why[300] = "";
    int code = 12345;
    zl_rule *r;

    assert_non_null(j);
    r = zl_rule_compile(j, corp(state), NULL, flags_sent, &code, why, sizeof why);
    cJSON_Delete(j);
    if (code != want)
        fail_msg("%s: errcode %d (%s), wanted %d", body, code, why, want);
    if (want == 0)
        assert_non_null(r);
    else
        assert_null(r);
    return r;
}

typedef struct msg {
    zl_message m;
    zl_party receivers[4];
    cJSON *content;
} msg;

/* A 1:1 message from sender (type 1 unless it starts with "wm") to receiver. */
static void mk(msg *x, int msgtype, const char *from, const char *to, const char *chatid,
               const char *content)
{
    memset(x, 0, sizeof *x);
    x->m.msgid = "m1";
    x->m.msgtype = msgtype;
    x->m.chatid = chatid ? chatid : "";
    x->m.content = content;
    x->m.sender = (zl_party){strncmp(from, "wm", 2) ? 1 : 2, from};
    x->receivers[0] = (zl_party){strncmp(to, "wm", 2) ? 1 : 2, to};
    x->m.receivers = x->receivers;
    x->m.receiver_count = 1;
    x->content = cJSON_Parse(content);
}

/* Whether a text message (content text) from zhangsan to lisi hits r; sem gets behaviours. */
static bool hits_full(void **state, const zl_rule *r, int msgtype, const char *from, const char *to,
                      const char *chatid, const char *content, bool *kw, unsigned *sem)
{
    msg x;
    bool hit;

    mk(&x, msgtype, from, to, chatid, content);
    hit = zl_rule_match(r, corp(state), NULL, &x.m, x.content, kw, sem);
    cJSON_Delete(x.content);
    return hit;
}

static bool text_hits(void **state, const zl_rule *r, const char *text, unsigned *sem)
{
    cJSON *c = cJSON_CreateObject();
    char *content;
    bool kw, hit;
    unsigned s;

    cJSON_AddStringToObject(c, "content", text);
    content = cJSON_PrintUnformatted(c);
    hit = hits_full(state, r, 1, "zhangsan", "lisi", NULL, content, &kw, &s);
    if (sem)
        *sem = s;
    cJSON_free(content);
    cJSON_Delete(c);
    return hit;
}

static void test_rules_contains_and_case(void **state)
{
    zl_rule *cs =
        rule(state, "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"Refund\",\"退款\"]}}", false, 0);
    zl_rule *ci = rule(state,
                       "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"Refund\"],"
                       "\"is_case_sensitive\":0}}",
                       true, 0);

    assert_true(text_hits(state, cs, "I want a Refund now", NULL));
    assert_false(text_hits(state, cs, "I want a refund now", NULL)); /* default: case-sensitive */
    assert_true(text_hits(state, cs, "我要退款", NULL));
    assert_false(text_hits(state, cs, "Refun", NULL));
    assert_true(text_hits(state, ci, "REFUND!", NULL));
    assert_true(text_hits(state, ci, "refund", NULL));
    assert_false(text_hits(state, ci, "re fund", NULL));
    assert_int_equal(zl_rule_body(cs)->type, cJSON_Object);
    zl_rule_free(cs);
    zl_rule_free(ci);
}

static void test_rules_exact_and_trim(void **state)
{
    zl_rule *ex =
        rule(state, "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"refund\"],\"match_rule\":1}}",
             true, 0);
    zl_rule *tr = rule(state,
                       "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"refund\"],\"match_rule\":1,"
                       "\"is_trim_msg\":1}}",
                       true, 0);

    assert_true(text_hits(state, ex, "refund", NULL));
    assert_false(text_hits(state, ex, "refund please", NULL));
    assert_false(text_hits(state, ex, " refund\n", NULL));
    assert_true(text_hits(state, tr, " \trefund\r\n", NULL));
    assert_false(text_hits(state, tr, " re fund ", NULL));
    zl_rule_free(ex);
    zl_rule_free(tr);
    /* "仅match_rule=1时生效" (doc 53346): accepted without exact matching, and no effect */
    tr = rule(state, "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"refund\"],\"is_trim_msg\":1}}",
              false, 0);
    assert_true(text_hits(state, tr, " refund please", NULL));
    assert_false(text_hits(state, tr, " re fund ", NULL));
    zl_rule_free(tr);
}

static void test_rules_semantics(void **state)
{
    zl_rule *r =
        rule(state,
             "{\"name\":\"r\",\"semantics\":{\"semantics_list\":[1,2,3,7,8,9,10]},"
             "\"applicable_range\":{\"exclude_mobile\":{\"mobile_list\":[\"13900000000\"]},"
             "\"exclude_email\":{\"email_list\":[\"ok@example.com\"]}}}",
             false, 0);
    unsigned sem;
    bool kw;

    assert_true(text_hits(state, r, "call me on 13812345678 today", &sem));
    assert_int_equal(sem, 1u << ZL_SEM_MOBILE);
    assert_false(text_hits(state, r, "1381234567 or 138123456789", NULL));
    assert_false(text_hits(state, r, "12812345678", NULL)); /* 1 then 3..9 */
    assert_false(text_hits(state, r, "excluded: 13900000000", NULL));
    assert_false(text_hits(state, r, "excluded: +8613900000000", NULL));
    assert_true(text_hits(state, r, "+8613812345678", &sem)); /* +86 and the number */
    assert_true(text_hits(state, r, "13900000000 and 13812345678", &sem));
    assert_true(text_hits(state, r, "write to Zhang.San+x@mail.example.cn.", &sem));
    assert_int_equal(sem, 1u << ZL_SEM_EMAIL);
    assert_false(text_hits(state, r, "OK@Example.com is excluded", NULL));
    assert_false(text_hits(state, r, "not@mail or @example.com", NULL));
    assert_true(text_hits(state, r, "card 6222020200112233446", &sem));
    assert_int_equal(sem, 1u << ZL_SEM_BANK_CARD);
    assert_false(text_hits(state, r, "card 6222020200112233445", NULL)); /* Luhn fails */
    assert_true(text_hits(state, r, "id 11010519491231002X", &sem));
    assert_int_equal(sem, 1u << ZL_SEM_ID_CARD);
    assert_true(text_hits(state, r, "see https://example.com", &sem));
    assert_int_equal(sem, 1u << ZL_SEM_LINK);
    assert_false(text_hits(state, r, "nothing here", NULL));
    assert_true(hits_full(state, r, 13, "zhangsan", "lisi", NULL, "{}", &kw, &sem));
    assert_int_equal(sem, 1u << ZL_SEM_RED_PACKET);
    assert_false(kw);
    assert_true(
        hits_full(state, r, 8, "zhangsan", "lisi", NULL, "{\"filename\":\"a.pdf\"}", &kw, &sem));
    assert_int_equal(sem, 1u << ZL_SEM_FILE);
    assert_true(hits_full(state, r, 20, "zhangsan", "lisi", NULL,
                          "{\"item\":[{\"type\":\"text\",\"content\":\"13812345678\"}]}", &kw,
                          &sem));
    assert_int_equal(sem, 1u << ZL_SEM_MOBILE);
    /* message kinds that cannot hit */
    assert_false(hits_full(state, r, 27, "zhangsan", "lisi", NULL, "{\"content\":\"13812345678\"}",
                           &kw, &sem));
    zl_rule_free(r);
}

/* A whitelist entry with "+86" and one without are the same number. */
static void test_rules_mobile_whitelist_plus86(void **state)
{
    zl_rule *r = rule(state,
                      "{\"name\":\"r\",\"semantics\":{\"semantics_list\":[2]},"
                      "\"applicable_range\":{\"exclude_mobile\":{\"mobile_list\":"
                      "[\"+8613900000000\"]}}}",
                      false, 0);

    assert_false(text_hits(state, r, "call 13900000000", NULL));
    assert_false(text_hits(state, r, "call +8613900000000", NULL));
    assert_true(text_hits(state, r, "call 13900000001", NULL));
    zl_rule_free(r);
}

static void test_rules_range(void **state)
{
    zl_rule *recv =
        rule(state,
             "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"hi\"]},"
             "\"applicable_range\":{\"msg_scope\":2,\"user\":{\"id_list\":[\"lisi\"]}}}",
             false, 0);
    zl_rule *groups = rule(state,
                           "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"hi\"]},"
                           "\"applicable_range\":{\"chat_type\":{\"type_list\":[2]},"
                           "\"chat\":{\"id_list\":[\"g1\"]},\"exclude_keyword\":{\"word_list\":"
                           "[\"bye\"]}}}",
                           false, 0);
    zl_rule *ext = rule(state,
                        "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"hi\"]},"
                        "\"applicable_range\":{\"session_type\":{\"session_type_list\":[2]},"
                        "\"target_type\":{\"type_list\":[2]}}}",
                        false, 0);
    zl_rule *any = rule(state, "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"hi\"]}}", false, 0);
    bool kw;
    unsigned sem;
    const char *hi = "{\"content\":\"hi\"}";

    /* received by lisi: yes; sent by lisi: no (msg_scope 2) */
    assert_true(hits_full(state, recv, 1, "zhangsan", "lisi", NULL, hi, &kw, &sem));
    assert_true(kw);
    assert_false(hits_full(state, recv, 1, "lisi", "zhangsan", NULL, hi, &kw, &sem));
    /* groups only, g1 only, blacklist */
    assert_false(hits_full(state, groups, 1, "zhangsan", "lisi", NULL, hi, &kw, &sem));
    assert_true(hits_full(state, groups, 1, "zhangsan", "lisi", "g1", hi, &kw, &sem));
    assert_false(hits_full(state, groups, 1, "zhangsan", "lisi", "g2", hi, &kw, &sem));
    assert_false(hits_full(state, groups, 1, "zhangsan", "lisi", "g1",
                           "{\"content\":\"hi and bye\"}", &kw, &sem));
    /* external sessions, customers as targets (sent, the default msg_scope) */
    assert_false(hits_full(state, ext, 1, "zhangsan", "lisi", NULL, hi, &kw, &sem));
    assert_false(hits_full(state, ext, 1, "zhangsan", "wm1", NULL, hi, &kw, &sem));
    assert_true(hits_full(state, ext, 1, "wm1", "zhangsan", NULL, hi, &kw, &sem));
    /* employees outside the archive scope are nobody's target */
    assert_false(hits_full(state, any, 1, "out", "zhangsan", NULL, hi, &kw, &sem));
    assert_true(hits_full(state, any, 1, "zhangsan", "out", NULL, hi, &kw, &sem));
    zl_rule_free(recv);
    zl_rule_free(groups);
    zl_rule_free(ext);
    zl_rule_free(any);
}

static void test_rules_limits(void **state)
{
    char body[4096];
    size_t n;
    int i;

    rule(state, "{\"keyword\":{\"word_list\":[\"x\"]}}", false, 40058);               /* no name */
    rule(state, "{\"name\":\"\",\"keyword\":{\"word_list\":[\"x\"]}}", false, 40058); /* empty */
    rule(state, "{\"name\":\"123456789012345678901\",\"keyword\":{\"word_list\":[\"x\"]}}", false,
         40058);
    /* 20 characters of 3 bytes each are fine */
    zl_rule_free(rule(state,
                      "{\"name\":\"一二三四五六七八九十一二三四五六七八九十\","
                      "\"keyword\":{\"word_list\":[\"x\"]}}",
                      false, 0));
    n = (size_t)snprintf(body, sizeof body, "{\"name\":\"r\",\"keyword\":{\"word_list\":[");
    for (i = 0; i < 21; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s\"w%d\"", i ? "," : "", i);
    snprintf(body + n, sizeof body - n, "]}}");
    rule(state, body, false, 40058); /* 21 words */
    rule(state,
         "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"123456789012345678901234567890123\"]}}",
         false, 40058);
    rule(state, "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"\"]}}", false, 40058);
    rule(state, "{\"name\":\"r\"}", false, 710610);
    rule(state, "{\"name\":\"r\",\"keyword\":{\"match_rule\":1}}", true, 710650);
    rule(state, "{\"name\":\"r\",\"semantics\":{\"semantics_list\":[13]}}", false, 710648);
    rule(state, "{\"name\":\"r\",\"semantics\":{\"semantics_list\":[0]}}", false, 710648);
    rule(state, "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"x\"],\"is_case_sensitive\":2}}",
         true, 40058);
#define RANGE(ar) "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"x\"]},\"applicable_range\":" ar "}"
    rule(state, RANGE("{\"chat\":{\"id_list\":[\"nope\"]}}"), false, 710606);
    rule(state, RANGE("{\"chat\":{\"id_list\":[\"g_out\"]}}"), false, 710606);
    rule(state, RANGE("{\"department\":{\"id_list\":[1]}}"), false, 710607);
    rule(state, RANGE("{\"user\":{\"id_list\":[\"out\"]}}"), false, 710608);
    rule(state, RANGE("{\"external_contact\":{\"id_list\":[\"wm_nope\"]}}"), false, 710609);
    rule(state, RANGE("{\"exclude_mobile\":{\"mobile_list\":[\"12345\"]}}"), false, 710621);
    /* the page's own example, "+8612345679876" (doc 53346); +86 may be left out; other
     * countries with their code */
    zl_rule_free(rule(state,
                      RANGE("{\"exclude_mobile\":{\"mobile_list\":[\"+8612345679876\","
                            "\"12345679876\",\"13800000000\",\"+85259123456\"]}}"),
                      false, 0));
    rule(state, RANGE("{\"exclude_mobile\":{\"mobile_list\":[\"+86123\"]}}"), false, 710621);
    rule(state, RANGE("{\"exclude_mobile\":{\"mobile_list\":[\"+8623456789012\"]}}"), false,
         710621);
    rule(state, RANGE("{\"exclude_mobile\":{\"mobile_list\":[\"23456789012\"]}}"), false, 710621);
    rule(state, RANGE("{\"exclude_mobile\":{\"mobile_list\":[\"+1234567\"]}}"), false, 710621);
    rule(state, RANGE("{\"exclude_mobile\":{\"mobile_list\":[\"+8525912345612345\"]}}"), false,
         710621);
    rule(state, RANGE("{\"exclude_mobile\":{\"mobile_list\":[\"+86 13800000000\"]}}"), false,
         710621);
    rule(state, RANGE("{\"exclude_bank_card\":{\"bank_card_list\":[\"12ab\"]}}"), false, 710622);
    rule(state, RANGE("{\"exclude_email\":{\"email_list\":[\"no-at-sign\"]}}"), false, 40058);
    rule(state, RANGE("{\"session_type\":{\"session_type_list\":[3]}}"), false, 710615);
    rule(state, RANGE("{\"msg_scope\":4}"), false, 40058);
    rule(state, RANGE("{\"target_type\":{\"type_list\":[3]}}"), false, 40058);
    rule(state, RANGE("{\"voice_match_msgtype\":{\"type_list\":[7]}}"), false, 40058);
    zl_rule_free(rule(state,
                      RANGE("{\"user\":{\"id_list\":[]},\"external_contact\":"
                            "{\"id_list\":[\"wm1\"]},\"chat\":{\"id_list\":[\"g1\"]}}"),
                      false, 0));
#undef RANGE
}

static void test_rules_voice_transcript(void **state)
{
    zl_rule *r = rule(state,
                      "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"price\"]},"
                      "\"applicable_range\":{\"voice_match_msgtype\":{\"type_list\":[6]}}}",
                      false, 0);
    zl_rule *plain =
        rule(state, "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"price\"]}}", false, 0);
    const char *voice = "{\"transcript\":\"what is the price\"}";
    bool kw;
    unsigned sem;

    assert_true(hits_full(state, r, 6, "zhangsan", "lisi", NULL, voice, &kw, &sem));
    assert_false(hits_full(state, plain, 6, "zhangsan", "lisi", NULL, voice, &kw, &sem));
    zl_rule_free(r);
    zl_rule_free(plain);
}

/* A world with departments (1 > 2 > 3, and 4) and a scope of department 2: departments
 * outside it are 710607; a rule's departments cover their sub-departments, united with its
 * user list; an employee outside the scope never hits. */
#define ORG_RANGE(ar)                                                                              \
    "{\"name\":\"r\",\"keyword\":{\"word_list\":[\"x\"]},\"applicable_range\":" ar "}"
static const char ORG_WORLD[] =
    "{\"corps\":[{\"corpid\":\"ww2\",\"name\":\"c\","
    "\"departments\":[{\"id\":1,\"name\":\"HQ\"},{\"id\":2,\"name\":\"S\",\"parentid\":1},"
    "{\"id\":3,\"name\":\"T\",\"parentid\":2},{\"id\":4,\"name\":\"O\"}],"
    "\"members\":[{\"userid\":\"deep\",\"name\":\"d\",\"department\":[3]},"
    "{\"userid\":\"top\",\"name\":\"t\",\"department\":[1]},"
    "{\"userid\":\"ops\",\"name\":\"o\",\"department\":[4]}]}]}";

static void test_rules_departments(void **state)
{
    char err[512] = "", why[300] = "";
    zl_world *w = zl_world_load_json(ORG_WORLD, strlen(ORG_WORLD), NULL, err, sizeof err);
    const uint32_t depts[] = {2};
    zl_auth a = {.scope_given = true, .department_ids = depts, .department_count = 1};
    bool in[3] = {true, false, true}; /* "top" is outside the archive scope */
    zl_scope s = {in, &a};
    static const char *const refused[] = {"[1]", "[4]", "[9]", "[3,1]"};
    cJSON *j;
    zl_rule *r;
    zl_corp *c;
    bool kw;
    unsigned sem;
    msg x;
    int code;

    (void)state;
    if (!w)
        fail_msg("world: %s", err);
    c = &w->corps[0];
    for (size_t k = 0; k < sizeof refused / sizeof *refused; k++) {
        char body[200];

        snprintf(body, sizeof body, ORG_RANGE("{\"department\":{\"id_list\":%s}}"), refused[k]);
        j = cJSON_Parse(body);
        assert_null(zl_rule_compile(j, c, &s, false, &code, why, sizeof why));
        assert_int_equal(code, 710607);
        cJSON_Delete(j);
    }
    j = cJSON_Parse(ORG_RANGE("{\"department\":{\"id_list\":[1,4]}}"));
    r = zl_rule_compile(j, c, NULL, false, &code, why, sizeof why); /* the corp's own scope */
    assert_non_null(r);
    zl_rule_free(r);
    cJSON_Delete(j);

    j = cJSON_Parse(
        ORG_RANGE("{\"department\":{\"id_list\":[2]},\"user\":{\"id_list\":[\"ops\"]}}"));
    r = zl_rule_compile(j, c, &s, false, &code, why, sizeof why);
    cJSON_Delete(j);
    assert_non_null(r);
    mk(&x, 1, "deep", "wm1", NULL, "{\"content\":\"x\"}"); /* department 3, under 2 */
    assert_true(zl_rule_match(r, c, &s, &x.m, x.content, &kw, &sem));
    cJSON_Delete(x.content);
    mk(&x, 1, "ops", "wm1", NULL, "{\"content\":\"x\"}"); /* in the user list */
    assert_true(zl_rule_match(r, c, &s, &x.m, x.content, &kw, &sem));
    in[2] = false; /* ops leaves the archive scope */
    assert_false(zl_rule_match(r, c, &s, &x.m, x.content, &kw, &sem));
    cJSON_Delete(x.content);
    mk(&x, 1, "top", "wm1", NULL, "{\"content\":\"x\"}"); /* department 1: above 2 */
    assert_false(zl_rule_match(r, c, NULL, &x.m, x.content, &kw, &sem));
    cJSON_Delete(x.content);
    zl_rule_free(r);
    zl_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rules_contains_and_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_exact_and_trim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_mobile_whitelist_plus86, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_voice_transcript, setup, teardown),
        cmocka_unit_test(test_rules_departments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
