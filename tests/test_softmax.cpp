// Every registered softmax variant against the naive reference (computed in double): random
// logits on sizes around the vector width and the unroll and beyond L2, in place and apart,
// then the special inputs whose result PyTorch fixes: huge logits, all equal, +inf, -inf, all
// -inf, NaN, each placed first, in the middle and last (the last is in a vector tail).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>

#include "kernels/softmax/softmax.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

// 300000 floats are 1.2 MB: beyond this 1 MB L2.
const int64_t kSizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 128, 1000, 300000};

// How far a variant may be from naive, as a multiple of 2^-24 relative to naive's p_i.
// A variant computes e_i = exp(fl(x_i - max)): the subtraction's rounding moves the argument
// by up to 2^-24·|y_i| (y_i = x_i - max), hence exp by that much relative; exp itself is within
// 1.05 ulp (our vector exp, measured) or 1 ulp (glibc), at most 2.1·2^-24. The sum of the e_j
// then carries the worst e_j error plus its own rounding: a float chain of at most 128
// additions (inplace) or 70 (AVX2) per block, blocks added in double. 1/sum and the product
// add 2^-24 each, naive's own rounding to float 0.5. So |got - want| <= (2·(ymax + 2.1) + 128
// + 2.5)·2^-24·want, where ymax = max |y_j| over the entries that do not underflow (|y| <= 104;
// an underflowed term is 0 in both and carries no error).
double rel_tol(const std::vector<float>& x) {
  float max = -INFINITY;
  for (float v : x) max = std::max(max, v);
  double ymax = 0.0;
  for (float v : x)
    if (std::isfinite(v) && std::isfinite(max)) ymax = std::max(ymax, std::min(104.0, double(max) - v));
  return (2.0 * (ymax + 2.1) + 128.0 + 2.5) * 0x1p-24;
}

// Results below FLT_MIN are rounded on the absolute grid 2^-149 by exp, the product and naive.
constexpr double kAbsTol = 4.0 * 0x1p-149;

void expect_matches_naive(const SoftmaxVariant& v, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  constexpr int64_t kGuard = 16;
  constexpr float kGuardValue = 12345.0f;
  std::vector<float> want(n);
  softmax_naive().fn(x.data(), want.data(), n);
  const double rel = rel_tol(x);
  for (const bool in_place : {false, true}) {
    SCOPED_TRACE(in_place ? "in place" : "apart");
    std::vector<float> xb(x), pb(n + kGuard, kGuardValue);
    xb.resize(n + kGuard, kGuardValue);
    float* p = in_place ? xb.data() : pb.data();
    v.fn(xb.data(), p, n);
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(want[i])) {
        ASSERT_TRUE(std::isnan(p[i])) << "at " << i << ": " << p[i] << ", want NaN";
      } else if (x[i] == -INFINITY) {
        ASSERT_EQ(p[i], 0.0f) << "at " << i << " (x = -inf)";
      } else {
        ASSERT_NEAR(p[i], want[i], rel * want[i] + kAbsTol) << "at " << i << ", x=" << x[i];
      }
    }
    for (int64_t i = n; i < n + kGuard; ++i) {
      ASSERT_EQ(pb[i], kGuardValue) << "written past the end at " << i;
      ASSERT_EQ(xb[i], kGuardValue) << "written past the end at " << i;
    }
  }
}

class SoftmaxTest : public ::testing::TestWithParam<const SoftmaxVariant*> {};

TEST_P(SoftmaxTest, RandomLogitsMatchNaive) {
  const SoftmaxVariant* v = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  for (const int64_t n : kSizes) {
    SCOPED_TRACE(testing::Message() << "n=" << n);
    expect_matches_naive(*v, test::random_vector(n, 7, -10.0f, 10.0f));
  }
}

// Each case: its name, and how to make its logits from random ones of the same size.
struct Special {
  const char* name;
  std::function<void(std::vector<float>&, size_t at)> apply;
};

const Special kSpecials[] = {
    {"huge logits, mixed signs",
     [](std::vector<float>& x, size_t at) {
       for (size_t i = 0; i < x.size(); ++i) x[i] = i % 3 == 0 ? -1e30f : i % 3 == 1 ? 1e30f : 0.0f;
       x[at] = 1e30f;
     }},
    {"all equal", [](std::vector<float>& x, size_t) { std::fill(x.begin(), x.end(), 3.5f); }},
    {"one +inf", [](std::vector<float>& x, size_t at) { x[at] = INFINITY; }},
    {"some -inf",
     [](std::vector<float>& x, size_t at) {
       for (size_t i = 0; i < x.size(); i += 4) x[i] = -INFINITY;
       if (x.size() > 1) x[at] = -INFINITY;  // n = 1 would make it all -inf
     }},
    {"all -inf", [](std::vector<float>& x, size_t) { std::fill(x.begin(), x.end(), -INFINITY); }},
    {"one NaN", [](std::vector<float>& x, size_t at) { x[at] = NAN; }},
};

TEST_P(SoftmaxTest, SpecialValuesAsPyTorch) {
  const SoftmaxVariant* v = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  for (const Special& s : kSpecials) {
    for (const int64_t n : kSizes) {
      for (const int64_t at : {int64_t{0}, n / 2, n - 1}) {
        SCOPED_TRACE(testing::Message() << s.name << ", n=" << n << ", at " << at);
        auto x = test::random_vector(n, 11, -10.0f, 10.0f);
        s.apply(x, static_cast<size_t>(at));
        expect_matches_naive(*v, x);
        // What the naive reference is trusted for here, checked outright on the variant.
        std::vector<float> p(n);
        v->fn(x.data(), p.data(), n);
        const bool any_nan = std::any_of(x.begin(), x.end(), [](float e) { return std::isnan(e); });
        const bool any_pinf = std::count(x.begin(), x.end(), INFINITY) > 0;
        const bool all_ninf = std::count(x.begin(), x.end(), -INFINITY) == n;
        if (any_nan || any_pinf || all_ninf) {
          for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(std::isnan(p[i])) << "at " << i;
        } else {
          double sum = 0.0;
          for (float e : p) sum += e;
          ASSERT_NEAR(sum, 1.0, 1e-5);
        }
      }
    }
  }
}

TEST_P(SoftmaxTest, OneLogitGivesOne) {
  const SoftmaxVariant* v = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  for (const float x : {0.0f, -3.0f, 1e30f, -1e30f}) {
    float p = -1.0f;
    v->fn(&x, &p, 1);
    EXPECT_EQ(p, 1.0f) << "x=" << x;
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, SoftmaxTest,
                         ::testing::ValuesIn([] {
                           std::vector<const SoftmaxVariant*> all;
                           for (const auto& v : softmax_variants()) all.push_back(&v);
                           return all;
                         }()),
                         [](const auto& info) { return test::param_name(std::string(info.param->name)); });

TEST(SoftmaxRegistry, NamesAreUniqueAndSayOpDtype) {
  std::set<std::string_view> seen;
  for (const auto& v : softmax_variants()) {
    EXPECT_TRUE(seen.insert(v.name).second) << v.name;
    EXPECT_EQ(v.name.substr(0, 13), "softmax_f32__") << v.name;
  }
  EXPECT_NE(find_softmax("softmax_f32__naive"), nullptr);
}

}  // namespace
}  // namespace moetune
