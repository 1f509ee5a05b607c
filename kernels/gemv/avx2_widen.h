// How the AVX2 kernels read each weight dtype: 8 weights widened to f32 in a register
// (load8, which kernels/common/vec_avx2.h's Vec8::widen calls), one weight (at), the dtype's
// pointer in GemvArgs, and whether rows carry a scale; with Vec8 they instantiate the oi
// kernels of dot_rows.h (Rows, dot_rows, oi_passes_of_4, seg4_pair) for AVX2. Only for the
// avx2* kernel files (they need -mavx2). In an unnamed namespace, as avx2_util.h's helpers are
// static: each file gets its own copy, never one compiled for another ISA.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/common/dtype.h"
#include "kernels/common/vec_avx2.h"
#include "kernels/gemv/dot_rows.h"
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

}  // namespace
}  // namespace moetune::avx2
