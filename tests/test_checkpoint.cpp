// Safetensors reading and writing, and loading MoE layers of Hugging Face checkpoints: the small
// checkpoints of tests/data (written by transformers, see tools/make_reference.py) and broken
// files written here, each of which must fail with an InputError naming the file and the tensor
// or key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "harness/checkpoint.h"
#include "harness/error.h"
#include "harness/safetensors.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kData = MOETUNE_TEST_DATA;
const std::string kQwen3 = kData + "/qwen3_moe_tiny";
const std::string kQwen2 = kData + "/qwen2_moe_tiny";

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

using test::TempDir;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

// A safetensors file from a header text and a data section, written without our writer so that
// it can be broken in every way.
void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  write_bytes(path, le64(header.size()) + header + data);
}

// Runs `fn`, which must throw InputError whose message holds every one of `parts`.
void expect_input_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const InputError& e) {
    for (const auto& p : parts) EXPECT_THAT(e.what(), HasSubstr(p));
    return;
  }
  ADD_FAILURE() << "expected an InputError";
}

// ---------------------------------------------------------------------------------------------
// dtype conversion

TEST(TensorDtype, Bf16KnownBitPatterns) {
  EXPECT_EQ(bits_of(bf16_to_f32(0x0000)), 0x00000000u);
  EXPECT_EQ(bits_of(bf16_to_f32(0x8000)), 0x80000000u);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(bf16_to_f32(0x3eab), 0.333984375f);
  EXPECT_EQ(bf16_to_f32(0x0001), std::ldexp(1.0f, -133));  // smallest subnormal
  EXPECT_EQ(bf16_to_f32(0x7f7f), 0x1.fep127f);             // largest finite
  EXPECT_EQ(bf16_to_f32(0x7f80), INFINITY);
  EXPECT_EQ(bf16_to_f32(0xff80), -INFINITY);
  EXPECT_EQ(bits_of(bf16_to_f32(0x7fc1)), 0x7fc10000u);  // NaN payload kept
}

TEST(TensorDtype, F16KnownBitPatterns) {
  EXPECT_EQ(bits_of(f16_to_f32(0x0000)), 0x00000000u);
  EXPECT_EQ(bits_of(f16_to_f32(0x8000)), 0x80000000u);
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x8001), -std::ldexp(1.0f, -24));
  EXPECT_EQ(f16_to_f32(0x03ff), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(f16_to_f32(0x0200), std::ldexp(1.0f, -15));
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);               // largest finite
  EXPECT_EQ(f16_to_f32(0x7c00), INFINITY);
  EXPECT_EQ(f16_to_f32(0xfc00), -INFINITY);
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
  EXPECT_EQ(bits_of(f16_to_f32(0x7c01)), 0x7f802000u);  // signalling NaN payload kept
}

// Every f16 bit pattern against the value the IEEE definition gives, computed another way.
TEST(TensorDtype, F16AllPatternsMatchDefinition) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const int sign = (b & 0x8000) ? -1 : 1;
    const int exponent = (b >> 10) & 0x1f;
    const int mantissa = b & 0x3ff;
    const float got = f16_to_f32(static_cast<uint16_t>(b));
    if (exponent == 0x1f) {
      if (mantissa == 0)
        EXPECT_EQ(got, sign * INFINITY) << std::hex << b;
      else
        EXPECT_TRUE(std::isnan(got)) << std::hex << b;
      continue;
    }
    const double want = exponent == 0 ? sign * std::ldexp(double(mantissa), -24)
                                      : sign * std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
    ASSERT_EQ(static_cast<double>(got), want) << std::hex << b;
    ASSERT_EQ(std::signbit(got), sign < 0) << std::hex << b;
  }
}

// ---------------------------------------------------------------------------------------------
// safetensors files

