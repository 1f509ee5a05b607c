// swiglu_f32__fused_avx512: fused_vec.h with 16 lanes.
#include "kernels/common/vec_avx512.h"  // first: it sets up immintrin.h
#include "kernels/swiglu/fused_vec.h"
#include "kernels/swiglu/swiglu.h"

namespace moetune {

void swiglu_f32__fused_avx512(const float* g, const float* u, float* h, int64_t n) {
  swiglu_vec::fused<avx512::Vec16>(g, u, h, n);
}

}  // namespace moetune
