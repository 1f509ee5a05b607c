#include "harness/checkpoint.h"

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "harness/error.h"
#include "harness/safetensors.h"

namespace moetune {
namespace {

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) throw InputError(path, "", "not valid JSON");
  if (!j.is_object()) throw InputError(path, "", "expected a JSON object");
  return j;
}

// A required positive integer key.
int64_t positive_key(const std::string& path, const nlohmann::json& j, const std::string& key) {
  const auto it = j.find(key);
  if (it == j.end()) throw InputError(path, "key " + key, "missing (expected a positive integer)");
  if (!it->is_number_integer() || it->get<int64_t>() <= 0)
    throw InputError(path, "key " + key, "is " + it->dump() + ", expected a positive integer");
  return it->get<int64_t>();
}

// Where each tensor lives: one file, or shards opened on first use.
class TensorSource {
 public:
  explicit TensorSource(const std::string& dir) {
    const std::string single = dir + "/model.safetensors";
    const std::string index = dir + "/model.safetensors.index.json";
    if (is_file(single)) {
      files_.emplace(single, std::make_unique<SafetensorsFile>(single));
      single_ = single;
      return;
    }
    if (!is_file(index))
      throw InputError(dir, "",
                       "no model.safetensors or model.safetensors.index.json in the checkpoint "
                       "directory");
    index_ = index;
    const nlohmann::json j = read_json(index);
    const auto map = j.find("weight_map");
    if (map == j.end() || !map->is_object())
      throw InputError(index, "key weight_map", "missing (expected an object tensor -> shard)");
    for (const auto& [name, shard] : map->items()) {
      if (!shard.is_string())
        throw InputError(index, "weight_map tensor " + name, "expected a shard file name");
      const std::string file = shard.get<std::string>();
      // Shards are files beside the index; a path that leaves the directory is not a shard.
      if (file.empty() || file[0] == '/' || file.find("..") != std::string::npos)
        throw InputError(index, "weight_map tensor " + name,
                         "shard \"" + file + "\" is not a file name inside the checkpoint");
      shard_of_[name] = dir + "/" + file;
    }
  }

  // The file holding `name` and its entry, or {nullptr, nullptr} when the checkpoint does not
  // have it.
  std::pair<const SafetensorsFile*, const TensorInfo*> find(const std::string& name) {
    if (!single_.empty()) {
      const SafetensorsFile* f = files_.at(single_).get();
      return {f, f->find(name)};
    }
    const auto it = shard_of_.find(name);
    if (it == shard_of_.end()) return {nullptr, nullptr};
    const SafetensorsFile& f = open_shard(it->second, name);
    const TensorInfo* t = f.find(name);
    if (!t)
      throw InputError(f.path(), "tensor " + name,
                       "missing, although " + index_ + " places it in this shard");
    return {&f, t};
  }

  // The file a missing tensor was looked for in, for error messages.
  const std::string& lookup_file() const { return single_.empty() ? index_ : single_; }

 private:
  const SafetensorsFile& open_shard(const std::string& path, const std::string& tensor) {
    auto& f = files_[path];
    if (!f) {
      if (!is_file(path)) {
        files_.erase(path);
        throw InputError(index_, "tensor " + tensor, "its shard " + path + " does not exist");
      }
      f = std::make_unique<SafetensorsFile>(path);
    }
    return *f;
  }

  std::string single_, index_;
  std::map<std::string, std::string> shard_of_;
  std::map<std::string, std::unique_ptr<SafetensorsFile>> files_;
};

// Reads a whole [out, in] tensor of the expected shape, converted to f32.
class LayerReader {
 public:
  LayerReader(TensorSource& source) : source_(source) {}

  bool has(const std::string& name) { return source_.find(name).second != nullptr; }

  // The file and entry of `name`, checked against `shape`.
  std::pair<const SafetensorsFile*, const TensorInfo*> locate(const std::string& name,
                                                              const std::vector<int64_t>& shape) {
    const auto [f, t] = source_.find(name);
    if (!t)
      throw InputError(source_.lookup_file(), "tensor " + name, "missing from the checkpoint");
    f->at(name, shape);
    return {f, t};
  }

  const float* read(const std::string& name, const std::vector<int64_t>& shape) {
    const auto [f, t] = locate(name, shape);
    buffer_.resize(static_cast<size_t>(t->elements));
    f->read_f32(*t, 0, t->elements, buffer_.data());
    return buffer_.data();
  }

  // Elements [first, first + count) of a fused tensor.
  const float* read_slice(const SafetensorsFile& f, const TensorInfo& t, int64_t first,
                          int64_t count) {
    buffer_.resize(static_cast<size_t>(count));
    f.read_f32(t, first, count, buffer_.data());
    return buffer_.data();
  }

 private:
  TensorSource& source_;
  std::vector<float> buffer_;  // one tensor at a time: a layer's weights are converted once
};

}  // namespace

bool CheckpointConfig::is_moe_layer(int64_t layer) const {
  for (const int64_t l : mlp_only_layers)
    if (l == layer) return false;
  return (layer + 1) % decoder_sparse_step == 0;
}

