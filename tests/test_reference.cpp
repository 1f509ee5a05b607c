// The layer against transformers itself: tests/data/reference holds hidden states and the
// outputs of transformers' Qwen3MoeSparseMoeBlock / Qwen2MoeSparseMoeBlock on the tiny
// checkpoints of tests/data (tools/make_reference.py). Every registered layer strategy, in both
// layouts and on 1 and 2 threads, must reproduce them; so must `moetune layer`.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "harness/checkpoint.h"
#include "harness/safetensors.h"
#include "tests/test_util.h"
#include "variants/moe_layer.h"

namespace moetune {
namespace {

namespace fs = std::filesystem;

const std::string kData = MOETUNE_TEST_DATA;

// transformers ran the block in f32 on the same (bf16-exact) weights, so the outputs differ only
// by rounding: other summation orders (oneDNN's blocked GEMM against our loops) and other exp
// implementations. A dot product of n <= 52 terms in f32 is off by at most n·2^-24 ≈ 3e-6 of
// the sum of its terms' magnitudes, which here (weights ~0.1, inputs ~1) stays below 3; through
// silu, the product and the down projection the worst case stays below 1e-5 on outputs of
// magnitude <= 0.35 (measured: 7e-8). Real mistakes are four orders of magnitude above that:
// flipping norm_topk_prob moves the qwen3 outputs by 0.17, dropping the shared-expert gate the
// qwen2 ones by 0.16, even rounding the output to bf16 by 8e-4. The router cannot flip between
// near-equal experts: the generator keeps a gap >= 1e-3 between the k-th and (k+1)-th
// probability of every token.
constexpr float kAbsTolerance = 1e-5f;
constexpr float kRelTolerance = 1e-5f;

struct Case {
  std::string name, model, input, expected;
  int64_t layer = 0, tokens = 0;
};

std::vector<Case> reference_cases() {
  std::ifstream in(kData + "/reference/cases.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str());
  std::vector<Case> cases;
  for (const auto& c : j)
    cases.push_back({c.at("name"), kData + "/" + c.at("model").get<std::string>(),
                     kData + "/" + c.at("input").get<std::string>(),
                     kData + "/" + c.at("expected").get<std::string>(), c.at("layer"),
                     c.at("tokens")});
  return cases;
}

std::vector<float> read_hidden(const std::string& path) {
  const SafetensorsFile f(path);
  return f.read_f32(f.at("hidden_states"));
}

// Counts the elements out of tolerance and reports the first few.
void expect_close(const std::vector<float>& got, const std::vector<float>& want,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  float worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float err = std::fabs(got[i] - want[i]);
    worst = std::max(worst, err);
    if (!(err <= kAbsTolerance + kRelTolerance * std::fabs(want[i])) && ++bad <= 3)
      ADD_FAILURE() << what << ": element " << i << " is " << got[i] << ", transformers gives "
                    << want[i];
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << got.size()
                    << " elements out of tolerance, worst error " << worst;
}

// The reference checkpoints store bf16 weights (as real Qwen checkpoints do), so bf16 weights
// lose nothing: they must reproduce transformers' output as f32 weights do. int8 weights
// cannot: the relative L2 error of the whole output stays within the bound derived in
// test_layer.cpp (LayerDtype.AccuracyAgainstF32WeightsIsBounded), and above 1e-5, which says
// the weights were quantized.
void expect_within_int8_error(const std::vector<float>& got, const std::vector<float>& want,
                              const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    diff += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    norm += double(want[i]) * want[i];
  }
  const double err = std::sqrt(diff / norm);
  EXPECT_LT(err, 3e-2) << what;
  EXPECT_GT(err, 1e-5) << what;
}

void expect_matches(DType dtype, const std::vector<float>& got, const std::vector<float>& want,
                    const std::string& what) {
  if (dtype == DType::kInt8)
    expect_within_int8_error(got, want, what);
  else
    expect_close(got, want, what);
}

class ReferenceTest : public ::testing::TestWithParam<std::string> {};

TEST(Reference, CasesArePresent) {
  const auto cases = reference_cases();
  ASSERT_GE(cases.size(), 4u);
  for (const auto& c : cases) {
    EXPECT_TRUE(fs::exists(c.input)) << c.input;
    EXPECT_TRUE(fs::exists(c.expected)) << c.expected;
  }
}

TEST_P(ReferenceTest, ReproducesTransformers) {
  const std::string strategy = GetParam();
  // One load per (model, layer, layout), shared by the threads and cases that need it.
  std::map<std::tuple<std::string, int64_t, Layout>, LoadedLayer> loaded;
  for (const Case& c : reference_cases()) {
    const auto x = read_hidden(c.input);
    const auto want = read_hidden(c.expected);
    for (const Layout layout : {Layout::kOI, Layout::kIO}) {
      const auto key = std::make_tuple(c.model, c.layer, layout);
      auto it = loaded.find(key);
      if (it == loaded.end())
        it = loaded.emplace(key, load_checkpoint_layer(c.model, c.layer, layout)).first;
      const DType dtype = find_layer_variant(strategy)->dtype;
      std::optional<MoeWeights> converted;
      if (dtype != DType::kF32) converted.emplace(it->second.weights.converted(dtype));
      const MoeWeights& weights = converted ? *converted : it->second.weights;
      const int64_t H = weights.shape().hidden;
      ASSERT_EQ(static_cast<int64_t>(x.size()), c.tokens * H) << c.name;
      for (const int threads : {1, 2}) {
        const std::string what = c.name + " " + strategy + " " + std::string(layout_name(layout)) +
                                 " " + std::to_string(threads) + " thread(s)";
        MoeLayer layer(weights, strategy, naive_kernels(layout, dtype), threads, c.tokens);
        std::vector<float> y(x.size(), NAN);
        layer.forward(x.data(), c.tokens, y.data());
        expect_matches(dtype, y, want, what + ", forward");
        if (c.tokens == 1) {
          std::vector<float> y1(x.size(), NAN);
          layer.incremental_forward(x.data(), y1.data());
          expect_matches(dtype, y1, want, what + ", incremental_forward");
        }
      }
    }
  }
}

std::vector<std::string> strategy_names() {
  std::vector<std::string> names;
  for (const auto& v : layer_variants()) names.emplace_back(v.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Layer, ReferenceTest, ::testing::ValuesIn(strategy_names()),
                         [](const auto& info) { return info.param; });

// ---------------------------------------------------------------------------------------------
// moetune layer, as a user runs it

using test::TempDir;

// Runs `moetune ARGS` with stderr into `err`; returns the exit status.
int run_moetune(const std::string& args, const std::string& err) {
  const std::string cmd = std::string("'") + MOETUNE_BINARY + "' " + args + " 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(LayerCommand, WritesTransformersOutput) {
  TempDir dir;
  for (const Case& c : reference_cases()) {
    for (const char* extra : {"", " --layout io --threads 2", " --naive --threads 1"}) {
      const std::string out = dir / (c.name + ".safetensors");
      const std::string args = "layer --model '" + c.model + "' --layer " +
                               std::to_string(c.layer) + " --input '" + c.input + "' --output '" +
                               out + "'" + extra;
      const int rc = run_moetune(args, dir / "err.txt");
      ASSERT_EQ(rc, 0) << args << "\n" << read_text(dir / "err.txt");
      const SafetensorsFile f(out);
      const TensorInfo& t = f.at("hidden_states");
      EXPECT_EQ(t.dtype, TensorDtype::kF32);
      EXPECT_EQ(t.shape,
                (std::vector<int64_t>{c.tokens, read_checkpoint_config(c.model).shape.hidden}));
      expect_close(f.read_f32(t), read_hidden(c.expected), args);
      fs::remove(out);
    }
  }
}

TEST(LayerCommand, EveryStrategyByName) {
  TempDir dir;
  const Case c = reference_cases().back();
  for (const auto& v : layer_variants()) {
    const std::string out = dir / "out.safetensors";
    const std::string args = "layer --model '" + c.model + "' --layer " + std::to_string(c.layer) +
                             " --input '" + c.input + "' --output '" + out + "' --variant " +
                             std::string(v.name);
    ASSERT_EQ(run_moetune(args, dir / "err.txt"), 0) << args << "\n" << read_text(dir / "err.txt");
    expect_matches(v.dtype, read_hidden(out), read_hidden(c.expected), args);
  }
  // --dtype without a --variant takes this build's selection for that dtype; a --dtype that
  // contradicts the --variant is refused before anything runs.
  const std::string base = "layer --model '" + c.model + "' --layer " + std::to_string(c.layer) +
                           " --input '" + c.input + "' --output '" + dir / "out.safetensors" + "'";
  for (DType d : {DType::kBF16, DType::kInt8}) {
    const std::string args = base + " --dtype " + std::string(dtype_name(d));
    ASSERT_EQ(run_moetune(args, dir / "err.txt"), 0) << args << "\n" << read_text(dir / "err.txt");
    expect_matches(d, read_hidden(dir / "out.safetensors"), read_hidden(c.expected), args);
  }
  fs::remove(dir / "out.safetensors");
  EXPECT_EQ(run_moetune(base + " --dtype int8 --variant layer_bf16__grouped", dir / "err.txt"), 2);
  EXPECT_NE(read_text(dir / "err.txt").find("--dtype"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "out.safetensors"));
}

// --gemv runs one gemv variant on the checkpoint; one that rounds the activations needs
// --rounded-activations too, and then stays within the rounding's error of transformers.
TEST(LayerCommand, ChosenGemvAndRoundedActivations) {
  TempDir dir;
  const Case c = reference_cases().back();
  const std::string out = dir / "out.safetensors", err = dir / "err.txt";
  const std::string base = "layer --model '" + c.model + "' --layer " + std::to_string(c.layer) +
                           " --input '" + c.input + "' --output '" + out + "'";
  ASSERT_EQ(run_moetune(base + " --gemv gemv_f32_oi__naive", err), 0) << read_text(err);
  expect_close(read_hidden(out), read_hidden(c.expected), "--gemv gemv_f32_oi__naive");
  EXPECT_NE(read_text(err).find("gemv_f32_oi__naive"), std::string::npos) << read_text(err);
  fs::remove(out);
  // Named without the opt-in: refused before the checkpoint is read, nothing written.
  EXPECT_EQ(run_moetune(base + " --gemv gemv_bf16xbf16_oi__naive", err), 2);
  EXPECT_NE(read_text(err).find("--rounded-activations"), std::string::npos) << read_text(err);
  EXPECT_FALSE(fs::exists(out));
  ASSERT_EQ(run_moetune(base + " --gemv gemv_bf16xbf16_oi__naive --rounded-activations", err), 0)
      << read_text(err);
  // The weights are bf16 already; rounding the activations too moves the output by about
  // 2^-9 of its size (test_layer.cpp, LayerDtype.RoundedActivationsErrorIsBounded).
  const auto got = read_hidden(out), want = read_hidden(c.expected);
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    diff += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    norm += double(want[i]) * want[i];
  }
  EXPECT_LT(std::sqrt(diff / norm), 1e-2);
  EXPECT_GT(std::sqrt(diff / norm), 1e-5);
}

TEST(LayerCommand, BadInputExitsTwoAndWritesNothing) {
  TempDir dir;
  const Case c = reference_cases().front();
  const std::string out = dir / "out.safetensors";
  const std::string err = dir / "err.txt";
  const std::string base = "layer --model '" + c.model + "' --layer " + std::to_string(c.layer) +
                           " --output '" + out + "'";

  EXPECT_EQ(run_moetune(base + " --input '" + c.input + "' --variant layer_f32__bogus", err), 2);
  EXPECT_NE(read_text(err).find("layer_f32__bogus"), std::string::npos) << read_text(err);
  // The message lists the valid names.
  for (const auto& v : layer_variants())
    EXPECT_NE(read_text(err).find(std::string(v.name)), std::string::npos) << v.name;
  EXPECT_FALSE(fs::exists(out));

  // hidden_states of the wrong width.
  const std::string wide = dir / "wide.safetensors";
  write_safetensors(wide, {{"hidden_states", {{2, 7}, std::vector<float>(14, 0.5f)}}});
  EXPECT_EQ(run_moetune(base + " --input '" + wide + "'", err), 2);
  EXPECT_NE(read_text(err).find("hidden_states"), std::string::npos) << read_text(err);
  EXPECT_NE(read_text(err).find("wide.safetensors"), std::string::npos) << read_text(err);

  // No hidden_states at all.
  const std::string other = dir / "other.safetensors";
  write_safetensors(other, {{"x", {{1, 1}, {1.0f}}}});
  EXPECT_EQ(run_moetune(base + " --input '" + other + "'", err), 2);
  EXPECT_NE(read_text(err).find("tensor hidden_states"), std::string::npos) << read_text(err);

  // A layer the model does not have, and a directory that is not a checkpoint.
  EXPECT_EQ(run_moetune("layer --model '" + c.model + "' --layer 9 --input '" + c.input +
                            "' --output '" + out + "'",
                        err),
            2);
  EXPECT_NE(read_text(err).find("layer 9"), std::string::npos) << read_text(err);
  EXPECT_EQ(run_moetune("layer --model '" + dir.path().string() + "' --input '" + c.input +
                            "' --output '" + out + "'",
                        err),
            2);
  EXPECT_NE(read_text(err).find("config.json"), std::string::npos) << read_text(err);
  EXPECT_EQ(run_moetune(base + " --input '" + c.input + "' --layout xy", err), 2);
  EXPECT_EQ(
      run_moetune("layer --model '" + c.model + "' --layer " + std::to_string(c.layer) +
                      " --input '" + c.input + "' --output '" + (dir / "no/out.safetensors") + "'",
                  err),
      2);
  EXPECT_NE(read_text(err).find("does not exist"), std::string::npos) << read_text(err);
  EXPECT_FALSE(fs::exists(out));

  // A gemv this CPU cannot run (here: MOETUNE_MAX_ISA masks AVX-512), one that does not exist,
  // one of another dtype: one message each, naming what runs here.
  const std::string in = " --input '" + c.input + "'";
  EXPECT_EQ(run_moetune(base + in + " --gemv gemv_f32_oi__no_such", err), 2);
  EXPECT_NE(read_text(err).find("unknown gemv variant"), std::string::npos) << read_text(err);
  setenv("MOETUNE_MAX_ISA", "avx2", 1);
  EXPECT_EQ(run_moetune(base + in + " --gemv gemv_f32_oi__avx512_r4", err), 2);
  unsetenv("MOETUNE_MAX_ISA");
  EXPECT_NE(read_text(err).find("needs avx512"), std::string::npos) << read_text(err);
  EXPECT_NE(read_text(err).find("runnable here for f32 oi: gemv_f32_oi__naive"), std::string::npos)
      << read_text(err);
  EXPECT_EQ(run_moetune(base + in + " --gemv gemv_bf16_oi__naive --dtype int8", err), 2);
  EXPECT_NE(read_text(err).find("is for bf16 weights"), std::string::npos) << read_text(err);
  EXPECT_EQ(run_moetune(base + in + " --gemv gemv_f32_oi__naive --naive", err), 2);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace moetune
