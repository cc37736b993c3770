#!/usr/bin/env python3
"""guide_program.py: a zone program written from WeCom's guide alone (doc 54006), reading no
zonelab variable: "自行监听8080端口（IP使用0.0.0.0）", every request verified with
WWToSpecHTTPReqDecoder and answered with WWToSpecHTTPRspConstructor, app calls in the Python
sample's convention ({"input":{"func":"sync_msg","func_req":{...}}} in, {"output":...} out).

Under zonelab each replica's bind to 0.0.0.0:8080 lands on its own port (docs/emulator.md,
"Ports"); tests/python/guide/ runs two replicas of it with `zonelab serve` and in a scenario.
"""

import http.server
import json

from wwspecapisdk import (ChatDataSDK, WWToSpecHTTPReqDecoder, WWToSpecHTTPRspConstructor,
                          spec_log_error, spec_log_info)


def answer(req):
    """The reply text for a request that verified."""
    if req.get_call_type() != 1:  # an event: nothing to do here
        return ""
    data = json.loads(req.get_data())
    func = data["input"]["func"]
    func_req = data["input"].get("func_req", {})
    if func != "sync_msg":
        return json.dumps({"output": {"errcode": 710660, "errmsg": "no such func"}})
    sdk = ChatDataSDK(req.get_corpid(), req.get_agentid(), req.get_ability_id(),
                      req.get_job_info())
    rsp = sdk.sync_msg(json.dumps(func_req))
    return json.dumps({"output": json.loads(rsp)})


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
        try:
            req = WWToSpecHTTPReqDecoder(list(self.headers.items()), body)
        except Exception as e:
            spec_log_error("request does not verify:", e)
            rsp = WWToSpecHTTPRspConstructor("")
            headers = rsp.get_exception_header()
        else:
            rsp = WWToSpecHTTPRspConstructor(answer(req))
            headers = rsp.get_normal_header()
        out = rsp.get_encoded_body().encode("utf-8")
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, fmt, *args):
        spec_log_info(fmt % args)


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
    spec_log_info("listening on 0.0.0.0:8080")
    server.serve_forever()
