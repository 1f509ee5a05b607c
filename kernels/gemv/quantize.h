// Converting f32 weights to the gemv's other dtypes (kernels/common/dtype.h), for one matrix
// W logically [n outputs, k inputs] stored in `layout` with leading dimension ldw: oi holds
// row o at w + o*ldw, io holds input row i at w + i*ldw (so output o is a column).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/common/dtype.h"
#include "kernels/gemv/gemv.h"

namespace moetune {

// dst[j] = bf16(src[j]) for the rows·ldw stored values (padding included), rows = n for oi
// and k for io.
void convert_bf16(const float* src, int64_t count, uint16_t* dst);

// Symmetric int8 with one scale per output: scale[o] = max_i |W[o][i]| / 127 (1 where the
// row is all zero, so that dequantizing gives 0), q = round-to-nearest(W / scale). The
// padding of q is set to 0. Non-finite weights have no int8 form: throws std::invalid_argument.
void quantize_int8(const float* w, int64_t n, int64_t k, int64_t ldw, Layout layout, int8_t* q,
                   float* scale);

// The activations of the variants that round them (gemv.inc's `activations`), one token of k
// values at a time. A variant and its naive reference give a token the same values: a kernel
// that vectorises these must produce them bit for bit (verification compares against the
// reference, which calls these).
//
// kBF16: x rounded to bf16 as convert_bf16 rounds (nearest even).
// kInt8: symmetric, one scale per token, as quantize_int8 does per weight row:
//   scale = max_i |x_i| / 127 (1 where x is all zero), q_i = round-to-nearest-even(x_i / scale)
//   clamped to [-127, 127]. A token with a NaN or an infinity gets scale NaN (and q all 0), so
//   every output of that token is NaN and no other token's changes.
// Returns the scale.
float quantize_activations_int8(const float* x, int64_t k, int8_t* q);

// One value of it: x / scale rounded to nearest even, clamped to [-127, 127] (a NaN quotient
// gives 127; a NaN scale never gets here). The kernels' scalar tails call this one, so their
// bits are the reference's. `static`: each file compiles its own copy with its own
// instruction set, as the kernels' headers do, never one built for another.
static inline int8_t quantize_int8_value(float x, float scale) {
  return static_cast<int8_t>(std::fmax(-127.0f, std::fmin(127.0f, std::nearbyint(x / scale))));
}

// The scalar part of quantize_activations_int8 from input i on, which the vector kernels
// (avx512_rounded.h, avxvnni_rounded.h) run after their whole vectors and the reference runs
// from 0. The scale: x[i, k) folded into the maximum and the non-finite flag so far.
static inline float int8_scale_from(const float* x, int64_t i, int64_t k, float max_abs,
                                    bool bad) {
  for (; i < k; ++i) {
    bad |= !std::isfinite(x[i]);
    max_abs = std::fmax(max_abs, std::fabs(x[i]));
  }
  if (bad) return std::numeric_limits<float>::quiet_NaN();
  return max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
}
// The values: q[i, k) quantized with scale s, q[k, kpad) zero; returns total + their sum.
static inline int32_t quantize_int8_from(const float* x, int64_t i, int64_t k, float s,
                                         int8_t* q, int64_t kpad, int32_t total) {
  for (; i < k; ++i) {
    q[i] = quantize_int8_value(x[i], s);
    total += q[i];
  }
  for (; i < kpad; ++i) q[i] = 0;
  return total;
}

}  // namespace moetune
