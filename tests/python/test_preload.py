"""libzonelab_preload.so (emulator/preload), which zonelab puts in LD_PRELOAD of the replicas it
starts: with ZONELAB_PORT set, a TCP bind to port 8080, any address, lands on the replica's
loopback port (IPv4 127.0.0.1; a dual-stack IPv6 socket ::ffff:127.0.0.1; an IPV6_V6ONLY one
::1), says so on stderr, and leaves every other bind alone. docs/emulator.md, "Ports"."""

import json
import os
import socket
import subprocess
import sys
import unittest

PRELOAD = os.environ.get("ZL_PRELOAD_LIBRARY", "")

# binds one socket per case, closing it before the next: [family, v6only, address, port]
PROBE = r"""
import json, socket, sys
out = []
for family, v6only, host, port in json.loads(sys.argv[1]):
    s = socket.socket(socket.AF_INET6 if family == 6 else socket.AF_INET)
    if family == 6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((host, port))
    out.append(list(s.getsockname()[:2]))
    s.close()
print(json.dumps(out))
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@unittest.skipUnless(os.path.isfile(PRELOAD), "ZL_PRELOAD_LIBRARY names no file")
class TestPreload(unittest.TestCase):
    def probe(self, cases):
        port = free_port()
        env = dict(os.environ, LD_PRELOAD=PRELOAD, ZONELAB_PORT=str(port))
        p = subprocess.run([sys.executable, "-c", PROBE, json.dumps(cases)], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return port, json.loads(p.stdout), p.stderr

    def test_preload_ipv4_8080_moves_to_loopback_port(self):
        port, got, err = self.probe([[4, 0, "0.0.0.0", 8080], [4, 0, "127.0.0.1", 8080]])
        self.assertEqual(got, [["127.0.0.1", port], ["127.0.0.1", port]])
        self.assertIn("zonelab: bind to 0.0.0.0:8080 moved to 127.0.0.1:%d, this replica's "
                      "ZONELAB_PORT" % port, err)

    @unittest.skipUnless(ipv6_loopback(), "no IPv6 loopback")
    def test_preload_ipv6_dual_stack_takes_ipv4_loopback(self):
        port, got, err = self.probe([[6, 0, "::", 8080], [6, 0, "::ffff:0.0.0.0", 8080]])
        self.assertEqual(got, [["::ffff:127.0.0.1", port], ["::ffff:127.0.0.1", port]])
        self.assertIn("bind to [::]:8080 moved to [::ffff:127.0.0.1]:%d" % port, err)

    @unittest.skipUnless(ipv6_loopback(), "no IPv6 loopback")
    def test_preload_ipv6_only_takes_ipv6_loopback(self):
        port, got, _ = self.probe([[6, 1, "::", 8080]])
        self.assertEqual(got, [["::1", port]])

    def test_preload_other_ports_untouched(self):
        port, got, err = self.probe([[4, 0, "127.0.0.1", 0]])
        self.assertNotEqual(got[0][1], port)
        self.assertEqual(err, "")


if __name__ == "__main__":
    unittest.main()
