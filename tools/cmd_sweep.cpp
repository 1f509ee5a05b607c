// moetune sweep FILE.yaml [-o OUT.json] [--force] [--resume] [--wait-quiet[=S]] [--filter REGEX] [--shard I/N]
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
  cmd->add_flag("--force", opt->force, "replace a results file already at the output path");
  auto wait_quiet = std::make_shared<double>(0);
  cmd->add_option("--wait-quiet", *wait_quiet,
                  "first wait, at most SECONDS, until no other work competes for the cores the "
                  "sweep needs")
      ->expected(0, 1)
      ->default_str("300")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_flag("!--no-progress", opt->progress, "no progress line on stderr");
  cmd->callback([opt, shard, wait_quiet, cmd] {
    if (!shard->empty()) parse_shard(*shard, *opt);
    if (cmd->count("--wait-quiet")) opt->wait_quiet = *wait_quiet;
    std::string written;
    const ResultsFile results = run_sweep(*opt, &written);
    fmt::print("{}", format_table(results));
    fmt::print("results: {}\n", written);
  });
}

}  // namespace moetune::cli