// tests/data/dtypes.safetensors was written by the safetensors Python library.
TEST(Safetensors, ReadsFileWrittenByTheReferenceLibrary) {
  const SafetensorsFile f(kData + "/dtypes.safetensors");
  EXPECT_EQ(f.metadata().at("purpose"), "dtype test");
  ASSERT_EQ(f.tensors().size(), 5u);

  const TensorInfo& f32 = f.at("f32", {2, 3});
  EXPECT_EQ(f32.dtype, TensorDtype::kF32);
  EXPECT_EQ(f.read_f32(f32), (std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}));

  const std::vector<uint16_t> f16_bits = {0x0000, 0x8000, 0x3C00, 0xC000, 0x0001, 0x03FF,
                                          0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x3555};
  const std::vector<uint16_t> bf16_bits = {0x0000, 0x8000, 0x3F80, 0xC000, 0x0001, 0x007F,
                                           0x0080, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x3EAB};
  const auto f16 = f.read_f32(f.at("f16", {3, 4}));
  const auto bf16 = f.read_f32(f.at("bf16", {3, 4}));
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(bits_of(f16[i]), bits_of(f16_to_f32(f16_bits[i]))) << i;
    EXPECT_EQ(bits_of(bf16[i]), static_cast<uint32_t>(bf16_bits[i]) << 16) << i;
  }
  EXPECT_EQ(f16[7], 65504.0f);
  EXPECT_EQ(f16[4], std::ldexp(1.0f, -24));

  EXPECT_TRUE(f.read_f32(f.at("empty", {0, 3})).empty());
  expect_input_error([&] { f.read_f32(f.at("i64")); }, {"dtypes.safetensors", "tensor i64", "I64"});
  expect_input_error([&] { f.at("nope"); }, {"dtypes.safetensors", "tensor nope"});
  expect_input_error(
      [&] {
        f.at("f32", {3, 2});
      },
      {"dtypes.safetensors", "tensor f32", "[2, 3]", "expected [3, 2]"});
}

TEST(Safetensors, WriteThenReadRoundTrips) {
  TempDir dir;
  const std::string path = dir / "out.safetensors";
  write_safetensors(path,
                    {{"b", {{2, 2}, {1.0f, -2.5f, 3.25f, INFINITY}}},
                     {"a", {{3}, {0.1f, 0.2f, 0.3f}}},
                     {"scalar", {{}, {7.0f}}}},
                    {{"k", "v"}});
  // The rename leaves only the file itself.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  // 8 + header is a multiple of 8, so f32 data is aligned in a mapped file.
  uint64_t header = 0;
  const std::string bytes = read_bytes(path);
  std::memcpy(&header, bytes.data(), 8);
  EXPECT_EQ(header % 8, 0u);

  const SafetensorsFile f(path);
  EXPECT_EQ(f.metadata().at("k"), "v");
  EXPECT_EQ(f.read_f32(f.at("b", {2, 2})), (std::vector<float>{1.0f, -2.5f, 3.25f, INFINITY}));
  EXPECT_EQ(f.read_f32(f.at("a", {3})), (std::vector<float>{0.1f, 0.2f, 0.3f}));
  EXPECT_EQ(f.read_f32(f.at("scalar", {})), (std::vector<float>{7.0f}));
  float middle[2];
  f.read_f32(f.at("b"), 1, 2, middle);
  EXPECT_EQ(middle[0], -2.5f);
  EXPECT_EQ(middle[1], 3.25f);
}

