#!/bin/bash
# options_ways.sh ZONELAB ZONE_DEMO SOURCE_DIR WORK: every option of the table (zonelab
# options --json, not a hand list) is set to its example, a valid value other than its
# default, in each of the four ways, and read back through GET /_zonelab/options:
#   (a) a world file's "options", (b) zonelab serve --set, (c) a scenario's
#   scenario{options=} and options{} verb, (d) POST /_zonelab/options (the live ones; the
#   fixed ones must be refused 409);
# and bad names and bad values are refused each way with a message naming the option and
# what it takes.
set -u -o pipefail
zonelab=$1
demo=$2
src=$3
work=$4
fail() { echo "options_ways: FAIL: $*" >&2; exit 1; }
step() { echo "options_ways: ok: $*"; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || fail "no work folder"

"$zonelab" options --json >table.json || fail "zonelab options --json"
n=$(jq '.options | length' table.json)
[ "$n" -gt 40 ] || fail "the table has $n options"
jq -S '[.options[] | {(.name): .example}] | add' table.json >examples.json
jq -S '[.options[] | {(.name): .default}] | add' table.json >defaults.json
jq -r '.options[] | "\(.name)=\(.example)"' table.json >examples.txt
# every example is valid and differs from its default (the test would prove nothing else)
jq -e '[.options[] | select(.example == .default)] | length == 0' table.json >/dev/null ||
    fail "an option's example is its default: $(jq -c '[.options[] | select(.example == .default) | .name]' table.json)"

serve_pid=""
stop() {
    if [ -n "$serve_pid" ]; then
        kill -TERM "$serve_pid" 2>/dev/null
        wait "$serve_pid" 2>/dev/null
        serve_pid=""
    fi
}
trap stop EXIT
# serve NAME ARGS...: starts zonelab serve --port 0 ARGS, sets $url once it is ready
serve() {
    local name=$1 i
    shift
    "$zonelab" serve --port 0 "$@" >"$name.out" 2>"$name.err" &
    serve_pid=$!
    for i in $(seq 300); do
        grep -q '^zonelab: ready' "$name.out" && break
        kill -0 "$serve_pid" 2>/dev/null || { cat "$name.err" >&2; fail "$name: serve ended"; }
        sleep 0.1
    done
    grep -q '^zonelab: ready' "$name.out" || fail "$name: serve not ready after 30 s"
    url=$(sed -n 's/^zonelab: listening on //p' "$name.out")
}
# values NAME: the options' values now as {name: value}, sorted, into NAME.json
values() {
    curl -sf "$url/_zonelab/options" | jq -S '[.options[] | {(.name): .value}] | add' >"$1.json" ||
        fail "$1: GET /_zonelab/options"
}
same() { diff -u "$1" "$2" >&2 || fail "$3: the values read back differ (- expected, + read)"; }
# expect_fail NAME TEXT CMD...: CMD fails (status != 0) and its stderr holds TEXT
expect_fail() {
    local name=$1 text=$2
    shift 2
    if "$@" >"$name.out" 2>"$name.err"; then
        fail "$name: succeeded"
    fi
    grep -qF -- "$text" "$name.err" || { cat "$name.err" >&2; fail "$name: stderr lacks: $text"; }
}

# ---- (a) a world file ----
jq --slurpfile ex examples.json '. + {options: $ex[0]}' "$src/fixtures/worlds/default.json" \
    >world-examples.json
serve a --world world-examples.json
values a
same examples.json a.json "(a) world file options"
stop
# nested objects are dotted names
jq '. + {options: {app_callbacks: {tries: 2}, protocol: {input_mismatch_code: 710647}}}' \
    "$src/fixtures/worlds/default.json" >world-nested.json
serve a-nested --world world-nested.json
values a-nested
jq -e '.["app_callbacks.tries"] == 2 and .["protocol.input_mismatch_code"] == 710647' \
    a-nested.json >/dev/null || fail "(a) nested world options"
stop
jq '. + {options: {tokn_ttl_s: 1}}' "$src/fixtures/worlds/default.json" >world-badname.json
expect_fail a-badname 'options.tokn_ttl_s: no such option; did you mean token_ttl_s?' \
    "$zonelab" serve --port 0 --world world-badname.json
jq '. + {options: {notify_routing: "anywhere"}}' "$src/fixtures/worlds/default.json" \
    >world-badvalue.json
expect_fail a-badvalue 'options.notify_routing: "anywhere" is not one of "sticky" or "any"' \
    "$zonelab" serve --port 0 --world world-badvalue.json
jq '. + {options: [1]}' "$src/fixtures/worlds/default.json" >world-notobject.json
expect_fail a-notobject 'options must be an object of option names and values' \
    "$zonelab" serve --port 0 --world world-notobject.json
step "(a) $n options set from a world file and read back; bad names and values refused"

# ---- (b) zonelab serve --set ----
sets=()
while IFS= read -r line; do sets+=(--set "$line"); done <examples.txt
serve b "${sets[@]}"
values b
same examples.json b.json "(b) serve --set"
stop
# the command line goes over the world file, an alias is an option, the last word wins
jq '. + {options: {token_ttl_s: 100, program_timeout_ms: 200}}' \
    "$src/fixtures/worlds/default.json" >world-under.json
serve b-order --world world-under.json --set token_ttl_s=300 --program-timeout-ms 400 \
    --set program_timeout_ms=500 --sync-budget 7
values b-order
jq -e '.token_ttl_s == 300 and .program_timeout_ms == 500 and .sync_budget_per_min == 7' \
    b-order.json >/dev/null || { cat b-order.json >&2; fail "(b) --set over the world file"; }
stop
expect_fail b-badname '--set tokn_ttl_s: no such option; did you mean token_ttl_s?' \
    "$zonelab" serve --port 0 --set tokn_ttl_s=1
expect_fail b-badvalue '--set app_callbacks.tries: 0 is not an integer from 1 to 10' \
    "$zonelab" serve --port 0 --set app_callbacks.tries=0
expect_fail b-badbool '--set token_fresh_each: "yes" is not true or false' \
    "$zonelab" serve --port 0 --set token_fresh_each=yes
expect_fail b-badcode '--set models.pending_errcode: 1 is not one of 710642 or 790023' \
    "$zonelab" serve --port 0 --set models.pending_errcode=1
expect_fail b-noeq '--set token_ttl_s: give NAME=VALUE' "$zonelab" serve --port 0 --set token_ttl_s
step "(b) $n options set with serve --set and read back; bad names and values refused"

# ---- (d) POST /_zonelab/options ----
serve d
while IFS=$'\t' read -r name live example; do
    code=$(curl -s -o post.out -w '%{http_code}' -X POST "$url/_zonelab/options" \
        --json "{\"$name\": $example}")
    if [ "$live" = true ]; then
        [ "$code" = 200 ] || { cat post.out >&2; fail "(d) POST $name: HTTP $code"; }
        jq -e --arg n "$name" --argjson v "$example" '.ok and .set[$n] == $v' post.out >/dev/null ||
            { cat post.out >&2; fail "(d) POST $name: the answer"; }
    else
        [ "$code" = 409 ] || { cat post.out >&2; fail "(d) POST $name (fixed): HTTP $code"; }
        grep -qF "$name is fixed at start" post.out || { cat post.out >&2; fail "(d) $name: why"; }
    fi
done < <(jq -r '.options[] | [.name, .live, (.example | tojson)] | @tsv' table.json)
values d
# live ones read back as their example, fixed ones kept their default
jq -S --slurpfile t table.json \
    '[$t[0].options[] | {(.name): (if .live then .example else .default end)}] | add' \
    table.json >d-expected.json
same d-expected.json d.json "(d) POST /_zonelab/options"
# a bad value of each option: 400 naming it and what it takes; nothing changes
while IFS=$'\t' read -r name bad; do
    code=$(curl -s -o post.out -w '%{http_code}' -X POST "$url/_zonelab/options" \
        --json "{\"$name\": $bad}")
    [ "$code" = 400 ] || [ "$code" = 409 ] || { cat post.out >&2; fail "(d) bad $name: HTTP $code"; }
    [ "$code" = 409 ] || jq -r .error post.out | grep -qF "$name: $bad is not " ||
        { cat post.out >&2; fail "(d) bad $name: the answer"; }
done < <(jq -r '.options[] | [.name, (if .type == "bool" then "\"yes\""
    elif .type == "int" then (.max + 1 | tostring) elif .type == "enum" then "\"nope\""
    else "1" end)] | @tsv' table.json)
