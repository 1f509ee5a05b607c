// How the AVX2 kernels read each weight dtype: 8 weights widened to f32 in a register
// (load8), one weight (at), the dtype's pointer in GemvArgs, and whether rows carry a scale;
// and the row dot products the oi GEMV kernels of every dtype are made of (dot_rows).
// Only for the avx2* kernel files (they need -mavx2). In an unnamed namespace, as
// avx2_util.h's helpers are static: each file gets its own copy, never one compiled for
// another ISA.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/common/avx2_util.h"
#include "kernels/common/dtype.h"
#include "kernels/gemv/gemv.h"

namespace moetune::avx2 {
namespace {

struct F32 {
  using T = float;
  static __m256 load8(const T* p) { return _mm256_loadu_ps(p); }
  static float at(const T* p) { return *p; }
  static const T* weights(const GemvArgs& a) { return a.w; }
  static constexpr bool kScaled = false;
};

// bf16 is the upper half of an f32: zero-extend to 32 bits, shift left by 16.
struct Bf16 {
  using T = uint16_t;
  static __m256 load8(const T* p) {
    const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
  }
  static float at(const T* p) { return bf16_to_f32(*p); }
  static const T* weights(const GemvArgs& a) { return a.w_bf16; }
  static constexpr bool kScaled = false;
};

struct Int8 {
  using T = int8_t;
  static __m256 load8(const T* p) {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
  }
  static float at(const T* p) { return static_cast<float>(*p); }
  static const T* weights(const GemvArgs& a) { return a.w_i8; }
  static constexpr bool kScaled = true;
};

// y[r] (+)= scale[r] · Σ_i W_r[i]·x[i] for the R rows W_r at w[r] (scale[r] only where D is
// scaled), each summed in one fixed order: 2 vectors per step (16 inputs), then one vector,
// the two accumulators added and reduced horizontally, then the last k % 8 one by one. Every
// kernel built on it gives a row the same bits whichever rows share its pass. The R rows
// share each load of x; 2·R independent FMA chains.
template <typename D, int R>
inline void dot_rows(const typename D::T* const (&w)[R], const float* x, int64_t k,
                     const float* const (&scale)[R], float* const (&y)[R], bool accumulate) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
    for (int r = 0; r < R; ++r) {
      acc[r][0] = _mm256_fmadd_ps(D::load8(w[r] + i), x0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(D::load8(w[r] + i + 8), x1, acc[r][1]);
    }
  }
  for (; i + 8 <= k; i += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    for (int r = 0; r < R; ++r) acc[r][0] = _mm256_fmadd_ps(D::load8(w[r] + i), x0, acc[r][0]);
  }
  for (int r = 0; r < R; ++r) {
    float sum = hsum(_mm256_add_ps(acc[r][0], acc[r][1]));
    for (int64_t j = i; j < k; ++j) sum += D::at(w[r] + j) * x[j];
    if constexpr (D::kScaled) sum *= *scale[r];
    *y[r] = accumulate ? *y[r] + sum : sum;
  }
}

}  // namespace
}  // namespace moetune::avx2
