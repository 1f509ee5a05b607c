// The AVX-512 vector traits (16 f32 lanes): kernels/common/vec_avx2.h's Vec8, member for member,
// 16 lanes wide, for the same templates. Only for the avx512* (and amx*) files: it needs
// -mavx512f. Include it first: avx512_util.h sets up immintrin.h. In an unnamed namespace for the
// reason vec_avx2.h gives.
//
// Only intrinsics SIMDe 0.7.4 has or tests/simde/simde_extras.h adds (the emulated test build
// compiles these files without -mavx512f): hence the 64-bit extract in fold8 (SIMDe lacks
// _mm512_extractf32x8_ps), and hsum written out rather than _mm512_reduce_add_ps, whose tree
// (halves added pairwise down to one lane) it reproduces, so the sums keep their bits.
#pragma once

#include "kernels/common/avx512_util.h"  // first: it sets up immintrin.h

#include <cstdint>

namespace moetune::avx512 {
namespace {

struct Vec16 {
  using Vec = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  static Mask mask(int64_t count) { return tail_mask(count); }  // lanes [0, count), count < 16
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec set1(float v) { return _mm512_set1_ps(v); }
  static Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  // Masked-off lanes read as 0 and are never touched in memory (no fault past the end).
  static Vec load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static Vec load_aligned(const float* p) { return _mm512_load_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, Vec v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static void store_aligned(float* p, Vec v) { _mm512_store_ps(p, v); }
  template <typename D>
  static Vec widen(const typename D::T* p) {
    return D::load16(p);
  }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec fnma(Vec a, Vec b, Vec c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a·b
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec div(Vec a, Vec b) { return _mm512_div_ps(a, b); }
  static Vec min(Vec a, Vec b) { return _mm512_min_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
  static Vec round_nearest(Vec v) {
    return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // p · 2^n: vscalefps, one rounding, +inf past FLT_MAX and denormals or 0 below FLT_MIN, so
  // n needs none of Vec8's splitting.
  static Vec scale_pow2(Vec p, Vec n) { return _mm512_scalef_ps(p, n); }
  // The 16 lanes added pairwise into 8 (lane j + lane j+8).
  static __m256 fold8(Vec v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v),
                         _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  }
  static float hsum(Vec v) {
    const __m256 s8 = fold8(v);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace
}  // namespace moetune::avx512
