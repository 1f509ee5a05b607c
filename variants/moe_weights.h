// The f32 weights of one MoE layer, stored in one layout (DESIGN §1: `oi` = [out, in] as in
// Hugging Face checkpoints, `io` = [in, out]). The router and the shared-expert gate are
// always [out, in]: the router is tiny next to the experts and always computed in f32.
#pragma once

#include <cstdint>

#include "kernels/common/aligned.h"
#include "kernels/gemv/gemv.h"
#include "variants/moe_shape.h"

namespace moetune {

// Which projection of an expert (routed or shared).
enum class Proj { kGate, kUp, kDown };

// A weight matrix as a gemv sees it: W logically [n outputs, k inputs], in `layout`.
struct MatrixRef {
  const float* w;
  int64_t n, k, ldw;
  Layout layout;
};

class MoeWeights {
 public:
  // Allocated, 64-byte aligned, zero-filled.
  MoeWeights(const MoeShape& shape, Layout layout);

  // Deterministic random weights (uniform in ±1/sqrt(fan-in), as nn.Linear initialises):
  // the same seed gives the same weights whatever the thread count.
  static MoeWeights random(const MoeShape& shape, Layout layout, uint64_t seed);

  const MoeShape& shape() const { return shape_; }
  Layout layout() const { return layout_; }

  MatrixRef router() const;               // [E, H], always oi
  MatrixRef shared_expert_gate() const;   // [1, H], always oi
  MatrixRef expert(int64_t e, Proj p) const;
  MatrixRef shared(Proj p) const;         // requires shape().has_shared_expert()

  // Fill from a row-major [out, in] source (a checkpoint's layout), transposing for `io`.
  void set_router(const float* oi);
  void set_shared_expert_gate(const float* oi);
  void set_expert(int64_t e, Proj p, const float* oi);
  void set_shared(Proj p, const float* oi);

  // The same weights in the other layout.
  MoeWeights relayout(Layout layout) const;

  int64_t bytes() const;

 private:
  float* mutable_ptr(const MatrixRef& m) const { return const_cast<float*>(m.w); }
  void store(const MatrixRef& dst, const float* oi);

  MoeShape shape_;
  Layout layout_;
  AlignedPtr<float> router_, shared_expert_gate_;
  AlignedPtr<float> gate_, up_, down_;                       // E matrices each, back to back
  AlignedPtr<float> shared_gate_, shared_up_, shared_down_;  // empty without a shared expert
};

}  // namespace moetune
