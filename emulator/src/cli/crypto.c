/* cli_crypto: `zonelab crypto` verify-url / decrypt / encrypt on top of wxcrypt. */
#include "cli/crypto.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"
#include "wecom/wxcrypt.h"

/* Caps on what the command reads; larger input is refused, never truncated. */
#define MAX_BODY  (1024 * 1024)
#define MAX_QUERY (64 * 1024)
#define MAX_ARG   (64 * 1024)

enum mode { MODE_VERIFY_URL = 1, MODE_DECRYPT = 2, MODE_ENCRYPT = 4 };
#define MODES_ALL (MODE_VERIFY_URL | MODE_DECRYPT | MODE_ENCRYPT)

struct opts {
    const char *token;
    const char *aes_key;
    const char *receiveid;
    const char *query;
    const char *signature;
    const char *timestamp;
    const char *nonce;
    const char *body;
    const char *message;
    const char *random;
    const char *json; /* non-NULL when --json was given */
};

struct flag {
    const char *name;
    int takes_value;
    int modes; /* bit set of enum mode where the flag is accepted */
    size_t offset;
};

static const struct flag FLAGS[] = {
    {"token", 1, MODES_ALL, offsetof(struct opts, token)},
    {"aes-key", 1, MODES_ALL, offsetof(struct opts, aes_key)},
    {"receiveid", 1, MODES_ALL, offsetof(struct opts, receiveid)},
    {"query", 1, MODE_VERIFY_URL | MODE_DECRYPT, offsetof(struct opts, query)},
    {"signature", 1, MODE_DECRYPT, offsetof(struct opts, signature)},
    {"timestamp", 1, MODE_DECRYPT | MODE_ENCRYPT, offsetof(struct opts, timestamp)},
    {"nonce", 1, MODE_DECRYPT | MODE_ENCRYPT, offsetof(struct opts, nonce)},
    {"body", 1, MODE_DECRYPT | MODE_ENCRYPT, offsetof(struct opts, body)},
    {"message", 1, MODE_ENCRYPT, offsetof(struct opts, message)},
    {"random", 1, MODE_ENCRYPT, offsetof(struct opts, random)},
    {"json", 0, MODE_ENCRYPT, offsetof(struct opts, json)},
};

void zl_cli_crypto_usage(FILE *f)
{
    fputs("usage: zonelab crypto <mode> --token T --aes-key K --receiveid ID [options]\n"
          "\n"
          "WeCom callback crypto (WXBizMsgCrypt). --receiveid is the corpid, the suiteid, or\n"
          "'' (empty) for individual-entity third-party apps. Flags take a value as\n"
          "'--flag VALUE' or '--flag=VALUE'.\n"
          "\n"
          "modes:\n"
          "  verify-url --query 'msg_signature=..&timestamp=..&nonce=..&echostr=..'\n"
          "      Check a URL-verification GET (raw query string as on the wire; it is\n"
          "      URL-decoded here) and print the echostr plaintext.\n"
          "  decrypt (--signature S --timestamp T --nonce N | --query Q) [--body FILE|-]\n"
          "      Check and decrypt a callback POST body (XML or JSON envelope; default:\n"
          "      stdin) and print the plaintext message. --query takes msg_signature,\n"
          "      timestamp and nonce from the raw query string.\n"
          "  encrypt --timestamp T --nonce N [--random R16] [--json]\n"
          "          [--message TEXT | --body FILE|-]\n"
          "      Encrypt a passive reply (default: message from stdin) and print the\n"
          "      envelope (XML, or JSON with --json), then 'msg_signature: <sig>'.\n"
          "      --random fixes the 16-byte random prefix for reproducible output.\n"
          "  -h, --help\n"
          "      This text.\n"
          "\n"
          "exit status: 0 success, 1 crypto error (code, failed ingredient and detail on\n"
          "stderr), 2 usage error.\n",
          f);
}

/* Prints "zonelab crypto: <what> '<arg>'" (arg optional) and the usage text. */
static int usage_error(FILE *err, const char *what, const char *arg)
{
    if (arg != NULL)
        fprintf(err, "zonelab crypto: %s '%s'\n\n", what, arg);
    else
        fprintf(err, "zonelab crypto: %s\n\n", what);
    zl_cli_crypto_usage(err);
    return ZL_CLI_USAGE;
}

