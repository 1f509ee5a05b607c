// Fused SiLU·up, 8 floats per step with the shared vector exp (kernels/common/avx2_exp.h,
// 1.05 ulp). silu(g) = g / (1 + exp(-g)) keeps naive's formula, so the extremes come out the
// same: g = -100 gives exp(100) = +inf and -100 / inf = -0; g = +100 gives 100 / (1 + 0).
// A true division rather than rcp + Newton, which would add its own ulp of error: this keeps
// the result within a few ulp of naive (the bound is worked out in tests/test_swiglu.cpp).
#include <immintrin.h>

#include "kernels/common/avx2_exp.h"
#include "kernels/swiglu/swiglu.h"

namespace moetune {
namespace {

inline __m256 swiglu8(__m256 g, __m256 u) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = avx2::exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u);
}

}  // namespace

void swiglu_f32__fused_avx2(const float* g, const float* u, float* h, int64_t n) {
  int64_t i = 0;
  // Loads before the store in each step: h may alias g or u.
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(h + i, swiglu8(_mm256_loadu_ps(g + i), _mm256_loadu_ps(u + i)));
  if (i < n) {
    // Masked-off lanes read as 0, give silu(0)·0 = 0 and are never stored: no load or store
    // past the end of any array.
    const __m256i mask = avx2::tail_mask(n - i);
    _mm256_maskstore_ps(h + i, mask,
                        swiglu8(_mm256_maskload_ps(g + i, mask), _mm256_maskload_ps(u + i, mask)));
  }
}

}  // namespace moetune
