#!/bin/sh
# runner_check.sh ZONELAB BROKEN_DEMO SRC WORK: checks `zonelab run` itself: exit codes, text,
# TAP and JUnit XML (validated against tests/runner/junit.xsd), --filter, --shard, --repeat,
# --until-fail, a deliberately broken program reported with a message a developer
# understands, and the sandbox: require() of lib/, the locked globals and the old verb names
# (tests/runner/sandbox).
set -u
zonelab=$1
broken=$2
src=$3
work=$4
fail() { echo "runner_check: FAIL: $*" >&2; exit 1; }
step() { echo "runner_check: $*"; }
rm -rf "$work"
mkdir -p "$work"
cd "$src" || fail "no source folder"

"$zonelab" run tests/runner/sample --junit "$work/sample.xml" --report-dir "$work/report" \
    >"$work/text.out" 2>&1
[ $? -eq 1 ] || { cat "$work/text.out"; fail "a failing test must make the exit code 1"; }
grep -q "tests/runner/sample/fails.lua:5: log level: not equal" "$work/text.out" ||
    { cat "$work/text.out"; fail "the text report does not name the failing line"; }
grep -q '\$: expected 3, got 2' "$work/text.out" || fail "the text report has no diff"
grep -q "4 tests: 2 passed, 2 failed" "$work/text.out" || fail "the summary is wrong"
[ -s "$work/report/tests_runner_sample_fails.lua.journal.json" ] || fail "no journal next to the report"
step "text report, exit code and journal of a failed file"

xmllint --noout --schema tests/runner/junit.xsd "$work/sample.xml" ||
    fail "the JUnit XML does not validate"
grep -q '<failure message="tests/runner/sample/fails.lua:5' "$work/sample.xml" ||
    fail "the JUnit failure has no message"
grep -q 'name="filtered &lt;out&gt; &amp; &quot;quoted&quot;"' "$work/sample.xml" ||
    fail "JUnit names are not escaped"
step "JUnit XML validates against junit.xsd"

"$zonelab" run --tap tests/runner/sample >"$work/run.tap" 2>/dev/null
"$zonelab" report merge --tap "$work/sample.xml" >"$work/merge.tap" 2>"$work/merge.err"
[ $? -eq 1 ] || fail "report merge of a failing report must exit 1"
cmp -s "$work/run.tap" "$work/merge.tap" ||
    { diff "$work/run.tap" "$work/merge.tap"; fail "TAP from the JUnit report differs from run --tap"; }
grep -q "4 tests: 2 passed, 2 failed, 0 errors, 0 skipped (2 file runs from 1 report;" \
    "$work/merge.err" || fail "merge summary: $(cat "$work/merge.err")"
"$zonelab" report merge "$work/text.out" >/dev/null 2>"$work/merge-bad.err"
[ $? -eq 2 ] && grep -q "not readable as XML" "$work/merge-bad.err" ||
    fail "report merge of a text file must say it is not XML (exit 2)"
step "report merge reads the JUnit back: the same TAP as run --tap"

"$zonelab" run --tap tests/runner/sample >"$work/tap.out" 2>/dev/null
[ $? -eq 1 ] || fail "--tap must keep the exit code"
head -1 "$work/tap.out" | grep -qx "TAP version 13" || fail "TAP has no version line"
grep -qx "1..4" "$work/tap.out" || fail "TAP has no plan"
grep -q "^not ok [0-9] - fails.lua: a misused verb" "$work/tap.out" || fail "TAP misses a failure"
grep -q "^ok [0-9] - passes.lua: log level is 2 by default" "$work/tap.out" ||
    fail "TAP misses a pass"
step "TAP"

"$zonelab" run --filter "by default" tests/runner/sample >"$work/filter.out" 2>&1
[ $? -eq 0 ] || { cat "$work/filter.out"; fail "--filter should leave only a passing test"; }
grep -q "4 tests: 1 passed, 0 failed, 0 errors, 3 skipped" "$work/filter.out" ||
    { cat "$work/filter.out"; fail "--filter counts are wrong"; }
"$zonelab" run --shard 2/2 tests/runner/sample >"$work/shard.out" 2>&1
[ $? -eq 0 ] || { cat "$work/shard.out"; fail "--shard 2/2 should run passes.lua only"; }
grep -q "(1 file," "$work/shard.out" || fail "--shard should run one file"
step "--filter and --shard"

# --repeat N: each file N times, every run reported and counted, report files per run, and
# the failed runs by file; --until-fail: no new run after a failed one (--repeat caps it)
"$zonelab" run --repeat 3 -j 2 --report-dir "$work/report" tests/runner/sample \
    >"$work/repeat.out" 2>&1
