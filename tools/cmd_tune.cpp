// moetune tune RESULTS.json -o HEADER.h: the tuned configuration header (DESIGN §6).
#include <fmt/core.h>

#include <filesystem>
#include <memory>

#include "harness/compare_read.h"
#include "harness/error.h"
#include "harness/results.h"
#include "harness/sha256.h"
#include "harness/tuner.h"
#include "tools/commands.h"

namespace moetune::cli {

void add_tune_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("tune",
                         "Choose the variant of each op at each measured point and write the tuned "
                         "configuration header (build with -DMOETUNE_TUNED_CONFIG=HEADER.h)");
  struct Args {
    std::string results, output;
    TuneOptions options;
    bool explain = false;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("results", args->results, "results file written by `moetune sweep`")->required();
  cmd->add_option("-o,--output", args->output, "the header to write")->required();
  cmd->add_option("--alpha", args->options.rule.alpha,
                  "chance that a point where nothing beats the default chooses another variant "
                  "anyway (split over its candidates and the sweep's looks)")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 0.5));
  cmd->add_option("--equivalence", args->options.rule.equivalence,
                  "a 95% interval of fastest-other / default within 1 +- this keeps the "
                  "default as equivalent")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  cmd->add_option("--max-cv", args->options.rule.max_cv,
                  "points whose default or winner has a larger robust coefficient of variation "
                  "are reported as noisy (noise alone decides nothing)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_flag("--explain", args->explain,
                "for every point: its candidates with medians, noise, ratio to the default with "
                "its 95% interval and p-value, the default, the winner and the reason");
  cmd->callback([args] {
    ComparedFile read = read_comparable(args->results);
    // moetune_bench's and other programs' names carry no shape the tuned build could use.
    if (read.plain)
      throw InputError(args->results, "",
                       "plain Google Benchmark JSON (its entries have no 'op', 'variant', shape, "
                       "'tokens' and 'threads' fields): tune needs the results of `moetune "
                       "sweep`");
    const ResultsFile results = std::move(read.results);
    const std::string name = std::filesystem::path(args->results).filename().string();
    TuneResult tuned = tune(results, name, args->options);
    tuned.results_sha256 = sha256_of_file(args->results);
    // Fail before touching the output: a header with no entry would silently tune nothing.
    if (tuned.points.empty())
      throw InputError(args->results, "", "no result of a known op and dtype to tune from");
    const bool wrote = write_if_changed(args->output, tuned_header(tuned, args->options));
    int changed = 0;
    fmt::print("{:<8} {:<5} {:<34} {:>6} {:>7}  {:<34} {}\n", "op", "layout", "shape", "tokens",
               "threads", "variant", "why");
    for (const auto& p : tuned.points) {
      changed += p.variant != p.default_variant;
      fmt::print("{:<8} {:<5} {:<34} {:>6} {:>7}  {:<34} {}\n", p.op, p.layout, p.shape.key(),
                 p.tokens, p.threads, p.variant, p.note);
    }
    if (args->explain) fmt::print("\n{}\n", explain(tuned));
    fmt::print("{} point{}, {} not on the default; {} {}\n", tuned.points.size(),
               tuned.points.size() == 1 ? "" : "s", changed, args->output,
               wrote ? "written" : "unchanged");
  });
}

}  // namespace moetune::cli
