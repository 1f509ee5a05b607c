#include "kernels/swiglu/swiglu.h"

namespace moetune {

const std::vector<SwigluVariant>& swiglu_variants() {
  static const std::vector<SwigluVariant> variants = {
#define MOETUNE_SWIGLU(name, isa, unroll) {#name, &name, Isa::isa, unroll},
#include "kernels/swiglu/swiglu.inc"
#undef MOETUNE_SWIGLU
  };
  return variants;
}

const SwigluVariant* find_swiglu(std::string_view name) {
  for (const auto& v : swiglu_variants())
    if (v.name == name) return &v;
  return nullptr;
}

const SwigluVariant& swiglu_naive() { return *find_swiglu("swiglu_f32__naive"); }

}  // namespace moetune
