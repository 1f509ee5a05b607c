#include "harness/layer_bench.h"

#include <fmt/core.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "harness/alloc_counter.h"
#include "harness/error.h"
#include "variants/routing.h"
#include "variants/selection.h"

namespace moetune {
namespace {

// Inputs a benchmark cycles through, so that a decode step does not find the previous step's
// experts in the cache: each input routes to other experts, as consecutive tokens do.
constexpr int kInputRing = 4;
// Inputs checked against the reference (the naive layer is slow on real shapes).
constexpr int kVerifiedInputs = 2;
// Calls over which heap allocations per call are counted.
constexpr int kAllocCountCalls = 2;

using Clock = std::chrono::steady_clock;

std::mutex cache_mutex;
std::map<std::string, std::shared_ptr<const MoeWeights>>& weight_cache() {
  static std::map<std::string, std::shared_ptr<const MoeWeights>> cache;
  return cache;
}

std::map<std::string, std::vector<float>>& reference_cache() {
  static std::map<std::string, std::vector<float>> cache;
  return cache;
}

// The weights of c's shape, layout and seed in `dtype`: bf16 and int8 ones converted from the
// f32 ones (which stay cached: the f32 reference reads them).
std::shared_ptr<const MoeWeights> cached_weights(const LayerCase& c, DType dtype) {
  std::shared_ptr<const MoeWeights> f32;
  if (dtype != DType::kF32) f32 = cached_weights(c, DType::kF32);
  const std::string key = fmt::format("{}/{}/{}/{}", c.point.shape.key(), layout_name(c.layout()),
                                      c.seed, dtype_name(dtype));
  std::lock_guard<std::mutex> lock(cache_mutex);
  auto& slot = weight_cache()[key];
  if (!slot)
    slot = std::make_shared<const MoeWeights>(
        f32 ? f32->converted(dtype) : MoeWeights::random(c.point.shape, c.layout(), c.seed));
  return slot;
}

float uniform(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return float(z >> 40) * 0x1p-24f * 2.0f - 1.0f;
}

// Hidden states in [-1, 1]. Skewed routing adds, to every token, the direction of the first
// eighth of the experts' router rows (at least top_k of them), so that most tokens pick those.
std::vector<float> make_inputs(const LayerCase& c, const MoeWeights& w, int ring_index) {
  const int64_t H = c.point.shape.hidden, T = c.point.tokens;
  std::vector<float> x(static_cast<size_t>(T * H));
  uint64_t state = c.seed * 1000003u + uint64_t(ring_index) * 7919u + uint64_t(T);
  for (auto& v : x) v = uniform(state);
  if (c.skewed_routing) {
    const MatrixRef r = w.router();
    const int64_t hot = std::max(c.point.shape.top_k, c.point.shape.experts / 8);
    std::vector<double> d(static_cast<size_t>(H), 0.0);
    for (int64_t e = 0; e < hot; ++e)
      for (int64_t i = 0; i < H; ++i) d[i] += r.f32()[e * r.ldw + i];
    double norm = 0.0;
    for (double v : d) norm += v * v;
    norm = std::sqrt(norm);
    if (norm > 0)  // as long as a token's own spread, which is about sqrt(H/3)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < H; ++i)
          x[t * H + i] += float(d[i] / norm * std::sqrt(double(H) / 3.0));
  }
  return x;
}

void run(MoeLayer& layer, const float* x, int64_t tokens, float* y) {
  if (tokens == 1)
    layer.incremental_forward(x, y);
  else
    layer.forward(x, tokens, y);
}

// Per token: both results add the same O(H + I) products of values of order 1 in other
// orders, so each is within (H + I)·u of the exact value relative to the token's scale
// (u = 2^-24, about 1e-4 for H = 2048); 1e-3 of the token's largest output leaves room, and
// a wrong expert, weight or activation is off by order 1.
constexpr double kRelativeTolerance = 1e-3;

std::string compare(const std::vector<float>& got, const std::vector<float>& want, int64_t H) {
  const int64_t T = int64_t(want.size()) / H;
  for (int64_t t = 0; t < T; ++t) {
    double scale = 0.0;
    for (int64_t i = 0; i < H; ++i) scale = std::max(scale, double(std::fabs(want[t * H + i])));
    for (int64_t i = 0; i < H; ++i) {
      const double g = got[t * H + i], w = want[t * H + i];
      if (!(std::fabs(g - w) <= kRelativeTolerance * scale + 1e-30))
        return fmt::format("token {} output {}: {} where the naive layer gives {}", t, i, g, w);
    }
  }
  return {};
}

struct Prepared {
  std::shared_ptr<const MoeWeights> weights;
  std::unique_ptr<MoeLayer> layer;
  std::vector<std::vector<float>> inputs;
  std::vector<float> y;
  LayerCost cost;
  std::string error;  // non-empty: verification failed
  std::string kernels;
  double workspace_bytes = 0;   // what the layer holds beyond the weights, from construction
  double rel_error_vs_f32 = 0;  // the largest over the verified inputs
  Arith arith = Arith::kF32;    // what its gemv multiplies with: the peak of its bound
};

// Heap bytes in use, from every allocator path (operator new, malloc, aligned_alloc, mmap'd
// blocks): the layer's aligned buffers bypass operator new, so AllocCounter cannot see them.
double heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return double(m.uordblks) + double(m.hblkhd);
}

LayerCost layer_cost(const LayerCase& c, const MoeWeights& w, const Routing& routing) {
  const double H = double(c.point.shape.hidden), I = double(c.point.shape.intermediate);
  const double E = double(c.point.shape.experts), S = double(c.point.shape.shared_intermediate);
  const double T = double(c.point.tokens), pairs = T * double(c.point.shape.top_k);
  LayerCost cost;
  cost.bytes = double(routed_weight_bytes(w, routing)) + 2.0 * T * H * sizeof(float);
  cost.flops = T * 2.0 * E * H + pairs * 6.0 * I * H;
  if (c.point.shape.has_shared_expert()) cost.flops += T * (6.0 * S * H + 2.0 * H);
  return cost;
}

// The naive layer's output (naive kernels, the gemv's with activations `acts`) with weights `w`
// for ring input r, computed once and shared by every strategy and thread count of the point:
// on a real shape at 128 tokens it takes seconds.
const std::vector<float>& reference_output(const LayerCase& c, const MoeWeights& w,
                                           const std::vector<float>& x, int r,
                                           DType acts = DType::kF32) {
  const std::string key = fmt::format(
      "{}/{}/{}/{}/{}/{}/{}/{}", c.point.shape.key(), layout_name(c.layout()),
      dtype_name(w.dtype()), dtype_name(acts), c.seed, c.point.tokens, c.skewed_routing, r);
  std::lock_guard<std::mutex> lock(cache_mutex);
  auto& want = reference_cache()[key];
  if (want.empty()) {
    const std::string naive = layer_variant_name(w.dtype(), "naive");
    MoeLayer reference(w, naive, naive_kernels(c.layout(), w.dtype(), acts), 1, c.point.tokens);
    want.resize(x.size());
    run(reference, x.data(), c.point.tokens, want.data());
  }
  return want;
}

// ||got - want||_2 / ||want||_2 over all tokens.
double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = double(got[i]) - double(want[i]);
    diff += d * d;
    norm += double(want[i]) * double(want[i]);
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

std::unique_ptr<Prepared> prepare(const LayerCase& c) {
  auto p = std::make_unique<Prepared>();
  p->weights = cached_weights(c, c.point.dtype);
  const MoeWeights& w = *p->weights;
  const std::shared_ptr<const MoeWeights> f32 = cached_weights(c, DType::kF32);
  const int64_t H = c.point.shape.hidden;
  for (int r = 0; r < kInputRing; ++r) p->inputs.push_back(make_inputs(c, w, r));
  p->y.assign(static_cast<size_t>(c.point.tokens * H), 0.0f);

  const KernelSelection k = layer_kernels(c);
  p->kernels = kernels_label(k);
  p->arith = arith_of(k.gemv->acts, k.gemv->isa);
  const double heap0 = heap_in_use();
  p->layer = std::make_unique<MoeLayer>(w, c.variant, k, c.point.threads, c.point.tokens);
  p->workspace_bytes = heap_in_use() - heap0;

  double bytes = 0.0, flops = 0.0;
  for (int r = 0; r < kInputRing; ++r) {
    run(*p->layer, p->inputs[r].data(), c.point.tokens, p->y.data());
    const LayerCost cost = layer_cost(c, w, p->layer->last_routing());
    bytes += cost.bytes / kInputRing;
    flops += cost.flops / kInputRing;
    if (r < kVerifiedInputs && p->error.empty()) {
      p->error = compare(p->y, reference_output(c, w, p->inputs[r], r, k.gemv->acts), H);
      p->rel_error_vs_f32 = std::max(
          p->rel_error_vs_f32, relative_error(p->y, reference_output(c, *f32, p->inputs[r], r)));
    }
  }
  p->cost = {bytes, flops};
  return p;
}

}  // namespace

