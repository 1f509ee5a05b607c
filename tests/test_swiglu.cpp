// Every registered swiglu variant against the naive reference: sizes around the vector widths
// (8, 16) and the fused block (64), one beyond L2, h apart from g and u or aliasing either,
// inputs in [-20, 20] with the extremes ±88, ±100, ±1e30, 0 and -0 mixed in.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "kernels/swiglu/swiglu.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

// 300000 floats are 1.2 MB per array: g, u and h together are beyond this 1 MB L2 (x3).
const int64_t kSizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 1000, 300000};

// At g = -100 and -1e30, exp(-g) overflows and silu is -0; at g = +100 and +1e30, exp(-g) is 0
// or a denormal and silu(g) = g; ±88 sits just inside exp's range.
const float kExtremes[] = {88.0f, -88.0f, 100.0f, -100.0f, 1e30f, -1e30f, 0.0f, -0.0f};

std::vector<float> gate_input(int64_t n, uint32_t seed) {
  auto g = test::random_vector(n, seed, -20.0f, 20.0f);
  for (int64_t i = 0; i < n; i += 5) g[i] = kExtremes[(i / 5) % 8];
  return g;
}

enum class Alias { kNone, kGate, kUp };
const char* alias_name(Alias a) { return a == Alias::kNone ? "h apart" : a == Alias::kGate ? "h = g" : "h = u"; }

class SwigluTest : public ::testing::TestWithParam<const SwigluVariant*> {};

TEST_P(SwigluTest, MatchesNaive) {
  const SwigluVariant* v = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  constexpr int64_t kGuard = 16;  // a full AVX-512 vector past the end must stay untouched
  constexpr float kGuardValue = 12345.0f;
  for (const int64_t n : kSizes) {
    const auto g = gate_input(n, 1);
    const auto u = test::random_vector(n, 2, -2.0f, 2.0f);
    std::vector<float> want(n);
    swiglu_naive().fn(g.data(), u.data(), want.data(), n);
    for (const Alias alias : {Alias::kNone, Alias::kGate, Alias::kUp}) {
      SCOPED_TRACE(testing::Message() << "n=" << n << ", " << alias_name(alias));
      std::vector<float> gb(g), ub(u), hb(n + kGuard, kGuardValue);
      gb.resize(n + kGuard, kGuardValue);
      ub.resize(n + kGuard, kGuardValue);
      float* h = alias == Alias::kNone ? hb.data() : alias == Alias::kGate ? gb.data() : ub.data();
      v->fn(gb.data(), ub.data(), h, n);
      for (int64_t i = 0; i < n; ++i) {
        // Each result is fl(fl(g / fl(1 + E)) · u) with E = exp(-g) within 1.05 ulp (our
        // vector exp, measured) or 1 ulp (glibc expf) of exact, i.e. 2.1·2^-24 relative; 1 + E
        // carries no more relative error than E, and the sum, the division and the product add
        // 2^-24 each: 5.1·2^-24 from the exact value for either, 10.2·2^-24 between them.
        // Results below FLT_MIN (g = -88 with a small u) are rounded on the absolute grid
        // 2^-149, once per operation.
        const double tol = 12.0 * 0x1p-24 * std::fabs(want[i]) + 4.0 * 0x1p-149;
        if (std::isnan(want[i])) {
          ASSERT_TRUE(std::isnan(h[i])) << "at " << i << ", g=" << g[i];
        } else {
          ASSERT_NEAR(h[i], want[i], tol) << "at " << i << ", g=" << g[i] << ", u=" << u[i];
          ASSERT_EQ(std::signbit(h[i]), std::signbit(want[i])) << "at " << i << ", g=" << g[i];
        }
      }
      for (int64_t i = n; i < n + kGuard; ++i) {
        ASSERT_EQ(hb[i], kGuardValue) << "written past the end at " << i;
        ASSERT_EQ(gb[i], kGuardValue) << "written past the end at " << i;
        ASSERT_EQ(ub[i], kGuardValue) << "written past the end at " << i;
      }
    }
  }
}

TEST_P(SwigluTest, Extremes) {
  const SwigluVariant* v = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  // 17 values: a full vector of either width and a tail, so both paths see each extreme.
  const float g[17] = {-100.0f, 100.0f, -1e30f, 1e30f, -88.0f, 88.0f, 0.0f, -0.0f, -100.0f,
                       100.0f,  -1e30f, 1e30f, 0.0f, -0.0f,  -88.0f, 88.0f, -100.0f};
  float u[17], h[17];
  for (float& x : u) x = 1.0f;
  v->fn(g, u, h, 17);
  for (int i = 0; i < 17; ++i) {
    SCOPED_TRACE(testing::Message() << "g=" << g[i]);
    ASSERT_FALSE(std::isnan(h[i]));
    if (g[i] >= 88.0f) {
      EXPECT_EQ(h[i], g[i]);  // exp(-g) <= 6e-39 vanishes next to 1
    }
    if (g[i] <= -100.0f || g[i] == 0.0f) {
      EXPECT_EQ(h[i], 0.0f);
      EXPECT_EQ(std::signbit(h[i]), std::signbit(g[i]));  // silu(-100) = -0, silu(-0) = -0
    }
    if (g[i] == -88.0f) {  // -88 / (1 + e^88) = -5.3e-37: tiny but not flushed
      EXPECT_LT(h[i], 0.0f);
      EXPECT_NEAR(h[i], -88.0 * std::exp(-88.0), 1e-6 * 88.0 * std::exp(-88.0));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, SwigluTest,
                         ::testing::ValuesIn([] {
                           std::vector<const SwigluVariant*> all;
                           for (const auto& v : swiglu_variants()) all.push_back(&v);
                           return all;
                         }()),
                         [](const auto& info) { return test::param_name(std::string(info.param->name)); });

TEST(SwigluRegistry, NamesAreUniqueAndSayOpDtype) {
  std::set<std::string_view> seen;
  for (const auto& v : swiglu_variants()) {
    EXPECT_TRUE(seen.insert(v.name).second) << v.name;
    EXPECT_EQ(v.name.substr(0, 12), "swiglu_f32__") << v.name;
    EXPECT_GE(v.unroll, 1) << v.name;
  }
  EXPECT_NE(find_swiglu("swiglu_f32__naive"), nullptr);
  EXPECT_EQ(find_swiglu("swiglu_f32__nonexistent"), nullptr);
}

}  // namespace
}  // namespace moetune
