// AVX-512 GEMV with token batching (the summary's batches of 4): each weight load serves 4
// tokens, so W streams from memory once per 4 tokens. m not a multiple of 4 ends with one pass
// of 1 to 3 tokens. The structure of avx2_m4.cpp, 16 lanes wide and with twice the rows, which
// the 32 zmm registers allow:
// oi: 4 rows x 4 tokens = 16 accumulators + 4 x vectors + 1 w vector = 21 registers.
// io: 4 input rows x 4 tokens = 16 broadcast x values + 4 w vectors + y = 21 registers.
// Tails use __mmask16 masked loads and stores, which neither read nor write masked-off lanes.
#include "kernels/common/avx512_util.h"  // first: it sets up immintrin.h

#include <cstdint>

#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

using avx512::fold;
using avx512::tail_mask;

constexpr int kRows = 4;

// out[j] = the horizontal sum of v[j], four at a time where it can.
template <int N>
void hsums(const __m512 (&v)[N], float (&out)[N]) {
  int j = 0;
  for (; j + 4 <= N; j += 4) {
    const __m256 ab = _mm256_hadd_ps(fold(v[j]), fold(v[j + 1]));
    const __m256 cd = _mm256_hadd_ps(fold(v[j + 2]), fold(v[j + 3]));
    const __m256 abcd = _mm256_hadd_ps(ab, cd);
    _mm_storeu_ps(out + j,
                  _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
  }
  for (; j < N; ++j) out[j] = _mm512_reduce_add_ps(v[j]);
}

// Rows o..o+R-1 for the M tokens xs[t] -> ys[t].
template <int R, int M>
void oi_pass(const float* w, int64_t ldw, const float* const (&xs)[M], int64_t k,
             float* const (&ys)[M], int64_t o, bool accumulate) {
  const float* row[R];
  for (int r = 0; r < R; ++r) row[r] = w + (o + r) * ldw;
  __m512 acc[M * R];  // token t, row r at [t * R + r]
  for (int j = 0; j < M * R; ++j) acc[j] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    __m512 xv[M];
    for (int t = 0; t < M; ++t) xv[t] = _mm512_loadu_ps(xs[t] + i);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = _mm512_loadu_ps(row[r] + i);
      for (int t = 0; t < M; ++t) acc[t * R + r] = _mm512_fmadd_ps(wv, xv[t], acc[t * R + r]);
    }
  }
  if (i < k) {
    const __mmask16 mask = tail_mask(k - i);
    __m512 xv[M];
    for (int t = 0; t < M; ++t) xv[t] = _mm512_maskz_loadu_ps(mask, xs[t] + i);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = _mm512_maskz_loadu_ps(mask, row[r] + i);
      for (int t = 0; t < M; ++t) acc[t * R + r] = _mm512_fmadd_ps(wv, xv[t], acc[t * R + r]);
    }
  }
  float s[M * R];
  hsums(acc, s);
  for (int t = 0; t < M; ++t)
    for (int r = 0; r < R; ++r) {
      float* y = ys[t] + o + r;
      *y = accumulate ? *y + s[t * R + r] : s[t * R + r];
    }
}

template <int M>
void oi_tokens(const GemvArgs& a, int64_t t0) {
  const float* xs[M];
  float* ys[M];
  for (int t = 0; t < M; ++t) {
    xs[t] = a.x + (t0 + t) * a.ldx;
    ys[t] = a.y + (t0 + t) * a.ldy;
  }
  int64_t o = 0;
  for (; o + kRows <= a.n; o += kRows) oi_pass<kRows, M>(a.w, a.ldw, xs, a.k, ys, o, a.accumulate);
  for (; o < a.n; ++o) oi_pass<1, M>(a.w, a.ldw, xs, a.k, ys, o, a.accumulate);
}

// ys[t][0, n) (+)= Σ_r xs[t][i + r] · W row i + r, for rows i..i+R-1 and the M tokens.
// kFromZero: the first pass of y = W·x, which starts from zero instead of reading y.
template <int R, int M, bool kFromZero>
void io_pass(const float* w, int64_t ldw, const float* const (&xs)[M], int64_t i, int64_t n,
             float* const (&ys)[M]) {
  const float* row[R];
  for (int r = 0; r < R; ++r) row[r] = w + (i + r) * ldw;
  __m512 xb[M][R];
  for (int t = 0; t < M; ++t)
    for (int r = 0; r < R; ++r) xb[t][r] = _mm512_set1_ps(xs[t][i + r]);
  int64_t o = 0;
  for (; o + 16 <= n; o += 16) {
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_ps(row[r] + o);
    for (int t = 0; t < M; ++t) {
      __m512 v = kFromZero ? _mm512_setzero_ps() : _mm512_loadu_ps(ys[t] + o);
      for (int r = 0; r < R; ++r) v = _mm512_fmadd_ps(wv[r], xb[t][r], v);
      _mm512_storeu_ps(ys[t] + o, v);
    }
  }
  if (o < n) {
    const __mmask16 mask = tail_mask(n - o);
    __m512 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = _mm512_maskz_loadu_ps(mask, row[r] + o);
    for (int t = 0; t < M; ++t) {
      __m512 v = kFromZero ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, ys[t] + o);
      for (int r = 0; r < R; ++r) v = _mm512_fmadd_ps(wv[r], xb[t][r], v);
      _mm512_mask_storeu_ps(ys[t] + o, mask, v);
    }
  }
}

template <int M>
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
      io_pass<kRows, M, true>(a.w, a.ldw, xs, 0, a.n, ys);
      i = kRows;
    } else {
      io_pass<1, M, true>(a.w, a.ldw, xs, 0, a.n, ys);
      i = 1;
    }
  }
  for (; i + kRows <= a.k; i += kRows) io_pass<kRows, M, false>(a.w, a.ldw, xs, i, a.n, ys);
  for (; i < a.k; ++i) io_pass<1, M, false>(a.w, a.ldw, xs, i, a.n, ys);
}

// Blocks of 4 tokens, then one pass for the 1 to 3 left.
template <template <int> class Tokens>
void by_four(const GemvArgs& a) {
  int64_t t = 0;
  for (; t + 4 <= a.m; t += 4) Tokens<4>::run(a, t);
  switch (a.m - t) {
    case 3: Tokens<3>::run(a, t); break;
    case 2: Tokens<2>::run(a, t); break;
    case 1: Tokens<1>::run(a, t); break;
    default: break;
  }
}

template <int M>
struct OiTokens {
  static void run(const GemvArgs& a, int64_t t0) { oi_tokens<M>(a, t0); }
};
template <int M>
struct IoTokens {
  static void run(const GemvArgs& a, int64_t t0) { io_tokens<M>(a, t0); }
};

}  // namespace

void gemv_f32_oi__avx512_m4(const GemvArgs& a) { by_four<OiTokens>(a); }
void gemv_f32_io__avx512_m4(const GemvArgs& a) { by_four<IoTokens>(a); }

}  // namespace moetune