TEST(Safetensors, WriteFailuresLeaveNothingBehind) {
  TempDir dir;
  expect_input_error(
      [&] {
        write_safetensors(dir / "missing/out.safetensors", {{"a", {{1}, {1.0f}}}});
      },
      {"missing/out.safetensors"});
  expect_input_error(
      [&] {
        write_safetensors(dir / "out.safetensors", {{"a", {{2, 2}, {1.0f}}}});
      },
      {"out.safetensors", "tensor a", "[2, 2]"});
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Safetensors, MalformedFilesAreInputErrors) {
  TempDir dir;
  const std::string p = dir / "bad.safetensors";
  const auto open = [&] { SafetensorsFile f(p); };
  const std::string four_f32(16, '\0');
  const std::string ok_entry = R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";

  write_bytes(p, "abc");
  expect_input_error(open, {p, "too short"});

  write_bytes(p, le64(1000) + "{}");
  expect_input_error(open, {p, "header length 1000", "past the end"});

  write_bytes(p, le64(uint64_t(1) << 40) + "{}");
  expect_input_error(open, {p, "exceeds"});

  write_raw(p, "{not json", "");
  expect_input_error(open, {p, "not valid JSON"});

  write_raw(p, "[1, 2]", "");
  expect_input_error(open, {p, "not a JSON object"});

  // One entry that breaks one rule, and what the message says of it after "tensor w".
  const std::pair<const char*, const char*> bad_entries[] = {
      {R"("dtype":"Q4","shape":[2,2],"data_offsets":[0,16])", R"(unknown dtype "Q4")"},
      {R"("dtype":"F32","shape":[2,-2],"data_offsets":[0,16])", "shape"},
      {R"("dtype":"F32","shape":[2,2],"data_offsets":[0,32])", "out of range"},
      {R"("dtype":"F32","shape":[2,2],"data_offsets":[16,0])", "end is before begin"},
      {R"("dtype":"F32","shape":[2,2],"data_offsets":[0,12])", "needs 4 x 4 bytes"},
      {R"("dtype":"F32","shape":[2,2],"data_offsets":[0])", "data_offsets"},
      {R"("dtype":"F32","shape":[2,2])", "data_offsets"},
      {R"("shape":[2,2],"data_offsets":[0,16])", "dtype"},
  };
  for (const auto& [entry, says] : bad_entries) {
    SCOPED_TRACE(entry);
    write_raw(p, std::string(R"({"w":{)") + entry + "}}", four_f32);
    expect_input_error(open, {p, "tensor w", says});
  }

  write_raw(p,
            R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
            R"("v":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
            four_f32);
  expect_input_error(open, {p, "tensor w", "overlap", "tensor v"});

  write_raw(p, "{" + ok_entry + R"(,"__metadata__":{"a":1}})", four_f32);
  expect_input_error(open, {p, "__metadata__"});

  // A file cut short in its data: the header's offsets now run past the end.
  write_raw(p, "{" + ok_entry + "}", four_f32.substr(0, 10));
  expect_input_error(open, {p, "tensor w", "out of range"});

  write_raw(p, "{" + ok_entry + "}", four_f32);
  EXPECT_NO_THROW(open());

  expect_input_error([&] { SafetensorsFile f(dir / "absent.safetensors"); },
                     {"absent.safetensors"});
}

// ---------------------------------------------------------------------------------------------
// checkpoints

// The weight (o, i) of a matrix as stored in either layout.
float at(const MatrixRef& m, int64_t o, int64_t i) {
  return m.layout == Layout::kOI ? m.f32()[o * m.ldw + i] : m.f32()[i * m.ldw + o];
}

// Every element of `m` equals the [out, in] tensor `values`.
void expect_matrix(const MatrixRef& m, const std::vector<float>& values, const std::string& what) {
  ASSERT_EQ(static_cast<int64_t>(values.size()), m.n * m.k) << what;
  for (int64_t o = 0; o < m.n; ++o)
    for (int64_t i = 0; i < m.k; ++i)
      ASSERT_EQ(at(m, o, i), values[o * m.k + i]) << what << " (" << o << ", " << i << ")";
}

// All tensors of the files of a checkpoint, by name, read independently of the loader.
std::map<std::string, F32Tensor> all_tensors(const std::vector<std::string>& files) {
  std::map<std::string, F32Tensor> out;
  for (const auto& path : files) {
    const SafetensorsFile f(path);
    for (const auto& t : f.tensors()) out[t.name] = {t.shape, f.read_f32(t)};
  }
  return out;
}

std::vector<std::string> qwen2_shards() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kQwen2))
    if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
  return files;
}

void expect_layer_matches(const LoadedLayer& l, const std::map<std::string, F32Tensor>& t,
                          int64_t layer) {
  const std::string p = "model.layers." + std::to_string(layer) + ".mlp.";
  expect_matrix(l.weights.router(), t.at(p + "gate.weight").data, "router");
  for (int64_t e = 0; e < l.shape.experts; ++e) {
    const std::string q = p + "experts." + std::to_string(e) + ".";
    expect_matrix(l.weights.expert(e, Proj::kGate), t.at(q + "gate_proj.weight").data, q + "gate");
    expect_matrix(l.weights.expert(e, Proj::kUp), t.at(q + "up_proj.weight").data, q + "up");
    expect_matrix(l.weights.expert(e, Proj::kDown), t.at(q + "down_proj.weight").data, q + "down");
  }
  if (l.shape.has_shared_expert()) {
    expect_matrix(l.weights.shared(Proj::kGate), t.at(p + "shared_expert.gate_proj.weight").data,
                  "sg");
    expect_matrix(l.weights.shared(Proj::kUp), t.at(p + "shared_expert.up_proj.weight").data, "su");
    expect_matrix(l.weights.shared(Proj::kDown), t.at(p + "shared_expert.down_proj.weight").data,
                  "sd");
    expect_matrix(l.weights.shared_expert_gate(), t.at(p + "shared_expert_gate.weight").data, "z");
  }
}

