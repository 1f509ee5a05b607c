// The inputs a kernel benchmark verifies and times a variant on: a function of (op, shape,
// seed) only, the same on every machine and compiler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/common/aligned.h"
#include "kernels/common/dtype.h"
#include "kernels/gemv/gemv.h"

namespace moetune {

struct GemvInputs {
  Layout layout;
  DType dtype;
  int64_t n, k, m;
  uint32_t seed;
  bool cold;
  int64_t copies;  // of W, one after another
  // W in the variant's dtype (copies of it, the timed ones), and as f32 once: the values the
  // stored weights stand for, which the tolerance of the check is computed from.
  AlignedPtr<float> w, x;
  AlignedPtr<unsigned char> stored;
  std::vector<float> scale;  // with row scales (int8): one per output (the same for every copy)

  int64_t ldw() const { return layout == Layout::kOI ? k : n; }
  std::size_t w_floats() const { return static_cast<std::size_t>(n) * static_cast<std::size_t>(k); }
  // The arguments for copy `c` of the weights (y left to the caller).
  GemvArgs args(int64_t c) const;
  // What the timed loop cycles through: every copy's arguments, writing to `y`. Made once with
  // the inputs, not for every run of a benchmark: a small matrix has tens of thousands of copies.
  AlignedPtr<float> y;
  std::vector<GemvArgs> timed;
};

// W uniform in [-1, 1] (converted to the dtype: bf16 rounded, int8 quantized per output) and
// x uniform in [-1, 1]. cold: enough copies of W that they overflow the L3 (at least 64 MiB, or
// twice the L3 the CPU sees).
std::shared_ptr<GemvInputs> make_gemv_inputs(Layout layout, DType dtype, int64_t n, int64_t k,
                                             int64_t m, uint32_t seed, bool cold);
// How many bytes of weight copies a cold benchmark cycles through.
std::size_t cold_bytes();
// The benchmarks of one shape run one after another (variant by variant, the two layouts
// interleaved as the registry lists them), so the last inputs made for each layout and dtype
// are kept for the next benchmark; a new shape frees them first, so no more than one set of
// cold weights per layout and dtype is alive at a time.
std::shared_ptr<GemvInputs> cached_gemv_inputs(Layout layout, DType dtype, int64_t n, int64_t k,
                                               int64_t m, uint32_t seed, bool cold);

// swiglu: gate values spanning the range where silu bends and saturates.
struct SwigluInputs {
  std::vector<float> g, u;
};
SwigluInputs make_swiglu_inputs(int64_t n, uint32_t seed);

// softmax: router logits.
std::vector<float> make_softmax_inputs(int64_t n, uint32_t seed);

// topk: probabilities with many exact ties (logits on a grid of 1/4), so the lower-id rule is
// exercised on every call.
std::vector<float> make_topk_inputs(int64_t n, uint32_t seed);

}  // namespace moetune
