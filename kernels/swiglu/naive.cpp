// The reference: silu into a temporary, then the product: two passes and an allocation per
// call, as the layer did before the optimization summary fused them.
#include <cmath>
#include <vector>

#include "kernels/swiglu/swiglu.h"

namespace moetune {

void swiglu_f32__naive(const float* g, const float* u, float* h, int64_t n) {
  std::vector<float> silu(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) silu[i] = g[i] / (1.0f + std::exp(-g[i]));
  for (int64_t i = 0; i < n; ++i) h[i] = silu[i] * u[i];
}

}  // namespace moetune
