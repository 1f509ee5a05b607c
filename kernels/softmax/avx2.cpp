// softmax_f32__inplace with 8 floats per step and the shared vector exp
// (kernels/common/vec.h, 1.05 ulp): max, exponentials into p with the sum, then the
// scaling by 1/sum. Tails are masked, so nothing is read or written past n.
//
// The sum: two 8-lane float accumulators over blocks of kSumBlock elements (each lane adds at
// most kSumBlock/16 = 64 terms, then 4 more to reduce the 16 lanes), block totals added in
// double; relative error below 70·2^-24 at any n, one block for every real router (E <= 128).
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "kernels/common/vec.h"
#include "kernels/common/vec_avx2.h"
#include "kernels/softmax/softmax.h"

namespace moetune {
namespace {

using avx2::hsum;

inline __m256 exp8(__m256 x) { return vec::exp<avx2::Vec8>(x); }

inline float hmax(__m256 v) {
  const __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_max_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_max_ss(t, _mm_movehdup_ps(t)));
}

}  // namespace

void softmax_f32__inplace_avx2(const float* x, float* p, int64_t n) {
  constexpr int64_t kSumBlock = 1024;
  const int64_t tail = n % 8, body = n - tail;
  const __m256i mask = avx2::tail_mask(tail);

  // A NaN may or may not survive vmaxps (it keeps its second operand when either is NaN);
  // either way the result is all NaN: a NaN max makes every x - max NaN, and otherwise the NaN
  // entry's exp makes the sum NaN. This is what the reference does too.
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
  __m256 vmax = neg_inf;
  for (int64_t i = 0; i < body; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  if (tail) {
    const __m256 v = _mm256_maskload_ps(x + body, mask);
    vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(neg_inf, v, _mm256_castsi256_ps(mask)));
  }
  const __m256 max = _mm256_set1_ps(hmax(vmax));

  double total = 0.0;
  for (int64_t i0 = 0; i0 < body; i0 += kSumBlock) {
    const int64_t i1 = std::min(body, i0 + kSumBlock);
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = i0;
    for (; i + 16 <= i1; i += 16) {
      const __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), max));
      const __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), max));
      _mm256_storeu_ps(p + i, e0);
      _mm256_storeu_ps(p + i + 8, e1);
      s0 = _mm256_add_ps(s0, e0);
      s1 = _mm256_add_ps(s1, e1);
    }
    if (i < i1) {
      const __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), max));
      _mm256_storeu_ps(p + i, e0);
      s0 = _mm256_add_ps(s0, e0);
    }
    total += hsum(_mm256_add_ps(s0, s1));
  }
  if (tail) {
    // Masked-off lanes would hold exp(0 - max); they are zeroed before the sum.
    const __m256 v = _mm256_maskload_ps(x + body, mask);
    const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(v, max)), _mm256_castsi256_ps(mask));
    _mm256_maskstore_ps(p + body, mask, e);
    total += hsum(e);
  }

  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / total));
  for (int64_t i = 0; i < body; i += 8)
    _mm256_storeu_ps(p + i, _mm256_mul_ps(_mm256_loadu_ps(p + i), inv));
  if (tail)
    _mm256_maskstore_ps(p + body, mask, _mm256_mul_ps(_mm256_maskload_ps(p + body, mask), inv));
}

}  // namespace moetune
