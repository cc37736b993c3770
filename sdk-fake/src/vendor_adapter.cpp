// vendor_adapter.cpp: zone_sdk.h implemented on the vendor's cpp_sdk.h and
// libWeWorkSpecSDK.so, for production builds (ZONE_SDK=vendor).
//
// Written against the vendor's documented surface only: SpecCallbackSDK, SpecSdk,
// GenerateNotifyId, Tencent::WxWork::SpecOpenDebugMode, WWSPEC_LOG_*. The class names are
// written unqualified, as the vendor's guide writes them.
#include "cpp_sdk.h"
#include "zone_sdk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <mutex>
#include <new>
#include <string>

namespace
{

void say(char *buf, size_t n, const char *text)
{
    if (buf && n)
        snprintf(buf, n, "%s", text);
}

char *dup_string(const std::string &s)
{
    char *p = static_cast<char *>(malloc(s.size() + 1));
    if (p) {
        memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}

const char REQ_ID_NONE[] = "0000000000000000";

} // namespace

struct zone_callback {
    int status;
    std::string error;
    // The vendor's class keeps references to these: they live exactly as long as it does.
    std::string method, body;
    std::map<std::string, std::string> headers;
    SpecCallbackSDK *vendor;
    zone_callback() : status(ZONE_OK), vendor(0)
    {
    }
    ~zone_callback()
    {
        delete vendor;
    }
};

struct zone_sdk {
    std::mutex lock; // the vendor does not say SpecSdk is thread-safe: one call at a time
    SpecSdk *vendor;
    int status;
    zone_sdk() : vendor(0), status(ZONE_OK)
    {
    }
    ~zone_sdk()
    {
        delete vendor;
    }
};

extern "C" {

zone_callback *zone_callback_new(const char *method, const zone_header *headers, size_t n,
                                 const char *body, size_t body_len)
{
    zone_callback *cb = new (std::nothrow) zone_callback;
    if (!cb)
        return 0;
    try {
        if (!method || !*method) {
            cb->status = ZONE_ERR_NO_METHOD;
            cb->error = "no method: pass the request's HTTP method";
            return cb;
        }
        if (!headers || n == 0) {
            cb->status = ZONE_ERR_NO_HEADERS;
            cb->error = "no headers: pass the request's headers as received";
            return cb;
        }
        if (!body) {
            cb->status = ZONE_ERR_NO_BODY;
            cb->error = "no body: pass the request's body";
            return cb;
        }
        cb->method = method;
        cb->body.assign(body, body_len);
        for (size_t i = 0; i < n; i++)
            if (headers[i].name)
                cb->headers[headers[i].name] = headers[i].value ? headers[i].value : "";
        cb->vendor = new SpecCallbackSDK(cb->method, cb->headers, cb->body);
        if (!cb->vendor->IsOk()) {
            // The vendor SDK gives no reason; -10004 is the closest documented code.
            cb->status = ZONE_ERR_SIGNATURE;
            cb->error = "the vendor SDK did not verify the request (see its log)";
        }
    } catch (...) {
        cb->status = ZONE_ERR_INTERNAL;
        cb->error = "out of memory";
    }
    return cb;
}

void zone_callback_free(zone_callback *cb)
{
    delete cb;
}

int zone_callback_ok(const zone_callback *cb)
{
    return cb && cb->status == ZONE_OK && cb->vendor;
}

int zone_callback_status(const zone_callback *cb)
{
    return cb ? cb->status : ZONE_ERR_INTERNAL;
}

const char *zone_callback_error(const zone_callback *cb)
{
    return cb ? cb->error.c_str() : "no callback object";
}

#define VENDOR_STR(getter) (zone_callback_ok(cb) ? cb->vendor->getter().c_str() : "")

const char *zone_callback_corpid(const zone_callback *cb)
{
    return VENDOR_STR(GetCorpId);
}
uint32_t zone_callback_agentid(const zone_callback *cb)
{
    return zone_callback_ok(cb) ? cb->vendor->GetAgentId() : 0;
}
uint32_t zone_callback_call_type(const zone_callback *cb)
{
    return zone_callback_ok(cb) ? cb->vendor->GetCallType() : 0;
}
const char *zone_callback_data(const zone_callback *cb)
{
    return VENDOR_STR(GetData);
}
int zone_callback_is_async(const zone_callback *cb)
{
    return zone_callback_ok(cb) ? cb->vendor->GetIsAsync() : 0;
}
const char *zone_callback_job_info(const zone_callback *cb)
{
    return VENDOR_STR(GetJobInfo);
}
const char *zone_callback_ability_id(const zone_callback *cb)
{
    return VENDOR_STR(GetAbilityId);
}
const char *zone_callback_notify_id(const zone_callback *cb)
{
    return VENDOR_STR(GetNotifyId);
}

// The vendor keeps its req_id to itself.
const char *zone_callback_req_id(const zone_callback *cb)
{
    (void)cb;
    return REQ_ID_NONE;
}

int zone_callback_build_reply(const zone_callback *cb, const char *response, size_t len,
                              zone_reply **out, char *errbuf, size_t errlen)
{
    if (out)
        *out = 0;
    if (!cb || !out) {
        say(errbuf, errlen, "callback and out must not be NULL");
        return ZONE_ERR_INTERNAL;
    }
    if (!cb->vendor) {
        // Refused before the vendor saw it (-2000x): there is nothing to sign with.
        say(errbuf, errlen, cb->error.c_str());
        return cb->status;
    }
    zone_reply *r = static_cast<zone_reply *>(calloc(1, sizeof *r));
    if (!r) {
        say(errbuf, errlen, "out of memory");
        return ZONE_ERR_INTERNAL;
    }
    try {
        std::map<std::string, std::string> headers;
        std::string body;
        std::string rsp = zone_callback_ok(cb) && response ? std::string(response, len) : "";
        cb->vendor->BuildResponseHeaderBody(rsp, &headers, &body);
        r->headers = static_cast<zone_header *>(calloc(headers.size() + 1, sizeof *r->headers));
        if (!r->headers)
            throw std::bad_alloc();
        for (std::map<std::string, std::string>::const_iterator it = headers.begin();
             it != headers.end(); ++it) {
            r->headers[r->n_headers].name = dup_string(it->first);
            r->headers[r->n_headers].value = dup_string(it->second);
            r->n_headers++;
            if (!r->headers[r->n_headers - 1].name || !r->headers[r->n_headers - 1].value)
                throw std::bad_alloc();
        }
        if (!(r->body = dup_string(body)))
            throw std::bad_alloc();
        r->body_len = body.size();
    } catch (...) {
        zone_reply_free(r);
        say(errbuf, errlen, "out of memory building the reply");
        return ZONE_ERR_INTERNAL;
    }
    *out = r;
    return ZONE_OK;
}

zone_sdk *zone_sdk_new(const char *corpid, uint32_t agentid, const char *ability_id,
                       const char *job_info)
{
    zone_sdk *s = new (std::nothrow) zone_sdk;
    if (!s)
        return 0;
    try {
        s->vendor = new SpecSdk(corpid ? corpid : "", agentid, ability_id ? ability_id : "",
                                job_info ? job_info : "");
    } catch (...) {
        delete s;
        return 0;
    }
    return s;
}

zone_sdk *zone_sdk_new_from_callback(const zone_callback *cb)
{
    zone_sdk *s = new (std::nothrow) zone_sdk;
    if (!s)
        return 0;
    if (!zone_callback_ok(cb)) {
        s->status = ZONE_ERR_INTERNAL; // the vendor requires IsOk() before SpecSdk(callback)
        return s;
    }
    try {
        s->vendor = new SpecSdk(*cb->vendor);
    } catch (...) {
        delete s;
        return 0;
    }
    return s;
}

void zone_sdk_free(zone_sdk *s)
{
    delete s;
}

int zone_sdk_invoke(const zone_sdk *cs, const char *api, const char *request, char **response,
                    char *errbuf, size_t errlen)
{
    zone_sdk *s = const_cast<zone_sdk *>(cs); // the lock is the only thing that changes
    if (response)
        *response = 0;
    if (!s || !response) {
        say(errbuf, errlen, "handle and response must not be NULL");
        return ZONE_ERR_INTERNAL;
    }
    if (s->status != ZONE_OK || !s->vendor) {
        say(errbuf, errlen,
            "the inbound request did not verify; a handle from a callback needs "
            "zone_callback_ok()");
        return s->status;
    }
    try {
        std::string rsp;
        int rc;
        {
            std::lock_guard<std::mutex> hold(s->lock);
            rc = s->vendor->Invoke(api ? api : "", request ? request : "", &rsp);
        }
        if (rc != 0) {
            char text[ZONE_ERRBUF_SIZE];
            snprintf(text, sizeof text, "vendor SDK Invoke(%.60s) returned %d: %s", api ? api : "",
                     rc, zone_strerror(rc));
            say(errbuf, errlen, text);
            return rc;
        }
        if (!(*response = dup_string(rsp)))
            throw std::bad_alloc();
    } catch (...) {
        say(errbuf, errlen, "out of memory");
        return ZONE_ERR_INTERNAL;
    }
    return ZONE_OK;
}

char *zone_generate_notify_id(void)
{
    try {
        return dup_string(GenerateNotifyId());
    } catch (...) {
        return 0;
    }
}

int zone_open_debug_mode(const char *debug_token, const char *access_token, char *errbuf,
                         size_t errlen)
{
    try {
        if (Tencent::WxWork::SpecOpenDebugMode(debug_token ? debug_token : "",
                                               access_token ? access_token : ""))
            return 1;
    } catch (...) {
    }
    say(errbuf, errlen, "the vendor SDK refused debug mode (see its log)");
    return 0;
}

// The vendor filters by the level set with set_log_level; everything is handed to it.
int zone_log_level(void)
{
    return ZONE_LOG_LEVEL_DBG;
}

// The vendor keeps its own req_id per request.
void zone_log_set_req_id(const char *req_id)
{
    (void)req_id;
}

// The vendor's macros take the file and line of this file; the caller's are lost.
void zone_log_write(int level, const char *file, int line, const char *fmt, ...)
{
    char text[ZONE_LOG_CUSTOM_MAX + 8];
    va_list ap;
    (void)file, (void)line;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt ? fmt : "", ap);
    va_end(ap);
    if (level <= ZONE_LOG_LEVEL_ERR)
        WWSPEC_LOG_ERROR("%s", text);
    else if (level == ZONE_LOG_LEVEL_INFO)
        WWSPEC_LOG_INFO("%s", text);
    else
        WWSPEC_LOG_DEBUG("%s", text);
}

} // extern "C"
