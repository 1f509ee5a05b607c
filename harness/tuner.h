// The tuner (DESIGN §6): from a results file, the variant each op should run at each measured
// point, and the generated header that compiles that choice into the layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/results.h"
#include "variants/moe_shape.h"
#include "variants/selection.h"

namespace moetune {

struct TuneOptions {
  double alpha = 0.05;   // significance level of the two-sided Mann-Whitney U test
  double max_cv = 0.10;  // a result noisier than this (stddev / mean of its times) decides nothing
};

// The choice at one point (op, shape, tokens, threads, dtype, layout) of the results.
struct TunedPoint {
  std::string op;
  MoeShape shape;
  int64_t tokens = 1;
  int threads = 1;
  std::string dtype;
  std::string layout;
  std::string default_variant;  // variants/default_selection.inc
  std::string variant;          // the choice: default_variant unless another one won
  double speedup = 1;           // median time of the default / median time of the best other
  double p_value = 1;           // U test of the best other against the default
  std::string note;             // why, for the header's comment and the command's table
};

struct TuneResult {
  std::string results;  // the results file's name
  std::string machine;  // its context's CPU model
  std::string commit;   // its context's git commit
  // Whether the sweep opted in to the variants that round the activations (its context's
  // `rounded_activations`): only then may a point choose one.
  Activations activations = Activations::kExact;
  std::vector<TunedPoint> points;  // sorted: op (selection_ops order), shape, tokens, threads,
                                   // dtype, layout
};

// Per point, the fastest (lowest median) verified variant among those that a two-sided
// Mann-Whitney U test over the repetitions finds faster than the op's default at level
// alpha; where none is, or the default was not measured, failed or is noisy, the default.
// A failed, unverified or noisy result (CV above max_cv) is never chosen. Note that fewer
// than 4 repetitions per side can never reach p < 0.05. Ops or dtypes without a default are
// left out.
TuneResult tune(const ResultsFile& results, const std::string& results_name,
                const TuneOptions& options = {});

// The generated header: a comment naming the generator, the results, the machine and the
// commit, "Do not edit", and moetune::tuned::kEntries, a constexpr array of SelectionEntry
// (variants/selection.h), one per point, each with its speedup and p-value in a comment.
// Deterministic: the same results give the same bytes.
std::string tuned_header(const TuneResult& tuned, const TuneOptions& options = {});

// Writes `content` atomically unless `path` already holds exactly it (so a build that depends
// on the header is not redone for nothing). True when it wrote.
bool write_if_changed(const std::string& path, const std::string& content);

}  // namespace moetune
