// The bf16 and int8 references: the f32 naive loops with each weight widened to f32 as it is
// read (bf16: exact; int8: the row sum of q·x, then times the row's scale). Every bf16 and
// int8 variant is verified against these.
//
// And those of the variants that round the activations too (gemv.inc): bf16 x bf16, each x
// rounded to bf16 (every product is then exact in f32, the sum is f32, as vdpbf16ps adds);
// int8 x int8, each token quantized (quantize_activations_int8), the integer sum of q_w·q_x
// exact in 32 bits, then times the row's scale and the token's. oi only: checkpoints are oi.
#include <vector>

#include "kernels/gemv/gemv.h"
#include "kernels/gemv/quantize.h"

namespace moetune {
namespace {

// One dot product per output in both layouts: only where W[o][i] lives differs. Each weight
// is read by its dtype's widening reader (kernels/common/dtype.h), int8's scale applied to the
// row's sum.
template <typename T>
void dots(const GemvArgs& a, Layout layout, const T* w, const float* scale) {
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    for (int64_t o = 0; o < a.n; ++o) {
      float sum = 0.0f;
      for (int64_t i = 0; i < a.k; ++i)
        sum += widen_weight(w, layout == Layout::kOI ? o * a.ldw + i : i * a.ldw + o) * x[i];
      if (scale) sum *= scale[o];
      y[o] = a.accumulate ? y[o] + sum : sum;
    }
  }
}

// bf16 x bf16, oi: token t's x rounded to bf16, then the f32 loop on the rounded values.
void bf16xbf16_oi(const GemvArgs& a) {
  std::vector<float> xr(static_cast<size_t>(a.k));
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    for (int64_t i = 0; i < a.k; ++i) xr[i] = bf16_to_f32(f32_to_bf16(x[i]));
    float* y = a.y + t * a.ldy;
    for (int64_t o = 0; o < a.n; ++o) {
      float sum = 0.0f;
      for (int64_t i = 0; i < a.k; ++i) sum += bf16_to_f32(a.w_bf16[o * a.ldw + i]) * xr[i];
      y[o] = a.accumulate ? y[o] + sum : sum;
    }
  }
}

// int8 x int8, oi: |q_w·q_x| <= 127² per product, so 32 bits hold k < 133000 of them.
void int8xint8_oi(const GemvArgs& a) {
  std::vector<int8_t> q(static_cast<size_t>(a.k));
  for (int64_t t = 0; t < a.m; ++t) {
    const float sx = quantize_activations_int8(a.x + t * a.ldx, a.k, q.data());
    float* y = a.y + t * a.ldy;
    for (int64_t o = 0; o < a.n; ++o) {
      int32_t sum = 0;
      for (int64_t i = 0; i < a.k; ++i) sum += int32_t(a.w_i8[o * a.ldw + i]) * int32_t(q[i]);
      const float v = static_cast<float>(sum) * a.scale[o] * sx;
      y[o] = a.accumulate ? y[o] + v : v;
    }
  }
}

}  // namespace

void gemv_bf16xbf16_oi__naive(const GemvArgs& a) { bf16xbf16_oi(a); }
void gemv_int8xint8_oi__naive(const GemvArgs& a) { int8xint8_oi(a); }
void gemv_bf16_oi__naive(const GemvArgs& a) { dots(a, Layout::kOI, a.w_bf16, nullptr); }
void gemv_bf16_io__naive(const GemvArgs& a) { dots(a, Layout::kIO, a.w_bf16, nullptr); }
void gemv_int8_oi__naive(const GemvArgs& a) { dots(a, Layout::kOI, a.w_i8, a.scale); }
void gemv_int8_io__naive(const GemvArgs& a) { dots(a, Layout::kIO, a.w_i8, a.scale); }

}  // namespace moetune