[ $? -eq 1 ] || { cat "$work/repeat.out"; fail "--repeat must keep the exit code"; }
grep -q "12 tests: 6 passed, 6 failed, 0 errors, 0 skipped (2 files, 6 runs, -j 2)" \
    "$work/repeat.out" || { cat "$work/repeat.out"; fail "--repeat 3 does not count each run"; }
grep -q "^ok   tests/runner/sample/passes.lua #3 (2 tests" "$work/repeat.out" &&
    grep -q "tests/runner/sample/fails.lua: 3 of 3 runs failed (#1, #2, #3)" "$work/repeat.out" ||
    { cat "$work/repeat.out"; fail "--repeat does not name the runs"; }
[ -s "$work/report/tests_runner_sample_fails.lua.run3.journal.json" ] ||
    fail "--repeat: no journal for the third run"
"$zonelab" run --until-fail --report-dir "$work/report" tests/runner/sample \
    >"$work/until.out" 2>&1
[ $? -eq 1 ] && grep -q "(2 files, 1 run, -j 1)" "$work/until.out" ||
    { cat "$work/until.out"; fail "--until-fail must stop after the first failed run"; }
"$zonelab" run --until-fail --repeat 4 tests/runner/sample/passes.lua >"$work/until4.out" 2>&1 &&
    grep -q "8 tests: 8 passed, 0 failed, 0 errors, 0 skipped (1 file, 4 runs" \
        "$work/until4.out" || { cat "$work/until4.out"; fail "--repeat does not cap --until-fail"; }
"$zonelab" run --repeat 0 tests/runner/sample >"$work/repeat0.out" 2>&1
[ $? -eq 2 ] || { cat "$work/repeat0.out"; fail "--repeat 0 is not a usage error"; }
step "--repeat and --until-fail"

"$zonelab" run --program "exec '$broken' --data-dir \"\$ZONELAB_WORK_DIR/data\"" \
    --report-dir "$work/report" scenarios/notify_flow.lua >"$work/broken.out" 2>&1
[ $? -eq 1 ] || { cat "$work/broken.out"; fail "the broken program passed the notify flow"; }
grep -q "get_callback_data must return the event stored under this notify_id" "$work/broken.out" &&
    grep -q 'actual: {"errcode":710660' "$work/broken.out" ||
    { cat "$work/broken.out"; fail "the broken program's failure is not explained"; }
step "a program that ignores the notify_id fails notify_flow.lua, and says why"

# scenario{}.programs and env (tests/runner/programs): bad settings stop the file at (setup)
# with a message naming the key; an extra program's crash, at setup or in a test, is reported
# with its last log lines, which show the environment it got. extra_crashes.lua starts the
# program given here as zone-model.
ZL_CHECK_PROGRAM=$broken "$zonelab" run --report-dir "$work/report" tests/runner/programs \
    >"$work/programs.out" 2>&1
[ $? -eq 1 ] || { cat "$work/programs.out"; fail "tests/runner/programs must fail"; }
expect() {
    grep -qF -- "$1" "$work/programs.out" || { cat "$work/programs.out"; fail "$2"; }
}
expect 'scenario{}.programs["zone-nope"] names no program of the world (its programs: '\
'zone-demo, zone-model)' \
    "an unknown program id in scenario{}.programs is not explained"
expect 'scenario{}.env.ZONELAB_X: names starting with ZONELAB_ are the emulator'"'"'s own' \
    "a ZONELAB_ name in scenario{}.env is not refused"
expect 'program zone-model/0 crashed (exit code 3); its last lines:' \
    "an extra program that exits at setup is not reported"
expect "dir=$(cd tests/runner/programs && pwd -P) n=42" \
    "env's {dir} is not the scenario's folder (or the integer is not passed)"
expect 'tests/runner/programs/extra_crashes.lua:13: program zone-model/0 crashed (signal 9)' \
    "an extra program's crash in a test does not fail the test"
grep -q "event stored as" "$work/report/tests_runner_programs_extra_crashes.lua.program.log" ||
    fail "the report's program log has no line of the extra program"
expect "4 tests: 0 passed, 1 failed, 3 errors" "tests/runner/programs: wrong counts"
step "scenario{}.programs and env: setup errors, an extra program's crash and environment"

# --set NAME=VALUE sets an option for every file, under the file's own; a bad one is a usage error
"$zonelab" run --set program_timeout_ms=4321 --set event_timeout_ms=1234 tests/runner/sets \
    >"$work/sets.out" 2>&1 || { cat "$work/sets.out"; fail "--set did not reach the emulator"; }
"$zonelab" run --set program_timeout_ms=0 tests/runner/sets >"$work/sets_bad.out" 2>&1
[ $? -eq 2 ] && grep -q 'program_timeout_ms' "$work/sets_bad.out" ||
    { cat "$work/sets_bad.out"; fail "a bad --set is not a usage error naming the option"; }
