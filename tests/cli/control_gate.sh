#!/bin/bash
# control_gate.sh ZONELAB WORK: who may reach the control face (/_zonelab/) of `zonelab serve`
# (issue 19): a cross-site POST (a form's content type, a foreign Origin), a foreign Host (DNS
# rebinding), a non-loopback --listen without --allow-remote, and under --allow-remote a client
# on another address without and with the control token. Real serve processes, real curl.
set -u
zonelab=$1
work=$2
fail() { echo "control_gate: FAIL: $*" >&2; exit 1; }
step() { echo "control_gate: ok: $*"; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || fail "no work folder"

pid=""
stop() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    pid=""
}
trap stop EXIT
# serve NAME ARGS...: starts zonelab serve --port 0 ARGS; sets $port once it is ready
serve() {
    local name=$1 i
    shift
    "$zonelab" serve --port 0 "$@" >"$name.out" 2>"$name.err" &
    pid=$!
    for i in $(seq 300); do
        grep -q '^zonelab: ready' "$name.out" && break
        kill -0 "$pid" 2>/dev/null || { cat "$name.err" >&2; fail "$name: serve exited"; }
        sleep 0.1
    done
    port=$(sed -n 's|^zonelab: listening on http://[^:]*:\([0-9]*\)$|\1|p' "$name.out")
    [ -n "$port" ] || { cat "$name.out" >&2; fail "$name: no port in the banner"; }
}
# expect CODE NAME CURL-ARGS...: the HTTP status of curl with those arguments
expect() {
    local want=$1 name=$2 got
    shift 2
    got=$(curl -s -o "$name.body" -w '%{http_code}' "$@")
    [ "$got" = "$want" ] || { cat "$name.body" >&2; fail "$name: HTTP $got, expected $want"; }
}

serve local
url=http://127.0.0.1:$port
expect 415 form-post -d '{"advance":1}' "$url/_zonelab/clock"
grep -qF 'Content-Type: application/json' form-post.body || fail "415 does not say what to send"
expect 415 text-post -H 'Content-Type: text/plain' -d '{"advance":1}' "$url/_zonelab/clock"
expect 200 json-post --json '{"advance":1}' "$url/_zonelab/clock"
expect 200 json-charset -H 'Content-Type: application/json; charset=utf-8' -d '{"advance":1}' \
    "$url/_zonelab/clock"
step "a control POST takes JSON only (a form or text/plain is 415)"
expect 403 foreign-origin -H 'Origin: http://attacker.example' --json '{"advance":1}' \
    "$url/_zonelab/clock"
expect 403 null-origin -H 'Origin: null' --json '{"advance":1}' "$url/_zonelab/clock"
expect 200 own-origin -H "Origin: http://127.0.0.1:$port" --json '{"advance":1}' \
    "$url/_zonelab/clock"
step "a browser POST from another origin is 403; from the inspector's own origin it passes"
expect 403 foreign-host -H 'Host: attacker.example' "$url/_zonelab/state"
grep -qF -- '--allow-host' foreign-host.body || fail "403 does not name --allow-host"
grep -qF 'corpsecret' foreign-host.body && fail "the refusal leaks secrets"
expect 200 localhost-host -H "Host: localhost:$port" "$url/_zonelab/state"
expect 200 app-face-any-host -H 'Host: qyapi.example' \
    "$url/cgi-bin/gettoken?corpid=wwzonelab0000001&corpsecret=zonelab-demo-secret-1000002"
step "a foreign Host gets no state (DNS rebinding); the app face is not gated"
stop

serve hosts --allow-host zonelab.test
expect 200 allowed-host -H 'Host: zonelab.test:8900' "http://127.0.0.1:$port/_zonelab/state"
expect 403 other-host -H 'Host: zonelab.other' "http://127.0.0.1:$port/_zonelab/state"
step "--allow-host adds a Host name"
stop

"$zonelab" serve --port 0 --listen 0.0.0.0 >open.out 2>open.err
[ $? -eq 2 ] || fail "--listen 0.0.0.0 without --allow-remote did not exit 2"
grep -qF -- '--allow-remote' open.err || { cat open.err >&2; fail "the refusal names no --allow-remote"; }
step "--listen 0.0.0.0 without --allow-remote is refused"

ZONELAB_CONTROL_TOKEN=ctl-secret-42 serve remote --listen 0.0.0.0 --allow-remote
grep -qF 'zonelab: control token ctl-secret-42' remote.out || fail "the banner shows no token"
expect 200 remote-loopback "http://127.0.0.1:$port/_zonelab/state"
addr=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' |
    grep -v '^127\.' | head -n 1)
if [ -n "$addr" ]; then
    expect 401 remote-no-token "http://$addr:$port/_zonelab/state"
    grep -qF 'corpsecret' remote-no-token.body && fail "the 401 leaks secrets"
    expect 401 remote-bad-token -H 'Authorization: Bearer wrong' "http://$addr:$port/_zonelab/state"
    expect 200 remote-token -H 'Authorization: Bearer ctl-secret-42' \
        "http://$addr:$port/_zonelab/state"
    ZONELAB_URL=http://$addr:$port "$zonelab" journal --limit 1 >journal.out 2>journal.err &&
        fail "zonelab journal from $addr without the token worked"
    ZONELAB_URL=http://$addr:$port ZONELAB_CONTROL_TOKEN=ctl-secret-42 "$zonelab" journal \
        --limit 1 >journal.out 2>journal.err || { cat journal.err >&2; fail "zonelab journal with the token"; }
    grep -qF '"seq":1' journal.out || { cat journal.out >&2; fail "zonelab journal printed no entry"; }
    step "from $addr: no token 401, a wrong one 401, the token 200"
else
    echo "control_gate: note: this machine has no address but loopback; the remote client" \
        "half (401 without the token) was not exercised"
fi
stop
step "all"
