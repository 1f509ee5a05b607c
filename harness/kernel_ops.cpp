#include "harness/kernel_ops.h"

#include <fmt/core.h>

#include "harness/kernel_cost.h"
#include "harness/kernel_register.h"
#include "harness/kernel_verify.h"
#include "kernels/kernels.h"

namespace moetune {
namespace {

template <typename V>
std::vector<std::string_view> names_of(const std::vector<V>& registry) {
  std::vector<std::string_view> names;
  for (const auto& v : registry) names.push_back(v.name);
  return names;
}

std::string no_size_problem(const KernelCase&) { return ""; }
std::string no_params(const KernelCase&) { return ""; }
Arith f32_arith(const KernelCase&) { return Arith::kF32; }

// ---- gemv: an expert's gate (or up) projection, [I, H] as stored in oi.

const GemvVariant& gemv_of(const KernelCase& c) { return *find_gemv(c.variant); }

std::string gemv_size_problem(const KernelCase& c) {
  if (c.k < 1) return fmt::format("k must be at least 1, got {}", c.k);
  if (c.m < 1) return fmt::format("m must be at least 1, got {}", c.m);
  if (c.threads < 1) return fmt::format("threads must be at least 1, got {}", c.threads);
  return "";
}

constexpr KernelOpTraits kGemv{
    Op::kGemv,
    [] { return names_of(gemv_variants()); },
    [](std::string_view name) { return find_gemv(name) != nullptr; },
    gemv_size_problem,
    [](const KernelCase& c) { return fmt::format("/k:{}/m:{}/threads:{}", c.k, c.m, c.threads); },
    [](const MoeShape& s, int64_t per_expert, KernelCase& c) {
      c.n = s.intermediate;
      c.k = s.hidden;
      c.m = per_expert;
    },
    true,
    [](const KernelCase& c) { return arith_of(gemv_of(c).acts, gemv_of(c).isa); },
    gemv_cost,
    [](const KernelCase& c) { return verify_gemv(gemv_of(c), c.n, c.k, c.m, c.threads, c.seed); },
    [](const std::string& name, const KernelCase& c, const KernelCost& cost, double bound) {
      return register_gemv_benchmark(name, c, gemv_of(c), cost, bound);
    },
};

// ---- swiglu: the rows of I that one expert's tokens make.

constexpr KernelOpTraits kSwiglu{
    Op::kSwiglu,
    [] { return names_of(swiglu_variants()); },
    [](std::string_view name) { return find_swiglu(name) != nullptr; },
    no_size_problem,
    no_params,
    [](const MoeShape& s, int64_t per_expert, KernelCase& c) { c.n = s.intermediate * per_expert; },
    false,
    f32_arith,
    swiglu_cost,
    [](const KernelCase& c) { return verify_swiglu(*find_swiglu(c.variant), c.n, c.seed); },
    [](const std::string& name, const KernelCase& c, const KernelCost& cost, double bound) {
      return register_swiglu_benchmark(name, c, *find_swiglu(c.variant), cost, bound);
    },
};

// ---- softmax: one token's E router logits.

constexpr KernelOpTraits kSoftmax{
    Op::kSoftmax,
    [] { return names_of(softmax_variants()); },
    [](std::string_view name) { return find_softmax(name) != nullptr; },
    no_size_problem,
    no_params,
    [](const MoeShape& s, int64_t, KernelCase& c) { c.n = s.experts; },
    false,
    f32_arith,
    softmax_cost,
    [](const KernelCase& c) { return verify_softmax(*find_softmax(c.variant), c.n, c.seed); },
    [](const std::string& name, const KernelCase& c, const KernelCost& cost, double bound) {
      return register_softmax_benchmark(name, c, *find_softmax(c.variant), cost, bound);
    },
};

// ---- topk: the k largest of one token's E router probabilities.

constexpr KernelOpTraits kTopk{
    Op::kTopk,
    [] { return names_of(topk_variants()); },
    [](std::string_view name) { return find_topk(name) != nullptr; },
    [](const KernelCase& c) {
      if (c.k < 1 || c.k > c.n) return fmt::format("k must be in [1, n = {}], got {}", c.n, c.k);
      return std::string();
    },
    [](const KernelCase& c) { return fmt::format("/k:{}", c.k); },
    [](const MoeShape& s, int64_t, KernelCase& c) {
      c.n = s.experts;
      c.k = s.top_k;
    },
    false,
    f32_arith,
    topk_cost,
    [](const KernelCase& c) { return verify_topk(*find_topk(c.variant), c.n, c.k, c.seed); },
    [](const std::string& name, const KernelCase& c, const KernelCost& cost, double bound) {
      return register_topk_benchmark(name, c, *find_topk(c.variant), cost, bound);
    },
};

}  // namespace

const std::vector<KernelOpTraits>& kernel_op_traits() {
  static const std::vector<KernelOpTraits> table = {kGemv, kSwiglu, kSoftmax, kTopk};
  return table;
}

const KernelOpTraits* kernel_op(Op op) {
  for (const auto& t : kernel_op_traits())
    if (t.op == op) return &t;
  return nullptr;
}

}  // namespace moetune
