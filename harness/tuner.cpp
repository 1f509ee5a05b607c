#include "harness/tuner.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>

#include "harness/error.h"
#include "harness/stats.h"
#include "harness/units.h"
#include "variants/selection.h"

namespace moetune {
namespace {

// The order of the tuned header's entries: Point's order, but dtype and layout by name (bf16,
// f32, int8; any, io, oi), as headers have always listed them.
struct HeaderOrder {
  static auto fields(const Point& p) {
    const MoeShape& s = p.shape;
    return std::make_tuple(static_cast<int>(p.op), s.hidden, s.intermediate, s.experts, s.top_k,
                           s.shared_intermediate, s.norm_topk_prob, p.tokens, p.threads,
                           dtype_name(p.dtype), p.layout_text());
  }
  bool operator()(const Point& a, const Point& b) const { return fields(a) < fields(b); }
};

const CaseResult* find_variant(const std::vector<const CaseResult*>& cases, std::string_view v) {
  for (const CaseResult* c : cases)
    if (c->variant == v) return c;
  return nullptr;
}

// What the machine that measured could run: its context's cpu_features, or, in results that
// lack them, everything but what a result says it needed ("needs avx512").
struct MeasuringMachine {
  std::optional<std::string> features;
  bool runs(const std::vector<const CaseResult*>& cases, Op op, std::string_view variant) const {
    if (features) return features_have(*features, variant_isa(op, variant));
    const CaseResult* c = find_variant(cases, variant);
    return !(c && c->failed() && c->error.rfind("needs ", 0) == 0);
  }
};

TunedPoint decide(const Point& at, const std::vector<const CaseResult*>& cases,
                  const MeasuringMachine& machine, Activations activations,
                  const DecisionRule& rule) {
  TunedPoint p;
  p.point = at;
  // The default of the machine that measured: the first line of default_selection.inc whose
  // instruction set it had, as a build there would take.
  for (std::string_view d : default_variants(at.op, at.dtype, at.layout, at.tokens, activations))
    if (machine.runs(cases, at.op, d)) {
      p.default_variant = d;
      break;
    }
  const Decision d = decide_point(cases, p.default_variant, activations, rule);
  p.variant = d.winner ? d.winner->variant : p.default_variant;
  p.verdict = d.verdict;
  p.test_alpha = d.test_alpha;
  p.note = d.reason;
  const CaseResult* versus = d.winner ? d.winner : d.fastest_other;
  for (const CandidateStats& c : d.candidates) {
    if (versus && c.result == versus) {
      p.speedup = c.ratio.estimate > 0 ? d.candidates.front().median_ns / c.median_ns : 1;
      p.p_value = c.p_value;
    }
    p.candidates.push_back(c);
    p.candidates.back().result = nullptr;
  }
  return p;
}

std::string context_string(const nlohmann::json& context, const char* key) {
  const auto it = context.find(key);
  return it != context.end() && it->is_string() ? it->get<std::string>() : "unknown";
}

// A C++ string literal; octal escapes, which never swallow a following character.
std::string literal(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\{:03o}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Comments hold user text (file names, CPU models): keep them on one line and unable to close
// a comment early.
std::string comment_safe(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  for (size_t at; (at = s.find("*/")) != std::string::npos;) s.replace(at, 2, "* /");
  return s;
}

}  // namespace

TuneResult tune(const ResultsFile& results, const std::string& results_name,
                const TuneOptions& options) {
  TuneResult out;
  out.results = results_name;
  out.machine = context_string(results.context, "cpu_model");
  out.commit = context_string(results.context, "git_commit");
  out.context = results.context;
  // Variants that round the activations ran only if the sweep opted in; only then may they be
  // chosen (results recorded before the key existed hold none).
  const auto rounded = results.context.find("rounded_activations");
  out.activations =
      rounded != results.context.end() && rounded->is_boolean() && rounded->get<bool>()
          ? Activations::kMayRound
          : Activations::kExact;
  // A sweep that added repetitions until a point settled looked at it up to `looks` times;
  // each look spends part of the false-positive rate (decision.h).
  const auto adaptive = results.context.find("adaptive");
  if (adaptive != results.context.end()) {
    const auto looks = adaptive->is_object() ? adaptive->find("looks") : adaptive->end();
    if (looks == adaptive->end() || !looks->is_number_integer() || looks->get<int64_t>() < 1 ||
        looks->get<int64_t>() > 64)
      throw InputError(results_name, "context.adaptive.looks",
                       "expected the number of looks of an adaptive sweep, an integer from 1 to "
                       "64; without it the tuner cannot set the level of its tests");
    out.looks = static_cast<int>(looks->get<int64_t>());
  }
  DecisionRule rule = options.rule;
  rule.looks = out.looks;
  MeasuringMachine machine;
  const auto features = results.context.find("cpu_features");
  if (features != results.context.end() && features->is_string())
    machine.features = features->get<std::string>();
  std::map<Point, std::vector<const CaseResult*>, HeaderOrder> points;
  for (const auto& c : results.cases) {
    const auto at = c.point();  // none for a peer's dtype (q8_0): no default there either
    if (!at || default_variant(at->op, at->dtype, at->layout).empty()) continue;
    points[*at].push_back(&c);
  }
  for (auto& [at, cases] : points) {
    std::sort(cases.begin(), cases.end(),
              [](const CaseResult* a, const CaseResult* b) { return a->variant < b->variant; });
    out.points.push_back(decide(at, cases, machine, out.activations, rule));
  }
  return out;
}

namespace {

std::string cpuid_of(const nlohmann::json& context) {
  const auto id = context.find("cpuid");
  if (id == context.end() || !id->is_object()) return "unknown";
  auto field = [&](const char* k) {
    const auto f = id->find(k);
    if (f == id->end()) return std::string("?");
    return f->is_string() ? f->get<std::string>() : f->dump();
  };
  return field("vendor") + " " + field("family") + "/" + field("model") + "/" + field("stepping");
}

// The instruction sets the chosen variants need, narrowest first ("" when none beyond x86-64).
std::string features_needed(const TuneResult& tuned) {
  std::vector<Isa> needed;
  for (const auto& p : tuned.points) {
    const Isa isa = variant_isa(p.point.op, p.variant);
    if (isa != Isa::kBaseline && std::find(needed.begin(), needed.end(), isa) == needed.end())
      needed.push_back(isa);
  }
  std::sort(needed.begin(), needed.end());
  std::string out;
  for (Isa isa : needed) out += (out.empty() ? "" : " ") + std::string(isa_name(isa));
  return out.empty() ? "baseline" : out;
}

}  // namespace

namespace {

// One table's provenance and entries, named kProvenance<index> and kEntries<index>.
std::string table_text(const TuneResult& tuned, size_t index) {
  const nlohmann::json& ctx = tuned.context;
  std::string h;
  h += "// Machine class " +
       comment_safe(tuned.machine_class.empty() ? "unknown" : tuned.machine_class) + ", from " +
       comment_safe(tuned.results) + ".\n";
  h += "// Machine: " + comment_safe(tuned.machine) + " (" + comment_safe(cpuid_of(ctx)) +
       "); commit " + comment_safe(tuned.commit) + ".\n";
  if (tuned.activations == Activations::kMayRound)
    h += "// The sweep opted in to rounded activations: an entry may name a variant that rounds\n"
         "// them, which a layer runs only where it opts in too (Activations::kMayRound).\n";
  const auto cores = ctx.find("cores");
  const int n_cores = cores != ctx.end() && cores->is_number_integer() ? cores->get<int>() : 0;
  const std::pair<const char*, std::string> fields[] = {
      {"generator", "moetune tune " MOETUNE_VERSION},
      {"results", tuned.results},
      {"results_sha256", tuned.results_sha256.empty() ? "unknown" : tuned.results_sha256},
      {"sweep", context_string(ctx, "sweep")},
      {"sweep_file", context_string(ctx, "sweep_file")},
      {"sweep_sha256", context_string(ctx, "sweep_sha256")},
      {"measured", context_string(ctx, "date")},
      {"moetune_version", context_string(ctx, "moetune_version")},
      {"commit", tuned.commit},
      {"compiler", context_string(ctx, "compiler")},
      {"compiler_flags", context_string(ctx, "compiler_flags")},
      {"machine", tuned.machine},
      {"cpuid", cpuid_of(ctx)},
      {"cpu_features", context_string(ctx, "cpu_features")},
      {"features_needed", features_needed(tuned)},
  };
  h += fmt::format("inline constexpr TunedProvenance kProvenance{} = {{\n", index);
  for (const auto& [name, value] : fields)
    h += fmt::format("    /* {} */ {},\n", name, literal(value));
  h += fmt::format("    /* cores */ {},\n}};\n\n", n_cores);
  h += "// {op, hidden, intermediate, experts, top_k, shared_intermediate, norm_topk_prob, tokens,\n"
       "//  threads, dtype, layout, variant}: at this point run this variant.\n";
  h += fmt::format("inline constexpr std::array<SelectionEntry, {}> kEntries{} = {{{{\n",
                   tuned.points.size(), index);
  for (const auto& p : tuned.points) {
    const Point& at = p.point;
    const MoeShape& s = at.shape;
    h += "    // " + comment_safe(p.note) + "\n";
    h += fmt::format("    {{{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}}},\n",
                     literal(std::string(op_name(at.op))), s.hidden, s.intermediate, s.experts,
                     s.top_k, s.shared_intermediate, s.norm_topk_prob ? "true" : "false",
                     at.tokens, at.threads, literal(std::string(dtype_name(at.dtype))),
                     literal(std::string(at.layout_text())), literal(p.variant));
  }
  h += "}};\n\n";
  return h;
}

}  // namespace

std::string tuned_header(const TuneResult& tuned, const TuneOptions& options) {
  return fleet_header({tuned}, options);
}

std::string fleet_header(std::vector<TuneResult> tables, const TuneOptions& options) {
  std::stable_sort(tables.begin(), tables.end(), [](const TuneResult& a, const TuneResult& b) {
    return std::tie(a.machine_class, a.results) < std::tie(b.machine_class, b.results);
  });
  const DecisionRule& rule = options.rule;
  std::string from, looks;
  for (const auto& t : tables) {
    from += (from.empty() ? "" : "; ") + comment_safe(t.results);
    looks += (looks.empty() ? "" : ", ") + std::to_string(t.looks);
  }
  std::string h;
  h += "// Generated by moetune tune " MOETUNE_VERSION " from " + from + ". Do not edit.\n";
  h += fmt::format(
      "// A variant other than the op's default (variants/default_selection.inc) is chosen only\n"
      "// where it is faster beyond the noise: a two-sided Mann-Whitney U test over the\n"
      "// repetitions at {:g}% split over the candidates and the sweep's looks at each point\n"
      "// (looks per table: {}; README \"How the tuner decides\").\n",
      100 * rule.alpha, looks);
  h += fmt::format(
      "// {} table{}, one per machine class: a tuned build runs the table of its machine's\n"
      "// class, else the nearest (same vendor and features, then same features), else the\n"
      "// defaults (README \"Tuning a fleet\").\n"
      "// Build with it: cmake -DMOETUNE_TUNED_CONFIG=this-file.h\n",
      tables.size(), tables.size() == 1 ? "" : "s");
  h += "#pragma once\n\n#include <array>\n#include <string_view>\n\n#include "
       "\"variants/selection.h\"\n\nnamespace moetune::tuned {\n\n";
  for (size_t i = 0; i < tables.size(); ++i) h += table_text(tables[i], i);
  h += "// {machine class, provenance, entries, size}, in class order.\n";
  h += fmt::format("inline constexpr std::array<TunedTable, {}> kTables = {{{{\n", tables.size());
  for (size_t i = 0; i < tables.size(); ++i)
    h += fmt::format("    TunedTable{{{}, kProvenance{}, kEntries{}.data(), kEntries{}.size()}},\n",
                     literal(tables[i].machine_class), i, i, i);
  h += "}};\n\n}  // namespace moetune::tuned\n";
  return h;
}

bool write_if_changed(const std::string& path, const std::string& content) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::ostringstream old;
    old << in.rdbuf();
    if (old.str() == content) return false;
  }
  write_file_atomically(path, content);
  return true;
}

