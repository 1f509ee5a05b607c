// moetune's public API: the Qwen MoE layer (router, softmax, top-k, routed experts, qwen2_moe's
// shared expert) with the kernels and strategy this build selects for the machine, the tuned
// selection when the build was configured with -DMOETUNE_TUNED_CONFIG.
//
//   #include <moetune/moetune.h>
//   moetune::Layer layer = moetune::Layer::from_pretrained("Qwen3-30B-A3B", 0);
//   layer.forward(x, tokens, y);        // x, y: [tokens, hidden] f32, row-major
//   layer.incremental_forward(x, y);    // one token, the decode path
//
// This header and version.h are the whole interface: only the standard library, no internal
// header, so that the internals can change under it. CMake: find_package(moetune CONFIG) and
// link moetune::moetune; pkg-config: `pkg-config --cflags --libs moetune`.
//
// Errors: every mistake of the caller (a checkpoint that cannot be read or does not fit, a shape,
// a null pointer, an unknown strategy) throws moetune::Error with the message `moetune` prints
// for the same mistake (the file, the place, what was expected), before anything is written to
// the output.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "moetune/version.h"

#if defined(__GNUC__)
#define MOETUNE_API __attribute__((visibility("default")))
#else
#define MOETUNE_API
#endif

namespace moetune {

// The only exception the API throws for bad input (std::bad_alloc passes through as is).
class MOETUNE_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How the experts' matrices are stored: kOI [out, in] (the Hugging Face layout, dot-product
// GEMV) or kIO [in, out] (axpy GEMV). Which one is faster depends on the machine (a sweep says).
enum class WeightLayout { kOI, kIO };
// The experts' element type: kF32, kBF16 (the upper 16 bits of an f32, as uint16_t), kInt8
// (int8_t in [-127, 127] with one float scale per output row: w = scale[o] * q). The router and
// the shared expert's gate are always f32.
enum class WeightType { kF32, kBF16, kInt8 };

// The layer's shape, as in a Hugging Face config.json.
struct LayerShape {
  int64_t hidden = 0;               // hidden_size H
  int64_t intermediate = 0;         // moe_intermediate_size I
  int64_t experts = 0;              // num_experts E
  int64_t top_k = 0;                // num_experts_per_tok k
  int64_t shared_intermediate = 0;  // shared_expert_intermediate_size S (qwen2_moe), else 0
  bool norm_topk_prob = true;
};

struct LayerOptions {
  WeightLayout layout = WeightLayout::kOI;
  WeightType dtype = WeightType::kF32;
  int threads = 0;         // 0: every core
  std::string strategy;    // a layer strategy ("grouped", ...); empty: this build's selection
  int64_t max_tokens = 1;  // buffers are sized for this many tokens at construction; more grow
};

// The caller's weights, copied into the layer when it is built (they need not outlive it).
// Routed experts' and the shared expert's matrices are in the layout and type of LayerOptions:
// gate_proj and up_proj [I, H] (oi) or [H, I] (io), down_proj [H, I] (oi) or [I, H] (io),
// dense, row-major; for kInt8 each has its scales (I for gate and up, H for down; S for the
// shared expert). The router [E, H] and shared_expert_gate [1, H] are f32 [out, in].
struct LayerWeights {
  LayerShape shape;
  const float* router = nullptr;
  std::vector<const void*> gate_proj, up_proj, down_proj;      // E each
  std::vector<const float*> gate_scale, up_scale, down_scale;  // E each, kInt8 only
  const float* shared_expert_gate = nullptr;                   // S > 0 only
  const void* shared_gate_proj = nullptr;                      // S > 0 only
  const void* shared_up_proj = nullptr;
  const void* shared_down_proj = nullptr;
  const float* shared_gate_scale = nullptr;  // S > 0 and kInt8 only
  const float* shared_up_scale = nullptr;
  const float* shared_down_scale = nullptr;
};

class MOETUNE_API Layer {
 public:
  // Layer `layer` (0-based) of a Hugging Face qwen3_moe or qwen2_moe checkpoint directory
  // (config.json and model.safetensors or its shards; weights bf16, f16 or f32, converted to
  // options.dtype).
  static Layer from_pretrained(const std::string& dir, int64_t layer,
                               const LayerOptions& options = {});
  static Layer from_weights(const LayerWeights& weights, const LayerOptions& options = {});

  Layer(Layer&&) noexcept;
  Layer& operator=(Layer&&) noexcept;
  ~Layer();

  // y = layer(x), x and y [tokens, hidden] f32 row-major, not overlapping, tokens >= 1. The
  // kernels and strategy are those selected for `tokens` (resolved once per distinct count).
  void forward(const float* x, int64_t tokens, float* y);
  // One token, the decode fast path: no allocation after the first call.
  void incremental_forward(const float* x, float* y);

  const LayerShape& shape() const;
  int threads() const;
  // Re-selects the kernels for the new count (the weights are kept).
  void set_threads(int threads);

  // What the layer runs for `tokens`: its strategy and kernels, and where the selection came
  // from (the tuned header's results, machine and commit, or "defaults"), one line each.
  std::string describe(int64_t tokens = 1) const;

 private:
  struct State;
  explicit Layer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Small safetensors helpers, for tests and examples that keep hidden states in files.
// read_tensor: tensor `name` of `path` (F32, BF16 or F16) as f32, its shape into `shape`.
MOETUNE_API std::vector<float> read_tensor(const std::string& path, const std::string& name,
                                           std::vector<int64_t>* shape);
// write_tensor: one F32 tensor, written atomically (temporary file, then rename).
MOETUNE_API void write_tensor(const std::string& path, const std::string& name,
                              const std::vector<int64_t>& shape, const std::vector<float>& data);

// The version of the library loaded (which may differ from the header's MOETUNE_VERSION_STRING
// when a program runs against another install).
MOETUNE_API const char* version();

}  // namespace moetune
