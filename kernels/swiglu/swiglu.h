// swiglu: h = silu(g) ⊙ u, silu(v) = v / (1 + exp(-v)). h may alias g or u.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/common/isa.h"

namespace moetune {

using SwigluFn = void (*)(const float* g, const float* u, float* h, int64_t n);

struct SwigluVariant {
  std::string_view name;
  SwigluFn fn;
  Isa isa;
  int unroll;  // elements per pass of the inner loop
};

#define MOETUNE_SWIGLU(name, isa, unroll) void name(const float*, const float*, float*, int64_t);
#include "kernels/swiglu/swiglu.inc"
#undef MOETUNE_SWIGLU

const std::vector<SwigluVariant>& swiglu_variants();
const SwigluVariant* find_swiglu(std::string_view name);
const SwigluVariant& swiglu_naive();

}  // namespace moetune
