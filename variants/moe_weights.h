// The weights of one MoE layer, stored in one layout (DESIGN §1: `oi` = [out, in] as in
// Hugging Face checkpoints, `io` = [in, out]) and one dtype for the experts' projections
// (routed and shared): f32, bf16 or int8 with a scale per output row (kernels/common/dtype.h).
// The router and the shared-expert gate are always f32 [out, in]: they are tiny next to the
// experts, and routing decisions should not move with the experts' precision.
#pragma once

#include <cstdint>

#include "kernels/common/aligned.h"
#include "kernels/gemv/gemv.h"
#include "variants/moe_shape.h"

namespace moetune {

// Which projection of an expert (routed or shared).
enum class Proj { kGate, kUp, kDown };

// A weight matrix as a gemv sees it: W logically [n outputs, k inputs], in `layout`, its
// values stored in its dtype (kernels/common/dtype.h).
struct MatrixRef {
  const void* values = nullptr;  // n·k elements of the dtype
  int64_t n = 0, k = 0, ldw = 0;
  Layout layout = Layout::kOI;
  DType dtype = DType::kF32;
  const float* scale = nullptr;  // n, where the dtype has row scales (int8)

  // The values of an f32 matrix; nullptr for any other dtype.
  const float* f32() const {
    return dtype == DType::kF32 ? static_cast<const float*>(values) : nullptr;
  }
  // The gemv arguments for outputs [r0, r1) of this matrix (x, y and m left to the caller).
  GemvArgs args(int64_t r0, int64_t r1) const;
};

class MoeWeights {
 public:
  // Allocated, 64-byte aligned, zero-filled.
  MoeWeights(const MoeShape& shape, Layout layout, DType dtype = DType::kF32);

  // Deterministic random weights (uniform in ±1/sqrt(fan-in), as nn.Linear initialises):
  // the same seed gives the same weights whatever the thread count. For bf16 and int8, the
  // f32 weights of the same seed, converted.
  static MoeWeights random(const MoeShape& shape, Layout layout, uint64_t seed,
                           DType dtype = DType::kF32);

  const MoeShape& shape() const { return shape_; }
  Layout layout() const { return layout_; }
  DType dtype() const { return dtype_; }

  MatrixRef router() const;               // [E, H], always oi
  MatrixRef shared_expert_gate() const;   // [1, H], always oi
  MatrixRef expert(int64_t e, Proj p) const;
  MatrixRef shared(Proj p) const;         // requires shape().has_shared_expert()

  // Fill from a row-major f32 [out, in] source (a checkpoint's layout), transposing for `io`
  // and converting the experts' projections to the dtype.
  void set_router(const float* oi);
  void set_shared_expert_gate(const float* oi);
  void set_expert(int64_t e, Proj p, const float* oi);
  void set_shared(Proj p, const float* oi);
  // Copy a matrix that is already in this layout and dtype, as is: `values` holds n*k elements
  // of the dtype (float, uint16_t bf16 bits, int8_t), dense, in this layout; `scale` the n
  // int8 scales (ignored otherwise). No rounding, so caller-quantized weights stay bit for bit.
  void set_expert_stored(int64_t e, Proj p, const void* values, const float* scale = nullptr);
  void set_shared_stored(Proj p, const void* values, const float* scale = nullptr);

  // The same weights in the other layout (f32 weights only: converting is one-way).
  MoeWeights relayout(Layout layout) const;
  // These f32 weights with the experts' projections converted to `dtype` (router and shared
  // gate stay f32). Requires dtype() == f32.
  MoeWeights converted(DType dtype) const;

  int64_t bytes() const;
  // Bytes of one routed expert's three projections (int8: with their scales), and of the
  // shared expert's plus its gate (0 without one): what a call reads per expert it runs.
  int64_t expert_bytes() const;
  int64_t shared_bytes() const;

 private:
  // E (or 1) matrices of one projection, back to back, in the dtype.
  struct Stored {
    AlignedPtr<unsigned char> values;
    AlignedPtr<float> scale;  // with row scales (int8): one per output row of every matrix
    float* f32() const { return reinterpret_cast<float*>(values.get()); }
  };
  Stored allocate(int64_t matrices, int64_t n, int64_t k) const;
  MatrixRef view(const Stored& s, int64_t index, int64_t n, int64_t k) const;
  void store(const MatrixRef& dst, const float* oi);
  static void store_as_is(const MatrixRef& dst, const void* values, const float* scale);
  MoeWeights copy_as(Layout layout, DType dtype) const;

  MoeShape shape_;
  Layout layout_;
  DType dtype_;
  AlignedPtr<float> router_, shared_expert_gate_;
  Stored gate_, up_, down_;                       // E matrices each
  Stored shared_gate_, shared_up_, shared_down_;  // empty without a shared expert
};

}  // namespace moetune
