// The f32 GEMV kernels with token batching (`__<isa>_m4`, the summary's batches of 4), written
// once over a vector traits type V (kernels/common/vec_avx2.h's Vec8, vec_avx512.h's Vec16)
// and a row count kRows, instantiated in avx2_m4.cpp and avx512_m4.cpp (which say why their
// kRows). Each weight load serves 4 tokens, so W streams from memory once per 4 tokens instead
// of once per token. m not a multiple of 4 ends with one pass of 1 to 3 tokens.
//
// oi: kRows rows x 4 tokens accumulators + 4 x vectors + 1 w vector.
// io: kRows input rows x 4 tokens broadcast x values + kRows w vectors + y; each group of
// kRows w loads is folded into the 4 tokens' y.
// Tails use V's masked loads and stores, which neither read nor write masked-off lanes.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/common/vec.h"
#include "kernels/gemv/gemv.h"

namespace moetune::token_batched {
namespace {

// out[j] = the horizontal sum of v[j], four at a time where it can.
template <typename V, int N>
void hsums(const typename V::Vec (&v)[N], float (&out)[N]) {
  int j = 0;
  for (; j + 4 <= N; j += 4)
    _mm_storeu_ps(out + j, vec::hsum4<V>(v[j], v[j + 1], v[j + 2], v[j + 3]));
  for (; j < N; ++j) out[j] = V::hsum(v[j]);
}

// Rows o..o+R-1 for the M tokens xs[t] -> ys[t].
template <typename V, int R, int M>
void oi_pass(const float* w, int64_t ldw, const float* const (&xs)[M], int64_t k,
             float* const (&ys)[M], int64_t o, bool accumulate) {
  constexpr int L = V::kLanes;
  using Vec = typename V::Vec;
  const float* row[R];
  for (int r = 0; r < R; ++r) row[r] = w + (o + r) * ldw;
  Vec acc[M * R];  // token t, row r at [t * R + r]
  for (int j = 0; j < M * R; ++j) acc[j] = V::zero();
  int64_t i = 0;
  for (; i + L <= k; i += L) {
    Vec xv[M];
    for (int t = 0; t < M; ++t) xv[t] = V::load(xs[t] + i);
    for (int r = 0; r < R; ++r) {
      const Vec wv = V::load(row[r] + i);
      for (int t = 0; t < M; ++t) acc[t * R + r] = V::fma(wv, xv[t], acc[t * R + r]);
    }
  }
  if (i < k) {
    const typename V::Mask mask = V::mask(k - i);
    Vec xv[M];
    for (int t = 0; t < M; ++t) xv[t] = V::load(xs[t] + i, mask);
    for (int r = 0; r < R; ++r) {
      const Vec wv = V::load(row[r] + i, mask);
      for (int t = 0; t < M; ++t) acc[t * R + r] = V::fma(wv, xv[t], acc[t * R + r]);
    }
  }
  float s[M * R];
  hsums<V>(acc, s);
  for (int t = 0; t < M; ++t)
    for (int r = 0; r < R; ++r) {
      float* y = ys[t] + o + r;
      *y = accumulate ? *y + s[t * R + r] : s[t * R + r];
    }
}

// ys[t][0, n) (+)= Σ_r xs[t][i + r] · W row i + r, for rows i..i+R-1 and the M tokens.
// kFromZero: the first pass of y = W·x, which starts from zero instead of reading y.
template <typename V, int R, bool kFromZero, int M>
void io_pass(const float* w, int64_t ldw, const float* const (&xs)[M], int64_t i, int64_t n,
             float* const (&ys)[M]) {
  constexpr int L = V::kLanes;
  using Vec = typename V::Vec;
  const float* row[R];
  for (int r = 0; r < R; ++r) row[r] = w + (i + r) * ldw;
  Vec xb[M][R];
  for (int t = 0; t < M; ++t)
    for (int r = 0; r < R; ++r) xb[t][r] = V::set1(xs[t][i + r]);
  int64_t o = 0;
  for (; o + L <= n; o += L) {
    Vec wv[R];
    for (int r = 0; r < R; ++r) wv[r] = V::load(row[r] + o);
    for (int t = 0; t < M; ++t) {
      Vec v = kFromZero ? V::zero() : V::load(ys[t] + o);
      for (int r = 0; r < R; ++r) v = V::fma(wv[r], xb[t][r], v);
      V::store(ys[t] + o, v);
    }
  }
  if (o < n) {
    const typename V::Mask mask = V::mask(n - o);
    Vec wv[R];
    for (int r = 0; r < R; ++r) wv[r] = V::load(row[r] + o, mask);
    for (int t = 0; t < M; ++t) {
      Vec v = kFromZero ? V::zero() : V::load(ys[t] + o, mask);
      for (int r = 0; r < R; ++r) v = V::fma(wv[r], xb[t][r], v);
      V::store(ys[t] + o, v, mask);
    }
  }
}

template <typename V, int kRows, int M>
void oi_tokens(const GemvArgs& a, int64_t t0) {
  const float* xs[M];
  float* ys[M];
  for (int t = 0; t < M; ++t) {
    xs[t] = a.x + (t0 + t) * a.ldx;
    ys[t] = a.y + (t0 + t) * a.ldy;
  }
  int64_t o = 0;
  for (; o + kRows <= a.n; o += kRows) oi_pass<V, kRows>(a.w, a.ldw, xs, a.k, ys, o, a.accumulate);
  for (; o < a.n; ++o) oi_pass<V, 1>(a.w, a.ldw, xs, a.k, ys, o, a.accumulate);
}

template <typename V, int kRows, int M>
void io_tokens(const GemvArgs& a, int64_t t0) {
  const float* xs[M];
  float* ys[M];
  for (int t = 0; t < M; ++t) {
    xs[t] = a.x + (t0 + t) * a.ldx;
    ys[t] = a.y + (t0 + t) * a.ldy;
  }
  int64_t i = 0;
  if (!a.accumulate) {
    if (a.k >= kRows) {
      io_pass<V, kRows, true>(a.w, a.ldw, xs, 0, a.n, ys);
      i = kRows;
    } else {
      io_pass<V, 1, true>(a.w, a.ldw, xs, 0, a.n, ys);
      i = 1;
    }
  }
  for (; i + kRows <= a.k; i += kRows) io_pass<V, kRows, false>(a.w, a.ldw, xs, i, a.n, ys);
  for (; i < a.k; ++i) io_pass<V, 1, false>(a.w, a.ldw, xs, i, a.n, ys);
}

// Blocks of 4 tokens, then one pass for the 1 to 3 left: Kernel::run<M>(a, first token).
template <typename Kernel>
void by_four(const GemvArgs& a) {
  int64_t t = 0;
  for (; t + 4 <= a.m; t += 4) Kernel::template run<4>(a, t);
  switch (a.m - t) {
    case 3:
      Kernel::template run<3>(a, t);
      break;
    case 2:
      Kernel::template run<2>(a, t);
      break;
    case 1:
      Kernel::template run<1>(a, t);
      break;
    default:
      break;
  }
}

template <typename V, int kRows>
struct OiTokens {
  template <int M>
  static void run(const GemvArgs& a, int64_t t0) {
    oi_tokens<V, kRows, M>(a, t0);
  }
};
template <typename V, int kRows>
struct IoTokens {
  template <int M>
  static void run(const GemvArgs& a, int64_t t0) {
    io_tokens<V, kRows, M>(a, t0);
  }
};

template <typename V, int kRows>
void oi(const GemvArgs& a) {
  by_four<OiTokens<V, kRows>>(a);
}
template <typename V, int kRows>
void io(const GemvArgs& a) {
  by_four<IoTokens<V, kRows>>(a);
}

}  // namespace
}  // namespace moetune::token_batched
