#include <algorithm>
#include <omp.h>

#include "kernels/gemv/gemv.h"

namespace moetune {

std::string_view layout_name(Layout layout) { return layout == Layout::kOI ? "oi" : "io"; }

const std::vector<GemvVariant>& gemv_variants() {
  static const std::vector<GemvVariant> variants = {
#define MOETUNE_GEMV(name, isa, layout, tokens_per_pass, rows_per_pass) \
  {#name, &name, Isa::isa, Layout::layout, tokens_per_pass, rows_per_pass},
#include "kernels/gemv/gemv.inc"
#undef MOETUNE_GEMV
  };
  return variants;
}

const GemvVariant* find_gemv(std::string_view name) {
  for (const auto& v : gemv_variants())
    if (v.name == name) return &v;
  return nullptr;
}

const GemvVariant& gemv_naive(Layout layout) {
  return *find_gemv(layout == Layout::kOI ? "gemv_f32_oi__naive" : "gemv_f32_io__naive");
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
    GemvArgs part = args;
    part.n = o1 - o0;
    part.w = v.layout == Layout::kOI ? args.w + o0 * args.ldw : args.w + o0;
    part.y = args.y + o0;
    if (part.n > 0) v.fn(part);
  }
}

}  // namespace moetune
