// The public API (include/moetune/moetune.h), linked as users link it: this executable sees only
// libmoetune.so and its public header, none of the internals.
#include <gtest/gtest.h>
#include <moetune/moetune.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace {

namespace fs = std::filesystem;
const std::string kData = MOETUNE_TEST_DATA;

// Transformers ran the block in f32 on the same weights: the bound of tests/test_reference.cpp.
void expect_close(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_LE(std::fabs(got[i] - want[i]), 1e-5f + 1e-5f * std::fabs(want[i])) << "element " << i;
}

struct Case {
  std::string model;
  int64_t layer, tokens;
  std::string name;
};
const Case kCases[] = {{"qwen3_moe_tiny", 1, 1, "qwen3_moe_tiny_L1_T1"},
                       {"qwen3_moe_tiny", 1, 5, "qwen3_moe_tiny_L1_T5"},
                       {"qwen2_moe_tiny", 0, 1, "qwen2_moe_tiny_L0_T1"},
                       {"qwen2_moe_tiny", 0, 5, "qwen2_moe_tiny_L0_T5"}};

std::vector<float> run(moetune::Layer& layer, const std::vector<float>& x, int64_t tokens) {
  std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
  if (tokens == 1)
    layer.incremental_forward(x.data(), y.data());
  else
    layer.forward(x.data(), tokens, y.data());
  return y;
}

TEST(Api, FromPretrainedReproducesTransformersInBothLayouts) {
  for (const Case& c : kCases)
    for (auto layout : {moetune::WeightLayout::kOI, moetune::WeightLayout::kIO}) {
      SCOPED_TRACE(c.name);
      std::vector<int64_t> shape;
      const auto x = moetune::read_tensor(kData + "/reference/" + c.name + ".in.safetensors",
                                          "hidden_states", &shape);
      const auto want = moetune::read_tensor(kData + "/reference/" + c.name + ".out.safetensors",
                                             "hidden_states", nullptr);
      ASSERT_EQ(shape[0], c.tokens);
      moetune::LayerOptions o;
      o.layout = layout;
      o.threads = 2;
      auto layer = moetune::Layer::from_pretrained(kData + "/" + c.model, c.layer, o);
      EXPECT_EQ(layer.shape().hidden, shape[1]);
      expect_close(run(layer, x, c.tokens), want);
    }
}

// The caller's copy of a checkpoint layer, in the layout and type the API takes.
struct OwnedWeights {
  std::vector<std::vector<float>> f32;
  std::vector<std::vector<uint16_t>> bf16;
  std::vector<std::vector<int8_t>> i8;
  moetune::LayerWeights view;

  // A [out, in] tensor of the checkpoint, stored as `layout` and `type`; int8: its scales
  // (max |w| / 127 per output) go to *scale.
  const void* add(const std::string& file, const std::string& tensor, moetune::WeightLayout layout,
                  moetune::WeightType type, const float** scale = nullptr) {
    std::vector<int64_t> shape;
    std::vector<float> oi = moetune::read_tensor(file, tensor, &shape);
    const int64_t n = shape[0], k = shape[1];
    if (type == moetune::WeightType::kInt8) {
      std::vector<float> s(n);
      for (int64_t o = 0; o < n; ++o) {
        float m = 0;
        for (int64_t i = 0; i < k; ++i) m = std::fmax(m, std::fabs(oi[o * k + i]));
        s[o] = m > 0 ? m / 127 : 1;
      }
      std::vector<int8_t> q(oi.size());
      for (int64_t o = 0; o < n; ++o)
        for (int64_t i = 0; i < k; ++i)
          q[layout == moetune::WeightLayout::kOI ? o * k + i : i * n + o] =
              static_cast<int8_t>(std::lround(oi[o * k + i] / s[o]));
      f32.push_back(std::move(s));
      *scale = f32.back().data();
      i8.push_back(std::move(q));
      return i8.back().data();
    }
    std::vector<float> stored = oi;
    if (layout == moetune::WeightLayout::kIO)
      for (int64_t o = 0; o < n; ++o)
        for (int64_t i = 0; i < k; ++i) stored[i * n + o] = oi[o * k + i];
    f32.push_back(std::move(stored));
    if (type == moetune::WeightType::kF32) return f32.back().data();
    // The checkpoint's values are bf16, so the top half of each f32 is exact.
    std::vector<uint16_t> b(f32.back().size());
    for (size_t i = 0; i < b.size(); ++i) {
      uint32_t bits;
      std::memcpy(&bits, &f32.back()[i], 4);
      b[i] = static_cast<uint16_t>(bits >> 16);
    }
    bf16.push_back(std::move(b));
    return bf16.back().data();
  }
};

