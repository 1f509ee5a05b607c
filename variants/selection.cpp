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

struct DefaultLine {
  std::string_view op, dtype, layout, variant;
  int64_t from_tokens;
};

constexpr DefaultLine kDefaults[] = {
#define MOETUNE_DEFAULT(op, dtype, layout, variant) {#op, #dtype, #layout, #variant, 1},
#define MOETUNE_DEFAULT_FROM(op, dtype, layout, from_tokens, variant) \
  {#op, #dtype, #layout, #variant, from_tokens},
#include "variants/default_selection.inc"
#undef MOETUNE_DEFAULT_FROM
#undef MOETUNE_DEFAULT
};

// The layer registry read straight from its list, so that choosing a strategy does not need
// the layer itself linked in: layer_<dtype>__<strategy> for every dtype, in the order of
// layer_variants().
const std::vector<std::string>& layer_names() {
  static const std::vector<std::string> names = [] {
    constexpr std::string_view strategies[] = {
#define MOETUNE_LAYER(strategy, description) #strategy,
#include "variants/layer.inc"
#undef MOETUNE_LAYER
    };
    std::vector<std::string> n;
    for (DType d : kDTypes)
      for (auto s : strategies) n.push_back(layer_variant_name(d, s));
    return n;
  }();
  return names;
}

double log_gap(double a, double b) { return std::fabs(std::log(a / b)); }

Choice default_choice(std::string_view op, std::string_view dtype, std::string_view layout,
                      int64_t tokens, Activations activations, std::string_view why) {
  return {default_variant(op, dtype, layout, true, tokens, activations), nullptr, why};
}

}  // namespace

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
    return t ? SelectionTable{true, t->provenance, t->entries, t->size}
             : SelectionTable{false, {}, nullptr, 0};
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
    if (is_runnable(e.op, e.variant, e.layout)) continue;
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

const std::vector<std::string_view>& selection_ops() {
  static const std::vector<std::string_view> ops = {"gemv", "swiglu", "softmax", "topk", "layer"};
  return ops;
}

bool op_uses_layout(std::string_view op) { return op == "gemv" || op == "layer"; }

std::string_view layout_key(std::string_view op, Layout layout) {
  return op_uses_layout(op) ? layout_name(layout) : std::string_view("any");
}

std::vector<std::string_view> registered_variants(std::string_view op) {
  std::vector<std::string_view> names;
  if (op == "gemv")
    for (const auto& v : gemv_variants()) names.push_back(v.name);
  if (op == "swiglu")
    for (const auto& v : swiglu_variants()) names.push_back(v.name);
  if (op == "softmax")
    for (const auto& v : softmax_variants()) names.push_back(v.name);
  if (op == "topk")
    for (const auto& v : topk_variants()) names.push_back(v.name);
  if (op == "layer")
    for (const auto& name : layer_names()) names.push_back(name);
  return names;
}

std::string_view variant_dtype(std::string_view op, std::string_view variant) {
  if (op == "gemv") {
    const GemvVariant* v = find_gemv(variant);
    return v ? dtype_name(v->dtype) : std::string_view();
  }
  if (op == "layer") {
    for (DType d : kDTypes) {
      const std::string prefix = layer_variant_name(d, "");
      if (variant.substr(0, prefix.size()) == prefix && is_registered(op, variant))
        return dtype_name(d);
    }
    return {};
  }
  return is_registered(op, variant) ? std::string_view("f32") : std::string_view();
}

bool is_registered(std::string_view op, std::string_view variant) {
  for (auto name : registered_variants(op))
    if (name == variant) return true;
  return false;
}

Isa variant_isa(std::string_view op, std::string_view variant) {
  const auto isa_of = [](const auto* v) { return v ? v->isa : Isa::kBaseline; };
  if (op == "gemv") return isa_of(find_gemv(variant));
  if (op == "swiglu") return isa_of(find_swiglu(variant));
  if (op == "softmax") return isa_of(find_softmax(variant));
  if (op == "topk") return isa_of(find_topk(variant));
  return Isa::kBaseline;
}

bool is_runnable(std::string_view op, std::string_view variant, std::string_view layout) {
  if (!is_registered(op, variant) || !isa_available(variant_isa(op, variant))) return false;
  if (op == "gemv") return layout_name(find_gemv(variant)->layout) == layout;
  if (op == "layer") return layout == "oi" || layout == "io";
  return true;
}

bool rounds_activations(std::string_view op, std::string_view variant) {
  if (op != "gemv") return false;
  const GemvVariant* v = find_gemv(variant);
  return v && v->rounds_activations();
}

bool allowed(Activations activations, std::string_view op, std::string_view variant) {
  return activations == Activations::kMayRound || !rounds_activations(op, variant);
}

std::vector<std::string_view> default_variants(std::string_view op, std::string_view dtype,
                                               std::string_view layout, int64_t tokens,
                                               Activations activations) {
  std::vector<std::string_view> out;
  for (const auto& d : kDefaults)
    if (d.op == op && d.dtype == dtype && d.layout == layout && d.from_tokens <= tokens &&
        is_registered(op, d.variant) && allowed(activations, op, d.variant))
      out.push_back(d.variant);
  return out;
}

