# What each starter of `zonelab init --lang L` is made of (cmake/ZlInitTree.cmake reads this):
# ZL_STARTERS, the languages; for each L, ZL_STARTER_<L>_PARTS, the shared folders of
# templates/init/ whose files come first (L's own folder then adds and overrides);
# ZL_STARTER_<L>_PROGRAM, what "@PROGRAM_CMD@" becomes in them (the scenarios' program line,
# as written in a Lua string); ZL_STARTER_<L>_FILES, "path=source" pairs of files taken from
# elsewhere in the repository.
#   _native/  world.json and the scenarios of the starters on WeCom's C++/Java conventions
#   _cmake/   the CI files and .gitignore of the CMake starters
set(ZL_STARTERS c cpp java python)

set(ZL_STARTER_c_PARTS _native _cmake)
set(ZL_STARTER_c_PROGRAM "exec ./build/@PROGRAM_ID@")

set(ZL_STARTER_cpp_PARTS _native _cmake)
set(ZL_STARTER_cpp_PROGRAM "exec ./build/@PROGRAM_ID@")

set(ZL_STARTER_java_PARTS _native)
set(ZL_STARTER_java_PROGRAM [=[exec java -Djava.library.path=\"$ZONELAB_JAVA_LIBRARY_PATH\" -cp \"build:$ZONELAB_JAVA_CLASSPATH\" Main]=])
set(ZL_STARTER_java_FILES
  "src/TinyHttp.java=program-under-test/java/TinyHttp.java"
  "src/Json.java=program-under-test/java/Json.java")

set(ZL_STARTER_python_PARTS)
