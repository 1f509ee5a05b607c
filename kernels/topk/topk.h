// topk: the k largest of n probabilities, in descending order, with their indices. On exact
// ties the lower index comes first (DESIGN §1). NaN is never selected ahead of a number.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kernels/common/isa.h"

namespace moetune {

// scratch holds at least n int32 values; variants that need no scratch ignore it.
using TopkFn = void (*)(const float* p, int64_t n, int64_t k, float* values, int32_t* ids,
                        int32_t* scratch);

struct TopkVariant {
  std::string_view name;
  TopkFn fn;
  Isa isa;
};

#define MOETUNE_TOPK(name, isa) void name(const float*, int64_t, int64_t, float*, int32_t*, int32_t*);
#include "kernels/topk/topk.inc"
#undef MOETUNE_TOPK

const std::vector<TopkVariant>& topk_variants();
const TopkVariant* find_topk(std::string_view name);
const TopkVariant& topk_naive();

// The order every variant must produce: a before b when p[a] > p[b], or equal and a < b.
// NaN sorts after every number.
// This form takes the values themselves, for variants that keep (value, index) pairs.
inline bool topk_before(float pa, int32_t a, float pb, int32_t b) {
  if (pa > pb) return true;
  if (pa < pb) return false;
  const bool na = pa != pa, nb = pb != pb;
  if (na != nb) return nb;  // the number goes before the NaN
  return a < b;
}

inline bool topk_before(const float* p, int32_t a, int32_t b) {
  return topk_before(p[a], a, p[b], b);
}

}  // namespace moetune
