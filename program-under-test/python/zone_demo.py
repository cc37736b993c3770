#!/usr/bin/env python3
"""zone_demo.py: a zone program written the way WeCom's Python sample is, on wwspecapisdk.

The vendor's Python sample conventions (spec program-side.md section 8): an http.server on
0.0.0.0:8080 with request_queue_size 2048, every request verified and answered through the
SDK, and app calls dispatched on input.func of request_data
{"input":{"func":"<name>","func_req":{...}}}, whatever the ability:

  func sync_msg       ChatDataSDK.sync_msg(func_req)
  func do_async_job   the event stored under the call's notify_id (the outer notify_id; the
                      vendor's example also puts it in func_req.notify_id, read when the outer
                      one is empty)
  func <SDK API>      that API with func_req (a transparent proxy, like zone-demo's
                      invoke_<api>)

The answer is {"output":<the reply or the event, as an object>}; when the program itself
fails, {"output":{"errcode":710660,"errmsg":"..."}} (710660: the samples' own failure code).
Events (call_type 2) are written to <data-dir>/events/<notify_id>.json, then the app is told
with spec_notify_app; replicas sharing a data folder answer each other's notify ids. Async
calls are answered {} at once and reported with program_async_job_call_back. A request that
does not verify is answered HTTP 200 with the SDK's exception header; methods other than POST
get 405.

  python3 zone_demo.py [--data-dir DIR] [--port N] [--retention S] [--notify-scene N]

Port: --port, $ZONELAB_PORT, $PORT, then 8080. Data: --data-dir, $ZONE_DEMO_DATA_DIR, then
./data. Needs wwspecapisdk on PYTHONPATH (sdk-fake/python) and libzonesdk (ZONESDK_LIBRARY or
LD_LIBRARY_PATH).
"""

import argparse
import http.server
import json
import os
import socketserver
import sys
import tempfile
import threading
import time

from wwspecapisdk import (ChatDataSDK, WWToSpecHTTPReqDecoder, WWToSpecHTTPRspConstructor,
                          spec_gen_notify_id, spec_log_debug, spec_log_error, spec_log_info)

SAMPLE_ERROR = 710660  # the official samples' own failure code
MAX_BODY = 64 << 20
NOTIFY_TRIES = 4
NETWORK_CODES = (-10002, -10003)  # transport failures worth another try


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sample_error(msg):
    return {"errcode": SAMPLE_ERROR, "errmsg": msg}


class EventStore:
    """Events as files <dir>/events/<notify_id>.json, written whole (temp file + rename)."""

    def __init__(self, folder, retention):
        self.dir = os.path.join(folder, "events")
        self.retention = retention
        os.makedirs(self.dir, exist_ok=True)

    def _path(self, notify_id):
        if not notify_id or len(notify_id) > 64 or not all(
                c.isalnum() or c in "-_" for c in notify_id):
            return None
        return os.path.join(self.dir, notify_id + ".json")

    def put(self, notify_id, corpid, agentid, data):
        path = self._path(notify_id)
        record = {"corpid": corpid, "agentid": agentid, "at": time.time(), "data": data}
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(compact(record))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def get(self, notify_id):
        """The event data (str), or None when none is stored here or it expired."""
        path = self._path(notify_id)
        if path is None:
            return None
        try:
            with open(path, encoding="utf-8") as f:
                record = json.load(f)
        except (OSError, ValueError):
            return None
        if time.time() - record.get("at", 0) > self.retention:
            return None
        return record.get("data")

    def cleanup(self):
        """The sample's polling thread: removes events older than the retention."""
        removed = 0
        now = time.time()
        for name in os.listdir(self.dir):
            path = os.path.join(self.dir, name)
            try:
                if now - os.path.getmtime(path) > self.retention:
                    os.remove(path)
                    removed += 1
            except OSError:
                pass
        if removed:
            spec_log_info("cleanup removed", removed, "expired events")


