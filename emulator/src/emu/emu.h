/* emu: the emulator's state on top of the world (tokens, keys, jobs, notify ids, program
 * replicas) and the faces that change it: app API, SDK invoke, program callbacks, events. */
#ifndef ZL_EMU_H
#define ZL_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "emu/appnotify.h"
#include "emu/proglog.h"
#include "core/engine.h"
#include "core/journal.h"
#include "wecom/logline.h"
#include "wecom/msgsync.h"
#include "wecom/protocol.h"
#include "core/strmap.h"
#include "wire.h"
#include "wecom/world.h"

/* The models' kinds, in the order of api/models_int.h's model_kind (daily budgets). */
#define ZL_EMU_MODEL_KINDS 8

/* WeCom's model tasks (api/models*.c; POST /_zonelab/models/config is an alias). */
typedef struct zl_emu_models_options {
    long long latency_ms;                       /* a task finishes this long after creation */
    long long daily_budget[ZL_EMU_MODEL_KINDS]; /* per corp and quota day */
    long long per_minute_budget; /* general model calls per provider per minute, 100 */
    int per_minute_overflow;     /* 0 delay, 1 fail, 2 refuse (ZL_MODELS_OVER_*) */
    int duplicate_errcode;       /* a repeated msgid in fail_list: 710613 or 710601 */
    bool ww_model_text_only;     /* the self-built general model takes text only */
    long long ack_timeout_ms;    /* an own model or program answers its task's call within */
    int pending_errcode;         /* get_*_task_result before the report: 710642 or 790023 */
} zl_emu_models_options;

/* Conversation export jobs (api/export.c; POST /_zonelab/export/config is an alias). */
typedef struct zl_emu_export_options {
    long long waiting_ms, running_ms; /* a job waits (status 1), then runs (2), then is done */
    long long daily_budget;           /* created jobs per corp and quota day, 1000 */
    int bad_code_errcode;             /* a bad or reused display component code, 40058 */
    bool accept_upload_media;         /* a template media_id may come from upload_media */
} zl_emu_export_options;

/* Every behaviour WeCom leaves open, with its default (docs/emulator.md lists them). */
typedef struct zl_emu_options {
    int64_t token_ttl_s;       /* access_token lifetime, 7200 */
    bool token_fresh_each;     /* false: gettoken answers the same token while it is valid
                                  ("有效期内重复获取返回相同结果", doc 42543); true: a new
                                  one each call (zonelab before issue 16) */
    long program_timeout_ms;   /* sync_call_program / async_program_task wait, 10000 */
    long event_timeout_ms;     /* event delivery wait, 5000 */
    long delivery_window;      /* callbacks (events and app calls) in flight per replica, 64 */
    long delivery_queue_max;   /* callbacks waiting for one replica at most, 100000 */
    int64_t notify_ttl_s;      /* notify_id lifetime, 600 */
    int64_t event_token_ttl_s; /* conversation_new_message token lifetime, 600 */
    int64_t window_s;          /* sync_msg retention window, 5 days */
    int sync_budget_per_min;   /* sync_msg calls per minute per corp without a token, 10 */
    int64_t page_ttl_s;        /* page_id lifetime, 600 */
    int64_t job_ttl_s;         /* async job retention, 24 h */
    int64_t debug_token_ttl_s; /* debug token lifetime, 3 days */
    bool notify_any;           /* false: a notify_id call goes to the issuing replica */
    bool notify_strict_64;     /* true: caller notify ids up to 64 bytes ("不超过64字节",
                                  doc 53408); false: up to 128, the app side's NotifyId bound
                                  (doc 53360) */
    bool notify_pass_any;      /* false: sync_call_program checks notify ids */
    size_t max_scan;           /* messages a sync_msg call examines at most, 100000 */
    bool journal_replies;      /* false: sync_msg pages are journaled as msgids only; true: also
                                  the whole reply text ("reply"), which journal replay needs */
    zl_appnotify_options app_callbacks;
    bool suite_omit_errcode;   /* false: get_suite_token, get_provider_token, get_corp_token and
                                  the old get_permanent_code answer errcode 0 / errmsg "ok"; true:
                                  a success has neither ("因历史原因，该接口在调用失败时才返回
                                  errcode", docs 14939, 14944, 42542) */
    bool gettoken_third_party; /* true: a third-party app gets a token from gettoken with its
                                  world secret; false: WeCom's way, its secret is refused
                                  (40001) and get_corp_token is its path */
    /* ---- the rest of the options table (emu/options.c names every field) ---- */
    zl_protocol_options protocol; /* the ability protocol checks (wecom/protocol.h) */
    long ready_timeout_ms;        /* replicas must listen within it at start, 10000 */
    int async_pending_errcode;    /* async_program_result before the report: 710642, 790023 */
    struct {
        int empty_cursor;         /* 0: "" cursor or token is 40058; 1: as if absent */
        int limit_over_max;       /* 0: limit > 1000 is 40058; 1: clamped to 1000 */
        int no_public_key;        /* 0: 710659 before the app's first key; 1: an empty page */
        int cursor_before_window; /* 0: continue at the window start; 1: 710611 */
    } sync_msg;
    struct {
        int has_more;       /* 0: an integer 1/0 (the field table); 1: a boolean (the example) */
        int limit_over_max; /* 0: limit > 1000 is 40058; 1: clamped to 1000 */
    } auth_user_list;
    zl_emu_models_options models;
    zl_emu_export_options export;
    long long kb_learn_latency_ms;   /* a knowledge-set document learns this long, 2000 */
    long long rule_list_max_limit;   /* get_rule_list's largest limit, 1000 */
    int notify_id_reuse;             /* a caller notify_id still valid: 0 re-armed, 1 40058 */
    bool redirect_8080;              /* true: the replicas zonelab starts get the preload that moves
                                        a bind() to port 8080 ("自行监听8080端口", doc 54006) onto
                                        their ZONELAB_PORT (ports.c); false: nothing is preloaded */
    uint64_t log_cap_bytes_per_hour; /* program log bytes stored per program per hour, 1 GiB
                                        ("1 GB", program-side.md §6; 0 = no cap) */
    bool replica_restart;            /* true: a replica zonelab started that exits is started
                                        again, with backoff (program.c); serve: true, a
                                        scenario: false */
    int64_t replica_restart_delay_ms;  /* the first restart's delay, doubling after, 100 */
    int64_t replica_restart_max_ms;    /* the doubling's cap, 5000 */
    int64_t replica_restart_stable_ms; /* listening this long since its start: its next exit is
                                          restarted after the first delay again, 10000 */
} zl_emu_options;

