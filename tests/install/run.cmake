# The installed library as a user meets it (issue 14, item 3): install this build into a fresh
# prefix (no second build), check the files a package needs, then configure, build and run the
# consumer project examples/ against the prefix alone on every reference case, and compare its
# outputs with transformers' (tests/data/reference) with compare_hidden.
#
# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DCOMPARE=... -DCXX=... -DGENERATOR=...
#       -DBUILD_TYPE=... -P run.cmake
cmake_minimum_required(VERSION 3.20)
include(${CMAKE_CURRENT_LIST_DIR}/../tuned_build/common.cmake)
require_inputs(install/run.cmake BUILD_DIR SOURCE_DIR WORK_DIR COMPARE CXX GENERATOR)

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# What a package must hold; libdir is lib/ or lib/<multiarch>/ depending on GNUInstallDirs.
file(GLOB_RECURSE config ${prefix}/*/moetuneConfig.cmake)
file(GLOB_RECURSE pc ${prefix}/*/moetune.pc)
file(GLOB_RECURSE so ${prefix}/*/libmoetune.so)
foreach(f config pc so)
  if(NOT ${f})
    message(FATAL_ERROR "the install has no ${f} file under ${prefix}")
  endif()
endforeach()
foreach(f include/moetune/moetune.h include/moetune/version.h bin/moetune bin/moetune_bench)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "the install has no ${f}")
  endif()
endforeach()
get_filename_component(config_dir "${config}" DIRECTORY)
foreach(f moetuneConfigVersion.cmake moetuneTargets.cmake)
  if(NOT EXISTS ${config_dir}/${f})
    message(FATAL_ERROR "the install has no ${config_dir}/${f}")
  endif()
endforeach()

# The library exports the public API, not the internals, and above all not the allocation
# counter's operator new (harness/alloc_counter.cpp), which would replace the host's allocator.
find_program(NM nm)
if(NM)
  run(${NM} -DC --defined-only ${so})
  expect("${out}" "moetune::Layer::forward(")
  if(out MATCHES "operator new|moetune::MoeLayer::|moetune::InputError")
    message(FATAL_ERROR "${so} exports internal symbols: ${CMAKE_MATCH_0}")
  endif()
endif()

# pkg-config, relocated to the prefix: its flags name this prefix's include and lib dirs.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  get_filename_component(pc_dir "${pc}" DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  run(${PKG_CONFIG} --cflags --libs moetune)
  string(REGEX MATCH "-I[^ ]*/include" inc "${out}")
  string(SUBSTRING "${inc}" 2 -1 inc_path)
  if(NOT EXISTS "${inc_path}/moetune/moetune.h")
    message(FATAL_ERROR "pkg-config --cflags gives ${out}: no moetune/moetune.h under it")
  endif()
  expect("${out}" "-lmoetune")
endif()

# The consumer project, configured against the prefix only.
set(example ${WORK_DIR}/example)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples -B ${example} -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_PREFIX_PATH=${prefix}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
run(${CMAKE_COMMAND} --build ${example})

# Every reference case (tests/data/reference/cases.json), 1 and 5 tokens.
set(data ${SOURCE_DIR}/tests/data)
read_reference_cases()
foreach(i RANGE ${last_case})
  reference_case(${i})
  run(${example}/run_layer ${data}/${model} ${layer_index} ${data}/${input} ${WORK_DIR}/${name}.out.safetensors
    --threads 2 --calls 3)
  expect("${out}" "per call (median of 3)")
  expect("${out}" "moetune ")
  expect("${out}" "selection: ")
  run(${COMPARE} ${WORK_DIR}/${name}.out.safetensors ${data}/${expected})
  message(STATUS "${name}: ${out}")
endforeach()

# A mistake reaches the user as the library's message, exit status 2, nothing written.
execute_process(COMMAND ${example}/run_layer ${data}/qwen3_moe_tiny 7
    ${data}/reference/qwen3_moe_tiny_L1_T1.in.safetensors ${WORK_DIR}/bad.out.safetensors
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR EXISTS ${WORK_DIR}/bad.out.safetensors)
  message(FATAL_ERROR "run_layer on a layer that does not exist: exit ${rc}, expected 2 and no output\n${err}")
endif()
expect("${err}" "layer 7")
