"""Unit tests of the fake wwspecapisdk module (sdk-fake/python): the vendor's names, failures
raised with the vendor's codes, replies, notify ids and log lines. Run with
with_zonesdk.sh python3 -m unittest (PYTHONPATH=sdk-fake/python, ZONESDK_LIBRARY=libzonesdk.so).
"""

import base64
import os
import re
import socket
import subprocess
import sys
import threading
import unittest

import wwspecapisdk as w

SOURCE_DIR = os.environ.get("ZL_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..",
                                                             "..")
SECRET = base64.b64encode(bytes(range(32))).decode()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Env:
    """Sets environment variables for a block, restoring them after."""

    def __init__(self, **values):
        self.values = values
        self.saved = {}

    def __enter__(self):
        for k, v in self.values.items():
            self.saved[k] = os.environ.get(k)
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def configured(url="http://127.0.0.1:1"):
    return Env(ZONELAB_URL=url, ZONELAB_SECRET=SECRET, ZONELAB_SECRET_VER="1",
               ZONELAB_INSTANCE="zone-demo/0", ZONELAB_INVOKE_TIMEOUT_MS="3000")


class TestNames(unittest.TestCase):
    def test_wwspecapisdk_vendor_import_line(self):
        # the vendor's import line (spec program-side.md section 4) and section 7's notify id
        from wwspecapisdk import (WWToSpecHTTPReqDecoder, WWToSpecHTTPRspConstructor,  # noqa
                                  ChatDataSDK, spec_log_info, spec_log_error, spec_log_debug,
                                  spec_open_debug_mode, spec_gen_notify_id)

    def test_wwspecapisdk_decoder_accessors(self):
        for name in ("get_corpid", "get_agentid", "get_call_type", "get_data", "get_is_async",
                     "get_job_info", "get_ability_id", "get_notify_id"):
            self.assertTrue(callable(getattr(w.WWToSpecHTTPReqDecoder, name)), name)
        for name in ("get_normal_header", "get_exception_header", "get_encoded_body"):
            self.assertTrue(callable(getattr(w.WWToSpecHTTPRspConstructor, name)), name)

    def test_wwspecapisdk_api_names_match_libzonesdk(self):
        with open(os.path.join(SOURCE_DIR, "sdk-fake", "src", "api_names.c")) as f:
            text = f.read()
        table = text[text.index("names[] = {"):text.index("};")]
        self.assertEqual(tuple(re.findall(r'"([a-z_]+)"', table)), w.API_NAMES)

    def test_wwspecapisdk_one_method_per_api(self):
        sdk = w.ChatDataSDK("wwzonelab0000001", 1000002, "python_sample", "")
        for api in w.API_NAMES:
            self.assertTrue(callable(getattr(sdk, api)), api)
        self.assertIn("sync_msg", dir(sdk))

    def test_wwspecapisdk_unknown_api_is_no_method(self):
        sdk = w.ChatDataSDK("wwzonelab0000001", 1000002, "python_sample", "")
        for name in ("get_msg_body", "sync_msgs", "invoke", "SYNC_MSG"):
            with self.assertRaises(AttributeError, msg=name):
                getattr(sdk, name)


class TestChatDataSDK(unittest.TestCase):
    def test_wwspecapisdk_transport_failure_raises_10002(self):
        with configured("http://127.0.0.1:%d" % closed_port()):
            sdk = w.ChatDataSDK("wwzonelab0000001", 1000002, "python_sample", "")
        with self.assertRaises(w.WWSpecSDKError) as cm:
            sdk.sync_msg('{"limit":10}')
        self.assertEqual(cm.exception.code, -10002)
        self.assertIsInstance(cm.exception, Exception)
        self.assertTrue(cm.exception.errmsg)

    def test_wwspecapisdk_missing_configuration_raises_10001(self):
        with Env(ZONELAB_URL=None, ZONELAB_SECRET=None, ZONELAB_SECRET_VER=None,
                 ZONELAB_INSTANCE=None):
            sdk = w.ChatDataSDK("wwzonelab0000001", 1000002, "", "")
        with self.assertRaises(w.WWSpecSDKError) as cm:
            sdk.spec_notify_app('{"notify_id":"x"}')
        self.assertEqual(cm.exception.code, -10001)
        self.assertIn("ZONELAB_", cm.exception.errmsg)

    def test_wwspecapisdk_request_must_be_text(self):
        sdk = w.ChatDataSDK("wwzonelab0000001", 1000002, "", "")
        with self.assertRaises(TypeError):
            sdk.sync_msg({"limit": 10})


