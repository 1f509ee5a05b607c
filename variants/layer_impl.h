// What the layer strategies share: the interface every strategy implements, and
// ParallelLayer, the skeleton of the optimized strategies (one OpenMP parallel region per call,
// buffers sized at construction, a fixed summation order).
//
// Members whose names end in `_ws` are work-sharing pieces: every thread of the enclosing
// parallel region calls them, in the same order, and they split their work with orphaned
// `omp for` loops.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "kernels/common/aligned.h"
#include "variants/moe_layer.h"
#include "variants/routing.h"

namespace moetune {

struct LayerArgs {
  const MoeWeights& weights;
  KernelSelection kernels;  // checked by MoeLayer: complete, runnable, layout of the weights
  int threads;              // >= 1
  int64_t max_tokens;       // >= 1
};

class MoeLayerImpl {
 public:
  explicit MoeLayerImpl(const LayerArgs& args);
  virtual ~MoeLayerImpl() = default;
  MoeLayerImpl(const MoeLayerImpl&) = delete;
  MoeLayerImpl& operator=(const MoeLayerImpl&) = delete;

  virtual void forward(const float* x, int64_t tokens, float* y) = 0;
  virtual void incremental_forward(const float* x, float* y) = 0;

  const MoeWeights& weights() const { return w_; }
  const Routing& routing() const { return routing_; }
  int threads() const { return threads_; }

  std::string_view variant;  // the registry name (layer_<dtype>__<strategy>), set by MoeLayer

 protected:
  // y[tokens, rows r0..r1) = W[r0..r1, :] · x for m tokens, with `g` (single-threaded).
  static void gemv_rows(const GemvVariant& g, const MatrixRef& w, int64_t r0, int64_t r1,
                        const float* x, int64_t ldx, float* y, int64_t ldy, int64_t m);
  // The same for two matrices on one x (gate and up: yg from `gate`, yu from `up`), in one
  // pass over x where g has a pair form (kernels/gemv/gemv_pair.inc), with the same bits.
  static void gemv_gate_up_rows(const GemvVariant& g, const MatrixRef& gate, const MatrixRef& up,
                                int64_t r0, int64_t r1, const float* x, int64_t ldx, float* yg,
                                float* yu, int64_t ldy, int64_t m);

  const MoeWeights& w_;
  const MoeShape shape_;
  const KernelSelection k_;
  const GemvVariant& router_;  // an oi gemv: the router is always stored oi
  const int threads_;
  Routing routing_;
};

// The optimized strategies. forward():
//   route every token (router, softmax in place, top-k, normalise)     omp for over tokens
//   group the (token, slot) pairs by expert                            omp single
//   routed experts: out_ row p = Wd_e·swiglu(Wg_e·x, Wu_e·x)           the strategy's part
//   shared expert: row-parallel over S, then over H                    omp for over chunks
//   y_t = sum_s w_ts·out_[pos(t, s)] (slot order) + z_t·shared_out_t   omp for over tokens
// incremental_forward() does the same for one token without the grouping: slot s is row s.
class ParallelLayer : public MoeLayerImpl {
 public:
  explicit ParallelLayer(const LayerArgs& args);

  void forward(const float* x, int64_t tokens, float* y) final;
  void incremental_forward(const float* x, float* y) final;

 protected:
  // Each thread's own buffers, allocated before the first call, 64-byte aligned.
  struct Scratch {
    AlignedBuffer<float> xs;    // gathered token rows, stride ld_h_
    AlignedBuffer<float> g, u;  // gate and up projections, stride ld_i_ (swiglu writes over g)
    AlignedBuffer<int32_t> topk;
  };
  struct ScratchSize {
    int64_t xs = 0, gu = 0;  // floats per thread
  };

  // Must be called at the end of the most derived constructor: sizes every buffer for
  // `tokens` tokens (virtual calls are not yet possible in ParallelLayer's constructor).
  void reserve_tokens(int64_t tokens);

