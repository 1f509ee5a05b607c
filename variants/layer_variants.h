// The layer's registry (op `layer`, variants/layer.inc) and the kernels a layer is given: what
// the selection (variants/selection.h) needs of the layer, without the layer itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernels/kernels.h"

namespace moetune {

// The kernel variants a layer calls. Every pointer is set; the gemv's layout and dtype match
// the weights'.
struct KernelSelection {
  const GemvVariant* gemv = nullptr;
  const SwigluVariant* swiglu = nullptr;
  const SoftmaxVariant* softmax = nullptr;
  const TopkVariant* topk = nullptr;
};

// The naive variant of every op, for weights in `layout` and `dtype`, the gemv's activations
// `acts` (kF32: exact; kBF16, kInt8: the references of the variants that round them).
KernelSelection naive_kernels(Layout layout, DType dtype = DType::kF32, DType acts = DType::kF32);

// The registered layer variants: each strategy of variants/layer.inc once per weight dtype.
// A strategy is how the work is spread (e.g. "grouped"); a variant is a strategy for one
// dtype, named layer_<dtype>__<strategy> (e.g. "layer_bf16__grouped").
struct LayerVariant {
  std::string_view name;      // layer_<dtype>__<strategy>
  std::string_view strategy;  // e.g. "grouped"
  DType dtype;                // of the weights it runs on
  std::string_view description;
};
const std::vector<LayerVariant>& layer_variants();
// The registry name of a strategy for weights of `dtype`: layer_<dtype>__<strategy>.
inline std::string layer_variant_name(DType dtype, std::string_view strategy) {
  return "layer_" + std::string(dtype_name(dtype)) + "__" + std::string(strategy);
}
const LayerVariant* find_layer_variant(std::string_view name);  // nullptr when not registered

}  // namespace moetune
