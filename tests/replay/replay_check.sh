#!/bin/sh
# replay_check.sh ZONELAB ZONE_DEMO ZONE_DEMO_BROKEN HERE WORK: records a zone-demo session with
# `zonelab serve --record` (app calls, two events, the digest, invoke_sync_msg), checks the
# file, replays it against zone-demo (it matches) and against programs that behave otherwise
# (the first difference is named), then replays failed scenarios' journals.
set -u
fail() { echo "replay_check: FAIL: $*" >&2; exit 1; }
# Each argument as an absolute path: the check works in its own folder.
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
zonelab=$(abs "$1")
demo=$(abs "$2")
broken=$(abs "$3")
here=$(abs "$4")
work=$(abs "$5")
step() { echo "replay_check: $*"; }
show() { cat "$1" >&2; }
serve_pid=
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; }
trap cleanup EXIT
rm -rf "$work"
mkdir -p "$work"
cd "$work" || fail "no work folder"
mkdir -p "$work/tmp"
TMPDIR=$work/tmp # the work folders of replays that found a difference stay here
export TMPDIR
rec=$work/session.jsonl

# ---- record ----
# one callback at a time: the two events must reach zone-demo in the order the replay sends
# them, as its notify ids follow the order it handles them in (docs/replay.md, "Limits")
"$zonelab" serve --port 0 --record "$rec" --set delivery_window=1 \
    --program "exec '$demo' --data-dir '$work/data-rec'" >serve.out 2>serve.err &
serve_pid=$!
i=0
# polled, with deadlines of a minute and 30 s: a loaded machine (make test at -j 4) is slow
until grep -q '^zonelab: ready' serve.out; do
    i=$((i + 1))
    [ $i -lt 600 ] || { show serve.err; fail "zonelab serve --record did not get ready"; }
    kill -0 "$serve_pid" 2>/dev/null || { show serve.err; fail "zonelab serve --record exited"; }
    sleep 0.1
done
port=$(sed -n 's|^zonelab: listening on http://127.0.0.1:\([0-9]*\)$|\1|p' serve.out)
url=http://127.0.0.1:$port
token=$(curl -s "$url/cgi-bin/gettoken?corpid=wwzonelab0000001&corpsecret=zonelab-demo-secret-1000002" |
    jq -r .access_token)
[ -n "$token" ] && [ "$token" != null ] || fail "no access_token"
app() { curl -s --data-binary "@$2" "$url/cgi-bin/chatdata/$1?access_token=$token"; }
printf '{"program_id":"zone-demo"}' >rc.json
app set_receive_callback rc.json | grep -q '"errcode":0' || fail "set_receive_callback"
cat >messages.json <<'EOF'
{"messages":[
 {"msgid":"rc_1","sender":{"type":1,"id":"zhangsan"},"receivers":[{"type":1,"id":"lisi"}],
  "msgtype":1,"content":{"content":"hello"}},
 {"msgid":"rc_2","sender":{"type":1,"id":"lisi"},"receivers":[{"type":1,"id":"zhangsan"}],
  "msgtype":1,"content":{"content":"thanks"}}]}
EOF
curl -s --json @messages.json "$url/_zonelab/messages" | grep -q '"archived":2' ||
    fail "the messages were not archived"
i=0
until [ "$(curl -s "$url/_zonelab/app/notifications" | jq '.notifications | length')" = 2 ]; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "zone-demo did not notify the app of both events"
    sleep 0.05
done
nid=$(curl -s "$url/_zonelab/app/notifications" | jq -r '.notifications[0].notify_id')
printf '{"program_id":"zone-demo","ability_id":"get_callback_data","request_data":"{}","notify_id":"%s"}' \
    "$nid" >cb.json
app sync_call_program cb.json | grep -q 'conversation_new_message' ||
    fail "get_callback_data did not return the event"
# odd spacing on purpose: the recording must keep these bytes exactly
printf '{ "program_id" : "zone-demo",\n  "ability_id":"new_messages_digest", "request_data":"{}" }' \
    >digest.json
app sync_call_program digest.json | grep -q 'total' || fail "the digest did not answer"
printf '{"program_id":"zone-demo","ability_id":"invoke_sync_msg","request_data":"{\\"limit\\":2}"}' \
    >sync.json
app sync_call_program sync.json | grep -q 'next_cursor' || fail "invoke_sync_msg did not answer"
kill "$serve_pid"
wait "$serve_pid"
rc=$?
serve_pid=
[ $rc -eq 0 ] || { show serve.err; fail "zonelab serve --record exited $rc on SIGTERM"; }
grep -q "zonelab serve: recorded [0-9]* exchanges in $rec" serve.err ||
    { show serve.err; fail "serve did not say what it recorded"; }
