#!/bin/bash
# docs_check: runs every ```sh block of docs/*.md, so that the docs cannot rot.
#
#   docs_check.sh ZONELAB_DIR ZONE_DEMO_DIR SOURCE_DIR WORK_DIR [VENDOR_SDK_DIR]
#
# Rules (docs/getting-started.md, "Writing docs"):
# - every line of a ```sh block is a command (backslash continuations allowed); output goes
#   in ```text or ```json blocks, which are not run;
# - each file's blocks run in order, in one bash (set -eu -o pipefail), from the source
#   folder, with zonelab and zone-demo on PATH, $WORK a fresh folder of the file's own and
#   $VENDOR_SDK the vendor stand-in; a block that fails fails the test;
# - before a file's first block, a fresh `zonelab serve` (default world, zone-demo as its
#   program) listens on 127.0.0.1:8900, with ZONELAB_URL set; it is stopped after the file;
# - a block right after the line `<!-- docs-test: server -->` starts a server itself: it runs
#   in the background in place of the one before (a file that begins with one gets no
#   default server), and the file's next blocks start once 127.0.0.1:8900 answers;
# - a block right after `<!-- docs-test: skip REASON -->` is not run; the test prints it with
#   its reason, so the exceptions stay visible;
# - `<!-- docs-test: file NAME -->` writes the next block (any language) to $WORK/NAME, and
#   `<!-- docs-test: cd work -->` runs the next sh block in $WORK instead of the source folder;
# - `<!-- docs-test: output -->` makes the next block (any language) the output the sh block
#   before it must print: each of its non-blank lines must be a line of that block's output
#   (stdout and stderr, or a server block's log), in the same order, others may come between;
#   `...` in a line stands for any text, as the pages abridge;
# - HOME is the file's $WORK, so `$HOME/.local` and the like stay inside the test.
# DOCS_PAGES="cli getting-started" (page names without .md) runs only those pages.
set -u
set -m # every background job gets its own process group: stopping a server stops its children
ZONELAB_DIR=$1
ZONE_DEMO_DIR=$2
SRC=$3
WORK_ROOT=$4
VENDOR_SDK=${5:-}
PORT=8900
URL=http://127.0.0.1:$PORT

export PATH="$ZONELAB_DIR:$ZONE_DEMO_DIR:$PATH"
rm -rf "$WORK_ROOT"
mkdir -p "$WORK_ROOT"
if [ -z "$VENDOR_SDK" ]; then # the vendor stand-in (tests/vendor-standin) plays the vendor
    VENDOR_SDK=$WORK_ROOT/vendor-sdk
    if ! { cmake -S "$SRC/tests/vendor-standin" -B "$WORK_ROOT/standin-build" \
        -DCMAKE_BUILD_TYPE=Release && cmake --build "$WORK_ROOT/standin-build" &&
        cmake --install "$WORK_ROOT/standin-build" --prefix "$VENDOR_SDK"; } \
        >"$WORK_ROOT/standin.log" 2>&1; then
        cat "$WORK_ROOT/standin.log" >&2
        echo "docs_check: cannot build the vendor stand-in" >&2
        exit 1
    fi
fi
export VENDOR_SDK

server_pid=""
stop_server() {
    local i
    if [ -n "$server_pid" ]; then
        kill -TERM -- "-$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=""
        # The job's shell can end before the zonelab it started has let the port go (it
        # stops its replicas first): wait until nothing answers there, at most 15 s.
        for i in $(seq 1 150); do
            port_free && return 0
            sleep 0.1
        done
    fi
}
trap stop_server EXIT

wait_ready() { # until the control face answers, at most 15 s
    local i
    for i in $(seq 1 150); do
        if curl -sf -o /dev/null "$URL/_zonelab/state"; then
            return 0
        fi
        sleep 0.1
    done
    echo "docs_check: nothing answers on $URL after 15 s" >&2
    return 1
}

port_free() {
    ! curl -s -o /dev/null --max-time 1 "$URL/" 2>/dev/null
}

start_default_server() { # $1: work folder
    zonelab serve --port "$PORT" \
        --program "exec zone-demo --data-dir '$1/zone-demo-data'" >"$1/serve.log" 2>&1 &
    server_pid=$!
    wait_ready
}

# shows EXPECTED OUTPUT: whether the non-blank lines of EXPECTED appear in OUTPUT in order
# (see the rules above); else prints the first line that does not, and 1.
shows() {
    awk '
        function fits(want, line,    parts, n, i, at) {
            sub(/[ \t]+$/, "", want); sub(/[ \t]+$/, "", line)
            n = split(want, parts, /\.\.\./)
            if (n == 1) return want == line
            if (substr(line, 1, length(parts[1])) != parts[1]) return 0
            line = substr(line, length(parts[1]) + 1)
            for (i = 2; i < n; i++) {
                if (parts[i] == "") continue
                if (!(at = index(line, parts[i]))) return 0
                line = substr(line, at + length(parts[i]))
            }
            return length(line) >= length(parts[n]) &&
                substr(line, length(line) - length(parts[n]) + 1) == parts[n]
        }
        NR == FNR { if ($0 ~ /[^ \t]/) want[++nw] = $0; next }
        { got[++ng] = $0 }
        END {
            j = 1
            for (i = 1; i <= nw; i++) {
                while (j <= ng && !fits(want[i], got[j])) j++
                if (j > ng) { print "no line of the output is: " want[i]; exit 1 }
                j++
            }
        }
    ' "$1" "$2"
}

