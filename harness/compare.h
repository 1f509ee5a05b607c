// `moetune compare`: two or more results files side by side, benchstat-style.
// Rows are matched by what was measured (op, variant, shape, dtype, layout,
// tokens, threads, i.e. the case id) in moetune results, and by benchmark name
// in plain Google Benchmark JSON; or, with MatchBy::kPoint, by decision point
// (the case id without the variant), each file taking its fastest verified
// variant there: the best of moetune against the best of a peer. Per row: the median of each file,
// the ratio of medians against the first file with a 95% interval (Hodges-Lehmann,
// harness/stats.h), the Mann-Whitney U p-value, and `~` where the change is not
// significant; geometric means of the ratios per op and overall.
//
// The steps, one file each: compare_read (the files into the compared form), compare_match (rows
// across files), compare_stats (per row and per op), compare_format (the renderings); this file
// puts them together and checks the machines.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/compare_format.h"
#include "harness/compare_match.h"
#include "harness/compare_read.h"
#include "harness/compare_stats.h"
#include "harness/comparison.h"

namespace moetune {

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

}  // namespace moetune