// Layer 1 of tests/data/qwen3_moe_tiny (H 44, I 20, E 8, k 2), or with `shared` layer 0 of
// qwen2_moe_tiny (H 36, I 28, E 6, k 4, S 52), as a caller holding its own arrays would pass it.
OwnedWeights checkpoint_weights(bool shared, moetune::WeightLayout layout,
                                moetune::WeightType type) {
  using moetune::WeightType;
  OwnedWeights w;
  moetune::LayerWeights& v = w.view;
  const std::string dir = kData + (shared ? "/qwen2_moe_tiny/" : "/qwen3_moe_tiny/");
  // qwen2_moe_tiny is sharded: tensor -> shard from its index.
  auto file = [&](const std::string& tensor) {
    if (!shared) return dir + "model.safetensors";
    std::ifstream in(dir + "model.safetensors.index.json");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string index = ss.str();
    const size_t at = index.find("\"" + tensor + "\"");
    const size_t q1 = index.find('"', index.find(':', at) + 1);
    return dir + index.substr(q1 + 1, index.find('"', q1 + 1) - q1 - 1);
  };
  const std::string p = shared ? "model.layers.0.mlp." : "model.layers.1.mlp.";
  v.shape = shared ? moetune::LayerShape{36, 28, 6, 4, 52, false}
                   : moetune::LayerShape{44, 20, 8, 2, 0, true};
  auto f32_oi = [&](const std::string& t) {
    return static_cast<const float*>(
        w.add(file(t), t, moetune::WeightLayout::kOI, WeightType::kF32));
  };
  v.router = f32_oi(p + "gate.weight");
  const bool int8 = type == WeightType::kInt8;
  v.gate_scale = v.up_scale = v.down_scale =
      std::vector<const float*>(int8 ? v.shape.experts : 0, nullptr);
  for (int e = 0; e < v.shape.experts; ++e) {
    const std::string ex = p + "experts." + std::to_string(e) + ".";
    for (auto [name, list, scales] : {std::tuple{"gate_proj", &v.gate_proj, &v.gate_scale},
                                      std::tuple{"up_proj", &v.up_proj, &v.up_scale},
                                      std::tuple{"down_proj", &v.down_proj, &v.down_scale}}) {
      const std::string t = ex + name + ".weight";
      list->push_back(w.add(file(t), t, layout, type, int8 ? &(*scales)[e] : nullptr));
    }
  }
  if (shared) {
    v.shared_expert_gate = f32_oi(p + "shared_expert_gate.weight");
    const std::string s = p + "shared_expert.";
    v.shared_gate_proj = w.add(file(s + "gate_proj.weight"), s + "gate_proj.weight", layout, type,
                               &v.shared_gate_scale);
    v.shared_up_proj =
        w.add(file(s + "up_proj.weight"), s + "up_proj.weight", layout, type, &v.shared_up_scale);
    v.shared_down_proj = w.add(file(s + "down_proj.weight"), s + "down_proj.weight", layout, type,
                               &v.shared_down_scale);
  }
  return w;
}

const char* kInput5[] = {"/reference/qwen3_moe_tiny_L1_T5.in.safetensors",
                         "/reference/qwen2_moe_tiny_L0_T5.in.safetensors"};
const char* kOutput5[] = {"/reference/qwen3_moe_tiny_L1_T5.out.safetensors",
                          "/reference/qwen2_moe_tiny_L0_T5.out.safetensors"};

