// Verification catches deliberately wrong kernels and passes every registered one; the
// benchmarks made from the registry carry their counters, and say why a variant is skipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "harness/error.h"
#include "harness/kernel_bench.h"
#include "harness/kernel_inputs.h"
#include "tests/synthetic_results.h"

namespace moetune {
namespace {

// ---- deliberately wrong kernels

void gemv_zeros(const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t)
    for (int64_t o = 0; o < a.n; ++o) a.y[t * a.ldy + o] = 0.0f;
}

// Right everywhere but the last output of each token, which it never writes: a tail bug.
void gemv_skips_last(const GemvArgs& a) {
  GemvArgs b = a;
  b.n = a.n - 1;
  gemv_f32_oi__naive(b);
}

// Drops the last input of every dot product.
void gemv_short_k(const GemvArgs& a) {
  GemvArgs b = a;
  b.k = a.k - 1;
  gemv_f32_oi__naive(b);
}

void swiglu_no_silu(const float* g, const float* u, float* h, int64_t n) {
  for (int64_t i = 0; i < n; ++i) h[i] = g[i] * u[i];
}

// sigmoid(g)·u instead of g·sigmoid(g)·u: right shape, wrong function.
void swiglu_sigmoid(const float* g, const float* u, float* h, int64_t n) {
  for (int64_t i = 0; i < n; ++i) h[i] = u[i] / (1.0f + std::exp(-g[i]));
}

void softmax_unnormalised(const float* x, float* p, int64_t n) {
  const float max = *std::max_element(x, x + n);
  for (int64_t i = 0; i < n; ++i) p[i] = std::exp(x[i] - max);
}

// Breaks ties towards the higher id, against the contract.
void topk_high_id_on_ties(const float* p, int64_t n, int64_t k, float* values, int32_t* ids,
                          int32_t*) {
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [p](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a > b); });
  for (int64_t j = 0; j < k; ++j) ids[j] = order[j], values[j] = p[order[j]];
}

TEST(Verify, FlagsAGemvThatWritesZeros) {
  const GemvVariant fake{"gemv_f32_oi__zeros", gemv_zeros, Isa::kBaseline, DType::kF32, DType::kF32, Layout::kOI, 1, 1, nullptr};
  const Verification v = verify_gemv(fake, 33, 17, 2, 1);
  EXPECT_FALSE(v.ok);
  EXPECT_GT(v.max_error, 0.0);
  EXPECT_NE(v.message.find("token"), std::string::npos) << v.message;
}

TEST(Verify, FlagsAGemvThatLeavesAnOutputUnwritten) {
  const GemvVariant fake{"gemv_f32_oi__tail", gemv_skips_last, Isa::kBaseline, DType::kF32, DType::kF32, Layout::kOI, 1, 1, nullptr};
  for (int threads : {1, 2}) {
    const Verification v = verify_gemv(fake, 40, 9, 3, threads);
    EXPECT_FALSE(v.ok) << "threads " << threads;
  }
}

TEST(Verify, FlagsAGemvThatDropsOneInput) {
  const GemvVariant fake{"gemv_f32_oi__short", gemv_short_k, Isa::kBaseline, DType::kF32, DType::kF32, Layout::kOI, 1, 1, nullptr};
  EXPECT_FALSE(verify_gemv(fake, 64, 2048, 1, 1).ok);
}

TEST(Verify, FlagsWrongSwiglus) {
  const SwigluVariant no_silu{"swiglu_f32__no_silu", swiglu_no_silu, Isa::kBaseline, 1};
  const SwigluVariant sigmoid{"swiglu_f32__sigmoid", swiglu_sigmoid, Isa::kBaseline, 1};
  EXPECT_FALSE(verify_swiglu(no_silu, 100).ok);
  EXPECT_FALSE(verify_swiglu(sigmoid, 100).ok);
}

TEST(Verify, FlagsAnUnnormalisedSoftmax) {
  const SoftmaxVariant fake{"softmax_f32__raw", softmax_unnormalised, Isa::kBaseline, false};
  EXPECT_FALSE(verify_softmax(fake, 60).ok);
}

TEST(Verify, FlagsATopkThatBreaksTiesTheWrongWay) {
  const TopkVariant fake{"topk_f32__high_id", topk_high_id_on_ties, Isa::kBaseline};
  const Verification v = verify_topk(fake, 128, 8);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.message.find("place"), std::string::npos) << v.message;
}

