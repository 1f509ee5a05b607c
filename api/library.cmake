# The public API as an installed library (include/moetune/, DESIGN §9 "The product as a library"):
# libmoetune.so, its headers, the CMake package (find_package(moetune CONFIG), target
# moetune::moetune), a pkg-config file, and the moetune and moetune_bench binaries.
#
# The library is shared and links the internal static libraries privately, with the selection
# this build compiled in (the tuned one with -DMOETUNE_TUNED_CONFIG): a consumer needs only the
# public headers, and none of the internals' dependencies at build time (the .so carries them).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

configure_file(${PROJECT_SOURCE_DIR}/include/moetune/version.h.in
  ${PROJECT_BINARY_DIR}/include/moetune/version.h @ONLY)

# Of harness/, only the checkpoint and safetensors readers, compiled in: linking the harness
# archive would also pull in harness/alloc_counter.cpp, whose counting operator new satisfies
# the library's references to ::operator new before libstdc++ does, and a shared library must
# not replace its host program's allocator.
add_library(moetune_lib SHARED ${PROJECT_SOURCE_DIR}/api/layer.cpp
  ${PROJECT_SOURCE_DIR}/harness/checkpoint.cpp ${PROJECT_SOURCE_DIR}/harness/safetensors.cpp)
add_library(moetune::moetune ALIAS moetune_lib)
set_target_properties(moetune_lib PROPERTIES
  OUTPUT_NAME moetune
  EXPORT_NAME moetune
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
target_include_directories(moetune_lib PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(moetune_lib PRIVATE moetune_selection nlohmann_json::nlohmann_json)
target_link_options(moetune_lib PRIVATE -Wl,--as-needed)

install(TARGETS moetune_lib EXPORT moetuneTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS moetune moetune_bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/moetune/moetune.h
  ${PROJECT_BINARY_DIR}/include/moetune/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/moetune)

set(_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/moetune)
install(EXPORT moetuneTargets NAMESPACE moetune:: DESTINATION ${_cmake_dir})
if(MOETUNE_TUNED_CONFIG)
  set(MOETUNE_TUNED TRUE)
else()
  set(MOETUNE_TUNED FALSE)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/api/moetuneConfig.cmake.in
  ${PROJECT_BINARY_DIR}/moetuneConfig.cmake INSTALL_DESTINATION ${_cmake_dir})
# 0.x: a minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/moetuneConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/moetuneConfig.cmake
  ${PROJECT_BINARY_DIR}/moetuneConfigVersion.cmake DESTINATION ${_cmake_dir})

file(RELATIVE_PATH MOETUNE_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${PROJECT_SOURCE_DIR}/api/moetune.pc.in ${PROJECT_BINARY_DIR}/moetune.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/moetune.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Python module `moetune` (api/python_module.cpp), when Debian's pybind11 (python3-pybind11)
# is found. Not in sanitized or fuzzing builds: an instrumented module cannot be loaded into the
# uninstrumented python3. Built into build/python/; installed beside the library, under
# lib/python3/dist-packages, with an RPATH to it.
option(MOETUNE_PYTHON "Build the Python module when pybind11 is found" ON)
set(MOETUNE_PYTHON_MODULE OFF)
# Debian's python3 by default: the one python3-pybind11, -numpy, -pytest and -jsonschema are
# installed for (a pyenv earlier in PATH has none of them). -DPython3_EXECUTABLE=... overrides.
if(NOT Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3)
endif()
find_package(Python3 COMPONENTS Interpreter OPTIONAL_COMPONENTS Development.Module)
if(MOETUNE_PYTHON AND NOT MOETUNE_SANITIZE AND NOT MOETUNE_FUZZ AND Python3_Development.Module_FOUND)
  # pybind11 builds against the Python3 found above (CMake's FindPython3, python3-dev).
  find_package(pybind11 CONFIG QUIET)
  if(pybind11_FOUND)
    # NO_EXTRAS: no LTO (whose link-time warnings -Werror builds would fail on) nor stripping.
    pybind11_add_module(moetune_python NO_EXTRAS ${PROJECT_SOURCE_DIR}/api/python_module.cpp)
    target_link_libraries(moetune_python PRIVATE moetune_lib)
    set_target_properties(moetune_python PROPERTIES
      OUTPUT_NAME moetune
      LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/python
      INSTALL_RPATH "$ORIGIN/../..")
    install(TARGETS moetune_python LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/python3/dist-packages)
    set(MOETUNE_PYTHON_MODULE ON)
    message(STATUS "pybind11 ${pybind11_VERSION}: building the Python module moetune")
  else()
    message(STATUS "pybind11 not found (python3-pybind11): no Python module")
  endif()
elseif(MOETUNE_PYTHON AND NOT MOETUNE_SANITIZE AND NOT MOETUNE_FUZZ)
  message(STATUS "Python headers not found (python3-dev): no Python module")
endif()