// The same weights given by the caller or loaded from the checkpoint: the same layer, bit for bit,
// in both layouts, f32 and bf16, with and without a shared expert.
TEST(Api, FromWeightsEqualsFromPretrainedBitForBit) {
  for (bool shared : {false, true})
    for (auto layout : {moetune::WeightLayout::kOI, moetune::WeightLayout::kIO})
      for (auto type : {moetune::WeightType::kF32, moetune::WeightType::kBF16}) {
        SCOPED_TRACE(std::string(shared ? "qwen2" : "qwen3") +
                     (layout == moetune::WeightLayout::kIO ? " io" : " oi") +
                     (type == moetune::WeightType::kF32 ? " f32" : " bf16"));
        moetune::LayerOptions o;
        o.layout = layout;
        o.dtype = type;
        o.threads = 2;
        std::optional<moetune::Layer> mine;
        {
          OwnedWeights w = checkpoint_weights(shared, layout, type);
          mine.emplace(moetune::Layer::from_weights(w.view, o));
        }  // the caller's arrays are gone: the layer holds a copy
        auto loaded = moetune::Layer::from_pretrained(
            kData + (shared ? "/qwen2_moe_tiny" : "/qwen3_moe_tiny"), shared ? 0 : 1, o);
        const auto x = moetune::read_tensor(kData + kInput5[shared], "hidden_states", nullptr);
        const auto a = run(*mine, x, 5), b = run(loaded, x, 5);
        ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
        if (type == moetune::WeightType::kF32)
          expect_close(a, moetune::read_tensor(kData + kOutput5[shared], "hidden_states", nullptr));
      }
}

// int8 weights with the caller's own scales are taken as they are: the layer computes what f32
// weights holding scale * q compute, up to the summation's rounding.
TEST(Api, FromWeightsInt8KeepsTheCallersQuantization) {
  for (bool shared : {false, true})
    for (auto layout : {moetune::WeightLayout::kOI, moetune::WeightLayout::kIO}) {
      SCOPED_TRACE(std::string(shared ? "qwen2" : "qwen3") +
                   (layout == moetune::WeightLayout::kIO ? " io" : " oi"));
      OwnedWeights q = checkpoint_weights(shared, layout, moetune::WeightType::kInt8);
      // The same values dequantized, as f32 arrays in the same layout.
      OwnedWeights d = checkpoint_weights(shared, layout, moetune::WeightType::kInt8);
      const int64_t H = q.view.shape.hidden, I = q.view.shape.intermediate,
                    S = q.view.shape.shared_intermediate;
      auto dequantized = [&](const void* values, const float* scale, int64_t n, int64_t k) {
        std::vector<float> f(n * k);
        const auto* v = static_cast<const int8_t*>(values);
        for (int64_t o = 0; o < n; ++o)
          for (int64_t i = 0; i < k; ++i) {
            const int64_t at = layout == moetune::WeightLayout::kOI ? o * k + i : i * n + o;
            f[at] = scale[o] * v[at];
          }
        d.f32.push_back(std::move(f));
        return static_cast<const void*>(d.f32.back().data());
      };
      for (int64_t e = 0; e < q.view.shape.experts; ++e) {
        d.view.gate_proj[e] = dequantized(q.view.gate_proj[e], q.view.gate_scale[e], I, H);
        d.view.up_proj[e] = dequantized(q.view.up_proj[e], q.view.up_scale[e], I, H);
        d.view.down_proj[e] = dequantized(q.view.down_proj[e], q.view.down_scale[e], H, I);
      }
      if (shared) {
        d.view.shared_gate_proj =
            dequantized(q.view.shared_gate_proj, q.view.shared_gate_scale, S, H);
        d.view.shared_up_proj = dequantized(q.view.shared_up_proj, q.view.shared_up_scale, S, H);
        d.view.shared_down_proj =
            dequantized(q.view.shared_down_proj, q.view.shared_down_scale, H, S);
      }
      moetune::LayerOptions o;
      o.layout = layout;
      o.threads = 2;
      o.dtype = moetune::WeightType::kInt8;
      auto int8_layer = moetune::Layer::from_weights(q.view, o);
      o.dtype = moetune::WeightType::kF32;
      auto f32_layer = moetune::Layer::from_weights(d.view, o);
      const auto x = moetune::read_tensor(kData + kInput5[shared], "hidden_states", nullptr);
      const auto a = run(int8_layer, x, 5), b = run(f32_layer, x, 5);
      for (size_t i = 0; i < a.size(); ++i)
        ASSERT_NEAR(a[i], b[i], 1e-5 + 1e-4 * std::fabs(b[i])) << "element " << i;
      // And not the unquantized weights' output: the int8 values were really used.
      const auto exact = moetune::read_tensor(kData + kOutput5[shared], "hidden_states", nullptr);
      double diff = 0;
      for (size_t i = 0; i < a.size(); ++i) diff = std::fmax(diff, std::fabs(a[i] - exact[i]));
      EXPECT_GT(diff, 1e-5);
    }
}

