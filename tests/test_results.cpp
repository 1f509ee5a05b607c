#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "harness/error.h"
#include "harness/results.h"

namespace moetune {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "moetune_results_XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, ec);
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

CaseResult gemv_case(const std::string& variant, double base_ns) {
  CaseResult c;
  c.op = "gemv";
  c.variant = variant;
  c.dtype = "f32";
  c.layout = "oi";
  c.shape = {64, 32, 8, 2, 0, true};
  c.tokens = 4;
  c.threads = 2;
  c.name = "gemv/" + variant + "/" + c.shape.key() + "/f32/oi/tokens:4/threads:2";
  c.verified = true;
  c.rows = 32;
  c.cols = 64;
  for (int i = 0; i < 3; ++i)
    c.repetitions.push_back({base_ns + i, base_ns + i + 0.5, 1000 + i, 40.0 + i, 1e9, 2e9});
  return c;
}

CaseResult failed_case() {
  CaseResult c = gemv_case("gemv_f32_oi__avx512_r8", 0);
  c.repetitions.clear();
  c.verified = false;
  c.error = "needs avx512";
  return c;
}

CaseResult layer_case() {
  CaseResult c;
  c.op = "layer";
  c.variant = "layer_f32__naive";
  c.dtype = "f32";
  c.layout = "io";
  c.shape = {64, 32, 8, 2, 16, false};
  c.tokens = 1;
  c.threads = 1;
  c.name = "layer/layer_f32__naive/" + c.shape.key() + "/f32/io/tokens:1/threads:1";
  c.verified = true;
  c.time_unit = "us";
  c.allocs_per_call = 12;
  c.heap_bytes_per_call = 4096;
  c.activations = "bf16";
  c.kernels =
      "gemv=gemv_f32_io__naive swiglu=swiglu_f32__naive softmax=softmax_f32__naive "
      "topk=topk_f32__naive";
  c.repetitions = {{5.5, 5.4, 10, 1, 2, 3}};
  return c;
}

void expect_same(const CaseResult& a, const CaseResult& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.op, b.op);
  EXPECT_EQ(a.variant, b.variant);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.layout, b.layout);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.threads, b.threads);
  EXPECT_EQ(a.verified, b.verified);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.time_unit, b.time_unit);
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  EXPECT_EQ(a.allocs_per_call, b.allocs_per_call);
  EXPECT_EQ(a.heap_bytes_per_call, b.heap_bytes_per_call);
  EXPECT_EQ(a.activations, b.activations);
  EXPECT_EQ(a.kernels, b.kernels);
  ASSERT_EQ(a.repetitions.size(), b.repetitions.size());
  for (size_t i = 0; i < a.repetitions.size(); ++i) {
    EXPECT_DOUBLE_EQ(a.repetitions[i].real_time, b.repetitions[i].real_time);
    EXPECT_DOUBLE_EQ(a.repetitions[i].cpu_time, b.repetitions[i].cpu_time);
    EXPECT_EQ(a.repetitions[i].iterations, b.repetitions[i].iterations);
    EXPECT_DOUBLE_EQ(a.repetitions[i].roofline_pct, b.repetitions[i].roofline_pct);
    EXPECT_DOUBLE_EQ(a.repetitions[i].bytes_per_second, b.repetitions[i].bytes_per_second);
    EXPECT_DOUBLE_EQ(a.repetitions[i].flops_per_second, b.repetitions[i].flops_per_second);
  }
}

ResultsFile sample() {
  ResultsFile r;
  r.context = {{"cpu_model", "Test CPU"}, {"cores", 2}};
  r.cases = {gemv_case("gemv_f32_oi__naive", 100), failed_case(), layer_case()};
  return r;
}

