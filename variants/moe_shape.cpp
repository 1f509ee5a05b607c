#include "variants/moe_shape.h"

namespace moetune {

int64_t MoeShape::parameter_count() const {
  const int64_t router = experts * hidden;
  const int64_t routed = experts * 3 * intermediate * hidden;
  const int64_t shared = has_shared_expert() ? 3 * shared_intermediate * hidden + hidden : 0;
  return router + routed + shared;
}

std::string MoeShape::key() const {
  return "H" + std::to_string(hidden) + "_I" + std::to_string(intermediate) + "_E" +
         std::to_string(experts) + "_k" + std::to_string(top_k) + "_S" +
         std::to_string(shared_intermediate) + (norm_topk_prob ? "_norm" : "_nonorm");
}

std::string MoeShape::validate() const {
  if (hidden < 1) return "hidden must be at least 1";
  if (intermediate < 1) return "intermediate must be at least 1";
  if (experts < 1) return "experts must be at least 1";
  if (top_k < 1 || top_k > experts) return "top_k must be in 1..experts";
  if (shared_intermediate < 0) return "shared_intermediate must be 0 or more";
  return {};
}

bool MoeShape::operator==(const MoeShape& o) const {
  return hidden == o.hidden && intermediate == o.intermediate && experts == o.experts &&
         top_k == o.top_k && shared_intermediate == o.shared_intermediate &&
         norm_topk_prob == o.norm_topk_prob;
}

const std::vector<MoePreset>& moe_presets() {
  static const std::vector<MoePreset> presets = {
      {"qwen3-30b-a3b", {2048, 768, 128, 8, 0, true}},
      {"qwen3-235b-a22b", {4096, 1536, 128, 8, 0, true}},
      {"qwen1.5-moe-a2.7b", {2048, 1408, 60, 4, 5632, false}},
      {"qwen2-57b-a14b", {3584, 2560, 64, 8, 20480, false}},
  };
  return presets;
}

std::optional<MoeShape> find_preset(std::string_view name) {
  for (const auto& p : moe_presets())
    if (p.name == name) return p.shape;
  return std::nullopt;
}

}  // namespace moetune
