/* record: `zonelab serve --record FILE`: every exchange with its exact bytes, one JSON line
 * each, flushed as it completes; wire bodies also decrypted with the program's keys. */
#define _GNU_SOURCE
#include "faces/record.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "b64.h"
#include "wire.h"

#define MAX_WIRE_HEADERS 64

struct zl_record {
    FILE *f;
    zl_emu *emu;
    uint64_t seq;
    int failed;
};

static int world_digest(const char *path, const unsigned char *raw, size_t len, char out[65],
                        size_t *bytes)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char d[32], buf[65536];
    unsigned int dlen = 0, i;
    FILE *f = NULL;
    int rc = -1;

    *bytes = 0;
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        goto out;
    if (path) {
        size_t n;

        if (!(f = fopen(path, "rb")))
            goto out;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
            if (!EVP_DigestUpdate(md, buf, n))
                goto out;
            *bytes += n;
        }
        if (ferror(f))
            goto out;
    } else {
        if (!EVP_DigestUpdate(md, raw ? raw : (const unsigned char *)"", len))
            goto out;
        *bytes = len;
    }
    if (!EVP_DigestFinal_ex(md, d, &dlen))
        goto out;
    for (i = 0; i < dlen; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    rc = 0;
out:
    if (f)
        fclose(f);
    EVP_MD_CTX_free(md);
    return rc;
}

int zl_record_world_digest(const char *path, const unsigned char *raw, size_t len, char out[65])
{
    size_t bytes;

    return world_digest(path, raw, len, out, &bytes);
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes o as one line and flushes; takes ownership of o. */
static void write_line(zl_record *r, cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;

    cJSON_Delete(o);
    if (!text || fputs(text, r->f) == EOF || fputc('\n', r->f) == EOF || fflush(r->f) != 0)
        r->failed = 1;
    cJSON_free(text);
}

static cJSON *header_line(zl_emu *emu, const zl_record_info *info, const char *digest, size_t bytes)
{
    cJSON *h = cJSON_CreateObject(), *w, *progs;
    char abs[PATH_MAX];
    size_t i, k;

    cJSON_AddNumberToObject(h, "zonelab_record", ZL_RECORD_FORMAT);
    cJSON_AddStringToObject(h, "version", info->version ? info->version : "");
    cJSON_AddNumberToObject(h, "created_ms", (double)wall_ms());
    cJSON_AddNumberToObject(h, "t", (double)zl_emu_now_ms(emu));
    if (info->seed <= (1ULL << 53)) {
        cJSON_AddNumberToObject(h, "seed", (double)info->seed);
    } else {
        char s[24];

        snprintf(s, sizeof s, "%llu", (unsigned long long)info->seed);
        cJSON_AddStringToObject(h, "seed", s);
    }
    cJSON_AddStringToObject(h, "base_url", info->base_url ? info->base_url : "");
    w = cJSON_AddObjectToObject(h, "world");
    if (info->world_path)
        cJSON_AddStringToObject(w, "path",
                                realpath(info->world_path, abs) ? abs : info->world_path);
    else
        cJSON_AddNullToObject(w, "path");
    cJSON_AddBoolToObject(w, "builtin", info->world_path == NULL);
    cJSON_AddStringToObject(w, "sha256", digest);
    cJSON_AddNumberToObject(w, "bytes", (double)bytes);
    progs = cJSON_AddArrayToObject(h, "programs");
    for (i = 0; i < emu->prog_count; i++) {
        zl_prog_rt *p = &emu->progs[i];
        cJSON *o = cJSON_CreateObject(), *reps;

        cJSON_AddStringToObject(o, "program_id", p->prog->program_id);
        cJSON_AddStringToObject(o, "corpid", p->corp->corpid);
        cJSON_AddNumberToObject(o, "secret_ver", p->secret_ver);
        cJSON_AddStringToObject(o, "secret", p->secret_b64);
        if (p->command)
            cJSON_AddStringToObject(o, "command", p->command);
        else
            cJSON_AddNullToObject(o, "command");
        reps = cJSON_AddArrayToObject(o, "replicas");
        for (k = 0; k < p->replica_count; k++) {
            cJSON *rr = cJSON_CreateObject();

            cJSON_AddStringToObject(rr, "instance", p->replicas[k].instance);
            cJSON_AddNumberToObject(rr, "port", p->replicas[k].port);
            cJSON_AddItemToArray(reps, rr);
        }
        cJSON_AddItemToArray(progs, o);
    }
    cJSON_AddStringToObject(h, "warning",
                            "this file holds wire secrets, access tokens and message content");
    return h;
}

zl_record *zl_record_open(const char *path, zl_emu *emu, const zl_record_info *info, char *err,
                          size_t errlen)
{
    zl_record *r = calloc(1, sizeof *r);
    char digest[65] = "";
    size_t bytes = 0;
    int fd;

    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->emu = emu;
    if (world_digest(info->world_path, info->world_raw, info->world_len, digest, &bytes) != 0) {
        snprintf(err, errlen, "cannot read the world %s to record its digest",
                 info->world_path ? info->world_path : "(built-in)");
        free(r);
        return NULL;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(r->f = fdopen(fd, "w"))) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(r);
        return NULL;
    }
    write_line(r, header_line(emu, info, digest, bytes));
    if (r->failed) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        zl_record_close(r);
        return NULL;
    }
    return r;
}