TEST(Results, GoogleBenchmarkShape) {
  const nlohmann::json j = results_to_json(sample());
  const auto& b = j["benchmarks"];
  // 3 repetitions + 4 aggregates, 1 failed entry, 1 repetition + 4 aggregates.
  ASSERT_EQ(b.size(), 13u);
  EXPECT_EQ(b[0]["name"], b[0]["run_name"]);
  EXPECT_EQ(b[0]["run_type"], "iteration");
  EXPECT_EQ(b[0]["repetitions"], 3);
  EXPECT_EQ(b[2]["repetition_index"], 2);
  EXPECT_EQ(b[0]["rows"], 32);
  EXPECT_EQ(b[3]["run_type"], "aggregate");
  EXPECT_EQ(b[3]["aggregate_name"], "mean");
  EXPECT_DOUBLE_EQ(b[3]["real_time"].get<double>(), 101);
  EXPECT_EQ(b[4]["name"], b[0]["name"].get<std::string>() + "_median");
  EXPECT_EQ(b[6]["aggregate_name"], "cv");
  EXPECT_EQ(b[6]["aggregate_unit"], "percentage");
  EXPECT_DOUBLE_EQ(b[6]["real_time"].get<double>(), 1.0 / 101);
  EXPECT_EQ(b[7]["error_occurred"], true);
  EXPECT_EQ(b[7]["error"], "needs avx512");
  EXPECT_EQ(b[7]["verified"], false);
  EXPECT_EQ(b[8]["allocs_per_call"], 12.0);
  EXPECT_EQ(b[8]["time_unit"], "us");
  for (const auto& e : b)
    for (const char* key : {"name", "run_type", "real_time", "cpu_time", "time_unit", "iterations",
                            "op", "variant", "dtype", "layout", "tokens", "threads", "hidden",
                            "intermediate", "experts", "top_k", "shared_intermediate", "verified"})
      EXPECT_TRUE(e.contains(key)) << key << " missing in " << e.dump();
}

TEST(Results, RoundTripThroughAFile) {
  TempDir dir;
  const ResultsFile r = sample();
  write_results(dir / "out.json", r);
  const ResultsFile back = read_results(dir / "out.json");
  EXPECT_EQ(back.context, r.context);
  ASSERT_EQ(back.cases.size(), r.cases.size());
  for (size_t i = 0; i < r.cases.size(); ++i) expect_same(back.cases[i], r.cases[i]);
  EXPECT_EQ(back.cases[2].real_times_ns(), std::vector<double>{5500});
  // Nothing left behind but the file itself.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

// A peer's results written without a measured roofline carry no roofline_pct: read back, the
// case says so (has_roofline false), and written again it still has none, never a made-up 0.
TEST(Results, RooflineLeftOutStaysLeftOut) {
  nlohmann::json j = results_to_json(sample());
  EXPECT_TRUE(results_from_json(j, "r.json").cases[0].has_roofline);
  for (auto& e : j["benchmarks"]) e.erase("roofline_pct");
  const ResultsFile back = results_from_json(j, "r.json");
  EXPECT_FALSE(back.cases[0].has_roofline);
  EXPECT_FALSE(back.cases[2].has_roofline);
  // Held in a local: a range-for over a member of a temporary would read freed memory.
  const nlohmann::json written = results_to_json(back);
  for (const auto& e : written["benchmarks"]) EXPECT_FALSE(e.contains("roofline_pct")) << e.dump();
}

TEST(Results, ReaderNamesTheFileAndTheEntry) {
  nlohmann::json j = results_to_json(sample());
  j["benchmarks"][1].erase("op");
  try {
    results_from_json(j, "r.json");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "r.json");
    EXPECT_EQ(e.where(), "benchmarks[1] (" + sample().cases[0].name + ")");
    EXPECT_NE(std::string(e.what()).find("missing field 'op'"), std::string::npos) << e.what();
  }
  j = results_to_json(sample());
  j["benchmarks"][0]["tokens"] = "many";
  EXPECT_THROW(results_from_json(j, "r.json"), InputError);
  j = results_to_json(sample());
  j["benchmarks"][1]["threads"] = 7;  // repetitions of one case must agree
  EXPECT_THROW(results_from_json(j, "r.json"), InputError);
  j = results_to_json(sample());
  j["benchmarks"][0]["time_unit"] = "fortnights";
  EXPECT_THROW(results_from_json(j, "r.json"), InputError);
  EXPECT_THROW(results_from_json(nlohmann::json::array(), "r.json"), InputError);

  TempDir dir;
  spit(dir / "bad.json", "{\"benchmarks\": [");
  EXPECT_THROW(read_results(dir / "bad.json"), InputError);
  EXPECT_THROW(read_results(dir / "missing.json"), InputError);
}