/* Fills o with the defaults. */
void zl_emu_options_default(zl_emu_options *o);

typedef struct zl_replica {
    char instance[160]; /* "<program_id>/<n>", ZONELAB_INSTANCE */
    unsigned port;      /* where the replica listens (ZONELAB_PORT) */
    char url[64];       /* http://127.0.0.1:port */
    pid_t pid;          /* 0 when zonelab did not spawn it */
    int exited;         /* the spawned process has ended */
    int expected_exit;  /* it was stopped on purpose (a scenario killed it) */
    int exit_code;      /* when exited: the exit code, or 128 + signal */
    zl_proglog *log;    /* its output's pipe (emu/proglog.c), NULL when none */
    int listened;       /* seen listening on port (with its own socket) since it was started */
    /* the preload's word that it listens: one end of a socket pair whose other end the replica
     * inherits (ZONELAB_READY_FD); its listen() on ZONELAB_PORT sends a byte there
     * (emulator/preload), read by zl_emu_replica_listening (ports.c) */
    bool ready_armed;
    int ready_fd;
    int64_t spawned_mono_ms; /* when it was started, on CLOCK_MONOTONIC */
    int port_moves;          /* times its port was found taken by another process and changed */
    unsigned in_flight;      /* callbacks sent to it and not answered yet (emu/program.c) */
    struct zl_call *waiting, *waiting_tail; /* callbacks waiting for a slot (delivery_window) */
    unsigned n_waiting;                     /* in that list, at most delivery_queue_max */
    /* supervision (opt.replica_restart, program.c) */
    bool down;                /* died (or stopped answering) and not listening again yet: events
                                 for it wait in its list instead of being sent */
    bool restart_pending;     /* exited; zl_emu_reap starts it again at restart_at_ms */
    int64_t restart_at_ms;    /* virtual ms (zl_emu_now_ms): clock.advance brings it */
    int64_t restart_delay_ms; /* how long after its exit restart_at_ms is */
    int64_t started_ms;       /* virtual ms of its last start */
    int64_t held_ms;   /* virtual ms an event's transfer to it last failed, to be sent again */
    unsigned restarts; /* restarts since it last stayed up replica_restart_stable_ms */
} zl_replica;

typedef struct zl_prog_rt {
    zl_corp *corp;
    zl_program *prog;
    char *command;       /* how replicas are started (zl_emu_spawn), NULL when not by zonelab */
    uint32_t secret_ver; /* unique per program: the wire's ww-secret-ver names the program */
    char secret_b64[48];
    zone_wire_keys keys;
    zone_wire_replay *replay;
    zl_replica *replicas;
    size_t replica_count;
    size_t next_replica; /* round robin for events and calls without a notify_id */
    cJSON **input_ex;    /* parsed protocol examples, one per ability */
    cJSON **output_ex;
    int log_level;        /* 1..3, default 2 */
    zl_logcap logcap;     /* log bytes stored this hour (emu/proglog.c) */
    bool debug_app_open;  /* open_debug_mode succeeded */
    bool debug_sdk_open;  /* SpecOpenDebugMode succeeded */
    char debug_token[40]; /* the console's debug token */
    int64_t debug_token_expires_ms;
    char debug_url[ZL_WORLD_MAX_URL + 1]; /* the console's 接收事件服务器, "" when none */
    zl_replica dev; /* the developer's machine (zl_emu_spawn_dev); pid 0 when not started */
} zl_prog_rt;