KernelSelection layer_kernels(const LayerCase& c) {
  const LayerVariant* v = find_layer_variant(c.variant);
  if (!v) throw InputError("layer benchmark", c.variant, "no such layer strategy");
  // The naive strategy is the whole baseline, the layer as it was before the optimization
  // summary: naive loops in naive kernels. Every other strategy runs the build's selection.
  return v->strategy == "naive" ? naive_kernels(c.layout(), c.point.dtype)
                                : select_kernels(c.point.shape, c.point.tokens, c.point.threads,
                                                 c.layout(), c.point.dtype, c.activations);
}

std::string kernels_label(const KernelSelection& k) {
  return fmt::format("gemv={} swiglu={} softmax={} topk={}", k.gemv->name, k.swiglu->name,
                     k.softmax->name, k.topk->name);
}

std::string layer_benchmark_name(const LayerCase& c) {
  return fmt::format("layer/{}/{}/{}/tokens:{}/threads:{}", c.variant, c.point.shape.key(),
                     layout_name(c.layout()), c.point.tokens, c.point.threads);
}

benchmark::internal::Benchmark* register_layer_benchmark(const LayerCase& c,
                                                         const RooflineResult& roofline) {
  const std::string why = c.point.shape.validate();
  if (!why.empty()) throw InputError("layer benchmark", c.point.shape.key(), why);
  if (!find_layer_variant(c.variant)) {
    std::string names;
    for (const auto& v : layer_variants())
      names += (names.empty() ? "" : ", ") + std::string(v.name);
    throw InputError(
        "layer benchmark", c.variant,
        fmt::format("no layer strategy named '{}'; expected one of: {}", c.variant, names));
  }
  if (c.point.tokens < 1 || c.point.threads < 1)
    throw InputError("layer benchmark", c.variant, "tokens and threads must be at least 1");
  if (c.point.op != Op::kLayer || !point_problem(c.point).empty())
    throw InputError("layer benchmark", c.variant,
                     "expected a layer point with a layout, got " + c.point.id());
  if (const DType d = find_layer_variant(c.variant)->dtype; d != c.point.dtype)
    throw InputError("layer benchmark", c.variant,
                     fmt::format("the strategy is for {} weights, the point has {}", dtype_name(d),
                                 dtype_name(c.point.dtype)));
  auto prepared = std::make_shared<std::unique_ptr<Prepared>>();
  const std::string name = c.name.empty() ? layer_benchmark_name(c) : c.name;
  auto* b = benchmark::RegisterBenchmark(name.c_str(), [c, prepared,
                                                        roofline](benchmark::State& st) {
    if (!*prepared) *prepared = prepare(c);
    Prepared& p = **prepared;
    if (!p.error.empty()) {
      st.SkipWithError(("verification failed: " + p.error).c_str());
      return;
    }
    const double bound = roofline.seconds_for(p.cost.bytes, p.cost.flops, c.point.threads, p.arith);
    int r = 0;
    const auto t0 = Clock::now();
    for (auto _ : st) {
      run(*p.layer, p.inputs[r].data(), c.point.tokens, p.y.data());
      benchmark::DoNotOptimize(p.y.data());
      benchmark::ClobberMemory();
      r = (r + 1) % kInputRing;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    const double iters = double(st.iterations());
    // Allocations are counted over calls of their own, after the timed loop: Google
    // Benchmark's loop allocates a few times when it starts and stops, and with one iteration
    // per repetition (prefill on a real shape) that would read as allocations per call.
    AllocCounter allocs;
    for (int i = 0; i < kAllocCountCalls; ++i) {
      run(*p.layer, p.inputs[r].data(), c.point.tokens, p.y.data());
      r = (r + 1) % kInputRing;
    }
    const double allocs_per_call = double(allocs.allocs()) / kAllocCountCalls;
    const double bytes_per_call = double(allocs.bytes()) / kAllocCountCalls;
    st.SetBytesProcessed(int64_t(p.cost.bytes * iters));
    st.counters["flops"] = benchmark::Counter(p.cost.flops * iters, benchmark::Counter::kIsRate);
    st.counters["verified"] = 1;
    st.counters["roofline_pct"] = elapsed > 0 ? 100.0 * bound * iters / elapsed : 0.0;
    st.counters["allocs_per_call"] = allocs_per_call;
    st.counters["heap_bytes_per_call"] = bytes_per_call;
    st.counters["workspace_bytes"] = p.workspace_bytes;
    st.counters["rel_error_vs_f32"] = p.rel_error_vs_f32;
    st.SetLabel(p.kernels);
  });
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
  return b;
}

void clear_layer_bench_cache() {
  std::lock_guard<std::mutex> lock(cache_mutex);
  weight_cache().clear();
  reference_cache().clear();
}

}  // namespace moetune
