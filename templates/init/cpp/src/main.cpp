// @PROGRAM_ID@: a zone program, written the way WeCom's guide writes one: it listens on
// 8080 (all addresses), verifies each request with SpecCallbackSDK, answers through
// BuildResponseHeaderBody, and calls WeCom with SpecSdk(...).Invoke.
//
// Abilities (world.json declares them, with their input and output protocols):
//   hello              {"name":""} -> {"errcode":0,"errmsg":"","greeting":""}
//   invoke_sync_msg    request_data is sync_msg's request; the reply is sync_msg's reply
//   get_callback_data  the event stored under the call's notify_id
// Events (call_type 2): each is stored durably under a fresh notify_id first (written,
// fsynced, renamed), then the app is told with spec_notify_app, so the app's
// get_callback_data with that notify_id finds it on this machine even after a crash.
//
// Built against zonelab's fake SDK by default; -DZONE_SDK=vendor links the vendor's.
#include "cpp_sdk.h"

#include <microhttpd.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>

namespace
{

std::string g_data_dir = "data"; // DATA_DIR, or ZONELAB_WORK_DIR/data under zonelab

// A JSON string literal of s (the events and replies here are JSON already; only the
// greeting needs quoting).
std::string Quote(const std::string &s)
{
    std::string out = "\"";
    for (size_t i = 0; i < s.size(); i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out += '\\';
            out += (char)c;
        } else if (c < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
        } else {
            out += (char)c;
        }
    }
    return out + "\"";
}

// The string value of "key" in a flat JSON object, or "" (enough for {"name":"..."}).
std::string StringField(const std::string &json, const std::string &key)
{
    size_t k = json.find("\"" + key + "\"");
    if (k == std::string::npos)
        return "";
    size_t colon = json.find(':', k);
    size_t q = colon == std::string::npos ? colon : json.find('"', colon);
    if (q == std::string::npos)
        return "";
    std::string v;
    for (size_t i = q + 1; i < json.size() && json[i] != '"'; i++) {
        if (json[i] == '\\' && i + 1 < json.size())
            i++;
        v += json[i];
    }
    return v;
}

bool SafeId(const std::string &id)
{
    if (id.empty() || id.size() > 64)
        return false;
    for (size_t i = 0; i < id.size(); i++)
        if (!isalnum((unsigned char)id[i]))
            return false;
    return true;
}

// Stores data under notify_id durably: a temporary file, written and fsynced, renamed, and
// the folder fsynced. Returns true when it is on disk.
bool StoreEvent(const std::string &notify_id, const std::string &data)
{
    std::string path = g_data_dir + "/" + notify_id + ".event", tmp = path + ".tmp";
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return false;
    bool ok = write(fd, data.data(), data.size()) == (ssize_t)data.size() && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
        unlink(tmp.c_str());
        return false;
    }
    int dir = open(g_data_dir.c_str(), O_RDONLY | O_DIRECTORY);
    ok = dir >= 0 && fsync(dir) == 0;
    if (dir >= 0)
        close(dir);
    return ok;
}

bool LoadEvent(const std::string &notify_id, std::string *data)
{
    if (!SafeId(notify_id))
        return false;
    FILE *f = fopen((g_data_dir + "/" + notify_id + ".event").c_str(), "rb");
    if (!f)
        return false;
    char buf[65536];
    size_t n;
    data->clear();
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        data->append(buf, n);
    fclose(f);
    return true;
}

std::string Error(int errcode, const std::string &errmsg)
{
    char head[64];
    snprintf(head, sizeof head, "{\"errcode\":%d,\"errmsg\":", errcode);
    return head + Quote(errmsg) + "}";
}

// An event: stored first, then the app notified; WeCom only needs to hear that it arrived.
std::string OnEvent(SpecCallbackSDK &callback_sdk)
{
    std::string notify_id = GenerateNotifyId();
    if (!StoreEvent(notify_id, callback_sdk.GetData())) {
        WWSPEC_LOG_ERROR("cannot store the event under %s: %s", notify_id.c_str(), strerror(errno));
        return Error(710660, "the event could not be stored");
    }
    std::string rsp, req = "{\"notify_id\":" + Quote(notify_id) + ",\"notify_scene\":1}";
    int ret = SpecSdk(callback_sdk.GetCorpId(), callback_sdk.GetAgentId(), "", "")
                  .Invoke("spec_notify_app", req, &rsp);
    if (ret != 0)
        WWSPEC_LOG_ERROR("spec_notify_app ret=%d rsp=%s", ret, rsp.c_str());
    else
        WWSPEC_LOG_INFO("event stored under %s, app notified", notify_id.c_str());
    return Error(0, "ok");
}

