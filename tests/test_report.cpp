// moetune report: one self-contained page, every section with a plot, nothing
// fetched.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/error.h"
#include "harness/report.h"
#include "tests/synthetic_results.h"

namespace moetune {
namespace {

const std::string kData = std::string(MOETUNE_TEST_DATA) + "/compare/";

size_t count(const std::string &s, const std::string &what) {
  size_t n = 0;
  for (size_t at = 0; (at = s.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

std::vector<std::string> sections(const std::string &html) {
  std::vector<std::string> out;
  for (size_t at = 0; (at = html.find("<section", at)) != std::string::npos;) {
    const size_t end = html.find("</section>", at);
    EXPECT_NE(end, std::string::npos);
    out.push_back(html.substr(at, end - at));
    at = end;
  }
  return out;
}

void expect_self_contained(const std::string &html) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(Report, OneFile) {
  const std::string html = report_html({{"base.json", read_results(kData + "base.json")}});
  expect_self_contained(html);
  const auto s = sections(html);
  ASSERT_EQ(s.size(), 2u);  // gemv, softmax
  for (const auto &sec : s) EXPECT_NE(sec.find("<svg"), std::string::npos) << sec.substr(0, 80);
  EXPECT_NE(s[0].find("% of roofline"), std::string::npos);
  EXPECT_NE(s[0].find("Speedup over naive"), std::string::npos);
  // gemv at 1 token: naive 4 us, avx2_r8 1 us, 40% of roofline.
  EXPECT_NE(s[0].find(">4.00x<"), std::string::npos);
  EXPECT_NE(s[0].find(">40.0%<"), std::string::npos);
  EXPECT_EQ(html.find("<section id=\"cmp"), std::string::npos);
  // A roofline chart per op, with the machine's bandwidth and peak as roofs; medians with
  // whiskers; labels in words.
  EXPECT_EQ(count(html, "class=\"chart roofline\""), 2u);
  EXPECT_NE(s[0].find("class=\"roof\""), std::string::npos);
  EXPECT_NE(s[0].find("decode (1 token)"), std::string::npos);
  EXPECT_GT(count(s[0], "class=\"whisker\""), 0u);
  EXPECT_NE(s[0].find("1 token, 1 thread"), std::string::npos);
}

// Every time chart of an op spans the same decades: their gridline labels are the same.
TEST(Report, OneTimeAxisPerSection) {
  // A second chart (2 threads) whose times are 100 times longer.
  ResultsFile r = read_results(kData + "base.json");
  const size_t n = r.cases.size();
  for (size_t i = 0; i < n; ++i) {
    CaseResult c = r.cases[i];
    c.threads = 2;
    c.name += "/2";
    for (auto &rep : c.repetitions) rep.real_time *= 100;
    r.cases.push_back(c);
  }
  const std::string html = report_html({{"base.json", r}});
  const auto s = sections(html);
  std::vector<std::string> axes;
  for (size_t at = 0; (at = s[0].find("class=\"chart time\"", at)) != std::string::npos;) {
    const size_t end = s[0].find("</svg>", at);
    const std::string chart = s[0].substr(at, end - at);
    const std::string tick = "text-anchor=\"end\" class=\"lab\">";
    std::string labels;
    for (size_t l = 0; (l = chart.find(tick, l)) != std::string::npos;) {
      l += tick.size();
      labels += chart.substr(l, chart.find('<', l) - l) + ";";
    }
    axes.push_back(labels);
    at = end;
  }
  ASSERT_GE(axes.size(), 2u);
  for (const auto &a : axes) EXPECT_EQ(a, axes[0]);
}

TEST(Report, SeveralFilesAreCompared) {
  const std::string html =
      report_html({{"base.json", read_results(kData + "base.json")},
                   {"slower.json", read_results(kData + "slower.json")},
                   {"other.json", read_results(kData + "other_machine.json")}});
  expect_self_contained(html);
  const auto s = sections(html);
  // The comparisons first, each later file against the first; then per file and op.
  ASSERT_EQ(s.size(), 2u + 2 * 3);
  for (const auto &sec : s) EXPECT_NE(sec.find("<svg"), std::string::npos) << sec.substr(0, 80);
  EXPECT_EQ(s[0].rfind("<section id=\"cmp1\"", 0), 0u) << s[0].substr(0, 80);
  const std::string &slower = s[0];
  // Per op a ratio chart: one marker per compared row with its interval; the significant 2x
  // filled, the unchanged rows hollow.
  EXPECT_EQ(count(slower, "class=\"chart ratio\""), 2u);  // gemv, softmax
  EXPECT_EQ(count(slower, "<circle"), 8u);
  EXPECT_EQ(count(slower, "r=\"4\" fill=\"#D55E00\""), 1u);
  EXPECT_EQ(count(slower, "r=\"4\" fill=\"none\""), 7u);
  EXPECT_NE(slower.find(": 2.000 ["), std::string::npos);
  EXPECT_EQ(slower.find("Warning"), std::string::npos);
  EXPECT_NE(s[1].find("Warning"), std::string::npos);  // another CPU model
  EXPECT_LT(html.find("<section id=\"cmp2\""), html.find("<section id=\"f0-"));
}

// A peer's file (other variant names, no roofline): nothing matches by case, so the
// comparison shows the best of each file at each point, and the peer's unknown roofline is
// shown as such, never as 0%.
TEST(Report, PeerFileBestAgainstBest) {
  auto files = test::point_files();
  for (auto &c : files[1].results.cases) c.has_roofline = false;
  const std::string html =
      report_html({{files[0].path, files[0].results}, {files[1].path, files[1].results}});
  expect_self_contained(html);
  const auto s = sections(html);
  ASSERT_EQ(s.size(), 3u);  // the comparison, then gemv of each file
  const std::string &peer = s[2], &cmp = s[0];
  EXPECT_NE(peer.find(">-<"), std::string::npos);  // roofline not measured
  EXPECT_EQ(peer.find(">0.0%<"), std::string::npos);
  EXPECT_NE(cmp.find("Best against best"), std::string::npos);
  EXPECT_NE(cmp.find("<td>gemv_f32_oi__avx2_r8</td>"), std::string::npos);
  EXPECT_NE(cmp.find("<td>gemv_f32_oi__peer_openblas</td>"), std::string::npos);
  EXPECT_NE(cmp.find(">2.00</td>"), std::string::npos);  // 2 us against 1 us at 1 token
  EXPECT_NE(cmp.find(">0.50</td>"), std::string::npos);  // 1.5 us against 3 us at 16
  EXPECT_NE(cmp.find("no verified variant (1 failed)"), std::string::npos);
  EXPECT_NE(cmp.find("geomean 1.000 over 2 points"), std::string::npos);
  EXPECT_NE(cmp.find("<details><summary>Not compared"), std::string::npos);
}

TEST(Report, NothingToReport) {
  EXPECT_THROW(report_html({}), InputError);
  EXPECT_THROW(report_html({{"empty.json", ResultsFile{}}}), InputError);
}

int run_report(const std::string &args) {
  const int status =
      std::system((std::string(MOETUNE_BINARY) + " report " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ReportCommand, WritesThePage) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "moetune_report_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string out = tmpl + "/report.html";
  EXPECT_EQ(run_report(kData + "no_such.json -o " + out), 2);
  EXPECT_FALSE(std::filesystem::exists(out));
  ASSERT_EQ(run_report(kData + "base.json " + kData + "slower.json -o " + out), 0);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  expect_self_contained(text.str());
  EXPECT_EQ(sections(text.str()).size(), 5u);
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace moetune
