// How the AVX2 kernels read each weight dtype: 8 weights widened to f32 in a register
// (load8), one weight (at), the dtype's pointer in GemvArgs, and whether rows carry a scale;
// and what the oi GEMV kernels of every dtype are made of: a call's rows (Rows), their dot
// products (dot_rows), and the passes of 4 rows of the r4 and seg4 kernels (oi_passes_of_4).
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

// Row o of an oi call: its weights, its scale (where D has scales) and its output for token t.
template <typename D>
struct Rows {
  const GemvArgs& a;
  const typename D::T* w = D::weights(a);
  const typename D::T* row(int64_t o) const { return w + o * a.ldw; }
  const float* scale(int64_t o) const { return D::kScaled ? a.scale + o : nullptr; }
  float* out(int64_t t, int64_t o) const { return a.y + t * a.ldy + o; }
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

// An oi call in passes of 4 rows: pass p takes rows p·step + j·stride (j < 4), p < n / 4 (4
// adjacent rows: step 4, stride 1; 4 rows a quarter of the outputs apart: step 1, stride
// n / 4); then the last n % 4 rows one at a time.
template <typename D>
void oi_passes_of_4(const GemvArgs& a, int64_t step, int64_t stride) {
  const Rows<D> A{a};
  const int64_t passes = a.n / 4;
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    for (int64_t p = 0; p < passes; ++p) {
      const int64_t r[4] = {p * step, p * step + stride, p * step + 2 * stride,
                            p * step + 3 * stride};
      dot_rows<D, 4>({A.row(r[0]), A.row(r[1]), A.row(r[2]), A.row(r[3])}, x, a.k,
                     {A.scale(r[0]), A.scale(r[1]), A.scale(r[2]), A.scale(r[3])},
                     {A.out(t, r[0]), A.out(t, r[1]), A.out(t, r[2]), A.out(t, r[3])},
                     a.accumulate);
    }
    for (int64_t o = 4 * passes; o < a.n; ++o)
      dot_rows<D, 1>({A.row(o)}, x, a.k, {A.scale(o)}, {A.out(t, o)}, a.accumulate);
  }
}

}  // namespace
}  // namespace moetune::avx2
