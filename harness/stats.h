// Statistics over the repetitions of a benchmark: the summaries Google Benchmark reports
// (mean, median, stddev, cv), the Mann-Whitney U test that compare.py uses to say whether two
// variants differ, a confidence interval for their ratio, and the geometric mean of ratios.
#pragma once

#include <vector>

namespace moetune {

// Each throws std::invalid_argument on an empty sample.
double median(std::vector<double> v);
double mean(const std::vector<double>& v);
// The sample standard deviation (n - 1 in the denominator, as Google Benchmark); 0 for n = 1.
double stddev(const std::vector<double>& v);
// stddev / mean; 0 when the mean is 0.
double coefficient_of_variation(const std::vector<double>& v);
// 1.4826 x the median absolute deviation / the median: the cv of a normal sample, but one that
// a few outliers barely move. 0 when the median is 0. Throws on an empty sample.
double robust_cv(const std::vector<double>& v);
// Throws std::invalid_argument when a value is not positive.
double geometric_mean(const std::vector<double>& v);

struct MannWhitneyResult {
  double u = 0;        // U of the first sample: pairs (a_i, b_j) with a_i > b_j, ties count 1/2
  double p_value = 1;  // two-sided
  bool exact = false;  // exact null distribution (small samples, no ties) or normal approximation
};

// Two-sided Mann-Whitney U test of a against b. Exact when both samples have at most
// kMannWhitneyExactMax values and no value is tied; otherwise the normal approximation with
// the tie correction and a continuity correction (the choices scipy.stats.mannwhitneyu makes
// with method="exact" and method="asymptotic"). Throws std::invalid_argument on an empty sample.
inline constexpr int kMannWhitneyExactMax = 10;
MannWhitneyResult mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

struct RatioInterval {
  double estimate = 1;  // a / b
  double lower = 1;
  double upper = 1;
};

// The ratio a / b of two positive samples (times) with a confidence interval: the
// Hodges-Lehmann shift of log(a) against log(b), i.e. the median of the n·m pairwise log
// ratios, and the distribution-free interval between two of its order statistics chosen from
// the null distribution of U (exact or normal as in mann_whitney_u). With samples too small
// for the confidence asked (e.g. 3 against 3 at 95%), the interval is the whole range of the
// pairwise ratios. Throws std::invalid_argument on an empty sample or a value that is not
// positive.
RatioInterval median_ratio_interval(const std::vector<double>& a, const std::vector<double>& b,
                                    double confidence = 0.95);

}  // namespace moetune
