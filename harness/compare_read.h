// Reading any Google Benchmark JSON as results: moetune's own (`moetune sweep`, whose entries
// carry op, variant and shape), and every other, moetune_bench's included, whose entries carry
// only a name, times and counters. Which one a file is, its content decides: an entry with a
// string `op` makes it moetune's, whatever its context says.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/results.h"

namespace moetune {

struct ComparedFile {
  std::string path;
  ResultsFile results;
  // Plain Google Benchmark JSON: each case's name is its identity, its op the name's first
  // component, its variant the component with `__` (moetune_bench's
  // `topk/topk_f32__naive/n:128/k:8`) or else the whole name.
  bool plain = false;
  // Per case (same index): what it was measured at, the variant left out, so that the
  // variants of one point line up. moetune results: point_id (results.h); plain names: the
  // name without its variant component and without Google Benchmark's /real_time suffix
  // ("topk/n:128/k:8"), the whole name when it has no variant component.
  std::vector<std::string> points;
};

// Problems throw InputError naming `path`: the entry, the field and what was expected.
ComparedFile comparable_from_json(const nlohmann::json &j, const std::string &path);
ComparedFile read_comparable(const std::string &path);

// The components of a plain benchmark name: its variant ("" when no component has `__`) and
// the point it was measured at (see ComparedFile::points).
struct PlainName {
  std::string op, variant, point;
};
PlainName split_plain_name(const std::string &name);

}  // namespace moetune
