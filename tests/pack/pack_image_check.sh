#!/bin/bash
# pack_image_check.sh SRC WORK: tools/pack-image with the vendor stand-in. The tar holds
# exactly /app/start, zone-demo, the stand-in, the loader and the libraries ldd names, owned
# by root with mtime 0, and is the same bytes when built and packed again in another folder.
# Unpacked, zone-demo runs from it in a chroot: --help; /app/start alone takes port 8080 and
# /tmp/zone-demo; on a free port, GET /healthz and a POST answered by the stand-in, from
# outside over loopback.
# WORK keeps the stand-in and the two Release builds between runs; the rest is made afresh.
set -u
src=$1
work=$2
fail() {
    echo "pack_image_check: FAIL: $*" >&2
    exit 1
}
step() { echo "pack_image_check: $*"; }

# chroot needs root; as another user, root in a user namespace does (the network is shared).
if [ "$(id -u)" -ne 0 ]; then
    if [ -z "${PACK_CHECK_IN_USERNS:-}" ] && unshare --map-root-user true 2>/dev/null; then
        step "not root: going on as root in a user namespace (unshare --map-root-user)"
        PACK_CHECK_IN_USERNS=1 exec unshare --map-root-user bash "$0" "$@"
    fi
    fail "needs root to chroot into the image (CI runs as root);" \
        "'unshare --map-root-user' does not work here either"
fi

mkdir -p "$work"
work=$(cd "$work" && pwd)
root=$work/root
rm -rf "$root" "$work"/image*.tar "$work"/*.out
server=""
trap 'if [ -n "$server" ]; then kill -KILL "$server" 2>/dev/null; fi' EXIT

step "building the stand-in"
{ cmake -S "$src/tests/vendor-standin" -B "$work/standin-build" -DCMAKE_BUILD_TYPE=Release &&
    cmake --build "$work/standin-build" &&
    cmake --install "$work/standin-build" --prefix "$work/vendor"; } >"$work/standin.out" 2>&1 ||
    { cat "$work/standin.out"; fail "building the stand-in"; }

# Refusals come before any build, and say what to change.
refuses() { # refuses EXPECTED-TEXT ARGS...
    expected=$1
    shift
    if "$src/tools/pack-image" "$@" >"$work/refuse.out" 2>&1; then
        fail "tools/pack-image $* did not refuse"
    fi
    grep -qF -- "$expected" "$work/refuse.out" ||
        { cat "$work/refuse.out"; fail "tools/pack-image $* did not say '$expected'"; }
}
mkdir -p "$work/empty-vendor"
refuses "--vendor-sdk DIR is required"
refuses "is not a folder" --vendor-sdk "$work/nowhere"
refuses "libWeWorkSpecSDK.so is missing" --vendor-sdk "$work/empty-vendor"
# shellcheck disable=SC2016 # a literal $HOME: the packer must refuse it
refuses "'\$HOME' has a character other than" --vendor-sdk "$work/vendor" --start-args '--data-dir $HOME'
refuses "unknown argument '--bogus'" --bogus
step "refuses a missing or incomplete vendor folder, unsafe --start-args and unknown flags"

pack() { # pack OUT BUILD-DIR: runs the packer into OUT, output in OUT.out
    "$src/tools/pack-image" --vendor-sdk "$work/vendor" --build-dir "$2" --out "$1" \
        >"$1.out" 2>&1 || { cat "$1.out"; fail "tools/pack-image failed"; }
}
t0=$(date +%s)
pack "$work/image.tar" "$work/build"
t1=$(date +%s)
grep -q "pack-image: wrote $work/image.tar: [0-9]* bytes" "$work/image.tar.out" ||
    { cat "$work/image.tar.out"; fail "the packer did not say what it wrote"; }
step "packed in $((t1 - t0)) s: $(tail -n 1 "$work/image.tar.out")"

# ---- what the tar holds --------------------------------------------------------------------
list=$(tar -tf "$work/image.tar" | LC_ALL=C sort)
bad=$(echo "$list" | grep -E 'zonesdk|include/|share/|/doc|\.a$|\.h$|cmake|pkgconfig|^\./|^/' || true)
[ -z "$bad" ] || fail "the image holds what it should not: $bad"

# The expected list, from an independent resolver: ldd on the build's zone-demo, finding the
# stand-in in the vendor folder (the image has it at /app/lib, the binary's RUNPATH).
built=$work/build/program-under-test/zone-demo
interp=$(readelf -l "$built" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[ -n "$interp" ] || fail "cannot read the loader of $built"
with_parents() { # the paths, and every folder above them, as tar lists them
    for p in "$@"; do
        p=${p#/}
        echo "$p"
        while [ "${p%/*}" != "$p" ]; do
            p=${p%/*}
            echo "$p/"
        done
    done
}
libs=$(LD_LIBRARY_PATH=$work/vendor ldd "$built" |
    sed -n 's/^[[:space:]]*\([^ ]*\) => \(\/[^ ]*\) .*/\1 \2/p' |
    grep -v '^libWeWorkSpecSDK.so ' | cut -d' ' -f2)
