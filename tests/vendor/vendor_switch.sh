#!/bin/sh
# vendor_switch.sh SRC WORK: proves the production switch with the vendor stand-in.
# Builds the stand-in (cpp_sdk.h + libWeWorkSpecSDK.so), checks that configure refuses a
# missing or incomplete vendor folder naming the missing file, builds the SDK probe, the
# vendor-style C++ program and zone-demo with ZONE_SDK=vendor, checks they link the
# stand-in and not libzonesdk, and checks every adapter call reaches the stand-in with the
# right arguments.
set -eu
src=$1
work=$2
here=$src/tests/vendor
fail() { echo "vendor_switch: FAIL: $*" >&2; exit 1; }
step() { echo "vendor_switch: $*"; }

rm -rf "$work"
mkdir -p "$work"

step "building the stand-in"
cmake -S "$src/tests/vendor-standin" -B "$work/standin-build" -DCMAKE_BUILD_TYPE=Release \
    >"$work/standin.log" 2>&1 || { cat "$work/standin.log"; fail "stand-in configure"; }
cmake --build "$work/standin-build" >>"$work/standin.log" 2>&1 ||
    { cat "$work/standin.log"; fail "stand-in build"; }
cmake --install "$work/standin-build" --prefix "$work/vendor" >>"$work/standin.log" 2>&1
[ -f "$work/vendor/cpp_sdk.h" ] && [ -f "$work/vendor/libWeWorkSpecSDK.so" ] ||
    fail "the stand-in did not install cpp_sdk.h and libWeWorkSpecSDK.so flat"

# configure must refuse, naming what is wrong
refuses() { # refuses NAME EXPECTED-TEXT CMAKE-ARGS...
    name=$1 expected=$2
    shift 2
    if cmake -S "$src" -B "$work/refuse-$name" -DZL_TESTS=OFF "$@" >"$work/refuse-$name.log" 2>&1; then
        fail "configure accepted $name"
    fi
    # CMake wraps long messages: compare with line breaks and indentation squeezed out
    tr -s '\n ' '  ' <"$work/refuse-$name.log" | grep -qF "$expected" ||
        { cat "$work/refuse-$name.log"; fail "configure for $name did not say '$expected'"; }
    step "configure refuses $name: '$expected'"
}
mkdir -p "$work/empty" "$work/header-only" "$work/lib-only"
cp "$work/vendor/cpp_sdk.h" "$work/header-only/"
cp "$work/vendor/libWeWorkSpecSDK.so" "$work/lib-only/"
refuses no-dir "needs -DZONE_VENDOR_SDK_DIR" -DZONE_SDK=vendor
refuses not-a-dir "is not a folder" -DZONE_SDK=vendor -DZONE_VENDOR_SDK_DIR="$work/nowhere"
refuses empty-dir "cpp_sdk.h is missing" -DZONE_SDK=vendor -DZONE_VENDOR_SDK_DIR="$work/empty"
refuses header-only "libWeWorkSpecSDK.so is missing" -DZONE_SDK=vendor \
    -DZONE_VENDOR_SDK_DIR="$work/header-only"
refuses lib-only "cpp_sdk.h is missing" -DZONE_SDK=vendor -DZONE_VENDOR_SDK_DIR="$work/lib-only"
refuses bad-name "ZONE_SDK must be fake or vendor" -DZONE_SDK=vendr

step "building the probe, the vendor-style C++ program and zone-demo with ZONE_SDK=vendor"
cmake -S "$src" -B "$work/build" -DZONE_SDK=vendor -DZONE_VENDOR_SDK_DIR="$work/vendor" \
    -DZL_TESTS=ON -DZL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; fail "vendor configure"; }
cmake --build "$work/build" --target sdk_probe vendor_style_program zone-demo >>"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; fail "vendor build"; }

for exe in "$work/build/tests/sdk/sdk_probe" "$work/build/tests/sdk/vendor_style_program" \
    "$work/build/program-under-test/zone-demo"; do
    name=$(basename "$exe")
    needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    echo "$needed" | grep -qx "libWeWorkSpecSDK.so" || fail "$name does not need libWeWorkSpecSDK.so: $needed"
    if echo "$needed" | grep -q zonesdk; then fail "$name needs libzonesdk: $needed"; fi
    resolved=$(ldd "$exe" | sed -n 's/.*libWeWorkSpecSDK.so => \([^ ]*\).*/\1/p')
    [ "$resolved" = "$work/vendor/libWeWorkSpecSDK.so" ] ||
        fail "$name resolves libWeWorkSpecSDK.so to '$resolved'"
    if ldd "$exe" | grep -q zonesdk; then fail "$name loads libzonesdk"; fi
    if nm "$exe" | grep -q ' zone_wire_'; then fail "$name contains the fake SDK's wire code"; fi
    step "$name links the stand-in ($resolved) and not libzonesdk"
done

step "running the probe against the stand-in"
STANDIN_LOG="$work/calls.log" "$work/build/tests/sdk/sdk_probe" >"$work/probe.out"
diff -u "$here/expected_calls.txt" "$work/calls.log" || fail "calls reaching the stand-in differ"
diff -u "$here/expected_probe.txt" "$work/probe.out" || fail "what the adapter returned differs"
step "$(wc -l <"$work/calls.log") adapter calls reached the stand-in as expected"
