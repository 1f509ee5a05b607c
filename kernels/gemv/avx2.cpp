// Hand-written AVX2+FMA GEMV, one token at a time.
//
// oi (`__avx2_r<R>`): R output rows per pass share each load of x. r4 keeps 2 accumulators
// per row, r8 one, so 8 independent FMA chains are in flight either way: Zen 3 and Skylake
// have 2 FMA pipes of latency 4, and fewer chains leave them idle when W is in cache. The
// row sums are reduced with horizontal adds once per pass, not once per element.
// io (`__avx2_r<R>`): R input rows per pass are folded into each load and store of y, so y
// (L1-resident: a thread's share of n is a few KB) is touched k/R times instead of k times.
//
// Tails never read or write past the logical width: the last k % 8 inputs (oi) or n % 8
// outputs (io) go through _mm256_maskload_ps / _mm256_maskstore_ps, which do not touch, and
// cannot fault on, the masked-off lanes.
#include "kernels/common/avx2_util.h"

#include <cstdint>

#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

using avx2::hsum;
using avx2::tail_mask;

// The four horizontal sums of a..d, in order, in one register.
inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// R output rows o..o+R-1 of one token. U vectors per row per step: R·U accumulators.
template <int R, int U>
void oi_rows(const float* w, int64_t ldw, const float* x, int64_t k, float* y, bool accumulate) {
  const float* row[R];
  for (int r = 0; r < R; ++r) row[r] = w + r * ldw;
  __m256 acc[R][U];
  for (int r = 0; r < R; ++r)
    for (int u = 0; u < U; ++u) acc[r][u] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 * U <= k; i += 8 * U) {
    __m256 xv[U];
    for (int u = 0; u < U; ++u) xv[u] = _mm256_loadu_ps(x + i + 8 * u);
    for (int r = 0; r < R; ++r)
      for (int u = 0; u < U; ++u)
        acc[r][u] = _mm256_fmadd_ps(_mm256_loadu_ps(row[r] + i + 8 * u), xv[u], acc[r][u]);
  }
  for (; i + 8 <= k; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    for (int r = 0; r < R; ++r)
      acc[r][0] = _mm256_fmadd_ps(_mm256_loadu_ps(row[r] + i), xv, acc[r][0]);
  }
  if (i < k) {
    const __m256i mask = tail_mask(k - i);
    const __m256 xv = _mm256_maskload_ps(x + i, mask);
    for (int r = 0; r < R; ++r)
      acc[r][0] = _mm256_fmadd_ps(_mm256_maskload_ps(row[r] + i, mask), xv, acc[r][0]);
  }
  __m256 sum[R];
  for (int r = 0; r < R; ++r) {
    sum[r] = acc[r][0];
    for (int u = 1; u < U; ++u) sum[r] = _mm256_add_ps(sum[r], acc[r][u]);
  }
  if constexpr (R == 1) {
    const float s = hsum(sum[0]);
    y[0] = accumulate ? y[0] + s : s;
  } else {
    static_assert(R % 4 == 0, "rows are reduced four at a time");
    for (int r = 0; r < R; r += 4) {
      __m128 s = hsum4(sum[r], sum[r + 1], sum[r + 2], sum[r + 3]);
      if (accumulate) s = _mm_add_ps(s, _mm_loadu_ps(y + r));
      _mm_storeu_ps(y + r, s);
    }
  }
}

template <int R, int U>
void oi(const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    int64_t o = 0;
    for (; o + R <= a.n; o += R) oi_rows<R, U>(a.w + o * a.ldw, a.ldw, x, a.k, y + o, a.accumulate);
    for (; o < a.n; ++o) oi_rows<1, 4>(a.w + o * a.ldw, a.ldw, x, a.k, y + o, a.accumulate);
  }
}

// y[0, n) (+)= Σ_r x[r] · W row r, for R input rows. kFromZero: the first pass of y = W·x,
// which starts from zero instead of reading y.
template <int R, bool kFromZero>
void io_rows(const float* w, int64_t ldw, const float* x, int64_t n, float* y) {
  const float* row[R];
  __m256 xb[R];
  for (int r = 0; r < R; ++r) {
    row[r] = w + r * ldw;
    xb[r] = _mm256_set1_ps(x[r]);
  }
  int64_t o = 0;
  for (; o + 16 <= n; o += 16) {
    __m256 v0 = kFromZero ? _mm256_setzero_ps() : _mm256_loadu_ps(y + o);
    __m256 v1 = kFromZero ? _mm256_setzero_ps() : _mm256_loadu_ps(y + o + 8);
    for (int r = 0; r < R; ++r) {
      v0 = _mm256_fmadd_ps(_mm256_loadu_ps(row[r] + o), xb[r], v0);
      v1 = _mm256_fmadd_ps(_mm256_loadu_ps(row[r] + o + 8), xb[r], v1);
    }
    _mm256_storeu_ps(y + o, v0);
    _mm256_storeu_ps(y + o + 8, v1);
  }
  for (; o + 8 <= n; o += 8) {
    __m256 v = kFromZero ? _mm256_setzero_ps() : _mm256_loadu_ps(y + o);
    for (int r = 0; r < R; ++r) v = _mm256_fmadd_ps(_mm256_loadu_ps(row[r] + o), xb[r], v);
    _mm256_storeu_ps(y + o, v);
  }
  if (o < n) {
    const __m256i mask = tail_mask(n - o);
    __m256 v = kFromZero ? _mm256_setzero_ps() : _mm256_maskload_ps(y + o, mask);
    for (int r = 0; r < R; ++r)
      v = _mm256_fmadd_ps(_mm256_maskload_ps(row[r] + o, mask), xb[r], v);
    _mm256_maskstore_ps(y + o, mask, v);
  }
}

template <int R>
void io(const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    int64_t i = 0;
    if (!a.accumulate) {
      if (a.k >= R) {
        io_rows<R, true>(a.w, a.ldw, x, a.n, y);
        i = R;
      } else {
        io_rows<1, true>(a.w, a.ldw, x, a.n, y);
        i = 1;
      }
    }
    for (; i + R <= a.k; i += R) io_rows<R, false>(a.w + i * a.ldw, a.ldw, x + i, a.n, y);
    for (; i < a.k; ++i) io_rows<1, false>(a.w + i * a.ldw, a.ldw, x + i, a.n, y);
  }
}

}  // namespace

void gemv_f32_oi__avx2_r4(const GemvArgs& a) { oi<4, 2>(a); }
void gemv_f32_oi__avx2_r8(const GemvArgs& a) { oi<8, 1>(a); }
void gemv_f32_io__avx2_r4(const GemvArgs& a) { io<4>(a); }
void gemv_f32_io__avx2_r8(const GemvArgs& a) { io<8>(a); }

}  // namespace moetune
