// Every kernel op and its registry, for the readers that walk all of them at once
// (`moetune variants`, the benchmark binary, the sweep).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernels/gemv/gemv.h"
#include "kernels/softmax/softmax.h"
#include "kernels/swiglu/swiglu.h"
#include "kernels/topk/topk.h"

namespace moetune {

struct KernelInfo {
  std::string_view op;  // "gemv", "swiglu", "softmax", "topk"
  std::string_view name;
  Isa isa;
  bool available() const { return isa_available(isa); }
};

inline const std::vector<std::string_view>& kernel_ops() {
  static const std::vector<std::string_view> ops = {"gemv", "swiglu", "softmax", "topk"};
  return ops;
}

inline std::vector<KernelInfo> kernel_variants() {
  std::vector<KernelInfo> all;
  for (const auto& v : gemv_variants()) all.push_back({"gemv", v.name, v.isa});
  for (const auto& v : swiglu_variants()) all.push_back({"swiglu", v.name, v.isa});
  for (const auto& v : softmax_variants()) all.push_back({"softmax", v.name, v.isa});
  for (const auto& v : topk_variants()) all.push_back({"topk", v.name, v.isa});
  return all;
}

}  // namespace moetune
