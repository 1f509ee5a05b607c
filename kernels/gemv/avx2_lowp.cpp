// AVX2+FMA GEMV over bf16 and int8 weights: each weight is widened to f32 in registers and
// multiplied by f32 activations, so only the bytes read from memory shrink (2x, 4x), not the
// arithmetic's precision. Widening costs 2 instructions per 8 weights (bf16: zero-extend to
// 32 bits and shift into the upper half; int8: sign-extend and convert), which at 2 threads
// stays under the memory's rate: decode remains bandwidth-bound.
//
// oi (`__avx2_r4`): 4 output rows per pass share each load of x, 2 vectors per row per step:
// 8 independent FMA chains, as the f32 r4 kernel. int8 sums q·x per row and multiplies by the
// row's scale once at the end.
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
using avx2::Int8;

inline float finish(float sum, const float* scale, int64_t o, float* y, bool accumulate) {
  if (scale) sum *= scale[o];
  return accumulate ? *y + sum : sum;
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

void gemv_bf16_oi__avx2_r4(const GemvArgs& a) { dot::oi_passes_of_4<avx2::Vec8, Bf16>(a, 4, 1); }
void gemv_bf16_io__avx2_r4(const GemvArgs& a) { io<Bf16>(a); }
void gemv_int8_oi__avx2_r4(const GemvArgs& a) { dot::oi_passes_of_4<avx2::Vec8, Int8>(a, 4, 1); }
void gemv_int8_io__avx2_r4(const GemvArgs& a) { io<Int8>(a); }

}  // namespace moetune