/*
 * A corp's authorisation of an app's data zone at run time (emu/auth.c): it starts as the
 * world's zl_auth and changes with the virtual clock (the end of a period) and the lifecycle
 * (buy, expire, cancel, re-grant, scope, seats, retention).
 */
typedef struct zl_app_auth {
    zl_edition editions[3];
    size_t edition_count;
    uint32_t seats;             /* the provider's interface accounts in the corp; 0 = no limit */
    uint32_t msg_duration_days; /* 90, 180, 365 or 730 */
    bool scope_given;           /* false: the corp's own scope (members' in_scope) */
    char **userids;             /* the scope (owned copies) */
    size_t userid_count;
    uint32_t *department_ids;
    size_t department_count;
    uint32_t *tag_ids;
    size_t tag_count;
    bool test;      /* a test installation (third-party debug mode) */
    bool cancelled; /* cancel_auth: no token, no archive, until a re-grant */
    char permanent_code[80];
    char auth_code[80]; /* the temporary code create_auth carried, "" when none or used */
    int64_t auth_code_expires_ms;
    bool *in_scope;    /* per member of the corp: inside the scope */
    bool *effective;   /* per member: inside the scope and among the provider's seats */
    zl_scope view;     /* .members = effective: what the app's archive covers */
    zl_auth view_auth; /* view.auth: the scope lists above (departments inside the scope) */
} zl_app_auth;

typedef struct zl_app_rt {
    zl_corp *corp;
    size_t corp_index;
    zl_app *app;
    uint32_t scope;       /* binds cursors to this corp and app */
    zl_prog_rt *receiver; /* set_receive_callback, NULL = none */
    /* The app's public keys ("加密需要用到应用设置的公钥", spec FAQ doc 55301): every
     * encrypted_secret_key it receives is made with them, and its archive starts with its
     * first key: messages archived before archive_from (a message index) are not its. */
    zl_keyring *keys;
    size_t archive_from;
    char access_token[48]; /* the newest gettoken answer, "" before the first */
    zl_app_auth auth;
} zl_app_rt;

typedef struct zl_corp_rt {
    zl_corp *corp;
    int64_t rl_window_s; /* start of the current rate-limit minute */
    int rl_count;
} zl_corp_rt;

/*
 * A scenario's hold on the SDK face: called for every verified invoke before the API runs.
 * Returns ZL_HOOK_PASS (serve normally), ZL_HOOK_REPLY (*reply is the answer, owned),
 * ZL_HOOK_RESET (drop the connection), ZL_HOOK_GARBAGE (answer 200 with bytes no SDK can
 * open), or ZL_HOOK_DELAY (serve normally after *delay_ms).
 */
enum { ZL_HOOK_PASS, ZL_HOOK_REPLY, ZL_HOOK_RESET, ZL_HOOK_GARBAGE, ZL_HOOK_DELAY };
typedef int (*zl_sdk_hook)(void *ud, const char *api, const cJSON *request, cJSON **reply,
                           long *delay_ms);

struct zl_emu;

/*
 * A part of the emulator above this layer (an SDK API family, a face) that keeps state on it.
 * The emulator never names a part: a part registers its state the first time it needs it,
 * and the emulator calls these when it archives and when it is freed.
 */
typedef struct zl_emu_part_ops {
    const char *name;
    /* Frees state (the engine is already gone: no timers, no requests). */
    void (*free)(void *state);
    /* Messages first..end-1 of corp c were just archived; report (may be NULL) is the archive
     * report to add to. NULL when the part does not care. */
    void (*on_archive)(struct zl_emu *emu, void *state, zl_corp *c, size_t first, size_t end,
                       cJSON *report);
} zl_emu_part_ops;

#define ZL_EMU_MAX_PARTS 16

typedef struct zl_emu {
    zl_engine *engine;
    zl_journal *journal;
    zl_world *world;
    zl_emu_options opt;
    zl_appnotify *notify_out;
    zl_corp_rt *corps; /* parallel to world->corps */
    zl_app_rt *apps;
    size_t app_count;
    zl_prog_rt *progs;
    size_t prog_count;
    zl_cursor_key cursor_key;
    zl_strmap *tokens;       /* access_token -> struct token */
    zl_strmap *event_tokens; /* sync_msg token -> struct event_token */
    zl_strmap *notify_ids;   /* notify_id -> struct notify */
    zl_strmap *jobs;         /* jobid -> struct job (owner) */
    zl_strmap *job_infos;    /* job_info -> struct job (borrowed) */
    zl_strmap *pages;        /* page_id -> struct page */
    zl_strmap *media;        /* media_id -> struct zl_media (owned, with its bytes) */
    bool closing;            /* the engine is being freed: callbacks must not answer requests */
    const char *log_dir;     /* where spawned replicas write stdout/stderr; NULL = inherit */
    zl_sdk_hook sdk_hook;    /* NULL = none */
    void *sdk_hook_ud;
    /* invokes a hook reset: libcurl re-sends them on a reused connection, and those are
     * reset too, not refused as replays */
    char reset_nonces[8][72];
    unsigned reset_next;
    /* the parts' own state (api/ families, the SDK face), registered with zl_emu_part_set */
    struct zl_emu_part {
        const struct zl_emu_part_ops *ops;
        void *state;
    } parts[ZL_EMU_MAX_PARTS];
    size_t part_count;
    uint64_t last_seq;   /* the creation sequence's last number (zl_emu_seq) */
    uint64_t calls_made; /* callbacks made by zl_emu_call_program: their order (program.c) */
    /* How a replica is started again on a new port when another process took its port before
     * it listened: the owner's own spawn (with its environment); NULL: zl_emu_spawn_one. */
    int (*respawn)(struct zl_emu *emu, zl_prog_rt *p, size_t i, void *ud);
    void *respawn_ud;
} zl_emu;

