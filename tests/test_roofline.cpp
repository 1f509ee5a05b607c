// The roofline probe on a small buffer (the figures are not checked against any speed, only
// for being measured at all), the bound arithmetic, and `moetune roofline`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/roofline.h"
#include "kernels/common/isa.h"
#include "tests/synthetic_results.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

RooflineOptions quick() { return RooflineOptions::quick(); }

void expect_measured(const RooflineResult& r) {
  for (double v :
       {r.read_bandwidth_gbs, r.peak_gflops, r.single_read_bandwidth_gbs, r.single_peak_gflops}) {
    EXPECT_TRUE(std::isfinite(v)) << v;
    EXPECT_GT(v, 0.0);
  }
  EXPECT_FALSE(r.isa.empty());
  EXPECT_FALSE(r.read_isa.empty());
  EXPECT_GE(r.read_streams, 1);
  // One figure per instruction class the CPU has; the f32 peak is the best f32 probe.
  ASSERT_FALSE(r.peaks.empty());
  double best_f32 = 0.0;
  for (const PeakFigure& p : r.peaks) {
    EXPECT_GT(p.gflops, 0.0) << p.name;
    EXPECT_GT(p.single_gflops, 0.0) << p.name;
    EXPECT_TRUE(isa_available(*parse_isa(p.isa))) << p.name;
    if (p.arith == Arith::kF32) best_f32 = std::max(best_f32, p.gflops);
  }
  EXPECT_DOUBLE_EQ(r.peak_gflops, best_f32);
}

// Each instruction class the CPU has (and MOETUNE_MAX_ISA lets it use) is probed.
void expect_every_class_probed(const RooflineResult& r) {
  const auto probed = [&](Arith a) {
    for (const PeakFigure& p : r.peaks)
      if (p.arith == a) return true;
    return false;
  };
  EXPECT_EQ(probed(Arith::kBf16Dot), isa_available(Isa::kAvx512Bf16));
  EXPECT_EQ(probed(Arith::kInt8Dot),
            isa_available(Isa::kAvx512Vnni) || isa_available(Isa::kAvxVnni));
}

TEST(Roofline, TwoThreadsGivePositiveFiniteFigures) {
  const RooflineResult r = measure_roofline(2, quick());
  EXPECT_EQ(r.threads, 2);
  expect_measured(r);
  expect_every_class_probed(r);
}

TEST(Roofline, OneThread) {
  const RooflineResult r = measure_roofline(1, quick());
  EXPECT_EQ(r.threads, 1);
  expect_measured(r);
}

TEST(Roofline, ABufferThatDoesNotSplitEvenlyIsStillRead) {
  RooflineOptions o = quick();
  o.read_bytes = (std::size_t{1} << 20) + 4 * 37;  // not a whole number of blocks
  expect_measured(measure_roofline(3, o));
}

// MOETUNE_MAX_ISA=baseline takes the probes that every x86-64 runs.
TEST(Roofline, BaselineFallbackWhenWiderIsasAreMasked) {
  ASSERT_EQ(setenv("MOETUNE_MAX_ISA", "baseline", 1), 0);
  const RooflineResult r = measure_roofline(2, quick());
  unsetenv("MOETUNE_MAX_ISA");
  EXPECT_EQ(r.isa, "sse2");
  EXPECT_EQ(r.read_isa, "sse2");
  expect_measured(r);
  ASSERT_EQ(r.peaks.size(), 1u);
  EXPECT_EQ(r.peaks[0].name, "f32_mul_add_128");
}

TEST(Roofline, BoundScalesTheSingleThreadFiguresUpToTheTeam) {
  const RooflineResult r = test::synthetic_roofline(4, 30.0, 400.0, 20.0, 100.0);
  EXPECT_DOUBLE_EQ(r.bound_for(1).bandwidth_gbs, 20.0);
  EXPECT_DOUBLE_EQ(r.bound_for(1).gflops, 100.0);
  EXPECT_DOUBLE_EQ(r.bound_for(2).bandwidth_gbs, 30.0);  // saturated
  EXPECT_DOUBLE_EQ(r.bound_for(2).gflops, 200.0);
  EXPECT_DOUBLE_EQ(r.bound_for(8).gflops, 400.0);
  // 40 MB at 20 GB/s is 2 ms; 1 GFLOP at 100 GFLOP/s is 10 ms: compute bound.
  EXPECT_DOUBLE_EQ(r.seconds_for(40e6, 1e9, 1), 0.01);
  EXPECT_DOUBLE_EQ(r.seconds_for(40e6, 1e6, 1), 0.002);
}

