# One tuned build for a fleet (issue 17): `moetune tune` on the results of two machine classes
# (tests/data/fleet: synthetic, at the tiny reference checkpoints' shapes, each class with its
# own winning layer strategy) makes one header with a table per class; a tuned moetune built
# against it (tests/tuned_build/cli) runs, with the class forced through MOETUNE_MACHINE_CLASS
# (for tests only):
#   each class                      -> its own table
#   an unknown class of one vendor  -> the nearest table (same vendor and features)
#   an unknown vendor, same features -> the table of those features
#   a machine without the ISA       -> no table: the defaults
# and in every case `moetune config` says which table and why, `moetune layer` runs that
# table's strategy (or the default) and reproduces transformers' outputs.
#
# cmake -DMOETUNE=... -DSOURCE_DIR=... -DPARENT=... -DWORK_DIR=... -DCXX=... -DBUILD_TYPE=...
#       -DGENERATOR=... -P fleet.cmake
cmake_minimum_required(VERSION 3.20)

include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
require_tuned_build_inputs(fleet.cmake)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(data "${SOURCE_DIR}/tests/data")
set(zen3 "AuthenticAMD/25/1/avx2/32K/512K/32768K")
set(xeon "GenuineIntel/6/167/avx2+avxvnni+avx512+avx512vnni+avx512bf16+amx/?/?/?")

# 1. One header, two tables, in class order whatever the order of the inputs.
set(header "${WORK_DIR}/fleet.h")
run("${MOETUNE}" tune "${data}/fleet/xeon-avx512-amx.json" "${data}/fleet/zen3-avx2.json"
    -o "${header}")
expect("${out}" "2 tables")
file(READ "${header}" text)
expect("${text}" "std::array<TunedTable, 2> kTables")
expect("${text}" "TunedTable{\"${zen3}\", kProvenance0, kEntries0.data(), kEntries0.size()}")
expect("${text}" "TunedTable{\"${xeon}\", kProvenance1, kEntries1.data(), kEntries1.size()}")
run("${MOETUNE}" tune "${data}/fleet/zen3-avx2.json" "${data}/fleet/xeon-avx512-amx.json"
    -o "${header}")
expect("${out}" "unchanged")

# 2. The tuned build.
set(build "${WORK_DIR}/build")
build_tuned_cli("${header}" "${build}")
set(tuned "${build}/moetune")
set(compare "${build}/compare_hidden")

# The default layer strategy below 32 tokens, from the build's own config.
run("${tuned}" config --json)
string(JSON nd LENGTH "${out}" defaults)
math(EXPR last "${nd} - 1")
set(default_layer "")
foreach(i RANGE ${last})
  string(JSON op GET "${out}" defaults ${i} op)
  string(JSON dtype GET "${out}" defaults ${i} dtype)
  string(JSON layout GET "${out}" defaults ${i} layout)
  string(JSON from GET "${out}" defaults ${i} from_tokens)
  if(op STREQUAL "layer" AND dtype STREQUAL "f32" AND layout STREQUAL "oi" AND from EQUAL 1)
    string(JSON default_layer GET "${out}" defaults ${i} variant)
  endif()
endforeach()
if(NOT default_layer)
  message(FATAL_ERROR "no f32 oi layer default in\n${out}")
endif()
if(default_layer STREQUAL "layer_f32__row_parallel" OR
   default_layer STREQUAL "layer_f32__token_batched_4")
  message(FATAL_ERROR "the default layer ${default_layer} is a class's winner: the test cannot "
                      "tell them apart; change tests/data/fleet/make_fleet_results.py")
endif()

# 3. Per forced class: the table `moetune config` names, its rule, and what `moetune layer` runs.
read_reference_cases()
# ARGN: more VAR=VALUE for the environment of every run.
function(check_class cls want_table want_rule want_layer)
  set(env "MOETUNE_MACHINE_CLASS=${cls}" ${ARGN})
  run("${CMAKE_COMMAND}" -E env ${env} "${tuned}" config --json)
  string(JSON got_class GET "${out}" this_cpu machine_class)
  string(JSON forced GET "${out}" this_cpu machine_class_forced)
  string(JSON got_table GET "${out}" table_choice machine_class)
  string(JSON got_rule GET "${out}" table_choice rule)
  string(JSON ntables LENGTH "${out}" tables)
  if(got_table STREQUAL "null" OR got_table STREQUAL "")
    set(got_table none)
  endif()
  if(NOT got_class STREQUAL cls OR NOT forced OR NOT got_table STREQUAL want_table OR
     NOT got_rule STREQUAL want_rule OR NOT ntables EQUAL 2)
    message(FATAL_ERROR "class ${cls}: expected table ${want_table} (${want_rule}), got "
                        "${got_table} (${got_rule}):\n${out}")
  endif()
  run("${CMAKE_COMMAND}" -E env ${env} "${tuned}" config)
  expect("${out}" "this machine's class: ${cls} (forced by MOETUNE_MACHINE_CLASS, for tests)")
  expect("${out}" "chosen: ${want_rule}")
  foreach(c RANGE ${last_case})
    reference_case(${c})
    string(MAKE_C_IDENTIFIER "${cls}_${name}" tag)
    set(output "${WORK_DIR}/${tag}.safetensors")
    run("${CMAKE_COMMAND}" -E env ${env} "${tuned}" layer
        --model "${data}/${model}" --layer ${layer_index} --input "${data}/${input}"
        --output "${output}" --threads 1)
    expect("${err}" "${want_layer} on 1 thread")
    if(NOT want_rule STREQUAL "this machine's class")
      expect("${err}" "moetune: tuned table: ${want_rule}")
    endif()
    run("${compare}" "${output}" "${data}/${expected}")
  endforeach()
  message(STATUS "${cls}: table ${want_table} (${want_rule}), ${want_layer}, outputs reproduced")
endfunction()

check_class("${zen3}" "${zen3}" "this machine's class" layer_f32__row_parallel)
check_class("${xeon}" "${xeon}" "this machine's class" layer_f32__token_batched_4)
# A Zen 3 of another model and L3 (Milan-X): the Zen 3 table.
check_class("AuthenticAMD/25/1/avx2/32K/512K/98304K" "${zen3}" "nearest: same vendor and features"
            layer_f32__row_parallel)
# An Intel with AVX2 only (Haswell): no Intel table of its features, the Zen 3's.
check_class("GenuineIntel/6/63/avx2/32K/256K/30720K" "${zen3}" "nearest: same features"
            layer_f32__row_parallel)
# A machine without AVX2: no table of its features, the defaults; with MOETUNE_MAX_ISA the
# kernels are the portable ones such a machine runs, too.
check_class("AuthenticAMD/23/1/baseline/?/?/?" none none ${default_layer} MOETUNE_MAX_ISA=baseline)

# A class that is not one: said, and ignored (this machine's own class decides).
run("${CMAKE_COMMAND}" -E env "MOETUNE_MACHINE_CLASS=AMD EPYC" "${tuned}" config)
expect("${out}" "MOETUNE_MACHINE_CLASS: 'AMD EPYC' is not a machine class")
expect("${out}" "; ignored")
