// A real sweep with adaptive repetitions, in process on a toy shape: what each point records
// (looks, why it stopped, the load around it), the context's budget and warnings, a busy
// machine called out, a results file never replaced without --force; and the per-user record
// of the roofline that calls out a slow start.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/decision.h"
#include "harness/error.h"
#include "harness/load.h"
#include "harness/results.h"
#include "harness/sweep_runner.h"
#include "harness/table.h"
#include "tests/test_util.h"

namespace moetune {
namespace {

namespace fs = std::filesystem;

const std::string kSweep = std::string("name: adaptive\n") + test::kToySweepShapes + R"(tokens: [1]
threads: [1]
ops: [gemv, topk]
variants: [gemv_f32_oi__naive, gemv_f32_oi__ompsimd_u8, topk_f32__naive, topk_f32__partial_sort]
repetitions: 3
min_time: 0.001
)";

using test::TempDir;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

SweepOptions options(const TempDir& dir, const std::string& yaml) {
  std::ofstream(dir / "s.yaml") << yaml;
  SweepOptions o;
  o.config = dir / "s.yaml";
  o.output = dir / "out.json";
  o.progress = false;
  return o;
}

TEST(SweepAdaptive, EveryPointRecordsItsLooksWhyItStoppedAndItsLoad) {
  TempDir dir("moetune_adaptive");
  const SweepOptions o = options(dir, kSweep + "max_repetitions: 12\n");
  run_sweep(o);
  const ResultsFile r = read_results(o.output);
  const nlohmann::json& a = r.context.at("adaptive");
  EXPECT_EQ(a.at("min_repetitions"), 3);
  EXPECT_EQ(a.at("max_repetitions"), 12);
  EXPECT_EQ(a.at("looks"), 3);  // 3, 6, 12
  EXPECT_TRUE(r.context.at("load").at("start").contains("others_runnable"));
  EXPECT_TRUE(r.context.at("warnings").is_array());
  EXPECT_EQ(r.context.at("sweep_sha256").get<std::string>().size(), 64u);
  const std::set<int> schedule = {3, 6, 12};
  std::map<std::string, const PointRun*> per_op;
  for (const CaseResult& c : r.cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(c.point_run.has_value());
    const PointRun& p = *c.point_run;
    EXPECT_TRUE(schedule.count(static_cast<int>(c.repetitions.size())));
    EXPECT_EQ(c.repetitions.size(), size_t(std::vector<int>{3, 6, 12}[p.looks - 1]));
    EXPECT_TRUE(p.stopped.rfind("settled: ", 0) == 0 || p.stopped == "max_repetitions" ||
                p.stopped == "max_time")
        << p.stopped;
    if (p.stopped == "max_repetitions") {
      EXPECT_EQ(c.repetitions.size(), 12u);
    }
    EXPECT_GE(p.others_runnable_before, 0);
    EXPECT_GT(p.seconds, 0);
    // Both cases of a point were measured together and say the same.
    auto [it, fresh] = per_op.try_emplace(c.op, &p);
    if (!fresh) {
      EXPECT_EQ(it->second->looks, p.looks);
      EXPECT_EQ(it->second->stopped, p.stopped);
    }
  }
  EXPECT_EQ(per_op.size(), 2u);
}

TEST(SweepAdaptive, MaxTimeStopsAPointAfterItsFirstLook) {
  TempDir dir("moetune_adaptive_time");
  const SweepOptions o = options(dir, kSweep + "max_repetitions: 12\nmax_time: 0.000001\n");
  run_sweep(o);
  for (const CaseResult& c : read_results(o.output).cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.repetitions.size(), 3u);
    EXPECT_TRUE(c.point_run->stopped == "max_time" ||
                c.point_run->stopped.rfind("settled: ", 0) == 0)
        << c.point_run->stopped;
  }
}

