// Expected values were computed with scipy 1.17 / numpy:
//   scipy.stats.mannwhitneyu(a, b, alternative="two-sided", method="exact" | "asymptotic")
//   numpy.std(v, ddof=1), numpy.median, scipy.stats.gmean
// and the Hodges-Lehmann interval with numpy from the sorted pairwise log ratios.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "harness/stats.h"

namespace moetune {
namespace {

TEST(Stats, Summaries) {
  const std::vector<double> v = {3, 1, 4, 1, 5, 9, 2, 6};
  EXPECT_DOUBLE_EQ(mean(v), 3.875);
  EXPECT_DOUBLE_EQ(median(v), 3.5);
  EXPECT_NEAR(stddev(v), 2.748376143938713, 1e-12);
  EXPECT_NEAR(coefficient_of_variation(v), 2.748376143938713 / 3.875, 1e-12);
  EXPECT_NEAR(geometric_mean(v), 2.9953451699808022, 1e-12);
  EXPECT_DOUBLE_EQ(median({7, 1, 3}), 3);
  EXPECT_DOUBLE_EQ(stddev({5}), 0);
  EXPECT_DOUBLE_EQ(coefficient_of_variation({0, 0}), 0);
}

TEST(Stats, RejectsEmptyAndNonPositive) {
  EXPECT_THROW(median({}), std::invalid_argument);
  EXPECT_THROW(mean({}), std::invalid_argument);
  EXPECT_THROW(geometric_mean({1, 0}), std::invalid_argument);
  EXPECT_THROW(mann_whitney_u({}, {1}), std::invalid_argument);
  EXPECT_THROW(median_ratio_interval({1}, {-1}), std::invalid_argument);
}

TEST(MannWhitney, ExactSmallSamples) {
  const auto r = mann_whitney_u({1.1, 2.3, 3.0, 4.7, 5.2}, {2.0, 6.1, 7.4, 8.8, 9.5, 10.2});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 4);
  EXPECT_NEAR(r.p_value, 0.05194805194805195, 1e-12);
}

TEST(MannWhitney, ExactCompleteSeparationOfTen) {
  const std::vector<double> a = {10.0, 10.2, 10.1, 9.9, 10.3, 10.05, 10.15, 9.95, 10.25, 10.12};
  std::vector<double> b;
  for (double x : a) b.push_back(2 * x);
  const auto r = mann_whitney_u(a, b);
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.p_value, 1.082508822446903e-05, 1e-15);
  // Symmetric: swapping the samples changes U, not p.
  const auto s = mann_whitney_u(b, a);
  EXPECT_DOUBLE_EQ(s.u, 100);
  EXPECT_NEAR(s.p_value, r.p_value, 1e-15);
}

TEST(MannWhitney, NormalApproximationWithTies) {
  const auto r = mann_whitney_u({1, 2, 2, 3, 3, 3, 4, 5}, {2, 3, 4, 4, 5, 5, 6, 7, 7});
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 13.5);
  EXPECT_NEAR(r.p_value, 0.03175895714806371, 1e-12);
}

TEST(MannWhitney, NormalApproximationLargeSamples) {
  const std::vector<double> a = {101.728, 104.108, 101.652, 93.484,  104.527, 102.232,
                                 97.315,  102.906, 101.823, 101.471, 100.142, 102.734};
  const std::vector<double> b = {100.318, 103.185, 101.589, 106.994, 104.199,
                                 102.538, 100.09,  102.714, 104.041, 102.622,
                                 110.47,  109.034, 90.444,  94.555,  103.126};
  const auto r = mann_whitney_u(a, b);
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 69);
  EXPECT_NEAR(r.p_value, 0.31716652052312344, 1e-12);
}

TEST(MannWhitney, AllTiedMeansNoDifference) {
  const auto r = mann_whitney_u({2, 2, 2}, {2, 2});
  EXPECT_DOUBLE_EQ(r.p_value, 1);
}

TEST(RatioInterval, HodgesLehmannFiveAgainstFive) {
  // Exact null of U for 5 against 5: P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252, so the 95%
  // interval runs from the 3rd smallest to the 3rd largest of the 25 pairwise ratios.
  const auto r = median_ratio_interval({1.0, 1.2, 1.1, 0.9, 1.05}, {2.1, 1.9, 2.0, 2.2, 2.05});
  EXPECT_NEAR(r.estimate, 0.5121951219512195, 1e-12);
  EXPECT_NEAR(r.lower, 0.4390243902439025, 1e-12);
  EXPECT_NEAR(r.upper, 0.5853658536585366, 1e-12);
}

TEST(RatioInterval, CoversAnExactScaling) {
  std::vector<double> a, b;
  for (int i = 0; i < 30; ++i) {
    a.push_back(100 + (i * 37) % 11);
    b.push_back(3 * (100 + (i * 53) % 11));
  }
  const auto r = median_ratio_interval(a, b);
  EXPECT_NEAR(r.estimate, 1.0 / 3, 0.01);
  EXPECT_LE(r.lower, 1.0 / 3);
  EXPECT_GE(r.upper, 1.0 / 3);
  EXPECT_LT(r.lower, r.upper);
}

TEST(RatioInterval, TooSmallForTheConfidenceGivesTheWholeRange) {
  const auto r = median_ratio_interval({1, 2, 3}, {4, 5, 6});
  EXPECT_NEAR(r.lower, 1.0 / 6, 1e-12);
  EXPECT_NEAR(r.upper, 3.0 / 4, 1e-12);
}

}  // namespace
}  // namespace moetune
