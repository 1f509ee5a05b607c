// Small AVX2 helpers shared by the avx2* kernel files (and only by them: they need -mavx2).
//
// Everything here is `static inline`: each file gets its own copy, so the linker can never
// merge a copy compiled for one ISA into a file built for another (an `inline` function with
// external linkage compiled in an avx512* file could otherwise end up called from AVX2 code).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace moetune::avx2 {

// Lanes [0, count) set, for the masked loads and stores of a tail of count < 8 elements.
static inline __m256i tail_mask(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// The sum of the 8 lanes of v.
static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace moetune::avx2
