// AVX2+FMA GEMV with token batching (the summary's batches of 4): each weight load serves 4
// tokens, so W streams from memory once per 4 tokens instead of once per token. m not a
// multiple of 4 ends with one pass of 1 to 3 tokens.
//
// oi: 2 rows x 4 tokens = 8 accumulators (8 FMA chains, the 2 pipes x latency 4 of Zen 3 and
// Skylake) + 4 x vectors + 1 w vector: 13 of the 16 ymm registers, so nothing spills.
// io: 2 input rows x 4 tokens = 8 broadcast x values + 2 w vectors + y: 12 registers; each
// pair of w loads is folded into the 4 tokens' y.
#include "kernels/common/avx2_util.h"

#include <cstdint>

#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

using avx2::hsum;
using avx2::tail_mask;

constexpr int kRows = 2;

// out[j] = the horizontal sum of v[j], four at a time where it can.
template <int N>
void hsums(const __m256 (&v)[N], float (&out)[N]) {
  int j = 0;
  for (; j + 4 <= N; j += 4) {
    const __m256 ab = _mm256_hadd_ps(v[j], v[j + 1]), cd = _mm256_hadd_ps(v[j + 2], v[j + 3]);
    const __m256 abcd = _mm256_hadd_ps(ab, cd);
    _mm_storeu_ps(out + j,
                  _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
  }
  for (; j < N; ++j) out[j] = hsum(v[j]);
}

// Rows o..o+R-1 for the M tokens xs[t] -> ys[t].
template <int R, int M>
void oi_pass(const float* w, int64_t ldw, const float* const (&xs)[M], int64_t k,
             float* const (&ys)[M], int64_t o, bool accumulate) {
  const float* row[R];
  for (int r = 0; r < R; ++r) row[r] = w + (o + r) * ldw;
  __m256 acc[M * R];  // token t, row r at [t * R + r]
  for (int j = 0; j < M * R; ++j) acc[j] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    __m256 xv[M];
    for (int t = 0; t < M; ++t) xv[t] = _mm256_loadu_ps(xs[t] + i);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_loadu_ps(row[r] + i);
      for (int t = 0; t < M; ++t) acc[t * R + r] = _mm256_fmadd_ps(wv, xv[t], acc[t * R + r]);
    }
  }
  if (i < k) {
    const __m256i mask = tail_mask(k - i);
    __m256 xv[M];
    for (int t = 0; t < M; ++t) xv[t] = _mm256_maskload_ps(xs[t] + i, mask);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_maskload_ps(row[r] + i, mask);
      for (int t = 0; t < M; ++t) acc[t * R + r] = _mm256_fmadd_ps(wv, xv[t], acc[t * R + r]);
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
  __m256 xb[M][R];
  for (int t = 0; t < M; ++t)
    for (int r = 0; r < R; ++r) xb[t][r] = _mm256_set1_ps(xs[t][i + r]);
  int64_t o = 0;
  for (; o + 8 <= n; o += 8) {
    __m256 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = _mm256_loadu_ps(row[r] + o);
    for (int t = 0; t < M; ++t) {
      __m256 v = kFromZero ? _mm256_setzero_ps() : _mm256_loadu_ps(ys[t] + o);
      for (int r = 0; r < R; ++r) v = _mm256_fmadd_ps(wv[r], xb[t][r], v);
      _mm256_storeu_ps(ys[t] + o, v);
    }
  }
  if (o < n) {
    const __m256i mask = tail_mask(n - o);
    __m256 wv[R];
    for (int r = 0; r < R; ++r) wv[r] = _mm256_maskload_ps(row[r] + o, mask);
    for (int t = 0; t < M; ++t) {
      __m256 v = kFromZero ? _mm256_setzero_ps() : _mm256_maskload_ps(ys[t] + o, mask);
      for (int r = 0; r < R; ++r) v = _mm256_fmadd_ps(wv[r], xb[t][r], v);
      _mm256_maskstore_ps(ys[t] + o, mask, v);
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

void gemv_f32_oi__avx2_m4(const GemvArgs& a) { by_four<OiTokens>(a); }
void gemv_f32_io__avx2_m4(const GemvArgs& a) { by_four<IoTokens>(a); }

}  // namespace moetune
