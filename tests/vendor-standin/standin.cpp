// standin.cpp: a recording libWeWorkSpecSDK.so for CI; every call appends one line to
// $STANDIN_LOG. Answers are fixed and derived from the arguments, so a test can tell
// that what the adapter returned came from here.
#include "cpp_sdk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <mutex>
#include <sstream>

namespace
{

std::mutex log_mutex;

void record(const std::string &line)
{
    const char *path = getenv("STANDIN_LOG");
    if (!path)
        return;
    std::lock_guard<std::mutex> lock(log_mutex);
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f, "%s\n", line.c_str());
    fclose(f);
}

std::string map_text(const std::map<std::string, std::string> &m)
{
    std::string s;
    for (std::map<std::string, std::string>::const_iterator it = m.begin(); it != m.end(); ++it)
        s += (s.empty() ? "" : ";") + it->first + "=" + it->second;
    return s;
}

} // namespace

SpecCallbackSDK::SpecCallbackSDK(const std::string &method,
                                 const std::map<std::string, std::string> &headers,
                                 const std::string &post_data)
    : method_(method), headers_(headers), post_data_(post_data), corpid_("standin-corp"),
      data_(post_data), job_info_("standin-job"), ability_id_("standin-ability"),
      notify_id_("standin-notify")
{
    record("SpecCallbackSDK(" + method + "," + map_text(headers) + "," + post_data + ")");
}

SpecCallbackSDK::~SpecCallbackSDK()
{
}

// A request verifies when it is a POST carrying ww-secret-ver; the data is the body.
bool SpecCallbackSDK::IsOk() const
{
    return method_ == "POST" && headers_.count("ww-secret-ver") == 1 && !post_data_.empty();
}
const std::string &SpecCallbackSDK::GetCorpId() const
{
    return corpid_;
}
uint32_t SpecCallbackSDK::GetAgentId() const
{
    return 1000002;
}
uint32_t SpecCallbackSDK::GetCallType() const
{
    return 1;
}
const std::string &SpecCallbackSDK::GetData() const
{
    return data_;
}
bool SpecCallbackSDK::GetIsAsync() const
{
    return true;
}
const std::string &SpecCallbackSDK::GetJobInfo() const
{
    return job_info_;
}
const std::string &SpecCallbackSDK::GetAbilityId() const
{
    return ability_id_;
}
const std::string &SpecCallbackSDK::GetNotifyId() const
{
    return notify_id_;
}

void SpecCallbackSDK::BuildResponseHeaderBody(const std::string &rsp,
                                              std::map<std::string, std::string> *headers,
                                              std::string *body) const
{
    record("BuildResponseHeaderBody(" + rsp + ")");
    (*headers)["ww-standin"] = IsOk() ? "normal" : "exception";
    *body = "sealed[" + rsp + "]";
}

SpecSdk::SpecSdk(const std::string &corpid, uint32_t agentid, const std::string &ability_id,
                 const std::string &job_info)
    : corpid_(corpid), ability_id_(ability_id), job_info_(job_info), agentid_(agentid)
{
    std::ostringstream o;
    o << "SpecSdk(" << corpid << "," << agentid << "," << ability_id << "," << job_info << ")";
    record(o.str());
}

SpecSdk::SpecSdk(const SpecCallbackSDK &cb)
    : corpid_(cb.GetCorpId()), ability_id_(cb.GetAbilityId()), job_info_(cb.GetJobInfo()),
      agentid_(cb.GetAgentId())
{
    record("SpecSdk(callback:" + cb.GetCorpId() + ")");
}

SpecSdk::~SpecSdk()
{
}

// "fail_network" answers -10002; everything else 0 with a reply naming the API and caller.
int SpecSdk::Invoke(const std::string &api, const std::string &req, std::string *rsp)
{
    record("Invoke(" + api + "," + req + ")");
    if (api == "fail_network")
        return -10002;
    *rsp = "{\"errcode\":0,\"errmsg\":\"ok\",\"standin\":\"" + api + "@" + corpid_ + "\"}";
    return 0;
}

std::string GenerateNotifyId()
{
    record("GenerateNotifyId()");
    return "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
}

namespace Tencent
{
namespace WxWork
{

bool SpecOpenDebugMode(const std::string &debug_token, const std::string &access_token)
{
    record("SpecOpenDebugMode(" + debug_token + "," + access_token + ")");
    return debug_token == "good";
}

void SpecLog(int level, const char *file, int line, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::ostringstream o;
    o << "Log(" << level << "," << buf << ")";
    (void)file, (void)line;
    record(o.str());
}

} // namespace WxWork
} // namespace Tencent
