#!/usr/bin/env python3
"""@PROGRAM_ID@: a zone program, written the way WeCom's Python sample writes one.

It listens on 0.0.0.0:8080, verifies every request with WWToSpecHTTPReqDecoder and answers
through WWToSpecHTTPRspConstructor. As in the vendor's Python sample, an app's request_data
is {"input":{"func":"<name>","func_req":{...}}} and the answer is {"output":{...}}:

  func hello          {"name":""} -> {"greeting":""}
  func sync_msg       ChatDataSDK.sync_msg(func_req): the archived messages, one page
  func do_async_job   the event stored under the call's notify_id

Events (call_type 2) are stored durably first (written, fsynced, renamed), then the app is
told with spec_notify_app, so the app's do_async_job with that notify_id finds the event on
this machine even after a crash.

Against zonelab, `zonelab run` gives it zonelab's fake wwspecapisdk; in the zone, the vendor's.
"""

import http.server
import json
import os
import socketserver
import sys
import tempfile

from wwspecapisdk import (ChatDataSDK, WWToSpecHTTPReqDecoder, WWToSpecHTTPRspConstructor,
                          spec_gen_notify_id, spec_log_error, spec_log_info)

PROGRAM_ERROR = 710660  # the samples' own failure code
MAX_BODY = 64 << 20


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def error(msg):
    return {"errcode": PROGRAM_ERROR, "errmsg": msg}


class EventStore:
    """Each event a file <folder>/<notify_id>.json, on disk before anybody hears of it."""

    def __init__(self, folder):
        self.dir = folder
        os.makedirs(folder, exist_ok=True)

    def _path(self, notify_id):
        if not notify_id or len(notify_id) > 64 or not notify_id.isalnum():
            return None
        return os.path.join(self.dir, notify_id + ".json")

    def put(self, notify_id, data):
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path(notify_id))
        folder = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def get(self, notify_id):
        path = self._path(notify_id)
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (TypeError, OSError, ValueError):
            return None


class Program:
    def __init__(self, store):
        self.store = store

    def on_event(self, d):
        notify_id = spec_gen_notify_id()
        try:
            self.store.put(notify_id, d.get_data())
        except OSError as e:
            spec_log_error("the event could not be stored:", e)
            return error("the event could not be stored")
        req = compact({"notify_id": notify_id, "notify_scene": 1})
        try:
            rsp = json.loads(ChatDataSDK(d.get_corpid(), d.get_agentid(), "", "")
                             .spec_notify_app(req))
            if rsp.get("errcode") != 0:
                spec_log_error("spec_notify_app:", rsp)
        except Exception as e:  # the SDK raises on transport failures
            spec_log_error("spec_notify_app failed:", e)
        spec_log_info("event stored under", notify_id)
        return {"errcode": 0, "errmsg": "ok"}

    def on_call(self, d):
        try:
            inp = json.loads(d.get_data()).get("input", {})
            func, func_req = inp["func"], inp.get("func_req", {})
        except (ValueError, AttributeError, KeyError, TypeError):
            return error('request_data must be {"input":{"func":...,"func_req":{...}}}')
        if func == "hello":
            name = func_req.get("name") or "world"
            return {"greeting": "hello, " + name}
        if func == "sync_msg":
            sdk = ChatDataSDK(d.get_corpid(), d.get_agentid(), d.get_ability_id(), "")
            try:
                return json.loads(sdk.sync_msg(compact(func_req)))
            except Exception as e:
                spec_log_error("sync_msg failed:", e)
                return error("sync_msg failed")
        if func == "do_async_job":
            event = self.store.get(d.get_notify_id() or func_req.get("notify_id", ""))
            if event is None:
                return error("no event is stored under this notify_id here")
            return event
        return error("no such func: %s" % str(func)[:64])

    def handle(self, d):
        if d.get_call_type() == 2:
            return compact(self.on_event(d))
        return compact({"output": self.on_call(d)})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    program = None

    def _send(self, headers, body):
        raw = body.encode("utf-8")
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(n).decode("utf-8", "replace")
        try:
            decoder = WWToSpecHTTPReqDecoder(list(self.headers.items()), body)
        except Exception as e:
            spec_log_error("a request did not verify:", e)
            rsp = WWToSpecHTTPRspConstructor("")
            self._send(rsp.get_exception_header(), rsp.get_encoded_body())
            return
        try:
            text = self.program.handle(decoder)
        except Exception as e:
            spec_log_error("the handler failed:", repr(e))
            text = compact({"output": error("internal error")})
        rsp = WWToSpecHTTPRspConstructor(text)
        self._send(rsp.get_normal_header(), rsp.get_encoded_body())

    def log_message(self, fmt, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    request_queue_size = 2048  # as the vendor's Python sample
    daemon_threads = True
    allow_reuse_address = True


def main():
    work = os.environ.get("ZONELAB_WORK_DIR")
    data = os.environ.get("DATA_DIR") or (os.path.join(work, "data") if work else "data")
    Handler.program = Program(EventStore(os.path.join(data, "events")))
    # 8080 on every address, as WeCom's guide says; under zonelab each replica's bind is
    # moved to its own port.
    server = Server(("0.0.0.0", 8080), Handler)
    spec_log_info("@PROGRAM_ID@ listening on port 8080, data in", data)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
