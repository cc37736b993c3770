#!/bin/sh
# install_check.sh SRC WORK: installs libzonesdk (and libzonelab_preload, which zonelab
# preloads into the replicas it starts) into a temporary prefix from a plain
# (unsanitised) build, then builds a tiny C program with `pkg-config --cflags --libs
# zonesdk` (shared and --static) and a C++ program with find_package(zonesdk), and runs them.
set -eu
src=$1
work=$2
fail() { echo "install_check: FAIL: $*" >&2; exit 1; }
step() { echo "install_check: $*"; }

unset ZONELAB_URL ZONELAB_SECRET ZONELAB_SECRET_VER ZONELAB_INSTANCE
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
# configured for /usr/local, installed elsewhere: zonesdk.pc and the CMake package relocate
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DZL_TESTS=OFF \
    -DCMAKE_INSTALL_PREFIX=/usr/local >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail configure; }
# the Java fake installs with them when this machine has a JDK (its jar and JNI library)
java_targets=""
if cmake --build "$work/build" --target help 2>/dev/null | grep -q WeWorkSpecSDK; then
    java_targets="zonesdk_java WeWorkSpecSDK"
fi
# shellcheck disable=SC2086
cmake --build "$work/build" --target zonesdk zonesdk_static zonelab_preload $java_targets \
    >>"$work/build.log" 2>&1 || { cat "$work/build.log"; fail build; }
# the SDK's components and the fakes', not the zonelab tool (not built here)
for component in libzonesdk libzonesdk-dev fakes; do
    cmake --install "$work/build" --prefix "$prefix" --component "$component" >>"$work/build.log" 2>&1 ||
        { cat "$work/build.log"; fail "install of $component"; }
done
for f in include/zonesdk/zone_sdk.h include/zonesdk/cpp_sdk.h lib/libzonesdk.so lib/libzonesdk.a \
    lib/pkgconfig/zonesdk.pc lib/cmake/zonesdk/zonesdkConfig.cmake lib/libzonelab_preload.so \
    share/zonelab/python/wwspecapisdk/__init__.py share/zonesdk/vendor-adapter/vendor_adapter.cpp; do
    [ -e "$prefix/$f" ] || fail "$f was not installed"
done
step "installed into $prefix"
# libzonesdk.so exports exactly the functions zone_sdk.h declares
nm -D --defined-only "$prefix/lib/libzonesdk.so" | awk '{print $3}' | grep -v '^_' | sort >"$work/exported"
sed -n 's/^ZONE_API .*[ *]\(zone_[a-z_]*\)(.*/\1/p' "$src/sdk-fake/include/zone_sdk.h" | sort >"$work/declared"
diff -u "$work/declared" "$work/exported" || fail "libzonesdk.so exports differ from zone_sdk.h (- declared, + exported)"
step "libzonesdk.so exports the $(wc -l <"$work/declared") functions zone_sdk.h declares and nothing else"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs zonesdk)
step "pkg-config --cflags --libs zonesdk: $flags"
# shellcheck disable=SC2086
cc -o "$work/tiny" "$src/tests/install/tiny.c" $flags
LD_LIBRARY_PATH="$prefix/lib" "$work/tiny" || fail "tiny (shared)"
readelf -d "$work/tiny" | grep -q 'libzonesdk.so.0' || fail "tiny does not need libzonesdk.so.0"
# shellcheck disable=SC2086
cc -o "$work/tiny_static" "$src/tests/install/tiny.c" -I"$prefix/include/zonesdk" \
    "$prefix/lib/libzonesdk.a" $(pkg-config --static --libs-only-l zonesdk | sed 's/-lzonesdk //')
"$work/tiny_static" || fail "tiny (static)"
if readelf -d "$work/tiny_static" | grep -q zonesdk; then fail "tiny_static needs a shared zonesdk"; fi
step "C program built and ran (shared and static)"

cmake -S "$src/tests/install/cxx-consumer" -B "$work/cxx" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$work/cxx.log" 2>&1 || { cat "$work/cxx.log"; fail "find_package(zonesdk)"; }
cmake --build "$work/cxx" >>"$work/cxx.log" 2>&1 || { cat "$work/cxx.log"; fail "C++ build"; }
"$work/cxx/consumer" || fail "consumer"
"$work/cxx/consumer_static" || fail "consumer_static"
step "C++ program built with find_package(zonesdk) and ran (shared and static)"
