// variants/point.h: one id per decision point, and a parser that inverts it exactly.
#include "variants/point.h"

#include <gtest/gtest.h>

namespace moetune {
namespace {

const MoeShape kQwen30b{2048, 768, 128, 8, 0, true};
const MoeShape kQwen15{2048, 1408, 60, 4, 5632, false};

TEST(Point, IdNamesEveryField) {
  const Point p{Op::kGemv, kQwen30b, DType::kBF16, Layout::kIO, 16, 2};
  EXPECT_EQ(p.id(), "gemv/H2048_I768_E128_k8_S0_norm/bf16/io/tokens:16/threads:2");
  EXPECT_EQ(p.case_id("gemv_bf16_io__naive"),
            "gemv/gemv_bf16_io__naive/H2048_I768_E128_k8_S0_norm/bf16/io/tokens:16/threads:2");
  const Point s{Op::kSoftmax, kQwen15, DType::kF32, std::nullopt, 1, 1};
  EXPECT_EQ(s.id(), "softmax/H2048_I1408_E60_k4_S5632_nonorm/f32/any/tokens:1/threads:1");
}

TEST(Point, ParseInvertsIdForEveryOpDtypeAndLayout) {
  for (Op op : kOps)
    for (DType d : kDTypes)
      for (int l = -1; l < 2; ++l) {
        Point p{op, kQwen15, d, std::nullopt, 3, 7};
        if (l >= 0) p.layout = static_cast<Layout>(l);
        const bool fits = point_problem(p).empty();
        EXPECT_EQ(fits, op_reads_weights(op) ? l >= 0 : d == DType::kF32 && l < 0) << p.id();
        const auto back = parse_point(p.id());
        ASSERT_EQ(back.has_value(), fits) << p.id();
        if (!fits) continue;
        EXPECT_EQ(*back, p);
        EXPECT_EQ(back->id(), p.id());
        const auto c = parse_case_id(p.case_id("some_f32__variant"));
        ASSERT_TRUE(c.has_value()) << p.id();
        EXPECT_EQ(c->point, p);
        EXPECT_EQ(c->variant, "some_f32__variant");
      }
}

TEST(Point, ParseRejectsWhatIdNeverWrites) {
  for (const char* bad : {"", "gemv", "gemv/H2048_I768_E128_k8_S0_norm/bf16/oi/tokens:1",
                          "conv/H2048_I768_E128_k8_S0_norm/f32/oi/tokens:1/threads:1",
                          "gemv/H2048_I768_E128_k8_S0/f32/oi/tokens:1/threads:1",
                          "gemv/H2048_I768_E128_k129_S0_norm/f32/oi/tokens:1/threads:1",
                          "gemv/H2048_I768_E128_k8_S0_norm/f16/oi/tokens:1/threads:1",
                          "gemv/H2048_I768_E128_k8_S0_norm/f32/any/tokens:1/threads:1",
                          "gemv/H2048_I768_E128_k8_S0_norm/f32/oi/tokens:0/threads:1",
                          "gemv/H2048_I768_E128_k8_S0_norm/f32/oi/tokens:1/threads:-1",
                          "gemv/H2048_I768_E128_k8_S0_norm/f32/oi/tokens:1x/threads:1",
                          "topk/H2048_I768_E128_k8_S0_norm/f32/oi/tokens:1/threads:1",
                          "topk/H2048_I768_E128_k8_S0_norm/int8/any/tokens:1/threads:1"})
    EXPECT_FALSE(parse_point(bad).has_value()) << bad;
  EXPECT_FALSE(parse_case_id("gemv//H2048_I768_E128_k8_S0_norm/f32/oi/tokens:1/threads:1"));
}

TEST(Point, OrderIsOpThenShapeThenTokensThreadsDtypeLayout) {
  const Point a{Op::kGemv, kQwen15, DType::kInt8, Layout::kIO, 64, 2};
  Point b = a;
  b.op = Op::kSwiglu;
  b.dtype = DType::kF32;
  b.layout.reset();
  EXPECT_LT(a, b);
  Point c = a;
  c.tokens = 1;
  EXPECT_LT(c, a);
  Point d = a;
  d.dtype = DType::kF32;
  EXPECT_LT(d, a);
  EXPECT_FALSE(a < a);
  EXPECT_EQ(parse_op("layer"), Op::kLayer);
  EXPECT_EQ(parse_layout("any"), std::nullopt);
}

}  // namespace
}  // namespace moetune
