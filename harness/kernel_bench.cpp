#include "harness/kernel_bench.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include "harness/error.h"
#include "kernels/common/aligned.h"
#include "kernels/gemv/quantize.h"

namespace moetune {
namespace {

constexpr double kUnitRoundoff = 0x1p-24;  // f32

// ---- deterministic inputs: splitmix64, fast enough to fill 100 MB of weights in a blink,
// and the same on every machine and compiler (unlike std::uniform_real_distribution).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() >> 40) * 0x1p-24f; }

 private:
  uint64_t s_;
};

// Each op and operand draws from its own stream: one operand's values never depend on the
// size of another.
uint64_t stream(uint32_t seed, uint32_t op, uint32_t operand) {
  return (uint64_t(seed) << 16) ^ (uint64_t(op) << 8) ^ operand;
}

void fill_uniform(float* p, std::size_t count, uint64_t s, float lo, float hi) {
  Rng rng(s);
  for (std::size_t i = 0; i < count; ++i) p[i] = rng.uniform(lo, hi);
}

std::vector<float> uniform_vector(std::size_t count, uint64_t s, float lo, float hi) {
  std::vector<float> v(count);
  fill_uniform(v.data(), count, s, lo, hi);
  return v;
}

std::size_t cold_bytes() {
  // 64 MiB, or twice the L3 where that is larger, so cycling through the copies misses it.
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  const std::size_t twice_l3 = l3 > 0 ? 2 * static_cast<std::size_t>(l3) : 0;
  return std::max<std::size_t>(std::size_t{64} << 20, twice_l3);
}

std::string fmt_g(double v) { return fmt::format("{:.3g}", v); }

// ---- gemv

struct GemvInputs {
  Layout layout;
  DType dtype;
  int64_t n, k, m;
  uint32_t seed;
  bool cold;
  int64_t copies;  // of W, one after another
  // W in the variant's dtype (copies of it, the timed ones), and as f32 once: the values the
  // stored weights stand for, which the tolerance of the check is computed from.
  AlignedPtr<float> w, x;
  AlignedPtr<unsigned char> stored;
  std::vector<float> scale;  // with row scales (int8): one per output (the same for every copy)

