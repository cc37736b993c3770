/* world: the emulator's corp world (apps, programs, members, groups, keys, archived messages). */
#ifndef ZL_WORLD_H
#define ZL_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/*
 * Limits checked at load and on append (project decisions; docs/world.md lists them).
 * Lengths are bytes, without the terminating NUL.
 */
#define ZL_WORLD_MAX_FILE    (512u * 1024u * 1024u) /* world file */
#define ZL_WORLD_MAX_ID      128                    /* ids: corpid, userid, msgid, chatid, ... */
#define ZL_WORLD_MAX_NAME    256                    /* display names, secrets */
#define ZL_WORLD_MAX_URL     2048                   /* callback_url */
#define ZL_WORLD_MAX_TOKEN   32                     /* app token: letters and digits */
#define ZL_WORLD_AES_KEY_LEN 43                     /* EncodingAESKey */
#define ZL_WORLD_MAX_PEM     16384                  /* public key PEM text */
#define ZL_WORLD_MAX_ITEMS   4096            /* corps, apps, programs, abilities, keys, agentids */
#define ZL_WORLD_MAX_TIME    253402300799LL  /* 9999-12-31T23:59:59Z, for every time field */
#define ZL_MSG_MAX_CONTENT   (1024u * 1024u) /* message content JSON text */
#define ZL_MSG_MAX_SECRET    245             /* secret_key: what RSA-2048 PKCS#1 v1.5 can wrap */
#define ZL_MSG_MAX_RECEIVERS 10000
#define ZL_MSGTYPE_MAX       28
#define ZL_MSG_SECRET_HEX    32 /* length of a derived secret_key */

/* sender / receiver / group member type, as in sync_msg and get_group_chat. */
typedef enum zl_party_type {
    ZL_PARTY_EMPLOYEE = 1,
    ZL_PARTY_EXTERNAL = 2,
    ZL_PARTY_ROBOT = 3
} zl_party_type;

/* A sender or receiver: type (zl_party_type) and userid / external_userid / robot id. */
typedef struct zl_party {
    int type;
    const char *id;
} zl_party;

/* What kind of app: some endpoints serve only third-party and 代开发 apps (710640). */
typedef enum zl_app_kind {
    ZL_APP_THIRD_PARTY = 0,
    ZL_APP_CUSTOM, /* 代开发 */
    ZL_APP_SELF_BUILT
} zl_app_kind;

struct zl_provider;

/* What a suite is: a third-party app's suite, or a 代开发 app's template. */
typedef enum zl_suite_kind { ZL_SUITE_THIRD_PARTY = 0, ZL_SUITE_CUSTOM } zl_suite_kind;

/*
 * A provider's suite (第三方应用 or 代开发模板): its credentials for get_suite_token and the
 * command callback URL (指令回调URL) that suite_ticket, create_auth, change_auth and
 * cancel_auth are pushed to, encrypted with its Token and EncodingAESKey (receiveid = the
 * suite_id).
 */
typedef struct zl_suite {
    const char *suite_id;
    const char *suite_secret;
    zl_suite_kind kind;
    const char *callback_url; /* "" = the emulator's built-in fake provider keeps them */
    const char *token;
    const char *encoding_aes_key; /* 43 characters */
    struct zl_provider *provider; /* the owner */
} zl_suite;

/* A service provider (服务商): get_provider_token's corpid and provider_secret, its suites. */
typedef struct zl_provider {
    const char *corpid; /* the provider's own corpid */
    const char *name;
    const char *provider_secret;
    zl_suite *suites;
    size_t suite_count;
} zl_provider;

/* Zone editions (get_corp_auth_info's edition). */
enum { ZL_EDITION_INTERNAL = 1, ZL_EDITION_EXTERNAL = 2, ZL_EDITION_VOICE = 3 };

/* An edition's status (get_corp_auth_info; spec app-api.md §10). */
typedef enum zl_auth_status {
    ZL_AUTH_TRIAL = 1,
    ZL_AUTH_TRIAL_EXPIRED = 2,
    ZL_AUTH_PAID = 3,
    ZL_AUTH_PAID_EXPIRED = 4,
    ZL_AUTH_FREE = 5,
    ZL_AUTH_FREE_EXPIRED = 6,
    ZL_AUTH_PAID_PENDING = 7 /* paid, not yet in effect */
} zl_auth_status;

