// Hand-written AVX2+FMA GEMV, one token at a time: one_token.h with 8 lanes.
//
// oi (`__avx2_r<R>`): r4 keeps 2 accumulators per row, r8 one, so 8 independent FMA chains are
// in flight either way: Zen 3 and Skylake have 2 FMA pipes of latency 4, and fewer chains leave
// them idle when W is in cache.
// io (`__avx2_r<R>`): R input rows per pass are folded into each load and store of y.
#include "kernels/common/vec_avx2.h"
#include "kernels/gemv/gemv.h"
#include "kernels/gemv/one_token.h"

namespace moetune {

using avx2::Vec8;

void gemv_f32_oi__avx2_r4(const GemvArgs& a) { one_token::oi<Vec8, 4, 2>(a); }
void gemv_f32_oi__avx2_r8(const GemvArgs& a) { one_token::oi<Vec8, 8, 1>(a); }
void gemv_f32_io__avx2_r4(const GemvArgs& a) { one_token::io<Vec8, 4>(a); }
void gemv_f32_io__avx2_r8(const GemvArgs& a) { one_token::io<Vec8, 8>(a); }

}  // namespace moetune
