// One pass over p with a k-entry heap kept in the output arrays themselves, no scratch: the
// root is the worst entry kept so far, so a candidate costs one comparison with it and, only
// when it wins, a sift down of log2 k levels. The heap is then sorted in place, best first.
#include <utility>

#include "kernels/topk/topk.h"

namespace moetune {
namespace {

// Restores "every parent comes after its children in topk order" below position i.
void sift_down(float* v, int32_t* id, int64_t size, int64_t i) {
  const float vi = v[i];
  const int32_t ii = id[i];
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && topk_before(v[c], id[c], v[c + 1], id[c + 1])) ++c;  // the worse child
    if (topk_before(v[c], id[c], vi, ii)) break;
    v[i] = v[c];
    id[i] = id[c];
    i = c;
  }
  v[i] = vi;
  id[i] = ii;
}

}  // namespace

void topk_f32__heap(const float* p, int64_t n, int64_t k, float* values, int32_t* ids,
                    int32_t*) {
  if (k <= 0) return;
  for (int64_t j = 0; j < k; ++j) {
    values[j] = p[j];
    ids[j] = static_cast<int32_t>(j);
  }
  for (int64_t i = k / 2 - 1; i >= 0; --i) sift_down(values, ids, k, i);
  for (int64_t j = k; j < n; ++j) {
    // j is above every kept index, so it only wins on a larger value (or a number over NaN).
    if (topk_before(p[j], static_cast<int32_t>(j), values[0], ids[0])) {
      values[0] = p[j];
      ids[0] = static_cast<int32_t>(j);
      sift_down(values, ids, k, 0);
    }
  }
  for (int64_t end = k - 1; end > 0; --end) {
    std::swap(values[0], values[end]);
    std::swap(ids[0], ids[end]);
    sift_down(values, ids, end, 0);
  }
}

}  // namespace moetune
