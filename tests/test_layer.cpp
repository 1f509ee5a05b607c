// The MoE layer: every registered strategy, with the naive kernels and with every other kernel
// variant this CPU runs, against the naive strategy on the naive kernels (the reference), on
// qwen3-style (no shared expert, normalised top-k) and qwen2-style (shared expert, raw top-k)
// shapes with odd sizes, both layouts, 1..64 tokens, k = 1 and k = E. Then what the optimized
// strategies promise: the same bits for any thread count, incremental_forward = forward(x, 1),
// no allocation in a decode step, ties to the lower expert id, NaN confined to its token.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/alloc_counter.h"
#include "tests/test_util.h"
#include "variants/moe_layer.h"

namespace moetune {
namespace {

const MoeShape kQwen3 = {64, 32, 6, 2, 0, true};
const MoeShape kQwen2 = {64, 32, 6, 2, 48, false};
const MoeShape kOdd3 = {33, 17, 5, 2, 0, true};
const MoeShape kOdd2 = {33, 17, 5, 3, 19, false};
const MoeShape kTop1 = {33, 17, 5, 1, 19, false};
const MoeShape kTopAll = {33, 17, 5, 5, 0, true};
// Beyond one split chunk (64 outputs) in H, I and S, and beyond one router chunk (16) in E:
// the row-split paths run over several chunks with a tail.
const MoeShape kWide = {150, 130, 20, 3, 140, false};
const MoeShape kShapes[] = {kQwen3, kQwen2, kOdd3, kOdd2, kTop1, kTopAll, kWide};
const int64_t kTokens[] = {1, 2, 5, 64};

bool is_naive(std::string_view name) {
  return name.size() >= 7 && name.substr(name.size() - 7) == "__naive";
}

// The registry's variants for weights of one dtype (the f32 ones unless said otherwise: the
// tests below the dtype section are about strategies, which are the same code for every dtype).
std::vector<const LayerVariant*> variants_of(DType dtype = DType::kF32) {
  std::vector<const LayerVariant*> out;
  for (const auto& v : layer_variants())
    if (v.dtype == dtype) out.push_back(&v);
  return out;
}

std::vector<std::string_view> optimized_strategies(DType dtype = DType::kF32) {
  std::vector<std::string_view> out;
  for (const LayerVariant* v : variants_of(dtype))
    if (!is_naive(v->name)) out.push_back(v->name);
  return out;
}

// The first available non-naive variant of an op, or the naive one when there is none.
template <typename V>
const V* best_of(const std::vector<V>& all, const V& naive) {
  for (const auto& v : all)
    if (!is_naive(v.name) && isa_available(v.isa)) return &v;
  return &naive;
}

// The first available exact one (activations not rounded).
const GemvVariant* best_gemv(Layout layout, DType dtype = DType::kF32) {
  for (const auto& v : gemv_variants())
    if (v.layout == layout && v.dtype == dtype && !v.rounds_activations() && !is_naive(v.name) &&
        isa_available(v.isa))
      return &v;
  return &gemv_naive(layout, dtype);
}

KernelSelection best_kernels(Layout layout, DType dtype = DType::kF32) {
  return {best_gemv(layout, dtype), best_of(swiglu_variants(), swiglu_naive()),
          best_of(softmax_variants(), softmax_naive()), best_of(topk_variants(), topk_naive())};
}

std::string describe(const KernelSelection& k) {
  return std::string(k.gemv->name) + " " + std::string(k.swiglu->name) + " " +
         std::string(k.softmax->name) + " " + std::string(k.topk->name);
}

// The naive kernels in both layouts, the best ones in both, and the best ones with each other
// available variant put in turn in place of its op's: every kernel the layer can run is run.
std::vector<KernelSelection> kernel_sets() {
  std::vector<KernelSelection> sets = {naive_kernels(Layout::kOI), naive_kernels(Layout::kIO),
                                       best_kernels(Layout::kOI), best_kernels(Layout::kIO)};
  for (const auto& v : gemv_variants())
    if (isa_available(v.isa) && v.dtype == DType::kF32) {
      KernelSelection k = best_kernels(v.layout);
      k.gemv = &v;
      sets.push_back(k);
    }
  for (const auto& v : swiglu_variants())
    if (isa_available(v.isa)) {
      KernelSelection k = best_kernels(Layout::kOI);
      k.swiglu = &v;
      sets.push_back(k);
    }
  for (const auto& v : softmax_variants())
    if (isa_available(v.isa)) {
      KernelSelection k = best_kernels(Layout::kOI);
      k.softmax = &v;
      sets.push_back(k);
    }
  for (const auto& v : topk_variants())
    if (isa_available(v.isa)) {
      KernelSelection k = best_kernels(Layout::kOI);
      k.topk = &v;
      sets.push_back(k);
    }
  std::vector<KernelSelection> unique;
  std::set<std::string> seen;
  for (const auto& k : sets)
    if (seen.insert(describe(k)).second) unique.push_back(k);
  return unique;
}

std::vector<float> inputs(const MoeShape& s, int64_t tokens, uint32_t seed) {
  return test::random_vector(static_cast<size_t>(tokens * s.hidden), seed);
}

struct Output {
  std::vector<float> y;
  Routing routing;
};

Output run(const MoeWeights& w, std::string_view strategy, const KernelSelection& k, int threads,
           const std::vector<float>& x, int64_t tokens, bool incremental = false) {
  MoeLayer layer(w, strategy, k, threads, tokens);
  Output out;
  out.y.assign(static_cast<size_t>(tokens * w.shape().hidden), -7.0f);
  if (incremental)
    layer.incremental_forward(x.data(), out.y.data());
  else
    layer.forward(x.data(), tokens, out.y.data());
  out.routing = layer.last_routing();
  return out;
}

// The naive strategy on the naive kernels of the weights' dtype and layout, the gemv's
// activations `acts`.
Output reference(const MoeWeights& w, const std::vector<float>& x, int64_t tokens,
                 DType acts = DType::kF32) {
  const std::string naive = layer_variant_name(w.dtype(), "naive");
  return run(w, naive, naive_kernels(w.layout(), w.dtype(), acts), 1, x, tokens);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Compares one token's output with the reference's. Each output is three chained f32 dot
// products (gate/up over H, down over I or S, at most 64 terms), a swiglu and a weighted sum
// of at most 5 expert rows; the router softmax is double in the naive kernel, f32 in others.
// A dot product of n terms in any order is within n·u·Σ|a_i·b_i| of the exact value
// (u = 2^-24, so 64·u ≈ 3.8e-6 of the sum of magnitudes), and with these ±1/sqrt(fan-in)
// weights and ±1 inputs the sum of magnitudes stays within a few times the token's largest
// output. Three such errors, propagated through swiglu and the top-k weights, stay below
// ~5e-5 of that largest output; 2e-4 leaves a margin while any real mistake (a wrong expert,
// a missing weight or shared expert, a token's output in another row) changes outputs by
// tens of percent of it.
void expect_close(const Output& got, const Output& want, const MoeShape& s, int64_t tokens) {
  ASSERT_EQ(got.routing.ids, want.routing.ids) << "routing differs";
  for (size_t i = 0; i < want.routing.weights.size(); ++i)
    ASSERT_NEAR(got.routing.weights[i], want.routing.weights[i], 1e-6f) << "routing weight " << i;
  const int64_t H = s.hidden;
  for (int64_t t = 0; t < tokens; ++t) {
    float scale = 0.0f;
    for (int64_t i = 0; i < H; ++i) scale = std::max(scale, std::fabs(want.y[t * H + i]));
    const float tol = 2e-4f * scale + 1e-7f;
    for (int64_t i = 0; i < H; ++i)
      ASSERT_NEAR(got.y[t * H + i], want.y[t * H + i], tol) << "token " << t << " output " << i;
  }
}

std::string shape_name(const MoeShape& s) { return s.key(); }

// ---------------------------------------------------------------------------------------------

TEST(LayerRegistry, NamesAreUniqueSayWhatThenHowAndAreFound) {
  std::set<std::string_view> seen;
  ASSERT_FALSE(layer_variants().empty());
  for (const auto& v : layer_variants()) {
    EXPECT_TRUE(seen.insert(v.name).second) << v.name;
    EXPECT_EQ(v.name, layer_variant_name(v.dtype, v.strategy));
    EXPECT_FALSE(v.description.empty()) << v.name;
    EXPECT_EQ(find_layer_variant(v.name), &v);
  }
  // Every strategy for every dtype.
  for (DType d : {DType::kBF16, DType::kInt8})
    EXPECT_EQ(variants_of(d).size(), variants_of(DType::kF32).size()) << dtype_name(d);
  for (const char* required :
       {"layer_f32__naive", "layer_f32__expert_parallel", "layer_f32__row_parallel",
        "layer_f32__token_batched_4", "layer_f32__grouped"})
    EXPECT_NE(find_layer_variant(required), nullptr) << required;
  EXPECT_EQ(find_layer_variant("layer_f32__nope"), nullptr);
}

TEST(LayerErrors, RejectsWhatCannotRun) {
  const MoeWeights w = MoeWeights::random(kQwen3, Layout::kOI, 1);
  const KernelSelection naive = naive_kernels(Layout::kOI);
  EXPECT_THROW(MoeLayer(w, "layer_f32__nope", naive, 1), std::invalid_argument);
  EXPECT_THROW(MoeLayer(w, "layer_f32__grouped", naive_kernels(Layout::kIO), 1),
               std::invalid_argument);  // an io gemv on oi weights
  KernelSelection missing = naive;
  missing.topk = nullptr;
  EXPECT_THROW(MoeLayer(w, "layer_f32__grouped", missing, 1), std::invalid_argument);
  EXPECT_THROW(MoeLayer(w, "layer_f32__grouped", naive, 0), std::invalid_argument);
  EXPECT_THROW(MoeLayer(w, "layer_f32__grouped", naive, 1, 0), std::invalid_argument);
  for (const auto& v : gemv_variants())
    if (!isa_available(v.isa) && v.layout == Layout::kOI) {
      KernelSelection k = naive;
      k.gemv = &v;
      EXPECT_THROW(MoeLayer(w, "layer_f32__grouped", k, 1), std::invalid_argument) << v.name;
    }
  MoeLayer ok(w, "layer_f32__row_parallel", naive, 2, 3);
  EXPECT_EQ(ok.variant(), "layer_f32__row_parallel");
  EXPECT_EQ(ok.threads(), 2);
  EXPECT_EQ(&ok.weights(), &w);
}

// The reference itself, on a case small enough to work out by hand: one expert, k = 1, so
// y = 1 · Wd·(silu(Wg·x) ⊙ (Wu·x)) whatever the router says.
TEST(LayerReference, OneExpertByHand) {
  const MoeShape s = {2, 1, 1, 1, 0, true};
  MoeWeights w(s, Layout::kOI);
  const float router[] = {0.5f, -0.25f}, gate[] = {1.0f, 2.0f}, up[] = {3.0f, -1.0f};
  const float down[] = {2.0f, -0.5f};
  w.set_router(router);
  w.set_expert(0, Proj::kGate, gate);
  w.set_expert(0, Proj::kUp, up);
  w.set_expert(0, Proj::kDown, down);
  const std::vector<float> x = {0.5f, 0.25f};
  const Output r = reference(w, x, 1);
  const double g = 1.0 * 0.5 + 2.0 * 0.25, u = 3.0 * 0.5 - 1.0 * 0.25;
  const double h = g / (1.0 + std::exp(-g)) * u;
  EXPECT_NEAR(r.y[0], 2.0 * h, 1e-6);
  EXPECT_NEAR(r.y[1], -0.5 * h, 1e-6);
  EXPECT_EQ(r.routing.ids, std::vector<int32_t>{0});
  EXPECT_EQ(r.routing.weights, std::vector<float>{1.0f});
}

TEST(LayerMatchesReference, EveryStrategyEveryKernelSet) {
  const auto sets = kernel_sets();
  for (const MoeShape& s : kShapes) {
    const MoeWeights w_oi = MoeWeights::random(s, Layout::kOI, 11);
    const MoeWeights w_io = w_oi.relayout(Layout::kIO);
    for (int64_t tokens : kTokens) {
      const auto x = inputs(s, tokens, 100 + static_cast<uint32_t>(tokens));
      const Output want = reference(w_oi, x, tokens);
      for (const LayerVariant* v : variants_of())
        for (size_t i = 0; i < sets.size(); ++i) {
          const KernelSelection& k = sets[i];
          // Two threads for the best sets; one for the others, whose results do not depend
          // on the thread count (LayerDeterminism). Each parallel call waits at a few
          // barriers, and on a loaded machine every wait of a spinning OpenMP thread costs a
          // time slice: thousands of parallel calls would take minutes.
          const int threads = i == 2 || i == 3 ? 2 : 1;
          SCOPED_TRACE(testing::Message() << shape_name(s) << " T=" << tokens << " " << v->name
                                          << " " << describe(k) << " threads=" << threads);
          const MoeWeights& w = k.gemv->layout == Layout::kOI ? w_oi : w_io;
          expect_close(run(w, v->name, k, threads, x, tokens), want, s, tokens);
          if (tokens == 1) expect_close(run(w, v->name, k, threads, x, 1, true), want, s, 1);
        }
    }
  }
}

// Threads 1, 2 and 3 (E = 5 and 6: never a multiple of every thread count) give the same
// bits, in both layouts, for prefill and decode.
TEST(LayerDeterminism, SameBitsForAnyThreadCount) {
  for (const MoeShape& s : {kQwen2, kOdd2, kTopAll, kWide}) {
    for (Layout layout : {Layout::kOI, Layout::kIO}) {
      const MoeWeights w = MoeWeights::random(s, layout, 5);
      const KernelSelection k = best_kernels(layout);
      for (int64_t tokens : {1, 5, 64}) {
        const auto x = inputs(s, tokens, 7);
        for (auto strategy : optimized_strategies()) {
          SCOPED_TRACE(testing::Message() << shape_name(s) << " " << layout_name(layout)
                                          << " T=" << tokens << " " << strategy);
          const Output one = run(w, strategy, k, 1, x, tokens);
          for (int threads : {2, 3})
            EXPECT_TRUE(same_bits(run(w, strategy, k, threads, x, tokens).y, one.y))
                << threads << " threads";
          if (tokens == 1) {
            for (int threads : {1, 2, 3})
              EXPECT_TRUE(same_bits(run(w, strategy, k, threads, x, 1, true).y, one.y))
                  << "incremental_forward, " << threads << " threads";
          }
        }
      }
    }
  }
}

// A layer is reused call after call: its buffers carry nothing over, and calls with more
// tokens than max_tokens grow them.
TEST(LayerReuse, RepeatedAndGrowingCalls) {
  const MoeWeights w = MoeWeights::random(kOdd2, Layout::kOI, 3);
  const KernelSelection k = best_kernels(Layout::kOI);
  const auto x5 = inputs(kOdd2, 5, 1), x64 = inputs(kOdd2, 64, 2), x1 = inputs(kOdd2, 1, 3);
  for (const LayerVariant* v : variants_of()) {
    SCOPED_TRACE(v->name);
    MoeLayer layer(w, v->name, k, 2, 1);
    std::vector<float> y5(x5.size()), y64(x64.size()), y1(x1.size());
    layer.forward(x5.data(), 5, y5.data());  // beyond max_tokens = 1
    layer.forward(x64.data(), 64, y64.data());
    layer.incremental_forward(x1.data(), y1.data());
    EXPECT_TRUE(same_bits(y5, run(w, v->name, k, 2, x5, 5).y));
    EXPECT_TRUE(same_bits(y64, run(w, v->name, k, 2, x64, 64).y));
    EXPECT_TRUE(same_bits(y1, run(w, v->name, k, 2, x1, 1).y));
    layer.forward(x5.data(), 5, y5.data());
    EXPECT_TRUE(same_bits(y5, run(w, v->name, k, 2, x5, 5).y));
    EXPECT_EQ(layer.last_routing().ids, run(w, v->name, k, 2, x5, 5).routing.ids);
  }
}

// Experts 1 and 3 have the same router row, larger than the others' for positive inputs:
// their probabilities are exactly equal, and expert 1 must come first (and alone for k = 1).
TEST(LayerRouting, TiesGoToTheLowerExpertId) {
  for (int64_t k : {1, 2}) {
    const MoeShape s = {16, 8, 5, k, 0, true};
    MoeWeights w = MoeWeights::random(s, Layout::kOI, 9);
    std::vector<float> router(static_cast<size_t>(s.experts * s.hidden), 0.0f);
    for (int64_t i = 0; i < s.hidden; ++i)
      router[1 * s.hidden + i] = router[3 * s.hidden + i] = 0.5f;
    w.set_router(router.data());
    const auto x = test::random_vector(static_cast<size_t>(4 * s.hidden), 4, 0.1f, 1.0f);
    const auto sets = kernel_sets();
    for (const LayerVariant* v : variants_of())
      for (size_t i = 0; i < sets.size(); ++i) {
        const KernelSelection& kernels = sets[i];
        if (kernels.gemv->layout != Layout::kOI) continue;  // the router is oi in both
        const int threads = i == 2 ? 2 : 1;                 // as in LayerMatchesReference
        SCOPED_TRACE(testing::Message() << "k=" << k << " " << v->name << " " << describe(kernels));
        for (int64_t tokens : {1, 4}) {
          const Output out = run(w, v->name, kernels, threads, x, tokens, tokens == 1);
          for (int64_t t = 0; t < tokens; ++t) {
            EXPECT_EQ(out.routing.ids[t * k], 1) << "token " << t;
            if (k == 2) {
              EXPECT_EQ(out.routing.ids[t * k + 1], 3) << "token " << t;
              EXPECT_EQ(out.routing.weights[t * k], 0.5f);
              EXPECT_EQ(out.routing.weights[t * k + 1], 0.5f);
            }
          }
        }
      }
  }
}

// A NaN in token 2's input: the reference (and every strategy) gives NaN in every output of
// token 2, and the other tokens' outputs as without it. Strategies need not keep the others'
// bits: the NaN token's routing changes which tokens share a batch.
TEST(LayerNaN, StaysInItsToken) {
  for (const MoeShape& s : {kQwen3, kOdd2}) {
    const MoeWeights w = MoeWeights::random(s, Layout::kOI, 21);
    const int64_t tokens = 5, H = s.hidden;
    const auto clean = inputs(s, tokens, 8);
    auto dirty = clean;
    dirty[2 * H + 3] = std::nanf("");
    const Output want = reference(w, clean, tokens);
    for (const LayerVariant* v : variants_of())
      for (const KernelSelection& k : {naive_kernels(Layout::kOI), best_kernels(Layout::kOI)}) {
        SCOPED_TRACE(testing::Message() << shape_name(s) << " " << v->name << " " << describe(k));
        const Output got = run(w, v->name, k, 2, dirty, tokens);
        for (int64_t i = 0; i < H; ++i) EXPECT_TRUE(std::isnan(got.y[2 * H + i])) << i;
        for (int64_t t = 0; t < tokens; ++t) {
          if (t == 2) continue;
          for (int64_t i = 0; i < H; ++i)
            ASSERT_NEAR(got.y[t * H + i], want.y[t * H + i], 1e-4f) << "token " << t;
        }
        const Output one =
            run(w, v->name, k, 2, std::vector<float>(dirty.begin() + 2 * H, dirty.begin() + 3 * H),
                1, true);
        for (int64_t i = 0; i < H; ++i) EXPECT_TRUE(std::isnan(one.y[i])) << "decode " << i;
      }
  }
}

// An infinity in the input propagates as in PyTorch: the router logits of that token become
// ±inf, softmax turns them into NaN (inf - inf), and every output of that token is NaN or inf;
// the other tokens' outputs are as without it. The qwen2 shape also takes the gated shared
// expert, whose sigmoid saturates to 0 or 1 and still multiplies a non-finite projection.
TEST(LayerInf, StaysInItsToken) {
  const MoeShape s = kOdd2;
  const MoeWeights w = MoeWeights::random(s, Layout::kOI, 22);
  const int64_t tokens = 5, H = s.hidden;
  const auto clean = inputs(s, tokens, 9);
  auto dirty = clean;
  dirty[1 * H + 4] = INFINITY;
  dirty[3 * H + 0] = -INFINITY;
  const Output want = reference(w, clean, tokens);
  for (const LayerVariant* v : variants_of()) {
    const KernelSelection k = best_kernels(Layout::kOI);
    SCOPED_TRACE(testing::Message() << v->name << " " << describe(k));
    const Output got = run(w, v->name, k, 2, dirty, tokens);
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t i = 0; i < H; ++i) {
        if (t == 1 || t == 3)
          EXPECT_FALSE(std::isfinite(got.y[t * H + i])) << "token " << t << " " << i;
        else
          ASSERT_NEAR(got.y[t * H + i], want.y[t * H + i], 1e-4f) << "token " << t;
      }
    const Output one = run(w, v->name, k, 2,
                           std::vector<float>(dirty.begin() + H, dirty.begin() + 2 * H), 1, true);
    for (int64_t i = 0; i < H; ++i) EXPECT_FALSE(std::isfinite(one.y[i])) << "decode " << i;
  }
}

// Allocation-free kernels: the non-naive variants (the naive ones allocate by design), and a
// softmax registered as not allocating.
bool allocation_free_kernels(KernelSelection& k) {
  k = best_kernels(Layout::kOI);
  for (const auto& v : softmax_variants())
    if (!v.allocates && isa_available(v.isa)) k.softmax = &v;
  return !is_naive(k.gemv->name) && !is_naive(k.swiglu->name) && !k.softmax->allocates &&
         !is_naive(k.topk->name);
}

TEST(LayerAllocations, DecodeStepAllocatesNothing) {
  KernelSelection k;
  if (!allocation_free_kernels(k)) GTEST_SKIP() << "no allocation-free kernel set registered";
  for (const MoeShape& s : {kQwen3, kOdd2}) {
    const MoeWeights w = MoeWeights::random(s, Layout::kOI, 2);
    const auto x = inputs(s, 8, 3);
    std::vector<float> y(x.size());
    for (auto strategy : optimized_strategies())
      for (int threads : {1, 2}) {
        SCOPED_TRACE(testing::Message() << shape_name(s) << " " << strategy << " " << threads);
        MoeLayer layer(w, strategy, k, threads, 8);
        layer.incremental_forward(x.data(), y.data());  // warm-up: OpenMP's thread pool
        layer.forward(x.data(), 8, y.data());
        AllocCounter counter;
        for (int i = 0; i < 10; ++i)
          layer.incremental_forward(x.data() + i % 8 * s.hidden, y.data());
        EXPECT_EQ(counter.allocs(), 0) << counter.bytes() << " bytes";
        counter.mark();
        for (int i = 0; i < 10; ++i) layer.forward(x.data(), 8, y.data());
        EXPECT_EQ(counter.allocs(), 0) << "forward, within max_tokens: " << counter.bytes();
      }
  }
}

// The counter sees what naive does: its temporaries, on every call.
TEST(LayerAllocations, NaiveAllocatesEveryCall) {
  const MoeWeights w = MoeWeights::random(kQwen2, Layout::kOI, 2);
  const auto x = inputs(kQwen2, 1, 3);
  std::vector<float> y(x.size());
  MoeLayer layer(w, "layer_f32__naive", best_kernels(Layout::kOI), 1, 1);
  layer.incremental_forward(x.data(), y.data());
  AllocCounter counter;
  for (int i = 0; i < 10; ++i) layer.incremental_forward(x.data(), y.data());
  EXPECT_GE(counter.allocs(), 10 * (6 + 3 * 4));  // 6 per token, 4 per expert (k = 2, shared)
  EXPECT_GT(counter.bytes(), 10 * 4 * (kQwen2.hidden * 3));
  EXPECT_EQ(counter.frees(), counter.allocs());
}

TEST(RoutedWeightBytes, RouterDistinctExpertsAndSharedExpert) {
  const MoeWeights w3 = MoeWeights::random(kQwen3, Layout::kOI, 1);
  const int64_t H = 64, I = 32, E = 6, S = 48;
  Routing r;
  r.ids = {0, 3, 3, 0, 5, 0};  // three tokens, k = 2: experts 0, 3 and 5
  r.weights.assign(6, 0.5f);
  EXPECT_EQ(routed_weight_bytes(w3, r), 4 * (E * H + 3 * 3 * I * H));
  const MoeWeights w2 = MoeWeights::random(kQwen2, Layout::kIO, 1);
  EXPECT_EQ(routed_weight_bytes(w2, r), 4 * (E * H + 3 * 3 * I * H + 3 * S * H + H));
  // What a layer reports after a call agrees with its routing.
  MoeLayer layer(w2, "layer_f32__grouped", best_kernels(Layout::kIO), 2, 4);
  const auto x = inputs(kQwen2, 4, 5);
  std::vector<float> y(x.size());
  layer.forward(x.data(), 4, y.data());
  std::set<int32_t> distinct(layer.last_routing().ids.begin(), layer.last_routing().ids.end());
  EXPECT_EQ(routed_weight_bytes(w2, layer.last_routing()),
            4 * (E * H + static_cast<int64_t>(distinct.size()) * 3 * I * H + 3 * S * H + H));
}

// ---- bf16 and int8 weights ------------------------------------------------------------------

// Every strategy of each dtype, with the naive kernels, the best ones (on 2 threads) and every
// runnable gemv of that dtype, both layouts, against the naive strategy on the naive kernels
// over the same converted weights: the same products summed in another order, so the f32
// tolerance of expect_close holds. A gemv that rounds the activations is held against the
// naive layer of the same arithmetic (its naive gemv), whose products it sums. The routing
// must be the f32 one: the router stays f32 and exact.
TEST(LayerDtype, EveryStrategyMatchesTheNaiveLayerOfItsDtype) {
  for (DType d : {DType::kBF16, DType::kInt8}) {
    for (const MoeShape& s : {kQwen2, kOdd3, kWide}) {
      const MoeWeights f32_oi = MoeWeights::random(s, Layout::kOI, 11);
      // The naive strategy is the reference itself: its other kernel sets are covered by the
      // f32 tests, whose code it shares.
      for (Layout layout : {Layout::kOI, Layout::kIO}) {
        const MoeWeights w =
            layout == Layout::kOI ? f32_oi.converted(d) : f32_oi.relayout(layout).converted(d);
        ASSERT_EQ(w.dtype(), d);
        std::vector<KernelSelection> sets = {naive_kernels(layout, d), best_kernels(layout, d)};
        for (const auto& g : gemv_variants())
          if (g.dtype == d && g.layout == layout && isa_available(g.isa)) {
            KernelSelection k = best_kernels(layout, d);
            k.gemv = &g;
            sets.push_back(k);
          }
        for (int64_t tokens : {1, 5, 64}) {
          const auto x = inputs(s, tokens, 300 + static_cast<uint32_t>(tokens));
          const Output exact = reference(w, x, tokens);
          EXPECT_EQ(exact.routing.ids, reference(f32_oi, x, tokens).routing.ids);
          std::optional<Output> rounded;  // oi only: no io variant rounds the activations
          if (layout == Layout::kOI) {
            rounded = reference(w, x, tokens, d);
            EXPECT_EQ(rounded->routing.ids, exact.routing.ids);
          }
          for (const LayerVariant* v : variants_of(d))
            for (size_t i = 0; i < sets.size(); ++i) {
              const KernelSelection& k = sets[i];
              const Output& want = k.gemv->rounds_activations() ? rounded.value() : exact;
              // Two threads for the best set only, as in LayerMatchesReference.
              const int threads = i == 1 ? 2 : 1;
              SCOPED_TRACE(testing::Message()
                           << shape_name(s) << " " << layout_name(layout) << " T=" << tokens << " "
                           << v->name << " " << describe(k) << " threads=" << threads);
              expect_close(run(w, v->name, k, threads, x, tokens), want, s, tokens);
              if (tokens == 1) expect_close(run(w, v->name, k, threads, x, 1, true), want, s, 1);
            }
        }
      }
    }
  }
}

double relative_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    norm += double(want[i]) * want[i];
  }
  return std::sqrt(diff / norm);
}

