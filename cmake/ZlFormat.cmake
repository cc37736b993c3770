# format / format-check targets over every C and C++ source of the project.
find_program(CLANG_FORMAT NAMES clang-format-14 clang-format)
if(CLANG_FORMAT)
  file(GLOB_RECURSE ZL_FORMAT_FILES CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/emulator/*.[ch] ${PROJECT_SOURCE_DIR}/sdk-fake/*.[ch]
    ${PROJECT_SOURCE_DIR}/program-under-test/*.[ch]
    ${PROJECT_SOURCE_DIR}/tests/*.[ch] ${PROJECT_SOURCE_DIR}/tools/*.[ch]
    ${PROJECT_SOURCE_DIR}/sdk-fake/*.cpp ${PROJECT_SOURCE_DIR}/tests/*.cpp
    ${PROJECT_SOURCE_DIR}/program-under-test/*.cpp)
  list(FILTER ZL_FORMAT_FILES EXCLUDE REGEX "/node_modules/")
  add_custom_target(format COMMAND ${CLANG_FORMAT} -i ${ZL_FORMAT_FILES}
    COMMENT "clang-format -i")
  add_custom_target(format-check
    COMMAND ${CLANG_FORMAT} --dry-run --Werror ${ZL_FORMAT_FILES}
    COMMENT "clang-format --dry-run --Werror")
endif()