class Demo:
    def __init__(self, store, notify_scene):
        self.store = store
        self.notify_scene = notify_scene

    # ---- events ----

    def on_event(self, d):
        notify_id = spec_gen_notify_id()
        data = d.get_data()
        try:
            self.store.put(notify_id, d.get_corpid(), d.get_agentid(), data)
        except OSError as e:
            spec_log_error("event not stored:", e)
            return sample_error("the event could not be stored")
        spec_log_info("event stored as", notify_id, "(%d bytes)" % len(data))
        self.remember_token(d.get_corpid(), d.get_agentid(), data)
        sdk = ChatDataSDK(d.get_corpid(), d.get_agentid(), "", "")
        req = compact({"notify_id": notify_id, "notify_scene": self.notify_scene})
        delay = 0.2
        for attempt in range(NOTIFY_TRIES):
            try:
                rsp = json.loads(sdk.spec_notify_app(req))
            except Exception as e:  # the SDK raises on transport failure
                code = getattr(e, "code", None)
                spec_log_error("spec_notify_app", notify_id, "try", attempt + 1, "failed:", e)
                if code in NETWORK_CODES and attempt + 1 < NOTIFY_TRIES:
                    time.sleep(delay)
                    delay *= 2
                    continue
                return sample_error("notify failed")
            if rsp.get("errcode") != 0:
                spec_log_error("spec_notify_app", notify_id, "errcode", rsp.get("errcode"))
                return sample_error("notify failed")
            return {"errcode": 0, "errmsg": "ok"}
        return sample_error("notify failed")

    def _token_path(self, corpid, agentid):
        folder = os.path.join(os.path.dirname(self.store.dir), "tokens")
        os.makedirs(folder, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in corpid)
        return folder, os.path.join(folder, "%s-%d" % (safe, agentid))

    def remember_token(self, corpid, agentid, data):
        """Keeps a conversation_new_message token with the time it came, as the cursor is kept
        (temporary file, fsync, rename): the digest sends it, after a restart too, so its
        sync_msg calls are not counted against the no-token budget (45009)."""
        try:
            ev = json.loads(data)
            token = ev["conversation_new_message"]["token"]
        except (ValueError, KeyError, TypeError):
            return
        if ev.get("event_type") != "conversation_new_message" or not isinstance(token, str) \
                or not token or " " in token or "\n" in token:
            return
        try:
            folder, path = self._token_path(corpid, agentid)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write("%d %s" % (int(time.time()), token))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            spec_log_error("the event token could not be saved:", e)

    def recent_token(self, corpid, agentid):
        """The saved token if it is younger than its 10 minutes (a minute to spare), else ""."""
        try:
            with open(self._token_path(corpid, agentid)[1], encoding="utf-8") as f:
                at, token = f.read().strip().split(" ", 1)
            return token if time.time() - int(at) < 540 else ""
        except (OSError, ValueError):
            return ""

    # ---- app calls ----

    def run_func(self, ctx, data):
        """The output object for request_data data; ctx is (corpid, agentid, ability_id,
        notify_id)."""
        corpid, agentid, ability_id, notify_id = ctx
        try:
            req = json.loads(data)
        except ValueError:
            req = None
        inp = req.get("input") if isinstance(req, dict) else None
        func = inp.get("func") if isinstance(inp, dict) else None
        func_req = inp.get("func_req", {}) if isinstance(inp, dict) else None
        if not isinstance(func, str) or not isinstance(func_req, dict):
            spec_log_error("request_data is not {\"input\":{\"func\":...,\"func_req\":{...}}}")
            return sample_error("request_data must be {\"input\":{\"func\":\"<name>\","
                                "\"func_req\":{...}}}")
        if func == "do_async_job":
            nid = notify_id or func_req.get("notify_id") or ""
            if not nid:
                return sample_error("do_async_job needs the call's notify_id")
            event = self.store.get(nid)
            if event is None:
                return sample_error("no event is stored under this notify_id here")
            try:
                return json.loads(event)
            except ValueError:
                return sample_error("the stored event is not JSON")
        if func == "new_messages_digest":
            return self.digest(corpid, agentid, ability_id)
        sdk = ChatDataSDK(corpid, agentid, ability_id, "")
        api = getattr(sdk, func, None) if not func.startswith("_") else None
        if api is None or func == "program_async_job_call_back":
            spec_log_error("unknown func", func[:64])
            return sample_error("no such func: %s" % func[:64])
        try:
            rsp = api(compact(func_req))
        except Exception as e:
            spec_log_error("invoke", func, "failed:", e)
            return sample_error("SDK code %s invoking %s" % (getattr(e, "code", "?"), func))
        try:
            return json.loads(rsp)
        except ValueError:
            return sample_error("%s answered text that is not JSON" % func)

    def digest(self, corpid, agentid, ability_id):
        """zone-demo's new_messages_digest: sync_msg from the cursor saved in the data folder,
        1000 at a time while has_more, counted by msgtype and by sender (first seen first)."""
        folder = os.path.join(os.path.dirname(self.store.dir), "cursors")
        os.makedirs(folder, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in corpid)
        path = os.path.join(folder, "%s-%d" % (safe, agentid))
        try:
            with open(path, encoding="utf-8") as f:
                cursor = f.read().strip()
        except OSError:
            cursor = ""
        token = self.recent_token(corpid, agentid)
        sdk = ChatDataSDK(corpid, agentid, ability_id, "")
        by_type, by_sender, total = {}, {}, 0
        out = {"errcode": 0, "errmsg": "ok"}
        for _ in range(100000):
            req = {"limit": 1000}
            if cursor:
                req["cursor"] = cursor
            if token:
                req["token"] = token
            try:
                rsp = json.loads(sdk.sync_msg(compact(req)))
            except Exception as e:
                out = sample_error("sync_msg failed: SDK code %s" % getattr(e, "code", "?"))
                break
            if rsp.get("errcode", 0) != 0:
                out = {"errcode": rsp.get("errcode"), "errmsg": rsp.get("errmsg", "")}
                break
            for m in rsp.get("msg_list", []):
                total += 1
                t = m.get("msgtype", 0)
                by_type[t] = by_type.get(t, 0) + 1
                sender = m.get("sender", {})
                key = (sender.get("type", 0), sender.get("id", ""))
                by_sender[key] = by_sender.get(key, 0) + 1
            if rsp.get("next_cursor"):
                cursor = rsp["next_cursor"]
                fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(cursor)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            if not rsp.get("has_more"):
                break
        spec_log_info("digest:", total, "messages")
        out.update({"total": total,
                    "by_msgtype": [{"msgtype": t, "count": c} for t, c in by_type.items()],
                    "by_sender": [{"type": k[0], "id": k[1], "count": c}
                                  for k, c in by_sender.items()]})
        return out

    def run_async(self, ctx, job_info, data):
        corpid, agentid, ability_id, _ = ctx
        output = self.run_func(ctx, data)
        errcode = output.get("errcode", 0) if isinstance(output, dict) else 0
        report = compact({"errcode": errcode if isinstance(errcode, int) else 0,
                          "result": compact({"output": output})})
        try:
            rsp = ChatDataSDK(corpid, agentid, ability_id, job_info) \
                .program_async_job_call_back(report)
            spec_log_info("async", ability_id, "reported:", rsp[:100])
        except Exception as e:
            spec_log_error("program_async_job_call_back failed:", e)

    def handle(self, d):
        """The reply text for a verified request."""
        if d.get_call_type() == 2:
            return compact(self.on_event(d))
        ctx = (d.get_corpid(), d.get_agentid(), d.get_ability_id(), d.get_notify_id())
        if d.get_is_async():
            threading.Thread(target=self.run_async, args=(ctx, d.get_job_info(), d.get_data()),
                             daemon=True).start()
            return "{}"
        return compact({"output": self.run_func(ctx, d.get_data())})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    demo = None  # set in main

    def _send(self, status, headers, body):
        raw = body.encode("utf-8", "surrogateescape")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self._send(413, {}, "")
            return
        body = self.rfile.read(n).decode("utf-8", "surrogateescape")
        try:
            decoder = WWToSpecHTTPReqDecoder(list(self.headers.items()), body)
        except Exception as e:
            spec_log_error("request refused:", e)
            rsp = WWToSpecHTTPRspConstructor("")
            self._send(200, rsp.get_exception_header(), rsp.get_encoded_body())
            return
        try:
            text = self.demo.handle(decoder)
        except Exception as e:  # the sample's own failure, still a reply
            spec_log_error("handler failed:", repr(e))
            text = compact({"output": sample_error("sample image internal error")})
        rsp = WWToSpecHTTPRspConstructor(text)
        self._send(200, rsp.get_normal_header(), rsp.get_encoded_body())

    def _not_allowed(self):
        self._send(405, {"Allow": "POST"}, "")

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed

    def log_message(self, fmt, *args):
        spec_log_debug(self.address_string(), fmt % args)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """One thread per request (ThreadingHTTPServer is Python 3.7+; the vendor's SDK also
    runs on 3.6)."""

    request_queue_size = 2048  # the vendor's Python sample
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser(description="The Python sample's conventions on wwspecapisdk.")
    p.add_argument("--data-dir", default=os.environ.get("ZONE_DEMO_DATA_DIR", "data"))
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--retention", type=int, default=1200, help="seconds events are kept")
    p.add_argument("--notify-scene", type=int,
                   default=int(os.environ.get("ZONE_DEMO_NOTIFY_SCENE", "1")))
    a = p.parse_args()
    port = a.port or int(os.environ.get("ZONELAB_PORT") or os.environ.get("PORT") or 8080)
    store = EventStore(a.data_dir, a.retention)
    Handler.demo = Demo(store, a.notify_scene)
    server = Server(("0.0.0.0", port), Handler)

    def clean():
        while True:
            time.sleep(60)
            store.cleanup()

    threading.Thread(target=clean, daemon=True).start()
    spec_log_info("zone_demo.py listening on port", port, "data in", store.dir)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