// How far converted weights move the layer's output from the f32 weights' output (relative L2
// over 16 tokens, the figure sweeps record as rel_error_vs_f32). bf16 rounds each weight by at
// most 2^-9 relative (rms ~1.1e-3), int8 by half a step of max|row|/127 (rms ~3.9e-3 of a
// uniform weight's rms); a dot product of independent errors keeps that relative size, three
// chained projections about double it: ~2e-3 and ~8e-3 expected. The bounds leave 5x and 4x;
// the lower bound checks that the weights were converted at all (f32 gives ~1e-7).
TEST(LayerDtype, AccuracyAgainstF32WeightsIsBounded) {
  for (const MoeShape& s : {kQwen3, kQwen2, kWide}) {
    for (Layout layout : {Layout::kOI, Layout::kIO}) {
      const MoeWeights f32 = MoeWeights::random(s, layout, 17);
      const auto x = inputs(s, 16, 5);
      const Output want = reference(f32, x, 16);
      for (auto [d, bound] : {std::pair{DType::kBF16, 1e-2}, std::pair{DType::kInt8, 3e-2}}) {
        const MoeWeights w = f32.converted(d);
        const std::string strategy = layer_variant_name(d, "grouped");
        const double err =
            relative_l2(run(w, strategy, best_kernels(layout, d), 2, x, 16).y, want.y);
        SCOPED_TRACE(testing::Message() << shape_name(s) << " " << layout_name(layout) << " "
                                        << dtype_name(d) << " relative error " << err);
        EXPECT_LT(err, bound);
        EXPECT_GT(err, 1e-5);
      }
    }
  }
}

