// Each subcommand of `moetune` adds itself to the app in its own cmd_*.cpp file.
#pragma once

#include <CLI/CLI.hpp>

namespace moetune::cli {

// Each returns nothing; the subcommand's callback does the work and throws InputError on bad
// input. Exit status: 0 ok, 1 a failure at run time, 2 bad input.
void add_variants_command(CLI::App& app);
void add_tune_command(CLI::App& app);
void add_config_command(CLI::App& app);
void add_roofline_command(CLI::App& app);
void add_sweep_command(CLI::App& app);
// `table` with --format, tools/cmd_table.cpp. add_table_command (tools/cmd_sweep.cpp) is the
// earlier one without it, no longer registered; it goes when that file is next changed.
void add_table_command(CLI::App& app);
void add_results_table_command(CLI::App& app);
void add_layer_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_merge_command(CLI::App& app);

}  // namespace moetune::cli
