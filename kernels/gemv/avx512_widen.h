// How the AVX-512 kernels read each weight dtype: 16 weights widened to f32 in a register
// (load16), one weight (at), the dtype's pointer in GemvArgs, and whether rows carry a scale
// (avx2_widen.h's readers, 16 lanes wide); and the 16-lane vector (Vec16) that instantiates
// the oi kernels of dot_rows.h for AVX-512. Only for the avx512* kernel files (they need
// -mavx512f); include kernels/common/avx512_util.h before it.
#pragma once

#include <cstdint>

#include "kernels/common/dtype.h"
#include "kernels/gemv/dot_rows.h"
#include "kernels/gemv/gemv.h"

namespace moetune::avx512 {
namespace {

struct F32 {
  using T = float;
  static __m512 load16(const T* p) { return _mm512_loadu_ps(p); }
  static float at(const T* p) { return *p; }
  static const T* weights(const GemvArgs& a) { return a.w; }
  static constexpr bool kScaled = false;
};

// bf16 is the upper half of an f32: zero-extend to 32 bits, shift left by 16.
struct Bf16 {
  using T = uint16_t;
  static __m512 load16(const T* p) {
    const __m512i u =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
  }
  static float at(const T* p) { return bf16_to_f32(*p); }
  static const T* weights(const GemvArgs& a) { return a.w_bf16; }
  static constexpr bool kScaled = false;
};

struct Int8 {
  using T = int8_t;
  static __m512 load16(const T* p) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b));
  }
  static float at(const T* p) { return static_cast<float>(*p); }
  static const T* weights(const GemvArgs& a) { return a.w_i8; }
  static constexpr bool kScaled = true;
};

// The AVX-512 vector for the kernels of dot_rows.h and gemm_bcast.h: 16 lanes. The horizontal sum
// folds the upper 256 bits onto the lower, then sums 8 lanes as avx2::hsum does (AVX-512F only: no
// DQ extract, and no _mm512_reduce_add_ps, which SIMDe 0.7.4 lacks).
struct Vec16 {
  using Vec = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  static Mask mask(int64_t count) { return tail_mask(count); }  // lanes [0, count), count < 16
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, Vec v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
  static void store_aligned(float* p, Vec v) { _mm512_store_ps(p, v); }
  static Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  template <typename D>
  static Vec widen(const typename D::T* p) {
    return D::load16(p);
  }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static float hsum(Vec v) {
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace
}  // namespace moetune::avx512
