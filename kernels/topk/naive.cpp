// The reference: sort every index, keep the first k.
#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/topk/topk.h"

namespace moetune {

void topk_f32__naive(const float* p, int64_t n, int64_t k, float* values, int32_t* ids,
                     int32_t*) {
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [p](int32_t a, int32_t b) { return topk_before(p, a, b); });
  for (int64_t j = 0; j < k; ++j) {
    ids[j] = order[j];
    values[j] = p[order[j]];
  }
}

}  // namespace moetune
