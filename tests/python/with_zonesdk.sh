#!/bin/sh
# with_zonesdk.sh: runs a command that loads libzonesdk into python3 through ctypes
# (wwspecapisdk). A sanitizer build of libzonesdk (-DZL_SANITIZE=ON) needs its ASan runtime
# loaded before anything else, or dlopen ends python3 with "ASan runtime does not come first".
# This preloads the runtime that $ZONESDK_LIBRARY itself links (read with ldd, so gcc and clang
# builds both work), with leak detection off: python3 keeps its own memory until exit. A build
# without sanitizers runs the command unchanged.
lib=${ZONESDK_LIBRARY:?ZONESDK_LIBRARY must name libzonesdk.so}
asan=$(ldd "$lib" 2>/dev/null | awk '/libasan\.so|libclang_rt\.asan/ { print $3; exit }')
if [ -n "$asan" ]; then
    LD_PRELOAD="$asan${LD_PRELOAD:+:$LD_PRELOAD}"
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    export LD_PRELOAD ASAN_OPTIONS
fi
exec "$@"
