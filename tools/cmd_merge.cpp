// moetune merge PART.json... -o OUT.json
#include <fmt/core.h>

#include <memory>

#include "harness/merge.h"
#include "harness/results.h"
#include "tools/commands.h"

namespace moetune::cli {

void add_merge_command(CLI::App &app) {
  struct Args {
    std::vector<std::string> parts;
    std::string output;
  };
  auto args = std::make_shared<Args>();
  auto *cmd = app.add_subcommand("merge",
                                 "Join the results of a sweep's shards (moetune sweep --shard "
                                 "I/N) into one results file");
  cmd->add_option("parts", args->parts, "the parts, every shard 0..N-1 exactly once")->required();
  cmd->add_option("-o,--output", args->output, "the merged results file (written atomically)")
      ->required();
  cmd->callback([args] {
    std::vector<ResultsPart> parts;
    for (const auto &path : args->parts) parts.push_back({path, read_results(path)});
    const MergeResult merged = merge_parts(parts);
    for (const auto &w : merged.warnings) fmt::print(stderr, "moetune: warning: {}\n", w);
    write_results(args->output, merged.results);
    fmt::print("{} cases from {} parts: {}\n", merged.results.cases.size(), parts.size(),
               args->output);
  });
}

}  // namespace moetune::cli
