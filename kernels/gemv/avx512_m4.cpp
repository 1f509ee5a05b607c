// AVX-512 GEMV with token batching: token_batched.h with 16 lanes and twice avx2_m4's rows per
// pass, which the 32 zmm registers allow:
// oi: 4 rows x 4 tokens = 16 accumulators + 4 x vectors + 1 w vector = 21 registers.
// io: 4 input rows x 4 tokens = 16 broadcast x values + 4 w vectors + y = 21 registers.
#include "kernels/common/vec_avx512.h"  // first: it sets up immintrin.h
#include "kernels/gemv/gemv.h"
#include "kernels/gemv/token_batched.h"

namespace moetune {

void gemv_f32_oi__avx512_m4(const GemvArgs& a) { token_batched::oi<avx512::Vec16, 4>(a); }
void gemv_f32_io__avx512_m4(const GemvArgs& a) { token_batched::io<avx512::Vec16, 4>(a); }

}  // namespace moetune
