/* errcode: WeCom errcodes the emulator answers with, and their replies. */
#ifndef ZL_ERRCODE_H
#define ZL_ERRCODE_H

#include <cjson/cJSON.h>

/* The codes the emulator emits (spec/errors.md); the text is the errmsg before the hint. */
#define ZL_ERRCODES(X)                                                                             \
    X(-1, "system busy")                                                                           \
    X(0, "ok")                                                                                     \
    X(40001, "invalid secret")                                                                     \
    X(40005, "invalid media type")                                                                 \
    X(40006, "invalid file size")                                                                  \
    X(40007, "invalid media_id")                                                                   \
    X(40013, "invalid corpid")                                                                     \
    X(40014, "invalid access_token")                                                               \
    X(40056, "invalid agentid")                                                                    \
    X(40058, "invalid parameter")                                                                  \
    X(40077, "invalid pre_auth_code")                                                              \
    X(40078, "invalid auth_code")                                                                  \
    X(40080, "invalid suite_secret")                                                               \
    X(40082, "invalid suite_token")                                                                \
    X(40083, "invalid suite_id")                                                                   \
    X(40084, "invalid permanent_code")                                                             \
    X(40085, "invalid suite_ticket")                                                               \
    X(40091, "invalid secret, it may belong to another corp")                                      \
    X(40211, "invalid RSA public key")                                                             \
    X(40212, "public key version lower than the old one")                                          \
    X(41001, "access_token missing")                                                               \
    X(41002, "corpid missing")                                                                     \
    X(41004, "corpsecret missing")                                                                 \
    X(41008, "auth_code missing")                                                                  \
    X(41021, "suite_id missing")                                                                   \
    X(41022, "suite_access_token missing")                                                         \
    X(41023, "suite_ticket missing")                                                               \
    X(41024, "secret missing")                                                                     \
    X(41025, "permanent_code missing")                                                             \
    X(42001, "access_token expired")                                                               \
    X(42009, "suite_access_token expired")                                                         \
    X(44001, "empty media data")                                                                   \
    X(45009, "api freq out of limit")                                                              \
    X(45033, "api concurrent out of limit")                                                        \
    X(48002, "api forbidden")                                                                      \
    X(48004, "authorisation invalid, it may have been cancelled")                                  \
    X(301052, "chat archive expired")                                                              \
    X(301059, "not an internal group, no data")                                                    \
    X(301060, "too many consent queries, use fewer than 100")                                      \
    X(301061, "userid or external user does not exist")                                            \
    X(710601, "msgid incorrect")                                                                   \
    X(710602, "msgtype incorrect")                                                                 \
    X(710603, "key incorrect")                                                                     \
    X(710605, "message decryption failed")                                                         \
    X(710606, "group not in authorised scope")                                                     \
    X(710607, "department not in authorised scope")                                                \
    X(710608, "user not in authorised scope")                                                      \
    X(710609, "customer's follow-up member not in authorised scope")                               \
    X(710610, "keywords and key behaviours both empty")                                            \
    X(710611, "cursor incorrect")                                                                  \
    X(710612, "keyword rule id does not exist")                                                    \
    X(710613, "msgid repeated")                                                                    \
    X(710614, "no group member in the authorised scope")                                           \
    X(710615, "session_type incorrect")                                                            \
    X(710616, "task type differs from the jobid's type")                                           \
    X(710619, "keyword rule count over the limit")                                                 \
    X(710620, "keyword rule id incorrect")                                                         \
    X(710621, "mobile number format incorrect")                                                    \
    X(710622, "bank card number format incorrect")                                                 \
    X(710623, "too many messages in one analysis task")                                            \
    X(710624, "invalid group id")                                                                  \
    X(710629, "exported message count over limit")                                                 \
    X(710633, "analysis task failed")                                                              \
    X(710634, "analysis task failed")                                                              \
    X(710635, "own model not deployed")                                                            \
    X(710636, "invalid ability id")                                                                \
    X(710637, "all messages failed analysis")                                                      \
    X(710638, "calling the program failed")                                                        \
    X(710639, "request or result contains inappropriate content")                                  \
    X(710640, "unsupported app type")                                                              \
    X(710641, "app has no data zone permission")                                                   \
    X(710642, "waiting for the program result")                                                    \
    X(710643, "app has no knowledge set permission")                                               \
    X(710644, "app lacks the general-model grant")                                                 \
    X(710645, "program does not exist or is in an abnormal state")                                 \
    X(710646, "illegal notify_id")                                                                 \
    X(710647, "input protocol mismatch")                                                           \
    X(710648, "illegal key behaviour value")                                                       \
    X(710649, "too many group ids")                                                                \
    X(710650, "keyword list missing")                                                              \
    X(710651, "no paid edition")                                                                   \
    X(710652, "archive older than 90 days, expired")                                               \
    X(710653, "trial ended more than 30 days ago, its archive expired")                            \
    X(710654, "paid period ended more than 30 days ago, its archive expired")                      \
    X(710659, "public key not set")                                                                \
    X(710671, "debug token expired")                                                               \
    X(710672, "debug mode not allowed for this corp")                                              \
    X(710673, "model/program not in debug mode")                                                   \
    X(710674, "connecting to the zone program failed")                                             \
    X(710675, "zone program read/write timeout")                                                   \
    X(710676, "zone program returned an http status other than 200")                               \
    X(710677, "zone program reply failed decryption or signature check")                           \
    X(710682, "llm service busy, retry")                                                           \
    X(790010, "task not in progress")                                                              \
    X(790012, "illegal json template")                                                             \
    X(790013, "illegal json result")                                                               \
    X(790014, "json result does not match the template")                                           \
    X(790015, "illegal json request")                                                              \
    X(790016, "json request does not match the template")                                          \
    X(790017, "illegal job_info")                                                                  \
    X(790020, "program not associated with the app")                                               \
    X(790023, "model/program request still executing")                                             \
    X(790024, "knowledge set used across apps")                                                    \
    X(790025, "illegal web_url")                                                                   \
    X(790026, "documents in the knowledge set over the limit")                                     \
    X(790027, "knowledge sets in the corp over the limit")                                         \
    X(790028, "cannot delete every document of a knowledge set")                                   \
    X(790029, "duplicate web_url in the knowledge set")                                            \
    X(790032, "illegal document name")                                                             \
    X(790033, "name contains invisible characters")                                                \
    X(790034, "knowledge set deleted")                                                             \
    X(790040, "model input too long")                                                              \
    X(790041, "every message content failed to load")                                              \
    X(800000, "invalid knowledge set id")                                                          \
    X(800001, "invalid program id")                                                                \
    X(800002, "program not deployed")                                                              \
    X(800003, "ability id does not exist")

/* The text of code (before ", hint: ..."), or "unknown error" for a code not listed. */
const char *zl_errcode_text(int code);

/*
 * A reply object {"errcode":code,"errmsg":...}: "ok" for 0, otherwise the code's text,
 * then ": <detail>" when detail is given, then ", hint: [<hint>]" when hint is given
 * (the emulator passes its request id, as WeCom does).
 */
cJSON *zl_errcode_reply(int code, const char *detail, const char *hint);

#endif