// What rounding the activations as well costs (the rel_error_vs_f32 sweeps record with
// `rounded_activations: true`), for every runnable gemv that does it, on the naive layer and
// the grouped one: bf16 x bf16 adds a rounding of each activation (x, and the swiglu output
// before down) of the size of the weights', so ~1.5x the bf16-weights error; int8 x int8
// adds a quantization step of max|x_t|/127 per token, and the swiglu output's max is several
// times its rms. Measured with the naive references on these shapes: bf16 3.7-4.1e-3 (weights
// alone 2.8-3.1e-3), int8 1.2-1.4e-2 (weights alone 6.7-7.3e-3); the bounds leave 2.5x and 3.5x.
TEST(LayerDtype, RoundedActivationsErrorIsBounded) {
  for (const MoeShape& s : {kQwen3, kQwen2, kWide}) {
    const MoeWeights f32 = MoeWeights::random(s, Layout::kOI, 17);
    const auto x = inputs(s, 16, 5);
    const Output want = reference(f32, x, 16);
    for (auto [d, bound] : {std::pair{DType::kBF16, 1e-2}, std::pair{DType::kInt8, 5e-2}}) {
      const MoeWeights w = f32.converted(d);
      const double exact_err = relative_l2(reference(w, x, 16).y, want.y);
      for (const auto& g : gemv_variants()) {
        if (g.dtype != d || !g.rounds_activations() || !isa_available(g.isa)) continue;
        KernelSelection k = best_kernels(Layout::kOI, d);
        k.gemv = &g;
        for (auto strategy : {"naive", "grouped"}) {
          const double err =
              relative_l2(run(w, layer_variant_name(d, strategy), k, 2, x, 16).y, want.y);
          SCOPED_TRACE(testing::Message()
                       << shape_name(s) << " " << g.name << " " << strategy << " relative error "
                       << err << " (weights only: " << exact_err << ")");
          EXPECT_LT(err, bound);
          EXPECT_GT(err, exact_err);  // the activations were rounded
        }
      }
    }
  }
}

