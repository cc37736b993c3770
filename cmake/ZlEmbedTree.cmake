# Writes OUT, a C file defining `const zl_embedded_file NAME[]` (and NAME_count): every file
# below DIR, as {path relative to DIR, bytes, length}, sorted by path.
# Run as: cmake -DDIR=... -DOUT=... -DNAME=... -P ZlEmbedTree.cmake
file(GLOB_RECURSE files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(body "")
set(table "")
set(i 0)
foreach(f ${files})
  file(READ "${DIR}/${f}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
  string(APPEND body "static const unsigned char f${i}[] = {\n${bytes}0x00};\n")
  string(APPEND table "    {\"${f}\", f${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT}.tmp" "/* Generated from ${DIR} by cmake/ZlEmbedTree.cmake; do not edit. */\n"
  "#include <stddef.h>\n\ntypedef struct zl_embedded_file {\n    const char *path;\n"
  "    const unsigned char *bytes;\n    size_t len;\n} zl_embedded_file;\n\n${body}\n"
  "const zl_embedded_file ${NAME}[] = {\n${table}};\nconst size_t ${NAME}_count = ${i};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
