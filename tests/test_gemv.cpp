// Every registered gemv variant against the naive reference of its layout, on sizes that hit
// every tail (1, odd, around the vector width and the unroll, beyond L2), 1..5 tokens,
// y = and y +=, padded leading dimensions, and 1 and 2 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <stdexcept>
#include <tuple>
#include <vector>

#if MOETUNE_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include "kernels/common/aligned.h"
#include "kernels/gemv/gemv.h"
#include "kernels/gemv/quantize.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

struct Shape {
  int64_t n, k;
};

// 1, 3, 15, 17, 100, 1000 on both sides, and 1100 x 600 f32 (2.6 MB: beyond this L2 of 1 MB).
const Shape kShapes[] = {{1, 1},    {1, 17},    {3, 3},    {15, 15},   {17, 17},
                         {17, 15},  {15, 100},  {100, 3},  {100, 100}, {33, 1000},
                         {1000, 1}, {1000, 17}, {7, 1000}, {1100, 600}};

// Both results are the accumulated y0 (|y0| <= 1, or 0) plus k products of values in
// [-1, 1], summed in some order (any tree, fused multiply-adds or not): each lies within
// γ(k+1)·(|y0| + Σ|w·x|) <= γ(k+1)·(k+1) of the exact value, γ(j) = j·u / (1 - j·u) with
// u = 2^-24 (Higham, Accuracy and Stability of Numerical Algorithms, §3.1), so the two
// differ by at most 2·γ(k+1)·(k+1). bf16 weights are exact f32 values in [-1, 1], so the
// same bound holds. int8 sums q·x with |q| <= 127 and then multiplies by scale <= 1/127: the
// sums' bound times the scale is the same, plus one rounding of the product (u·k), which the
// bound for k + 1 covers.
double tolerance(int64_t k) {
  const double j = double(k + 1), gamma = j * 0x1p-24 / (1.0 - j * 0x1p-24);
  return 2.0 * gamma * j;
}
double tolerance(const GemvVariant& v, int64_t k) {
  return v.dtype == DType::kInt8 ? tolerance(k + 1) : tolerance(k);
}

// The weights of a bf16 or int8 variant: W (rows·ldw f32 values at w) converted, bound into
// a GemvArgs at the positions `w` has. Both the variant and its naive reference read these.
struct TypedWeights {
  std::vector<uint16_t> bf16;
  std::vector<int8_t> i8;
  std::vector<float> scale;

  TypedWeights(const GemvVariant& v, const float* w, int64_t n, int64_t k, int64_t ldw) {
    const int64_t count = (v.layout == Layout::kOI ? n : k) * ldw;
    if (v.dtype == DType::kBF16) {
      bf16.resize(static_cast<size_t>(count));
      convert_bf16(w, count, bf16.data());
    } else if (v.dtype == DType::kInt8) {
      i8.resize(static_cast<size_t>(count));
      scale.resize(static_cast<size_t>(n));
      quantize_int8(w, n, k, ldw, v.layout, i8.data(), scale.data());
    }
  }
  // The weight the variant reads at index idx (of output o): W there as f32, bf16 widened,
  // int8 dequantized.
  double value(const float* w, int64_t idx, int64_t o) const {
    if (!bf16.empty()) return bf16_to_f32(bf16[static_cast<size_t>(idx)]);
    if (!i8.empty()) return double(i8[static_cast<size_t>(idx)]) * scale[static_cast<size_t>(o)];
    return w[idx];
  }
  void bind(GemvArgs& a) const {
    if (!bf16.empty()) a.w_bf16 = bf16.data();
    if (!i8.empty()) a.w_i8 = i8.data();
    if (!scale.empty()) a.scale = scale.data();
  }
};

