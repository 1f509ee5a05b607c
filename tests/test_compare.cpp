// moetune compare on synthetic results whose answer is known
// (tests/data/compare): each case has 10 repetitions spread ±2% around its
// median; slower.json is base.json with one case (gemv avx2_r8, 1 token)
// exactly 2x slower; other_machine.json has base's times on another CPU model
// and core count; plain_*.json are Google Benchmark files (5 repetitions and
// aggregates, in us).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/compare.h"
#include "harness/error.h"
#include "tests/synthetic_results.h"

namespace moetune {
namespace {

const std::string kData = std::string(MOETUNE_TEST_DATA) + "/compare/";
// The CSV columns of a comparison by variant; by point adds the variant each file used.
const std::string kCsvHeader =
    "benchmark,op,variant,shape,dtype,layout,tokens,threads,file,base_file,base_median_ns,base_cv,"
    "median_ns,cv,ratio,ci_lower,ci_upper,p_value,significant,change";
const std::string kSlowKey =
    "gemv/gemv_f32_oi__avx2_r8/H256_I128_E8_k2_S0_norm/f32/oi/tokens:1/"
    "threads:1";

Comparison compare_paths(const std::vector<std::string> &names) {
  std::vector<ComparedFile> files;
  for (const auto &n : names) files.push_back(read_comparable(kData + n));
  return compare_files(files);
}

const CompareRow &row_of(const Comparison &c, const std::string &key) {
  for (const auto &r : c.rows)
    if (r.key == key) return r;
  throw std::runtime_error("no row " + key);
}

TEST(Compare, IdenticalFilesShowNothingSignificant) {
  const Comparison c = compare_paths({"base.json", "base.json"});
  ASSERT_EQ(c.rows.size(), 8u);
  for (const auto &r : c.rows) {
    ASSERT_EQ(r.cells.size(), 1u);
    EXPECT_EQ(r.cells[0].change, Change::kCompared) << r.key;
    EXPECT_DOUBLE_EQ(r.cells[0].ratio, 1.0) << r.key;
    EXPECT_FALSE(r.cells[0].significant) << r.key;
    EXPECT_GT(r.cells[0].p_value, 0.9) << r.key;
    EXPECT_LE(r.cells[0].lower, 1.0);
    EXPECT_GE(r.cells[0].upper, 1.0);
  }
  ASSERT_TRUE(c.overall.ratio[0]);
  EXPECT_NEAR(*c.overall.ratio[0], 1.0, 1e-12);
  EXPECT_EQ(c.overall.rows[0], 8);
  ASSERT_EQ(c.per_op.size(), 2u);
  EXPECT_EQ(c.per_op[0].op, "gemv");
  EXPECT_EQ(c.per_op[1].op, "softmax");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_TRUE(regressions(c, 0).empty());
  const std::string text = format_comparison(c, CompareFormat::kText, false);
  // Every case row ends in `~`: no change, no colour.
  std::istringstream lines(text);
  std::string line;
  int unchanged = 0;
  while (std::getline(lines, line))
    unchanged += line.size() > 2 && line.substr(line.size() - 2) == " ~";
  EXPECT_EQ(unchanged, 8) << text;
}

TEST(Compare, TwiceAsSlowOverTenRepetitionsIsASignificantRegression) {
  const Comparison c = compare_paths({"base.json", "slower.json"});
  const RatioCell &slow = row_of(c, kSlowKey).cells[0];
  EXPECT_DOUBLE_EQ(slow.ratio, 2.0);
  EXPECT_TRUE(slow.significant);
  // 10 against 10 with every slower time above every base time: the exact
  // two-sided p is 2 / C(20, 10).
  EXPECT_NEAR(slow.p_value, 2.0 / 184756, 1e-9);
  EXPECT_GT(slow.lower, 1.9);
  EXPECT_LT(slow.upper, 2.1);
  int significant = 0;
  for (const auto &r : c.rows) significant += r.cells[0].significant;
  EXPECT_EQ(significant, 1);
  EXPECT_NEAR(*c.per_op[0].ratio[0], std::pow(2.0, 1.0 / 4),
              1e-12);  // 4 gemv rows
  EXPECT_NEAR(*c.per_op[1].ratio[0], 1.0, 1e-12);
  EXPECT_NEAR(*c.overall.ratio[0], std::pow(2.0, 1.0 / 8), 1e-12);
  ASSERT_EQ(regressions(c, 10).size(), 1u);
  EXPECT_EQ(regressions(c, 10)[0].row->key, kSlowKey);
  EXPECT_TRUE(regressions(c, 150).empty());

  // The other way round it is a significant improvement, never a regression.
  const Comparison back = compare_paths({"slower.json", "base.json"});
  EXPECT_DOUBLE_EQ(row_of(back, kSlowKey).cells[0].ratio, 0.5);
  EXPECT_TRUE(row_of(back, kSlowKey).cells[0].significant);
  EXPECT_TRUE(regressions(back, 0).empty());
}

TEST(Compare, DifferentMachinesWarnButCompare) {
  const Comparison c = compare_paths({"base.json", "other_machine.json"});
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("cpu_model: 'Synthetic CPU 1' vs 'Synthetic CPU 2'"),
            std::string::npos)
      << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("cores: 2 vs 4"), std::string::npos) << c.warnings[0];
  EXPECT_EQ(c.warnings[0].find("compiler"), std::string::npos) << c.warnings[0];
  EXPECT_EQ(c.rows.size(), 8u);
  EXPECT_NEAR(*c.overall.ratio[0], 1.0, 1e-12);
}

