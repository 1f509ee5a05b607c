// The roofline of this machine (DESIGN §3, §9): how fast memory can be streamed in, and how
// fast each class of arithmetic instruction the CPU has can retire: f32 FMAs (256 and 512 bits),
// the bf16 dot product (vdpbf16ps) and the int8 one (vpdpbusd, 512-bit and AVX-VNNI's 256-bit).
// Every benchmark result quotes its time against the bound these give, with the peak of the
// arithmetic its variant executes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/common/dtype.h"
#include "kernels/common/isa.h"

namespace moetune {

// What a kernel multiplies with, for the flops side of its bound: f32 FMAs, or the dot
// products of bf16 pairs or int8 quads into f32 / int32 lanes (an operation is a multiply or
// an add, as for f32: a vdpbf16ps on 512 bits does 64, a vpdpbusd 128).
// The AMX tile products (tdpbf16ps, tdpbssd) are classes of their own: the same products at
// many times the vector instructions' rate, so a tile kernel is held to the tiles' peak.
enum class Arith { kF32, kBf16Dot, kInt8Dot, kBf16Tile, kInt8Tile };
// "f32", "bf16_dot", "int8_dot", "bf16_tile", "int8_tile"
std::string_view arith_name(Arith arith);
// The arithmetic of a gemv whose activations are `acts` (gemv.inc) and whose ISA is `isa`: f32
// FMAs unless they are rounded to bf16 or quantized to int8, on the tiles where isa is AMX.
Arith arith_of(DType acts, Isa isa = Isa::kBaseline);

// The peak of one instruction class, e.g. {"bf16_dot_512", kBf16Dot, "avx512bf16", 410, 205}.
struct PeakFigure {
  std::string name;
  Arith arith = Arith::kF32;
  std::string isa;
  double gflops = 0.0;         // all threads, 1e9 operations per second
  double single_gflops = 0.0;  // one thread
};

struct RooflineOptions {
  // Far beyond any L3 (32 MB here), so the read probe streams from memory. Tests pass less.
  std::size_t read_bytes = std::size_t{512} << 20;
  int read_passes = 5;  // the best pass is kept: noise only ever slows a pass down
  // FMA iterations per thread per run: each does 12 independent vector FMAs; 2^23 of them is
  // about 15 ms on a 3 GHz core with two FMA pipes.
  int64_t fma_iterations = int64_t{1} << 23;
  int fma_runs = 3;

  // A probe of a few milliseconds (8 MiB read twice, 2^16 FMA iterations once): figures of no
  // worth as a limit (the read fits in the L3), for tests whose subject is not the roofline.
  static RooflineOptions quick();
  // What sweeps and moetune_bench measure with: the defaults, or quick() where the environment
  // sets MOETUNE_TEST_QUICK_ROOFLINE (to anything but "" and "0"). The test suite sets it: its
  // sweeps would otherwise spend most of their time (and most of a sanitized build's) streaming
  // 512 MiB through the read probe.
  static RooflineOptions for_sweeps();
};

struct RooflineResult {
  int threads = 0;                  // the team the all-thread figures were measured with
  double read_bandwidth_gbs = 0.0;  // 1e9 bytes per second, all threads
  double peak_gflops = 0.0;         // 1e9 f32 flops per second (an FMA is 2), all threads:
                                    // the best f32 probe
  double single_read_bandwidth_gbs = 0.0;
  double single_peak_gflops = 0.0;
  std::string isa;                // the fastest f32 probe's code path: "avx512", "avx2" or "sse2"
  std::string read_isa;           // the read probe's fastest code path
  int read_streams = 1;           // and how many streams per thread it read side by side
  std::vector<PeakFigure> peaks;  // every instruction class probed, f32 ones first

  struct Bound {
    double bandwidth_gbs;
    double gflops;
  };
  // The figures for a run on `threads` threads: the single-thread ones scaled by the team,
  // never above what the whole team measured (bandwidth saturates long before the cores do).
  // The peak is the best probe of `arith` (f32's where that class was not measured).
  Bound bound_for(int threads, Arith arith = Arith::kF32) const;
  // The shortest time a call moving `bytes` and doing `flops` of `arith` can take on `threads`
  // threads.
  double seconds_for(double bytes, double flops, int threads, Arith arith = Arith::kF32) const;
};

// Measures streaming read bandwidth and FMA peak with `threads` threads and with one thread.
// Takes about a second with the default options.
RooflineResult measure_roofline(int threads, const RooflineOptions& options = {});

// {"threads", "read_bandwidth_gbs", "peak_gflops", "single_thread": {"read_bandwidth_gbs",
// "peak_gflops"}, "cpu_model", "isa", "read_isa", "read_streams", "peaks": {name: {"arith",
// "isa", "gflops", "single_thread_gflops"}}}
nlohmann::json to_json(const RooflineResult& r);

}  // namespace moetune