// One call of variant v and of its reference on the same random W, x and y0 (the seeds are
// seed, seed + 1, seed + 2), each row padded past its end by the given amounts.
struct GemvRun {
  int64_t ldw, ldx, ldy;
  std::vector<float> w, x, y0, y, want;
  TypedWeights typed;
  GemvRun(const GemvVariant& v, const GemvVariant& ref, int threads, int64_t n, int64_t k,
          int64_t m, bool accumulate, int64_t pad_w, int64_t pad_x, int64_t pad_y, int seed)
      : ldw((v.layout == Layout::kOI ? k : n) + pad_w),
        ldx(k + pad_x),
        ldy(n + pad_y),
        w(test::random_vector((v.layout == Layout::kOI ? n : k) * ldw, seed)),
        x(test::random_vector(m * ldx, seed + 1)),
        y0(test::random_vector(m * ldy, seed + 2)),
        y(y0),
        want(y0),
        typed(v, w.data(), n, k, ldw) {
    GemvArgs a{n, k, w.data(), ldw, x.data(), ldx, y.data(), ldy, m, accumulate};
    typed.bind(a);
    gemv_run_threaded(v, a, threads);
    a.y = want.data();
    ref.fn(a);
  }
};

class GemvTest : public ::testing::TestWithParam<std::tuple<const GemvVariant*, int>> {};