TEST(Compare, FingerprintDifferences) {
  using nlohmann::json;
  EXPECT_TRUE(fingerprint_differences(json::object(), json::object()).empty());
  EXPECT_TRUE(fingerprint_differences({{"cores", 2}}, {{"num_cpus", 2}}).empty());
  const auto d = fingerprint_differences({{"compiler", "GNU 12"}}, json::object());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0], "compiler: 'GNU 12' vs (unknown)");
}

TEST(Compare, ThreeFilesAgainstTheFirst) {
  const Comparison c = compare_paths({"base.json", "slower.json", "other_machine.json"});
  const CompareRow &r = row_of(c, kSlowKey);
  ASSERT_EQ(r.cells.size(), 2u);
  EXPECT_TRUE(r.cells[0].significant);
  EXPECT_FALSE(r.cells[1].significant);
  EXPECT_EQ(c.warnings.size(),
            1u);  // only other_machine.json differs from base.json
  const std::string text = format_comparison(c, CompareFormat::kText, false);
  EXPECT_NE(text.find("C/A"), std::string::npos);
}

TEST(Compare, PlainGoogleBenchmarkFilesByName) {
  const ComparedFile a = read_comparable(kData + "plain_a.json");
  EXPECT_TRUE(a.plain);
  ASSERT_EQ(a.results.cases.size(), 3u);  // aggregates ignored
  EXPECT_EQ(a.results.cases[0].repetitions.size(), 5u);
  EXPECT_FALSE(read_comparable(kData + "base.json").plain);

  const Comparison c = compare_paths({"plain_a.json", "plain_b.json"});
  ASSERT_EQ(c.rows.size(), 4u);
  const CompareRow &naive = row_of(c, "BM_gemv/oi/naive");
  EXPECT_EQ(naive.op, "BM_gemv");
  EXPECT_DOUBLE_EQ(naive.samples[0].median_ns, 40000.0);  // us in the file
  EXPECT_FALSE(naive.cells[0].significant);
  const RatioCell &fast = row_of(c, "BM_gemv/oi/avx2_r8").cells[0];
  EXPECT_DOUBLE_EQ(fast.ratio, 2.0);
  EXPECT_NEAR(fast.p_value, 2.0 / 252, 1e-9);  // 5 against 5, exact
  EXPECT_TRUE(fast.significant);
  EXPECT_EQ(row_of(c, "BM_softmax/naive").cells[0].change, Change::kRemoved);
  EXPECT_EQ(row_of(c, "BM_topk/heap").cells[0].change, Change::kAdded);
  EXPECT_EQ(c.overall.rows[0], 2);
  const std::string text = format_comparison(c, CompareFormat::kText, false);
  EXPECT_NE(text.find("added"), std::string::npos);
  EXPECT_NE(text.find("removed"), std::string::npos);
}

