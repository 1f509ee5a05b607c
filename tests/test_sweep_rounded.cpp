// A real sweep that opts in to rounded activations (`rounded_activations: true`), run in
// process on a toy shape: the variants that round the activations run next to the exact ones,
// every gemv and layer result says what its activations were, a layer result names its
// kernels, and the context records the opt-in and a peak per arithmetic.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "harness/results.h"
#include "harness/sweep_runner.h"
#include "kernels/gemv/gemv.h"
#include "tests/test_util.h"
#include "variants/selection.h"

namespace moetune {
namespace {

namespace fs = std::filesystem;

const std::string kSweep =
    std::string("name: rounded\n") + test::kToySweepShapes + R"(tokens: [1, 8]
threads: [1]
ops: [gemv, layer]
variants:
  gemv: all
  layer: [layer_bf16__naive, layer_bf16__grouped, layer_int8__grouped]
dtype: [bf16, int8]
rounded_activations: true
repetitions: 1
max_repetitions: 1
min_time: 0.001
)";

TEST(SweepRounded, RecordsWhatEachResultMultipliedWith) {
  const test::TempDir dir("moetune_rounded");
  std::ofstream(dir / "s.yaml") << kSweep;
  SweepOptions o;
  o.config = dir / "s.yaml";
  o.output = dir / "out.json";
  o.progress = false;
  run_sweep(o);
  const ResultsFile r = read_results(o.output);

  EXPECT_EQ(r.context.at("rounded_activations"), true);
  EXPECT_TRUE(r.context.at("roofline").at("peaks").is_object());
  std::set<std::string> rounded_gemvs;
  for (const CaseResult& c : r.cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(c.activations.has_value());
    if (c.op == "gemv") {
      EXPECT_EQ(*c.activations, dtype_name(find_gemv(c.variant)->acts));
      if (rounds_activations(*parse_op(c.op), c.variant)) rounded_gemvs.insert(c.variant);
      continue;
    }
    ASSERT_TRUE(c.kernels.has_value());
    EXPECT_NE(c.kernels->find("gemv=gemv_" + c.dtype), std::string::npos) << *c.kernels;
    EXPECT_TRUE(c.rel_error_vs_f32.has_value());
    if (c.failed()) continue;
    // The naive layer is the baseline and stays exact; the others take the selection with
    // the opt-in, which rounds where a rounding default runs here.
    const std::string gemv = c.kernels->substr(5, c.kernels->find(' ') - 5);
    EXPECT_EQ(*c.activations, dtype_name(find_gemv(gemv)->acts));
    if (c.variant.find("__naive") != std::string::npos) {
      EXPECT_EQ(*c.activations, "f32");
    }
  }
  // At least the two naive references of the rounded arithmetic ran.
  EXPECT_TRUE(rounded_gemvs.count("gemv_bf16xbf16_oi__naive"));
  EXPECT_TRUE(rounded_gemvs.count("gemv_int8xint8_oi__naive"));
}

}  // namespace
}  // namespace moetune
