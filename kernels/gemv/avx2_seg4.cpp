// AVX2+FMA GEMV, oi, for decode: 4 rows per pass, as `__avx2_r4`, but the 4 rows of a pass are
// a quarter of the outputs apart (rows o, o + q, o + 2q, o + 3q with q = n / 4), so the
// weights stream from 4 places pages apart instead of from 4 adjacent rows, which the
// hardware prefetchers follow as one or two streams. The kernel is not short of arithmetic
// (hot in cache the bf16 and int8 ones run 2-3x faster than memory needs) but of lines in
// flight: a 64-byte line of bf16 or int8 feeds 2x or 4x the instructions of an f32 line, so
// the out-of-order window alone covers fewer lines, and the prefetchers must cover the rest.
// Measured on Zen 3, [768 x 2048] cold, 2 threads, against 4 adjacent rows, in a standalone
// loop: f32 26-28 -> 31-34 GB/s, bf16 22 -> 30, int8 17 -> 26-31; in the sweep's gemv
// benchmark bf16 63 -> 82% and int8 52 -> 97% of the read roofline, while for f32 r4 and seg4
// trade places from run to run. The qwen3-30b-a3b decode layer: -11..-29% (f32, against
// ompsimd_u8), -34..-53% (bf16), -47..-52% (int8).
//
// `_pair` (gate and up of an expert in one pass over x): rows o and o + n/2 of A and of B in
// each pass, 4 streams again, each x vector loaded once for the 4 rows.
//
// Each row is summed by dot_rows (avx2_widen.h), in one fixed order: a row gets the same bits
// from the single and the pair form, and whatever the rows beside it.
#include <cstdint>

#include "kernels/gemv/avx2_widen.h"
#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

using avx2::dot_rows;
using avx2::oi_passes_of_4;
using avx2::Rows;

// a and b as two calls of the seg4 kernel would compute them (b.x, b.m, b.n, b.k and
// b.accumulate are a's), in passes over rows {o, o + h} of both, h = n / 2; an odd last row of
// both together.
template <typename D>
void seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  const Rows<D> A{a}, B{b};
  const int64_t h = a.n / 2;
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    for (int64_t o = 0; o < h; ++o)
      dot_rows<D, 4>({A.row(o), A.row(o + h), B.row(o), B.row(o + h)}, x, a.k,
                     {A.scale(o), A.scale(o + h), B.scale(o), B.scale(o + h)},
                     {A.out(t, o), A.out(t, o + h), B.out(t, o), B.out(t, o + h)}, a.accumulate);
    if (a.n % 2)
      dot_rows<D, 2>({A.row(a.n - 1), B.row(a.n - 1)}, x, a.k,
                     {A.scale(a.n - 1), B.scale(a.n - 1)}, {A.out(t, a.n - 1), B.out(t, a.n - 1)},
                     a.accumulate);
  }
}

}  // namespace

void gemv_f32_oi__avx2_seg4(const GemvArgs& a) { oi_passes_of_4<avx2::F32>(a, 1, a.n / 4); }
void gemv_bf16_oi__avx2_seg4(const GemvArgs& a) { oi_passes_of_4<avx2::Bf16>(a, 1, a.n / 4); }
void gemv_int8_oi__avx2_seg4(const GemvArgs& a) { oi_passes_of_4<avx2::Int8>(a, 1, a.n / 4); }
void gemv_f32_oi__avx2_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  seg4_pair<avx2::F32>(a, b);
}
void gemv_bf16_oi__avx2_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  seg4_pair<avx2::Bf16>(a, b);
}
void gemv_int8_oi__avx2_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  seg4_pair<avx2::Int8>(a, b);
}

}  // namespace moetune
