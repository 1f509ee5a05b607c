// The shape of one Qwen MoE layer (DESIGN §1) and the presets every sweep may name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moetune {

struct MoeShape {
  int64_t hidden = 0;               // H
  int64_t intermediate = 0;         // I, per routed expert
  int64_t experts = 0;              // E
  int64_t top_k = 0;                // k
  int64_t shared_intermediate = 0;  // S; 0 = no shared expert (qwen3_moe)
  bool norm_topk_prob = true;

  bool has_shared_expert() const { return shared_intermediate > 0; }
  // f32 parameters of the layer: router, E experts, shared expert and its gate.
  int64_t parameter_count() const;
  // "H2048_I768_E128_k8_S0_norm": a stable key for results and the tuned table.
  std::string key() const;
  // Empty when the shape is usable; otherwise what is wrong ("top_k must be in 1..experts").
  std::string validate() const;
  bool operator==(const MoeShape& o) const;
};

struct MoePreset {
  std::string_view name;
  MoeShape shape;
};

const std::vector<MoePreset>& moe_presets();
std::optional<MoeShape> find_preset(std::string_view name);

}  // namespace moetune
