# Helpers shared by the cmake -P test scripts (tests/install/run.cmake, e2e.cmake, fleet.cmake,
# run.cmake).

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

# The reference cases (SOURCE_DIR/tests/data/reference/cases.json):
# read_reference_cases() sets `cases` and `last_case` (the last index); reference_case(i) sets
# name, model, layer_index, tokens, input and expected of case i, in the caller's scope.
macro(read_reference_cases)
  file(READ "${SOURCE_DIR}/tests/data/reference/cases.json" cases)
  string(JSON last_case LENGTH "${cases}")
  math(EXPR last_case "${last_case} - 1")
endmacro()
macro(reference_case i)
  foreach(_key name model tokens input expected)
    string(JSON ${_key} GET "${cases}" ${i} ${_key})
  endforeach()
  string(JSON layer_index GET "${cases}" ${i} layer)
endmacro()

# Configures and builds the tuned command line (tests/tuned_build/cli) in `build`, against the
# tuned header `header` and the libraries of the build that PARENT describes.
set(_tuned_cli_dir "${CMAKE_CURRENT_LIST_DIR}/cli")
function(build_tuned_cli header build)
  run("${CMAKE_COMMAND}" -S "${_tuned_cli_dir}" -B "${build}" -G "${GENERATOR}"
      -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
      -DMOETUNE_SOURCE_DIR=${SOURCE_DIR} -DMOETUNE_TUNED_CONFIG=${header} -DMOETUNE_PARENT=${PARENT})
  run("${CMAKE_COMMAND}" --build "${build}")
endfunction()