/*
 * Builds the runtime state over world (borrowed; it must outlive the emu), installs the app
 * API and SDK routes on e and allocates a loopback port for every program replica (the
 * world's count; zl_emu_set_replicas changes it before spawning). NULL with err.
 */
zl_emu *zl_emu_new(zl_engine *e, zl_journal *j, zl_world *w, const zl_emu_options *opt, char *err,
                   size_t errlen);
/*
 * Shutdown in three steps: zl_emu_shutdown (stops replicas, cancels app callbacks, makes
 * callbacks still in flight leave requests alone), then zl_engine_free (runs those
 * callbacks once), then zl_emu_free.
 */
void zl_emu_shutdown(zl_emu *emu); /* accepts NULL */
/* Frees everything; without an earlier zl_emu_shutdown it does that first. */
void zl_emu_free(zl_emu *emu);

/* The state a part registered under ops (NULL until it does). */
void *zl_emu_part(zl_emu *emu, const zl_emu_part_ops *ops);
/* Registers state (taken: freed with ops->free in zl_emu_free) under ops. 0, or -1 when the
 * table is full (state is not taken then). */
int zl_emu_part_set(zl_emu *emu, const zl_emu_part_ops *ops, void *state);

/*
 * Adds a public key to app a's ring (as set_public_key or the admin console does): messages
 * archived from now on are encrypted with it, and when it is a's first key a's archive starts
 * now. Returns 0; -1 for a PEM that is not an RSA-2048 public key, -2 for a version not
 * greater than the newest (err says which; nothing changes).
 */
int zl_emu_app_key_add(zl_emu *emu, zl_app_rt *a, uint32_t version, const char *pem, size_t pem_len,
                       char *err, size_t errlen);
/* Whether some app of corp c has a public key (WeCom archives nothing for a corp before). */
bool zl_emu_corp_archives(zl_emu *emu, const zl_corp *c);

/* ---- the apps' authorisations (auth.c) ---- */
/* Sets every app's authorisation from the world (zl_emu_new calls it). 0, or -1 with err. */
int zl_emu_auth_init(zl_emu *emu, char *err, size_t errlen);
/* Frees what the apps' authorisations own. */
void zl_emu_auth_cleanup(zl_emu *emu);
/*
 * Recomputes who the apps of corp c cover after a change of scope, seats or the address
 * book: each app's in_scope from its scope, then each provider's seats shared by its apps in
 * c ("合并去重的人数不超过购买的接口账号数"): when the union of their scopes is larger, the
 * members who keep a seat are drawn ("随机取", FAQ doc 55301) in an order fixed by the seed.
 */
void zl_emu_auth_refresh(zl_emu *emu, const zl_corp *c);
/* What app a's archive covers: its effective members (for zl_msg_visible and friends). */
const zl_scope *zl_emu_app_scope(const zl_app_rt *a);
/* Edition e's status now: a period whose end_time passed has expired (1 -> 2, 3 -> 4, 5 -> 6)
 * and a pending one whose begin_time came is paid (7 -> 3). */
zl_auth_status zl_emu_edition_status(zl_emu *emu, const zl_edition *e);
/*
 * Whether app a may use its archive now: 0; 48004 when the corp cancelled the authorisation
 * ("授权关系无效"); when no edition is in effect: 710651 ("没有付费版本") when none ever had
 * a period (authorised after the shared trial ended and never bought), 710653 / 710654 when
 * the trial / paid period ended more than 30 days ago and its content is gone, else 301052
 * ("会话存档已过期"). Self-built apps: 0.
 */
int zl_emu_app_archive_check(zl_emu *emu, zl_app_rt *a);
/*
 * Whether message idx of a's corp is in a's archive: 0 when it is; 710601 when it is not the
 * app's (archived before its first key, or no party among its effective members); 710652 when
 * it is older than the authorisation's msg_duration_days.
 */
int zl_emu_app_msg_check(zl_emu *emu, zl_app_rt *a, size_t idx);

