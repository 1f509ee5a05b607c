// exp of 16 floats at once, for the AVX-512 kernels. Include it only from files named avx512*:
// it needs -mavx512f, which only those files are compiled with.
//
// The same reduction and polynomial as kernels/common/avx2_exp.h (see there for the fit and
// its measured accuracy); only the scaling differs: vscalefps multiplies by 2^n with one
// rounding, giving +inf past FLT_MAX and denormals or 0 below FLT_MIN, so n needs no split.
#pragma once

#include "kernels/common/avx512_util.h"  // sets up immintrin.h

namespace moetune::avx512 {

static inline __m512 exp_ps(__m512 x) {
  // Past these the result is already 0 or +inf; the clamp keeps r small for huge |x|, where
  // x - n·ln2 would otherwise be computed from two nearly equal huge numbers. max/min return
  // their second operand when either is NaN, so NaN passes through.
  x = _mm512_min_ps(_mm512_set1_ps(100.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(0x1.715476p+0f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e43p-1f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-0x1.05c61p-29f), r);

  __m512 p = _mm512_set1_ps(0x1.6ae73p-10f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.126782p-7f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.555822p-5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.55541ap-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.fffffcp-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

}  // namespace moetune::avx512