uint64_t zl_record_count(const zl_record *r)
{
    return r->seq;
}

int zl_record_failed(const zl_record *r)
{
    return r->failed;
}

void zl_record_close(zl_record *r)
{
    if (!r)
        return;
    if (r->f && fclose(r->f) != 0)
        r->failed = 1;
    free(r);
}

/* ---- one exchange ---- */

static cJSON *headers_json(size_t n, const char *const *names, const char *const *values)
{
    cJSON *a = cJSON_CreateArray();
    size_t i;

    for (i = 0; a && i < n; i++) {
        cJSON *pair = cJSON_CreateArray();

        cJSON_AddItemToArray(pair, cJSON_CreateString(names[i] ? names[i] : ""));
        cJSON_AddItemToArray(pair, cJSON_CreateString(values[i] ? values[i] : ""));
        cJSON_AddItemToArray(a, pair);
    }
    return a;
}

/* {"headers":[[name,value],...],"body":base64,"body_len":n} */
static cJSON *message_json(size_t n, const char *const *names, const char *const *values,
                           const char *body, size_t len)
{
    cJSON *m = cJSON_CreateObject();
    char *b64 = zone_b64_encode((const unsigned char *)body, len);

    cJSON_AddItemToObject(m, "headers", headers_json(n, names, values));
    cJSON_AddStringToObject(m, "body", b64 ? b64 : "");
    cJSON_AddNumberToObject(m, "body_len", (double)len);
    free(b64);
    return m;
}

static const char *header_of(size_t n, const char *const *names, const char *const *values,
                             const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (names[i] && !strcasecmp(names[i], name))
            return values[i];
    return NULL;
}

/*
 * Opens a zone wire message with p's keys and adds its plaintext to o under key (parsed
 * JSON, or "<key>_text" when the plaintext is not JSON); on failure "<key>_error".
 */
static void add_plain(cJSON *o, const char *key, zl_prog_rt *p, const char *method,
                      const char *path, size_t n, const char *const *names,
                      const char *const *values, const char *body, size_t len)
{
    zone_wire_header hs[MAX_WIRE_HEADERS];
    char *plain = NULL, detail[256] = "", k[64];
    size_t plen = 0, i, m = 0;
    cJSON *j;
    int rc;

    for (i = 0; i < n && m < MAX_WIRE_HEADERS; i++)
        hs[m++] = (zone_wire_header){.name = names[i], .value = values[i]};
    rc = zone_wire_open(&p->keys, NULL, NULL, method, path, hs, m, body, len, &plain, &plen, detail,
                        sizeof detail);
    if (rc != ZONE_WIRE_OK) {
        snprintf(k, sizeof k, "%s_error", key);
        cJSON_AddStringToObject(o, k, detail[0] ? detail : zone_wire_strerror(rc));
        return;
    }
    if ((j = cJSON_ParseWithLength(plain, plen))) {
        cJSON_AddItemToObject(o, key, j);
    } else {
        snprintf(k, sizeof k, "%s_text", key);
        cJSON_AddStringToObject(o, k, plain);
    }
    free(plain);
}

/* The program and replica an outbound URL goes to, or NULL (an app callback). */
static zl_prog_rt *replica_of(zl_emu *emu, const char *url, size_t *replica)
{
    size_t i, k, n;

    for (i = 0; i < emu->prog_count; i++)
        for (k = 0; k < emu->progs[i].replica_count; k++) {
            const char *base = emu->progs[i].replicas[k].url;

            n = strlen(base);
            if (!strncmp(url, base, n) && (url[n] == '/' || url[n] == '\0')) {
                *replica = k;
                return &emu->progs[i];
            }
        }
    return NULL;
}

static const char *inbound_face(const char *target)
{
    size_t n = strcspn(target, "?");

    if (n == strlen(ZONE_WIRE_INVOKE_PATH) && !strncmp(target, ZONE_WIRE_INVOKE_PATH, n))
        return "sdk";
    if (!strncmp(target, "/cgi-bin/", 9))
        return "app";
    if (!strncmp(target, "/_zonelab/", 10) || (n == 9 && !strncmp(target, "/_zonelab", 9)))
        return "control";
    return "other";
}

