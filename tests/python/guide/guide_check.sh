#!/bin/bash
# guide_check.sh MODE ZONELAB ZONE_DEMO PYTHON WITH_ZONESDK SRC WORK: programs that listen
# where WeCom's guide says ("自行监听8080端口（IP使用0.0.0.0）", doc 54006) under zonelab, and
# replicas zonelab cannot reach (docs/emulator.md, "Ports").
#   MODE serve: `zonelab serve --replicas 2` with tests/python/guide/guide_program.py (written
#     from the guide alone: 0.0.0.0:8080, no zonelab variable), then with zone-demo --port 8080
#     (a C server, libmicrohttpd): both replicas start and app calls reach both.
#   MODE diagnosis: a replica listening on another port, one that exits, the redirection
#     turned off: serve's and run's messages name the port zonelab waited on, what the program
#     listens on, and what to change.
# The Python program needs PYTHONPATH and ZONESDK_LIBRARY (tests/python/CMakeLists.txt).
set -u
mode=$1
zonelab=$2
demo=$3
python=$4
with_zonesdk=$5
src=$6
work=$7
fail() { echo "guide_check: FAIL: $*" >&2; exit 1; }
step() { echo "guide_check: ok: $*"; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || fail "no work folder"
unset LD_PRELOAD

serve_pid=""
stop_serve() {
    [ -n "$serve_pid" ] || return 0
    kill -TERM "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
    serve_pid=""
}
trap stop_serve EXIT

# start_serve NAME ARGS...: `zonelab serve --port 0 ARGS` in the background until it is ready;
# ZONELAB_URL is then its URL
start_serve() {
    local name=$1 i port
    shift
    "$zonelab" serve --port 0 "$@" >"$name.out" 2>"$name.err" &
    serve_pid=$!
    for i in $(seq 300); do
        grep -q '^zonelab: ready' "$name.out" && break
        kill -0 "$serve_pid" 2>/dev/null || { cat "$name.out" "$name.err" >&2; fail "$name: zonelab serve exited"; }
        sleep 0.1
    done
    grep -q '^zonelab: ready' "$name.out" || { cat "$name.err" >&2; fail "$name: not ready in 30 s"; }
    port=$(sed -n 's|^zonelab: listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$name.out")
    export ZONELAB_URL="http://127.0.0.1:$port"
}

# fails_with NAME PATTERN ARGS...: `zonelab serve --port 0 ARGS` must stop with exit status 1
# and an error matching the extended regular expression PATTERN
fails_with() {
    local name=$1 pattern=$2 rc
    shift 2
    timeout 60 "$zonelab" serve --port 0 "$@" >"$name.out" 2>"$name.err"
    rc=$?
    [ $rc -eq 1 ] || { cat "$name.out" "$name.err" >&2; fail "$name: exit status $rc, expected 1"; }
    grep -qE -- "$pattern" "$name.err" || { cat "$name.err" >&2; fail "$name: no '$pattern'"; }
}

# replicas_served NAME: the app calls of the journal went to zone-demo/0 and zone-demo/1, two
# each
replicas_served() {
    "$zonelab" journal --face program --kind call >"$1.journal" || fail "$1: zonelab journal"
    for r in 0 1; do
        [ "$(grep -c "\"instance\":\"zone-demo/$r\"" "$1.journal")" -eq 2 ] ||
            { cat "$1.journal" >&2; fail "$1: zone-demo/$r did not serve two of the four calls"; }
    done
}

# four_calls NAME ABILITY DATA JSONPATH: four app calls; the answer at JSONPATH (a Python
# expression over the decoded response_data d) must be errcode 0 with one message
four_calls() {
    local name=$1 ability=$2 data=$3 path=$4 i
    for i in 1 2 3 4; do
        "$zonelab" call --ability "$ability" --data "$data" >"$name.call$i" 2>&1 ||
            { cat "$name.call$i" >&2; fail "$name: call $i"; }
        "$python" -c 'import json, sys
r = json.load(open(sys.argv[1]))
assert r["errcode"] == 0, r
d = json.loads(r["response_data"])
o = eval(sys.argv[2])
assert o["errcode"] == 0 and len(o["msg_list"]) == 1, o' "$name.call$i" "$path" ||
            { cat "$name.call$i" >&2; fail "$name: call $i did not answer one message"; }
    done
}

world=$src/scenarios/worlds/languages.json
guide="exec sh '$with_zonesdk' '$python' '$src/tests/python/guide/guide_program.py'"

if [ "$mode" = serve ]; then
    start_serve py --world "$world" --replicas 2 --program "$guide"
    grep -q '^LD_PRELOAD=.*libzonelab_preload\.so$' py.out || { cat py.out >&2; fail "no LD_PRELOAD in the printed environment"; }
    [ "$(grep -c 'zonelab: bind to 0\.0\.0\.0:8080 moved to 127\.0\.0\.1:[0-9]*, this replica' py.err)" -eq 2 ] ||
        { cat py.err >&2; fail "the replicas' logs do not say where their bind went"; }
    four_calls py python_sample '{"input":{"func":"sync_msg","func_req":{"limit":1}}}' 'd["output"]'
    replicas_served py
    stop_serve
    step "serve --replicas 2: the Python program from the guide (0.0.0.0:8080) answers on both replicas"

    start_serve c --world "$world" --replicas 2 \
        --program "exec '$demo' --port 8080 --data-dir '$work/data' --threads 2"
    four_calls c invoke_sync_msg '{"limit":1}' 'd'
    replicas_served c
    stop_serve
    step "serve --replicas 2: zone-demo --port 8080 (libmicrohttpd) answers on both replicas"
    exit 0
fi

[ "$mode" = diagnosis ] || fail "MODE is serve or diagnosis"
# a program that listens on a port of its own choosing (printed), not on ZONELAB_PORT or 8080
elsewhere="exec '$python' -c \"import socket, sys, time
s = socket.socket(); s.bind(('0.0.0.0', 0)); s.listen()
print('port', s.getsockname()[1]); sys.stdout.flush(); time.sleep(120)\""
fails_with elsewhere 'zonelab serve: 0 of 1 replicas of zone-demo listen after 10000 ms; zone-demo/0 listens on 0\.0\.0\.0:[0-9]+, not on 127\.0\.0\.1:[0-9]+ \(its ZONELAB_PORT\): listen on \$ZONELAB_PORT, or on 8080, which zonelab redirects to it$' \
    --program "$elsewhere"
got=$(sed -n 's/.*listens on 0\.0\.0\.0:\([0-9]*\),.*/\1/p' elsewhere.err)
[ "port $got" = "$(grep '^port ' elsewhere.out)" ] || { cat elsewhere.out elsewhere.err >&2; fail "the port named is not the program's"; }
step "serve: a replica on another port is named with that port and the fix"

# a program that exits at once (showing the LD_PRELOAD it got)
fails_with exits 'zonelab serve: zone-demo/0 exited \(exit code 3\) before it listened on 127\.0\.0\.1:[0-9]+, its ZONELAB_PORT: listen on \$ZONELAB_PORT, or on 8080, which zonelab redirects to it; its output is above$' \
    --program 'echo "preload=[$LD_PRELOAD]" >&2; exit 3'
grep -q '^preload=\[.*libzonelab_preload\.so\]$' exits.err || { cat exits.err >&2; fail "the replica got no preload"; }
step "serve: a replica that exits is named with its exit code, the port and the fix"

fails_with off 'zonelab serve: zone-demo/0 exited \(exit code 3\) before it listened on 127\.0\.0\.1:[0-9]+, its ZONELAB_PORT: listen on \$ZONELAB_PORT \(zonelab.s redirection of port 8080 is off: --redirect-8080 off or redirect_8080 = false\); its output is above$' \
    --redirect-8080 off --program 'echo "preload=[$LD_PRELOAD]" >&2; exit 3'
grep -q '^preload=\[\]$' off.err || { cat off.err >&2; fail "--redirect-8080 off still preloads"; }
step "serve --redirect-8080 off: nothing is preloaded, and the message says it is off"

# the same two through a scenario (two replicas): the first replica is named
"$zonelab" run --report-dir "$work/report" --program "$elsewhere" "$src/tests/python/guide" \
    >run-elsewhere.out 2>&1
grep -qE 'program zone-demo/0 listens on 0\.0\.0\.0:[0-9]+, not on 127\.0\.0\.1:[0-9]+ \(its ZONELAB_PORT\): listen on \$ZONELAB_PORT, or on 8080, which zonelab redirects to it \(zonelab waited 15000 ms, option ready_timeout_ms\)' run-elsewhere.out ||
    { cat run-elsewhere.out >&2; fail "run: no diagnosis of a replica on another port"; }
"$zonelab" run --report-dir "$work/report" --program 'echo "cannot start: no config" >&2; exit 3' \
    "$src/tests/python/guide" >run-exits.out 2>&1
grep -qE 'program zone-demo/[01] exited \(exit code 3\) before it listened on 127\.0\.0\.1:[0-9]+, its ZONELAB_PORT: listen on \$ZONELAB_PORT, or on 8080, which zonelab redirects to it$' run-exits.out &&
    grep -q 'crashed (exit code 3); its last lines:' run-exits.out &&
    grep -q 'cannot start: no config' run-exits.out ||
    { cat run-exits.out >&2; fail "run: no diagnosis of a replica that exits"; }
step "run: the same messages at a scenario's setup"

# scenario{redirect_8080 = false}: nothing preloaded, and the message says so; a bad value
mkdir -p off-scenario bad-scenario
printf 'scenario { redirect_8080 = false }\ntest("starts", function() end)\n' >off-scenario/off.lua
printf 'scenario { redirect_8080 = "no" }\ntest("starts", function() end)\n' >bad-scenario/bad.lua
"$zonelab" run --report-dir "$work/report" --program 'echo "preload=[$LD_PRELOAD]" >&2; exit 3' \
    off-scenario >run-off.out 2>&1
grep -qF "listen on \$ZONELAB_PORT (zonelab's redirection of port 8080 is off" run-off.out &&
    grep -qF 'preload=[]' run-off.out ||
    { cat run-off.out >&2; fail "run: redirect_8080 = false still preloads, or is not named"; }
"$zonelab" run --report-dir "$work/report" --program "$elsewhere" bad-scenario >run-bad.out 2>&1
grep -qF 'scenario{}.redirect_8080 is true or false' run-bad.out ||
    { cat run-bad.out >&2; fail "run: a bad redirect_8080 is not refused"; }
step "run: scenario{redirect_8080 = false} preloads nothing; another value is refused"
