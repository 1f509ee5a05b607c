// The dtype traits table (kernels/common/dtype.h) and the names read from it.
#include "kernels/common/dtype.h"

#include <cstring>
#include <iterator>

#include "kernels/gemv/gemv.h"
#include "kernels/gemv/quantize.h"

namespace moetune {
namespace {

template <typename T>
float widen(const void* values, int64_t j) {
  return widen_weight(static_cast<const T*>(values), j);
}

int64_t stored_rows(int64_t n, int64_t k, Layout layout) { return layout == Layout::kOI ? n : k; }

void quantize_f32(const float* w, int64_t n, int64_t k, int64_t ldw, Layout layout, void* values,
                  float*) {
  std::memcpy(values, w, static_cast<size_t>(stored_rows(n, k, layout) * ldw) * sizeof(float));
}
void quantize_bf16(const float* w, int64_t n, int64_t k, int64_t ldw, Layout layout, void* values,
                   float*) {
  convert_bf16(w, stored_rows(n, k, layout) * ldw, static_cast<uint16_t*>(values));
}
void quantize_i8(const float* w, int64_t n, int64_t k, int64_t ldw, Layout layout, void* values,
                 float* scale) {
  quantize_int8(w, n, k, ldw, layout, static_cast<int8_t*>(values), scale);
}

void set_f32(GemvArgs& a, const void* values, const float*) {
  a.w = static_cast<const float*>(values);
}
void set_bf16(GemvArgs& a, const void* values, const float*) {
  a.w_bf16 = static_cast<const uint16_t*>(values);
}
void set_int8(GemvArgs& a, const void* values, const float* scale) {
  a.w_i8 = static_cast<const int8_t*>(values);
  a.scale = scale;
}

// Indexed by DType, in kDTypes order.
constexpr DTypeTraits kDTypeTraits[] = {
    {DType::kF32, "f32", 4, false, &widen<float>, &quantize_f32, &set_f32, &gemv_f32_oi__naive,
     &gemv_f32_io__naive, nullptr},
    {DType::kBF16, "bf16", 2, false, &widen<uint16_t>, &quantize_bf16, &set_bf16,
     &gemv_bf16_oi__naive, &gemv_bf16_io__naive, &gemv_bf16xbf16_oi__naive},
    {DType::kInt8, "int8", 1, true, &widen<int8_t>, &quantize_i8, &set_int8, &gemv_int8_oi__naive,
     &gemv_int8_io__naive, &gemv_int8xint8_oi__naive},
};
static_assert(std::size(kDTypeTraits) == std::size(kDTypes), "one traits row per dtype");

}  // namespace

const DTypeTraits& dtype_traits(DType d) { return kDTypeTraits[static_cast<int>(d)]; }

std::string_view layout_name(Layout layout) { return layout == Layout::kOI ? "oi" : "io"; }

std::string_view dtype_name(DType d) { return dtype_traits(d).name; }

std::optional<DType> parse_dtype(std::string_view s) {
  for (DType d : kDTypes)
    if (dtype_name(d) == s) return d;
  return std::nullopt;
}

std::vector<std::string> dtype_names() {
  std::vector<std::string> names;
  for (DType d : kDTypes) names.emplace_back(dtype_name(d));
  return names;
}

int64_t dtype_bytes(DType d) { return dtype_traits(d).bytes; }

int64_t dtype_matrix_bytes(DType d, int64_t n, int64_t k) {
  const DTypeTraits& t = dtype_traits(d);
  return n * k * t.bytes + (t.row_scales ? n * static_cast<int64_t>(sizeof(float)) : 0);
}

}  // namespace moetune
