// Routing (DESIGN §1 steps 1-4): which experts each token goes to, with which weights, and the
// grouping of (token, slot) pairs by expert that the expert-major strategies walk.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/common/aligned.h"
#include "kernels/gemv/gemv.h"
#include "variants/moe_weights.h"

namespace moetune {

// The routing of T tokens: for token t, top_k (expert id, weight) pairs at t*top_k, in the
// order top-k gives them (descending probability, the lower id first on ties). The weights
// are normalised to sum 1 per token when the shape says norm_topk_prob.
struct Routing {
  std::vector<int32_t> ids;
  std::vector<float> weights;
};

// Bytes of weights one call reads with this routing: the router, every distinct expert it
// selected (gate, up, down), and the shared expert and its gate when the shape has them.
// The byte count of DESIGN §3's roofline bound.
int64_t routed_weight_bytes(const MoeWeights& weights, const Routing& routing);

// The router and the shared-expert gate are always stored f32 [out, in] and multiplied with
// the exact activations. When the selection's gemv is an io or a bf16/int8 variant, the router
// runs on its f32 oi twin (the same `__impl` as gemv_f32_oi__impl), or, where the twin is
// missing or cannot run, on the f32 oi decode default this CPU runs
// (variants/default_selection.inc).
const GemvVariant& router_gemv(const GemvVariant& selected);

// w /= sum(w), summing in slot order (the order every strategy uses, so that they agree).
void normalize_topk(float* w, int64_t k);

inline float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// The (token, slot) pairs of a routing grouped by expert: expert e owns positions
// [begin(e), end(e)), in ascending token order, and pair (t, s) sits at position_of(t*k + s).
// Sized once for up to `max_pairs` pairs; build() never allocates within that size.
class ExpertAssignment {
 public:
  ExpertAssignment(int64_t experts, int64_t max_pairs);

  // Room for `max_pairs` pairs (allocates only when more than ever before).
  void reserve(int64_t max_pairs);
  // Grouping of the first `tokens` tokens of `ids` (top_k ids per token, each in
  // 0..experts-1). Grows, once, when tokens * top_k exceeds the room reserved.
  void build(const int32_t* ids, int64_t tokens, int64_t top_k);

  int64_t begin(int64_t e) const { return offsets_.data()[e]; }
  int64_t end(int64_t e) const { return offsets_.data()[e + 1]; }
  int64_t token_at(int64_t pos) const { return token_at_.data()[pos]; }
  int64_t position_of(int64_t pair) const { return position_of_.data()[pair]; }
  // Experts with at least one token, the busiest first (ties: lower id), so that a dynamic
  // schedule starts the longest tasks first.
  const int32_t* active() const { return active_.data(); }
  int64_t active_count() const { return active_count_; }

 private:
  int64_t experts_, max_pairs_;
  AlignedBuffer<int64_t> offsets_;  // experts + 1
  AlignedBuffer<int64_t> fill_;     // experts
  AlignedBuffer<int32_t> token_at_, position_of_;
  AlignedBuffer<int32_t> active_;
  int64_t active_count_ = 0;
};

}  // namespace moetune
