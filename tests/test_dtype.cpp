// The dtype traits table (kernels/common/dtype.h): every row is checked here, so a dtype is
// tested the moment it has one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <random>
#include <vector>

#include "kernels/common/dtype.h"
#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

// How far a weight may move through quantize then widen: relative to itself (a float format
// rounding its mantissa) plus relative to its row's largest magnitude (a scaled integer).
struct RoundTrip {
  double relative, of_row_max;
};
RoundTrip round_trip_error(DType d) {
  switch (d) {
    case DType::kF32:
      return {0.0, 0.0};
    case DType::kBF16:
      return {0x1p-8, 0.0};  // 8 significant bits, nearest
    case DType::kInt8:
      return {0.0, 0.5 / 127 * 1.0001};  // half a step of max/127
  }
  return {0.0, 0.0};
}

// A matrix of n outputs and k inputs in `layout`, padded (ldw beyond the row), filled at random
// in [-1, 1]; one output row all zero, where int8's scale must not divide by zero.
struct Matrix {
  int64_t n, k, ldw;
  Layout layout;
  std::vector<float> w;
  Matrix(int64_t n_, int64_t k_, Layout l, uint32_t seed)
      : n(n_), k(k_), ldw((l == Layout::kOI ? k_ : n_) + 3), layout(l) {
    w.assign(static_cast<size_t>(rows() * ldw), 0.0f);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (int64_t o = 1; o < n; ++o)
      for (int64_t i = 0; i < k; ++i) w[at(o, i)] = u(rng);
  }
  int64_t rows() const { return layout == Layout::kOI ? n : k; }
  int64_t at(int64_t o, int64_t i) const {
    return layout == Layout::kOI ? o * ldw + i : i * ldw + o;
  }
};

// The weights `m` stand for after quantize then widen, in m's layout and padding.
std::vector<float> widened(const DTypeTraits& t, const Matrix& m,
                           std::vector<unsigned char>& stored, std::vector<float>& scale) {
  stored.assign(static_cast<size_t>(m.rows() * m.ldw * t.bytes), 0);
  scale.assign(static_cast<size_t>(m.n), 0.0f);
  t.quantize(m.w.data(), m.n, m.k, m.ldw, m.layout, stored.data(), scale.data());
  std::vector<float> out(m.w.size(), 0.0f);
  for (int64_t o = 0; o < m.n; ++o)
    for (int64_t i = 0; i < m.k; ++i) {
      const float v = t.widen(stored.data(), m.at(o, i));
      out[m.at(o, i)] = t.row_scales ? scale[o] * v : v;
    }
  return out;
}

TEST(DTypeTraits, OneRowPerDTypeWhoseNameParsesBack) {
  for (DType d : kDTypes) {
    const DTypeTraits& t = dtype_traits(d);
    EXPECT_EQ(t.dtype, d) << t.name;
    EXPECT_EQ(dtype_name(d), t.name);
    EXPECT_EQ(parse_dtype(t.name), d) << t.name;
    EXPECT_EQ(dtype_bytes(d), t.bytes);
    EXPECT_TRUE(t.bytes == 1 || t.bytes == 2 || t.bytes == 4) << t.name;
    EXPECT_EQ(dtype_matrix_bytes(d, 3, 5), 15 * t.bytes + (t.row_scales ? 3 * 4 : 0));
    EXPECT_TRUE(t.widen && t.quantize && t.set_weights && t.naive_oi && t.naive_io) << t.name;
    // The table's references are the registry's naive variants of that dtype.
    EXPECT_EQ(gemv_naive(Layout::kOI, d).fn, t.naive_oi) << t.name;
    EXPECT_EQ(gemv_naive(Layout::kIO, d).fn, t.naive_io) << t.name;
    if (t.naive_rounded_oi) {
      EXPECT_EQ(gemv_naive(Layout::kOI, d, d).fn, t.naive_rounded_oi) << t.name;
    }
  }
  EXPECT_EQ(dtype_names().size(), std::size(kDTypes));
  EXPECT_FALSE(parse_dtype("f16").has_value());
  EXPECT_FALSE(parse_dtype("F32").has_value());
}

TEST(DTypeTraits, QuantizeThenWidenIsWithinTheDtypesError) {
  for (DType d : kDTypes) {
    const DTypeTraits& t = dtype_traits(d);
    const RoundTrip e = round_trip_error(d);
    for (Layout l : {Layout::kOI, Layout::kIO}) {
      const Matrix m(19, 37, l, 7);
      std::vector<unsigned char> stored;
      std::vector<float> scale;
      const std::vector<float> back = widened(t, m, stored, scale);
      for (int64_t o = 0; o < m.n; ++o) {
        double row_max = 0;
        for (int64_t i = 0; i < m.k; ++i) row_max = std::fmax(row_max, std::fabs(m.w[m.at(o, i)]));
        for (int64_t i = 0; i < m.k; ++i) {
          const double w = m.w[m.at(o, i)], v = back[m.at(o, i)];
          ASSERT_LE(std::fabs(v - w), e.relative * std::fabs(w) + e.of_row_max * row_max)
              << t.name << " " << layout_name(l) << " (" << o << ", " << i << ")";
        }
      }
    }
  }
}

// The dtype's naive gemv computes what the f32 one computes on the weights it stands for, up
// to the order of the sums and int8's one product by its scale.
TEST(DTypeTraits, NaiveGemvMatchesF32OnTheWidenedWeights) {
  const DTypeTraits& f32 = dtype_traits(DType::kF32);
  for (DType d : kDTypes) {
    const DTypeTraits& t = dtype_traits(d);
    for (Layout l : {Layout::kOI, Layout::kIO}) {
      const Matrix m(21, 45, l, 11);
      std::vector<unsigned char> stored;
      std::vector<float> scale;
      const std::vector<float> back = widened(t, m, stored, scale);
      const int64_t tokens = 3;
      std::vector<float> x(static_cast<size_t>(tokens * m.k));
      std::mt19937 rng(5);
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      for (float& v : x) v = u(rng);
      std::vector<float> got(static_cast<size_t>(tokens * m.n), NAN), want = got;
      GemvArgs a{m.n, m.k, nullptr, m.ldw, x.data(), m.k, got.data(), m.n, tokens, false};
      t.set_weights(a, stored.data(), scale.data());
      (l == Layout::kOI ? t.naive_oi : t.naive_io)(a);
      GemvArgs b{m.n, m.k, nullptr, m.ldw, x.data(), m.k, want.data(), m.n, tokens, false};
      f32.set_weights(b, back.data(), nullptr);
      (l == Layout::kOI ? f32.naive_oi : f32.naive_io)(b);
      for (int64_t tk = 0; tk < tokens; ++tk)
        for (int64_t o = 0; o < m.n; ++o) {
          double mag = 0;
          for (int64_t i = 0; i < m.k; ++i)
            mag += std::fabs(double(back[m.at(o, i)]) * x[tk * m.k + i]);
          // Two sums of k products in different orders, and a product by the scale.
          const double bound = (2.0 * double(m.k) + 4.0) * 0x1p-24 * mag;
          ASSERT_NEAR(got[tk * m.n + o], want[tk * m.n + o], bound)
              << t.name << " " << layout_name(l) << " token " << tk << " out " << o;
        }
    }
  }
}

}  // namespace
}  // namespace moetune
