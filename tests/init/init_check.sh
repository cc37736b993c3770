#!/bin/sh
# init_check.sh ZONELAB SRC PREFIX WORK: `zonelab init` as a new user meets it. Writes the
# C, C++, Python and Java starters, runs the two commands of each README.md as written (with the fake SDK
# that install_check installed into PREFIX found through CMAKE_PREFIX_PATH, and zonelab on
# PATH), and so builds it and passes its scenarios; then builds the same source for the zone
# with the vendor stand-in and checks it links the vendor's library, not libzonesdk. Also the
# refusals: a folder that is not empty, a bad program id, a language without a starter.
set -u
zonelab=$1
src=$2
prefix=$3
work=$4
fail() { echo "init_check: FAIL: $*" >&2; exit 1; }
step() { echo "init_check: $*"; }
rm -rf "$work"
mkdir -p "$work/bin"
ln -s "$zonelab" "$work/bin/zonelab"
[ -f "$prefix/lib/cmake/zonesdk/zonesdkConfig.cmake" ] || fail "no fake SDK in $prefix (install_check sets it up)"

"$zonelab" init --lang cpp "$work/my-zone" >"$work/init.out" 2>&1 || { cat "$work/init.out"; fail "init failed"; }
grep -q "wrote 10 files of a cpp zone program 'my-zone'" "$work/init.out" || fail "init said: $(cat "$work/init.out")"
for f in README.md CMakeLists.txt src/main.cpp world.json scenarios/hello.lua \
    scenarios/sync_msg.lua scenarios/notify_flow.lua .github/workflows/zonelab.yml .gitlab-ci.yml; do
    [ -s "$work/my-zone/$f" ] || fail "the starter lacks $f"
done
! grep -rq "@PROGRAM_ID@" "$work/my-zone" || fail "a placeholder was left in the starter"
grep -q '"program_id": "my-zone"' "$work/my-zone/world.json" || fail "world.json does not declare my-zone"
step "init wrote the starter"

"$zonelab" init "$work/my-zone" >/dev/null 2>"$work/again.err"
[ $? -eq 1 ] && grep -q "is not an empty folder" "$work/again.err" || fail "init over a starter must refuse"
"$zonelab" init "$work/9lives" >/dev/null 2>"$work/id.err"
[ $? -eq 2 ] && grep -q "cannot be a program id" "$work/id.err" || fail "a bad program id must be refused"
"$zonelab" init --lang cobol "$work/x" >/dev/null 2>"$work/lang.err"
[ $? -eq 2 ] && grep -q "no starter for --lang cobol; there is one for: c, cpp, java, python" "$work/lang.err" ||
    fail "an unknown language must be refused: $(cat "$work/lang.err")"
[ ! -e "$work/x" ] || fail "a refused init wrote something"
step "init refuses a full folder, a bad id and an unknown language"

# The README's sh block, line by line, as a user pastes it.
sed -n '/^```sh$/,/^```$/p' "$work/my-zone/README.md" | sed '1d;$d' >"$work/readme.sh"
[ "$(wc -l <"$work/readme.sh")" -eq 2 ] || { cat "$work/readme.sh"; fail "the README does not give two commands"; }
(
    cd "$work/my-zone" &&
        PATH="$work/bin:$PATH" CMAKE_PREFIX_PATH="$prefix" sh -e "$work/readme.sh"
) >"$work/readme.out" 2>&1 || { tail -40 "$work/readme.out"; fail "the README's two commands failed"; }
grep -qE "^[0-9]+ tests: [0-9]+ passed, 0 failed, 0 errors" "$work/readme.out" ||
    { tail -20 "$work/readme.out"; fail "the starter's scenarios did not all pass"; }
step "the README's two commands: built, and $(grep -E '^[0-9]+ tests:' "$work/readme.out" | cut -d'(' -f1)"

cmake -S "$src/tests/vendor-standin" -B "$work/standin-build" -DCMAKE_BUILD_TYPE=Release \
    >"$work/standin.log" 2>&1 && cmake --build "$work/standin-build" >>"$work/standin.log" 2>&1 &&
    cmake --install "$work/standin-build" --prefix "$work/vendor" >>"$work/standin.log" 2>&1 ||
    { cat "$work/standin.log"; fail "the vendor stand-in did not build"; }
cmake -S "$work/my-zone" -B "$work/my-zone/build-zone" -DZONE_SDK=vendor \
    -DZONE_VENDOR_SDK_DIR="$work/vendor" >"$work/zone.log" 2>&1 &&
    cmake --build "$work/my-zone/build-zone" >>"$work/zone.log" 2>&1 ||
    { cat "$work/zone.log"; fail "the production build failed"; }
readelf -d "$work/my-zone/build-zone/my-zone" >"$work/needed"
grep -q "libWeWorkSpecSDK" "$work/needed" || fail "the production build does not link libWeWorkSpecSDK.so"
! grep -q "libzonesdk" "$work/needed" || fail "the production build links libzonesdk"
step "the production build links the vendor's SDK and not libzonesdk"
# C: the README's two commands, then the production build through the installed adapter.
"$zonelab" init --lang c --program-id c-zone "$work/c" >"$work/init-c.out" 2>&1 ||
    { cat "$work/init-c.out"; fail "init --lang c failed"; }
