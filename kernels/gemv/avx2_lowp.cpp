// AVX2+FMA GEMV over bf16 and int8 weights: each weight is widened to f32 in registers and
// multiplied by f32 activations, so only the bytes read from memory shrink (2x, 4x), not the
// arithmetic's precision. Widening costs 2 instructions per 8 weights (bf16: zero-extend to
// 32 bits and shift into the upper half; int8: sign-extend and convert), which at 2 threads
// stays under the memory's rate: decode remains bandwidth-bound.
//
// oi (`__avx2_r4`): 4 output rows per pass share each load of x, 2 vectors per row per step:
// 8 independent FMA chains, as the f32 r4 kernel. int8 sums q·x per row and multiplies by the
// row's scale once at the end.
// oi (`__avx2_seg4`): the same rows' sums, but the 4 rows of a pass are a quarter of the
// outputs apart, so the weights stream from 4 places pages apart instead of 4 adjacent rows
// (which the hardware prefetchers follow as one or two streams). Measured on Zen 3, cold
// [768 x 2048], 2 threads: bf16 22 -> 30 GB/s, int8 17 -> 26-31 GB/s (the r4 kernel is not
// short of arithmetic: hot in cache it runs 2-3x faster than memory needs; it is short of
// lines in flight, as each 64-byte line feeds 4x (int8) more work than an f32 line).
// io (`__avx2_r4`): 64 outputs at a time held in 8 accumulators over all k inputs (one
// 64-output slice of an input row is one int8 or two bf16 cache lines), inputs 4 at a time;
// scales applied once per output at the end, so y is read and written once.
//
// Tails (k % 8 inputs in oi, n % 8 outputs in io) go through a scalar loop: there is no AVX2
// masked load of 8- or 16-bit lanes, and a full-width load could read past the matrix.
#include "kernels/common/avx2_util.h"

#include <cstdint>

#include "kernels/gemv/avx2_widen.h"
#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

using avx2::Bf16;
using avx2::hsum;
using avx2::Int8;

inline float finish(float sum, const float* scale, int64_t o, float* y, bool accumulate) {
  if (scale) sum *= scale[o];
  return accumulate ? *y + sum : sum;
}

// R output rows o, o + step, ... of one token (w = row o, outputs y[0], y[step], ...), 2 vectors
// per row per step.
template <typename D, int R>
void oi_rows(const typename D::T* w, int64_t ldw, int64_t step, const float* x, int64_t k,
             const float* scale, int64_t o, float* y, bool accumulate) {
  ldw *= step;  // from one row of the pass to the next
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
    for (int r = 0; r < R; ++r) {
      acc[r][0] = _mm256_fmadd_ps(D::load8(w + r * ldw + i), x0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(D::load8(w + r * ldw + i + 8), x1, acc[r][1]);
    }
  }
  for (; i + 8 <= k; i += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    for (int r = 0; r < R; ++r)
      acc[r][0] = _mm256_fmadd_ps(D::load8(w + r * ldw + i), x0, acc[r][0]);
  }
  for (int r = 0; r < R; ++r) {
    float sum = hsum(_mm256_add_ps(acc[r][0], acc[r][1]));
    for (int64_t j = i; j < k; ++j) sum += D::at(w + r * ldw + j) * x[j];
    y[r * step] = finish(sum, D::kScaled ? scale : nullptr, o + r * step, y + r * step, accumulate);
  }
}

template <typename D>
void oi(const GemvArgs& a) {
  const typename D::T* w = D::weights(a);
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    int64_t o = 0;
    for (; o + 4 <= a.n; o += 4)
      oi_rows<D, 4>(w + o * a.ldw, a.ldw, 1, x, a.k, a.scale, o, y + o, a.accumulate);
    for (; o < a.n; ++o)
      oi_rows<D, 1>(w + o * a.ldw, a.ldw, 1, x, a.k, a.scale, o, y + o, a.accumulate);
  }
}

// Rows [0, 4q) in passes over rows {o, o + q, o + 2q, o + 3q}, q = n / 4; then the n % 4 last.
template <typename D>
void oi_seg4(const GemvArgs& a) {
  const typename D::T* w = D::weights(a);
  const int64_t q = a.n / 4;
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    for (int64_t o = 0; o < q; ++o)
      oi_rows<D, 4>(w + o * a.ldw, a.ldw, q, x, a.k, a.scale, o, y + o, a.accumulate);
    for (int64_t o = 4 * q; o < a.n; ++o)
      oi_rows<D, 1>(w + o * a.ldw, a.ldw, 1, x, a.k, a.scale, o, y + o, a.accumulate);
  }
}

// Outputs [o, o + 8V) of one token: V accumulators over every input, 4 inputs per step.
template <typename D, int V>
void io_block(const typename D::T* w, int64_t ldw, const float* x, int64_t k, const float* scale,
              int64_t o, float* y, bool accumulate) {
  __m256 acc[V];
  for (int v = 0; v < V; ++v) acc[v] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 4 <= k; i += 4)
    for (int r = 0; r < 4; ++r) {
      const __m256 xb = _mm256_set1_ps(x[i + r]);
      for (int v = 0; v < V; ++v)
        acc[v] = _mm256_fmadd_ps(D::load8(w + (i + r) * ldw + o + 8 * v), xb, acc[v]);
    }
  for (; i < k; ++i) {
    const __m256 xb = _mm256_set1_ps(x[i]);
    for (int v = 0; v < V; ++v)
      acc[v] = _mm256_fmadd_ps(D::load8(w + i * ldw + o + 8 * v), xb, acc[v]);
  }
  for (int v = 0; v < V; ++v) {
    if (D::kScaled) acc[v] = _mm256_mul_ps(acc[v], _mm256_loadu_ps(scale + o + 8 * v));
    if (accumulate) acc[v] = _mm256_add_ps(acc[v], _mm256_loadu_ps(y + o + 8 * v));
    _mm256_storeu_ps(y + o + 8 * v, acc[v]);
  }
}

template <typename D>
void io(const GemvArgs& a) {
  const typename D::T* w = D::weights(a);
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    int64_t o = 0;
    for (; o + 64 <= a.n; o += 64) io_block<D, 8>(w, a.ldw, x, a.k, a.scale, o, y, a.accumulate);
    for (; o + 8 <= a.n; o += 8) io_block<D, 1>(w, a.ldw, x, a.k, a.scale, o, y, a.accumulate);
    for (; o < a.n; ++o) {
      float sum = 0.0f;
      for (int64_t i = 0; i < a.k; ++i) sum += D::at(w + i * a.ldw + o) * x[i];
      y[o] = finish(sum, D::kScaled ? a.scale : nullptr, o, y + o, a.accumulate);
    }
  }
}

}  // namespace

void gemv_bf16_oi__avx2_r4(const GemvArgs& a) { oi<Bf16>(a); }
void gemv_bf16_io__avx2_r4(const GemvArgs& a) { io<Bf16>(a); }
void gemv_bf16_oi__avx2_seg4(const GemvArgs& a) { oi_seg4<Bf16>(a); }
void gemv_int8_oi__avx2_seg4(const GemvArgs& a) { oi_seg4<Int8>(a); }
void gemv_int8_oi__avx2_r4(const GemvArgs& a) { oi<Int8>(a); }
void gemv_int8_io__avx2_r4(const GemvArgs& a) { io<Int8>(a); }

}  // namespace moetune
