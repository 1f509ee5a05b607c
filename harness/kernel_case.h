// What a kernel benchmark is about: one variant of one kernel op at one size, what one call
// costs at the least, and the verdict of its verification.
#pragma once

#include <cstdint>
#include <string>

#include "variants/point.h"

namespace moetune {

struct KernelCase {
  Op op = Op::kGemv;    // gemv, swiglu, softmax or topk (kernel_ops.h); never layer
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

// What one call must move and compute at the least, for the roofline bound (kernel_cost.h).
struct KernelCost {
  double bytes = 0.0;
  double flops = 0.0;
};

struct Verification {
  bool ok = false;
  double max_error = 0.0;  // largest |variant - naive| (topk: count of wrong places)
  std::string message;     // why it failed, or "" when ok
};

}  // namespace moetune
