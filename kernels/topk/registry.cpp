#include "kernels/topk/topk.h"

namespace moetune {

const std::vector<TopkVariant>& topk_variants() {
  static const std::vector<TopkVariant> variants = {
#define MOETUNE_TOPK(name, isa) {#name, &name, Isa::isa},
#include "kernels/topk/topk.inc"
#undef MOETUNE_TOPK
  };
  return variants;
}

const TopkVariant* find_topk(std::string_view name) {
  for (const auto& v : topk_variants())
    if (v.name == name) return &v;
  return nullptr;
}

const TopkVariant& topk_naive() { return *find_topk("topk_f32__naive"); }

}  // namespace moetune
