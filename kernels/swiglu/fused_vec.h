// Fused SiLU·up, one vector of V (kernels/common/vec_avx2.h's Vec8, vec_avx512.h's Vec16) per
// step, with the shared vector exp (kernels/common/vec.h, 1.05 ulp): the source of
// swiglu_f32__fused_avx2 and __fused_avx512, instantiated in avx2.cpp and avx512.cpp.
//
// silu(g) = g / (1 + exp(-g)) keeps naive's formula, so the extremes come out the same:
// g = -100 gives exp(100) = +inf and -100 / inf = -0; g = +100 gives 100 / (1 + 0). A true
// division rather than rcp + Newton, which would add its own ulp of error: this keeps the
// result within a few ulp of naive (the bound is worked out in tests/test_swiglu.cpp).
#pragma once

#include <cstdint>

#include "kernels/common/vec.h"

namespace moetune::swiglu_vec {
namespace {

template <typename V>
typename V::Vec silu_times(typename V::Vec g, typename V::Vec u) {
  const typename V::Vec e = vec::exp<V>(V::sub(V::zero(), g));
  return V::mul(V::div(g, V::add(V::set1(1.0f), e)), u);
}

template <typename V>
void fused(const float* g, const float* u, float* h, int64_t n) {
  constexpr int L = V::kLanes;
  int64_t i = 0;
  // Loads before the store in each step: h may alias g or u.
  for (; i + L <= n; i += L) V::store(h + i, silu_times<V>(V::load(g + i), V::load(u + i)));
  if (i < n) {
    // Masked-off lanes read as 0, give silu(0)·0 = 0 and are never stored: no load or store
    // past the end of any array.
    const typename V::Mask mask = V::mask(n - i);
    V::store(h + i, silu_times<V>(V::load(g + i, mask), V::load(u + i, mask)), mask);
  }
}

}  // namespace
}  // namespace moetune::swiglu_vec
