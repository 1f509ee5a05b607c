// layer_ab: the MoE layer with two gemv variants, measured call by call in alternation.
//
//   build/layer_ab PRESET TOKENS THREADS CALLS DTYPE LAYOUT GEMV_A GEMV_B [STRATEGY]
//   e.g. build/layer_ab qwen3-30b-a3b 512 2 10 f32 oi gemv_f32_oi__avx2_gemm_dot3x4
//                       gemv_f32_oi__avx512_gemm_xt24
//
// Two layers on one set of random weights, with the default kernels of the point but the gemv
// (A's, then B's), each called CALLS times in turns (A B, B A, A B, ...). On a machine shared
// with other work, the load changes between two sweeps (minutes apart) far more than between
// two calls (a fraction of a second apart): the median of the per-pair ratios B/A is the
// figure to quote, with its quartiles. Prints also each side's median, its GFLOP/s (expert
// FMAs only), and the largest difference between the two outputs. STRATEGY (e.g. grouped)
// defaults to the layer strategy the selection picks for the point.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "variants/moe_layer.h"
#include "variants/selection.h"

namespace {

using namespace moetune;

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * double(v.size() - 1) + 0.5)];
}

int usage() {
  std::fprintf(stderr,
               "usage: layer_ab PRESET TOKENS THREADS CALLS DTYPE LAYOUT GEMV_A GEMV_B "
               "[STRATEGY]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 9) return usage();
  const auto shape = find_preset(argv[1]);
  const int64_t tokens = std::atoll(argv[2]);
  const int threads = std::atoi(argv[3]);
  const int calls = std::atoi(argv[4]);
  const auto dtype = parse_dtype(argv[5]);
  const auto layout_arg = parse_layout(argv[6]);
  const GemvVariant* ga = find_gemv(argv[7]);
  const GemvVariant* gb = find_gemv(argv[8]);
  if (!shape || tokens < 1 || threads < 1 || calls < 1 || !dtype || !layout_arg || !ga || !gb)
    return usage();
  const Layout layout = *layout_arg;
  const std::string name =
      argc > 9 ? layer_variant_name(*dtype, argv[9])
               : std::string(select_layer_variant(*shape, tokens, threads, layout, *dtype));

  const MoeWeights w = MoeWeights::random(*shape, layout, 1, *dtype);
  KernelSelection ka = select_kernels(*shape, tokens, threads, layout, *dtype), kb = ka;
  ka.gemv = ga;
  kb.gemv = gb;
  MoeLayer a(w, name, ka, threads, tokens), b(w, name, kb, threads, tokens);

  const int64_t H = shape->hidden;
  std::vector<float> x(static_cast<size_t>(tokens * H)), ya(x.size()), yb(x.size());
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (auto& v : x) v = uniform(rng);
  const auto run = [&](MoeLayer& layer, float* y) {
    const auto t0 = std::chrono::steady_clock::now();
    if (tokens == 1)
      layer.incremental_forward(x.data(), y);
    else
      layer.forward(x.data(), tokens, y);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  run(a, ya.data());  // warm-up, and the outputs compared below
  run(b, yb.data());
  double max_diff = 0.0;
  for (size_t i = 0; i < ya.size(); ++i)
    max_diff = std::max(max_diff, double(std::fabs(ya[i] - yb[i])));

  std::vector<double> ta, tb, ratio;
  for (int c = 0; c < calls; ++c) {
    double sa, sb;
    if (c % 2) {
      sb = run(b, yb.data());
      sa = run(a, ya.data());
    } else {
      sa = run(a, ya.data());
      sb = run(b, yb.data());
    }
    ta.push_back(sa);
    tb.push_back(sb);
    ratio.push_back(sb / sa);
  }
  const double flops =
      2.0 * 3.0 * double(H) * double(shape->intermediate) * double(tokens * shape->top_k);
  const double ma = quantile(ta, 0.5), mb = quantile(tb, 0.5);
  std::printf("%s %s %s tokens=%lld threads=%d %s, %d calls each\n", argv[1], argv[5], argv[6],
              static_cast<long long>(tokens), threads, name.c_str(), calls);
  std::printf("  A %-40s median %9.3f ms  %7.1f GFLOP/s\n", std::string(ga->name).c_str(), ma * 1e3,
              flops / ma * 1e-9);
  std::printf("  B %-40s median %9.3f ms  %7.1f GFLOP/s\n", std::string(gb->name).c_str(), mb * 1e3,
              flops / mb * 1e-9);
  std::printf("  B/A per pair: median %.3f, quartiles [%.3f, %.3f]; max |yA - yB| %.2g\n",
              quantile(ratio, 0.5), quantile(ratio, 0.25), quantile(ratio, 0.75), max_diff);
  return 0;
}
