// The renderings of a comparison: text (with colour for a terminal), markdown, csv, json, and
// Go's benchmark format for benchstat.
#pragma once

#include <string>
#include <vector>

#include "harness/compare_read.h"
#include "harness/comparison.h"

namespace moetune {

enum class CompareFormat { kText, kMarkdown, kCsv, kJson, kBenchstat };
// Throws InputError (naming --format) for anything but text, markdown, csv,
// json, benchstat.
CompareFormat parse_compare_format(const std::string &name);

// text (ANSI colour only when `colour`), markdown, csv or json; benchstat needs
// the repetitions, see format_benchstat.
std::string format_comparison(const Comparison &c, CompareFormat format, bool colour);

// Go's benchmark text format, which benchstat reads: per file a block of
// configuration lines (goos, goarch, cpu, pkg, and `source: FILE` so that
// `benchstat -col source` splits the files), then one line per repetition,
// `BenchmarkName iterations T ns/op`. Names are sanitised for the format: the
// first letter upper case, whitespace replaced by `_`, and `key:value` parts
// written `key=value` so that benchstat can project on them (-col /tokens).
std::string format_benchstat(const std::vector<ComparedFile> &files);
std::string benchstat_name(const std::string &name);

// How a compared cell reads in every format: "+12.3%" or "-4.0%" when significant, "~" when
// not; "added", "removed", "failed" when not compared; "" when in neither file.
std::string change_text(const RatioCell &c);

}  // namespace moetune
