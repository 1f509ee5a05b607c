// std::nth_element (introselect, O(n) on average) puts the k first indices in front, then only
// those k are sorted: O(n + k log k), nothing allocated beyond the caller's scratch.
#include <algorithm>
#include <numeric>

#include "kernels/topk/topk.h"

namespace moetune {

void topk_f32__nth_element(const float* p, int64_t n, int64_t k, float* values, int32_t* ids,
                           int32_t* scratch) {
  if (k <= 0) return;
  const auto before = [p](int32_t a, int32_t b) { return topk_before(p, a, b); };
  std::iota(scratch, scratch + n, 0);
  if (k < n) std::nth_element(scratch, scratch + k, scratch + n, before);
  std::sort(scratch, scratch + k, before);
  for (int64_t j = 0; j < k; ++j) {
    ids[j] = scratch[j];
    values[j] = p[scratch[j]];
  }
}

}  // namespace moetune
