// AVX2+FMA GEMV with token batching: token_batched.h with 8 lanes and 2 rows per pass.
// oi: 2 rows x 4 tokens = 8 accumulators (8 FMA chains, the 2 pipes x latency 4 of Zen 3 and
// Skylake) + 4 x vectors + 1 w vector: 13 of the 16 ymm registers, so nothing spills.
// io: 2 input rows x 4 tokens = 8 broadcast x values + 2 w vectors + y: 12 registers.
#include "kernels/common/vec_avx2.h"
#include "kernels/gemv/gemv.h"
#include "kernels/gemv/token_batched.h"

namespace moetune {

void gemv_f32_oi__avx2_m4(const GemvArgs& a) { token_batched::oi<avx2::Vec8, 2>(a); }
void gemv_f32_io__avx2_m4(const GemvArgs& a) { token_batched::io<avx2::Vec8, 2>(a); }

}  // namespace moetune
