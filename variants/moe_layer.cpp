#include "variants/moe_layer.h"

#include <iterator>
#include <stdexcept>
#include <string>

#include "variants/layer_impl.h"

namespace moetune {
namespace {

using LayerFactory = std::unique_ptr<MoeLayerImpl> (*)(const LayerArgs&);

struct LayerEntry {
  LayerVariant info;
  LayerFactory make;
};

struct Strategy {
  std::string_view strategy, description;
  LayerFactory make;
};

const std::vector<LayerEntry>& layer_entries() {
  static const Strategy strategies[] = {
#define MOETUNE_LAYER(strategy, description) {#strategy, description, &layer_strategy_##strategy},
#include "variants/layer.inc"
#undef MOETUNE_LAYER
  };
  // The names live as long as the registry; reserved up front, so they never move while the
  // entries' views into them are taken.
  static std::vector<std::string> names;
  static const std::vector<LayerEntry> entries = [] {
    names.reserve(std::size(kDTypes) * std::size(strategies));
    std::vector<LayerEntry> e;
    for (DType d : kDTypes)
      for (const Strategy& s : strategies) {
        names.push_back(layer_variant_name(d, s.strategy));
        e.push_back({{names.back(), s.strategy, d, s.description}, s.make});
      }
    return e;
  }();
  return entries;
}

void check_kernel(bool present, std::string_view op, std::string_view name, Isa isa) {
  if (!present) throw std::invalid_argument("MoeLayer: no " + std::string(op) + " kernel given");
  if (!isa_available(isa))
    throw std::invalid_argument("MoeLayer: " + std::string(name) + " needs " +
                                std::string(isa_name(isa)) + ", not available here");
}

void check(const MoeWeights& weights, const KernelSelection& k, int threads,
           int64_t max_tokens) {
  const std::string shape_error = weights.shape().validate();
  if (!shape_error.empty()) throw std::invalid_argument("MoeLayer: " + shape_error);
  if (threads < 1) throw std::invalid_argument("MoeLayer: threads must be at least 1");
  if (max_tokens < 1) throw std::invalid_argument("MoeLayer: max_tokens must be at least 1");
  check_kernel(k.gemv, "gemv", k.gemv ? k.gemv->name : "", k.gemv ? k.gemv->isa : Isa::kBaseline);
  check_kernel(k.swiglu, "swiglu", k.swiglu ? k.swiglu->name : "",
               k.swiglu ? k.swiglu->isa : Isa::kBaseline);
  check_kernel(k.softmax, "softmax", k.softmax ? k.softmax->name : "",
               k.softmax ? k.softmax->isa : Isa::kBaseline);
  check_kernel(k.topk, "topk", k.topk ? k.topk->name : "", k.topk ? k.topk->isa : Isa::kBaseline);
  if (k.gemv->dtype != weights.dtype())
    throw std::invalid_argument("MoeLayer: " + std::string(k.gemv->name) + " reads " +
                                std::string(dtype_name(k.gemv->dtype)) +
                                " weights, the weights are " +
                                std::string(dtype_name(weights.dtype())));
  if (k.gemv->layout != weights.layout())
    throw std::invalid_argument("MoeLayer: " + std::string(k.gemv->name) + " is for layout " +
                                std::string(layout_name(k.gemv->layout)) +
                                ", the weights are stored " +
                                std::string(layout_name(weights.layout())));
}

}  // namespace

KernelSelection naive_kernels(Layout layout, DType dtype, DType acts) {
  return {&gemv_naive(layout, dtype, acts), &swiglu_naive(), &softmax_naive(), &topk_naive()};
}

const std::vector<LayerVariant>& layer_variants() {
  static const std::vector<LayerVariant> variants = [] {
    std::vector<LayerVariant> v;
    for (const auto& e : layer_entries()) v.push_back(e.info);
    return v;
  }();
  return variants;
}

const LayerVariant* find_layer_variant(std::string_view name) {
  for (const auto& v : layer_variants())
    if (v.name == name) return &v;
  return nullptr;
}

MoeLayer::MoeLayer(const MoeWeights& weights, std::string_view variant, KernelSelection kernels,
                   int threads, int64_t max_tokens) {
  const LayerEntry* entry = nullptr;
  for (const auto& e : layer_entries())
    if (e.info.name == variant) entry = &e;
  if (!entry) {
    std::string known;
    for (const auto& e : layer_entries())
      known += (known.empty() ? "" : ", ") + std::string(e.info.name);
    throw std::invalid_argument("MoeLayer: no layer variant named '" + std::string(variant) +
                                "' (known: " + known + ")");
  }
  if (entry->info.dtype != weights.dtype())
    throw std::invalid_argument("MoeLayer: " + std::string(variant) + " is for " +
                                std::string(dtype_name(entry->info.dtype)) +
                                " weights, the weights are " +
                                std::string(dtype_name(weights.dtype())));
  check(weights, kernels, threads, max_tokens);
  impl_ = entry->make(LayerArgs{weights, kernels, threads, max_tokens});
  impl_->variant = entry->info.name;
}

MoeLayer::~MoeLayer() = default;
MoeLayer::MoeLayer(MoeLayer&&) noexcept = default;
MoeLayer& MoeLayer::operator=(MoeLayer&&) noexcept = default;

void MoeLayer::forward(const float* x, int64_t tokens, float* y) { impl_->forward(x, tokens, y); }
void MoeLayer::incremental_forward(const float* x, float* y) { impl_->incremental_forward(x, y); }
const Routing& MoeLayer::last_routing() const { return impl_->routing(); }
const MoeWeights& MoeLayer::weights() const { return impl_->weights(); }
std::string_view MoeLayer::variant() const { return impl_->variant; }
int MoeLayer::threads() const { return impl_->threads(); }

}  // namespace moetune
