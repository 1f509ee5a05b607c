// The bf16 and int8 references: the f32 naive loops with each weight widened to f32 as it is
// read (bf16: exact; int8: the row sum of q·x, then times the row's scale). Every bf16 and
// int8 variant is verified against these.
#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

// W[o][i] as f32, except int8's scale, which the caller applies to the row's sum.
inline float weight(const uint16_t* w, int64_t j) { return bf16_to_f32(w[j]); }
inline float weight(const int8_t* w, int64_t j) { return static_cast<float>(w[j]); }

// One dot product per output in both layouts: only where W[o][i] lives differs.
template <typename T>
void dots(const GemvArgs& a, Layout layout, const T* w, const float* scale) {
  for (int64_t t = 0; t < a.m; ++t) {
    const float* x = a.x + t * a.ldx;
    float* y = a.y + t * a.ldy;
    for (int64_t o = 0; o < a.n; ++o) {
      float sum = 0.0f;
      for (int64_t i = 0; i < a.k; ++i)
        sum += weight(w, layout == Layout::kOI ? o * a.ldw + i : i * a.ldw + o) * x[i];
      if (scale) sum *= scale[o];
      y[o] = a.accumulate ? y[o] + sum : sum;
    }
  }
}

}  // namespace

void gemv_bf16_oi__naive(const GemvArgs& a) { dots(a, Layout::kOI, a.w_bf16, nullptr); }
void gemv_bf16_io__naive(const GemvArgs& a) { dots(a, Layout::kIO, a.w_bf16, nullptr); }
void gemv_int8_oi__naive(const GemvArgs& a) { dots(a, Layout::kOI, a.w_i8, a.scale); }
void gemv_int8_io__naive(const GemvArgs& a) { dots(a, Layout::kIO, a.w_i8, a.scale); }

}  // namespace moetune
