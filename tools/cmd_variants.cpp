// moetune variants [--json]: every registered variant, its ISA, and whether it runs here.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "variants/moe_layer.h"
#include "tools/commands.h"

namespace moetune::cli {

void add_variants_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("variants", "List every registered variant, its ISA, and "
                                             "whether this machine can run it");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "a JSON list of {op, name, isa, available}");
  cmd->callback([json] {
    // The kernel registries, then the layer strategies (op `layer`), which need no ISA of
    // their own: they run on whatever kernels the selection gives them.
    auto all = kernel_variants();
    for (const auto& v : layer_variants()) all.push_back({"layer", v.name, Isa::kBaseline});
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& v : all)
        out.push_back({{"op", v.op}, {"name", v.name}, {"isa", isa_name(v.isa)},
                       {"available", v.available()}});
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("{:<8} {:<34} {:<11} {}\n", "op", "name", "isa", "available");
    for (const auto& v : all)
      fmt::print("{:<8} {:<34} {:<11} {}\n", v.op, v.name, isa_name(v.isa),
                 v.available() ? "yes" : "no");
  });
}

}  // namespace moetune::cli
