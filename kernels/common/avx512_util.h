// Small AVX-512 helpers shared by the avx512* kernel files (and only by them: they need
// -mavx512f). Include it first in those files: it sets up immintrin.h (see below).
//
// Everything here is `static inline`, a copy per file, for the reason kernels/common/avx2_util.h
// gives.
#pragma once

// GCC 12 reports its own _mm512_undefined_* (self-initialised variables inside the AVX-512
// intrinsics) as (maybe-)uninitialised once they are inlined: GCC bug 105593, fixed in later
// releases. The pragma must be in force where immintrin.h is first read.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif

#include <cstdint>

namespace moetune::avx512 {

// Lanes [0, count) set, for the masked loads and stores of a tail of count < 16 elements.
static inline __mmask16 tail_mask(int64_t count) {
  return static_cast<__mmask16>((1u << count) - 1u);
}

}  // namespace moetune::avx512
