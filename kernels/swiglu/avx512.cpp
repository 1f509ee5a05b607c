// Fused SiLU·up, 16 floats per step with the shared AVX-512 exp (kernels/common/avx512_exp.h),
// the same formula and extremes as swiglu_f32__fused_avx2; the tail is one masked step.
#include "kernels/common/avx512_exp.h"  // first: it sets up immintrin.h (see there)
#include "kernels/swiglu/swiglu.h"

namespace moetune {
namespace {

inline __m512 swiglu16(__m512 g, __m512 u) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 e = avx512::exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g));
  return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), u);
}

}  // namespace

void swiglu_f32__fused_avx512(const float* g, const float* u, float* h, int64_t n) {
  int64_t i = 0;
  // Loads before the store in each step: h may alias g or u.
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(h + i, swiglu16(_mm512_loadu_ps(g + i), _mm512_loadu_ps(u + i)));
  if (i < n) {
    // Masked-off lanes are zeroed, never touched in memory (no fault past the end).
    const __mmask16 mask = avx512::tail_mask(n - i);
    _mm512_mask_storeu_ps(h + i, mask,
                          swiglu16(_mm512_maskz_loadu_ps(mask, g + i),
                                   _mm512_maskz_loadu_ps(mask, u + i)));
  }
}

}  // namespace moetune