// moetune_bench writes moetune's context (moetune_version, the roofline) over Google Benchmark's
// own entries, which carry no `op`: its content, not its context, makes it plain.
TEST(Compare, MoetuneBenchJsonIsReadAsGoogleBenchmarkJson) {
  const ComparedFile a = read_comparable(kData + "bench_a.json");
  EXPECT_TRUE(a.plain);
  ASSERT_EQ(a.results.cases.size(), 3u);
  const CaseResult &naive = a.results.cases[0];
  EXPECT_EQ(naive.op, "topk");
  EXPECT_EQ(naive.variant, "topk_f32__naive");
  EXPECT_EQ(naive.dtype, "f32");
  EXPECT_EQ(naive.layout, "any");
  EXPECT_TRUE(naive.has_roofline);
  EXPECT_GT(naive.repetitions[0].flops_per_second, 0);
  EXPECT_EQ(a.points[0], "topk/n:128/k:8");
  EXPECT_EQ(a.results.cases[2].error, "needs avx512");

  const Comparison c = compare_paths({"bench_a.json", "bench_b.json"});
  ASSERT_EQ(c.rows.size(), 3u);
  const CompareRow &ps = row_of(c, "topk/topk_f32__partial_sort/n:128/k:8/real_time");
  EXPECT_EQ(ps.variant, "topk_f32__partial_sort");
  EXPECT_EQ(ps.shape, "n:128/k:8");
  EXPECT_FALSE(ps.tokens);
  EXPECT_DOUBLE_EQ(ps.cells[0].ratio, 2.0);
  EXPECT_TRUE(ps.cells[0].significant);
  EXPECT_EQ(change_text(ps.cells[0]), "+100.0%");
  EXPECT_EQ(change_text(row_of(c, "topk/topk_f32__naive/n:128/k:8/real_time").cells[0]), "~");

  // By point, the variants of one name line up: naive is the fastest in b, partial_sort in a.
  const Comparison p = compare_files(
      {read_comparable(kData + "bench_a.json"), read_comparable(kData + "bench_b.json")}, 0.05,
      MatchBy::kPoint);
  ASSERT_EQ(p.rows.size(), 1u);
  EXPECT_EQ(p.rows[0].key, "topk/n:128/k:8");
  EXPECT_EQ(p.rows[0].samples[0].variant, "topk_f32__partial_sort");
  EXPECT_EQ(p.rows[0].samples[1].variant, "topk_f32__naive");
}

TEST(Compare, PlainNames) {
  const PlainName n = split_plain_name("gemv/gemv_f32_oi__avx2_r8/n:768/k:2048/m:4/threads:2/real_time");
  EXPECT_EQ(n.op, "gemv");
  EXPECT_EQ(n.variant, "gemv_f32_oi__avx2_r8");
  EXPECT_EQ(n.point, "gemv/n:768/k:2048/m:4/threads:2");
  const PlainName other = split_plain_name("BM_gemv/oi/naive");
  EXPECT_EQ(other.variant, "");
  EXPECT_EQ(other.point, "BM_gemv/oi/naive");
}

