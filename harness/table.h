// The results as a table (`moetune table`, and the end of `moetune sweep`): per point of the
// sweep (shape, op, layout, dtype, tokens, threads) its variants side by side, with median
// time, spread, rates, % of roofline and speedup over naive; the fastest verified one marked.
// Every format first says where its figures come from: the machine, the commit and the
// roofline the % of roofline is of.
#pragma once

#include <string>

#include "harness/compare_read.h"
#include "harness/results.h"

namespace moetune {

enum class TableFormat { kText, kMarkdown, kCsv, kJson };
// text, markdown, csv or json; anything else throws InputError naming --format.
TableFormat parse_table_format(const std::string& name);

// Any Google Benchmark JSON (compare_read.h): moetune_bench's points are its names without the
// variant ("topk/n:128/k:8"); another program's names are each a point of their own.
std::string format_table(const ComparedFile& file, TableFormat format = TableFormat::kText);
std::string format_table(const ResultsFile& results, TableFormat format = TableFormat::kText);
// The sweep's warnings (its context's "warnings": a busy or slow machine, noisy points), one
// per line under a heading; "" when it has none. Text and markdown tables end with it, json
// carries the array.
std::string warnings_footer(const ResultsFile& results);

}  // namespace moetune
