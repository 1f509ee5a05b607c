#include "variants/selection.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <mutex>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#ifdef MOETUNE_TUNED_CONFIG_HEADER
#include MOETUNE_TUNED_CONFIG_HEADER
#endif

namespace moetune {
namespace {

#ifdef MOETUNE_TUNED_CONFIG_HEADER
constexpr CompiledTables kTables = {tuned::kTables.data(), tuned::kTables.size()};
#else
constexpr CompiledTables kTables = {nullptr, 0};
#endif

double log_gap(double a, double b) { return std::fabs(std::log(a / b)); }

Choice default_choice(const Point& at, Activations activations, std::string_view why) {
  return {default_variant(at.op, at.dtype, at.layout, true, at.tokens, activations), nullptr, why};
}

}  // namespace

std::optional<Point> SelectionEntry::point() const {
  if (hidden < 1 || intermediate < 1 || experts < 1 || top_k < 1 || tokens < 1 || threads < 1)
    return std::nullopt;
  return parse_point_fields(op, shape(), dtype, layout, tokens, threads);
}

std::vector<TunedEntry> tuned_entries(const SelectionEntry* entries, size_t size) {
  std::vector<TunedEntry> out;
  for (size_t i = 0; i < size; ++i)
    if (auto p = entries[i].point()) out.push_back({*p, entries[i].variant, &entries[i]});
  return out;
}

CompiledTables compiled_tables() { return kTables; }

TableChoice choose_table(const TunedTable* tables, size_t size, const MachineClass& here) {
  const std::string here_key = here.key();
  std::vector<std::pair<const TunedTable*, MachineClass>> parsed;
  for (size_t i = 0; i < size; ++i)
    if (auto c = parse_machine_class(tables[i].machine_class)) parsed.push_back({&tables[i], *c});
  const auto caches_agree = [&](const MachineClass& c) {
    return !c.caches_known() || !here.caches_known() ||
           (c.l1d_kib == here.l1d_kib && c.l2_kib == here.l2_kib && c.l3_kib == here.l3_kib);
  };
  for (const auto& [t, c] : parsed)
    if (c.vendor == here.vendor && c.family == here.family && c.model == here.model &&
        c.features == here.features && caches_agree(c))
      return {t, "this machine's class",
              "the table of class " + std::string(t->machine_class) + ", this machine's (" +
                  here_key + ")" +
                  (c.caches_known() ? "" : "; its results did not record the caches")};
  // Nearest: same family, then closest model, then closest caches (log ratio), in that order.
  const auto distance = [&](const MachineClass& c) {
    auto gap = [](long long a, long long b) {
      return a > 0 && b > 0 ? std::fabs(std::log(static_cast<double>(a) / b)) : 0.0;
    };
    return std::make_tuple(c.family != here.family, std::abs(c.model - here.model),
                           gap(c.l1d_kib, here.l1d_kib) + gap(c.l2_kib, here.l2_kib) +
                               gap(c.l3_kib, here.l3_kib));
  };
  const auto nearest = [&](bool same_vendor) -> const std::pair<const TunedTable*, MachineClass>* {
    const std::pair<const TunedTable*, MachineClass>* best = nullptr;
    for (const auto& p : parsed)
      if (p.second.features == here.features && (!same_vendor || p.second.vendor == here.vendor) &&
          (!best || distance(p.second) < distance(best->second)))
        best = &p;
    return best;
  };
  if (const auto* p = nearest(true))
    return {p->first, "nearest: same vendor and features",
            "no table of this machine's class (" + here_key + "); the nearest of the same vendor (" +
                here.vendor + ") and features (" + here.features + ") is " +
                std::string(p->first->machine_class)};
  if (const auto* p = nearest(false))
    return {p->first, "nearest: same features",
            "no table of this machine's class (" + here_key + ") or vendor with its features; " +
                std::string(p->first->machine_class) + " has the same features (" + here.features +
                ")"};
  return {nullptr, "none",
          size == 0 ? std::string("no tuned table compiled in")
                    : "none of the " + std::to_string(size) +
                          " tables is of this machine's class (" + here_key +
                          ") or of its features (" + here.features + "): the defaults"};
}

namespace {

struct RunningClass {
  MachineClass cls;
  bool forced = false;
  std::string error;
};

const RunningClass& running() {
  static const RunningClass r = [] {
    RunningClass out;
    out.cls = machine_class();
    // For tests only: lets one machine play every class of a fleet header.
    const char* forced = std::getenv("MOETUNE_MACHINE_CLASS");
    if (forced && *forced) {
      std::string error;
      if (auto c = parse_machine_class(forced, &error)) {
        out.cls = *c;
        out.forced = true;
      } else {
        out.error = "MOETUNE_MACHINE_CLASS: " + error + "; ignored";
      }
    }
    return out;
  }();
  return r;
}

}  // namespace

const MachineClass& running_class() { return running().cls; }
bool running_class_forced() { return running().forced; }
std::string running_class_error() { return running().error; }

const TableChoice& table_choice() {
  static const TableChoice choice = choose_table(kTables.tables, kTables.size, running_class());
  return choice;
}

const SelectionTable& compiled_selection() {
  static const SelectionTable table = [] {
    const TunedTable* t = table_choice().table;
    return t ? SelectionTable{true, t->provenance, t->entries, t->size,
                              tuned_entries(t->entries, t->size)}
             : SelectionTable{false, {}, nullptr, 0, {}};
  }();
  return table;
}

std::string cpuid_text() {
  const CpuId id = cpu_id();
  return id.vendor + " " + std::to_string(id.family) + "/" + std::to_string(id.model) + "/" +
         std::to_string(id.stepping);
}

std::string tuned_cpu_mismatch(const SelectionTable& table) {
  if (!table.tuned) return "";
  const TunedProvenance& p = table.provenance;
  const std::string here_id = cpuid_text();
  const std::string here_features = cpu_features();
  std::string differs;
  // Results recorded before CPUID was say "unknown": nothing to compare, not a difference.
  if (p.cpuid != here_id && p.cpuid != "unknown")
    differs = "CPUID " + here_id + ", not " + std::string(p.cpuid);
  if (p.cpu_features != here_features) {
    // Name the features that differ rather than print two long lines.
    auto words = [](std::string_view line) {
      std::vector<std::string> w;
      for (size_t at = 0; at < line.size();) {
        const size_t end = std::min(line.find(' ', at), line.size());
        if (end > at) w.emplace_back(line.substr(at, end - at));
        at = end + 1;
      }
      std::sort(w.begin(), w.end());
      return w;
    };
    const auto there = words(p.cpu_features), here = words(here_features);
    std::vector<std::string> missing, extra;
    std::set_difference(there.begin(), there.end(), here.begin(), here.end(),
                        std::back_inserter(missing));
    std::set_difference(here.begin(), here.end(), there.begin(), there.end(),
                        std::back_inserter(extra));
    auto join = [](const std::vector<std::string>& w) {
      std::string out;
      for (const auto& x : w) out += (out.empty() ? "" : " ") + x;
      return out;
    };
    if (!differs.empty()) differs += "; ";
    differs += "features";
    if (!missing.empty()) differs += " lacking " + join(missing);
    if (!extra.empty()) differs += (missing.empty() ? " with " : ", with ") + join(extra);
  }
  if (differs.empty()) return "";
  std::string cannot;
  size_t n = 0;
  for (size_t i = 0; i < table.size; ++i) {
    const SelectionEntry& e = table.entries[i];
    const auto p = e.point();
    if (p && is_runnable(p->op, e.variant, p->layout)) continue;
    if (n++ < 8)
      cannot += "\n  " + std::string(e.op) + " " + e.shape().key() + " tokens " +
                std::to_string(e.tokens) + " threads " + std::to_string(e.threads) + ": " +
                std::string(e.variant);
  }
  if (n > 8) cannot += "\n  ... and " + std::to_string(n - 8) + " more";
  std::string out = "moetune: this build's tuned selection was measured on " +
                    std::string(p.machine) + " (" + std::string(p.cpuid) +
                    "); this CPU differs: " + differs + ".";
  out += n ? "\n" + std::to_string(n) + " of its " + std::to_string(table.size) +
                 " entries cannot run here and fall back to the defaults:" + cannot
           : " Every entry can run here, but they were measured on the other CPU.";
  return out + "\n(set MOETUNE_NO_CPU_CHECK=1 to silence this)";
}

void warn_once_if_tuned_elsewhere() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* quiet = std::getenv("MOETUNE_NO_CPU_CHECK");
    if (quiet && *quiet && std::string_view(quiet) != "0") return;
    if (!running_class_error().empty())
      std::fprintf(stderr, "moetune: %s\n", running_class_error().c_str());
    const TableChoice& choice = table_choice();
    if (kTables.size > 0 && choice.rule != "this machine's class")
      std::fprintf(stderr, "moetune: tuned table: %s (%s)%s\n", choice.rule.c_str(),
                   choice.why.c_str(),
                   running_class_forced() ? "; class forced by MOETUNE_MACHINE_CLASS" : "");
    const std::string warning = tuned_cpu_mismatch(compiled_selection());
    if (!warning.empty()) std::fprintf(stderr, "%s\n", warning.c_str());
  });
}