// Every format names the parts of the key, the spread of each median and the change.
TEST(Compare, EveryFormatHasTheKeyColumnsTheCvAndTheChange) {
  const Comparison c = compare_paths({"base.json", "slower.json"});
  const std::string csv = format_comparison(c, CompareFormat::kCsv, false);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), kCsvHeader);
  EXPECT_NE(csv.find(kSlowKey + ",gemv,gemv_f32_oi__avx2_r8,H256_I128_E8_k2_S0_norm,f32,oi,1,1,"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",false,~\n"), std::string::npos) << csv;

  // The geomean rows say how many rows in their label; the interval column stays empty.
  const std::string md = format_comparison(c, CompareFormat::kMarkdown, false);
  const auto geo = md.find("| geomean gemv (4 rows) |");
  ASSERT_NE(geo, std::string::npos) << md;
  const std::string line = md.substr(geo, md.find('\n', geo) - geo);
  EXPECT_EQ(line, "| geomean gemv (4 rows) |  |  | 1.189 |  |  |  |") << line;
  EXPECT_NE(md.find("| geomean (8 rows) |"), std::string::npos) << md;

  const auto j = nlohmann::json::parse(format_comparison(c, CompareFormat::kJson, false));
  for (const auto &row : j["rows"]) {
    if (row["benchmark"] != kSlowKey) continue;
    EXPECT_EQ(row["variant"], "gemv_f32_oi__avx2_r8");
    EXPECT_EQ(row["shape"], "H256_I128_E8_k2_S0_norm");
    EXPECT_EQ(row["tokens"], 1);
    EXPECT_EQ(row["threads"], 1);
    EXPECT_EQ(row["comparisons"][0]["change"], "+100.0%");
    EXPECT_EQ(row["comparisons"][0]["status"], "compared");
    EXPECT_TRUE(row["samples"][0].contains("cv"));
  }
}

TEST(Compare, FilesWithNothingInCommonAreUnmatched) {
  const Comparison c = compare_paths({"base.json", "plain_a.json"});
  EXPECT_EQ(unmatched_files(c), std::vector<std::string>{kData + "plain_a.json"});
  EXPECT_TRUE(unmatched_files(compare_paths({"base.json", "slower.json"})).empty());
}

