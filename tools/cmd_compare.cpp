// moetune compare A.json B.json [C.json ...] [--format ...] [--match case|point]
// [--fail-on-regression PCT]
#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>

#include "harness/compare.h"
#include "harness/error.h"
#include "tools/commands.h"

namespace moetune::cli {
namespace {

// ANSI colour only for a person at a terminal: never in a pipe or a file, and
// never when the user asked for none (NO_COLOR) or the terminal is dumb.
bool stdout_wants_colour() {
  if (!::isatty(STDOUT_FILENO)) return false;
  if (const char *no = std::getenv("NO_COLOR"); no && *no) return false;
  const char *term = std::getenv("TERM");
  return !(term && std::string(term) == "dumb");
}

}  // namespace

void add_compare_command(CLI::App &app) {
  struct Args {
    std::vector<std::string> files;
    std::string format = "text";
    std::string match = "case";
    double fail_pct = -1;
  };
  auto args = std::make_shared<Args>();
  auto *cmd = app.add_subcommand("compare",
                                 "Compare results files (moetune's, or plain "
                                 "Google Benchmark JSON) against the first: "
                                 "medians, ratio with its 95% interval, "
                                 "Mann-Whitney U p-value, geomean per op");
  cmd->add_option("files", args->files,
                  "results files; the first is the baseline (--format "
                  "benchstat takes one too)")
      ->required();
  cmd->add_option("--format", args->format, "text, markdown, csv, json or benchstat (Go's format)")
      ->capture_default_str();
  cmd->add_option("--match", args->match,
                  "case: rows are cases (variant included); point: rows are decision points "
                  "(op, shape, dtype, layout, tokens, threads), each file's fastest verified "
                  "variant there, e.g. moetune against a peer's results")
      ->capture_default_str();
  cmd->add_option("--fail-on-regression", args->fail_pct,
                  "exit 1 when a significant change is slower by more than PCT percent; exit 2 when "
                  "a later file has no benchmark in common with the first")
      ->check(CLI::Range(0.0, 1e6));
  cmd->callback([args] {
    const CompareFormat format = parse_compare_format(args->format);
    const MatchBy match = parse_match(args->match);
    const bool one_ok = format == CompareFormat::kBenchstat && args->fail_pct < 0;
    if (args->files.size() < (one_ok ? 1u : 2u))
      throw InputError("command line", "", "compare needs at least two results files");
    std::vector<ComparedFile> files;
    for (const auto &path : args->files) files.push_back(read_comparable(path));
    std::optional<Comparison> cmp;
    if (files.size() > 1) {
      cmp = compare_files(files, 0.05, match);
      for (const auto &w : cmp->warnings) fmt::print(stderr, "moetune: warning: {}\n", w);
    }
    if (format == CompareFormat::kBenchstat)
      fmt::print("{}", format_benchstat(files));
    else
      fmt::print("{}", format_comparison(*cmp, format, stdout_wants_colour()));
    std::fflush(stdout);
    if (args->fail_pct < 0) return;
    // A gate that compared nothing has checked nothing: that is a mistake in its input.
    const auto unmatched = unmatched_files(*cmp);
    if (!unmatched.empty()) {
      std::string list;
      for (const auto &u : unmatched) list += (list.empty() ? "" : ", ") + u;
      throw InputError(list, "",
                       fmt::format("--fail-on-regression: no benchmark in common with {} (no "
                                   "row compared), so no regression could be detected",
                                   cmp->files[0]));
    }
    const auto slower = regressions(*cmp, args->fail_pct);
    if (slower.empty()) return;
    for (const auto &r : slower)
      fmt::print(stderr, "regression: {} is {:.3f}x in {}\n", r.row->key, r.ratio,
                 cmp->files[r.file]);
    throw std::runtime_error(fmt::format("{} significant regression{} of more than {:g}%",
                                         slower.size(), slower.size() == 1 ? "" : "s",
                                         args->fail_pct));
  });
}

}  // namespace moetune::cli