TEST(AtomicWrite, MissingDirectoryLeavesNothing) {
  TempDir dir;
  EXPECT_THROW(write_file_atomically(dir / "no/such/dir/out.json", "x"), InputError);
  EXPECT_FALSE(fs::exists(dir / "no"));
}

TEST(AtomicWrite, FailedWriteKeepsTheOldFile) {
  TempDir dir;
  const std::string path = dir / "out.json";
  spit(path, "old content\n");
  // A file-size limit makes write() fail with EFBIG part-way through the new content, as a
  // full disk would; SIGXFSZ, which would otherwise end the process, is ignored meanwhile.
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit small = saved;
  small.rlim_cur = 4096;
  auto* old_handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  bool threw = false;
  try {
    write_file_atomically(path, std::string(100000, 'x'));
  } catch (const InputError& e) {
    threw = true;
    EXPECT_EQ(e.file(), path);
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(threw);
  EXPECT_EQ(slurp(path), "old content\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1)
      << "the temporary file was left behind";
}

TEST(AtomicWrite, UnwritableDirectoryKeepsTheOldFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  TempDir dir;
  const std::string path = dir / "out.json";
  spit(path, "old content\n");
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(write_results(path, sample()), InputError);
  fs::permissions(dir.path(), fs::perms::owner_all);
  EXPECT_EQ(slurp(path), "old content\n");
}

TEST(AtomicWrite, ReplacesTheOldFile) {
  TempDir dir;
  spit(dir / "out.json", "old");
  write_file_atomically(dir / "out.json", "new");
  EXPECT_EQ(slurp(dir / "out.json"), "new");
}

TEST(Journal, AppendAndReadBack) {
  TempDir dir;
  EXPECT_EQ(journal_path(dir / "out.json"), dir / "out.json.journal");
  const std::string path = journal_path(dir / "out.json");
  EXPECT_TRUE(read_journal(path).empty());
  const ResultsFile r = sample();
  {
    Journal j(path);
    for (const auto& c : r.cases) j.append(c);
  }
  const auto back = read_journal(path);
  ASSERT_EQ(back.size(), 3u);
  for (size_t i = 0; i < back.size(); ++i) expect_same(back[i], r.cases[i]);
}

TEST(Journal, TornLastLineIsSkippedAndCutBeforeTheNextAppend) {
  TempDir dir;
  const std::string path = dir / "out.json.journal";
  const ResultsFile r = sample();
  {
    Journal j(path);
    j.append(r.cases[0]);
    j.append(r.cases[1]);
  }
  // A crash in the middle of the third line.
  std::string text = slurp(path);
  const std::string first_line = text.substr(0, text.find('\n') + 1);
  spit(path, text + "{\"id\": \"layer/layer_f32__naive/H64_I32_E8_k2_S16_nonorm/f32/io/tok");
  auto back = read_journal(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].name, r.cases[1].name);

  // Resuming appends after the complete lines only.
  {
    Journal j(path);
    j.append(r.cases[2]);
  }
  back = read_journal(path);
  ASSERT_EQ(back.size(), 3u);
  expect_same(back[2], r.cases[2]);
  EXPECT_EQ(slurp(path).find("/tok{"), std::string::npos);

  // A torn line that reached its newline (a crash can leave zeros) is skipped when last...
  spit(path, first_line + std::string(10, '\0') + "\n");
  EXPECT_EQ(read_journal(path).size(), 1u);
  // ...and is an error anywhere else.
  spit(path, "not json\n" + first_line);
  try {
    read_journal(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "line 1");
  }
}

TEST(Journal, ALaterLineForTheSameCaseWins) {
  TempDir dir;
  const std::string path = dir / "j";
  CaseResult first = gemv_case("gemv_f32_oi__naive", 100);
  CaseResult second = gemv_case("gemv_f32_oi__naive", 200);
  {
    Journal j(path);
    j.append(first);
    j.append(second);
  }
  const auto back = read_journal(path);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_DOUBLE_EQ(back[0].repetitions[0].real_time, 200);
}

}  // namespace
}  // namespace moetune
