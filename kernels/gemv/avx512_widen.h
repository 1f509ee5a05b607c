// How the AVX-512 kernels read each weight dtype: 16 weights widened to f32 in a register
// (load16, which kernels/common/vec_avx512.h's Vec16::widen calls), one weight (at), the
// dtype's pointer in GemvArgs, and whether rows carry a scale (avx2_widen.h's readers, 16
// lanes wide); with Vec16 they instantiate the oi kernels of dot_rows.h for AVX-512. Only for
// the avx512* kernel files (they need -mavx512f).
#pragma once

#include "kernels/common/vec_avx512.h"  // first: it sets up immintrin.h

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

}  // namespace
}  // namespace moetune::avx512