values d-after
same d.json d-after.json "(d) bad values changed nothing"
code=$(curl -s -o post.out -w '%{http_code}' -X POST "$url/_zonelab/options" \
    --json '{"token_ttl_s": 5, "tokn_ttl_s": 1}')
[ "$code" = 400 ] && grep -qF 'tokn_ttl_s: no such option; did you mean token_ttl_s?' post.out ||
    { cat post.out >&2; fail "(d) an unknown name"; }
values d-unknown
same d.json d-unknown.json "(d) a refused body changed nothing"
stop
step "(d) every live option set with POST and read back, every fixed one refused 409"

# ---- (c) a scenario: scenario{options=} and options{} ----
mkdir -p scn
{
    echo "local ex = json.decode([==[$(cat examples.json)]==])"
    echo "local rows = json.decode([==[$(cat table.json)]==]).options"
    echo "scenario { options = ex, program = \"exec '$demo' --data-dir '$work/scn-data'\" }"
    cat <<'EOF'
test("scenario{options=} sets every option", function()
  local got = options()
  for name, v in pairs(ex) do
    assert_eq(got[name], v, name)
  end
end)

test("options{} sets every live option, refuses the fixed ones", function()
  for _, o in ipairs(rows) do
    if o.live then
      assert_eq(options { [o.name] = o.default }[o.name], o.default, o.name)
      assert_eq(options()[o.name], o.default, o.name)
    else
      local ok, e = pcall(options, { [o.name] = o.default })
      assert_eq(ok, false, o.name)
      assert_match(e, "options{} refused: " .. o.name:gsub("%p", "%%%0") .. " is fixed at start")
    end
  end
end)

test("options{} refuses a bad name or value and changes nothing", function()
  local before = options()
  local ok, e = pcall(options, { token_ttl_s = 5, tokn_ttl_s = 1 })
  assert_eq(ok, false)
  assert_match(e, "tokn_ttl_s: no such option; did you mean token_ttl_s%?")
  ok, e = pcall(options, { app_callbacks = { tries = 0 } })
  assert_eq(ok, false)
  assert_match(e, "app_callbacks%.tries: 0 is not an integer from 1 to 10")
  assert_eq(options(), before)
end)
EOF
} >scn/ways.lua
"$zonelab" run scn/ways.lua >scn.out 2>&1 || { cat scn.out >&2; fail "(c) the scenario"; }
grep -qF '3 tests: 3 passed' scn.out || { cat scn.out >&2; fail "(c) the scenario's tests"; }
# the older settings are options too, and one option set both ways is refused
cat >scn/alias.lua <<EOF
scenario { sync_budget = 7, routing = "any", program = "exec '$demo' --data-dir '$work/scn-data'" }
test("older settings are options", function()
  assert_eq(options().sync_budget_per_min, 7)
  assert_eq(options().notify_routing, "any")
  assert_eq(options().program_timeout_ms, 5000)
  assert_eq(options().journal_replies, true)
end)
EOF
cat >scn/bad-name.lua <<'EOF'
scenario { options = { nope = 1 } }
test("never runs", function() end)
EOF
cat >scn/bad-value.lua <<'EOF'
scenario { options = { protocol = { input_mismatch_code = 1 } } }
test("never runs", function() end)
EOF
cat >scn/twice.lua <<'EOF'
scenario { sync_budget = 7, options = { sync_budget_per_min = 8 } }
test("never runs", function() end)
EOF
"$zonelab" run scn/alias.lua >alias.out 2>&1 || { cat alias.out >&2; fail "(c) older settings"; }
"$zonelab" run scn/bad-name.lua scn/bad-value.lua scn/twice.lua >bad.out 2>&1 &&
    fail "(c) bad options passed"
for text in 'scenario{}.options.nope: no such option; options: token_ttl_s,' \
    'scenario{}.options.protocol.input_mismatch_code: 1 is not one of 790016 or 710647' \
    'scenario{}.sync_budget and scenario{}.options.sync_budget_per_min set one option'; do
    grep -qF -- "$text" bad.out || { cat bad.out >&2; fail "(c) lacks: $text"; }
done
step "(c) $n options set with scenario{options=}, the live ones with options{}; bad ones refused"
echo "options_ways: all passed"
