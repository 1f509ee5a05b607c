#include "harness/tuner.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>

#include "harness/stats.h"
#include "variants/selection.h"

namespace moetune {
namespace {

using PointKey = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t, bool, int64_t, int,
                            std::string, std::string, std::string>;

int op_rank(const std::string& op) {
  const auto& ops = selection_ops();
  return static_cast<int>(std::find(ops.begin(), ops.end(), op) - ops.begin());
}

PointKey point_key(const CaseResult& c) {
  const MoeShape& s = c.shape;
  return {op_rank(c.op),    s.hidden, s.intermediate, s.experts, s.top_k,  s.shared_intermediate,
          s.norm_topk_prob, c.tokens, c.threads,      c.dtype,   c.layout, c.op};
}

bool noisy(const CaseResult& c, double max_cv) {
  return coefficient_of_variation(c.real_times_ns()) > max_cv;
}

bool measured(const CaseResult& c) { return !c.failed() && c.verified && !c.repetitions.empty(); }

std::string percent(double x) { return fmt::format("{:.1f}%", 100 * x); }

const CaseResult* find_variant(const std::vector<const CaseResult*>& cases, std::string_view v) {
  for (const CaseResult* c : cases)
    if (c->variant == v) return c;
  return nullptr;
}

// What the machine that measured could run: its context's cpu_features, or, in results that
// lack them, everything but what a result says it needed ("needs avx512").
struct MeasuringMachine {
  std::optional<std::string> features;
  bool runs(const std::vector<const CaseResult*>& cases, const std::string& op,
            std::string_view variant) const {
    if (features) return features_have(*features, variant_isa(op, variant));
    const CaseResult* c = find_variant(cases, variant);
    return !(c && c->failed() && c->error.rfind("needs ", 0) == 0);
  }
};

TunedPoint decide(const std::vector<const CaseResult*>& cases, const MeasuringMachine& machine,
                  Activations activations, const TuneOptions& o) {
  const CaseResult& any = *cases.front();
  TunedPoint p;
  p.op = any.op;
  p.shape = any.shape;
  p.tokens = any.tokens;
  p.threads = any.threads;
  p.dtype = any.dtype;
  p.layout = any.layout;
  // The default of the machine that measured: the first line of default_selection.inc whose
  // instruction set it had, as a build there would take.
  for (std::string_view d : default_variants(p.op, p.dtype, p.layout, p.tokens, activations))
    if (machine.runs(cases, p.op, d)) {
      p.default_variant = d;
      break;
    }
  p.variant = p.default_variant;
  const CaseResult* def = find_variant(cases, p.default_variant);
  if (!def) {
    p.note = "default kept: " + p.default_variant + " was not measured";
    return p;
  }
  if (!measured(*def)) {
    p.note = "default kept: " + p.default_variant + " failed here (" +
             (def->failed() ? def->error : "not verified") + ")";
    return p;
  }
  if (noisy(*def, o.max_cv)) {
    p.note = "default kept: " + p.default_variant + " is noisy (cv " +
             percent(coefficient_of_variation(def->real_times_ns())) + ")";
    return p;
  }
  const std::vector<double> def_times = def->real_times_ns();
  const double def_median = median(def_times);

  // The fastest significant one wins; the fastest of all is remembered for the note.
  const CaseResult* best = nullptr;
  double best_median = 0, best_p = 1;
  const CaseResult* fastest = nullptr;
  double fastest_median = 0, fastest_p = 1;
  int ignored = 0;
  for (const CaseResult* c : cases) {
    if (c == def || !allowed(activations, c->op, c->variant)) continue;
    if (!measured(*c) || noisy(*c, o.max_cv)) {
      ++ignored;
      continue;
    }
    const std::vector<double> times = c->real_times_ns();
    const double m = median(times);
    const double pv = mann_whitney_u(times, def_times).p_value;
    auto better = [&](const CaseResult* than, double than_median) {
      return !than || m < than_median || (m == than_median && c->variant < than->variant);
    };
    if (better(fastest, fastest_median)) {
      fastest = c;
      fastest_median = m;
      fastest_p = pv;
    }
    if (m < def_median && pv < o.alpha && better(best, best_median)) {
      best = c;
      best_median = m;
      best_p = pv;
    }
  }
  const std::string skipped = ignored ? fmt::format(" ({} failed or noisy result{} ignored)",
                                                    ignored, ignored > 1 ? "s" : "")
                                      : "";
  if (best) {
    p.variant = best->variant;
    p.speedup = def_median / best_median;
    p.p_value = best_p;
    p.note = fmt::format("{:.2f}x the default {}, p = {:.2g}{}", p.speedup, p.default_variant,
                         p.p_value, skipped);
    return p;
  }
  if (!fastest) {
    p.note = "default kept: no other variant measured" + skipped;
    return p;
  }
  p.speedup = def_median / fastest_median;
  p.p_value = fastest_p;
  p.note = fmt::format("default kept: fastest other {} at {:.2f}x, p = {:.2g}{}", fastest->variant,
                       p.speedup, p.p_value, skipped);
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
  // Variants that round the activations ran only if the sweep opted in; only then may they be
  // chosen (results recorded before the key existed hold none).
  const auto rounded = results.context.find("rounded_activations");
  out.activations =
      rounded != results.context.end() && rounded->is_boolean() && rounded->get<bool>()
          ? Activations::kMayRound
          : Activations::kExact;
  MeasuringMachine machine;
  const auto features = results.context.find("cpu_features");
  if (features != results.context.end() && features->is_string())
    machine.features = features->get<std::string>();
  std::map<PointKey, std::vector<const CaseResult*>> points;
  for (const auto& c : results.cases) {
    if (op_rank(c.op) == static_cast<int>(selection_ops().size())) continue;
    if (default_variant(c.op, c.dtype, c.layout).empty()) continue;
    points[point_key(c)].push_back(&c);
  }
  for (auto& [key, cases] : points) {
    std::sort(cases.begin(), cases.end(),
              [](const CaseResult* a, const CaseResult* b) { return a->variant < b->variant; });
    out.points.push_back(decide(cases, machine, out.activations, options));
  }
  return out;
}

std::string tuned_header(const TuneResult& tuned, const TuneOptions& options) {
  std::string h;
  h += "// Generated by moetune tune " MOETUNE_VERSION " from " + comment_safe(tuned.results) +
       ". Do not edit.\n";
  h += "// Machine: " + comment_safe(tuned.machine) + "; commit " + comment_safe(tuned.commit) +
       ".\n";
  h += fmt::format(
      "// A variant other than the op's default (variants/default_selection.inc) is chosen only\n"
      "// where a two-sided Mann-Whitney U test over the repetitions finds it faster at the {:g}%\n"
      "// level, and no result with a coefficient of variation above {:g}% decides anything.\n"
      "// Build with it: cmake -DMOETUNE_TUNED_CONFIG=this-file.h\n",
      100 * options.alpha, 100 * options.max_cv);
  if (tuned.activations == Activations::kMayRound)
    h += "// The sweep opted in to rounded activations: an entry may name a variant that rounds\n"
         "// them, which a layer runs only where it opts in too (Activations::kMayRound).\n";
  h += "#pragma once\n\n#include <array>\n#include <string_view>\n\n#include "
       "\"variants/selection.h\"\n\nnamespace moetune::tuned {\n\n";
  h +=
      "inline constexpr std::string_view kGenerator = " + literal("moetune tune " MOETUNE_VERSION) +
      ";\n";
  h += "inline constexpr std::string_view kResults = " + literal(tuned.results) + ";\n";
  h += "inline constexpr std::string_view kMachine = " + literal(tuned.machine) + ";\n";
  h += "inline constexpr std::string_view kCommit = " + literal(tuned.commit) + ";\n\n";
  h += fmt::format("inline constexpr std::array<SelectionEntry, {}> kEntries = {{{{\n",
                   tuned.points.size());
  for (const auto& p : tuned.points) {
    const MoeShape& s = p.shape;
    h += "    // " + comment_safe(p.note) + "\n";
    h += fmt::format("    {{{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}}},\n", literal(p.op),
                     s.hidden, s.intermediate, s.experts, s.top_k, s.shared_intermediate,
                     s.norm_topk_prob ? "true" : "false", p.tokens, p.threads, literal(p.dtype),
                     literal(p.layout), literal(p.variant));
  }
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

}  // namespace moetune
