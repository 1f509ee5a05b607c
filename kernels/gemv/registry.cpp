#include <omp.h>

#include <algorithm>
#include <stdexcept>

#include "kernels/gemv/gemv.h"

namespace moetune {

const std::vector<GemvVariant>& gemv_variants() {
  static const std::vector<GemvVariant> variants = [] {
    std::vector<GemvVariant> v = {
#define MOETUNE_GEMV(name, isa, dtype, acts, layout, tokens_per_pass, rows_per_pass) \
  {#name,          &name,           Isa::isa,      DType::dtype, DType::acts,        \
   Layout::layout, tokens_per_pass, rows_per_pass, nullptr},
#include "kernels/gemv/gemv.inc"
#undef MOETUNE_GEMV
    };
    const auto set_pair = [&v](std::string_view name, GemvPairFn pair) {
      auto it =
          std::find_if(v.begin(), v.end(), [&](const GemvVariant& g) { return g.name == name; });
      if (it == v.end()) throw std::logic_error("gemv_pair.inc names a variant gemv.inc lacks");
      it->pair = pair;
    };
#define MOETUNE_GEMV_PAIR(name) set_pair(#name, &name##_pair);
#include "kernels/gemv/gemv_pair.inc"
#undef MOETUNE_GEMV_PAIR
    return v;
  }();
  return variants;
}

const GemvVariant* find_gemv(std::string_view name) {
  for (const auto& v : gemv_variants())
    if (v.name == name) return &v;
  return nullptr;
}

const GemvVariant& gemv_naive(Layout layout, DType dtype, DType acts) {
  // The dtype's table names its references; the registry entry is the one of that function.
  const DTypeTraits& t = dtype_traits(dtype);
  GemvFn fn = nullptr;
  if (acts == DType::kF32) fn = layout == Layout::kOI ? t.naive_oi : t.naive_io;
  else if (acts == dtype && layout == Layout::kOI) fn = t.naive_rounded_oi;
  for (const auto& v : gemv_variants())
    if (fn && v.fn == fn && v.layout == layout && v.dtype == dtype && v.acts == acts) return v;
  throw std::logic_error("gemv registry: no naive variant for a dtype and layout");
}

GemvArgs gemv_outputs(const GemvArgs& a, Layout layout, int64_t o0, int64_t count) {
  GemvArgs part = a;
  part.n = count;
  // oi: output o is row o (o·ldw further on); io: it is column o (o further on).
  const int64_t offset = layout == Layout::kOI ? o0 * a.ldw : o0;
  if (a.w) part.w = a.w + offset;
  if (a.w_bf16) part.w_bf16 = a.w_bf16 + offset;
  if (a.w_i8) part.w_i8 = a.w_i8 + offset;
  if (a.scale) part.scale = a.scale + o0;
  part.y = a.y + o0;
  return part;
}

void gemv_run_threaded(const GemvVariant& v, const GemvArgs& args, int threads) {
  constexpr int64_t kGrain = 16;  // one cache line of f32 outputs
  const int64_t blocks = (args.n + kGrain - 1) / kGrain;
  if (threads <= 1 || blocks < 2) {
    v.fn(args);
    return;
  }
  const int team = static_cast<int>(std::min<int64_t>(threads, blocks));
#pragma omp parallel num_threads(team)
  {
    const int64_t t = omp_get_thread_num();
    const int64_t b0 = blocks * t / team, b1 = blocks * (t + 1) / team;
    const int64_t o0 = b0 * kGrain, o1 = std::min(args.n, b1 * kGrain);
    if (o1 > o0) v.fn(gemv_outputs(args, v.layout, o0, o1 - o0));
  }
}

}  // namespace moetune
