#!/bin/bash
# cli_app.sh ZONELAB ZONE_DEMO KEYS WORK: `zonelab app` against `zonelab serve --port 0` running
# the default world with zone-demo, as the vendor's walk-through goes: gettoken,
# set-receive-callback, a message archived, zone-demo's program_notify in the fake app's inbox,
# get_callback_data with its notify_id; then set-public-key, post, refusals, --follow.
set -u
zonelab=$1
demo=$2
keys=$3
work=$4
fail() { echo "cli_app: FAIL: $*" >&2; exit 1; }
step() { echo "cli_app: ok: $*"; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || fail "no work folder"

run() {
    local want=$1 name=$2 got
    shift 2
    "$@" >"$name.out" 2>"$name.err"
    got=$?
    [ "$got" -eq "$want" ] || {
        cat "$name.out" "$name.err" >&2
        fail "$name: exit status $got, expected $want"
    }
}
has() { grep -qF -- "$3" "$1.$2" || { cat "$1.$2" >&2; fail "$1: $2 lacks: $3"; }; }
lines() { wc -l <"$1.out" | tr -d ' '; }
lines_are() {
    [ "$(lines "$1")" -eq "$2" ] || { cat "$1.out" >&2; fail "$1: $(lines "$1") lines, expected $2"; }
}
state_has() {
    curl -s "$ZONELAB_URL/_zonelab/state" | grep -qF -- "$1" || fail "the state lacks: $1"
}
# ends PID WHAT: up to 20 s for the background PID to end; returns its exit status
ends() {
    local i
    for i in $(seq 200); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && {
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        fail "$2: still running after 20 s"
    }
    wait "$1"
}
wait_for() { # FILE TEXT: up to 20 s
    local i
    for i in $(seq 200); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$1" >&2
    fail "no '$2' in $1 after 20 s"
}

"$zonelab" serve --port 0 --program "exec '$demo' --data-dir '$work/data'" \
    >serve.out 2>serve.err &
serve_pid=$!
trap 'kill -TERM $serve_pid 2>/dev/null && ends $serve_pid "zonelab serve after SIGTERM"' EXIT
for i in $(seq 300); do
    grep -q '^zonelab: ready' serve.out && break
    kill -0 $serve_pid 2>/dev/null || { cat serve.err >&2; fail "zonelab serve exited"; }
    sleep 0.1
done
grep -q '^zonelab: ready' serve.out || fail "zonelab serve did not get ready in 30 s"
port=$(sed -n 's|^zonelab: listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' serve.out)
[ -n "$port" ] || fail "no port in the banner"
export ZONELAB_URL="http://127.0.0.1:$port"

# gettoken: the reply, or the token alone; a wrong secret is refused with the reply printed
run 0 gettoken "$zonelab" app gettoken
has gettoken out '{"errcode":0,"errmsg":"ok","access_token":"at_'
has gettoken out '"expires_in":7200}'
run 0 token-only "$zonelab" app gettoken --token-only --agentid 1000002
lines_are token-only 1
grep -qE '^at_[0-9a-f]+$' token-only.out || fail "--token-only does not print the token alone"
run 0 token-valid curl -sf -d '{"program_id":"zone-demo"}' \
    "$ZONELAB_URL/cgi-bin/chatdata/get_log_level?access_token=$(cat token-only.out)"
has token-valid out '"errcode":0'
run 1 token-bad "$zonelab" app gettoken --secret wrong
has token-bad out '"errcode":40001'
has token-bad err "zonelab app gettoken: gettoken for corp wwzonelab0000001 answered errcode 40001"
run 1 token-noapp "$zonelab" app gettoken --agentid 42
has token-noapp err "zonelab app gettoken: the emulator has no app with agentid 42"
step "app gettoken: the reply, --token-only, a wrong secret, an unknown app"

# no receiving program yet: nothing is sent, the inbox is empty
run 0 inbox-empty "$zonelab" app inbox
lines_are inbox-empty 0
run 0 receive "$zonelab" app set-receive-callback
[ "$(cat receive.out)" = '{"errcode":0,"errmsg":"ok"}' ] || fail "set-receive-callback: $(cat receive.out)"
state_has '"receive_program":"zone-demo"'
run 0 journal-receive "$zonelab" journal --face app --field endpoint=set_receive_callback \
    --field request.program_id=zone-demo
lines_are journal-receive 1
run 1 receive-bad "$zonelab" app set-receive-callback --program-id no-such-program
has receive-bad err "zonelab app set-receive-callback: set_receive_callback answered errcode"
state_has '"receive_program":"zone-demo"'
step "app set-receive-callback: zone-demo chosen, journaled; an unknown program refused"

# a message: conversation_new_message to zone-demo, which calls spec_notify_app; the fake app
# receives program_notify
cat >msg.json <<'JSON'
[{"msgid":"cli_app_1","msgtype":1,"sender":{"type":2,"id":"wm_cust_01"},
  "receivers":[{"type":1,"id":"zhangsan"}],"content":{"content":"Has my order shipped?"}}]
JSON
run 0 messages "$zonelab" messages ./msg.json
has messages out '"program_id":"zone-demo","token":"tk_'
run 0 inbox-wait "$zonelab" app inbox --since 0 --follow --limit 1 --timeout 120
lines_are inbox-wait 1
has inbox-wait out '"agentid":1000002,"event":"program_notify","notify_id":"'
has inbox-wait out '<Event><![CDATA[program_notify]]></Event>'
run 0 inbox-ids "$zonelab" app inbox --notify-ids
lines_are inbox-ids 1
nid=$(cat inbox-ids.out)
grep -qF "\"notify_id\":\"$nid\"" inbox-wait.out || fail "--notify-ids printed another id"
run 0 inbox-other "$zonelab" app inbox --agentid 42
lines_are inbox-other 0
run 0 inbox-since "$zonelab" app inbox --since 1
lines_are inbox-since 0
# the app calls zone-demo with the notify_id and gets the event back, token included
token=$(sed -n 's/.*"token":"\(tk_[0-9a-f]*\)".*/\1/p' messages.out)
run 0 callback-data "$zonelab" call --ability get_callback_data --notify-id "$nid" --data '{}'
has callback-data out "\\\"conversation_new_message\\\":{\\\"token\\\":\\\"$token\\\"}"
step "a message reaches zone-demo, its notify reaches the inbox, get_callback_data has the token"

# inbox --follow: only new ones, until SIGTERM (status 0); --timeout with --limit fails
"$zonelab" app inbox --follow >follow.out 2>follow.err &
follow_pid=$!
wait_for follow.err "zonelab app inbox: following $ZONELAB_URL after inbox seq 1"
sed 's/cli_app_1/cli_app_2/' msg.json >msg2.json
run 0 messages2 "$zonelab" messages ./msg2.json
wait_for follow.out '"seq":2,'
kill -TERM $follow_pid
ends $follow_pid "app inbox --follow after SIGTERM"
st=$?
[ $st -eq 0 ] || fail "app inbox --follow ended with status $st on SIGTERM"
lines_are follow 1
run 1 follow-timeout "$zonelab" app inbox --follow --limit 1 --timeout 1
has follow-timeout err "zonelab app inbox: 0 of 1 notifications after 1 s"
step "app inbox --follow: a new one, then SIGTERM; --timeout before --limit fails"

# set-public-key: a new version from a file, the next one by default from stdin; an old
# version refused
run 0 key-v2 "$zonelab" app set-public-key --file "$keys/test_v2_public.pem" --version 2
has key-v2 out '{"errcode":0,"errmsg":"ok"}'
state_has '"public_key_ver":2'
run 0 journal-key "$zonelab" journal --face app --field endpoint=set_public_key \
    --field request.public_key_ver=2
has journal-key out '"public_key":"-----BEGIN PUBLIC KEY-----\n'
"$zonelab" app set-public-key --file - <"$keys/test_v1_public.pem" >key-next.out 2>key-next.err ||
    { cat key-next.out key-next.err >&2; fail "set-public-key from stdin"; }
state_has '"public_key_ver":3'
run 1 key-old "$zonelab" app set-public-key --file "$keys/test_v2_public.pem" --version 2
has key-old err "zonelab app set-public-key: set_public_key answered errcode"
run 1 key-nofile "$zonelab" app set-public-key --file ./missing.pem
has key-nofile err "zonelab app set-public-key: cannot open './missing.pem'"
step "app set-public-key: from a file and stdin, the version by default, an old one refused"

# post: any endpoint, the body as given
run 0 post-level "$zonelab" app post get_log_level --data '{"program_id":"zone-demo"}'
has post-level out '"log_level":2'
printf '{"program_id":"zone-demo","log_level":3}' |
    "$zonelab" app post set_log_level --data-file - >post-set.out 2>post-set.err ||
    { cat post-set.out post-set.err >&2; fail "post set_log_level from stdin"; }
run 0 post-level3 "$zonelab" app post get_log_level --data '{"program_id":"zone-demo"}' --pretty
has post-level3 out '"log_level":	3'
run 1 post-notjson "$zonelab" app post get_log_level --data '{"program_id":'
has post-notjson out '"errcode":40058'
run 1 post-404 "$zonelab" app post no_such_endpoint
has post-404 err "zonelab app post: no_such_endpoint answered HTTP 404 without an errcode"
step "app post: get_log_level, set_log_level from stdin, not JSON, an unknown endpoint"

run 1 down "$zonelab" app gettoken --url http://127.0.0.1:1
has down err "zonelab app gettoken: cannot reach the emulator at http://127.0.0.1:1"
run 1 down-inbox "$zonelab" app inbox --url http://127.0.0.1:1
has down-inbox err "zonelab app inbox: cannot reach the emulator at http://127.0.0.1:1"
step "an unreachable emulator exits 1"
echo "cli_app: all passed"
