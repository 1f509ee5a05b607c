// The default variant of each op (variants/default_selection.inc): what a layer runs where no
// tuned entry fits, and what the tuner must beat. Resolved when a layer is built, never on the
// hot path.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "variants/op_traits.h"

namespace moetune {

// The defaults of (op, dtype, layout; none for an op that reads no weights) for a call of
// `tokens` tokens, in order of preference: every registered entry of default_selection.inc
// whose token range holds `tokens` and whose variant `activations` allows (the widest ISA
// first, naive last).
std::vector<std::string_view> default_variants(Op op, DType dtype, std::optional<Layout> layout,
                                               int64_t tokens = 1,
                                               Activations activations = Activations::kExact);
// The first of default_variants, or with `runnable_here` the first one this CPU can also run.
// Empty when the table has no line for it (a dtype the op does not take).
std::string_view default_variant(Op op, DType dtype, std::optional<Layout> layout,
                                 bool runnable_here = false, int64_t tokens = 1,
                                 Activations activations = Activations::kExact);
// The token counts at which the defaults of (op, dtype, layout) may change, ascending,
// starting with 1: default_variant is the same for every count from one to the next.
std::vector<int64_t> default_token_ranges(Op op, DType dtype, std::optional<Layout> layout);

}  // namespace moetune
