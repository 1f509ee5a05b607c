#include "harness/kernel_verify.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace moetune {
namespace {

constexpr double kUnitRoundoff = 0x1p-24;  // f32

// What a vector exp may be off by, relative: about 8 ulp. The AVX2 variants measure ~2 ulp.
constexpr double kExpRelTol = 1e-6;

// silu(g)·u = g·u / (1 + exp(-g)): the exp's error is damped by exp(-g)/(1 + exp(-g)) < 1,
// and the divide and two products add one rounding each. Ten times that still rejects a
// one-step reciprocal (rcp without Newton, ~2^-12).
constexpr double kSwigluRelTol = 10.0 * (kExpRelTol + 3.0 * kUnitRoundoff);

std::string fmt_g(double v) { return fmt::format("{:.3g}", v); }

}  // namespace

Verification check_gemv(const GemvVariant& v, const GemvInputs& in, int threads) {
  if (!isa_available(v.isa)) return {false, 0.0, fmt::format("needs {}", isa_name(v.isa))};
  const int64_t n = in.n, k = in.k, m = in.m, ldw = in.ldw();
  const float* w = in.w.get();
  const float* x = in.x.get();
  // NaN first, so an output the variant never writes cannot pass.
  std::vector<float> got(static_cast<std::size_t>(m * n), std::numeric_limits<float>::quiet_NaN());
  std::vector<float> want = got;
  GemvArgs a = in.args(0);
  a.y = got.data();
  gemv_run_threaded(v, a, threads);
  a.y = want.data();
  gemv_reference(v).fn(a);

  // Both are sums of the same k products in some order (with or without FMA): each is
  // within k·u·Σ|w·x| of the exact sum, so they differ by at most 2·k·u·Σ|w·x|. int8 sums
  // q·x and then multiplies by the scale: one rounding more each.
  const double roundings = 2.0 * double(k) + (dtype_traits(v.dtype).row_scales ? 2.0 : 0.0);
  std::vector<double> mag(static_cast<std::size_t>(m * n), 0.0);
  for (int64_t t = 0; t < m; ++t) {
    double* mt = mag.data() + t * n;
    const float* xt = x + t * k;
    if (v.layout == Layout::kOI) {
      for (int64_t o = 0; o < n; ++o)
        for (int64_t i = 0; i < k; ++i) mt[o] += std::fabs(double(w[o * ldw + i]) * xt[i]);
    } else {
      for (int64_t i = 0; i < k; ++i)
        for (int64_t o = 0; o < n; ++o) mt[o] += std::fabs(double(w[i * ldw + o]) * xt[i]);
    }
  }
  Verification r{true, 0.0, ""};
  for (int64_t t = 0; t < m; ++t) {
    for (int64_t o = 0; o < n; ++o) {
      const std::size_t j = static_cast<std::size_t>(t * n + o);
      const double err = std::fabs(double(got[j]) - double(want[j]));
      const double tol = roundings * kUnitRoundoff * mag[j];
      const double e = std::isnan(err) ? std::numeric_limits<double>::infinity() : err;
      r.max_error = std::max(r.max_error, e);
      if (r.ok && !(err <= tol)) {
        r.ok = false;
        r.message = fmt::format("token {} output {}: got {}, naive {}, tolerance {}", t, o,
                                fmt_g(got[j]), fmt_g(want[j]), fmt_g(tol));
      }
    }
  }
  if (!r.ok) r.message += fmt::format(" (max error {})", fmt_g(r.max_error));
  return r;
}

Verification check_swiglu(const SwigluVariant& v, const SwigluInputs& in) {
  if (!isa_available(v.isa)) return {false, 0.0, fmt::format("needs {}", isa_name(v.isa))};
  const int64_t n = int64_t(in.g.size());
  std::vector<float> got(in.g.size(), std::numeric_limits<float>::quiet_NaN()), want = got;
  v.fn(in.g.data(), in.u.data(), got.data(), n);
  swiglu_naive().fn(in.g.data(), in.u.data(), want.data(), n);
  Verification r{true, 0.0, ""};
  for (int64_t i = 0; i < n; ++i) {
    const double err = std::fabs(double(got[i]) - double(want[i]));
    const double tol = kSwigluRelTol * std::fabs(double(want[i])) + 1e-30;
    r.max_error = std::max(r.max_error, std::isnan(err) ? INFINITY : err);
    if (r.ok && !(err <= tol)) {
      r.ok = false;
      r.message =
          fmt::format("element {} (g={}, u={}): got {}, naive {}, tolerance {}", i, fmt_g(in.g[i]),
                      fmt_g(in.u[i]), fmt_g(got[i]), fmt_g(want[i]), fmt_g(tol));
    }
  }
  return r;
}

