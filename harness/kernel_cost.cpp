#include "harness/kernel_cost.h"

#include <cstdint>

#include "kernels/gemv/gemv.h"

namespace moetune {
namespace {

constexpr double kF32 = sizeof(float);

}  // namespace

KernelCost gemv_cost(const KernelCase& c) {
  const double n = double(c.n), k = double(c.k), m = double(c.m), f = kF32;
  // The weights in their dtype (int8 with its scales); x and y are f32. An unknown variant
  // counts as f32 (verification names it).
  const GemvVariant* v = find_gemv(c.variant);
  const DType d = v ? v->dtype : DType::kF32;
  const double w = double(dtype_matrix_bytes(d, c.n, c.k));
  return {w + f * (m * k + m * n), 2.0 * n * k * m};
}

KernelCost swiglu_cost(const KernelCase& c) {
  return {kF32 * 3.0 * double(c.n), 4.0 * double(c.n)};
}

KernelCost softmax_cost(const KernelCase& c) {
  return {kF32 * 2.0 * double(c.n), 5.0 * double(c.n)};
}

KernelCost topk_cost(const KernelCase& c) {
  return {kF32 * double(c.n) + (kF32 + sizeof(int32_t)) * double(c.k), double(c.n)};
}

}  // namespace moetune
