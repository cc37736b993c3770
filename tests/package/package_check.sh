#!/bin/sh
# package_check.sh SRC WORK: `make package`'s packages, installed into a clean root and used
# the way a user with only them would. Builds them (tools/package/build), checks what each
# holds and depends on, unpacks the three Debian packages into WORK/root (dpkg-deb -x: the
# root stands for /, so the libraries' folder goes on LD_LIBRARY_PATH as /usr/lib would be
# searched) and the wheel into its own folder, then runs `zonelab init` for C, C++, Python and
# Java with the packaged zonelab and each README's two commands as written.
set -u
src=$1
work=$2
fail() { echo "package_check: FAIL: $*" >&2; exit 1; }
step() { echo "package_check: $*"; }
rm -rf "$work"
mkdir -p "$work"

"$src/tools/package/build" "$work/build" >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "tools/package/build"; }
pk=$work/build/packages
for f in zonelab_0.1.0_amd64.deb libzonesdk0_0.1.0_amd64.deb libzonesdk-dev_0.1.0_amd64.deb \
    wwspecapisdk_zonelab-0.1.0-py3-none-any.whl; do
    [ -s "$pk/$f" ] || { ls "$pk"; fail "no $f"; }
done
step "built: $(ls "$pk" | tr '\n' ' ')"

has() { # has DEB PATH: the package holds PATH
    dpkg-deb -c "$pk/$1" | awk '{print $6}' | grep -qx "./$2" || fail "$1 lacks $2"
}
depends() { dpkg-deb -f "$pk/$1" Depends; }
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
has zonelab_0.1.0_amd64.deb usr/bin/zonelab
has zonelab_0.1.0_amd64.deb "usr/lib/$arch/libzonelab_preload.so"
has zonelab_0.1.0_amd64.deb usr/share/zonelab/python/wwspecapisdk/__init__.py
has libzonesdk0_0.1.0_amd64.deb "usr/lib/$arch/libzonesdk.so.0.1.0"
has libzonesdk-dev_0.1.0_amd64.deb usr/include/zonesdk/zone_sdk.h
has libzonesdk-dev_0.1.0_amd64.deb usr/include/zonesdk/cpp_sdk.h
has libzonesdk-dev_0.1.0_amd64.deb "usr/lib/$arch/libzonesdk.a"
has libzonesdk-dev_0.1.0_amd64.deb "usr/lib/$arch/pkgconfig/zonesdk.pc"
has libzonesdk-dev_0.1.0_amd64.deb "usr/lib/$arch/cmake/zonesdk/zonesdkConfig.cmake"
has libzonesdk-dev_0.1.0_amd64.deb usr/share/zonesdk/vendor-adapter/vendor_adapter.cpp
! dpkg-deb -c "$pk/libzonesdk0_0.1.0_amd64.deb" | grep -q "include/" || fail "libzonesdk0 holds headers"
depends zonelab_0.1.0_amd64.deb | grep -q "libzonesdk0 (= 0.1.0)" || fail "zonelab: Depends $(depends zonelab_0.1.0_amd64.deb)"
for lib in libssl3 libcurl4 libmicrohttpd12 libcjson1 liblua5.4-0; do
    depends zonelab_0.1.0_amd64.deb | grep -q "$lib" || fail "zonelab does not depend on $lib: $(depends zonelab_0.1.0_amd64.deb)"
done
depends libzonesdk0_0.1.0_amd64.deb | grep -q libcurl4 || fail "libzonesdk0: Depends $(depends libzonesdk0_0.1.0_amd64.deb)"
depends libzonesdk-dev_0.1.0_amd64.deb | grep -q "libzonesdk0 (= 0.1.0)" || fail "libzonesdk-dev: Depends"
step "contents and dependencies as they should be"

root=$work/root
for d in zonelab libzonesdk0 libzonesdk-dev; do
    dpkg-deb -x "$pk/${d}_0.1.0_amd64.deb" "$root" || fail "dpkg-deb -x $d"
done
/usr/bin/python3 -m pip install --quiet --no-deps --no-index --target "$work/wheel" \
    "$pk/wwspecapisdk_zonelab-0.1.0-py3-none-any.whl" || fail "pip install of the wheel"
PYTHONPATH="$work/wheel" ZONESDK_LIBRARY="$root/usr/lib/$arch/libzonesdk.so.0" /usr/bin/python3 -c \
    'import wwspecapisdk; print(wwspecapisdk.spec_gen_notify_id())' | grep -qE '^[0-9a-f]{32}$' ||
    fail "the wheel's wwspecapisdk does not work"
step "unpacked into $root; the wheel installs and loads libzonesdk"

# only the packages: their zonelab first on PATH, their libraries where /usr/lib would be
mkdir -p "$work/bin"
export PATH="$root/usr/bin:$PATH" LD_LIBRARY_PATH="$root/usr/lib/$arch" CMAKE_PREFIX_PATH="$root/usr"
unset PYTHONPATH ZONESDK_LIBRARY ZONELAB_PROGRAM
[ "$(command -v zonelab)" = "$root/usr/bin/zonelab" ] || fail "zonelab is not the packaged one"
[ "$(zonelab sdk-path python)" = "$root/usr/share/zonelab/python" ] || fail "sdk-path python: $(zonelab sdk-path python)"
[ "$(zonelab sdk-path library)" = "$root/usr/lib/$arch/libzonesdk.so.0.1.0" ] ||
    [ "$(zonelab sdk-path library)" = "$root/usr/lib/$arch/libzonesdk.so.0" ] || fail "sdk-path library: $(zonelab sdk-path library)"
langs="c cpp python"
if zonelab sdk-path java-classpath >/dev/null 2>&1 && command -v javac >/dev/null; then
    [ "$(zonelab sdk-path java-classpath)" = "$root/usr/share/zonelab/java/zonesdk-java.jar" ] || fail "sdk-path java-classpath"
    langs="$langs java"
fi
for lang in $langs; do
    (cd "$work" && zonelab init --lang "$lang" "demo-$lang") >"$work/init-$lang.out" 2>&1 ||
        { cat "$work/init-$lang.out"; fail "init --lang $lang"; }
    sed -n '/^```sh$/,/^```$/p' "$work/demo-$lang/README.md" | sed '1d;$d' >"$work/readme-$lang.sh"
    (cd "$work/demo-$lang" && sh -e "$work/readme-$lang.sh") >"$work/readme-$lang.out" 2>&1 ||
        { tail -30 "$work/readme-$lang.out"; fail "$lang: the README's two commands"; }
    grep -qE "^[0-9]+ tests: [0-9]+ passed, 0 failed, 0 errors" "$work/readme-$lang.out" ||
        { tail -20 "$work/readme-$lang.out"; fail "$lang: the scenarios did not all pass"; }
    step "$lang: zonelab init and the README's two commands with only the packages"
done
echo "package_check: PASS"
