// moetune variants [--json]: this CPU's instruction sets, then every registered variant, its
// ISA, the activations its arithmetic takes (rounded ones: opt-in), and whether it runs here.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "kernels/common/machine_class.h"
#include "kernels/gemv/gemv.h"
#include "tools/commands.h"
#include "variants/op_traits.h"

namespace moetune::cli {

void add_variants_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("variants",
                                 "List every registered variant, its ISA, and "
                                 "whether this machine can run it");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "a JSON list of {op, name, isa, activations, available}");
  cmd->callback([json] {
    // Every op's registry in kOps order, the layer strategies (which need no ISA of their own:
    // they run on whatever kernels the selection gives them) last.
    struct Listed {
      Op op;
      const VariantInfo* info;
    };
    std::vector<Listed> all;
    for (Op op : kOps)
      for (const VariantInfo& v : op_traits(op).variants()) all.push_back({op, &v});
    // What x is multiplied as: a gemv's registry `activations`; exact f32 for every other op.
    const auto activations = [](const Listed& v) {
      const GemvVariant* g = v.op == Op::kGemv ? find_gemv(v.info->name) : nullptr;
      return dtype_name(g ? g->acts : DType::kF32);
    };
    // The widest instruction set this machine may use (MOETUNE_MAX_ISA applied).
    std::string_view widest = "baseline";
    for (Isa isa : isa_levels())
      if (isa_available(isa)) widest = isa_name(isa);
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& v : all)
        out.push_back({{"op", op_name(v.op)},
                       {"name", v.info->name},
                       {"isa", isa_name(v.info->isa)},
                       {"activations", activations(v)},
                       {"available", isa_available(v.info->isa)}});
      fmt::print("{}\n", out.dump(2));
      return;
    }
    fmt::print("cpu: {}; features: {}; widest usable: {}\nmachine class: {}\n\n",
               cpu_model_name(), cpu_features(), widest, machine_class().key());
    fmt::print("{:<8} {:<40} {:<11} {:<12} {}\n", "op", "name", "isa", "activations", "available");
    for (const auto& v : all)
      fmt::print("{:<8} {:<40} {:<11} {:<12} {}\n", op_name(v.op), v.info->name,
                 isa_name(v.info->isa), activations(v), isa_available(v.info->isa) ? "yes" : "no");
  });
}

}  // namespace moetune::cli
