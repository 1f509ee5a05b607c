// moetune merge: shards made here by dealing a synthetic results file out the
// way a sweep deals its points (point k, all its variants, to shard k % N) must merge back to
// the whole; parts that are not one sweep on one kind of machine are refused.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "harness/error.h"
#include "harness/merge.h"

namespace moetune {
namespace {

const std::string kBase = std::string(MOETUNE_TEST_DATA) + "/compare/base.json";

std::vector<ResultsPart> split(const ResultsFile &whole, int n) {
  std::vector<ResultsPart> parts(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    parts[i].path = "part" + std::to_string(i) + ".json";
    parts[i].results.context = whole.context;
    parts[i].results.context["shard"] = std::to_string(i) + "/" + std::to_string(n);
  }
  size_t point = 0;
  for (size_t i = 0; i < whole.cases.size(); ++i) {
    const CaseResult &c = whole.cases[i], *before = i ? &whole.cases[i - 1] : nullptr;
    if (before && !(c.op == before->op && c.shape == before->shape && c.tokens == before->tokens &&
                    c.threads == before->threads && c.dtype == before->dtype &&
                    c.layout == before->layout))
      ++point;
    parts[point % static_cast<size_t>(n)].results.cases.push_back(c);
  }
  return parts;
}

void expect_refused(const std::vector<ResultsPart> &parts, const std::string &words) {
  try {
    merge_parts(parts);
    ADD_FAILURE() << "merged, expected a refusal saying: " << words;
  } catch (const InputError &e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(Merge, ShardsMergeBackToTheWhole) {
  const ResultsFile whole = read_results(kBase);
  ASSERT_EQ(whole.cases.size(), 8u);
  for (int n : {1, 3, 8}) {
    auto parts = split(whole, n);
    std::reverse(parts.begin(), parts.end());  // the order given does not matter
    const MergeResult m = merge_parts(parts);
    EXPECT_TRUE(m.warnings.empty());
    EXPECT_EQ(results_to_json(m.results)["benchmarks"], results_to_json(whole)["benchmarks"])
        << n << " shards";
    nlohmann::json ctx = m.results.context;
    ASSERT_TRUE(ctx.contains("merged_from"));
    EXPECT_EQ(ctx["merged_from"].size(), static_cast<size_t>(n));
    EXPECT_EQ(ctx["merged_from"][0], "part0.json");  // in shard order
    EXPECT_FALSE(ctx.contains("shard"));
    ctx.erase("merged_from");
    EXPECT_EQ(ctx, whole.context);
  }
}

TEST(Merge, Refusals) {
  const ResultsFile whole = read_results(kBase);
  auto parts = split(whole, 3);

  expect_refused({parts[0], parts[2]}, "missing shard 1/3");
  expect_refused({parts[0], parts[1], parts[2], parts[1]}, "shard 1/3 is also part1.json");
  auto other_n = split(whole, 4);
  expect_refused({parts[0], parts[1], other_n[2]}, "a split into 4 parts");

  auto p = parts;
  p[1].results.context["sweep"] = "another";
  expect_refused(p, "different sweep");
  p = parts;
  p[2].results.context["seed"] = 7;
  expect_refused(p, "different sweep");
  p = parts;
  p[1].results.context["cpu_model"] = "Another CPU";
  expect_refused(p, "different kind of machine");
  p = parts;
  p[2].results.context.erase("cores");
  expect_refused(p, "different kind of machine");
  p = parts;
  p[1].results.cases.push_back(p[0].results.cases[0]);
  expect_refused(p, "is also in part0.json");
  p = parts;
  p[0].results.context.erase("shard");
  expect_refused(p, "not a part of a sharded sweep");
  p = parts;
  p[0].results.context["shard"] = "3/3";
  expect_refused(p, "expected I/N");
  expect_refused({}, "no parts");
}

TEST(Merge, OtherCommitsOnlyWarn) {
  auto parts = split(read_results(kBase), 2);
  parts[1].results.context["git_commit"] = "1111111other";
  const MergeResult m = merge_parts(parts);
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_NE(m.warnings[0].find("git_commit"), std::string::npos);
  EXPECT_EQ(m.results.cases.size(), 8u);
}

int run_merge(const std::string &args) {
  const int status =
      std::system((std::string(MOETUNE_BINARY) + " merge " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(MergeCommand, WritesTheWholeOrNothing) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "moetune_merge_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl + "/";
  const ResultsFile whole = read_results(kBase);
  const auto parts = split(whole, 2);
  for (const auto &p : parts) write_results(dir + p.path, p.results);
  const std::string out = dir + "merged.json";

  EXPECT_EQ(run_merge(dir + "part0.json -o " + out), 2);  // shard 1/2 missing
  EXPECT_FALSE(std::filesystem::exists(out));
  auto odd = parts[1];
  odd.results.context["sweep"] = "another";
  write_results(dir + "odd.json", odd.results);
  EXPECT_EQ(run_merge(dir + "part0.json " + dir + "odd.json -o " + out), 2);
  EXPECT_FALSE(std::filesystem::exists(out));

  ASSERT_EQ(run_merge(dir + "part1.json " + dir + "part0.json -o " + out), 0);
  const ResultsFile merged = read_results(out);
  EXPECT_EQ(results_to_json(merged)["benchmarks"], results_to_json(whole)["benchmarks"]);
  EXPECT_EQ(merged.context["merged_from"][1], dir + "part1.json");
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace moetune
