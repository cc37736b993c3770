"""ready_check.py PRELOAD: the preload's word that a replica listens (ZONELAB_READY_FD).

A real program (python3, which calls libc's bind and listen) is started with the preload, as
zonelab starts a replica: its bind to 0.0.0.0:8080 lands on ZONELAB_PORT and its listen sends
one byte on the socket named in ZONELAB_READY_FD. The program survives when zonelab no longer
reads (no SIGPIPE), and a descriptor whose inode is not the one named gets nothing.
"""
import os
import socket
import subprocess
import sys

PRELOAD = sys.argv[1]
PROGRAM = r"""
import signal, socket, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # as a C program has it (Python ignores it)
s = socket.socket()
s.bind(("0.0.0.0", 8080))
s.listen()
print("port", s.getsockname()[1], flush=True)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(ours, theirs, ino=None):
    """Starts the program with theirs inherited; returns (exit code, its output)."""
    port = free_port()
    env = dict(os.environ, LD_PRELOAD=PRELOAD, ZONELAB_PORT=str(port),
               ZONELAB_READY_FD="%d:%d" % (theirs.fileno(), ino or os.fstat(theirs.fileno()).st_ino))
    p = subprocess.run([sys.executable, "-c", PROGRAM], env=env, pass_fds=[theirs.fileno()],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, port


def fail(why):
    print("ready_check: FAIL: " + why, file=sys.stderr)
    sys.exit(1)


# its listen on ZONELAB_PORT sends one byte
ours, theirs = socket.socketpair()
code, out, port = run(ours, theirs)
theirs.close()
if code != 0 or out.split() != ["port", str(port)]:
    fail("the program did not listen on ZONELAB_PORT: %r %r" % (code, out))
ours.settimeout(5)
if ours.recv(16) != b"1":
    fail("no byte from the preload's listen()")
if ours.recv(16) != b"":
    fail("more than one byte, or the program kept the socket open")
ours.close()
print("ready_check: the listen on ZONELAB_PORT sent one byte")

# zonelab has stopped reading: the program gets EPIPE, not a SIGPIPE that would end it
ours, theirs = socket.socketpair()
ours.close()
code, out, port = run(None, theirs)
theirs.close()
if code != 0:
    fail("the program ended with %d when zonelab no longer read (SIGPIPE?)" % code)
print("ready_check: no SIGPIPE when zonelab no longer reads")

# another descriptor than the one named (its inode differs): nothing is written into it
ours, theirs = socket.socketpair()
code, out, port = run(ours, theirs, ino=1)
theirs.close()
ours.setblocking(False)
try:
    got = ours.recv(16)
except BlockingIOError:
    got = None
if code != 0 or got not in (None, b""):
    fail("a descriptor whose inode is not the named one got %r (exit %d)" % (got, code))
ours.close()
print("ready_check: a descriptor of another inode gets nothing")
