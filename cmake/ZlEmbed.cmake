# Writes OUT, a C file defining `const unsigned char NAME[]` (NUL-terminated) and `const size_t NAME_len`
# with the bytes of IN. Run as: cmake -DIN=... -DOUT=... -DNAME=... -P ZlEmbed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/ZlEmbed.cmake; do not edit. */\n#include <stddef.h>\n\nconst unsigned char ${NAME}[] = {\n${bytes}0x00};\nconst size_t ${NAME}_len = ${len};\n")
