#include "variants/defaults.h"

#include <algorithm>

namespace moetune {
namespace {

// The words default_selection.inc writes, as the types they stand for: a line naming an op,
// dtype or layout that does not exist does not compile.
namespace words {
constexpr Op gemv = Op::kGemv, swiglu = Op::kSwiglu, softmax = Op::kSoftmax, topk = Op::kTopk,
             layer = Op::kLayer;
constexpr DType f32 = DType::kF32, bf16 = DType::kBF16, int8 = DType::kInt8;
constexpr std::optional<Layout> oi = Layout::kOI, io = Layout::kIO, any = std::nullopt;
}  // namespace words

struct DefaultLine {
  Op op;
  DType dtype;
  std::optional<Layout> layout;
  std::string_view variant;
  int64_t from_tokens;
};

constexpr DefaultLine kDefaults[] = {
#define MOETUNE_DEFAULT(op, dtype, layout, variant) \
  {words::op, words::dtype, words::layout, #variant, 1},
#define MOETUNE_DEFAULT_FROM(op, dtype, layout, from_tokens, variant) \
  {words::op, words::dtype, words::layout, #variant, from_tokens},
#include "variants/default_selection.inc"
#undef MOETUNE_DEFAULT_FROM
#undef MOETUNE_DEFAULT
};

}  // namespace

std::vector<std::string_view> default_variants(Op op, DType dtype, std::optional<Layout> layout,
                                               int64_t tokens, Activations activations) {
  std::vector<std::string_view> out;
  for (const auto& d : kDefaults)
    if (d.op == op && d.dtype == dtype && d.layout == layout && d.from_tokens <= tokens &&
        is_registered(op, d.variant) && allowed(activations, op, d.variant))
      out.push_back(d.variant);
  return out;
}

std::string_view default_variant(Op op, DType dtype, std::optional<Layout> layout,
                                 bool runnable_here, int64_t tokens, Activations activations) {
  for (std::string_view v : default_variants(op, dtype, layout, tokens, activations))
    if (!runnable_here || is_runnable(op, v, layout)) return v;
  return {};
}

std::vector<int64_t> default_token_ranges(Op op, DType dtype, std::optional<Layout> layout) {
  std::vector<int64_t> from = {1};
  for (const auto& d : kDefaults)
    if (d.op == op && d.dtype == dtype && d.layout == layout) from.push_back(d.from_tokens);
  std::sort(from.begin(), from.end());
  from.erase(std::unique(from.begin(), from.end()), from.end());
  return from;
}

}  // namespace moetune
