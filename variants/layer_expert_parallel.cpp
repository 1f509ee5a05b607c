// Expert-parallel (the optimization summary's "parallel expert processing with dynamic
// scheduling"): the (token, slot) pairs grouped by expert, the active experts spread over the
// threads with schedule(dynamic), the busiest first; each thread runs its expert's tokens one
// at a time through its own gate/up buffers.
#include "variants/layer_impl.h"

namespace moetune {
namespace {

class ExpertParallelLayer final : public ParallelLayer {
 public:
  explicit ExpertParallelLayer(const LayerArgs& args) : ParallelLayer(args) {
    reserve_tokens(args.max_tokens);
  }

 private:
  ScratchSize strategy_scratch(int64_t) const override { return {0, ld_i_}; }

  void routed_experts_ws(const float* x, int64_t) override { expert_blocks_ws(x, 1); }
};

}  // namespace

std::unique_ptr<MoeLayerImpl> layer_strategy_expert_parallel(const LayerArgs& args) {
  return std::make_unique<ExpertParallelLayer>(args);
}

}  // namespace moetune
