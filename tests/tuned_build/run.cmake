# The tuned-build test (DESIGN §6): `moetune tune` on a synthetic results file whose answer is
# known, then a build of the selection against the generated header, then the selection that
# build reports must be the header's, and resolve to it.
#
# cmake -DMOETUNE=... -DSOURCE_DIR=... -DKERNELS_LIB=... -DPARENT=... -DWORK_DIR=... -DCXX=...
#       -DGENERATOR=... -P run.cmake
# (PARENT: the file register.cmake generates; its MOETUNE_KERNELS_DEPS are what the kernels
# library links beyond OpenMP, e.g. OpenBLAS.)
cmake_minimum_required(VERSION 3.20)

foreach(input MOETUNE SOURCE_DIR KERNELS_LIB PARENT WORK_DIR CXX GENERATOR)
  if(NOT DEFINED ${input})
    message(FATAL_ERROR "run.cmake: -D${input}=... is required")
  endif()
endforeach()

include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(header "${WORK_DIR}/tuned.h")
set(results "${SOURCE_DIR}/tests/data/tuned_results.json")

run("${MOETUNE}" tune "${results}" -o "${header}")
expect("${out}" "written")
file(READ "${header}" text)
expect("${text}" "Do not edit")
expect("${text}" "from tuned_results.json")
# What the synthetic results (of a baseline x86-64, cpu_features "sse4.2", whose defaults are
# the portable lines of default_selection.inc) make the tuner choose: a 2x faster gemv, a 1.67x
# faster layer strategy; a 1% faster swiglu is not significant and the default stays.
expect("${text}" "{\"gemv\", 2048, 768, 128, 8, 0, true, 1, 1, \"f32\", \"oi\", \"gemv_f32_oi__naive\"}")
expect("${text}" "{\"layer\", 2048, 768, 128, 8, 0, true, 16, 2, \"f32\", \"oi\", \"layer_f32__row_parallel\"}")
expect("${text}" "{\"swiglu\", 2048, 768, 128, 8, 0, true, 1, 1, \"f32\", \"any\", \"swiglu_f32__fused\"}")
run("${MOETUNE}" tune "${results}" -o "${header}")
expect("${out}" "unchanged")

set(build "${WORK_DIR}/build")
run("${CMAKE_COMMAND}" -S "${CMAKE_CURRENT_LIST_DIR}" -B "${build}" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release
    -DMOETUNE_SOURCE_DIR=${SOURCE_DIR} -DMOETUNE_TUNED_CONFIG=${header}
    -DMOETUNE_KERNELS_LIB=${KERNELS_LIB} -DMOETUNE_PARENT=${PARENT})
run("${CMAKE_COMMAND}" --build "${build}")
# The synthetic class is not this machine's: run as it (the variable is for tests only) so that
# its table is chosen; then this machine's own class, which no table fits: the defaults.
set(class "SyntheticCPU/1/2/baseline/?/?/?")
expect("${text}" "TunedTable{\"${class}\", kProvenance0, kEntries0.data(), kEntries0.size()}")
run("${CMAKE_COMMAND}" -E env MOETUNE_NO_CPU_CHECK=1 "${build}/print_selection")
expect("${out}" "table: none")
expect("${out}" "rule: none")
run("${CMAKE_COMMAND}" -E env "MOETUNE_MACHINE_CLASS=${class}" "${build}/print_selection")
set(printed "${out}")
expect("${printed}" "class: ${class}")
expect("${printed}" "table: ${class}")
expect("${printed}" "rule: this machine's class")
expect("${printed}" "tuned: yes")
expect("${printed}" "results: tuned_results.json")
expect("${printed}" "machine: Synthetic CPU for the tuned-build test")
file(SHA256 "${results}" results_sha256)
expect("${printed}" "results_sha256: ${results_sha256}")
expect("${text}" "/* results_sha256 */ \"${results_sha256}\"")
expect("${text}" "// {op, hidden, intermediate, experts, top_k, shared_intermediate, norm_topk_prob, tokens,")
# The synthetic CPU is not this one: the first selection warns once, naming both; the
# environment variable silences it.
expect("${err}" "this build's tuned selection was measured on Synthetic CPU for the tuned-build test")
expect("${err}" "this CPU differs")
expect("${err}" "MOETUNE_NO_CPU_CHECK")
string(REGEX MATCHALL "this build.s tuned selection" warnings "${err}")
list(LENGTH warnings n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected the CPU warning once, got it ${n} times:\n${err}")
endif()
run("${CMAKE_COMMAND}" -E env MOETUNE_NO_CPU_CHECK=1 "MOETUNE_MACHINE_CLASS=${class}"
    "${build}/print_selection")
if(NOT err STREQUAL "")
  message(FATAL_ERROR "MOETUNE_NO_CPU_CHECK=1 did not silence the CPU warning:\n${err}")
endif()

# Every entry of the header is listed, and resolves to its own variant at its own point
# (naive, row_parallel and fused run on any x86-64).
string(REGEX MATCHALL "\n    {\"[a-z]+\", [^\n]*}," entries "${text}")
list(LENGTH entries n)
if(NOT n EQUAL 3)
  message(FATAL_ERROR "expected 3 entries in the header, found ${n}:\n${text}")
endif()
foreach(line IN LISTS entries)
  # {"op", H, I, E, k, S, norm, tokens, threads, "dtype", "layout", "variant"},
  string(REGEX REPLACE "[\n {}\",]+" ";" fields "${line}")
  list(FILTER fields EXCLUDE REGEX "^$")
  list(GET fields 0 op)
  list(GET fields 1 h)
  list(GET fields 2 i)
  list(GET fields 3 e)
  list(GET fields 4 k)
  list(GET fields 5 s)
  list(GET fields 6 norm)
  list(GET fields 7 tokens)
  list(GET fields 8 threads)
  list(GET fields 9 dtype)
  list(GET fields 10 layout)
  list(GET fields 11 variant)
  if(norm STREQUAL "true")
    set(norm norm)
  else()
    set(norm nonorm)
  endif()
  expect("${printed}"
    "entry: ${op} H${h}_I${i}_E${e}_k${k}_S${s}_${norm} ${tokens} ${threads} ${dtype} ${layout} ${variant} -> ${variant}")
endforeach()
message(STATUS "tuned build selects the generated header's choices:\n${printed}")
