# Writes agentd.1.gz and agentcheck.1.gz from the programs' own --help (help2man), at install
# time (`cmake --install`, CPack): the pages cannot disagree with the flags they describe.
# agentcheck's page has a section per command (each command's --help).
# cmake -DAGENTD=path -DAGENTCHECK=path -DOUT_DIR=dir -DVERSION=x.y.z -P manpages.cmake
# (either program may be omitted).
cmake_minimum_required(VERSION 3.25)

find_program(HELP2MAN help2man)
find_program(GZIP gzip)
if(NOT HELP2MAN OR NOT GZIP)
  message(FATAL_ERROR "manpages: help2man and gzip are needed (make deps installs them)")
endif()
file(MAKE_DIRECTORY "${OUT_DIR}")
set(work "${OUT_DIR}/.manpages")
file(MAKE_DIRECTORY "${work}")

# Text as roff that prints as written: a line may not start with a dot or a quote, and
# backslashes are escaped.
function(as_roff text out)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(make_page program name summary include)
  set(args --no-info --no-discard-stderr --locale=C.UTF-8 "--version-string=${VERSION}" "--name=${summary}"
      "--output=${work}/${name}.1")
  if(include)
    list(APPEND args "--include=${include}")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env LC_ALL=C.UTF-8 "${HELP2MAN}" ${args} "${program}"
                  RESULT_VARIABLE rc
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "manpages: help2man ${name} failed (${rc}): ${err}")
  endif()
  execute_process(COMMAND "${GZIP}" -9nf "${work}/${name}.1" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "manpages: gzip ${name}.1 failed")
  endif()
  file(RENAME "${work}/${name}.1.gz" "${OUT_DIR}/${name}.1.gz")
  message(STATUS "Installing: ${OUT_DIR}/${name}.1.gz")
endfunction()

if(AGENTD)
  set(inc "${work}/agentd.h2m")
  file(WRITE "${inc}" "[SEE ALSO]\nagentcheck(1). The protocol's requirements: SPEC.md in the \
package's documentation directory.\n")
  make_page("${AGENTD}" agentd "the reference Agent Service (protocol agent-service/1)" "${inc}")
endif()

if(AGENTCHECK)
  set(inc "${work}/agentcheck.h2m")
  set(text "[COMMANDS]\n")
  foreach(cmd run list coverage spec token replay load soak selftest)
    execute_process(COMMAND "${AGENTCHECK}" ${cmd} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "manpages: agentcheck ${cmd} --help failed (${rc})")
    endif()
    as_roff("${help}" help)
    string(APPEND text ".SS \"agentcheck ${cmd}\"\n.nf\n${help}\n.fi\n")
  endforeach()
  string(APPEND text "[EXIT STATUS]\n0 every applicable requirement passes; 1 a requirement \
failed; 2 a usage or configuration error (the message names the flag); 3 the target is \
unreachable or not an agent; 130 interrupted.\n[SEE ALSO]\nagentd(1). SPEC.md, \
REPORT_SCHEMA.md and the contract documents in the package's documentation directory.\n")
  file(WRITE "${inc}" "${text}")
  make_page("${AGENTCHECK}" agentcheck "black-box conformance harness for agent-service/1"
            "${inc}")
endif()
file(REMOVE_RECURSE "${work}")
