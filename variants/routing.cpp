#include "variants/routing.h"

#include <algorithm>
#include <string>
#include <vector>

#include "variants/defaults.h"

namespace moetune {

int64_t routed_weight_bytes(const MoeWeights& weights, const Routing& routing) {
  const MoeShape& s = weights.shape();
  const int64_t f = static_cast<int64_t>(sizeof(float));
  std::vector<bool> used(static_cast<size_t>(s.experts), false);
  int64_t distinct = 0;
  for (int32_t e : routing.ids) {
    if (e < 0 || e >= s.experts || used[static_cast<size_t>(e)]) continue;
    used[static_cast<size_t>(e)] = true;
    ++distinct;
  }
  int64_t bytes = s.experts * s.hidden * f;       // router, always f32
  bytes += distinct * weights.expert_bytes();     // gate, up, down in the weights' dtype
  return bytes + weights.shared_bytes();          // and the shared expert with its gate
}

const GemvVariant& router_gemv(const GemvVariant& selected) {
  if (selected.layout == Layout::kOI && selected.dtype == DType::kF32) return selected;
  // gemv_<dtype>_<layout>__<impl> -> gemv_f32_oi__<impl>
  const auto at = selected.name.find("__");
  if (at != std::string_view::npos) {
    const std::string name = "gemv_f32_oi" + std::string(selected.name.substr(at));
    const GemvVariant* twin = find_gemv(name);
    if (twin && twin->layout == Layout::kOI && twin->dtype == DType::kF32 &&
        isa_available(twin->isa))
      return *twin;
  }
  return *find_gemv(default_variant(Op::kGemv, DType::kF32, Layout::kOI, true));
}

void normalize_topk(float* w, int64_t k) {
  float sum = 0.0f;
  for (int64_t j = 0; j < k; ++j) sum += w[j];
  for (int64_t j = 0; j < k; ++j) w[j] /= sum;
}

ExpertAssignment::ExpertAssignment(int64_t experts, int64_t max_pairs)
    : experts_(experts), max_pairs_(max_pairs) {
  offsets_.reserve(static_cast<size_t>(experts + 1));
  fill_.reserve(static_cast<size_t>(experts));
  active_.reserve(static_cast<size_t>(experts));
  token_at_.reserve(static_cast<size_t>(max_pairs));
  position_of_.reserve(static_cast<size_t>(max_pairs));
}

void ExpertAssignment::reserve(int64_t max_pairs) {
  if (max_pairs <= max_pairs_) return;
  token_at_.reserve(static_cast<size_t>(max_pairs));
  position_of_.reserve(static_cast<size_t>(max_pairs));
  max_pairs_ = max_pairs;
}

void ExpertAssignment::build(const int32_t* ids, int64_t tokens, int64_t top_k) {
  const int64_t pairs = tokens * top_k;
  reserve(pairs);
  int64_t* off = offsets_.data();
  int64_t* fill = fill_.data();
  std::fill(fill, fill + experts_, int64_t{0});
  for (int64_t p = 0; p < pairs; ++p) ++fill[ids[p]];
  off[0] = 0;
  for (int64_t e = 0; e < experts_; ++e) off[e + 1] = off[e] + fill[e];
  // Counting sort, stable in token order: positions of one expert are its tokens ascending.
  std::copy(off, off + experts_, fill);
  int32_t* token_at = token_at_.data();
  int32_t* position_of = position_of_.data();
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t pos = fill[ids[p]]++;
    token_at[pos] = static_cast<int32_t>(p / top_k);
    position_of[p] = static_cast<int32_t>(pos);
  }
  int32_t* act = active_.data();
  active_count_ = 0;
  for (int64_t e = 0; e < experts_; ++e)
    if (off[e + 1] > off[e]) act[active_count_++] = static_cast<int32_t>(e);
  std::sort(act, act + active_count_, [off](int32_t a, int32_t b) {
    const int64_t na = off[a + 1] - off[a], nb = off[b + 1] - off[b];
    return na != nb ? na > nb : a < b;
  });
}

}  // namespace moetune
