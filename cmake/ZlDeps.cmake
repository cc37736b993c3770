# Every dependency comes from a Debian package (tools/bootstrap installs them).
find_package(OpenSSL 3.0 REQUIRED)
find_package(CURL REQUIRED)
find_package(ZLIB REQUIRED) # zone-demo: the CRC-32 of its log records
find_package(PkgConfig REQUIRED)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
pkg_check_modules(LUA REQUIRED IMPORTED_TARGET lua5.4)
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
# http-parser (libhttp-parser-dev) reads the answers of the engine's direct calls; no
# pkg-config file, and its static archive is linked so zonelab loads one library less.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY NAMES libhttp_parser.a http_parser REQUIRED)
if(ZL_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
