# `make package`: Debian packages of zonelab with CPack, one per install component:
#   zonelab         the tool (component zonelab), its preload library and the Python and Java
#                   fakes of the vendor SDKs (component fakes)
#   libzonesdk0     libzonesdk.so.0, the fake zone SDK (Debian's name for its soname)
#   libzonesdk-dev  headers, libzonesdk.so and .a, pkg-config, the CMake package, the vendor
#                   adapter's source
# Configure with -DCMAKE_INSTALL_PREFIX=/usr for Debian's layout (the Makefile's package target
# does). Library dependencies are read from the binaries with dpkg-shlibdeps.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME zonelab)
set(CPACK_PACKAGE_VENDOR "zonelab")
set(CPACK_PACKAGE_CONTACT "zonelab maintainers <zonelab@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "emulator of WeCom's data and intelligence zone, with a fake zone SDK")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
# The zonelab package is two components: the tool, and what the programs it starts use (the
# preload library, the Python and Java fakes), which tests/install installs without the tool.
set(CPACK_COMPONENTS_ALL zonelab fakes libzonesdk libzonesdk-dev)
set(CPACK_COMPONENT_ZONELAB_GROUP zonelab)
set(CPACK_COMPONENT_FAKES_GROUP zonelab)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)

set(CPACK_DEBIAN_ZONELAB_PACKAGE_NAME zonelab)
set(CPACK_COMPONENT_GROUP_ZONELAB_DESCRIPTION
    "zonelab: emulator of WeCom's data and intelligence zone
 zonelab serve emulates WeCom's backend for a zone program; zonelab run runs Lua scenarios
 against fresh emulators; zonelab init writes a starter program of one's own. Includes the
 fakes of the vendor's Python SDK (wwspecapisdk) and Java SDK (jar and JNI library), found
 by the programs zonelab starts.")
# the Python fake loads libzonesdk; the starters need a compiler, CMake, libmicrohttpd
set(CPACK_DEBIAN_ZONELAB_PACKAGE_DEPENDS "libzonesdk0 (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_ZONELAB_PACKAGE_RECOMMENDS
    "libzonesdk-dev, python3, default-jdk-headless, cmake, g++, libmicrohttpd-dev")

set(CPACK_DEBIAN_LIBZONESDK_PACKAGE_NAME libzonesdk0)
set(CPACK_DEBIAN_LIBZONESDK_PACKAGE_SECTION libs)
# libcurl is loaded with dlopen on the first invoke (sdk-fake/src/invoke.c), so dpkg-shlibdeps
# does not see it: named here, beside what it finds.
set(CPACK_DEBIAN_LIBZONESDK_PACKAGE_DEPENDS "libcurl4")
set(CPACK_COMPONENT_LIBZONESDK_DESCRIPTION
    "libzonesdk: zonelab's fake of WeCom's zone SDK
 The vendor's C++ surface (cpp_sdk.h) and a C one (zone_sdk.h), talking to zonelab's emulator
 instead of WeCom.")

set(CPACK_DEBIAN_LIBZONESDK-DEV_PACKAGE_NAME libzonesdk-dev)
set(CPACK_DEBIAN_LIBZONESDK-DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_LIBZONESDK-DEV_PACKAGE_DEPENDS
    "libzonesdk0 (= ${PROJECT_VERSION}), libssl-dev, libcurl4-openssl-dev, libcjson-dev, pkg-config")
set(CPACK_COMPONENT_LIBZONESDK-DEV_DESCRIPTION
    "libzonesdk-dev: build a zone program against zonelab's fake zone SDK
 Headers (zonesdk/zone_sdk.h, zonesdk/cpp_sdk.h), the shared and static libraries'
 development files, pkg-config (zonesdk) and a CMake package (find_package(zonesdk)), and the
 source of the adapter a C program's production build compiles over the vendor's SDK.")
include(CPack)
