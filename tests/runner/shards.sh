#!/bin/sh
# shards.sh ZONELAB SRC WORK: the scenario suite as CI systems shard it. Two GitLab-style
# shards (CI_NODE_INDEX/CI_NODE_TOTAL, --shard auto) run at once, -j 2 each, so four files
# contend for the machine as on a loaded runner; `zonelab report merge` joins their JUnit
# reports, which must hold every file of the suite once. Then four Kubernetes-style shards
# (JOB_COMPLETION_INDEX/ZONELAB_SHARD_TOTAL) balanced by those durations (--durations,
# --list): again every file once, and no shard longer than another by more than the longest
# file.
set -u
zonelab=$1
src=$2
work=$3
fail() { echo "shards: FAIL: $*" >&2; exit 1; }
step() { echo "shards: $*"; }
rm -rf "$work"
mkdir -p "$work"
cd "$src" || fail "no source folder"

"$zonelab" run --list scenarios | sort >"$work/all.list" || fail "run --list failed"
total=$(wc -l <"$work/all.list")
[ "$total" -gt 10 ] || fail "run --list found only $total files"

for i in 1 2; do
    CI_NODE_INDEX=$i CI_NODE_TOTAL=2 ASAN_OPTIONS=detect_leaks=1 "$zonelab" run --shard auto \
        -j 2 --junit "$work/gitlab-$i.xml" --report-dir "$work/report-$i" scenarios \
        >"$work/gitlab-$i.out" 2>&1 &
    eval "pid$i=\$!"
done
wait "$pid1"; rc1=$?
wait "$pid2"; rc2=$?
[ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] ||
    { cat "$work/gitlab-1.out" "$work/gitlab-2.out"; fail "a shard failed ($rc1, $rc2)"; }
step "2 GitLab shards passed"

"$zonelab" report merge --junit "$work/merged.xml" "$work/gitlab-1.xml" "$work/gitlab-2.xml" \
    >"$work/merged.out" 2>&1 || { cat "$work/merged.out"; fail "report merge failed"; }
sed -n 's/^ok   \([^ ]*\) (.*/\1/p' "$work/merged.out" | sort >"$work/merged.list"
cmp -s "$work/all.list" "$work/merged.list" ||
    { diff "$work/all.list" "$work/merged.list"; fail "the merged report is not the suite, once each"; }
grep -q "($total file runs from 2 reports;" "$work/merged.out" || fail "merge summary: $(tail -1 "$work/merged.out")"
xmllint --noout --schema tests/runner/junit.xsd "$work/merged.xml" || fail "merged JUnit does not validate"
step "merged: $total files once each; the JUnit validates"

"$zonelab" report merge "$work/gitlab-1.xml" "$work/gitlab-1.xml" >/dev/null 2>"$work/overlap.err"
[ $? -eq 2 ] || fail "merging a report with itself must say the shards overlap (exit 2)"
grep -q "the shards overlap" "$work/overlap.err" || fail "no overlap message: $(cat "$work/overlap.err")"
step "overlapping shards refused"

: >"$work/k8s.list"
: >"$work/loads"
for i in 0 1 2 3; do
    JOB_COMPLETION_INDEX=$i ZONELAB_SHARD_TOTAL=4 "$zonelab" run --shard auto \
        --durations "$work/merged.xml" --list scenarios >"$work/k8s-$i.list" ||
        fail "k8s shard $i --list failed"
    cat "$work/k8s-$i.list" >>"$work/k8s.list"
    # this shard's seconds, from the merged text report's "(N tests, S s)"
    awk 'NR==FNR { want[$0] = 1; next }
         /^ok   / { f = $2; s = $(NF-1); if (f in want) t += s }
         END { printf "%.3f\n", t }' "$work/k8s-$i.list" "$work/merged.out" >>"$work/loads"
done
sort "$work/k8s.list" | cmp -s - "$work/all.list" ||
    { sort "$work/k8s.list" | diff "$work/all.list" -; fail "k8s shards are not the suite, once each"; }
longest=$(sed -n 's/^ok   .* \([0-9.]*\) s)$/\1/p' "$work/merged.out" | sort -n | tail -1)
sort -n "$work/loads" | awk -v L="$longest" 'NR == 1 { min = $1 } { max = $1 }
    END { if (max - min > L + 0.001) { printf "loads %s..%s differ by more than %s\n", min, max, L; exit 1 } }' ||
    fail "durations did not balance the shards: $(tr '\n' ' ' <"$work/loads")"
step "4 Kubernetes shards by durations: every file once; loads $(tr '\n' ' ' <"$work/loads")(longest file $longest s)"

JOB_COMPLETION_INDEX=0 "$zonelab" run --shard auto --list scenarios >/dev/null 2>"$work/nototal.err"
[ $? -eq 2 ] && grep -q ZONELAB_SHARD_TOTAL "$work/nototal.err" || fail "JOB_COMPLETION_INDEX without a total must be refused"
"$zonelab" run --shard 5/4 --list scenarios >/dev/null 2>&1
[ $? -eq 2 ] || fail "--shard 5/4 must be refused"
CI_NODE_INDEX=9 CI_NODE_TOTAL=99 "$zonelab" run --shard auto scenarios/clock_limits.lua >"$work/empty.out" 2>&1 ||
    fail "an empty shard must pass"
grep -q "no scenario files" "$work/empty.out" || fail "an empty shard says nothing"
step "bad shards refused; an empty shard passes"
echo "shards: PASS"
