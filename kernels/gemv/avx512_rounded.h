// What the avx512bf16* and avx512vnni* gemv files share: the activations rounded to bf16 or
// quantized to int8 into a buffer, bit for bit as quantize.h's scalar functions do it (so a
// kernel multiplies exactly the values its naive reference multiplies), the reductions of
// four accumulators, and the traits of rounded_gemv.h's kernels (Bf16x512; Int8x512, its Int8
// over I512).
//
// Only intrinsics that SIMDe 0.7.4 has (the emulated test build, tests/simde): no masked
// loads (a row's tail is copied into a zeroed register image instead: it runs once per row
// and call, and never on the presets, whose k are multiples of 64), no cvtneps (which would
// also flush denormals, unlike f32_to_bf16), no float <-> int32 conversion (an integer-valued
// float is turned into its int32 with the 1.5·2^23 trick).
//
// Everything is static inline: each file gets its own copy (kernels/common/avx2_util.h says
// why). Needs -mavx512f -mavx512bw; Bf16x512 also -mavx512bf16, Int8x512 -mavx512vnni (each
// file uses only the one its name says).
#pragma once

#include "kernels/common/vec_avx512.h"  // first: it sets up immintrin.h

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/common/dtype.h"
#include "kernels/common/vec.h"
#include "kernels/gemv/gemv.h"
#include "kernels/gemv/quantize.h"
#include "kernels/gemv/rounded_gemv.h"

namespace moetune::avx512 {

// ---- reductions

// The 16 int32 lanes of v added pairwise into 8 (lane j + lane j+8), through the 64-bit extract
// SIMDe has (as vec_avx512.h's Vec16::fold8 for floats).
static inline __m256i fold8(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

// The sums of a, b, c, d in lanes 0..3 (int32: exact in any order; the float ones are
// vec::hsum4<Vec16>).
static inline __m128i hsum4(__m512i a, __m512i b, __m512i c, __m512i d) {
  const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(fold8(a), fold8(b)),
                                         _mm256_hadd_epi32(fold8(c), fold8(d)));
  return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

// The first `bytes` (< 64) bytes at p in a register, zero beyond: a row's tail, never read past.
static inline __m512i load_tail(const void* p, int64_t bytes) {
  alignas(64) unsigned char b[64] = {};
  std::memcpy(b, p, static_cast<size_t>(bytes));
  return _mm512_load_si512(b);
}

// ---- x rounded to bf16

// 16 floats' bf16 (f32_to_bf16: nearest even, NaN made quiet) in the upper halves of the lanes.
static inline __m512i bf16_in_high_halves(__m512 v) {
  const __m512i b = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(b, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  const __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(b, _mm512_set1_epi32(0x7fffffff)),
                                                _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_blend_epi32(nan, rounded, _mm512_or_si512(b, _mm512_set1_epi32(0x00400000)));
}

// The upper 16-bit halves of a's 16 lanes, then of b's: words 1, 3, ..., 31 of a, then of b.
alignas(64) static const uint16_t kHighHalves[32] = {1,  3,  5,  7,  9,  11, 13, 15, 17, 19, 21,
                                                     23, 25, 27, 29, 31, 33, 35, 37, 39, 41, 43,
                                                     45, 47, 49, 51, 53, 55, 57, 59, 61, 63};

// dst[i] = f32_to_bf16(x[i]) for i < k, 0 for k <= i < kpad. dst 64-byte aligned.
static inline void round_bf16(const float* x, int64_t k, uint16_t* dst, int64_t kpad) {
  const __m512i idx = _mm512_load_si512(kHighHalves);
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    const __m512i lo = bf16_in_high_halves(_mm512_loadu_ps(x + i));
    const __m512i hi = bf16_in_high_halves(_mm512_loadu_ps(x + i + 16));
    _mm512_store_si512(dst + i, _mm512_permutex2var_epi16(lo, idx, hi));
  }
  for (; i < k; ++i) dst[i] = f32_to_bf16(x[i]);
  for (; i < kpad; ++i) dst[i] = 0;
}

// ---- x quantized to int8 (quantize_activations_int8, in two steps so that a long row can be
// quantized a block at a time)

// The token's scale: max |x_i| / 127 (1 when x is all zero), NaN when an x_i is not finite.
// The maximum is exact in any order.
static inline float int8_scale(const float* x, int64_t k) {
  const __m512 inf = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  __m512 mx = _mm512_setzero_ps();
  unsigned bad = 0;
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const __m512 v = _mm512_abs_ps(_mm512_loadu_ps(x + i));
    bad |= _mm512_cmp_ps_mask(v, inf, _CMP_NLT_UQ);  // inf or NaN
    mx = _mm512_max_ps(mx, v);
  }
  __m256 m8 = _mm256_max_ps(_mm512_castps512_ps256(mx),
                            _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(mx), 1)));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  float max_abs = std::fmax(_mm_cvtss_f32(m4), _mm_cvtss_f32(_mm_movehdup_ps(m4)));
  return int8_scale_from(x, i, k, max_abs, bad != 0);
}