/*
 * The lifecycle as the control face serves it (POST /_zonelab/auth/<verb>, body {"corpid"?,
 * "agentid"?, ...}; docs/control-api.md): info (GET too), expire, buy, scope, retention,
 * cancel, grant. Returns the HTTP status: 200 with *reply (owned: the app's authorisation
 * now), or 4xx with why.
 */
unsigned zl_emu_auth_control(zl_emu *emu, const char *verb, const cJSON *body, cJSON **reply,
                             char *why, size_t whylen);

/* ---- debug mode (debug.c; doc 54809, 54810) ---- */
/*
 * Whether app a may open debug mode: 0, or 710672 ("服务商非测试企业或应用非测试授权安装，
 * 不允许使用调试模式"): a third-party app needs a test installation (a->auth.test), a 代开发
 * app a provider's test corp (test_corp). Self-built apps: always 0 (the vendor states none).
 */
int zl_emu_debug_allowed(const zl_app_rt *a);
/* Gives p a new debug token, valid opt.debug_token_ttl_s from now. */
void zl_emu_debug_token_new(zl_emu *emu, zl_prog_rt *p);
/*
 * The console's 调试凭证-获取 for p: "有效期内重复获取会获取到同样的凭证，并且不会刷新过期时间"
 * (doc 54809), so p's token stays while it is valid and is replaced once it expired. Journaled
 * ("control" "debug_token"). Returns true when a new token was made.
 */
bool zl_emu_debug_token_fetch(zl_emu *emu, zl_prog_rt *p);
/* Sets p's debug URL (url borrowed; "" clears it) and journals it ("control" "debug_url").
 * 0, or -1 when url is neither "" nor an http(s) URL (zl_world_url_ok; nothing changes). */
int zl_emu_debug_url_set(zl_emu *emu, zl_prog_rt *p, const char *url);
/* Whether p's callbacks (app calls, tasks, events) go to p->debug_url instead of its replicas:
 * debug mode in effect (both halves open) and a debug URL set. */
bool zl_emu_debug_forwarding(const zl_prog_rt *p);

/* ---- what an app reads of its authorisation (auth_info.c) ---- */
/*
 * get_corp_auth_info's auth_edition_list for app a (owned by the caller): one entry per
 * edition of its authorisation with its status now, begin_time / end_time when set, the
 * scope lists (for the corp's own scope: its members), msg_duration_days and auth_user_count,
 * the members inside the scope counted once ("企业授权存档的去重人数", doc 55567).
 */
cJSON *zl_emu_auth_edition_list(zl_emu *emu, zl_app_rt *a);
/*
 * The editions (ascending, into out) under which member index `member` of a's corp is archived
 * for a, as get_auth_user_list's edition_list: for each of a's editions in effect now (trial,
 * paid or free), that edition capped at the member's own edition, each once. Returns how many;
 * 0 for a member outside a's effective members or when no edition is in effect.
 */
size_t zl_emu_member_editions(zl_emu *emu, zl_app_rt *a, size_t member, int out[3]);
/* ---- access tokens (tokens.c) ---- */
/*
 * App a's access_token, as gettoken and get_corp_token give it ("本质上是一样的", doc
 * 14944): the one it has while that is valid ("有效期内重复获取返回相同结果", doc 42543;
 * opt.token_fresh_each makes a new one each call), else a new one valid opt.token_ttl_s.
 * Writes it into out and its seconds left into *expires_in. 0, or -1 out of memory.
 */
int zl_emu_app_token(zl_emu *emu, zl_app_rt *a, char out[48], int64_t *expires_in);

/* ---- the suites' command callbacks (suite.c) ---- */
/*
 * Pushes an authorisation event about app a's corp to a's suite command URL (指令回调URL,
 * doc 14951): info_type "create_auth" (with a->auth.auth_code), "change_auth",
 * "cancel_auth" or "reset_permanent_code" (doc 31408, with a->auth.auth_code); encrypted
 * with the suite's Token and EncodingAESKey, receiveid the suite_id, answered "success". A
 * suite whose callback_url is "" keeps it in the built-in fake provider. Nothing is sent for
 * an app without a suite. Journaled as {"face":"callback","kind":"suite"} either way.
 */
void zl_emu_suite_auth_event(zl_emu *emu, zl_app_rt *a, const char *info_type);
/*
 * Starts the suite_ticket pushes (doc 14947): one for every suite now, then every 10 minutes
 * of virtual time, each ticket valid 30 minutes from its push. 0, or -1 out of memory.
 */
int zl_emu_suite_start(zl_emu *emu);
/* Whether value is a suite_ticket pushed for suite s: 0 valid (pushed less than 30 minutes
 * ago), -2 expired, -1 never pushed for s (or long forgotten). */
int zl_emu_suite_ticket_check(zl_emu *emu, const zl_suite *s, const char *value);
/*
 * The built-in fake provider's inbox: a new array (caller deletes) of what it received with
 * seq > since, of suite_id (NULL = every suite), oldest first: {seq, t (virtual ms),
 * suite_id, info_type, xml (the decrypted plaintext), fields {element: text}}. NULL when
 * memory runs out.
 */