  // What a strategy needs per thread, and any buffer of its own, for `tokens` tokens.
  virtual ScratchSize strategy_scratch(int64_t tokens) const = 0;
  virtual void reserve_strategy(int64_t /*tokens*/) {}

  // The routed experts of forward(): fill out_ row p for every position p of the assignment.
  // No barrier at the end (the next piece of work-sharing waits).
  virtual void routed_experts_ws(const float* x, int64_t tokens) = 0;
  // The routed experts of incremental_forward(): out_ row s for slot s, no barrier at the end.
  // By default one thread per expert, dynamic.
  virtual void routed_decode_ws(const float* x);

  // out_ rows [p0, p0 + m) = the expert `e` on the m tokens at those positions of the
  // assignment, gathered into s.xs when m > 1 (a lone token is read in place, as
  // incremental_forward reads it, so that forward(x, 1) gives the same bits).
  void expert_block(int64_t e, const float* x, int64_t p0, int64_t m, Scratch& s);
  // The routed experts of forward() for the strategies that give each expert to one thread:
  // the active experts over the threads, dynamic, the busiest first, and an expert's positions
  // through expert_block at most `batch` at a time. No barrier at the end.
  void expert_blocks_ws(const float* x, int64_t batch);
  // out (m rows, stride ld_h_) = the expert `e` on m tokens x (stride ldx), with s's g and u.
  void expert_ffn(int64_t e, const float* x, int64_t ldx, int64_t m, float* out, Scratch& s);

  Scratch& my_scratch();
  int64_t hidden() const { return shape_.hidden; }
  int64_t top_k() const { return shape_.top_k; }

  // Split sizes, in outputs: fixed by the shape and the kernel, never by the thread count,
  // so that every output is computed by the same kernel call whatever the number of threads.
  int64_t chunk_ = 0;         // expert and shared-expert rows
  int64_t router_chunk_ = 0;  // router rows

  // Row strides of the [rows, H], [rows, I] and [rows, S] buffers, rounded up to whole cache
  // lines: every row starts 64-byte aligned, so a kernel sees the same alignment for a row
  // whichever position it has, and no two threads write one cache line.
  const int64_t ld_h_, ld_i_, ld_s_;

  ExpertAssignment assign_;
  AlignedBuffer<float> out_;  // [pairs, ld_h_]: routed expert outputs, unweighted

 private:
  void route_one(const float* x, int64_t t, Scratch& s);
  void route_tokens_ws(const float* x, int64_t tokens);
  void route_decode_ws(const float* x);
  void shared_expert_ws(const float* x, int64_t tokens);
  // The last piece of a call: no barrier at the end (the parallel region ends there).
  void reduce_tokens_ws(int64_t tokens, float* y);
  void reduce_decode_ws(float* y);

  int64_t capacity_ = 0;                // tokens the buffers hold
  std::vector<Scratch> scratch_;        // one per thread
  AlignedBuffer<float> logits_;         // [T, E], probabilities after the in-place softmax
  AlignedBuffer<float> gate_;           // [T]: sigmoid(Wz·x_t)
  AlignedBuffer<float> shared_h_;       // [T, ld_s_]
  AlignedBuffer<float> shared_out_;     // [T, ld_h_]
};

// Chunks of `n` outputs of `chunk` each: how many.
inline int64_t chunk_count(int64_t n, int64_t chunk) { return (n + chunk - 1) / chunk; }
// n floats rounded up to whole cache lines.
inline int64_t padded(int64_t n) { return (n + 15) / 16 * 16; }

// The strategies' factories, named as their registry entries.
#define MOETUNE_LAYER(strategy, description) \
  std::unique_ptr<MoeLayerImpl> layer_strategy_##strategy(const LayerArgs&);
#include "variants/layer.inc"
#undef MOETUNE_LAYER

}  // namespace moetune