TEST(Checkpoint, ReadsQwen3Config) {
  const CheckpointConfig c = read_checkpoint_config(kQwen3);
  EXPECT_EQ(c.model_type, "qwen3_moe");
  // config.json holds num_local_experts, the name transformers 5 writes for num_experts.
  EXPECT_EQ(c.shape, (MoeShape{44, 20, 8, 2, 0, true}));
  EXPECT_EQ(c.num_hidden_layers, 2);
}

TEST(Checkpoint, LoadsSingleFileQwen3BothLayouts) {
  const auto tensors = all_tensors({kQwen3 + "/model.safetensors"});
  for (const Layout layout : {Layout::kOI, Layout::kIO})
    for (const int64_t layer : {0, 1}) {
      SCOPED_TRACE(std::string(layout_name(layout)) + " layer " + std::to_string(layer));
      const LoadedLayer l = load_checkpoint_layer(kQwen3, layer, layout);
      EXPECT_EQ(l.model_type, "qwen3_moe");
      EXPECT_EQ(l.shape, (MoeShape{44, 20, 8, 2, 0, true}));
      EXPECT_EQ(l.weights.layout(), layout);
      expect_layer_matches(l, tensors, layer);
    }
}

TEST(Checkpoint, LoadsShardedQwen2WithSharedExpert) {
  const auto tensors = all_tensors(qwen2_shards());
  for (const Layout layout : {Layout::kOI, Layout::kIO}) {
    SCOPED_TRACE(layout_name(layout));
    const LoadedLayer l = load_checkpoint_layer(kQwen2, 0, layout);
    EXPECT_EQ(l.model_type, "qwen2_moe");
    EXPECT_EQ(l.shape, (MoeShape{36, 28, 6, 4, 52, false}));
    expect_layer_matches(l, tensors, 0);
  }
}

// Copies a checkpoint's config.json into `dir` with `edit` applied.
void write_config(const std::string& from, const TempDir& dir,
                  const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = nlohmann::json::parse(read_bytes(from + "/config.json"));
  edit(j);
  write_bytes(dir / "config.json", j.dump(1));
}

// The fused form of transformers 5's in-memory modules loads to the same weights.
TEST(Checkpoint, LoadsFusedExperts) {
  TempDir dir;
  write_config(kQwen3, dir, [](nlohmann::json&) {});
  auto t = all_tensors({kQwen3 + "/model.safetensors"});
  const int64_t H = 44, I = 20, E = 8;
  F32Tensor gate_up{{E, 2 * I, H}, {}}, down{{E, H, I}, {}};
  const std::string p = "model.layers.1.mlp.experts.";
  for (int64_t e = 0; e < E; ++e) {
    const std::string q = p + std::to_string(e) + ".";
    for (const char* proj : {"gate_proj", "up_proj"}) {
      const auto& v = t.at(q + proj + ".weight").data;
      gate_up.data.insert(gate_up.data.end(), v.begin(), v.end());
    }
    const auto& d = t.at(q + "down_proj.weight").data;
    down.data.insert(down.data.end(), d.begin(), d.end());
    for (const char* proj : {"gate_proj", "up_proj", "down_proj"}) t.erase(q + proj + ".weight");
  }
  t[p + "gate_up_proj"] = gate_up;
  t[p + "down_proj"] = down;
  write_safetensors(dir / "model.safetensors", t);

  const auto original = all_tensors({kQwen3 + "/model.safetensors"});
  for (const Layout layout : {Layout::kOI, Layout::kIO})
    expect_layer_matches(load_checkpoint_layer(dir.path(), 1, layout), original, 1);

  t[p + "down_proj"].shape = {E, I, H};
  write_safetensors(dir / "model.safetensors", t);
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 1, Layout::kOI); },
                     {"model.safetensors", "tensor " + p + "down_proj", "expected [8, 44, 20]"});
}