Verification check_softmax(const SoftmaxVariant& v, const std::vector<float>& x) {
  if (!isa_available(v.isa)) return {false, 0.0, fmt::format("needs {}", isa_name(v.isa))};
  const int64_t n = int64_t(x.size());
  std::vector<float> got(x.size(), std::numeric_limits<float>::quiet_NaN()), want = got;
  v.fn(x.data(), got.data(), n);
  softmax_naive().fn(x.data(), want.data(), n);
  // The reference sums in double; an f32 sum of n positive terms is off by (n-1)·u at most
  // and the division adds one more, on top of the exp's error in the term and in the sum.
  const double rel = double(n + 1) * kUnitRoundoff + 2.0 * kExpRelTol;
  Verification r{true, 0.0, ""};
  for (int64_t i = 0; i < n; ++i) {
    const double err = std::fabs(double(got[i]) - double(want[i]));
    const double tol = rel * double(want[i]) + 1e-30;
    r.max_error = std::max(r.max_error, std::isnan(err) ? INFINITY : err);
    if (r.ok && !(err <= tol)) {
      r.ok = false;
      r.message = fmt::format("element {} (x={}): got {}, naive {}, tolerance {}", i, fmt_g(x[i]),
                              fmt_g(got[i]), fmt_g(want[i]), fmt_g(tol));
    }
  }
  return r;
}

Verification check_topk(const TopkVariant& v, const std::vector<float>& p, int64_t k) {
  if (!isa_available(v.isa)) return {false, 0.0, fmt::format("needs {}", isa_name(v.isa))};
  const int64_t n = int64_t(p.size());
  std::vector<float> got_v(static_cast<std::size_t>(k), -1.0f), want_v = got_v;
  std::vector<int32_t> got_i(static_cast<std::size_t>(k), -1), want_i = got_i,
                                                               scratch(static_cast<std::size_t>(n));
  v.fn(p.data(), n, k, got_v.data(), got_i.data(), scratch.data());
  topk_naive().fn(p.data(), n, k, want_v.data(), want_i.data(), scratch.data());
  // Selection is exact: the same ids in the same order, and the values read from p.
  Verification r{true, 0.0, ""};
  for (int64_t j = 0; j < k; ++j) {
    if (got_i[j] == want_i[j] && got_v[j] == want_v[j]) continue;
    r.max_error += 1.0;
    if (r.ok) {
      r.ok = false;
      r.message = fmt::format("place {}: got id {} value {}, naive id {} value {}", j, got_i[j],
                              fmt_g(got_v[j]), want_i[j], fmt_g(want_v[j]));
    }
  }
  if (!r.ok) r.message += fmt::format(" ({} of {} places wrong)", r.max_error, k);
  return r;
}

Verification verify_gemv(const GemvVariant& v, int64_t n, int64_t k, int64_t m, int threads,
                         uint32_t seed) {
  const auto in = make_gemv_inputs(v.layout, v.dtype, n, k, m, seed, false);
  return check_gemv(v, *in, threads);
}

Verification verify_swiglu(const SwigluVariant& v, int64_t n, uint32_t seed) {
  return check_swiglu(v, make_swiglu_inputs(n, seed));
}

Verification verify_softmax(const SoftmaxVariant& v, int64_t n, uint32_t seed) {
  return check_softmax(v, make_softmax_inputs(n, seed));
}

Verification verify_topk(const TopkVariant& v, int64_t n, int64_t k, uint32_t seed) {
  return check_topk(v, make_topk_inputs(n, seed), k);
}

}  // namespace moetune
