// The statistics of a comparison's rows: medians, ratios with their intervals and p-values,
// geometric means (the tests themselves are harness/stats.h).
#include "harness/compare_stats.h"

#include <map>

#include "harness/stats.h"

namespace moetune {

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

RatioCell ratio_cell(const Sample &base, const Sample &later, double alpha) {
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

void add_statistics(Comparison &c) {
  const size_t files = c.files.size();
  std::vector<std::string> ops;
  std::map<std::string, std::vector<std::vector<double>>> ratios;  // op -> file -> ratios
  for (auto &row : c.rows) {
    for (size_t f = 1; f < files; ++f)
      row.cells.push_back(ratio_cell(row.samples[0], row.samples[f], c.alpha));
    auto [it, fresh] = ratios.try_emplace(row.op, files - 1);
    if (fresh) ops.push_back(row.op);
    for (size_t f = 1; f < files; ++f)
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
  std::vector<std::vector<double>> all(files - 1);
  for (const auto &op : ops) {
    c.per_op.push_back(geomean_of(op, ratios[op]));
    for (size_t f = 0; f + 1 < files; ++f)
      all[f].insert(all[f].end(), ratios[op][f].begin(), ratios[op][f].end());
  }
  c.overall = geomean_of("", all);
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