// A result's bound takes the peak of the arithmetic its variant executes: the best probe of
// that class, the f32 peak where the class was not measured.
TEST(Roofline, BoundTakesThePeakOfTheArithmetic) {
  RooflineResult r = test::synthetic_roofline(0, 30.0, 200.0, 20.0, 100.0);
  r.peaks = {{"f32_fma_512", Arith::kF32, "avx512", 200.0, 100.0},
             {"bf16_dot_512", Arith::kBf16Dot, "avx512bf16", 400.0, 200.0},
             {"int8_dot_256", Arith::kInt8Dot, "avxvnni", 500.0, 250.0},
             {"int8_dot_512", Arith::kInt8Dot, "avx512vnni", 800.0, 400.0}};
  EXPECT_DOUBLE_EQ(r.bound_for(1, Arith::kBf16Dot).gflops, 200.0);
  EXPECT_DOUBLE_EQ(r.bound_for(2, Arith::kBf16Dot).gflops, 400.0);
  EXPECT_DOUBLE_EQ(r.bound_for(2, Arith::kInt8Dot).gflops, 800.0);
  EXPECT_DOUBLE_EQ(r.bound_for(2, Arith::kF32).gflops, 200.0);
  EXPECT_DOUBLE_EQ(r.seconds_for(0, 4e9, 2, Arith::kInt8Dot), 0.005);
  r.peaks.resize(1);  // no dot product measured: the f32 peak
  EXPECT_DOUBLE_EQ(r.bound_for(2, Arith::kInt8Dot).gflops, 200.0);
  EXPECT_EQ(arith_of(DType::kF32), Arith::kF32);
  EXPECT_EQ(arith_of(DType::kBF16), Arith::kBf16Dot);
  EXPECT_EQ(arith_of(DType::kInt8), Arith::kInt8Dot);
  // The AMX kernels are held to the tiles' peak, not to the vector dot product's.
  EXPECT_EQ(arith_of(DType::kBF16, Isa::kAmx), Arith::kBf16Tile);
  EXPECT_EQ(arith_of(DType::kInt8, Isa::kAmx), Arith::kInt8Tile);
  EXPECT_EQ(arith_of(DType::kF32, Isa::kAmx), Arith::kF32);
  EXPECT_EQ(arith_of(DType::kBF16, Isa::kAvx512Bf16), Arith::kBf16Dot);
  r.peaks.push_back({"bf16_tile", Arith::kBf16Tile, "amx", 7000.0, 3500.0});
  EXPECT_DOUBLE_EQ(r.bound_for(2, Arith::kBf16Tile).gflops, 7000.0);
  EXPECT_DOUBLE_EQ(r.bound_for(2, Arith::kBf16Dot).gflops, 200.0);  // not the tiles'
}

// Where the CPU has AMX the roofline measures the tile products, and well above the vector
// dot product (the probe counts what it runs: a wrong count would put them level).
TEST(Roofline, TileProbesWhereAmxRuns) {
  if (!isa_available(Isa::kAmx)) GTEST_SKIP() << "no AMX here";
  RooflineOptions o = quick();
  o.fma_runs = 3;
  const RooflineResult r = measure_roofline(1, o);
  double tile = 0.0, dot = 0.0;
  for (const PeakFigure& p : r.peaks) {
    if (p.arith == Arith::kBf16Tile) tile = p.single_gflops;
    if (p.arith == Arith::kBf16Dot) dot = p.single_gflops;
  }
  ASSERT_GT(tile, 0.0);
  ASSERT_GT(dot, 0.0);
  EXPECT_GT(tile, 4 * dot) << "bf16_tile " << tile << " against bf16_dot " << dot;
}

TEST(Roofline, JsonCarriesTheDocumentedKeys) {
  RooflineResult r;
  r.threads = 2;
  r.read_bandwidth_gbs = 25.5;
  r.single_peak_gflops = 99.0;
  r.isa = "avx2";
  r.peaks = {{"f32_fma_256", Arith::kF32, "avx2", 190.0, 95.0}};
  const auto j = to_json(r);
  EXPECT_EQ(j.at("peaks").at("f32_fma_256").at("arith"), "f32");
  EXPECT_EQ(j.at("peaks").at("f32_fma_256").at("isa"), "avx2");
  EXPECT_DOUBLE_EQ(j.at("peaks").at("f32_fma_256").at("gflops").get<double>(), 190.0);
  EXPECT_DOUBLE_EQ(j.at("peaks").at("f32_fma_256").at("single_thread_gflops").get<double>(), 95.0);
  EXPECT_EQ(j.at("threads"), 2);
  EXPECT_DOUBLE_EQ(j.at("read_bandwidth_gbs").get<double>(), 25.5);
  EXPECT_TRUE(j.contains("peak_gflops"));
  EXPECT_DOUBLE_EQ(j.at("single_thread").at("peak_gflops").get<double>(), 99.0);
  EXPECT_TRUE(j.at("single_thread").contains("read_bandwidth_gbs"));
  EXPECT_TRUE(j.at("cpu_model").is_string());
  EXPECT_EQ(j.at("isa"), "avx2");
  EXPECT_EQ(j.at("read_streams"), 1);
}

using Output = test::CommandOutput;

Output run(const std::string& args) {
  return test::run_command(std::string(MOETUNE_BINARY) + " " + args + " 2>/dev/null");
}

TEST(RooflineCommand, JsonOutput) {
  const Output o = run("roofline --json --threads 2 --buffer-mb 16");
  ASSERT_EQ(o.status, 0) << o.out;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j.at("threads"), 2);
  EXPECT_GT(j.at("read_bandwidth_gbs").get<double>(), 0.0);
  EXPECT_GT(j.at("peak_gflops").get<double>(), 0.0);
  EXPECT_GT(j.at("single_thread").at("read_bandwidth_gbs").get<double>(), 0.0);
  EXPECT_GT(j.at("single_thread").at("peak_gflops").get<double>(), 0.0);
  EXPECT_FALSE(j.at("isa").get<std::string>().empty());
  EXPECT_FALSE(j.at("peaks").empty());
}

TEST(RooflineCommand, TableHasBothRows) {
  const Output o = run("roofline --threads 2 --buffer-mb 16");
  ASSERT_EQ(o.status, 0) << o.out;
  EXPECT_NE(o.out.find("read GB/s"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("peak GFLOP/s"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("f32_"), std::string::npos) << o.out;
}

TEST(RooflineCommand, HelpAndBadInput) {
  EXPECT_EQ(run("roofline --help").status, 0);
  EXPECT_EQ(run("roofline --threads 0").status, 2);
  EXPECT_EQ(run("roofline --threads two").status, 2);
}

}  // namespace
}  // namespace moetune
