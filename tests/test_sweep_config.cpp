#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "harness/error.h"
#include "harness/sweep_config.h"
#include "variants/selection.h"

namespace moetune {
namespace {

const char* kMinimal = R"(name: t
shapes:
  - {hidden: 64, intermediate: 32, experts: 8, top_k: 2}
tokens: [1, 4]
)";

// The error a sweep text raises; fails the test when it parses.
InputError error_of(const std::string& yaml) {
  try {
    parse_sweep(yaml, "s.yaml");
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "parsed without error:\n" << yaml;
  return InputError("", "", "");
}

void expect_error(const std::string& yaml, const std::string& where, const std::string& part) {
  const InputError e = error_of(yaml);
  EXPECT_EQ(e.file(), "s.yaml");
  EXPECT_EQ(e.where(), where) << e.what();
  EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
      << "'" << part << "' not in: " << e.what();
}

TEST(SweepConfig, DefaultsOfAMinimalFile) {
  const SweepConfig c = parse_sweep(kMinimal, "s.yaml");
  EXPECT_EQ(c.name, "t");
  ASSERT_EQ(c.shapes.size(), 1u);
  EXPECT_EQ(c.shapes[0].shape.hidden, 64);
  EXPECT_EQ(c.shapes[0].shape.shared_intermediate, 0);
  EXPECT_TRUE(c.shapes[0].shape.norm_topk_prob);
  EXPECT_EQ(c.tokens, (std::vector<int64_t>{1, 4}));
  ASSERT_EQ(c.threads.size(), 1u);
  EXPECT_GE(c.threads[0], 1);
  EXPECT_EQ(c.ops, (std::vector<Op>{Op::kGemv, Op::kSwiglu, Op::kSoftmax, Op::kTopk, Op::kLayer}));
  EXPECT_EQ(c.dtypes, (std::vector<DType>{DType::kF32}));
  EXPECT_EQ(c.layouts, (std::vector<Layout>{Layout::kOI}));
  EXPECT_EQ(c.routing, RoutingKind::kUniform);
  EXPECT_EQ(c.repetitions, 5);
  EXPECT_EQ(c.max_repetitions, 20);  // adaptive by default: up to 4x the minimum
  EXPECT_DOUBLE_EQ(c.max_time, 30);
  EXPECT_DOUBLE_EQ(c.min_time, 0.1);
  EXPECT_EQ(c.seed, 1u);
  // `all`: every registered variant but those that round the activations (no opt-in here).
  for (Op op : c.ops) {
    std::vector<std::string> want;
    for (auto name : registered_variants(op))
      if (!rounds_activations(op, name)) want.emplace_back(name);
    EXPECT_EQ(c.variants.at(op), want) << op_name(op);
  }
}

TEST(SweepConfig, EverySettingGiven) {
  const SweepConfig c = parse_sweep(R"(name: full-1
shapes:
  - model: qwen3-30b-a3b
  - qwen1.5-moe-a2.7b
  - {hidden: 256, intermediate: 128, experts: 8, top_k: 2, shared_intermediate: 64, norm_topk_prob: false}
tokens: 16
threads: [1, 2]
ops: [topk, gemv]
variants: {gemv: [gemv_f32_io__naive, gemv_f32_oi__naive]}
dtype: f32
layout: [io, oi]
routing: skewed
repetitions: 3
min_time: 0.01
seed: 42
)",
                                    "s.yaml");
  ASSERT_EQ(c.shapes.size(), 3u);
  EXPECT_EQ(c.shapes[0].preset, "qwen3-30b-a3b");
  EXPECT_EQ(c.shapes[0].shape, *find_preset("qwen3-30b-a3b"));
  EXPECT_EQ(c.shapes[1].shape.shared_intermediate, 5632);
  EXPECT_EQ(c.shapes[2].preset, "");
  EXPECT_FALSE(c.shapes[2].shape.norm_topk_prob);
  EXPECT_EQ(c.shapes[2].shape.shared_intermediate, 64);
  EXPECT_EQ(c.tokens, (std::vector<int64_t>{16}));
  EXPECT_EQ(c.threads, (std::vector<int>{1, 2}));
  EXPECT_EQ(c.ops, (std::vector<Op>{Op::kGemv, Op::kTopk}));  // canonical order
  EXPECT_EQ(c.variants.at(Op::kGemv),
            (std::vector<std::string>{"gemv_f32_oi__naive", "gemv_f32_io__naive"}));
  EXPECT_EQ(c.variants.at(Op::kTopk).size(), registered_variants(Op::kTopk).size());
  EXPECT_EQ(c.layouts, (std::vector<Layout>{Layout::kIO, Layout::kOI}));
  EXPECT_EQ(c.routing, RoutingKind::kSkewed);
  EXPECT_EQ(c.repetitions, 3);
  EXPECT_DOUBLE_EQ(c.min_time, 0.01);
  EXPECT_EQ(c.seed, 42u);
}

TEST(SweepConfig, VariantListSpreadOverOps) {
  const SweepConfig c = parse_sweep(std::string(kMinimal) + R"(ops: [gemv, topk]
variants: [topk_f32__naive, gemv_f32_oi__naive]
)",
                                    "s.yaml");
  EXPECT_EQ(c.variants.at(Op::kGemv), (std::vector<std::string>{"gemv_f32_oi__naive"}));
  EXPECT_EQ(c.variants.at(Op::kTopk), (std::vector<std::string>{"topk_f32__naive"}));
}