cJSON *zl_emu_provider_inbox(zl_emu *emu, const char *suite_id, uint64_t since);
/* Newest fake-provider inbox seq, 0 when nothing was received. */
uint64_t zl_emu_provider_inbox_last(zl_emu *emu);
/* The newest suite_ticket of s the fake provider received that is still valid (borrowed,
 * until the next push), and when it was pushed; NULL when it holds none. */
const char *zl_emu_provider_ticket(zl_emu *emu, const zl_suite *s, int64_t *pushed_ms);

/* Lookups (NULL when absent). */
zl_prog_rt *zl_emu_prog(zl_emu *emu, const char *corpid, const char *program_id);
zl_prog_rt *zl_emu_prog_by_ver(zl_emu *emu, uint32_t secret_ver);
zl_app_rt *zl_emu_app(zl_emu *emu, const char *corpid, uint32_t agentid);
zl_corp_rt *zl_emu_corp(zl_emu *emu, const zl_corp *c);

/* A request id for errmsg hints and the journal (16 hex characters). */
void zl_emu_req_id(zl_emu *emu, char out[17]);
/* The next number (1, 2, ...) of the emulator's creation sequence. Every job, task, token
 * and notify id takes one when it is made; lists sorted by time break ties with it, so two
 * things made in the same virtual millisecond keep the order they were made in. */
uint64_t zl_emu_seq(zl_emu *emu);
/* Virtual now in ms and s. */
int64_t zl_emu_now_ms(zl_emu *emu);

/* Replicas: sets the number of replicas of p (before spawning), allocating ports. */
int zl_emu_set_replicas(zl_emu *emu, zl_prog_rt *p, size_t n, char *err, size_t errlen);
/* Spawns cmd (run with /bin/sh -c) once per replica of p with the ZONELAB_* environment. */
int zl_emu_spawn(zl_emu *emu, zl_prog_rt *p, const char *cmd, char *err, size_t errlen);
/*
 * Starts the developer's machine of p (the debug program of doc 54809, run outside the zone):
 * cmd (NULL: p's command) with p's ZONELAB_* environment, but ZONELAB_INSTANCE
 * "<program_id>/debug" and a port of its own (p->dev.url). A running one is stopped first;
 * stop_replicas and reap see it too. 0, or -1 with err.
 */
int zl_emu_spawn_dev(zl_emu *emu, zl_prog_rt *p, const char *cmd, char *err, size_t errlen);
/* (Re)starts replica i with the command given to zl_emu_spawn. */
int zl_emu_spawn_one(zl_emu *emu, zl_prog_rt *p, size_t i, char *err, size_t errlen);
/* Starts r (a replica of p, or its developer's machine) with cmd and p's environment
 * (emu/spawn.c); 0, or -1 with err. */
int zl_emu_spawn_at(zl_emu *emu, zl_prog_rt *p, zl_replica *r, const char *cmd, char *err,
                    size_t errlen);
/* Sends sig to replica i's process group (SIGKILL also reaps it; SIGSTOP returns once it has
 * stopped). 0 or -1. */
int zl_emu_signal_replica(zl_emu *emu, zl_prog_rt *p, size_t i, int sig);
/* Waits (real time, up to timeout_ms) until every replica of p accepts TCP connections;
 * 0 when all do. Also reaps exited processes. */
int zl_emu_wait_ready(zl_emu *emu, zl_prog_rt *p, long timeout_ms, char *err, size_t errlen);
/* Forgets expired tokens, notify ids, pages, media and jobs (call now and then: they
 * would otherwise grow with every gettoken and every event). */
void zl_emu_sweep(zl_emu *emu);
/* Whether something accepts TCP connections on 127.0.0.1:port. */
int zl_emu_port_open(unsigned port);
/* Closes r's end of its ready socket pair (ready_armed, ready_fd), if any. */
void zl_emu_replica_ready_close(zl_replica *r);
/*
 * Whether replica r listens: its port accepts connections and, when zonelab started it, the
 * listening socket is its own (a process of its process group holds it), not another
 * program's that took the port first; or the preload said so from the replica itself (its
 * listen() on ZONELAB_PORT). Sets r->listened and journals "program" "listening" the first
 * time. Use this, not zl_emu_port_open, to wait for a replica.
 */
int zl_emu_replica_listening(zl_emu *emu, zl_replica *r);
/* 1 when a process of process group pgid holds the socket listening on port, 0 when another
 * process does, -2 when no listener is in sight (another network namespace, a NAT rule, or
 * one that has just gone), -1 when its holder's descriptors cannot be read (another
 * user's) (ports.c). */
int zl_emu_listener_owned(pid_t pgid, unsigned port);
/*
 * Splits a command of the form `exec WORD...` into argv (at most max - 1 words, then NULL),
 * the words' bytes in buf (cap), as sh -c would: a word is plain bytes (letters, digits,
 * _./:@%+,=-), '...' taken as is and "..." with $NAME or ${NAME} expanded from the
 * environment (unset: empty). The number of words, or -1 when the command needs the shell
 * (anything else: $ outside quotes, globs, redirections, ;, a \, no exec, no words, too long)
 * (spawn.c).
 */
