// The f32 GEMV kernels that run one token at a time, `__<isa>_r<R>`, written once over a vector
// traits type V (kernels/common/vec_avx2.h's Vec8, vec_avx512.h's Vec16) and instantiated in
// avx2.cpp and avx512.cpp, which say why each R and unroll.
//
// oi (oi<R, U>): R output rows per pass share each load of x, U accumulators per row (R·U FMA
// chains); the row sums are reduced with horizontal adds once per pass (hsum4, four rows at a
// time), not once per element.
// io (io<R>): R input rows per pass are folded into each load and store of y, so y
// (L1-resident: a thread's share of n is a few KB) is touched k/R times instead of k times.
//
// Tails never read or write past the logical width: the last k % L inputs (oi) or n % L outputs
// (io) go through V's masked loads and stores, which do not touch, and cannot fault on, the
// masked-off lanes.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/common/vec.h"
#include "kernels/gemv/gemv.h"

namespace moetune::one_token {
namespace {

// R output rows o..o+R-1 of one token. U vectors per row per step: R·U accumulators.
template <typename V, int R, int U>
void oi_rows(const float* w, int64_t ldw, const float* x, int64_t k, float* y, bool accumulate) {
  constexpr int L = V::kLanes;
  using Vec = typename V::Vec;
  const float* row[R];
  for (int r = 0; r < R; ++r) row[r] = w + r * ldw;
  Vec acc[R][U];
  for (int r = 0; r < R; ++r)
    for (int u = 0; u < U; ++u) acc[r][u] = V::zero();
  int64_t i = 0;
  for (; i + L * U <= k; i += L * U) {
    Vec xv[U];
    for (int u = 0; u < U; ++u) xv[u] = V::load(x + i + L * u);
    for (int r = 0; r < R; ++r)
      for (int u = 0; u < U; ++u) acc[r][u] = V::fma(V::load(row[r] + i + L * u), xv[u], acc[r][u]);
  }
  for (; i + L <= k; i += L) {
    const Vec xv = V::load(x + i);
    for (int r = 0; r < R; ++r) acc[r][0] = V::fma(V::load(row[r] + i), xv, acc[r][0]);
  }
  if (i < k) {
    const typename V::Mask mask = V::mask(k - i);
    const Vec xv = V::load(x + i, mask);
    for (int r = 0; r < R; ++r) acc[r][0] = V::fma(V::load(row[r] + i, mask), xv, acc[r][0]);
  }
  Vec sum[R];
  for (int r = 0; r < R; ++r) {
    sum[r] = acc[r][0];
    for (int u = 1; u < U; ++u) sum[r] = V::add(sum[r], acc[r][u]);
  }
  if constexpr (R == 1) {
    const float s = V::hsum(sum[0]);
    y[0] = accumulate ? y[0] + s : s;
  } else {
    static_assert(R % 4 == 0, "rows are reduced four at a time");
    for (int r = 0; r < R; r += 4) {
      __m128 s = vec::hsum4<V>(sum[r], sum[r + 1], sum[r + 2], sum[r + 3]);
      if (accumulate) s = _mm_add_ps(s, _mm_loadu_ps(y + r));
      _mm_storeu_ps(y + r, s);
    }
  }
}

template <typename V, int R, int U>
void oi(const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    int64_t o = 0;
    for (; o + R <= a.n; o += R)
      oi_rows<V, R, U>(a.w + o * a.ldw, a.ldw, x, a.k, y + o, a.accumulate);
    for (; o < a.n; ++o) oi_rows<V, 1, 4>(a.w + o * a.ldw, a.ldw, x, a.k, y + o, a.accumulate);
  }
}

// y[0, n) (+)= Σ_r x[r] · W row r, for R input rows. kFromZero: the first pass of y = W·x,
// which starts from zero instead of reading y. Two vectors of y per step, then one.
template <typename V, int R, bool kFromZero>
void io_rows(const float* w, int64_t ldw, const float* x, int64_t n, float* y) {
  constexpr int L = V::kLanes;
  using Vec = typename V::Vec;
  const float* row[R];
  Vec xb[R];
  for (int r = 0; r < R; ++r) {
    row[r] = w + r * ldw;
    xb[r] = V::set1(x[r]);
  }
  int64_t o = 0;
  for (; o + 2 * L <= n; o += 2 * L) {
    Vec v0 = kFromZero ? V::zero() : V::load(y + o);
    Vec v1 = kFromZero ? V::zero() : V::load(y + o + L);
    for (int r = 0; r < R; ++r) {
      v0 = V::fma(V::load(row[r] + o), xb[r], v0);
      v1 = V::fma(V::load(row[r] + o + L), xb[r], v1);
    }
    V::store(y + o, v0);
    V::store(y + o + L, v1);
  }
  for (; o + L <= n; o += L) {
    Vec v = kFromZero ? V::zero() : V::load(y + o);
    for (int r = 0; r < R; ++r) v = V::fma(V::load(row[r] + o), xb[r], v);
    V::store(y + o, v);
  }
  if (o < n) {
    const typename V::Mask mask = V::mask(n - o);
    Vec v = kFromZero ? V::zero() : V::load(y + o, mask);
    for (int r = 0; r < R; ++r) v = V::fma(V::load(row[r] + o, mask), xb[r], v);
    V::store(y + o, v, mask);
  }
}

template <typename V, int R>
void io(const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    int64_t i = 0;
    if (!a.accumulate) {
      if (a.k >= R) {
        io_rows<V, R, true>(a.w, a.ldw, x, a.n, y);
        i = R;
      } else {
        io_rows<V, 1, true>(a.w, a.ldw, x, a.n, y);
        i = 1;
      }
    }
    for (; i + R <= a.k; i += R) io_rows<V, R, false>(a.w + i * a.ldw, a.ldw, x + i, a.n, y);
    for (; i < a.k; ++i) io_rows<V, 1, false>(a.w + i * a.ldw, a.ldw, x + i, a.n, y);
  }
}

}  // namespace
}  // namespace moetune::one_token