/* One authorised edition: its status and that status' period (0 = absent). */
typedef struct zl_edition {
    int edition; /* ZL_EDITION_* */
    zl_auth_status status;
    int64_t begin_time, end_time; /* Unix seconds */
} zl_edition;

/*
 * A corp's authorisation of an app's data-zone access, as the world starts it (the emulator
 * changes it at run time: expiry, purchase, cancel and re-grant). Self-built apps use the
 * corp's own scope (members' in_scope) and have no seats.
 */
typedef struct zl_auth {
    zl_edition *editions;
    size_t edition_count;
    uint32_t seats;             /* interface accounts the provider bought; 0 = no limit */
    uint32_t msg_duration_days; /* 90, 180, 365 or 730 */
    bool scope_given;           /* false: the scope is the corp's (members' in_scope) */
    const char *const *userids; /* the scope: members, departments (with their sub-departments) */
    size_t userid_count;        /* and tags (their members and departments) */
    const uint32_t *department_ids;
    size_t department_count;
    const uint32_t *tag_ids;
    size_t tag_count;
    bool test;                  /* a test installation (third-party apps' debug mode) */
    const char *permanent_code; /* third-party and 代开发; a 代开发 app's is its gettoken secret */
} zl_auth;

typedef struct zl_app {
    uint32_t agentid;
    zl_app_kind kind;
    bool data_permission; /* the app has the data zone permission (else 710641) */
    bool general_model;   /* the corp granted the app WeCom's general model (else 710644) */
    const char *name;
    const char *secret;
    const char *callback_url; /* "" = the emulator's built-in fake app */
    const char *token;
    const char *encoding_aes_key; /* 43 characters */
    zl_suite *suite;              /* third-party and 代开发 apps; NULL when the world has none */
    zl_auth auth;
    const struct zl_public_key *public_keys; /* the app's own keys at the start, oldest first; */
    size_t public_key_count;                 /* none given: the corp's public_keys */
} zl_app;

typedef struct zl_ability {
    const char *ability_id;
    const char *input_protocol;  /* compact JSON text of an object */
    const char *output_protocol; /* compact JSON text of an object */
} zl_ability;

typedef enum zl_program_role { ZL_ROLE_PROGRAM, ZL_ROLE_MODEL } zl_program_role;

typedef struct zl_program {
    const char *program_id;
    zl_program_role role;
    uint32_t replicas;
    const uint32_t *agentids; /* apps the program is associated with */
    size_t agentid_count;
    zl_ability *abilities;
    size_t ability_count;
    const char *debug_url; /* the console's 接收事件服务器 for debug mode, "" when none */
} zl_program;

typedef struct zl_member {
    const char *userid;
    const char *name;
    int edition;                 /* 1 internal, 2 + external chats, 3 + voice calls */
    bool in_scope;               /* inside the corp's authorised archive scope */
    const char *alias;           /* "" when none; search_contact_or_customer matches it */
    const char *name_pinyin;     /* "" when none; the emulator never derives pinyin */
    const uint32_t *departments; /* the departments the member belongs to */
    size_t department_count;
} zl_member;

/* A department of the corp's address book; parentid 0 for a top-level one. */
typedef struct zl_department {
    uint32_t id;
    const char *name;
    uint32_t parentid;
} zl_department;

/* A tag of the corp's address book: its members and departments. */
typedef struct zl_tag {
    uint32_t tagid;
    const char *tagname;
    const char *const *userids;
    size_t userid_count;
    const uint32_t *department_ids;
    size_t department_count;
} zl_tag;

typedef struct zl_external {
    const char *external_userid;
    const char *name;
    const char *corp_name;           /* "" when the file has none */
    const char *remark;              /* the corp's remark on the contact; "" when none */
    const char *name_pinyin;         /* "" when none */
    const char *remark_pinyin;       /* "" when none */
    const char *const *follow_users; /* userids of the members who follow the contact */
    size_t follow_user_count;
} zl_external;

typedef enum zl_group_kind { ZL_GROUP_INTERNAL, ZL_GROUP_CUSTOMER } zl_group_kind;

