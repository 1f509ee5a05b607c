// Hand-written AVX-512 GEMV, one token at a time: one_token.h with 16 lanes.
//
// oi (`__avx512_r<R>`): r4 keeps 2 accumulators per row, r8 one, so 8 independent FMA chains
// cover the 2 FMA pipes x latency 4 of the server cores that have two 512-bit FMA units.
// io (`__avx512_r<R>`): R input rows per pass are folded into each load and store of y.
#include "kernels/common/vec_avx512.h"  // first: it sets up immintrin.h
#include "kernels/gemv/gemv.h"
#include "kernels/gemv/one_token.h"

namespace moetune {

using avx512::Vec16;

void gemv_f32_oi__avx512_r4(const GemvArgs& a) { one_token::oi<Vec16, 4, 2>(a); }
void gemv_f32_oi__avx512_r8(const GemvArgs& a) { one_token::oi<Vec16, 8, 1>(a); }
void gemv_f32_io__avx512_r4(const GemvArgs& a) { one_token::io<Vec16, 4>(a); }
void gemv_f32_io__avx512_r8(const GemvArgs& a) { one_token::io<Vec16, 8>(a); }

}  // namespace moetune
