// Weight dtypes (DESIGN §4 `dtype`): what a gemv reads its weights as. Activations, outputs
// and accumulation are always f32.
//   f32   4 bytes per weight.
//   bf16  2 bytes: the upper half of the f32 bit pattern, rounded to nearest even (as
//         torch.bfloat16 and the checkpoints store it); widening back to f32 is exact.
//   int8  1 byte: symmetric, one f32 scale per output row, W[o][i] ≈ scale[o] · q[o][i],
//         q in [-127, 127] (-128 unused so that the range is symmetric).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moetune {

enum class DType { kF32, kBF16, kInt8 };

// Every dtype, in the order registries, defaults and listings use.
inline constexpr DType kDTypes[] = {DType::kF32, DType::kBF16, DType::kInt8};

inline std::string_view dtype_name(DType d) {
  switch (d) {
    case DType::kF32: return "f32";
    case DType::kBF16: return "bf16";
    case DType::kInt8: return "int8";
  }
  return "?";
}

inline std::optional<DType> parse_dtype(std::string_view s) {
  for (DType d : kDTypes)
    if (dtype_name(d) == s) return d;
  return std::nullopt;
}

// "f32", "bf16", "int8": what a command line or a sweep file may name.
inline std::vector<std::string> dtype_names() {
  std::vector<std::string> names;
  for (DType d : kDTypes) names.emplace_back(dtype_name(d));
  return names;
}

// Bytes per weight (int8's per-row scales are counted separately, see quantize.h).
inline int64_t dtype_bytes(DType d) { return d == DType::kF32 ? 4 : d == DType::kBF16 ? 2 : 1; }

inline float bf16_to_f32(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

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
