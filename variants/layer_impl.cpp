#include "variants/layer_impl.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

namespace moetune {
namespace {

// 64 outputs: a multiple of every vector width and unroll the gemv registry holds, and small
// enough that a decode step of qwen3-30b-a3b (I = 768, H = 2048, k = 8) still has hundreds of
// chunks to share between threads.
constexpr int64_t kChunkOutputs = 64;
// The router has few rows (E = 60..128): smaller chunks so that more threads share it.
constexpr int64_t kRouterChunkOutputs = 16;

// `base` rounded up to the kernel's rows per pass when that pass runs over outputs (oi), so
// that no chunk but the last ends in the kernel's tail loop.
int64_t chunk_for(const GemvVariant& g, int64_t base) {
  const int64_t r = g.layout == Layout::kOI ? std::max(1, g.rows_per_pass) : 1;
  return (base + r - 1) / r * r;
}

}  // namespace

MoeLayerImpl::MoeLayerImpl(const LayerArgs& args)
    : w_(args.weights),
      shape_(args.weights.shape()),
      k_(args.kernels),
      router_(router_gemv(*args.kernels.gemv)),
      threads_(args.threads) {}

void MoeLayerImpl::gemv_rows(const GemvVariant& g, const MatrixRef& w, int64_t r0, int64_t r1,
                             const float* x, int64_t ldx, float* y, int64_t ldy, int64_t m) {
  GemvArgs a = w.args(r0, r1);
  a.x = x;
  a.ldx = ldx;
  a.y = y;
  a.ldy = ldy;
  a.m = m;
  g.fn(a);
}

void MoeLayerImpl::gemv_gate_up_rows(const GemvVariant& g, const MatrixRef& gate,
                                     const MatrixRef& up, int64_t r0, int64_t r1, const float* x,
                                     int64_t ldx, float* yg, float* yu, int64_t ldy, int64_t m) {
  GemvArgs a = gate.args(r0, r1), b = up.args(r0, r1);
  a.x = b.x = x;
  a.ldx = b.ldx = ldx;
  a.y = yg;
  b.y = yu;
  a.ldy = b.ldy = ldy;
  a.m = b.m = m;
  gemv_pair(g, a, b);
}

ParallelLayer::ParallelLayer(const LayerArgs& args)
    : MoeLayerImpl(args),
      chunk_(chunk_for(*args.kernels.gemv, kChunkOutputs)),
      router_chunk_(chunk_for(router_, kRouterChunkOutputs)),
      ld_h_(padded(shape_.hidden)),
      ld_i_(padded(shape_.intermediate)),
      ld_s_(padded(shape_.shared_intermediate)),
      assign_(shape_.experts, args.max_tokens * shape_.top_k),
      scratch_(static_cast<size_t>(args.threads)) {}

void ParallelLayer::reserve_tokens(int64_t tokens) {
  if (tokens <= capacity_) return;
  const int64_t E = shape_.experts, S = shape_.shared_intermediate;
  const int64_t pairs = tokens * shape_.top_k;
  routing_.ids.reserve(static_cast<size_t>(pairs));
  routing_.weights.reserve(static_cast<size_t>(pairs));
  logits_.reserve(static_cast<size_t>(tokens * E));
  gate_.reserve(static_cast<size_t>(tokens));
  out_.reserve(static_cast<size_t>(pairs * ld_h_));
  assign_.reserve(pairs);
  ScratchSize need = strategy_scratch(tokens);
  if (S > 0) {
    shared_h_.reserve(static_cast<size_t>(tokens * ld_s_));
    shared_out_.reserve(static_cast<size_t>(tokens * ld_h_));
    need.gu = std::max(need.gu, tokens * padded(chunk_));  // a chunk of S rows, every token
  }
  for (Scratch& s : scratch_) {
    s.xs.reserve(static_cast<size_t>(std::max<int64_t>(need.xs, 1)));
    s.g.reserve(static_cast<size_t>(std::max<int64_t>(need.gu, 1)));
    s.u.reserve(static_cast<size_t>(std::max<int64_t>(need.gu, 1)));
    s.topk.reserve(static_cast<size_t>(E));
  }
  reserve_strategy(tokens);
  capacity_ = tokens;
}

ParallelLayer::Scratch& ParallelLayer::my_scratch() {
  return scratch_[static_cast<size_t>(omp_get_thread_num())];
}

void ParallelLayer::expert_ffn(int64_t e, const float* x, int64_t ldx, int64_t m, float* out,
                               Scratch& s) {
  const int64_t H = shape_.hidden, I = shape_.intermediate;
  const GemvVariant& g = *k_.gemv;
  float* gb = s.g.data();
  float* ub = s.u.data();
  gemv_gate_up_rows(g, w_.expert(e, Proj::kGate), w_.expert(e, Proj::kUp), 0, I, x, ldx, gb, ub,
                    ld_i_, m);
  for (int64_t t = 0; t < m; ++t) k_.swiglu->fn(gb + t * ld_i_, ub + t * ld_i_, gb + t * ld_i_, I);
  gemv_rows(g, w_.expert(e, Proj::kDown), 0, H, gb, ld_i_, out, ld_h_, m);
}

void ParallelLayer::expert_block(int64_t e, const float* x, int64_t p0, int64_t m, Scratch& s) {
  const int64_t H = shape_.hidden;
  float* out = out_.data() + p0 * ld_h_;
  if (m == 1) {
    expert_ffn(e, x + assign_.token_at(p0) * H, H, 1, out, s);
    return;
  }
  float* xs = s.xs.data();
  for (int64_t j = 0; j < m; ++j)
    std::memcpy(xs + j * ld_h_, x + assign_.token_at(p0 + j) * H,
                static_cast<size_t>(H) * sizeof(float));
  expert_ffn(e, xs, ld_h_, m, out, s);
}

void ParallelLayer::expert_blocks_ws(const float* x, int64_t batch) {
  Scratch& s = my_scratch();
  const int32_t* active = assign_.active();
#pragma omp for schedule(dynamic) nowait
  for (int64_t a = 0; a < assign_.active_count(); ++a) {
    const int64_t e = active[a];
    const int64_t end = assign_.end(e);
    for (int64_t p = assign_.begin(e); p < end;) {
      const int64_t m = std::min(batch, end - p);
      expert_block(e, x, p, m, s);
      p += m;
    }
  }
}

void ParallelLayer::route_one(const float* x, int64_t t, Scratch& s) {
  const int64_t H = shape_.hidden, E = shape_.experts, k = shape_.top_k;
  const float* xt = x + t * H;
  float* logits = logits_.data() + t * E;
  // Row chunks as in route_decode_ws, so that forward(x, 1) and incremental_forward(x) agree
  // bit for bit.
  const MatrixRef router = w_.router();
  for (int64_t r0 = 0; r0 < E; r0 += router_chunk_)
    gemv_rows(router_, router, r0, std::min(E, r0 + router_chunk_), xt, H, logits + r0, E, 1);
  k_.softmax->fn(logits, logits, E);
  float* w = routing_.weights.data() + t * k;
  k_.topk->fn(logits, E, k, w, routing_.ids.data() + t * k, s.topk.data());
  if (shape_.norm_topk_prob) normalize_topk(w, k);
  if (shape_.has_shared_expert()) {
    float z = 0.0f;
    gemv_rows(router_, w_.shared_expert_gate(), 0, 1, xt, H, &z, 1, 1);
    gate_.data()[t] = sigmoid(z);
  }
}

void ParallelLayer::route_tokens_ws(const float* x, int64_t tokens) {
  Scratch& s = my_scratch();
#pragma omp for schedule(static)
  for (int64_t t = 0; t < tokens; ++t) route_one(x, t, s);
}

void ParallelLayer::route_decode_ws(const float* x) {
  const int64_t H = shape_.hidden, E = shape_.experts, k = shape_.top_k;
  const MatrixRef router = w_.router();
  float* logits = logits_.data();
  const int64_t chunks = chunk_count(E, router_chunk_);
#pragma omp for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t r0 = c * router_chunk_;
    gemv_rows(router_, router, r0, std::min(E, r0 + router_chunk_), x, H, logits + r0, E, 1);
  }
#pragma omp single
  {
    k_.softmax->fn(logits, logits, E);
    float* w = routing_.weights.data();
    k_.topk->fn(logits, E, k, w, routing_.ids.data(), my_scratch().topk.data());
    if (shape_.norm_topk_prob) normalize_topk(w, k);
    if (shape_.has_shared_expert()) {
      float z = 0.0f;
      gemv_rows(router_, w_.shared_expert_gate(), 0, 1, x, H, &z, 1, 1);
      gate_.data()[0] = sigmoid(z);
    }
  }
}