TEST(Checkpoint, MissingOrWrongConfigKeys) {
  TempDir dir;
  fs::copy_file(kQwen2 + "/model.safetensors.index.json", dir / "model.safetensors.index.json");
  for (const char* key : {"model_type", "hidden_size", "moe_intermediate_size", "num_experts",
                          "num_experts_per_tok", "shared_expert_intermediate_size"}) {
    SCOPED_TRACE(key);
    write_config(kQwen2, dir, [&](nlohmann::json& j) { j.erase(key); });
    expect_input_error([&] { load_checkpoint_layer(dir.path(), 0, Layout::kOI); },
                       {dir / "config.json", std::string("key ") + key, "missing"});
  }
  write_config(kQwen2, dir, [](nlohmann::json& j) { j["hidden_size"] = "36"; });
  expect_input_error([&] { read_checkpoint_config(dir.path()); },
                     {"config.json", "key hidden_size", "positive integer"});
  write_config(kQwen2, dir, [](nlohmann::json& j) { j["model_type"] = "llama"; });
  expect_input_error([&] { read_checkpoint_config(dir.path()); },
                     {"config.json", "key model_type", "llama"});
  write_config(kQwen2, dir, [](nlohmann::json& j) { j["num_experts_per_tok"] = 7; });
  expect_input_error([&] { read_checkpoint_config(dir.path()); }, {"config.json", "top_k"});
  write_config(kQwen2, dir, [](nlohmann::json& j) { j["norm_topk_prob"] = 1; });
  expect_input_error([&] { read_checkpoint_config(dir.path()); },
                     {"config.json", "key norm_topk_prob"});
  // Absent, it takes transformers' default.
  write_config(kQwen3, dir, [](nlohmann::json& j) { j.erase("norm_topk_prob"); });
  EXPECT_FALSE(read_checkpoint_config(dir.path()).shape.norm_topk_prob);

  write_bytes(dir / "config.json", "{\"model_type\": ");
  expect_input_error([&] { read_checkpoint_config(dir.path()); }, {"config.json", "JSON"});
  fs::remove(dir / "config.json");
  expect_input_error([&] { read_checkpoint_config(dir.path()); }, {"config.json", "missing"});
}

TEST(Checkpoint, LayerThatDoesNotExistOrIsDense) {
  expect_input_error([&] { load_checkpoint_layer(kQwen3, 2, Layout::kOI); },
                     {"config.json", "layer 2", "2 layers"});
  expect_input_error([&] { load_checkpoint_layer(kQwen3, -1, Layout::kOI); },
                     {"config.json", "layer -1"});
  TempDir dir;
  fs::copy_file(kQwen3 + "/model.safetensors", dir / "model.safetensors");
  write_config(kQwen3, dir, [](nlohmann::json& j) { j["mlp_only_layers"] = {1}; });
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 1, Layout::kOI); },
                     {"config.json", "layer 1", "dense"});
  EXPECT_NO_THROW(load_checkpoint_layer(dir.path(), 0, Layout::kOI));
  write_config(kQwen3, dir, [](nlohmann::json& j) { j["decoder_sparse_step"] = 2; });
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 0, Layout::kOI); },
                     {"config.json", "layer 0", "dense"});
  EXPECT_NO_THROW(load_checkpoint_layer(dir.path(), 1, Layout::kOI));
}

// A copy of the qwen3 checkpoint whose tensors `edit` changes, rewritten as one F32 file.
void write_edited_qwen3(const TempDir& dir,
                        const std::function<void(std::map<std::string, F32Tensor>&)>& edit) {
  write_config(kQwen3, dir, [](nlohmann::json&) {});
  auto t = all_tensors({kQwen3 + "/model.safetensors"});
  edit(t);
  write_safetensors(dir / "model.safetensors", t);
}

TEST(Checkpoint, MissingTensorOrWrongShape) {
  TempDir dir;
  const std::string model = dir / "model.safetensors";
  const auto load = [&] { load_checkpoint_layer(dir.path(), 1, Layout::kIO); };

  const std::string up3 = "model.layers.1.mlp.experts.3.up_proj.weight";
  write_edited_qwen3(dir, [&](auto& t) { t.erase(up3); });
  expect_input_error(load, {model, "tensor " + up3, "missing"});

  const std::string router = "model.layers.1.mlp.gate.weight";
  write_edited_qwen3(dir, [&](auto& t) { t.erase(router); });
  expect_input_error(load, {model, "tensor " + router, "missing"});

  const std::string down7 = "model.layers.1.mlp.experts.7.down_proj.weight";
  write_edited_qwen3(dir, [&](auto& t) { t[down7].shape = {20, 44}; });
  expect_input_error(load, {model, "tensor " + down7, "[20, 44]", "expected [44, 20]"});

  write_edited_qwen3(dir, [&](auto& t) { t[router].shape = {8, 44, 1}; });
  expect_input_error(load, {model, "tensor " + router, "expected [8, 44]"});

  // Other tensors are ignored, whatever they hold.
  write_edited_qwen3(dir, [&](auto& t) {
    t["model.layers.1.self_attn.q_proj.weight"].shape = {1, 1, 1408};
    t.erase("model.layers.0.mlp.gate.weight");
  });
  EXPECT_NO_THROW(load());

  fs::remove(model);
  expect_input_error(load, {dir.path(), "no model.safetensors"});
}

