# ctest: every project translation unit of the coverage build is compiled with atomic
# profile counters. agentd and agentcheck are multi-threaded; without
# -fprofile-update=atomic, racing threads make gcov write negative branch counts that
# gcovr refuses (GCC bug 68080), and the coverage gate fails at random.
# Usage: cmake -DCOMPILE_COMMANDS=<build>/compile_commands.json -DSOURCE_DIR=<repo> -P this
if(NOT EXISTS "${COMPILE_COMMANDS}")
  message(FATAL_ERROR "no compile_commands.json at '${COMPILE_COMMANDS}'")
endif()
file(READ "${COMPILE_COMMANDS}" db)
string(JSON n LENGTH "${db}")
math(EXPR last "${n} - 1")
set(checked 0)
set(missing "")
foreach(i RANGE ${last})
  string(JSON file GET "${db}" ${i} file)
  string(JSON command GET "${db}" ${i} command)
  # Project code only (reference/, conformance/, bench/), not generated or system files.
  if(NOT file MATCHES "^${SOURCE_DIR}/(reference|conformance|bench)/")
    continue()
  endif()
  # The LD_PRELOAD probe of the durability tests is deliberately not instrumented.
  if(file MATCHES "/tests/support/fsync_probe\\.cpp$")
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  if(NOT command MATCHES "--coverage" OR NOT command MATCHES "-fprofile-update=atomic")
    list(APPEND missing "${file}")
  endif()
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "no project translation unit found in '${COMPILE_COMMANDS}'")
endif()
list(LENGTH missing n_missing)
if(n_missing GREATER 0)
  list(JOIN missing "\n  " shown)
  message(FATAL_ERROR "${n_missing} of ${checked} translation units are built without "
    "--coverage -fprofile-update=atomic:\n  ${shown}")
endif()
message(STATUS "all ${checked} project translation units use atomic coverage counters")
