// The optimization summary's GEMV: an 8-way unrolled loop that the compiler vectorizes under
// `#pragma omp simd`, with the `aligned` clause when the rows really are 64-byte aligned.
//
// One source, two builds: ompsimd.cpp compiles it for the baseline (SSE2), avx2_ompsimd.cpp
// for AVX2+FMA. Everything here has internal linkage and calls no out-of-line template of the
// standard library, so each including file keeps its own copy built for its own ISA: the
// linker can never hand the AVX2 copy to a baseline caller.
//
// oi: 8 output rows per pass share each load of x. io: 8 input rows per pass are folded into
// each load and store of y. Both are plain C++ on purpose: what the compiler makes of them is
// the point of the variant, against the hand-written intrinsics of avx2.cpp and avx512.cpp.
#include <cstdint>

#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

inline bool is_aligned64(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 63) == 0; }

// `aligned` on a pointer that is not aligned is undefined behaviour, so the clause is used
// only after the check: every row starts on a cache line when the first one does and the
// stride is a whole number of cache lines.
inline bool rows_aligned64(const float* p, int64_t ld) { return is_aligned64(p) && ld % 16 == 0; }

inline void store_out(float* y, float v, bool accumulate) { *y = accumulate ? *y + v : v; }

#define MOETUNE_OMPSIMD_OI8_BODY \
  {                              \
    const float xi = x[i];       \
    s0 += w0[i] * xi;            \
    s1 += w1[i] * xi;            \
    s2 += w2[i] * xi;            \
    s3 += w3[i] * xi;            \
    s4 += w4[i] * xi;            \
    s5 += w5[i] * xi;            \
    s6 += w6[i] * xi;            \
    s7 += w7[i] * xi;            \
  }

void ompsimd_oi_token(const GemvArgs& a, const float* x, float* y) {
  const bool aligned = rows_aligned64(a.w, a.ldw) && is_aligned64(x);
  const int64_t k = a.k;
  int64_t o = 0;
  for (; o + 8 <= a.n; o += 8) {
    const float* w0 = a.w + o * a.ldw;
    const float *w1 = w0 + a.ldw, *w2 = w1 + a.ldw, *w3 = w2 + a.ldw, *w4 = w3 + a.ldw;
    const float *w5 = w4 + a.ldw, *w6 = w5 + a.ldw, *w7 = w6 + a.ldw;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    if (aligned) {
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7) \
    aligned(x, w0, w1, w2, w3, w4, w5, w6, w7 : 64)
      for (int64_t i = 0; i < k; ++i) MOETUNE_OMPSIMD_OI8_BODY
    } else {
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7)
      for (int64_t i = 0; i < k; ++i) MOETUNE_OMPSIMD_OI8_BODY
    }
    const float s[8] = {s0, s1, s2, s3, s4, s5, s6, s7};
    for (int r = 0; r < 8; ++r) store_out(y + o + r, s[r], a.accumulate);
  }
  for (; o < a.n; ++o) {
    const float* w0 = a.w + o * a.ldw;
    float s0 = 0;
    if (aligned) {
#pragma omp simd reduction(+ : s0) aligned(x, w0 : 64)
      for (int64_t i = 0; i < k; ++i) s0 += w0[i] * x[i];
    } else {
#pragma omp simd reduction(+ : s0)
      for (int64_t i = 0; i < k; ++i) s0 += w0[i] * x[i];
    }
    store_out(y + o, s0, a.accumulate);
  }
}

#undef MOETUNE_OMPSIMD_OI8_BODY

#define MOETUNE_OMPSIMD_IO8_BODY \
  {                              \
    float v = y[o];              \
    v += w0[o] * x0;             \
    v += w1[o] * x1;             \
    v += w2[o] * x2;             \
    v += w3[o] * x3;             \
    v += w4[o] * x4;             \
    v += w5[o] * x5;             \
    v += w6[o] * x6;             \
    v += w7[o] * x7;             \
    y[o] = v;                    \
  }

void ompsimd_io_token(const GemvArgs& a, const float* x, float* y) {
  const bool aligned = rows_aligned64(a.w, a.ldw) && is_aligned64(y);
  const int64_t n = a.n;
  if (!a.accumulate) {
#pragma omp simd
    for (int64_t o = 0; o < n; ++o) y[o] = 0.0f;
  }
  int64_t i = 0;
  for (; i + 8 <= a.k; i += 8) {
    const float* w0 = a.w + i * a.ldw;
    const float *w1 = w0 + a.ldw, *w2 = w1 + a.ldw, *w3 = w2 + a.ldw, *w4 = w3 + a.ldw;
    const float *w5 = w4 + a.ldw, *w6 = w5 + a.ldw, *w7 = w6 + a.ldw;
    const float x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
    const float x4 = x[i + 4], x5 = x[i + 5], x6 = x[i + 6], x7 = x[i + 7];
    if (aligned) {
#pragma omp simd aligned(y, w0, w1, w2, w3, w4, w5, w6, w7 : 64)
      for (int64_t o = 0; o < n; ++o) MOETUNE_OMPSIMD_IO8_BODY
    } else {
#pragma omp simd
      for (int64_t o = 0; o < n; ++o) MOETUNE_OMPSIMD_IO8_BODY
    }
  }
  for (; i < a.k; ++i) {
    const float* w0 = a.w + i * a.ldw;
    const float x0 = x[i];
    if (aligned) {
#pragma omp simd aligned(y, w0 : 64)
      for (int64_t o = 0; o < n; ++o) y[o] += w0[o] * x0;
    } else {
#pragma omp simd
      for (int64_t o = 0; o < n; ++o) y[o] += w0[o] * x0;
    }
  }
}

#undef MOETUNE_OMPSIMD_IO8_BODY

void ompsimd_oi(const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t) ompsimd_oi_token(a, a.x + t * a.ldx, a.y + t * a.ldy);
}

void ompsimd_io(const GemvArgs& a) {
  for (int64_t t = 0; t < a.m; ++t) ompsimd_io_token(a, a.x + t * a.ldx, a.y + t * a.ldy);
}

}  // namespace
}  // namespace moetune
