// The rule that decides one point of a sweep (op, shape, dtype, layout, tokens, threads): which
// variant a tuned build runs there. One rule for two users: the sweep, which adds repetitions
// to a point until the rule settles it (or its budget is spent), and the tuner, which applies
// it to the recorded repetitions. README "How the tuner decides" states it with its measured
// false-positive rate (tests/test_decision.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/results.h"
#include "harness/stats.h"
#include "variants/selection.h"

namespace moetune {

struct DecisionRule {
  // The chance, at a point where every variant is as fast as the default, that another one is
  // chosen anyway: split evenly (Bonferroni) over the candidates and over the looks the sweep
  // took, so that looking again and again cannot inflate it.
  double alpha = 0.05;
  // A 95% interval of (fastest other / default) inside 1 +- equivalence settles the point as
  // "no gain worth having": the sweep stops adding repetitions, the default stays.
  double equivalence = 0.05;
  // How many times the sweep could look at the point (repetition_schedule's length); 1 for
  // results recorded without adaptive repetitions.
  int looks = 1;
  // A point whose default or winner has a robust cv above this is reported as noisy. Noise
  // alone decides nothing: it only widens the intervals.
  double max_cv = 0.10;
};

enum class Verdict {
  kFaster,          // a variant is faster than the default beyond the noise: it is chosen
  kDefaultFastest,  // every other variant is slower than the default beyond the noise
  kEquivalent,      // the fastest other is within +-equivalence of the default (95%)
  kUndecided,       // none of these yet: more repetitions could tell
  kNoDefault,       // the default was not measured or failed here: nothing to decide against
};
// "faster", "default fastest", "equivalent", "undecided", "no default".
std::string_view verdict_name(Verdict v);

// One variant measured at the point, as the rule saw it.
struct CandidateStats {
  const CaseResult* result = nullptr;  // valid while the cases decided on are
  std::string variant;
  bool eligible = false;    // measured, verified and allowed: may be chosen
  std::string why_not;      // when not eligible: "failed: ...", "not verified", ...
  double median_ns = 0;
  double robust_cv = 0;     // 1.4826 MAD / median: a few slow outliers barely move it
  int outliers = 0;         // repetitions more than 3 robust sigmas above the median
  RatioInterval ratio;      // its time / the default's, 95% (1 for the default itself)
  double p_value = 1;       // two-sided Mann-Whitney U against the default
  bool faster = false;      // faster than the default at the rule's corrected level
};

struct Decision {
  Verdict verdict = Verdict::kNoDefault;
  const CaseResult* default_result = nullptr;  // nullptr: not measured
  const CaseResult* winner = nullptr;          // the fastest significant one (kFaster only)
  // kFaster: every other eligible candidate is slower than the winner (p < alpha) or within
  // +-equivalence of it (95%), so more repetitions would not change which one wins.
  bool winner_clear = false;
  const CaseResult* fastest_other = nullptr;   // the eligible non-default with the lowest median
  int eligible = 0;                            // candidates besides the default
  double test_alpha = 0;  // the level each candidate's test used: alpha / (eligible x looks)
  std::vector<CandidateStats> candidates;  // the default first, then the others in input order
  std::string reason;                      // one line: what was decided and why
};

// Decides the point made of `cases` (one op, shape, dtype, layout, tokens and threads, in a
// fixed order), whose default is `default_variant`:
//  - a candidate is eligible when it ran, was verified, and `activations` allows it;
//  - it is faster when its median is below the default's and a two-sided Mann-Whitney U test
//    against the default gives p < alpha / (eligible x looks); the fastest of those wins
//    (the lowest median), and the point is settled once the others are shown slower than the
//    winner or equivalent to it;
//  - else the point is kDefaultFastest when every eligible candidate is slower with p < alpha,
//    kEquivalent when the fastest other's 95% ratio interval lies within 1 +- equivalence,
//    and kUndecided otherwise.
// Outliers: the rank test and the Hodges-Lehmann interval weigh a repetition by its rank, so
// one stalled repetition counts no more than any other slow one; the noise figure (robust cv)
// leaves them out. Nothing is dropped.
Decision decide_point(const std::vector<const CaseResult*>& cases,
                      std::string_view default_variant, Activations activations,
                      const DecisionRule& rule);

// Whether the sweep may stop adding repetitions to the point: decided, and where a variant
// won, no other one could still overtake it.
inline bool settled(const Decision& d) {
  return d.verdict != Verdict::kUndecided && (d.verdict != Verdict::kFaster || d.winner_clear);
}

// The totals of repetitions at which the sweep looks at a point: `min`, then doubling, the
// last one `max` (5, 10, 20, 40 for 5 and 40; just `min` when max <= min).
std::vector<int> repetition_schedule(int min_repetitions, int max_repetitions);

}  // namespace moetune
