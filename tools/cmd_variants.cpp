// moetune variants [--json]: this CPU's instruction sets, then every registered variant, its
// ISA, the activations its arithmetic takes (rounded ones: opt-in), and whether it runs here.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "kernels/common/machine_class.h"
#include "kernels/kernels.h"
#include "tools/commands.h"
#include "variants/moe_layer.h"

namespace moetune::cli {

void add_variants_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("variants",
                                 "List every registered variant, its ISA, and "
                                 "whether this machine can run it");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "a JSON list of {op, name, isa, activations, available}");
  cmd->callback([json] {
    // The kernel registries, then the layer strategies (op `layer`), which need no ISA of
    // their own: they run on whatever kernels the selection gives them.
    auto all = kernel_variants();
    for (const auto& v : layer_variants()) all.push_back({"layer", v.name, Isa::kBaseline});
    // What x is multiplied as: a gemv's registry `activations`; exact f32 for every other op.
    const auto activations = [](const KernelInfo& v) {
      const GemvVariant* g = v.op == "gemv" ? find_gemv(v.name) : nullptr;
      return dtype_name(g ? g->acts : DType::kF32);
    };
    // The widest instruction set this machine may use (MOETUNE_MAX_ISA applied).
    std::string_view widest = "baseline";
    for (Isa isa : isa_levels())
      if (isa_available(isa)) widest = isa_name(isa);
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& v : all)
        out.push_back({{"op", v.op},
                       {"name", v.name},
                       {"isa", isa_name(v.isa)},
                       {"activations", activations(v)},
                       {"available", v.available()}});
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("cpu: {}; features: {}; widest usable: {}\nmachine class: {}\n\n",
               cpu_model_name(), cpu_features(), widest, machine_class().key());
    fmt::print("{:<8} {:<40} {:<11} {:<12} {}\n", "op", "name", "isa", "activations", "available");
    for (const auto& v : all)
      fmt::print("{:<8} {:<40} {:<11} {:<12} {}\n", v.op, v.name, isa_name(v.isa), activations(v),
                 v.available() ? "yes" : "no");
  });
}

}  // namespace moetune::cli