# --var NAME=VALUE reaches the scenario as vars.NAME; a malformed one is a usage error
"$zonelab" run --var lang=python --var empty= --var expr=a=b tests/runner/vars \
    >"$work/vars.out" 2>&1 || { cat "$work/vars.out"; fail "--var did not reach vars"; }
"$zonelab" run --var lang=c tests/runner/vars >"$work/vars_c.out" 2>&1
[ $? -eq 1 ] && grep -q 'expected "python", got "c"' "$work/vars_c.out" ||
    { cat "$work/vars_c.out"; fail "vars.lang does not follow --var"; }
"$zonelab" run --var 1x=2 tests/runner/vars >"$work/vars_bad.out" 2>&1
[ $? -eq 2 ] && grep -q "bad or incomplete option '--var'" "$work/vars_bad.out" ||
    { cat "$work/vars_bad.out"; fail "a malformed --var is not a usage error"; }
step "--var NAME=VALUE: vars in the scenario, malformed ones refused"

# tests/runner/sandbox: require() of the root's lib/ (not run as scenarios), the lock on the
# prelude's globals, the old verb names as aliases, a failed load with its traceback
"$zonelab" run --report-dir "$work/report" tests/runner/sandbox >"$work/sandbox.out" 2>&1
[ $? -eq 1 ] || { cat "$work/sandbox.out"; fail "tests/runner/sandbox must fail (lock_load.lua)"; }
grep -q "10 tests: 9 passed, 0 failed, 1 error, 0 skipped (5 files" "$work/sandbox.out" ||
    { cat "$work/sandbox.out"; fail "tests/runner/sandbox: wrong counts (or lib/ was run)"; }
grep -q "^ok   tests/runner/sandbox/aliases.lua (2 tests" "$work/sandbox.out" ||
    { cat "$work/sandbox.out"; fail "an old verb name no longer works"; }
grep -q "^ok   tests/runner/sandbox/require.lua (4 tests" "$work/sandbox.out" &&
    grep -q "^ok   tests/runner/sandbox/lock.lua (2 tests" "$work/sandbox.out" ||
    { cat "$work/sandbox.out"; fail "require() or the lock misbehaves"; }
grep -q "tests/runner/sandbox/lock_load.lua:4: cannot assign to call: the name is zonelab's" \
    "$work/sandbox.out" && grep -A3 "lock_load.lua:4: cannot assign" "$work/sandbox.out" |
    grep -q "stack traceback:" ||
    { cat "$work/sandbox.out"; fail "replacing a verb at load is not refused with a traceback"; }
(cd "$work" && "$zonelab" run --report-dir "$work/report" "$src/tests/runner/sandbox/sub/single.lua") \
    >"$work/single.out" 2>&1 || { cat "$work/single.out"; fail "a single file does not find its lib/"; }
step "require() and lib/, the locked globals, the old verb names, a single file's lib/"

# A file's process reports before it stops its programs; what goes wrong after that (here it
# is killed while a program that ignores SIGTERM holds up the stop) still fails the run
cat >"$work/sigterm_deaf.lua" <<'LUA'
scenario { world = "default" }
test("nothing", function() end)
LUA
prog='exec python3 -c "import os,signal,socket; signal.signal(signal.SIGTERM, signal.SIG_IGN); s = socket.socket(); s.bind((\"127.0.0.1\", int(os.environ[\"ZONELAB_PORT\"]))); s.listen(); signal.pause()  # zl-sigterm-deaf-program"'
"$zonelab" run --program "$prog" "$work/sigterm_deaf.lua" >"$work/sigterm_deaf.out" 2>&1 &
runner=$!
i=0
while ! grep -q "^ok " "$work/sigterm_deaf.out" && [ $i -lt 400 ]; do
    sleep 0.05
    i=$((i + 1))
done
child=$(pgrep -P "$runner" zonelab)
[ -n "$child" ] || { cat "$work/sigterm_deaf.out"; pkill -KILL -f zl-sigterm-deaf-program; fail "no file process after the report"; }
kill -KILL $child
wait $runner
rc=$?
pkill -KILL -f zl-sigterm-deaf-program
[ $rc -eq 1 ] && grep -q "sigterm_deaf.lua: the file's process ended with signal 9 after it reported" \
    "$work/sigterm_deaf.out" && grep -q "1 passed, 0 failed, 1 error" "$work/sigterm_deaf.out" ||
    { cat "$work/sigterm_deaf.out"; fail "a file's process that dies after its report is not an error"; }
step "a file reports before its teardown; a teardown that fails is an error"