typedef struct zl_group_member {
    const char *id;
    int type; /* zl_party_type */
    int64_t jointime;
} zl_group_member;

typedef struct zl_group {
    const char *chatid;
    const char *name;
    zl_group_kind kind;
    const char *creator; /* userid of a member of the corp */
    int64_t create_time;
    zl_group_member *members;
    size_t member_count;
} zl_group;

/*
 * A customer's decision on archiving (get_agree_status_single / _room): in a 1:1 chat with
 * a member (userid set, chatid NULL) or in a group (chatid set, userid NULL).
 */
typedef struct zl_consent {
    const char *userid;
    const char *chatid;
    const char *external_userid;
    bool agree;          /* "Agree"; false is "Disagree" */
    int64_t change_time; /* Unix seconds of the last change */
} zl_consent;

typedef struct zl_public_key {
    uint32_t version;
    const char *pem; /* PEM text of an RSA-2048 public key */
    size_t pem_len;
} zl_public_key;

/* One archived message as stored; every pointer is owned by its zl_msgstore. */
typedef struct zl_message {
    uint64_t seq; /* 1, 2, 3, ... in archive order */
    int64_t send_time;
    const char *msgid;
    const char *chatid;     /* "" for 1:1 messages */
    const char *content;    /* JSON text of an object; "{}" when none was given */
    const char *secret_key; /* as given, or derived (ZL_MSG_SECRET_HEX lower-hex characters) */
    zl_party sender;
    const zl_party *receivers;
    uint32_t receiver_count;
    int32_t msgtype;       /* 0..ZL_MSGTYPE_MAX */
    int32_t call_duration; /* seconds; only msgtype 21 and 22, else 0 */
} zl_message;

/*
 * A message described by a caller; every pointer is borrowed for the duration of the call.
 * chatid NULL or "" means a 1:1 message, content NULL means "{}", secret_key NULL means
 * derive it: the first 32 lower-hex characters of SHA-256(corpid || msgid).
 */
typedef struct zl_message_in {
    const char *msgid;
    zl_party sender;
    const zl_party *receivers;
    size_t receiver_count;
    const char *chatid;
    int64_t send_time;
    int msgtype;
    int call_duration;
    const char *content;
    const char *secret_key;
} zl_message_in;

/* Memory use of a message store, for benchmarks and tests. */
typedef struct zl_msgstore_stats {
    size_t count;
    size_t bytes_total;  /* everything the store allocated */
    size_t bytes_string; /* of which the text of copied strings (with NULs) */
} zl_msgstore_stats;

typedef struct zl_msgstore zl_msgstore; /* one per corp: corp->messages */

/*
 * Creates an empty archive for corpid (copied; used to derive secret keys). Returns NULL
 * when memory runs out or OpenSSL has no SHA-256. Free with zl_msgstore_free.
 */
zl_msgstore *zl_msgstore_new(const char *corpid);
/* Frees s and every message in it; accepts NULL. */
void zl_msgstore_free(zl_msgstore *s);

/* Number of messages in s. */
size_t zl_msgstore_count(const zl_msgstore *s);
/*
 * The message at index 0..count-1 in seq order (seq == index + 1), or NULL when index is out
 * of range. The pointer, and everything it points to, stays valid until s is freed.
 */
const zl_message *zl_msgstore_at(const zl_msgstore *s, size_t index);
/* Index of the first message with send_time >= t, count if none (binary search). */
size_t zl_msgstore_first_at_or_after(const zl_msgstore *s, int64_t t);
/* Index of the message with this msgid, or -1 (hash index). */
long zl_msgstore_find(const zl_msgstore *s, const char *msgid);
/*
 * Appends a copy of m as the newest message (seq = count + 1). Its send_time must be >= the
 * newest message's and its msgid unused; types, ranges and lengths are checked as the world
 * file's are (docs/world.md). Member, external and group references are not checked here
 * (the store does not know the corp). Returns 0, or -1 with s unchanged and one sentence in
 * err that starts with the offending field, e.g. "msgid \"m1\" is already archived (seq 3)".
 */