// An app's call to one of the abilities.
std::string OnCall(SpecCallbackSDK &callback_sdk)
{
    const std::string &ability = callback_sdk.GetAbilityId();
    std::string rsp;
    if (ability == "hello") {
        std::string name = StringField(callback_sdk.GetData(), "name");
        return "{\"errcode\":0,\"errmsg\":\"\",\"greeting\":" +
               Quote("hello, " + (name.empty() ? std::string("world") : name)) + "}";
    }
    if (ability == "invoke_sync_msg") {
        int ret = SpecSdk(callback_sdk).Invoke("sync_msg", callback_sdk.GetData(), &rsp);
        if (ret != 0) {
            WWSPEC_LOG_ERROR("sync_msg ret=%d", ret);
            return Error(710660, "sync_msg failed");
        }
        return rsp;
    }
    if (ability == "get_callback_data") {
        std::string event;
        if (!LoadEvent(callback_sdk.GetNotifyId(), &event))
            return Error(710660, "no event is stored under this notify_id here");
        return event;
    }
    return Error(710660, "unknown ability " + ability);
}

struct Request {
    std::string body;
};

MHD_Result CollectHeader(void *cls, MHD_ValueKind, const char *key, const char *value)
{
    (*static_cast<std::map<std::string, std::string> *>(cls))[key] = value ? value : "";
    return MHD_YES;
}

MHD_Result OnRequest(void *, MHD_Connection *connection, const char *url, const char *method,
                     const char *, const char *upload_data, size_t *upload_data_size,
                     void **con_cls)
{
    if (!*con_cls) {
        *con_cls = new Request;
        return MHD_YES;
    }
    Request *req = static_cast<Request *>(*con_cls);
    if (*upload_data_size) {
        if (req->body.size() + *upload_data_size > (64u << 20))
            return MHD_NO;
        req->body.append(upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    MHD_Response *response;
    MHD_Result ret;
    if (strcmp(method, "POST") != 0 || strcmp(url, "/") != 0) {
        response = MHD_create_response_from_buffer(0, 0, MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(connection, MHD_HTTP_NOT_FOUND, response);
        MHD_destroy_response(response);
        return ret;
    }
    std::map<std::string, std::string> headers; // names exactly as received
    MHD_get_connection_values(connection, MHD_HEADER_KIND, CollectHeader, &headers);
    SpecCallbackSDK callback_sdk(method, headers, req->body);
    std::string rsp;
    if (!callback_sdk.IsOk())
        WWSPEC_LOG_ERROR("a request did not verify");
    else if (callback_sdk.GetCallType() == 2)
        rsp = OnEvent(callback_sdk);
    else
        rsp = OnCall(callback_sdk);
    std::map<std::string, std::string> rsp_headers;
    std::string body;
    callback_sdk.BuildResponseHeaderBody(rsp, &rsp_headers, &body);
    response = MHD_create_response_from_buffer(body.size(), const_cast<char *>(body.data()),
                                               MHD_RESPMEM_MUST_COPY);
    for (std::map<std::string, std::string>::const_iterator it = rsp_headers.begin();
         it != rsp_headers.end(); ++it)
        MHD_add_response_header(response, it->first.c_str(), it->second.c_str());
    ret = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return ret;
}

void OnCompleted(void *, MHD_Connection *, void **con_cls, MHD_RequestTerminationCode)
{
    delete static_cast<Request *>(*con_cls);
    *con_cls = 0;
}

volatile sig_atomic_t g_stop;
void OnSignal(int)
{
    g_stop = 1;
}

} // namespace

int main()
{
    const char *dir = getenv("DATA_DIR"), *work = getenv("ZONELAB_WORK_DIR");
    if (dir && *dir)
        g_data_dir = dir;
    else if (work && *work)
        g_data_dir = std::string(work) + "/data";
    mkdir(g_data_dir.c_str(), 0700);
    signal(SIGTERM, OnSignal);
    signal(SIGINT, OnSignal);
    signal(SIGPIPE, SIG_IGN);
    // 8080 on every address, as WeCom's guide says; under zonelab each replica's bind is
    // moved to its own port.
    MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 8080, 0,
                         0, OnRequest, 0, MHD_OPTION_NOTIFY_COMPLETED, OnCompleted, 0,
                         MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!d) {
        WWSPEC_LOG_ERROR("cannot listen on port 8080");
        return 1;
    }
    WWSPEC_LOG_INFO("@PROGRAM_ID@ listening on port 8080, data in %s", g_data_dir.c_str());
    while (!g_stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
