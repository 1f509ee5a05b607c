// The reference: exponentials into a temporary, computed in double, then normalised.
// NaN and ±inf need no special case: exp(NaN - max) and exp(inf - inf) are NaN and spread
// through the sum, which is what PyTorch's softmax gives.
#include <cmath>
#include <vector>

#include "kernels/softmax/softmax.h"

namespace moetune {

void softmax_f32__naive(const float* x, float* p, int64_t n) {
  std::vector<double> e(static_cast<size_t>(n));
  double max = -INFINITY;
  for (int64_t i = 0; i < n; ++i)
    if (x[i] > max) max = x[i];
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += e[i] = std::exp(double(x[i]) - max);
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(e[i] / sum);
}

}  // namespace moetune
