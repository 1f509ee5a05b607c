#include "kernels/gemv/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace moetune {

void convert_bf16(const float* src, int64_t count, uint16_t* dst) {
  for (int64_t j = 0; j < count; ++j) dst[j] = f32_to_bf16(src[j]);
}

void quantize_int8(const float* w, int64_t n, int64_t k, int64_t ldw, Layout layout, int8_t* q,
                   float* scale) {
  // Element (o, i) of the logical [n, k] matrix, wherever the layout puts it.
  const auto at = [&](int64_t o, int64_t i) {
    return layout == Layout::kOI ? o * ldw + i : i * ldw + o;
  };
  const int64_t rows = layout == Layout::kOI ? n : k;
  for (int64_t j = 0; j < rows * ldw; ++j) q[j] = 0;
  for (int64_t o = 0; o < n; ++o) {
    float max_abs = 0.0f;
    for (int64_t i = 0; i < k; ++i) {
      const float v = w[at(o, i)];
      if (!std::isfinite(v))
        throw std::invalid_argument("quantize_int8: weight (" + std::to_string(o) + ", " +
                                    std::to_string(i) + ") is not finite");
      max_abs = std::max(max_abs, std::fabs(v));
    }
    const float s = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
    scale[o] = s;
    for (int64_t i = 0; i < k; ++i) {
      const float r = std::nearbyint(w[at(o, i)] / s);
      q[at(o, i)] = static_cast<int8_t>(std::max(-127.0f, std::min(127.0f, r)));
    }
  }
}

float quantize_activations_int8(const float* x, int64_t k, int8_t* q) {
  const float s = int8_scale_from(x, 0, k, 0.0f, false);
  if (std::isnan(s)) {
    std::fill(q, q + k, int8_t{0});
    return s;
  }
  quantize_int8_from(x, 0, k, s, q, k, 0);
  return s;
}

}  // namespace moetune