class TestInbound(unittest.TestCase):
    def decode_in_thread(self, headers, body):
        """Decodes and replies on a fresh thread, as a request handler does."""
        out = {}

        def run():
            try:
                w.WWToSpecHTTPReqDecoder(headers, body)
                out["raised"] = None
            except w.WWSpecSDKError as e:
                out["raised"] = e
            rsp = w.WWToSpecHTTPRspConstructor("")
            out["headers"] = rsp.get_exception_header()
            out["body"] = rsp.get_encoded_body()

        t = threading.Thread(target=run)
        t.start()
        t.join()
        return out

    def test_wwspecapisdk_garbage_request_raises(self):
        with configured():
            out = self.decode_in_thread([("ww-secret-ver", "1"), ("ww-signature", "nope")],
                                        "garbage")
        e = out["raised"]
        self.assertIsInstance(e, w.WWSpecSDKError)
        self.assertTrue(-10009 <= e.code <= -10001 or -20003 <= e.code <= -20001, e.code)
        self.assertEqual(out["headers"].get("ww-exception"), str(e.code))
        self.assertTrue(out["headers"].get("ww-error"))

    def test_wwspecapisdk_no_headers_raises_20002(self):
        with configured():
            out = self.decode_in_thread([], "garbage")
        self.assertEqual(out["raised"].code, -20002)
        self.assertEqual(out["headers"]["ww-exception"], "-20002")

    def test_wwspecapisdk_headers_must_be_pairs(self):
        with self.assertRaises(TypeError):
            w.WWToSpecHTTPReqDecoder({"ww-secret-ver": "1"}, "x")
        with self.assertRaises(TypeError):
            w.WWToSpecHTTPReqDecoder([("ww-secret-ver",)], "x")

    def test_wwspecapisdk_reply_needs_a_decoded_request(self):
        out = {}

        def run():
            try:
                w.WWToSpecHTTPRspConstructor("{}")
            except w.WWSpecSDKError as e:
                out["code"] = e.code

        t = threading.Thread(target=run)
        t.start()
        t.join()
        self.assertEqual(out.get("code"), -10001)


class TestNotifyIdsAndLogs(unittest.TestCase):
    def test_wwspecapisdk_notify_id_is_32_hex(self):
        a, b = w.spec_gen_notify_id(), w.spec_gen_notify_id()
        self.assertRegex(a, r"^[0-9a-f]{32}$")
        self.assertNotEqual(a, b)

    def test_wwspecapisdk_open_debug_mode_false_without_emulator(self):
        with configured("http://127.0.0.1:%d" % closed_port()):
            self.assertIs(w.spec_open_debug_mode("dt", "at"), False)

    def run_logging(self, code, **env):
        e = dict(os.environ, **env)
        return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True,
                              text=True, timeout=30).stdout.splitlines()

    def test_wwspecapisdk_log_lines(self):
        lines = self.run_logging(
            "from wwspecapisdk import *\n"
            "spec_log_info('ret', 0, {'a': 1})\n"
            "spec_log_error('x' * 300)\n"
            "spec_log_debug('hidden')\n", ZONELAB_LOG_LEVEL="2")
        self.assertEqual(len(lines), 2, lines)
        self.assertRegex(lines[0], r"^<\d+,\d+>,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3},INFO,"
                                   r"0{16},<string>,2,ret 0 \{'a': 1\}$")
        self.assertTrue(lines[1].endswith(",ERR,0000000000000000,<string>,3," + "x" * 128))

    def test_wwspecapisdk_debug_lines_at_level_3(self):
        lines = self.run_logging("from wwspecapisdk import spec_log_debug\n"
                                 "spec_log_debug('a', 'b', sep='-')\n", ZONELAB_LOG_LEVEL="3")
        self.assertEqual(len(lines), 1, lines)
        self.assertTrue(lines[0].endswith(",DBG,0000000000000000,<string>,2,a-b"), lines[0])


if __name__ == "__main__":
    unittest.main()