step "recorded a session with zone-demo"

# ---- the file ----
[ "$(stat -c %a "$rec")" = 600 ] || fail "the recording is readable by others (it holds secrets)"
lines=$(wc -l <"$rec")
[ "$(jq -c . <"$rec" | wc -l)" = "$lines" ] || fail "not one JSON value per line"
head -1 "$rec" | jq -e '.zonelab_record == 1 and .world.builtin and (.world.sha256 | length) == 64
    and (.programs[0].program_id == "zone-demo") and (.programs[0].secret | length) == 44
    and .programs[0].secret_ver == 1' >/dev/null || fail "the header line is wrong"
tail -n +2 "$rec" | jq -e -s 'all(has("seq") and has("id") and has("t") and has("direction")
    and has("face") and has("method") and has("url") and has("request") and has("status"))
    and ([.[].seq] == [range(1; length + 1)])' >/dev/null ||
    fail "an exchange line lacks a field, or seq does not count 1, 2, ..."
tail -n +2 "$rec" | jq -r '(.request.body_len | tostring) + " " + .request.body,
    (select(.response) | (.response.body_len | tostring) + " " + .response.body)' >bodies.txt
n=0
while read -r len b; do
    got=$(printf '%s' "$b" | base64 -d | wc -c) || fail "a body is not base64: $b"
    [ "$got" = "$len" ] || fail "a body decodes to $got bytes, body_len says $len"
    n=$((n + 1))
done <bodies.txt
[ $n -gt 30 ] || fail "only $n bodies in the recording"
found=0
for b in $(jq -r 'select(.direction == "in" and (.url | startswith("/cgi-bin/chatdata/sync_call_program")))
        | .request.body' "$rec"); do
    printf '%s' "$b" | base64 -d >got.bin
    cmp -s got.bin digest.json && found=1
done
[ $found = 1 ] || fail "the digest request's bytes are not in the recording as sent"
jq -e -s '[.[] | select(.face == "sdk" and .api == "spec_notify_app")] | length == 2' "$rec" \
    >/dev/null || fail "the two spec_notify_app invokes are not decrypted in the recording"
jq -e -s '[.[] | select(.face == "program" and .envelope.ability_id == "new_messages_digest"
    and (.reply.response | fromjson | .total) >= 2)] | length == 1' "$rec" >/dev/null ||
    fail "the digest callback's envelope and decrypted answer are not in the recording"
jq -e -s '[.[] | select(.face == "program" and .envelope.call_type == 2
    and (.envelope.data | fromjson | .event_type) == "conversation_new_message")] | length == 2' \
    "$rec" >/dev/null || fail "the two events are not in the recording"
step "the file: one JSON line per exchange, exact bytes, decrypted envelopes, mode 600"

# ---- replay ----
prog="exec '$demo' --data-dir \"\$ZONELAB_WORK_DIR/data\""
"$zonelab" replay "$rec" --program "$prog" >same.out 2>same.err
rc=$?
[ $rc -eq 0 ] || { show same.out; show same.err; fail "replay against zone-demo: exit $rc"; }
grep -q 'ok: 5 callbacks replayed, 4 SDK calls matched, 2 notify ids paired' same.out ||
    { show same.out; fail "replay's summary is wrong"; }
step "zone-demo replays its own recording: exit 0 and a summary"

"$zonelab" replay "$rec" --program "$prog --notify-scene 2" >scene.out 2>&1
rc=$?
[ $rc -eq 1 ] || { show scene.out; fail "a different notify_scene must make the exit code 1"; }
grep -q 'difference in an SDK call during callback 1 of 5 (recording seq [0-9]*): an event conversation_new_message' scene.out &&
    grep -q 'the request of spec_notify_app (recording seq [0-9]*) differs at \$.notify_scene' scene.out &&
    grep -q 'expected: 1' scene.out && grep -q 'actual:   2' scene.out ||
    { show scene.out; fail "the notify_scene difference is not named"; }
"$zonelab" replay "$rec" --program "$prog --notify-scene 2" \
    --ignore 'spec_notify_app:$.notify_scene' >ignored.out 2>&1 ||
    { show ignored.out; fail "--ignore spec_notify_app:\$.notify_scene did not ignore it"; }
step "a different SDK request: exit 1, the call and its JSON path; --ignore skips it"