TEST(SweepAdaptive, AResultsFileIsReplacedOnlyWithForce) {
  TempDir dir("moetune_adaptive_force");
  SweepOptions o = options(dir, kSweep + "max_repetitions: 3\n");
  std::ofstream(o.output) << "what someone measured before";
  try {
    run_sweep(o);
    ADD_FAILURE() << "replaced an existing results file";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), o.output);
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_all(o.output), "what someone measured before");
  EXPECT_FALSE(fs::exists(journal_path(o.output)));
  o.force = true;
  run_sweep(o);
  const ResultsFile first = read_results(o.output);
  EXPECT_EQ(first.cases.size(), 4u);
  // --resume onto a finished file measures nothing again: every case is kept as it was.
  o.force = false;
  o.resume = true;
  run_sweep(o);
  const ResultsFile again = read_results(o.output);
  ASSERT_EQ(again.cases.size(), first.cases.size());
  for (size_t i = 0; i < again.cases.size(); ++i)
    EXPECT_EQ(again.cases[i].real_times_ns(), first.cases[i].real_times_ns()) << again.cases[i].name;
}

// Threads spinning in this process compete for the cores the sweep needs: the sweep says so
// on stderr and in its results, and the table's footer repeats it.
TEST(SweepAdaptive, ABusyMachineIsCalledOut) {
  TempDir dir("moetune_adaptive_busy");
  const SweepOptions o = options(dir, kSweep + "max_repetitions: 3\n");
  std::atomic<bool> stop{false};
  std::vector<std::thread> spinners;
  const int n = static_cast<int>(std::thread::hardware_concurrency()) + 2;
  for (int i = 0; i < n; ++i)
    spinners.emplace_back([&] {
      volatile double x = 1;
      while (!stop.load(std::memory_order_relaxed)) x = x * 1.0000001;
    });
  testing::internal::CaptureStderr();
  run_sweep(o);
  const std::string err = testing::internal::GetCapturedStderr();
  stop = true;
  for (auto& t : spinners) t.join();
  const ResultsFile r = read_results(o.output);
  EXPECT_NE(err.find("other threads were runnable"), std::string::npos) << err;
  std::string all;
  for (const auto& w : r.context.at("warnings")) all += w.get<std::string>() + "\n";
  EXPECT_NE(all.find("points ran while other threads competed"), std::string::npos) << all;
  EXPECT_NE(format_table(r).find("warnings of this sweep"), std::string::npos);
}

TEST(RooflineRecord, ASlowStartIsCalledOutAndTheBestIsKept) {
  TempDir dir("moetune_roofline_cache");
  const char* before = std::getenv("MOETUNE_CACHE_DIR");
  const std::string restore = before ? before : "";
  setenv("MOETUNE_CACHE_DIR", dir.path().c_str(), 1);
  RooflineResult r;
  r.peak_gflops = 100;
  r.read_bandwidth_gbs = 40;
  EXPECT_EQ(check_and_record_roofline("cpu A", r), "");  // nothing recorded before
  r.peak_gflops = 85;  // 15% below: within the noise this allows
  EXPECT_EQ(check_and_record_roofline("cpu A", r), "");
  r.peak_gflops = 70;  // 30% below the best, 100
  const std::string w = check_and_record_roofline("cpu A", r);
  EXPECT_NE(w.find("FMA peak measured now, 70.0 GFLOP/s, is 30% below the 100.0"),
            std::string::npos)
      << w;
  EXPECT_EQ(w.find("bandwidth"), std::string::npos) << w;
  EXPECT_EQ(check_and_record_roofline("cpu B", r), "");  // another machine class
  r.peak_gflops = 120;
  EXPECT_EQ(check_and_record_roofline("cpu A", r), "");
  const auto cache = nlohmann::json::parse(read_all(dir.path() / "roofline.json"));
  EXPECT_EQ(cache.at("cpu A").at("peak_gflops"), 120);
  // A file that is not ours to read is left as it was.
  std::ofstream(dir.path() / "roofline.json") << "not json";
  EXPECT_EQ(check_and_record_roofline("cpu A", r), "");
  EXPECT_EQ(read_all(dir.path() / "roofline.json"), "not json");
  if (before)
    setenv("MOETUNE_CACHE_DIR", restore.c_str(), 1);
  else
    unsetenv("MOETUNE_CACHE_DIR");
}

}  // namespace
}  // namespace moetune
