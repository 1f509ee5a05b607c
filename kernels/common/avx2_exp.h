// exp of 8 floats at once, shared by the AVX2 kernels (swiglu, softmax). Include it only from
// files named avx2*: it needs -mavx2 -mfma, which only those files are compiled with.
//
// exp(x) = 2^n · p(r), n = round(x·log2 e), r = x - n·ln2 in [-ln2/2, ln2/2] (Cody-Waite: ln2
// split in a 24-bit head and a tail, each subtracted by an FMA). p is a degree-6 polynomial with
// p(0) = 1 exactly, fitted for this project (Lawson's minimax iteration on the relative error):
// 2.0e-9 relative before rounding its coefficients to float, i.e. 0.03 ulp, so the error is the
// evaluation's rounding. Measured over every 7th float in [-104, 89] (3.2e8 inputs, against
// double exp): at most 1.05 ulp from the exact value; the kernel tests' tolerances rest on it.
//
// 2^n is applied as two factors 2^(n>>1) · 2^(n - (n>>1)), each a normal float for every n
// that the clamp allows, so a result past FLT_MAX becomes +inf and a result below FLT_MIN
// becomes a denormal or 0 by the one rounding of the last product, instead of the exponent
// field wrapping around. NaN passes through the clamp (max/min return their second operand
// when either is NaN) and the polynomial, so exp(NaN) = NaN.
#pragma once

#include "kernels/common/avx2_util.h"

namespace moetune::avx2 {

static inline __m256 exp_ps(__m256 x) {
  // exp(-104) < FLT_TRUE_MIN / 2 rounds to 0 and exp(100) > FLT_MAX: past these the result
  // is already decided, and the clamp keeps n within [-150, 145].
  x = _mm256_min_ps(_mm256_set1_ps(100.0f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(0x1.715476p+0f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e43p-1f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-0x1.05c61p-29f), r);

  __m256 p = _mm256_set1_ps(0x1.6ae73p-10f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.126782p-7f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.555822p-5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.55541ap-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0x1.fffffcp-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));

  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

}  // namespace moetune::avx2