TEST(SweepConfig, Errors) {
  const std::string base = kMinimal;
  expect_error(base + "colour: red\n", "line 5, column 1", "'colour': unknown key");
  expect_error("shapes: [qwen3-30b-a3b]\ntokens: [1]\n", "line 1, column 1",
               "'name': missing required key");
  expect_error("name: t\ntokens: [1]\n", "line 1, column 1", "'shapes': missing");
  expect_error("name: t\nshapes: [qwen3-30b-a3b]\n", "line 1, column 1", "'tokens': missing");
  expect_error("name: t\nshapes: [qwen9]\ntokens: [1]\n", "line 2, column 10",
               "unknown preset 'qwen9'");
  expect_error("name: t\nshapes: []\ntokens: [1]\n", "line 2, column 9", "non-empty list");
  expect_error("name: t\nshapes: [qwen3-30b-a3b]\ntokens: [1, x]\n", "line 3, column 13",
               "'tokens': expected an integer in 1..65536, got 'x'");
  expect_error("name: t\nshapes: [qwen3-30b-a3b]\ntokens: [0]\n", "line 3, column 10",
               "expected an integer in 1..65536, got 0");
  expect_error("name: t\nshapes: [qwen3-30b-a3b]\ntokens: [1, 1]\n", "line 3, column 13",
               "listed twice");
  expect_error("name: t\nshapes: [qwen3-30b-a3b]\ntokens: {a: 1}\n", "line 3, column 9",
               "expected a list of token counts, got a map");
  expect_error(base + "repetitions: 0\n", "line 5, column 14", "'repetitions'");
  expect_error(base + "repetitions: 1001\n", "line 5, column 14", "1..1000");
  expect_error(base + "repetitions: 2.5\n", "line 5, column 14", "got '2.5'");
  expect_error(base + "min_time: 0\n", "line 5, column 11", "'min_time': expected a number");
  // The adaptive budget: never below the minimum, never zero or negative time.
  expect_error(base + "repetitions: 8\nmax_repetitions: 5\n", "line 6, column 18",
               "'max_repetitions': expected at least `repetitions` (8)");
  expect_error(base + "max_repetitions: 0\n", "line 5, column 18", "'max_repetitions'");
  expect_error(base + "max_time: 0\n", "line 5, column 11",
               "'max_time': expected a number greater than 0");
  expect_error(base + "max_time: -3\n", "line 5, column 11", "'max_time'");
  {
    const SweepConfig c =
        parse_sweep(base + "repetitions: 6\nmax_repetitions: 6\nmax_time: 2.5\n", "s.yaml");
    EXPECT_EQ(c.max_repetitions, 6);
    EXPECT_DOUBLE_EQ(c.max_time, 2.5);
  }
  expect_error(base + "min_time: fast\n", "line 5, column 11", "got 'fast'");
  // A variant named for a dtype the sweep does not run would silently never run.
  expect_error(base + "ops: [gemv]\nvariants: [gemv_bf16_oi__naive]\n", "line 6, column 12",
               "is for bf16 weights, which is not in the sweep's dtype list (f32)");
  expect_error(base + "dtype: bf16\nops: [layer]\nvariants: [layer_f32__grouped]\n",
               "line 7, column 12", "is for f32 weights");
  expect_error(base + "dtype: f16\n", "line 5, column 8", "one of f32, bf16, int8");
  expect_error(base + "layout: [oi, xy]\n", "line 5, column 14", "expected one of oi, io");
  expect_error(base + "routing: zipf\n", "line 5, column 10", "uniform, skewed");
  // A variant that rounds the activations runs only where the file opts in.
  expect_error(base + "dtype: bf16\nops: [gemv]\nvariants: [gemv_bf16xbf16_oi__naive]\n",
               "line 7, column 12",
               "'gemv_bf16xbf16_oi__naive' rounds the activations to bf16, which changes the "
               "results: set `rounded_activations: true` to run it");
  expect_error(base + "rounded_activations: maybe\n", "line 5, column 22", "'rounded_activations'");
  expect_error(base + "ops: [gemv, conv]\n", "line 5, column 13", "'conv'");
  expect_error(base + "variants: [gemv_f32_oi__bogus]\n", "line 5, column 12",
               "unknown variant 'gemv_f32_oi__bogus'");
  expect_error(base + "variants: {gemv: [topk_f32__naive]}\n", "line 5, column 19",
               "unknown gemv variant 'topk_f32__naive'");
  expect_error(base + "variants: {layer: [layer_f32__bogus]}\n", "line 5, column 20",
               "unknown layer variant");
  expect_error(base + "ops: [gemv]\nvariants: {topk: all}\n", "line 6, column 12",
               "op 'topk' is not one of the sweep's ops");
  expect_error(base + "ops: [gemv, topk]\nvariants: [gemv_f32_oi__naive]\n", "line 6, column 11",
               "no variant of op 'topk' is listed");
  expect_error(base + "variants: {gemv: [gemv_f32_io__naive]}\n", "line 5, column 19",
               "needs layout io");
  expect_error(base + "variants: some\n", "line 5, column 11", "expected all, a list");
  expect_error(base + "seed: -1\n", "line 5, column 7", "'seed'");
  expect_error("name: t\nshapes:\n  - {hidden: 64, intermediate: 32, experts: 8}\ntokens: [1]\n",
               "line 3, column 5", "missing key 'top_k'");
  expect_error(
      "name: t\nshapes:\n  - {hidden: 64, intermediate: 32, experts: 8, top_k: 9}\ntokens: [1]\n",
      "line 3, column 55", "'top_k': expected an integer in 1..8, got 9");
  expect_error("name: t\nshapes:\n  - {model: qwen3-30b-a3b, hidden: 4}\ntokens: [1]\n",
               "line 3, column 28", "unknown key");
  expect_error("name: t\nshapes:\n  - qwen3-30b-a3b\n  - {model: qwen3-30b-a3b}\ntokens: [1]\n",
               "line 4, column 5", "listed twice");
  expect_error("name: a/b\nshapes: [qwen3-30b-a3b]\ntokens: [1]\n", "line 1, column 7",
               "names the results file");
  expect_error("- 1\n- 2\n", "line 1, column 1", "expected a map of sweep settings");
  expect_error("", "", "expected a map of sweep settings");
  expect_error("name: t\nname: u\nshapes: [qwen3-30b-a3b]\ntokens: [1]\n", "line 2, column 1",
               "given twice");
}

