# Sanitizer flags for every target of a build, shared by the main build and the tuned-build
# sub-project (tests/tuned_build/cli), which links the main build's instrumented libraries and
# so must be compiled the same way. Recovery is off so that one UBSan finding fails the test
# that hit it, instead of a line in a log nobody reads; frame pointers make ASan's stacks whole
# at -O1.
macro(moetune_sanitize sanitizers)
  add_compile_options(-fsanitize=${sanitizers} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${sanitizers})
  # ASan's instrumentation defeats GCC 12's flow analysis: it reports libstdc++'s own std::regex
  # and std::function members as maybe-uninitialised. The plain GCC and Clang builds keep the
  # warning, so our code is still checked for it.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  # Clang cannot vectorise the kernels' `#pragma omp simd` loops with UBSan's checks in them and
  # says so (-Wpass-failed); that is the instrumentation, not the code.
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    add_compile_options(-Wno-pass-failed)
  endif()
endmacro()
