// Matching the cases of results files into the rows of a comparison: by case id (or a plain
// file's benchmark name), or by decision point, each file taking its fastest verified variant.
#pragma once

#include <string>
#include <vector>

#include "harness/compare_read.h"
#include "harness/comparison.h"
#include "harness/results.h"

namespace moetune {

// The row of a case with MatchBy::kCase: its case id (results.h), or a plain file's benchmark
// name.
std::string compare_key(const CaseResult &c, bool plain);

// "case" or "point"; anything else throws InputError naming --match.
MatchBy parse_match(const std::string &name);

// One row per key, in the first file's order, then rows new in later files; each row with one
// sample per file (cells not yet set). MatchBy::kCase throws InputError when a file has a key
// twice; MatchBy::kPoint: a point where a file has cases but none verified with times is a
// failed sample ("no verified variant (N failed)").
std::vector<CompareRow> match_rows(const std::vector<ComparedFile> &files, MatchBy match);

}  // namespace moetune