void ParallelLayer::routed_decode_ws(const float* x) {
  Scratch& s = my_scratch();
  const int64_t k = shape_.top_k, H = shape_.hidden;
  const int32_t* ids = routing_.ids.data();
#pragma omp for schedule(dynamic) nowait
  for (int64_t j = 0; j < k; ++j) expert_ffn(ids[j], x, H, 1, out_.data() + j * ld_h_, s);
}

void ParallelLayer::shared_expert_ws(const float* x, int64_t tokens) {
  if (!shape_.has_shared_expert()) {
#pragma omp barrier
    return;
  }
  const int64_t H = shape_.hidden, S = shape_.shared_intermediate;
  const GemvVariant& g = *k_.gemv;
  Scratch& s = my_scratch();
  float* h = shared_h_.data();
  // dynamic: threads arrive here as they finish their routed experts.
  const int64_t s_chunks = chunk_count(S, chunk_);
#pragma omp for schedule(dynamic)
  for (int64_t c = 0; c < s_chunks; ++c) {
    const int64_t r0 = c * chunk_, r1 = std::min(S, r0 + chunk_), n = r1 - r0, ld = padded(n);
    gemv_gate_up_rows(g, w_.shared(Proj::kGate), w_.shared(Proj::kUp), r0, r1, x, H, s.g.data(),
                      s.u.data(), ld, tokens);
    for (int64_t t = 0; t < tokens; ++t)
      k_.swiglu->fn(s.g.data() + t * ld, s.u.data() + t * ld, h + t * ld_s_ + r0, n);
  }
  const int64_t h_chunks = chunk_count(H, chunk_);
#pragma omp for schedule(static)
  for (int64_t c = 0; c < h_chunks; ++c) {
    const int64_t r0 = c * chunk_, r1 = std::min(H, r0 + chunk_);
    gemv_rows(g, w_.shared(Proj::kDown), r0, r1, h, ld_s_, shared_out_.data() + r0, ld_h_,
              tokens);
  }
}

