// Grouped (for prefill): all the tokens routed to an expert gathered into one contiguous
// [n_e, H] block and run through the expert as one small GEMM (the gemv with m = n_e), so each
// weight row is read once per expert and call, whatever the number of tokens. Experts are
// spread over the threads with schedule(dynamic), the busiest first.
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
    Scratch& s = my_scratch();
    const int32_t* active = assign_.active();
#pragma omp for schedule(dynamic) nowait
    for (int64_t a = 0; a < assign_.active_count(); ++a) {
      const int64_t e = active[a];
      expert_block(e, x, assign_.begin(e), assign_.end(e) - assign_.begin(e), s);
    }
  }
};

}  // namespace

std::unique_ptr<MoeLayerImpl> layer_strategy_grouped(const LayerArgs& args) {
  return std::make_unique<GroupedLayer>(args);
}

}  // namespace moetune
