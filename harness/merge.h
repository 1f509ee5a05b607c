// `moetune merge`: the parts of a sweep run as shards on a fleet (`moetune
// sweep --shard I/N`, one machine or job each) joined back into one results
// file.
#pragma once

#include <string>
#include <vector>

#include "harness/results.h"

namespace moetune {

struct ResultsPart {
  std::string path;  // for messages and merged_from
  ResultsFile results;
};

struct MergeResult {
  ResultsFile results;
  // Differences that do not make the parts different sweeps or machine kinds
  // but that a reader should know of (git commit, compiler).
  std::vector<std::string> warnings;
};

// Refuses, with InputError naming the part, when: no part is given; a part has
// no context "shard" "I/N" or the shards do not cover 0..N-1 exactly once with
// one N; the parts come from different sweeps (context sweep, or the settings
// that define its numbers: routing, repetitions, min_time, seed) or different
// machine kinds (cpu_model, cpu_features, cores); a case is in two parts. The
// context is the first part's without "shard", with "merged_from" (the parts'
// paths in shard order). Cases come in the sweep's order: a sweep deals case i
// to shard i % N, so taking one case of each shard in turn restores it.
MergeResult merge_parts(const std::vector<ResultsPart> &parts);

}  // namespace moetune