double shape_distance(const MoeShape& a, const MoeShape& b) {
  auto gap = [](int64_t x, int64_t y) {
    return log_gap(static_cast<double>(x), static_cast<double>(y));
  };
  return gap(a.hidden, b.hidden) + gap(a.intermediate, b.intermediate) + gap(a.experts, b.experts) +
         gap(a.top_k, b.top_k) + gap(1 + a.shared_intermediate, 1 + b.shared_intermediate);
}

Choice choose_in(const std::vector<TunedEntry>& table, const Point& at, Activations activations) {
  const TunedEntry* best = nullptr;
  auto best_key = std::make_tuple(std::numeric_limits<double>::infinity(), 0.0, 0.0);
  for (const TunedEntry& e : table) {
    const Point& p = e.point;
    if (p.op != at.op || p.dtype != at.dtype || p.layout != at.layout) continue;
    const auto key = std::make_tuple(
        shape_distance(at.shape, p.shape),
        log_gap(static_cast<double>(std::max<int64_t>(at.tokens, 1)),
                static_cast<double>(p.tokens)),
        log_gap(std::max(at.threads, 1), p.threads));
    if (key < best_key) {
      best = &e;
      best_key = key;
    }
  }
  if (!best) return default_choice(at, activations, "default: no tuned entry for this op");
  if (std::get<0>(best_key) > kMaxShapeDistance)
    return default_choice(at, activations, "default: no tuned shape near this one");
  // The layer's own refusal first: it holds on every CPU, the ISA only on this one.
  if (!allowed(activations, at.op, best->variant))
    return default_choice(at, activations,
                          "default: the tuned variant rounds the activations (not opted in)");
  if (!is_runnable(at.op, best->variant, at.layout))
    return default_choice(at, activations, "default: the tuned variant cannot run here");
  const bool exact =
      std::get<0>(best_key) == 0 && std::get<1>(best_key) == 0 && std::get<2>(best_key) == 0;
  return {best->variant, best->row, exact ? "tuned" : "nearest tuned"};
}

