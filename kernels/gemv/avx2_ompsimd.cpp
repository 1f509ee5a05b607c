// ompsimd.inl built for AVX2+FMA: the same source as ompsimd.cpp, 8-wide, with fused multiply-adds.
#include "kernels/gemv/ompsimd.inl"

namespace moetune {

void gemv_f32_oi__ompsimd_u8_avx2(const GemvArgs& a) { ompsimd_oi(a); }
void gemv_f32_io__ompsimd_u8_avx2(const GemvArgs& a) { ompsimd_io(a); }

}  // namespace moetune
