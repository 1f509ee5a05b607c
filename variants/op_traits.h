// The op traits table (as ggml-cpu's type traits): per Op its name, whether it reads the
// weights, and its registry, each variant with the ISA, weight dtype and layout it is for.
// The selection, the sweep, the tuner and `moetune config` ask this table about an op instead
// of comparing op names. The bench-side traits (inputs, cost, verification) live with the
// harness (harness/kernel_bench.h).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "kernels/common/isa.h"
#include "variants/point.h"

namespace moetune {

// One registered variant of an op, whatever the op.
struct VariantInfo {
  std::string_view name;
  Isa isa;                       // kBaseline for the layer strategies: they run the kernels given
  DType dtype;                   // the weights' it reads; kF32 for an op that reads none
  std::optional<Layout> layout;  // the gemv's; none where any layout goes (layer, other ops)
  bool rounds_activations;       // a gemv whose x is rounded (gemv.inc's `activations`)
};

struct OpTraits {
  std::string_view name;  // "gemv", ...: what sweeps, results and headers spell
  bool reads_weights;     // its points carry the weights' dtype and layout (gemv, layer)
  const std::vector<VariantInfo>& (*variants)();  // its registry, in registry order
};
const OpTraits& op_traits(Op op);

// "gemv", "swiglu", "softmax", "topk", "layer" (kOps order): what a sweep file may name.
std::vector<std::string_view> op_names();

// Whether a layer may run variants that round the activations (gemv.inc's `activations`:
// bf16 x bf16, int8 x int8). kExact, the default everywhere, never chooses them; kMayRound
// (a sweep's `rounded_activations: true`, `moetune layer --rounded-activations`) lets the
// defaults and the tuned entries take them, and the exact ones still where they are faster.
enum class Activations { kExact, kMayRound };

// A registered variant of op; nullptr for any other name.
const VariantInfo* find_variant(Op op, std::string_view variant);
// Every registered variant's name of op, in registry order.
std::vector<std::string_view> registered_variants(Op op);
bool is_registered(Op op, std::string_view variant);
// The weight dtype a registered variant is for (its registry entry's); nullopt when not
// registered.
std::optional<DType> variant_dtype(Op op, std::string_view variant);
// The instruction set a registered variant needs (kBaseline for names not registered).
Isa variant_isa(Op op, std::string_view variant);
// Registered, fits the layout (a gemv variant has one; a layer runs weights in either, an op
// that reads no weights ignores it), and the CPU has its ISA.
bool is_runnable(Op op, std::string_view variant, std::optional<Layout> layout);
// A registered variant whose activations are rounded (bf16 or int8); false for every other name.
bool rounds_activations(Op op, std::string_view variant);
// Whether `activations` lets a layer run `variant` of `op`.
bool allowed(Activations activations, Op op, std::string_view variant);

}  // namespace moetune
