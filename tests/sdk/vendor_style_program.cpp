// vendor_style_program: a C++ zone program written the way the vendor's guide shows
// (SpecCallbackSDK, SpecSdk(callback_sdk).Invoke, BuildResponseHeaderBody, GenerateNotifyId,
// WWSPEC_LOG_*), served with libmicrohttpd. It builds unchanged against zonelab's
// cpp_sdk.h and against the vendor's. Listens on 127.0.0.1:$PORT (8080 by default).
#include "cpp_sdk.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <string>

namespace
{

struct Request {
    std::string body;
};

MHD_Result collect_header(void *cls, MHD_ValueKind, const char *key, const char *value)
{
    std::map<std::string, std::string> *headers =
        static_cast<std::map<std::string, std::string> *>(cls);
    (*headers)[key] = value ? value : "";
    return MHD_YES;
}

// The business logic: invoke_<api> proxies request_data to that API; events get a notify id.
std::string Handle(SpecCallbackSDK &callback_sdk)
{
    std::string rsp;
    if (callback_sdk.GetCallType() == 2) {
        std::string notify_id = GenerateNotifyId();
        WWSPEC_LOG_INFO("event stored as %s", notify_id.c_str());
        std::string notify_req = "{\"notify_id\":\"" + notify_id + "\",\"notify_scene\":1}";
        int ret = SpecSdk(callback_sdk.GetCorpId(), callback_sdk.GetAgentId(), "", "")
                      .Invoke("spec_notify_app", notify_req, &rsp);
        if (ret != 0)
            WWSPEC_LOG_ERROR("spec_notify_app ret=%d", ret);
        return "{\"errcode\":0,\"errmsg\":\"ok\"}";
    }
    const std::string &ability_id = callback_sdk.GetAbilityId();
    if (ability_id.compare(0, 7, "invoke_") == 0) {
        int ret = SpecSdk(callback_sdk).Invoke(ability_id.substr(7), callback_sdk.GetData(), &rsp);
        if (ret != 0) {
            WWSPEC_LOG_ERROR("invoke %s ret=%d", ability_id.c_str(), ret);
            return "{\"errcode\":710660,\"errmsg\":\"sample image internal error\"}";
        }
        return rsp;
    }
    return "{\"errcode\":710660,\"errmsg\":\"unknown ability\"}";
}

MHD_Result on_request(void *, MHD_Connection *connection, const char *url, const char *method,
                      const char *, const char *upload_data, size_t *upload_data_size,
                      void **con_cls)
{
    if (!*con_cls) {
        *con_cls = new Request;
        return MHD_YES;
    }
    Request *req = static_cast<Request *>(*con_cls);
    if (*upload_data_size) {
        if (req->body.size() + *upload_data_size > (8u << 20))
            return MHD_NO;
        req->body.append(upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    MHD_Response *response;
    MHD_Result ret;
    if (std::string(method) != "POST" || std::string(url) != "/") {
        response = MHD_create_response_from_buffer(0, 0, MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(connection, MHD_HTTP_METHOD_NOT_ALLOWED, response);
        MHD_destroy_response(response);
        return ret;
    }
    // Header names reach the SDK exactly as received.
    std::map<std::string, std::string> headers;
    MHD_get_connection_values(connection, MHD_HEADER_KIND, collect_header, &headers);
    SpecCallbackSDK callback_sdk(method, headers, req->body);
    std::string rsp;
    if (callback_sdk.IsOk()) {
        WWSPEC_LOG_INFO("call_type=%u ability_id=%s", callback_sdk.GetCallType(),
                        callback_sdk.GetAbilityId().c_str());
        rsp = Handle(callback_sdk);
    } else {
        WWSPEC_LOG_ERROR("request did not verify");
    }
    std::map<std::string, std::string> rsp_headers;
    std::string encrypted_body;
    callback_sdk.BuildResponseHeaderBody(rsp, &rsp_headers, &encrypted_body);
    response = MHD_create_response_from_buffer(
        encrypted_body.size(), const_cast<char *>(encrypted_body.data()), MHD_RESPMEM_MUST_COPY);
    for (std::map<std::string, std::string>::const_iterator it = rsp_headers.begin();
         it != rsp_headers.end(); ++it)
        MHD_add_response_header(response, it->first.c_str(), it->second.c_str());
    ret = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return ret;
}

void on_completed(void *, MHD_Connection *, void **con_cls, MHD_RequestTerminationCode)
{
    delete static_cast<Request *>(*con_cls);
    *con_cls = 0;
}

volatile sig_atomic_t stop;
void on_signal(int)
{
    stop = 1;
}

} // namespace

int main()
{
    const char *port_env = getenv("PORT");
    unsigned port = port_env ? (unsigned)atoi(port_env) : 8080;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                         (uint16_t)port, 0, 0, on_request, 0, MHD_OPTION_SOCK_ADDR, &addr,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, 0, MHD_OPTION_END);
    if (!d) {
        WWSPEC_LOG_ERROR("cannot listen on port %u", port);
        return 1;
    }
    WWSPEC_LOG_INFO("listening on 127.0.0.1:%u", port);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
