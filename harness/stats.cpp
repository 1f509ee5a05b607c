#include "harness/stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace moetune {
namespace {

void require_nonempty(const std::vector<double>& v, const char* what) {
  if (v.empty()) throw std::invalid_argument(std::string(what) + ": empty sample");
}

// Number of orderings of n values of one sample and m of the other, all distinct, that give
// each U = 0..n·m, built from the last (largest) value: from the first sample it beats all m
// others, from the second it adds nothing.
std::vector<double> u_counts(int n, int m) {
  std::vector<std::vector<std::vector<double>>> f(n + 1, std::vector<std::vector<double>>(m + 1));
  for (int i = 0; i <= n; ++i) {
    for (int j = 0; j <= m; ++j) {
      auto& c = f[i][j];
      c.assign(static_cast<size_t>(i) * j + 1, 0.0);
      if (i == 0 || j == 0) {
        c[0] = 1;
        continue;
      }
      const auto& from_a = f[i - 1][j];
      const auto& from_b = f[i][j - 1];
      for (size_t u = 0; u < from_a.size(); ++u) c[u + j] += from_a[u];
      for (size_t u = 0; u < from_b.size(); ++u) c[u] += from_b[u];
    }
  }
  return f[n][m];
}

double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// The z with normal_sf(z) = p, by bisection: called a few times per tuning run, so
// simplicity wins over a rational approximation.
double normal_isf(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (normal_sf(mid) > p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

struct Ranked {
  double rank_sum_a = 0;
  double tie_term = 0;  // sum of t^3 - t over groups of t tied values
  bool ties = false;
};

Ranked rank(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<std::pair<double, bool>> all;  // value, from a
  all.reserve(a.size() + b.size());
  for (double x : a) all.push_back({x, true});
  for (double x : b) all.push_back({x, false});
  std::sort(all.begin(), all.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
  Ranked r;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t q = i; q < j; ++q)
      if (all[q].second) r.rank_sum_a += mid_rank;
    if (t > 1) {
      r.ties = true;
      r.tie_term += t * t * t - t;
    }
    i = j;
  }
  return r;
}

bool use_exact(size_t n, size_t m, bool ties) {
  return !ties && n <= static_cast<size_t>(kMannWhitneyExactMax) &&
         m <= static_cast<size_t>(kMannWhitneyExactMax);
}

}  // namespace

double median(std::vector<double> v) {
  require_nonempty(v, "median");
  const size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + h, v.end());
  if (v.size() % 2) return v[h];
  const double upper = v[h];
  return 0.5 * (*std::max_element(v.begin(), v.begin() + h) + upper);
}

double mean(const std::vector<double>& v) {
  require_nonempty(v, "mean");
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double stddev(const std::vector<double>& v) {
  const double mu = mean(v);
  if (v.size() < 2) return 0;
  double ss = 0;
  for (double x : v) ss += (x - mu) * (x - mu);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

double coefficient_of_variation(const std::vector<double>& v) {
  const double mu = mean(v);
  return mu == 0 ? 0 : stddev(v) / mu;
}

double robust_cv(const std::vector<double>& v) {
  const double m = median(v);
  if (m == 0) return 0;
  std::vector<double> deviation;
  deviation.reserve(v.size());
  for (double x : v) deviation.push_back(std::fabs(x - m));
  return 1.4826 * median(std::move(deviation)) / std::fabs(m);
}

double geometric_mean(const std::vector<double>& v) {
  require_nonempty(v, "geometric_mean");
  double s = 0;
  for (double x : v) {
    if (!(x > 0)) throw std::invalid_argument("geometric_mean: values must be positive");
    s += std::log(x);
  }
  return std::exp(s / static_cast<double>(v.size()));
}

MannWhitneyResult mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b) {
  require_nonempty(a, "mann_whitney_u");
  require_nonempty(b, "mann_whitney_u");
  const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size());
  const Ranked r = rank(a, b);
  MannWhitneyResult out;
  out.u = r.rank_sum_a - n1 * (n1 + 1) / 2;
  const double u_big = std::max(out.u, n1 * n2 - out.u);
  if (use_exact(a.size(), b.size(), r.ties)) {
    out.exact = true;
    const auto counts = u_counts(static_cast<int>(a.size()), static_cast<int>(b.size()));
    double total = 0, tail = 0;
    for (size_t u = 0; u < counts.size(); ++u) {
      total += counts[u];
      if (static_cast<double>(u) >= u_big) tail += counts[u];
    }
    out.p_value = std::min(1.0, 2 * tail / total);
    return out;
  }
  const double n = n1 + n2;
  const double var = n1 * n2 / 12 * ((n + 1) - r.tie_term / (n * (n - 1)));
  if (!(var > 0)) return out;  // every value tied: no evidence of a difference
  const double z = (u_big - n1 * n2 / 2 - 0.5) / std::sqrt(var);
  out.p_value = std::clamp(2 * normal_sf(z), 0.0, 1.0);
  return out;
}

RatioInterval median_ratio_interval(const std::vector<double>& a, const std::vector<double>& b,
                                    double confidence) {
  require_nonempty(a, "median_ratio_interval");
  require_nonempty(b, "median_ratio_interval");
  if (!(confidence > 0 && confidence < 1))
    throw std::invalid_argument("median_ratio_interval: confidence must be in (0, 1)");
  std::vector<double> d;
  d.reserve(a.size() * b.size());
  for (double x : a) {
    for (double y : b) {
      if (!(x > 0 && y > 0))
        throw std::invalid_argument("median_ratio_interval: values must be positive");
      d.push_back(std::log(x) - std::log(y));
    }
  }
  std::sort(d.begin(), d.end());
  const size_t nm = d.size();
  const double alpha = 1 - confidence;
  // The interval runs from the k-th smallest to the k-th largest pairwise difference, k the
  // largest with P(U < k) <= alpha / 2 under the null (k = 0: no such order statistic).
  size_t k = 0;
  const Ranked r = rank(a, b);
  if (use_exact(a.size(), b.size(), r.ties)) {
    const auto counts = u_counts(static_cast<int>(a.size()), static_cast<int>(b.size()));
    double total = 0;
    for (double c : counts) total += c;
    double below = 0;  // P(U < k)
    while (k < counts.size() && below + counts[k] / total <= alpha / 2)
      below += counts[k++] / total;
  } else {
    const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size());
    const double z = normal_isf(alpha / 2);
    const double kk = std::floor(n1 * n2 / 2 - z * std::sqrt(n1 * n2 * (n1 + n2 + 1) / 12));
    k = kk > 0 ? static_cast<size_t>(kk) : 0;
  }
  const size_t outside = std::min(k > 0 ? k - 1 : 0, (nm - 1) / 2);
  RatioInterval out;
  out.estimate = std::exp(median(d));
  out.lower = std::exp(d[outside]);
  out.upper = std::exp(d[nm - 1 - outside]);
  return out;
}

}  // namespace moetune
