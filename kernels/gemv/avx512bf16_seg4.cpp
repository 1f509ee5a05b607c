// bf16 x bf16 decode (1 to 4 tokens a call) with vdpbf16ps: the seg4 structure of
// avx2_seg4.cpp (4 rows a quarter of the outputs apart per pass: 4 streams pages apart for the
// prefetchers) on rounded_gemv.h's kernel, x rounded to bf16 once per call into the shared
// buffer, up to 4 tokens sharing each weight load (16 accumulators); the pair form reads rows o
// and o + n/2 of gate and up in each pass.
//
// Decode is the weights' stream: 64 bytes (32 weights) per load and one vdpbf16ps each, against
// two widenings and two FMAs in avx2_seg4.cpp. Measured here (Zen 4, one core, the gate
// [768 x 2048] cold, alternating): 26-28 GB/s, the same as avx2_seg4 (26 GB/s); 30-31 with the
// weights in 2 MB pages (as `moetune roofline` reads them). In the decode layer on one thread
// (expert_parallel, 64-row chunks), 5-9% less time than avx2_seg4; on 2 threads (quiet, 21
// alternating rounds) the same time (0.99x), 0.518x the f32 layer's, whose weights are 1.99x the
// bytes: at f32's 91-95% of the read roofline, about 90%. Software prefetch 256 B to
// 2 KiB ahead in each stream: no better (21-28 GB/s against 22-26 without, 3 alternating
// rounds, bf16 and int8), so there is none.
#include "kernels/gemv/avx512_rounded.h"  // first: it sets up immintrin.h

#include <cstdint>

#include "kernels/gemv/gemv.h"
#include "kernels/gemv/rounded_gemv.h"

namespace moetune {
namespace {

using D = avx512::Bf16x512;
// x in blocks of 32768 inputs (the shared buffer allows): every preset's k in one block.
constexpr int64_t kKC = 32768;
static_assert(D::kTokens * (kKC + D::kStep) * sizeof(uint16_t) <= rounded::kXBufferBytes,
              "x buffer too small");

D::W* x() { return reinterpret_cast<D::W*>(rounded::x_buffer()); }

}  // namespace

void gemv_bf16xbf16_oi__avx512bf16_seg4(const GemvArgs& a) { rounded::seg4<D, kKC>(a, x()); }
void gemv_bf16xbf16_oi__avx512bf16_seg4_pair(const GemvArgs& a, const GemvArgs& b) {
  rounded::seg4_pair<D, kKC>(a, b, x());
}

}  // namespace moetune
