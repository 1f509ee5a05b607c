// moetune config [--json]: the variant selection compiled into this build (DESIGN §6).
#include <fmt/core.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "tools/commands.h"
#include "variants/selection.h"

namespace moetune::cli {
namespace {

nlohmann::json selection_json() {
  const SelectionTable& t = compiled_selection();
  nlohmann::json defaults = nlohmann::json::array();
  for (DType dtype : kDTypes) {
    for (Op op : kOps) {
      for (Layout l : {Layout::kOI, Layout::kIO}) {
        const auto layout = op_layout(op, l);
        if (!layout && l == Layout::kIO) continue;
        for (int64_t from : default_token_ranges(op, dtype, layout)) {
          const auto variant = default_variant(op, dtype, layout, true, from);
          if (variant.empty()) continue;  // an op that reads no weights runs as f32 only
          // What a layer that opts in to rounded activations runs there instead, if anything.
          const auto rounded =
              default_variant(op, dtype, layout, true, from, Activations::kMayRound);
          nlohmann::json d = {{"op", op_name(op)},
                              {"dtype", dtype_name(dtype)},
                              {"layout", layout_text(layout)},
                              {"from_tokens", from},
                              {"variant", variant}};
          if (rounded != variant) d["rounded_activations_variant"] = rounded;
          defaults.push_back(d);
        }
      }
    }
  }
  nlohmann::json entries = nlohmann::json::array();
  for (size_t i = 0; i < t.size; ++i) {
    const SelectionEntry& e = t.entries[i];
    const auto p = e.point();
    entries.push_back({{"op", e.op},
                       {"hidden", e.hidden},
                       {"intermediate", e.intermediate},
                       {"experts", e.experts},
                       {"top_k", e.top_k},
                       {"shared_intermediate", e.shared_intermediate},
                       {"norm_topk_prob", e.norm_topk_prob},
                       {"tokens", e.tokens},
                       {"threads", e.threads},
                       {"dtype", e.dtype},
                       {"layout", e.layout},
                       {"variant", e.variant},
                       {"runnable", p && is_runnable(p->op, e.variant, p->layout)},
                       {"rounds_activations", p && rounds_activations(p->op, e.variant)}});
  }
  const auto provenance_json = [](const TunedProvenance& p) -> nlohmann::json {
    return {{"generator", p.generator},
                  {"results", p.results},
                  {"results_sha256", p.results_sha256},
                  {"sweep", p.sweep},
                  {"sweep_file", p.sweep_file},
                  {"sweep_sha256", p.sweep_sha256},
                  {"measured", p.measured},
                  {"moetune_version", p.moetune_version},
                  {"commit", p.commit},
                  {"compiler", p.compiler},
                  {"compiler_flags", p.compiler_flags},
                  {"machine", p.machine},
                  {"cpuid", p.cpuid},
                  {"cpu_features", p.cpu_features},
                  {"features_needed", p.features_needed},
                  {"cores", p.cores}};
  };
  nlohmann::json provenance = nlohmann::json::object();
  if (t.tuned) provenance = provenance_json(t.provenance);
  // Every table of the header, and which one this machine runs (issue 17).
  const CompiledTables all = compiled_tables();
  const TableChoice& choice = table_choice();
  nlohmann::json tables = nlohmann::json::array();
  for (size_t i = 0; i < all.size; ++i)
    tables.push_back({{"machine_class", all.tables[i].machine_class},
                      {"entries", all.tables[i].size},
                      {"chosen", &all.tables[i] == choice.table},
                      {"provenance", provenance_json(all.tables[i].provenance)}});
  return {{"tuned", t.tuned},
          {"provenance", provenance},
          {"tables", tables},
          {"table_choice",
           {{"machine_class", choice.table ? nlohmann::json(choice.table->machine_class)
                                           : nlohmann::json(nullptr)},
            {"rule", choice.rule},
            {"why", choice.why}}},
          {"this_cpu",
           {{"cpuid", cpuid_text()},
            {"cpu_features", cpu_features()},
            {"machine_class", running_class().key()},
            {"machine_class_forced", running_class_forced()}}},
          {"cpu_mismatch", tuned_cpu_mismatch(t)},
          {"defaults", defaults},
          {"entries", entries}};
}

}  // namespace

void add_config_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("config",
                         "The kernel and layer-strategy selection this build uses: the tuned table "
                         "compiled in (if any) and the defaults");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json,
                "{tuned, provenance{...}, tables[], table_choice, this_cpu, cpu_mismatch, defaults[], entries[]}");
  cmd->callback([json] {
    const nlohmann::json j = selection_json();
    if (*json) {
      fmt::print("{}\n", j.dump(2));
      return;
    }
    if (!j["tables"].empty()) {
      fmt::print("this machine's class: {}{}\n", j["this_cpu"]["machine_class"].get<std::string>(),
                 running_class_forced() ? " (forced by MOETUNE_MACHINE_CLASS, for tests)" : "");
      if (!running_class_error().empty()) fmt::print("{}\n", running_class_error());
      fmt::print("tuned tables ({}):\n", j["tables"].size());
      for (const auto& t : j["tables"])
        fmt::print("  {} {:<48} {:>4} entries, from {}\n", t["chosen"].get<bool>() ? "*" : " ",
                   t["machine_class"].get<std::string>(), t["entries"].get<size_t>(),
                   t["provenance"]["results"].get<std::string>());
      fmt::print("chosen: {} ({})\n\n", j["table_choice"]["rule"].get<std::string>(),
                 j["table_choice"]["why"].get<std::string>());
    }
    if (j["tuned"].get<bool>()) {
      fmt::print("tuned selection, provenance:\n");
      for (const auto& [key, value] : j["provenance"].items())
        fmt::print("  {:<16} {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
      fmt::print("this CPU: {}, features {}\n", j["this_cpu"]["cpuid"].get<std::string>(),
                 j["this_cpu"]["cpu_features"].get<std::string>());
      const std::string mismatch = j["cpu_mismatch"].get<std::string>();
      fmt::print("{}\n", mismatch.empty() ? "the same CPU as the one measured" : mismatch);
    } else if (j["tables"].empty()) {
      fmt::print(
          "no tuned selection compiled in (configure with -DMOETUNE_TUNED_CONFIG=HEADER.h "
          "from `moetune tune`): every op runs its default\n");
    } else {
      fmt::print("no table of the header fits this machine: every op runs its default\n");
    }
    fmt::print("\ndefaults (where no tuned entry fits; runnable on this CPU):\n");
    fmt::print("  {:<8} {:<5} {:<6} {:>11} {}\n", "op", "dtype", "layout", "from tokens",
               "variant");
    for (const auto& d : j["defaults"]) {
      const std::string rounded = d.contains("rounded_activations_variant")
                                      ? " (with rounded activations: " +
                                            d["rounded_activations_variant"].get<std::string>() +
                                            ")"
                                      : "";
      fmt::print("  {:<8} {:<5} {:<6} {:>11} {}{}\n", d["op"].get<std::string>(),
                 d["dtype"].get<std::string>(), d["layout"].get<std::string>(),
                 d["from_tokens"].get<int64_t>(), d["variant"].get<std::string>(), rounded);
    }
    if (j["entries"].empty()) return;
    fmt::print("\ntuned entries (nearest shape, then tokens, then threads):\n");
    fmt::print("  {:<8} {:<34} {:>6} {:>7} {:<5} {:<5} {}\n", "op", "shape", "tokens", "threads",
               "dtype", "layout", "variant");
    for (size_t i = 0; i < compiled_selection().size; ++i) {
      const SelectionEntry& e = compiled_selection().entries[i];
      const auto p = e.point();
      fmt::print("  {:<8} {:<34} {:>6} {:>7} {:<5} {:<5} {}{}\n", e.op, e.shape().key(), e.tokens,
                 e.threads, e.dtype, e.layout, e.variant,
                 !(p && is_runnable(p->op, e.variant, p->layout)) ? "  (cannot run here: default)"
                 : rounds_activations(p->op, e.variant)
                     ? "  (rounds the activations: a layer that opts in only)"
                     : "");
    }
  });
}

}  // namespace moetune::cli
