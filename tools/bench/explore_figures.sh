#!/usr/bin/env bash
# explore_figures: how long `zonelab explore --budget 60` takes to find each planted bug of
# zone-demo (the test build's zone-demo-<plant>), what it shrinks to, and what the real
# zone-demo gives in the same budget. Prints one line per program; docs/explore.md quotes them.
# usage: tools/bench/explore_figures.sh [BUILD_DIR] [SEEDS...]   (default build/dev, seed 1)
#        PLANTS="empty-cursor none" tools/bench/explore_figures.sh ...   (only those programs)
set -u
build=${1:-build/dev}
shift || true
seeds=${*:-1}
zonelab=$build/emulator/zonelab
bin=$build/program-under-test
props=$(dirname "$0")/../../tests/explore/digest_once.lua
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for seed in $seeds; do
    for plant in ${PLANTS:-events-in-memory cursor-not-saved unchecked-type empty-cursor none}; do
        exe=$bin/zone-demo-$plant
        [ "$plant" = none ] && exe=$bin/zone-demo
        start=$(date +%s.%N)
        "$zonelab" explore --budget 60 --seed "$seed" --json --properties "$props" \
            --program "exec '$exe' --data-dir \"\$ZONELAB_WORK_DIR/data\"" \
            --out "$work/out" >"$work/report.json" 2>"$work/err.txt"
        rc=$?
        total=$(echo "$(date +%s.%N) - $start" | bc)
        python3 - "$plant" "$seed" "$rc" "$total" "$work/report.json" <<'PY'
import json, sys
plant, seed, rc, total, path = sys.argv[1:]
try:
    r = json.load(open(path))
except ValueError:
    print(f"{plant}: seed {seed}: exit {rc}, no report")
    sys.exit(0)
v = r.get("violation")
if v:
    print(f"{plant}: seed {seed}: exit {rc}; {v['property']} broken by run {v['run']} after "
          f"{v['found_after_s']:.1f} s ({r['runs']} runs); shrunk from {v['original_actions']} "
          f"to {v['actions']} actions, {v['replicas']} replica(s), in {v['shrink_runs']} runs; "
          f"{float(total):.1f} s in all")
else:
    print(f"{plant}: seed {seed}: exit {rc}; {r['runs']} runs, no property broken; "
          f"{float(total):.1f} s in all")
PY
    done
done
