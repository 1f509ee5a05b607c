// moetune: benchmarks and autotunes the hot kernels of a Qwen-style MoE layer.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "harness/error.h"
#include "kernels/common/isa.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"moetune: benchmark and autotune the hot kernels of a Qwen-style MoE layer"};
  app.require_subcommand(1);
  app.set_version_flag("--version", MOETUNE_VERSION);
  moetune::cli::add_variants_command(app);
  moetune::cli::add_tune_command(app);
  moetune::cli::add_config_command(app);
  moetune::cli::add_roofline_command(app);
  moetune::cli::add_sweep_command(app);
  moetune::cli::add_results_table_command(app);
  moetune::cli::add_layer_command(app);
  moetune::cli::add_compare_command(app);
  moetune::cli::add_report_command(app);
  moetune::cli::add_merge_command(app);
  // A wrong MOETUNE_MAX_ISA would otherwise mask every instruction set without a word.
  if (const std::string e = moetune::max_isa_error(); !e.empty()) {
    fmt::print(stderr, "moetune: error: {}\n", e);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a mistake on the command line is bad input: exit 2.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const moetune::InputError& e) {
    fmt::print(stderr, "moetune: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "moetune: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
