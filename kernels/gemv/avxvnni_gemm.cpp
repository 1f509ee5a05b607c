// int8 x int8 prefill GEMM with the 256-bit AVX-VNNI vpdpbusd: rounded_gemv.h's dot-product
// form, as avx512vnni_gemm.cpp, with 3 tokens x 3 rows per tile: what the 16 ymm registers hold
// (9 accumulators, 3 weight vectors, x and the +128 offset constant). Not measured: no machine
// of this project has AVX-VNNI (the SIMDe test build checks its results); 2x4 and 4x2 tiles
// (8 accumulators, 6 loads) are the alternatives to try on one. Up to 2 tokens, the seg4 kernel.
#include <cstdint>

#include "kernels/gemv/avxvnni_rounded.h"
#include "kernels/gemv/gemv.h"
#include "kernels/gemv/rounded_gemv.h"

namespace moetune {
namespace {

using D = avxvnni::Int8x256;
constexpr int64_t kKC = 4096, kMC = 64;
static_assert(kMC * (kKC + 64) * sizeof(int8_t) <= rounded::kXBufferBytes, "x buffer too small");

D::W* x() { return reinterpret_cast<D::W*>(rounded::x_buffer()); }

}  // namespace

void gemv_int8xint8_oi__avxvnni_gemm_3x3(const GemvArgs& a) {
  rounded::gemm<D, gemv_int8xint8_oi__avxvnni_seg4, 3, 3, kKC, kMC>(a, x());
}

}  // namespace moetune
