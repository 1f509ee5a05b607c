// Heap allocations made through C++ operator new, counted process-wide, for `allocs_per_call`
// and `heap_bytes_per_call` (DESIGN §3) and for the tests that a decode step allocates nothing.
//
// harness/alloc_counter.cpp replaces the global operator new and delete (every form: plain,
// array, nothrow, aligned, sized) with malloc-based versions that bump relaxed atomic
// counters, so counting costs one uncontended atomic add per allocation and is safe from any
// thread. Any binary that links moetune_harness gets the replacement.
//
// What is not counted: memory taken with malloc, aligned_alloc or posix_memalign directly
// (kernels/common/aligned.h, Eigen's large temporaries, the OpenMP runtime). The layer's
// AlignedBuffers are sized at construction and grow only when a call has more tokens than
// ever before, so in steady state they would add nothing anyway.
#pragma once

#include <cstdint>

namespace moetune {

class AllocCounter {
 public:
  AllocCounter() { mark(); }  // counts from construction

  // Starts counting again from now.
  void mark();
  // operator new calls (every thread) since the mark.
  int64_t allocs() const;
  // Bytes requested by those calls.
  int64_t bytes() const;
  // operator delete calls with a non-null pointer since the mark.
  int64_t frees() const;

  // Totals since the process started.
  static int64_t total_allocs();
  static int64_t total_bytes();
  static int64_t total_frees();

 private:
  int64_t allocs0_ = 0, bytes0_ = 0, frees0_ = 0;
};

}  // namespace moetune
