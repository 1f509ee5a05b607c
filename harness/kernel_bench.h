// Kernel benchmarks made at run time from the registries (kernels/kernels.h): one Google
// Benchmark per (op, variant, shape, threads), each verified against the op's naive reference
// on the very inputs it is timed on, each reporting bytes/s, flops/s and roofline_pct.
// moetune_bench registers the Qwen shapes; the sweep registers the shapes of its YAML file.
// What differs between the ops is the traits table (kernel_ops.h): inputs (kernel_inputs.h),
// verification (kernel_verify.h), costs (kernel_cost.h) and timed loops (kernel_register.h).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "harness/kernel_case.h"
#include "harness/kernel_verify.h"
#include "harness/roofline.h"
#include "kernels/kernels.h"
#include "variants/point.h"

namespace moetune {

// "gemv/gemv_f32_oi__naive/n:5632/k:2048/m:1/threads:2", "swiglu/swiglu_f32__naive/n:768",
// "softmax/softmax_f32__naive/n:128", "topk/topk_f32__naive/n:128/k:8". Google Benchmark
// appends "/real_time".
std::string benchmark_name(const KernelCase& c);

// What one call must move and compute at the least (kernel_cost.h).
KernelCost kernel_cost(const KernelCase& c);

// Verifies c's variant against the naive reference of its op (and layout) on c's inputs.
// Throws InputError for an op without kernels, an unknown variant name or a shape out of range.
Verification verify_kernel(const KernelCase& c);

// One case per registered variant of `op` (both layouts for gemv) on one shape.
// Throws InputError for an op without kernels (layer).
std::vector<KernelCase> registry_cases(Op op, int64_t n, int64_t k = 0, int64_t m = 1,
                                       int threads = 1);

// Registers c with Google Benchmark under benchmark_name(c), timed in real time
// (kernel_register.h), bounded by the roofline of one call on the threads it runs on (from
// `roofline`). Throws InputError for what verify_kernel rejects.
benchmark::internal::Benchmark* register_kernel_benchmark(const KernelCase& c,
                                                          const RooflineResult& roofline);

}  // namespace moetune
