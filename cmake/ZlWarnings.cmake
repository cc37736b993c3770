# Compiler warnings and sanitizers shared by every zonelab target.
add_compile_definitions(_POSIX_C_SOURCE=200809L)
add_compile_options(
  -Wall -Wextra -Wpedantic -Wshadow
  $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes> $<$<COMPILE_LANGUAGE:C>:-Wmissing-prototypes>
  -Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wundef)
if(ZL_WERROR)
  add_compile_options(-Werror)
endif()
if(ZL_SANITIZE)
  # float-cast-overflow: GCC's "undefined" leaves it out (clang's has it), and a double from
  # JSON cast to an integer before its range is checked is the bug the fuzzers found most.
  add_compile_options(-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined,float-cast-overflow)
  add_link_options(-fsanitize=address,undefined,float-cast-overflow)
endif()
if(ZL_FUZZ)
  # Coverage instrumentation for everything the fuzz targets link.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
