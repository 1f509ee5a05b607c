// int8 x int8 decode (1 to 4 tokens a call) with the 512-bit vpdpbusd: the seg4 structure of
// avx2_seg4.cpp (4 rows a quarter of the outputs apart per pass: 4 streams pages apart for the
// prefetchers) on rounded_gemv.h's kernel, x quantized once per call into the shared buffer, up
// to 4 tokens sharing each weight load; the pair form reads rows o and o + n/2 of gate and up.
//
// Per 64 weights: one load, one xor (the +128 offset) and one vpdpbusd, against 8 widenings
// and 8 FMAs in avx2_seg4.cpp, whose int8 kernel could not keep up with memory. Measured here
// (Zen 4, one core, the gate [768 x 2048] cold, alternating): 26-27 GB/s against 23 for
// avx2_seg4; 28-31 with the weights in 2 MB pages. In the decode layer on one thread
// (expert_parallel, 64-row chunks), 20-23% less time than avx2_seg4; on 2 threads (quiet, 21
// alternating rounds) 12% less, 0.236x the f32 layer's time for 0.255x its bytes (f32 decode
// runs at 91-95% of the read roofline).
#include "kernels/gemv/avx512_rounded.h"  // first: it sets up immintrin.h

#include <cstdint>

#include "kernels/gemv/gemv.h"
#include "kernels/gemv/rounded_gemv.h"

namespace moetune {
namespace {

using D = avx512::Int8x512;
// x in blocks of 65536 inputs (the shared buffer allows): every preset's k in one block, so the
// outputs are the naive reference's bits.
constexpr int64_t kKC = 65536;
static_assert(D::kTokens * (kKC + D::kStep) * sizeof(int8_t) <= rounded::kXBufferBytes,
              "x buffer too small");

D::W* x() { return reinterpret_cast<D::W*>(rounded::x_buffer()); }

}  // namespace

void gemv_int8xint8_oi__avx512vnni_seg4(const GemvArgs& a) { rounded::seg4<D, kKC>(a, x()); }
void gemv_int8xint8_oi__avx512vnni_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  rounded::seg4_pair<D, kKC>(a, b, x());
}

}  // namespace moetune
