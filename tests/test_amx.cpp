// The AMX GEMMs beyond the registry's tolerance checks (test_gemv.cpp runs them over every
// awkward size): int8 x int8 sums are exact integers, so while k fits one block of the kernel
// (4096 inputs) every output is the naive reference's bits, NaN tokens included; and the tile
// state of one call does not leak into the next of another shape (each call configures and
// releases the tiles itself).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <vector>

#include "kernels/gemv/gemv.h"
#include "kernels/gemv/quantize.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

struct Int8Weights {
  std::vector<int8_t> q;
  std::vector<float> scale;
  Int8Weights(const std::vector<float>& w, int64_t n, int64_t k, int64_t ldw)
      : q(w.size()), scale(static_cast<size_t>(n)) {
    quantize_int8(w.data(), n, k, ldw, Layout::kOI, q.data(), scale.data());
  }
};

bool same_bits(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub;
}

TEST(AmxGemm, Int8GivesTheReferencesBitsWithinOneBlock) {
  const GemvVariant* v = find_gemv("gemv_int8xint8_oi__amx_gemm");
  ASSERT_NE(v, nullptr);
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  const GemvVariant& ref = gemv_reference(*v);
  struct Case {
    int64_t n, k, m;
  };
  // The presets' down (k 768) and gate (k 2048) at 1, 17 and 40 tokens, with tails in every
  // dimension, and k = 4096 exactly (one block).
  for (const Case c : {Case{101, 768, 17}, Case{64, 2048, 40}, Case{37, 2048 + 7, 1},
                       Case{48, 4096, 33}, Case{5, 63, 70}}) {
    for (bool accumulate : {false, true}) {
      SCOPED_TRACE(testing::Message()
                   << "n=" << c.n << " k=" << c.k << " m=" << c.m << " accumulate=" << accumulate);
      const int64_t ldw = c.k + 3, ldx = c.k + 1, ldy = c.n + 2;
      const auto w = test::random_vector(c.n * ldw, 21);
      auto x = test::random_vector(c.m * ldx, 22);
      if (c.m > 1) x[ldx + c.k / 2] = std::numeric_limits<float>::infinity();  // token 1
      const auto y0 = test::random_vector(c.m * ldy, 23);
      const Int8Weights q(w, c.n, c.k, ldw);
      auto got = y0, want = y0;
      GemvArgs a{c.n, c.k, w.data(), ldw, x.data(), ldx, got.data(), ldy, c.m, accumulate};
      a.w_i8 = q.q.data();
      a.scale = q.scale.data();
      v->fn(a);
      a.y = want.data();
      ref.fn(a);
      for (size_t j = 0; j < got.size(); ++j)
        ASSERT_TRUE(same_bits(got[j], want[j]))
            << "float " << j << ": " << got[j] << " against " << want[j];
    }
  }
}

// Beyond one block (k > 4096) int8 adds each block's scaled sum into y, so the bits may differ
// from the reference's single sum: within the f32 bound of the sums instead (test_gemv.cpp's
// Blocking test, which stays below 4096 inputs, explains the bound).
TEST(AmxGemm, Int8AcrossInputBlocksWithinTheBound) {
  const GemvVariant* v = find_gemv("gemv_int8xint8_oi__amx_gemm");
  ASSERT_NE(v, nullptr);
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  const int64_t n = 40, k = 2 * 4096 + 77, m = 19;
  const auto w = test::random_vector(n * k, 41);
  const auto x = test::random_vector(m * k, 42);
  const Int8Weights q(w, n, k, k);
  for (bool accumulate : {false, true}) {
    const auto y0 = test::random_vector(m * n, 43);
    auto got = y0, want = y0;
    GemvArgs a{n, k, w.data(), k, x.data(), k, got.data(), n, m, accumulate};
    a.w_i8 = q.q.data();
    a.scale = q.scale.data();
    v->fn(a);
    a.y = want.data();
    gemv_reference(*v).fn(a);
    for (int64_t t = 0; t < m; ++t)
      for (int64_t o = 0; o < n; ++o) {
        double mag = accumulate ? std::fabs(double(y0[t * n + o])) : 0.0;
        for (int64_t i = 0; i < k; ++i)
          mag += std::fabs(double(q.q[o * k + i]) * q.scale[o] * x[t * k + i]);
        const double j = double(k + 3), gamma = j * 0x1p-24 / (1.0 - j * 0x1p-24);
        ASSERT_NEAR(got[t * n + o], want[t * n + o], 2.0 * gamma * mag)
            << "token " << t << " out " << o << " accumulate " << accumulate;
      }
  }
}

// Calls of alternating shapes (full and partial tiles, 1 and 2 k blocks, few and many tokens)
// on one thread: each gives what it gives alone.
TEST(AmxGemm, EachCallStandsAlone) {
  const GemvVariant* v = find_gemv("gemv_bf16xbf16_oi__amx_gemm");
  ASSERT_NE(v, nullptr);
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  struct Case {
    int64_t n, k, m;
  };
  const Case cases[] = {{7, 33, 3}, {64, 4100, 20}, {33, 64, 70}, {16, 2048, 1}};
  std::vector<std::vector<float>> first;
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < std::size(cases); ++i) {
      const Case c = cases[round ? std::size(cases) - 1 - i : i];
      const auto w = test::random_vector(c.n * c.k, 31);
      const auto x = test::random_vector(c.m * c.k, 32);
      std::vector<uint16_t> wb(w.size());
      convert_bf16(w.data(), int64_t(w.size()), wb.data());
      std::vector<float> y(static_cast<size_t>(c.m * c.n));
      GemvArgs a{c.n, c.k, w.data(), c.k, x.data(), c.k, y.data(), c.n, c.m, false};
      a.w_bf16 = wb.data();
      v->fn(a);
      if (round == 0) {
        first.push_back(y);
      } else {
        const auto& want = first[std::size(cases) - 1 - i];
        for (size_t j = 0; j < y.size(); ++j)
          ASSERT_TRUE(same_bits(y[j], want[j]))
              << "case n=" << c.n << " k=" << c.k << " float " << j;
      }
    }
  }
}

}  // namespace
}  // namespace moetune
