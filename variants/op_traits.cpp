#include "variants/op_traits.h"

#include <algorithm>

#include "variants/layer_variants.h"

namespace moetune {
namespace {

// A kernel registry read into VariantInfo: the ops but gemv read no weights.
template <typename Variants>
std::vector<VariantInfo> activation_op(const Variants& registry) {
  std::vector<VariantInfo> out;
  for (const auto& v : registry) out.push_back({v.name, v.isa, DType::kF32, std::nullopt, false});
  return out;
}

const std::vector<VariantInfo>& gemv_infos() {
  static const std::vector<VariantInfo> infos = [] {
    std::vector<VariantInfo> out;
    for (const auto& v : gemv_variants())
      out.push_back({v.name, v.isa, v.dtype, v.layout, v.rounds_activations()});
    return out;
  }();
  return infos;
}
const std::vector<VariantInfo>& swiglu_infos() {
  static const std::vector<VariantInfo> infos = activation_op(swiglu_variants());
  return infos;
}
const std::vector<VariantInfo>& softmax_infos() {
  static const std::vector<VariantInfo> infos = activation_op(softmax_variants());
  return infos;
}
const std::vector<VariantInfo>& topk_infos() {
  static const std::vector<VariantInfo> infos = activation_op(topk_variants());
  return infos;
}
// The layer's own registry (variants/moe_layer.cpp): the dtype is its entry's.
const std::vector<VariantInfo>& layer_infos() {
  static const std::vector<VariantInfo> infos = [] {
    std::vector<VariantInfo> out;
    for (const auto& v : layer_variants())
      out.push_back({v.name, Isa::kBaseline, v.dtype, std::nullopt, false});
    return out;
  }();
  return infos;
}

// Indexed by Op, in kOps order.
constexpr OpTraits kOpTraits[] = {
    {"gemv", true, &gemv_infos},        {"swiglu", false, &swiglu_infos},
    {"softmax", false, &softmax_infos}, {"topk", false, &topk_infos},
    {"layer", true, &layer_infos},
};
static_assert(std::size(kOpTraits) == std::size(kOps), "one traits entry per op");

}  // namespace

const OpTraits& op_traits(Op op) { return kOpTraits[static_cast<int>(op)]; }

std::string_view op_name(Op op) { return op_traits(op).name; }

std::optional<Op> parse_op(std::string_view name) {
  for (Op op : kOps)
    if (op_name(op) == name) return op;
  return std::nullopt;
}

bool op_reads_weights(Op op) { return op_traits(op).reads_weights; }

std::vector<std::string_view> op_names() {
  std::vector<std::string_view> names;
  for (Op op : kOps) names.push_back(op_name(op));
  return names;
}

const VariantInfo* find_variant(Op op, std::string_view variant) {
  for (const VariantInfo& v : op_traits(op).variants())
    if (v.name == variant) return &v;
  return nullptr;
}

std::vector<std::string_view> registered_variants(Op op) {
  std::vector<std::string_view> names;
  for (const VariantInfo& v : op_traits(op).variants()) names.push_back(v.name);
  return names;
}

bool is_registered(Op op, std::string_view variant) { return find_variant(op, variant); }

std::optional<DType> variant_dtype(Op op, std::string_view variant) {
  const VariantInfo* v = find_variant(op, variant);
  return v ? std::optional<DType>(v->dtype) : std::nullopt;
}

Isa variant_isa(Op op, std::string_view variant) {
  const VariantInfo* v = find_variant(op, variant);
  return v ? v->isa : Isa::kBaseline;
}

bool is_runnable(Op op, std::string_view variant, std::optional<Layout> layout) {
  const VariantInfo* v = find_variant(op, variant);
  if (!v || !isa_available(v->isa)) return false;
  if (v->layout) return layout == v->layout;
  // A layer runs the weights in the layout they are in, but needs one.
  return !op_reads_weights(op) || layout.has_value();
}

bool rounds_activations(Op op, std::string_view variant) {
  const VariantInfo* v = find_variant(op, variant);
  return v && v->rounds_activations;
}

bool allowed(Activations activations, Op op, std::string_view variant) {
  return activations == Activations::kMayRound || !rounds_activations(op, variant);
}

}  // namespace moetune
