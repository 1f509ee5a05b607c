// moetune report RESULTS.json... -o report.html
#include <fmt/core.h>

#include <memory>

#include "harness/report.h"
#include "harness/compare_read.h"
#include "harness/results.h"
#include "tools/commands.h"

namespace moetune::cli {

void add_report_command(CLI::App &app) {
  struct Args {
    std::vector<std::string> files;
    std::string output;
  };
  auto args = std::make_shared<Args>();
  auto *cmd = app.add_subcommand("report",
                                 "Write one self-contained HTML page with "
                                 "plots of results files (with several, the "
                                 "comparison of each with the first)");
  cmd->add_option("files", args->files, "results files: moetune sweep's, or any Google Benchmark JSON such as moetune_bench's")->required();
  cmd->add_option("-o,--output", args->output, "the HTML file to write (atomically)")->required();
  cmd->callback([args] {
    std::vector<ReportInput> inputs;
    for (const auto &path : args->files) {
      ComparedFile f = read_comparable(path);
      inputs.push_back({path, std::move(f.results), f.plain});
    }
    write_file_atomically(args->output, report_html(inputs));
    fmt::print("report: {}\n", args->output);
  });
}

}  // namespace moetune::cli
