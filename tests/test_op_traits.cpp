// The op traits table (variants/op_traits.h) and a tuned row read into a point
// (SelectionEntry::point, variants/selection.h).
#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <string>

#include "variants/selection.h"

namespace moetune {
namespace {

TEST(OpTraits, EveryOpHasItsNameItsRegistryAndItsWeights) {
  std::set<std::string_view> names;
  for (Op op : kOps) {
    const OpTraits& t = op_traits(op);
    EXPECT_EQ(op_name(op), t.name);
    EXPECT_EQ(parse_op(t.name), op);
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    EXPECT_EQ(op_reads_weights(op), op == Op::kGemv || op == Op::kLayer) << t.name;
    ASSERT_FALSE(t.variants().empty()) << t.name;
    for (const VariantInfo& v : t.variants()) {
      // Names say their op first (DESIGN §2), and only an op's own registry has them.
      EXPECT_EQ(v.name.substr(0, t.name.size() + 1), std::string(t.name) + "_") << v.name;
      EXPECT_EQ(find_variant(op, v.name), &v);
      for (Op other : kOps)
        EXPECT_TRUE(other == op || !is_registered(other, v.name)) << v.name;
      if (!op_reads_weights(op)) {
        EXPECT_EQ(v.dtype, DType::kF32) << v.name;
        EXPECT_FALSE(v.layout) << v.name;
      }
    }
  }
  EXPECT_EQ(op_names().size(), std::size(kOps));
  EXPECT_FALSE(parse_op("conv"));
}

TEST(OpTraits, RegistriesCarryWhatTheKernelAndLayerRegistriesSay) {
  for (const GemvVariant& g : gemv_variants()) {
    const VariantInfo* v = find_variant(Op::kGemv, g.name);
    ASSERT_NE(v, nullptr) << g.name;
    EXPECT_EQ(v->isa, g.isa);
    EXPECT_EQ(v->dtype, g.dtype);
    EXPECT_EQ(v->layout, g.layout);
    EXPECT_EQ(v->rounds_activations, g.rounds_activations());
  }
  ASSERT_EQ(registered_variants(Op::kLayer).size(), layer_variants().size());
  for (const LayerVariant& l : layer_variants()) {
    EXPECT_EQ(variant_dtype(Op::kLayer, l.name), l.dtype) << l.name;
    // A layer runs weights in either layout, but needs one.
    EXPECT_TRUE(is_runnable(Op::kLayer, l.name, Layout::kIO)) << l.name;
    EXPECT_FALSE(is_runnable(Op::kLayer, l.name, std::nullopt)) << l.name;
  }
  EXPECT_FALSE(variant_dtype(Op::kLayer, "layer_f16__grouped"));
  EXPECT_FALSE(is_runnable(Op::kGemv, "gemv_f32_oi__naive", Layout::kIO));
  EXPECT_TRUE(is_runnable(Op::kGemv, "gemv_f32_oi__naive", Layout::kOI));
}

TEST(SelectionEntry, ARowOfThisBuildsVocabularyIsAPointAndNoOtherIs) {
  const SelectionEntry rows[] = {
      {"gemv", 2048, 768, 128, 8, 0, true, 1, 2, "bf16", "oi", "gemv_bf16_oi__naive"},
      {"swiglu", 2048, 768, 128, 8, 0, true, 16, 1, "f32", "any", "swiglu_f32__naive"},
      {"conv", 2048, 768, 128, 8, 0, true, 1, 1, "f32", "oi", "conv_f32__x"},
      {"gemv", 2048, 768, 128, 8, 0, true, 1, 1, "f16", "oi", "gemv_f16_oi__x"},
      {"gemv", 2048, 768, 128, 8, 0, true, 1, 1, "f32", "any", "gemv_f32_oi__naive"},
      {"swiglu", 2048, 768, 128, 8, 0, true, 1, 1, "f32", "oi", "swiglu_f32__naive"},
      {"gemv", 0, 768, 128, 8, 0, true, 1, 1, "f32", "oi", "gemv_f32_oi__naive"},
  };
  const auto p = rows[0].point();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id(), "gemv/H2048_I768_E128_k8_S0_norm/bf16/oi/tokens:1/threads:2");
  const auto q = rows[1].point();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->layout, std::nullopt);
  for (size_t i = 2; i < std::size(rows); ++i) EXPECT_FALSE(rows[i].point()) << i;
  const auto entries = tuned_entries(rows, std::size(rows));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].row, &rows[0]);
  EXPECT_EQ(entries[1].variant, "swiglu_f32__naive");
}

}  // namespace
}  // namespace moetune
