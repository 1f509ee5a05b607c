// Row-parallel (for decode, where only k experts run and threads may outnumber them): every
// thread takes a share of the rows of every selected expert, first of gate and up (then
// swiglu on its rows), then of down, so all threads stream weights at once whatever k is.
// Two barriers per call for the routed experts, inside the call's one parallel region.
#include <algorithm>

#include "variants/layer_impl.h"

namespace moetune {
namespace {

class RowParallelLayer final : public ParallelLayer {
 public:
  explicit RowParallelLayer(const LayerArgs& args) : ParallelLayer(args) {
    reserve_tokens(args.max_tokens);
  }

 private:
  ScratchSize strategy_scratch(int64_t) const override { return {0, padded(chunk_)}; }
  void reserve_strategy(int64_t tokens) override {
    hidden_.reserve(static_cast<size_t>(tokens * top_k() * ld_i_));
  }

  // Rows [r0, r1) of gate and up of expert e for the token at x, then swiglu into h.
  void gate_up_rows(int64_t e, int64_t r0, int64_t r1, const float* x, float* h, Scratch& s) {
    const GemvVariant& g = *k_.gemv;
    gemv_gate_up_rows(g, w_.expert(e, Proj::kGate), w_.expert(e, Proj::kUp), r0, r1, x, hidden(),
                      s.g.data(), s.u.data(), r1 - r0, 1);
    k_.swiglu->fn(s.g.data(), s.u.data(), h + r0, r1 - r0);
  }

  // Each work item is (expert, chunk of rows), looping over the expert's tokens, so that a
  // chunk of weights is read from memory once and reused from cache for the other tokens.
  void routed_experts_ws(const float* x, int64_t) override {
    Scratch& s = my_scratch();
    const int64_t H = hidden(), I = shape_.intermediate;
    const int32_t* active = assign_.active();
    const int64_t n_active = assign_.active_count();
    const int64_t ci = chunk_count(I, chunk_), ch = chunk_count(H, chunk_);
#pragma omp for schedule(static)
    for (int64_t item = 0; item < n_active * ci; ++item) {
      const int64_t e = active[item / ci], r0 = item % ci * chunk_, r1 = std::min(I, r0 + chunk_);
      for (int64_t p = assign_.begin(e); p < assign_.end(e); ++p)
        gate_up_rows(e, r0, r1, x + assign_.token_at(p) * H, hidden_.data() + p * ld_i_, s);
    }
#pragma omp for schedule(static) nowait
    for (int64_t item = 0; item < n_active * ch; ++item) {
      const int64_t e = active[item / ch], r0 = item % ch * chunk_, r1 = std::min(H, r0 + chunk_);
      for (int64_t p = assign_.begin(e); p < assign_.end(e); ++p)
        gemv_rows(*k_.gemv, w_.expert(e, Proj::kDown), r0, r1, hidden_.data() + p * ld_i_, I,
                  out_.data() + p * ld_h_ + r0, ld_h_, 1);
    }
  }

  void routed_decode_ws(const float* x) override {
    Scratch& s = my_scratch();
    const int64_t H = hidden(), I = shape_.intermediate, k = top_k();
    const int32_t* ids = routing_.ids.data();
    const int64_t ci = chunk_count(I, chunk_), ch = chunk_count(H, chunk_);
#pragma omp for schedule(static)
    for (int64_t item = 0; item < k * ci; ++item) {
      const int64_t j = item / ci, r0 = item % ci * chunk_, r1 = std::min(I, r0 + chunk_);
      gate_up_rows(ids[j], r0, r1, x, hidden_.data() + j * ld_i_, s);
    }
#pragma omp for schedule(static) nowait
    for (int64_t item = 0; item < k * ch; ++item) {
      const int64_t j = item / ch, r0 = item % ch * chunk_, r1 = std::min(H, r0 + chunk_);
      gemv_rows(*k_.gemv, w_.expert(ids[j], Proj::kDown), r0, r1, hidden_.data() + j * ld_i_,
                I, out_.data() + j * ld_h_ + r0, ld_h_, 1);
    }
  }

  AlignedBuffer<float> hidden_;  // [pairs, ld_i_]: swiglu(gate, up) of every (token, slot)
};

}  // namespace

std::unique_ptr<MoeLayerImpl> layer_strategy_row_parallel(const LayerArgs& args) {
  return std::make_unique<RowParallelLayer>(args);
}

}  // namespace moetune
