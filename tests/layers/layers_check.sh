#!/usr/bin/env bash
# Every #include "<layer>/..." in emulator/src/<layer>/ names the same layer or a lower one
# (docs/architecture.md: core < wecom < emu < api < faces < scenario < cli), and every
# emulator header is included by its layer path. Prints each violation; exit 1 if any.
set -euo pipefail
src=${1:?usage: layers_check.sh EMULATOR_SRC}
layers=(core wecom emu api faces scenario cli)
rank() {
  local i
  for i in "${!layers[@]}"; do [[ ${layers[$i]} == "$1" ]] && { echo "$i"; return; }; done
  echo -1
}
bad=0
for layer in "${layers[@]}"; do
  mine=$(rank "$layer")
  for f in "$src/$layer"/*.[ch]; do
    while IFS=: read -r line text; do
      inc=$(sed -n 's/^#include "\([^"]*\)".*/\1/p' <<<"$text")
      case $inc in
      */*)
        theirs=$(rank "${inc%%/*}")
        if ((theirs < 0)); then
          echo "${f#"$src"/}:$line: $inc is in no layer"
          bad=1
        elif ((theirs > mine)); then
          echo "${f#"$src"/}:$line: $layer includes $inc, a higher layer"
          bad=1
        fi
        ;;
      *)
        if [[ -e $src/$layer/$inc ]] || compgen -G "$src/*/$inc" >/dev/null; then
          echo "${f#"$src"/}:$line: include \"$inc\" by its layer path (\"<layer>/$inc\")"
          bad=1
        fi
        ;;
      esac
    done < <(grep -n '^#include "' "$f" || true)
  done
done
if ((bad)); then
  echo "layers_check: FAILED"
  exit 1
fi
echo "layers_check: every include names its own layer or a lower one (${layers[*]})"
