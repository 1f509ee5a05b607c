# Helpers shared by the cmake -P test scripts (tests/install/run.cmake, e2e.cmake, fleet.cmake).

# Fails the script unless every named variable was given with -D; `script` names it in the message.
function(require_inputs script)
  foreach(input ${ARGN})
    if(NOT DEFINED ${input})
      message(FATAL_ERROR "${script}: -D${input}=... is required")
    endif()
  endforeach()
endfunction()

# The inputs of the tuned-build scripts (e2e.cmake, fleet.cmake); BUILD_TYPE defaults to Release.
macro(require_tuned_build_inputs script)
  require_inputs(${script} MOETUNE SOURCE_DIR PARENT WORK_DIR CXX GENERATOR)
  if(NOT BUILD_TYPE)
    set(BUILD_TYPE Release)
  endif()
endmacro()

# Runs a command; fails the test with its output unless it exits 0. Sets `out` (stripped) and
# `err` in the caller.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  string(STRIP "${out}" out)
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

# Fails the test unless `needle` occurs in `haystack`.
function(expect haystack needle)
  string(FIND "${haystack}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected to find\n  ${needle}\nin\n${haystack}")
  endif()
endfunction()
