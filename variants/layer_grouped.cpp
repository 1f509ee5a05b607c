// Grouped (for prefill): all the tokens routed to an expert gathered into one contiguous
// [n_e, H] block and run through the expert as one small GEMM (the gemv with m = n_e), so each
// weight row is read once per expert and call, whatever the number of tokens. Experts are
// spread over the threads with schedule(dynamic), the busiest first.
#include <limits>

#include "variants/layer_impl.h"

namespace moetune {
namespace {

class GroupedLayer final : public ParallelLayer {
 public:
  explicit GroupedLayer(const LayerArgs& args) : ParallelLayer(args) {
    reserve_tokens(args.max_tokens);
  }

 private:
  // An expert may receive every token of the call.
  ScratchSize strategy_scratch(int64_t tokens) const override {
    return {tokens * ld_h_, tokens * ld_i_};
  }

  void routed_experts_ws(const float* x, int64_t) override {
    expert_blocks_ws(x, std::numeric_limits<int64_t>::max());  // each expert in one block
  }
};

}  // namespace

std::unique_ptr<MoeLayerImpl> layer_strategy_grouped(const LayerArgs& args) {
  return std::make_unique<GroupedLayer>(args);
}

}  // namespace moetune
