#include "harness/kernel_bench.h"

#include <fmt/core.h>

#include "harness/error.h"
#include "harness/kernel_ops.h"

namespace moetune {
namespace {

[[noreturn]] void bad_case(const KernelCase& c, const std::string& message) {
  throw InputError("kernel case", std::string(op_name(c.op)) + "/" + c.variant, message);
}

const KernelOpTraits& traits_of(const KernelCase& c) {
  const KernelOpTraits* t = kernel_op(c.op);
  if (!t)
    bad_case(c, fmt::format("op '{}' has no kernels: expected gemv, swiglu, softmax or topk",
                            op_name(c.op)));
  return *t;
}

// The op's traits, once the case's sizes are in range and its variant is registered.
const KernelOpTraits& checked(const KernelCase& c) {
  const KernelOpTraits& t = traits_of(c);
  if (c.n < 1) bad_case(c, fmt::format("n must be at least 1, got {}", c.n));
  if (const std::string problem = t.size_problem(c); !problem.empty()) bad_case(c, problem);
  return t;
}

void check_variant(const KernelOpTraits& t, const KernelCase& c) {
  if (!t.has_variant(c.variant))
    bad_case(c, fmt::format("no {} variant named '{}' (see `moetune variants`)", op_name(c.op),
                            c.variant));
}

}  // namespace

std::string benchmark_name(const KernelCase& c) {
  return fmt::format("{}/{}/n:{}", op_name(c.op), c.variant, c.n) + traits_of(c).name_params(c);
}

KernelCost kernel_cost(const KernelCase& c) { return traits_of(c).cost(c); }

Verification verify_kernel(const KernelCase& c) {
  const KernelOpTraits& t = checked(c);
  check_variant(t, c);
  return t.verify(c);
}

std::vector<KernelCase> registry_cases(Op op, int64_t n, int64_t k, int64_t m, int threads) {
  KernelCase c;
  c.op = op;
  c.n = n, c.k = k, c.m = m, c.threads = threads;
  std::vector<KernelCase> cases;
  for (std::string_view name : traits_of(c).variants()) {
    c.variant = std::string(name);
    cases.push_back(c);
  }
  return cases;
}

benchmark::internal::Benchmark* register_kernel_benchmark(const KernelCase& c,
                                                          const RooflineResult& roofline) {
  const KernelOpTraits& t = checked(c);
  const KernelCost cost = t.cost(c);
  check_variant(t, c);
  const int threads = t.threaded ? c.threads : 1;
  const double bound = roofline.seconds_for(cost.bytes, cost.flops, threads, t.arith(c));
  benchmark::internal::Benchmark* b = t.register_benchmark(benchmark_name(c), c, cost, bound);
  // Real time: the gemv work runs on an OpenMP team the main thread only waits for.
  b->UseRealTime();
  if (c.min_time > 0) b->MinTime(c.min_time);
  if (c.repetitions > 0) b->Repetitions(c.repetitions);
  return b;
}

}  // namespace moetune
