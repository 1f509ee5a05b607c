// The AVX2 vector traits (8 f32 lanes) that the one-source kernel templates are instantiated
// with: kernels/common/vec_exp.h, gemv/one_token.h, gemv/token_batched.h, gemv/dot_rows.h,
// gemv/gemm_bcast.h, swiglu/fused_vec.h. kernels/common/vec_avx512.h is the 16-lane twin; the
// two agree member for member, so a template body compiles against either (Highway's idea
// without the dependency).
//
// Only for the avx2* (and avxvnni*) files: it needs -mavx2 -mfma. In an unnamed namespace, so
// every template instantiated with Vec8 has internal linkage too: each file its own copy,
// compiled with its own flags, never merged by the linker with one built for another ISA.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/common/avx2_util.h"

namespace moetune::avx2 {
namespace {

struct Vec8 {
  using Vec = __m256;
  using Mask = __m256i;
  static constexpr int kLanes = 8;
  static Mask mask(int64_t count) { return tail_mask(count); }  // lanes [0, count), count < 8
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec set1(float v) { return _mm256_set1_ps(v); }
  static Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  // Masked-off lanes read as 0 and are never touched in memory (no fault past the end).
  static Vec load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static Vec load_aligned(const float* p) { return _mm256_load_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static void store(float* p, Vec v, Mask m) { _mm256_maskstore_ps(p, m, v); }
  static void store_aligned(float* p, Vec v) { _mm256_store_ps(p, v); }
  template <typename D>
  static Vec widen(const typename D::T* p) {
    return D::load8(p);
  }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec fnma(Vec a, Vec b, Vec c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a·b
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec div(Vec a, Vec b) { return _mm256_div_ps(a, b); }
  static Vec min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  static Vec round_nearest(Vec v) {
    return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // p · 2^n for an integer-valued n in [-150, 145] (vec_exp.h's clamp). AVX2 has no vscalefps:
  // 2^n is built in the exponent field, as two factors 2^(n>>1) · 2^(n - (n>>1)), each a normal
  // float over that range, so a product past FLT_MAX becomes +inf and one below FLT_MIN a
  // denormal or 0 by the rounding of the last product, instead of the exponent field wrapping.
  static Vec scale_pow2(Vec p, Vec n) {
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  }
  // The 8 lanes as 8 (hsum4's first step; vec_avx512.h folds 16 into 8 there).
  static __m256 fold8(Vec v) { return v; }
  static float hsum(Vec v) { return avx2::hsum(v); }
};

}  // namespace
}  // namespace moetune::avx2
