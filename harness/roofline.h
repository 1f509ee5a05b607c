// The roofline of this machine (DESIGN §3): how fast memory can be streamed in and how fast
// f32 FMAs can retire. Every benchmark result quotes its time against the bound these give.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace moetune {

struct RooflineOptions {
  // Far beyond any L3 (32 MB here), so the read probe streams from memory. Tests pass less.
  std::size_t read_bytes = std::size_t{512} << 20;
  int read_passes = 5;  // the best pass is kept: noise only ever slows a pass down
  // FMA iterations per thread per run: each does 12 independent vector FMAs; 2^23 of them is
  // about 15 ms on a 3 GHz core with two FMA pipes.
  int64_t fma_iterations = int64_t{1} << 23;
  int fma_runs = 3;
};

struct RooflineResult {
  int threads = 0;                  // the team the all-thread figures were measured with
  double read_bandwidth_gbs = 0.0;  // 1e9 bytes per second, all threads
  double peak_gflops = 0.0;         // 1e9 f32 flops per second (an FMA is 2), all threads
  double single_read_bandwidth_gbs = 0.0;
  double single_peak_gflops = 0.0;
  std::string isa;       // the FMA probe's code path: "avx512", "avx2" or "sse2"
  std::string read_isa;  // the read probe's fastest code path
  int read_streams = 1;  // and how many streams per thread it read side by side

  struct Bound {
    double bandwidth_gbs;
    double gflops;
  };
  // The figures for a run on `threads` threads: the single-thread ones scaled by the team,
  // never above what the whole team measured (bandwidth saturates long before the cores do).
  Bound bound_for(int threads) const;
  // The shortest time a call moving `bytes` and doing `flops` can take on `threads` threads.
  double seconds_for(double bytes, double flops, int threads) const;
};

// Measures streaming read bandwidth and FMA peak with `threads` threads and with one thread.
// Takes about a second with the default options.
RooflineResult measure_roofline(int threads, const RooflineOptions& options = {});

// {"threads", "read_bandwidth_gbs", "peak_gflops", "single_thread": {"read_bandwidth_gbs",
// "peak_gflops"}, "cpu_model", "isa", "read_isa", "read_streams"}
nlohmann::json to_json(const RooflineResult& r);

}  // namespace moetune