echo "$libs" | grep -q '/libc\.so\.6$' || fail "ldd names no libc: $libs"
# shellcheck disable=SC2086 # $libs: one path a word
expected=$(with_parents /app/start /app/bin/zone-demo /app/lib/libWeWorkSpecSDK.so /tmp/ "$interp" \
    $libs | sed 's#//$#/#' | LC_ALL=C sort -u)
diff -u <(echo "$expected") <(echo "$list") >"$work/list.diff" ||
    { cat "$work/list.diff"; fail "the image's files differ from the expected list (- expected, + tar)"; }
step "the tar holds exactly app/start, app/bin/zone-demo, app/lib/libWeWorkSpecSDK.so, tmp/," \
    "$interp and $(echo "$libs" | wc -l) libraries"

tar --numeric-owner -tvf "$work/image.tar" >"$work/listing.out"
awk '$2 != "0/0" || $4 != "1970-01-01" || $5 != "00:00"' "$work/listing.out" | grep . &&
    fail "entries above are not owned by 0/0 with mtime 0"
awk '$1 !~ /^[-d]/' "$work/listing.out" | grep . && fail "entries above are neither files nor folders"
grep -Eq '^drwxrwxrwt .* tmp/$' "$work/listing.out" || fail "tmp/ is not mode 1777"
for f in app/start app/bin/zone-demo "${interp#/}"; do
    grep -Eq "^-rwxr-xr-x .* $f\$" "$work/listing.out" || fail "$f is not mode 0755"
done
step "every entry is root's, mtime 0; tmp/ is 1777; the programs and the loader are 0755"

pack "$work/image2.tar" "$work/build2"
cmp -s "$work/image.tar" "$work/image2.tar" || fail "packing twice gave different tars"
step "packed again in $(($(date +%s) - t1)) s, built in another folder: the same bytes"

# ---- run it from the image -------------------------------------------------------------------
mkdir -p "$root"
tar -xpf "$work/image.tar" -C "$root" || fail "cannot unpack the image"
[ "$(readelf -d "$root/app/bin/zone-demo" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p')" = /app/lib ] ||
    fail "zone-demo's RUNPATH is not /app/lib"
chroot "$root" /app/start --help >"$work/help.out" 2>&1 ||
    { cat "$work/help.out"; fail "/app/start --help failed in the chroot"; }
grep -q "^usage: zone-demo" "$work/help.out" || { cat "$work/help.out"; fail "no usage from --help"; }
step "chroot $root /app/start --help: zone-demo's usage"