TEST(Verify, AVariantTheCpuCannotRunNeedsItsIsa) {
  ASSERT_EQ(setenv("MOETUNE_MAX_ISA", "baseline", 1), 0);
  const GemvVariant fake{"gemv_f32_oi__wide", gemv_f32_oi__naive, Isa::kAvx2, DType::kF32, DType::kF32, Layout::kOI, 1, 1, nullptr};
  const Verification v = verify_gemv(fake, 8, 8, 1, 1);
  unsetenv("MOETUNE_MAX_ISA");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.message, "needs avx2");
}

// Every registered variant the CPU runs passes on shapes with tails; one it cannot run says
// so rather than passing.
void expect_passes(const KernelCase& c) {
  SCOPED_TRACE(benchmark_name(c));
  const Verification v = verify_kernel(c);
  if (v.message.rfind("needs ", 0) == 0) return;
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_TRUE(std::isfinite(v.max_error));
}

TEST(Verify, EveryRegisteredGemvPasses) {
  for (int threads : {1, 2})
    for (int64_t m : {1, 4, 5})
      for (const auto& c : registry_cases(Op::kGemv, 37, 29, m, threads)) expect_passes(c);
  for (const auto& c : registry_cases(Op::kGemv, 128, 2048, 1, 2)) expect_passes(c);
}

TEST(Verify, EveryRegisteredSwigluSoftmaxTopkPasses) {
  for (int64_t n : {1, 7, 67, 768})
    for (const auto& c : registry_cases(Op::kSwiglu, n)) expect_passes(c);
  for (int64_t n : {1, 60, 128})
    for (const auto& c : registry_cases(Op::kSoftmax, n)) expect_passes(c);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{60, 4}, {128, 8}, {5, 5}, {1, 1}})
    for (const auto& c : registry_cases(Op::kTopk, n, k)) expect_passes(c);
}

TEST(Verify, BadCasesAreInputErrors) {
  KernelCase c;
  c.op = Op::kGemv, c.variant = "gemv_f32_oi__nope", c.n = 4, c.k = 4;
  EXPECT_THROW(verify_kernel(c), InputError);
  c.op = Op::kLayer;  // no kernels
  EXPECT_THROW(verify_kernel(c), InputError);
  c.op = Op::kTopk, c.variant = "topk_f32__naive", c.n = 4, c.k = 5;
  EXPECT_THROW(verify_kernel(c), InputError);
  c.op = Op::kGemv, c.variant = "gemv_f32_oi__naive", c.k = 0;
  EXPECT_THROW(verify_kernel(c), InputError);
  EXPECT_THROW(registry_cases(Op::kLayer, 4), InputError);
}

// Cold weights: copies that overflow the L3, each with its arguments made once, all writing to
// the inputs' own y; a hot input set has one copy. A small matrix gets many copies.
TEST(KernelInputs, ColdWeightsOverflowTheL3AndEveryCopyIsReadyToTime) {
  EXPECT_GE(cold_bytes(), std::size_t{64} << 20);
  for (DType dtype : kDTypes) {
    SCOPED_TRACE(std::string(dtype_name(dtype)));
    const auto in = make_gemv_inputs(Layout::kOI, dtype, 20, 44, 3, 1, true);
    const std::size_t w_bytes = in->w_floats() * std::size_t(dtype_bytes(dtype));
    EXPECT_EQ(in->copies, int64_t((cold_bytes() + w_bytes - 1) / w_bytes));
    ASSERT_EQ(in->timed.size(), std::size_t(in->copies));
    for (int64_t c : {int64_t{0}, int64_t{1}, in->copies - 1}) {
      const GemvArgs want = in->args(c), got = in->timed[std::size_t(c)];
      EXPECT_EQ(got.w, want.w);
      EXPECT_EQ(got.w_bf16, want.w_bf16);
      EXPECT_EQ(got.w_i8, want.w_i8);
      EXPECT_EQ(got.x, want.x);
      EXPECT_EQ(got.y, in->y.get());
      EXPECT_EQ(got.n, 20);
      EXPECT_EQ(got.k, 44);
      EXPECT_EQ(got.m, 3);
    }
    const auto hot = make_gemv_inputs(Layout::kOI, dtype, 20, 44, 3, 1, false);
    EXPECT_EQ(hot->copies, 1);
    EXPECT_EQ(hot->timed.size(), 1u);
  }
}