std::string_view default_variant(std::string_view op, std::string_view dtype,
                                 std::string_view layout, bool runnable_here, int64_t tokens,
                                 Activations activations) {
  for (std::string_view v : default_variants(op, dtype, layout, tokens, activations))
    if (!runnable_here || is_runnable(op, v, layout)) return v;
  return {};
}

std::vector<int64_t> default_token_ranges(std::string_view op, std::string_view dtype,
                                          std::string_view layout) {
  std::vector<int64_t> from = {1};
  for (const auto& d : kDefaults)
    if (d.op == op && d.dtype == dtype && d.layout == layout) from.push_back(d.from_tokens);
  std::sort(from.begin(), from.end());
  from.erase(std::unique(from.begin(), from.end()), from.end());
  return from;
}

double shape_distance(const MoeShape& a, const MoeShape& b) {
  auto gap = [](int64_t x, int64_t y) {
    return log_gap(static_cast<double>(x), static_cast<double>(y));
  };
  return gap(a.hidden, b.hidden) + gap(a.intermediate, b.intermediate) + gap(a.experts, b.experts) +
         gap(a.top_k, b.top_k) + gap(1 + a.shared_intermediate, 1 + b.shared_intermediate);
}

Choice choose_in(const SelectionEntry* entries, size_t size, std::string_view op,
                 const MoeShape& shape, int64_t tokens, int threads, std::string_view dtype,
                 std::string_view layout, Activations activations) {
  const SelectionEntry* best = nullptr;
  auto best_key = std::make_tuple(std::numeric_limits<double>::infinity(), 0.0, 0.0);
  for (size_t i = 0; i < size; ++i) {
    const SelectionEntry& e = entries[i];
    if (e.op != op || e.dtype != dtype || e.layout != layout) continue;
    if (e.hidden < 1 || e.intermediate < 1 || e.experts < 1 || e.top_k < 1 || e.tokens < 1 ||
        e.threads < 1)
      continue;
    const auto key = std::make_tuple(
        shape_distance(shape, e.shape()),
        log_gap(static_cast<double>(std::max<int64_t>(tokens, 1)), static_cast<double>(e.tokens)),
        log_gap(std::max(threads, 1), e.threads));
    if (key < best_key) {
      best = &e;
      best_key = key;
    }
  }
  if (!best)
    return default_choice(op, dtype, layout, tokens, activations,
                          "default: no tuned entry for this op");
  if (std::get<0>(best_key) > kMaxShapeDistance)
    return default_choice(op, dtype, layout, tokens, activations,
                          "default: no tuned shape near this one");
  // The layer's own refusal first: it holds on every CPU, the ISA only on this one.
  if (!allowed(activations, op, best->variant))
    return default_choice(op, dtype, layout, tokens, activations,
                          "default: the tuned variant rounds the activations (not opted in)");
  if (!is_runnable(op, best->variant, layout))
    return default_choice(op, dtype, layout, tokens, activations,
                          "default: the tuned variant cannot run here");
  const bool exact =
      std::get<0>(best_key) == 0 && std::get<1>(best_key) == 0 && std::get<2>(best_key) == 0;
  return {best->variant, best, exact ? "tuned" : "nearest tuned"};
}

Choice choose(std::string_view op, const MoeShape& shape, int64_t tokens, int threads,
              std::string_view dtype, std::string_view layout, Activations activations) {
  const SelectionTable& t = compiled_selection();
  return choose_in(t.entries, t.size, op, shape, tokens, threads, dtype, layout,
                   activations);
}

KernelSelection select_kernels(const MoeShape& shape, int64_t tokens, int threads, Layout layout,
                               DType dtype, Activations activations) {
  warn_once_if_tuned_elsewhere();
  // Only the gemv reads the weights; the other ops work on f32 activations whatever they are.
  auto pick = [&](std::string_view op) {
    const std::string_view d = op == "gemv" ? dtype_name(dtype) : "f32";
    const Choice c = choose(op, shape, tokens, threads, d, layout_key(op, layout), activations);
    if (c.variant.empty())
      throw std::logic_error("variants/default_selection.inc has no " + std::string(d) +
                             " default for " + std::string(op));
    return c.variant;
  };
  KernelSelection k;
  k.gemv = find_gemv(pick("gemv"));
  k.swiglu = find_swiglu(pick("swiglu"));
  k.softmax = find_softmax(pick("softmax"));
  k.topk = find_topk(pick("topk"));
  return k;
}

std::string_view select_layer_strategy(const MoeShape& shape, int64_t tokens, int threads,
                                       Layout layout, DType dtype) {
  const Choice c = choose("layer", shape, tokens, threads, dtype_name(dtype), layout_name(layout));
  if (c.variant.empty())
    throw std::logic_error("variants/default_selection.inc has no " +
                           std::string(dtype_name(dtype)) + " layer default");
  return c.variant;
}

}  // namespace moetune
