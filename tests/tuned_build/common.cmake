# Helpers shared by the tuned-build test scripts (run.cmake, e2e.cmake), included with cmake -P.

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
