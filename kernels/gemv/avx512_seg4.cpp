// AVX-512 GEMV, oi, for decode: the seg4 kernels of avx2_seg4.cpp (4 rows a quarter of the
// outputs apart per pass, so that the prefetchers run 4 streams pages apart; `_pair`: rows o
// and o + n/2 of gate and up, one x load for the 4 rows), 16 lanes wide. The same source,
// dot_rows.h, instantiated with kernels/common/vec_avx512.h's Vec16: 2 accumulators of 16
// lanes per row, 8 FMA chains per pass, bf16 and int8 widened in registers (vpmovzxwd +
// vpslld, vpmovsxbd + vcvtdq2ps: 2 instructions per 16 weights where AVX2 needs 2 per 8).
#include "kernels/common/avx512_util.h"  // first: it sets up immintrin.h

#include <cstdint>

#include "kernels/gemv/avx512_widen.h"
#include "kernels/gemv/gemv.h"

namespace moetune {

using avx512::Vec16;

void gemv_f32_oi__avx512_seg4(const GemvArgs& a) { dot::seg4<Vec16, avx512::F32>(a); }
void gemv_bf16_oi__avx512_seg4(const GemvArgs& a) { dot::seg4<Vec16, avx512::Bf16>(a); }
void gemv_int8_oi__avx512_seg4(const GemvArgs& a) { dot::seg4<Vec16, avx512::Int8>(a); }
void gemv_f32_oi__avx512_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  dot::seg4_pair<Vec16, avx512::F32>(a, b);
}
void gemv_bf16_oi__avx512_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  dot::seg4_pair<Vec16, avx512::Bf16>(a, b);
}
void gemv_int8_oi__avx512_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  dot::seg4_pair<Vec16, avx512::Int8>(a, b);
}

}  // namespace moetune
