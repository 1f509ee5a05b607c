// Softmax in three passes over one buffer: the max, the exponentials written straight into p
// (x may be p), then the scaling by 1/sum. No temporary, no heap.
//
// The sum is accumulated in float, in blocks of kSumBlock elements whose totals are added in
// double: the float chain never exceeds kSumBlock additions, so the relative error of the sum
// stays below (kSumBlock + 1)·2^-24 ≈ 8e-6 at any n, while every real router (E <= 128) takes
// a single block and never touches a double. A plain float sum would be bounded only by
// n·2^-24 (2% at n = 300000).
#include <algorithm>
#include <cmath>

#include "kernels/softmax/softmax.h"

namespace moetune {

void softmax_f32__inplace(const float* x, float* p, int64_t n) {
  constexpr int64_t kSumBlock = 128;
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i)
    if (x[i] > max) max = x[i];
  // NaN needs no case of its own: it is skipped by the max, then exp(NaN - max) poisons the
  // sum and every p; +inf and all -inf reach NaN through inf - inf, as in the reference.
  double total = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += kSumBlock) {
    const int64_t i1 = std::min(n, i0 + kSumBlock);
    float sum = 0.0f;
    for (int64_t i = i0; i < i1; ++i) {
      const float e = std::exp(x[i] - max);
      p[i] = e;
      sum += e;
    }
    total += sum;
  }
  const float inv = static_cast<float>(1.0 / total);
  for (int64_t i = 0; i < n; ++i) p[i] *= inv;
}

}  // namespace moetune