TEST(Api, DescribeNamesStrategyKernelsAndSelection) {
  moetune::LayerOptions o;
  o.threads = 1;
  auto layer = moetune::Layer::from_pretrained(kData + "/qwen3_moe_tiny", 1, o);
  const std::string d = layer.describe(5);
  for (const char* s : {"qwen3_moe checkpoint", "H44_I20_E8_k2_S0_norm", "strategy layer_f32__",
                        "\ngemv gemv_f32_oi__", "\nswiglu swiglu_", "\nsoftmax softmax_",
                        "\ntopk topk_", "selection: "})
    EXPECT_NE(d.find(s), std::string::npos) << s << " not in\n" << d;
  o.strategy = "naive";
  auto forced = moetune::Layer::from_pretrained(kData + "/qwen3_moe_tiny", 1, o);
  EXPECT_NE(forced.describe().find("strategy layer_f32__naive (forced)"), std::string::npos)
      << forced.describe();
}

TEST(Api, ThreadsDoNotChangeTheOutput) {
  moetune::LayerOptions o;
  o.threads = 1;
  auto layer = moetune::Layer::from_pretrained(kData + "/qwen2_moe_tiny", 0, o);
  const auto x = moetune::read_tensor(kData + kInput5[1], "hidden_states", nullptr);
  const auto one = run(layer, x, 5);
  layer.set_threads(2);
  EXPECT_EQ(layer.threads(), 2);
  const auto two = run(layer, x, 5);
  ASSERT_EQ(std::memcmp(one.data(), two.data(), one.size() * 4), 0);
}

TEST(Api, Version) {
  EXPECT_STREQ(moetune::version(), MOETUNE_VERSION_STRING);
  EXPECT_EQ(MOETUNE_VERSION_NUMBER,
            MOETUNE_VERSION_MAJOR * 10000 + MOETUNE_VERSION_MINOR * 100 + MOETUNE_VERSION_PATCH);
}

// ---- Bad input: moetune::Error with a message saying what and where, nothing written.

// Runs f, which must throw moetune::Error whose message holds every one of `parts`.
template <typename F>
void expect_error(F&& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no moetune::Error thrown";
  } catch (const moetune::Error& e) {
    for (const char* p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << p << " not in: " << e.what();
  }
}

TEST(ApiBadInput, ForwardArguments) {
  auto layer = moetune::Layer::from_pretrained(kData + "/qwen3_moe_tiny", 1);
  std::vector<float> x(5 * 44, 0.5f), y(5 * 44, 7.0f);
  expect_error([&] { layer.forward(nullptr, 5, y.data()); }, {"forward", "x is null"});
  expect_error([&] { layer.forward(x.data(), 5, nullptr); }, {"forward", "y is null"});
  expect_error([&] { layer.forward(x.data(), 0, y.data()); }, {"tokens = 0", "1 or more"});
  expect_error([&] { layer.forward(x.data(), -3, y.data()); }, {"tokens = -3"});
  expect_error([&] { layer.forward(x.data(), 5, x.data() + 10); }, {"overlap"});
  expect_error([&] { layer.incremental_forward(nullptr, y.data()); }, {"x is null"});
  expect_error([&] { layer.incremental_forward(x.data(), x.data()); }, {"overlap"});
  expect_error([&] { layer.describe(0); }, {"tokens = 0"});
  expect_error([&] { layer.set_threads(-1); }, {"set_threads", "-1"});
  for (float v : y) ASSERT_EQ(v, 7.0f);  // nothing written
}

