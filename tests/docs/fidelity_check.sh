#!/usr/bin/env bash
# docs/fidelity.md against the code, table by table (each under its "## " heading):
# - SDK APIs: every name the emulator's registry serves has a row; a served row's file (the
#   first path in "where", under emulator/src/) holds the name's registry entry; the count
#   sentence ("N of M names served") is right;
# - App face endpoints: every /cgi-bin/chatdata/ endpoint and retired name of faces/app_api.c,
#   every /cgi-bin/service/ endpoint of faces/suite_api.c and every other /cgi-bin/ route has
#   a row, and each row's file names it;
# - Events: every event type the emulator sends has a row, and each row's file names it;
# - SDK classes and methods: every function of zone_sdk.h, method and macro of cpp_sdk.h,
#   public name of the Python package and public method of the Java classes is in its
#   language's column, and every name a column gives exists in that language's files;
# - every row of those tables gives a vendor doc id or "unknown", and every doc id they cite
#   is in the table "WeCom's pages"; every scenario a row names exists under scenarios/.
# Exit 1 on a miss.
set -euo pipefail
root=${1:?usage: fidelity_check.sh REPO_ROOT}
doc=$root/docs/fidelity.md src=$root/emulator/src sdk=$root/sdk-fake
bad=0
miss() {
  echo "fidelity_check: $*"
  bad=1
}
# rows TITLE: the table rows of the section "## TITLE" whose first cell starts with a backtick;
# all_rows TITLE: every row but the header and the rule
rows() { awk -v h="## $1" '$0 == h { on = 1; next } /^## / { on = 0 } on && /^\| `/' "$doc"; }
all_rows() {
  awk -v h="## $1" '$0 == h { on = 1; next } /^## / { on = 0 } on && /^\| / && ++n > 2' "$doc"
}
# first_file CELL: the first `dir/file.c` a cell names
first_file() { grep -oE '`[a-z_]+/[a-z_]+\.c`' <<<"$1" | head -1 | tr -d '`' || true; }
# scenarios NAME CELL: each scenario the cell names exists
scenarios() {
  local s
  for s in $(grep -oE '[a-z0-9_]+\.lua' <<<"$2" || true); do
    [[ -n $(find "$root/scenarios" -name "$s" -print -quit) ]] || miss "$1: no scenario $s"
  done
}
# has_row TITLE NAME: the section's table has a row for NAME
has_row() { rows "$1" | grep -F -- "| \`$2\` |" >/dev/null; }
cited=""
# vendor_doc NAME CELL: a doc id or "unknown"; the ids are collected for the pages check
vendor_doc() {
  local ids
  ids=$(grep -oE '\b[0-9]{5}\b' <<<"$2" || true)
  [[ -n $ids || $2 == *unknown* ]] || miss "$1: no vendor doc id nor \"unknown\" ($2)"
  cited="$cited $ids"
}

# ---- SDK APIs ----
n_rows=0 n_served=0
while IFS='|' read -r _ api status where scen _; do
  api=$(sed -E 's/^ *`([^`]*)`.*/\1/' <<<"$api")
  n_rows=$((n_rows + 1))
  file=$(first_file "$where")
  if [[ $status == *served* ]]; then
    n_served=$((n_served + 1))
    if [[ -z $file || ! -f $src/$file ]]; then
      miss "$api: 'where' names no file of emulator/src ($where)"
    elif ! grep -q "{\"$api\"," "$src/$file"; then
      miss "$api: $file has no registry entry {\"$api\", ...}"
    fi
  fi
  scenarios "$api" "$scen"
