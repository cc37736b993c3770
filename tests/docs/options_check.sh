#!/bin/bash
# options_check: the options table of the code (emulator/src/emu/options.c) against the docs.
#
#   options_check.sh ZONELAB SOURCE_DIR
#
# Fails when
# - docs/emulator.md's generated section (between "<!-- zonelab options: begin -->" and
#   "<!-- zonelab options: end -->") differs from what `zonelab options` prints: after
#   changing the table, replace the section with that output;
# - a page of docs/ names an option that the table does not have, as "option `NAME`" or
#   "options `A`, `B` and `C`": a switch that is named but cannot be reached;
# - an option of the table is named that way nowhere in docs/emulator.md outside the
#   generated section: a switch whose behaviour no row of the docs describes;
# - a page still names a switch as `opt.NAME` (the fields' old names).
set -eu -o pipefail
ZONELAB=$1
SRC=$2
DOC=$SRC/docs/emulator.md
BEGIN='<!-- zonelab options: begin -->'
END='<!-- zonelab options: end -->'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
fail() { echo "options_check: FAIL: $*" >&2; status=1; }

"$ZONELAB" options >"$tmp/table.md"
"$ZONELAB" options --json | jq -r '.options[].name' | sort >"$tmp/names"
[ -s "$tmp/names" ] || { echo "options_check: zonelab options --json lists nothing" >&2; exit 1; }

# 1. the generated section is the command's output, byte for byte
awk -v b="$BEGIN" -v e="$END" '$0 == e { inside = 0 } inside { print } $0 == b { inside = 1 }' \
    "$DOC" >"$tmp/section.md"
grep -qxF "$BEGIN" "$DOC" && grep -qxF "$END" "$DOC" || fail "docs/emulator.md lacks the markers $BEGIN and $END"
if ! diff -u "$tmp/section.md" "$tmp/table.md" >"$tmp/diff"; then
    cat "$tmp/diff" >&2
    fail "docs/emulator.md's generated section differs from \`zonelab options\` (above: - docs, + code)"
fi

# The names a text gives as "option `a`" or "options `a`, `b` and `c`", one per line.
named() {
    grep -oE 'options? `[a-z0-9_.]+`((, | and | or )`[a-z0-9_.]+`)*' "$@" |
        grep -oE '`[a-z0-9_.]+`' | tr -d '`' | sort -u || true
}

# 2. every option a page names exists
for page in "$SRC"/docs/*.md; do
    if [ "$page" = "$DOC" ]; then
        awk -v b="$BEGIN" -v e="$END" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' \
            "$DOC" >"$tmp/page"
    else
        cp "$page" "$tmp/page"
    fi
    named "$tmp/page" >"$tmp/named"
    comm -23 "$tmp/named" "$tmp/names" | while read -r n; do
        fail "docs/$(basename "$page") names option \`$n\`, which the table does not have"
        echo x >>"$tmp/bad"
    done
    if grep -nE '`opt\.[a-z_.]+`' "$page" >"$tmp/old"; then
        sed "s|^|docs/$(basename "$page"):|" "$tmp/old" >&2
        fail "docs/$(basename "$page") names switches as \`opt.NAME\`: write option \`NAME\`"
    fi
done
[ -e "$tmp/bad" ] && status=1

# 3. every option is described outside the generated section of docs/emulator.md
awk -v b="$BEGIN" -v e="$END" '$0 == b { skip = 1 } !skip { print } $0 == e { skip = 0 }' "$DOC" |
    named >"$tmp/described"
comm -23 "$tmp/names" "$tmp/described" >"$tmp/undescribed"
while read -r n; do
    fail "option \`$n\` is named nowhere in docs/emulator.md outside the generated table (write option \`$n\` where its behaviour is described)"
done <"$tmp/undescribed"

[ "$status" = 0 ] && echo "options_check: $(wc -l <"$tmp/names") options, docs agree"
exit "$status"
