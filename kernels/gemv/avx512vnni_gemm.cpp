// int8 x int8 prefill GEMM with the 512-bit vpdpbusd: rounded_gemv.h's dot-product form (the
// design and its measurements are there). x is quantized for up to 64 tokens (kMC) and 4096
// inputs (kKC: one block for every preset's gate/up and down, so the outputs are the naive
// reference's bits) at a time; tiles of 4 tokens x 4 adjacent rows (16 zmm accumulators, 4
// weight loads with their +128 offset and 4 x loads per 16 vpdpbusd); the next 4 rows fetched
// into L2 meanwhile. Up to 4 tokens, the seg4 kernel.
#include "kernels/gemv/avx512_rounded.h"  // first: it sets up immintrin.h

#include <cstdint>

#include "kernels/gemv/gemv.h"
#include "kernels/gemv/rounded_gemv.h"

namespace moetune {
namespace {

using D = avx512::Int8x512;
constexpr int64_t kKC = 4096, kMC = 64;
static_assert(kMC * (kKC + 64) * sizeof(int8_t) <= rounded::kXBufferBytes, "x buffer too small");

D::W* x() { return reinterpret_cast<D::W*>(rounded::x_buffer()); }

}  // namespace

void gemv_int8xint8_oi__avx512vnni_gemm_4x4(const GemvArgs& a) {
  rounded::gemm<D, gemv_int8xint8_oi__avx512vnni_seg4, 4, 4, kKC, kMC>(a, x());
}

}  // namespace moetune
