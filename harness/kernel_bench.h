// Kernel benchmarks made at run time from the registries (kernels/kernels.h): one Google
// Benchmark per (op, variant, shape, threads), each verified against the op's naive reference
// on the very inputs it is timed on, each reporting bytes/s, flops/s and roofline_pct.
// moetune_bench registers the Qwen shapes; the sweep registers the shapes of its YAML file.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/roofline.h"
#include "kernels/kernels.h"

namespace moetune {

struct KernelCase {
  std::string op;       // "gemv", "swiglu", "softmax" or "topk"
  std::string variant;  // a name in that op's registry
  int64_t n = 0;        // gemv: outputs (rows of an oi matrix); the others: elements
  int64_t k = 0;        // gemv: inputs; topk: how many are kept; unused by swiglu, softmax
  int64_t m = 1;        // gemv: tokens per call
  int threads = 1;      // gemv: threads of gemv_run_threaded; the other ops run on one
  uint32_t seed = 1;    // inputs are a function of (op, shape, seed) only
  // gemv: cycle through enough copies of W that they overflow the L3 (at least 64 MiB), so
  // each call streams its weights from memory as a decode step does with the experts'
  // weights, and the DRAM roofline is the bound that applies. false times a cache-hot W.
  bool cold_weights = true;
  double min_time = 0.0;  // seconds per repetition; 0 leaves --benchmark_min_time in charge
  int repetitions = 0;    // 0 leaves --benchmark_repetitions in charge
};

// "gemv/gemv_f32_oi__naive/n:5632/k:2048/m:1/threads:2", "swiglu/swiglu_f32__naive/n:768",
// "softmax/softmax_f32__naive/n:128", "topk/topk_f32__naive/n:128/k:8". Google Benchmark
// appends "/real_time".
std::string benchmark_name(const KernelCase& c);

// What one call must move and compute at the least, for the roofline bound.
// gemv: the weights once, x and y; 2·n·k·m flops. swiglu: g, u, h; 4 flops per element
// (exp, add, divide, multiply). softmax: x, p; 5 per element (max, subtract, exp, sum,
// divide). topk: p, the k values and ids; 1 comparison per element.
struct KernelCost {
  double bytes = 0.0;
  double flops = 0.0;
};
KernelCost kernel_cost(const KernelCase& c);

struct Verification {
  bool ok = false;
  double max_error = 0.0;  // largest |variant - naive| (topk: count of wrong places)
  std::string message;     // why it failed, or "" when ok
};

// Verifies c's variant against the naive reference of its op (and layout) on c's inputs.
// Throws InputError for an unknown op or variant name or a shape out of range.
Verification verify_kernel(const KernelCase& c);

// The same for a variant that need not be in a registry (tests verify deliberately wrong
// ones). A variant the CPU cannot run fails with "needs <isa>".
Verification verify_gemv(const GemvVariant& v, int64_t n, int64_t k, int64_t m, int threads,
                         uint32_t seed = 1);
Verification verify_swiglu(const SwigluVariant& v, int64_t n, uint32_t seed = 1);
Verification verify_softmax(const SoftmaxVariant& v, int64_t n, uint32_t seed = 1);
Verification verify_topk(const TopkVariant& v, int64_t n, int64_t k, uint32_t seed = 1);

// One case per registered variant of `op` (both layouts for gemv) on one shape.
// Throws InputError for an unknown op.
std::vector<KernelCase> registry_cases(std::string_view op, int64_t n, int64_t k = 0, int64_t m = 1,
                                       int threads = 1);

// Registers c with Google Benchmark under benchmark_name(c), timed in real time. When run,
// it verifies first and then times; a variant the CPU cannot run reports
// SkipWithError("needs <isa>"), one that fails verification "verification failed: ...".
// Counters: bytes_per_second, flops (a rate), verified (1), and roofline_pct: 100 x the
// roofline bound of one call (on c.threads threads, from `roofline`) / the measured time
// per call. Throws InputError for what verify_kernel rejects.
benchmark::internal::Benchmark* register_kernel_benchmark(const KernelCase& c,
                                                          const RooflineResult& roofline);

}  // namespace moetune
