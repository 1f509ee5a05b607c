// The compared form: the rows of a comparison of results files, what each row looks like in
// each file, and each later file against the first. compare_match.h makes the rows,
// compare_stats.h their statistics, compare_format.h their renderings; compare.h puts the
// steps together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moetune {

// How rows are matched across files.
enum class MatchBy {
  kCase,   // what was measured, the variant included: one row per case id
  kPoint,  // the decision point (op, shape, dtype, layout, tokens, threads): one row per point,
           // holding in each file the verified variant with the lowest median there
};

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

}  // namespace moetune