  int64_t ldw() const { return layout == Layout::kOI ? k : n; }
  std::size_t w_floats() const { return static_cast<std::size_t>(n) * static_cast<std::size_t>(k); }
  // The arguments for copy `c` of the weights (y left to the caller).
  GemvArgs args(int64_t c) const {
    GemvArgs a{n, k, nullptr, ldw(), x.get(), k, nullptr, n, m, false};
    const int64_t offset = c * int64_t(w_floats()) * dtype_bytes(dtype);
    dtype_traits(dtype).set_weights(a, stored.get() + offset, scale.data());
    return a;
  }
};

template <typename T>
void copy_copies(T* p, std::size_t count, int64_t copies) {
  for (int64_t c = 1; c < copies; ++c) std::memcpy(p + c * count, p, count * sizeof(T));
}

std::shared_ptr<GemvInputs> make_gemv_inputs(Layout layout, DType dtype, int64_t n, int64_t k,
                                             int64_t m, uint32_t seed, bool cold) {
  auto in = std::make_shared<GemvInputs>();
  in->layout = layout;
  in->dtype = dtype;
  in->n = n, in->k = k, in->m = m, in->seed = seed, in->cold = cold;
  const std::size_t count = in->w_floats();
  const std::size_t w_bytes = count * static_cast<std::size_t>(dtype_bytes(dtype));
  in->copies = cold ? int64_t((cold_bytes() + w_bytes - 1) / w_bytes) : 1;
  in->w = aligned_alloc_array<float>(count);
  in->x = aligned_alloc_array<float>(static_cast<std::size_t>(m) * static_cast<std::size_t>(k));
  // The same matrix for either layout: W[o][i] of oi is W[i][o] of io only in shape, not in
  // values, which does not matter: each layout is checked against its own reference.
  fill_uniform(in->w.get(), count, stream(seed, 1, 0), -1.0f, 1.0f);
  // Stored in the dtype, then read back as the f32 values it stands for.
  const DTypeTraits& t = dtype_traits(dtype);
  in->stored = aligned_alloc_array<unsigned char>(w_bytes * in->copies);
  if (t.row_scales) in->scale.resize(static_cast<std::size_t>(n));
  t.quantize(in->w.get(), n, k, in->ldw(), layout, in->stored.get(), in->scale.data());
  for (std::size_t j = 0; j < count; ++j) {
    const int64_t o = layout == Layout::kOI ? int64_t(j) / k : int64_t(j) % n;
    const float v = t.widen(in->stored.get(), int64_t(j));
    in->w[j] = t.row_scales ? in->scale[std::size_t(o)] * v : v;
  }
  copy_copies(in->stored.get(), w_bytes, in->copies);
  fill_uniform(in->x.get(), static_cast<std::size_t>(m) * static_cast<std::size_t>(k),
               stream(seed, 1, 1), -1.0f, 1.0f);
  return in;
}

// The benchmarks of one shape run one after another (variant by variant, the two layouts
// interleaved as the registry lists them), so the last inputs made for each layout and dtype
// are kept for the next benchmark; a new shape frees them first, so no more than one set of
// cold weights per layout and dtype is alive at a time.
std::shared_ptr<GemvInputs> cached_gemv_inputs(Layout layout, DType dtype, int64_t n, int64_t k,
                                               int64_t m, uint32_t seed, bool cold) {
  static std::shared_ptr<GemvInputs> last[2][std::size(kDTypes)];
  auto& slot = last[layout == Layout::kOI ? 0 : 1][static_cast<int>(dtype)];
  if (slot && slot->n == n && slot->k == k && slot->m == m && slot->seed == seed &&
      slot->cold == cold)
    return slot;
  slot.reset();
  slot = make_gemv_inputs(layout, dtype, n, k, m, seed, cold);
  return slot;
}

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

// ---- swiglu: gate values spanning the range where silu bends and saturates.

struct SwigluInputs {
  std::vector<float> g, u;
};

SwigluInputs make_swiglu_inputs(int64_t n, uint32_t seed) {
  return {uniform_vector(static_cast<std::size_t>(n), stream(seed, 2, 0), -12.0f, 12.0f),
          uniform_vector(static_cast<std::size_t>(n), stream(seed, 2, 1), -2.0f, 2.0f)};
}

// What a vector exp may be off by, relative: about 8 ulp. The AVX2 variants measure ~2 ulp.
constexpr double kExpRelTol = 1e-6;

// silu(g)·u = g·u / (1 + exp(-g)): the exp's error is damped by exp(-g)/(1 + exp(-g)) < 1,
// and the divide and two products add one rounding each. Ten times that still rejects a
// one-step reciprocal (rcp without Newton, ~2^-12).
constexpr double kSwigluRelTol = 10.0 * (kExpRelTol + 3.0 * kUnitRoundoff);

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

// ---- softmax: router logits.

std::vector<float> make_softmax_inputs(int64_t n, uint32_t seed) {
  return uniform_vector(static_cast<std::size_t>(n), stream(seed, 3, 0), -8.0f, 8.0f);
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

// ---- topk: probabilities with many exact ties (logits on a grid of 1/4), so the lower-id
// rule is exercised on every call.

std::vector<float> make_topk_inputs(int64_t n, uint32_t seed) {
  Rng rng(stream(seed, 4, 0));
  std::vector<double> logit(static_cast<std::size_t>(n));
  double max = -INFINITY;
  for (auto& l : logit) {
    l = std::floor(double(rng.uniform(0.0f, 1.0f)) * 32.0) / 4.0;
    max = std::max(max, l);
  }
  double sum = 0.0;
  for (auto& l : logit) sum += (l = std::exp(l - max));
  std::vector<float> p(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = float(logit[i] / sum);
  return p;
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

// ---- cases

[[noreturn]] void bad_case(const KernelCase& c, const std::string& message) {
  throw InputError("kernel case", c.op + "/" + c.variant, message);
}

void check_shape(const KernelCase& c) {
  if (c.n < 1) bad_case(c, fmt::format("n must be at least 1, got {}", c.n));
  if (c.op == "gemv") {
    if (c.k < 1) bad_case(c, fmt::format("k must be at least 1, got {}", c.k));
    if (c.m < 1) bad_case(c, fmt::format("m must be at least 1, got {}", c.m));
    if (c.threads < 1) bad_case(c, fmt::format("threads must be at least 1, got {}", c.threads));
  } else if (c.op == "topk") {
    if (c.k < 1 || c.k > c.n)
      bad_case(c, fmt::format("k must be in [1, n = {}], got {}", c.n, c.k));
  }
}

template <typename V>
const V& find_or_throw(const V* v, const KernelCase& c) {
  if (!v)
    bad_case(c, fmt::format("no {} variant named '{}' (see `moetune variants`)", c.op, c.variant));
  return *v;
}

const GemvVariant& gemv_of(const KernelCase& c) { return find_or_throw(find_gemv(c.variant), c); }
const SwigluVariant& swiglu_of(const KernelCase& c) {
  return find_or_throw(find_swiglu(c.variant), c);
}
const SoftmaxVariant& softmax_of(const KernelCase& c) {
  return find_or_throw(find_softmax(c.variant), c);
}
const TopkVariant& topk_of(const KernelCase& c) { return find_or_throw(find_topk(c.variant), c); }

[[noreturn]] void unknown_op(const KernelCase& c) {
  bad_case(c, fmt::format("unknown op '{}': expected gemv, swiglu, softmax or topk", c.op));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void report(benchmark::State& st, const KernelCost& cost, double bound_seconds, double elapsed) {
  const double iters = double(st.iterations());
  st.SetBytesProcessed(int64_t(cost.bytes * iters));
  st.counters["flops"] = benchmark::Counter(cost.flops * iters, benchmark::Counter::kIsRate);
  st.counters["verified"] = 1;
  st.counters["roofline_pct"] =
      iters > 0 && elapsed > 0 ? 100.0 * bound_seconds * iters / elapsed : 0.0;
}

// Verified once per benchmark (Google Benchmark calls the function again for every batch
// size and repetition), on the inputs it is then timed on.
using Verdict = std::shared_ptr<std::optional<Verification>>;

bool verified_or_skip(benchmark::State& st, const Verification& v) {
  if (v.ok) return true;
  // A variant the CPU cannot run is not a failure of the variant: say just what it needs.
  const std::string why =
      v.message.rfind("needs ", 0) == 0 ? v.message : "verification failed: " + v.message;
  st.SkipWithError(why.c_str());
  return false;
}

}  // namespace

std::string benchmark_name(const KernelCase& c) {
  std::string s = c.op + "/" + c.variant + fmt::format("/n:{}", c.n);
  if (c.op == "gemv") return s + fmt::format("/k:{}/m:{}/threads:{}", c.k, c.m, c.threads);
  if (c.op == "topk") return s + fmt::format("/k:{}", c.k);
  return s;
}

KernelCost kernel_cost(const KernelCase& c) {
  const double n = double(c.n), k = double(c.k), m = double(c.m), f = sizeof(float);
  if (c.op == "gemv") {
    // The weights in their dtype (int8 with its scales); x and y are f32.
    const GemvVariant* v = find_gemv(c.variant);
    const DType d = v ? v->dtype : DType::kF32;
    const double w = double(dtype_matrix_bytes(d, c.n, c.k));
    return {w + f * (m * k + m * n), 2.0 * n * k * m};
  }
  if (c.op == "swiglu") return {f * 3.0 * n, 4.0 * n};
  if (c.op == "softmax") return {f * 2.0 * n, 5.0 * n};
  if (c.op == "topk") return {f * n + (f + sizeof(int32_t)) * k, n};
  unknown_op(c);
  return {};
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

Verification verify_kernel(const KernelCase& c) {
  check_shape(c);
  if (c.op == "gemv") return verify_gemv(gemv_of(c), c.n, c.k, c.m, c.threads, c.seed);
  if (c.op == "swiglu") return verify_swiglu(swiglu_of(c), c.n, c.seed);
  if (c.op == "softmax") return verify_softmax(softmax_of(c), c.n, c.seed);
  if (c.op == "topk") return verify_topk(topk_of(c), c.n, c.k, c.seed);
  unknown_op(c);
  return {};
}

std::vector<KernelCase> registry_cases(std::string_view op, int64_t n, int64_t k, int64_t m,
                                       int threads) {
  std::vector<KernelCase> cases;
  auto add = [&](std::string_view name) {
    KernelCase c;
    c.op = std::string(op);
    c.variant = std::string(name);
    c.n = n, c.k = k, c.m = m, c.threads = threads;
    cases.push_back(std::move(c));
  };
  if (op == "gemv") {
    for (const auto& v : gemv_variants()) add(v.name);
  } else if (op == "swiglu") {
    for (const auto& v : swiglu_variants()) add(v.name);
  } else if (op == "softmax") {
    for (const auto& v : softmax_variants()) add(v.name);
  } else if (op == "topk") {
    for (const auto& v : topk_variants()) add(v.name);
  } else {
    KernelCase c;
    c.op = std::string(op);
    unknown_op(c);
  }
  return cases;
}

benchmark::internal::Benchmark* register_kernel_benchmark(const KernelCase& c,
                                                          const RooflineResult& roofline) {
  check_shape(c);
  const KernelCost cost = kernel_cost(c);
  const int threads = c.op == "gemv" ? c.threads : 1;
  // A gemv that rounds its activations runs the dot-product instructions: their peak.
  const Arith arith = c.op == "gemv" ? arith_of(gemv_of(c).acts, gemv_of(c).isa) : Arith::kF32;
  const double bound = roofline.seconds_for(cost.bytes, cost.flops, threads, arith);
  auto verdict = std::make_shared<std::optional<Verification>>();
  const std::string name = benchmark_name(c);
  benchmark::internal::Benchmark* b = nullptr;
  using Clock = std::chrono::steady_clock;

  if (c.op == "gemv") {
    const GemvVariant* v = &gemv_of(c);
    b = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
      if (!isa_available(v->isa)) {
        verified_or_skip(st, {false, 0.0, fmt::format("needs {}", isa_name(v->isa))});
        return;
      }
      const auto in =
          cached_gemv_inputs(v->layout, v->dtype, c.n, c.k, c.m, c.seed, c.cold_weights);
      if (!*verdict) *verdict = check_gemv(*v, *in, c.threads);
      if (!verified_or_skip(st, **verdict)) return;
      AlignedPtr<float> y = aligned_alloc_array<float>(static_cast<std::size_t>(c.m * c.n));
      // Every copy's arguments made before timing, so the loop only picks one.
      std::vector<GemvArgs> args;
      for (int64_t j = 0; j < in->copies; ++j) {
        args.push_back(in->args(j));
        args.back().y = y.get();
      }
      int64_t copy = 0;
      const auto t0 = Clock::now();
      for (auto _ : st) {
        gemv_run_threaded(*v, args[std::size_t(copy)], c.threads);
        benchmark::DoNotOptimize(y.get());
        benchmark::ClobberMemory();
        if (++copy == in->copies) copy = 0;
      }
      report(st, cost, bound, seconds_since(t0));
    });
    b->Unit(benchmark::kMicrosecond);
  } else if (c.op == "swiglu") {
    const SwigluVariant* v = &swiglu_of(c);
    b = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
      const SwigluInputs in = make_swiglu_inputs(c.n, c.seed);
      if (!*verdict) *verdict = check_swiglu(*v, in);
      if (!verified_or_skip(st, **verdict)) return;
      std::vector<float> h(in.g.size());
      const auto t0 = Clock::now();
      for (auto _ : st) {
        v->fn(in.g.data(), in.u.data(), h.data(), c.n);
        benchmark::DoNotOptimize(h.data());
        benchmark::ClobberMemory();
      }
      report(st, cost, bound, seconds_since(t0));
    });
  } else if (c.op == "softmax") {
    const SoftmaxVariant* v = &softmax_of(c);
    b = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
      const std::vector<float> x = make_softmax_inputs(c.n, c.seed);
      if (!*verdict) *verdict = check_softmax(*v, x);
      if (!verified_or_skip(st, **verdict)) return;
      std::vector<float> p(x.size());
      const auto t0 = Clock::now();
      for (auto _ : st) {
        v->fn(x.data(), p.data(), c.n);
        benchmark::DoNotOptimize(p.data());
        benchmark::ClobberMemory();
      }
      report(st, cost, bound, seconds_since(t0));
    });
  } else if (c.op == "topk") {
    const TopkVariant* v = &topk_of(c);
    b = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
      const std::vector<float> p = make_topk_inputs(c.n, c.seed);
      if (!*verdict) *verdict = check_topk(*v, p, c.k);
      if (!verified_or_skip(st, **verdict)) return;
      std::vector<float> values(static_cast<std::size_t>(c.k));
      std::vector<int32_t> ids(static_cast<std::size_t>(c.k)),
          scratch(static_cast<std::size_t>(c.n));
      const auto t0 = Clock::now();
      for (auto _ : st) {
        v->fn(p.data(), c.n, c.k, values.data(), ids.data(), scratch.data());
        benchmark::DoNotOptimize(values.data());
        benchmark::DoNotOptimize(ids.data());
        benchmark::ClobberMemory();
      }
      report(st, cost, bound, seconds_since(t0));
    });
  } else {
    unknown_op(c);
  }
  // Real time: the gemv work runs on an OpenMP team the main thread only waits for.
  b->UseRealTime();
  if (c.min_time > 0) b->MinTime(c.min_time);
  if (c.repetitions > 0) b->Repetitions(c.repetitions);
  return b;
}

}  // namespace moetune
