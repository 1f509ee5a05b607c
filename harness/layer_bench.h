// Layer benchmarks (op `layer`): one Google Benchmark per (strategy, shape, layout, tokens,
// threads), verified against the naive strategy with naive kernels on the inputs it is timed
// on, reporting bytes/s, flops/s, roofline_pct and heap allocations per call.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "harness/roofline.h"
#include "variants/moe_layer.h"
#include "variants/point.h"
#include "variants/selection.h"

namespace moetune {

struct LayerCase {
  // The point (op layer; tokens 1 takes incremental_forward). Its dtype is the weights': bf16
  // and int8 weights are the f32 weights of the seed, converted.
  Point point{Op::kLayer, {}, DType::kF32, Layout::kOI, 1, 1};
  // A layer variant, layer_<dtype>__<strategy> (variants/layer.inc), of the point's dtype.
  std::string variant;
  bool skewed_routing = false;  // most tokens to a few experts, instead of the router's spread
  // kMayRound: the selection may run a gemv that rounds the activations (a sweep's
  // `rounded_activations: true`); it is then verified against the naive layer of the same
  // arithmetic, and rel_error_vs_f32 says what the rounding costs.
  Activations activations = Activations::kExact;
  uint64_t seed = 1;
  std::string name;  // the benchmark's name; empty: layer_benchmark_name(*this)

  Layout layout() const { return point.layout.value_or(Layout::kOI); }
};

std::string layer_benchmark_name(const LayerCase& c);

// The kernels c's layer runs: the naive ones for the naive strategy (the whole baseline), the
// build's selection (variants/selection.h) with c's activations for every other. Throws
// InputError for an unknown strategy.
KernelSelection layer_kernels(const LayerCase& c);
// "gemv=... swiglu=... softmax=... topk=...", the results' `kernels` of a layer case.
std::string kernels_label(const KernelSelection& k);

// Bytes a call must move (the weights its routing touches, X and Y) and flops it must do
// (router, experts, shared expert), for the roofline bound; per call, averaged over the
// inputs the benchmark cycles through.
struct LayerCost {
  double bytes = 0.0;
  double flops = 0.0;
};

// Registers c. Weights are made when the benchmark first runs, from c.seed, and shared by
// every case of the same shape, layout and seed. Counters: bytes_per_second, flops (rate),
// verified (against the naive layer on the same weights), roofline_pct, allocs_per_call,
// heap_bytes_per_call, workspace_bytes (heap the layer took at construction: its buffers),
// rel_error_vs_f32 (against the naive layer on the f32 weights); the label names the kernels.
// Throws InputError for an unknown strategy, an invalid shape, a point that is not a layer's
// with a layout, or a strategy of another dtype than the point's.
benchmark::internal::Benchmark* register_layer_benchmark(const LayerCase& c,
                                                         const RooflineResult& roofline);

// Frees every cached weight set (between sweeps of different shapes).
void clear_layer_bench_cache();

}  // namespace moetune
