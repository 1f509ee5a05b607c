// `moetune report`: one self-contained HTML page of plots from results files.
// Everything is inline (CSS, SVG drawn here, no script, no font or image
// fetched), so the page opens the same on a machine without network access and
// can be attached to a ticket as one file.
#pragma once

#include <string>
#include <vector>

#include "harness/results.h"

namespace moetune {

struct ReportInput {
  std::string path;  // shown on the page
  ResultsFile results;
  bool plain = false;  // Google Benchmark JSON without moetune's fields (compare_read.h)
};

// Per file and op a <section> with: the median time of each variant across
// shapes and token counts (grouped bars, log scale), % of roofline and speedup
// over naive (heat maps, variant against point). With several files, one
// <section> per later file comparing it to the first (geomean ratio per op, and
// a heat map of the ratios, `~` where not significant). Every <section> holds
// at least one <svg>. Throws InputError when no file has a result.
std::string report_html(const std::vector<ReportInput> &inputs);

}  // namespace moetune
