# Registers the tuned-build test (tests/tuned_build/run.cmake); included by tests/CMakeLists.txt.
add_test(NAME tuned_build
  COMMAND ${CMAKE_COMMAND}
    -DMOETUNE=$<TARGET_FILE:moetune>
    -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
    -DKERNELS_LIB=$<TARGET_FILE:moetune_kernels>
    -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/tuned_build
    -DCXX=${CMAKE_CXX_COMPILER}
    -DGENERATOR=${CMAKE_GENERATOR}
    -P ${CMAKE_CURRENT_LIST_DIR}/run.cmake)
set_tests_properties(tuned_build PROPERTIES TIMEOUT 120)