TEST(Compare, Formats) {
  const Comparison c = compare_paths({"base.json", "slower.json"});
  const std::string plain = format_comparison(c, CompareFormat::kText, false);
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  EXPECT_NE(plain.find("+100.0%"), std::string::npos);
  EXPECT_NE(plain.find(" ~"), std::string::npos);
  EXPECT_NE(plain.find("geomean gemv"), std::string::npos);
  const std::string colour = format_comparison(c, CompareFormat::kText, true);
  EXPECT_NE(colour.find("\x1b[31m"), std::string::npos);

  const std::string md = format_comparison(c, CompareFormat::kMarkdown, false);
  EXPECT_NE(md.find("| :--- |"), std::string::npos);
  EXPECT_NE(md.find("| " + kSlowKey + " |"), std::string::npos);

  const std::string csv = format_comparison(c, CompareFormat::kCsv, false);
  std::istringstream lines(csv);
  std::string line;
  int n = 0, slow_lines = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (line.rfind(kSlowKey + ",", 0) == 0) {
      ++slow_lines;
      EXPECT_NE(line.find(",2,"), std::string::npos) << line;
      EXPECT_NE(line.find(",true,+100.0%"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(n, 9);
  EXPECT_EQ(slow_lines, 1);

  const auto j = nlohmann::json::parse(format_comparison(c, CompareFormat::kJson, false));
  EXPECT_EQ(j["rows"].size(), 8u);
  EXPECT_NEAR(j["geomean"]["overall"][0]["ratio"].get<double>(), std::pow(2.0, 1.0 / 8), 1e-12);
  EXPECT_NEAR(j["geomean"]["per_op"]["gemv"][0]["ratio"].get<double>(), std::pow(2.0, 0.25), 1e-12);

  EXPECT_THROW(parse_compare_format("xml"), InputError);
  EXPECT_EQ(parse_compare_format("benchstat"), CompareFormat::kBenchstat);
}

TEST(Compare, BenchstatFormat) {
  EXPECT_EQ(benchstat_name("gemv/x/tokens:1/threads:2"), "BenchmarkGemv/x/tokens=1/threads=2");
  EXPECT_EQ(benchstat_name("BM_a b-12"), "BenchmarkBM_a_b_12");
  const std::vector<ComparedFile> files = {read_comparable(kData + "base.json"),
                                           read_comparable(kData + "plain_a.json")};
  const std::string out = format_benchstat(files);
  std::istringstream lines(out);
  std::string line;
  int bench = 0, sources = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("Benchmark", 0) == 0) {
      ++bench;
      // name, iterations, value, unit: the four fields of Go's format
      std::istringstream f(line);
      std::string name, unit;
      long iterations = 0;
      double ns = 0;
      ASSERT_TRUE(f >> name >> iterations >> ns >> unit) << line;
      EXPECT_EQ(unit, "ns/op");
      EXPECT_GT(ns, 0);
    }
    sources += line.rfind("source: ", 0) == 0;
  }
  EXPECT_EQ(bench, 80 + 15);  // every repetition, no aggregate
  EXPECT_EQ(sources, 2);
  EXPECT_NE(out.find("cpu: Synthetic CPU 1\n"), std::string::npos);
  EXPECT_NE(out.find("goos: linux\ngoarch: amd64\n"), std::string::npos);
  EXPECT_NE(out.find("BenchmarkBM_gemv/oi/naive 100 39200 ns/op\n"), std::string::npos);
}

TEST(Compare, BadFilesAreInputErrors) {
  EXPECT_THROW(read_comparable(kData + "no_such.json"), InputError);
  EXPECT_THROW(comparable_from_json(nlohmann::json::array(), "x.json"), InputError);
  EXPECT_THROW(comparable_from_json({{"benchmarks", {{{"run_type", "iteration"}}}}}, "x.json"),
               InputError);
  const std::vector<ComparedFile> one = {read_comparable(kData + "base.json")};
  EXPECT_THROW(compare_files(one), InputError);
}

// --match point: per decision point, each file's fastest verified variant, on
// test::point_files() (tests/synthetic_results.h), whose answers are known.
const std::string kPoint1 = "gemv/H256_I128_E8_k2_S0_norm/f32/oi/tokens:1/threads:1";

TEST(ComparePoint, PointIdIsTheCaseIdWithoutTheVariant) {
  const CaseResult c = test::synthetic_case("gemv_f32_oi__naive", 1, 1);
  EXPECT_EQ(point_id(c), kPoint1);
  EXPECT_EQ(parse_match("point"), MatchBy::kPoint);
  EXPECT_EQ(parse_match("case"), MatchBy::kCase);
  EXPECT_THROW(parse_match("variant"), InputError);
}

// A moetune row is keyed by its Point; a peer's row in a dtype moetune has no type for
// (llama.cpp's q8_0) has no point and keeps the same text made of its fields.
TEST(ComparePoint, RowsWithoutAPointKeepTheirText) {
  CaseResult c = test::synthetic_case("gemv_f32_oi__naive", 1, 1);
  ASSERT_TRUE(c.point());
  EXPECT_EQ(c.point()->id(), kPoint1);
  EXPECT_EQ(case_id(c), c.name);
  c.op = "layer", c.variant = "layer_q8_0__peer_llamacpp", c.dtype = "q8_0";
  EXPECT_FALSE(c.point());
  EXPECT_EQ(point_id(c), "layer/H256_I128_E8_k2_S0_norm/q8_0/oi/tokens:1/threads:1");
  EXPECT_EQ(case_id(c),
            "layer/layer_q8_0__peer_llamacpp/H256_I128_E8_k2_S0_norm/q8_0/oi/tokens:1/threads:1");
  c.dtype = "f32", c.layout = "any";  // a layer needs a layout
  EXPECT_FALSE(c.point());
}

TEST(ComparePoint, FastestVerifiedVariantOfEachFile) {
  const auto files = test::point_files();
  // By case nothing lines up: every variant of one file is missing in the other.
  const Comparison by_case = compare_files(files);
  EXPECT_FALSE(by_case.overall.ratio[0]);

  const Comparison c = compare_files(files, 0.05, MatchBy::kPoint);
  EXPECT_EQ(c.match, MatchBy::kPoint);
  ASSERT_EQ(c.rows.size(), 4u);  // A's three points in its order, then B's new one
  const CompareRow &one = c.rows[0];
  EXPECT_EQ(one.key, kPoint1);
  EXPECT_EQ(one.op, "gemv");
  // A: avx2_r8 beats naive; the failed and the unverified variants are never chosen.
  EXPECT_EQ(one.samples[0].variant, "gemv_f32_oi__avx2_r8");
  EXPECT_EQ(one.samples[0].candidates, 2);
  EXPECT_NEAR(one.samples[0].median_ns, 1000, 1e-9);
  EXPECT_EQ(one.samples[1].variant, "gemv_f32_oi__peer_openblas");
  EXPECT_EQ(one.samples[1].candidates, 1);
  ASSERT_EQ(one.cells[0].change, Change::kCompared);
  EXPECT_NEAR(one.cells[0].ratio, 2.0, 1e-12);
  EXPECT_TRUE(one.cells[0].significant);
  EXPECT_NEAR(one.cells[0].p_value, 2.0 / 184756, 1e-9);  // 10 against 10, disjoint

  const CompareRow &sixteen = c.rows[1];
  EXPECT_EQ(sixteen.samples[0].variant, "gemv_f32_oi__avx2_r8");
  EXPECT_NEAR(sixteen.cells[0].ratio, 0.5, 1e-12);
  EXPECT_TRUE(sixteen.cells[0].significant);

  // A has only a failed case at 64 tokens: a failed sample that says so.
  const CompareRow &failed = c.rows[2];
  EXPECT_EQ(failed.cells[0].change, Change::kFailed);
  EXPECT_EQ(failed.samples[0].error, "no verified variant (1 failed)");
  EXPECT_TRUE(failed.samples[0].variant.empty());
  EXPECT_EQ(c.rows[3].cells[0].change, Change::kAdded);

  // Geomean over the two compared points: sqrt(2 * 0.5) = 1.
  ASSERT_TRUE(c.overall.ratio[0]);
  EXPECT_NEAR(*c.overall.ratio[0], 1.0, 1e-12);
  EXPECT_EQ(c.overall.rows[0], 2);
  // The same machine: the compiler a peer lacks is no warning by point (it is by case).
  EXPECT_TRUE(c.warnings.empty());
  ASSERT_EQ(by_case.warnings.size(), 1u);
  EXPECT_NE(by_case.warnings[0].find("compiler"), std::string::npos);
  ASSERT_EQ(regressions(c, 50).size(), 1u);
  EXPECT_EQ(regressions(c, 50)[0].row->key, kPoint1);
}

TEST(ComparePoint, EqualMediansTakeTheFirstName) {
  auto files = test::point_files();
  files[0].results.cases = {test::synthetic_case("gemv_f32_oi__b", 1, 1000),
                            test::synthetic_case("gemv_f32_oi__a", 1, 1000)};
  const Comparison c = compare_files(files, 0.05, MatchBy::kPoint);
  EXPECT_EQ(c.rows[0].samples[0].variant, "gemv_f32_oi__a");
}

TEST(ComparePoint, FormatsNameTheVariants) {
  const Comparison c = compare_files(test::point_files(), 0.05, MatchBy::kPoint);
  const std::string text = format_comparison(c, CompareFormat::kText, false);
  EXPECT_NE(text.find("A variant"), std::string::npos) << text;
  EXPECT_NE(text.find("B variant"), std::string::npos) << text;
  EXPECT_NE(text.find("gemv_f32_oi__avx2_r8"), std::string::npos) << text;
  EXPECT_NE(text.find("+100.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("no verified variant"), std::string::npos) << text;
  EXPECT_NE(text.find("by point"), std::string::npos) << text;

  const std::string csv = format_comparison(c, CompareFormat::kCsv, false);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), kCsvHeader + ",base_variant,variant_used");
  // By point the variant column is empty: each file names its own in the last two.
  EXPECT_NE(csv.find(kPoint1 + ",gemv,,H256_I128_E8_k2_S0_norm,f32,oi,1,1,peer.json,moetune.json,1000,"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",true,+100.0%,gemv_f32_oi__avx2_r8,gemv_f32_oi__peer_openblas\n"),
            std::string::npos)
      << csv;

  const auto j = nlohmann::json::parse(format_comparison(c, CompareFormat::kJson, false));
  EXPECT_EQ(j["match"], "point");
  EXPECT_EQ(j["rows"][0]["samples"][0]["variant"], "gemv_f32_oi__avx2_r8");
  EXPECT_EQ(j["rows"][0]["samples"][0]["candidates"], 2);
  EXPECT_EQ(j["rows"][0]["samples"][1]["variant"], "gemv_f32_oi__peer_openblas");
}

// The command as CI runs it: exit status, and what goes to stdout and stderr.
struct CliRun {
  int status = -1;
  std::string out, err;
};

CliRun run_moetune(const std::string &args) {
  const auto base =
      std::filesystem::temp_directory_path() / ("moetune_compare_" + std::to_string(::getpid()));
  const std::string out = base.string() + ".out", err = base.string() + ".err";
  const int status =
      std::system((std::string(MOETUNE_BINARY) + " " + args + " >" + out + " 2>" + err).c_str());
  auto slurp = [](const std::string &p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

TEST(CompareCommand, ExitStatus) {
  const std::string base = kData + "base.json", slower = kData + "slower.json";
  CliRun r = run_moetune("compare " + base + " " + slower + " --fail-on-regression 10");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find(kSlowKey), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("+100.0%"), std::string::npos);
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);  // not a terminal: no colour

  r = run_moetune("compare " + base + " " + slower + " --fail-on-regression 150");
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_moetune("compare " + base + " " + base + " --fail-on-regression 10");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run_moetune("compare " + base + " " + slower).status, 0);

  r = run_moetune("compare " + base + " " + kData + "other_machine.json --format markdown");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos);
  EXPECT_NE(r.err.find("cpu_model"), std::string::npos);

  r = run_moetune("compare " + base + " " + kData + "no_such.json");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("no_such.json"), std::string::npos);
  EXPECT_EQ(run_moetune("compare " + base + " " + slower + " --format xml").status, 2);
  EXPECT_EQ(run_moetune("compare " + base).status, 2);

  // --match point on the command line; a bad --match is a usage error.
  r = run_moetune("compare " + base + " " + slower + " --match point --format csv");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(",base_variant,variant_used\n"), std::string::npos) << r.out;
  // slower.json's avx2_r8 at 1 token is 2x slower, but still its fastest at the point.
  EXPECT_NE(r.out.find("gemv/H256_I128_E8_k2_S0_norm/f32/oi/tokens:1/threads:1,gemv,"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(run_moetune("compare " + base + " " + slower + " --match variant").status, 2);

  // A gate with nothing to compare is bad input, not a pass.
  r = run_moetune("compare " + base + " " + kData + "plain_a.json --fail-on-regression 5");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("plain_a.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no benchmark in common"), std::string::npos) << r.err;

  // moetune_bench's JSON, as the README makes it.
  r = run_moetune("compare " + kData + "bench_a.json " + kData + "bench_b.json --fail-on-regression 50");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("topk/topk_f32__partial_sort"), std::string::npos) << r.err;

  r = run_moetune("compare " + base + " --format benchstat");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("BenchmarkGemv/"), std::string::npos);
}

}  // namespace
}  // namespace moetune
