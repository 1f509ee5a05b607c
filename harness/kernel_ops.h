// The kernel ops' traits table (as ggml-cpu's type traits): what the benchmarks, the sweep and
// their tests ask of an op, per op, so that no code compares op names. The op's name and whether
// it reads weights are variants/point.h's (op_name, op_reads_weights); its registry is
// kernels/<op>/; the rest is here.
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "harness/kernel_case.h"
#include "harness/roofline.h"
#include "variants/moe_shape.h"
#include "variants/point.h"

namespace moetune {

struct KernelOpTraits {
  Op op;
  // The registry: every variant's name, in its order; whether a name is one of them.
  std::vector<std::string_view> (*variants)();
  bool (*has_variant)(std::string_view name);
  // What is wrong with the case's sizes beyond n < 1 ("" when nothing).
  std::string (*size_problem)(const KernelCase& c);
  // The benchmark name's parameters after n:N, e.g. "/k:2048/m:1/threads:2" for gemv.
  std::string (*name_params)(const KernelCase& c);
  // The size the layer calls it with at a shape, when one expert sees `per_expert` tokens
  // (sets n, k, m).
  void (*size_in_layer)(const MoeShape& shape, int64_t per_expert, KernelCase& c);
  // Runs on c.threads threads (gemv_run_threaded), or on one.
  bool threaded;
  // The arithmetic whose peak bounds a variant: a gemv that rounds its activations runs the
  // dot-product instructions. The variant is in the registry.
  Arith (*arith)(const KernelCase& c);
  KernelCost (*cost)(const KernelCase& c);  // kernel_cost.h
  // Makes the op's inputs for the case (kernel_inputs.h) and checks the variant against the
  // op's naive reference on them (kernel_verify.h). The variant is in the registry.
  Verification (*verify)(const KernelCase& c);
  // Registers the timed benchmark (kernel_register.h). The variant is in the registry.
  benchmark::internal::Benchmark* (*register_benchmark)(const std::string& name,
                                                        const KernelCase& c, const KernelCost& cost,
                                                        double bound_seconds);
};

// The ops with kernels, in kOps order: gemv, swiglu, softmax, topk.
const std::vector<KernelOpTraits>& kernel_op_traits();
// The traits of a kernel op; nullptr for one without kernels (layer).
const KernelOpTraits* kernel_op(Op op);

}  // namespace moetune
