// cpp_sdk.h (stand-in): the vendor C++ SDK's documented surface, for CI only.
//
// Written from the vendor's published usage (spec program-side.md); every call is recorded
// by libWeWorkSpecSDK.so (standin.cpp) so tests can check what the adapter sent. It is not
// the vendor's header; the real one is never committed.
#ifndef STANDIN_CPP_SDK_H
#define STANDIN_CPP_SDK_H

#include <stdint.h>

#include <map>
#include <string>

class SpecCallbackSDK
{
  public:
    // Keeps references to headers and post_data, as the vendor's class does.
    SpecCallbackSDK(const std::string &method, const std::map<std::string, std::string> &headers,
                    const std::string &post_data);
    ~SpecCallbackSDK();
    bool IsOk() const;
    const std::string &GetCorpId() const;
    uint32_t GetAgentId() const;
    uint32_t GetCallType() const;
    const std::string &GetData() const;
    bool GetIsAsync() const;
    const std::string &GetJobInfo() const;
    const std::string &GetAbilityId() const;
    const std::string &GetNotifyId() const;
    void BuildResponseHeaderBody(const std::string &rsp,
                                 std::map<std::string, std::string> *headers,
                                 std::string *body) const;

  private:
    const std::string &method_;
    const std::map<std::string, std::string> &headers_;
    const std::string &post_data_;
    std::string corpid_, data_, job_info_, ability_id_, notify_id_;
};

class SpecSdk
{
  public:
    SpecSdk(const std::string &corpid, uint32_t agentid, const std::string &ability_id,
            const std::string &job_info);
    explicit SpecSdk(const SpecCallbackSDK &callback_sdk);
    ~SpecSdk();
    int Invoke(const std::string &api, const std::string &req, std::string *rsp);

  private:
    std::string corpid_, ability_id_, job_info_;
    uint32_t agentid_;
};

std::string GenerateNotifyId();

namespace Tencent
{
namespace WxWork
{
bool SpecOpenDebugMode(const std::string &debug_token, const std::string &access_token);
void SpecLog(int level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
} // namespace WxWork
} // namespace Tencent

#define WWSPEC_LOG_ERROR(fmt, ...)                                                                 \
    Tencent::WxWork::SpecLog(1, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define WWSPEC_LOG_INFO(fmt, ...)                                                                  \
    Tencent::WxWork::SpecLog(2, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define WWSPEC_LOG_DEBUG(fmt, ...)                                                                 \
    Tencent::WxWork::SpecLog(3, __FILE__, __LINE__, fmt, ##__VA_ARGS__)

#endif
