#include "kernels/softmax/softmax.h"

namespace moetune {

const std::vector<SoftmaxVariant>& softmax_variants() {
  static const std::vector<SoftmaxVariant> variants = {
#define MOETUNE_SOFTMAX(name, isa, allocates) {#name, &name, Isa::isa, allocates},
#include "kernels/softmax/softmax.inc"
#undef MOETUNE_SOFTMAX
  };
  return variants;
}

const SoftmaxVariant* find_softmax(std::string_view name) {
  for (const auto& v : softmax_variants())
    if (v.name == name) return &v;
  return nullptr;
}

const SoftmaxVariant& softmax_naive() { return *find_softmax("softmax_f32__naive"); }

}  // namespace moetune
