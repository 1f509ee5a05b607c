// The statistics of a comparison: each file's sample of a row (median, coefficient of
// variation), each later file against the first (ratio of medians, its 95% Hodges-Lehmann
// interval, the Mann-Whitney U p-value), geometric means of the ratios per op and overall, and
// the regressions a gate looks for.
#pragma once

#include <string>
#include <vector>

#include "harness/comparison.h"
#include "harness/results.h"

namespace moetune {

// The sample of one case: its real times in ns, median and cv; an error when the case failed,
// has no repetitions or a time that is not positive.
Sample sample_of(const CaseResult &c);

// The later sample against the base one; significant when the p-value is below alpha.
RatioCell ratio_cell(const Sample &base, const Sample &later, double alpha);

// Sets every row's cells (each later file against the first) and the geometric means of the
// compared ratios, per op in first-seen order and overall.
void add_statistics(Comparison &c);

// The compared rows that are significant and slower than the first file by more
// than `pct` percent (ratio > 1 + pct / 100), in row order.
struct Regression {
  const CompareRow *row;
  size_t file;  // index into Comparison::files
  double ratio;
};
std::vector<Regression> regressions(const Comparison &c, double pct);

// The later files that have no row in common with the first (no compared row): a regression
// gate over them would pass without having compared anything.
std::vector<std::string> unmatched_files(const Comparison &c);

}  // namespace moetune
