// ompsimd.inl built for the baseline ISA (SSE2): what the summary's GEMV gives a portable build.
#include "kernels/gemv/ompsimd.inl"

namespace moetune {

void gemv_f32_oi__ompsimd_u8(const GemvArgs& a) { ompsimd_oi(a); }
void gemv_f32_io__ompsimd_u8(const GemvArgs& a) { ompsimd_io(a); }

}  // namespace moetune
