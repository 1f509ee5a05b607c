#include "harness/decision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace moetune {
namespace {

bool measured(const CaseResult& c) { return !c.failed() && c.verified && !c.repetitions.empty(); }

int count_outliers(const std::vector<double>& times, double median_ns, double robust_sigma) {
  int n = 0;
  for (double t : times) n += robust_sigma > 0 && t > median_ns + 3 * robust_sigma;
  return n;
}

CandidateStats describe(const CaseResult& c, Activations activations) {
  CandidateStats s;
  s.result = &c;
  s.variant = c.variant;
  if (c.failed())
    s.why_not = "failed: " + c.error;
  else if (!c.verified)
    s.why_not = "not verified";
  else if (c.repetitions.empty())
    s.why_not = "no repetitions";
  else if (const auto op = parse_op(c.op); op && !allowed(activations, *op, c.variant))
    s.why_not = "rounds the activations (the sweep did not opt in)";
  s.eligible = s.why_not.empty();
  if (!s.eligible) return s;
  const std::vector<double> t = c.real_times_ns();
  s.median_ns = median(t);
  s.robust_cv = robust_cv(t);
  s.outliers = count_outliers(t, s.median_ns, s.robust_cv * s.median_ns);
  return s;
}

std::string interval_text(const RatioInterval& r) {
  return fmt::format("{:.3f} [{:.3f}, {:.3f}]", r.estimate, r.lower, r.upper);
}

}  // namespace

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kFaster:
      return "faster";
    case Verdict::kDefaultFastest:
      return "default fastest";
    case Verdict::kEquivalent:
      return "equivalent";
    case Verdict::kUndecided:
      return "undecided";
    case Verdict::kNoDefault:
      break;
  }
  return "no default";
}

Decision decide_point(const std::vector<const CaseResult*>& cases,
                      std::string_view default_variant, Activations activations,
                      const DecisionRule& rule) {
  Decision d;
  for (const CaseResult* c : cases)
    if (c->variant == default_variant) d.default_result = c;
  if (d.default_result) d.candidates.push_back(describe(*d.default_result, activations));
  for (const CaseResult* c : cases)
    if (c != d.default_result) d.candidates.push_back(describe(*c, activations));
  if (!d.default_result) {
    d.reason = fmt::format("default kept: {} was not measured", default_variant);
    return d;
  }
  CandidateStats& def = d.candidates.front();
  if (!measured(*d.default_result)) {
    d.reason = fmt::format("default kept: {} {}", default_variant, def.why_not);
    return d;
  }
  // The default is the default even where the activations rule would refuse it (it is what
  // a build runs); only the others must be allowed.
  def.eligible = true;
  def.why_not.clear();
  const std::vector<double> def_times = d.default_result->real_times_ns();
  def.median_ns = median(def_times);
  def.robust_cv = robust_cv(def_times);
  def.outliers = count_outliers(def_times, def.median_ns, def.robust_cv * def.median_ns);

  for (size_t i = 1; i < d.candidates.size(); ++i) d.eligible += d.candidates[i].eligible;
  d.test_alpha = rule.alpha / (std::max(d.eligible, 1) * std::max(rule.looks, 1));
  CandidateStats* best = nullptr;
  CandidateStats* fastest = nullptr;
  bool all_slower = true;
  for (size_t i = 1; i < d.candidates.size(); ++i) {
    CandidateStats& s = d.candidates[i];
    if (!s.eligible) continue;
    const std::vector<double> t = s.result->real_times_ns();
    s.p_value = mann_whitney_u(t, def_times).p_value;
    s.ratio = median_ratio_interval(t, def_times, 0.95);
    s.faster = s.median_ns < def.median_ns && s.p_value < d.test_alpha;
    all_slower = all_slower && s.median_ns > def.median_ns && s.p_value < rule.alpha;
    // Ties in the median go to the name that sorts first, so the same data give the same choice.
    auto before = [&](const CandidateStats* than) {
      return !than || s.median_ns < than->median_ns ||
             (s.median_ns == than->median_ns && s.result->variant < than->result->variant);
    };
    if (before(fastest)) fastest = &s;
    if (s.faster && before(best)) best = &s;
  }
  const CaseResult& dr = *d.default_result;
  const std::string noisy =
      def.robust_cv > rule.max_cv ? fmt::format("; the default is noisy (cv {:.1f}%)",
                                                100 * def.robust_cv)
                                  : "";
  if (best) {
    d.verdict = Verdict::kFaster;
    d.winner = best->result;
    d.fastest_other = fastest->result;
    const std::vector<double> winner_times = best->result->real_times_ns();
    d.winner_clear = true;
    for (size_t i = 1; i < d.candidates.size() && d.winner_clear; ++i) {
      const CandidateStats& s = d.candidates[i];
      if (!s.eligible || &s == best) continue;
      const std::vector<double> t = s.result->real_times_ns();
      const RatioInterval r = median_ratio_interval(t, winner_times, 0.95);
      const bool slower = s.median_ns > best->median_ns &&
                          mann_whitney_u(t, winner_times).p_value < rule.alpha;
      const bool equivalent =
          r.lower >= 1 - rule.equivalence && r.upper <= 1 + rule.equivalence;
      d.winner_clear = slower || equivalent;
    }
    d.reason = fmt::format("{:.2f}x the default {}, ratio {}, p = {:.2g} < {:.2g}{}",
                           def.median_ns / best->median_ns, dr.variant,
                           interval_text(best->ratio), best->p_value, d.test_alpha, noisy);
    return d;
  }
  if (!fastest) {
    d.verdict = Verdict::kDefaultFastest;
    d.reason = "default kept: no other variant measured";
    return d;
  }
  d.fastest_other = fastest->result;
  const std::string versus =
      fmt::format("fastest other {} at {:.2f}x, ratio {}, p = {:.2g}", fastest->result->variant,
                  def.median_ns / fastest->median_ns, interval_text(fastest->ratio),
                  fastest->p_value);
  if (all_slower) {
    d.verdict = Verdict::kDefaultFastest;
    d.reason = "default kept: every other variant is slower; " + versus + noisy;
  } else if (fastest->ratio.lower >= 1 - rule.equivalence &&
             fastest->ratio.upper <= 1 + rule.equivalence) {
    d.verdict = Verdict::kEquivalent;
    d.reason = fmt::format("default kept: equivalent within {:g}%; {}{}", 100 * rule.equivalence,
                           versus, noisy);
  } else {
    d.verdict = Verdict::kUndecided;
    d.reason = fmt::format("default kept: undecided (p must be < {:.2g}); {}{}", d.test_alpha,
                           versus, noisy);
  }
  return d;
}

std::vector<int> repetition_schedule(int min_repetitions, int max_repetitions) {
  std::vector<int> totals = {std::max(min_repetitions, 1)};
  while (totals.back() < max_repetitions)
    totals.push_back(std::min(2 * totals.back(), max_repetitions));
  return totals;
}

}  // namespace moetune