TEST(KernelBench, NamesAndCosts) {
  KernelCase c;
  c.op = Op::kGemv, c.variant = "gemv_f32_oi__naive", c.n = 5632, c.k = 2048, c.m = 1, c.threads = 2;
  EXPECT_EQ(benchmark_name(c), "gemv/gemv_f32_oi__naive/n:5632/k:2048/m:1/threads:2");
  const KernelCost g = kernel_cost(c);
  EXPECT_DOUBLE_EQ(g.flops, 2.0 * 5632 * 2048);
  EXPECT_DOUBLE_EQ(g.bytes, 4.0 * (5632.0 * 2048 + 2048 + 5632));
  c.op = Op::kTopk, c.variant = "topk_f32__naive", c.n = 128, c.k = 8;
  EXPECT_EQ(benchmark_name(c), "topk/topk_f32__naive/n:128/k:8");
  c.op = Op::kSwiglu, c.variant = "swiglu_f32__naive", c.n = 768;
  EXPECT_EQ(benchmark_name(c), "swiglu/swiglu_f32__naive/n:768");
  EXPECT_DOUBLE_EQ(kernel_cost(c).bytes, 3.0 * 4 * 768);
}

// Collects the runs instead of printing them.
class Collector : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) this->runs.push_back(r);
  }
  std::vector<Run> runs;
};

RooflineResult fixed_roofline() { return test::synthetic_roofline(2, 20.0, 200.0, 15.0, 100.0); }

// Google Benchmark's registry is global to the test binary: each test starts and ends with
// it empty, so no other test's benchmarks run in its RunSpecifiedBenchmarks.
class KernelBenchRun : public ::testing::Test {
 protected:
  void SetUp() override { benchmark::ClearRegisteredBenchmarks(); }
  void TearDown() override { benchmark::ClearRegisteredBenchmarks(); }
};

TEST_F(KernelBenchRun, RegisteredBenchmarksRunVerifiedWithCounters) {
  std::vector<KernelCase> cases = registry_cases(Op::kGemv, 96, 80, 2, 2);
  for (auto& c : registry_cases(Op::kTopk, 61, 3)) cases.push_back(c);
  for (auto& c : cases) {
    c.cold_weights = false;
    c.min_time = 0.002;
    register_kernel_benchmark(c, fixed_roofline());
  }
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector, "(n:96/k:80/m:2/threads:2|topk/.*/n:61/k:3)");
  ASSERT_EQ(collector.runs.size(), cases.size());
  for (const auto& run : collector.runs) {
    SCOPED_TRACE(run.benchmark_name());
    if (run.error_occurred) {
      EXPECT_EQ(run.error_message.rfind("needs ", 0), 0u) << run.error_message;
      continue;
    }
    EXPECT_EQ(run.counters.at("verified").value, 1.0);
    EXPECT_GT(run.counters.at("roofline_pct").value, 0.0);
    EXPECT_TRUE(std::isfinite(run.counters.at("roofline_pct").value));
    EXPECT_GT(run.counters.at("bytes_per_second").value, 0.0);
    EXPECT_GT(run.counters.at("flops").value, 0.0);
    EXPECT_NE(run.benchmark_name().find("/real_time"), std::string::npos);
  }
}

TEST_F(KernelBenchRun, AVariantTheCpuCannotRunIsSkippedWithItsReason) {
  // A variant that needs an instruction set beyond the baseline, which MOETUNE_MAX_ISA masks
  // (OpenBLAS is no instruction set: the mask leaves it).
  const GemvVariant* wide = nullptr;
  for (const auto& v : gemv_variants())
    if (v.isa != Isa::kBaseline && v.isa != Isa::kOpenBlas) wide = &v;
  if (!wide) GTEST_SKIP() << "every gemv variant is baseline";
  KernelCase c;
  c.op = Op::kGemv, c.variant = std::string(wide->name), c.n = 24, c.k = 24, c.m = 1;
  c.cold_weights = false;
  c.min_time = 0.002;
  register_kernel_benchmark(c, fixed_roofline());
  ASSERT_EQ(setenv("MOETUNE_MAX_ISA", "baseline", 1), 0);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector, "n:24/k:24/m:1/threads:1");
  unsetenv("MOETUNE_MAX_ISA");
  ASSERT_EQ(collector.runs.size(), 1u);
  EXPECT_TRUE(collector.runs[0].error_occurred);
  EXPECT_EQ(collector.runs[0].error_message, "needs " + std::string(isa_name(wide->isa)));
}

}  // namespace
}  // namespace moetune
