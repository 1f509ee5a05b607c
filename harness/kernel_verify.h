// Verification of a kernel variant against the naive reference of its op (gemv: of its dtype,
// activations and layout) on the inputs of kernel_inputs.h, with a tolerance derived from how
// the arithmetic may differ. A variant the CPU cannot run fails with "needs <isa>".
#pragma once

#include <cstdint>
#include <vector>

#include "harness/kernel_case.h"
#include "harness/kernel_inputs.h"
#include "kernels/kernels.h"

namespace moetune {

// On given inputs: what the benchmarks check before they time on the same inputs.
Verification check_gemv(const GemvVariant& v, const GemvInputs& in, int threads);
Verification check_swiglu(const SwigluVariant& v, const SwigluInputs& in);
Verification check_softmax(const SoftmaxVariant& v, const std::vector<float>& x);
Verification check_topk(const TopkVariant& v, const std::vector<float>& p, int64_t k);

// On the inputs of a shape and seed, for a variant that need not be in a registry (tests
// verify deliberately wrong ones).
Verification verify_gemv(const GemvVariant& v, int64_t n, int64_t k, int64_t m, int threads,
                         uint32_t seed = 1);
Verification verify_swiglu(const SwigluVariant& v, int64_t n, uint32_t seed = 1);
Verification verify_softmax(const SoftmaxVariant& v, int64_t n, uint32_t seed = 1);
Verification verify_topk(const TopkVariant& v, int64_t n, int64_t k, uint32_t seed = 1);

}  // namespace moetune
