#!/bin/bash
# conventions.sh ZONELAB SRC WORK: what a terminal user expects of zonelab: --version with the
# WeCom pages' dates, bash and zsh completion and the man page written from the command table,
# run's --quiet/--verbose, colour only on a terminal and never with NO_COLOR, the progress
# line on a terminal naming the slowest file running, and serve's while a big world loads.
set -u
zonelab=$1
src=$2
work=$3
fail() { echo "conventions: FAIL: $*" >&2; exit 1; }
step() { echo "conventions: $*"; }
rm -rf "$work"
mkdir -p "$work"
cd "$src" || fail "no source folder"

"$zonelab" --version >"$work/version" || fail "--version failed"
head -1 "$work/version" | grep -qE '^zonelab [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version: $(head -1 "$work/version")"
grep -qE '^follows [0-9]+ WeCom pages .* from 20[0-9-]{8} to 20[0-9-]{8}$' "$work/version" ||
    fail "--version names no page dates: $(cat "$work/version")"
pages=$(sed -n 's/^follows \([0-9]*\) WeCom.*/\1/p' "$work/version")
"$zonelab" --version --docs >"$work/docs" || fail "--version --docs failed"
[ "$(grep -cE '^  20[0-9]{2}-[0-9]{2}-[0-9]{2}  doc [0-9]+ ' "$work/docs")" -eq "$pages" ] ||
    fail "--version --docs does not list the $pages pages"
grep -q "doc 53341 .*sync_msg" "$work/docs" || fail "--version --docs lacks the sync_msg page"
"$zonelab" --version --nope >/dev/null 2>&1
[ $? -eq 2 ] || fail "--version with a stray flag must be a usage error"
step "--version: $pages pages with their dates"