# server_shows EXPECTED LOG: shows, given a server up to 15 s to print it (it answers before
# it is done printing its banner).
server_shows() {
    local i
    for i in $(seq 1 150); do
        shows "$1" "$2" >/dev/null && return 0
        sleep 0.1
    done
    shows "$1" "$2"
}

blocks=0
skipped=0
checked=0
failed=0
files=0
for doc in "$SRC"/docs/*.md; do
    name=$(basename "$doc" .md)
    if [ -n "${DOCS_PAGES:-}" ] && [[ " $DOCS_PAGES " != *" $name "* ]]; then
        continue
    fi
    # Split the file into its sh blocks: $dir/NNN.sh, with NNN.kind holding run|server|skip.
    dir="$WORK_ROOT/$name.blocks"
    mkdir -p "$dir"
    awk -v dir="$dir" '
        /^<!-- docs-test: server -->/ { mark = "server"; next }
        /^<!-- docs-test: cd work -->/ { mark = "work"; next }
        /^<!-- docs-test: skip/ { mark = "skip"; reason = $0; next }
        /^<!-- docs-test: file / { mark = "file"; fname = $4; next }
        /^<!-- docs-test: output -->/ { mark = "output"; next }
        /^```/ && inb { inb = 0; close(out); mark = ""; next }
        /^```/ && mark == "file" { n++; out = sprintf("%s/%03d.file", dir, n); inb = 1
            print fname > (out ".name"); close(out ".name"); printf "" > out; mark = ""; next }
        /^```/ && mark == "output" {
            if (last == "") { print FILENAME ":" FNR ": an output block with no sh block before it" > "/dev/stderr"; bad = 1 }
            out = (last == "" ? "/dev/null" : last ".expect"); inb = 1; printf "" > out; mark = ""; next }
        /^```sh[ \t]*$/ { n++; f = sprintf("%s/%03d", dir, n); out = f ".sh"; inb = 1; last = f
            print (mark == "" ? "run" : mark) > (f ".kind"); close(f ".kind")
            if (mark == "skip") { print reason > (f ".reason"); close(f ".reason") }
            printf "" > out; mark = ""; next }
        /^```/ { mark = ""; next }
        inb { print >> out; next }
        /[^ \t]/ { mark = "" }
        END { exit bad }
    ' "$doc" || exit 1
    ls "$dir"/*.sh >/dev/null 2>&1 || continue
    files=$((files + 1))
    work="$WORK_ROOT/$name"
    mkdir -p "$work"
    stop_server
    if ! port_free; then
        echo "docs_check: port $PORT is in use; stop what listens there" >&2
        exit 1
    fi
    if [ "$(cat "$(ls "$dir"/*.kind | head -1)")" != server ]; then
        if ! start_default_server "$work"; then
            cat "$work/serve.log" >&2
            exit 1
        fi
    fi
    for f in "$dir"/*.file; do # files the blocks use
        [ -e "$f" ] && cp "$f" "$work/$(cat "$f.name")"
    done
    for sh in "$dir"/*.sh; do
        base=${sh%.sh}
        kind=$(cat "$base.kind")
        where="docs/$name.md block $(basename "$base")"
        blocks=$((blocks + 1))
        case $kind in
        skip)
            skipped=$((skipped + 1))
            echo "skip $where: $(sed 's/^<!-- docs-test: skip *//; s/ *-->$//' "$base.reason")"
            continue
            ;;
        server)
            stop_server
            (cd "$SRC" && WORK="$work" HOME="$work" ZONELAB_URL="$URL" bash -eu "$sh" \
                >"$work/server.log" 2>&1) &
            server_pid=$!
            if ! wait_ready; then
                echo "FAIL $where: the server it starts did not answer" >&2
                cat "$work/server.log" >&2
                failed=$((failed + 1))
            elif [ -e "$base.expect" ] && ! why=$(server_shows "$base.expect" "$work/server.log"); then
                failed=$((failed + 1))
                echo "FAIL $where: the server's output is not what the page shows: $why"
                tail -n 30 "$work/server.log" | awk '{ print "    > " $0 }'
            else
                [ -e "$base.expect" ] && checked=$((checked + 1))
                echo "ok   $where (server)"
            fi
            continue
            ;;
        esac
        start=$(date +%s%N)
        cwd=$SRC
        [ "$kind" = work ] && cwd=$work
        if (cd "$cwd" && WORK="$work" HOME="$work" ZONELAB_URL="$URL" \
            timeout 600 bash -eu -o pipefail "$sh") >"$base.out" 2>&1; then
            if [ -e "$base.expect" ] && ! why=$(shows "$base.expect" "$base.out"); then
                failed=$((failed + 1))
                echo "FAIL $where: its output is not what the page shows: $why"
                sed 's/^/    | /' "$sh"
                echo "    output:"
                tail -n 30 "$base.out" | awk '{ print "    > " $0 }'
                continue
            fi
            [ -e "$base.expect" ] && checked=$((checked + 1))
            echo "ok   $where ($((($(date +%s%N) - start) / 1000000)) ms)"
        else
            failed=$((failed + 1))
            echo "FAIL $where:"
            sed 's/^/    | /' "$sh"
            echo "    output:"
            tail -n 30 "$base.out" | awk '{ print "    > " $0 }'
        fi
    done
    stop_server
done

echo "docs_check: $files files, $blocks blocks: $((blocks - skipped - failed)) ran" \
    "($checked with the output the page shows), $skipped skipped, $failed failed"
[ "$failed" -eq 0 ] && [ "$blocks" -gt 0 ]
