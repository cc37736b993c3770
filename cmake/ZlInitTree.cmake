# Assembles the starters of `zonelab init` into OUT/<lang>/ from templates/init/ as
# templates/init/starters.cmake describes them: the shared parts first, then the language's own
# folder, then files taken from elsewhere in the repository; "@PROGRAM_CMD@" in them becomes
# the language's program command. cmake/ZlEmbedTree.cmake then builds OUT into zonelab.
# Run as: cmake -DSRC=<repository> -DOUT=<folder> -P ZlInitTree.cmake
include("${SRC}/templates/init/starters.cmake")
file(REMOVE_RECURSE "${OUT}")

# Copies every file below dir into OUT/lang, replacing @PROGRAM_CMD@ with program.
function(zl_init_copy dir lang program)
  file(GLOB_RECURSE files RELATIVE "${dir}" "${dir}/*")
  foreach(f ${files})
    zl_init_copy_file("${dir}/${f}" "${OUT}/${lang}/${f}" "${program}")
  endforeach()
endfunction()

function(zl_init_copy_file from to program)
  file(READ "${from}" text)
  string(REPLACE "@PROGRAM_CMD@" "${program}" text "${text}")
  file(WRITE "${to}" "${text}")
endfunction()

foreach(lang ${ZL_STARTERS})
  if(NOT IS_DIRECTORY "${SRC}/templates/init/${lang}")
    message(FATAL_ERROR "ZlInitTree: no templates/init/${lang}")
  endif()
  foreach(part ${ZL_STARTER_${lang}_PARTS})
    zl_init_copy("${SRC}/templates/init/${part}" ${lang} "${ZL_STARTER_${lang}_PROGRAM}")
  endforeach()
  zl_init_copy("${SRC}/templates/init/${lang}" ${lang} "${ZL_STARTER_${lang}_PROGRAM}")
  foreach(pair ${ZL_STARTER_${lang}_FILES})
    string(REGEX MATCH "^([^=]+)=(.+)$" _ "${pair}")
    zl_init_copy_file("${SRC}/${CMAKE_MATCH_2}" "${OUT}/${lang}/${CMAKE_MATCH_1}"
                      "${ZL_STARTER_${lang}_PROGRAM}")
  endforeach()
endforeach()
