// Every registered topk variant against the naive full sort: the chosen ids must be exactly
// naive's and the values bit-identical (top-k only moves values, it computes none). Data:
// random, heavy ties (the lower index must win), NaN and -inf present; k = 1, 2, 8, n - 1, n.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <string>

#include "kernels/topk/topk.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

// 300000 floats plus 300000 int32 of scratch: 2.4 MB, beyond this 1 MB L2.
const int64_t kSizes[] = {1, 3, 7, 8, 9, 15, 16, 17, 100, 128, 1000, 300000};

struct Data {
  const char* name;
  std::function<std::vector<float>(int64_t n)> make;
};

const Data kData[] = {
    {"random", [](int64_t n) { return test::random_vector(n, 3, 0.0f, 1.0f); }},
    {"ties",
     [](int64_t n) {
       // Four distinct values, each repeated across the whole range, plus +0 and -0, which
       // compare equal and so also tie on index.
       auto x = test::random_vector(n, 4, 0.0f, 4.0f);
       for (int64_t i = 0; i < n; ++i) x[i] = std::floor(x[i]) * 0.25f;
       for (int64_t i = 0; i < n; i += 7) x[i] = (i / 7) % 2 ? -0.0f : 0.0f;
       return x;
     }},
    {"NaN present",
     [](int64_t n) {
       auto x = test::random_vector(n, 5, -1.0f, 1.0f);
       for (int64_t i = 0; i < n; i += 3) x[i] = NAN;
       return x;
     }},
    {"-inf present",
     [](int64_t n) {
       auto x = test::random_vector(n, 6, -1.0f, 1.0f);
       for (int64_t i = 1; i < n; i += 2) x[i] = -INFINITY;
       return x;
     }},
    {"all NaN", [](int64_t n) { return std::vector<float>(n, NAN); }},
};

uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

class TopkTest : public ::testing::TestWithParam<const TopkVariant*> {};

TEST_P(TopkTest, SameIdsAndValuesAsNaive) {
  const TopkVariant* v = GetParam();
  MOETUNE_SKIP_UNLESS_AVAILABLE(v->isa);
  constexpr int64_t kGuard = 8;
  for (const Data& d : kData) {
    for (const int64_t n : kSizes) {
      const auto p = d.make(n);
      std::vector<int32_t> scratch(n);
      std::set<int64_t> ks;
      for (const int64_t k : {int64_t{1}, int64_t{2}, int64_t{8}, n - 1, n})
        if (k >= 1 && k <= n) ks.insert(k);
      // The order is total, so naive's top k is the first k of its full order: one sort of
      // n serves every k.
      std::vector<float> want_v(n);
      std::vector<int32_t> want_id(n);
      topk_naive().fn(p.data(), n, n, want_v.data(), want_id.data(), scratch.data());
      for (const int64_t k : ks) {
        SCOPED_TRACE(testing::Message() << d.name << ", n=" << n << ", k=" << k);
        std::vector<float> got_v(k + kGuard, -7.0f);
        std::vector<int32_t> got_id(k + kGuard, -7);
        v->fn(p.data(), n, k, got_v.data(), got_id.data(), scratch.data());
        for (int64_t j = 0; j < k; ++j) {
          ASSERT_EQ(got_id[j], want_id[j]) << "rank " << j;
          ASSERT_EQ(bits(got_v[j]), bits(want_v[j])) << "rank " << j << ": " << got_v[j];
        }
        for (int64_t j = k; j < k + kGuard; ++j) {
          ASSERT_EQ(got_id[j], -7) << "written past k at " << j;
          ASSERT_EQ(got_v[j], -7.0f) << "written past k at " << j;
        }
      }
    }
  }
}

// The naive reference itself follows the contract of topk.h, so matching it means following it.
TEST(TopkNaive, FollowsTheContract) {
  const float p[] = {0.5f, NAN, 0.5f, -INFINITY, 0.75f, 0.5f, NAN, 0.25f};
  float v[8];
  int32_t id[8], scratch[8];
  topk_naive().fn(p, 8, 8, v, id, scratch);
  const int32_t want[] = {4, 0, 2, 5, 7, 3, 1, 6};  // ties by index; NaN last, by index
  for (int j = 0; j < 8; ++j) EXPECT_EQ(id[j], want[j]) << "rank " << j;
}

INSTANTIATE_TEST_SUITE_P(Registry, TopkTest,
                         ::testing::ValuesIn([] {
                           std::vector<const TopkVariant*> all;
                           for (const auto& v : topk_variants()) all.push_back(&v);
                           return all;
                         }()),
                         [](const auto& info) { return test::param_name(std::string(info.param->name)); });

TEST(TopkRegistry, NamesAreUniqueAndSayOpDtype) {
  std::set<std::string_view> seen;
  for (const auto& v : topk_variants()) {
    EXPECT_TRUE(seen.insert(v.name).second) << v.name;
    EXPECT_EQ(v.name.substr(0, 10), "topk_f32__") << v.name;
  }
  EXPECT_NE(find_topk("topk_f32__naive"), nullptr);
}

}  // namespace
}  // namespace moetune
