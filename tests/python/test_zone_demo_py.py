"""The Python sample-style program (program-under-test/python/zone_demo.py) as a process: it
listens on $ZONELAB_PORT, answers only POST (405 otherwise) and answers a request that does not
verify with HTTP 200 and the SDK's exception header. The flows themselves run as scenarios
(scenarios/shared with --var lang=python)."""

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from test_wwspecapisdk import SECRET, SOURCE_DIR, closed_port

PROGRAM = os.path.join(SOURCE_DIR, "program-under-test", "python", "zone_demo.py")


class TestZoneDemoPy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.port = closed_port()
        env = dict(os.environ, ZONELAB_PORT=str(cls.port), ZONELAB_URL="http://127.0.0.1:1",
                   ZONELAB_SECRET=SECRET, ZONELAB_SECRET_VER="1", ZONELAB_INSTANCE="py/0")
        cls.log = open(os.path.join(cls.tmp.name, "program.log"), "w")
        cls.proc = subprocess.Popen([sys.executable, PROGRAM, "--data-dir",
                                     os.path.join(cls.tmp.name, "data")], env=env,
                                    stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=0.2).close()
                return
            except OSError:
                if cls.proc.poll() is not None:
                    break
                time.sleep(0.05)
        cls.tearDownClass()
        raise RuntimeError("zone_demo.py did not listen on port %d" % cls.port)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        cls.log.close()
        cls.tmp.cleanup()

    def request(self, method, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, "/", body=body, headers=headers or {})
        r = c.getresponse()
        out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        c.close()
        return out

    def test_zone_demo_py_only_post(self):
        for method in ("GET", "PUT", "DELETE"):
            status, headers, _ = self.request(method)
            self.assertEqual(status, 405, method)
            self.assertEqual(headers.get("allow"), "POST")

    def test_zone_demo_py_unverified_request_gets_exception_reply(self):
        status, headers, _ = self.request("POST", "garbage", {"Ww-Secret-Ver": "1"})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("ww-exception"), "-10004")
        self.assertTrue(headers.get("ww-error"))

    def test_zone_demo_py_data_folder(self):
        self.assertTrue(os.path.isdir(os.path.join(self.tmp.name, "data", "events")))


if __name__ == "__main__":
    unittest.main()
