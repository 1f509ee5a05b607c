// moetune tune RESULTS.json... -o HEADER.h: the tuned configuration header (DESIGN §6), one
// table per machine class of the inputs (issue 17).
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include "harness/compare_read.h"
#include "harness/error.h"
#include "harness/fleet.h"
#include "harness/results.h"
#include "harness/sha256.h"
#include "harness/tuner.h"
#include "tools/commands.h"

namespace moetune::cli {

void add_tune_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("tune",
                         "Choose the variant of each op at each measured point and write the tuned "
                         "configuration header, one table per machine class of the results (build "
                         "with -DMOETUNE_TUNED_CONFIG=HEADER.h)");
  struct Args {
    std::vector<std::string> results;
    std::string output;
    TuneOptions options;
    bool explain = false;
    std::vector<std::string> class_of;  // FILE=CLASS
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("results", args->results,
                  "results files written by `moetune sweep`, of one machine class or several "
                  "(files of one class are joined first)")
      ->required();
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
  cmd->add_option("--class-of", args->class_of,
                  "FILE=CLASS: the machine class of a results file recorded before moetune "
                  "recorded classes or CPUID (its CPU model alone does not tell), e.g. "
                  "results/zen3-avx2/qwen3-30b-a3b.json=AuthenticAMD/25/1/avx2/?/?/?");
  cmd->add_flag("--explain", args->explain,
                "for every point: its candidates with medians, noise, ratio to the default with "
                "its 95% interval and p-value, the default, the winner and the reason");
  cmd->callback([args] {
    // Everything is read and decided before the output is touched: bad input writes nothing.
    // --class-of: what the user knows of the machine that recorded an old results file.
    std::map<std::string, std::string> class_of;
    for (const auto& given : args->class_of) {
      const size_t eq = given.rfind('=');
      std::string error;
      if (eq == std::string::npos || !parse_machine_class(given.substr(eq + 1), &error))
        throw InputError("command line", "--class-of " + given,
                         eq == std::string::npos ? "expected FILE=CLASS" : error);
      if (std::find(args->results.begin(), args->results.end(), given.substr(0, eq)) ==
          args->results.end())
        throw InputError("command line", "--class-of " + given,
                         "names a file that is not among the results to tune");
      class_of[given.substr(0, eq)] = given.substr(eq + 1);
    }
    std::vector<FleetInput> inputs;
    for (const auto& path : args->results) {
      ComparedFile read = read_comparable(path);
      // moetune_bench's and other programs' names carry no shape the tuned build could use.
      if (read.plain)
        throw InputError(path, "",
                         "plain Google Benchmark JSON (its entries have no 'op', 'variant', "
                         "shape, 'tokens' and 'threads' fields): tune needs the results of "
                         "`moetune sweep`");
      const auto given = class_of.find(path);
      if (given != class_of.end()) {
        nlohmann::json& ctx = read.results.context;
        if (ctx.contains("machine_class") || ctx.contains("cpuid"))
          throw InputError(path, "context",
                           "records its machine class or CPUID already; --class-of is for "
                           "results that record neither");
        ctx["machine_class"] = given->second;
        fmt::print(stderr, "tune: {}: class {} given by --class-of\n", path, given->second);
      }
      inputs.push_back({path, "", sha256_of_file(path), std::move(read.results)});
    }
    const std::vector<std::string> names = header_names(args->results);
    for (size_t i = 0; i < inputs.size(); ++i) inputs[i].name = names[i];
    const std::vector<FleetClass> classes = group_by_class(std::move(inputs));
    std::vector<TuneResult> tables;
    for (const FleetClass& fc : classes) {
      for (const auto& note : fc.notes) fmt::print(stderr, "tune: {}\n", note);
      TuneResult tuned = tune(fc.results, fc.name, args->options);
      tuned.results_sha256 = fc.sha256;
      tuned.machine_class = fc.key;
      // A table with no entry would silently tune nothing for its class.
      if (tuned.points.empty())
        throw InputError(fc.name, "", "no result of a known op and dtype to tune from");
      tables.push_back(std::move(tuned));
    }
    const bool wrote = write_if_changed(args->output, fleet_header(tables, args->options));
    size_t points = 0;
    int changed = 0;
    for (const auto& tuned : tables) {
      if (tables.size() > 1) fmt::print("class {} ({}):\n", tuned.machine_class, tuned.results);
      fmt::print("{:<8} {:<5} {:<34} {:>6} {:>7}  {:<34} {}\n", "op", "layout", "shape", "tokens",
                 "threads", "variant", "why");
      for (const auto& p : tuned.points) {
        changed += p.variant != p.default_variant;
        const Point& at = p.point;
        fmt::print("{:<8} {:<5} {:<34} {:>6} {:>7}  {:<34} {}\n", op_name(at.op), at.layout_text(),
                   at.shape.key(), at.tokens, at.threads, p.variant, p.note);
      }
      points += tuned.points.size();
      if (args->explain) fmt::print("\n{}\n", explain(tuned));
    }
    fmt::print("{} table{}, {} point{}, {} not on the default; {} {}\n", tables.size(),
               tables.size() == 1 ? "" : "s", points, points == 1 ? "" : "s", changed, args->output,
               wrote ? "written" : "unchanged");
  });
}

}  // namespace moetune::cli
