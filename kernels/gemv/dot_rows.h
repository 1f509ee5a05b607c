// The oi GEMV kernels of every dtype and vector width, written once: a call's rows (Rows),
// their dot products (dot_rows), the passes of 4 rows of the r4 and seg4 kernels
// (oi_passes_of_4), and seg4's fused gate+up form (seg4_pair). No intrinsic here: the code
// is a template over
//   V, a vector width (kernels/common/vec_avx2.h's Vec8, vec_avx512.h's Vec16): Vec, kLanes, zero,
//      load (kLanes f32), widen<D> (kLanes weights of dtype D as f32), fma, add, hsum;
//   D, a dtype (F32, Bf16, Int8 in the same headers): T, at, weights, kScaled;
// and is instantiated in the files of each ISA, which include it through their widen header
// (so in an unnamed namespace: each file its own copy, compiled with its own flags).
#pragma once

#include <cstdint>

#include "kernels/gemv/gemv.h"

namespace moetune::dot {
namespace {

// Row o of an oi call: its weights, its scale (where D has scales) and its output for token t.
template <typename D>
struct Rows {
  const GemvArgs& a;
  const typename D::T* w = D::weights(a);
  const typename D::T* row(int64_t o) const { return w + o * a.ldw; }
  const float* scale(int64_t o) const { return D::kScaled ? a.scale + o : nullptr; }
  float* out(int64_t t, int64_t o) const { return a.y + t * a.ldy + o; }
};

// y[r] (+)= scale[r] · Σ_i W_r[i]·x[i] for the R rows W_r at w[r] (scale[r] only where D is
// scaled), each summed in one fixed order: 2 vectors per step (2·kLanes inputs), then one
// vector, the two accumulators added and reduced horizontally, then the last k % kLanes one
// by one. Every kernel built on it gives a row the same bits whichever rows share its pass.
// The R rows share each load of x; 2·R independent FMA chains.
template <typename V, typename D, int R>
inline void dot_rows(const typename D::T* const (&w)[R], const float* x, int64_t k,
                     const float* const (&scale)[R], float* const (&y)[R], bool accumulate) {
  constexpr int L = V::kLanes;
  typename V::Vec acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = V::zero();
  int64_t i = 0;
  for (; i + 2 * L <= k; i += 2 * L) {
    const typename V::Vec x0 = V::load(x + i), x1 = V::load(x + i + L);
    for (int r = 0; r < R; ++r) {
      acc[r][0] = V::fma(V::template widen<D>(w[r] + i), x0, acc[r][0]);
      acc[r][1] = V::fma(V::template widen<D>(w[r] + i + L), x1, acc[r][1]);
    }
  }
  for (; i + L <= k; i += L) {
    const typename V::Vec x0 = V::load(x + i);
    for (int r = 0; r < R; ++r) acc[r][0] = V::fma(V::template widen<D>(w[r] + i), x0, acc[r][0]);
  }
  for (int r = 0; r < R; ++r) {
    float sum = V::hsum(V::add(acc[r][0], acc[r][1]));
    for (int64_t j = i; j < k; ++j) sum += D::at(w[r] + j) * x[j];
    if constexpr (D::kScaled) sum *= *scale[r];
    *y[r] = accumulate ? *y[r] + sum : sum;
  }
}

// An oi call in passes of 4 rows: pass p takes rows p·step + j·stride (j < 4), p < n / 4 (4
// adjacent rows: step 4, stride 1; 4 rows a quarter of the outputs apart: step 1, stride
// n / 4); then the last n % 4 rows one at a time.
template <typename V, typename D>
void oi_passes_of_4(const GemvArgs& a, int64_t step, int64_t stride) {
  const Rows<D> A{a};
  const int64_t passes = a.n / 4;
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    for (int64_t p = 0; p < passes; ++p) {
      const int64_t r[4] = {p * step, p * step + stride, p * step + 2 * stride,
                            p * step + 3 * stride};
      dot_rows<V, D, 4>({A.row(r[0]), A.row(r[1]), A.row(r[2]), A.row(r[3])}, x, a.k,
                        {A.scale(r[0]), A.scale(r[1]), A.scale(r[2]), A.scale(r[3])},
                        {A.out(t, r[0]), A.out(t, r[1]), A.out(t, r[2]), A.out(t, r[3])},
                        a.accumulate);
    }
    for (int64_t o = 4 * passes; o < a.n; ++o)
      dot_rows<V, D, 1>({A.row(o)}, x, a.k, {A.scale(o)}, {A.out(t, o)}, a.accumulate);
  }
}

// The seg4 kernel: 4 rows a quarter of the outputs apart per pass.
template <typename V, typename D>
void seg4(const GemvArgs& a) {
  oi_passes_of_4<V, D>(a, 1, a.n / 4);
}

// a and b as two calls of the seg4 kernel would compute them (b.x, b.m, b.n, b.k and
// b.accumulate are a's), in passes over rows {o, o + h} of both, h = n / 2; an odd last row of
// both together.
template <typename V, typename D>
void seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  const Rows<D> A{a}, B{b};
  const int64_t h = a.n / 2;
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    for (int64_t o = 0; o < h; ++o)
      dot_rows<V, D, 4>({A.row(o), A.row(o + h), B.row(o), B.row(o + h)}, x, a.k,
                        {A.scale(o), A.scale(o + h), B.scale(o), B.scale(o + h)},
                        {A.out(t, o), A.out(t, o + h), B.out(t, o), B.out(t, o + h)}, a.accumulate);
    if (a.n % 2)
      dot_rows<V, D, 2>({A.row(a.n - 1), B.row(a.n - 1)}, x, a.k,
                        {A.scale(a.n - 1), B.scale(a.n - 1)},
                        {A.out(t, a.n - 1), B.out(t, a.n - 1)}, a.accumulate);
  }
}

}  // namespace
}  // namespace moetune::dot