http() { # http PORT REQUEST: the response to REQUEST (HTTP/1.0, the server closes)
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf '%b' "$2" >&3
    timeout 5 cat <&3
    exec 3<&-
}
# start LOG ARGS...: starts /app/start ARGS in the chroot with the stand-in logging to LOG
# (a path inside the image); waits for zone-demo to log that it listens or cannot.
start() {
    log=$1
    shift
    rm -f "$root$log"
    env -u PORT -u ZONELAB_PORT STANDIN_LOG="$log" chroot "$root" /app/start "$@" \
        >"$work/server.out" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        grep -q "listening on port\|cannot listen" "$root$log" 2>/dev/null && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    cat "$work/server.out" "$root$log" 2>/dev/null
    fail "zone-demo in the chroot did not start (/app/start $*)"
}
stop() { # stops the server with SIGTERM; it must exit 0
    kill -TERM "$server"
    wait "$server"
    rc=$?
    server=""
    [ $rc -eq 0 ] || fail "zone-demo exited $rc on SIGTERM"
}

# /app/start with no arguments: WeCom's port and the image's data folder.
start /tmp/default.log
[ -d "$root/tmp/zone-demo/events" ] || fail "/app/start did not put the data in /tmp/zone-demo"
if grep -q "cannot listen on port 8080" "$root/tmp/default.log"; then
    wait "$server"
    server=""
    step "/app/start alone: data in /tmp/zone-demo, port 8080 (taken on this machine, so not served)"
else
    grep -q "listening on port 8080 .* data in /tmp/zone-demo" "$root/tmp/default.log" ||
        { cat "$root/tmp/default.log"; fail "/app/start alone does not take 8080 and /tmp/zone-demo"; }
    [ "$(http 8080 'GET /healthz HTTP/1.0\r\n\r\n' | tail -n 1)" = ok ] ||
        fail "GET /healthz on 8080 did not answer ok"
    stop
    step "/app/start alone: listens on 8080 with data in /tmp/zone-demo; /healthz ok"
fi

# On a free port: a port nobody listens on (per /proc/net), tried again if taken meanwhile.
listening() {
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" { split($2, a, ":"); print a[2] }'
}
port=""
for try in 1 2 3 4 5; do
    p=$((20000 + (RANDOM * 7 + try * 997) % 40000))
    listening | grep -qix "$(printf '%04x' "$p")" && continue
    start /tmp/x.log --port "$p" --data-dir /tmp/x
    if grep -q "listening on port $p " "$root/tmp/x.log"; then
        port=$p
        break
    fi
    wait "$server"
    server=""
done
[ -n "$port" ] || fail "found no free port in 5 tries"
[ -d "$root/tmp/x/events" ] || fail "--data-dir /tmp/x was not used"
health=$(http "$port" 'GET /healthz HTTP/1.0\r\n\r\n')
if ! echo "$health" | head -n 1 | grep -q '^HTTP/1\.[01] 200' ||
    [ "$(echo "$health" | tail -n 1)" != ok ]; then
    echo "$health"
    fail "GET /healthz on $port did not answer 200 ok"
fi
reply=$(http "$port" 'POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}')
if ! echo "$reply" | grep -qi '^ww-standin: exception' ||
    [ "$(echo "$reply" | tail -n 1)" != "sealed[]" ]; then
    echo "$reply"
    fail "an unverified POST was not answered by the stand-in's exception reply"
fi
if ! grep -q '^SpecCallbackSDK(POST,' "$root/tmp/x.log" ||
    ! grep -q '^BuildResponseHeaderBody()' "$root/tmp/x.log"; then
    cat "$root/tmp/x.log"
    fail "the request did not reach the stand-in SDK"
fi
stop
grep -q "^Log(2,stopped)" "$root/tmp/x.log" || fail "zone-demo did not log that it stopped"
step "chroot $root /app/start --port $port --data-dir /tmp/x: /healthz ok and a POST" \
    "answered by libWeWorkSpecSDK.so, from outside; SIGTERM exits 0"
step "all checks passed in $(($(date +%s) - t0)) s"
