#!/usr/bin/env bash
# explore_check: `zonelab explore` as a user runs it, with a fixed seed and --runs so the
# answer is the same on any machine. For a planted bug (a zone-demo-<plant> of the test
# build): exit 1, the property named, a scenario of at most 10 actions under --out that
# `zonelab run` fails against the planted build and passes against the real zone-demo. For
# "none": the real zone-demo gives exit 0 and the coverage report, as text and --json; bad
# options exit 2.
# usage: explore_check.sh ZONELAB BINDIR PLANT PROPERTY SEED RUNS WORKDIR PROPERTIES_FILE
set -u
zonelab=$1 bindir=$2 plant=$3 property=$4 seed=$5 runs=$6 work=$7 props=$8

fail() {
    echo "explore_check $plant: $*" >&2
    exit 1
}
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
real="exec '$bindir/zone-demo' --data-dir \"\$ZONELAB_WORK_DIR/data\""
# actions FILE: the lines of the test "actions" but X.setup()
actions() { awk '/^test\("actions"/ { on = 1; next } /^end\)/ { on = 0 } on && !/X\.setup\(\)/' "$1" | wc -l; }

if [ "$plant" = none ]; then
    "$zonelab" explore --program "$real" --seed "$seed" --runs "$runs" --actions 12 \
        --properties "$props" --out out >out.txt 2>err.txt
    rc=$?
    [ "$rc" -eq 0 ] || { cat out.txt err.txt >&2; fail "exit $rc, expected 0"; }
    grep -q "^$runs runs of seed $seed, no property broken" out.txt || fail "no summary line"
    for line in "coverage of $runs runs:" "  abilities called: " "  SDK APIs invoked: " \
        "  event types delivered: " "  errcodes answered to the app: " "  faults: "; do
        grep -qF -- "$line" out.txt || { cat out.txt >&2; fail "the report lacks '$line'"; }
    done
    [ ! -e out ] || fail "--out written with no violation"
    "$zonelab" explore --program "$real" --seed "$seed" --runs 1 --actions 4 --json >json.txt ||
        fail "--json: exit $?"
    for key in '"seed":' '"runs":1' '"coverage":{' '"abilities":{"reached":[' '"not_reached":[' \
        '"sdk_apis":' '"event_types":' '"counts":'; do
        grep -qF -- "$key" json.txt || { cat json.txt >&2; fail "--json lacks $key"; }
    done
    # a run is a function of the seed and its index only
    "$zonelab" explore --program "$real" --seed 7 --show 3 >show1.lua || fail "--show: exit $?"
    "$zonelab" explore --program "$real" --seed 7 --show 3 >show2.lua || fail "--show: exit $?"
    "$zonelab" explore --program "$real" --seed 8 --show 3 >show3.lua || fail "--show: exit $?"
    cmp -s show1.lua show2.lua || fail "run 3 of seed 7 differs from itself"
    ! cmp -s show1.lua show3.lua || fail "seeds 7 and 8 give the same run 3"
    [ "$(actions show1.lua)" -ge 20 ] || fail "--show: fewer than 20 actions"
    # sdk_used_as_allowed over run 3's file with other actions: the app's misuse through
    # invoke_sync_msg (an empty cursor, then the no-token budget spent) is not the program's,
    # its own 11th token-less digest in a minute is
    custom() {
        awk -v body="$1" '/^test\("actions"/ { print; print body; on = 1; next }
            on && /^end\)/ { on = 0 } !on' show1.lua >"$2"
    }
    custom '  X.setup()\n  X.call("invoke_sync_msg", "{\\"cursor\\":\\"\\"}")
  for _ = 1, 11 do X.call("invoke_sync_msg", "{}") end\n  X.call("new_messages_digest", "{}")
  local t = X.trace.actions\n  assert_eq(t[2].reply.data.errcode, 40058)
  assert_eq(t[#t].reply.data.errcode, 45009)' app.lua
    "$zonelab" run --program "$real" app.lua >app.txt 2>&1 ||
        { cat app.txt >&2; fail "the app's misuse counted as the program's"; }
    custom '  X.setup()\n  for _ = 1, 11 do X.call("new_messages_digest", "{}") end' own.lua
    "$zonelab" run --program "$real" own.lua >own.txt 2>&1
    [ $? -eq 1 ] && grep -q "property: sdk_used_as_allowed" own.txt &&
        grep -q "refused 45009" own.txt || { cat own.txt >&2; fail "the own 45009 not seen"; }
    # kill and receive are off by default, and inserted without changing the other draws
    ! grep -q '^  X\.kill(\|^  X\.receive(' show1.lua || fail "kill or receive drawn by default"
    "$zonelab" explore --program "$real" --seed 7 --show 3 --weight kill=50 --weight receive=50 \
        >show4.lua || fail "--show with kill: exit $?"
    grep -q '^  X\.kill(' show4.lua && grep -q '^  X\.receive(' show4.lua || fail "no kill or receive"
    diff <(grep -v '^  X\.kill(\|^  X\.receive(' show4.lua) show1.lua >/dev/null ||
        fail "kill and receive changed the other actions"
    # bad options: why on stderr, exit 2, nothing run
    for bad in "--runs 1 --budget 5" "--weight nope=1" "--replicas 17" "--runs 0" "--no-such"; do
        # shellcheck disable=SC2086
        "$zonelab" explore --program "$real" $bad >bad.out 2>bad.err
        rc=$?
        [ "$rc" -eq 2 ] || fail "'$bad': exit $rc, expected 2"
        grep -q "^zonelab explore: " bad.err || fail "'$bad': no reason on stderr"
    done
    args="--runs 1"
    for k in archive event call callback advance restart pause fault async key kill receive; do
        args="$args --weight $k=0"
    done
    # shellcheck disable=SC2086
    "$zonelab" explore --program "$real" $args >bad.out 2>bad.err
    [ $? -eq 2 ] && grep -q "every --weight is 0" bad.err || fail "all weights 0 not refused"
    echo "explore_check none: exit 0 with the coverage report; bad options refused"
    exit 0
fi

planted="exec '$bindir/zone-demo-$plant' --data-dir \"\$ZONELAB_WORK_DIR/data\""
"$zonelab" explore --program "$planted" --seed "$seed" --runs "$runs" \
    --properties "$props" --out out >out.txt 2>err.txt
rc=$?
[ "$rc" -eq 1 ] || { cat out.txt err.txt >&2; fail "exit $rc, expected 1"; }
grep -q "breaks $property" out.txt || { cat out.txt >&2; fail "not found: $property"; }
file=$(sed -n 's/^written: //p' out.txt)
[ -f "$file" ] || { cat out.txt >&2; fail "no scenario written"; }
head -1 "$file" | grep -qx -- "-- zonelab explore: property $property does not hold" ||
    fail "the scenario does not name the property"
sed -n 2p "$file" | grep -q -- "^-- seed $seed, run [0-9]*: [0-9]* actions, shrunk to" ||
    fail "the scenario does not name the seed and the original length"
n=$(actions "$file")
[ "$n" -le 10 ] || { cat "$file" >&2; fail "$n actions, expected at most 10"; }
"$zonelab" run --program "$planted" --report-dir report "$file" >run-planted.txt 2>&1
rc=$?
[ "$rc" -eq 1 ] || { cat run-planted.txt >&2; fail "zonelab run against the planted build: exit $rc"; }
grep -q "property: $property" run-planted.txt || fail "zonelab run fails, not on $property"
"$zonelab" run --program "$real" "$file" >run-real.txt 2>&1
rc=$?
[ "$rc" -eq 0 ] || { cat "$file" run-real.txt >&2; fail "zonelab run against zone-demo: exit $rc"; }
echo "explore_check $plant: $property found and shrunk to $n actions; $file fails against the planted build, passes against zone-demo"
