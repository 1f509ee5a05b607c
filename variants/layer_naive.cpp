// The baseline: the layer as it was before the optimization summary. Token by token, expert
// by expert, every temporary a std::vector made on every call, on the calling thread only
// (`threads` is ignored: the baseline is what the parallel strategies are quoted against).
// It calls the kernels it is given, so the layer's speedup and the kernels' can be told
// apart; with naive kernels it is the reference every other strategy is verified against.
#include <vector>

#include "variants/layer_impl.h"

namespace moetune {
namespace {

class NaiveLayer final : public MoeLayerImpl {
 public:
  explicit NaiveLayer(const LayerArgs& args) : MoeLayerImpl(args) {}

  void forward(const float* x, int64_t tokens, float* y) override {
    const int64_t H = shape_.hidden, E = shape_.experts, k = shape_.top_k;
    routing_.ids.assign(static_cast<size_t>(tokens * k), 0);
    routing_.weights.assign(static_cast<size_t>(tokens * k), 0.0f);
    for (int64_t t = 0; t < tokens; ++t) {
      const float* xt = x + t * H;
      std::vector<float> logits(static_cast<size_t>(E));
      gemv_rows(router_, w_.router(), 0, E, xt, H, logits.data(), E, 1);
      std::vector<float> probs(static_cast<size_t>(E));
      k_.softmax->fn(logits.data(), probs.data(), E);
      std::vector<float> weights(static_cast<size_t>(k));
      std::vector<int32_t> ids(static_cast<size_t>(k));
      std::vector<int32_t> scratch(static_cast<size_t>(E));
      k_.topk->fn(probs.data(), E, k, weights.data(), ids.data(), scratch.data());
      if (shape_.norm_topk_prob) normalize_topk(weights.data(), k);

      std::vector<float> acc(static_cast<size_t>(H), 0.0f);
      for (int64_t j = 0; j < k; ++j) {
        const std::vector<float> o = expert(xt, w_.expert(ids[j], Proj::kGate),
                                            w_.expert(ids[j], Proj::kUp),
                                            w_.expert(ids[j], Proj::kDown));
        for (int64_t i = 0; i < H; ++i) acc[i] += weights[j] * o[i];
      }
      if (shape_.has_shared_expert()) {
        float z = 0.0f;
        gemv_rows(router_, w_.shared_expert_gate(), 0, 1, xt, H, &z, 1, 1);
        const float gate = sigmoid(z);
        const std::vector<float> o =
            expert(xt, w_.shared(Proj::kGate), w_.shared(Proj::kUp), w_.shared(Proj::kDown));
        for (int64_t i = 0; i < H; ++i) acc[i] += gate * o[i];
      }
      for (int64_t i = 0; i < H; ++i) y[t * H + i] = acc[i];
      for (int64_t j = 0; j < k; ++j) {
        routing_.ids[static_cast<size_t>(t * k + j)] = ids[j];
        routing_.weights[static_cast<size_t>(t * k + j)] = weights[j];
      }
    }
  }

  void incremental_forward(const float* x, float* y) override { forward(x, 1, y); }

 private:
  // down · swiglu(gate · x, up · x) for one token.
  std::vector<float> expert(const float* x, const MatrixRef& gate, const MatrixRef& up,
                            const MatrixRef& down) const {
    const int64_t H = shape_.hidden, n = gate.n;
    std::vector<float> g(static_cast<size_t>(n)), u(static_cast<size_t>(n));
    gemv_rows(*k_.gemv, gate, 0, n, x, H, g.data(), n, 1);
    gemv_rows(*k_.gemv, up, 0, n, x, H, u.data(), n, 1);
    std::vector<float> h(static_cast<size_t>(n));
    k_.swiglu->fn(g.data(), u.data(), h.data(), n);
    std::vector<float> o(static_cast<size_t>(H));
    gemv_rows(*k_.gemv, down, 0, H, h.data(), n, o.data(), H, 1);
    return o;
  }
};

}  // namespace

std::unique_ptr<MoeLayerImpl> layer_strategy_naive(const LayerArgs& args) {
  return std::make_unique<NaiveLayer>(args);
}

}  // namespace moetune
