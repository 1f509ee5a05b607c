// softmax over n logits: p_i = exp(x_i - max) / sum_j exp(x_j - max). p may alias x (in place).
// All -inf gives NaN (0/0), as PyTorch does; a +inf logit gives NaN too; NaN propagates.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/common/isa.h"

namespace moetune {

using SoftmaxFn = void (*)(const float* x, float* p, int64_t n);

struct SoftmaxVariant {
  std::string_view name;
  SoftmaxFn fn;
  Isa isa;
  bool allocates;  // uses temporaries on the heap
};

#define MOETUNE_SOFTMAX(name, isa, allocates) void name(const float*, float*, int64_t);
#include "kernels/softmax/softmax.inc"
#undef MOETUNE_SOFTMAX

const std::vector<SoftmaxVariant>& softmax_variants();
const SoftmaxVariant* find_softmax(std::string_view name);
const SoftmaxVariant& softmax_naive();

}  // namespace moetune