sed -n '/^```sh$/,/^```$/p' "$work/c/README.md" | sed '1d;$d' >"$work/readme-c.sh"
[ "$(wc -l <"$work/readme-c.sh")" -eq 2 ] || { cat "$work/readme-c.sh"; fail "the C README does not give two commands"; }
(
    cd "$work/c" && PATH="$work/bin:$PATH" CMAKE_PREFIX_PATH="$prefix" sh -e "$work/readme-c.sh"
) >"$work/readme-c.out" 2>&1 || { tail -40 "$work/readme-c.out"; fail "the C README's two commands failed"; }
grep -qE "^[0-9]+ tests: [0-9]+ passed, 0 failed, 0 errors" "$work/readme-c.out" ||
    { tail -20 "$work/readme-c.out"; fail "the C starter's scenarios did not all pass"; }
CMAKE_PREFIX_PATH="$prefix" cmake -S "$work/c" -B "$work/c/build-zone" -DZONE_SDK=vendor \
    -DZONE_VENDOR_SDK_DIR="$work/vendor" >"$work/c-zone.log" 2>&1 &&
    cmake --build "$work/c/build-zone" >>"$work/c-zone.log" 2>&1 ||
    { cat "$work/c-zone.log"; fail "the C production build failed"; }
readelf -d "$work/c/build-zone/c-zone" >"$work/c-needed"
grep -q "libWeWorkSpecSDK" "$work/c-needed" && ! grep -q "libzonesdk" "$work/c-needed" ||
    fail "the C production build must link libWeWorkSpecSDK.so and not libzonesdk"
step "c: the README's two commands, $(grep -E '^[0-9]+ tests:' "$work/readme-c.out" | cut -d'(' -f1); the production build links the vendor's SDK through the adapter"

# Python: the README's two commands; zonelab puts its fake wwspecapisdk on the program's
# PYTHONPATH by itself. ZONESDK_LIBRARY names the plain libzonesdk install_check installed:
# this zonelab's own is built with sanitizers, which python3 cannot load.
"$zonelab" init --lang python --program-id py-zone "$work/python" >"$work/init-py.out" 2>&1 ||
    { cat "$work/init-py.out"; fail "init --lang python failed"; }
sed -n '/^```sh$/,/^```$/p' "$work/python/README.md" | sed '1d;$d' >"$work/readme-py.sh"
[ "$(wc -l <"$work/readme-py.sh")" -eq 2 ] || { cat "$work/readme-py.sh"; fail "the Python README does not give two commands"; }
(
    cd "$work/python" && unset PYTHONPATH &&
        PATH="$work/bin:$PATH" ZONESDK_LIBRARY="$prefix/lib/libzonesdk.so" sh -e "$work/readme-py.sh"
) >"$work/readme-py.out" 2>&1 || { tail -40 "$work/readme-py.out"; fail "the Python README's two commands failed"; }
grep -qE "^[0-9]+ tests: [0-9]+ passed, 0 failed, 0 errors" "$work/readme-py.out" ||
    { tail -20 "$work/readme-py.out"; fail "the Python starter's scenarios did not all pass"; }
grep -q '"program_id": "py-zone"' "$work/python/world.json" || fail "--program-id was not used"
step "python: the README's two commands, $(grep -E '^[0-9]+ tests:' "$work/readme-py.out" | cut -d'(' -f1)"
# Java: the README's two commands; the jar comes from `zonelab sdk-path`, the JNI library
# from the environment zonelab gives the program. Skipped only on a machine without a JDK.
if command -v javac >/dev/null 2>&1 && "$zonelab" sdk-path java-classpath >/dev/null 2>&1; then
    "$zonelab" init --lang java --program-id java-zone "$work/java" >"$work/init-java.out" 2>&1 ||
        { cat "$work/init-java.out"; fail "init --lang java failed"; }
    sed -n '/^```sh$/,/^```$/p' "$work/java/README.md" | sed '1d;$d' >"$work/readme-java.sh"
    [ "$(wc -l <"$work/readme-java.sh")" -eq 2 ] || { cat "$work/readme-java.sh"; fail "the Java README does not give two commands"; }
    (
        cd "$work/java" && PATH="$work/bin:$PATH" sh -e "$work/readme-java.sh"
    ) >"$work/readme-java.out" 2>&1 || { tail -40 "$work/readme-java.out"; fail "the Java README's two commands failed"; }
    grep -qE "^[0-9]+ tests: [0-9]+ passed, 0 failed, 0 errors" "$work/readme-java.out" ||
        { tail -20 "$work/readme-java.out"; fail "the Java starter's scenarios did not all pass"; }
    step "java: the README's two commands, $(grep -E '^[0-9]+ tests:' "$work/readme-java.out" | cut -d'(' -f1)"
else
    step "java: SKIPPED, no JDK on this machine"
fi
echo "init_check: PASS"
