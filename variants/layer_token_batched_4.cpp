// Token-batched by 4 (the optimization summary's "process tokens in batches of 4"): as
// expert_parallel, but an expert's tokens go through it 4 at a time, gathered into a [4, H]
// block, so that a multi-token gemv (tokens_per_pass 4) reads each weight row once for the
// four of them.
#include "variants/layer_impl.h"

namespace moetune {
namespace {

constexpr int64_t kBatch = 4;

class TokenBatchedLayer final : public ParallelLayer {
 public:
  explicit TokenBatchedLayer(const LayerArgs& args) : ParallelLayer(args) {
    reserve_tokens(args.max_tokens);
  }

 private:
  ScratchSize strategy_scratch(int64_t) const override {
    return {kBatch * ld_h_, kBatch * ld_i_};
  }

  void routed_experts_ws(const float* x, int64_t) override { expert_blocks_ws(x, kBatch); }
};

}  // namespace

std::unique_ptr<MoeLayerImpl> layer_strategy_token_batched_4(const LayerArgs& args) {
  return std::make_unique<TokenBatchedLayer>(args);
}

}  // namespace moetune