TEST(SweepConfig, YamlSyntaxErrorHasAPlace) {
  const InputError e = error_of("name: t\nshapes: [qwen3-30b-a3b\ntokens: [1]\n");
  EXPECT_EQ(e.file(), "s.yaml");
  EXPECT_NE(std::string(e.what()).find("YAML syntax error"), std::string::npos) << e.what();
  EXPECT_NE(e.where().find("line "), std::string::npos) << e.what();
}

TEST(SweepConfig, MissingFile) {
  try {
    load_sweep("/nonexistent/dir/sweep.yaml");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "/nonexistent/dir/sweep.yaml");
    EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos) << e.what();
  }
}

// Every sweep in sweeps/ parses, expands to cases, and is named as its file.
TEST(SweepConfig, ShippedSweepsParse) {
  const auto dir = std::filesystem::path(MOETUNE_TEST_DATA) / ".." / ".." / "sweeps";
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string name = entry.path().stem().string();
    names.insert(name);
    const SweepConfig c = load_sweep(entry.path().string());
    EXPECT_EQ(c.name, name);
    EXPECT_FALSE(expand(c).empty()) << name;
  }
  for (const char* name :
       {"quick", "qwen3-30b-a3b", "qwen3-30b-a3b-dtypes", "qwen3-30b-a3b-decode"})
    EXPECT_TRUE(names.count(name)) << "sweeps/" << name << ".yaml not found";
}