int zl_msgstore_append(zl_msgstore *s, const zl_message_in *m, char *err, size_t errlen);
/* Fills *out with the memory use of s. */
void zl_msgstore_stats_get(const zl_msgstore *s, zl_msgstore_stats *out);
/*
 * Writes every message of s to f in a form only zl_msgstore_undump reads (this build's: native
 * byte order, no version of its own; the world cache wraps it). 0, or -1 when f failed.
 */
int zl_msgstore_dump(const zl_msgstore *s, FILE *f);
/*
 * Fills the empty store s from buf (len bytes), as zl_msgstore_dump wrote it, without
 * checking each message again: what it read was checked when it was appended. Returns the
 * bytes used, or 0 when buf is not such a dump (s may then hold part of it: free it).
 */
size_t zl_msgstore_undump(zl_msgstore *s, const char *buf, size_t len);

struct zl_corp_index; /* private lookup tables */

typedef struct zl_corp {
    const char *corpid;
    const char *name;
    zl_app *apps;
    size_t app_count;
    zl_program *programs;
    size_t program_count;
    zl_member *members;
    size_t member_count;
    zl_external *externals;
    size_t external_count;
    zl_group *groups;
    size_t group_count;
    zl_consent *consents; /* file order, then decisions recorded at run time */
    size_t consent_count;
    zl_public_key *public_keys; /* strictly increasing versions */
    size_t public_key_count;
    zl_department *departments;
    size_t department_count;
    zl_tag *tags;
    size_t tag_count;
    bool test_corp;        /* a provider's test corp: debug mode for 代开发 apps (else 710672) */
    zl_msgstore *messages; /* never NULL in a loaded world */
    struct zl_corp_index *index;
} zl_corp;

struct zl_arena;

typedef struct zl_world {
    zl_corp *corps;
    size_t corp_count;
    zl_provider *providers;
    size_t provider_count;
    int64_t clock_start;      /* Unix seconds the virtual clock starts at; 0 = the wall clock */
    const char *options_json; /* the top-level "options" object as JSON text, NULL when absent:
                                 the emulator's options, which the emu layer checks and applies
                                 (emu/options.h), as this layer does not know them */
    struct zl_arena *arena;   /* private: owns every string and array above */
} zl_world;

/*
 * Loads a world from the JSON file at path; pem_file paths are relative to the file's
 * folder. Returns the world (free with zl_world_free), or NULL with one sentence in err
 * naming the JSON path of the problem, e.g. "corps[0].apps[1].encoding_aes_key must be 43
 * characters (got 42)". Nothing is half-loaded.
 */
zl_world *zl_world_load_file(const char *path, char *err, size_t errlen);
/*
 * A world file of at least bytes bytes (16 MiB unless set) gets a cache beside it,
 * <file>.zlcache: its messages in binary, keyed by the SHA-256 of the file, so the next
 * zl_world_load_file of the same bytes skips parsing them; a file that changed in any byte
 * is loaded from its JSON (and cached anew). SIZE_MAX turns the cache off. Returns the
 * previous threshold.
 */
size_t zl_world_cache_min_bytes(size_t bytes);
/*
 * As zl_world_load_file, from text (len bytes, borrowed, need not be NUL-terminated).
 * base_dir resolves relative pem_file paths; NULL refuses relative pem_file paths.
 */
zl_world *zl_world_load_json(const char *text, size_t len, const char *base_dir, char *err,
                             size_t errlen);
/* The built-in default world (fixtures/worlds/default.json, compiled in), loaded. */
zl_world *zl_world_load_default(char *err, size_t errlen);
/* The built-in default world's JSON text (len bytes, static, not NUL-terminated). */
const unsigned char *zl_world_default_json(size_t *len);
/* Frees w and everything in it; accepts NULL. */
void zl_world_free(zl_world *w);

/*
 * Lookups. Each returns the item owned by the world, or NULL when there is none (also for
 * NULL arguments). Members, externals and groups are hashed; the rest are short lists.
 */