"$zonelab" completion bash >"$work/zonelab.bash" || fail "completion bash failed"
complete_bash() {
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _zonelab
             echo "${COMPREPLY[*]}"' _ "$work/zonelab.bash" "$@"
}
[ "$(complete_bash zonelab se)" = serve ] || fail "bash: 'zonelab se' gives '$(complete_bash zonelab se)'"
[ "$(complete_bash zonelab run --sh)" = --shard ] || fail "bash: run --sh"
[ "$(complete_bash zonelab report '')" = "merge --help" ] || fail "bash: report's own commands"
[ "$(complete_bash zonelab report merge --j)" = --junit ] || fail "bash: report merge --j"
[ -z "$(complete_bash zonelab run scen)" ] || fail "bash: a file name must fall back to files"
for c in $("$zonelab" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
    grep -q "^        $c)$" "$work/zonelab.bash" || fail "bash completion lacks the command $c"
done
step "bash completion: commands, their own commands, flags"

"$zonelab" completion zsh >"$work/_zonelab" || fail "completion zsh failed"
zsh -n "$work/_zonelab" || fail "the zsh completion does not parse"
got=$(zsh -f -c '
    compdef() { :; }
    compadd() { print -r -- "compadd $*"; }
    _describe() { print -r -- "describe ${(j: :)${(P)${4}}[1,2]}"; }
    _files() { print files; }
    source "$1"
    words=(zonelab run --sh); CURRENT=3; PREFIX=--sh; _zonelab
    words=(zonelab report ""); CURRENT=3; PREFIX=""; _zonelab
    words=(zonelab run scen); CURRENT=3; PREFIX=scen; _zonelab
    words=(zonelab ""); CURRENT=2; PREFIX=""; _zonelab' _ "$work/_zonelab")
echo "$got" | grep -q -- "^compadd -- --jobs --shard " || fail "zsh: run's flags: $got"
echo "$got" | grep -qx -- "compadd -- merge" || fail "zsh: report's own commands: $got"
echo "$got" | grep -qx files || fail "zsh: a file name must fall back to files: $got"
echo "$got" | grep -q "^describe crypto:WXBizMsgCrypt" || fail "zsh: commands with summaries: $got"
step "zsh completion parses; flags, own commands, files, described commands"

"$zonelab" man >"$work/zonelab.1" || fail "man failed"
head -1 "$work/zonelab.1" | grep -q '^\.TH ZONELAB 1 ' || fail "man: no .TH line"
groff -man -Tutf8 -ww -z "$work/zonelab.1" 2>"$work/groff.err" || fail "groff failed"
[ ! -s "$work/groff.err" ] || { cat "$work/groff.err"; fail "groff warns about the man page"; }
for c in $("$zonelab" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
    grep -qx ".SS zonelab $c" "$work/zonelab.1" || fail "the man page lacks zonelab $c"
done
groff -man -Tutf8 "$work/zonelab.1" 2>/dev/null | grep -q -- "--durations FILE" ||
    fail "the man page lacks run's flags"
step "man page: every command, no groff warning"

files="scenarios/clock_limits.lua scenarios/json_bodies_strict.lua"
"$zonelab" run --quiet $files >"$work/quiet.out" 2>&1 || fail "run --quiet failed"
[ "$(wc -l <"$work/quiet.out")" -eq 1 ] && grep -q "^6 tests: 6 passed" "$work/quiet.out" ||
    { cat "$work/quiet.out"; fail "--quiet prints more than the summary when all passed"; }
"$zonelab" run --verbose $files >"$work/verbose.out" 2>&1 || fail "run --verbose failed"
[ "$(grep -c '^  ok   ' "$work/verbose.out")" -eq 6 ] ||
    { cat "$work/verbose.out"; fail "--verbose does not print each test"; }
"$zonelab" run --quiet tests/runner/sample >"$work/quiet-fail.out" 2>&1
grep -q "^FAIL tests/runner/sample/fails.lua" "$work/quiet-fail.out" &&
    ! grep -q "^ok " "$work/quiet-fail.out" || { cat "$work/quiet-fail.out"; fail "--quiet must print failed files only"; }
! grep -q $'\033' "$work/verbose.out" || fail "colour in a pipe"
step "run --quiet and --verbose; no colour in a pipe"

# a terminal: script(1) gives the run one
script -qfec "$zonelab run -j 2 $files" /dev/null >"$work/tty.out" 2>&1 || fail "run on a tty failed"
grep -q $'\033\\[32mok' "$work/tty.out" || fail "no colour on a terminal"
grep -qE '\[[0-9]+/2\] [0-9]+ running, slowest scenarios/[a-z_]+\.lua \([0-9]+ s\)' "$work/tty.out" ||
    { cat -v "$work/tty.out"; fail "no progress line naming the slowest file"; }
NO_COLOR=1 script -qfec "$zonelab run $files" /dev/null >"$work/nocolor.out" 2>&1 || fail "NO_COLOR run failed"
! grep -q $'\033\\[3[12]m' "$work/nocolor.out" || fail "colour despite NO_COLOR"
step "a terminal: colour, progress with the slowest file; NO_COLOR honoured"
# serve loading a big world (16 MiB and more) on a terminal: a progress line, then the time.
# An unknown option in the world stops serve right after the load, so nothing keeps running.
python3 - "$src/fixtures/worlds/default.json" "$work/big.json" <<'PY'
import copy, json, sys
w = json.load(open(sys.argv[1]))
corp = w["corps"][0]
m = corp["messages"][0]
corp["messages"] = []
for i in range(90000):
    n = copy.deepcopy(m)
    n["msgid"] = "big_%06d" % i
    n["content"] = {"content": "a message of a big world, number %d, padded with some text" % i}
    corp["messages"].append(n)
w["options"] = {"no_such_option": 1}
json.dump(w, open(sys.argv[2], "w"))
PY
[ "$(stat -c %s "$work/big.json")" -ge 16777216 ] || fail "the big world is under 16 MiB"
script -qfec "$zonelab serve --world $work/big.json --port 0" /dev/null >"$work/big.out" 2>&1
grep -q "loading $work/big.json ([0-9]* MB): [0-9.]* s" "$work/big.out" ||
    { cat -v "$work/big.out"; fail "no progress line while loading a big world"; }
grep -q "loaded $work/big.json ([0-9]* MB) in [0-9.]* s" "$work/big.out" ||
    { cat -v "$work/big.out"; fail "no line saying the big world loaded"; }
"$zonelab" serve --world "$work/big.json" --port 0 >"$work/big-pipe.out" 2>&1
! grep -q "loading" "$work/big-pipe.out" || fail "progress in a pipe"
step "serve: progress while a big world loads, on a terminal only"
# explore on a terminal: the runs so far; in a pipe, nothing but the report
script -qfec "$zonelab explore --runs 2 --seed 1 --out $work/explore" /dev/null >"$work/explore.out" 2>&1 ||
    { cat -v "$work/explore.out"; fail "explore on a terminal failed"; }
grep -q "exploring: 0 of 2 runs" "$work/explore.out" || { cat -v "$work/explore.out"; fail "explore shows no progress"; }
"$zonelab" explore --runs 2 --seed 1 --out "$work/explore" >"$work/explore-pipe.out" 2>&1 || fail "explore in a pipe failed"
! grep -q "exploring:" "$work/explore-pipe.out" || fail "explore's progress in a pipe"
step "explore: progress on a terminal only"
echo "conventions: PASS"
