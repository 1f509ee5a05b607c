// bf16 x bf16 prefill GEMM with vdpbf16ps: rounded_gemv.h's dot-product form (the design and
// its measurements are there). x is rounded to bf16 for up to 64 tokens (kMC) and 2048 inputs
// (kKC, the whole row of the presets' gate/up and down) at a time; tiles of 4 tokens x 4
// adjacent rows (16 zmm accumulators, 4 weight + 4 x loads per 16 vdpbf16ps); the next 4 rows
// fetched into L2 meanwhile. Up to 4 tokens, the seg4 kernel.
#include "kernels/gemv/avx512_rounded.h"  // first: it sets up immintrin.h

#include <cstdint>

#include "kernels/gemv/gemv.h"
#include "kernels/gemv/rounded_gemv.h"

namespace moetune {
namespace {

using D = avx512::Bf16x512;
constexpr int64_t kKC = 2048, kMC = 64;
static_assert(kMC * (kKC + 32) * sizeof(uint16_t) <= rounded::kXBufferBytes, "x buffer too small");

D::W* x() { return reinterpret_cast<D::W*>(rounded::x_buffer()); }

}  // namespace

void gemv_bf16xbf16_oi__avx512bf16_gemm_4x4(const GemvArgs& a) {
  rounded::gemm<D, gemv_bf16xbf16_oi__avx512bf16_seg4, 4, 4, kKC, kMC>(a, x());
}

}  // namespace moetune
