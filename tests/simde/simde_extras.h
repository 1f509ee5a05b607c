// Force-included (-include) into the avx512* and avxvnni* kernel files of the SIMDe test build
// (tests/simde/CMakeLists.txt): SIMDe with its native aliases, so that the files' own
// _mm512_* and _mm256_dpbusd_* calls compile, without any AVX-512 flag, to SIMDe's portable
// code (which uses the machine's native AVX2 where it can), and the intrinsics that SIMDe
// 0.7.4 (Debian 12's libsimde-dev) lacks, written here on its types. Test-only: nothing in the
// product includes this file.
//
// Each missing intrinsic is written as the Intel guide defines it, lane by lane: it is the
// reference the emulated kernels are checked through, so it must be obvious, not fast.
#pragma once

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include <cstdint>
#include <cstring>

#include "kernels/common/dtype.h"

namespace moetune_simde {

inline simde__m512 maskz_loadu_ps(simde__mmask16 k, const void* p) {
  simde__m512_private r;
  const float* f = static_cast<const float*>(p);
  for (int i = 0; i < 16; ++i) r.f32[i] = (k >> i) & 1 ? f[i] : 0.0f;
  return simde__m512_from_private(r);
}

inline void mask_storeu_ps(void* p, simde__mmask16 k, simde__m512 v) {
  const simde__m512_private a = simde__m512_to_private(v);
  float* f = static_cast<float*>(p);
  for (int i = 0; i < 16; ++i)
    if ((k >> i) & 1) f[i] = a.f32[i];
}

inline simde__m256 extractf32x8_ps(simde__m512 v, int imm) {
  const simde__m512_private a = simde__m512_to_private(v);
  simde__m256_private r;
  for (int i = 0; i < 8; ++i) r.f32[i] = a.f32[8 * (imm & 1) + i];
  return simde__m256_from_private(r);
}

// The Intel guide's order: halves added pairwise, then the halves of those, down to one lane.
inline float reduce_add_ps(simde__m512 v) {
  simde__m512_private a = simde__m512_to_private(v);
  for (int width = 8; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i) a.f32[i] = a.f32[i] + a.f32[i + width];
  return a.f32[0];
}

// Widening: 16 lanes of u16 or i8 to i32, and i32 to f32 (nearest even, the default MXCSR).
inline simde__m512i cvtepu16_epi32(simde__m256i v) {
  const simde__m256i_private a = simde__m256i_to_private(v);
  simde__m512i_private r;
  for (int i = 0; i < 16; ++i) r.i32[i] = a.u16[i];
  return simde__m512i_from_private(r);
}

inline simde__m512i cvtepi8_epi32(simde__m128i v) {
  const simde__m128i_private a = simde__m128i_to_private(v);
  simde__m512i_private r;
  for (int i = 0; i < 16; ++i) r.i32[i] = a.i8[i];
  return simde__m512i_from_private(r);
}

inline simde__m512 cvtepi32_ps(simde__m512i v) {
  const simde__m512i_private a = simde__m512i_to_private(v);
  simde__m512_private r;
  for (int i = 0; i < 16; ++i) r.f32[i] = static_cast<float>(a.i32[i]);
  return simde__m512_from_private(r);
}

// AVX-VNNI's VEX form computes what the AVX512VL one does.
inline simde__m256i dpbusd_avx_epi32(simde__m256i src, simde__m256i a, simde__m256i b) {
  return simde_mm256_dpbusd_epi32(src, a, b);
}

// bf16 of each f32, nearest even (vcvtne2ps2bf16, as moetune's scalar f32_to_bf16): b's 16
// values in the low half, a's in the high half.
inline simde__m512bh cvtne2ps_pbh(simde__m512 a, simde__m512 b) {
  const simde__m512_private pa = simde__m512_to_private(a), pb = simde__m512_to_private(b);
  simde__m512bh_private r;
  for (int i = 0; i < 16; ++i) {
    r.u16[i] = moetune::f32_to_bf16(pb.f32[i]);
    r.u16[16 + i] = moetune::f32_to_bf16(pa.f32[i]);
  }
  return simde__m512bh_from_private(r);
}

inline simde__m256bh cvtneps_pbh(simde__m512 a) {
  const simde__m512_private pa = simde__m512_to_private(a);
  simde__m256bh_private r;
  for (int i = 0; i < 16; ++i) r.u16[i] = moetune::f32_to_bf16(pa.f32[i]);
  return simde__m256bh_from_private(r);
}

}  // namespace moetune_simde

// Some are macros in the compilers' own headers (clang's _mm512_extractf32x8_ps): replaced.
#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps(k, p) moetune_simde::maskz_loadu_ps(k, p)
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps(p, k, v) moetune_simde::mask_storeu_ps(p, k, v)
#undef _mm512_extractf32x8_ps
#define _mm512_extractf32x8_ps(v, imm) moetune_simde::extractf32x8_ps(v, imm)
#undef _mm512_reduce_add_ps
#define _mm512_reduce_add_ps(v) moetune_simde::reduce_add_ps(v)
#undef _mm512_cvtepu16_epi32
#define _mm512_cvtepu16_epi32(v) moetune_simde::cvtepu16_epi32(v)
#undef _mm512_cvtepi8_epi32
#define _mm512_cvtepi8_epi32(v) moetune_simde::cvtepi8_epi32(v)
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps(v) moetune_simde::cvtepi32_ps(v)
#undef _mm256_dpbusd_avx_epi32
#define _mm256_dpbusd_avx_epi32(src, a, b) moetune_simde::dpbusd_avx_epi32(src, a, b)
#undef _mm512_cvtne2ps_pbh
#define _mm512_cvtne2ps_pbh(a, b) moetune_simde::cvtne2ps_pbh(a, b)
#undef _mm512_cvtneps_pbh
#define _mm512_cvtneps_pbh(a) moetune_simde::cvtneps_pbh(a)