int zl_emu_command_words(const char *cmd, char **argv, size_t max, char *buf, size_t cap);
/* Whether another process holds 127.0.0.1:port (listening, or as a connection's local port),
 * so a program could not listen there (ports.c). */
int zl_emu_port_taken(unsigned port);
/* Reaps ended replica processes and journals them (call every turn). A replica that ended
 * before it listened because another process holds its port gets a new port and is started
 * again (emu->respawn), up to 3 times, journaled as "port_taken". With opt.replica_restart,
 * a replica that exited is started again (emu->respawn) once its backoff is over, journaled
 * as "replica_restart", and the events held for it are sent once it listens. */
void zl_emu_reap(zl_emu *emu);
/* The environment a replica of p needs, as "NAME=value" lines (spawn.c). */
void zl_emu_replica_env(zl_emu *emu, const zl_prog_rt *p, size_t replica, const char *base_url,
                        FILE *out);

/* ---- where a replica listens (ports.c; docs/emulator.md, "Ports") ---- */
/* A TCP socket a process listens on. */
typedef struct zl_listen_addr {
    char text[64]; /* "0.0.0.0:9090", "[::1]:41234" */
    unsigned port;
} zl_listen_addr;
/*
 * The preload library (emulator/preload) that moves a replica's bind() to TCP port 8080, any
 * address, onto 127.0.0.1:$ZONELAB_PORT: its path (static storage), or NULL when
 * opt.redirect_8080 is off or it is not found. *why (when why is not NULL) is then a sentence
 * saying which ("" when the path is given).
 */
const char *zl_emu_preload(const zl_emu *emu, const char **why);
/*
 * In a replica's process, between fork and exec: appends path to LD_PRELOAD, and
 * verify_asan_link_order=0 to ASAN_OPTIONS (a program built with ASan's shared runtime refuses
 * to start when another library is loaded before that runtime).
 */
void zl_emu_preload_env(const char *path);
/*
 * zonelab's fakes of the vendor's language SDKs, for the programs it starts (emu/fakes.c):
 * zl_emu_fakes_find looks for them once (call it before forking, so children need not);
 * zl_emu_fake_path says where one is (static storage), or NULL when it was not found;
 * zl_emu_fakes_env, in a replica's process between fork and exec, appends the folder holding
 * the wwspecapisdk package to PYTHONPATH, sets ZONESDK_LIBRARY (which that package loads)
 * unless set, and ZONELAB_JAVA_CLASSPATH (the jar of the Java classes) and
 * ZONELAB_JAVA_LIBRARY_PATH (the folder of their JNI library) for a java command line.
 * What is not found is left alone.
 */
typedef enum zl_fake {
    ZL_FAKE_PYTHON,         /* the folder holding wwspecapisdk/ */
    ZL_FAKE_LIBZONESDK,     /* libzonesdk.so.N (none in a sanitizer build) */
    ZL_FAKE_JAVA_CLASSPATH, /* zonesdk-java.jar */
    ZL_FAKE_JAVA_LIBRARY,   /* the folder holding the JNI libWeWorkSpecSDK.so */
    ZL_FAKE_COUNT
} zl_fake;
void zl_emu_fakes_find(void);
const char *zl_emu_fake_path(zl_fake which);
void zl_emu_fakes_env(void);
/*
 * The TCP sockets the processes of group pgid listen on: their sockets (/proc/<pid>/fd) found
 * LISTEN in /proc/<pgid>/net/tcp and tcp6. At most max into out; returns how many.
 */
size_t zl_emu_listening(pid_t pgid, zl_listen_addr *out, size_t max);
/*
 * Why zonelab cannot reach replica r (of some program, or its developer's machine) on
 * 127.0.0.1:r->port, as a message into out (cap bytes) that starts with r's instance: it
 * exited (then, when log_lines > 0, its log's last log_lines lines, or with no emu->log_dir
 * "its output is above"), or what it listens on instead; and what the program should do.
 */
void zl_emu_replica_diagnose(zl_emu *emu, const zl_replica *r, int log_lines, char *out,
                             size_t cap);

/* ---- program callbacks (program.c) ---- */
typedef struct zl_call_result {
    int errcode;      /* 0, 710674, 710675, 710676, 710677 or 710638 */
    char detail[256]; /* why, for the journal */
    long status;      /* HTTP status of the program's answer, 0 when none */
    char *response;   /* the reply envelope's response (owned by the callee; valid in fn) */
    int64_t elapsed_ms;
    size_t replica;
    const char *debug_url; /* the call went to the program's debug URL (debug mode), else NULL */
    unsigned resends;      /* an event sent again after its replica died under it */
} zl_call_result;
typedef void (*zl_call_fn)(zl_emu *emu, const zl_call_result *res, void *ud);

