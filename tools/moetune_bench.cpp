// The kernel benchmark binary: Google Benchmark over every registered variant of every kernel
// op on the shapes of the Qwen MoE presets, each verified before it is timed and quoted
// against this machine's roofline. Every Google Benchmark flag works; the default min time is
// 0.1 s per benchmark so that the whole binary runs in a minute or two.
#include <benchmark/benchmark.h>
#include <fmt/core.h>
#include <omp.h>

#include <cctype>
#include <cstdio>
#include <exception>
#include <set>
#include <string>
#include <vector>

#include "harness/error.h"
#include "harness/fingerprint.h"
#include "harness/kernel_bench.h"
#include "harness/roofline.h"
#include "kernels/common/isa.h"

namespace {

struct GemvShape {
  int64_t n, k;
  std::vector<int64_t> tokens;
  const char* what;
};

// qwen3-30b-a3b (H 2048, I 768, E 128) and qwen1.5-moe-a2.7b (S 5632), as they are stored.
// The expert matrices also at the tokens an expert sees in prefill (T x k / E: 8 at T = 128,
// 32 at T = 512, 64 at T = 1024), where the blocked GEMM variants are meant to run.
const GemvShape kGemvShapes[] = {
    {5632, 2048, {1, 4}, "qwen1.5 shared expert gate/up"},
    {768, 2048, {1, 4, 8, 32, 64}, "qwen3 expert gate/up"},
    {2048, 768, {1, 4, 8, 32, 64}, "qwen3 expert down"},
    {128, 2048, {1}, "qwen3 router"},
};

void register_all(const moetune::RooflineResult& roof) {
  std::set<int> threads = {1, 2, omp_get_num_procs()};
  for (const auto& s : kGemvShapes)
    for (int64_t m : s.tokens)
      for (int t : threads)
        for (const auto& c : moetune::registry_cases(moetune::Op::kGemv, s.n, s.k, m, t))
          moetune::register_kernel_benchmark(c, roof);
  // qwen3 I = 768 and qwen1.5 I = 1408; E = 128 with k = 8 and E = 60 with k = 4.
  for (int64_t n : {768, 1408})
    for (const auto& c : moetune::registry_cases(moetune::Op::kSwiglu, n))
      moetune::register_kernel_benchmark(c, roof);
  for (int64_t n : {128, 60})
    for (const auto& c : moetune::registry_cases(moetune::Op::kSoftmax, n))
      moetune::register_kernel_benchmark(c, roof);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{128, 8}, {60, 4}})
    for (const auto& c : moetune::registry_cases(moetune::Op::kTopk, n, k))
      moetune::register_kernel_benchmark(c, roof);
}

void add_context(const moetune::RooflineResult& roof) {
  const moetune::Fingerprint f = moetune::machine_fingerprint();
  benchmark::AddCustomContext("cpu_model", f.cpu_model);
  benchmark::AddCustomContext("cpu_features", f.cpu_features);
  benchmark::AddCustomContext("cores", std::to_string(f.cores));
  benchmark::AddCustomContext("compiler", f.compiler);
  benchmark::AddCustomContext("compiler_flags", f.compiler_flags);
  benchmark::AddCustomContext("git_commit", f.git_commit);
  benchmark::AddCustomContext("moetune_version", f.moetune_version);
  benchmark::AddCustomContext("roofline_threads", std::to_string(roof.threads));
  benchmark::AddCustomContext("read_bandwidth_gbs", fmt::format("{:.2f}", roof.read_bandwidth_gbs));
  benchmark::AddCustomContext("peak_gflops", fmt::format("{:.1f}", roof.peak_gflops));
  benchmark::AddCustomContext("single_thread_read_bandwidth_gbs",
                              fmt::format("{:.2f}", roof.single_read_bandwidth_gbs));
  benchmark::AddCustomContext("single_thread_peak_gflops",
                              fmt::format("{:.1f}", roof.single_peak_gflops));
  benchmark::AddCustomContext("roofline_isa", roof.isa);
  for (const moetune::PeakFigure& p : roof.peaks)
    benchmark::AddCustomContext("peak_" + p.name + "_gops", fmt::format("{:.1f}", p.gflops));
}

// --benchmark_list_tests[=true|1|yes]: Google Benchmark 1.7 does not export its flags, so the
// command line is read here too (the last one counts, as in Google Benchmark).
bool lists_tests(int argc, char** argv) {
  bool list = false;
  const std::string flag = "--benchmark_list_tests";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == flag) list = true;
    if (a.rfind(flag + "=", 0) != 0) continue;
    std::string v = a.substr(flag.size() + 1);
    for (char& ch : v) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    list = v == "true" || v == "1" || v == "yes" || v == "t" || v == "y";
  }
  return list;
}

}  // namespace

int main(int argc, char** argv) {
  // The default goes first, so a --benchmark_min_time on the command line (parsed later)
  // overrides it.
  std::vector<char*> args(argv, argv + argc);
  static char default_min_time[] = "--benchmark_min_time=0.1";
  args.insert(args.begin() + 1, default_min_time);
  int args_count = int(args.size());
  benchmark::Initialize(&args_count, args.data());
  if (benchmark::ReportUnrecognizedArguments(args_count, args.data())) return 1;
  if (const std::string e = moetune::max_isa_error(); !e.empty()) {
    fmt::print(stderr, "moetune_bench: error: {}\n", e);
    return 2;
  }
  // Listing registers the same benchmarks against no roofline: nothing is measured or run.
  if (lists_tests(argc, argv)) {
    try {
      register_all(moetune::RooflineResult{});
    } catch (const std::exception& e) {
      fmt::print(stderr, "moetune_bench: error: {}\n", e.what());
      return 2;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  }
  try {
    const moetune::RooflineResult roof = moetune::measure_roofline(
        omp_get_num_procs(), moetune::RooflineOptions::for_sweeps());
    // stderr: stdout may be --benchmark_format=json, which must stay one JSON document.
    fmt::print(stderr,
               "roofline ({} threads, {}): read {:.1f} GB/s, peak {:.1f} GFLOP/s; "
               "1 thread: read {:.1f} GB/s, peak {:.1f} GFLOP/s\n",
               roof.threads, roof.isa, roof.read_bandwidth_gbs, roof.peak_gflops,
               roof.single_read_bandwidth_gbs, roof.single_peak_gflops);
    add_context(roof);
    register_all(roof);
  } catch (const moetune::InputError& e) {
    fmt::print(stderr, "moetune_bench: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "moetune_bench: error: {}\n", e.what());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