TEST(ApiBadInput, Options) {
  moetune::LayerOptions o;
  o.threads = -2;
  expect_error([&] { moetune::Layer::from_pretrained(kData + "/qwen3_moe_tiny", 1, o); },
               {"LayerOptions.threads", "-2"});
  o = {};
  o.max_tokens = 0;
  expect_error([&] { moetune::Layer::from_pretrained(kData + "/qwen3_moe_tiny", 1, o); },
               {"LayerOptions.max_tokens"});
  o = {};
  o.strategy = "fastest";
  expect_error([&] { moetune::Layer::from_pretrained(kData + "/qwen3_moe_tiny", 1, o); },
               {"\"fastest\"", "expected one of", "grouped"});
  o.strategy = "layer_f32__grouped";  // a registered name, but for f32 weights
  o.dtype = moetune::WeightType::kBF16;
  expect_error([&] { moetune::Layer::from_pretrained(kData + "/qwen3_moe_tiny", 1, o); },
               {"for bf16 weights"});
}

TEST(ApiBadInput, Checkpoints) {
  expect_error([&] { moetune::Layer::from_pretrained(kData + "/no_such_model", 0); },
               {"no_such_model"});
  expect_error([&] { moetune::Layer::from_pretrained(kData + "/qwen3_moe_tiny", 2); },
               {"config.json", "layer 2 does not exist", "2 layers"});
  expect_error([&] { moetune::Layer::from_pretrained(kData + "/qwen3_moe_tiny", -1); },
               {"layer -1 does not exist"});
  // A checkpoint whose tensors do not match its config (hidden_size 48, tensors of 44).
  const fs::path dir = fs::path(testing::TempDir()) / "moetune_api_mismatch";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(kData + "/qwen3_moe_tiny/model.safetensors", dir / "model.safetensors");
  std::ifstream in(kData + "/qwen3_moe_tiny/config.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string config = ss.str();
  config.replace(config.find("\"hidden_size\": 44"), 17, "\"hidden_size\": 48");
  std::ofstream(dir / "config.json") << config;
  expect_error([&] { moetune::Layer::from_pretrained(dir.string(), 0); },
               {"model.safetensors", "tensor model.layers.0.mlp.", "48"});
  fs::remove_all(dir);
}

TEST(ApiBadInput, CallersWeights) {
  OwnedWeights w = checkpoint_weights(false, moetune::WeightLayout::kOI, moetune::WeightType::kF32);
  moetune::LayerWeights v = w.view;
  v.router = nullptr;
  expect_error([&] { moetune::Layer::from_weights(v); }, {"LayerWeights.router is null"});
  v = w.view;
  v.up_proj[3] = nullptr;
  expect_error([&] { moetune::Layer::from_weights(v); }, {"LayerWeights.up_proj[3] is null"});
  v = w.view;
  v.down_proj.pop_back();
  expect_error([&] { moetune::Layer::from_weights(v); },
               {"LayerWeights.down_proj", "7 pointers", "one per expert (8)"});
  v = w.view;
  v.shape.top_k = 9;
  expect_error([&] { moetune::Layer::from_weights(v); }, {"LayerWeights.shape", "top_k"});
  // int8 needs the scales.
  moetune::LayerOptions o;
  o.dtype = moetune::WeightType::kInt8;
  expect_error([&] { moetune::Layer::from_weights(w.view, o); },
               {"LayerWeights.gate_scale", "0 pointers"});
  // A shared expert needs its matrices.
  v = w.view;
  v.shape.shared_intermediate = 16;
  expect_error([&] { moetune::Layer::from_weights(v); },
               {"LayerWeights.shared_expert_gate is null"});
}

TEST(ApiBadInput, TensorFiles) {
  expect_error([&] { moetune::read_tensor(kData + "/qwen3_moe_tiny/config.json", "x", nullptr); },
               {"config.json"});
  expect_error(
      [&] {
        moetune::read_tensor(kData + "/reference/qwen3_moe_tiny_L1_T1.in.safetensors", "nope",
                             nullptr);
      },
      {"nope"});
  const fs::path out = fs::path(testing::TempDir()) / "moetune_api_bad.safetensors";
  fs::remove(out);
  expect_error(
      [&] {
        moetune::write_tensor(out.string(), "y", {2, 3}, std::vector<float>(5));
      },
      {"y"});
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
