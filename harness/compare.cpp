// Matching rows across files and the statistics of each row (the rendering is
// compare_format.cpp, the reading compare_read.cpp).
#include "harness/compare.h"

#include <fmt/core.h>

#include <map>

#include "harness/error.h"
#include "harness/stats.h"
#include "harness/sweep_config.h"

namespace moetune {
namespace {

using nlohmann::json;

Sample sample_of(const CaseResult &c) {
  Sample s;
  s.present = true;
  if (c.failed()) {
    s.error = c.error;
    return s;
  }
  s.times_ns = c.real_times_ns();
  if (s.times_ns.empty()) {
    s.error = "no repetitions";
    return s;
  }
  for (double t : s.times_ns)
    if (!(t > 0)) {
      s.error = "a time that is not positive";
      return s;
    }
  s.median_ns = median(s.times_ns);
  s.cv = coefficient_of_variation(s.times_ns);
  return s;
}

// MatchBy::kPoint: the sample of the verified variant with the lowest median
// among `cases` (one point of one file; equal medians: the first name in
// order), or a failed sample when none has times.
Sample best_sample(const std::vector<const CaseResult *> &cases) {
  Sample best;
  int candidates = 0, failed = 0;
  for (const CaseResult *c : cases) {
    Sample s = sample_of(*c);
    if (!s.error.empty() || !c->verified) {
      ++failed;
      continue;
    }
    ++candidates;
    if (best.variant.empty() || s.median_ns < best.median_ns ||
        (s.median_ns == best.median_ns && c->variant < best.variant)) {
      best = std::move(s);
      best.variant = c->variant;
    }
  }
  if (candidates == 0) {
    Sample none;
    none.present = true;
    none.error = fmt::format("no verified variant ({} failed)", failed);
    return none;
  }
  best.candidates = candidates;
  return best;
}

RatioCell cell_of(const Sample &base, const Sample &later, double alpha) {
  RatioCell cell;
  if (!base.present && !later.present) return cell;
  if (!base.present) {
    cell.change = Change::kAdded;
    return cell;
  }
  if (!later.present) {
    cell.change = Change::kRemoved;
    return cell;
  }
  if (!base.error.empty() || !later.error.empty()) {
    cell.change = Change::kFailed;
    return cell;
  }
  cell.change = Change::kCompared;
  cell.ratio = later.median_ns / base.median_ns;
  const RatioInterval ci = median_ratio_interval(later.times_ns, base.times_ns, 0.95);
  cell.lower = ci.lower;
  cell.upper = ci.upper;
  cell.p_value = mann_whitney_u(later.times_ns, base.times_ns).p_value;
  cell.significant = cell.p_value < alpha;
  return cell;
}

// The key columns of a row, from the case of the first file that has it.
void describe(CompareRow &row, const CaseResult &c, bool plain, MatchBy match) {
  row.op = c.op;
  row.variant = match == MatchBy::kCase ? c.variant : "";
  row.dtype = c.dtype;
  row.layout = c.layout;
  row.threads = c.threads;
  if (!plain) {
    row.shape = c.shape.key();
    row.tokens = c.tokens;
    return;
  }
  // moetune_bench's "topk/topk_f32__naive/n:128/k:8": the shape is "n:128/k:8", and gemv's m
  // is its tokens; another program's names say neither.
  const PlainName name = split_plain_name(c.name);
  const auto slash = name.point.find('/');
  if (!name.variant.empty() && slash != std::string::npos) row.shape = name.point.substr(slash + 1);
  if (("/" + name.point + "/").find("/m:") != std::string::npos) row.tokens = c.tokens;
}

const json *fingerprint_field(const json &ctx, const char *key) {
  if (ctx.is_object() && ctx.contains(key) && !ctx[key].is_null()) return &ctx[key];
  if (std::string(key) == "cores" && ctx.is_object() && ctx.contains("num_cpus"))
    return &ctx["num_cpus"];
  return nullptr;
}

std::string show(const json *v) {
  if (!v) return "(unknown)";
  if (v->is_string()) return "'" + v->get<std::string>() + "'";
  return v->dump();
}

}  // namespace

std::string compare_key(const CaseResult &c, bool plain) {
  if (plain) return c.name;
  // From the fields rather than the stored name, so that files from versions
  // that named cases differently still match.
  return case_id(c.op, c.variant, c.shape, c.dtype, c.layout, c.tokens, c.threads);
}

std::vector<std::string> fingerprint_differences(const json &a, const json &b,
                                                 bool include_compiler) {
  std::vector<std::string> out;
  for (const char *key : {"cpu_model", "cpu_features", "compiler", "cores"}) {
    if (!include_compiler && std::string(key) == "compiler") continue;
    const json *x = fingerprint_field(a, key);
    const json *y = fingerprint_field(b, key);
    if (!x && !y) continue;
    if (x && y && *x == *y) continue;
    out.push_back(fmt::format("{}: {} vs {}", key, show(x), show(y)));
  }
  return out;
}

Comparison compare_files(const std::vector<ComparedFile> &files, double alpha, MatchBy match) {
  if (files.size() < 2)
    throw InputError("command line", "", "compare needs at least two results files");
  Comparison c;
  c.alpha = alpha;
  c.match = match;
  std::map<std::string, size_t> index;
  auto row_for = [&](const std::string &key, const CaseResult &first,
                     const ComparedFile &file) -> CompareRow & {
    auto [it, fresh] = index.try_emplace(key, c.rows.size());
    if (fresh) {
      CompareRow row;
      row.key = key;
      describe(row, first, file.plain, match);
      row.samples.resize(files.size());
      c.rows.push_back(std::move(row));
    }
    return c.rows[it->second];
  };
  for (size_t f = 0; f < files.size(); ++f) {
    const ComparedFile &file = files[f];
    c.files.push_back(file.path);
    const auto &cases = file.results.cases;
    if (match == MatchBy::kCase) {
      for (size_t i = 0; i < cases.size(); ++i) {
        const std::string key = compare_key(cases[i], file.plain);
        Sample &s = row_for(key, cases[i], file).samples[f];
        if (s.present) throw InputError(file.path, "", "benchmark '" + key + "' appears twice");
        s = sample_of(cases[i]);
      }
      continue;
    }
    // By point: the file's cases grouped by point, in the order the points first appear.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const CaseResult *>> at;
    for (size_t i = 0; i < cases.size(); ++i) {
      const std::string key = i < file.points.size() ? file.points[i] : point_id(cases[i]);
      auto [it, fresh] = at.try_emplace(key);
      if (fresh) order.push_back(key);
      it->second.push_back(&cases[i]);
    }
    for (const auto &key : order)
      row_for(key, *at[key].front(), file).samples[f] = best_sample(at[key]);
  }
  std::vector<std::string> ops;
  std::map<std::string, std::vector<std::vector<double>>> ratios;  // op -> file -> ratios
  for (auto &row : c.rows) {
    for (size_t f = 1; f < files.size(); ++f)
      row.cells.push_back(cell_of(row.samples[0], row.samples[f], alpha));
    auto [it, fresh] = ratios.try_emplace(row.op, files.size() - 1);
    if (fresh) ops.push_back(row.op);
    for (size_t f = 1; f < files.size(); ++f)
      if (row.cells[f - 1].change == Change::kCompared)
        it->second[f - 1].push_back(row.cells[f - 1].ratio);
  }
  auto geomean_of = [&](const std::string &op, const std::vector<std::vector<double>> &per_file) {
    Geomean g;
    g.op = op;
    for (const auto &v : per_file) {
      g.ratio.push_back(v.empty() ? std::nullopt : std::optional<double>(geometric_mean(v)));
      g.rows.push_back(static_cast<int>(v.size()));
    }
    return g;
  };
  std::vector<std::vector<double>> all(files.size() - 1);
  for (const auto &op : ops) {
    c.per_op.push_back(geomean_of(op, ratios[op]));
    for (size_t f = 0; f + 1 < files.size(); ++f)
      all[f].insert(all[f].end(), ratios[op][f].begin(), ratios[op][f].end());
  }
  c.overall = geomean_of("", all);
  for (size_t f = 1; f < files.size(); ++f) {
    const auto diff = fingerprint_differences(files[0].results.context, files[f].results.context,
                                              match == MatchBy::kCase);
    if (diff.empty()) continue;
    std::string w =
        fmt::format("the machines differ between {} and {}:", files[0].path, files[f].path);
    for (const auto &d : diff) w += "\n  " + d;
    c.warnings.push_back(w);
  }
  return c;
}

MatchBy parse_match(const std::string &name) {
  if (name == "case") return MatchBy::kCase;
  if (name == "point") return MatchBy::kPoint;
  throw InputError("command line", "--match", "expected case or point, got '" + name + "'");
}

std::vector<Regression> regressions(const Comparison &c, double pct) {
  std::vector<Regression> out;
  for (const auto &row : c.rows)
    for (size_t f = 1; f < c.files.size(); ++f) {
      const RatioCell &cell = row.cells[f - 1];
      if (cell.change == Change::kCompared && cell.significant && cell.ratio > 1 + pct / 100)
        out.push_back({&row, f, cell.ratio});
    }
  return out;
}

std::vector<std::string> unmatched_files(const Comparison &c) {
  std::vector<std::string> out;
  for (size_t f = 1; f < c.files.size(); ++f)
    if (c.overall.rows[f - 1] == 0) out.push_back(c.files[f]);
  return out;
}

}  // namespace moetune