TEST(Expand, OrderAndIds) {
  const SweepConfig c = parse_sweep(std::string(kMinimal) + R"(threads: [1, 2]
layout: [oi, io]
ops: [gemv, softmax]
variants: {gemv: [gemv_f32_oi__naive, gemv_f32_io__naive]}
)",
                                    "s.yaml");
  const auto cases = expand(c);
  const size_t softmax_variants = registered_variants(Op::kSoftmax).size();
  // gemv: 2 layouts x 2 tokens x 2 threads x its one variant of that layout; softmax: once per
  // point with layout "any".
  ASSERT_EQ(cases.size(), 8 + 4 * softmax_variants);
  EXPECT_EQ(cases[0].id, "gemv/gemv_f32_oi__naive/H64_I32_E8_k2_S0_norm/f32/oi/tokens:1/threads:1");
  EXPECT_EQ(cases[1].id, "gemv/gemv_f32_oi__naive/H64_I32_E8_k2_S0_norm/f32/oi/tokens:1/threads:2");
  EXPECT_EQ(cases[4].point.layout, Layout::kIO);
  EXPECT_EQ(cases[4].variant, "gemv_f32_io__naive");
  EXPECT_EQ(cases[8].point.op, Op::kSoftmax);
  EXPECT_EQ(cases[8].point.layout_text(), "any");
  std::set<std::string> ids;
  for (const auto& bc : cases) {
    EXPECT_TRUE(ids.insert(bc.id).second) << bc.id;
    // The id parses back into the case's point and variant.
    const auto parsed = parse_case_id(bc.id);
    ASSERT_TRUE(parsed) << bc.id;
    EXPECT_EQ(parsed->point, bc.point) << bc.id;
    EXPECT_EQ(parsed->variant, bc.variant) << bc.id;
  }
  // Deterministic: the same file expands to the same list.
  const auto again = expand(parse_sweep(std::string(kMinimal) + R"(threads: [1, 2]
layout: [oi, io]
ops: [softmax, gemv]
variants: {gemv: [gemv_f32_io__naive, gemv_f32_oi__naive]}
)",
                                        "s.yaml"));
  ASSERT_EQ(again.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(again[i].id, cases[i].id);
}

// `rounded_activations: true` adds the variants that round the activations to `all`, and the
// layer cases of the sweep may select them; without it they never run.
TEST(SweepConfig, RoundedActivationsAreOptIn) {
  const std::string file = std::string(kMinimal) + "dtype: [bf16, int8]\nops: [gemv]\n";
  const auto rounded_cases = [](const SweepConfig& c) {
    int n = 0;
    for (const auto& bc : expand(c)) n += rounds_activations(bc.point.op, bc.variant);
    return n;
  };
  const SweepConfig exact = parse_sweep(file, "s.yaml");
  EXPECT_EQ(exact.activations, Activations::kExact);
  EXPECT_EQ(rounded_cases(exact), 0);
  const SweepConfig opted = parse_sweep(file + "rounded_activations: true\n", "s.yaml");
  EXPECT_EQ(opted.activations, Activations::kMayRound);
  EXPECT_GT(rounded_cases(opted), 0);
  for (auto name : registered_variants(Op::kGemv))
    if (rounds_activations(Op::kGemv, name)) {
      const auto& all = opted.variants.at(Op::kGemv);
      EXPECT_NE(std::find(all.begin(), all.end(), name), all.end()) << name;
    }
  EXPECT_EQ(parse_sweep(file + "rounded_activations: false\n", "s.yaml").activations,
            Activations::kExact);
  // `all` for one op in a map of op -> variants is the same `all`.
  const std::string per_op = file + "variants:\n  gemv: all\n";
  EXPECT_EQ(rounded_cases(parse_sweep(per_op, "s.yaml")), 0);
  EXPECT_GT(rounded_cases(parse_sweep(per_op + "rounded_activations: true\n", "s.yaml")), 0);
}

// Each dtype runs the gemv and layer variants of that dtype, and the ops that do not read
// weights run once, under f32.
TEST(Expand, DtypesPickTheirVariants) {
  const SweepConfig c = parse_sweep(std::string(kMinimal) + R"(dtype: [f32, bf16, int8]
ops: [gemv, swiglu, layer]
)",
                                    "s.yaml");
  std::map<std::string, int> per_dtype;
  std::set<std::string> swiglu_dtypes;
  for (const auto& bc : expand(c)) {
    const std::string op(op_name(bc.point.op)), dtype(dtype_name(bc.point.dtype));
    if (bc.point.op == Op::kSwiglu) swiglu_dtypes.insert(dtype);
    if (bc.point.op == Op::kSwiglu) continue;
    EXPECT_EQ(variant_dtype(bc.point.op, bc.variant), bc.point.dtype) << bc.id;
    ++per_dtype[op + "/" + dtype];
  }
  EXPECT_EQ(swiglu_dtypes, std::set<std::string>{"f32"});
  for (auto d : {"f32", "bf16", "int8"}) {
    EXPECT_GT(per_dtype[std::string("gemv/") + d], 0) << d;
    // every strategy (a third of the layer variants), 2 token counts, one thread count
    EXPECT_EQ(per_dtype[std::string("layer/") + d],
              2 * int(registered_variants(Op::kLayer).size()) / 3)
        << d;
  }
}

}  // namespace
}  // namespace moetune