done < <(rows "SDK APIs")
for api in $(grep -hoE '^ *\{"[a-z_]+", api_' "$src"/api/*.c | sed -E 's/^ *\{"([a-z_]+)".*/\1/' | sort -u); do
  has_row "SDK APIs" "$api" || miss "$api is served but has no row in docs/fidelity.md"
done
grep -q "^$n_served of $n_rows names served" "$doc" ||
  miss "the SDK APIs table has $n_served of $n_rows names served; the sentence after it says otherwise"

# ---- App face endpoints ----
while IFS='|' read -r _ name status where scen vdoc _; do
  name=$(sed -E 's/^ *`([^`]*)`.*/\1/' <<<"$name")
  file=$(first_file "$where")
  short=${name#chatdata/}
  short=${short#service/}
  [[ $name == */* ]] || short=/cgi-bin/$name
  if [[ -z $file || ! -f $src/$file ]]; then
    miss "endpoint $name: 'where' names no file of emulator/src ($where)"
  elif ! grep -qF "\"$short\"" "$src/$file"; then
    miss "endpoint $name: $file does not name \"$short\""
  fi
  scenarios "$name" "$scen"
  vendor_doc "endpoint $name" "$vdoc"
done < <(rows "App face endpoints")
for e in $(grep -oE '^ *\{"[a-z_0-9/]+", ep_' "$src/faces/app_api.c" | sed -E 's/^ *\{"([^"]+)".*/\1/') \
  $(sed -n '/retired\[\] = {/,/};/p' "$src/faces/app_api.c" | grep -oE '"[a-z_]+"' | tr -d '"'); do
  has_row "App face endpoints" "chatdata/$e" || miss "/cgi-bin/chatdata/$e has no row"
done
for e in $(grep -oE '^ *\{"[a-z_0-9/]+", (true|false), ep_' "$src/faces/suite_api.c" |
  sed -E 's/^ *\{"([^"]+)".*/\1/'); do
  has_row "App face endpoints" "service/$e" || miss "/cgi-bin/service/$e has no row"
done
for e in $(grep -ohE '"/cgi-bin/[a-z_]+"' "$src"/faces/*.c | tr -d '"' | sed 's|^/cgi-bin/||' | sort -u); do
  has_row "App face endpoints" "$e" || miss "/cgi-bin/$e has no row"
done

# ---- Events ----
while IFS='|' read -r _ name status where scen vdoc _; do
  name=$(sed -E 's/^ *`([^`]*)`.*/\1/' <<<"$name")
  file=$(first_file "$where")
  if [[ -z $file || ! -f $src/$file ]]; then
    miss "event $name: 'where' names no file of emulator/src ($where)"
  elif ! grep -qF "\"$name\"" "$src/$file"; then
    miss "event $name: $file does not name \"$name\""
  fi
  scenarios "$name" "$scen"
  vendor_doc "event $name" "$vdoc"
done < <(rows "Events")
# The event types the emulator sends: the literals on the lines that send them (the consent
# events pick theirs in a line of their own; "chat_archive_audit_approved" is their object's
# name, not a type).
for e in $(grep -hE 'zl_emu_app_event\(|zl_kb_send_event\(|send_to_authorised\(|"chat_archive_audit_approved_' \
  "$src"/api/*.c "$src"/emu/*.c | grep -oE '"[a-z]+(_[a-z]+)+"' | tr -d '"' | sort -u); do
  [[ $e == chat_archive_audit_approved ]] && continue
  has_row "Events" "$e" || miss "the emulator sends $e, which has no row"
done

# ---- SDK classes and methods ----
# names COLUMN: every name the column's cells give (the identifier before a "(", after a ".")
names() {
  all_rows "SDK classes and methods" | awk -F'|' -v c="$1" '{ print $(c + 1) }' |
    grep -oE '`[^`]+`' | tr -d '`' | sed -E 's/[( ].*//; s/.*\.//' | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' |
    sort -u || true
}
declare -A files=([2]="$sdk/include/cpp_sdk.h" [3]="$sdk/java/com/tencent/wework/*.java"
  [4]="$sdk/python/wwspecapisdk/__init__.py" [5]="$sdk/include/zone_sdk.h")
declare -A lang=([2]=C++ [3]=Java [4]=Python [5]=C)
declare -A code=(
  [2]=$(grep -oE '\b[A-Z][A-Za-z_]*\(' "$sdk/include/cpp_sdk.h" | tr -d '(' | sort -u)
  [3]=$(grep -ohE 'public [^(=]*\b[A-Za-z]+\(' "$sdk"/java/com/tencent/wework/*.java |
    grep -oE '[A-Za-z]+\($' | tr -d '(' | grep -vx run | sort -u)
  [4]=$({ grep -oE '^(def|class) [A-Za-z][A-Za-z_]*' "$sdk/python/wwspecapisdk/__init__.py" |
    awk '{print $2}'; grep -oE '^    def [a-z][a-z_]*' "$sdk/python/wwspecapisdk/__init__.py" |
    awk '{print $2}' | grep -vx method; } | sort -u)
  [5]=$(grep -oE 'ZONE_API [^(]*\bzone_[a-z_]+\(' "$sdk/include/zone_sdk.h" | grep -oE 'zone_[a-z_]+\($' |
    tr -d '(' | sort -u)
)
for c in 2 3 4 5; do
  have=$(names "$c")
  for n in ${code[$c]}; do
    grep -qx "$n" <<<"$have" || miss "${lang[$c]}: $n is in the SDK but not in its column"
  done
  for n in $have; do
    # shellcheck disable=SC2086 # the Java files are a glob
    grep -qw -- "$n" ${files[$c]} || miss "${lang[$c]}: the column names $n, which its files lack"
  done
done
while IFS='|' read -r _ what _ _ _ _ vdoc _; do
  vendor_doc "SDK: $what" "$vdoc"
done < <(all_rows "SDK classes and methods")

# ---- every doc id cited is in "WeCom's pages" ----
pages=$(all_rows "WeCom's pages" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }')
for id in $(tr ' ' '\n' <<<"$cited" | sort -u); do
  grep -qx "$id" <<<"$pages" || miss "doc $id is cited but not in the table of WeCom's pages"
done

((bad)) && exit 1
echo "fidelity_check: $n_rows SDK APIs, $(rows "App face endpoints" | wc -l) endpoints," \
  "$(rows Events | wc -l) events and the SDK's four languages agree with the code"