// q[i] = clamp(nearbyint(x[i] / s), -127, 127) for i < k, 0 for k <= i < kpad (all 0 when s
// is NaN); returns Σ q[i]. q 64-byte aligned.
static inline int32_t quantize_int8(const float* x, int64_t k, float s, int8_t* q, int64_t kpad) {
  if (std::isnan(s)) {
    std::memset(q, 0, static_cast<size_t>(kpad));
    return 0;
  }
  const __m512 vs = _mm512_set1_ps(s), lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  // r + 1.5·2^23 holds the integer r (|r| < 2^22) in its low mantissa bits, exactly.
  const __m512 magic = _mm512_set1_ps(12582912.0f);
  const __m512i magic_bits = _mm512_set1_epi32(0x4B400000);
  __m512i sum = _mm512_setzero_si512();
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    __m512 r = _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(x + i), vs),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm512_max_ps(lo, _mm512_min_ps(hi, r));
    const __m512i qi = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(r, magic)), magic_bits);
    sum = _mm512_add_epi32(sum, qi);
    _mm_store_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtsepi32_epi8(qi));
  }
  const __m128i s4 =
      hsum4(sum, _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512());
  int32_t total = _mm_cvtsi128_si32(s4);
  return quantize_int8_from(x, i, k, s, q, kpad, total);
}

// In an unnamed namespace, as avx2_widen.h's readers: each file gets its own copy of the
// traits' functions, never one compiled for another instruction set.
namespace {

// ---- the traits of rounded_gemv.h's kernels

// bf16 x bf16: 32 weights per vector, vdpbf16ps adds the products of 16 pairs into 16 f32
// lanes. 4 tokens x 4 rows per seg4 pass: 16 accumulators + 4 weight vectors + x, of 32 zmm.
struct Bf16x512 {
  using W = uint16_t;
  using V = __m512i;
  using Acc = __m512;
  static constexpr int kStep = 32;
  static constexpr int kTokens = 4;
  static constexpr bool kScaled = false;
  static const W* weights(const GemvArgs& a) { return a.w_bf16; }
  static Acc zero() { return _mm512_setzero_ps(); }
  static V load_w(const W* p) { return _mm512_loadu_si512(p); }
  static V load_w_tail(const W* p, int64_t count) { return load_tail(p, 2 * count); }
  static V load_x(const W* p) { return _mm512_load_si512(p); }
  static Acc dot(Acc acc, V w, V x) { return _mm512_dpbf16_ps(acc, (__m512bh)x, (__m512bh)w); }
  static float token_scale(const float*, int64_t) { return 1.0f; }
  static int32_t prepare(const float* x, int64_t kb, float, W* dst, int64_t kpad) {
    round_bf16(x, kb, dst, kpad);
    return 0;
  }
  static __m128 finish4(Acc a, Acc b, Acc c, Acc d, float, int32_t, __m128) {
    return vec::hsum4<Vec16>(a, b, c, d);
  }
};

// int8 x int8 (rounded_gemv.h's Int8): 64 weights per vector, 4 tokens x 4 rows per seg4 pass
// as Bf16x512. Its dpbusd needs -mavx512vnni: only the avx512vnni* files call it.
struct I512 {
  using V = __m512i;
  static constexpr int kBytes = 64;
  static V zero() { return _mm512_setzero_si512(); }
  static V loadu(const int8_t* p) { return _mm512_loadu_si512(p); }
  static V load(const int8_t* p) { return _mm512_load_si512(p); }
  static V load_tail(const int8_t* p, int64_t bytes) { return avx512::load_tail(p, bytes); }
  static V flip(V w) { return _mm512_xor_si512(w, _mm512_set1_epi8(-128)); }
  static V dpbusd(V acc, V w, V x) { return _mm512_dpbusd_epi32(acc, w, x); }
  static __m128i hsum4(V a, V b, V c, V d) { return avx512::hsum4(a, b, c, d); }
  static float scale(const float* x, int64_t k) { return int8_scale(x, k); }
  static int32_t quantize(const float* x, int64_t k, float s, int8_t* q, int64_t kpad) {
    return quantize_int8(x, k, s, q, kpad);
  }
};
using Int8x512 = rounded::Int8<I512, 4>;

}  // namespace
}  // namespace moetune::avx512
