// Google Benchmark registration of one kernel variant at one size, timed in real time: when
// run, it verifies the variant once on the inputs it is then timed on (kernel_verify.h); a
// variant the CPU cannot run reports SkipWithError("needs <isa>"), one that fails
// verification "verification failed: ...". Counters: bytes_per_second, flops (a rate),
// verified (1), and roofline_pct: 100 x `bound_seconds` (the roofline bound of one call) /
// the measured time per call. One function per op: each has its own inputs and call.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "harness/kernel_case.h"
#include "kernels/kernels.h"

namespace moetune {

benchmark::internal::Benchmark* register_gemv_benchmark(const std::string& name,
                                                        const KernelCase& c, const GemvVariant& v,
                                                        const KernelCost& cost,
                                                        double bound_seconds);
benchmark::internal::Benchmark* register_swiglu_benchmark(const std::string& name,
                                                          const KernelCase& c,
                                                          const SwigluVariant& v,
                                                          const KernelCost& cost,
                                                          double bound_seconds);
benchmark::internal::Benchmark* register_softmax_benchmark(const std::string& name,
                                                           const KernelCase& c,
                                                           const SoftmaxVariant& v,
                                                           const KernelCost& cost,
                                                           double bound_seconds);
benchmark::internal::Benchmark* register_topk_benchmark(const std::string& name,
                                                        const KernelCase& c, const TopkVariant& v,
                                                        const KernelCost& cost,
                                                        double bound_seconds);

}  // namespace moetune
