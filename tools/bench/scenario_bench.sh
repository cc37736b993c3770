#!/bin/sh
# scenario_bench.sh [ZONELAB] [N]: the scenario suite's wall time with -j 2, and the
# per-scenario overhead: N files whose one test does nothing (so all that is timed is a
# fresh emulator, zone-demo starting and listening, and both stopping), run one at a time,
# with the CPU time they took; three runs, the median printed first (this machine is
# shared: one run can land on a busy second). Prints figures; asserts nothing. Default ZONELAB:
# build/release/emulator/zonelab.
set -eu
zonelab=${1:-build/release/emulator/zonelab}
n=${2:-20}
[ -x "$zonelab" ] || { echo "scenario_bench: build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
# cpu CMD...: runs CMD and prints the user + system seconds of its processes (CMD and every
# process it waited for), from the shell's `times` in a subshell that ran only CMD.
cpu() {
    ( "$@" >"$tmp/cpu.out" 2>&1; times ) | awk 'NR == 2 {
        split($1, u, "m"); split($2, s, "m"); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }'
}

t0=$(now)
"$zonelab" run -j 2 scenarios >"$tmp/suite.out" 2>&1 || true
t1=$(now)
files=$(sed -n 's/.*(\([0-9]*\) files, -j 2).*/\1/p' "$tmp/suite.out")
echo "suite: $(tail -1 "$tmp/suite.out")"
echo "suite wall time with -j 2: $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s for ${files:-?} files"
echo "slowest files: $(sed -n 's/^[a-zA-Z ]*\(scenarios\/[^ ]*\) (.*, \([0-9.]*\) s)$/\2 \1/p' "$tmp/suite.out" |
    sort -rn | head -3 | awk '{ printf "%s%s %s s", (NR > 1 ? ", " : ""), $2, $1 }')"

mkdir "$tmp/empty"
i=0
while [ "$i" -lt "$n" ]; do
    printf 'scenario {}\ntest("nothing", function() end)\n' >"$tmp/empty/e$i.lua"
    i=$((i + 1))
done
runs=""
for r in 1 2 3; do
    t0=$(now)
    c=$(cpu "$zonelab" run -j 1 "$tmp/empty")
    t1=$(now)
    runs="$runs$(awk "BEGIN{printf \"%.1f %.1f\", ($t1 - $t0) * 1000 / $n, $c * 1000 / $n}")
"
done
# the run of the median wall time, and all three
med=$(printf '%s' "$runs" | sort -n | sed -n 2p)
all=$(printf '%s' "$runs" | awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $1 }')
echo "per-scenario overhead (emulator + zone-demo start and stop), $n files, -j 1:" \
    "${med% *} ms each;" \
    "CPU ${med#* } ms each (user + system, all processes); median of 3 runs ($all ms)"
t0=$(now)
"$zonelab" run -j 2 "$tmp/empty" >"$tmp/empty.out" 2>&1
t1=$(now)
echo "the same $n files with -j 2: $(awk "BEGIN{printf \"%.1f\", ($t1 - $t0) * 1000 / $n}") ms each"