TEST(LayerDtype, RejectsAStrategyOrGemvOfAnotherDtype) {
  const MoeWeights f32 = MoeWeights::random(kQwen3, Layout::kOI, 1);
  const MoeWeights bf16 = f32.converted(DType::kBF16);
  EXPECT_THROW(MoeLayer(bf16, "layer_f32__grouped", naive_kernels(Layout::kOI, DType::kBF16), 1),
               std::invalid_argument);
  EXPECT_THROW(MoeLayer(bf16, "layer_bf16__grouped", naive_kernels(Layout::kOI), 1),
               std::invalid_argument);  // an f32 gemv on bf16 weights
  EXPECT_THROW(MoeLayer(f32, "layer_int8__grouped", naive_kernels(Layout::kOI, DType::kInt8), 1),
               std::invalid_argument);
  EXPECT_THROW(bf16.converted(DType::kInt8), std::logic_error);  // converting is one-way
  EXPECT_THROW(bf16.relayout(Layout::kIO), std::logic_error);
  MoeLayer ok(bf16, "layer_bf16__grouped", naive_kernels(Layout::kOI, DType::kBF16), 1);
  EXPECT_EQ(ok.variant(), "layer_bf16__grouped");
}

// The roofline's byte count follows the dtype: 2 bytes a weight for bf16, 1 and a scale per
// output row for int8; the router (and the shared expert's gate) stay f32.
TEST(RoutedWeightBytes, CountsTheWeightsDtype) {
  const int64_t H = 64, I = 32, E = 6, S = 48;
  Routing r;
  r.ids = {0, 3, 3, 0, 5, 0};  // experts 0, 3 and 5
  const MoeWeights w = MoeWeights::random(kQwen2, Layout::kOI, 1);
  EXPECT_EQ(routed_weight_bytes(w.converted(DType::kBF16), r),
            4 * E * H + 2 * (3 * 3 * I * H + 3 * S * H) + 4 * H);
  EXPECT_EQ(routed_weight_bytes(w.converted(DType::kInt8), r),
            4 * E * H + 3 * (3 * I * H + 4 * (2 * I + H)) + 3 * S * H + 4 * (2 * S + H) + 4 * H);
}

}  // namespace
}  // namespace moetune