TEST(Checkpoint, WrongDtype) {
  TempDir dir;
  write_config(kQwen3, dir, [](nlohmann::json&) {});
  // The qwen3 file with one expert tensor relabelled I64 (half as many elements, same bytes).
  const std::string src = read_bytes(kQwen3 + "/model.safetensors");
  uint64_t n = 0;
  std::memcpy(&n, src.data(), 8);
  nlohmann::json header = nlohmann::json::parse(src.substr(8, n));
  const std::string name = "model.layers.1.mlp.experts.2.gate_proj.weight";
  header[name]["dtype"] = "I64";
  header[name]["shape"] = {5, 44};
  write_raw(dir / "model.safetensors", header.dump(), src.substr(8 + n));
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 1, Layout::kOI); },
                     {"model.safetensors", "tensor " + name, "[5, 44]", "expected [20, 44]"});
  // With the shape it expects, the dtype is what is wrong: I64 [20, 44], its bytes appended.
  const std::string data = src.substr(8 + n);
  header[name]["shape"] = {20, 44};
  header[name]["data_offsets"] = {data.size(), data.size() + 20 * 44 * 8};
  write_raw(dir / "model.safetensors", header.dump(), data + std::string(20 * 44 * 8, '\1'));
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 1, Layout::kOI); },
                     {"model.safetensors", "tensor " + name, "I64", "F32, BF16 or F16"});
}

TEST(Checkpoint, BrokenShards) {
  TempDir dir;
  write_config(kQwen2, dir, [](nlohmann::json&) {});
  const std::string index = dir / "model.safetensors.index.json";
  for (const auto& f : fs::directory_iterator(kQwen2))
    if (f.path().filename() != "config.json")
      fs::copy_file(f.path(), dir / f.path().filename().string());
  EXPECT_NO_THROW(load_checkpoint_layer(dir.path(), 0, Layout::kOI));

  nlohmann::json j = nlohmann::json::parse(read_bytes(index));
  const std::string router = "model.layers.0.mlp.gate.weight";
  const std::string shard = j["weight_map"][router];

  // The index names a shard that is not there.
  nlohmann::json missing = j;
  missing["weight_map"][router] = "model-00009-of-00009.safetensors";
  write_bytes(index, missing.dump());
  expect_input_error(
      [&] { load_checkpoint_layer(dir.path(), 0, Layout::kOI); },
      {index, "tensor " + router, "model-00009-of-00009.safetensors", "does not exist"});

  // The index does not list a tensor the layer needs.
  nlohmann::json unlisted = j;
  unlisted["weight_map"].erase(router);
  write_bytes(index, unlisted.dump());
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 0, Layout::kOI); },
                     {index, "tensor " + router, "missing"});

  // The index places a tensor in a shard that does not hold it.
  nlohmann::json wrong = j;
  const std::string z = "model.layers.0.mlp.shared_expert_gate.weight";
  const std::string other = j["weight_map"]["model.layers.0.self_attn.q_proj.weight"];
  ASSERT_NE(other, std::string(j["weight_map"][z]));
  wrong["weight_map"][z] = other;
  write_bytes(index, wrong.dump());
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 0, Layout::kOI); },
                     {other, "tensor " + z, "missing"});

  nlohmann::json escape = j;
  escape["weight_map"][router] = "../elsewhere.safetensors";
  write_bytes(index, escape.dump());
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 0, Layout::kOI); },
                     {index, router, "../elsewhere.safetensors"});

  write_bytes(index, R"({"metadata": {}})");
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 0, Layout::kOI); },
                     {index, "weight_map"});

  // A truncated shard fails on its header, naming the shard.
  write_bytes(index, j.dump());
  const std::string bytes = read_bytes(dir / shard);
  write_bytes(dir / shard, bytes.substr(0, bytes.size() / 2));
  expect_input_error([&] { load_checkpoint_layer(dir.path(), 0, Layout::kOI); },
                     {shard, "out of range"});
}

}  // namespace
}  // namespace moetune