TEST_P(GemvTest, MatchesNaive) {
  const auto [v, threads] = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  const GemvVariant& ref = gemv_reference(*v);
  for (const Shape s : kShapes) {
    for (int64_t m : {1, 2, 3, 4, 5, 9}) {
      if (s.n * s.k > 100000 && m > 5) continue;  // keeps the suite fast
      for (bool accumulate : {false, true}) {
        for (int64_t pad : {0, 5}) {
          SCOPED_TRACE(testing::Message() << "n=" << s.n << " k=" << s.k << " m=" << m
                                          << " accumulate=" << accumulate << " pad=" << pad);
          const GemvRun r(*v, ref, threads, s.n, s.k, m, accumulate, pad, pad, pad, 1);
          const int64_t ldy = r.ldy;
          const auto &y = r.y, &want = r.want, &y0 = r.y0;
          for (int64_t t = 0; t < m; ++t) {
            for (int64_t o = 0; o < s.n; ++o) {
              const double tol = tolerance(*v, s.k);
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

// A pair form (gate and up in one pass over x) gives each of its two products the bits of two
// calls of the variant itself (which MatchesNaive checks), on every shape, token count, y +=,
// and padding; the second matrix with its own row stride.
TEST_P(GemvTest, PairGivesTheBitsOfTwoCalls) {
  const auto [v, threads] = GetParam();
  if (!v->pair) GTEST_SKIP() << v->name << " has no pair form";
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  (void)threads;  // a pair call is single-threaded, as every kernel call
  for (const Shape s : kShapes) {
    for (int64_t m : {1, 2, 3}) {
      for (bool accumulate : {false, true}) {
        SCOPED_TRACE(testing::Message()
                     << "n=" << s.n << " k=" << s.k << " m=" << m << " accumulate=" << accumulate);
        const int64_t lda = s.k + 3, ldb = s.k + 1, ldx = s.k + 2, ldy = s.n + 5;
        const auto wa = test::random_vector(s.n * lda, 11);
        const auto wb = test::random_vector(s.n * ldb, 12);
        const auto x = test::random_vector(m * ldx, 13);
        const auto y0 = test::random_vector(2 * m * ldy, 14);
        auto got = y0, want = y0;
        GemvArgs a{s.n, s.k, wa.data(), lda, x.data(), ldx, got.data(), ldy, m, accumulate};
        GemvArgs b{s.n, s.k, wb.data(), ldb, x.data(), ldx, got.data() + m * ldy,
                   ldy, m,   accumulate};
        const TypedWeights ta(*v, wa.data(), s.n, s.k, lda), tb(*v, wb.data(), s.n, s.k, ldb);
        ta.bind(a);
        tb.bind(b);
        v->pair(a, b);
        a.y = want.data();
        b.y = want.data() + m * ldy;
        v->fn(a);
        v->fn(b);
        for (size_t j = 0; j < got.size(); ++j) ASSERT_EQ(got[j], want[j]) << "float " << j;
      }
    }
  }
}

// The registry test's vectors are only as aligned as malloc makes them (16 bytes here). This
// one puts W, x and y on cache lines with strides of whole cache lines, which takes the
// aligned paths (ompsimd's `aligned` clause), then one float off every line, which must not:
// an aligned access to a misaligned address is undefined behaviour that may even pass by
// luck, so the misaligned case is what catches a wrong alignment check. m = 6 and 7 end
// with a 2- and 3-token pass after a full block of 4.
TEST_P(GemvTest, AlignedAndMisalignedBuffers) {
  const auto [v, threads] = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  const GemvVariant& ref = gemv_reference(*v);
  for (const Shape s : {Shape{64, 48}, Shape{37, 100}, Shape{100, 37}, Shape{130, 1}}) {
    for (int64_t m : {1, 6, 7}) {
      for (int64_t offset : {0, 1}) {
        for (bool accumulate : {false, true}) {
          SCOPED_TRACE(testing::Message() << "n=" << s.n << " k=" << s.k << " m=" << m
                                          << " offset=" << offset << " accumulate=" << accumulate);
          const int64_t rows = v->layout == Layout::kOI ? s.n : s.k;
          const int64_t cols = v->layout == Layout::kOI ? s.k : s.n;
          const auto round16 = [](int64_t c) { return (c + 15) / 16 * 16; };
          const int64_t ldw = round16(cols), ldx = round16(s.k), ldy = round16(s.n);
          const auto fill = [](float* p, int64_t count, uint32_t seed) {
            const auto r = test::random_vector(count, seed);
            std::copy(r.begin(), r.end(), p);
          };
          // One float more than needed, so that offset 1 stays inside the allocation.
          auto w = aligned_alloc_array<float>(rows * ldw + 1);
          auto x = aligned_alloc_array<float>(m * ldx + 1);
          auto y = aligned_alloc_array<float>(m * ldy + 1);
          fill(w.get(), rows * ldw + 1, 1);
          fill(x.get(), m * ldx + 1, 2);
          fill(y.get(), m * ldy + 1, 3);
          std::vector<float> want(y.get(), y.get() + m * ldy + 1);
          GemvArgs a{s.n, s.k, w.get() + offset, ldw, x.get() + offset, ldx, y.get() + offset,
                     ldy, m,   accumulate};
          // The bf16 and int8 copies are as (mis)aligned as W: offset elements into their own
          // cache-line-aligned buffers.
          const TypedWeights typed(*v, w.get() + offset, s.n, s.k, ldw);
          auto w_bf16 = aligned_alloc_array<uint16_t>(rows * ldw + 1);
          auto w_i8 = aligned_alloc_array<int8_t>(rows * ldw + 1);
          if (!typed.bf16.empty()) {
            std::copy(typed.bf16.begin(), typed.bf16.end(), w_bf16.get() + offset);
            a.w_bf16 = w_bf16.get() + offset;
          }
          if (!typed.i8.empty()) {
            std::copy(typed.i8.begin(), typed.i8.end(), w_i8.get() + offset);
            a.w_i8 = w_i8.get() + offset;
            a.scale = typed.scale.data();
          }
          gemv_run_threaded(*v, a, threads);
          a.y = want.data() + offset;
          ref.fn(a);
          for (int64_t j = 0; j < m * ldy + 1; ++j) {
            const int64_t t = (j - offset) / ldy, o = (j - offset) % ldy;
            if (j >= offset && t < m && o < s.n)
              ASSERT_NEAR(y[j], want[j], tolerance(*v, s.k)) << "token " << t << " out " << o;
            else
              ASSERT_EQ(y[j], want[j]) << "written outside y at float " << j;
          }
        }
      }
    }
  }
}

// The blocking of the multi-token variants (tokens_per_pass > 1: the token-batched gemv and
// the blocked GEMM of avx2_gemm.cpp): token counts around and beyond their tiles (3, 4 tokens)
// and beyond their x block (tokens_per_pass: one more), outputs not a multiple of any tile
// (4, 6, 8, 24 outputs) and more than two tiles, inputs across two or more k blocks and not a
// multiple of any (2·160 + 3, 2·1024 + 3 and 1027 for the blocks of 160 and 1024 inputs),
// outputs beyond one block of whole io rows (4100 > 4080, where its blocks are 16 inputs),
// y += and y =, and row strides that are not a multiple of the vector width, so that most
// rows start misaligned. (The block sizes are the file's, not the registry's.)
class GemmTest : public GemvTest {};

TEST_P(GemmTest, Blocking) {
  const auto [v, threads] = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  const GemvVariant& ref = gemv_reference(*v);
  const Shape shapes[] = {{53, 2 * 160 + 3}, {37, 2 * 1024 + 3}, {100, 1027}, {4100, 37}};
  const int64_t tokens[] = {1, 2, 5, 6, 7, 13, 32, 64, v->tokens_per_pass + 1};
  for (const Shape s : shapes) {
    for (int64_t m : tokens) {
      for (bool accumulate : {false, true}) {
        SCOPED_TRACE(testing::Message()
                     << "n=" << s.n << " k=" << s.k << " m=" << m << " accumulate=" << accumulate);
        const GemvRun r(*v, ref, threads, s.n, s.k, m, accumulate, 1, 3, 5, 4);
        const int64_t ldw = r.ldw, ldx = r.ldx, ldy = r.ldy;
        const auto &w = r.w, &x = r.x, &y0 = r.y0, &y = r.y, &want = r.want;
        const TypedWeights& typed = r.typed;
        for (int64_t t = 0; t < m; ++t) {
          for (int64_t o = 0; o < s.n; ++o) {
            // Both sums are y0 (when accumulating) plus the same k products, in two orders:
            // each is within γ(k+1)·(|y0| + Σ|w·x|) of the exact value (Higham §3.1), so they
            // differ by at most twice that. Summed here in double, per output: far tighter
            // than the worst case of `tolerance`, and still a bound, not a guess. The
            // magnitude is that of the weights the variant reads; int8 rounds once more (the
            // dequantized weight, or the scaled sum), which one more step of γ covers.
            double mag = accumulate ? std::fabs(double(y0[t * ldy + o])) : 0.0;
            for (int64_t i = 0; i < s.k; ++i) {
              const int64_t idx = v->layout == Layout::kOI ? o * ldw + i : i * ldw + o;
              mag += std::fabs(typed.value(w.data(), idx, o) * x[t * ldx + i]);
            }
            const double j = double(s.k + (v->dtype == DType::kInt8 ? 2 : 1));
            const double gamma = j * 0x1p-24 / (1.0 - j * 0x1p-24);
            ASSERT_NEAR(y[t * ldy + o], want[t * ldy + o], 2.0 * gamma * mag)
                << "token " << t << " out " << o;
          }
          for (int64_t o = s.n; o < ldy; ++o)
            ASSERT_EQ(y[t * ldy + o], y0[t * ldy + o]) << "padding written at " << o;
        }
      }
    }
  }
}

// A NaN in one token's x makes that token's outputs NaN and no other's, in this call and in
// the next ones (the layer promises as much, variants/moe_layer.h): what a kernel keeps between
// calls must not carry it over. The NaN sits at input 38 of 40, which the next call, of 37
// inputs, does not have: a buffer that pads k up to a multiple of the vector width must pad
// with zeros, not with what the last call left there.
TEST_P(GemmTest, NanStaysInItsToken) {
  const auto [v, threads] = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  const GemvVariant& ref = gemv_reference(*v);
  const int64_t n = 29;
  for (int64_t m : {1, 2, 5, 13}) {
    for (int64_t k : {40, 37}) {  // the clean call of 37 inputs follows the poisoned one
      SCOPED_TRACE(testing::Message() << "m=" << m << " k=" << k);
      const bool poisoned = k == 40;
      const auto w = test::random_vector(n * k, 7);
      auto x = test::random_vector(m * k, 8);
      if (poisoned) x[(m - 1) * k + 38] = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> y(m * n), want(m * n);
      const int64_t ldw = v->layout == Layout::kOI ? k : n;
      GemvArgs a{n, k, w.data(), ldw, x.data(), k, y.data(), n, m, false};
      const TypedWeights typed(*v, w.data(), n, k, ldw);
      typed.bind(a);
      gemv_run_threaded(*v, a, threads);
      a.y = want.data();
      ref.fn(a);
      for (int64_t t = 0; t < m; ++t)
        for (int64_t o = 0; o < n; ++o) {
          if (poisoned && t == m - 1)
            ASSERT_TRUE(std::isnan(y[t * n + o])) << "token " << t << " out " << o;
          else
            ASSERT_NEAR(y[t * n + o], want[t * n + o], tolerance(*v, k))
                << "token " << t << " out " << o;
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

std::vector<std::tuple<const GemvVariant*, int>> multi_token_cases() {
  std::vector<std::tuple<const GemvVariant*, int>> cases;
  for (const auto& c : all_cases())
    if (std::get<0>(c)->tokens_per_pass > 1) cases.push_back(c);
  return cases;
}

std::string case_name(const testing::TestParamInfo<std::tuple<const GemvVariant*, int>>& info) {
  return test::param_name(std::string(std::get<0>(info.param)->name)) + "_t" +
         std::to_string(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Registry, GemvTest, ::testing::ValuesIn(all_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Registry, GemmTest, ::testing::ValuesIn(multi_token_cases()), case_name);

TEST(GemvRegistry, NamesAreUniqueAndSayOpDtypeLayout) {
  std::set<std::string_view> seen;
  for (const auto& v : gemv_variants()) {
    EXPECT_TRUE(seen.insert(v.name).second) << v.name;
    // gemv_<weights>[x<activations>]_<layout>__: the activations only where they are rounded.
    const std::string acts = v.rounds_activations() ? "x" + std::string(dtype_name(v.acts)) : "";
    const std::string prefix = "gemv_" + std::string(dtype_name(v.dtype)) + acts + "_" +
                               std::string(layout_name(v.layout)) + "__";
    EXPECT_EQ(v.name.substr(0, prefix.size()), prefix) << v.name;
    EXPECT_GE(v.tokens_per_pass, 1);
    EXPECT_GE(v.rows_per_pass, 1);
  }
}

// Every variant has the naive reference of its arithmetic (layout, weights, activations).
TEST(GemvRegistry, EveryVariantHasANaiveReferenceOfItsArithmetic) {
  for (const auto& v : gemv_variants()) {
    const GemvVariant& ref = gemv_reference(v);
    EXPECT_EQ(ref.layout, v.layout) << v.name;
    EXPECT_EQ(ref.dtype, v.dtype) << v.name;
    EXPECT_EQ(ref.acts, v.acts) << v.name;
    EXPECT_EQ(ref.isa, Isa::kBaseline) << v.name;
  }
}

// Every dtype and layout has its naive reference, which is what a sweep verifies against.
TEST(GemvRegistry, EveryDtypeAndLayoutHasANaiveReference) {
  for (DType d : {DType::kF32, DType::kBF16, DType::kInt8})
    for (Layout l : {Layout::kOI, Layout::kIO}) {
      const GemvVariant& ref = gemv_naive(l, d);
      EXPECT_EQ(ref.dtype, d);
      EXPECT_EQ(ref.layout, l);
      EXPECT_EQ(ref.isa, Isa::kBaseline);
    }
}

// The conversions themselves: bf16 rounds to nearest even and widens back exactly; int8
// reproduces every weight within half a step of its row's scale, in both layouts.
TEST(Quantize, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);  // halfway, odd below: rounds up
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
  EXPECT_TRUE(std::isinf(bf16_to_f32(f32_to_bf16(INFINITY))));
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(-2.5f)), -2.5f);
}

// A token's activations for the int8 x int8 variants: one scale per token, every value within
// half a step of it; an all-zero token has scale 1; a NaN or an infinity makes the scale NaN.
TEST(Quantize, ActivationsInt8PerToken) {
  const auto x = test::random_vector(300, 5, -3.0f, 2.0f);
  std::vector<int8_t> q(x.size(), 99);
  const float s = quantize_activations_int8(x.data(), int64_t(x.size()), q.data());
  float max_abs = 0.0f;
  for (float v : x) max_abs = std::max(max_abs, std::fabs(v));
  EXPECT_EQ(s, max_abs / 127.0f);
  bool reaches_127 = false;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::abs(q[i]), 127);
    EXPECT_LE(std::fabs(s * q[i] - x[i]), 0.5f * s * 1.0001f) << i;
    reaches_127 = reaches_127 || std::abs(q[i]) == 127;
  }
  EXPECT_TRUE(reaches_127);
  const std::vector<float> zeros(17, 0.0f);
  EXPECT_EQ(quantize_activations_int8(zeros.data(), 17, q.data()), 1.0f);
  for (int i = 0; i < 17; ++i) EXPECT_EQ(q[i], 0);
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    std::vector<float> y = {1.0f, bad, -2.0f};
    EXPECT_TRUE(std::isnan(quantize_activations_int8(y.data(), 3, q.data()))) << bad;
  }
}

TEST(Quantize, Int8WithinHalfAStepPerRow) {
  const int64_t n = 37, k = 53;
  for (Layout l : {Layout::kOI, Layout::kIO}) {
    const int64_t rows = l == Layout::kOI ? n : k, ldw = (l == Layout::kOI ? k : n) + 3;
    auto w = test::random_vector(rows * ldw, 7);
    const auto at = [&](int64_t o, int64_t i) {
      return l == Layout::kOI ? o * ldw + i : i * ldw + o;
    };
    for (int64_t i = 0; i < k; ++i) w[at(5, i)] = 0.0f;  // an all-zero row
    std::vector<int8_t> q(w.size(), 99);
    std::vector<float> scale(n);
    quantize_int8(w.data(), n, k, ldw, l, q.data(), scale.data());
    for (int64_t o = 0; o < n; ++o) {
      float max_abs = 0.0f;
      for (int64_t i = 0; i < k; ++i) max_abs = std::max(max_abs, std::fabs(w[at(o, i)]));
      EXPECT_EQ(scale[o], o == 5 ? 1.0f : max_abs / 127.0f);
      for (int64_t i = 0; i < k; ++i) {
        EXPECT_LE(std::abs(q[at(o, i)]), 127);
        EXPECT_LE(std::fabs(scale[o] * q[at(o, i)] - w[at(o, i)]), 0.5f * scale[o] * 1.0001f);
      }
    }
    for (int64_t r = 0; r < rows; ++r)  // padding zeroed
      for (int64_t c = (l == Layout::kOI ? k : n); c < ldw; ++c) EXPECT_EQ(q[r * ldw + c], 0);
  }
  std::vector<float> bad = {1.0f, NAN};
  std::vector<int8_t> q(2);
  float s;
  EXPECT_THROW(quantize_int8(bad.data(), 1, 2, 2, Layout::kOI, q.data(), &s),
               std::invalid_argument);
}

// The OpenBLAS peer is always registered; it runs exactly when the build linked OpenBLAS,
// whatever MOETUNE_MAX_ISA says (OpenBLAS picks its own kernels for the CPU), and otherwise is
// listed as unavailable with the reason "needs openblas". (MatchesNaive above tests its
// results whenever it is available.)
TEST(GemvRegistry, OpenBlasIsRegisteredAndAvailableExactlyWhenLinked) {
  for (const char* name : {"gemv_f32_oi__openblas", "gemv_f32_io__openblas"}) {
    const GemvVariant* v = find_gemv(name);
    ASSERT_NE(v, nullptr) << name;
    EXPECT_EQ(v->isa, Isa::kOpenBlas);
  }
  EXPECT_EQ(isa_name(Isa::kOpenBlas), "openblas");
  EXPECT_EQ(isa_available(Isa::kOpenBlas), MOETUNE_HAVE_OPENBLAS != 0);
  ASSERT_EQ(setenv("MOETUNE_MAX_ISA", "baseline", 1), 0);
  EXPECT_EQ(isa_available(Isa::kOpenBlas), MOETUNE_HAVE_OPENBLAS != 0);
  unsetenv("MOETUNE_MAX_ISA");
}

#if MOETUNE_HAVE_OPENBLAS
// Inside a kernel OpenBLAS must not start threads of its own (callers split the outputs over
// OpenMP threads), and setting it to one thread must not change the caller's OpenMP default.
TEST(GemvOpenBlas, RunsSingleThreadedAndLeavesOpenMpAlone) {
  const int omp_before = omp_get_max_threads();
  const auto w = test::random_vector(64 * 64, 1);
  const auto x = test::random_vector(64, 2);
  std::vector<float> y(64);
  GemvArgs a{64, 64, w.data(), 64, x.data(), 64, y.data(), 64, 1, false};
  find_gemv("gemv_f32_oi__openblas")->fn(a);
  if (openblas_get_parallel() != OPENBLAS_SEQUENTIAL) {
    EXPECT_EQ(openblas_get_num_threads(), 1);
  }
  EXPECT_EQ(omp_get_max_threads(), omp_before);
}
#endif

}  // namespace
}  // namespace moetune
