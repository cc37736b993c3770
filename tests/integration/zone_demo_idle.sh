#!/bin/bash
# zone_demo_idle.sh ZONE_DEMO WORK: zone-demo closes a connection that stalls mid-request after
# --idle-timeout (issue 19: it held one of 64 slots for 60 s), and a stalled client does not
# keep others out. Real process, real sockets (bash's /dev/tcp).
set -u
demo=$1
work=$2
fail() { echo "zone_demo_idle: FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || fail "no work folder"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ZONELAB_SECRET=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= ZONELAB_SECRET_VER=1 \
    ZONELAB_URL=http://127.0.0.1:9 "$demo" --port "$port" --idle-timeout 1 --queue 4 \
    --data-dir "$work/data" >demo.log 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.05
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat demo.log >&2; fail "zone-demo did not listen"; }
# four clients stall mid-header: every slot of --queue 4
for fd in 3 4 5 6; do
    eval "exec $fd<>/dev/tcp/127.0.0.1/$port" || fail "connect"
    printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n' >&"$fd"
done
# the server closes each of them: cat ends at EOF; a server that kept them would run into
# timeout's 30 s (exit 124)
timeout 30 cat <&3 >/dev/null || fail "a stalled connection was not closed within 30 s"
for fd in 4 5 6; do timeout 30 cat <&"$fd" >/dev/null || fail "connection $fd not closed"; done
curl -sf --max-time 30 "http://127.0.0.1:$port/healthz" >/dev/null ||
    fail "a client after the stalled ones got no answer"
echo "zone_demo_idle: ok: stalled connections closed, the next client answered"
