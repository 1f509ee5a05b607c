// Weight dtypes (DESIGN §4 `dtype`): what a gemv reads its weights as. Activations, outputs
// and accumulation are always f32.
//   f32   4 bytes per weight.
//   bf16  2 bytes: the upper half of the f32 bit pattern, rounded to nearest even (as
//         torch.bfloat16 and the checkpoints store it); widening back to f32 is exact.
//   int8  1 byte: symmetric, one f32 scale per output row, W[o][i] ≈ scale[o] · q[o][i],
//         q in [-127, 127] (-128 unused so that the range is symmetric).
//
// One traits table (as ggml's type traits, kernels/common/dtype.cpp) says per dtype what the
// rest of the code needs to know of it: its name, its size, how a stored weight widens to f32,
// how f32 weights convert to it, where a gemv's arguments hold it, its naive gemv references.
// Code asks the table instead of branching on the dtype. A new dtype: its enumerator and
// kDTypes here, its row in the table, its kernels and their registry lines (gemv.inc), a
// pointer for it in GemvArgs, and the default lines that name it (default_selection.inc).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/common/layout.h"

namespace moetune {

enum class DType { kF32, kBF16, kInt8 };

// Every dtype, in the order registries, defaults and listings use; the table's order too.
inline constexpr DType kDTypes[] = {DType::kF32, DType::kBF16, DType::kInt8};

struct GemvArgs;  // kernels/gemv/gemv.h

struct DTypeTraits {
  DType dtype;
  std::string_view name;  // "f32": what sweeps, results, headers and variant names spell
  int64_t bytes;          // per stored weight
  bool row_scales;        // one f32 scale per output row beside the weights (int8)
  // Stored weight j of `values` as f32, before its row's scale (f32 itself, bf16 exactly, int8
  // its integer).
  float (*widen)(const void* values, int64_t j);
  // f32 weights W [n outputs, k inputs] in `layout` (leading dimension ldw) into this dtype:
  // the rows·ldw stored values, padding included (rows = n for oi, k for io), at `values`, and
  // with row_scales the n scales at `scale`. Throws std::invalid_argument where a weight has no
  // form in it (int8: a non-finite one).
  void (*quantize)(const float* w, int64_t n, int64_t k, int64_t ldw, Layout layout,
                   void* values, float* scale);
  // Points a gemv's arguments at weights of this dtype (GemvArgs::w, w_bf16 or w_i8, and scale).
  void (*set_weights)(GemvArgs& a, const void* values, const float* scale);
  // The naive gemv references (kernels/gemv/naive*.cpp): exact activations in either layout,
  // and x rounded to this dtype too (oi; null for f32, which rounds nothing).
  void (*naive_oi)(const GemvArgs&);
  void (*naive_io)(const GemvArgs&);
  void (*naive_rounded_oi)(const GemvArgs&);
};

const DTypeTraits& dtype_traits(DType d);

std::string_view dtype_name(DType d);  // dtype_traits(d).name
std::optional<DType> parse_dtype(std::string_view s);
// "f32", "bf16", "int8": what a command line or a sweep file may name.
std::vector<std::string> dtype_names();
// Bytes per stored weight (row scales not counted: dtype_matrix_bytes counts them).
int64_t dtype_bytes(DType d);
// Bytes of a matrix of n outputs and k inputs in this dtype, with its row scales: what a gemv
// reads of it (the roofline's count).
int64_t dtype_matrix_bytes(DType d, int64_t n, int64_t k);

inline float bf16_to_f32(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// The scalar widening readers: stored weight j as f32, before its row's scale (what
// DTypeTraits::widen calls, and the naive references inline). `static`: each file keeps the
// copy compiled with its own instruction set, as quantize.h's helpers do.
static inline float widen_weight(const float* w, int64_t j) { return w[j]; }
static inline float widen_weight(const uint16_t* w, int64_t j) { return bf16_to_f32(w[j]); }
static inline float widen_weight(const int8_t* w, int64_t j) { return static_cast<float>(w[j]); }

// Round to nearest, ties to even; NaN stays NaN (a quiet bit is forced so that rounding
// cannot carry a NaN's payload into infinity).
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace moetune
