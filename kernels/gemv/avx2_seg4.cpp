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
// Each row is summed by dot_rows (dot_rows.h, here with 8 lanes: kernels/common/vec_avx2.h's
// Vec8), in one fixed order: a row gets the same bits from the single and the pair form, and
// whatever the rows beside it. avx512_seg4.cpp instantiates the same source with 16 lanes.
#include <cstdint>

#include "kernels/gemv/avx2_widen.h"
#include "kernels/gemv/gemv.h"

namespace moetune {

using avx2::Vec8;

void gemv_f32_oi__avx2_seg4(const GemvArgs& a) { dot::seg4<Vec8, avx2::F32>(a); }
void gemv_bf16_oi__avx2_seg4(const GemvArgs& a) { dot::seg4<Vec8, avx2::Bf16>(a); }
void gemv_int8_oi__avx2_seg4(const GemvArgs& a) { dot::seg4<Vec8, avx2::Int8>(a); }
void gemv_f32_oi__avx2_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  dot::seg4_pair<Vec8, avx2::F32>(a, b);
}
void gemv_bf16_oi__avx2_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  dot::seg4_pair<Vec8, avx2::Bf16>(a, b);
}
void gemv_int8_oi__avx2_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  dot::seg4_pair<Vec8, avx2::Int8>(a, b);
}

}  // namespace moetune
