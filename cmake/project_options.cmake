# Flags shared by every project target (not by third-party headers).
add_library(agent_project_options INTERFACE)
target_compile_options(agent_project_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 reports impossible overlaps in inlined std::string concatenation at -O2/-O3
  # (GCC bug 105329, fixed in 13): a false positive, not a finding.
  target_compile_options(agent_project_options INTERFACE -Wno-restrict)
endif()
if(AGENT_WERROR)
  target_compile_options(agent_project_options INTERFACE -Werror)
endif()
# Boost.Asio/Beast: no deprecated API, header-only Boost.System.
target_compile_definitions(agent_project_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_CONCEPTS)
if(AGENT_COVERAGE)
  # agentd and agentcheck are multi-threaded: without atomic counter updates, threads
  # racing on one counter make gcov write negative branch counts that gcovr refuses
  # (GCC bug 68080), so the coverage gate would pass or fail by chance.
  # tests/build_flags_test.cmake fails the build if this flag goes missing.
  set(AGENT_COVERAGE_FLAGS --coverage -fprofile-update=atomic)
  target_compile_options(agent_project_options INTERFACE ${AGENT_COVERAGE_FLAGS} -O0 -g -fno-inline)
  target_link_options(agent_project_options INTERFACE ${AGENT_COVERAGE_FLAGS})
endif()

# agent_add_library(<target> <alias> SOURCES ... [DEPS ...]) — one target per folder.
function(agent_add_library target alias)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(ARG_SOURCES)
    add_library(${target} STATIC ${ARG_SOURCES})
    target_link_libraries(${target} PUBLIC agent_project_options ${ARG_DEPS})
  else()
    add_library(${target} INTERFACE)
    target_link_libraries(${target} INTERFACE agent_project_options ${ARG_DEPS})
  endif()
  add_library(${alias} ALIAS ${target})
endfunction()
