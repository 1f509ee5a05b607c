// The results as a table (`moetune table`, and the end of `moetune sweep`): per point of the
// sweep (shape, op, layout, dtype, tokens, threads) its variants side by side, with median
// time, spread, rates, % of roofline and speedup over naive; the fastest verified one marked.
#pragma once

#include <string>

#include "harness/results.h"

namespace moetune {

std::string format_table(const ResultsFile& results);
// The sweep's warnings (its context's "warnings": a busy or slow machine, noisy points), one
// per line under a heading; "" when it has none.
std::string warnings_footer(const ResultsFile& results);

}  // namespace moetune
