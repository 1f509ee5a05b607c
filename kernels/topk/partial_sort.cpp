// std::partial_sort of the index array in the caller's scratch: a heap of k over n indices,
// then a heap sort of the k, O(n log k) comparisons, nothing allocated.
#include <algorithm>
#include <numeric>

#include "kernels/topk/topk.h"

namespace moetune {

void topk_f32__partial_sort(const float* p, int64_t n, int64_t k, float* values, int32_t* ids,
                            int32_t* scratch) {
  std::iota(scratch, scratch + n, 0);
  std::partial_sort(scratch, scratch + k, scratch + n,
                    [p](int32_t a, int32_t b) { return topk_before(p, a, b); });
  for (int64_t j = 0; j < k; ++j) {
    ids[j] = scratch[j];
    values[j] = p[scratch[j]];
  }
}

}  // namespace moetune
