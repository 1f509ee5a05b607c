// moetune table RESULTS.json [--format text|markdown|csv|json]
#include <fmt/core.h>

#include <memory>

#include "harness/compare_read.h"
#include "harness/table.h"
#include "tools/commands.h"

namespace moetune::cli {

void add_table_command(CLI::App& app) {
  struct Args {
    std::string path, format = "text";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "table",
      "Print a results file (moetune's, or any Google Benchmark JSON such as moetune_bench's) "
      "as a table, the fastest verified variant of each point marked, after the machine, commit "
      "and roofline its figures come from");
  cmd->add_option("results", args->path, "results JSON")->required();
  cmd->add_option("--format", args->format, "text, markdown, csv or json")->capture_default_str();
  cmd->callback([args] {
    const TableFormat format = parse_table_format(args->format);
    fmt::print("{}", format_table(read_comparable(args->path), format));
  });
}

}  // namespace moetune::cli
