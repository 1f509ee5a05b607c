#include "variants/moe_weights.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>


namespace moetune {
namespace {

template <typename T>
AlignedPtr<T> zeros(int64_t count) {
  auto p = aligned_alloc_array<T>(static_cast<size_t>(count));
  std::memset(p.get(), 0, static_cast<size_t>(count) * sizeof(T));
  return p;
}

// An f32 matrix [n outputs, k inputs] at `w` in `layout`.
MatrixRef matrix(const float* w, int64_t n, int64_t k, Layout layout) {
  MatrixRef m;
  m.values = w;
  m.n = n;
  m.k = k;
  m.ldw = layout == Layout::kOI ? k : n;
  m.layout = layout;
  return m;
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

// m read back as f32 [out, in] (m must be f32); `buf` holds the copy when m is io.
const float* to_oi(const MatrixRef& m, std::vector<float>& buf) {
  const float* w = m.f32();
  if (m.layout == Layout::kOI) return w;
  buf.resize(static_cast<size_t>(m.n * m.k));
  for (int64_t o = 0; o < m.n; ++o)
    for (int64_t i = 0; i < m.k; ++i) buf[o * m.k + i] = w[i * m.ldw + o];
  return buf.data();
}

}  // namespace

GemvArgs MatrixRef::args(int64_t r0, int64_t r1) const {
  GemvArgs a;
  a.n = n;
  a.k = k;
  a.ldw = ldw;
  dtype_traits(dtype).set_weights(a, values, scale);
  return gemv_outputs(a, layout, r0, r1 - r0);
}

MoeWeights::Stored MoeWeights::allocate(int64_t matrices, int64_t n, int64_t k) const {
  const DTypeTraits& t = dtype_traits(dtype_);
  Stored s;
  s.values = zeros<unsigned char>(matrices * n * k * t.bytes);
  if (t.row_scales) s.scale = zeros<float>(matrices * n);
  return s;
}

MatrixRef MoeWeights::view(const Stored& s, int64_t index, int64_t n, int64_t k) const {
  MatrixRef m = matrix(nullptr, n, k, layout_);
  m.values = s.values.get() + index * n * k * dtype_bytes(dtype_);
  m.dtype = dtype_;
  if (s.scale) m.scale = s.scale.get() + index * n;
  return m;
}

MoeWeights::MoeWeights(const MoeShape& shape, Layout layout, DType dtype)
    : shape_(shape), layout_(layout), dtype_(dtype) {
  const int64_t H = shape.hidden, I = shape.intermediate, E = shape.experts;
  const int64_t S = shape.shared_intermediate;
  router_ = zeros<float>(E * H);
  shared_expert_gate_ = zeros<float>(H);
  gate_ = allocate(E, I, H);
  up_ = allocate(E, I, H);
  down_ = allocate(E, H, I);
  if (S > 0) {
    shared_gate_ = allocate(1, S, H);
    shared_up_ = allocate(1, S, H);
    shared_down_ = allocate(1, H, S);
  }
}

MoeWeights MoeWeights::random(const MoeShape& shape, Layout layout, uint64_t seed, DType dtype) {
  if (dtype != DType::kF32) return random(shape, layout, seed).converted(dtype);
  MoeWeights w(shape, layout);
  const int64_t H = shape.hidden, I = shape.intermediate, E = shape.experts;
  const int64_t S = shape.shared_intermediate;
  // Values depend on the logical [out, in] index only through the stream and the flat index
  // of the stored array; a layout changes which weight is where, not the distribution.
  fill_random(w.router_.get(), E * H, H, seed, 1);
  fill_random(w.gate_.f32(), E * I * H, H, seed, 2);
  fill_random(w.up_.f32(), E * I * H, H, seed, 3);
  fill_random(w.down_.f32(), E * I * H, I, seed, 4);
  if (S > 0) {
    fill_random(w.shared_expert_gate_.get(), H, H, seed, 5);
    fill_random(w.shared_gate_.f32(), S * H, H, seed, 6);
    fill_random(w.shared_up_.f32(), S * H, H, seed, 7);
    fill_random(w.shared_down_.f32(), S * H, S, seed, 8);
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
    case Proj::kGate: return view(gate_, e, I, H);
    case Proj::kUp: return view(up_, e, I, H);
    case Proj::kDown: return view(down_, e, H, I);
  }
  return {};
}

MatrixRef MoeWeights::shared(Proj p) const {
  const int64_t H = shape_.hidden, S = shape_.shared_intermediate;
  switch (p) {
    case Proj::kGate: return view(shared_gate_, 0, S, H);
    case Proj::kUp: return view(shared_up_, 0, S, H);
    case Proj::kDown: return view(shared_down_, 0, H, S);
  }
  return {};
}

void MoeWeights::store(const MatrixRef& dst, const float* oi) {
  const int64_t count = dst.n * dst.k;
  // f32 in the destination's layout: the array itself, or a temporary to convert from.
  std::vector<float> tmp;
  float* d = const_cast<float*>(dst.f32());
  if (!d) {
    tmp.resize(static_cast<size_t>(count));
    d = tmp.data();
  }
  if (dst.layout == Layout::kOI) {
    std::memcpy(d, oi, static_cast<size_t>(count) * sizeof(float));
  } else {
    // io: d[i*n + o] = oi[o*k + i]
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < dst.k; ++i)
      for (int64_t o = 0; o < dst.n; ++o) d[i * dst.ldw + o] = oi[o * dst.k + i];
  }
  if (dst.dtype != DType::kF32)
    dtype_traits(dst.dtype).quantize(d, dst.n, dst.k, dst.ldw, dst.layout,
                                     const_cast<void*>(dst.values), const_cast<float*>(dst.scale));
}

void MoeWeights::store_as_is(const MatrixRef& dst, const void* values, const float* scale) {
  const DTypeTraits& t = dtype_traits(dst.dtype);
  std::memcpy(const_cast<void*>(dst.values), values,
              static_cast<size_t>(dst.n * dst.k * t.bytes));
  if (t.row_scales)
    std::memcpy(const_cast<float*>(dst.scale), scale, static_cast<size_t>(dst.n) * sizeof(float));
}

void MoeWeights::set_expert_stored(int64_t e, Proj p, const void* values, const float* scale) {
  store_as_is(expert(e, p), values, scale);
}
void MoeWeights::set_shared_stored(Proj p, const void* values, const float* scale) {
  store_as_is(shared(p), values, scale);
}

void MoeWeights::set_router(const float* oi) { store(router(), oi); }
void MoeWeights::set_shared_expert_gate(const float* oi) { store(shared_expert_gate(), oi); }
void MoeWeights::set_expert(int64_t e, Proj p, const float* oi) { store(expert(e, p), oi); }
void MoeWeights::set_shared(Proj p, const float* oi) { store(shared(p), oi); }

MoeWeights MoeWeights::copy_as(Layout layout, DType dtype) const {
  if (dtype_ != DType::kF32)
    throw std::logic_error("MoeWeights: only f32 weights can be relaid out or converted");
  MoeWeights out(shape_, layout, dtype);
  std::vector<float> buf;
  out.set_router(router().f32());
  out.set_shared_expert_gate(shared_expert_gate().f32());
  for (int64_t e = 0; e < shape_.experts; ++e)
    for (Proj p : {Proj::kGate, Proj::kUp, Proj::kDown})
      out.set_expert(e, p, to_oi(expert(e, p), buf));
  if (shape_.has_shared_expert())
    for (Proj p : {Proj::kGate, Proj::kUp, Proj::kDown}) out.set_shared(p, to_oi(shared(p), buf));
  return out;
}

MoeWeights MoeWeights::relayout(Layout layout) const { return copy_as(layout, DType::kF32); }
MoeWeights MoeWeights::converted(DType dtype) const { return copy_as(layout_, dtype); }

int64_t MoeWeights::expert_bytes() const {
  const int64_t H = shape_.hidden, I = shape_.intermediate;
  return 2 * dtype_matrix_bytes(dtype_, I, H) + dtype_matrix_bytes(dtype_, H, I);
}

int64_t MoeWeights::shared_bytes() const {
  const int64_t H = shape_.hidden, S = shape_.shared_intermediate;
  if (S == 0) return 0;
  // Gate and up [S, H], down [H, S] in the dtype, and the f32 shared-expert gate [1, H].
  return 2 * dtype_matrix_bytes(dtype_, S, H) + dtype_matrix_bytes(dtype_, H, S) + H * 4;
}

int64_t MoeWeights::bytes() const {
  const int64_t router = shape_.experts * shape_.hidden * 4;
  return router + shape_.experts * expert_bytes() + shared_bytes();
}

}  // namespace moetune
