#include "variants/moe_weights.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace moetune {
namespace {

AlignedPtr<float> zeros(int64_t count) {
  auto p = aligned_alloc_array<float>(static_cast<size_t>(count));
  std::memset(p.get(), 0, static_cast<size_t>(count) * sizeof(float));
  return p;
}

// A matrix [n outputs, k inputs] at `w` in `layout`.
MatrixRef matrix(const float* w, int64_t n, int64_t k, Layout layout) {
  return {w, n, k, layout == Layout::kOI ? k : n, layout};
}

// splitmix64 of (seed, index): a random value per weight that does not depend on the order
// in which weights are filled, so threads may fill in any order.
float uniform(uint64_t seed, uint64_t index, float bound) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + index + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const float u = static_cast<float>(z >> 40) * 0x1p-24f;  // [0, 1)
  return (2.0f * u - 1.0f) * bound;
}

void fill_random(float* p, int64_t count, int64_t fan_in, uint64_t seed, uint64_t stream) {
  const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
  const uint64_t s = seed ^ (stream << 56);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) p[i] = uniform(s, static_cast<uint64_t>(i), bound);
}

}  // namespace

MoeWeights::MoeWeights(const MoeShape& shape, Layout layout) : shape_(shape), layout_(layout) {
  const int64_t H = shape.hidden, I = shape.intermediate, E = shape.experts;
  const int64_t S = shape.shared_intermediate;
  router_ = zeros(E * H);
  shared_expert_gate_ = zeros(H);
  gate_ = zeros(E * I * H);
  up_ = zeros(E * I * H);
  down_ = zeros(E * I * H);
  if (S > 0) {
    shared_gate_ = zeros(S * H);
    shared_up_ = zeros(S * H);
    shared_down_ = zeros(S * H);
  }
}

MoeWeights MoeWeights::random(const MoeShape& shape, Layout layout, uint64_t seed) {
  MoeWeights w(shape, layout);
  const int64_t H = shape.hidden, I = shape.intermediate, E = shape.experts;
  const int64_t S = shape.shared_intermediate;
  // Values depend on the logical [out, in] index only through the stream and the flat index
  // of the stored array; a layout changes which weight is where, not the distribution.
  fill_random(w.router_.get(), E * H, H, seed, 1);
  fill_random(w.gate_.get(), E * I * H, H, seed, 2);
  fill_random(w.up_.get(), E * I * H, H, seed, 3);
  fill_random(w.down_.get(), E * I * H, I, seed, 4);
  if (S > 0) {
    fill_random(w.shared_expert_gate_.get(), H, H, seed, 5);
    fill_random(w.shared_gate_.get(), S * H, H, seed, 6);
    fill_random(w.shared_up_.get(), S * H, H, seed, 7);
    fill_random(w.shared_down_.get(), S * H, S, seed, 8);
  }
  return w;
}

MatrixRef MoeWeights::router() const {
  return matrix(router_.get(), shape_.experts, shape_.hidden, Layout::kOI);
}

MatrixRef MoeWeights::shared_expert_gate() const {
  return matrix(shared_expert_gate_.get(), 1, shape_.hidden, Layout::kOI);
}

MatrixRef MoeWeights::expert(int64_t e, Proj p) const {
  const int64_t H = shape_.hidden, I = shape_.intermediate;
  switch (p) {
    case Proj::kGate: return matrix(gate_.get() + e * I * H, I, H, layout_);
    case Proj::kUp: return matrix(up_.get() + e * I * H, I, H, layout_);
    case Proj::kDown: return matrix(down_.get() + e * I * H, H, I, layout_);
  }
  return {};
}

MatrixRef MoeWeights::shared(Proj p) const {
  const int64_t H = shape_.hidden, S = shape_.shared_intermediate;
  switch (p) {
    case Proj::kGate: return matrix(shared_gate_.get(), S, H, layout_);
    case Proj::kUp: return matrix(shared_up_.get(), S, H, layout_);
    case Proj::kDown: return matrix(shared_down_.get(), H, S, layout_);
  }
  return {};
}

void MoeWeights::store(const MatrixRef& dst, const float* oi) {
  float* d = mutable_ptr(dst);
  if (dst.layout == Layout::kOI) {
    std::memcpy(d, oi, static_cast<size_t>(dst.n * dst.k) * sizeof(float));
    return;
  }
  // io: d[i*n + o] = oi[o*k + i]
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < dst.k; ++i)
    for (int64_t o = 0; o < dst.n; ++o) d[i * dst.ldw + o] = oi[o * dst.k + i];
}

void MoeWeights::set_router(const float* oi) { store(router(), oi); }
void MoeWeights::set_shared_expert_gate(const float* oi) { store(shared_expert_gate(), oi); }
void MoeWeights::set_expert(int64_t e, Proj p, const float* oi) { store(expert(e, p), oi); }
void MoeWeights::set_shared(Proj p, const float* oi) { store(shared(p), oi); }

MoeWeights MoeWeights::relayout(Layout layout) const {
  MoeWeights out(shape_, layout);
  // Read each matrix back as [out, in], then store it in the new layout.
  auto to_oi = [](const MatrixRef& m, std::vector<float>& buf) -> const float* {
    if (m.layout == Layout::kOI) return m.w;
    buf.resize(static_cast<size_t>(m.n * m.k));
    for (int64_t o = 0; o < m.n; ++o)
      for (int64_t i = 0; i < m.k; ++i) buf[o * m.k + i] = m.w[i * m.ldw + o];
    return buf.data();
  };
  std::vector<float> buf;
  out.set_router(router().w);
  out.set_shared_expert_gate(shared_expert_gate().w);
  for (int64_t e = 0; e < shape_.experts; ++e)
    for (Proj p : {Proj::kGate, Proj::kUp, Proj::kDown})
      out.set_expert(e, p, to_oi(expert(e, p), buf));
  if (shape_.has_shared_expert())
    for (Proj p : {Proj::kGate, Proj::kUp, Proj::kDown}) out.set_shared(p, to_oi(shared(p), buf));
  return out;
}

int64_t MoeWeights::bytes() const {
  return shape_.parameter_count() * static_cast<int64_t>(sizeof(float));
}

}  // namespace moetune
