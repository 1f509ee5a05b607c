// The Qwen MoE layer (DESIGN §1): router, softmax, top-k, routed experts, shared expert.
//
// Construction does every allocation the layer needs for up to `max_tokens` tokens (buffers
// per thread, 64-byte aligned, reused across calls), except in the `naive` strategy, which
// allocates its temporaries on every call as the layer did before the optimization summary.
// The layer keeps a reference to its weights: they must outlive it.
//
// Every strategy but `naive` gives bit-identical output whatever the thread count: each
// (token, slot) expert output goes to its own row, rows are summed per token in slot order,
// and matrices are split across threads in chunks whose size depends on the shape and the
// kernel, never on the thread count. incremental_forward(x) gives bit for bit what
// forward(x, 1) gives. A NaN in a token's input makes that token's whole output NaN (its
// router logits are NaN, so are its softmax and top-k weights) and leaves the other tokens'
// outputs alone, in every strategy.
//
// One call at a time per layer: a call uses the layer's buffers (and last_routing()); run
// several layers for concurrent calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/kernels.h"
#include "variants/layer_variants.h"
#include "variants/moe_weights.h"
#include "variants/routing.h"

namespace moetune {

class MoeLayerImpl;  // one per strategy, see variants/layer.inc

class MoeLayer {
 public:
  // `variant` names a registered layer variant (layer_<dtype>__<strategy>, layer_variants())
  // of the weights' dtype; throws std::invalid_argument for an unknown name, or a variant or
  // selection that does not fit the weights.
  MoeLayer(const MoeWeights& weights, std::string_view variant, KernelSelection kernels,
           int threads, int64_t max_tokens = 1);
  ~MoeLayer();
  MoeLayer(MoeLayer&&) noexcept;
  MoeLayer& operator=(MoeLayer&&) noexcept;

  // Y = layer(X), X and Y [tokens, hidden] row-major, not overlapping; tokens may exceed
  // max_tokens (buffers then grow once).
  void forward(const float* x, int64_t tokens, float* y);
  // One token, the decode fast path: no reshapes, no allocation after construction.
  void incremental_forward(const float* x, float* y);

  // The routing of the last call, for tests and for counting the weight bytes touched
  // (routed_weight_bytes in variants/routing.h).
  const Routing& last_routing() const;

  const MoeWeights& weights() const;
  std::string_view variant() const;  // the registry name, e.g. "layer_f32__grouped"
  int threads() const;

 private:
  std::unique_ptr<MoeLayerImpl> impl_;
};

}  // namespace moetune
