// Every registered gemv variant against the naive reference of its layout, on sizes that hit
// every tail (1, odd, around the vector width and the unroll, beyond L2), 1..5 tokens,
// y = and y +=, padded leading dimensions, and 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <tuple>

#include "kernels/gemv/gemv.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

struct Shape {
  int64_t n, k;
};

// 1, 3, 15, 17, 100, 1000 on both sides, and 1100 x 600 f32 (2.6 MB: beyond this L2 of 1 MB).
const Shape kShapes[] = {{1, 1},    {1, 17},   {3, 3},     {15, 15},  {17, 17},  {17, 15},
                         {15, 100}, {100, 3},  {100, 100}, {33, 1000}, {1000, 1}, {1000, 17},
                         {7, 1000}, {1100, 600}};

class GemvTest : public ::testing::TestWithParam<std::tuple<const GemvVariant*, int>> {};

TEST_P(GemvTest, MatchesNaive) {
  const auto [v, threads] = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  const GemvVariant& ref = gemv_naive(v->layout);
  for (const Shape s : kShapes) {
    for (int64_t m : {1, 2, 3, 4, 5, 9}) {
      if (s.n * s.k > 100000 && m > 5) continue;  // keeps the suite fast
      for (bool accumulate : {false, true}) {
        for (int64_t pad : {0, 5}) {
          SCOPED_TRACE(testing::Message() << "n=" << s.n << " k=" << s.k << " m=" << m
                                          << " accumulate=" << accumulate << " pad=" << pad);
          const int64_t rows = v->layout == Layout::kOI ? s.n : s.k;
          const int64_t cols = v->layout == Layout::kOI ? s.k : s.n;
          const int64_t ldw = cols + pad, ldx = s.k + pad, ldy = s.n + pad;
          const auto w = test::random_vector(rows * ldw, 1);
          const auto x = test::random_vector(m * ldx, 2);
          const auto y0 = test::random_vector(m * ldy, 3);
          auto y = y0, want = y0;
          GemvArgs a{s.n, s.k, w.data(), ldw, x.data(), ldx, y.data(), ldy, m, accumulate};
          gemv_run_threaded(*v, a, threads);
          a.y = want.data();
          ref.fn(a);
          for (int64_t t = 0; t < m; ++t) {
            for (int64_t o = 0; o < s.n; ++o) {
              // Both results are sums of k products of values in [-1, 1], in some order:
              // each lies within k·u·Σ|w·x| <= k·u·k of the exact sum (u = 2^-24), so they
              // differ by at most 2·k²·u, plus the accumulated y (|y| <= 1) rounded once.
              const double tol = 2.0 * double(s.k) * double(s.k) * 0x1p-24 + 0x1p-22;
              ASSERT_NEAR(y[t * ldy + o], want[t * ldy + o], tol) << "token " << t << " out " << o;
            }
            for (int64_t o = s.n; o < ldy; ++o)  // the padding is never written
              ASSERT_EQ(y[t * ldy + o], y0[t * ldy + o]) << "padding written at " << o;
          }
        }
      }
    }
  }
}

std::vector<std::tuple<const GemvVariant*, int>> all_cases() {
  std::vector<std::tuple<const GemvVariant*, int>> cases;
  for (const auto& v : gemv_variants())
    for (int threads : {1, 2}) cases.emplace_back(&v, threads);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Registry, GemvTest, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) {
                           return test::param_name(std::string(std::get<0>(info.param)->name)) +
                                  "_t" + std::to_string(std::get<1>(info.param));
                         });

TEST(GemvRegistry, NamesAreUniqueAndSayOpDtypeLayout) {
  std::set<std::string_view> seen;
  for (const auto& v : gemv_variants()) {
    EXPECT_TRUE(seen.insert(v.name).second) << v.name;
    const std::string prefix = "gemv_f32_" + std::string(layout_name(v.layout)) + "__";
    EXPECT_EQ(v.name.substr(0, prefix.size()), prefix) << v.name;
    EXPECT_GE(v.tokens_per_pass, 1);
    EXPECT_GE(v.rows_per_pass, 1);
  }
}

}  // namespace
}  // namespace moetune