void ParallelLayer::reduce_tokens_ws(int64_t tokens, float* y) {
  const int64_t H = shape_.hidden, k = shape_.top_k;
  const bool shared = shape_.has_shared_expert();
  // nowait: the end of the parallel region is the barrier.
#pragma omp for schedule(static) nowait
  for (int64_t t = 0; t < tokens; ++t) {
    float* yt = y + t * H;
    for (int64_t j = 0; j < k; ++j) {
      const float w = routing_.weights[static_cast<size_t>(t * k + j)];
      const float* o = out_.data() + assign_.position_of(t * k + j) * ld_h_;
      if (j == 0) {
        for (int64_t i = 0; i < H; ++i) yt[i] = w * o[i];
      } else {
        for (int64_t i = 0; i < H; ++i) yt[i] += w * o[i];
      }
    }
    if (shared) {
      const float z = gate_.data()[t];
      const float* o = shared_out_.data() + t * ld_h_;
      for (int64_t i = 0; i < H; ++i) yt[i] += z * o[i];
    }
  }
}

void ParallelLayer::reduce_decode_ws(float* y) {
  const int64_t H = shape_.hidden, k = shape_.top_k;
  const bool shared = shape_.has_shared_expert();
  const float* w = routing_.weights.data();
  const int64_t chunks = chunk_count(H, chunk_);
#pragma omp for schedule(static) nowait
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t i0 = c * chunk_, i1 = std::min(H, i0 + chunk_);
    // The same operations in the same order as reduce_tokens_ws for one token.
    for (int64_t j = 0; j < k; ++j) {
      const float* o = out_.data() + j * ld_h_;
      if (j == 0) {
        for (int64_t i = i0; i < i1; ++i) y[i] = w[j] * o[i];
      } else {
        for (int64_t i = i0; i < i1; ++i) y[i] += w[j] * o[i];
      }
    }
    if (shared) {
      const float z = gate_.data()[0];
      for (int64_t i = i0; i < i1; ++i) y[i] += z * shared_out_.data()[i];
    }
  }
}

void ParallelLayer::forward(const float* x, int64_t tokens, float* y) {
  if (tokens <= 0) return;
  reserve_tokens(tokens);
  const size_t pairs = static_cast<size_t>(tokens * shape_.top_k);
  routing_.ids.resize(pairs);
  routing_.weights.resize(pairs);
#pragma omp parallel num_threads(threads_) if (threads_ > 1)
  {
    route_tokens_ws(x, tokens);
#pragma omp single
    assign_.build(routing_.ids.data(), tokens, shape_.top_k);
    routed_experts_ws(x, tokens);
    shared_expert_ws(x, tokens);
    reduce_tokens_ws(tokens, y);
  }
}

void ParallelLayer::incremental_forward(const float* x, float* y) {
  const size_t k = static_cast<size_t>(shape_.top_k);
  routing_.ids.resize(k);  // within the capacity reserved at construction
  routing_.weights.resize(k);
#pragma omp parallel num_threads(threads_) if (threads_ > 1)
  {
    route_decode_ws(x);
    routed_decode_ws(x);
    shared_expert_ws(x, 1);
    reduce_decode_ws(y);
  }
}

}  // namespace moetune