"$zonelab" replay "$rec" --program "exec '$broken' --data-dir \"\$ZONELAB_WORK_DIR/data\"" \
    >broken.out 2>&1
rc=$?
[ $rc -eq 1 ] || { show broken.out; fail "zone-demo-broken must differ from the recording"; }
grep -q 'difference in callback 3 of 5 (recording seq [0-9]*): a call to ability get_callback_data' broken.out &&
    grep -q 'the answer differs at \$.event_type' broken.out &&
    grep -q 'actual answer:   {"errcode":710660' broken.out ||
    { show broken.out; fail "the broken program's different answer is not named"; }
"$zonelab" replay "$rec" --program "exec '$broken' --data-dir \"\$ZONELAB_WORK_DIR/data\"" \
    --ignore 'answer:$.*' >wild.out 2>&1 ||
    { show wild.out; fail "--ignore 'answer:\$.*' did not leave the answers' members out"; }
step "a program that ignores the notify_id: exit 1 at get_callback_data's answer; --ignore \$.*"

# a crash while recording cuts the last line: what came before still replays
head -c "$(($(wc -c <"$rec") - 20))" "$rec" >cut.jsonl
"$zonelab" replay cut.jsonl --program "$prog" >cut.out 2>cut.err ||
    { show cut.out; show cut.err; fail "a recording cut short does not replay"; }
grep -q "line $lines is incomplete; ignored" cut.err || { show cut.err; fail "no word of the cut"; }
step "a recording cut by a crash replays up to the cut"

"$zonelab" replay >usage.out 2>&1
[ $? -eq 2 ] || fail "replay without FILE must exit 2"
"$zonelab" replay "$work/none.jsonl" --program true >none.out 2>&1
[ $? -eq 2 ] && grep -q 'cannot read' none.out || fail "a missing FILE must exit 2 and say so"
"$zonelab" replay bodies.txt --program true >bad.out 2>&1
[ $? -eq 2 ] && grep -q 'neither a zonelab recording' bad.out || fail "a bad FILE must exit 2"
step "usage and unreadable files: exit 2"

# ---- journals of failed scenarios ----
"$zonelab" run --program "exec '$broken' --data-dir \"\$ZONELAB_WORK_DIR/data\"" \
    --report-dir "$work/report" "$here/notify_case.lua" >run.out 2>&1
[ $? -eq 1 ] || { show run.out; fail "notify_case.lua must fail with zone-demo-broken"; }
journal=$(ls "$work"/report/*notify_case.lua.journal.json) || fail "no journal in the report"
"$zonelab" replay "$journal" --program "exec '$broken' --data-dir \"\$ZONELAB_WORK_DIR/data\"" \
    >jsame.out 2>&1 || { show jsame.out; fail "the journal does not replay against its program"; }
grep -q 'ok: 4 callbacks replayed, 3 SDK calls matched, 2 notify ids paired' jsame.out ||
    { show jsame.out; fail "the journal replay's summary is wrong"; }
"$zonelab" replay "$journal" --program "$prog" >jfixed.out 2>&1
rc=$?
[ $rc -eq 1 ] || { show jfixed.out; fail "the fixed program must differ from the failed run"; }
grep -q 'difference in callback 4 of 4 (journal seq [0-9]*): a call to ability get_callback_data' jfixed.out &&
    grep -q 'expected answer: {"errcode":710660' jfixed.out ||
    { show jfixed.out; fail "the journal difference is not named"; }
step "a failed scenario's journal replays: same program exit 0, the fix exit 1 at the answer"

"$zonelab" run --program "$prog" --report-dir "$work/report" "$here/digest_case.lua" >drun.out 2>&1
[ $? -eq 1 ] || { show drun.out; fail "digest_case.lua must fail"; }
journal=$(ls "$work"/report/*digest_case.lua.journal.json) || fail "no digest journal"
"$zonelab" replay "$journal" --program "$prog" >digest.out 2>&1
rc=$?
if jq -e 'any(.[]; .kind == "invoke" and .api == "sync_msg" and has("reply"))' "$journal" \
    >/dev/null; then
    [ $rc -eq 0 ] || { show digest.out; fail "a journal with sync_msg replies must replay"; }
    step "a digest's journal replays (the journal keeps sync_msg's reply)"
else
    [ $rc -eq 2 ] && grep -q 'needs the invoke entry.s "reply" field' digest.out ||
        { show digest.out; fail "an abridged msg_list must be refused, naming the field"; }
    step "a digest's journal is refused until the journal keeps sync_msg's reply"
fi
step "ok"
