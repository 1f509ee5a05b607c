#include "harness/kernel_register.h"

#include <fmt/core.h>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "harness/kernel_inputs.h"
#include "harness/kernel_verify.h"

namespace moetune {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void report(benchmark::State& st, const KernelCost& cost, double bound_seconds, double elapsed) {
  const double iters = double(st.iterations());
  st.SetBytesProcessed(int64_t(cost.bytes * iters));
  st.counters["flops"] = benchmark::Counter(cost.flops * iters, benchmark::Counter::kIsRate);
  st.counters["verified"] = 1;
  st.counters["roofline_pct"] =
      iters > 0 && elapsed > 0 ? 100.0 * bound_seconds * iters / elapsed : 0.0;
}

// Verified once per benchmark (Google Benchmark calls the function again for every batch
// size and repetition), on the inputs it is then timed on.
using Verdict = std::shared_ptr<std::optional<Verification>>;

bool verified_or_skip(benchmark::State& st, const Verification& v) {
  if (v.ok) return true;
  // A variant the CPU cannot run is not a failure of the variant: say just what it needs.
  const std::string why =
      v.message.rfind("needs ", 0) == 0 ? v.message : "verification failed: " + v.message;
  st.SkipWithError(why.c_str());
  return false;
}

}  // namespace

benchmark::internal::Benchmark* register_gemv_benchmark(const std::string& name,
                                                        const KernelCase& c, const GemvVariant& v_,
                                                        const KernelCost& cost, double bound) {
  const GemvVariant* v = &v_;
  auto verdict = std::make_shared<std::optional<Verification>>();
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
    // Before the inputs: cold weights are large, and a variant that cannot run needs none.
    if (!isa_available(v->isa)) {
      verified_or_skip(st, {false, 0.0, fmt::format("needs {}", isa_name(v->isa))});
      return;
    }
    const auto in = cached_gemv_inputs(v->layout, v->dtype, c.n, c.k, c.m, c.seed, c.cold_weights);
    if (!*verdict) *verdict = check_gemv(*v, *in, c.threads);
    if (!verified_or_skip(st, **verdict)) return;
    // Every copy's arguments were made with the inputs, so the loop only picks one.
    const std::vector<GemvArgs>& args = in->timed;
    int64_t copy = 0;
    const auto t0 = Clock::now();
    for (auto _ : st) {
      gemv_run_threaded(*v, args[std::size_t(copy)], c.threads);
      benchmark::DoNotOptimize(in->y.get());
      benchmark::ClobberMemory();
      if (++copy == in->copies) copy = 0;
    }
    report(st, cost, bound, seconds_since(t0));
  });
  b->Unit(benchmark::kMicrosecond);
  return b;
}

benchmark::internal::Benchmark* register_swiglu_benchmark(const std::string& name,
                                                          const KernelCase& c,
                                                          const SwigluVariant& v_,
                                                          const KernelCost& cost, double bound) {
  const SwigluVariant* v = &v_;
  auto verdict = std::make_shared<std::optional<Verification>>();
  return benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
    const SwigluInputs in = make_swiglu_inputs(c.n, c.seed);
    if (!*verdict) *verdict = check_swiglu(*v, in);
    if (!verified_or_skip(st, **verdict)) return;
    std::vector<float> h(in.g.size());
    const auto t0 = Clock::now();
    for (auto _ : st) {
      v->fn(in.g.data(), in.u.data(), h.data(), c.n);
      benchmark::DoNotOptimize(h.data());
      benchmark::ClobberMemory();
    }
    report(st, cost, bound, seconds_since(t0));
  });
}

benchmark::internal::Benchmark* register_softmax_benchmark(const std::string& name,
                                                           const KernelCase& c,
                                                           const SoftmaxVariant& v_,
                                                           const KernelCost& cost, double bound) {
  const SoftmaxVariant* v = &v_;
  auto verdict = std::make_shared<std::optional<Verification>>();
  return benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
    const std::vector<float> x = make_softmax_inputs(c.n, c.seed);
    if (!*verdict) *verdict = check_softmax(*v, x);
    if (!verified_or_skip(st, **verdict)) return;
    std::vector<float> p(x.size());
    const auto t0 = Clock::now();
    for (auto _ : st) {
      v->fn(x.data(), p.data(), c.n);
      benchmark::DoNotOptimize(p.data());
      benchmark::ClobberMemory();
    }
    report(st, cost, bound, seconds_since(t0));
  });
}

benchmark::internal::Benchmark* register_topk_benchmark(const std::string& name,
                                                        const KernelCase& c, const TopkVariant& v_,
                                                        const KernelCost& cost, double bound) {
  const TopkVariant* v = &v_;
  auto verdict = std::make_shared<std::optional<Verification>>();
  return benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
    const std::vector<float> p = make_topk_inputs(c.n, c.seed);
    if (!*verdict) *verdict = check_topk(*v, p, c.k);
    if (!verified_or_skip(st, **verdict)) return;
    std::vector<float> values(static_cast<std::size_t>(c.k));
    std::vector<int32_t> ids(static_cast<std::size_t>(c.k)), scratch(static_cast<std::size_t>(c.n));
    const auto t0 = Clock::now();
    for (auto _ : st) {
      v->fn(p.data(), c.n, c.k, values.data(), ids.data(), scratch.data());
      benchmark::DoNotOptimize(values.data());
      benchmark::DoNotOptimize(ids.data());
      benchmark::ClobberMemory();
    }
    report(st, cost, bound, seconds_since(t0));
  });
}

}  // namespace moetune
