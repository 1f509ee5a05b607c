// Converting f32 weights to the gemv's other dtypes (kernels/common/dtype.h), for one matrix
// W logically [n outputs, k inputs] stored in `layout` with leading dimension ldw: oi holds
// row o at w + o*ldw, io holds input row i at w + i*ldw (so output o is a column).
#pragma once

#include <cstdint>

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

}  // namespace moetune