/* What one callback carries (borrowed strings; NULL = ""). */
typedef struct zl_callback_args {
    const char *corpid, *data, *job_info, *ability_id, *notify_id, *req_id;
    uint32_t agentid, call_type;
    bool is_async;
} zl_callback_args;

/*
 * Sends one callback envelope to replica of p, or to p's debug URL while
 * zl_emu_debug_forwarding(p); fn is called exactly once, later. A replica has at most
 * opt.delivery_window callbacks in flight: a call beyond it waits, in the order calls were
 * made. An event's timeout_ms (call_type 2) counts from when it is sent; an app call's from
 * now, as its app waits (one that waited it all in line ends 710675, unsent). With
 * opt.replica_restart, an event for a replica that is down waits until it listens again, and
 * one whose replica died while it was in flight is sent again then (3 times at most).
 * -1 (fn never called) when the emulator is closing or the call cannot start;
 * ZL_CALL_QUEUE_FULL (fn never called) when opt.delivery_queue_max calls wait for the replica.
 */
#define ZL_CALL_QUEUE_FULL (-2)
int zl_emu_call_program(zl_emu *emu, zl_prog_rt *p, size_t replica, const zl_callback_args *a,
                        long timeout_ms, zl_call_fn fn, void *ud);
/* Adds a call's status, elapsed_ms, errcode, (when it failed) error and (when it went there)
 * debug_url to journal entry j. */
void zl_call_result_json(const zl_call_result *res, cJSON *j);
/* The replica for a call: round robin. */
size_t zl_emu_pick_replica(zl_prog_rt *p);

/* ---- events (events.c) ---- */
/* Queues event_json (an object, copied) for p, as app agentid's receiver; journaled. */
int zl_emu_push_event(zl_emu *emu, zl_prog_rt *p, uint32_t agentid, const cJSON *event,
                      long replica /* -1 = round robin */);
/*
 * The one sender of WeCom's events to an app's program: when app a has a receiving program
 * (set_receive_callback) and data permission, queues {"event_type": type, "timestamp": now,
 * key: payload} for it (key NULL = type). payload is taken in every case. Returns the
 * program the event went to, or NULL when a has none (or memory ran out). When it went and
 * report is not NULL, appends {"agentid", "program_id", "event_type"} to that array.
 */
zl_prog_rt *zl_emu_app_event(zl_emu *emu, zl_app_rt *a, const char *type, const char *key,
                             cJSON *payload, cJSON *report);
/*
 * Archives the messages (JSON array of message objects as in world files, send_time
 * defaulting to now) into corp c and fires conversation_new_message to every receiving
 * program. Returns the number archived, or -1 with err (nothing archived after the failing
 * one; the ones before stay).
 */
long zl_emu_archive(zl_emu *emu, zl_corp *c, const cJSON *messages, cJSON *report, char *err,
                    size_t errlen);

/* A fresh sync_msg token for app a (valid event_token_ttl_s), written into out (40 bytes). */
struct zl_event_token *zl_emu_new_event_token(zl_emu *emu, zl_app_rt *a, char out[40]);
/* SIGTERMs every replica and waits up to 2 s for them to exit (then SIGKILL), turning the
 * engine meanwhile so their last SDK invokes are answered. */
void zl_emu_stop_replicas(zl_emu *emu);

/* Internal records (shared between the faces). */
typedef struct zl_job {
    char jobid[40];
    char job_info[72];
    zl_app_rt *app;
    zl_prog_rt *prog;
    size_t ability;
    int64_t created_ms;
    uint64_t seq;     /* zl_emu_seq when made */
    int state;        /* 0 pending, 1 done, 2 failed (a report gets 790010) */
    bool dispatching; /* the callback to the program is in flight: not swept */
    bool task;        /* an own model / program task's job (api_models.c), not the app's */
    int response_errcode;
    char *result;
} zl_job;

typedef struct zl_event_token {
    zl_app_rt *app;
    int64_t expires_ms;
    uint64_t seq; /* zl_emu_seq when made */
} zl_event_token;

typedef struct zl_token {
    zl_app_rt *app;
    int64_t expires_ms;
    uint64_t seq; /* zl_emu_seq when made */
} zl_token;

typedef struct zl_page {
    zl_app_rt *app;
    size_t start, end; /* message index range; visible ones inside it form the page */
    int64_t expires_ms;
} zl_page;

typedef struct zl_media {
    zl_app_rt *app;
    unsigned char *data; /* the file's bytes (owned), NUL-terminated after size bytes */
    size_t size;         /* at most 60 MB (upload_media's limit) */
    int64_t expires_ms;
} zl_media;

typedef struct zl_notify {
    zl_prog_rt *prog;
    size_t replica;     /* the replica that issued it */
    bool replica_known; /* the invoke named an instance of p */
    uint32_t agentid;
    int64_t expires_ms;
    uint64_t seq; /* zl_emu_seq when made */
} zl_notify;

#endif
