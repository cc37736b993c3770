// cpp_sdk.h: the vendor's C++ zone SDK surface, header-only over zonelab's C API (zone_sdk.h).
//
// A program written against the vendor's cpp_sdk.h builds unchanged against this one and
// links libzonesdk instead of libWeWorkSpecSDK.so. Names live in Tencent::WxWork and are also
// visible unqualified, so both spellings found in vendor code resolve.
#ifndef ZONELAB_CPP_SDK_H
#define ZONELAB_CPP_SDK_H

#include <stdint.h>

#include <map>
#include <string>
#include <vector>

#include "zone_sdk.h"

namespace Tencent
{
namespace WxWork
{

// An inbound request: verified and decrypted at construction. Unlike the vendor's class
// this one copies what it needs, but portable code keeps method, headers and body alive
// for the object's lifetime as the vendor requires.
class SpecCallbackSDK
{
  public:
    SpecCallbackSDK(const std::string &method, const std::map<std::string, std::string> &headers,
                    const std::string &body)
        : cb_(0), agentid_(0), call_type_(0), is_async_(false)
    {
        std::vector<zone_header> hv;
        hv.reserve(headers.size());
        for (std::map<std::string, std::string>::const_iterator it = headers.begin();
             it != headers.end(); ++it) {
            zone_header h = {it->first.c_str(), it->second.c_str()};
            hv.push_back(h);
        }
        cb_ = zone_callback_new(method.c_str(), hv.empty() ? 0 : &hv[0], hv.size(), body.data(),
                                body.size());
        if (zone_callback_ok(cb_)) {
            corpid_ = zone_callback_corpid(cb_);
            agentid_ = zone_callback_agentid(cb_);
            call_type_ = zone_callback_call_type(cb_);
            data_ = zone_callback_data(cb_);
            is_async_ = zone_callback_is_async(cb_) != 0;
            job_info_ = zone_callback_job_info(cb_);
            ability_id_ = zone_callback_ability_id(cb_);
            notify_id_ = zone_callback_notify_id(cb_);
        }
    }
    ~SpecCallbackSDK()
    {
        zone_callback_free(cb_);
    }

    bool IsOk() const
    {
        return zone_callback_ok(cb_) != 0;
    }

    const std::string &GetCorpId() const
    {
        return corpid_;
    }
    uint32_t GetAgentId() const
    {
        return agentid_;
    }
    uint32_t GetCallType() const
    {
        return call_type_;
    }
    const std::string &GetData() const
    {
        return data_;
    }
    bool GetIsAsync() const
    {
        return is_async_;
    }
    const std::string &GetJobInfo() const
    {
        return job_info_;
    }
    const std::string &GetAbilityId() const
    {
        return ability_id_;
    }
    const std::string &GetNotifyId() const
    {
        return notify_id_;
    }

    // Signs and encrypts rsp into the reply's headers and body; when IsOk() is false this is
    // the exception reply (pass ""). Returns 0, or a negative SDK code.
    int BuildResponseHeaderBody(const std::string &rsp, std::map<std::string, std::string> *headers,
                                std::string *body) const
    {
        zone_reply *r = 0;
        int rc = zone_callback_build_reply(cb_, rsp.data(), rsp.size(), &r, 0, 0);
        if (rc != ZONE_OK)
            return rc;
        if (headers) {
            headers->clear();
            for (size_t i = 0; i < r->n_headers; i++)
                (*headers)[r->headers[i].name] = r->headers[i].value;
        }
        if (body)
            body->assign(r->body, r->body_len);
        zone_reply_free(r);
        return 0;
    }

    // zonelab: the C handle, for code mixing the C API in.
    const zone_callback *Handle() const
    {
        return cb_;
    }

  private:
    SpecCallbackSDK(const SpecCallbackSDK &);
    SpecCallbackSDK &operator=(const SpecCallbackSDK &);

    zone_callback *cb_;
    std::string corpid_, data_, job_info_, ability_id_, notify_id_;
    uint32_t agentid_, call_type_;
    bool is_async_;
};

// Invokes SDK APIs as (corpid, agentid, ability_id, job_info), or in a request's context.
class SpecSdk
{
  public:
    SpecSdk(const std::string &corpid, uint32_t agentid, const std::string &ability_id,
            const std::string &job_info)
        : sdk_(zone_sdk_new(corpid.c_str(), agentid, ability_id.c_str(), job_info.c_str()))
    {
    }
    explicit SpecSdk(const SpecCallbackSDK &callback)
        : sdk_(zone_sdk_new_from_callback(callback.Handle()))
    {
    }
    ~SpecSdk()
    {
        zone_sdk_free(sdk_);
    }

    // Returns 0 when the reply arrived (check its errcode) or a -100xx SDK code; *rsp is the
    // reply JSON, or "" on failure (the reason is logged at ERR).
    int Invoke(const std::string &api, const std::string &req, std::string *rsp)
    {
        char *out = 0;
        int rc;
        if (!sdk_)
            return ZONE_ERR_INTERNAL;
        rc = zone_sdk_invoke(sdk_, api.c_str(), req.c_str(), &out, 0, 0);
        if (rsp)
            rsp->assign(out ? out : "");
        zone_string_free(out);
        return rc;
    }

  private:
    SpecSdk(const SpecSdk &);
    SpecSdk &operator=(const SpecSdk &);

    zone_sdk *sdk_;
};

// A new notify id (32 lower-case hex characters); "" if the random source failed.
inline std::string GenerateNotifyId()
{
    char *id = zone_generate_notify_id();
    std::string s(id ? id : "");
    zone_string_free(id);
    return s;
}

// Debug mode with the debug token from open_debug_mode and the app's access_token.
inline bool SpecOpenDebugMode(const std::string &debug_token, const std::string &access_token)
{
    return zone_open_debug_mode(debug_token.c_str(), access_token.c_str(), 0, 0) != 0;
}

} // namespace WxWork
} // namespace Tencent

using Tencent::WxWork::GenerateNotifyId;
using Tencent::WxWork::SpecCallbackSDK;
using Tencent::WxWork::SpecOpenDebugMode;
using Tencent::WxWork::SpecSdk;

// printf-style; the custom text is cut to 128 bytes.
#define WWSPEC_LOG_INFO(...)  zone_log_write(ZONE_LOG_LEVEL_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define WWSPEC_LOG_ERROR(...) zone_log_write(ZONE_LOG_LEVEL_ERR, __FILE__, __LINE__, __VA_ARGS__)
#define WWSPEC_LOG_DEBUG(...) zone_log_write(ZONE_LOG_LEVEL_DBG, __FILE__, __LINE__, __VA_ARGS__)

#endif