void zl_record_exchange(void *ud, const zl_exchange *x)
{
    zl_record *r = ud;
    zl_emu *emu = r->emu;
    cJSON *o = cJSON_CreateObject();
    const char *face, *exc;
    zl_prog_rt *p = NULL;
    size_t replica = 0;

    if (!o) {
        r->failed = 1;
        return;
    }
    if (x->outbound) {
        p = replica_of(emu, x->target, &replica);
        face = p ? "program" : "app_callback";
    } else {
        face = inbound_face(x->target);
    }
    cJSON_AddNumberToObject(o, "seq", (double)++r->seq);
    cJSON_AddNumberToObject(o, "id", (double)x->id);
    cJSON_AddNumberToObject(o, "t_start", (double)x->t_start_ms);
    cJSON_AddNumberToObject(o, "t", (double)x->t_end_ms);
    cJSON_AddNumberToObject(o, "elapsed_ms", (double)x->elapsed_ms);
    cJSON_AddStringToObject(o, "direction", x->outbound ? "out" : "in");
    cJSON_AddStringToObject(o, "face", face);
    cJSON_AddStringToObject(o, "method", x->method ? x->method : "");
    cJSON_AddStringToObject(o, "url", x->target ? x->target : "");
    cJSON_AddItemToObject(
        o, "request",
        message_json(x->n_req_headers, x->req_names, x->req_values, x->req_body, x->req_len));
    cJSON_AddNumberToObject(o, "status", (double)x->status);
    if (x->status)
        cJSON_AddItemToObject(o, "response",
                              message_json(x->n_resp_headers, x->resp_names, x->resp_values,
                                           x->resp_body, x->resp_len));
    if (x->outbound && x->curl_code)
        cJSON_AddNumberToObject(o, "curl_code", x->curl_code);
    if (x->error)
        cJSON_AddStringToObject(o, "error", x->error);
    exc = x->status
              ? header_of(x->n_resp_headers, x->resp_names, x->resp_values, ZONE_WIRE_H_EXCEPTION)
              : NULL;
    if (exc)
        cJSON_AddNumberToObject(o, "exception", atoi(exc));
    if (p) { /* a program callback: the callback envelope and the program's reply */
        cJSON_AddStringToObject(o, "program_id", p->prog->program_id);
        cJSON_AddStringToObject(o, "instance", p->replicas[replica].instance);
        add_plain(o, "envelope", p, "POST", ZONE_WIRE_CALLBACK_PATH, x->n_req_headers, x->req_names,
                  x->req_values, x->req_body, x->req_len);
        if (x->status == 200 && x->resp_len > 0)
            add_plain(o, "reply", p, ZONE_WIRE_REPLY_METHOD, ZONE_WIRE_CALLBACK_PATH,
                      x->n_resp_headers, x->resp_names, x->resp_values, x->resp_body, x->resp_len);
    } else if (!x->outbound && !strcmp(face, "sdk")) { /* an invoke: its envelope and reply */
        const char *ver = header_of(x->n_req_headers, x->req_names, x->req_values, "ww-secret-ver");
        char *end = NULL;
        unsigned long v = ver ? strtoul(ver, &end, 10) : 0;
        const cJSON *env, *it;

        p = ver && *ver && end && !*end ? zl_emu_prog_by_ver(emu, (uint32_t)v) : NULL;
        if (p) {
            cJSON_AddStringToObject(o, "program_id", p->prog->program_id);
            add_plain(o, "envelope", p, "POST", ZONE_WIRE_INVOKE_PATH, x->n_req_headers,
                      x->req_names, x->req_values, x->req_body, x->req_len);
            env = cJSON_GetObjectItemCaseSensitive(o, "envelope");
            if (cJSON_IsString(it = cJSON_GetObjectItemCaseSensitive(env, "api")))
                cJSON_AddStringToObject(o, "api", it->valuestring);
            if (cJSON_IsString(it = cJSON_GetObjectItemCaseSensitive(env, "instance")))
                cJSON_AddStringToObject(o, "instance", it->valuestring);
            if (x->status == 200 && x->resp_len > 0)
                add_plain(o, "reply", p, ZONE_WIRE_REPLY_METHOD, ZONE_WIRE_INVOKE_PATH,
                          x->n_resp_headers, x->resp_names, x->resp_values, x->resp_body,
                          x->resp_len);
        } else {
            cJSON_AddStringToObject(o, "envelope_error",
                                    "no program holds this ww-secret-ver (or it is missing)");
        }
    }
    write_line(r, o);
}