/* Parses argv[2..] into o for the given mode. Returns 0 or ZL_CLI_USAGE (printed). */
static int parse_flags(int argc, char **argv, int mode, struct opts *o, FILE *err)
{
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq;
        const char *value = NULL;
        const struct flag *fl = NULL;
        size_t name_len;
        const char **slot;

        if (strncmp(arg, "--", 2) != 0)
            return usage_error(err, "unexpected argument", arg);
        eq = strchr(arg + 2, '=');
        name_len = eq != NULL ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
        for (size_t k = 0; k < sizeof FLAGS / sizeof FLAGS[0]; k++) {
            if (strlen(FLAGS[k].name) == name_len &&
                strncmp(FLAGS[k].name, arg + 2, name_len) == 0) {
                fl = &FLAGS[k];
                break;
            }
        }
        if (fl == NULL)
            return usage_error(err, "unknown option", arg);
        if ((fl->modes & mode) == 0)
            return usage_error(err, "option does not apply to this mode:", arg);
        if (fl->takes_value) {
            if (eq != NULL)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return usage_error(err, "option needs a value:", arg);
            if (strlen(value) > MAX_ARG)
                return usage_error(err, "value too long for option", arg);
        } else {
            if (eq != NULL)
                return usage_error(err, "option takes no value:", arg);
            value = "";
        }
        slot = (const char **)(void *)((char *)o + fl->offset);
        if (*slot != NULL)
            return usage_error(err, "option given twice:", arg);
        *slot = value;
    }
    return 0;
}

/* The configuration value or wire step that a library return code points at. */
static const char *ingredient(int code)
{
    switch (code) {
    case -40001:
    case -40003:
        return "signature";
    case -40002:
    case -40011:
    case -40012:
        return "envelope";
    case -40004:
        return "key (EncodingAESKey)";
    case -40005:
        return "receiveid";
    case -40006:
        return "AES";
    case -40007:
        return "AES / padding";
    case -40008:
        return "length";
    case -40009:
    case -40010:
        return "base64";
    default:
        return "unknown";
    }
}

static int report(FILE *err, int code, const char *detail)
{
    fprintf(err, "zonelab crypto: error %d (%s)\n", code, zl_wx_strerror(code));
    fprintf(err, "failed: %s\n", ingredient(code));
    if (detail != NULL && detail[0] != '\0')
        fprintf(err, "detail: %s\n", detail);
    return ZL_CLI_FAILED;
}

struct query {
    char *msg_signature;
    char *timestamp;
    char *nonce;
    char *echostr;
};

static void query_cleanup(struct query *q)
{
    free(q->msg_signature);
    free(q->timestamp);
    free(q->nonce);
    free(q->echostr);
}

/*
 * Splits a raw query string ("a=b&c=d", optional leading '?') and URL-decodes the four
 * callback parameters into q (owned strings). Other keys are ignored. Returns 0 or
 * ZL_CLI_USAGE after printing why.
 */
