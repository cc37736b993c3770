"""A replica that resets every request it gets and goes on listening: what a killed replica
looks like to the emulator for an instant, its connections reset while its port still takes
connections (scenarios/replica_reset.lua)."""
import os
import socket
import struct

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["ZONELAB_PORT"])))
s.listen(16)
while True:
    conn, _ = s.accept()
    if not conn.recv(65536):  # a probe of the port, not a request
        conn.close()
        continue
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    print("reset a request", flush=True)
