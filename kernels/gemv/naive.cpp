// The reference: the plain loops, written for obviousness. Every gemv speedup is quoted
// against these and every other variant is verified against them.
#include "kernels/gemv/gemv.h"

namespace moetune {

void gemv_f32_oi__naive(const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    for (int64_t o = 0; o < a.n; ++o) {
      float sum = 0.0f;
      for (int64_t i = 0; i < a.k; ++i) sum += a.w[o * a.ldw + i] * x[i];
      y[o] = a.accumulate ? y[o] + sum : sum;
    }
  }
}

void gemv_f32_io__naive(const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    if (!a.accumulate)
      for (int64_t o = 0; o < a.n; ++o) y[o] = 0.0f;
    for (int64_t i = 0; i < a.k; ++i)
      for (int64_t o = 0; o < a.n; ++o) y[o] += a.w[i * a.ldw + o] * x[i];
  }
}

}  // namespace moetune
