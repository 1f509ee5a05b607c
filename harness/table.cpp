#include "harness/table.h"

#include <fmt/core.h>

#include <map>
#include <tuple>

#include "harness/stats.h"
#include "harness/units.h"

namespace moetune {
namespace {

template <typename F>
double median_of(const CaseResult& c, F field) {
  std::vector<double> v;
  for (const auto& r : c.repetitions) v.push_back(field(r));
  return v.empty() ? 0.0 : median(v);
}

// Heap allocations per call and the heap the layer holds (its buffers), beside the weights.
std::string layer_columns(const CaseResult& c) {
  const std::string allocs = c.allocs_per_call ? fmt::format("{:.1f}", *c.allocs_per_call) : "-";
  const std::string work =
      c.workspace_bytes ? fmt::format("{:.1f} KiB", *c.workspace_bytes / 1024.0) : "-";
  return fmt::format(" {:>7} {:>10}", allocs, work);
}

}  // namespace

std::string format_table(const ResultsFile& results) {
  // Points in the order the results list them.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const CaseResult*>> points;
  for (const auto& c : results.cases) {
    const std::string key = fmt::format("{} {} layout={} {} tokens={} threads={}", c.op,
                                        c.shape.key(), c.layout, c.dtype, c.tokens, c.threads);
    auto [it, fresh] = points.try_emplace(key);
    if (fresh) order.push_back(key);
    it->second.push_back(&c);
  }
  std::string out;
  for (const auto& key : order) {
    const auto& cases = points[key];
    const CaseResult* best = nullptr;
    double best_ns = 0, naive_ns = 0;
    for (const CaseResult* c : cases) {
      if (c->failed() || !c->verified || c->repetitions.empty()) continue;
      const double ns = median(c->real_times_ns());
      if (!best || ns < best_ns) best = c, best_ns = ns;
      if (c->variant.find("__naive") != std::string::npos) naive_ns = ns;
    }
    const bool layer = cases.front()->op == "layer";
    out += fmt::format("\n{}\n", key);
    out += fmt::format("  {:<36} {:>10} {:>6} {:>9} {:>9} {:>9} {:>8}{}\n", "variant", "median",
                       "cv%", "GB/s", "GFLOP/s", "roofline", "speedup",
                       layer ? fmt::format(" {:>7} {:>10}", "allocs", "workspace") : "");
    for (const CaseResult* c : cases) {
      const std::string mark = c == best ? "*" : " ";
      if (c->failed() || c->repetitions.empty()) {
        out += fmt::format("{} {:<36} {}\n", mark, c->variant,
                           c->failed() ? c->error : "no repetitions");
        continue;
      }
      const auto times = c->real_times_ns();
      const double ns = median(times);
      const double gbs = median_of(*c, [](const Repetition& r) { return r.bytes_per_second; });
      const double gflops = median_of(*c, [](const Repetition& r) { return r.flops_per_second; });
      const double roof = median_of(*c, [](const Repetition& r) { return r.roofline_pct; });
      const std::string speedup = naive_ns > 0 ? fmt::format("{:.2f}x", naive_ns / ns) : "-";
      const std::string roofline = c->has_roofline ? fmt::format("{:.1f}%", roof) : "-";
      out +=
          fmt::format("{} {:<36} {:>10} {:>6.1f} {:>9.2f} {:>9.2f} {:>9} {:>7}{}\n", mark,
                      c->variant, human_time(ns), 100.0 * coefficient_of_variation(times),
                      gbs / 1e9, gflops / 1e9, roofline, speedup, layer ? layer_columns(*c) : "");
    }
  }
  out +=
      "\n* fastest verified variant; speedup = naive median / median; roofline = % of the "
      "bound max(bytes/bandwidth, flops/peak) from `moetune roofline` (-: not measured)\n";
  out += warnings_footer(results);
  return out;
}

std::string warnings_footer(const ResultsFile& results) {
  const auto w = results.context.find("warnings");
  if (w == results.context.end() || !w->is_array() || w->empty()) return "";
  std::string out = "\nwarnings of this sweep (README \"Busy machines\"):\n";
  for (const auto& line : *w)
    if (line.is_string()) out += "  - " + line.get<std::string>() + "\n";
  return out;
}

}  // namespace moetune