static int parse_query(const char *raw, struct query *q, FILE *err)
{
    const char *p = raw;

    if (strlen(raw) > MAX_QUERY)
        return usage_error(err, "query string is longer than 65536 bytes", NULL);
    if (*p == '?')
        p++;
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        const char *eq;
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        size_t klen;
        char **slot = NULL;
        char *raw_val;

        eq = memchr(p, '=', len);
        klen = eq != NULL ? (size_t)(eq - p) : len;
        if (klen == 13 && strncmp(p, "msg_signature", klen) == 0)
            slot = &q->msg_signature;
        else if (klen == 9 && strncmp(p, "timestamp", klen) == 0)
            slot = &q->timestamp;
        else if (klen == 5 && strncmp(p, "nonce", klen) == 0)
            slot = &q->nonce;
        else if (klen == 7 && strncmp(p, "echostr", klen) == 0)
            slot = &q->echostr;
        if (slot != NULL) {
            if (*slot != NULL)
                return usage_error(err, "query repeats a parameter near", p);
            raw_val = eq != NULL ? strndup(eq + 1, len - klen - 1) : strdup("");
            if (raw_val == NULL) {
                fputs("zonelab crypto: out of memory\n", err);
                return ZL_CLI_FAILED;
            }
            *slot = zl_wx_url_decode(raw_val);
            free(raw_val);
            if (*slot == NULL)
                return usage_error(err, "query has a bad %-escape near", p);
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

static int need(const char *value, const char *what, FILE *err)
{
    if (value != NULL)
        return 0;
    char msg[128];

    snprintf(msg, sizeof msg, "missing %s", what);
    return usage_error(err, msg, NULL);
}

static int write_text(FILE *out, const char *text, size_t len)
{
    if (fwrite(text, 1, len, out) != len || fputc('\n', out) == EOF || fflush(out) != 0)
        return ZL_CLI_FAILED;
    return ZL_CLI_OK;
}

static int run_verify_url(zl_wxcrypt *c, const struct opts *o, FILE *out, FILE *err)
{
    struct query q = {0};
    char *msg = NULL;
    size_t msg_len = 0;
    int rc;
    int code;

    rc = need(o->query, "--query", err);
    if (rc != 0)
        goto out;
    rc = parse_query(o->query, &q, err);
    if (rc != 0)
        goto out;
    if (q.msg_signature == NULL || q.timestamp == NULL || q.nonce == NULL || q.echostr == NULL) {
        rc = usage_error(err, "--query must carry msg_signature, timestamp, nonce and echostr",
                         NULL);
        goto out;
    }
    code =
        zl_wxcrypt_verify_url(c, q.msg_signature, q.timestamp, q.nonce, q.echostr, &msg, &msg_len);
    if (code != 0) {
        rc = report(err, code, zl_wxcrypt_detail(c));
        goto out;
    }
    rc = write_text(out, msg, msg_len);
out:
    free(msg);
    query_cleanup(&q);
    return rc;
}

static int run_decrypt(zl_wxcrypt *c, const struct opts *o, FILE *out, FILE *err)
{
    struct query q = {0};
    const char *sig = o->signature;
    const char *ts = o->timestamp;
    const char *nonce = o->nonce;
    char *body = NULL;
    size_t body_len = 0;
    char *msg = NULL;
    size_t msg_len = 0;
    int rc = 0;
    int code;

    if (o->query != NULL) {
        rc = parse_query(o->query, &q, err);
        if (rc != 0)
            goto out;
        if ((sig != NULL && q.msg_signature != NULL) || (ts != NULL && q.timestamp != NULL) ||
            (nonce != NULL && q.nonce != NULL)) {
            rc = usage_error(err, "a value is given both in --query and as a flag", NULL);
            goto out;
        }
        sig = sig != NULL ? sig : q.msg_signature;
        ts = ts != NULL ? ts : q.timestamp;
        nonce = nonce != NULL ? nonce : q.nonce;
    }
    if ((rc = need(sig, "--signature (or msg_signature in --query)", err)) != 0 ||
        (rc = need(ts, "--timestamp (or timestamp in --query)", err)) != 0 ||
        (rc = need(nonce, "--nonce (or nonce in --query)", err)) != 0)
        goto out;
    body = zl_cli_read_file("crypto", o->body != NULL ? o->body : "-", MAX_BODY, &body_len, err);
    if (body == NULL) {
        rc = ZL_CLI_FAILED;
        goto out;
    }
    code = zl_wxcrypt_decrypt_msg(c, sig, ts, nonce, body, body_len, &msg, &msg_len);
    if (code != 0) {
        rc = report(err, code, zl_wxcrypt_detail(c));
        goto out;
    }
    rc = write_text(out, msg, msg_len);
out:
    free(msg);
    free(body);
    query_cleanup(&q);
    return rc;
}

/* Copies the msg_signature out of a passive-reply envelope ("" when not found). */
static void find_signature(const char *env, int json, char *sig, size_t size)
{
    const char *open = json ? "\"msgsignature\":\"" : "<MsgSignature><![CDATA[";
    const char *close = json ? "\"" : "]]>";
    const char *p = strstr(env, open);
    const char *e;

    sig[0] = '\0';
    if (p == NULL)
        return;
    p += strlen(open);
    e = strstr(p, close);
    if (e == NULL || (size_t)(e - p) >= size)
        return;
    memcpy(sig, p, (size_t)(e - p));
    sig[e - p] = '\0';
}

static int run_encrypt(zl_wxcrypt *c, const struct opts *o, FILE *out, FILE *err)
{
    char *body = NULL;
    const char *msg;
    size_t msg_len = 0;
    char *envelope = NULL;
    size_t env_len = 0;
    char signature[64] = "";
    int rc;
    int code;

    if ((rc = need(o->timestamp, "--timestamp", err)) != 0 ||
        (rc = need(o->nonce, "--nonce", err)) != 0)
        goto out;
    if (o->message != NULL && o->body != NULL) {
        rc = usage_error(err, "give either --message or --body, not both", NULL);
        goto out;
    }
    if (o->random != NULL && strlen(o->random) != 16) {
        rc = usage_error(err, "--random must be exactly 16 bytes, got", o->random);
        goto out;
    }
    if (o->message != NULL) {
        msg = o->message;
        msg_len = strlen(o->message);
    } else {
        body = zl_cli_read_file("crypto", o->body != NULL ? o->body : "-", MAX_BODY, &msg_len, err);
        if (body == NULL) {
            rc = ZL_CLI_FAILED;
            goto out;
        }
        msg = body;
    }
    code = zl_wxcrypt_encrypt_msg(c, msg, msg_len, o->timestamp, o->nonce,
                                  (const unsigned char *)o->random,
                                  o->json != NULL ? ZL_WX_JSON : ZL_WX_XML, &envelope);
    if (code != 0) {
        rc = report(err, code, zl_wxcrypt_detail(c));
        goto out;
    }
    env_len = strlen(envelope);
    find_signature(envelope, o->json != NULL, signature, sizeof signature);
    rc = write_text(out, envelope, env_len);
    if (rc == ZL_CLI_OK && fprintf(out, "msg_signature: %s\n", signature) < 0)
        rc = ZL_CLI_FAILED;
out:
    free(envelope);
    free(body);
    return rc;
}

int zl_cli_crypto(int argc, char **argv, FILE *out, FILE *err)
{
    struct opts o = {0};
    zl_wxcrypt *c = NULL;
    int mode;
    int rc;
    int code = 0;

    if (argc < 2 || argv[1] == NULL) {
        fputs("zonelab crypto: missing mode\n\n", err);
        zl_cli_crypto_usage(err);
        return ZL_CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        zl_cli_crypto_usage(out);
        return ZL_CLI_OK;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            zl_cli_crypto_usage(out);
            return ZL_CLI_OK;
        }
    }
    if (strcmp(argv[1], "verify-url") == 0)
        mode = MODE_VERIFY_URL;
    else if (strcmp(argv[1], "decrypt") == 0)
        mode = MODE_DECRYPT;
    else if (strcmp(argv[1], "encrypt") == 0)
        mode = MODE_ENCRYPT;
    else
        return usage_error(err, "unknown mode", argv[1]);
    rc = parse_flags(argc, argv, mode, &o, err);
    if (rc != 0)
        return rc;
    if ((rc = need(o.token, "--token", err)) != 0 ||
        (rc = need(o.aes_key, "--aes-key", err)) != 0 ||
        (rc = need(o.receiveid, "--receiveid (use --receiveid '' for none)", err)) != 0)
        return rc;
    c = zl_wxcrypt_new(o.token, o.aes_key, o.receiveid, &code);
    if (c == NULL)
        return report(err, code != 0 ? code : -40004,
                      "cannot configure: check --token and --aes-key");
    switch (mode) {
    case MODE_VERIFY_URL:
        rc = run_verify_url(c, &o, out, err);
        break;
    case MODE_DECRYPT:
        rc = run_decrypt(c, &o, out, err);
        break;
    default:
        rc = run_encrypt(c, &o, out, err);
        break;
    }
    zl_wxcrypt_free(c);
    return rc;
}
