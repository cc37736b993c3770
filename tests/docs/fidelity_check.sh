#!/usr/bin/env bash
# docs/fidelity.md against the code: every SDK API name the emulator's registry serves has a
# row; each row's file (the first path in "where", under emulator/src/) exists and holds the
# name's registry entry; each scenario a row names exists under scenarios/. Exit 1 on a miss.
set -euo pipefail
root=${1:?usage: fidelity_check.sh REPO_ROOT}
doc=$root/docs/fidelity.md src=$root/emulator/src
bad=0
miss() {
  echo "fidelity_check: $*"
  bad=1
}
rows=0
while IFS='|' read -r _ api status where scen _; do
  api=$(sed -E 's/^ *`([^`]*)`.*/\1/' <<<"$api")
  [[ $api == API || $api == --* || -z $api ]] && continue
  rows=$((rows + 1))
  file=$(grep -oE '`[a-z_]+/[a-z_]+\.c`' <<<"$where" | head -1 | tr -d '`' || true)
  if [[ $status == *served* ]]; then
    if [[ -z $file || ! -f $src/$file ]]; then
      miss "$api: 'where' names no file of emulator/src ($where)"
    elif ! grep -q "{\"$api\"," "$src/$file"; then
      miss "$api: $file has no registry entry {\"$api\", ...}"
    fi
  fi
  for s in $(grep -oE '[a-z0-9_]+\.lua' <<<"$scen" || true); do
    [[ -n $(find "$root/scenarios" -name "$s" -print -quit) ]] || miss "$api: no scenario $s"
  done
done < <(grep '^| `' "$doc")
for api in $(grep -hoE '^ *\{"[a-z_]+", api_' "$src"/api/*.c | sed -E 's/^ *\{"([a-z_]+)".*/\1/' | sort -u); do
  grep -q "^| \`$api\` |" "$doc" || miss "$api is served but has no row in docs/fidelity.md"
done
((bad)) && exit 1
echo "fidelity_check: $rows rows agree with the registry and the scenarios"
