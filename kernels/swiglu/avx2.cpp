// swiglu_f32__fused_avx2: fused_vec.h with 8 lanes.
#include "kernels/common/vec_avx2.h"
#include "kernels/swiglu/fused_vec.h"
#include "kernels/swiglu/swiglu.h"

namespace moetune {

void swiglu_f32__fused_avx2(const float* g, const float* u, float* h, int64_t n) {
  swiglu_vec::fused<avx2::Vec8>(g, u, h, n);
}

}  // namespace moetune
