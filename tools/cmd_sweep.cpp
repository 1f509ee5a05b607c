// moetune sweep FILE.yaml [-o OUT.json] [--resume] [--filter REGEX] [--shard I/N]
// moetune table RESULTS.json
#include <fmt/core.h>
#include <unistd.h>

#include <memory>

#include "harness/error.h"
#include "harness/sweep_runner.h"
#include "harness/table.h"
#include "tools/commands.h"

namespace moetune::cli {
namespace {

void parse_shard(const std::string& text, SweepOptions& opt) {
  int i = 0, n = 0;
  char slash = 0;
  if (std::sscanf(text.c_str(), "%d%c%d", &i, &slash, &n) != 3 || slash != '/')
    throw InputError("command line", "--shard", fmt::format("expected I/N, got '{}'", text));
  opt.shard_index = i;
  opt.shard_count = n;
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto opt = std::make_shared<SweepOptions>();
  auto shard = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("sweep", "Run a sweep: verify and time every variant at every "
                                          "point of FILE.yaml, print the table, write results");
  cmd->add_option("file", opt->config, "the sweep file (YAML; every key: docs/sweep-format.md)")
      ->required();
  cmd->add_option("-o,--output", opt->output,
                  "results JSON (default: <sweep name>.json here); written atomically at the end");
  cmd->add_flag("--resume", opt->resume,
                "finish an interrupted sweep: re-run only the cases its journal lacks");
  cmd->add_option("--filter", opt->filter, "run only the cases whose id matches this regex");
  cmd->add_option("--shard", *shard, "run part I of N (0-based) of the sweep's cases");
  cmd->add_flag("!--no-progress", opt->progress, "no progress line on stderr");
  cmd->callback([opt, shard] {
    if (!shard->empty()) parse_shard(*shard, *opt);
    std::string written;
    const ResultsFile results = run_sweep(*opt, &written);
    fmt::print("{}", format_table(results));
    fmt::print("results: {}\n", written);
  });
}

void add_table_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("table", "Print a results file as a table, the fastest "
                                          "verified variant of each point marked");
  cmd->add_option("results", *path, "results JSON written by moetune sweep")->required();
  cmd->callback([path] { fmt::print("{}", format_table(read_results(*path))); });
}

}  // namespace moetune::cli
