// The 256-bit int8 x int8 traits of rounded_gemv.h's kernels, for the avxvnni* files (AVX2 +
// AVX-VNNI: -mavx2 -mfma -mf16c -mavxvnni; Alder Lake, Zen 5): the VEX vpdpbusd on 32 weights
// per vector, and x quantized as quantize_activations_int8 does it, bit for bit, with AVX2.
//
// The instruction is written _mm256_dpbusd_epi32, the name GCC 12 and Clang 14 accept under
// -mavxvnni alone (they emit the VEX form, {vex} vpdpbusd) and SIMDe 0.7.4 emulates;
// _mm256_dpbusd_avx_epi32, the AVX-VNNI-only name, is missing from SIMDe 0.7.4.
//
// The traits are rounded_gemv.h's Int8 over I256, the source of avx512_rounded.h's Int8x512.
// The quantization is not avx512_rounded.h's at 8 lanes: that one converts through the
// 1.5·2^23 trick and vpmovsdb because SIMDe 0.7.4 lacks AVX-512's float -> int32 conversion;
// AVX2 has vcvtps2dq and packs 32 values into bytes per step.
//
// Everything is static inline: each file gets its own copy (kernels/common/avx2_util.h says
// why).
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/gemv/gemv.h"
#include "kernels/gemv/quantize.h"
#include "kernels/gemv/rounded_gemv.h"

namespace moetune::avxvnni {

// The sums of a, b, c, d in lanes 0..3 (int32: exact in any order).
static inline __m128i hsum4(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
  return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

// The first `bytes` (< 32) bytes at p in a register, zero beyond: a row's tail, never read past.
static inline __m256i load_tail(const void* p, int64_t bytes) {
  alignas(32) unsigned char b[32] = {};
  std::memcpy(b, p, static_cast<size_t>(bytes));
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
}

// The token's scale: max |x_i| / 127 (1 when x is all zero), NaN when an x_i is not finite.
static inline float int8_scale(const float* x, int64_t k) {
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 mx = _mm256_setzero_ps();
  int bad = 0;
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    const __m256 v = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i));
    bad |= _mm256_movemask_ps(_mm256_cmp_ps(v, inf, _CMP_NLT_UQ));  // inf or NaN
    mx = _mm256_max_ps(mx, v);
  }
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  float max_abs = std::fmax(_mm_cvtss_f32(m4), _mm_cvtss_f32(_mm_movehdup_ps(m4)));
  return int8_scale_from(x, i, k, max_abs, bad != 0);
}

// 8 values of x / s, rounded to nearest even and clamped to [-127, 127], as int32.
static inline __m256i quantize8(const float* x, __m256 vs) {
  const __m256 r = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(x), vs),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm256_cvtps_epi32(
      _mm256_max_ps(_mm256_set1_ps(-127.0f), _mm256_min_ps(_mm256_set1_ps(127.0f), r)));
}

// q[i] = clamp(nearbyint(x[i] / s), -127, 127) for i < k, 0 for k <= i < kpad (all 0 when s
// is NaN); returns Σ q[i]. q 32-byte aligned.
static inline int32_t quantize_int8(const float* x, int64_t k, float s, int8_t* q, int64_t kpad) {
  if (std::isnan(s)) {
    std::memset(q, 0, static_cast<size_t>(kpad));
    return 0;
  }
  const __m256 vs = _mm256_set1_ps(s);
  __m256i sum = _mm256_setzero_si256();
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    const __m256i a = quantize8(x + i, vs), b = quantize8(x + i + 8, vs);
    const __m256i c = quantize8(x + i + 16, vs), d = quantize8(x + i + 24, vs);
    sum = _mm256_add_epi32(sum, _mm256_add_epi32(_mm256_add_epi32(a, b), _mm256_add_epi32(c, d)));
    // packs work within 128-bit lanes: a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7, then the
    // 32-bit groups put back in order.
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
    _mm256_store_si256(
        reinterpret_cast<__m256i*>(q + i),
        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  }
  int32_t total = _mm_cvtsi128_si32(
      hsum4(sum, _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()));
  return quantize_int8_from(x, i, k, s, q, kpad, total);
}

// In an unnamed namespace, as avx2_widen.h's readers: each file gets its own copy of the
// traits' functions, never one compiled for another instruction set.
namespace {

// int8 x int8 (rounded_gemv.h's Int8) on 32 weights per vector. 2 tokens x 4 rows per seg4
// pass: 8 accumulators + 4 weight vectors + x + the offset constant, of 16 ymm registers.
struct I256 {
  using V = __m256i;
  static constexpr int kBytes = 32;
  static V zero() { return _mm256_setzero_si256(); }
  static V loadu(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const V*>(p)); }
  static V load(const int8_t* p) { return _mm256_load_si256(reinterpret_cast<const V*>(p)); }
  static V load_tail(const int8_t* p, int64_t bytes) { return avxvnni::load_tail(p, bytes); }
  static V flip(V w) { return _mm256_xor_si256(w, _mm256_set1_epi8(-128)); }
  static V dpbusd(V acc, V w, V x) { return _mm256_dpbusd_epi32(acc, w, x); }
  static __m128i hsum4(V a, V b, V c, V d) { return avxvnni::hsum4(a, b, c, d); }
  static float scale(const float* x, int64_t k) { return int8_scale(x, k); }
  static int32_t quantize(const float* x, int64_t k, float s, int8_t* q, int64_t kpad) {
    return quantize_int8(x, k, s, q, kpad);
  }
};
using Int8x256 = rounded::Int8<I256, 2>;

}  // namespace
}  // namespace moetune::avxvnni
