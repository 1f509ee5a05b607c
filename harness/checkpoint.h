// Loading one MoE layer of a Hugging Face Qwen checkpoint (DESIGN §1).
//
// A checkpoint is a directory with config.json (model_type qwen3_moe or qwen2_moe) and either
// model.safetensors or model.safetensors.index.json naming shards in its "weight_map"; when
// both exist the single file wins, as in transformers. Weights may be F32, BF16 or F16 and are
// converted to f32.
//
// Tensor names: the per-expert names of the checkpoints released on the Hub (and of what
// transformers 5.24's save_pretrained writes, which splits its in-memory fused experts again):
//   model.layers.{L}.mlp.gate.weight                                   [E, H]
//   model.layers.{L}.mlp.experts.{e}.{gate_proj,up_proj}.weight        [I, H]
//   model.layers.{L}.mlp.experts.{e}.down_proj.weight                  [H, I]
//   model.layers.{L}.mlp.shared_expert.{gate_proj,up_proj}.weight      [S, H]   (qwen2_moe)
//   model.layers.{L}.mlp.shared_expert.down_proj.weight                [H, S]   (qwen2_moe)
//   model.layers.{L}.mlp.shared_expert_gate.weight                     [1, H]   (qwen2_moe)
// When expert 0's per-expert tensors are absent, the fused form of transformers 5's modules is
// read instead: model.layers.{L}.mlp.experts.gate_up_proj [E, 2I, H] (gate rows first, then
// up rows, as Qwen3MoeExperts.forward chunks them) and model.layers.{L}.mlp.experts.down_proj
// [E, H, I]. Every other tensor is ignored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/gemv/gemv.h"
#include "variants/moe_shape.h"
#include "variants/moe_weights.h"

namespace moetune {

struct CheckpointConfig {
  std::string model_type;  // "qwen3_moe" | "qwen2_moe"
  MoeShape shape;
  int64_t num_hidden_layers = 0;  // 0 when config.json does not say
  // Layers where transformers builds a dense MLP instead of the MoE block: those listed in
  // mlp_only_layers, and those with (layer + 1) % decoder_sparse_step != 0.
  std::vector<int64_t> mlp_only_layers;
  int64_t decoder_sparse_step = 1;
  bool is_moe_layer(int64_t layer) const;
};

// Reads DIR/config.json. Keys: hidden_size, moe_intermediate_size, num_experts (or
// num_local_experts, the name transformers 5 writes), num_experts_per_tok, and for qwen2_moe
// shared_expert_intermediate_size; each missing or mistyped key is an InputError naming
// config.json and the key. norm_topk_prob defaults to false when absent, as in transformers'
// Qwen3MoeConfig and Qwen2MoeConfig (released Qwen3 configs set it to true explicitly).
CheckpointConfig read_checkpoint_config(const std::string& dir);

struct LoadedLayer {
  std::string model_type;
  MoeShape shape;
  MoeWeights weights;
};

// Loads layer `layer` (0-based) in `layout`. InputError when the layer does not exist or is a
// dense MLP layer (mlp_only_layers, decoder_sparse_step), when a tensor is missing, has the
// wrong shape or a dtype that is not F32/BF16/F16, or when a shard named by the index is
// missing or malformed; each names the file and the tensor or key.
LoadedLayer load_checkpoint_layer(const std::string& dir, int64_t layer, Layout layout);

}  // namespace moetune
