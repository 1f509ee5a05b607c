// `moetune compare`: two or more results files side by side, benchstat-style.
// Rows are matched by what was measured (op, variant, shape, dtype, layout,
// tokens, threads, i.e. the case id) in moetune results, and by benchmark name
// in plain Google Benchmark JSON; or, with MatchBy::kPoint, by decision point
// (the case id without the variant), each file taking its fastest verified
// variant there: the best of moetune against the best of a peer. Per row: the median of each file,
// the ratio of medians against the first file with a 95% interval (Hodges-Lehmann,
// harness/stats.h), the Mann-Whitney U p-value, and `~` where the change is not
// significant; geometric means of the ratios per op and overall.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/compare_read.h"
#include "harness/results.h"

namespace moetune {

// The row of a case with MatchBy::kCase: the case id made from its fields (so that files from
// versions that named cases differently still match), or a plain file's benchmark name.
std::string compare_key(const CaseResult &c, bool plain);

// How rows are matched across files.
enum class MatchBy {
  kCase,   // what was measured, the variant included: one row per case id
  kPoint,  // the decision point (op, shape, dtype, layout, tokens, threads): one row per point,
           // holding in each file the verified variant with the lowest median there
};
// "case" or "point"; anything else throws InputError naming --match.
MatchBy parse_match(const std::string &name);

// What the row looks like in one file.
struct Sample {
  bool present = false;
  std::string error;  // the case failed (or has no positive times); "" when it has times
  std::vector<double> times_ns;
  double median_ns = 0;
  double cv = 0;
  // MatchBy::kPoint: the variant whose times these are, and how many verified variants with
  // times the point had in this file (the ones it was fastest of).
  std::string variant;
  int candidates = 0;
};

enum class Change {
  kCompared,  // both have times: ratio, interval and p-value are set (shown +x%, -x% or ~)
  kAdded,     // only in the later file
  kRemoved,   // only in the first file
  kFailed,    // in both, but one failed
  kAbsent,    // in neither (a row that only a third file has)
};

// The later file against the first one.
struct RatioCell {
  Change change = Change::kAbsent;
  double ratio = 1;             // median(later) / median(first): above 1 is slower
  double lower = 1, upper = 1;  // 95% interval of the ratio
  double p_value = 1;
  bool significant = false;  // p_value < alpha
};

struct CompareRow {
  std::string key;  // the case id (the point id with MatchBy::kPoint), or the benchmark name
  std::string op;
  // What the key is made of, from the first file that has the row, for formats that give each
  // its own column. variant: "" by point (each sample names its own); shape: the shape key
  // ("H256_I128_E8_k2_S0_norm"), or for a plain name its point ("n:128/k:8"); dtype "" and
  // tokens unset where a plain name does not say.
  std::string variant, shape, dtype, layout;
  std::optional<int64_t> tokens;
  int threads = 1;
  std::vector<Sample> samples;   // one per file
  std::vector<RatioCell> cells;  // one per file after the first: cells[i] is file i+1 / file 0
};

struct Geomean {
  std::string op;                            // "" for the overall one
  std::vector<std::optional<double>> ratio;  // per file after the first; none if no row compared
  std::vector<int> rows;                     // rows that went into each
};

struct Comparison {
  std::vector<std::string> files;
  std::vector<CompareRow> rows;  // the first file's order, then rows new in later files
  std::vector<Geomean> per_op;   // ops in first-seen order
  Geomean overall;
  std::vector<std::string> warnings;  // machine fingerprints that differ from the first file's
  double alpha = 0.05;
  MatchBy match = MatchBy::kCase;
};

// Throws InputError when fewer than two files are given. With MatchBy::kPoint a
// point where a file has cases but none verified with times is a failed sample
// ("no verified variant (N failed)"); the points of plain Google Benchmark files are their
// names without the variant (ComparedFile::points). The
// fingerprint check leaves out the compiler there: a peer is another program.
Comparison compare_files(const std::vector<ComparedFile> &files, double alpha = 0.05,
                         MatchBy match = MatchBy::kCase);

// The fingerprint fields (cpu_model, cpu_features, compiler, cores; Google
// Benchmark's num_cpus stands in for cores) that differ between two contexts,
// as "cores: 2 vs 4"; a field missing on one side counts as differing, missing
// on both as equal. `compiler` only when include_compiler.
std::vector<std::string> fingerprint_differences(const nlohmann::json &a, const nlohmann::json &b,
                                                 bool include_compiler = true);

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

// How a compared cell reads in every format: "+12.3%" or "-4.0%" when significant, "~" when
// not; "added", "removed", "failed" when not compared; "" when in neither file.
std::string change_text(const RatioCell &c);

}  // namespace moetune