Choice choose(const Point& at, Activations activations) {
  return choose_in(compiled_selection().points, at, activations);
}

KernelSelection select_kernels(const MoeShape& shape, int64_t tokens, int threads, Layout layout,
                               DType dtype, Activations activations) {
  warn_once_if_tuned_elsewhere();
  auto pick = [&](Op op) {
    // Only the gemv reads the weights; the other ops work on f32 activations whatever they are.
    const Point at{op, shape, op_reads_weights(op) ? dtype : DType::kF32, op_layout(op, layout),
                   tokens, threads};
    const Choice c = choose(at, activations);
    if (c.variant.empty())
      throw std::logic_error("variants/default_selection.inc has no " +
                             std::string(dtype_name(at.dtype)) + " default for " +
                             std::string(op_name(op)));
    return c.variant;
  };
  KernelSelection k;
  k.gemv = find_gemv(pick(Op::kGemv));
  k.swiglu = find_swiglu(pick(Op::kSwiglu));
  k.softmax = find_softmax(pick(Op::kSoftmax));
  k.topk = find_topk(pick(Op::kTopk));
  return k;
}

std::string_view select_layer_variant(const MoeShape& shape, int64_t tokens, int threads,
                                      Layout layout, DType dtype) {
  const Choice c = choose(Point{Op::kLayer, shape, dtype, layout, tokens, threads});
  if (c.variant.empty())
    throw std::logic_error("variants/default_selection.inc has no " +
                           std::string(dtype_name(dtype)) + " layer default");
  return c.variant;
}

}  // namespace moetune