zl_corp *zl_world_corp(zl_world *w, const char *corpid);
zl_app *zl_corp_app(zl_corp *c, uint32_t agentid);
zl_program *zl_corp_program(zl_corp *c, const char *program_id);
zl_ability *zl_program_ability(zl_program *p, const char *ability_id);
zl_member *zl_corp_member(zl_corp *c, const char *userid);
zl_external *zl_corp_external(zl_corp *c, const char *external_userid);
zl_group *zl_corp_group(zl_corp *c, const char *chatid);
/*
 * Archives the message objects of arr (as in a world file; send_time defaults to
 * default_time) into c in array order, each checked as the loader checks it and no older
 * than the newest archived message. Returns how many were archived; on a bad message -1
 * with err naming it ("messages[2].sender.id ..."); the messages before it stay archived.
 */
long zl_corp_archive_json(zl_world *w, zl_corp *c, const cJSON *arr, int64_t default_time,
                          char *err, size_t errlen);
/*
 * The decision of external_userid in a 1:1 chat with userid (chatid NULL) or in group chatid
 * (userid NULL); NULL when the contact has not decided (hashed). The pointer stays valid
 * until the next zl_corp_consent_set on c.
 */
const zl_consent *zl_corp_consent(const zl_corp *c, const char *userid, const char *chatid,
                                  const char *external_userid);
/*
 * Records a decision (copied; one of in->userid and in->chatid set), replacing the pair's
 * earlier one. Checked as the loader checks a file's consents: userid a member, chatid a
 * group that holds external_userid as an external member (type 2). Returns 0, or -1 with c
 * unchanged and one sentence in err that starts with the offending field.
 */
int zl_corp_consent_set(zl_world *w, zl_corp *c, const zl_consent *in, char *err, size_t errlen);
/*
 * Whom an app's archive covers. members[i] says whether member i of the corp (c->members[i])
 * is effective for the app: inside its authorisation's scope and among the seats its
 * provider bought (the emulator computes it; zl_auth_scope_members is the scope half). A
 * NULL zl_scope, or members NULL, is the corp's own scope: the members with in_scope.
 */
typedef struct zl_scope {
    const bool *members;
    /* The authorisation's scope lists, for questions about departments; NULL (or its
     * scope_given false) is the corp's own scope, which holds every department of the corp. */
    const zl_auth *auth;
} zl_scope;

/* Whether member m of c (one of c->members when s gives members) is inside s. */
bool zl_scope_has(const zl_corp *c, const zl_scope *s, const zl_member *m);
/*
 * Whether department id of c is inside s: a department of c that s's department_ids (or the
 * department_ids of one of its tags) name, itself or as an ancestor; with the corp's own scope
 * (s NULL, s->auth NULL or not scope_given), any department of c. false for an id c lacks.
 */
bool zl_scope_has_department(const zl_corp *c, const zl_scope *s, uint32_t id);
/* Whether member m of c belongs to department id of c or to one of its sub-departments. */
bool zl_member_in_department(const zl_corp *c, const zl_member *m, uint32_t id);
/* Whether some employee member (type 1) of g is a member of c inside s. */
bool zl_group_in_scope(zl_corp *c, const zl_scope *s, const zl_group *g);
/*
 * Marks in[i] for every member i of c inside a's scope: its userids, the members of its
 * departments and their sub-departments, and the tags' members and the members of the tags'
 * departments (and their sub-departments). a NULL, or a->scope_given false, is the corp's own
 * scope (in_scope). in has c->member_count entries. Returns how many are marked.
 */
size_t zl_auth_scope_members(const zl_corp *c, const zl_auth *a, bool *in);
/* The suite with this suite_id, or NULL (providers and suites are short lists). */
zl_suite *zl_world_suite(zl_world *w, const char *suite_id);
/* The provider whose own corpid this is, or NULL. */
zl_provider *zl_world_provider(zl_world *w, const char *corpid);
/* The department id, or tag tagid, of c (hashed); NULL when there is none. */
zl_department *zl_corp_department(zl_corp *c, uint32_t id);
zl_tag *zl_corp_tag(zl_corp *c, uint32_t tagid);
/* The public key with the highest version, or NULL when the corp has none. */
const zl_public_key *zl_corp_newest_key(const zl_corp *c);
/* Whether the program is associated with the app agentid. */
bool zl_program_has_agent(const zl_program *p, uint32_t agentid);
/* Whether url is an http:// or https:// URL with something after the scheme, at most
 * ZL_WORLD_MAX_URL bytes, without spaces or control characters. */
bool zl_world_url_ok(const char *url);

#endif
