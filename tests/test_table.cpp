// moetune table: its four formats, each naming the machine, commit and roofline of its figures,
// on moetune's results and on moetune_bench's plain Google Benchmark JSON; and moetune_bench
// listing its benchmarks without measuring anything.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "harness/compare_read.h"
#include "harness/error.h"
#include "harness/table.h"
#include "test_util.h"

namespace moetune {
namespace {

const std::string kData = std::string(MOETUNE_TEST_DATA) + "/compare/";

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = 0; (at = s.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

TEST(Table, EveryFormatNamesMachineCommitAndRoofline) {
  const ComparedFile f = read_comparable(kData + "base.json");
  ASSERT_FALSE(f.plain);
  const std::string cpu = f.results.context["cpu_model"].get<std::string>();
  for (TableFormat format : {TableFormat::kText, TableFormat::kMarkdown, TableFormat::kCsv}) {
    const std::string t = format_table(f, format);
    EXPECT_NE(t.find(cpu), std::string::npos) << t;
  }
  const std::string text = format_table(f, TableFormat::kText);
  EXPECT_EQ(text.rfind("machine: " + cpu, 0), 0u) << text;
  EXPECT_NE(text.find("\ncommit: "), std::string::npos) << text;
  EXPECT_NE(text.find("\nroofline: "), std::string::npos) << text;
  // One fastest variant marked per point.
  EXPECT_EQ(count(text, "\n* gemv_") + count(text, "\n* softmax_"),
            count(text, "\ngemv ") + count(text, "\nsoftmax "));

  const std::string md = format_table(f, TableFormat::kMarkdown);
  EXPECT_NE(md.find("- machine: " + cpu), std::string::npos) << md;
  EXPECT_NE(md.find("| | variant | median | cv% |"), std::string::npos) << md;

  const std::string csv = format_table(f, TableFormat::kCsv);
  std::istringstream lines(csv);
  std::string head, line;
  std::getline(lines, head);
  EXPECT_EQ(head.rfind("point,op,variant,shape,dtype,layout,tokens,threads,best,median_ns,cv,", 0),
            0u)
      << head;
  int rows = 0, best = 0;
  while (std::getline(lines, line)) {
    ++rows;
    best += line.find(",true,") != std::string::npos;
    EXPECT_NE(line.find(cpu), std::string::npos) << line;
  }
  EXPECT_EQ(rows, int(f.results.cases.size()));
  EXPECT_GT(best, 0);

  const auto j = nlohmann::json::parse(format_table(f, TableFormat::kJson));
  EXPECT_EQ(j["provenance"]["cpu_model"], cpu);
  EXPECT_TRUE(j["provenance"].contains("git_commit"));
  size_t variants = 0;
  for (const auto& p : j["points"]) variants += p["variants"].size();
  EXPECT_EQ(variants, f.results.cases.size());
}

TEST(Table, MoetuneBenchJsonByPoint) {
  const ComparedFile f = read_comparable(kData + "bench_a.json");
  const std::string text = format_table(f, TableFormat::kText);
  EXPECT_NE(text.find("machine: Synthetic CPU 1, 2 cores"), std::string::npos) << text;
  EXPECT_NE(text.find("commit: abc123def456"), std::string::npos) << text;
  EXPECT_NE(text.find("roofline: read 20.0 GB/s, f32 peak 100.0 GFLOP/s (2 threads)"),
            std::string::npos)
      << text;
  // One point, its three variants; partial_sort the fastest, twice naive's speed.
  EXPECT_EQ(count(text, "\ntopk/n:128/k:8\n"), 1u) << text;
  EXPECT_NE(text.find("* topk_f32__partial_sort"), std::string::npos) << text;
  EXPECT_NE(text.find("2.00x"), std::string::npos) << text;
  EXPECT_NE(text.find("needs avx512"), std::string::npos) << text;
}

TEST(Table, FormatNames) {
  EXPECT_EQ(parse_table_format("markdown"), TableFormat::kMarkdown);
  EXPECT_THROW(parse_table_format("xml"), InputError);
}

TEST(TableCommand, FormatsAndBadInput) {
  const std::string bin = MOETUNE_BINARY;
  auto r = test::run_command(bin + " table " + kData + "bench_a.json --format csv 2>&1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("topk/n:128/k:8,topk,topk_f32__partial_sort,"), std::string::npos) << r.out;
  r = test::run_command(bin + " table " + kData + "bench_a.json --format xml 2>&1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--format"), std::string::npos) << r.out;
  // tune cannot use names without shapes, and says so.
  r = test::run_command(bin + " tune " + kData + "bench_a.json -o /nonexistent/x.h 2>&1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("plain Google Benchmark JSON"), std::string::npos) << r.out;
}

// Listing registers the benchmarks against no roofline: the roofline line that a run prints on
// stderr (after seconds of measuring) must not appear.
TEST(BenchCommand, ListsWithoutMeasuring) {
  for (const char* flag : {"--benchmark_list_tests", "--benchmark_list_tests=true"}) {
    const auto r = test::run_command(std::string(MOETUNE_BENCH_BINARY) + " " + flag +
                                     " --benchmark_filter=topk 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("topk/topk_f32__naive/n:128/k:8/real_time\n"), std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("roofline ("), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("gemv/"), std::string::npos) << r.out;  // the filter applies
  }
  const auto off = test::run_command(std::string(MOETUNE_BENCH_BINARY) +
                                     " --benchmark_list_tests=false --benchmark_filter=NOTHING 2>&1");
  EXPECT_NE(off.out.find("roofline ("), std::string::npos) << off.out;
}

}  // namespace
}  // namespace moetune
