// Results cases with known medians and rooflines with known figures, built in code for the
// compare, report, roofline and benchmark tests.
#pragma once

#include <string>
#include <vector>

#include "harness/compare.h"
#include "harness/results.h"
#include "harness/roofline.h"

namespace moetune::test {

// A roofline of a team of `threads` with these figures (GB/s, GFLOP/s) for the team and for one
// thread, and no per-arithmetic peaks.
inline RooflineResult synthetic_roofline(int threads, double read_gbs, double gflops,
                                         double single_read_gbs, double single_gflops) {
  RooflineResult r;
  r.threads = threads;
  r.read_bandwidth_gbs = read_gbs;
  r.peak_gflops = gflops;
  r.single_read_bandwidth_gbs = single_read_gbs;
  r.single_peak_gflops = single_gflops;
  return r;
}

// A gemv case at H256_I128_E8_k2_S0_norm, f32, oi, 1 thread: 10 repetitions spread ±2%
// around `median_ns` (so the median is median_ns), or none when `error` is given.
inline CaseResult synthetic_case(const std::string &variant, int64_t tokens, double median_ns,
                                 bool verified = true, const std::string &error = "") {
  CaseResult c;
  c.op = "gemv";
  c.variant = variant;
  c.dtype = "f32";
  c.layout = "oi";
  c.shape = MoeShape{256, 128, 8, 2, 0, true};
  c.tokens = tokens;
  c.threads = 1;
  c.verified = verified && error.empty();
  c.error = error;
  c.name = c.op + "/" + variant + "/" + c.shape.key() + "/f32/oi/tokens:" + std::to_string(tokens) +
           "/threads:1";
  if (error.empty())
    for (int i = 0; i < 10; ++i) {
      Repetition r;
      r.real_time = r.cpu_time = median_ns * (1 + 0.02 * (i - 4.5) / 4.5);
      r.iterations = 100;
      c.repetitions.push_back(r);
    }
  return c;
}

// Two files for comparisons by decision point (MatchBy::kPoint), with known medians (each case
// as synthetic_case makes it). A, moetune-like: at 1 token naive 4 us, avx2_r8 1 us, a failed
// avx512_r8 and an unverified 0.5 us variant (both never chosen); at 16 tokens naive 8 us,
// avx2_r8 3 us; at 64 tokens only a failed variant. B, a peer with its own variant names:
// openblas 2 us at 1 token, 1.5 us at 16 and 9 us at 64, and a point A lacks (128 tokens).
inline std::vector<ComparedFile> point_files() {
  ComparedFile a{"moetune.json", {}, false, {}}, b{"peer.json", {}, false, {}};
  a.results.context = {{"cpu_model", "Synthetic CPU 1"}, {"compiler", "GNU 12.2.0"}};
  b.results.context = {{"cpu_model", "Synthetic CPU 1"}, {"peer", "openblas"}};
  a.results.cases = {synthetic_case("gemv_f32_oi__naive", 1, 4000),
                     synthetic_case("gemv_f32_oi__avx2_r8", 1, 1000),
                     synthetic_case("gemv_f32_oi__avx512_r8", 1, 0, false, "needs avx512"),
                     synthetic_case("gemv_f32_oi__unchecked", 1, 500, false),
                     synthetic_case("gemv_f32_oi__naive", 16, 8000),
                     synthetic_case("gemv_f32_oi__avx2_r8", 16, 3000),
                     synthetic_case("gemv_f32_oi__avx512_r8", 64, 0, false, "needs avx512")};
  b.results.cases = {synthetic_case("gemv_f32_oi__peer_openblas", 1, 2000),
                     synthetic_case("gemv_f32_oi__peer_openblas", 16, 1500),
                     synthetic_case("gemv_f32_oi__peer_openblas", 64, 9000),
                     synthetic_case("gemv_f32_oi__peer_openblas", 128, 5000)};
  return {a, b};
}

}  // namespace moetune::test
