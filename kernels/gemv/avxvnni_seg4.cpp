// int8 x int8 decode (1 to 4 tokens a call) with the 256-bit AVX-VNNI vpdpbusd: the seg4
// structure of avx2_seg4.cpp on rounded_gemv.h's kernel, x quantized once per call into the
// shared buffer, 2 tokens sharing each weight load (8 accumulators, 4 weight vectors, x and the
// offset constant: what 16 ymm registers hold without spilling). Not measured: no machine of
// this project has AVX-VNNI; the SIMDe test build checks its results.
#include <cstdint>

#include "kernels/gemv/avxvnni_rounded.h"
#include "kernels/gemv/gemv.h"
#include "kernels/gemv/rounded_gemv.h"

namespace moetune {
namespace {

using D = avxvnni::Int8x256;
// x in blocks of 65536 inputs (the shared buffer allows): every preset's k in one block, so the
// outputs are the naive reference's bits.
constexpr int64_t kKC = 65536;
static_assert(D::kTokens * (kKC + D::kStep) * sizeof(int8_t) <= rounded::kXBufferBytes,
              "x buffer too small");

D::W* x() { return reinterpret_cast<D::W*>(rounded::x_buffer()); }

}  // namespace

void gemv_int8xint8_oi__avxvnni_seg4(const GemvArgs& a) { rounded::seg4<D, kKC>(a, x()); }
void gemv_int8xint8_oi__avxvnni_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  rounded::seg4_pair<D, kKC>(a, b, x());
}

}  // namespace moetune