CheckpointConfig read_checkpoint_config(const std::string& dir) {
  const std::string path = dir + "/config.json";
  if (!is_file(path))
    throw InputError(path, "", "missing: not a Hugging Face checkpoint directory");
  const nlohmann::json j = read_json(path);

  CheckpointConfig c;
  const auto type = j.find("model_type");
  if (type == j.end() || !type->is_string())
    throw InputError(path, "key model_type", "missing (expected \"qwen3_moe\" or \"qwen2_moe\")");
  c.model_type = type->get<std::string>();
  if (c.model_type != "qwen3_moe" && c.model_type != "qwen2_moe")
    throw InputError(path, "key model_type",
                     "\"" + c.model_type + "\" is not supported (expected qwen3_moe or qwen2_moe)");

  c.shape.hidden = positive_key(path, j, "hidden_size");
  c.shape.intermediate = positive_key(path, j, "moe_intermediate_size");
  // transformers 5 writes num_local_experts (its attribute_map turns num_experts into it);
  // released checkpoints say num_experts.
  c.shape.experts = positive_key(path, j,
                                 j.contains("num_experts") || !j.contains("num_local_experts")
                                     ? "num_experts"
                                     : "num_local_experts");
  c.shape.top_k = positive_key(path, j, "num_experts_per_tok");
  if (c.shape.top_k > c.shape.experts)
    throw InputError(path, "key num_experts_per_tok",
                     "is " + std::to_string(c.shape.top_k) + ", more than the " +
                         std::to_string(c.shape.experts) + " experts (expected top_k <= experts)");
  if (c.model_type == "qwen2_moe")
    c.shape.shared_intermediate = positive_key(path, j, "shared_expert_intermediate_size");
  c.shape.norm_topk_prob = false;
  if (const auto it = j.find("norm_topk_prob"); it != j.end()) {
    if (!it->is_boolean())
      throw InputError(path, "key norm_topk_prob", "is " + it->dump() + ", expected true or false");
    c.shape.norm_topk_prob = it->get<bool>();
  }
  if (const auto it = j.find("num_hidden_layers"); it != j.end())
    c.num_hidden_layers = positive_key(path, j, "num_hidden_layers");
  if (const auto it = j.find("mlp_only_layers"); it != j.end()) {
    if (!it->is_array())
      throw InputError(path, "key mlp_only_layers", "expected a list of layer indices");
    for (const auto& v : *it) {
      if (!v.is_number_integer())
        throw InputError(path, "key mlp_only_layers", "expected a list of layer indices");
      c.mlp_only_layers.push_back(v.get<int64_t>());
    }
  }
  if (j.contains("decoder_sparse_step"))
    c.decoder_sparse_step = positive_key(path, j, "decoder_sparse_step");
  if (const std::string why = c.shape.validate(); !why.empty())
    throw InputError(path, "", "the MoE shape " + c.shape.key() + " is not usable: " + why);
  return c;
}

LoadedLayer load_checkpoint_layer(const std::string& dir, int64_t layer, Layout layout) {
  const CheckpointConfig config = read_checkpoint_config(dir);
  const std::string config_path = dir + "/config.json";
  if (layer < 0 || (config.num_hidden_layers > 0 && layer >= config.num_hidden_layers))
    throw InputError(config_path, "key num_hidden_layers",
                     "layer " + std::to_string(layer) + " does not exist (the model has " +
                         std::to_string(config.num_hidden_layers) + " layers, 0-based)");
  if (!config.is_moe_layer(layer))
    throw InputError(config_path, "key mlp_only_layers",
                     "layer " + std::to_string(layer) +
                         " is a dense MLP layer, not MoE (see mlp_only_layers and "
                         "decoder_sparse_step)");

  const MoeShape& s = config.shape;
  const int64_t H = s.hidden, I = s.intermediate, E = s.experts, S = s.shared_intermediate;
  TensorSource source(dir);
  LayerReader reader(source);
  LoadedLayer out{config.model_type, s, MoeWeights(s, layout)};
  MoeWeights& w = out.weights;
  const std::string p = "model.layers." + std::to_string(layer) + ".mlp.";

  w.set_router(reader.read(p + "gate.weight", {E, H}));

  const std::string expert0 = p + "experts.0.gate_proj.weight";
  const std::string fused_gate_up = p + "experts.gate_up_proj";
  if (!reader.has(expert0) && reader.has(fused_gate_up)) {
    const auto [fg, tg] = reader.locate(fused_gate_up, {E, 2 * I, H});
    const auto [fd, td] = reader.locate(p + "experts.down_proj", {E, H, I});
    for (int64_t e = 0; e < E; ++e) {
      w.set_expert(e, Proj::kGate, reader.read_slice(*fg, *tg, e * 2 * I * H, I * H));
      w.set_expert(e, Proj::kUp, reader.read_slice(*fg, *tg, e * 2 * I * H + I * H, I * H));
      w.set_expert(e, Proj::kDown, reader.read_slice(*fd, *td, e * H * I, H * I));
    }
  } else {
    for (int64_t e = 0; e < E; ++e) {
      const std::string q = p + "experts." + std::to_string(e) + ".";
      w.set_expert(e, Proj::kGate, reader.read(q + "gate_proj.weight", {I, H}));
      w.set_expert(e, Proj::kUp, reader.read(q + "up_proj.weight", {I, H}));
      w.set_expert(e, Proj::kDown, reader.read(q + "down_proj.weight", {H, I}));
    }
  }

  if (s.has_shared_expert()) {
    w.set_shared(Proj::kGate, reader.read(p + "shared_expert.gate_proj.weight", {S, H}));
    w.set_shared(Proj::kUp, reader.read(p + "shared_expert.up_proj.weight", {S, H}));
    w.set_shared(Proj::kDown, reader.read(p + "shared_expert.down_proj.weight", {H, S}));
    w.set_shared_expert_gate(reader.read(p + "shared_expert_gate.weight", {1, H}));
  }
  return out;
}

}  // namespace moetune