std::string explain(const TuneResult& tuned) {
  std::string out;
  for (const auto& p : tuned.points) {
    const Point& at = p.point;
    out += fmt::format("{} {} {} {} tokens {} threads {}: {} ({})\n", op_name(at.op),
                       at.shape.key(), dtype_name(at.dtype), at.layout_text(), at.tokens,
                       at.threads, p.variant,
                       p.variant == p.default_variant ? "the default" : "chosen");
    out += "  " + p.note + "\n";
    if (p.test_alpha > 0) out += fmt::format("  each test at p < {:.2g}\n", p.test_alpha);
    out += fmt::format("   {:<40} {:>10} {:>7} {:>4}  {:<26} {:>9}\n", "variant", "median",
                       "cv", "out", "time / default [95%]", "p");
    for (size_t i = 0; i < p.candidates.size(); ++i) {
      const CandidateStats& c = p.candidates[i];
      const std::string mark = c.variant == p.variant ? "*" : " ";
      if (!c.eligible) {
        out += fmt::format(" {} {:<40} {}\n", mark, c.variant, c.why_not);
        continue;
      }
      const bool is_default = i == 0 && c.variant == p.default_variant;
      out += fmt::format(
          " {} {:<40} {:>10} {:>6.1f}% {:>4}  {:<26} {:>9}{}\n", mark, c.variant,
          human_time(c.median_ns),
          100 * c.robust_cv, c.outliers,
          is_default ? std::string("(default)")
                     : fmt::format("{:.3f} [{:.3f}, {:.3f}]", c.ratio.estimate, c.ratio.lower,
                                   c.ratio.upper),
          is_default ? std::string("") : fmt::format("{:.2g}", c.p_value),
          c.faster ? "  faster" : "");
    }
  }
  return out;
}

}  // namespace moetune
