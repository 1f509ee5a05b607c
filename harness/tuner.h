// The tuner (DESIGN §6): from a results file, the variant each op should run at each measured
// point, and the generated header that compiles that choice into the layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/decision.h"
#include "harness/results.h"
#include "variants/moe_shape.h"
#include "variants/point.h"
#include "variants/selection.h"

namespace moetune {

struct TuneOptions {
  // harness/decision.h: alpha (the false-positive rate of a point, split over its candidates
  // and the sweep's looks), equivalence, max_cv (noise reported, deciding nothing). `looks`
  // is read from the results (their context's "adaptive"), not from here.
  DecisionRule rule;
};

// The choice at one point (op, shape, tokens, threads, dtype, layout) of the results.
struct TunedPoint {
  Point point;
  std::string default_variant;  // variants/default_selection.inc
  std::string variant;          // the choice: default_variant unless another one won
  double speedup = 1;           // median time of the default / median time of the best other
  double p_value = 1;           // U test of the best other against the default
  std::string note;             // why, for the header's comment and the command's table
  Verdict verdict = Verdict::kNoDefault;
  double test_alpha = 0;  // the level each candidate was tested at
  // Every variant measured here, the default first (`result` is cleared: it pointed into the
  // results tuned from). For `moetune tune --explain`.
  std::vector<CandidateStats> candidates;
};

struct TuneResult {
  std::string results;         // the results file's name
  std::string results_sha256;  // of its bytes, when the caller knows them (cmd_tune); else ""
  std::string machine;         // its context's CPU model
  std::string commit;          // its context's git commit
  std::string machine_class;   // MachineClass::key() of the results (harness/fleet.h); "" unknown
  nlohmann::json context;      // the results' context, for the header's provenance
  int looks = 1;               // how often the sweep looked at each point (its schedule)
  // Whether the sweep opted in to the variants that round the activations (its context's
  // `rounded_activations`): only then may a point choose one.
  Activations activations = Activations::kExact;
  std::vector<TunedPoint> points;  // sorted: op (kOps order), shape, tokens, threads, dtype
                                   // and layout by name (the header's order)
};

// Per point, decide_point (harness/decision.h) against the op's default on the machine that
// measured: the fastest variant faster than the default beyond the noise, else the default.
// A failed or unverified result is never chosen. Ops or dtypes without a default are left out.
// Throws InputError naming `results_name` where the context's "adaptive" record (written by
// sweeps with adaptive repetitions) is malformed: its looks decide the level of every test.
TuneResult tune(const ResultsFile& results, const std::string& results_name,
                const TuneOptions& options = {});

// The generated header of one class: a comment naming the generator and the rule, "Do not
// edit", moetune::tuned::kProvenance0 (variants/selection.h TunedProvenance: results and their
// sha256, sweep file and its sha256, date, version, commit, compiler, CPU, features),
// moetune::tuned::kEntries0, a constexpr array of SelectionEntry, one per point, its fields
// named in a comment above the table and each entry's reason in a comment above it, and
// kTables with its one TunedTable. Deterministic: the same results give the same bytes.
std::string tuned_header(const TuneResult& tuned, const TuneOptions& options = {});

// The header of a fleet (issue 17): one table per machine class, each its own
// kProvenance<i> and kEntries<i>, then moetune::tuned::kTables, an array of TunedTable
// {class key, provenance, entries, size} in class-key order (the order of `tables` does not
// matter: the same results give the same bytes). tuned_header is the fleet of one.
std::string fleet_header(std::vector<TuneResult> tables, const TuneOptions& options = {});

// Writes `content` atomically unless `path` already holds exactly it (so a build that depends
// on the header is not redone for nothing). True when it wrote.
bool write_if_changed(const std::string& path, const std::string& content);

// `moetune tune --explain`: per point its candidates with medians, robust cv, ratio to the
// default with its 95% interval, p-values, the default, the winner and the reason.
std::string explain(const TuneResult& tuned);

}  // namespace moetune
