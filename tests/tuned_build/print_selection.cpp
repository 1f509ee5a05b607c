// Prints the selection compiled in, one line per entry, and what select_kernels and
// select_layer_variant resolve for each entry's point, for run.cmake to compare with the
// header it generated.
#include <cstdio>
#include <optional>
#include <string>

#include "variants/selection.h"
#include MOETUNE_TUNED_CONFIG_HEADER

int main() {
  using namespace moetune;
  const SelectionTable& t = compiled_selection();
  // The generated header is self-contained, and what it says is usable where only constants
  // are.
  static_assert(tuned::kTables.size() > 0, "the header has tables");
  static_assert(tuned::kTables[0].provenance.generator.substr(0, 12) == "moetune tune",
                "the generator is named");
  static_assert(tuned::kTables[0].size > 0, "the header has entries");
  // Which table this machine (or the class MOETUNE_MACHINE_CLASS forces) runs, and why.
  const TableChoice& choice = table_choice();
  std::printf("class: %s\n", running_class().key().c_str());
  std::printf("table: %s\n", choice.table ? std::string(choice.table->machine_class).c_str()
                                           : "none");
  std::printf("rule: %s\n", choice.rule.c_str());
  const TunedProvenance& p = t.provenance;
  auto print = [](const char* name, std::string_view v) {
    std::printf("%s: %.*s\n", name, static_cast<int>(v.size()), v.data());
  };
  std::printf("tuned: %s\n", t.tuned ? "yes" : "no");
  print("results", p.results);
  print("results_sha256", p.results_sha256);
  print("sweep_sha256", p.sweep_sha256);
  print("machine", p.machine);
  print("cpuid", p.cpuid);
  print("commit", p.commit);
  print("features_needed", p.features_needed);
  for (size_t i = 0; i < t.size; ++i) {
    const SelectionEntry& e = t.entries[i];
    const std::optional<Point> p = e.point();
    std::string resolved = "(not a point of this build)";
    if (p) {
      const Layout layout = p->layout.value_or(Layout::kOI);
      const KernelSelection k = select_kernels(e.shape(), e.tokens, e.threads, layout);
      switch (p->op) {
        case Op::kGemv: resolved = k.gemv->name; break;
        case Op::kSwiglu: resolved = k.swiglu->name; break;
        case Op::kSoftmax: resolved = k.softmax->name; break;
        case Op::kTopk: resolved = k.topk->name; break;
        case Op::kLayer:
          resolved = select_layer_variant(e.shape(), e.tokens, e.threads, layout);
          break;
      }
    }
    std::printf("entry: %.*s %s %lld %d %.*s %.*s %.*s -> %s\n", static_cast<int>(e.op.size()),
                e.op.data(), e.shape().key().c_str(), static_cast<long long>(e.tokens), e.threads,
                static_cast<int>(e.dtype.size()), e.dtype.data(), static_cast<int>(e.layout.size()),
                e.layout.data(), static_cast<int>(e.variant.size()), e.variant.data(),
                resolved.c_str());
  }
  return 0;
}
